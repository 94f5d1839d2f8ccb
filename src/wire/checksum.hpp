// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
// NAT, TTL decrement and TUN use the incremental forms; headers we build use the full one.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "base/addr.hpp"
#include "base/proto.hpp"
#include "wire/bytes.hpp"

namespace vs::wire::csum {

namespace detail {

/// The byte-at-a-time form: constant evaluation (memcpy is not constexpr there) and the reference
/// the runtime form must agree with.
constexpr uint32_t sum_bytes(ConstBytes b, uint32_t acc) noexcept {
  // 64-bit accumulator: a 32-bit one overflows (and loses carries) past ~128 KiB of data.
  uint64_t a = acc;
  size_t i = 0;
  for (; i + 1 < b.size(); i += 2) a += static_cast<uint32_t>((b[i] << 8) | b[i + 1]);
  if (i < b.size()) a += static_cast<uint32_t>(b[i] << 8);
  // Fold back to at most 17 bits (2^32 == 2^16 == 1 mod 0xffff, so folding keeps the value).
  a = (a & 0xffffffffu) + (a >> 32);
  return static_cast<uint32_t>((a & 0xffff) + (a >> 16));
}

/// The same sum, 8 bytes per step, in the machine's byte order (RFC 1071 §2):
///  - parallel summation (§2(C)): 2^16 == 1 (mod 0xffff), so a 64-bit word w3:w2:w1:w0
///    contributes (w3:w2) + (w1:w0) == w3 + w2 + w1 + w0 once folded. Each step adds the two
///    32-bit halves into a 64-bit accumulator, which cannot overflow before 2^31 steps (16 GiB);
///    the end-around carries are all taken by the fold at the end.
///  - byte order independence (§2(B)): summing little-endian words gives the byte-swapped sum,
///    so one swap of the folded 16 bits replaces a swap per word. A nonzero sum folds to a
///    nonzero value and swaps to one, so 0 and 0xffff stay apart exactly as in sum_bytes.
/// Loads are memcpy of bytes into integers: no casts, any alignment.
inline uint32_t sum_words(ConstBytes b, uint32_t acc) noexcept {
  const uint8_t* p = b.data();
  const size_t n = b.size();
  uint64_t a = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    a += (w >> 32) + (w & 0xffffffffu);
  }
  if (i + 4 <= n) {
    uint32_t w;
    std::memcpy(&w, p + i, 4);
    a += w;
    i += 4;
  }
  if (i + 2 <= n) {
    uint16_t w;
    std::memcpy(&w, p + i, 2);
    a += w;
    i += 2;
  }
  // The odd byte is the high byte of a big-endian word padded with zero (RFC 1071 §4.1).
  if (i < n) a += std::endian::native == std::endian::little ? uint64_t{p[i]} : uint64_t{p[i]} << 8;
  while (a >> 16) a = (a & 0xffff) + (a >> 16);
  if constexpr (std::endian::native == std::endian::little) a = ((a & 0xff) << 8) | (a >> 8);
  a += acc;
  a = (a & 0xffffffffu) + (a >> 32);
  return static_cast<uint32_t>((a & 0xffff) + (a >> 16));  // at most 17 bits, as sum_bytes
}

}  // namespace detail

/// One's-complement sum of 16-bit big-endian words, unfolded (an odd trailing byte is padded
/// with zero, RFC 1071 §4.1). `acc` lets sums be chained over several spans.
constexpr uint32_t sum(ConstBytes b, uint32_t acc = 0) noexcept {
  if (std::is_constant_evaluated()) return detail::sum_bytes(b, acc);
  return detail::sum_words(b, acc);
}

constexpr uint16_t fold(uint32_t acc) noexcept {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

/// The checksum field value for data whose sum (with the checksum field zeroed) is `acc`.
constexpr uint16_t finish(uint32_t acc) noexcept { return static_cast<uint16_t>(~fold(acc)); }

/// Checksum of a span (with its checksum field already zeroed).
constexpr uint16_t compute(ConstBytes b) noexcept { return finish(sum(b)); }

/// True when a span that includes its checksum field sums to 0xffff (RFC 1071 verification).
constexpr bool verify(ConstBytes b, uint32_t acc = 0) noexcept { return fold(sum(b, acc)) == 0xffff; }

/// TCP/UDP pseudo-header sum (RFC 793 §3.1, RFC 768).
constexpr uint32_t pseudo_header(Ipv4Addr src, Ipv4Addr dst, IpProto proto, uint16_t l4_len) noexcept {
  return (src.v >> 16) + (src.v & 0xffff) + (dst.v >> 16) + (dst.v & 0xffff) + number(proto) + l4_len;
}

/// The IPv6 upper-layer pseudo-header sum (RFC 8200 §8.1): both addresses, the upper-layer
/// length (32 bits) and the next header value (32 bits, the upper layer's, after any extension
/// headers).
constexpr uint32_t pseudo_header_v6(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next, uint32_t len) noexcept {
  uint32_t acc = 0;
  for (size_t i = 0; i < 16; i += 2)
    acc += (uint32_t{src.b[i]} << 8 | src.b[i + 1]) + (uint32_t{dst.b[i]} << 8 | dst.b[i + 1]);
  return acc + (len >> 16) + (len & 0xffff) + next;
}

/// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from `old_w` to `new_w`.
constexpr uint16_t update16(uint16_t hc, uint16_t old_w, uint16_t new_w) noexcept {
  uint32_t acc = static_cast<uint16_t>(~hc);
  acc += static_cast<uint16_t>(~old_w);
  acc += new_w;
  return static_cast<uint16_t>(~fold(acc));
}

/// The same for a 32-bit value (an IPv4 address): two 16-bit words.
constexpr uint16_t update32(uint16_t hc, uint32_t old_v, uint32_t new_v) noexcept {
  uint32_t acc = static_cast<uint16_t>(~hc);
  acc += static_cast<uint16_t>(~(old_v >> 16));
  acc += static_cast<uint16_t>(~old_v & 0xffff);
  acc += new_v >> 16;
  acc += new_v & 0xffff;
  return static_cast<uint16_t>(~fold(acc));
}

/// The same for a 128-bit value (an IPv6 address): eight 16-bit words, summed 8 bytes a step
/// (the sum of the old words complemented is the complement of their sum, RFC 1071).
constexpr uint16_t update128(uint16_t hc, const Ipv6Addr& old_a, const Ipv6Addr& new_a) noexcept {
  uint32_t acc = static_cast<uint16_t>(~hc);
  acc += static_cast<uint16_t>(~fold(sum(old_a.b)));
  acc += fold(sum(new_a.b));
  return static_cast<uint16_t>(~fold(acc));
}

}  // namespace vs::wire::csum

// ICMPv6 message view (RFC 4443) and Neighbour Discovery's solicitation and advertisement
// (RFC 4861 §4.3, §4.4) with their link-layer address options (§4.6.1).
//
//   0       1       2               4                               8
//  +-------+-------+---------------+-------------------------------+------
//  | type  | code  |   checksum    | rest (id/seq, MTU, pointer,   | data
//  |       |       |               |  ND flags)                    |
//  +-------+-------+---------------+-------------------------------+------
//
// The checksum covers the IPv6 pseudo-header (RFC 8200 §8.1, Next Header 58). An NS or NA carries
// a 16-byte target address at offset 8, then options: type, length in units of 8 bytes (0 is
// invalid: the message is dropped, §4.6), value.
#pragma once

#include <optional>

#include "base/addr.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv6.hpp"

namespace vs::wire {

namespace icmpv6_type {
inline constexpr uint8_t kDestUnreachable = 1, kPacketTooBig = 2, kTimeExceeded = 3, kParamProblem = 4,
                         kEchoRequest = 128, kEchoReply = 129, kRouterSolicit = 133, kRouterAdvert = 134,
                         kNeighSolicit = 135, kNeighAdvert = 136, kRedirect = 137;
}
namespace icmpv6_code {
// destination unreachable (RFC 4443 §3.1)
inline constexpr uint8_t kNoRoute = 0, kBeyondScope = 2, kAddrUnreachable = 3, kPortUnreachable = 4;
// time exceeded (§3.3)
inline constexpr uint8_t kHopLimit = 0, kReassembly = 1;
// parameter problem (§3.4)
inline constexpr uint8_t kErroneousHeader = 0, kUnknownNextHeader = 1;
}  // namespace icmpv6_code

template <ByteType B>
class Icmpv6View {
public:
  static constexpr size_t kHeaderLen = 8;

  static constexpr std::optional<Icmpv6View> parse(std::span<B> b) noexcept {
    if (b.size() < kHeaderLen) return std::nullopt;
    return Icmpv6View(b);
  }
  static constexpr Icmpv6View unchecked(std::span<B> b) noexcept { return Icmpv6View(b); }

  /// Types 0-127 are errors (RFC 4443 §2.1); an error is never answered by an error (§2.4(e)).
  static constexpr bool is_error_type(uint8_t t) noexcept { return t < 128; }

  uint8_t type() const noexcept { return b_[0]; }
  uint8_t code() const noexcept { return b_[1]; }
  uint16_t checksum() const noexcept { return load16(b_, 2); }
  uint32_t rest() const noexcept { return load32(b_, 4); }
  bool is_error() const noexcept { return is_error_type(type()); }
  std::span<B> data() const noexcept { return b_.subspan(kHeaderLen); }
  std::span<B> bytes() const noexcept { return b_; }
  bool verify_checksum(const Ipv6Addr& src, const Ipv6Addr& dst) const noexcept {
    return csum::verify(b_, csum::pseudo_header_v6(src, dst, ipv6_next::kIcmpv6, static_cast<uint32_t>(b_.size())));
  }

  void set_type(uint8_t t) noexcept requires Mutable<B> { b_[0] = t; }
  void set_code(uint8_t c) noexcept requires Mutable<B> { b_[1] = c; }
  void set_rest(uint32_t r) noexcept requires Mutable<B> { store32(b_, 4, r); }
  void fill_checksum(const Ipv6Addr& src, const Ipv6Addr& dst) noexcept requires Mutable<B> {
    store16(b_, 2, 0);
    store16(b_, 2,
            csum::finish(
                csum::sum(b_, csum::pseudo_header_v6(src, dst, ipv6_next::kIcmpv6, static_cast<uint32_t>(b_.size())))));
  }

private:
  constexpr explicit Icmpv6View(std::span<B> b) noexcept : b_(b) {}
  std::span<B> b_;
};

/// Neighbour Advertisement flags (RFC 4861 §4.4), the first byte of `rest`.
namespace nd_flag {
inline constexpr uint8_t kRouter = 0x80, kSolicited = 0x40, kOverride = 0x20;
}
/// Neighbour Discovery option types (RFC 4861 §4.6).
namespace nd_opt {
inline constexpr uint8_t kSourceLinkAddr = 1, kTargetLinkAddr = 2;
}

/// An NS or NA, parsed: RFC 4861 §7.1.1/§7.1.2's checks that need only the message (the caller
/// checks the IP header's: hop limit 255, the addresses).
struct NdMessage {
  Ipv6Addr target;
  uint8_t flags = 0;                 // NA: nd_flag bits
  std::optional<MacAddr> link_addr;  // NS: the source link-layer option; NA: the target one
};

/// Why an NS/NA is invalid.
enum class NdError : uint8_t { kTruncated, kBadCode, kMulticastTarget, kBadOption };

/// `icmp`: a whole NS (type 135) or NA (136), checksum already verified. The link-layer option
/// is taken only when it is Ethernet-sized (length 1: 8 bytes); others of that type are skipped.
inline std::optional<NdMessage> parse_nd(std::span<const uint8_t> icmp, NdError* err = nullptr) noexcept {
  auto fail = [&](NdError e) -> std::optional<NdMessage> {
    if (err) *err = e;
    return std::nullopt;
  };
  constexpr size_t kFixed = 24;  // type, code, checksum, reserved/flags, target
  if (icmp.size() < kFixed) return fail(NdError::kTruncated);
  if (icmp[1] != 0) return fail(NdError::kBadCode);
  NdMessage m;
  std::copy_n(icmp.begin() + 8, 16, m.target.b.begin());
  if (m.target.is_multicast()) return fail(NdError::kMulticastTarget);
  m.flags = icmp[4];
  const uint8_t want = icmp[0] == icmpv6_type::kNeighSolicit ? nd_opt::kSourceLinkAddr : nd_opt::kTargetLinkAddr;
  for (size_t off = kFixed; off < icmp.size();) {
    if (icmp.size() - off < 2) return fail(NdError::kBadOption);
    const size_t len = size_t{icmp[off + 1]} * 8;
    if (len == 0 || len > icmp.size() - off) return fail(NdError::kBadOption);
    if (icmp[off] == want && len == 8 && !m.link_addr) {
      MacAddr mac;
      std::copy_n(icmp.begin() + static_cast<ptrdiff_t>(off) + 2, 6, mac.b.begin());
      m.link_addr = mac;
    }
    off += len;
  }
  return m;
}

}  // namespace vs::wire

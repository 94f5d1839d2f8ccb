// IPv6 header view (RFC 8200 §3) and the walk over its extension headers (RFC 8200 §4).
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-------+---------------+---------------------------------------+
//  |Version| Traffic Class |           Flow Label                  |
//  +-------+---------------+-------+---------------+---------------+
//  |         Payload Length        |  Next Header  |   Hop Limit   |
//  +-------------------------------+---------------+---------------+
//  |                      Source Address (128 bits)                |
//  |                   Destination Address (128 bits)              |
//  +---------------------------------------------------------------+
//
// Invariant: a view from parse() has version 6 and 40 + payload length <= the span, and its span
// is trimmed to that (Ethernet padding is not payload). Jumbograms (payload length 0 with a
// Jumbo Payload option, RFC 2675) are not taken: a payload length of 0 means no payload.
// walk() follows the Next Header chain to the upper layer, bounded in the number of headers
// and by the datagram's own length; each failure is a distinct reason, for a distinct drop.
#pragma once

#include <algorithm>
#include <optional>

#include "base/addr.hpp"
#include "wire/bytes.hpp"

namespace vs::wire {

namespace ipv6_field {
inline constexpr size_t kVerTcFl = 0, kPayloadLen = 4, kNextHeader = 6, kHopLimit = 7, kSrc = 8, kDst = 24;
}

/// Next Header values (IANA "Assigned Internet Protocol Numbers"; RFC 8200 §4).
namespace ipv6_next {
inline constexpr uint8_t kHopByHop = 0, kIpv4 = 4, kTcp = 6, kUdp = 17, kIpv6 = 41, kRouting = 43, kFragment = 44,
                         kEsp = 50, kAh = 51, kIcmpv6 = 58, kNoNext = 59, kDestOpts = 60, kMobility = 135, kHip = 139,
                         kShim6 = 140;
}

/// Why an IPv6 header failed to parse.
enum class Ipv6Error : uint8_t { kTruncated, kBadVersion, kBadLength };

template <ByteType B>
class Ipv6View {
public:
  static constexpr size_t kHeaderLen = 40;

  /// Untrusted input. On failure `err` (if given) says why.
  static constexpr std::optional<Ipv6View> parse(std::span<B> b, Ipv6Error* err = nullptr) noexcept {
    auto fail = [&](Ipv6Error e) -> std::optional<Ipv6View> {
      if (err) *err = e;
      return std::nullopt;
    };
    if (b.size() < kHeaderLen) return fail(Ipv6Error::kTruncated);
    if ((b[0] >> 4) != 6) return fail(Ipv6Error::kBadVersion);
    const size_t total = kHeaderLen + load16(b, ipv6_field::kPayloadLen);
    if (total > b.size()) return fail(Ipv6Error::kBadLength);
    return Ipv6View(b.first(total));
  }
  /// The datagram quoted in an ICMPv6 error (RFC 4443 §2.4(c)): the header whole, the rest cut.
  static constexpr std::optional<Ipv6View> parse_quoted(std::span<B> b) noexcept {
    if (b.size() < kHeaderLen || (b[0] >> 4) != 6) return std::nullopt;
    const size_t total = kHeaderLen + load16(b, ipv6_field::kPayloadLen);
    return Ipv6View(b.first(std::min(total, b.size())));
  }
  /// For emission into a buffer we sized: the span must hold the whole datagram.
  static constexpr Ipv6View unchecked(std::span<B> b) noexcept { return Ipv6View(b); }

  uint8_t version() const noexcept { return b_[0] >> 4; }
  uint8_t traffic_class() const noexcept { return static_cast<uint8_t>(load16(b_, 0) >> 4); }
  uint32_t flow_label() const noexcept { return load32(b_, 0) & 0xfffffu; }
  uint16_t payload_len() const noexcept { return load16(b_, ipv6_field::kPayloadLen); }
  uint8_t next_header() const noexcept { return b_[ipv6_field::kNextHeader]; }
  uint8_t hop_limit() const noexcept { return b_[ipv6_field::kHopLimit]; }
  Ipv6Addr src() const noexcept { return addr_at(ipv6_field::kSrc); }
  Ipv6Addr dst() const noexcept { return addr_at(ipv6_field::kDst); }
  std::span<B> bytes() const noexcept { return b_; }
  /// Everything after the fixed header: extension headers, then the upper layer.
  std::span<B> payload() const noexcept { return b_.subspan(kHeaderLen); }

  void set_hop_limit(uint8_t v) const noexcept requires Mutable<B> { b_[ipv6_field::kHopLimit] = v; }
  void set_src(const Ipv6Addr& a) const noexcept requires Mutable<B> { set_addr(ipv6_field::kSrc, a); }
  void set_dst(const Ipv6Addr& a) const noexcept requires Mutable<B> { set_addr(ipv6_field::kDst, a); }
  /// A fresh header: version 6, `tc`, `flow`, the payload length, next header, hop limit, addresses.
  void fill(uint8_t tc, uint32_t flow, uint16_t payload_len, uint8_t next, uint8_t hops, const Ipv6Addr& src,
            const Ipv6Addr& dst) const noexcept requires Mutable<B> {
    store32(b_, 0, (uint32_t{6} << 28) | (uint32_t{tc} << 20) | (flow & 0xfffffu));
    store16(b_, ipv6_field::kPayloadLen, payload_len);
    b_[ipv6_field::kNextHeader] = next;
    b_[ipv6_field::kHopLimit] = hops;
    set_src(src);
    set_dst(dst);
  }

private:
  constexpr explicit Ipv6View(std::span<B> b) noexcept : b_(b) {}
  Ipv6Addr addr_at(size_t off) const noexcept {
    Ipv6Addr a;
    for (size_t i = 0; i < 16; ++i) a.b[i] = b_[off + i];
    return a;
  }
  void set_addr(size_t off, const Ipv6Addr& a) const noexcept {
    for (size_t i = 0; i < 16; ++i) b_[off + i] = a.b[i];
  }
  std::span<B> b_;
};

/// Where the extension headers of a datagram lead (RFC 8200 §4).
struct Ipv6Chain {
  uint8_t upper = 0;         // the upper-layer protocol (or 59 No Next Header, 50 ESP: opaque)
  size_t upper_offset = 0;   // its header, from the start of the IPv6 header
  uint8_t headers = 0;       // extension headers walked
  bool fragment = false;     // a Fragment header was found (RFC 8200 §4.5)
  size_t frag_offset = 0;    // that header, from the start of the IPv6 header
  uint16_t frag_bytes = 0;   // Fragment Offset in bytes (a multiple of 8)
  bool more = false;         // M flag
  uint32_t ident = 0;        // Identification
  bool has_routing = false;  // a Routing header (its Segments Left decides what a router does)
  size_t routing_offset = 0;
};

/// Why the walk stopped short.
enum class Ipv6ChainError : uint8_t {
  kTruncated,         // an extension header runs past the datagram
  kTooMany,           // more extension headers than the limit
  kHopByHopNotFirst,  // Hop-by-Hop Options anywhere but right after the IPv6 header (§4.3)
  kBadFragment,       // a second Fragment header, or a reserved field set where it must not be
};

/// Walks the Next Header chain of `ip`, at most `max_headers` extension headers. After a
/// Fragment header with a non-zero offset the rest is another fragment's data: the walk stops
/// there (upper = its Next Header, upper_offset = the data).
template <ByteType B>
std::optional<Ipv6Chain> walk(const Ipv6View<B>& ip, uint8_t max_headers, Ipv6ChainError* err = nullptr) noexcept {
  auto fail = [&](Ipv6ChainError e) -> std::optional<Ipv6Chain> {
    if (err) *err = e;
    return std::nullopt;
  };
  const auto b = ip.bytes();
  Ipv6Chain c;
  uint8_t next = ip.next_header();
  size_t off = Ipv6View<B>::kHeaderLen;
  for (;;) {
    size_t len = 0;
    switch (next) {
      case ipv6_next::kHopByHop:
        if (off != Ipv6View<B>::kHeaderLen) return fail(Ipv6ChainError::kHopByHopNotFirst);
        [[fallthrough]];
      case ipv6_next::kRouting:
      case ipv6_next::kDestOpts:
      case ipv6_next::kMobility:
      case ipv6_next::kHip:
      case ipv6_next::kShim6:
        if (off + 2 > b.size()) return fail(Ipv6ChainError::kTruncated);
        len = (size_t{b[off + 1]} + 1) * 8;  // Hdr Ext Len: 8-octet units, not counting the first 8
        if (next == ipv6_next::kRouting) c.has_routing = true, c.routing_offset = off;
        break;
      case ipv6_next::kAh:
        if (off + 2 > b.size()) return fail(Ipv6ChainError::kTruncated);
        len = (size_t{b[off + 1]} + 2) * 4;  // RFC 4302 §2.2: 4-octet units, minus 2
        break;
      case ipv6_next::kFragment: {
        if (c.fragment) return fail(Ipv6ChainError::kBadFragment);
        if (off + 8 > b.size()) return fail(Ipv6ChainError::kTruncated);
        const uint16_t fo = load16(b, off + 2);
        c.fragment = true;
        c.frag_offset = off;
        c.frag_bytes = static_cast<uint16_t>(fo & 0xfff8u);
        c.more = (fo & 1u) != 0;
        c.ident = load32(b, off + 4);
        len = 8;
        if (c.frag_bytes != 0) {  // not the first fragment: no upper-layer header follows here
          if (++c.headers > max_headers) return fail(Ipv6ChainError::kTooMany);
          c.upper = b[off];
          c.upper_offset = off + len;
          return c;
        }
        break;
      }
      default:  // the upper layer (TCP, UDP, ICMPv6, an inner IPv6, ...), ESP or No Next Header
        c.upper = next;
        c.upper_offset = off;
        return c;
    }
    if (off + len > b.size()) return fail(Ipv6ChainError::kTruncated);
    if (++c.headers > max_headers) return fail(Ipv6ChainError::kTooMany);
    next = b[off];
    off += len;
  }
}

}  // namespace vs::wire

// VRRP advertisement view: version 2 (RFC 3768 §5.1) and version 3 (RFC 5798 §5.1), IPv4.
//
//   0               1               2               3
//  |Ver=2 |Type=1 | Virtual Rtr ID |   Priority    | Count IP Addrs|
//  |  Auth Type    | Adver Int (s) |          Checksum             |   version 2
//  |rsvd | Max Adver Int (12 bits, centiseconds)  |  Checksum     |   version 3
//  |                 IPv4 Address 1 ... n                          |
//  |      Authentication Data, 8 bytes (version 2 only)            |
//
// Invariant: a view from parse() is an advertisement (type 1) of version 2 or 3 whose span is
// exactly the message its count implies (8 + 4 × count, plus 8 for version 2): the IP payload
// must be that long, no more and no less.
//
// Checksum: the Internet checksum of the message (version 2, RFC 3768 §5.3.8). Version 3 adds
// a pseudo-header (RFC 5798 §5.2.8): keepalived puts in the IPv4 one (source, destination, 0,
// protocol 112, VRRP length), as tcpdump and Wireshark check it; some vendors leave it out for
// IPv4 (keepalived's `v3_checksum_as_v2`). Receivers accept either (verify_checksum_any).
#pragma once

#include <optional>

#include "base/addr.hpp"
#include "base/proto.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace vs::wire {

template <ByteType B>
class VrrpView {
public:
  static constexpr size_t kHeaderLen = 8;
  static constexpr size_t kAuthLen = 8;  // version 2's authentication data
  static constexpr uint8_t kTypeAdvertisement = 1;
  static constexpr uint8_t kAuthNone = 0, kAuthPass = 1, kAuthAh = 2;  // version 2's Auth Type

  /// The message length for `version` with `count` addresses.
  static constexpr size_t length_for(uint8_t version, uint8_t count) noexcept {
    return kHeaderLen + 4u * count + (version == 2 ? kAuthLen : 0);
  }

  static constexpr std::optional<VrrpView> parse(std::span<B> b) noexcept {
    if (b.size() < kHeaderLen) return std::nullopt;
    const uint8_t version = b[0] >> 4;
    if ((version != 2 && version != 3) || (b[0] & 0x0f) != kTypeAdvertisement) return std::nullopt;
    if (b.size() != length_for(version, b[3])) return std::nullopt;
    return VrrpView(b);
  }
  static constexpr VrrpView unchecked(std::span<B> b) noexcept { return VrrpView(b); }

  uint8_t version() const noexcept { return b_[0] >> 4; }
  uint8_t vrid() const noexcept { return b_[1]; }
  uint8_t priority() const noexcept { return b_[2]; }
  uint8_t count() const noexcept { return b_[3]; }
  /// Version 2: the Auth Type (0 in version 3, whose byte 4 is reserved bits and interval).
  uint8_t auth_type() const noexcept { return version() == 2 ? b_[4] : 0; }
  /// The advertisement interval in centiseconds: version 2's seconds × 100, version 3's field.
  uint32_t interval_cs() const noexcept {
    return version() == 2 ? uint32_t{b_[5]} * 100 : uint32_t{load16(b_, 4)} & 0x0fff;
  }
  uint16_t checksum() const noexcept { return load16(b_, 6); }
  Ipv4Addr address(size_t i) const noexcept { return Ipv4Addr{load32(b_, kHeaderLen + 4 * i)}; }
  /// Version 2's authentication data (8 bytes); empty in version 3.
  std::span<B> auth_data() const noexcept {
    return version() == 2 ? b_.subspan(kHeaderLen + 4u * count(), kAuthLen) : std::span<B>();
  }
  std::span<B> bytes() const noexcept { return b_; }

  /// Version 2: the message's own checksum. Version 3: with the IPv4 pseudo-header
  /// (`with_pseudo`, keepalived's default) or without it (v3_checksum_as_v2).
  bool verify_checksum(Ipv4Addr src, Ipv4Addr dst, bool with_pseudo = true) const noexcept {
    return csum::verify(b_, pseudo(src, dst, with_pseudo));
  }
  /// Either of the two version 3 forms (version 2 has one).
  bool verify_checksum_any(Ipv4Addr src, Ipv4Addr dst) const noexcept {
    return verify_checksum(src, dst, true) || (version() == 3 && verify_checksum(src, dst, false));
  }

  /// Writes the header of an advertisement into a span of length_for(version, count) bytes;
  /// the caller then writes the addresses (set_address) and fills the checksum.
  void fill(uint8_t version, uint8_t vrid, uint8_t priority, uint8_t count, uint8_t auth_type,
            uint32_t interval_cs) noexcept requires Mutable<B> {
    b_[0] = static_cast<uint8_t>(version << 4 | kTypeAdvertisement);
    b_[1] = vrid;
    b_[2] = priority;
    b_[3] = count;
    if (version == 2) {
      b_[4] = auth_type;
      b_[5] = static_cast<uint8_t>(interval_cs / 100);
    } else {
      store16(b_, 4, static_cast<uint16_t>(interval_cs & 0x0fff));
    }
    store16(b_, 6, 0);
  }
  void set_address(size_t i, Ipv4Addr a) noexcept requires Mutable<B> { store32(b_, kHeaderLen + 4 * i, a.v); }
  void fill_checksum(Ipv4Addr src, Ipv4Addr dst, bool with_pseudo = true) noexcept requires Mutable<B> {
    store16(b_, 6, 0);
    store16(b_, 6, csum::finish(csum::sum(b_, pseudo(src, dst, with_pseudo))));
  }

private:
  uint32_t pseudo(Ipv4Addr src, Ipv4Addr dst, bool with_pseudo) const noexcept {
    if (version() == 2 || !with_pseudo) return 0;
    return csum::pseudo_header(src, dst, IpProto::kVrrp, static_cast<uint16_t>(b_.size()));
  }
  constexpr explicit VrrpView(std::span<B> b) noexcept : b_(b) {}
  std::span<B> b_;
};

}  // namespace vs::wire

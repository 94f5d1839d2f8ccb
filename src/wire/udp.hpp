// UDP header view (RFC 768).
//
//   0               2               4               6               8
//  +---------------+---------------+---------------+---------------+------
//  |  source port  |   dest port   |    length     |   checksum    | data
//  +---------------+---------------+---------------+---------------+------
//
// Invariant: a view from parse() has 8 <= length <= span size; its span is trimmed to length.
// A checksum of 0 means "none" (RFC 768); a computed 0 is sent as 0xffff.
#pragma once

#include <optional>

#include "base/addr.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace vs::wire {

template <ByteType B>
class UdpView {
public:
  static constexpr size_t kHeaderLen = 8;

  static constexpr std::optional<UdpView> parse(std::span<B> b) noexcept {
    if (b.size() < kHeaderLen) return std::nullopt;
    size_t len = load16(b, 4);
    if (len < kHeaderLen || len > b.size()) return std::nullopt;
    return UdpView(b.first(len));
  }
  static constexpr UdpView unchecked(std::span<B> b) noexcept { return UdpView(b); }

  uint16_t sport() const noexcept { return load16(b_, 0); }
  uint16_t dport() const noexcept { return load16(b_, 2); }
  uint16_t length() const noexcept { return load16(b_, 4); }
  uint16_t checksum() const noexcept { return load16(b_, 6); }
  std::span<B> payload() const noexcept { return b_.subspan(kHeaderLen); }
  std::span<B> bytes() const noexcept { return b_; }

  /// True if the checksum is absent (0) or correct.
  bool verify_checksum(Ipv4Addr src, Ipv4Addr dst) const noexcept {
    if (checksum() == 0) return true;
    return csum::verify(b_, csum::pseudo_header(src, dst, IpProto::kUdp, length()));
  }

  void set_checksum(uint16_t c) noexcept requires Mutable<B> { store16(b_, 6, c); }
  void set_sport_update_checksum(uint16_t p) noexcept requires Mutable<B> {
    if (checksum() != 0) set_checksum(nonzero(csum::update16(checksum(), sport(), p)));
    store16(b_, 0, p);
  }
  void set_dport_update_checksum(uint16_t p) noexcept requires Mutable<B> {
    if (checksum() != 0) set_checksum(nonzero(csum::update16(checksum(), dport(), p)));
    store16(b_, 2, p);
  }
  void update_checksum_for_addr(Ipv4Addr old_a, Ipv4Addr new_a) noexcept requires Mutable<B> {
    if (checksum() != 0) set_checksum(nonzero(csum::update32(checksum(), old_a.v, new_a.v)));
  }
  void fill_checksum(Ipv4Addr src, Ipv4Addr dst) noexcept requires Mutable<B> {
    set_checksum(0);
    set_checksum(nonzero(csum::finish(csum::sum(b_, csum::pseudo_header(src, dst, IpProto::kUdp, length())))));
  }

private:
  static constexpr uint16_t nonzero(uint16_t c) noexcept { return c == 0 ? 0xffff : c; }
  constexpr explicit UdpView(std::span<B> b) noexcept : b_(b) {}
  std::span<B> b_;
};

}  // namespace vs::wire

// TCP header view (RFC 793 §3.1; flags per RFC 3168).
//
//   0               2               4               8              12  13  14      16      18     20
//  +---------------+---------------+---------------+---------------+---+---+-------+-------+------+--
//  |  source port  |   dest port   |   sequence    |  ack number   |off|flg|window |checksm|urgent| options
//  +---------------+---------------+---------------+---------------+---+---+-------+-------+------+--
//
// Invariant: a view from parse() has 20 <= data offset * 4 <= span size.
#pragma once

#include <optional>

#include "base/addr.hpp"
#include "base/proto.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace vs::wire {

template <ByteType B>
class TcpView {
public:
  static constexpr size_t kMinHeaderLen = 20;

  static constexpr std::optional<TcpView> parse(std::span<B> b) noexcept {
    if (b.size() < kMinHeaderLen) return std::nullopt;
    size_t hl = static_cast<size_t>(b[12] >> 4) * 4;
    if (hl < kMinHeaderLen || hl > b.size()) return std::nullopt;
    return TcpView(b);
  }
  static constexpr TcpView unchecked(std::span<B> b) noexcept { return TcpView(b); }

  uint16_t sport() const noexcept { return load16(b_, 0); }
  uint16_t dport() const noexcept { return load16(b_, 2); }
  uint32_t seq() const noexcept { return load32(b_, 4); }
  uint32_t ack() const noexcept { return load32(b_, 8); }
  size_t header_len() const noexcept { return static_cast<size_t>(b_[12] >> 4) * 4; }
  uint8_t flags() const noexcept { return b_[13]; }
  uint16_t window() const noexcept { return load16(b_, 14); }
  uint16_t checksum() const noexcept { return load16(b_, 16); }
  uint16_t urgent() const noexcept { return load16(b_, 18); }
  std::span<B> options() const noexcept { return b_.subspan(kMinHeaderLen, header_len() - kMinHeaderLen); }
  std::span<B> payload() const noexcept { return b_.subspan(header_len()); }
  std::span<B> bytes() const noexcept { return b_; }

  bool verify_checksum(Ipv4Addr src, Ipv4Addr dst) const noexcept {
    return csum::verify(b_, csum::pseudo_header(src, dst, IpProto::kTcp, static_cast<uint16_t>(b_.size())));
  }

  void set_checksum(uint16_t c) noexcept requires Mutable<B> { store16(b_, 16, c); }
  void set_sport_update_checksum(uint16_t p) noexcept requires Mutable<B> {
    set_checksum(csum::update16(checksum(), sport(), p));
    store16(b_, 0, p);
  }
  void set_dport_update_checksum(uint16_t p) noexcept requires Mutable<B> {
    set_checksum(csum::update16(checksum(), dport(), p));
    store16(b_, 2, p);
  }
  /// An address in the pseudo-header changed (NAT): fold the change into the checksum.
  void update_checksum_for_addr(Ipv4Addr old_a, Ipv4Addr new_a) noexcept requires Mutable<B> {
    set_checksum(csum::update32(checksum(), old_a.v, new_a.v));
  }
  void fill_checksum(Ipv4Addr src, Ipv4Addr dst) noexcept requires Mutable<B> {
    set_checksum(0);
    set_checksum(
        csum::finish(csum::sum(b_, csum::pseudo_header(src, dst, IpProto::kTcp, static_cast<uint16_t>(b_.size())))));
  }

private:
  constexpr explicit TcpView(std::span<B> b) noexcept : b_(b) {}
  std::span<B> b_;
};

}  // namespace vs::wire

// ARP packet view, Ethernet/IPv4 only (RFC 826). parse() rejects other hardware or protocol
// types and address lengths, so every accessor below is in bounds.
//
//  0       2       4   5   6       8             14        18            24        28
//  +-------+-------+---+---+-------+-------------+---------+-------------+---------+
//  | htype | ptype |hln|pln| oper  |  sender MAC | sender IP| target MAC | target IP|
//  +-------+-------+---+---+-------+-------------+---------+-------------+---------+
#pragma once

#include <optional>

#include "base/addr.hpp"
#include "wire/bytes.hpp"

namespace vs::wire {

enum class ArpOp : uint16_t { kRequest = 1, kReply = 2 };

template <ByteType B>
class ArpView {
public:
  static constexpr size_t kLen = 28;

  static constexpr std::optional<ArpView> parse(std::span<B> b) noexcept {
    if (b.size() < kLen) return std::nullopt;
    ArpView v(b.first(kLen));
    if (v.htype() != 1 || v.ptype() != 0x0800 || b[4] != 6 || b[5] != 4) return std::nullopt;
    return v;
  }
  static constexpr ArpView unchecked(std::span<B> b) noexcept { return ArpView(b.first(kLen)); }

  uint16_t htype() const noexcept { return load16(b_, 0); }
  uint16_t ptype() const noexcept { return load16(b_, 2); }
  uint16_t oper() const noexcept { return load16(b_, 6); }
  MacAddr sha() const noexcept { return load_mac(b_, 8); }
  Ipv4Addr spa() const noexcept { return {load32(b_, 14)}; }
  MacAddr tha() const noexcept { return load_mac(b_, 18); }
  Ipv4Addr tpa() const noexcept { return {load32(b_, 24)}; }

  /// Writes htype=1, ptype=IPv4, hlen=6, plen=4 and the given operation and addresses.
  void fill(ArpOp op, const MacAddr& sha, Ipv4Addr spa, const MacAddr& tha, Ipv4Addr tpa) noexcept requires Mutable<B> {
    store16(b_, 0, 1);
    store16(b_, 2, 0x0800);
    b_[4] = 6;
    b_[5] = 4;
    store16(b_, 6, static_cast<uint16_t>(op));
    store_mac(b_, 8, sha);
    store32(b_, 14, spa.v);
    store_mac(b_, 18, tha);
    store32(b_, 24, tpa.v);
  }

private:
  constexpr explicit ArpView(std::span<B> b) noexcept : b_(b) {}
  std::span<B> b_;
};

}  // namespace vs::wire

// Ethernet II header view (IEEE 802.3 with EtherType). No 802.1Q: a tagged frame reads as
// EtherType 0x8100 and is dropped by the engine as an unknown EtherType.
//
//   0                   6                   12      14
//  +-------------------+-------------------+-------+---------
//  |  destination MAC  |    source MAC     | type  | payload
//  +-------------------+-------------------+-------+---------
#pragma once

#include <optional>

#include "base/addr.hpp"
#include "wire/bytes.hpp"

namespace vs::wire {

enum class EtherType : uint16_t { kIpv4 = 0x0800, kArp = 0x0806, kIpv6 = 0x86dd };

template <ByteType B>
class EthernetView {
public:
  static constexpr size_t kHeaderLen = 14;

  static constexpr std::optional<EthernetView> parse(std::span<B> b) noexcept {
    if (b.size() < kHeaderLen) return std::nullopt;
    return EthernetView(b);
  }
  static constexpr EthernetView unchecked(std::span<B> b) noexcept { return EthernetView(b); }

  MacAddr dst() const noexcept { return load_mac(b_, 0); }
  MacAddr src() const noexcept { return load_mac(b_, 6); }
  uint16_t ethertype() const noexcept { return load16(b_, 12); }
  std::span<B> payload() const noexcept { return b_.subspan(kHeaderLen); }
  std::span<B> bytes() const noexcept { return b_; }

  void set_dst(const MacAddr& m) noexcept requires Mutable<B> { store_mac(b_, 0, m); }
  void set_src(const MacAddr& m) noexcept requires Mutable<B> { store_mac(b_, 6, m); }
  void set_ethertype(uint16_t t) noexcept requires Mutable<B> { store16(b_, 12, t); }

private:
  constexpr explicit EthernetView(std::span<B> b) noexcept : b_(b) {}
  std::span<B> b_;
};

/// Writes an Ethernet II header at the start of `frame` (which must hold at least 14 bytes).
inline void fill_ethernet(Bytes frame, const MacAddr& dst, const MacAddr& src, EtherType type) noexcept {
  auto eth = EthernetView<uint8_t>::unchecked(frame);
  eth.set_dst(dst);
  eth.set_src(src);
  eth.set_ethertype(static_cast<uint16_t>(type));
}

}  // namespace vs::wire

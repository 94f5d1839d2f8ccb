// Big-endian accessors over byte spans. Every header view reads and writes through these,
// never through casts to packed structs (alignment, bit-field order, aliasing).
// Callers guarantee the offsets are in bounds: views check lengths once in parse().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "base/addr.hpp"

namespace vs::wire {

using Bytes = std::span<uint8_t>;
using ConstBytes = std::span<const uint8_t>;

/// A view is read-only over `const uint8_t` and writable over `uint8_t`.
template <class Byte>
concept ByteType = std::is_same_v<std::remove_const_t<Byte>, uint8_t>;

template <class Byte>
concept Mutable = !std::is_const_v<Byte>;

template <ByteType B>
constexpr uint16_t load16(std::span<B> b, size_t off) noexcept {
  return static_cast<uint16_t>((b[off] << 8) | b[off + 1]);
}
template <ByteType B>
constexpr uint32_t load32(std::span<B> b, size_t off) noexcept {
  return (uint32_t{b[off]} << 24) | (uint32_t{b[off + 1]} << 16) | (uint32_t{b[off + 2]} << 8) | uint32_t{b[off + 3]};
}
constexpr void store16(Bytes b, size_t off, uint16_t v) noexcept {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}
constexpr void store32(Bytes b, size_t off, uint32_t v) noexcept {
  b[off] = static_cast<uint8_t>(v >> 24);
  b[off + 1] = static_cast<uint8_t>(v >> 16);
  b[off + 2] = static_cast<uint8_t>(v >> 8);
  b[off + 3] = static_cast<uint8_t>(v);
}

/// A MAC address at `off` (6 bytes), and its store.
template <ByteType B>
MacAddr load_mac(std::span<B> b, size_t off) noexcept {
  MacAddr m;
  for (size_t i = 0; i < 6; ++i) m.b[i] = b[off + i];
  return m;
}
inline void store_mac(Bytes b, size_t off, const MacAddr& m) noexcept {
  for (size_t i = 0; i < 6; ++i) b[off + i] = m.b[i];
}

}  // namespace vs::wire

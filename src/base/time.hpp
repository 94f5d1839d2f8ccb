// Virtual time for the engine. The engine never reads a clock: every entry point takes an Instant
// given by its adapter (pcap record timestamp in replay, the loop time in the daemon).
#pragma once

#include <compare>
#include <cstdint>

namespace vs {

/// A span of time in microseconds.
struct Duration {
  int64_t us = 0;
  static constexpr Duration micros(int64_t v) noexcept { return {v}; }
  static constexpr Duration millis(int64_t v) noexcept { return {v * 1000}; }
  static constexpr Duration seconds(int64_t v) noexcept { return {v * 1000000}; }
  friend constexpr auto operator<=>(Duration, Duration) = default;
  friend constexpr Duration operator+(Duration a, Duration b) noexcept { return {a.us + b.us}; }
  friend constexpr Duration operator*(Duration a, int64_t k) noexcept { return {a.us * k}; }
};

/// A point in engine time: microseconds since an epoch chosen by the adapter (Unix epoch in replay).
struct Instant {
  int64_t us = 0;
  static constexpr Instant from_micros(int64_t v) noexcept { return {v}; }
  friend constexpr auto operator<=>(Instant, Instant) = default;
  friend constexpr Instant operator+(Instant t, Duration d) noexcept { return {t.us + d.us}; }
  friend constexpr Duration operator-(Instant a, Instant b) noexcept { return {a.us - b.us}; }
};

}  // namespace vs

// The engine's pseudo-random generator: splitmix64, seeded from router.seed, so every random
// choice (twos scheduler, IP identification) replays identically. Never seeded from a clock.
#pragma once

#include <cstdint>

namespace vs {

class Rng {
public:
  explicit constexpr Rng(uint64_t seed) noexcept : s_(seed) {}
  constexpr uint64_t next_u64() noexcept {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  constexpr uint32_t next_u32() noexcept { return static_cast<uint32_t>(next_u64() >> 32); }

private:
  uint64_t s_;
};

}  // namespace vs

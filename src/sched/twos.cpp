// twos: power of two choices (net/netfilter/ipvs/ip_vs_twos.c).
//
// total = the sum of the weights of destinations that are not OVERLOAD and have weight > 0 (none:
// no destination). Two numbers r1, r2 are drawn uniformly from 0..total (inclusive:
// get_random_u32_below(total + 1)). Walking the list over the same destinations, each one's
// weight is subtracted from both; the first destination at which r1 <= 0 is choice 1 and the first
// at which r2 <= 0 is choice 2 (so the first destination's range is one value wider). Choice 2 wins
// if weight2 * overhead1 > weight1 * overhead2, computed like the kernel in 32-bit int (wrapping),
// not 64-bit; otherwise choice 1.
//
// Randomness: the kernel draws from get_random_u32(); vsrouter draws the same way from the
// engine's seeded generator (SchedContext::rng, next_u32()), with the kernel's
// __get_random_u32_below() arithmetic (multiply-shift with rejection), so a replay is
// reproducible for a given router seed.
#include "sched/common.hpp"

namespace vs::sched {
namespace {

/// __get_random_u32_below() of drivers/char/random.c with our generator as get_random_u32().
uint32_t random_below(Rng& rng, uint32_t ceil) noexcept {
  const uint32_t rand = rng.next_u32();
  if (ceil == 0) return rand;
  uint64_t mult = uint64_t{ceil} * rand;
  if (static_cast<uint32_t>(mult) < ceil) {
    const uint32_t bound = (0u - ceil) % ceil;  // 2^32 mod ceil, in 32 bits
    while (static_cast<uint32_t>(mult) < bound) mult = uint64_t{ceil} * rng.next_u32();
  }
  return static_cast<uint32_t>(mult >> 32);
}

/// The kernel's int multiplication (built with -fno-strict-overflow: wraps).
int32_t mul32(int32_t a, int32_t b) noexcept {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

/// The kernel's int subtraction (wraps, as mul32).
int32_t sub32(int32_t a, int32_t b) noexcept {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}

class PowerOfTwo final : public Scheduler {
public:
  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey&, SchedContext& ctx) noexcept override {
    ipvs::Dest* choice1 = nullptr;
    ipvs::Dest* choice2 = nullptr;
    int32_t total = 0;
    for (ipvs::Dest* d : svc.dests) {
      if (eligible(*d)) {
        total = static_cast<int32_t>(static_cast<uint32_t>(total) + static_cast<uint32_t>(d->weight));
        choice1 = d;
      }
    }
    if (choice1 == nullptr) return nullptr;
    total = static_cast<int32_t>(static_cast<uint32_t>(total) + 1u);
    // The kernel stores the u32 results in ints.
    int32_t r1 = static_cast<int32_t>(random_below(ctx.rng, static_cast<uint32_t>(total)));
    int32_t r2 = static_cast<int32_t>(random_below(ctx.rng, static_cast<uint32_t>(total)));
    int32_t w1 = -1;
    int32_t w2 = -1;
    int32_t oh1 = 0;
    int32_t oh2 = 0;
    for (ipvs::Dest* d : svc.dests) {
      if (!eligible(*d)) continue;
      r1 = sub32(r1, d->weight);  // weights reach INT_MAX: r - weight may wrap, as in the kernel
      r2 = sub32(r2, d->weight);
      if (r1 <= 0 && w1 == -1) {
        choice1 = d;
        w1 = d->weight;
        oh1 = conn_overhead(*d);
      }
      if (r2 <= 0 && w2 == -1) {
        choice2 = d;
        w2 = d->weight;
        oh2 = conn_overhead(*d);
      }
      if (w1 != -1 && w2 != -1) break;
    }
    if (choice2 != nullptr && mul32(w2, oh1) > mul32(w1, oh2)) choice1 = choice2;
    return choice1;
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_twos(ipvs::Service&) { return std::make_unique<PowerOfTwo>(); }

}  // namespace vs::sched

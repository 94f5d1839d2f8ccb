// IPVS counters and the kernel's rate estimator (net/netfilter/ipvs/ip_vs_est.c): per real, per
// service and in total. The director ticks every estimator each 2 s (director_est.cpp).
#pragma once

#include <cstdint>

#include "base/time.hpp"

namespace vs::ipvs {

inline constexpr Duration kEstimatorTick = Duration::seconds(2);  // ip_vs_est.c: IPVS_EST_TICK

/// IPVS counters (struct ip_vs_kstats): per destination, per service and in total.
struct Stats {
  uint64_t conns = 0;
  uint64_t inpkts = 0;
  uint64_t outpkts = 0;
  uint64_t inbytes = 0;
  uint64_t outbytes = 0;
};

/// Rates per second as ipvsadm --rate shows them (struct ip_vs_stats_user's rate fields).
struct Rates {
  uint64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
};

/// The kernel's rate estimator (ip_vs_est.c): every 2 s, each rate moves a quarter of the way
/// toward the last interval's rate, in fixed point (<<10 for cps/pps, <<5 for bps).
struct Estimator {
  Stats last;
  int64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
  void tick(const Stats& s) noexcept;
  Rates rates() const noexcept;
  /// Nothing to do for a tick: every rate zero and nothing counted in `s` since the last one.
  bool at_rest(const Stats& s) const noexcept;
};

}  // namespace vs::ipvs

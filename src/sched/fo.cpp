// fo: weighted failover (net/netfilter/ipvs/ip_vs_fo.c).
//
// The non-OVERLOAD destination with the highest weight. The running maximum starts at 0 and a
// destination must be strictly heavier to replace the current pick, so weight 0 is never chosen
// and ties keep the first in list order (newest first).
#include "sched/common.hpp"

namespace vs::sched {
namespace {

class WeightedFailover final : public Scheduler {
public:
  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey&, SchedContext&) noexcept override {
    ipvs::Dest* best = nullptr;
    int32_t hw = 0;
    for (ipvs::Dest* d : svc.dests) {
      if (!d->overloaded && d->weight > hw) {
        best = d;
        hw = d->weight;
      }
    }
    return best;
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_fo(ipvs::Service&) { return std::make_unique<WeightedFailover>(); }

}  // namespace vs::sched

// ovf: weighted overflow (net/netfilter/ipvs/ip_vs_ovf.c).
//
// Skips destinations that are OVERLOAD, have activeconns > weight (compared as ints), or have
// weight 0; among the rest the highest weight wins, ties keeping the first in list order. A
// destination whose active count equals its weight is still used.
#include "sched/common.hpp"

namespace vs::sched {
namespace {

class WeightedOverflow final : public Scheduler {
public:
  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey&, SchedContext&) noexcept override {
    ipvs::Dest* best = nullptr;
    int32_t hw = 0;
    for (ipvs::Dest* d : svc.dests) {
      const int32_t w = d->weight;
      if (d->overloaded || kint(d->activeconns) > w || w == 0) continue;
      if (best == nullptr || w > hw) {
        best = d;
        hw = w;
      }
    }
    return best;
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_ovf(ipvs::Service&) { return std::make_unique<WeightedOverflow>(); }

}  // namespace vs::sched

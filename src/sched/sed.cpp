// sed: shortest expected delay (net/netfilter/ipvs/ip_vs_sed.c).
//
// wlc's two-stage walk with the overhead activeconns + 1 (inactive connections ignored): stage
// one takes the first destination that is not OVERLOAD and has weight > 0, stage two skips only
// OVERLOAD ones and switches on (s64)loh * w(d) > (s64)doh * w(least). Ties keep the earlier.
#include "sched/common.hpp"

namespace vs::sched {
namespace {

class ShortestExpectedDelay final : public Scheduler {
public:
  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey&, SchedContext&) noexcept override {
    const auto& list = svc.dests;
    size_t i = 0;
    while (i < list.size() && !eligible(*list[i])) ++i;
    if (i == list.size()) return nullptr;
    ipvs::Dest* least = list[i];
    int32_t loh = active_overhead(*least);
    for (++i; i < list.size(); ++i) {
      ipvs::Dest* d = list[i];
      if (d->overloaded) continue;
      const int32_t doh = active_overhead(*d);
      if (less_loaded(loh, least->weight, doh, d->weight)) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_sed(ipvs::Service&) { return std::make_unique<ShortestExpectedDelay>(); }

}  // namespace vs::sched

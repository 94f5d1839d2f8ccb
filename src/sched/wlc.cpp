// wlc: weighted least connection, ipvsadm's default (net/netfilter/ipvs/ip_vs_wlc.c).
//
// Stage one takes the first destination in list order that is not OVERLOAD and has weight > 0.
// Stage two walks the rest of the list, skipping only OVERLOAD ones (the weight is not checked
// again), and switches to d when (s64)loh * w(d) > (s64)doh * w(least): strictly less loaded
// per unit of weight. Ties keep the earlier destination; a weight-0 destination never wins,
// because loh * 0 > doh * w is never true for non-negative overheads.
#include "sched/common.hpp"

namespace vs::sched {

ipvs::Dest* wlc_pick(const ipvs::Service& svc) noexcept {
  const auto& list = svc.dests;
  size_t i = 0;
  while (i < list.size() && !eligible(*list[i])) ++i;
  if (i == list.size()) return nullptr;
  ipvs::Dest* least = list[i];
  int32_t loh = conn_overhead(*least);
  for (++i; i < list.size(); ++i) {
    ipvs::Dest* d = list[i];
    if (d->overloaded) continue;
    const int32_t doh = conn_overhead(*d);
    if (less_loaded(loh, least->weight, doh, d->weight)) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

namespace {

class WeightedLeastConnection final : public Scheduler {
public:
  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey&, SchedContext&) noexcept override { return wlc_pick(svc); }
};

}  // namespace

std::unique_ptr<Scheduler> make_wlc(ipvs::Service&) { return std::make_unique<WeightedLeastConnection>(); }

}  // namespace vs::sched

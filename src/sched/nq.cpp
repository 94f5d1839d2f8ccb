// nq: never queue (net/netfilter/ipvs/ip_vs_nq.c).
//
// One walk in list order over destinations that are not OVERLOAD and have weight != 0: the first
// one with no active connection is returned at once; otherwise the one with the smallest
// (activeconns + 1) / weight wins, compared as (s64)loh * w(d) > (s64)doh * w(least), ties keeping
// the earlier one.
#include "sched/common.hpp"

namespace vs::sched {
namespace {

class NeverQueue final : public Scheduler {
public:
  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey&, SchedContext&) noexcept override {
    ipvs::Dest* least = nullptr;
    int32_t loh = 0;
    for (ipvs::Dest* d : svc.dests) {
      if (d->overloaded || d->weight == 0) continue;
      const int32_t doh = active_overhead(*d);
      if (d->activeconns == 0) return d;  // idle: taken immediately
      if (least == nullptr || less_loaded(loh, least->weight, doh, d->weight)) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_nq(ipvs::Service&) { return std::make_unique<NeverQueue>(); }

}  // namespace vs::sched

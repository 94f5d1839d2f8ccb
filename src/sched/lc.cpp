// lc: least connection (net/netfilter/ipvs/ip_vs_lc.c).
//
// The destination with the smallest ip_vs_dest_conn_overhead() among those that are not OVERLOAD
// and have weight != 0. The kernel holds the overheads in unsigned ints and replaces the current
// pick only on a strictly smaller value, so ties keep the first in list order (newest first).
// Weights other than 0 play no part.
#include "sched/common.hpp"

namespace vs::sched {
namespace {

class LeastConnection final : public Scheduler {
public:
  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey&, SchedContext&) noexcept override {
    ipvs::Dest* least = nullptr;
    uint32_t loh = 0;
    for (ipvs::Dest* d : svc.dests) {
      if (d->overloaded || d->weight == 0) continue;
      const auto doh = static_cast<uint32_t>(conn_overhead(*d));
      if (least == nullptr || doh < loh) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_lc(ipvs::Service&) { return std::make_unique<LeastConnection>(); }

}  // namespace vs::sched

// dh: destination hashing (net/netfilter/ipvs/ip_vs_dh.c).
//
// A table of 256 buckets (IP_VS_DH_TAB_BITS 8). Bucket i holds the (i mod n)-th destination in
// list order; weights are ignored when filling. The table is rebuilt on init, add_dest and
// del_dest; there is NO upd_dest hook in the kernel, so weight edits leave it alone. A packet
// maps to bucket hash_32(daddr, 8); the destination there is returned only if it is AVAILABLE,
// has weight > 0 and is not OVERLOAD. There is no fallback.
#include <array>

#include "sched/common.hpp"

namespace vs::sched {
namespace {

class DestinationHash final : public TableScheduler {
public:
  explicit DestinationHash(ipvs::Service& svc) {
    table_ = buckets_;
    reassign(svc);
  }

  ipvs::Dest* schedule(ipvs::Service&, const FlowKey& flow, SchedContext&) noexcept override {
    ipvs::Dest* d = buckets_[dh_hashkey(flow.dst)];
    if (d == nullptr || !d->available || d->weight <= 0 || d->overloaded) return nullptr;
    return d;
  }

  void add_dest(ipvs::Service& svc, ipvs::Dest&) override { reassign(svc); }
  void del_dest(ipvs::Service& svc, ipvs::Dest&) override { reassign(svc); }
  int32_t bucket(const ipvs::Service&, const FlowKey& flow) const noexcept override {
    return static_cast<int32_t>(dh_hashkey(flow.dst));
  }

private:
  void reassign(const ipvs::Service& svc) noexcept {
    const auto& list = svc.dests;
    for (size_t i = 0; i < kDhTabSize; ++i) {
      buckets_[i] = list.empty() ? nullptr : list[i % list.size()];
    }
  }

  std::array<ipvs::Dest*, kDhTabSize> buckets_{};
};

}  // namespace

std::unique_ptr<Scheduler> make_dh(ipvs::Service& svc) { return std::make_unique<DestinationHash>(svc); }

}  // namespace vs::sched

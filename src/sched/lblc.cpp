// lblc: locality-based least connection (net/netfilter/ipvs/ip_vs_lblc.c).
//
// A cache maps the packet's DESTINATION address to one real server (see locality_cache.hpp for
// the table, its capacity and the emulated garbage collection). schedule():
//   1. If daddr has an entry: lastuse = now; its destination is returned if it is AVAILABLE,
//      has weight > 0 and is not "busy" (lblc_busy: activeconns > weight while some destination
//      has activeconns * 2 < weight). The OVERLOAD flag is NOT checked on this path.
//   2. Otherwise the wlc pick over the whole service (none: no destination). The entry is
//      created, or replaced when it named another destination (the kernel deletes the old entry
//      and hashes a new one at the bucket head); an entry that already names the pick is kept.
//      When the table is full the pick is still returned, uncached.
// For a non-fwmark service daddr is always the VIP, so all clients share one entry; lblc is
// meant for fwmark services spanning many destination addresses (cache clusters).
#include "sched/common.hpp"
#include "sched/locality_cache.hpp"

namespace vs::sched {
namespace {

class LocalityLeastConnection final : public Scheduler {
public:
  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey& flow, SchedContext& ctx) noexcept override {
    constexpr auto kNoPayloadCleanup = [](ipvs::Dest*&) {};
    cache_.advance(ctx.now, kNoPayloadCleanup);
    Cache::Entry* en = cache_.get(flow.dst);
    if (en != nullptr) {
      en->lastuse = ctx.now.us;
      ipvs::Dest* d = en->payload;
      if (d->available && d->weight > 0 && !lblc_busy(*d, svc)) return d;
    }
    ipvs::Dest* d = wlc_pick(svc);
    if (d == nullptr) return nullptr;
    // ip_vs_lblc_new()
    if (en != nullptr) {
      if (en->payload == d) return d;
      cache_.erase(en, kNoPayloadCleanup);
    }
    if (Cache::Entry* fresh = cache_.insert(flow.dst, ctx.now)) fresh->payload = d;
    return d;
  }

private:
  using Cache = LocalityCache<ipvs::Dest*>;
  Cache cache_;
};

}  // namespace

std::unique_ptr<Scheduler> make_lblc(ipvs::Service&) { return std::make_unique<LocalityLeastConnection>(); }

}  // namespace vs::sched

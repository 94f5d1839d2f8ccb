// lblcr: locality-based least connection with replication (net/netfilter/ipvs/ip_vs_lblcr.c).
//
// A cache maps the packet's DESTINATION address to a SET of real servers (newest member first);
// see locality_cache.hpp for the table and the emulated garbage collection. schedule():
//   With an entry for daddr: lastuse = now; d = set_min (wlc over the set: stage one takes the
//   first member that is not OVERLOAD, has weight > 0 and is AVAILABLE; stage two skips OVERLOAD
//   members and needs AVAILABLE to switch). Then, if the set has more than one member and
//   now > lastmod + lblcr_expiration (24 h), set_max (the most loaded member with weight > 0,
//   strict comparison, ties keep the earlier) is erased (lastmod = now) -- even if it is d. If d
//   exists and is not "busy" (lblc_busy) it is returned. Otherwise the wlc pick over the whole
//   service (none: no destination) is added to the set if absent (lastmod = now) and returned.
//   Without an entry: the wlc pick (none: no destination); a new entry {pick} is created (when
//   the table is not full) and the pick returned.
//
// Set members come from a pool allocated once at construction (4 members per table entry on
// average, 98304 in all). The kernel allocates members with GFP_ATOMIC and silently skips the
// insertion when that fails; a full pool behaves the same way (the member is not added and
// lastmod is not touched). Members may name destinations removed from the service since.
#include <memory>

#include "sched/common.hpp"
#include "sched/locality_cache.hpp"

namespace vs::sched {
namespace {

struct DestSet {
  int32_t size;     // members
  int64_t lastmod;  // microseconds of virtual time
  int32_t head;     // first member (newest), -1 if none
};

class LocalityLeastConnectionReplicated final : public Scheduler {
  using Cache = LocalityCache<DestSet>;

public:
  static constexpr int32_t kElemCapacity = Cache::kCapacity * 4;

  LocalityLeastConnectionReplicated() : elems_(std::make_unique_for_overwrite<Elem[]>(kElemCapacity)) {}

  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey& flow, SchedContext& ctx) noexcept override {
    auto free_set = [this](DestSet& set) { erase_all(set); };
    cache_.advance(ctx.now, free_set);
    Cache::Entry* en = cache_.get(flow.dst);
    if (en != nullptr) {
      en->lastuse = ctx.now.us;
      DestSet& set = en->payload;
      ipvs::Dest* d = set_min(set);
      if (set.size > 1 && ctx.now.us > set.lastmod + kExpiration.us) {
        if (ipvs::Dest* m = set_max(set)) set_erase(set, m, ctx.now);
      }
      if (d != nullptr && !lblc_busy(*d, svc)) return d;
      d = wlc_pick(svc);
      if (d == nullptr) return nullptr;
      set_insert(set, d, true, ctx.now);
      return d;
    }
    ipvs::Dest* d = wlc_pick(svc);
    if (d == nullptr) return nullptr;
    // ip_vs_lblcr_new()
    if (Cache::Entry* fresh = cache_.insert(flow.dst, ctx.now)) {
      fresh->payload = DestSet{0, ctx.now.us, -1};
      set_insert(fresh->payload, d, false, ctx.now);
    }
    return d;
  }

private:
  static constexpr Duration kExpiration = Cache::kDefaultExpiration;  // sysctl lblcr_expiration

  struct Elem {
    ipvs::Dest* dest;
    int32_t next;
  };

  // ip_vs_dest_set_insert(): with `check`, nothing happens if dest is already a member.
  void set_insert(DestSet& set, ipvs::Dest* dest, bool check, Instant now) noexcept {
    if (check) {
      for (int32_t e = set.head; e >= 0; e = elems_[e].next) {
        if (elems_[e].dest == dest) return;
      }
    }
    int32_t e;
    if (free_ >= 0) {
      e = free_;
      free_ = elems_[e].next;
    } else if (high_water_ < kElemCapacity) {
      e = high_water_++;
    } else {
      return;  // the kernel's failed GFP_ATOMIC allocation: not added, lastmod unchanged
    }
    elems_[e].dest = dest;
    elems_[e].next = set.head;
    set.head = e;
    ++set.size;
    set.lastmod = now.us;
  }

  // ip_vs_dest_set_erase(): the first member naming dest.
  void set_erase(DestSet& set, const ipvs::Dest* dest, Instant now) noexcept {
    for (int32_t* link = &set.head; *link >= 0; link = &elems_[*link].next) {
      const int32_t e = *link;
      if (elems_[e].dest == dest) {
        --set.size;
        set.lastmod = now.us;
        *link = elems_[e].next;
        elems_[e].next = free_;
        free_ = e;
        return;
      }
    }
  }

  void erase_all(DestSet& set) noexcept {
    while (set.head >= 0) {
      const int32_t e = set.head;
      set.head = elems_[e].next;
      elems_[e].next = free_;
      free_ = e;
    }
    set.size = 0;
  }

  // ip_vs_dest_set_min()
  ipvs::Dest* set_min(const DestSet& set) const noexcept {
    int32_t e = set.head;
    ipvs::Dest* least = nullptr;
    for (; e >= 0; e = elems_[e].next) {
      ipvs::Dest* d = elems_[e].dest;
      if (d->overloaded) continue;
      if (d->weight > 0 && d->available) {
        least = d;
        break;
      }
    }
    if (least == nullptr) return nullptr;
    int32_t loh = conn_overhead(*least);
    for (e = elems_[e].next; e >= 0; e = elems_[e].next) {
      ipvs::Dest* d = elems_[e].dest;
      if (d->overloaded) continue;
      const int32_t doh = conn_overhead(*d);
      if (less_loaded(loh, least->weight, doh, d->weight) && d->available) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }

  // ip_vs_dest_set_max(): moh * w(d) < doh * w(most) and w(d) > 0 switches (strict).
  ipvs::Dest* set_max(const DestSet& set) const noexcept {
    int32_t e = set.head;
    ipvs::Dest* most = nullptr;
    for (; e >= 0; e = elems_[e].next) {
      if (elems_[e].dest->weight > 0) {
        most = elems_[e].dest;
        break;
      }
    }
    if (most == nullptr) return nullptr;
    int32_t moh = conn_overhead(*most);
    for (e = elems_[e].next; e >= 0; e = elems_[e].next) {
      ipvs::Dest* d = elems_[e].dest;
      const int32_t doh = conn_overhead(*d);
      if (int64_t{moh} * d->weight < int64_t{doh} * most->weight && d->weight > 0) {
        most = d;
        moh = doh;
      }
    }
    return most;
  }

  Cache cache_;
  std::unique_ptr<Elem[]> elems_;
  int32_t free_ = -1;
  int32_t high_water_ = 0;
};

}  // namespace

std::unique_ptr<Scheduler> make_lblcr(ipvs::Service&) { return std::make_unique<LocalityLeastConnectionReplicated>(); }

}  // namespace vs::sched

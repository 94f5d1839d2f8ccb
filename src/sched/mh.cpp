// mh: Maglev hashing (net/netfilter/ipvs/ip_vs_mh.c).
//
// A lookup table of 4093 slots (primes[CONFIG_IP_VS_MH_TAB_INDEX - 8], Kconfig default index 12),
// rebuilt completely on init, add_dest, del_dest and upd_dest.
//
// Weights come from last_weight (the most recent non-zero weight), so quiescing a destination
// (weight 0) rebuilds an identical table; only lookups landing on it see it as unavailable.
//   gcd    = gcd of the positive last_weights (0 if none: the table is emptied)
//   rshift = max(0, fls(max_last_weight / gcd) - IP_VS_MH_TAB_BITS(6))
//   turns  = ((last_weight / gcd) >> rshift), or 1 if that is 0 and last_weight != 0
// Each destination (list order) gets a permutation: offset = h1(addr, port) % 4093,
// skip = h2(addr, port) % 4092 + 1. Population walks the list round after round (each round
// restarting at the head); a destination with turns t claims t slots in a row, each time taking
// its next unclaimed permutation entry, until every slot is claimed. h1/h2 are hsiphash
// (SipHash-1-3 on 64-bit kernels) with the kernel's two FIXED keys (see common.hpp), so the
// table is deterministic in the kernel too; no seed of ours is involved.
//
// Lookup: slot h1(saddr, port, 0) % 4093, port = 0 unless mh-port is set (then the source port
// for TCP/UDP/SCTP). Unavailable = weight <= 0 or OVERLOAD. With mh-fallback an unavailable
// pick probes h1(saddr, port, roffset) % 4093 for roffset = (offset + ih) % 4093, offset
// 0..4092 (the offset is fed INTO the hash, unlike sh), stopping at an empty slot or the first
// available destination. With more than 4093 destinations the kernel refuses to rebuild
// (-EINVAL, which __ip_vs_update_dest ignores) and keeps the old table; so do we.
#include <algorithm>
#include <array>
#include <vector>

#include "config/sched_names.hpp"
#include "sched/common.hpp"

namespace vs::sched {
namespace {

bool unavailable(const ipvs::Dest& d) noexcept { return d.weight <= 0 || d.overloaded; }

class MaglevHash final : public TableScheduler {
public:
  explicit MaglevHash(ipvs::Service& svc) {
    table_ = lookup_;
    dest_changed(svc);
  }

  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey& flow, SchedContext&) noexcept override {
    const uint16_t port = (svc.flags & config::kFlagMhPort) != 0 ? hash_port(flow) : uint16_t{0};
    const uint32_t ih = mh_hashkey(flow.src, port, kMhHash1, 0) % kMhTabSize;
    ipvs::Dest* d = lookup_[ih];
    if ((svc.flags & config::kFlagMhFallback) == 0) return (d == nullptr || unavailable(*d)) ? nullptr : d;
    if (d == nullptr) return nullptr;
    if (!unavailable(*d)) return d;
    for (uint32_t offset = 0; offset < kMhTabSize; ++offset) {
      const uint32_t roffset = (offset + ih) % kMhTabSize;
      d = lookup_[mh_hashkey(flow.src, port, kMhHash1, roffset) % kMhTabSize];
      if (d == nullptr) break;
      if (!unavailable(*d)) return d;
    }
    return nullptr;
  }

  void add_dest(ipvs::Service& svc, ipvs::Dest&) override { dest_changed(svc); }
  void del_dest(ipvs::Service& svc, ipvs::Dest&) override { dest_changed(svc); }
  void upd_dest(ipvs::Service& svc, ipvs::Dest&) override { dest_changed(svc); }
  int32_t bucket(const ipvs::Service& svc, const FlowKey& flow) const noexcept override {
    const uint16_t port = (svc.flags & config::kFlagMhPort) != 0 ? hash_port(flow) : uint16_t{0};
    return static_cast<int32_t>(mh_hashkey(flow.src, port, kMhHash1, 0) % kMhTabSize);
  }

private:
  struct Setup {
    uint32_t offset = 0;
    uint32_t skip = 0;
    uint32_t perm = 0;
    int32_t turns = 0;
  };

  void dest_changed(const ipvs::Service& svc) {
    gcd_ = gcd_weight(svc);
    rshift_ = shift_weight(svc, gcd_);
    reassign(svc);
  }

  static int32_t gcd_weight(const ipvs::Service& svc) noexcept {
    int32_t g = 0;
    for (const ipvs::Dest* d : svc.dests) {
      if (d->last_weight > 0) g = g > 0 ? gcd(d->last_weight, g) : d->last_weight;
    }
    return g;
  }

  static int shift_weight(const ipvs::Service& svc, int32_t g) noexcept {
    if (g < 1) return 0;
    int32_t w = 0;
    for (const ipvs::Dest* d : svc.dests) w = std::max(w, d->last_weight);
    const int shift = fls(static_cast<uint32_t>(w / g)) - kMhTabBits;
    return shift >= 0 ? shift : 0;
  }

  void reassign(const ipvs::Service& svc) {
    // [ipvs] mh_sorted: by address and port, whatever the list's history (docs/scale-out.md).
    sorted_.assign(svc.dests.begin(), svc.dests.end());
    if (svc.mh_sorted)
      std::sort(sorted_.begin(), sorted_.end(), [](const ipvs::Dest* a, const ipvs::Dest* b) {
        return a->addr != b->addr ? a->addr < b->addr : a->port < b->port;
      });
    const auto& list = sorted_;
    if (list.size() > kMhTabSize) return;  // the kernel's -EINVAL: the old table stays
    // ip_vs_mh_permutate
    setup_.assign(list.size(), Setup{});
    if (gcd_ >= 1) {
      for (size_t i = 0; i < list.size(); ++i) {
        const ipvs::Dest& d = *list[i];
        Setup& ds = setup_[i];
        // ip_vs_mh_permutate: the dest's address read under the service's family.
        const Ipv4Addr key{d.addr.fold_in(svc.vip.is_v6())};
        ds.offset = mh_hashkey(key, d.port, kMhHash1, 0) % kMhTabSize;
        ds.skip = mh_hashkey(key, d.port, kMhHash2, 0) % (kMhTabSize - 1) + 1;
        ds.perm = ds.offset;
        const int32_t lw = d.last_weight;
        const int32_t t = (lw / gcd_) >> rshift_;
        ds.turns = t != 0 ? t : (lw != 0 ? 1 : 0);
      }
    }
    // ip_vs_mh_populate
    if (gcd_ < 1) {
      lookup_.fill(nullptr);
      return;
    }
    used_.fill(false);
    uint32_t n = 0;
    int32_t dt_count = 0;
    while (n < kMhTabSize) {
      for (size_t i = 0; i < list.size();) {
        Setup& ds = setup_[i];
        if (ds.turns < 1) {  // added with weight 0: takes no slot
          ++i;
          continue;
        }
        uint32_t c = ds.perm;
        while (used_[c]) {
          ds.perm += ds.skip;
          if (ds.perm >= kMhTabSize) ds.perm -= kMhTabSize;
          c = ds.perm;
        }
        used_[c] = true;
        lookup_[c] = list[i];
        if (++n == kMhTabSize) return;
        if (++dt_count >= ds.turns) {  // otherwise the same destination claims again
          dt_count = 0;
          ++i;
        }
      }
    }
  }

  std::array<ipvs::Dest*, kMhTabSize> lookup_{};
  std::array<bool, kMhTabSize> used_{};
  std::vector<Setup> setup_;
  std::vector<ipvs::Dest*> sorted_;  // the list in the order the table is filled
  int32_t gcd_ = 0;
  int rshift_ = 0;
};

}  // namespace

std::unique_ptr<Scheduler> make_mh(ipvs::Service& svc) { return std::make_unique<MaglevHash>(svc); }

}  // namespace vs::sched

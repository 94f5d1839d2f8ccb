// rr: round robin (net/netfilter/ipvs/ip_vs_rr.c).
//
// The kernel keeps a cursor into the destination list (svc->sched_data), initially the list head.
// schedule() walks forward from the entry after the cursor to the end of the list, then (unless
// the cursor was the head) from the first entry up to and including the cursor, and takes the
// first destination that is not OVERLOAD and has weight > 0; the cursor moves to it. There is no
// add_dest hook: a new destination goes to the list head and is reached after the walk wraps.
// del_dest runs after the unlink; if the cursor was the removed entry it moves to the entry that
// preceded it (p->next->prev), so the walk continues with the entry that followed it.
#include <algorithm>
#include <vector>

#include "sched/common.hpp"

namespace vs::sched {
namespace {

class RoundRobin final : public Scheduler {
public:
  explicit RoundRobin(ipvs::Service& svc) : order_(svc.dests) {}

  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey&, SchedContext&) noexcept override {
    const auto& list = svc.dests;
    const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(list.size());
    // The cursor as a list position: -1 is the list head.
    std::ptrdiff_t last = -1;
    if (cursor_ != nullptr) {
      const auto it = std::find(list.begin(), list.end(), cursor_);
      last = it == list.end() ? -1 : it - list.begin();
    }
    // First pass: the entries after the cursor.
    for (std::ptrdiff_t i = last + 1; i < n; ++i) {
      if (eligible(*list[i])) return take(list[i]);
    }
    // Second pass (only when the cursor was a real entry): from the first entry up to and
    // including the cursor itself.
    if (last >= 0) {
      for (std::ptrdiff_t i = 0; i <= last; ++i) {
        if (eligible(*list[i])) return take(list[i]);
      }
    }
    return nullptr;
  }

  void add_dest(ipvs::Service& svc, ipvs::Dest&) override { order_ = svc.dests; }

  void del_dest(ipvs::Service& svc, ipvs::Dest& dest) override {
    if (cursor_ == &dest) {
      // Where the removed entry sat in the list before the unlink; its predecessor then is the
      // entry at that position minus one in the new list (or the head).
      const auto it = std::find(order_.begin(), order_.end(), &dest);
      const std::ptrdiff_t pos = it == order_.end() ? 0 : it - order_.begin();
      const bool head = pos == 0 || static_cast<size_t>(pos - 1) >= svc.dests.size();
      cursor_ = head ? nullptr : svc.dests[static_cast<size_t>(pos - 1)];
    }
    order_ = svc.dests;
  }

  void upd_dest(ipvs::Service& svc, ipvs::Dest&) override { order_ = svc.dests; }

  std::vector<int64_t> state() const override { return {ipvs::dest_key(cursor_)}; }
  void set_state(ipvs::Service& svc, std::span<const int64_t> s) override {
    if (s.size() == 1) cursor_ = ipvs::dest_of(svc, s[0]);
  }

private:
  ipvs::Dest* take(ipvs::Dest* d) noexcept {
    cursor_ = d;
    return d;
  }

  ipvs::Dest* cursor_ = nullptr;    // nullptr = the list head
  std::vector<ipvs::Dest*> order_;  // the list as of the last hook (to find a removed entry's place)
};

}  // namespace

std::unique_ptr<Scheduler> make_rr(ipvs::Service& svc) { return std::make_unique<RoundRobin>(svc); }

}  // namespace vs::sched

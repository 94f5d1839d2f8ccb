// wrr: weighted round robin (net/netfilter/ipvs/ip_vs_wrr.c, the 6.12 algorithm).
//
// State (struct ip_vs_wrr_mark): cl, the list position of the last pick (or the list head); cw,
// the current weight; mw, the maximum weight minus (di - 1); di, the gcd of the positive weights
// (1 if none). A pass walks the list picking every non-OVERLOAD destination with weight >= cw;
// at the end of the list cw drops by di, and below 1 it restarts at mw. Two safeguards stop the
// walk when nothing qualifies: a walk that started at the head and ran a whole cycle, and a walk
// that started mid-list, wrapped (cw restarted), and reached its starting entry again during the
// final (cw <= di) pass.
//
// init_service: cl = head, cw = mw. Every add/del/edit (ip_vs_wrr_dest_changed): cl = head, di and
// mw recomputed; cw = mw if cw > mw or cw == 0, else, if di > 1, cw = (cw / di) * di + 1. So after
// destinations are added one by one cw is usually 1 and the first cycle visits each once.
#include <algorithm>

#include "sched/common.hpp"

namespace vs::sched {
namespace {

class WeightedRoundRobin final : public Scheduler {
public:
  explicit WeightedRoundRobin(ipvs::Service& svc) {
    di_ = gcd_weight(svc);
    mw_ = max_weight(svc) - (di_ - 1);
    cw_ = mw_;
  }

  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey&, SchedContext&) noexcept override {
    const auto& list = svc.dests;
    const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(list.size());
    constexpr std::ptrdiff_t kHead = -1;
    constexpr std::ptrdiff_t kNone = -2;
    std::ptrdiff_t d = kHead;
    if (cl_ != nullptr) {
      const auto it = std::find(list.begin(), list.end(), cl_);
      d = it == list.end() ? kHead : it - list.begin();
    }
    if (mw_ == 0) return nullptr;  // no destination with weight > 0 (cl unchanged)
    const std::ptrdiff_t last = d;
    std::ptrdiff_t stop = kNone;
    bool last_pass = false;
    bool restarted = false;
    for (;;) {
      for (std::ptrdiff_t i = d + 1; i < n; ++i) {
        ipvs::Dest* dest = list[static_cast<size_t>(i)];
        if (!dest->overloaded && dest->weight >= cw_) {
          cl_ = dest;
          return dest;
        }
        if (i == stop) {  // "all overloaded"
          cl_ = dest;
          return nullptr;
        }
      }
      cw_ -= di_;
      if (cw_ <= 0) {
        cw_ = mw_;
        if (last_pass || last == kHead) {  // a whole cycle down to weight 1 found nothing
          cl_ = nullptr;
          return nullptr;
        }
        restarted = true;
      }
      last_pass = cw_ <= di_;
      if (last_pass && restarted && last != kHead) stop = last;
      d = kHead;
    }
  }

  void add_dest(ipvs::Service& svc, ipvs::Dest&) override { dest_changed(svc); }
  void del_dest(ipvs::Service& svc, ipvs::Dest&) override { dest_changed(svc); }
  void upd_dest(ipvs::Service& svc, ipvs::Dest&) override { dest_changed(svc); }

  std::vector<int64_t> state() const override { return {ipvs::dest_key(cl_), cw_}; }
  void set_state(ipvs::Service& svc, std::span<const int64_t> s) override {
    if (s.size() != 2 || s[1] < 0 || s[1] > mw_) return;  // another list's weights: keep ours
    cl_ = ipvs::dest_of(svc, s[0]);
    cw_ = static_cast<int32_t>(s[1]);
  }

private:
  static int32_t gcd_weight(const ipvs::Service& svc) noexcept {
    int32_t g = 0;
    for (const ipvs::Dest* d : svc.dests) {
      if (d->weight > 0) g = g > 0 ? gcd(d->weight, g) : d->weight;
    }
    return g != 0 ? g : 1;
  }

  static int32_t max_weight(const ipvs::Service& svc) noexcept {
    int32_t w = 0;
    for (const ipvs::Dest* d : svc.dests) w = std::max(w, d->weight);
    return w;
  }

  void dest_changed(const ipvs::Service& svc) noexcept {
    cl_ = nullptr;
    di_ = gcd_weight(svc);
    mw_ = max_weight(svc) - (di_ - 1);
    if (cw_ > mw_ || cw_ == 0) {
      cw_ = mw_;
    } else if (di_ > 1) {
      cw_ = (cw_ / di_) * di_ + 1;
    }
  }

  ipvs::Dest* cl_ = nullptr;  // nullptr = the list head
  int32_t cw_ = 0;
  int32_t mw_ = 0;
  int32_t di_ = 1;
};

}  // namespace

std::unique_ptr<Scheduler> make_wrr(ipvs::Service& svc) { return std::make_unique<WeightedRoundRobin>(svc); }

}  // namespace vs::sched

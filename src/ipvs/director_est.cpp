// The rate estimator (the kernel's ip_vs_est.c): every estimator of every service, real and the
// total ticks each 2 s from the first packet on; an idle director parks it (no timers) until
// something is counted again.
#include "ipvs/director.hpp"

namespace vs::ipvs {

void Estimator::tick(const Stats& s) noexcept {
  // Rates over the 2 s interval, scaled: cps/pps by 2^10 / 2 = << 9; bps by 2^5 / 2 = << 4.
  auto step = [](int64_t& avg, uint64_t now, uint64_t before, int shift) {
    int64_t rate = static_cast<int64_t>((now - before) << shift);
    avg += (rate - avg) >> 2;
  };
  step(cps, s.conns, last.conns, 9);
  step(inpps, s.inpkts, last.inpkts, 9);
  step(outpps, s.outpkts, last.outpkts, 9);
  step(inbps, s.inbytes, last.inbytes, 4);
  step(outbps, s.outbytes, last.outbytes, 4);
  last = s;
}

Rates Estimator::rates() const noexcept {
  auto pps = [](int64_t v) { return static_cast<uint64_t>((v + 0x1FF) >> 10); };
  auto bps = [](int64_t v) { return static_cast<uint64_t>((v + 0xF) >> 5); };
  return {pps(cps), pps(inpps), pps(outpps), bps(inbps), bps(outbps)};
}

bool Estimator::at_rest(const Stats& s) const noexcept {
  return cps == 0 && inpps == 0 && outpps == 0 && inbps == 0 && outbps == 0 && last.conns == s.conns &&
         last.inpkts == s.inpkts && last.outpkts == s.outpkts && last.inbytes == s.inbytes &&
         last.outbytes == s.outbytes;
}

bool Director::estimators_idle() const noexcept {
  for (const auto& s : services_) {
    if (!s->est.at_rest(s->stats)) return false;
    for (const auto& d : s->storage)
      if (!d->est.at_rest(d->stats)) return false;
  }
  return total_est_.at_rest(total_);
}

void Director::estimate() noexcept {
  for (auto& s : services_) {
    s->est.tick(s->stats);
    for (auto& d : s->storage) d->est.tick(d->stats);
  }
  total_est_.tick(total_);
}

void Director::tick_estimators(Instant now) noexcept {
  // The estimator ticks every 2 s from the first packet on; missed ticks are caught up one by
  // one while they have something to do, and skipped at once when they have not.
  if (!next_estimate_) return;
  wake_estimator(now);
  while (*next_estimate_ <= now) {
    if (estimators_idle()) {
      est_state_ = EstState::kParked;
      wake_estimator(now);
      break;
    }
    estimate();
    *next_estimate_ = *next_estimate_ + kEstimatorTick;
  }
  if (estimators_idle()) est_state_ = EstState::kParked;
}

void Director::wake_estimator(Instant now) noexcept {
  // Parked: the ticks since were no-ops (rates at rest, nothing counted), so the clock of ticks
  // moves to the first one after `now` on its 2 s grid at once. Woken by count_in/count_out (an
  // ICMP error counted while parked): the adapter calls on_timer() right after that frame, at
  // its time, since the stale tick is due; ticks up to then had nothing to count either.
  if (est_state_ == EstState::kRunning || !next_estimate_) return;
  if (*next_estimate_ <= now)
    *next_estimate_ = *next_estimate_ + kEstimatorTick * ((now - *next_estimate_).us / kEstimatorTick.us + 1);
  est_state_ = EstState::kRunning;
}

}  // namespace vs::ipvs

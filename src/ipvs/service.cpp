#include "ipvs/service.hpp"

#include "sched/scheduler.hpp"

namespace vs::ipvs {

Service::Service() = default;
Service::~Service() = default;
Service::Service(Service&&) noexcept = default;
Service& Service::operator=(Service&&) noexcept = default;

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

}  // namespace vs::ipvs

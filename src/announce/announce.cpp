#include "announce/announce.hpp"

#include <algorithm>

namespace vs::announce {

namespace {
constexpr size_t kEventCap = 1024;
}

std::string_view why_name(Why w) noexcept {
  switch (w) {
    case Why::kHealthy: return "healthy";
    case Why::kNoHealthyReal: return "no healthy real";
    case Why::kDraining: return "draining";
    case Why::kStop: return "stopping";
    case Why::kRemoved: return "no service";
  }
  return "?";
}

void Announcer::reload(const config::Config& cfg, Instant now) {
  enabled_ = cfg.announce.enabled;
  std::vector<Vip> next;
  for (const config::Service& s : cfg.services) {
    if (!s.vip.is_v4()) continue;  // IPv4 VIPs only ([announce] refuses a config with IPv6 services)
    if (std::any_of(next.begin(), next.end(), [&](const Vip& v) { return v.addr == s.vip; })) continue;
    auto old = std::find_if(vips_.begin(), vips_.end(), [&](const Vip& v) { return v.addr == s.vip; });
    next.push_back(old == vips_.end() ? Vip{s.vip.v4(), false} : *old);
  }
  for (Vip& v : vips_)
    if (std::none_of(next.begin(), next.end(), [&](const Vip& n) { return n.addr == v.addr; }))
      set(v, false, Why::kRemoved, now);
  vips_ = std::move(next);
}

void Announcer::stop(Instant now) noexcept {
  for (Vip& v : vips_) set(v, false, Why::kStop, now);
  stopped_ = true;
}

void Announcer::set(Vip& v, bool up, Why why_down, Instant now) {
  if (v.announced == up) return;
  v.announced = up;
  if (enabled_ && events_.size() < kEventCap) events_.push_back({now, v.addr, up, up ? Why::kHealthy : why_down});
}

std::string Announcer::event_text(const Event& e) {
  return std::string(e.up ? "announce " : "withdraw ") + e.vip.str() + " (" + std::string(why_name(e.why)) + ")";
}

}  // namespace vs::announce

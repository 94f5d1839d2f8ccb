// [announce]: which VIPs this director asks its BGP daemon to announce (docs/scale-out.md).
//
// In an ECMP group every director announces a VIP while it can serve it: while a service on that
// address has a healthy real (its health checks say so; a service without checkers, while it
// has reals) and the director is not draining (vsadm --drain, or the stop's grace period). The
// announcer only decides: the daemon writes the set to a file its BGP daemon includes and runs
// a reload command; a replay logs the decisions. Sans-I/O: the time comes from the engine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/addr.hpp"
#include "base/time.hpp"
#include "config/config.hpp"

namespace vs::announce {

enum class Why : uint8_t {
  kHealthy,        // a service on it has a healthy real (announced)
  kNoHealthyReal,  // no service on it has one (withdrawn)
  kDraining,       // the director drains (withdrawn)
  kStop,           // the director stops (withdrawn)
  kRemoved,        // a reload removed its last service (withdrawn)
};
std::string_view why_name(Why w) noexcept;

/// A VIP announced or withdrawn (the adapters log it; the daemon rewrites its file).
struct Event {
  Instant at;
  Ipv4Addr vip;
  bool up = false;
  Why why = Why::kHealthy;
};

struct Vip {
  Ipv4Addr addr;
  bool announced = false;
};

class Announcer {
public:
  explicit Announcer(const config::Config& cfg) { reload(cfg, {}); }

  /// The config's VIPs, each address once in config order; one no service has any more is
  /// withdrawn (if it was announced). Then update() decides the others.
  void reload(const config::Config& cfg, Instant now);
  /// Announce or withdraw each VIP: `healthy(addr)` says whether a service on it can serve.
  template <class F>
  void update(F&& healthy, bool draining, Instant now) {
    if (stopped_) return;
    for (Vip& v : vips_) {
      const bool ok = healthy(v.addr);
      set(v, ok && !draining, ok ? Why::kDraining : Why::kNoHealthyReal, now);
    }
  }
  /// The director stops: every VIP is withdrawn, for good.
  void stop(Instant now) noexcept;

  bool enabled() const noexcept { return enabled_; }
  const std::vector<Vip>& vips() const noexcept { return vips_; }
  /// "announce 10.99.99.1 (healthy)", "withdraw 10.99.99.1 (draining)".
  static std::string event_text(const Event& e);
  template <class F>
  void drain_events(F&& f) {
    for (const Event& e : events_) f(e);
    events_.clear();
  }

private:
  void set(Vip& v, bool up, Why why_down, Instant now);

  bool enabled_ = false;
  bool stopped_ = false;
  std::vector<Vip> vips_;
  std::vector<Event> events_;
};

}  // namespace vs::announce

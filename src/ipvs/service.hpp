// The runtime model of virtual services and their real servers ("destinations" in IPVS), as the
// connection table and the schedulers see them. Mirrors struct ip_vs_service / ip_vs_dest.
//
// Destination order is the kernel's: a new destination is inserted at the HEAD of its service's
// list, so `Service::dests` is newest first, and every "first in list wins" rule of a scheduler
// follows it. A destination removed from a service leaves the list but stays allocated (the
// kernel's "trash") while connections still reference it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/addr.hpp"
#include "config/config.hpp"

namespace vs::sched {
class Scheduler;
}

namespace vs::ipvs {

/// IPVS counters (struct ip_vs_kstats): per destination, per service and in total.
struct Stats {
  uint64_t conns = 0;
  uint64_t inpkts = 0;
  uint64_t outpkts = 0;
  uint64_t inbytes = 0;
  uint64_t outbytes = 0;
};

/// Rates per second as ipvsadm --rate shows them (struct ip_vs_stats_user's rate fields).
struct Rates {
  uint64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
};

/// The kernel's rate estimator (ip_vs_est.c): every 2 s, each rate moves a quarter of the way
/// toward the last interval's rate, in fixed point (<<10 for cps/pps, <<5 for bps).
struct Estimator {
  Stats last;
  int64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
  void tick(const Stats& s) noexcept;
  Rates rates() const noexcept;
};

struct Dest {
  Ipv4Addr addr;
  uint16_t port = 0;
  config::Method method = config::Method::kDr;
  int32_t weight = 1;
  int32_t last_weight = 1;   // most recent non-zero weight (mh keeps its table on quiesce)
  uint32_t upper = 0;        // u_threshold, 0 = none
  uint32_t lower = 0;        // l_threshold
  bool available = true;     // cleared when removed from its service
  bool overloaded = false;   // IP_VS_DEST_F_OVERLOAD, set/cleared by the connection table
  uint32_t activeconns = 0;
  uint32_t inactconns = 0;
  uint32_t persistconns = 0;  // templates pointing at this dest
  uint32_t refs = 0;          // connections and templates bound to this dest
  Stats stats;
  Estimator est;
};

struct Service {
  config::Protocol protocol = config::Protocol::kTcp;
  Ipv4Addr vip;
  uint16_t port = 0;
  std::string scheduler_name;
  unsigned flags = 0;         // sched::SchedFlag bits
  uint32_t persistence = 0;   // seconds, 0 = not persistent
  Ipv4Addr netmask = Ipv4Addr::broadcast();
  config::Drain drain = config::Drain::kDrop;
  uint32_t iface = 0;         // interface answering ARP for the VIP

  std::vector<Dest*> dests;                    // the kernel's list: newest first
  std::vector<std::unique_ptr<Dest>> storage;  // owns every Dest, removed ones included
  std::unique_ptr<sched::Scheduler> scheduler;
  Stats stats;
  Estimator est;
  uint32_t refs = 0;      // connections and templates created for this service
  bool deleted = false;   // removed (ipvsadm -D / reload); kept while `refs` > 0

  Service();
  ~Service();
  Service(Service&&) noexcept;
  Service& operator=(Service&&) noexcept;
};

}  // namespace vs::ipvs

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
#include <string_view>
#include <vector>

#include "base/addr.hpp"
#include "config/config.hpp"
#include "ipvs/estimator.hpp"

namespace vs::ipvs {

class Scheduler;

/// A real server (the kernel's struct ip_vs_dest): its settings plus the director's state.
struct Dest : config::Real {
  int32_t last_weight = 1;  // most recent non-zero weight (mh keeps its table on quiesce)
  bool available = true;    // cleared when removed from its service
  bool overloaded = false;  // IP_VS_DEST_F_OVERLOAD, set/cleared by the connection table
  uint32_t activeconns = 0;
  uint32_t inactconns = 0;
  uint32_t persistconns = 0;  // templates pointing at this dest
  uint32_t refs = 0;          // connections and templates bound to this dest
  Stats stats;
  Estimator est;
};

/// A virtual service (the kernel's struct ip_vs_service): its settings, its reals and its
/// scheduler. The list operations below are the only way the list changes (the director's
/// control API, reload and the scheduler tests use them), each followed by the scheduler's hook,
/// as ip_vs_ctl.c's __ip_vs_update_dest / __ip_vs_unlink_dest do.
struct Service : config::ServiceSettings {
  std::vector<Dest*> dests;                    // the kernel's list: newest first
  std::vector<std::unique_ptr<Dest>> storage;  // owns every Dest, removed ones included
  std::unique_ptr<Scheduler> sched;            // built for `scheduler` (the name) from this list
  Stats stats;
  Estimator est;
  uint32_t refs = 0;       // connections and templates created for this service
  bool deleted = false;    // removed (ipvsadm -D / reload); kept while `refs` > 0
  bool mh_sorted = false;  // [ipvs] mh_sorted: mh fills its table from the reals sorted by address

  Service();
  explicit Service(const config::ServiceSettings& settings);
  ~Service();
  Service(Service&&) noexcept;
  Service& operator=(Service&&) noexcept;

  /// The live real (address, port), or nullptr.
  Dest* find_real(const IpAddr& addr, uint16_t port) noexcept;
  /// ipvsadm -a: a new real at the head of the list (the caller checked it is not there yet); a
  /// real removed earlier and still in storage is revived with its counters, as the kernel
  /// revives a dest from its trash. Then the scheduler's add_dest.
  Dest& add_real(const config::Real& r);
  /// ipvsadm -e: method, weight and thresholds; last_weight keeps the latest non-zero weight.
  /// Then the scheduler's upd_dest.
  void edit_real(Dest& d, const config::Real& r);
  /// ipvsadm -d: AVAILABLE cleared, unlinked, then the scheduler's del_dest. The Dest stays in
  /// storage while connections reference it (the kernel's trash).
  void delete_real(Dest& d);
  /// A scheduler by name, built from the list as it is now (ipvsadm -A, or -E changing it).
  /// False, and nothing changed, for an unknown name.
  bool set_scheduler(std::string_view name);
};

}  // namespace vs::ipvs

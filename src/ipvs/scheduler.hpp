// The scheduler interface: the kernel's struct ip_vs_scheduler (include/net/ip_vs.h), kept with
// the director as the kernel keeps it in its core. One instance per virtual service (the
// kernel's svc->sched_data is member state). The schedulers implement it one per file in
// src/sched/, whose registry.cpp defines make_scheduler() from an explicit table.
//
// schedule() is called for each new connection (and for each new persistence template); it
// reads the service's destination list in kernel order (newest first) and each destination's
// weight, overload flag and connection counts, and returns the chosen destination or nullptr when
// none is available. It must not allocate. The control-plane hooks (the kernel's add_dest,
// del_dest and upd_dest ops) run after the list changed: add_dest after insertion at the head,
// del_dest after removal, upd_dest after an edit (Service's list operations call them).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "base/rng.hpp"
#include "base/time.hpp"
#include "flow.hpp"
#include "ipvs/service.hpp"

namespace vs::ipvs {

/// What a scheduler may use besides the service and the packet: the engine clock (lblc/lblcr
/// cache expiry) and the engine's seeded generator (twos).
struct SchedContext {
  Instant now;
  Rng& rng;
};

class Scheduler {
public:
  virtual ~Scheduler() = default;
  virtual Dest* schedule(Service& svc, const FlowKey& flow, SchedContext& ctx) noexcept = 0;
  virtual void add_dest(Service&, Dest&) {}
  virtual void del_dest(Service&, Dest&) {}
  virtual void upd_dest(Service&, Dest&) {}
  /// The hash bucket schedule() looks at first for `flow` (sh, dh, mh), or -1 for a scheduler
  /// without a table. Read-only, for diagnostics (`replay --trace`); never on the data path.
  virtual int32_t bucket(const Service&, const FlowKey&) const noexcept { return -1; }
  /// Handover (docs/handover.md): the scheduler's position as numbers (rr's cursor, wrr's mark;
  /// a real named by dest_key), which a scheduler of the same kind takes back with set_state on
  /// the new process's list. Empty for the schedulers whose choices follow from the table alone.
  virtual std::vector<int64_t> state() const { return {}; }
  virtual void set_state(Service&, std::span<const int64_t>) {}
};

/// A real as a number for state(): address and port, or -1 for none (the list head). IPv4 reals
/// only (IPv6 services are not built yet: docs/ipv6-services-plan.md).
inline int64_t dest_key(const Dest* d) noexcept { return d ? (int64_t{d->addr.v4().v} << 16) | d->port : -1; }
/// The live real of `svc` that dest_key named, or nullptr.
inline Dest* dest_of(Service& svc, int64_t key) noexcept {
  if (key < 0) return nullptr;
  return svc.find_real(Ipv4Addr{static_cast<uint32_t>(key >> 16)}, static_cast<uint16_t>(key & 0xffff));
}

/// A new scheduler by ipvsadm name (config/sched_names.hpp), or nullptr for an unknown name. The
/// service is passed so table-based schedulers (sh, mh, dh) can build their table from its
/// current list. Defined by src/sched/registry.cpp.
std::unique_ptr<Scheduler> make_scheduler(std::string_view name, Service& svc);

}  // namespace vs::ipvs

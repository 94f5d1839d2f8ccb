// The scheduler interface: the kernel's struct ip_vs_scheduler as a small abstract class.
// One instance per virtual service (the kernel's svc->sched_data is member state); one file per
// scheduler in src/sched/; the explicit table in registry.cpp lists them all.
//
// schedule() is called for each new connection (and for each new persistence template); it
// reads the service's destination list in kernel order (newest first) and each destination's
// weight, overload flag and connection counts, and returns the chosen destination or nullptr when
// none is available. It must not allocate. The control-plane hooks run after the list changed:
// add_dest after insertion at the head, del_dest after removal, upd_dest after an edit.
#pragma once

#include <memory>
#include <string_view>

#include "base/rng.hpp"
#include "base/time.hpp"
#include "flow.hpp"
#include "ipvs/service.hpp"

namespace vs::sched {

/// What a scheduler may use besides the service and the packet: the engine clock (lblc/lblcr
/// cache expiry) and the engine's seeded generator (twos).
struct SchedContext {
  Instant now;
  Rng& rng;
};

class Scheduler {
public:
  virtual ~Scheduler() = default;
  virtual ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey& flow, SchedContext& ctx) noexcept = 0;
  virtual void add_dest(ipvs::Service&, ipvs::Dest&) {}
  virtual void del_dest(ipvs::Service&, ipvs::Dest&) {}
  virtual void upd_dest(ipvs::Service&, ipvs::Dest&) {}
};

/// A new scheduler by ipvsadm name (see names.hpp), or nullptr for an unknown name. The service
/// is passed so table-based schedulers (sh, mh, dh) can build their table from its current list.
std::unique_ptr<Scheduler> make_scheduler(std::string_view name, ipvs::Service& svc);

}  // namespace vs::sched

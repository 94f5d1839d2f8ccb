// VRRP versions 2 and 3 for IPv4 (RFC 3768, RFC 5798) with keepalived's vrrp_instance behaviour
// (docs/vrrp.md): the state machine of each [[vrrp_instances]] table, its adverts, its gratuitous
// ARPs, tracking (interfaces, services, vrrp_scripts) and sync groups.
//
// Sans-I/O like the engine: adverts arrive as parsed datagrams with the engine's time, adverts and
// gratuitous ARPs leave through VrrpNet, vrrp_script programs are run by the adapter through
// VrrpNet and their exits come back with the time, every timer runs on the engine's clock (next_deadline /
// on_timer), so a replay makes the same transitions at the same times. Memory is fixed when the
// config is loaded: one state and one advert buffer per instance, one state per script.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/addr.hpp"
#include "base/time.hpp"
#include "config/config.hpp"
#include "wire/ipv4.hpp"

namespace vs::vrrp {

enum class State : uint8_t { kInit, kBackup, kMaster, kFault };
/// keepalived's names: "INIT", "BACKUP", "MASTER", "FAULT".
std::string_view state_name(State s) noexcept;

/// Why a state changed (the log and the events say it by name: cause_name).
enum class Cause : uint8_t {
  kStart,           // the instance started (priority 255: master at once; else backup)
  kMasterDown,      // no advert for Master_Down_Interval (or Skew_Time after a priority 0)
  kHigherPriority,  // a master heard a better master (higher priority, or equal and higher address)
  kFault,           // a tracked interface or service without weight went down
  kFaultCleared,    // ... came back
  kSyncGroup,       // another member of its vrrp_sync_group changed
  kStop,            // the daemon stops (a master sends priority 0 first)
  kHandover,        // started in the state the replaced process had (docs/handover.md)
};
std::string_view cause_name(Cause c) noexcept;

/// Why an advert was not taken; the engine counts each as a drop reason.
enum class Reject : uint8_t {
  kNone,       // taken
  kMalformed,  // not a VRRP advertisement of its own length
  kTtl,        // IP TTL is not 255 (RFC 5798 §7.1)
  kChecksum,   // neither checksum form holds
  kOtherVrid,  // no instance of this VRID on the interface (another group's)
  kMismatch,   // version, interval (version 2), address list or authentication differ from ours
  kPeer,       // unicast instance: the source is none of its unicast_peer addresses
};

/// What the engine does for Vrrp.
class VrrpNet {
public:
  virtual ~VrrpNet() = default;
  /// Send an advert: `frame` is an IPv4 datagram after an Ethernet header's room, from
  /// `src_mac`, out of `iface`: to 01:00:5e:00:00:12 when addressed to 224.0.0.18, else as any
  /// datagram to a neighbour.
  virtual void send_advert(uint32_t iface, std::span<uint8_t> frame, const MacAddr& src_mac, Instant now) noexcept = 0;
  /// A gratuitous ARP for `addr` announcing `mac` on `iface` (keepalived's form: a broadcast ARP
  /// request with sender and target address both `addr`).
  virtual void send_garp(uint32_t iface, Ipv4Addr addr, const MacAddr& mac, Instant now) noexcept = 0;
  /// instances()[i] entered or left MASTER: the engine answers for its addresses, or stops.
  virtual void ownership_changed(uint32_t i) noexcept = 0;
  /// vrrp_script: run scripts()[s]'s program (the adapter does; its exit comes back through
  /// Vrrp::script_exited), or stop it (its timeout passed; its exit is no longer wanted).
  virtual void run_vrrp_script(uint32_t s) noexcept = 0;
  virtual void stop_vrrp_script(uint32_t s) noexcept = 0;
};

/// A state change (the adapters log it and run the notify scripts).
struct Event {
  Instant at;
  uint32_t instance = 0;
  State from = State::kInit, to = State::kInit;
  Cause cause = Cause::kStart;
  uint8_t priority = 0;  // the instance's priority then
  Ipv4Addr peer;         // kHigherPriority: the master heard
};

/// A vrrp_script's verdict changed (or its first run decided it): the adapters log it.
struct ScriptEvent {
  Instant at;
  uint32_t script = 0;
  bool up = false;
  int status = 0;          // the exit status that decided (-1: killed by a signal, or did not start)
  bool timed_out = false;  // the run outlived its timeout and was stopped
};

/// One vrrp_script's state (keepalived's vrrp_script_t). Public for the listing and the metrics.
struct Script {
  config::VrrpScript cfg;
  bool tracked = false;  // an instance tracks it (keepalived runs only those)
  bool known = false;    // a run has decided (or init_fail): `up` holds; before, trackers ignore it
  bool up = false;
  uint32_t result = 0;  // keepalived's counter, 0..rise+fall-1: up from `rise`
  std::optional<Instant> next_run;
  std::optional<Instant> deadline;  // a run is in progress until then
  int last_status = 0;
  uint64_t runs = 0, failures = 0, timeouts = 0, skipped = 0;  // skipped: the last run still ran
};

/// One instance's state. Public for the listing and the metrics.
struct Instance {
  config::VrrpInstance cfg;
  State state = State::kInit;
  uint8_t priority = 0;                  // effective: base, adjusted by weighted trackers (1..254)
  uint32_t master_adver_cs = 0;          // Master_Adver_Interval (version 3 learns it from the master)
  Ipv4Addr src;                          // the adverts' source address
  Ipv4Addr dst;                          // 224.0.0.18, or the first unicast peer
  MacAddr mac;                           // the virtual MAC (use_vmac) or the interface's
  std::optional<Instant> advert_at;      // master: the next advert
  std::optional<Instant> down_at;        // backup: Master_Down timer
  std::optional<Instant> garp_at;        // master: the second burst of gratuitous ARPs
  std::optional<Instant> lower_garp_at;  // master: the second burst after a lower priority heard
  bool want_master = false;              // backup in a sync group: its Master_Down fired, the group's not
  Instant started{};                     // preempt_delay counts from here
  bool fault = false;                    // an unweighted tracker is down
  int32_t track_delta = 0;               // the weighted trackers' sum
  std::vector<bool> iface_up, svc_up;    // tracked state, one per track_interface / track_service
  uint64_t adverts_sent = 0, adverts_received = 0, became_master = 0, priority_zero_sent = 0;
  State resume = State::kInit;  // handover: start() enters this state (kInit: as a fresh start)
};

class Vrrp {
public:
  Vrrp(const config::Config& cfg, VrrpNet& net);

  /// Starts the instances (later calls do nothing): on_timer and on_advert call it too.
  void start(Instant now) noexcept;
  /// Handover, before start(): instance `i` starts as MASTER or BACKUP as it was in the process
  /// this one replaces (a master stays master: no failover to the peer), unless it is faulted.
  void resume(uint32_t i, State s) noexcept {
    if (!started_ && i < insts_.size()) insts_[i].resume = s;
  }
  std::optional<Instant> next_deadline() const noexcept;
  void on_timer(Instant now) noexcept;
  /// An IPv4 datagram of protocol 112 that arrived on `iface`.
  Reject on_advert(uint32_t iface, wire::Ipv4View<const uint8_t> ip, Instant now) noexcept;
  /// Interface `iface` went down or up (track_interface).
  void set_interface(uint32_t iface, bool up, Instant now) noexcept { set_tracked(false, iface, up, now); }
  /// Service `svc` (index into Config::services) has a healthy real or not (track_service).
  void set_service(uint32_t svc, bool healthy, Instant now) noexcept { set_tracked(true, svc, healthy, now); }
  /// A vrrp_script's program exited (status 0..255, or -1: killed, or could not start).
  void script_exited(uint32_t s, int status, Instant now) noexcept;
  /// The daemon stops: each master sends priority 0, so its backup takes over at once (RFC 5798
  /// §6.4.3, "Shutdown"); every instance ends in INIT.
  void stop(Instant now) noexcept;

  /// Whether the engine answers for `a` now: true for an address of no instance, and for one of
  /// an instance in MASTER.
  bool owns(Ipv4Addr a) const noexcept;
  /// The MAC an address of an instance is answered with (its VMAC with use_vmac); nullopt for an
  /// address of no instance.
  std::optional<MacAddr> mac_for(Ipv4Addr a) const noexcept;

  const std::vector<Instance>& instances() const noexcept { return insts_; }
  const std::vector<Script>& scripts() const noexcept { return scripts_; }
  /// "VRRP VI_1: BACKUP -> MASTER (master_down, priority 100)": one line for the log and replay.
  std::string event_text(const Event& e) const;
  /// "VRRP script chk_web: down (exited 1)".
  std::string event_text(const ScriptEvent& e) const;
  template <class F>
  void drain_events(F&& f) {
    for (const Event& e : events_) f(e);
    events_.clear();
  }
  template <class F>
  void drain_script_events(F&& f) {
    for (const ScriptEvent& e : script_events_) f(e);
    script_events_.clear();
  }

  /// Master_Down_Interval and Skew_Time of an instance (RFC 5798 §6.1; version 2's skew is in
  /// seconds whatever the interval, RFC 3768 §6.1).
  static Duration skew_time(const Instance& in) noexcept;
  static Duration master_down_interval(const Instance& in) noexcept;
  /// The sync group (index into Config::vrrp_sync_groups) instance `i` belongs to, if any.
  std::optional<uint32_t> sync_group(uint32_t i) const noexcept {
    return group_of_[i] < 0 ? std::nullopt : std::optional<uint32_t>(static_cast<uint32_t>(group_of_[i]));
  }

private:
  /// Start instance i as start() does (FAULT, or MASTER/BACKUP).
  void begin(uint32_t i, Instant now) noexcept;
  /// keepalived's INIT wait: i (or a member of its sync group) tracks an unweighted script that
  /// has not decided yet; the instance stays in INIT until it does.
  bool waiting(uint32_t i) const noexcept;
  /// Script s's timers: its timeout, then its next run.
  void script_timer(uint32_t s, Instant now) noexcept;
  /// A run of s ended: success or not, counted toward rise and fall.
  void script_result(uint32_t s, bool ok, int status, bool timed_out, Instant now) noexcept;
  /// Skew_Time as if the priority were `priority` (255 gives the least skew).
  static Duration skew_for(const Instance& in, int64_t priority) noexcept;
  void become_master(uint32_t i, Cause why, Instant now, Ipv4Addr peer = {}) noexcept;
  void become_backup(uint32_t i, Cause why, Instant now, Ipv4Addr peer = {}) noexcept;
  void become(uint32_t i, State to, Cause why, Instant now, Ipv4Addr peer) noexcept;
  void enter_fault(uint32_t i, Cause why, Instant now) noexcept;
  void send_advert(uint32_t i, uint8_t priority, Instant now) noexcept;
  /// `count` gratuitous ARPs of each of i's addresses.
  void send_garps(uint32_t i, uint32_t count, Instant now) noexcept;
  /// Master_Down_Interval passed for backup i: master, unless a sync group member still hears
  /// its master (keepalived's vrrp_sync_can_goto_master: the group moves when all want to).
  void master_down(uint32_t i, Instant now) noexcept;
  /// A master heard a lower priority: an advert now, and its group's gratuitous ARPs.
  void assert_master(uint32_t i, Instant now) noexcept;
  /// A tracked interface (or service) changed: each instance tracking it is re-tracked.
  void set_tracked(bool service, uint32_t index, bool up, Instant now) noexcept;
  /// The trackers' verdict on i: its fault flag and effective priority (no transition).
  void weigh(uint32_t i) noexcept;
  /// After a tracker changed: the effective priority, and FAULT entered or left.
  void retrack(uint32_t i, Instant now) noexcept;
  /// Whether a member of i's sync group (i included) is faulted by its own trackers.
  bool group_fault(uint32_t i) const noexcept;
  /// The other members of i's sync group follow its new state.
  void follow(uint32_t i, Instant now) noexcept;
  Duration advert_interval(const Instance& in) const noexcept;

  VrrpNet& net_;
  std::vector<Instance> insts_;
  std::vector<int32_t> group_of_;  // instance -> sync group, -1 for none
  std::vector<std::vector<uint32_t>> groups_;
  std::vector<Event> events_;
  std::vector<Script> scripts_;
  std::vector<ScriptEvent> script_events_;
  std::vector<uint8_t> buf_;  // one advert frame
  bool following_ = false;    // follow() is applying a group's state (no recursion)
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace vs::vrrp

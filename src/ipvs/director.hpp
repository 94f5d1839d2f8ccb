// IPVS semantics over the connection table: which packets belong to virtual services, scheduling
// (with persistence templates), binding connections to destinations (active/inactive counts,
// overload), the TCP/UDP state machine, per-dest/service/total stats, expiry, and the control
// operations (add/remove/edit a real). No packet bytes here: the engine parses, rewrites and
// sends; the director decides. Mirrors ip_vs_core.c / ip_vs_conn.c (director.cpp), ip_vs_ctl.c
// (director_ctl.cpp) and ip_vs_est.c (director_est.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/flat_map.hpp"
#include "base/rng.hpp"
#include "base/time.hpp"
#include "config/config.hpp"
#include "conn/conn_table.hpp"
#include "conn/tcp_state.hpp"
#include "drop.hpp"
#include "flow.hpp"
#include "handover/state.hpp"
#include "ipvs/service.hpp"
#include "wire/ipvs_sync.hpp"

namespace vs::ipvs {

struct SchedContext;

/// What the director decided about a packet.
struct Decision {
  enum class Kind : uint8_t {
    kPass,    // not IPVS traffic: the router handles it (no connection, no service, or a TCP
              // packet that may not open a connection)
    kIn,      // client -> real: transmit by conn's method
    kOut,     // real -> client reply through us
    kDrop,    // counted drop with `reason`
    kNoDest,  // a service matched but no real is available: ICMP port unreachable (ip_vs_leave)
  };
  Kind kind = Kind::kPass;
  uint32_t conn = conn::kNone;
  DropReason reason{};
  bool created = false;  // kIn: this packet created the connection
};

/// The inputs of the last scheduling decision, for `replay --trace` and `--diagram`: recorded
/// only while a caller lent one with Director::record_sched() (off by default). Fixed size, filled
/// in place: no allocation. `svc` stays valid until the next control operation.
struct SchedNote {
  static constexpr uint32_t kMaxDests = 16;
  struct DestIn {
    IpAddr addr;
    uint16_t port = 0;
    int32_t weight = 0;
    uint32_t active = 0;
    uint32_t inactive = 0;
    bool overloaded = false;
  };
  uint64_t count = 0;  // decisions recorded so far: a caller sees a new one when it changes
  const Service* svc = nullptr;
  FlowKey flow{};
  FlowAddr6 flow6{};  // the addresses when flow.v6 (flow holds their folds)
  IpAddr src() const noexcept { return flow.v6 ? IpAddr::from_v6(flow6.src) : IpAddr(flow.src); }
  IpAddr dst() const noexcept { return flow.v6 ? IpAddr::from_v6(flow6.dst) : IpAddr(flow.dst); }
  bool from_template = false;  // a persistence template chose the real: no scheduler ran
  bool new_template = false;   // the scheduler ran for a new persistence template
  int32_t bucket = -1;         // sh/dh/mh: the hash bucket looked at first; else -1
  uint32_t n_dests = 0;        // reals in the list; the first kMaxDests are in dests, list order
  std::array<DestIn, kMaxDests> dests{};
  bool chosen = false;  // false: no real available
  IpAddr chosen_addr;
  uint16_t chosen_port = 0;
  config::Method chosen_method = config::Method::kDr;
};

/// The sync master's send rules (the kernel's sysctls; docs/sync.md).
struct SyncRules {
  uint32_t threshold = 3;     // sync_threshold: a connection is sent at its packet `threshold`...
  uint32_t period = 50;       // ... and every `period` packets after (sync_period; 0: once)
  Duration refresh_period{};  // sync_refresh_period: resend when the expiry moved this much
  uint32_t retries = 0;       // sync_retries: resends of an unchanged expiry (0..3)
  bool persist_mode = false;  // sync_persist_mode: only templates of persistent services
  // vsrouter's: a connection whose copy on the backup is past half its timeout (at least 10 s)
  // is sent again at its next packet, whatever the packet count (docs/sync.md).
  bool resync_before_expiry = true;
};

/// Where a sync master's connections go (the sync daemon, which batches them into messages).
class SyncSink {
public:
  virtual ~SyncSink() = default;
  virtual void sync_conn(const wire::SyncEntry& e, Instant now) noexcept = 0;
};

/// What a backup did with a received entry (ip_vs_proc_conn).
enum class SyncApplied : uint8_t {
  kCreated,      // a new connection or template, bound to this director's real
  kUpdated,      // an entry it had: state, timeout, activity
  kStale,        // an INACTIVE entry for a connection that moved to another real meanwhile
  kNoService,    // no virtual service of that protocol, address and port here
  kNoReal,       // the service has no such real here (the kernel keeps it unbound; vsrouter does not)
  kTableFull,    // the connection table is full
  kUnsupported,  // a template with a client port (vsrouter's are keyed without)
};

class Director {
public:
  /// `drops` receives the connection entries the table defences drop (conn_evicted_half_open,
  /// conn_expired_half_open); without it the director counts them in drops() on its own.
  Director(const config::Config& cfg, uint64_t seed, DropCounters* drops = nullptr);

  /// Classify a TCP/UDP packet (unfragmented; `tcp_flags` 0 for UDP), creating a connection when
  /// it opens one. kIn/kOut carry the connection; call in_packet/out_packet next.
  /// An IPv6 packet passes its addresses in `a6` (p.key holding their folds, v6 set).
  Decision classify(const PacketSummary& p, Instant now, const FlowAddr6* a6 = nullptr) noexcept;

  /// Account a client->real packet (stats in, state transition); `ip_len` = IPv4 total length.
  void in_packet(uint32_t c, uint8_t tcp_flags, uint32_t ip_len, Instant now) noexcept;
  /// Account a real->client packet (state transition OUTPUT, stats out after rewriting).
  void out_packet(uint32_t c, uint8_t tcp_flags, uint32_t ip_len, Instant now) noexcept;
  /// passive_check: mark connection `c` as awaiting its real's first packet (out_packet clears
  /// the mark); awaiting_reply: the connection of client->VIP flow `k` is still marked and its
  /// client still waits in SYN_RECV.
  void await_reply(uint32_t c) noexcept { conns_[c].flags |= conn::kFlagAwaitReply; }
  bool awaiting_reply(const FlowKey& k) const noexcept;
  /// After the packet was handled: re-arm the timer (ip_vs_conn_put), or free a one-packet conn.
  void put(uint32_t c, Instant now) noexcept;
  /// Count an ICMP error related to the connection, without a state change or re-arm.
  void count_in(uint32_t c, uint32_t ip_len) noexcept;
  void count_out(uint32_t c, uint32_t ip_len) noexcept;

  /// The connection a quoted datagram belongs to, for ICMP errors: `inner` is the quoted packet's
  /// flow; for an error travelling client->VIP it is the reply VIP->client, for one travelling
  /// real->client it is the request client->real.
  std::optional<conn::ConnTable::Hit> lookup(const FlowKey& k, const FlowAddr6* a6 = nullptr) const noexcept {
    return conns_.lookup(k, a6);
  }

  /// The next connection expiry or rate-estimator tick (every 2 s, as the kernel's).
  std::optional<Instant> next_deadline() const noexcept;
  void on_timer(Instant now) noexcept;

  // --- control plane (ipvsadm semantics; vsadm and reload build on these) ---
  /// Control errors, as the kernel reports them to ipvsadm (ipvs_strerror's wording in ctl/).
  enum class CtlError : uint8_t { kOk, kServiceExists, kNoService, kSchedulerNotFound, kDestExists, kNoDest };

  /// ipvsadm -A (or a [[services]] table; its reals are not added here).
  CtlError add_service(const config::ServiceSettings& settings, Service** out = nullptr);
  /// ipvsadm -E: every field is re-sent; a scheduler change builds the new one from the list.
  /// The key (protocol, VIP, port) is the service's own and is not changed.
  CtlError edit_service(Service& svc, const config::ServiceSettings& settings);
  /// ipvsadm -D: the service stops matching; its reals are removed (their connections follow the
  /// drain policy) and the object lives on while connections reference it.
  void delete_service(Service& svc);
  void clear();  // ipvsadm -C
  /// ipvsadm -a: a new real at the head of the list; a real removed earlier and still referenced
  /// by connections is revived with its counters, as the kernel revives a dest from its trash.
  CtlError add_real(Service& svc, const config::Real& r, Dest** out = nullptr);
  /// ipvsadm -e: method, weight and thresholds (new connections use the new method).
  CtlError edit_real(Service& svc, const config::Real& r);
  CtlError delete_real(Service& svc, const IpAddr& addr, uint16_t port);
  /// ipvsadm -Z: zero the counters (and rates) of one service and its reals, or of everything.
  void zero(Service* svc);
  /// ipvsadm --set tcp tcpfin udp (0 keeps a value). Existing connections keep their timers
  /// until their next packet.
  void set_timeouts(const config::Timeouts& set);
  /// Reload: make the services, reals and timeouts those of `cfg`, as one step: services and
  /// reals are matched by (protocol, VIP, port) and (address, port); what is gone is deleted,
  /// what is new is added, what changed is edited. Established connections stay on their reals.
  void apply_config(const config::Config& cfg);

  // --- connection sync (director_sync.cpp; net/netfilter/ipvs/ip_vs_sync.c) ---
  /// Become a sync master sending to `sink` with `rules` (nullptr: stop being one). Every
  /// client packet then counts, and a connection (and its template) is handed to the sink when
  /// the kernel's rules (ip_vs_sync_conn_needed) say so.
  void set_sync_master(SyncSink* sink, const SyncRules& rules) noexcept {
    sync_ = sink;
    sync_rules_ = rules;
  }
  /// A backup applies a received entry (flags as sent; the caller skipped what the kernel skips).
  SyncApplied apply_synced(const wire::SyncEntry& e, Instant now) noexcept;
  /// Connection `c` as a version 1 entry: the kernel's flag bits and state numbers, its timeout.
  wire::SyncEntry synced_entry(uint32_t c) const noexcept;

  // --- handover (director_handover.cpp; docs/handover.md) ---
  /// Every connection and template as records, templates first (a connection's `control` is
  /// its template's index among them).
  void snapshot_conns(std::vector<handover::ConnRec>& out) const;
  /// The counters of every service and real, and the total.
  void snapshot_stats(std::vector<handover::StatsRec>& out, uint64_t (&total)[5]) const;
  /// What adopt_conns did with the records.
  struct Adopted {
    uint32_t taken = 0;
    uint32_t no_service = 0;  // no service of that protocol, address and port in this config
    uint32_t no_real = 0;     // the service has no such real (now)
    uint32_t invalid = 0;     // a field out of range (a writer's bug)
    uint32_t full = 0;        // beyond this table's capacity
  };
  /// A handed-over table into this (empty) director: each record bound to its service and real
  /// here, with its state, flags, timeout and expiry to the microsecond, and its template link.
  Adopted adopt_conns(std::span<const handover::ConnRec> recs) noexcept;
  /// Each service's scheduler position; adopt_sched gives it to the same scheduler here.
  void snapshot_sched(std::vector<handover::SchedRec>& out) const;
  void adopt_sched(std::span<const handover::SchedRec> recs) noexcept;
  /// Counters of the services and reals that exist here; the total as it was.
  void adopt_stats(std::span<const handover::StatsRec> recs, const uint64_t (&total)[5]) noexcept;

  /// Record each scheduling decision's inputs into `note` (nullptr: stop). Diagnostics only.
  void record_sched(SchedNote* note) noexcept { note_ = note; }

  // --- views ---
  /// Live services in the order they were added.
  const std::vector<std::unique_ptr<Service>>& services() const noexcept { return services_; }
  /// Packet lookup (ip_vs_service_find): exact port, then the VIP's port-0 service.
  Service* find_service(IpProto proto, const IpAddr& vip, uint16_t port) noexcept;
  /// Control lookup: this exact (protocol, VIP, port).
  Service* find_exact(IpProto proto, const IpAddr& vip, uint16_t port) noexcept;
  /// The interface answering ARP for `a` if it is a VIP of a live service (the first service
  /// with that VIP, in the order services() lists them). O(1): an index kept by the control API.
  std::optional<uint32_t> vip_interface(Ipv4Addr a) const noexcept {
    if (const uint32_t* i = vips_.find(a.v)) return *i;
    return std::nullopt;
  }
  bool is_vip(Ipv4Addr a) const noexcept { return vips_.contains(a.v); }
  /// The same for an IPv6 VIP (answering Neighbour Solicitations): the fold index, then the
  /// first live service with exactly that VIP.
  std::optional<uint32_t> vip_interface6(const Ipv6Addr& a) const noexcept;
  bool is_vip6(const Ipv6Addr& a) const noexcept { return vip_interface6(a).has_value(); }
  /// Whether any IPv6 service exists (the IPv6 path asks the director only then).
  bool has_ipv6_services() const noexcept { return !vips6_.empty(); }
  /// Whether a real of the other address family than its service exists (TUN only; the kernel's
  /// mixed_address_family_dests, which keeps a sync daemon from starting).
  bool has_mixed_family_reals() const noexcept {
    for (const auto& s : services_)
      for (const Dest* d : s->dests)
        if (d->addr.is_v6() != s->vip.is_v6()) return true;
    return false;
  }
  /// Rates as ipvsadm --rate shows them.
  Rates total_rates() const noexcept { return total_est_.rates(); }
  const conn::ConnTable& conns() const noexcept { return conns_; }
  const conn::Timeouts& timeouts() const noexcept { return timeouts_; }
  const Stats& total() const noexcept { return total_; }
  uint64_t refused_full() const noexcept { return refused_full_; }
  /// Connections (not templates) freed so far, for whatever reason: with the connections in the
  /// table this accounts for every connection ever made (Conns).
  uint64_t conns_freed() const noexcept { return conns_freed_; }
  /// The counters the defences count into (the engine's when it passed them).
  const DropCounters& drops() const noexcept { return *drops_; }
  const config::Defense& defense() const noexcept { return defense_; }
  /// secure_tcp is acting now: "always", or "auto" with the table at or above high_water.
  bool secure_tcp_engaged() const noexcept;

private:
  /// The scheduler's choice for `k` (nullptr: none available), recorded in the SchedNote when
  /// one is lent (a new template's choice when `new_template`).
  Dest* pick(Service& svc, const FlowKey& k, SchedContext& ctx, bool new_template) noexcept;
  uint32_t schedule(Service& svc, const FlowKey& k, const FlowAddr6* a6, Instant now, Decision& d) noexcept;
  /// The SchedNote halves: the inputs before the scheduler runs, the outcome after.
  void note_inputs(const Service& svc, const FlowKey& k) noexcept;
  void note_result(const Dest* dest, bool from_template, bool new_template) noexcept;
  uint32_t new_conn(const conn::Conn& init, Dest* dest, Duration timeout, Instant now,
                    const conn::ConnAddr6* a6 = nullptr) noexcept;
  /// ip_vs_find_dest's real: (address, port), else (address, port 0); sync and handover bind by it.
  static Dest* find_dest(Service& svc, const IpAddr& addr, uint16_t port) noexcept {
    Dest* d = svc.find_real(addr, port);
    return d ? d : svc.find_real(addr, 0);
  }
  void bind(conn::Conn& c, Dest* d) noexcept;
  void unbind(conn::Conn& c) noexcept;
  void expire(uint32_t c, Instant now) noexcept;
  void set_tcp_state(uint32_t c, conn::TcpDir dir, uint8_t flags, Instant now) noexcept;
  void assure_template(uint32_t c) noexcept;
  /// Move connection `c` between its real's active and inactive counts (IP_VS_CONN_F_INACTIVE).
  void set_inactive(conn::Conn& c, bool inactive) noexcept;
  /// After a client packet (ip_vs_in): count it and sync the connection and its template when due.
  void sync_in_packet(uint32_t c, Instant now) noexcept;
  bool sync_needed(uint32_t c, uint32_t pkts, Instant now) noexcept;
  /// One packet of `ip_len` bytes in the real's, the service's and the total counters (in: from
  /// the client; else from the real).
  template <bool Inbound>
  void count(uint32_t c, uint32_t ip_len) noexcept;

  void release_service(Service* svc) noexcept;
  /// delete_service without re-indexing the VIPs (the caller calls index_vips() after).
  void remove_service(Service& svc);
  /// Rebuild vips_ from services_ (after a service is deleted or moved to another interface).
  void index_vips();
  void estimate() noexcept;
  /// Every tick due by `now` (director_est.cpp).
  void tick_estimators(Instant now) noexcept;
  /// Every estimator at rest: rates zero and nothing counted since the last tick.
  bool estimators_idle() const noexcept;
  void wake_estimator(Instant now) noexcept;

  std::vector<std::unique_ptr<Service>> services_;
  std::vector<std::unique_ptr<Service>> retired_;  // deleted, still referenced by connections
  // VIP -> interface of the first live service with that VIP: vip_interface()/is_vip() per
  // packet. Kept by add_service (insert), edit_service, delete_service, clear and apply_config
  // (rebuild); every change to services_ or to a service's iface goes through those.
  FlatMap<uint32_t, uint32_t> vips_;
  // IPv6 VIPs by their fold (IpAddr::fold) -> interface: a filter (folds may collide; the
  // service lookup that follows compares the address).
  FlatMap<uint32_t, uint32_t> vips6_;
  conn::Timeouts timeouts_;
  conn::ConnTable conns_;
  Rng rng_;
  Stats total_;
  Estimator total_est_;
  std::optional<Instant> next_estimate_;  // starts at the first timer or packet
  // The estimator parks once every rate has decayed to zero with nothing new counted: a tick
  // would change nothing, so it stops asking for timers (an idle director sleeps; a replay over
  // a gap of years does not step through 2 s ticks). kWake: counted while parked, not yet ticked.
  enum class EstState : uint8_t { kRunning, kParked, kWake } est_state_ = EstState::kRunning;
  uint64_t refused_full_ = 0;
  uint64_t conns_freed_ = 0;
  config::Defense defense_;
  config::Ipvs ipvs_;  // sloppy_tcp
  DropCounters own_drops_;
  DropCounters* drops_;
  SchedNote* note_ = nullptr;
  SyncSink* sync_ = nullptr;  // set while a sync master
  SyncRules sync_rules_;
};

}  // namespace vs::ipvs

// The engine: a sans-I/O router and IPVS load balancer.
//
// Adapters (pcap replay, TAP daemon, in-memory test ports) call on_frame() with each received
// frame and the current time, call on_timer() when next_deadline() is reached, and receive the
// frames the engine sends through the TxSink, synchronously, during those calls. The engine never
// reads a clock, a socket or a random source; its PRNG is seeded from the config. Given the same
// config and the same sequence of calls it produces the same frames.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "announce/announce.hpp"
#include "base/addr.hpp"
#include "base/flat_map.hpp"
#include "base/time.hpp"
#include "check/health.hpp"
#include "config/config.hpp"
#include "drop.hpp"
#include "flow.hpp"
#include "frag/reassembly.hpp"
#include "icmp_peer_limit.hpp"
#include "ipvs/director.hpp"
#include "neigh.hpp"
#include "offload.hpp"
#include "packet.hpp"
#include "route.hpp"
#include "sync/sync.hpp"
#include "vrrp/vrrp.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"

namespace vs {

/// Where the engine's frames go. Called synchronously; the span is valid only during the call.
class TxSink {
public:
  virtual ~TxSink() = default;
  virtual void transmit(uint32_t iface, std::span<const uint8_t> frame) = 0;
  /// A frame whose checksum or segmentation is left to the receiver (offload.hpp). Only called
  /// when the engine was built with EngineParams::offload; adapters without offloads need not
  /// override it.
  virtual void transmit_offload(uint32_t iface, std::span<const uint8_t> frame, const Offload&) {
    transmit(iface, frame);
  }
};

/// The programs of MISC_CHECK and vrrp_script run outside the engine (it never starts a process):
/// the adapter's runner starts and stops them and reports each exit with Engine::script_exited.
/// A program's id is its checker's index, or its vrrp_script's index with kVrrpScriptId set.
class ScriptRunner {
public:
  virtual ~ScriptRunner() = default;
  /// Run `argv` (no shell) as `user` (empty: the daemon's). A program still running under `id`
  /// gives way.
  virtual void start(uint32_t id, const std::vector<std::string>& argv, const std::string& user) = 0;
  /// Stop it (its exit is no longer wanted).
  virtual void stop(uint32_t id) = 0;
};
inline constexpr uint32_t kVrrpScriptId = 0x80000000u;

/// What happened to one received frame.
struct Verdict {
  enum class Kind : uint8_t {
    kForwarded,  // sent on out_iface (possibly as several fragments)
    kQueued,     // waiting for ARP resolution on out_iface
    kConsumed,   // handled by the router itself (ARP answered/learned, ping answered)
    kDropped,    // see reason; an ICMP error may have been sent
  };
  Kind kind = Kind::kDropped;
  DropReason reason{};
  uint32_t out_iface = 0;

  static Verdict dropped(DropReason r) noexcept { return {Kind::kDropped, r, 0}; }
};

struct EngineParams {
  NeighParams neigh{};
  uint32_t pool_buffers = 512;          // frames that can wait for ARP at once, in all
  uint32_t icmp_errors_per_sec = 1000;  // token bucket (Linux icmp_msgs_per_sec)
  uint32_t icmp_errors_burst = 50;      // (Linux icmp_msgs_burst)
  // Per destination (Linux icmp_ratelimit, ms; 0 = off): a burst of 6, then one per this period,
  // for the types of icmp_ratemask (icmp_peer_limit.hpp), in a table of this many destinations.
  uint32_t icmp_ratelimit_ms = 1000;
  uint32_t icmp_peer_entries = 4096;
  // SSL_GET: the seed of OpenSSL's random bytes (check/tls.hpp). The daemon draws it from
  // getrandom; without one it follows router.seed (a replay, a test).
  std::optional<check::TlsSeed> tls_seed;
  // The adapter takes frames with deferred checksums and TCP segmentation (transmit_offload).
  // Without it, the engine completes in software whatever a received frame deferred.
  bool offload = false;
};

struct IfaceCounters {
  uint64_t rx_frames = 0, rx_bytes = 0, tx_frames = 0, tx_bytes = 0;
};

struct EngineCounters {
  uint64_t forwarded = 0;       // IPv4 packets routed (sent or waiting for ARP)
  uint64_t fragments_sent = 0;  // fragments made from packets larger than the egress MTU
  uint64_t arp_requests_sent = 0;
  uint64_t arp_replies_sent = 0;
  uint64_t echo_replies_sent = 0;
  uint64_t icmp_errors_sent = 0;
  uint64_t icmp_errors_rate_limited = 0;
  uint64_t icmp_errors_peer_limited = 0;  // not sent: the destination's own limit (icmp_ratelimit)
  uint64_t tcp_resets_sent = 0;           // RSTs for TCP segments to our addresses that nothing takes
  uint64_t gso_frames = 0;                // TCP super-frames received (offload.hpp)
  uint64_t gso_segmented = 0;             // ... of which cut into segments here (TUN, MTU, no adapter offload)
  uint64_t csum_completed = 0;            // deferred checksums completed here
  uint64_t reassembled = 0;               // datagrams reassembled from fragments addressed to us (src/frag/)
  uint64_t forwarded6 = 0;                // IPv6 packets routed (sent or waiting for Neighbour Discovery)
  uint64_t nd_solicits_sent = 0;          // Neighbour Solicitations (resolution, re-confirmation, DAD)
  uint64_t nd_adverts_sent = 0;           // Neighbour Advertisements
  uint64_t dad_failures = 0;              // IPv6 addresses found duplicate by DAD (then never used)
};

class Engine : private check::ProbeNet, private vrrp::VrrpNet, private sync::SyncNet {
public:
  Engine(std::shared_ptr<const config::Config> cfg, TxSink& tx, const EngineParams& params = {});

  /// `off`: what the frame's sender deferred (a TAP with IFF_VNET_HDR); none for wire frames.
  Verdict on_frame(uint32_t iface, std::span<const uint8_t> frame, Instant now, const Offload& off = {}) noexcept;
  void on_timer(Instant now) noexcept;
  std::optional<Instant> next_deadline() const noexcept;
  /// The adapter's start time: health checks count their warm-up from it. Without this call they
  /// start at the first frame or timer.
  void start(Instant now) noexcept;
  /// The daemon stops: VRRP masters resign (priority 0), so that their backups take over at once.
  void stop(Instant now) noexcept;
  /// MISC_CHECK: who runs the programs (none: a program never ends, its checker times out).
  // --- handover (engine_handover.cpp, docs/handover.md) ---
  /// Everything a replacing process takes over, at `now` (the caller stopped feeding frames).
  handover::State snapshot(Instant now) const;
  /// What adopt() took and what it left.
  struct AdoptReport {
    ipvs::Director::Adopted conns;
    uint32_t neigh = 0, neigh_skipped = 0;  // skipped: an interface this config does not have
    uint32_t checkers = 0, checkers_skipped = 0;
    uint32_t vrrp = 0, vrrp_skipped = 0;
  };
  /// Before start(): the state of the process this one replaces, fitted to this config: entries
  /// whose service, real, interface, checker or instance this config does not have are left out
  /// (and counted). The engine's table must be empty (it is, before start()).
  AdoptReport adopt(const handover::State& s, Instant now);
  void set_script_runner(ScriptRunner* r) noexcept { scripts_ = r; }
  /// A program exited (status 0..255, or -1: killed, or could not start): a MISC_CHECK
  /// checker's, or a vrrp_script's (id with kVrrpScriptId).
  void script_exited(uint32_t id, int status, Instant now) noexcept {
    if (id & kVrrpScriptId) vrrp_.script_exited(id & ~kVrrpScriptId, status, now);
    else health_.script_exited(id, status, now);
  }

  const config::Config& config() const noexcept { return *cfg_; }

  /// [announce] (docs/scale-out.md): drain withdraws every VIP from the BGP daemon while the
  /// director forwards on (vsadm --drain; the grace period of a stop); undrain announces again.
  void set_draining(bool on, Instant now) noexcept;
  bool draining() const noexcept { return draining_; }
  const announce::Announcer& announcer() const noexcept { return announcer_; }
  announce::Announcer& announcer() noexcept { return announcer_; }

  /// Reload: a validated config replaces the running one as one step. Services, reals,
  /// timeouts, routes and interface addresses/MACs/MTUs follow the new file; established
  /// connections stay on their reals (removed reals: the service's drain policy). Interfaces must
  /// keep their names, TAP devices and order (they are open devices), and router.seed,
  /// router.max_connections and router.frag_* need a restart: otherwise nothing changes and the
  /// reason is returned.
  std::optional<std::string> reload(std::shared_ptr<const config::Config> cfg);

  const DropCounters& drops() const noexcept { return drops_; }
  const EngineCounters& counters() const noexcept { return counters_; }
  const IfaceCounters& iface_counters(uint32_t i) const noexcept { return ifc_[i]; }
  const NeighTable& neigh() const noexcept { return neigh_; }
  const NeighTable6& neigh6() const noexcept { return neigh6_; }
  /// An IPv6 address of an interface (engine_ip6.cpp): the link-local one formed from the MAC,
  /// then the configured ones, each with its Duplicate Address Detection state.
  struct Addr6 {
    uint32_t iface = 0;
    Ipv6Prefix prefix;
    // kNew: DAD not started (before start()); kTentative: DAD running until dad_until;
    // kPreferred: ours; kDuplicate: another node has it (never used, RFC 4862 §5.4.5).
    enum class State : uint8_t { kNew, kTentative, kPreferred, kDuplicate } state = State::kNew;
    Instant dad_until;
  };
  const std::vector<Addr6>& addresses6() const noexcept { return addrs6_; }
  const RouteTable6& routes6() const noexcept { return routes6_; }
  const RouteTable& routes() const noexcept { return routes_; }
  const ipvs::Director& director() const noexcept { return director_; }
  ipvs::Director& director() noexcept { return director_; }
  const frag::Reassembler& reassembler() const noexcept { return reasm_; }
  const check::Health& health() const noexcept { return health_; }
  const vrrp::Vrrp& vrrp() const noexcept { return vrrp_; }
  vrrp::Vrrp& vrrp() noexcept { return vrrp_; }
  const sync::SyncDaemon& sync() const noexcept { return sync_; }
  sync::SyncDaemon& sync() noexcept { return sync_; }
  check::Health& health() noexcept { return health_; }

  /// The neighbour table's parameters for a config: `p` with room for every checked address.
  static NeighParams neigh_params(NeighParams p, const config::Config& cfg);

private:
  using ConstIp = wire::Ipv4View<const uint8_t>;

  // check::ProbeNet
  std::optional<Ipv4Addr> source_toward(Ipv4Addr dst) const noexcept override;
  void send_probe(std::span<uint8_t> frame, Instant now) noexcept override;
  void real_changed(uint32_t real, bool in_service) noexcept override;
  void sorry_changed(uint32_t svc, bool active) noexcept override;
  void weight_changed(uint32_t real) noexcept override;
  bool awaiting_reply(IpProto proto, Ipv4Addr client, uint16_t cport, Ipv4Addr vip,
                      uint16_t vport) const noexcept override {
    return director_.awaiting_reply(FlowKey{client, vip, cport, vport, proto});
  }
  void run_script(uint32_t checker) noexcept override {
    if (scripts_)
      scripts_->start(checker, health_.checkers()[checker].cfg.misc_argv, health_.checkers()[checker].cfg.misc_user);
  }
  void stop_script(uint32_t checker) noexcept override {
    if (scripts_) scripts_->stop(checker);
  }

  // vrrp::VrrpNet
  void send_advert(uint32_t iface, std::span<uint8_t> frame, const MacAddr& src_mac, Instant now) noexcept override;
  void send_garp(uint32_t iface, Ipv4Addr addr, const MacAddr& mac, Instant now) noexcept override;
  void ownership_changed(uint32_t instance) noexcept override;
  void run_vrrp_script(uint32_t s) noexcept override {
    const auto& c = vrrp_.scripts()[s].cfg;
    if (scripts_) scripts_->start(kVrrpScriptId | s, c.argv, c.user);
  }
  void stop_vrrp_script(uint32_t s) noexcept override {
    if (scripts_) scripts_->stop(kVrrpScriptId | s);
  }
  /// A VRRP datagram to the group or to us: to vrrp_, its refusal counted.
  Verdict vrrp_input(uint32_t iface, ConstIp ip, Instant now) noexcept;
  // sync::SyncNet
  void send_sync(const sync::DaemonCfg& c, std::span<const uint8_t> msg, Instant now) noexcept override;
  /// A UDP datagram to the backup sync daemon's group and port: to sync_, its refusal counted.
  Verdict sync_input(ConstIp ip, Instant now) noexcept;
  /// track_service: each tracked service's health (a real alive) told to vrrp_; and the
  /// announcer's VIPs (a service on the VIP with a healthy real).
  void track_services(Instant now) noexcept;
  bool service_healthy(uint32_t svc) const noexcept;
  /// A frame to `dst` that is not the interface's MAC: the virtual MAC of an instance it is master of.
  bool owned_vmac(uint32_t iface, const MacAddr& dst) const noexcept;

  Verdict drop(DropReason r) noexcept;
  void transmit(uint32_t iface, std::span<const uint8_t> frame, const Offload* off = nullptr) noexcept;

  Verdict handle_arp(uint32_t iface, std::span<const uint8_t> frame, Instant now) noexcept;

  // IPv6 (engine_ip6.cpp)
  using ConstIp6 = wire::Ipv6View<const uint8_t>;
  Verdict handle_ipv6(uint32_t iface, std::span<const uint8_t> frame, bool l2_unicast, Instant now,
                      int depth = 0) noexcept;
  Verdict deliver_local6(uint32_t iface, ConstIp6 ip, const wire::Ipv6Chain& chain, bool l2_unicast, Instant now,
                         int depth) noexcept;
  /// A tunnelled datagram (`inner`, IPv6 or IPv4) to one of our addresses: handled as received on
  /// `iface` with the outer frame's Ethernet header; one level (a nested one is dropped).
  Verdict decapsulate(uint32_t iface, std::span<const uint8_t> inner, bool inner_v6, const uint8_t* eth_hdr,
                      bool l2_unicast, Instant now, int depth) noexcept;
  /// Where an ICMPv6 error's quoted datagram has its ports: its transport header, from the
  /// quote's start, and its protocol (TCP or UDP).
  struct Quote6 {
    size_t l4_offset = 0;
    IpProto proto{};
  };
  /// A NAT rewrite forward6 applies to its copy (an IPVS reply real -> client: the source
  /// becomes the VIP's address and port; with `icmp`, an ICMPv6 error the real sent about a
  /// request, whose quote is translated too, at l4_offset the ICMPv6 header).
  struct Rewrite6 {
    bool src = true;
    Ipv6Addr addr;
    uint16_t port = 0;
    size_t l4_offset = 0;
    IpProto proto{};
    std::optional<Quote6> icmp;
  };
  Verdict forward6(uint32_t iface, ConstIp6 ip, Instant now, const Rewrite6* rw = nullptr) noexcept;
  /// What forward6 and the IPv6 IPVS transmit share: the datagram copied behind an Ethernet header
  /// of `out_iface` (and `encap` bytes left for a tunnel's outer header, whose family `type`
  /// names), its hop limit one less; then sent with a deferred checksum kept for the TAP (offload
  /// on) or completed.
  std::span<uint8_t> forward_copy6(uint32_t out_iface, ConstIp6 ip, size_t encap = 0,
                                   wire::EtherType type = wire::EtherType::kIpv6) noexcept;
  Verdict send_forwarded6(uint32_t out_iface, const Ipv6Addr& next_hop, std::span<uint8_t> out, const Offload& off,
                          Instant now) noexcept;
  Verdict nd_solicit(uint32_t iface, ConstIp6 ip, std::span<const uint8_t> icmp, Instant now) noexcept;
  Verdict nd_advert(uint32_t iface, ConstIp6 ip, std::span<const uint8_t> icmp, Instant now) noexcept;
  /// A solicitation for `target`: to its solicited-node group, or unicast to `to` (re-confirming);
  /// a DAD probe comes from the unspecified address.
  void send_ns(uint32_t iface, const Ipv6Addr& target, const MacAddr* to, bool dad,
               const Ipv6Addr* prompt = nullptr) noexcept;
  void send_na(uint32_t iface, const Ipv6Addr& dst, const MacAddr& dst_mac, const Ipv6Addr& target,
               uint8_t flags) noexcept;
  /// Send what waited for neighbour `idx` of `table` (ARP's or ND's) to its MAC, and free it.
  template <class Table>
  void flush_neigh_queue(Table& table, uint32_t idx) noexcept {
    const auto& e = table.entry(idx);
    for (uint32_t pkt : table.queue(idx)) {
      auto f = pool_.frame(pkt);
      std::copy(e.mac.b.begin(), e.mac.b.end(), f.begin());  // the Ethernet destination
      transmit(e.iface, f);
      pool_.free(pkt);
    }
    table.clear_queue(idx);
  }
  Verdict output_ip6(uint32_t iface, const Ipv6Addr& next_hop, std::span<uint8_t> frame, Instant now,
                     const Offload* off = nullptr) noexcept;
  void send_icmp6_error(uint8_t type, uint8_t code, uint32_t rest, uint32_t in_iface, ConstIp6 offending,
                        bool l2_unicast, Instant now) noexcept;
  void send_echo_reply6(uint32_t iface, ConstIp6 req, std::span<const uint8_t> icmp, Instant now) noexcept;
  /// A Packet Too Big about a datagram we sent: the path MTU toward its destination (RFC 8201 §4).
  void pmtu6_learn(const Ipv6Addr& dst, uint32_t mtu, Instant now) noexcept;
  /// The MTU for our own datagrams to `dst`: the path's, if learnt and not expired, else the link's.
  uint32_t pmtu6(const Ipv6Addr& dst, uint32_t link_mtu, Instant now) const noexcept;
  /// Sends a datagram the router originates (`out`: Ethernet, an IPv6 header without extension
  /// headers, the payload): whole if it fits `mtu`, else in fragments (RFC 8200 §4.5).
  void output_own6(uint32_t iface, const Ipv6Addr& next_hop, std::span<uint8_t> out, uint32_t mtu,
                   Instant now) noexcept;
  /// The way back to `to`, who sent what came in on `in_iface`.
  std::optional<RouteResult6> route_back6(uint32_t in_iface, const Ipv6Addr& to) const noexcept;
  void send_tcp_reset6(uint32_t iface, ConstIp6 ip, std::span<const uint8_t> seg, bool l2_unicast,
                       Instant now) noexcept;
  void ip6_timer(Instant now) noexcept;
  std::optional<Instant> next_deadline6() const noexcept;
  /// Rebuild addrs6_ from cfg_ (construction and reload), keeping the DAD state of kept addresses.
  void index_addresses6();
  void start_ip6(Instant now) noexcept;
  void start_dad(uint32_t k, Instant now) noexcept;
  void dad_failed(Addr6& a) noexcept;
  const Addr6* addr6_on(uint32_t iface, const Ipv6Addr& a) const noexcept;
  Addr6* addr6_on(uint32_t iface, const Ipv6Addr& a) noexcept;
  /// One of our preferred addresses (a link-local one only on its own interface).
  bool is_local6(uint32_t iface, const Ipv6Addr& a) const noexcept;
  /// A group the interface listens to: all-nodes, all-routers, its addresses' solicited-node groups.
  bool joined6(uint32_t iface, const Ipv6Addr& group) const noexcept;
  /// Our source toward `toward` out of `iface` (RFC 6724 reduced); `on_link`: only the interface's own.
  std::optional<Ipv6Addr> source_for6(uint32_t iface, const Ipv6Addr& toward, bool on_link = false) const noexcept;
  Verdict handle_ipv4(uint32_t iface, std::span<const uint8_t> frame, bool l2_unicast, Instant now,
                      int depth = 0) noexcept;
  Verdict deliver_local(uint32_t iface, ConstIp ip, bool l2_unicast, Instant now) noexcept;
  /// A fragment addressed to us: held for reassembly; the fragment that completes its datagram
  /// hands the whole datagram to handle_ipv4, as an unfragmented one arrives.
  Verdict reassemble(uint32_t iface, std::span<const uint8_t> frame, ConstIp ip, bool l2_unicast, Instant now,
                     int depth) noexcept;

  /// A rewrite applied to a forwarded datagram after it is copied (NAT replies).
  struct Rewrite {
    enum class Kind : uint8_t { kNone, kNatOut, kNatIcmpOut } kind = Kind::kNone;
    Ipv4Addr addr;
    uint16_t port = 0;
  };
  /// Route `ip` toward its destination as a router does: route, TTL, MTU/DF, TTL-1, fragments.
  /// ip_forward's checks before the FORWARD hook (route, TTL, DF against the MTU): the drop
  /// (its ICMP error sent), or nothing and the route.
  struct Refused {
    Verdict verdict;
  };
  std::optional<Refused> forward_checks(ConstIp ip, Instant now, std::optional<RouteResult>* route = nullptr) noexcept;
  Verdict forward(ConstIp ip, Instant now, Rewrite rw) noexcept;
  Verdict forward(ConstIp ip, Instant now) noexcept { return forward(ip, now, Rewrite{}); }
  /// The IPv6 outer header of a TUN packet (ip_vs_tunnel_xmit_v6) and where it goes.
  struct Tunnel6 {
    uint32_t iface;
    Ipv6Addr next_hop, src, dst;
  };
  /// Fragments `ip` (RFC 791) with each fragment's TTL lowered by `ttl_dec`, each fragment at
  /// most `mtu` bytes; sent to `next_hop` on `iface`, or, with `tun`, each in its IPv6 tunnel.
  Verdict fragment_and_send(ConstIp ip, uint32_t iface, Ipv4Addr next_hop, uint32_t mtu, uint8_t ttl_dec, Instant now,
                            const Tunnel6* tun = nullptr) noexcept;
  /// An IPv4 datagram built behind an Ethernet header and 40 bytes for its IPv6 tunnel header in
  /// `out` (TUN to an IPv6 real): what the received frame deferred done here (segments, checksum),
  /// each datagram over `mtu` fragmented (DF was refused before), each sent in its tunnel.
  Verdict send_tunneled6(const Tunnel6& t, std::span<uint8_t> out, uint32_t mtu, Instant now) noexcept;
  /// Writes the tunnel's IPv6 header in `frame` (Ethernet, 40 bytes, the inner datagram) and sends it.
  Verdict output_tunneled6(const Tunnel6& t, std::span<uint8_t> frame, Instant now) noexcept;
  /// Send a forwarded datagram built in `out` (Ethernet header, `encap` bytes of IPIP header, the
  /// datagram) to `next_hop` on rt.iface, carrying what the received frame deferred (rx_off_):
  /// kept deferred when the adapter takes offloads and nothing stands in the way, else done here
  /// (segments, checksums); datagrams over the MTU are fragmented.
  Verdict send_datagram(const RouteResult& rt, Ipv4Addr next_hop, std::span<uint8_t> out, size_t encap,
                        Instant now) noexcept;
  /// The IPv4 length the received datagram `ip` has on the wire: its segments' for a super-frame.
  size_t wire_len(ConstIp ip) const noexcept;

  // IPVS paths (engine_ipvs.cpp). nullopt = not IPVS traffic, the router goes on.
  std::optional<Verdict> ipvs_ingress(uint32_t iface, std::span<const uint8_t> frame, ConstIp ip,
                                      const PacketSummary& pkt, bool l2_unicast, Instant now, int depth) noexcept;
  std::optional<Verdict> ipvs_icmp(ConstIp ip, Instant now) noexcept;
  void ipvs_count_own_icmp(uint8_t type, ConstIp about, size_t icmp_len) noexcept;
  /// Transmit a client->real packet (or an ICMP error about the connection) by the conn's method.
  Verdict ipvs_xmit(uint32_t conn, ConstIp ip, bool icmp_error, Instant now) noexcept;
  Verdict ipvs_out(uint32_t conn, ConstIp ip, uint8_t tcp_flags, Instant now) noexcept;
  /// The IPv6 side (engine_ipvs6.cpp): TCP/UDP of IPv6 services, after the extension headers.
  std::optional<Verdict> ipvs_ingress6(uint32_t iface, ConstIp6 ip, const wire::Ipv6Chain& chain, bool l2_unicast,
                                       Instant now) noexcept;
  /// `icmp`: an ICMPv6 error client -> VIP about the connection (ip_vs_icmp_xmit_v6): no error
  /// is sent about it, and NAT translates its quote.
  Verdict ipvs_xmit6(uint32_t conn, uint32_t iface, ConstIp6 ip, const wire::Ipv6Chain& chain, Instant now,
                     const Quote6* icmp = nullptr) noexcept;
  /// ICMPv6 errors about a connection (ip_vs_in_icmp_v6, ip_vs_out_icmp_v6). nullopt: not one.
  std::optional<Verdict> ipvs_icmp6(uint32_t iface, ConstIp6 ip, const wire::Ipv6Chain& chain, Instant now) noexcept;
  /// An ICMPv6 error we send about a connection's datagram counts in its outgoing stats where the
  /// kernel's LOCAL_OUT hook counts it (ip_vs_out_icmp_v6, as ipvs_count_own_icmp).
  void ipvs_count_own_icmp6(ConstIp6 about, size_t ip_len) noexcept;

  /// TUN across the families (the kernel allows a real of the other family only behind a
  /// tunnel): an IPv4 datagram to an IPv6 real, an IPv6 one to an IPv4 real.
  Verdict ipvs_xmit_4in6(uint32_t conn, ConstIp ip, Instant now) noexcept;
  Verdict ipvs_xmit_6in4(uint32_t conn, uint32_t iface, ConstIp6 ip, bool icmp_error, Instant now) noexcept;
  /// The checks every IPVS transmit makes first (__ip_vs_get_out_rt{,_v6}): a route to the real
  /// (`routed`), then the TTL or hop limit; the error sent and the drop, or nullopt to go on.
  std::optional<Verdict> xmit_refused(ConstIp ip, bool routed, Instant now) noexcept;
  std::optional<Verdict> xmit6_refused(uint32_t iface, ConstIp6 ip, bool routed, Instant now) noexcept;
  /// Completes what the received frame deferred (a TCP/UDP checksum) in `out`, whose datagram sits
  /// `encap` bytes further than it arrived (behind a tunnel's outer header).
  void complete_deferred(std::span<uint8_t> out, size_t encap, const Offload& off) noexcept;
  Verdict ipvs_out6(uint32_t conn, uint32_t iface, ConstIp6 ip, const wire::Ipv6Chain& chain, uint8_t tcp_flags,
                    Instant now) noexcept;
  void passive_watch(uint32_t conn, Instant now) noexcept;

  /// Send an Ethernet frame holding IPv4 (Ethernet header present, dst MAC to be filled) to a
  /// next hop: straight away if its MAC is known, else queued behind an ARP request.
  Verdict output_ip(uint32_t iface, Ipv4Addr next_hop, std::span<uint8_t> frame, Instant now,
                    const Offload* off = nullptr) noexcept;
  /// Broadcast, or unicast to `to` (re-confirming an entry we have).
  void send_arp_request(uint32_t iface, Ipv4Addr target, const MacAddr* to = nullptr) noexcept;

  /// ICMP error about `offending` (RFC 1812 §4.3.2.7 rules applied here). `src` overrides the
  /// source address (used when the offending packet was addressed to us).
  void send_icmp_error(uint8_t type, uint8_t code, uint32_t rest, ConstIp offending, bool l2_unicast,
                       std::optional<Ipv4Addr> src, Instant now) noexcept;
  void send_echo_reply(ConstIp req, Instant now) noexcept;
  /// RST in answer to a TCP segment to one of our addresses that nothing takes (tcp_v4_send_reset).
  void send_tcp_reset(ConstIp seg, bool l2_unicast, Instant now) noexcept;
  /// The global bucket (icmp_global_allow): refilled to `now`; true if it holds a token, which
  /// icmp_take() then spends.
  bool icmp_token(Instant now) noexcept;
  void icmp_take() noexcept;

  // Address classes, answered from indexes of the config (index_addresses) in O(1).
  // kAddrVirtual: an address of a VRRP instance; kAddrOwned: ... whose instance is master now
  // (ownership_changed); an owned virtual address that is no service VIP is also kAddrRouter.
  enum AddrKind : uint8_t { kAddrRouter = 1, kAddrDirectedBroadcast = 2, kAddrVirtual = 4, kAddrOwned = 8 };
  uint8_t addr_kind(Ipv4Addr a) const noexcept {
    const uint8_t* k = addr_kind_.find(a.v);
    return k ? *k : 0;
  }
  bool is_local(Ipv4Addr a) const noexcept {  // a router address or a VIP
    return (addr_kind(a) & kAddrRouter) || director_.is_vip(a);
  }
  bool is_router_address(Ipv4Addr a) const noexcept { return addr_kind(a) & kAddrRouter; }  // an interface address
  bool owns_on_iface(uint32_t iface, Ipv4Addr a) const noexcept;
  /// 255.255.255.255 or the directed broadcast of an interface's subnet (prefixes up to /30).
  bool is_broadcast(Ipv4Addr a) const noexcept { return a.is_broadcast() || (addr_kind(a) & kAddrDirectedBroadcast); }
  /// Rebuild addr_kind_ and iface_addr_ from cfg_ (construction and reload).
  void index_addresses();
  Ipv4Addr source_for(uint32_t iface, Ipv4Addr toward) const noexcept;
  uint16_t next_ip_id() noexcept { return ip_id_++; }

  std::shared_ptr<const config::Config> cfg_;
  TxSink& tx_;
  EngineParams params_;
  RouteTable routes_;
  NeighTable neigh_;
  RouteTable6 routes6_;
  NeighTable6 neigh6_;
  std::vector<Addr6> addrs6_;
  bool ip6_started_ = false;
  std::array<uint8_t, 14 + 40 + 32> nd_buf_{};  // one NS or NA
  check::Health health_;                        // before director_: the director is built from what health decided
  ScriptRunner* scripts_ = nullptr;
  ipvs::Director director_;
  PacketPool pool_;
  // Pre-allocated frame buffers, one per role, so that no two live frames share one: a packet
  // being forwarded (scratch_) may need an ICMP error quoting it (icmp_buf_), an ARP request for
  // its next hop (arp_buf_), or to be cut into fragments (frag_scratch_) or segments (seg_buf_,
  // then maybe fragments); a decapsulated IPIP packet (decap_buf_) is then forwarded through
  // scratch_; a reassembled datagram (reasm_buf_) goes the way of a received one. scratch_,
  // decap_buf_ and reasm_buf_ hold 64 KiB (a super-frame, offload.hpp; a reassembled datagram);
  // the others one MTU. An IPIP datagram reassembled in reasm_buf_ is decapsulated into
  // decap_buf_ before its inner datagram, itself maybe a fragment, can reuse reasm_buf_.
  std::vector<uint8_t> scratch_;
  std::vector<uint8_t> icmp_buf_;
  std::array<uint8_t, 14 + 28> arp_buf_{};
  std::vector<uint8_t> frag_scratch_;
  std::vector<uint8_t> decap_buf_;
  std::vector<uint8_t> seg_buf_;    // one segment of a super-frame cut in software
  std::vector<uint8_t> reasm_buf_;  // a reassembled datagram (after kHeadroom + kEth)
  frag::Reassembler reasm_;
  uint32_t frag_max_size_ = 0;            // while a reassembled datagram is handled: its largest fragment
  Offload rx_off_{};                      // of the frame on_frame is handling
  std::vector<uint32_t> due_;             // reused by on_timer
  FlatMap<uint32_t, uint8_t> addr_kind_;  // AddrKind bits of every interface address and directed broadcast
  FlatMap<uint64_t, bool> iface_addr_;    // (interface << 32 | address) of every interface address, and of
                                          // every VRRP address that is no VIP (true while owned)

  DropCounters drops_;
  EngineCounters counters_;
  std::vector<IfaceCounters> ifc_;

  uint16_t ip_id_ = 0;
  // Path MTUs learnt from Packet Too Big about datagrams the router sent itself (RFC 8201): only
  // its echo replies can be larger than a path. Direct-mapped by destination, bounded; an entry
  // lives 10 minutes (Linux's ip6_rt_mtu_expires), then the link's MTU is tried again.
  struct Pmtu6 {
    Ipv6Addr dst;
    uint32_t mtu = 0;  // 0: empty
    Instant expires;
  };
  std::array<Pmtu6, 64> pmtu6_{};
  uint32_t frag6_id_ = 0;  // the Identification of the router's own IPv6 fragments
  // ICMP error token bucket, as credit in microseconds (integers: replay stays exact).
  int64_t icmp_credit_us_ = 0;
  Instant icmp_last_{};
  bool icmp_started_ = false;
  IcmpPeerLimiter icmp_peers_;    // per destination (inet_peer_xrlim_allow)
  IcmpPeerLimiter6 icmp_peers6_;  // per IPv6 destination (icmpv6_xrlim_allow)
  vrrp::Vrrp vrrp_;
  announce::Announcer announcer_;
  bool draining_ = false;
  std::vector<std::vector<MacAddr>> owned_vmacs_;  // per interface: the VMACs of instances in MASTER
  sync::SyncDaemon sync_;
  std::vector<uint8_t> sync_buf_;  // one sync message's frame
  Instant now_{};                  // the latest time the engine was given
};

}  // namespace vs

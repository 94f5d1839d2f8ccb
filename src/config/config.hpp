// The validated, immutable configuration model and its TOML loader.
// The schema is a contract (docs/config.md); the loader rejects anything it does not know.
// Depends on base/ only (scheduler and flag names: config/sched_names.hpp; the address rules
// shared with vsadm: config/rules.hpp); no I/O besides reading the file in load_config().
//
// Real and ServiceSettings are the one definition of what a real server and a virtual service
// are set to, whoever sets them (a config file, vsadm, a reload): the director's runtime types
// (ipvs::Dest, ipvs::Service) extend them with state.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/addr.hpp"
#include "base/proto.hpp"
#include "base/result.hpp"
#include "base/time.hpp"
#include "check/dns.hpp"
#include "check/http.hpp"
#include "check/udp_match.hpp"

namespace vs::config {

/// A value of an enumeration and its name in the config file: each enumeration the schema spells
/// as a string has one table, which the loader reads and the listings print from.
template <class E>
struct Named {
  std::string_view name;
  E value;
};

/// The name of `v` in `table`, or "?".
template <class E, size_t N>
constexpr std::string_view name_of(const std::array<Named<E>, N>& table, E v) noexcept {
  for (const Named<E>& n : table)
    if (n.value == v) return n.name;
  return "?";
}

enum class Method : uint8_t { kNat, kDr, kTun };

/// What happens to the connections of a real server removed from its service.
enum class Drain : uint8_t {
  kDrop,        // their packets are dropped until they expire (IPVS default, expire_nodest_conn=0)
  kReschedule,  // the connection is expired and a packet that may open one is scheduled afresh
};

inline constexpr std::array<Named<Method>, 3> kMethods = {
    {{"nat", Method::kNat}, {"dr", Method::kDr}, {"tun", Method::kTun}}};
inline constexpr std::array<Named<Drain>, 2> kDrains = {{{"drop", Drain::kDrop}, {"reschedule", Drain::kReschedule}}};
/// The protocols a service may have.
inline constexpr std::array<Named<IpProto>, 2> kServiceProtocols = {{{"tcp", IpProto::kTcp}, {"udp", IpProto::kUdp}}};

constexpr std::string_view method_name(Method m) noexcept { return name_of(kMethods, m); }

struct Router {
  uint64_t seed = 1;
  uint32_t max_connections = 1048576;
  // IPv4 reassembly of fragments addressed to the router or a VIP (src/frag/; the kernel's
  // ipfrag_* sysctls). frag_queues = 0 turns it off (such fragments are dropped).
  uint32_t frag_queues = 1024;                // datagrams reassembled at once
  uint32_t frag_memory = 4194304;             // bytes of fragments held, all sources (ipfrag_high_thresh)
  uint32_t frag_memory_per_source = 1048576;  // bytes of fragments held from one source address
  uint32_t frag_timeout = 30;                 // seconds from a datagram's first fragment (ipfrag_time)
};

/// When a defence of the connection table is on (IPVS's sysctl values 0, 1 and 3).
enum class DefenseMode : uint8_t {
  kOff,
  kAuto,  // while the table holds at least `high_water` percent of max_connections
  kAlways,
};

inline constexpr std::array<Named<DefenseMode>, 3> kDefenseModes = {
    {{"off", DefenseMode::kOff}, {"auto", DefenseMode::kAuto}, {"always", DefenseMode::kAlways}}};

constexpr std::string_view defense_mode_name(DefenseMode m) noexcept { return name_of(kDefenseModes, m); }

/// [defense]: how the director keeps serving real clients when its table fills up (a SYN flood).
/// See docs/hardening.md. Established connections are never evicted or shortened.
struct Defense {
  /// A new connection that finds the table full evicts the least recently active half-open TCP
  /// connection (SYN_RECV/SYNACK) instead of being refused (IPVS drop_entry).
  bool drop_entry = true;
  /// Half-open TCP connections idle for `syn_timeout` seconds are expired (IPVS secure_tcp's aim).
  DefenseMode secure_tcp = DefenseMode::kAuto;
  uint32_t high_water = 90;  // percent of router.max_connections at which "auto" engages
  uint32_t syn_timeout = 5;  // seconds
};

struct Interface {
  std::string name;  // used by pcaps, captures, stats
  std::string tap;   // TAP device for `vsrouter run`; defaults to name
  MacAddr mac;
  std::vector<Ipv4Prefix> addresses;  // host address + connected prefix length
  // IPv6 addresses (the same `addresses` list, entries with ':'). An interface with one has IPv6:
  // it also forms its link-local address from its MAC (base/addr.hpp link_local_from); an
  // interface without takes no IPv6 (docs/ipv6.md).
  std::vector<Ipv6Prefix> addresses6;
  uint32_t mtu = 1500;  // IP MTU

  bool ipv6() const noexcept { return !addresses6.empty(); }
};

struct Route {
  Ipv4Prefix to;       // network (host bits zero)
  Ipv4Addr via;        // next hop, on a connected subnet
  uint32_t interface;  // index into Config::interfaces, found from the connected subnets
};

/// An IPv6 static route ([[routes]] whose `to` has ':').
struct Route6 {
  Ipv6Prefix to;       // network (host bits zero)
  Ipv6Addr via;        // next hop: on a connected subnet, or link-local with `interface`
  uint32_t interface;  // index into Config::interfaces
};

/// [ipvs]: the kernel's net.ipv4.vs.* switches that change which packets IPVS takes.
struct Ipvs {
  /// sloppy_tcp: a TCP segment without SYN (but not a RST) may open a connection (a director
  /// taking over flows it never saw start). Off, as in the kernel.
  bool sloppy_tcp = false;
  /// sloppy_sctp: accepted for the kernel's vocabulary; no effect (vsrouter has no SCTP).
  bool sloppy_sctp = false;
  /// vsrouter's own: the mh scheduler fills its table from the reals sorted by address and port,
  /// not in the list's order (newest first, which depends on the history of adds, health
  /// changes and reloads), so that directors with the same reals build the same table
  /// (docs/scale-out.md). Off: the kernel's order.
  bool mh_sorted = false;
  friend bool operator==(const Ipvs&, const Ipvs&) = default;
};

/// ipvsadm --set tcp tcpfin udp, in seconds.
struct Timeouts {
  uint32_t tcp = 900;
  uint32_t tcpfin = 120;
  uint32_t udp = 300;
};

/// A real server's settings: a [[services.reals]] table, or `ipvsadm -a/-e`.
struct Real {
  IpAddr addr;
  uint16_t port = 0;
  Method method = Method::kDr;  // ipvsadm's default is -g (gatewaying = DR)
  int32_t weight = 1;           // 0..2147483647
  uint32_t upper = 0;           // ipvsadm -x, 0 = no limit
  uint32_t lower = 0;           // ipvsadm -y

  friend bool operator==(const Real&, const Real&) = default;
};

/// Health checkers (src/check/, docs/health-checks.md): keepalived's checker types, by keepalived's
/// own names.
enum class CheckType : uint8_t { kTcp, kHttp, kSsl, kUdp, kPing, kDns, kMisc };

inline constexpr std::array<Named<CheckType>, 7> kCheckTypes = {{{"TCP_CHECK", CheckType::kTcp},
                                                                 {"HTTP_GET", CheckType::kHttp},
                                                                 {"SSL_GET", CheckType::kSsl},
                                                                 {"UDP_CHECK", CheckType::kUdp},
                                                                 {"PING_CHECK", CheckType::kPing},
                                                                 {"DNS_CHECK", CheckType::kDns},
                                                                 {"MISC_CHECK", CheckType::kMisc}}};

constexpr std::string_view check_type_name(CheckType t) noexcept { return name_of(kCheckTypes, t); }

/// One `url` of an HTTP_GET or SSL_GET checker (keepalived's url block).
struct HttpUrl {
  std::string path;
  check::StatusSet status;                 // status_code (default 200-299)
  std::optional<check::Md5Digest> digest;  // the body's MD5 (keepalived's genhash)
  friend bool operator==(const HttpUrl&, const HttpUrl&) = default;
};

/// A byte pattern parsed once from the config (UDP_CHECK's payload, require_reply), shared by the
/// copies of the config a reload makes (it is 3 KiB); equal when the patterns are.
struct SharedPattern {
  std::shared_ptr<const check::ReplyPattern> p;
  explicit operator bool() const noexcept { return p != nullptr; }
  friend bool operator==(const SharedPattern& a, const SharedPattern& b) noexcept {
    return a.p == b.p || (a.p && b.p && *a.p == *b.p);
  }
};

/// One checker of a real server ([[services.reals.checks]]), with every timing resolved: the
/// service's value is the default of its reals', a real's the default of its checkers' (as
/// keepalived's virtual_server / real_server / checker levels).
struct Check {
  CheckType type = CheckType::kTcp;
  Ipv4Addr connect_ip;                              // where probes go: the real's address unless connect_ip
  uint16_t connect_port = 0;                        // the real's port unless connect_port (TCP, HTTP, SSL, UDP, DNS)
  Ipv4Addr bindto;                                  // probes' source: 0.0.0.0 = the interface address toward connect_ip
  Duration delay_loop = Duration::seconds(60);      // between checks (keepalived: KEEPALIVED_DEFAULT_DELAY)
  Duration connect_timeout = Duration::seconds(5);  // a probe's deadline
  Duration delay_before_retry = Duration::seconds(1);  // after a failure while not yet down
  Duration warmup = Duration::seconds(60);             // the first check: at a random moment in [0, warmup]
  uint32_t rise = 1;   // consecutive successes that bring a down checker up (keepalived: 1)
  uint32_t fall = 2;   // consecutive failures that take an up checker down (keepalived: retry + 1)
  bool alpha = false;  // starts down: the real joins after the checker's first successes
  // HTTP_GET, SSL_GET
  std::vector<HttpUrl> urls;
  std::string virtualhost;  // the Host header; empty: the checked address and port
  check::HttpProtocol http_protocol = check::HttpProtocol::k10;
  // UDP_CHECK
  SharedPattern payload;        // empty: keepalived's default 32 bytes
  bool require_reply = false;   // a timeout fails (else only an ICMP error does)
  SharedPattern reply_pattern;  // require_reply's hex string, if it had one
  uint16_t min_reply_length = check::kUdpMinReplyDefault;
  uint16_t max_reply_length = check::kUdpMaxReplyDefault;
  // MISC_CHECK: the program and its arguments (run without a shell), its deadline, and whether
  // its exit code sets the weight (keepalived: 2..255 -> weight code - 2)
  std::vector<std::string> misc_argv;
  Duration misc_timeout{};
  bool misc_dynamic = false;
  std::string misc_user;  // run as this user (empty: the daemon's)
  // DNS_CHECK (keepalived's `type` and `name` in a DNS_CHECK block)
  check::DnsType dns_type = check::kDnsDefaultType;
  std::string dns_name;
  friend bool operator==(const Check&, const Check&) = default;
};

/// A real server's settings with its checkers: a [[services.reals]] table.
struct ConfiguredReal : Real {
  std::vector<Check> checks;
  /// A failed real gets weight 0 (kept in the list, quiesced) instead of leaving its service.
  bool inhibit_on_failure = false;
  /// keepalived's notify_up/notify_down: programs (words, run without a shell) the daemon runs
  /// when the real becomes alive or fails.
  std::vector<std::string> notify_up, notify_down;
  friend bool operator==(const ConfiguredReal&, const ConfiguredReal&) = default;
};

/// A virtual service's settings: a [[services]] table without its reals, or `ipvsadm -A/-E`.
struct ServiceSettings {
  IpProto protocol = IpProto::kTcp;  // kTcp or kUdp
  IpAddr vip;
  uint16_t port = 0;  // 0 = all ports (needs persistence)
  std::string scheduler = "wlc";
  uint32_t persistence = 0;  // seconds; 0 = off
  Ipv4Addr netmask = Ipv4Addr::broadcast();
  uint8_t prefix6 = 128;       // an IPv6 service's persistence prefix length (ipvsadm -M 1..128)
  unsigned flags = 0;          // SchedFlag bits (config/sched_names.hpp)
  Drain drain = Drain::kDrop;  // "drop" | "reschedule"
  uint32_t interface = 0;      // the interface answering ARP for the VIP: the first
                               // (file order) whose connected subnet holds it
};

/// A [[services]] table: the settings and the reals, in file order.
struct Service : ServiceSettings {
  std::vector<ConfiguredReal> reals;
  // keepalived's quorum (ipwrapper.c update_quorum_state): the alive reals' weights must sum to
  // `quorum` (+ hysteresis to regain it, - hysteresis to lose it); below it the sorry server,
  // if any, takes the service's traffic instead of them.
  uint32_t quorum = 1;
  uint32_t hysteresis = 0;
  std::optional<ConfiguredReal> sorry_server;
  bool sorry_server_inhibit = false;                // the sorry server stays listed, weight 0 while not needed
  std::vector<std::string> quorum_up, quorum_down;  // programs run when the quorum is regained / lost
  /// vsrouter's passive check (NAT, TCP): a real that answers a client's SYN with a RST, or does
  /// not answer it within passive_timeout, counts a failed check at once, without waiting for
  /// the next probe.
  bool passive_check = false;
  Duration passive_timeout = Duration::seconds(3);
  /// keepalived's omega: at the daemon's shutdown, the alive reals' notify_down and the
  /// service's quorum_down run (ipwrapper.c clear_service_rs, update_vs_notifies).
  bool omega = false;
};

/// A [[vrrp_instances]] table: keepalived's vrrp_instance (docs/vrrp.md), RFC 3768 (version 2)
/// and RFC 5798 (version 3) for IPv4.
struct VrrpTrack {
  std::string name;    // track_interface: an interface; track_service: "tcp 10.0.0.100:80"
  uint32_t index = 0;  // interface index; for a service, its index into Config::services
  // 0: down means FAULT; > 0: added to the priority while up; < 0: added while down (-253..253)
  int32_t weight = 0;
  bool reverse = false;  // keepalived's `weight W reverse`: up and down swap roles (0: FAULT while up)
  friend bool operator==(const VrrpTrack&, const VrrpTrack&) = default;
};
/// A [[vrrp_scripts]] table: keepalived's vrrp_script, a program run every `interval` whose exit
/// status (0: success) tracks an instance through its track_script (docs/vrrp.md, "Scripts").
struct VrrpScript {
  std::string name;
  std::vector<std::string> argv;  // script, split into words, run without a shell
  std::string user;               // run as this user (empty: the daemon's)
  Duration interval = Duration::seconds(1);
  Duration timeout{};  // 0: the interval (keepalived: a run is killed after this)
  int32_t weight = 0;  // track_script's default weight and reverse
  bool reverse = false;
  uint32_t rise = 1, fall = 1;  // consecutive successes to go up, failures to go down
  bool init_fail = false;       // down until its first success (else: unknown until its first run)
  friend bool operator==(const VrrpScript&, const VrrpScript&) = default;
};
struct VrrpInstance {
  std::string name;
  bool initial_master = false;   // state = "MASTER" (keepalived's default: BACKUP)
  uint32_t interface = 0;        // index into Config::interfaces
  uint8_t vrid = 0;              // virtual_router_id 1..255
  uint8_t priority = 100;        // 1..255 (255: the address owner)
  uint8_t version = 2;           // 2 or 3
  uint32_t advert_int_cs = 100;  // advert_int in centiseconds (version 2: whole seconds)
  bool preempt = true;           // !nopreempt
  Duration preempt_delay{};
  std::vector<Ipv4Addr> addresses;      // virtual_ipaddress, in file order (the adverts list them)
  Ipv4Addr unicast_src;                 // unspecified: the interface's first address
  std::vector<Ipv4Addr> unicast_peers;  // empty: multicast to 224.0.0.18
  std::string auth_pass;                // version 2, auth_type PASS: up to 8 bytes; empty: none
  bool use_vmac = false;                // 00:00:5e:00:01:VRID as the source MAC and ARP answer
  Duration garp_master_delay = Duration::seconds(5);
  uint32_t garp_master_repeat = 5;
  // As master, after an advert of a lower priority (a split brain healing): gratuitous ARPs now
  // and again after the delay (keepalived's garp_lower_prio_*; 0 repeats: none).
  Duration garp_lower_prio_delay = Duration::seconds(5);
  uint32_t garp_lower_prio_repeat = 5;
  // A master yielding to a higher priority first sends one advert of its own, so that the other
  // master hears a lower priority and sends its gratuitous ARPs (keepalived's option, which is off
  // there by default; on here: see docs/vrrp.md, "Split brain").
  bool higher_prio_send_advert = true;
  bool v3_checksum_as_v2 = false;  // send version 3's checksum without the pseudo-header
  std::vector<VrrpTrack> track_interfaces, track_services;
  std::vector<VrrpTrack> track_scripts;  // index: into Config::vrrp_scripts
  std::vector<std::string> notify_master, notify_backup, notify_fault, notify_stop;
  friend bool operator==(const VrrpInstance&, const VrrpInstance&) = default;
};
struct VrrpSyncGroup {
  std::string name;
  std::vector<uint32_t> members;  // indexes into Config::vrrp_instances
  std::vector<std::string> notify_master, notify_backup, notify_fault, notify_stop;
  friend bool operator==(const VrrpSyncGroup&, const VrrpSyncGroup&) = default;
};

/// [sync]: the IPVS connection sync daemon (docs/sync.md; net/netfilter/ipvs/ip_vs_sync.c,
/// ipvsadm --start-daemon, keepalived's lvs_sync_daemon).
struct Sync {
  enum class Role : uint8_t { kNone, kFollow, kMaster, kBackup, kBoth };
  Role role = Role::kNone;                                // kNone: no [sync] table (vsadm --start-daemon may start one)
  uint32_t interface = 0;                                 // --mcast-interface
  uint32_t vrrp_instance = 0;                             // kFollow: master while this instance is MASTER, else backup
  uint8_t syncid = 0;                                     // --syncid (0: a backup takes any)
  Ipv4Addr group = Ipv4Addr::from_octets(224, 0, 0, 81);  // --mcast-group
  uint16_t port = 8848;                                   // --mcast-port
  uint8_t ttl = 1;                                        // --mcast-ttl
  uint32_t maxlen = 0;                                    // --sync-maxlen; 0: the interface's MTU less 28
  uint32_t threshold = 3, period = 50;                    // sync_threshold
  Duration refresh_period{};                              // sync_refresh_period
  uint32_t retries = 0;                                   // sync_retries
  bool persist_mode = false;                              // sync_persist_mode
  bool resync_before_expiry = true;                       // vsrouter's: see ipvs::SyncRules
  Duration flush = Duration::millis(100);                 // a message waits at most this long (the kernel: 2 s)
  std::vector<Ipv4Addr> peers;                            // a backup takes messages only from these (empty: any)
  friend bool operator==(const Sync&, const Sync&) = default;
};

/// [announce]: the VIPs this director's BGP daemon announces (docs/scale-out.md).
struct Announce {
  bool enabled = false;                        // the table is present
  std::string file;                            // rewritten with one BIRD static route per VIP announced
  Ipv4Addr next_hop;                           // the routes' `via` (the director's address the routers reach);
                                               // unspecified: `blackhole` (the BGP daemon's host forwards)
  std::vector<std::string> command;            // run (no shell) after each rewrite, e.g. birdc configure
  Duration stop_delay = Duration::seconds(1);  // a stop withdraws, forwards this long, then exits
  friend bool operator==(const Announce&, const Announce&) = default;
};

struct Config {
  Router router;
  std::vector<Interface> interfaces;
  std::vector<Route> routes;
  std::vector<Route6> routes6;
  Timeouts timeouts;
  Defense defense;
  Ipvs ipvs;
  std::vector<Service> services;
  std::vector<VrrpScript> vrrp_scripts;
  std::vector<VrrpInstance> vrrp_instances;
  std::vector<VrrpSyncGroup> vrrp_sync_groups;
  Sync sync;
  Announce announce;
};

/// Parse and validate TOML text. Errors carry line and column; Error::format(file) adds the file.
Result<std::shared_ptr<const Config>> parse_config(std::string_view toml_text);

/// Read and validate a file. An unreadable file is an error without a position.
Result<std::shared_ptr<const Config>> load_config(const std::string& path);

}  // namespace vs::config

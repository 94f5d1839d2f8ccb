// Health checks: keepalived's checkers run by the engine (docs/health-checks.md).
//
// Each [[services.reals.checks]] table is one checker. A checker probes its real every
// delay_loop from the director's own address: the probes are frames the engine sends and the
// answers frames it receives, on the engine's clock, so a replay makes the same decisions at the
// same times. A checker goes down after `fall` failed probes in a row (keepalived: retry + 1, a
// failure retried after delay_before_retry) and up after `rise` successes in a row; a real is
// alive while all its checkers are up (keepalived's num_failed_checkers). The engine applies a
// real's changes to the director as keepalived applies them to IPVS: a failed real leaves its
// service (or gets weight 0 with inhibit_on_failure) and comes back when it recovers.
//
// Sans-I/O like the engine: Health never reads a clock, a socket or a random source (its PRNG is
// seeded from router.seed). Memory is fixed at construction: one state per checker, the timer
// heap and the probe index sized for them; nothing grows per probe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/addr.hpp"
#include "base/flat_map.hpp"
#include "base/rng.hpp"
#include "base/time.hpp"
#include "base/timer_wheel.hpp"
#include "check/http.hpp"
#include "check/tls.hpp"
#include "config/config.hpp"
#include "wire/ipv4.hpp"

namespace vs::check {

/// Why a probe failed (or kOk). The metrics label and the log say it by name (reason_name).
enum class Reason : uint8_t {
  kOk,
  kTimeout,         // no (complete) answer within connect_timeout
  kRefused,         // the real answered the SYN with a RST (nothing listens)
  kUnreachable,     // ICMP destination unreachable about the probe
  kNoNeighbour,     // the real's address did not answer ARP
  kNoRoute,         // no route to the checker's address
  kBadResponse,     // HTTP: no data, no header end, a bad status line, too long; UDP: a reply that
                    // does not match require_reply
  kStatus,          // HTTP: a status code outside status_code
  kDigest,          // HTTP: the body's MD5 differs from digest
  kRcode,           // DNS: an answer with RCODE != 0
  kTls,             // SSL_GET: the TLS handshake failed
  kScript,          // MISC_CHECK: the program exited 1 (or, without misc_dynamic, 2..255) or was killed
  kPassive,         // passive_check: the real answered a client's SYN with a RST (NAT)
  kPassiveTimeout,  // passive_check: the real did not answer a client's SYN within passive_timeout
  kCount
};
std::string_view reason_name(Reason r) noexcept;

/// What the engine does for Health: the source address toward a destination, sending, and
/// applying a real's change to the director.
class ProbeNet {
public:
  virtual ~ProbeNet() = default;
  /// reals()[real] enters or leaves its service (alive or failed; or its service's quorum
  /// moved it aside for the sorry server): apply it to the director.
  virtual void real_changed(uint32_t real, bool in_service) noexcept = 0;
  /// services()[svc]'s sorry server takes over (quorum lost) or steps aside.
  virtual void sorry_changed(uint32_t svc, bool active) noexcept = 0;
  /// reals()[real]'s weight changed (MISC_CHECK with misc_dynamic): apply it if it serves.
  virtual void weight_changed(uint32_t real) noexcept = 0;
  /// MISC_CHECK: run checkers()[checker]'s program (the adapter does; its exit comes back through
  /// Health::script_exited), or stop it (its deadline passed).
  virtual void run_script(uint32_t checker) noexcept = 0;
  virtual void stop_script(uint32_t checker) noexcept = 0;
  /// The address probes to `dst` leave from (the interface address toward it); nullopt: no route.
  virtual std::optional<Ipv4Addr> source_toward(Ipv4Addr dst) const noexcept = 0;
  /// Route and send an IPv4 datagram built at `frame` after an Ethernet header's room.
  virtual void send_probe(std::span<uint8_t> frame, Instant now) noexcept = 0;
  /// passive_check: the connection client -> vip that Health watches (Health::passive_watch)
  /// still waits for its real's first packet, its client still in SYN_RECV.
  virtual bool awaiting_reply(IpProto proto, Ipv4Addr client, uint16_t cport, Ipv4Addr vip,
                              uint16_t vport) const noexcept = 0;
};

/// A change Health made (the adapters log it; the engine applies real changes to the director).
struct Event {
  enum class Kind : uint8_t { kCheckerDown, kCheckerUp, kRealDown, kRealUp, kQuorumLost, kQuorumGained };
  Instant at;
  Kind kind = Kind::kCheckerDown;
  uint32_t checker = 0;  // index into checkers() (for real events: the checker that decided)
  uint32_t real = 0;     // index into reals()
  uint32_t svc = 0;      // index into services()
  Reason reason = Reason::kOk;
  uint32_t run = 0;  // checker events: the successes or failures in a row that decided
};

/// One real server of a service with checkers (or a sorry server), as the config names it.
struct RealHealth {
  IpProto protocol = IpProto::kTcp;
  Ipv4Addr vip;
  uint16_t vport = 0;
  config::ConfiguredReal real;
  uint32_t svc = 0;                            // index into services()
  uint32_t first_checker = 0, n_checkers = 0;  // none: always alive (it counts toward the quorum)
  uint32_t failed = 0;                         // checkers down (keepalived's num_failed_checkers)
  bool in_service = true;  // as applied to the director: alive, and not set aside for the sorry server
  int32_t weight = 0;      // the weight it serves with: the config's, or a MISC_CHECK's dynamic one
  // passive_check: the one new connection to this real being watched for an answer, if any.
  bool watching = false;
  Ipv4Addr watch_client{};
  uint16_t watch_cport = 0;
  uint32_t watch_gen = 0;  // its timer's generation
  bool alive() const noexcept { return failed == 0; }
};

/// A service whose reals have checkers, or that has a sorry server: its quorum state.
struct ServiceHealth {
  IpProto protocol = IpProto::kTcp;
  Ipv4Addr vip;
  uint16_t port = 0;
  uint32_t quorum = 1, hysteresis = 0;
  bool passive = false;  // passive_check
  std::optional<config::ConfiguredReal> sorry;
  bool sorry_inhibit = false;
  std::vector<std::string> quorum_up_cmd, quorum_down_cmd;  // keepalived's quorum_up, quorum_down
  uint32_t first_real = 0, n_reals = 0;                     // into reals()
  int64_t weight_sum = 0;                                   // of the alive reals
  bool quorum_up = true;
  Duration passive_timeout{};  // passive_check: how long a new connection may wait for the real
  bool omega = false;          // keepalived's omega: the daemon runs the down scripts at shutdown
  bool sorry_active() const noexcept { return sorry && !quorum_up; }
};

/// The byte stream of an HTTP_GET or SSL_GET probe: kept per checker and reused probe after
/// probe (its buffers are sized once).
struct ProbeStream {
  explicit ProbeStream(size_t cap) : http(cap) { out.reserve(16384); }
  HttpResponse http;               // the response parser
  std::unique_ptr<TlsClient> tls;  // SSL_GET
  std::vector<uint8_t> out;        // bytes from snd_una on: sent and unacknowledged, then unsent
  uint32_t snd_una = 0, snd_nxt = 0;
  bool request_sent = false;
};

/// One checker's state. Public for the listing and the metrics.
struct Checker {
  config::Check cfg;
  uint32_t real = 0;  // index into reals()
  bool up = true;
  bool succeeded_once = false;  // "for non alpha mode, one failure is enough initially" (keepalived)
  uint32_t ok_run = 0, fail_run = 0;
  Reason last_reason = Reason::kOk;
  Duration last_duration{};
  uint64_t transitions = 0;
  uint64_t probes = 0;
  std::array<uint64_t, static_cast<size_t>(Reason::kCount)> failures{};
  Instant next_check{};  // when idle: the next probe's start
  bool adopted = false;  // its state came with a handover (start() keeps its next_check)

  // The probe in flight (phase kIdle: none).
  enum class Phase : uint8_t { kIdle, kSynSent, kEstablished, kEchoSent, kUdpSent, kScript };
  Phase phase = Phase::kIdle;
  Ipv4Addr src;
  uint16_t lport = 0;  // TCP source port, or the ICMP echo identifier
  uint32_t snd_isn = 0, rcv_nxt = 0;
  uint16_t echo_seq = 0;
  uint16_t dns_id = 0;
  uint32_t url = 0;                     // HTTP: the url this probe checks (a failed one is retried, keepalived)
  std::shared_ptr<ProbeStream> stream;  // HTTP_GET, SSL_GET
  int32_t dynamic_weight = -1;          // MISC_CHECK with misc_dynamic: the last exit code - 2
  Instant started{}, deadline{}, resend_at{};
  Duration rto{};
  uint32_t timer_gen = 0;  // the heap entry that is current
};

class Health {
public:
  /// `seed`: router.seed (probe ports, sequence numbers and warm-up delays follow from it).
  /// `tls_seed`: OpenSSL's random bytes for SSL_GET (check/tls.hpp); nullopt: from `seed`.
  Health(const config::Config& cfg, uint64_t seed, ProbeNet& net, std::optional<TlsSeed> tls_seed = std::nullopt);

  /// The config with what health decided applied: failed reals left out (or at weight 0 with
  /// inhibit_on_failure). What the director is built from, at start and on reload.
  std::shared_ptr<config::Config> effective(const config::Config& cfg) const;

  /// Reload: checkers that are the same (same service, real and settings) keep their state and
  /// any probe in flight; the others start afresh.
  void reload(const config::Config& cfg);

  /// Starts the clock (the first checks are scheduled from `now`); later calls do nothing. The
  /// adapters call it at start; on_timer and on_packet call it too.
  void start(Instant now) noexcept;
  /// Handover (docs/handover.md), before start(): checker `c` takes the state it had in the
  /// process this one replaces (its next probe at `next_check`); then settle_adopted() applies
  /// what the checkers say to their reals and services, quietly (no events: nothing changed).
  void adopt(uint32_t c, bool up, bool succeeded_once, uint32_t ok_run, uint32_t fail_run, uint64_t transitions,
             uint64_t probes, Instant next_check) noexcept;
  void settle_adopted() noexcept { settle_quietly(); }
  std::optional<Instant> next_deadline() const noexcept;
  void on_timer(Instant now) noexcept;
  /// A datagram to one of the router's addresses: true if it belongs to a probe (consumed).
  /// `csum_deferred`: its transport checksum was left to us by a local sender (offload.hpp) and
  /// is trusted, as the kernel trusts CHECKSUM_PARTIAL.
  bool on_packet(wire::Ipv4View<const uint8_t> ip, Instant now, bool csum_deferred = false) noexcept;
  /// MISC_CHECK: checkers()[checker]'s program exited with `status` (0..255), or -1 (killed by
  /// a signal, or it could not start). Ignored unless that checker's program is running.
  void script_exited(uint32_t checker, int status, Instant now) noexcept;
  /// passive_check (NAT): a real answered a client's SYN on a connection of the service with a
  /// RST. Counts as a failed check of each of its idle checkers.
  void passive_failure(IpProto proto, Ipv4Addr vip, uint16_t vport, Ipv4Addr real, uint16_t port, Instant now) noexcept;
  /// passive_check (NAT): the director scheduled a new connection client -> vip to a real. True
  /// when Health watches it (one connection per real at a time): the engine marks it, and if it
  /// still awaits the real's answer passive_timeout later (ProbeNet::awaiting_reply), that counts
  /// as a failed check, as passive_failure.
  bool passive_watch(IpProto proto, Ipv4Addr vip, uint16_t vport, Ipv4Addr real, uint16_t port, Ipv4Addr client,
                     uint16_t cport, Instant now) noexcept;
  /// Whether any service has passive_check (the engine asks before passive_watch).
  bool passive_any() const noexcept { return !passive_index_.empty(); }
  /// A datagram Health sent could not be delivered: its next hop did not answer ARP.
  void on_unresolved(wire::Ipv4View<const uint8_t> ip, Instant now) noexcept;

  /// Events since the last call, oldest first; `lost` counts those the ring had to drop.
  template <class F>
  void drain_events(F&& f) {
    while (ev_count_ > 0) {
      f(events_[ev_head_]);
      ev_head_ = (ev_head_ + 1) % events_.size();
      --ev_count_;
    }
  }
  uint64_t events_lost() const noexcept { return events_lost_; }

  const std::vector<Checker>& checkers() const noexcept { return checkers_; }
  const std::vector<RealHealth>& reals() const noexcept { return reals_; }
  const std::vector<ServiceHealth>& services() const noexcept { return services_; }
  /// "TCP_CHECK 10.0.0.2:80 (tcp 192.0.2.80:80)": a checker as logs and listings name it.
  std::string describe(uint32_t checker) const;
  /// One line for the log and the replay's trace: "TCP_CHECK 10.0.0.2:80 of real 10.0.0.2:80 (tcp
  /// 192.0.2.80:80): down (refused, 2 failures in a row)", "real 10.0.0.2:80 ...: removed".
  std::string event_text(const Event& e) const;
  /// Probes started and in flight now.
  uint64_t probes_sent() const noexcept { return probes_sent_; }
  uint32_t in_flight() const noexcept { return static_cast<uint32_t>(by_port_.size() + by_echo_.size()); }

private:
  void build(const config::Config& cfg);
  void schedule(uint32_t c, Instant at) noexcept;
  /// The first check's delay: random in [0, warmup] (keepalived's warmup).
  Duration warmup_delay(const Checker& k) noexcept;
  void begin_probe(uint32_t c, Instant now) noexcept;
  void finish_probe(uint32_t c, bool ok, Reason why, Instant now) noexcept;
  /// A check's result (a probe's, or a passive failure): runs, rise/fall, the next check.
  void verdict(uint32_t c, bool ok, Reason why, Instant now) noexcept;
  void release_probe(Checker& k) noexcept;
  /// reals()[real] of a passive_check service by its identity, or nullopt (binary search).
  std::optional<uint32_t> passive_real(IpProto proto, Ipv4Addr vip, uint16_t vport, Ipv4Addr real,
                                       uint16_t port) const noexcept;
  /// A passive failure of reals()[real]: each of its idle, up checkers counts a failed check.
  void passive_verdict(uint32_t real, Reason why, Instant now) noexcept;
  /// A watch's timer: the watched connection still unanswered is a passive failure.
  void watch_due(uint32_t real, Instant at) noexcept;
  void push_event(Event::Kind kind, uint32_t checker, Reason why, Instant now) noexcept;
  void push_service_event(Event::Kind kind, uint32_t svc, Instant now) noexcept;
  /// Into the event ring (bounded: when full, the oldest is dropped and counted in events_lost).
  void record(const Event& e) noexcept;
  /// After a real of services_[svc] became alive or failed: its quorum, then which reals (and
  /// whether the sorry server) serve, applied through net_ unless `quiet` (build, reload).
  void update_service(uint32_t svc, Instant now, bool quiet) noexcept;
  void settle_quietly() noexcept;
  void send_tcp(Checker& k, uint8_t flags, uint32_t seq, uint32_t ack, Instant now,
                std::span<const uint8_t> data = {}) noexcept;
  /// HTTP/SSL: bytes to send (false: the send buffer is full); push() sends what is unsent, in
  /// segments of at most an MSS (false: nothing was).
  bool queue(Checker& k, std::span<const uint8_t> data) noexcept;
  bool push(Checker& k, Instant now) noexcept;
  /// The HTTP request (in TLS for SSL_GET) into the stream; false if it does not fit.
  bool write_request(Checker& k) noexcept;
  /// What OpenSSL wants sent, into the stream; false if it does not fit.
  bool flush_tls(Checker& k) noexcept;
  /// The IPv4 header of `frame` (Ethernet room, then the datagram k.src -> connect_ip), and send.
  void send_ip(const Checker& k, std::span<uint8_t> frame, IpProto proto, uint16_t id, Instant now) noexcept;
  void send_echo(Checker& k, Instant now) noexcept;
  void send_udp(Checker& k, Instant now) noexcept;
  void udp_datagram(uint32_t c, wire::Ipv4View<const uint8_t> ip, Instant now) noexcept;
  void http_data(uint32_t c, wire::Ipv4View<const uint8_t> ip, Instant now) noexcept;
  /// HTTP: the verdict on what arrived; finishes the probe.
  void http_judge(uint32_t c, Instant now) noexcept;
  void tcp_segment(uint32_t c, wire::Ipv4View<const uint8_t> ip, Instant now) noexcept;
  bool icmp_message(wire::Ipv4View<const uint8_t> ip, Instant now, bool csum_deferred) noexcept;
  /// The checker whose probe `quoted` (a datagram we sent) is, if any.
  std::optional<uint32_t> probe_of(wire::Ipv4View<const uint8_t> quoted) const noexcept;
  uint16_t alloc_port() noexcept;

  ProbeNet& net_;
  std::vector<RealHealth> reals_;
  std::vector<ServiceHealth> services_;
  std::vector<Checker> checkers_;
  // Timers (base/timer_wheel.hpp): id is the checker, gen its timer_gen; an entry is current while
  // the two agree (a reschedule leaves the old entry to be skipped). A passive watch's timer has
  // kWatchTimer | real index instead, and the real's watch_gen.
  using Timer = TimerWheel::Timer;
  static constexpr uint32_t kWatchTimer = 1u << 31;
  void push_timer(const Timer& t) noexcept;
  struct PassiveKey {
    uint64_t hi, lo;  // vip << 32 | real; proto << 32 | vport << 16 | port
    friend auto operator<=>(const PassiveKey&, const PassiveKey&) = default;
  };
  static PassiveKey passive_key(IpProto proto, Ipv4Addr vip, uint16_t vport, Ipv4Addr real, uint16_t port) noexcept;
  std::vector<std::pair<PassiveKey, uint32_t>> passive_index_;  // sorted: the reals of passive_check services
  TimerWheel timers_;
  FlatMap<uint32_t, uint32_t> by_port_;  // TCP source port -> checker, for probes in flight
  FlatMap<uint32_t, uint32_t> by_echo_;  // ICMP echo identifier -> checker
  std::vector<Event> events_;
  size_t ev_head_ = 0, ev_count_ = 0;
  uint64_t events_lost_ = 0;
  std::vector<uint8_t> buf_;  // one probe frame
  Rng rng_;
  uint16_t next_port_ = 0;
  uint16_t ip_id_ = 0;
  uint64_t probes_sent_ = 0;
  bool started_ = false;
  Instant last_now_{};  // the latest time seen (a reload's fresh checkers start from it)
};

}  // namespace vs::check

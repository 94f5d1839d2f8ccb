#include "check/health.hpp"

#include <algorithm>
#include <cstring>

#include "check/dns.hpp"
#include "check/udp_match.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace vs::check {

using wire::Icmpv4View;
using wire::Ipv4View;
using wire::TcpView;
using wire::UdpView;
namespace tcp_flag = vs::tcp_flag;

namespace {

constexpr size_t kEth = wire::EthernetView<uint8_t>::kHeaderLen;
constexpr size_t kIp = 20;
constexpr size_t kTcpSyn = 24;  // header with the MSS option
constexpr uint8_t kTtl = 64;
// Probe source ports: Linux's default ip_local_port_range.
constexpr uint16_t kPortLo = 32768, kPortHi = 60999;
constexpr size_t kEventRing = 4096;
constexpr Duration kFirstRto = Duration::seconds(1);  // TCP_TIMEOUT_INIT (RFC 6298 §2.1)
constexpr uint16_t kMss = 1460;
constexpr size_t kEchoData = 16;
constexpr size_t kProbeMax = 1514;  // the largest probe: an HTTP request or UDP payload in one frame
// Bytes of one HTTP response read at most (header and body): a real that sends more fails.
constexpr size_t kHttpCap = size_t{1} << 20;
// Bytes a probe may have sent and not yet had acknowledged (a request, a TLS handshake flight).
constexpr size_t kStreamOut = 16384;

bool seq_after_eq(uint32_t a, uint32_t b) noexcept { return static_cast<int32_t>(a - b) >= 0; }

}  // namespace

std::string_view reason_name(Reason r) noexcept {
  switch (r) {
    case Reason::kOk: return "ok";
    case Reason::kTimeout: return "timeout";
    case Reason::kRefused: return "refused";
    case Reason::kUnreachable: return "unreachable";
    case Reason::kNoNeighbour: return "no_neighbour";
    case Reason::kNoRoute: return "no_route";
    case Reason::kBadResponse: return "bad_response";
    case Reason::kStatus: return "status";
    case Reason::kDigest: return "digest";
    case Reason::kRcode: return "rcode";
    case Reason::kTls: return "tls";
    case Reason::kScript: return "script";
    case Reason::kPassive: return "passive";
    case Reason::kPassiveTimeout: return "passive_timeout";
    case Reason::kCount: break;
  }
  return "?";
}

Health::Health(const config::Config& cfg, uint64_t seed, ProbeNet& net, std::optional<TlsSeed> tls_seed)
    : net_(net), rng_(seed ^ 0x6865616c7468ull) {
  buf_.resize(kProbeMax);
  events_.resize(kEventRing);
  build(cfg);
  const bool tls = std::any_of(checkers_.begin(), checkers_.end(),
                               [](const Checker& k) { return k.cfg.type == config::CheckType::kSsl; });
  if (tls) {
    if (!tls_seed) {
      Rng r(seed ^ 0x746c73ull);
      tls_seed.emplace();
      for (auto& b : *tls_seed) b = static_cast<uint8_t>(r.next_u32());
    }
    set_tls_seed(*tls_seed);
  }
}

void Health::build(const config::Config& cfg) {
  reals_.clear();
  checkers_.clear();
  services_.clear();
  for (const auto& s : cfg.services) {
    const bool checked = std::any_of(s.reals.begin(), s.reals.end(), [](const auto& r) { return !r.checks.empty(); });
    if (!checked && !s.sorry_server && !s.omega) continue;
    const auto svc = static_cast<uint32_t>(services_.size());
    services_.push_back(ServiceHealth{s.protocol, s.vip.v4(), s.port, s.quorum, s.hysteresis, s.passive_check,
                                      s.sorry_server, s.sorry_server_inhibit, s.quorum_up, s.quorum_down,
                                      static_cast<uint32_t>(reals_.size()), static_cast<uint32_t>(s.reals.size()), 0,
                                      true});
    services_.back().passive_timeout = s.passive_timeout;
    services_.back().omega = s.omega;
    for (const auto& r : s.reals) {
      RealHealth rh{s.protocol,
                    s.vip.v4(),
                    s.port,
                    r,
                    svc,
                    static_cast<uint32_t>(checkers_.size()),
                    static_cast<uint32_t>(r.checks.size()),
                    0,
                    true};
      for (const auto& c : r.checks) {
        Checker k;
        k.cfg = c;
        k.real = static_cast<uint32_t>(reals_.size());
        k.up = !c.alpha;
        if (!k.up) rh.failed++;
        if (c.type == config::CheckType::kHttp || c.type == config::CheckType::kSsl) {
          k.stream = std::make_shared<ProbeStream>(kHttpCap);
          if (c.type == config::CheckType::kSsl) k.stream->tls = std::make_unique<TlsClient>();
        }
        checkers_.push_back(k);
      }
      rh.weight = r.weight;
      reals_.push_back(std::move(rh));
    }
  }
  passive_index_.clear();
  for (uint32_t i = 0; i < reals_.size(); ++i) {
    const RealHealth& rh = reals_[i];
    if (services_[rh.svc].passive && rh.real.method == config::Method::kNat)
      passive_index_.emplace_back(passive_key(rh.protocol, rh.vip, rh.vport, rh.real.addr.v4(), rh.real.port), i);
  }
  std::sort(passive_index_.begin(), passive_index_.end());
  settle_quietly();
  timers_.reset(checkers_.size() * 4 + reals_.size() + 16);
  by_port_.reset(checkers_.size() * 2 + 16);
  by_echo_.reset(checkers_.size() * 2 + 16);
}

std::shared_ptr<config::Config> Health::effective(const config::Config& cfg) const {
  auto out = std::make_shared<config::Config>(cfg);
  for (auto& s : out->services) {
    auto sh = std::find_if(services_.begin(), services_.end(), [&](const ServiceHealth& h) {
      return h.protocol == s.protocol && h.vip == s.vip && h.port == s.port;
    });
    if (sh == services_.end()) continue;
    std::vector<config::ConfiguredReal> keep;
    for (uint32_t i = sh->first_real; i < sh->first_real + sh->n_reals; ++i) {
      const RealHealth& rh = reals_[i];
      if (rh.in_service) keep.push_back(rh.real), keep.back().weight = rh.weight;
      else if (rh.real.inhibit_on_failure) keep.push_back(rh.real), keep.back().weight = 0;
    }
    // keepalived adds the sorry server when the quorum is lost (or keeps it at weight 0 with
    // sorry_server_inhibit).
    if (sh->sorry && (sh->sorry_active() || sh->sorry_inhibit)) {
      keep.push_back(*sh->sorry);
      if (!sh->sorry_active()) keep.back().weight = 0;
    }
    s.reals = std::move(keep);
  }
  return out;
}

void Health::reload(const config::Config& cfg) {
  std::vector<RealHealth> old_reals = std::move(reals_);
  std::vector<Checker> old = std::move(checkers_);
  build(cfg);
  // Old checkers by (service, real, settings): a match keeps its state, probe in flight included.
  std::vector<bool> taken(old.size(), false), kept(checkers_.size(), false);
  for (uint32_t i = 0; i < checkers_.size(); ++i) {
    Checker& k = checkers_[i];
    RealHealth& rh = reals_[k.real];
    for (uint32_t j = 0; j < old.size(); ++j) {
      if (taken[j]) continue;
      const RealHealth& orh = old_reals[old[j].real];
      if (orh.protocol != rh.protocol || orh.vip != rh.vip || orh.vport != rh.vport || orh.real.addr != rh.real.addr ||
          orh.real.port != rh.real.port || !(old[j].cfg == k.cfg))
        continue;
      taken[j] = true;
      kept[i] = true;
      const bool was_up = k.up;
      const uint32_t real = k.real;
      k = old[j];
      k.real = real;
      if (was_up != k.up) rh.failed += k.up ? -1u : 1u;
      break;
    }
  }
  for (const Checker& k : checkers_)
    if (k.dynamic_weight >= 0) reals_[k.real].weight = k.dynamic_weight;
  settle_quietly();
  // The probe index and the timers follow the checkers' new positions; the others are fresh.
  for (uint32_t i = 0; i < checkers_.size(); ++i) {
    Checker& k = checkers_[i];
    if (k.phase == Checker::Phase::kEchoSent) by_echo_.insert(k.lport, i);
    else if (k.phase != Checker::Phase::kIdle && k.phase != Checker::Phase::kScript) by_port_.insert(k.lport, i);
    if (!started_) continue;
    if (!kept[i]) k.next_check = last_now_ + warmup_delay(k);  // as at the daemon's start
    if (k.phase != Checker::Phase::kIdle) schedule(i, std::min(k.deadline, k.resend_at));
    else schedule(i, k.next_check);
  }
}

Duration Health::warmup_delay(const Checker& k) noexcept {
  const int64_t w = k.cfg.warmup.us;
  return Duration::micros(w > 0 ? static_cast<int64_t>(rng_.next_u64() % static_cast<uint64_t>(w + 1)) : 0);
}

void Health::start(Instant now) noexcept {
  last_now_ = std::max(last_now_, now);
  if (started_) return;
  started_ = true;
  for (uint32_t i = 0; i < checkers_.size(); ++i) {
    Checker& k = checkers_[i];
    if (!k.adopted) k.next_check = now + warmup_delay(k);
    schedule(i, k.next_check);
  }
}

void Health::adopt(uint32_t c, bool up, bool succeeded_once, uint32_t ok_run, uint32_t fail_run, uint64_t transitions,
                   uint64_t probes, Instant next_check) noexcept {
  if (started_ || c >= checkers_.size()) return;
  Checker& k = checkers_[c];
  if (k.up != up) reals_[k.real].failed += up ? -1u : 1u;
  k.up = up;
  k.succeeded_once = succeeded_once;
  k.ok_run = ok_run;
  k.fail_run = fail_run;
  k.transitions = transitions;
  k.probes = probes;
  k.next_check = next_check;
  k.adopted = true;
}

void Health::schedule(uint32_t c, Instant at) noexcept {
  Checker& k = checkers_[c];
  ++k.timer_gen;
  push_timer({at.us, c, k.timer_gen});
}

void Health::push_timer(const Timer& t) noexcept { timers_.push(t); }

std::optional<Instant> Health::next_deadline() const noexcept {
  if (!started_) return checkers_.empty() ? std::nullopt : std::optional<Instant>(Instant{});
  // Stale entries at the top only make the engine wake early once (on_timer pops them).
  if (auto at = timers_.earliest()) return Instant::from_micros(*at);
  return std::nullopt;
}

void Health::on_timer(Instant now) noexcept {
  start(now);
  while (!timers_.empty() && timers_.top().at <= now.us) {
    const Timer t = timers_.top();
    timers_.pop();
    if (t.id & kWatchTimer) {
      const uint32_t real = t.id & ~kWatchTimer;
      if (real < reals_.size() && t.gen == reals_[real].watch_gen) watch_due(real, Instant::from_micros(t.at));
      continue;
    }
    Checker& k = checkers_[t.id];
    if (t.gen != k.timer_gen) continue;  // rescheduled since
    // Decisions follow the time each timer was due, not the (later) moment a live adapter got to
    // fire it: a capture of a live run then replays to the same probes, deadlines and verdicts.
    const Instant at = Instant::from_micros(t.at);
    if (k.phase == Checker::Phase::kIdle) {
      begin_probe(t.id, at);
      continue;
    }
    if (at >= k.deadline) {
      if (k.phase == Checker::Phase::kScript) net_.stop_script(t.id);  // SIGTERM, then SIGKILL
      // UDP_CHECK without require_reply: silence is success, only an ICMP error fails (keepalived).
      const bool silence_ok = k.cfg.type == config::CheckType::kUdp && !k.cfg.require_reply;
      finish_probe(t.id, silence_ok, silence_ok ? Reason::kOk : Reason::kTimeout, at);
      continue;
    }
    // Retransmission (the SYN, or the request), with the RTO doubled as TCP does.
    if (k.phase == Checker::Phase::kSynSent) {
      send_tcp(k, tcp_flag::kSyn, k.snd_isn, 0, at);
      k.rto = k.rto * 2;
      k.resend_at = at + k.rto;
    } else if (k.phase == Checker::Phase::kEstablished && k.stream->snd_una != k.stream->snd_nxt) {
      k.stream->snd_nxt = k.stream->snd_una;  // what is not acknowledged, again
      push(k, at);
      k.rto = k.rto * 2;
      k.resend_at = at + k.rto;
    } else {
      k.resend_at = k.deadline;
    }
    schedule(t.id, std::min(k.deadline, k.resend_at));
  }
}

uint16_t Health::alloc_port() noexcept {
  constexpr uint32_t kSpan = kPortHi - kPortLo + 1;
  if (next_port_ == 0) next_port_ = static_cast<uint16_t>(kPortLo + rng_.next_u32() % kSpan);
  for (uint32_t tries = 0; tries < kSpan; ++tries) {
    uint16_t p = next_port_;
    next_port_ = next_port_ >= kPortHi ? kPortLo : static_cast<uint16_t>(next_port_ + 1);
    if (!by_port_.contains(p) && !by_echo_.contains(p)) return p;
  }
  return 0;
}

void Health::begin_probe(uint32_t c, Instant now) noexcept {
  Checker& k = checkers_[c];
  k.started = now;
  k.deadline = now + k.cfg.connect_timeout;
  k.rto = kFirstRto;
  k.resend_at = now + k.rto;
  auto src = k.cfg.type == config::CheckType::kMisc ? std::optional(Ipv4Addr{})
             : k.cfg.bindto.is_unspecified()        ? net_.source_toward(k.cfg.connect_ip)
                                                    : std::optional(k.cfg.bindto);
  if (!src) {
    finish_probe(c, false, Reason::kNoRoute, now);
    return;
  }
  k.src = *src;
  if (k.cfg.type == config::CheckType::kMisc) {  // a program the adapter runs; no frames
    k.probes++;
    probes_sent_++;
    k.phase = Checker::Phase::kScript;
    k.resend_at = k.deadline;
    schedule(c, k.deadline);
    net_.run_script(c);
    return;
  }
  const uint16_t id = alloc_port();
  if (id == 0) {  // every port busy: cannot happen with fewer checkers than ports; try later
    schedule(c, now + k.cfg.delay_before_retry);
    return;
  }
  k.lport = id;
  k.probes++;
  probes_sent_++;
  switch (k.cfg.type) {
    case config::CheckType::kPing:
      k.phase = Checker::Phase::kEchoSent;
      k.echo_seq++;
      by_echo_.insert(id, c);
      k.resend_at = k.deadline;
      send_echo(k, now);
      break;
    case config::CheckType::kUdp:
    case config::CheckType::kDns:
      k.phase = Checker::Phase::kUdpSent;
      k.dns_id = static_cast<uint16_t>(rng_.next_u32());
      by_port_.insert(id, c);
      k.resend_at = k.deadline;  // one datagram, as keepalived sends
      send_udp(k, now);
      break;
    default:
      k.phase = Checker::Phase::kSynSent;
      k.snd_isn = rng_.next_u32();
      if (k.stream) {
        k.stream->http.reset();
        k.stream->out.clear();
        k.stream->request_sent = false;
      }
      by_port_.insert(id, c);
      send_tcp(k, tcp_flag::kSyn, k.snd_isn, 0, now);
      break;
  }
  // finish_probe may already have run (a synchronous failure): schedule only a live probe.
  if (k.phase != Checker::Phase::kIdle) schedule(c, std::min(k.deadline, k.resend_at));
}

void Health::release_probe(Checker& k) noexcept {
  if (k.phase == Checker::Phase::kEchoSent) by_echo_.erase(k.lport);
  else if (k.phase != Checker::Phase::kIdle && k.phase != Checker::Phase::kScript) by_port_.erase(k.lport);
  k.phase = Checker::Phase::kIdle;
}

void Health::finish_probe(uint32_t c, bool ok, Reason why, Instant now) noexcept {
  Checker& k = checkers_[c];
  release_probe(k);
  k.last_duration = now - k.started;
  verdict(c, ok, why, now);
}

Health::PassiveKey Health::passive_key(IpProto proto, Ipv4Addr vip, uint16_t vport, Ipv4Addr real,
                                       uint16_t port) noexcept {
  return {uint64_t{vip.v} << 32 | real.v, uint64_t{static_cast<uint8_t>(proto)} << 32 | uint64_t{vport} << 16 | port};
}

std::optional<uint32_t> Health::passive_real(IpProto proto, Ipv4Addr vip, uint16_t vport, Ipv4Addr real,
                                             uint16_t port) const noexcept {
  const PassiveKey key = passive_key(proto, vip, vport, real, port);
  auto it = std::lower_bound(passive_index_.begin(), passive_index_.end(), key,
                             [](const std::pair<PassiveKey, uint32_t>& e, const PassiveKey& k) { return e.first < k; });
  if (it == passive_index_.end() || it->first != key) return std::nullopt;
  return it->second;
}

void Health::passive_failure(IpProto proto, Ipv4Addr vip, uint16_t vport, Ipv4Addr real, uint16_t port,
                             Instant now) noexcept {
  if (auto r = passive_real(proto, vip, vport, real, port)) passive_verdict(*r, Reason::kPassive, now);
}

bool Health::passive_watch(IpProto proto, Ipv4Addr vip, uint16_t vport, Ipv4Addr real, uint16_t port, Ipv4Addr client,
                           uint16_t cport, Instant now) noexcept {
  auto r = passive_real(proto, vip, vport, real, port);
  if (!r) return false;
  RealHealth& rh = reals_[*r];
  if (rh.watching) return false;  // one connection per real at a time: a sample, bounded
  rh.watching = true;
  rh.watch_client = client;
  rh.watch_cport = cport;
  ++rh.watch_gen;
  push_timer({(now + services_[rh.svc].passive_timeout).us, kWatchTimer | *r, rh.watch_gen});
  return true;
}

void Health::watch_due(uint32_t real, Instant at) noexcept {
  RealHealth& rh = reals_[real];
  rh.watching = false;
  if (net_.awaiting_reply(rh.protocol, rh.watch_client, rh.watch_cport, rh.vip, rh.vport))
    passive_verdict(real, Reason::kPassiveTimeout, at);
}

void Health::passive_verdict(uint32_t real, Reason why, Instant now) noexcept {
  const RealHealth& rh = reals_[real];
  // Each idle, up checker of the real counts it as a failed check (a probe in flight decides
  // for itself); the next probe comes after delay_before_retry, as after any failure.
  for (uint32_t c = rh.first_checker; c < rh.first_checker + rh.n_checkers; ++c)
    if (checkers_[c].up && checkers_[c].phase == Checker::Phase::kIdle) {
      checkers_[c].last_duration = {};
      verdict(c, false, why, now);
    }
}

void Health::verdict(uint32_t c, bool ok, Reason why, Instant now) noexcept {
  Checker& k = checkers_[c];
  k.last_reason = why;
  RealHealth& rh = reals_[k.real];
  Instant next = now + k.cfg.delay_loop;
  if (ok) {
    k.fail_run = 0;
    k.ok_run++;
    k.succeeded_once = true;
    // HTTP: the next url; a down checker comes up only when every url passed (keepalived).
    if (!k.cfg.urls.empty()) k.url = (k.url + 1) % static_cast<uint32_t>(k.cfg.urls.size());
    const uint32_t rise = std::max<uint32_t>(k.cfg.rise, static_cast<uint32_t>(k.cfg.urls.size()));
    if (!k.up && k.ok_run >= rise) {
      k.up = true;
      k.transitions++;
      push_event(Event::Kind::kCheckerUp, c, why, now);
      if (--rh.failed == 0) {
        push_event(Event::Kind::kRealUp, c, why, now);
        update_service(rh.svc, now, false);
      }
    }
  } else {
    k.ok_run = 0;
    k.fail_run++;
    k.failures[static_cast<size_t>(why)]++;
    // keepalived: a checker that never succeeded goes down on its first failure (non-alpha mode).
    const uint32_t fall = k.succeeded_once ? k.cfg.fall : 1;
    if (k.up && k.fail_run >= fall) {
      k.up = false;
      k.transitions++;
      push_event(Event::Kind::kCheckerDown, c, why, now);
      if (rh.failed++ == 0) {
        push_event(Event::Kind::kRealDown, c, why, now);
        update_service(rh.svc, now, false);
      }
    } else if (k.up) {
      next = now + k.cfg.delay_before_retry;  // up, failing: retried sooner (keepalived's retry)
    }
  }
  k.next_check = next;
  schedule(c, next);
}

void Health::settle_quietly() noexcept {
  for (uint32_t s = 0; s < services_.size(); ++s) update_service(s, Instant{}, true);
}

void Health::update_service(uint32_t svc, Instant now, bool quiet) noexcept {
  ServiceHealth& sh = services_[svc];
  int64_t sum = 0;
  for (uint32_t i = sh.first_real; i < sh.first_real + sh.n_reals; ++i)
    if (reals_[i].alive()) sum += reals_[i].weight;
  sh.weight_sum = sum;
  // ipwrapper.c update_quorum_state: lost below quorum - hysteresis (or at 0), regained at
  // quorum + hysteresis; in between it stays as it was (the flap damper).
  const int64_t q = sh.quorum, h = sh.hysteresis;
  bool up = sh.quorum_up;
  if (quiet) up = sum >= q && sum > 0;
  else if (up && (sum < q - h || sum == 0)) up = false;
  else if (!up && sum >= q + h && sum > 0) up = true;
  const bool was_sorry = sh.sorry_active();
  if (up != sh.quorum_up) {
    sh.quorum_up = up;
    if (!quiet) push_service_event(up ? Event::Kind::kQuorumGained : Event::Kind::kQuorumLost, svc, now);
  }
  // The sorry server comes in before the reals leave, and leaves after they are back.
  if (!quiet && sh.sorry_active() && !was_sorry) net_.sorry_changed(svc, true);
  for (uint32_t i = sh.first_real; i < sh.first_real + sh.n_reals; ++i) {
    RealHealth& rh = reals_[i];
    const bool want = rh.alive() && !sh.sorry_active();
    if (want == rh.in_service) continue;
    rh.in_service = want;
    if (!quiet) net_.real_changed(i, want);
  }
  if (!quiet && was_sorry && !sh.sorry_active()) net_.sorry_changed(svc, false);
}

void Health::record(const Event& e) noexcept {
  if (ev_count_ == events_.size()) {  // full: the oldest goes, counted
    ev_head_ = (ev_head_ + 1) % events_.size();
    --ev_count_;
    events_lost_++;
  }
  events_[(ev_head_ + ev_count_) % events_.size()] = e;
  ++ev_count_;
}

void Health::push_service_event(Event::Kind kind, uint32_t svc, Instant now) noexcept {
  Event e{};
  e.at = now;
  e.kind = kind;
  e.svc = svc;
  e.real = services_[svc].first_real;
  record(e);
}

void Health::push_event(Event::Kind kind, uint32_t checker, Reason why, Instant now) noexcept {
  const Checker& k = checkers_[checker];
  record(Event{now, kind, checker, k.real, reals_[k.real].svc, why, k.up ? k.ok_run : k.fail_run});
}

void Health::send_tcp(Checker& k, uint8_t flags, uint32_t seq, uint32_t ack, Instant now,
                      std::span<const uint8_t> data) noexcept {
  const bool syn = flags & tcp_flag::kSyn;
  const size_t hdr = syn ? kTcpSyn : TcpView<uint8_t>::kMinHeaderLen;
  const size_t tcp_len = hdr + data.size();
  const size_t ip_len = kIp + tcp_len;
  std::span<uint8_t> out(buf_.data(), kEth + ip_len);
  std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(kEth + kIp + hdr), uint8_t{0});
  std::span<uint8_t> tcp = out.subspan(kEth + kIp);
  if (!data.empty()) std::memcpy(tcp.data() + hdr, data.data(), data.size());
  wire::store16(tcp, 0, k.lport);
  wire::store16(tcp, 2, k.cfg.connect_port);
  wire::store32(tcp, 4, seq);
  wire::store32(tcp, 8, ack);
  tcp[12] = static_cast<uint8_t>((hdr / 4) << 4);
  tcp[13] = flags;
  wire::store16(tcp, 14, flags & tcp_flag::kRst ? 0 : 64240);  // Linux's initial window
  if (syn) {
    tcp[20] = 2;  // MSS (RFC 9293 §3.2)
    tcp[21] = 4;
    wire::store16(tcp, 22, kMss);
  }
  TcpView<uint8_t>::unchecked(tcp).fill_checksum(k.src, k.cfg.connect_ip);
  // The identification of an atomic datagram (DF, as Linux's TCP) is 0 (ip_select_ident_segs,
  // RFC 6864).
  send_ip(k, out, IpProto::kTcp, 0, now);
}

void Health::send_ip(const Checker& k, std::span<uint8_t> frame, IpProto proto, uint16_t id, Instant now) noexcept {
  // DF: a probe is small, and Linux sets it on what it sends with PMTU discovery on.
  Ipv4View<uint8_t>::unchecked(frame.subspan(kEth))
      .fill(0, static_cast<uint16_t>(frame.size() - kEth), id, Ipv4View<uint8_t>::kFlagDf, kTtl, proto, k.src,
            k.cfg.connect_ip);
  net_.send_probe(frame, now);
}

bool Health::queue(Checker& k, std::span<const uint8_t> data) noexcept {
  ProbeStream& st = *k.stream;
  if (st.out.size() + data.size() > kStreamOut) return false;
  st.out.insert(st.out.end(), data.begin(), data.end());
  return true;
}

bool Health::push(Checker& k, Instant now) noexcept {
  ProbeStream& st = *k.stream;
  bool sent = false;
  for (;;) {
    const size_t off = st.snd_nxt - st.snd_una;
    if (off >= st.out.size()) break;
    const size_t n = std::min<size_t>(kMss, st.out.size() - off);
    send_tcp(k, tcp_flag::kAck | tcp_flag::kPsh, st.snd_nxt, k.rcv_nxt, now,
             std::span<const uint8_t>(st.out).subspan(off, n));
    st.snd_nxt += static_cast<uint32_t>(n);
    sent = true;
  }
  return sent;
}

void Health::send_echo(Checker& k, Instant now) noexcept {
  const size_t ip_len = kIp + Icmpv4View<uint8_t>::kHeaderLen + kEchoData;
  std::span<uint8_t> out(buf_.data(), kEth + ip_len);
  std::fill(out.begin(), out.end(), uint8_t{0});
  std::span<uint8_t> msg = out.subspan(kEth + kIp);
  msg[0] = wire::icmp_type::kEchoRequest;
  wire::store16(msg, 4, k.lport);
  wire::store16(msg, 6, k.echo_seq);
  for (size_t i = 0; i < kEchoData; ++i) msg[8 + i] = static_cast<uint8_t>(0x10 + i);  // as ping(8)'s pattern
  Icmpv4View<uint8_t>::unchecked(msg).fill_checksum();
  send_ip(k, out, IpProto::kIcmp, ip_id_++, now);
}

bool Health::on_packet(wire::Ipv4View<const uint8_t> ip, Instant now, bool csum_deferred) noexcept {
  if (checkers_.empty()) return false;
  start(now);
  if (ip.protocol() == IpProto::kTcp) {
    auto th = TcpView<const uint8_t>::parse(ip.payload());
    if (!th) return false;
    const uint32_t* c = by_port_.find(th->dport());
    if (c == nullptr) return false;
    const Checker& k = checkers_[*c];
    if (k.phase == Checker::Phase::kUdpSent || ip.src() != k.cfg.connect_ip || ip.dst() != k.src ||
        th->sport() != k.cfg.connect_port)
      return false;
    if (!csum_deferred && !th->verify_checksum(ip.src(), ip.dst())) return false;
    tcp_segment(*c, ip, now);
    return true;
  }
  if (ip.protocol() == IpProto::kUdp) {
    auto u = UdpView<const uint8_t>::parse(ip.payload());
    if (!u) return false;
    const uint32_t* c = by_port_.find(u->dport());
    if (c == nullptr) return false;
    const Checker& k = checkers_[*c];
    if (k.phase != Checker::Phase::kUdpSent || ip.src() != k.cfg.connect_ip || ip.dst() != k.src ||
        u->sport() != k.cfg.connect_port)
      return false;
    if (!csum_deferred && u->checksum() != 0 && !u->verify_checksum(ip.src(), ip.dst())) return false;
    udp_datagram(*c, ip, now);
    return true;
  }
  if (ip.protocol() == IpProto::kIcmp) return icmp_message(ip, now, csum_deferred);
  return false;
}

void Health::tcp_segment(uint32_t c, wire::Ipv4View<const uint8_t> ip, Instant now) noexcept {
  Checker& k = checkers_[c];
  auto th = TcpView<const uint8_t>::unchecked(ip.payload());
  const uint8_t f = th.flags();
  if (k.phase == Checker::Phase::kSynSent) {
    const bool acks_syn = (f & tcp_flag::kAck) && th.ack() == k.snd_isn + 1;
    if (f & tcp_flag::kRst) {
      if (acks_syn) finish_probe(c, false, Reason::kRefused, now);  // RFC 9293 §3.10.7.3
      return;
    }
    if ((f & tcp_flag::kSyn) && acks_syn) {
      k.rcv_nxt = th.seq() + 1;
      if (k.stream) {  // HTTP_GET, SSL_GET: the request (or the ClientHello) with the last ACK
        k.phase = Checker::Phase::kEstablished;
        ProbeStream& st = *k.stream;
        st.snd_una = st.snd_nxt = k.snd_isn + 1;
        bool ok = true;
        if (st.tls) {
          st.tls->reset(k.cfg.virtualhost);
          st.tls->handshake();
          ok = flush_tls(k);
        } else {
          ok = write_request(k);
        }
        if (!ok) {
          finish_probe(c, false, Reason::kTls, now);
          return;
        }
        if (!push(k, now)) send_tcp(k, tcp_flag::kAck, st.snd_nxt, k.rcv_nxt, now);
        k.rto = kFirstRto;
        k.resend_at = now + k.rto;
        schedule(c, std::min(k.deadline, k.resend_at));
        return;
      }
      // TCP_CHECK: the handshake is the check. The connection is closed with a RST, as HAProxy
      // closes its connect checks: neither side keeps a TIME_WAIT for a probe.
      send_tcp(k, tcp_flag::kRst, k.snd_isn + 1, 0, now);
      finish_probe(c, true, Reason::kOk, now);
      return;
    }
    if (f & tcp_flag::kAck) send_tcp(k, tcp_flag::kRst, th.ack(), 0, now);  // a stray ACK (RFC 9293)
    return;
  }
  if (k.phase == Checker::Phase::kEstablished) http_data(c, ip, now);
}

bool Health::write_request(Checker& k) noexcept {
  const config::HttpUrl& u = k.cfg.urls[k.url];
  std::array<uint8_t, kHttpRequestMax> req{};
  // Host: the virtualhost as it is, else the checked address and port (keepalived's template).
  const size_t n =
      k.cfg.virtualhost.empty()
          ? build_http_request(req, u.path, k.cfg.connect_ip.str(), k.cfg.connect_port, k.cfg.http_protocol)
          : build_http_request(req, u.path, k.cfg.virtualhost, 0, k.cfg.http_protocol);
  ProbeStream& st = *k.stream;
  st.request_sent = true;
  if (st.tls) return st.tls->send_plain(std::span<const uint8_t>(req).first(n)) && flush_tls(k);
  return queue(k, std::span<const uint8_t>(req).first(n));
}

bool Health::flush_tls(Checker& k) noexcept {
  std::array<uint8_t, 4096> tmp;
  for (;;) {
    const size_t n = k.stream->tls->pending(tmp);
    if (n == 0) return true;
    if (!queue(k, std::span<const uint8_t>(tmp).first(n))) return false;
  }
}

void Health::http_data(uint32_t c, wire::Ipv4View<const uint8_t> ip, Instant now) noexcept {
  Checker& k = checkers_[c];
  ProbeStream& st = *k.stream;
  auto th = TcpView<const uint8_t>::unchecked(ip.payload());
  const uint8_t f = th.flags();
  // What the real acknowledged leaves the send buffer.
  if ((f & tcp_flag::kAck) && seq_after_eq(th.ack(), st.snd_una) && seq_after_eq(st.snd_nxt, th.ack())) {
    const size_t n = th.ack() - st.snd_una;
    st.out.erase(st.out.begin(), st.out.begin() + static_cast<std::ptrdiff_t>(n));
    st.snd_una = th.ack();
  }
  if (f & tcp_flag::kRst) {  // keepalived judges what it read when the read fails
    http_judge(c, now);
    return;
  }
  auto data = th.payload();
  if (th.seq() != k.rcv_nxt) {  // a retransmission or a gap: our ACK says what we have
    if (!data.empty() || (f & tcp_flag::kFin)) send_tcp(k, tcp_flag::kAck, st.snd_nxt, k.rcv_nxt, now);
    return;
  }
  k.rcv_nxt += static_cast<uint32_t>(data.size());
  const bool fin = f & tcp_flag::kFin;
  if (fin) k.rcv_nxt += 1;
  if (st.tls) {
    st.tls->received(data);
    if (!st.request_sent) {
      const TlsClient::Status ts = st.tls->handshake();
      bool ok = ts != TlsClient::Status::kFailed && flush_tls(k);
      if (ok && ts == TlsClient::Status::kReady) ok = write_request(k);
      if (!ok) {
        send_tcp(k, tcp_flag::kRst, st.snd_nxt, 0, now);
        finish_probe(c, false, Reason::kTls, now);
        return;
      }
    }
    std::array<uint8_t, 4096> plain;
    while (size_t n = st.tls->take_plain(plain)) st.http.feed(std::span<const uint8_t>(plain).first(n));
    flush_tls(k);
  } else {
    st.http.feed(data);  // past the cap the parser stops (done()); what it took is judged
  }
  // Judged at the close (keepalived), or as soon as the verdict cannot change: the status line
  // is in and no digest needs the body; or the parser stopped taking bytes.
  const bool early = st.http.header_done() && !k.cfg.urls[k.url].digest;
  if (fin || early || st.http.done()) {
    http_judge(c, now);
    return;
  }
  if (!push(k, now) && !data.empty()) send_tcp(k, tcp_flag::kAck, st.snd_nxt, k.rcv_nxt, now);
}

void Health::http_judge(uint32_t c, Instant now) noexcept {
  Checker& k = checkers_[c];
  const config::HttpUrl& u = k.cfg.urls[k.url];
  const HttpResult r = k.stream->http.judge(HttpExpect{u.status, u.digest});
  // The connection ends with a RST (as TCP_CHECK's): neither side keeps state for a probe.
  send_tcp(k, tcp_flag::kRst, k.stream->snd_nxt, 0, now);
  Reason why = Reason::kOk;
  switch (r.reason) {
    case HttpReason::kOk: break;
    case HttpReason::kStatusMismatch: why = Reason::kStatus; break;
    case HttpReason::kDigestMismatch: why = Reason::kDigest; break;
    default: why = Reason::kBadResponse; break;
  }
  finish_probe(c, r.ok, why, now);
}

void Health::send_udp(Checker& k, Instant now) noexcept {
  constexpr size_t kUdpHdr = UdpView<uint8_t>::kHeaderLen;
  std::span<uint8_t> room = std::span<uint8_t>(buf_).subspan(kEth + kIp + kUdpHdr);
  size_t len = 0;
  if (k.cfg.type == config::CheckType::kDns) {
    len = build_dns_query(room, k.dns_id, k.cfg.dns_name, k.cfg.dns_type);
  } else if (k.cfg.payload) {
    len = std::min<size_t>(k.cfg.payload.p->len, room.size());
    std::memcpy(room.data(), k.cfg.payload.p->data.data(), len);
  } else {
    len = default_udp_payload(room);
  }
  const size_t ip_len = kIp + kUdpHdr + len;
  std::span<uint8_t> out(buf_.data(), kEth + ip_len);
  std::span<uint8_t> udp = out.subspan(kEth + kIp);
  wire::store16(udp, 0, k.lport);
  wire::store16(udp, 2, k.cfg.connect_port);
  wire::store16(udp, 4, static_cast<uint16_t>(kUdpHdr + len));
  wire::store16(udp, 6, 0);
  UdpView<uint8_t>::unchecked(udp).fill_checksum(k.src, k.cfg.connect_ip);
  send_ip(k, out, IpProto::kUdp, ip_id_++, now);
}

void Health::udp_datagram(uint32_t c, wire::Ipv4View<const uint8_t> ip, Instant now) noexcept {
  Checker& k = checkers_[c];
  auto u = UdpView<const uint8_t>::unchecked(ip.payload());
  if (k.cfg.type == config::CheckType::kDns) {
    const DnsVerdict v = judge_dns_answer(u.payload(), k.dns_id);
    if (v.outcome == DnsOutcome::kIgnore) return;  // not the answer: keep waiting (keepalived)
    finish_probe(c, v.outcome == DnsOutcome::kUp, v.outcome == DnsOutcome::kUp ? Reason::kOk : Reason::kRcode, now);
    return;
  }
  const bool ok = udp_check_passes(UdpEvent::kReply, k.cfg.require_reply, u.payload(), k.cfg.reply_pattern.p.get(),
                                   k.cfg.min_reply_length, k.cfg.max_reply_length);
  finish_probe(c, ok, ok ? Reason::kOk : Reason::kBadResponse, now);
}

std::optional<uint32_t> Health::probe_of(wire::Ipv4View<const uint8_t> q) const noexcept {
  const auto l4 = q.payload();  // the quote holds at least 8 bytes of it (RFC 792)
  if ((q.protocol() == IpProto::kTcp || q.protocol() == IpProto::kUdp) && l4.size() >= 4) {
    const uint32_t* c = by_port_.find(wire::load16(l4, 0));
    if (c && checkers_[*c].cfg.connect_ip == q.dst() && checkers_[*c].src == q.src()) return *c;
  } else if (q.protocol() == IpProto::kIcmp && l4.size() >= 8 && l4[0] == wire::icmp_type::kEchoRequest) {
    const uint32_t* c = by_echo_.find(wire::load16(l4, 4));
    if (c && checkers_[*c].cfg.connect_ip == q.dst() && checkers_[*c].src == q.src()) return *c;
  }
  return std::nullopt;
}

bool Health::icmp_message(wire::Ipv4View<const uint8_t> ip, Instant now, bool csum_deferred) noexcept {
  auto icmp = Icmpv4View<const uint8_t>::parse(ip.payload());
  if (!icmp || (!csum_deferred && !icmp->verify_checksum())) return false;
  if (icmp->type() == wire::icmp_type::kEchoReply) {
    const uint32_t* c = by_echo_.find(icmp->ident());
    if (c == nullptr) return false;
    const Checker& k = checkers_[*c];
    if (ip.src() != k.cfg.connect_ip || ip.dst() != k.src || icmp->seq() != k.echo_seq) return false;
    finish_probe(*c, true, Reason::kOk, now);
    return true;
  }
  if (icmp->type() != wire::icmp_type::kDestUnreachable) return false;
  auto q = icmp->quoted();
  if (!q) return false;
  auto c = probe_of(*q);
  if (!c) return false;
  // Fragmentation needed is about size, not reachability: a probe fits any MTU (RFC 791's 68).
  if (icmp->code() == wire::icmp_code::kFragNeeded) return true;
  finish_probe(*c, false, Reason::kUnreachable, now);
  return true;
}

void Health::script_exited(uint32_t c, int status, Instant now) noexcept {
  if (c >= checkers_.size() || checkers_[c].phase != Checker::Phase::kScript) return;
  Checker& k = checkers_[c];
  // check_misc.c: 0 is success; with misc_dynamic 2..255 is success too and sets the weight to
  // status - 2; anything else (1, a signal) fails.
  const bool ok = status == 0 || (k.cfg.misc_dynamic && status >= 2 && status <= 255);
  if (ok && k.cfg.misc_dynamic && status >= 2 && k.dynamic_weight != status - 2) {
    k.dynamic_weight = status - 2;
    RealHealth& rh = reals_[k.real];
    rh.weight = k.dynamic_weight;
    update_service(rh.svc, now, false);
    if (rh.in_service) net_.weight_changed(k.real);
  }
  finish_probe(c, ok, ok ? Reason::kOk : Reason::kScript, now);
}

void Health::on_unresolved(wire::Ipv4View<const uint8_t> ip, Instant now) noexcept {
  if (auto c = probe_of(ip)) finish_probe(*c, false, Reason::kNoNeighbour, now);
}

std::string Health::describe(uint32_t c) const {
  const Checker& k = checkers_[c];
  const RealHealth& rh = reals_[k.real];
  std::string s(config::check_type_name(k.cfg.type));
  if (k.cfg.type == config::CheckType::kMisc) s += " " + k.cfg.misc_argv.front();
  else s += " " + k.cfg.connect_ip.str();
  if (k.cfg.type != config::CheckType::kPing && k.cfg.type != config::CheckType::kMisc)
    s += ":" + std::to_string(k.cfg.connect_port);
  s += " of real " + rh.real.addr.str() + ":" + std::to_string(rh.real.port) + " (" +
       std::string(protocol_name(rh.protocol)) + " " + rh.vip.str() + ":" + std::to_string(rh.vport) + ")";
  return s;
}

std::string Health::event_text(const Event& e) const {
  const RealHealth& rh = reals_[e.real];
  const std::string real = "real " + rh.real.addr.str() + ":" + std::to_string(rh.real.port) + " (" +
                           std::string(protocol_name(rh.protocol)) + " " + rh.vip.str() + ":" +
                           std::to_string(rh.vport) + ")";
  switch (e.kind) {
    case Event::Kind::kCheckerDown:
      return describe(e.checker) + ": down (" + std::string(reason_name(e.reason)) + ", " + std::to_string(e.run) +
             (e.run == 1 ? " failure" : " failures") + " in a row)";
    case Event::Kind::kCheckerUp:
      return describe(e.checker) + ": up (" + std::to_string(e.run) + (e.run == 1 ? " success" : " successes") +
             " in a row)";
    case Event::Kind::kRealDown:
      return real + (rh.real.inhibit_on_failure ? ": failed, weight 0 (inhibit_on_failure)" : ": failed, removed");
    case Event::Kind::kQuorumLost:
    case Event::Kind::kQuorumGained: {
      const ServiceHealth& sh = services_[e.svc];
      std::string t = std::string(protocol_name(sh.protocol)) + " " + sh.vip.str() + ":" + std::to_string(sh.port) +
                      ": quorum " + (e.kind == Event::Kind::kQuorumLost ? "lost" : "regained") + " (alive weight " +
                      std::to_string(sh.weight_sum) + ", quorum " + std::to_string(sh.quorum) + ", hysteresis " +
                      std::to_string(sh.hysteresis) + ")";
      if (sh.sorry)
        t += e.kind == Event::Kind::kQuorumLost
                 ? "; sorry server " + sh.sorry->addr.str() + ":" + std::to_string(sh.sorry->port) + " serves"
                 : "; the reals serve again";
      return t;
    }
    case Event::Kind::kRealUp:
      return real +
             (rh.real.inhibit_on_failure ? ": alive, weight " + std::to_string(rh.real.weight) : ": alive, added");
  }
  return {};
}

}  // namespace vs::check

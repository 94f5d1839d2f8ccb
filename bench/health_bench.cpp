// health_bench: what health checks cost the daemon (docs/benchmarks.md, "Health checks").
//
// One Engine driven in memory on a virtual clock, as the daemon drives it: a config of
// `--tcp` reals with TCP_CHECK and `--http` reals with HTTP_GET (100 reals per service, delay_loop
// 1, warmup = delay_loop: the first probes spread over the first second), every real simulated:
// it answers ARP, a SYN with a SYN-ACK and an HTTP request with the response and a FIN, each
// `--rtt-us` after the engine sent what it answers. Beside the checks, a forwarding workload
// runs through the same engine: data segments of `--flows` ESTABLISHED NAT connections (client ->
// real, 64 bytes, frames of bench/frames.hpp in a shuffled ring, as engine_bench's est/nat/in), one
// every 1/`--pps` virtual second, in bursts of `--burst` (32). Between bursts, as the daemon's loop: due
// timers (on_timer), then the reals' answers that are due (on_frame), then the burst, then
// next_deadline(). Each of those is timed with the TSC (converted to ns over the run); the
// simulated reals' own work (parsing probes, building answers) is outside every timed section.
//
//   health_bench [--rounds R] [options]   R rounds (default 5), each one process with the checkers
//                                         and one with the same config without them (alternating
//                                         which goes first); prints the medians in Markdown
//   health_bench --one [--no-checks] [options]   one process, one run: key=value lines
//
// Options: --tcp N (10000) --http N (1000) --per-service N (100) --seconds S (10, measured)
// --warmup S (3, run first, not measured) --rtt-us U (200) --flows F (1000) --pps P (1000000,
// virtual) --burst B (32; the daemon reads up to 256 frames per device per readiness, so a
// saturated daemon's bursts are 256: `--pps 5000000 --burst 256` is that regime) --neigh-capacity N
// (0: the daemon's default, EngineParams{}) --announce-all (every real announces itself by ARP at
// the start, in both runs, so that the run without checkers has the same neighbour table;
// otherwise only the first service's reals do) --same-capacity (the run without
// checkers gets the neighbour table's capacity the engine gives the config with them,
// Engine::neigh_params: the same table size, so the same memory layout, in both runs).
//
// Reported (per virtual second, i.e. per second of the daemon's life at delay_loop 1):
//   probes/s, frames to and from the reals; health CPU: the timed on_timer + next_deadline + the
//   answers' on_frame, minus the same sections of the run without checkers (the
//   director's own timers); us per probe; the share of one core that is. Data path: ns per
//   forwarded packet (the bursts' on_frame only) with and without checkers. The forwarding rate
//   of a saturated daemon: without checkers 1/ns_without; with them (1 - share) / ns_with (what
//   is left of the core, at the data path's cost per packet while checks run); their ratio.
//   Memory: VmHWM and VmRSS at the end of each process.
#include <unistd.h>
#include <x86intrin.h>
#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "alloc_count.hpp"  // every operator new counted
#include "config/config.hpp"
#include "engine.hpp"
#include "frames.hpp"
#include "test_config.hpp"  // tests/unit

namespace {

using namespace bench;
using vs::Duration;
using vs::Instant;
namespace test = vs::test;

// ---------------------------------------------------------------------------------------------
// Topology: wan 10.0.0.1/24 (clients behind 10.0.0.254), lan 10.1.0.1/16 (the reals, on-link).

constexpr MacAddr kWanMac{{0x02, 0, 0, 0, 0x0a, 0x01}};
constexpr MacAddr kLanMac{{0x02, 0, 0, 0, 0x0a, 0x02}};
constexpr MacAddr kGwMac{{0x02, 0, 0, 0, 0x00, 0xfe}};
constexpr Ipv4Addr kWanAddr = Ipv4Addr::from_octets(10, 0, 0, 1);
constexpr Ipv4Addr kLanAddr = Ipv4Addr::from_octets(10, 1, 0, 1);
constexpr Ipv4Addr kGw = Ipv4Addr::from_octets(10, 0, 0, 254);
constexpr Ipv4Addr kVip = Ipv4Addr::from_octets(10, 0, 0, 100);
constexpr uint16_t kRealPort = 80;
constexpr uint32_t kRealBase = (10u << 24) | (1u << 16) | 10;  // real i: 10.1.0.10 + i
constexpr uint32_t kClientBase = (172u << 24) | (16u << 16);   // client n: 172.16.0.0 + n, port 1024 + n % 60000

Ipv4Addr real_addr(uint32_t i) { return Ipv4Addr{kRealBase + i}; }
MacAddr real_mac(uint32_t i) {
  return MacAddr{{0x02, 0, 0, 0x01, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}};
}
Ipv4Addr client_addr(uint32_t n) { return Ipv4Addr{kClientBase + (n & 0xfffff)}; }
uint16_t client_port(uint32_t n) { return static_cast<uint16_t>(1024 + n % 60000); }
uint16_t tcp_service_port(uint32_t s) { return static_cast<uint16_t>(80 + s); }
uint16_t http_service_port(uint32_t s) { return static_cast<uint16_t>(2000 + s); }

struct Options {
  uint32_t tcp = 10000, http = 1000, per_service = 100;
  double seconds = 10, warmup = 3;
  int64_t rtt_us = 200;
  uint32_t flows = 1000;
  uint32_t pps = 1000000;
  uint32_t burst = 32;  // frames per burst (the daemon's kBurst is 256)
  uint32_t neigh_capacity = 0;
  bool announce_all = false;   // every real announces itself at the start (both runs: the same neighbours)
  bool same_capacity = false;  // the run without checkers gets the neighbour table the checked config gets
  bool checks = true;
  double delay_loop = 1;  // the checkers' delay_loop (and warmup): a larger one keeps the checkers, fewer probes
  int rounds = 5;
};

const char* kHttpResponse = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";

std::string config_text(const Options& o) {
  test::ConfigText c;
  c.seed(1);
  c.interface("wan", "02:00:00:00:0a:01", {"10.0.0.1/24"});
  c.interface("lan", "02:00:00:00:0a:02", {"10.1.0.1/16"});
  c.route("0.0.0.0/0", "10.0.0.254");
  uint32_t real = 0;
  auto add = [&](uint32_t n, uint16_t (*port)(uint32_t), const std::string& check) {
    for (uint32_t s = 0; s * o.per_service < n; ++s) {
      c.service("tcp", kVip.str() + ":" + std::to_string(port(s)), "rr");
      if (o.checks) c.service_lines("delay_loop = " + std::to_string(o.delay_loop));
      for (uint32_t k = 0; k < o.per_service && s * o.per_service + k < n; ++k) {
        c.real(real_addr(real++).str() + ":" + std::to_string(kRealPort), "nat");
        if (o.checks) c.real_lines("    [[services.reals.checks]]\n" + check);
      }
    }
  };
  add(o.tcp, tcp_service_port, "    type = \"TCP_CHECK\"\n");
  add(o.http, http_service_port, "    type = \"HTTP_GET\"\n    url = [{ path = \"/health\" }]\n");
  return c.text();
}

long status_kib(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(key);
  while (std::getline(f, line))
    if (line.compare(0, n, key) == 0) return std::strtol(line.c_str() + n, nullptr, 10);
  return -1;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// ---------------------------------------------------------------------------------------------
// The sink: forwarded frames are counted (the last one kept while connections are made); what
// the engine sends toward the reals from its own lan address (probes, ARP) is copied for them.

struct Frame {
  int64_t at = 0;  // answers: when it reaches the engine
  uint16_t len = 0;
  std::array<uint8_t, 256> b{};
};

class Sink : public vs::TxSink {
public:
  Sink() : probes(16384) {}
  void transmit(uint32_t iface, std::span<const uint8_t> f) override {
    const bool own = iface == 1 && f.size() >= kEth + 20 &&
                     (get16(f.data() + 12) == 0x0806 ||
                      (get16(f.data() + 12) == 0x0800 && get32(f.data() + kEth + 12) == kLanAddr.v));
    if (!own) {
      ++forwarded;
      if (keep_last) last.assign(f.begin(), f.end());
      return;
    }
    ++probe_frames;
    if (n_probes == probes.size()) {
      ++probes_lost;
      return;
    }
    Frame& p = probes[n_probes++];
    p.len = static_cast<uint16_t>(std::min(f.size(), p.b.size()));
    std::memcpy(p.b.data(), f.data(), p.len);
  }
  uint64_t forwarded = 0, probe_frames = 0, probes_lost = 0;
  bool keep_last = false;
  std::vector<uint8_t> last;
  std::vector<Frame> probes;  // captured since the last pump
  size_t n_probes = 0;
};

// ---------------------------------------------------------------------------------------------
// The simulated reals: what each answers, queued for delivery rtt later (a FIFO: fixed delay).

class Reals {
public:
  // The queue is a ring of 512 frames (~140 KB), reused as a TAP read buffer is: the reals are
  // other machines, and a ring of 65 536 (18 MB, as before 2026-12-05) walked the cache and the
  // TLB through fresh lines at every answer, a cost of the simulation that was counted as the
  // checks' (docs/benchmarks.md). Answers in flight: ~24 000 a second for 200 µs, bursts of
  // tens; a full ring counts them in `lost`.
  Reals(uint32_t n, int64_t rtt_us) : n_(n), rtt_(rtt_us), q_(512) {}

  /// The engine's frames toward the reals since the last call: their answers, queued.
  void pump(Sink& sink, int64_t now) {
    for (size_t i = 0; i < sink.n_probes; ++i) answer(sink.probes[i], now + rtt_);
    sink.n_probes = 0;
  }
  /// Answers due at `now`, oldest first.
  template <class F>
  void deliver(int64_t now, F&& f) {
    while (count_ > 0 && q_[head_].at <= now) {
      f(q_[head_]);
      head_ = (head_ + 1) % q_.size();
      --count_;
      ++delivered;
    }
  }
  uint64_t delivered = 0, lost = 0;

private:
  Frame* slot(int64_t at) {
    if (count_ == q_.size()) {
      ++lost;
      return nullptr;
    }
    Frame& s = q_[(head_ + count_++) % q_.size()];
    s.at = at;
    return &s;
  }
  void answer(const Frame& p, int64_t at) {
    const uint8_t* f = p.b.data();
    if (get16(f + 12) == 0x0806) {
      const uint8_t* a = f + kEth;
      const uint32_t i = get32(a + 24) - kRealBase;
      if (get16(a + 6) != 1 || i >= n_) return;
      if (Frame* s = slot(at)) {
        build_arp(s->b.data(), 2, real_mac(i), real_addr(i), kLanMac, kLanAddr);
        s->len = 60;
      }
      return;
    }
    const uint8_t* ip = f + kEth;
    if (ip[9] != 6) return;
    const uint32_t i = get32(ip + 16) - kRealBase;
    if (i >= n_) return;
    const size_t ihl = (ip[0] & 0xf) * 4u;
    const uint8_t* tcp = ip + ihl;
    const size_t payload = get16(ip + 2) - ihl - (tcp[12] >> 4) * 4u;
    const uint8_t flags = tcp[13];
    const uint16_t sport = get16(tcp), dport = get16(tcp + 2);
    const uint32_t seq = get32(tcp + 4);
    const Ipv4Addr src{get32(ip + 12)};
    if (flags & tcpf::kRst) return;
    if (payload > 0) {  // the HTTP request: the response and a FIN in one segment
      const auto body =
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kHttpResponse), std::strlen(kHttpResponse));
      if (Frame* s = slot(at)) {
        s->len = static_cast<uint16_t>(54 + body.size());
        build_tcp(s->b.data(), s->len, kLanMac, real_mac(i), real_addr(i), src, dport, sport,
                  tcpf::kAck | tcpf::kPsh | tcpf::kFin, 777001, seq + static_cast<uint32_t>(payload), body);
      }
      return;
    }
    if (!(flags & tcpf::kSyn)) return;
    if (Frame* s = slot(at)) {
      s->len = 54;
      build_tcp(s->b.data(), 54, kLanMac, real_mac(i), real_addr(i), src, dport, sport, tcpf::kSyn | tcpf::kAck, 777000,
                seq + 1);
    }
  }

  uint32_t n_;
  int64_t rtt_;
  std::vector<Frame> q_;
  size_t head_ = 0, count_ = 0;
};

// ---------------------------------------------------------------------------------------------
// One run

struct Sections {
  uint64_t timer = 0, answers = 0, fwd = 0;  // TSC ticks
};

class Run {
public:
  explicit Run(const Options& o) : o_(o), reals_(o.tcp + o.http, o.rtt_us) {
    rss_start_kib_ = status_kib("VmRSS:");
    auto cfg = vs::config::parse_config(config_text(o));
    if (!cfg) fail("config: " + cfg.error().message);
    vs::EngineParams params;
    if (o.neigh_capacity) params.neigh.capacity = o.neigh_capacity;
    if (!o.checks && o.same_capacity) {  // the engine's own sizing rule, applied to the config with checks
      Options checked = o;
      checked.checks = true;
      auto c = vs::config::parse_config(config_text(checked));
      if (!c) fail("config: " + c.error().message);
      params.neigh = vs::Engine::neigh_params(params.neigh, *c.value());
    }
    engine_ = std::make_unique<vs::Engine>(cfg.value(), sink_, params);
    engine_->start(Instant::from_micros(now_));
    learn_neighbours();
    establish();
    rss_setup_kib_ = status_kib("VmRSS:");
  }

  void run(double seconds, Sections& sec) {
    vs::Engine& e = *engine_;
    const int64_t end = now_ + static_cast<int64_t>(seconds * 1e6);
    const int64_t dt_num = 1000000;  // virtual µs per packet = dt_num / pps, kept exact by an accumulator
    const uint8_t* base = ring_.data();
    while (now_ < end) {
      const uint64_t t0 = __rdtsc();
      if (fire_at_ <= now_) e.on_timer(Instant::from_micros(now_));
      const uint64_t t1 = __rdtsc();
      reals_.deliver(now_, [&](const Frame& a) {
        e.on_frame(1, std::span<const uint8_t>(a.b.data(), a.len), Instant::from_micros(now_));
      });
      const uint64_t t2 = __rdtsc();
      for (uint32_t k = 0; k < o_.burst; ++k) {
        acc_ += dt_num;
        now_ += acc_ / o_.pps;
        acc_ %= o_.pps;
        e.on_frame(0, std::span<const uint8_t>(base + pos_ * 64, 64), Instant::from_micros(now_));
        if (++pos_ == o_.flows) pos_ = 0;
      }
      const uint64_t t3 = __rdtsc();
      deadline_ = e.next_deadline();
      // As the daemon's libuv timer (Daemon::arm_timer): its loop time counts whole
      // milliseconds and the wait is rounded up to whole milliseconds, so the timer fires on a
      // millisecond and runs every timer due by then together, not one by one between bursts.
      fire_at_ =
          deadline_ ? now_ / 1000 * 1000 + std::max<int64_t>(0, (deadline_->us - now_ + 999) / 1000 * 1000) : INT64_MAX;
      const uint64_t t4 = __rdtsc();
      sec.timer += (t1 - t0) + (t4 - t3);
      sec.answers += t2 - t1;
      sec.fwd += t3 - t2;
      reals_.pump(sink_, now_);
      packets_ += o_.burst;
    }
  }

  const vs::Engine& engine() const { return *engine_; }
  const Sink& sink() const { return sink_; }
  const Reals& reals() const { return reals_; }
  uint64_t packets() const { return packets_; }
  long rss_start_kib() const { return rss_start_kib_; }
  long rss_setup_kib() const { return rss_setup_kib_; }

private:
  /// Feeds a setup frame, runs due timers and lets the reals answer (1 µs per frame).
  void feed(uint32_t iface, const uint8_t* f, size_t len) {
    now_ += 1;
    engine_->on_frame(iface, std::span<const uint8_t>(f, len), Instant::from_micros(now_));
    if (auto d = engine_->next_deadline(); d && d->us <= now_) engine_->on_timer(Instant::from_micros(now_));
    reals_.deliver(now_, [&](const Frame& a) {
      engine_->on_frame(1, std::span<const uint8_t>(a.b.data(), a.len), Instant::from_micros(now_));
    });
    reals_.pump(sink_, now_);
  }

  /// The gateway, and the reals of the first service (where the connections go), announce
  /// themselves (the same in both runs; the checks' ARP finds the others).
  void learn_neighbours() {
    uint8_t f[60];
    build_arp_request(f, kGwMac, kGw, kWanAddr);
    feed(0, f, sizeof f);
    for (uint32_t i = 0; i < (o_.announce_all ? o_.tcp + o_.http : std::min(o_.per_service, o_.tcp + o_.http)); ++i) {
      build_arp_request(f, real_mac(i), real_addr(i), kLanAddr);
      feed(1, f, sizeof f);
    }
  }

  /// `flows` connections to the first service, by real handshakes, and the ring of their data
  /// segments in a shuffled order.
  void establish() {
    uint8_t f[64];
    const uint16_t vport = o_.tcp ? tcp_service_port(0) : http_service_port(0);
    sink_.keep_last = true;
    for (uint32_t n = 0; n < o_.flows; ++n) {
      const uint64_t before = sink_.forwarded;
      build_tcp(f, 54, kWanMac, kGwMac, client_addr(n), kVip, client_port(n), vport, tcpf::kSyn, 1000, 0);
      feed(0, f, 54);
      if (sink_.forwarded != before + 1) fail("a SYN was not forwarded");
      const uint32_t r = get32(sink_.last.data() + kEth + 16) - kRealBase;
      build_tcp(f, 54, kLanMac, real_mac(r), real_addr(r), client_addr(n), kRealPort, client_port(n),
                tcpf::kSyn | tcpf::kAck, 5000, 1001);
      feed(1, f, 54);
      build_tcp(f, 54, kWanMac, kGwMac, client_addr(n), kVip, client_port(n), vport, tcpf::kAck, 1001, 5001);
      feed(0, f, 54);
    }
    sink_.keep_last = false;
    size_t established = 0;
    engine_->director().conns().for_each([&](uint32_t, const vs::conn::Conn& c) {
      if (c.state == vs::conn::TcpState::kEstablished) ++established;
    });
    if (established != o_.flows) fail("the handshakes did not establish every connection");
    std::vector<uint32_t> order(o_.flows);
    for (uint32_t i = 0; i < o_.flows; ++i) order[i] = i;
    std::mt19937_64 rng(42);
    std::shuffle(order.begin(), order.end(), rng);
    ring_.assign(size_t{64} * o_.flows, 0);
    for (uint32_t k = 0; k < o_.flows; ++k) {
      const uint32_t n = order[k];
      build_tcp(ring_.data() + size_t{64} * k, 64, kWanMac, kGwMac, client_addr(n), kVip, client_port(n), vport,
                tcpf::kAck | tcpf::kPsh, 1001, 5001);
    }
  }

  [[noreturn]] static void fail(const std::string& what) {
    std::fprintf(stderr, "health_bench: %s\n", what.c_str());
    std::exit(2);
  }

  Options o_;
  Sink sink_;
  Reals reals_;
  std::unique_ptr<vs::Engine> engine_;
  int64_t now_ = 1700000000LL * 1000000;
  int64_t acc_ = 0;
  std::optional<Instant> deadline_;
  int64_t fire_at_ = 0;  // when the emulated libuv timer fires
  std::vector<uint8_t> ring_;
  size_t pos_ = 0;
  uint64_t packets_ = 0;
  long rss_start_kib_ = 0, rss_setup_kib_ = 0;
};

/// One process, one run: key=value lines on stdout.
int one(const Options& o) {
  Run run(o);
  Sections warm;
  run.run(o.warmup, warm);
  const vs::Engine& e = run.engine();
  const uint64_t probes0 = e.health().probes_sent(), pkts0 = run.packets(), fwd0 = run.sink().forwarded;
  const uint64_t out0 = run.sink().probe_frames, in0 = run.reals().delivered, allocs0 = g_allocs;
  const auto drops0 = e.drops();
  Sections s;
  const auto w0 = std::chrono::steady_clock::now();
  const uint64_t tsc0 = __rdtsc();
  const double cpu0 = cpu_seconds();
  run.run(o.seconds, s);
  const double cpu1 = cpu_seconds();
  const uint64_t tsc1 = __rdtsc();
  const auto w1 = std::chrono::steady_clock::now();
  const double wall_ns = std::chrono::duration<double, std::nano>(w1 - w0).count();
  const double ns_per_tick = wall_ns / static_cast<double>(tsc1 - tsc0);
  const double n_pkts = static_cast<double>(run.packets() - pkts0);

  uint32_t down = 0, reals_out = 0;
  uint64_t failures = 0;
  for (const auto& k : e.health().checkers()) {
    down += !k.up;
    for (size_t r = 1; r < k.failures.size(); ++r) failures += k.failures[r];
  }
  for (const auto& r : e.health().reals()) reals_out += !r.in_service;
  std::string drops;
  for (size_t r = 0; r < e.drops().n.size(); ++r)
    if (uint64_t d = e.drops().n[r] - drops0.n[r])
      drops += std::string(drops.empty() ? "" : ",") + std::string(vs::drop_name(static_cast<vs::DropReason>(r))) +
               ":" + std::to_string(d);

  std::printf("checks=%d\nseconds=%g\n", o.checks ? 1 : 0, o.seconds);
  std::printf("packets=%.0f\nforwarded=%" PRIu64 "\n", n_pkts, run.sink().forwarded - fwd0);
  std::printf("probes=%" PRIu64 "\n", e.health().probes_sent() - probes0);
  std::printf("frames_to_reals=%" PRIu64 "\nframes_from_reals=%" PRIu64 "\n", run.sink().probe_frames - out0,
              run.reals().delivered - in0);
  std::printf("timer_ns=%.0f\nanswers_ns=%.0f\nfwd_ns=%.0f\n", static_cast<double>(s.timer) * ns_per_tick,
              static_cast<double>(s.answers) * ns_per_tick, static_cast<double>(s.fwd) * ns_per_tick);
  std::printf("wall_ns=%.0f\ncpu_ns=%.0f\n", wall_ns, (cpu1 - cpu0) * 1e9);
  std::printf("allocs=%" PRIu64 "\n", g_allocs - allocs0);
  std::printf("checkers=%zu\ncheckers_down=%u\nreals_out=%u\nprobe_failures=%" PRIu64 "\n",
              e.health().checkers().size(), down, reals_out, failures);
  std::printf("in_flight=%u\nneigh_entries=%u\nneigh_capacity=%u\n", e.health().in_flight(), e.neigh().size(),
              e.neigh().capacity());
  std::printf("drops=%s\nlost=%" PRIu64 "\n", drops.empty() ? "none" : drops.c_str(),
              run.sink().probes_lost + run.reals().lost);
  std::printf("rss_start_kib=%ld\nrss_setup_kib=%ld\nvmrss_kib=%ld\nvmhwm_kib=%ld\n", run.rss_start_kib(),
              run.rss_setup_kib(), status_kib("VmRSS:"), status_kib("VmHWM:"));
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The driver: rounds of two processes, medians.

using Result = std::map<std::string, std::string>;

Result spawn(const std::string& exe, const std::string& args) {
  const std::string cmd = exe + " --one " + args;
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char line[512];
  while (std::fgets(line, sizeof line, p)) {
    std::string l(line);
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
    const size_t eq = l.find('=');
    if (eq != std::string::npos) r[l.substr(0, eq)] = l.substr(eq + 1);
  }
  if (pclose(p) != 0) r.clear();
  return r;
}

double num(const Result& r, const char* k) {
  auto it = r.find(k);
  return it == r.end() ? NAN : std::strtod(it->second.c_str(), nullptr);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? NAN : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int driver(const Options& o, const std::string& exe, const std::string& args) {
  std::vector<double> probes_s, out_s, in_s, health_ms, us_probe, share, ns_with, ns_without, mpps_with, mpps_without,
      sat_with, ratio, fwd_ratio, hwm_with, hwm_without, rss_with, rss_without, allocs_probe, cpu_wall_with,
      cpu_wall_without;
  Result last_with;
  std::printf(
      "| round | probes/s | health CPU ms/s | us/probe | data path ns/pkt with / without | saturated Mpps "
      "with / without | ratio | VmHWM MB with / without |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int round = 0; round < o.rounds; ++round) {
    Result w, n;
    if (round % 2 == 0) {
      w = spawn(exe, args);
      n = spawn(exe, args + " --no-checks");
    } else {
      n = spawn(exe, args + " --no-checks");
      w = spawn(exe, args);
    }
    if (w.empty() || n.empty()) {
      std::fprintf(stderr, "health_bench: round %d: a run failed (run it with --one to see why)\n", round + 1);
      return 1;
    }
    last_with = w;
    const double secs = num(w, "seconds");
    const double pk_w = num(w, "packets"), pk_n = num(n, "packets");
    const double h_ns =
        num(w, "timer_ns") + num(w, "answers_ns") - (num(n, "timer_ns") + num(n, "answers_ns")) * pk_w / pk_n;
    const double probes = num(w, "probes");
    const double nsw = num(w, "fwd_ns") / pk_w, nsn = num(n, "fwd_ns") / pk_n;
    const double sh = h_ns / (secs * 1e9);
    const double satw = (1 - sh) / nsw * 1e3, satn = 1 / nsn * 1e3;
    probes_s.push_back(probes / secs);
    out_s.push_back(num(w, "frames_to_reals") / secs);
    in_s.push_back(num(w, "frames_from_reals") / secs);
    health_ms.push_back(h_ns / secs / 1e6);
    us_probe.push_back(h_ns / probes / 1e3);
    share.push_back(sh);
    ns_with.push_back(nsw);
    ns_without.push_back(nsn);
    mpps_with.push_back(1e3 / nsw);
    mpps_without.push_back(1e3 / nsn);
    sat_with.push_back(satw);
    ratio.push_back(satw / satn);
    fwd_ratio.push_back(nsn / nsw);
    hwm_with.push_back(num(w, "vmhwm_kib") * 1024 / 1e6);
    hwm_without.push_back(num(n, "vmhwm_kib") * 1024 / 1e6);
    rss_with.push_back(num(w, "vmrss_kib") * 1024 / 1e6);
    rss_without.push_back(num(n, "vmrss_kib") * 1024 / 1e6);
    allocs_probe.push_back(num(w, "allocs") / probes);
    cpu_wall_with.push_back(num(w, "cpu_ns") / num(w, "wall_ns"));
    cpu_wall_without.push_back(num(n, "cpu_ns") / num(n, "wall_ns"));
    std::printf("| %d | %.0f | %.1f | %.2f | %.1f / %.1f | %.2f / %.2f | %.3f | %.1f / %.1f |\n", round + 1,
                probes / secs, h_ns / secs / 1e6, h_ns / probes / 1e3, nsw, nsn, satw, satn, satw / satn,
                hwm_with.back(), hwm_without.back());
    std::fflush(stdout);
  }
  const double m_ratio = median(ratio);
  std::printf(
      "\nMedians of %d rounds (%u reals with TCP_CHECK, %u with HTTP_GET, %u per service, delay_loop 1, "
      "answers %" PRId64
      " us after each probe; %u NAT connections, %u virtual packets/s in bursts of %u; %g s measured "
      "after %g s):\n\n",
      o.rounds, o.tcp, o.http, o.per_service, o.rtt_us, o.flows, o.pps, o.burst, o.seconds, o.warmup);
  std::printf("| measure | with checkers | without |\n|---|---:|---:|\n");
  std::printf("| probes started per second | %.0f | 0 |\n", median(probes_s));
  std::printf("| frames to / from the reals per second | %.0f / %.0f | 0 |\n", median(out_s), median(in_s));
  std::printf("| health CPU per second (on_timer, next_deadline, answers; minus the timers without) | %.1f ms | |\n",
              median(health_ms));
  std::printf("| CPU per probe | %.2f us | |\n", median(us_probe));
  std::printf("| share of one core at delay_loop 1 | %.1f %% | |\n", 100 * median(share));
  std::printf("| data path: ns per forwarded packet (on_frame of the bursts) | %.1f | %.1f |\n", median(ns_with),
              median(ns_without));
  std::printf("| data path alone, Mpps per core | %.2f | %.2f |\n", median(mpps_with), median(mpps_without));
  std::printf("| saturated daemon, Mpps: (1 - health share) / ns per packet | %.2f | %.2f |\n", median(sat_with),
              median(mpps_without));
  std::printf("| forwarding rate with / without checkers (median of the rounds' ratios) | %.3f (cost %.1f %%) | |\n",
              m_ratio, 100 * (1 - m_ratio));
  std::printf("| the same from the medians above (saturated with / without) | %.3f (cost %.1f %%) | |\n",
              median(sat_with) / median(mpps_without), 100 * (1 - median(sat_with) / median(mpps_without)));
  std::printf("| ... of which the per-packet slowdown alone (ns without / ns with) | %.3f | |\n", median(fwd_ratio));
  std::printf("| VmHWM (peak RSS) of the process | %.1f MB | %.1f MB |\n", median(hwm_with), median(hwm_without));
  std::printf("| VmRSS at the end | %.1f MB | %.1f MB |\n", median(rss_with), median(rss_without));
  std::printf("| operator new calls per probe (measured part) | %.3f | |\n", median(allocs_probe));
  std::printf("| CPU time / wall time of the measured part (1.00: not preempted) | %.2f | %.2f |\n",
              median(cpu_wall_with), median(cpu_wall_without));
  std::printf(
      "\nState at the end of the last run with checkers: %s checkers, %s down, %s reals out of service, "
      "%s failed probes in the measured part; drops: %s; neighbour entries %s of %s; lost %s\n",
      last_with["checkers"].c_str(), last_with["checkers_down"].c_str(), last_with["reals_out"].c_str(),
      last_with["probe_failures"].c_str(), last_with["drops"].c_str(), last_with["neigh_entries"].c_str(),
      last_with["neigh_capacity"].c_str(), last_with["lost"].c_str());
  std::printf("Data-path cost of the checks (median of the rounds): %.1f %% (target: under 5 %%): %s\n",
              100 * (1 - m_ratio), 1 - m_ratio < 0.05 ? "met" : "NOT met");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool single = false;
  std::string args;  // passed on to the runs
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "health_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      args += " " + a + " " + argv[i + 1];
      return argv[++i];
    };
    if (a == "--one") single = true;
    else if (a == "--no-checks") o.checks = false;
    else if (a == "--rounds") {
      const size_t keep = args.size();
      o.rounds = std::atoi(val());
      args.resize(keep);  // not for the runs
    } else if (a == "--tcp") o.tcp = static_cast<uint32_t>(std::atol(val()));
    else if (a == "--http") o.http = static_cast<uint32_t>(std::atol(val()));
    else if (a == "--per-service") o.per_service = static_cast<uint32_t>(std::atol(val()));
    else if (a == "--seconds") o.seconds = std::atof(val());
    else if (a == "--delay-loop") o.delay_loop = std::atof(val());
    else if (a == "--warmup") o.warmup = std::atof(val());
    else if (a == "--rtt-us") o.rtt_us = std::atol(val());
    else if (a == "--flows") o.flows = static_cast<uint32_t>(std::atol(val()));
    else if (a == "--pps") o.pps = static_cast<uint32_t>(std::atol(val()));
    else if (a == "--burst") o.burst = static_cast<uint32_t>(std::atol(val()));
    else if (a == "--announce-all") {
      o.announce_all = true;
      args += " --announce-all";
    } else if (a == "--same-capacity") {
      o.same_capacity = true;
      args += " --same-capacity";
    } else if (a == "--neigh-capacity") o.neigh_capacity = static_cast<uint32_t>(std::atol(val()));
    else {
      std::fprintf(stderr,
                   "usage: health_bench [--one [--no-checks]] [--rounds R] [--tcp N] [--http N] [--per-service N] "
                   "[--seconds S] [--warmup S] [--rtt-us U] [--flows F] [--pps P] [--burst B] [--neigh-capacity N] "
                   "[--announce-all] [--same-capacity]\n");
      return 2;
    }
  }
  if (o.flows == 0 || o.pps == 0 || o.per_service == 0 || o.burst == 0 || o.burst > 4096 || o.tcp + o.http == 0 ||
      o.tcp + o.http > 65000) {
    std::fprintf(stderr,
                 "health_bench: --flows, --pps, --per-service must be > 0, --burst in 1..4096, --tcp + --http in "
                 "1..65000\n");
    return 2;
  }
  if (single) return one(o);
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return 2;
  exe[n] = 0;
  return driver(o, exe, args);
}

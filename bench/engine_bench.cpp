// engine_bench: the engine alone, fed from memory (docs/benchmarks.md).
//
// No syscalls, no TAP, no clock in the measured loop: frames are built before timing starts in a
// ring of fixed-size slots (the way a NIC ring holds them), handed to Engine::on_frame one after
// the other, and whatever the engine transmits goes to a sink that only counts. Virtual time
// advances by a fixed step per packet, and timers run the way the daemon runs them: due timers
// before each burst of 32 frames, next_deadline() after it.
//
// Scenarios (one director, one TCP service 10.0.0.100:80, rr over 3 reals, clients behind a
// gateway 10.0.0.254 on the wan side, reals on the lan side):
//   est/<mode>/<dir>/<flows>/<bytes>   established connections: `flows` ESTABLISHED connections
//        made by real handshakes before timing; each packet is a data segment of one of them
//        (ring order shuffled, so the connection table is hit at random). dir "in" = client ->
//        real, "out" = real -> client (NAT only: DR/TUN replies do not pass the director).
//   new/<mode>/<flows>   new connections: each packet is a SYN of a connection not in the table;
//        time advances 60 s / flows per SYN so that as many SYN_RECV connections (60 s timeout)
//        expire as are made: the table holds `flows` live connections, and the cost includes
//        scheduling, creation, forwarding and, later, the expiry of each connection.
//   est/nat/in/1/64/1000-services   the same with 1000 more services in the config.
//   new/nat/<flows>/sync, new/nat/<flows>/nosync   new connections that live: each connection is
//        4 packets, the client's SYN, the real's SYN-ACK, the client's ACK (ESTABLISHED) and one
//        more client ACK (its packet 3: sync_threshold, so a sync master sends it). "sync" runs
//        with [sync] state = "master" on lan (the messages go to the sink like any frame),
//        "nosync" without [sync]: the difference is what sync costs per connection. [timeouts]
//        tcp is 60 s (1M) or 2 s (1k) and time advances tcp / flows per connection, so that the
//        table holds `flows` ESTABLISHED connections, one expires per connection made, and at
//        least 500 connections a second of virtual time fill every message (40 entries) before
//        its 0.1 s flush.
//   sync/apply/1M, sync/apply/1M/update   a backup ([sync] state = "backup" on lan) applies
//        1 000 000 connections from version 1 messages (40 entries of 1472 bytes) built before
//        timing as UDP frames to 224.0.0.81:8848 and handed to Engine::on_frame on lan: the
//        first pass creates every connection, the second (update) finds and updates them.
//   handover/1M   the 1 000 000 connections of sync/apply/1M handed over to a new engine (docs/
//        handover.md): Engine::snapshot + handover::encode, then handover::decode + Engine::adopt;
//        Mentries/s over both, snapshot_ms and adopt_ms, MB (the stream), adopted.
//   route/<v4|v6>/<flows>/64   the router alone (no IPVS in the path): 64-byte UDP datagrams from
//        `flows` clients to one host on lan, IPv4 or IPv6 (DAD done, neighbours known).
//   memory/1M   RSS of the process before the engine, with the engine (max_connections
//        1048576), and with 1 000 000 ESTABLISHED NAT connections; bytes per connection.
// Each packet benchmark runs 3 times (bench/run reports the median and the spread).
// Counters: Mpps (packets per second per core, in millions, over CPU time), tx/pkt (frames the
// engine sent per packet: 1.0 means every packet was forwarded), allocs (operator new calls inside
// run_packets, i.e. by the engine while it handles the packets: 0 = no allocation per packet), live_conns (table size at the end).
// new/nat/*/sync and nosync add Mconn/s (connections per second per core), msgs/conn (sync
// frames the sink saw per connection) and entries/conn (entries the daemon sent per connection);
// sync/apply/* report Mentries/s, table (connections at the end), created, updated, msgs, allocs.
//
// Profiling mode (for callgrind, which counts instructions exactly):
//   engine_bench --profile SCENARIO PACKETS
// builds the scenario, then runs PACKETS packets inside run_packets(); use
//   valgrind --tool=callgrind --toggle-collect='*run_packets*' engine_bench --profile ...
// so that only the per-packet work is counted.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine.hpp"
#include "frames.hpp"
#include "handover/state.hpp"
#include "sync/sync.hpp"
#include "test_config.hpp"  // tests/unit
#include "wire/ipvs_sync.hpp"

// Allocation counter: every operator new in this process (bench/alloc_count.hpp).
#include "alloc_count.hpp"

namespace {

using vs::Duration;
using vs::Instant;
using vs::Ipv4Addr;
using vs::MacAddr;
namespace test = vs::test;

// ---------------------------------------------------------------------------------------------
// Addresses of the bench topology

constexpr MacAddr kWanMac{{0x02, 0, 0, 0, 0x0a, 0x01}};
constexpr MacAddr kLanMac{{0x02, 0, 0, 0, 0x0a, 0x02}};
constexpr MacAddr kGwMac{{0x02, 0, 0, 0, 0x00, 0xfe}};
constexpr MacAddr real_mac(uint32_t i) { return MacAddr{{0x02, 0, 0, 0, 0x01, static_cast<uint8_t>(0x10 + i)}}; }
constexpr Ipv4Addr kWanAddr = Ipv4Addr::from_octets(10, 0, 0, 1);
constexpr Ipv4Addr kLanAddr = Ipv4Addr::from_octets(192, 168, 10, 1);
constexpr Ipv4Addr kGw = Ipv4Addr::from_octets(10, 0, 0, 254);
constexpr Ipv4Addr kVip = Ipv4Addr::from_octets(10, 0, 0, 100);
constexpr uint16_t kVport = 80;
constexpr uint32_t kReals = 3;
constexpr Ipv4Addr real_addr(uint32_t i) { return Ipv4Addr::from_octets(192, 168, 10, static_cast<uint8_t>(11 + i)); }
constexpr uint32_t kClientBase = (172u << 24) | (16u << 16);  // 172.16.0.0/12: 1 048 576 clients
// The IPv6 side of the route/* rows: wan 2001:db8:a::1 (gateway ::fe), lan 2001:db8:b::1, the host
// 2001:db8:b::11 (at real 0's MAC), clients 2001:db8:c::/96.
const vs::Ipv6Addr kWanAddr6 = *vs::Ipv6Addr::parse("2001:db8:a::1");
const vs::Ipv6Addr kLanAddr6 = *vs::Ipv6Addr::parse("2001:db8:b::1");
const vs::Ipv6Addr kGw6 = *vs::Ipv6Addr::parse("2001:db8:a::fe");
const vs::Ipv6Addr kServer6 = *vs::Ipv6Addr::parse("2001:db8:b::11");
const vs::Ipv6Addr kClient6 = *vs::Ipv6Addr::parse("2001:db8:c::");
// The IPv6 service of the est6/* and new6/* rows: VIP 2001:db8:a::100 on wan, reals
// 2001:db8:b::11.. on lan (at real_mac(i)), clients 2001:db8:c::/96 behind the wan gateway.
const vs::Ipv6Addr kVip6 = *vs::Ipv6Addr::parse("2001:db8:a::100");
vs::Ipv6Addr real6(uint32_t i) {
  vs::Ipv6Addr a = *vs::Ipv6Addr::parse("2001:db8:b::11");
  a.b[15] = static_cast<uint8_t>(0x11 + i);
  return a;
}
/// Client number n's IPv6 address (with client_port(n), a distinct tuple, as client_addr).
vs::Ipv6Addr client6(uint64_t n) {
  vs::Ipv6Addr c = kClient6;
  c.b[13] = static_cast<uint8_t>(n >> 16 & 0x0f);
  c.b[14] = static_cast<uint8_t>(n >> 8);
  c.b[15] = static_cast<uint8_t>(n);
  return c;
}

/// Client tuple number n: a distinct (address, port) for every n below 2^20 * 60000.
Ipv4Addr client_addr(uint64_t n) { return Ipv4Addr{kClientBase + static_cast<uint32_t>(n & 0xfffff)}; }
uint16_t client_port(uint64_t n) { return static_cast<uint16_t>(1024 + (n >> 20) % 60000); }

enum class Mode { kNat, kDr, kTun };
const char* mode_name(Mode m) { return m == Mode::kNat ? "nat" : m == Mode::kDr ? "dr" : "tun"; }

/// `sync_state`: a [sync] table on lan in that state ("master", "backup"), none if empty;
/// `tcp_timeout`: [timeouts] tcp in seconds (0: the default, 900).
/// `ipv6`: both families on both interfaces; `ipv6_service`: the IPv6 service too (est6/new6).
std::string config_text(Mode m, uint32_t max_connections, uint32_t extra_services = 0, uint32_t tcp_timeout = 0,
                        const std::string& sync_state = "", bool ipv6 = false, bool ipv6_service = false) {
  const char* method = mode_name(m);
  test::ConfigText c;
  c.seed(1).max_connections(max_connections);
  if (tcp_timeout) c.tcp_timeout(tcp_timeout);
  // route/*: both families on both interfaces (the IPv4 rows too: the same config for both).
  if (ipv6) {
    c.interface("wan", "02:00:00:00:0a:01", {"10.0.0.1/24", "2001:db8:a::1/64"});
    c.interface("lan", "02:00:00:00:0a:02", {"192.168.10.1/24", "2001:db8:b::1/64"});
    c.route("::/0", "2001:db8:a::fe");
  } else {
    c.interface("wan", "02:00:00:00:0a:01", {"10.0.0.1/24"});
    c.interface("lan", "02:00:00:00:0a:02", {"192.168.10.1/24"});
  }
  c.route("0.0.0.0/0", "10.0.0.254");
  c.service("tcp", "10.0.0.100:80", "rr");
  for (uint32_t i = 0; i < kReals; ++i) c.real(real_addr(i).str() + ":80", method);
  // More services (same VIP, other ports): the per-packet checks that scan the service list.
  for (uint32_t i = 0; i < extra_services; ++i)
    c.service("tcp", "10.0.0.100:" + std::to_string(10000 + i)).real(real_addr(0).str() + ":80", method);
  if (ipv6_service) {
    c.service("tcp", "[" + kVip6.str() + "]:80", "rr");
    for (uint32_t i = 0; i < kReals; ++i) c.real("[" + real6(i).str() + "]:80", method);
  }
  std::string t = c.text();
  if (!sync_state.empty()) t += "\n[sync]\ninterface = \"lan\"\nstate = \"" + sync_state + "\"\n";
  return t;
}

// Frames: bench/frames.hpp (shared with health_bench).
using namespace bench;

// ---------------------------------------------------------------------------------------------
// The sink: counts, and keeps the last frame (setup reads where a SYN went).

class CountingSink : public vs::TxSink {
public:
  void transmit(uint32_t iface, std::span<const uint8_t> frame) override {
    ++frames;
    if (frame[0] & 1) ++multicast;  // a group address: the sync master's messages (01:00:5e:00:00:51)
    if (keep_last) {
      last_iface = iface;
      last.assign(frame.begin(), frame.end());
    }
  }
  uint64_t frames = 0, multicast = 0;
  bool keep_last = false;
  uint32_t last_iface = 0;
  std::vector<uint8_t> last;
};

// ---------------------------------------------------------------------------------------------
// Scenarios

enum class Kind { kEstIn, kEstOut, kNew, kHandshake, kRoute };

struct Scenario {
  std::string name;
  Mode mode;
  Kind kind;
  uint32_t flows;
  uint32_t frame_len;
  uint32_t extra_services = 0;
  bool sync = false;         // kHandshake: [sync] state = "master"
  uint32_t tcp_timeout = 0;  // [timeouts] tcp, seconds (0: the default)
  bool v6 = false;           // kRoute: IPv6 datagrams; kEstIn, kNew: the IPv6 service (else IPv4)
};

constexpr uint32_t kHsPackets = 4;  // kHandshake: SYN, SYN-ACK, ACK, ACK per connection

constexpr uint32_t kBurst = 32;           // frames between timer checks (the daemon reads up to 64)
constexpr int64_t kSynRecvUs = 60000000;  // IPVS SYN_RECV timeout: 60 s
constexpr uint32_t kBigTable = 1u << 21;  // 2 097 152 entries: 1 M live stays below 90 % (no defence engages)

class Rig {
public:
  explicit Rig(const Scenario& sc) : sc_(sc) {
    auto cfg = vs::config::parse_config(config_text(sc.mode, kBigTable, sc.extra_services, sc.tcp_timeout,
                                                    sc.sync ? "master" : "", sc.kind == Kind::kRoute || sc.v6,
                                                    sc.v6 && sc.kind != Kind::kRoute));
    if (!cfg) {
      std::fprintf(stderr, "engine_bench: config: %s\n", cfg.error().message.c_str());
      std::exit(2);
    }
    vs::EngineParams params;
    params.neigh.reachable = Duration::seconds(1000000000);  // neighbours never expire in the bench
    engine_ = std::make_unique<vs::Engine>(cfg.value(), sink_, params);
    now_ = Instant::from_micros(1700000000LL * 1000000);
    // As the daemon does (it starts [sync]'s master); the older scenarios were measured without.
    if (sc.kind == Kind::kHandshake) engine_->start(now_);
    if (sc.kind == Kind::kRoute || sc.v6) {  // the IPv6 addresses are the router's once DAD is over (1 s)
      engine_->start(now_);
      now_ = now_ + Duration::seconds(2);
      engine_->on_timer(now_);
    }
    learn_neighbours();
    switch (sc.kind) {
      case Kind::kEstIn:
      case Kind::kEstOut: sc.v6 ? setup_established6() : setup_established(); break;
      case Kind::kNew: sc.v6 ? setup_new6() : setup_new(); break;
      case Kind::kHandshake: setup_handshake(); break;
      case Kind::kRoute: setup_route(); break;
    }
    sink_.frames = 0;
    sink_.multicast = 0;
  }

  const Scenario& scenario() const { return sc_; }
  uint64_t tx() const { return sink_.frames; }
  uint64_t multicast() const { return sink_.multicast; }
  const vs::Engine& engine() const { return *engine_; }

  /// The measured work: `n` frames through on_frame, timers between bursts as in the daemon.
  __attribute__((noinline)) void run_packets(uint64_t n) {
    const uint64_t a0 = g_allocs;
    if (ring_iface_.empty()) loop<false>(n);
    else loop<true>(n);
    allocs_ += g_allocs - a0;
  }
  uint64_t allocs() const { return allocs_; }

private:
  /// kPerSlot: each slot's interface from ring_iface_ (kHandshake: the SYN-ACK comes from lan).
  template <bool kPerSlot>
  void loop(uint64_t n) {
    vs::Engine& e = *engine_;
    const size_t slot = slot_, len = sc_.frame_len, ring = ring_n_;
    const uint32_t iface = iface_;
    const uint8_t* base = ring_.data();
    const uint8_t* ifaces = ring_iface_.data();
    size_t pos = pos_;
    for (uint64_t i = 0; i < n; ++i) {
      if (++burst_ == kBurst) {
        burst_ = 0;
        if (deadline_ && *deadline_ <= now_) e.on_timer(now_);
        deadline_ = e.next_deadline();
      }
      now_ = now_ + dt_;
      e.on_frame(kPerSlot ? ifaces[pos] : iface, std::span<const uint8_t>(base + pos * slot, len), now_);
      if (++pos == ring) pos = 0;
    }
    pos_ = pos;
  }

  void feed(uint32_t iface, const uint8_t* f, size_t len) {
    now_ = now_ + Duration::micros(1);
    engine_->on_frame(iface, std::span<const uint8_t>(f, len), now_);
    if (auto d = engine_->next_deadline(); d && *d <= now_) engine_->on_timer(now_);
  }

  void learn_neighbours() {
    uint8_t f[60];
    build_arp_request(f, kGwMac, kGw, kWanAddr);
    feed(0, f, sizeof f);
    for (uint32_t i = 0; i < kReals; ++i) {
      build_arp_request(f, real_mac(i), real_addr(i), kLanAddr);
      feed(1, f, sizeof f);
    }
    if (sc_.kind != Kind::kRoute && !sc_.v6) return;
    uint8_t ns[86];
    build_ns(ns, kGwMac, kGw6, kWanAddr6);
    feed(0, ns, sizeof ns);
    if (sc_.kind == Kind::kRoute) {
      build_ns(ns, real_mac(0), kServer6, kLanAddr6);
      feed(1, ns, sizeof ns);
      if (engine_->neigh6().size() != 2) fail("the IPv6 neighbours were not learnt");
      return;
    }
    for (uint32_t i = 0; i < kReals; ++i) {
      build_ns(ns, real_mac(i), real6(i), kLanAddr6);
      feed(1, ns, sizeof ns);
    }
    if (engine_->neigh6().size() != 1 + kReals) fail("the IPv6 neighbours were not learnt");
  }

  /// Routing alone, no IPVS: UDP datagrams from `flows` clients (behind the wan gateway) to one
  /// host on lan, IPv4 or IPv6, each forwarded with its TTL or hop limit lowered.
  void setup_route() {
    slot_ = (sc_.frame_len + 63) & ~size_t{63};
    ring_n_ = sc_.flows;
    ring_.assign(slot_ * ring_n_, 0);
    for (uint32_t k = 0; k < ring_n_; ++k) {
      uint8_t* out = ring_.data() + k * slot_;
      if (sc_.v6) {
        vs::Ipv6Addr c = kClient6;
        c.b[12] = static_cast<uint8_t>(k >> 24);
        c.b[13] = static_cast<uint8_t>(k >> 16);
        c.b[14] = static_cast<uint8_t>(k >> 8);
        c.b[15] = static_cast<uint8_t>(k);
        build_udp6(out, sc_.frame_len, kWanMac, kGwMac, c, kServer6, client_port(k), 53);
      } else {
        std::vector<uint8_t> payload(sc_.frame_len - kEth - 28);
        build_udp(out, kWanMac, kGwMac, client_addr(k), real_addr(0), client_port(k), 53, payload);
      }
    }
    iface_ = 0;
    dt_ = Duration::micros(1);
    const uint64_t before = sink_.frames;
    run_packets(ring_n_);
    if (sink_.frames != before + ring_n_) fail("not every datagram was routed");
  }

  /// Which real a SYN went to (from the frame the engine sent): index 0..2.
  uint32_t chosen_real(Ipv4Addr& raddr) const {
    const auto& f = sink_.last;
    const uint8_t* ip = f.data() + kEth;  // TUN: the outer header, whose destination is the real
    raddr = Ipv4Addr{get32(ip + 16)};
    return raddr.v - real_addr(0).v;
  }

  /// Which real a frame the engine sent went to, by its destination MAC (NAT and DR alike).
  uint32_t real_by_mac() const {
    for (uint32_t r = 0; r < kReals; ++r)
      if (std::memcmp(sink_.last.data(), real_mac(r).b.data(), 6) == 0) return r;
    fail("the frame went to no real");
    return 0;
  }

  /// est6/*: the IPv4 setup's handshakes and ring, over the IPv6 service.
  void setup_established6() {
    const uint32_t n = sc_.flows;
    const size_t len = 74;  // Ethernet + IPv6 + TCP, no payload
    uint8_t f[80];
    sink_.keep_last = true;
    for (uint32_t i = 0; i < n; ++i) {
      const vs::Ipv6Addr c = client6(i);
      const uint16_t cp = client_port(i);
      build_tcp6(f, len, kWanMac, kGwMac, c, kVip6, cp, kVport, tcpf::kSyn, 1000, 0);
      const uint64_t before = sink_.frames;
      feed(0, f, len);
      if (sink_.frames != before + 1) fail("IPv6 SYN not forwarded");
      const uint32_t r = real_by_mac();
      if (sc_.mode == Mode::kNat) {
        build_tcp6(f, len, kLanMac, real_mac(r), real6(r), c, kVport, cp, tcpf::kSyn | tcpf::kAck, 5000, 1001);
        feed(1, f, len);
      }
      build_tcp6(f, len, kWanMac, kGwMac, c, kVip6, cp, kVport, tcpf::kAck, 1001, 5001);
      feed(0, f, len);
    }
    sink_.keep_last = false;
    size_t established = 0;
    engine_->director().conns().for_each([&](uint32_t, const vs::conn::Conn& c) {
      if (c.state == vs::conn::TcpState::kEstablished && (c.flags & vs::conn::kFlagIpv6)) ++established;
    });
    if (established != n) fail("IPv6 handshakes did not establish every connection");
    std::vector<uint32_t> order(n);
    for (uint32_t i = 0; i < n; ++i) order[i] = i;
    std::mt19937_64 rng(42);
    std::shuffle(order.begin(), order.end(), rng);
    slot_ = (sc_.frame_len + 63) & ~size_t{63};
    ring_n_ = n;
    ring_.assign(slot_ * n, 0);
    for (uint32_t k = 0; k < n; ++k)
      build_tcp6(ring_.data() + k * slot_, sc_.frame_len, kWanMac, kGwMac, client6(order[k]), kVip6,
                 client_port(order[k]), kVport, tcpf::kAck | tcpf::kPsh, 1001, 5001);
    iface_ = 0;
    dt_ = Duration::micros(1);
  }

  /// new6/*: SYNs from distinct IPv6 clients, as new/*.
  void setup_new6() {
    const uint32_t p = sc_.flows;
    slot_ = 128;
    ring_n_ = std::max<uint32_t>(2 * p, 4096);
    ring_.assign(slot_ * ring_n_, 0);
    for (uint32_t k = 0; k < ring_n_; ++k)
      build_tcp6(ring_.data() + k * slot_, sc_.frame_len, kWanMac, kGwMac, client6(k), kVip6, client_port(k), kVport,
                 tcpf::kSyn, 1000, 0);
    iface_ = 0;
    dt_ = Duration::micros(kSynRecvUs / p);
    run_packets(p + 2 * kBurst);
    const uint32_t live = engine_->director().conns().size();
    if (live + 2 * kBurst < p || live > p + 2 * kBurst) fail("IPv6 new-connection steady state not reached");
  }

  void setup_established() {
    const uint32_t n = sc_.flows;
    uint8_t f[64];
    std::vector<Ipv4Addr> real_of(n);
    sink_.keep_last = true;
    for (uint32_t i = 0; i < n; ++i) {
      const Ipv4Addr c = client_addr(i);
      const uint16_t cp = client_port(i);
      build_tcp(f, 54, kWanMac, kGwMac, c, kVip, cp, kVport, tcpf::kSyn, 1000, 0);
      const uint64_t before = sink_.frames;
      feed(0, f, 54);
      if (sink_.frames != before + 1) fail("SYN not forwarded");
      Ipv4Addr raddr;
      const uint32_t r = chosen_real(raddr);
      real_of[i] = raddr;
      if (sc_.mode == Mode::kNat) {
        build_tcp(f, 54, kLanMac, real_mac(r), raddr, c, kVport, cp, tcpf::kSyn | tcpf::kAck, 5000, 1001);
        feed(1, f, 54);
      }
      build_tcp(f, 54, kWanMac, kGwMac, c, kVip, cp, kVport, tcpf::kAck, 1001, 5001);
      feed(0, f, 54);
    }
    sink_.keep_last = false;
    sink_.last.clear();
    sink_.last.shrink_to_fit();
    size_t established = 0;
    engine_->director().conns().for_each([&](uint32_t, const vs::conn::Conn& c) {
      if (c.state == vs::conn::TcpState::kEstablished) ++established;
    });
    if (established != n) fail("handshakes did not establish every connection");

    // The ring: one data segment per connection, in a shuffled order.
    std::vector<uint32_t> order(n);
    for (uint32_t i = 0; i < n; ++i) order[i] = i;
    std::mt19937_64 rng(42);
    std::shuffle(order.begin(), order.end(), rng);
    slot_ = (sc_.frame_len + 63) & ~size_t{63};
    ring_n_ = n;
    ring_.assign(slot_ * n, 0);
    for (uint32_t k = 0; k < n; ++k) {
      const uint32_t i = order[k];
      uint8_t* out = ring_.data() + k * slot_;
      if (sc_.kind == Kind::kEstIn) {
        iface_ = 0;
        build_tcp(out, sc_.frame_len, kWanMac, kGwMac, client_addr(i), kVip, client_port(i), kVport,
                  tcpf::kAck | tcpf::kPsh, 1001, 5001);
      } else {
        iface_ = 1;
        const uint32_t r = real_of[i].v - real_addr(0).v;
        build_tcp(out, sc_.frame_len, kLanMac, real_mac(r), real_of[i], client_addr(i), kVport, client_port(i),
                  tcpf::kAck | tcpf::kPsh, 5001, 1001);
      }
    }
    dt_ = Duration::micros(1);
  }

  void setup_new() {
    const uint32_t p = sc_.flows;
    slot_ = 64;
    ring_n_ = std::max<uint32_t>(2 * p, 4096);  // a tuple comes back only long after its connection expired
    ring_.assign(slot_ * ring_n_, 0);
    for (uint32_t k = 0; k < ring_n_; ++k)
      build_tcp(ring_.data() + k * slot_, sc_.frame_len, kWanMac, kGwMac, client_addr(k), kVip, client_port(k), kVport,
                tcpf::kSyn, 1000, 0);
    iface_ = 0;
    dt_ = Duration::micros(kSynRecvUs / p);
    // Warm up to the steady state: the table holds `p` connections, one expires per SYN.
    run_packets(p + 2 * kBurst);
    const uint32_t live = engine_->director().conns().size();
    if (live + 2 * kBurst < p || live > p + 2 * kBurst) fail("new-connection steady state not reached");
  }

  /// New connections that live and are synced: per connection the client's SYN, the real's
  /// SYN-ACK, the client's ACK (ESTABLISHED) and a second ACK, the client's packet 3
  /// (sync_threshold: the master sends it, the kernel's rule for TCP). rr over 3 reals from a
  /// fresh cursor sends connection k to real k % 3, so the ring holds a multiple of 3 connections
  /// and the warm-up checks that every handshake completed.
  void setup_handshake() {
    const uint32_t p = sc_.flows;
    const uint32_t conns = (std::max<uint32_t>(2 * p, 4096) + kReals - 1) / kReals * kReals;
    slot_ = 64;
    ring_n_ = size_t{kHsPackets} * conns;
    ring_.assign(slot_ * ring_n_, 0);
    ring_iface_.assign(ring_n_, 0);
    for (uint32_t k = 0; k < conns; ++k) {
      const Ipv4Addr c = client_addr(k);
      const uint16_t cp = client_port(k);
      const uint32_t r = k % kReals;
      const size_t at = size_t{kHsPackets} * k;
      uint8_t* f = ring_.data() + at * slot_;
      build_tcp(f, sc_.frame_len, kWanMac, kGwMac, c, kVip, cp, kVport, tcpf::kSyn, 1000, 0);
      build_tcp(f + slot_, sc_.frame_len, kLanMac, real_mac(r), real_addr(r), c, kVport, cp, tcpf::kSyn | tcpf::kAck,
                5000, 1001);
      ring_iface_[at + 1] = 1;
      build_tcp(f + 2 * slot_, sc_.frame_len, kWanMac, kGwMac, c, kVip, cp, kVport, tcpf::kAck, 1001, 5001);
      build_tcp(f + 3 * slot_, sc_.frame_len, kWanMac, kGwMac, c, kVip, cp, kVport, tcpf::kAck, 1001, 5001);
    }
    iface_ = 0;
    // The table holds `p` connections: each lives tcp_timeout after its last packet.
    dt_ = Duration::micros(int64_t{sc_.tcp_timeout} * 1000000 / p / kHsPackets);
    const uint32_t warm = p + 2 * kBurst;
    run_packets(uint64_t{kHsPackets} * warm);
    const uint32_t live = engine_->director().conns().size();
    if (live + 2 * kBurst < p || live > p + 2 * kBurst) fail("new-connection steady state not reached");
    uint32_t established = 0;
    engine_->director().conns().for_each([&](uint32_t, const vs::conn::Conn& c) {
      if (c.state == vs::conn::TcpState::kEstablished) ++established;
    });
    if (established != live) fail("a handshake did not establish its connection (rr order?)");
    const auto& sc = engine_->sync().counters();
    const uint64_t queued = engine_->sync().next_deadline() ? 1 : 0;  // a message waiting for more entries
    if (sc_.sync && (sc.entries_sent > warm || sc.entries_sent + 255 * queued < warm))
      fail("the master did not send one entry per connection");
    if (sc_.sync ? sink_.multicast != sc.messages_sent : sink_.multicast != 0)
      fail("sync messages in the sink and the daemon's count differ");
  }

  [[noreturn]] void fail(const char* what) const {
    std::fprintf(stderr, "engine_bench: %s: %s\n", sc_.name.c_str(), what);
    std::exit(2);
  }

  Scenario sc_;
  CountingSink sink_;
  std::unique_ptr<vs::Engine> engine_;
  Instant now_;
  Duration dt_{1};
  std::optional<Instant> deadline_;
  uint32_t burst_ = 0;
  std::vector<uint8_t> ring_;
  std::vector<uint8_t> ring_iface_;  // kHandshake: each slot's interface (else all iface_)
  size_t slot_ = 64, ring_n_ = 1, pos_ = 0;
  uint32_t iface_ = 0;
  uint64_t allocs_ = 0;
};

std::vector<Scenario> scenarios() {
  std::vector<Scenario> v;
  auto flows_name = [](uint32_t f) {
    return f >= 1000000 ? std::to_string(f / 1000000) + "M"
           : f >= 1000  ? std::to_string(f / 1000) + "k"
                        : std::to_string(f);
  };
  for (Mode m : {Mode::kNat, Mode::kDr, Mode::kTun})
    for (uint32_t flows : {1u, 1000000u})
      v.push_back(
          {std::string("est/") + mode_name(m) + "/in/" + flows_name(flows) + "/64", m, Kind::kEstIn, flows, 64});
  for (uint32_t flows : {1u, 1000000u})
    v.push_back({"est/nat/out/" + flows_name(flows) + "/64", Mode::kNat, Kind::kEstOut, flows, 64});
  // Full-size frames: 1500-byte IP packets; TUN 1480 so that the IPIP packet fits the 1500 MTU.
  for (Mode m : {Mode::kNat, Mode::kDr, Mode::kTun}) {
    const uint32_t len = m == Mode::kTun ? 1494 : 1514;
    v.push_back({std::string("est/") + mode_name(m) + "/in/1/" + std::to_string(len), m, Kind::kEstIn, 1, len});
  }
  // 1000 more services: what a bigger config costs every packet.
  v.push_back({"est/nat/in/1/64/1000-services", Mode::kNat, Kind::kEstIn, 1, 64, 1000});
  // New connections: "1" would need 60 s of virtual time per SYN, which makes the 2 s rate
  // estimator catch up 30 ticks per packet; 1 k live connections is the small-table case.
  for (Mode m : {Mode::kNat, Mode::kDr, Mode::kTun})
    for (uint32_t flows : {1000u, 1000000u})
      v.push_back({std::string("new/") + mode_name(m) + "/" + flows_name(flows), m, Kind::kNew, flows, 54});
  // Routing alone (no IPVS in the path), IPv4 beside IPv6: what the family costs the router.
  for (bool v6 : {false, true})
    for (uint32_t flows : {1u, 1000u})
      v.push_back({std::string("route/") + (v6 ? "v6/" : "v4/") + flows_name(flows) + "/64", Mode::kNat, Kind::kRoute,
                   flows, 64, 0, false, 0, v6});
  // IPv6 connections beside the IPv4 rows above (NAT and DR; 74 bytes: Ethernet, IPv6, TCP), the
  // IPv6 service on a director that also has the IPv4 one, as a dual-stack director would.
  for (Mode m : {Mode::kNat, Mode::kDr})
    for (uint32_t flows : {1u, 1000000u})
      v.push_back({std::string("est6/") + mode_name(m) + "/in/" + flows_name(flows) + "/74", m, Kind::kEstIn, flows, 74,
                   0, false, 0, true});
  for (uint32_t flows : {1000u, 1000000u})
    v.push_back({"new6/nat/" + flows_name(flows), Mode::kNat, Kind::kNew, flows, 74, 0, false, 0, true});
  // New connections synced by a master, and the same without [sync]: 4 packets per connection.
  // tcp 2 s with 1 k live: 500 connections a second of virtual time, enough to fill a message
  // (40 entries) before its flush (0.1 s); 60 s with 1 M.
  for (uint32_t flows : {1000u, 1000000u})
    for (bool sync : {false, true})
      v.push_back({"new/nat/" + flows_name(flows) + (sync ? "/sync" : "/nosync"), Mode::kNat, Kind::kHandshake, flows,
                   54, 0, sync, flows >= 1000000 ? 60u : 2u});
  return v;
}

// One rig alive at a time: Google Benchmark calls a benchmark function several times while it
// sizes the iteration count; the rig (up to ~1 GB for 1 M flows) is built once per scenario.
std::unique_ptr<Rig> g_rig;

Rig& rig_for(const Scenario& sc) {
  if (!g_rig || g_rig->scenario().name != sc.name) {
    g_rig.reset();
    g_rig = std::make_unique<Rig>(sc);
  }
  return *g_rig;
}

constexpr uint64_t kChunk = 256;  // packets per benchmark iteration

void bm_packets(benchmark::State& state, Scenario sc) {
  Rig& rig = rig_for(sc);
  const uint64_t tx0 = rig.tx();
  const uint64_t a0 = rig.allocs();
  const uint64_t mc0 = rig.multicast(), entries0 = rig.engine().sync().counters().entries_sent;
  for (auto _ : state) rig.run_packets(kChunk);
  const double pkts = static_cast<double>(state.iterations()) * kChunk;
  state.SetItemsProcessed(static_cast<int64_t>(pkts));
  state.counters["Mpps"] = benchmark::Counter(pkts / 1e6, benchmark::Counter::kIsRate);
  state.counters["tx/pkt"] = static_cast<double>(rig.tx() - tx0) / pkts;
  state.counters["allocs"] = static_cast<double>(rig.allocs() - a0);  // inside run_packets: per-packet work only
  state.counters["live_conns"] = static_cast<double>(rig.engine().director().conns().size());
  if (sc.kind == Kind::kHandshake) {
    const double conns = pkts / kHsPackets;
    state.counters["Mconn/s"] = benchmark::Counter(conns / 1e6, benchmark::Counter::kIsRate);
    state.counters["msgs/conn"] = static_cast<double>(rig.multicast() - mc0) / conns;
    state.counters["entries/conn"] =
        static_cast<double>(rig.engine().sync().counters().entries_sent - entries0) / conns;
  }
}

// ---------------------------------------------------------------------------------------------
// A backup applying a master's connections: sync/apply/1M, sync/apply/1M/update

constexpr Ipv4Addr kMasterAddr = Ipv4Addr::from_octets(192, 168, 10, 2);  // the master, on lan
constexpr MacAddr kMasterMac{{0x02, 0, 0, 0, 0x0a, 0x03}};
constexpr uint32_t kSyncConns = 1000000;
constexpr size_t kSyncSlot = 1536;  // a 1514-byte frame (1472-byte message) in 64-byte units

/// The master's messages for kSyncConns ESTABLISHED NAT connections, as UDP frames on lan.
struct SyncFrames {
  std::vector<uint8_t> ring;  // kSyncSlot per frame
  std::vector<uint16_t> len;
  uint32_t entries = 0;
};
std::unique_ptr<SyncFrames> g_sync_frames;

const SyncFrames& sync_frames() {
  if (g_sync_frames) return *g_sync_frames;
  auto f = std::make_unique<SyncFrames>();
  std::vector<uint8_t> msg(1472);  // the kernel's sync_maxlen for a 1500-byte MTU: 40 entries
  vs::wire::SyncWriter w(msg);
  auto emit = [&] {
    const size_t at = f->ring.size();
    f->ring.resize(at + kSyncSlot);
    const MacAddr group{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x51}};  // 224.0.0.81
    f->len.push_back(static_cast<uint16_t>(build_udp(f->ring.data() + at, group, kMasterMac, kMasterAddr,
                                                     Ipv4Addr{vs::wire::kSyncGroup}, vs::wire::kSyncPort,
                                                     vs::wire::kSyncPort, w.message(), 1)));
    w.reset();
  };
  for (uint32_t i = 0; i < kSyncConns; ++i) {
    vs::wire::SyncEntry e;
    e.protocol = 6;
    e.flags = vs::wire::sync_flag::kMasq;
    e.state = static_cast<uint16_t>(vs::conn::TcpState::kEstablished);
    e.caddr = client_addr(i);
    e.cport = client_port(i);
    e.vaddr = kVip;
    e.vport = kVport;
    e.daddr = real_addr(i % kReals);
    e.dport = kVport;
    e.timeout_s = 900;
    if (!w.add(e)) {
      emit();
      w.add(e);
    }
    f->entries++;
  }
  if (w.count()) emit();
  g_sync_frames = std::move(f);
  return *g_sync_frames;
}

/// A backup director ([sync] state = "backup" on lan) fed the master's frames.
class Backup {
public:
  Backup() {
    auto cfg = vs::config::parse_config(config_text(Mode::kNat, kBigTable, 0, 0, "backup"));
    if (!cfg) {
      std::fprintf(stderr, "engine_bench: config: %s\n", cfg.error().message.c_str());
      std::exit(2);
    }
    vs::EngineParams params;
    params.neigh.reachable = Duration::seconds(1000000000);
    engine_ = std::make_unique<vs::Engine>(cfg.value(), sink_, params);
    now_ = Instant::from_micros(1700000000LL * 1000000);
    engine_->start(now_);
  }
  /// Every frame once, 1 µs of virtual time apart, timers between bursts as in the daemon.
  __attribute__((noinline)) void apply_frames(const SyncFrames& f) {
    vs::Engine& e = *engine_;
    for (size_t i = 0; i < f.len.size(); ++i) {
      if (++burst_ == kBurst) {
        burst_ = 0;
        if (deadline_ && *deadline_ <= now_) e.on_timer(now_);
        deadline_ = e.next_deadline();
      }
      now_ = now_ + Duration::micros(1);
      e.on_frame(1, std::span<const uint8_t>(f.ring.data() + i * kSyncSlot, f.len[i]), now_);
    }
  }
  const vs::Engine& engine() const { return *engine_; }
  vs::Engine::AdoptReport adopt(const vs::handover::State& s, Instant now) { return engine_->adopt(s, now); }
  uint64_t tx() const { return sink_.frames; }

private:
  CountingSink sink_;
  std::unique_ptr<vs::Engine> engine_;
  Instant now_;
  std::optional<Instant> deadline_;
  uint32_t burst_ = 0;
};

uint64_t entries(const vs::sync::Counters& c, vs::sync::EntryResult r) { return c.entries[static_cast<size_t>(r)]; }

/// `update`: the backup has every connection before timing (a first pass): the timed pass
/// updates them (state, timeout, activity) instead of creating them.
void bm_sync_apply(benchmark::State& state, bool update) {
  g_rig.reset();
  const SyncFrames& f = sync_frames();
  Backup b;
  if (update) b.apply_frames(f);
  const vs::sync::Counters c0 = b.engine().sync().counters();
  const uint64_t a0 = g_allocs;
  for (auto _ : state) b.apply_frames(f);
  const uint64_t allocs = g_allocs - a0;
  const vs::sync::Counters& c = b.engine().sync().counters();
  const double n = static_cast<double>(state.iterations()) * f.entries;
  using vs::sync::EntryResult;
  const uint64_t created = entries(c, EntryResult::kCreated) - entries(c0, EntryResult::kCreated);
  const uint64_t updated = entries(c, EntryResult::kUpdated) - entries(c0, EntryResult::kUpdated);
  const uint32_t table = b.engine().director().conns().size();
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["Mentries/s"] = benchmark::Counter(n / 1e6, benchmark::Counter::kIsRate);
  state.counters["msgs"] = static_cast<double>(c.messages_received - c0.messages_received);
  state.counters["created"] = static_cast<double>(created);
  state.counters["updated"] = static_cast<double>(updated);
  state.counters["table"] = table;
  state.counters["allocs"] = static_cast<double>(allocs);
  state.counters["tx"] = static_cast<double>(b.tx());  // a backup sends nothing
  if (table != f.entries) state.SkipWithError("the backup's table does not hold every connection");
  else if ((update ? updated : created) != uint64_t(state.iterations()) * f.entries)
    state.SkipWithError("not every entry was applied as expected");
}

// ---------------------------------------------------------------------------------------------
// Handover of 1 M connections: handover/1M (docs/handover.md)

/// A director with the 1 M ESTABLISHED connections of sync/apply/1M hands them over to another:
/// the old side's Engine::snapshot and handover::encode, the new side's handover::decode and
/// Engine::adopt, each timed (wall time, CPU-bound). What the daemon adds between them is the
/// stream's copy through a Unix socket (its size is reported).
void bm_handover(benchmark::State& state) {
  g_rig.reset();
  const SyncFrames& f = sync_frames();
  Backup from;
  from.apply_frames(f);
  const Instant now = Instant::from_micros(1700000000LL * 1000000 + 2000000);
  double snap_s = 0, adopt_s = 0;
  size_t bytes = 0;
  uint32_t adopted = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Backup to;  // built before the old side stops reading, as the daemon does
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<uint8_t> stream = vs::handover::encode(from.engine().snapshot(now));
    const auto t1 = std::chrono::steady_clock::now();
    auto st = vs::handover::decode(stream);
    if (!st) {
      state.SkipWithError(st.error().message.c_str());
      return;
    }
    adopted = to.adopt(st.value(), now).conns.taken;
    const auto t2 = std::chrono::steady_clock::now();
    snap_s += std::chrono::duration<double>(t1 - t0).count();
    adopt_s += std::chrono::duration<double>(t2 - t1).count();
    bytes = stream.size();
  }
  const double n = static_cast<double>(state.iterations()) * f.entries;
  state.counters["Mentries/s"] = n / 1e6 / (snap_s + adopt_s);
  state.counters["snapshot_ms"] = snap_s * 1e3 / static_cast<double>(state.iterations());
  state.counters["adopt_ms"] = adopt_s * 1e3 / static_cast<double>(state.iterations());
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["adopted"] = adopted;
  if (adopted != f.entries) state.SkipWithError("the new side did not adopt every connection");
}

// ---------------------------------------------------------------------------------------------
// Memory: RSS with 1 M connections

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

void bm_memory(benchmark::State& state) {
  g_rig.reset();
  g_sync_frames.reset();
  constexpr uint32_t kConns = 1000000;
  double before = 0, with_engine = 0, with_conns = 0;
  uint32_t live = 0;
  for (auto _ : state) {
    before = static_cast<double>(rss_kib()) * 1024;
    CountingSink sink;
    sink.keep_last = true;
    auto cfg = vs::config::parse_config(config_text(Mode::kNat, 1048576));  // the default max_connections
    vs::EngineParams params;
    params.neigh.reachable = Duration::seconds(1000000000);
    auto e = std::make_unique<vs::Engine>(cfg.value(), sink, params);
    Instant now = Instant::from_micros(1700000000LL * 1000000);
    uint8_t f[64];
    build_arp_request(f, kGwMac, kGw, kWanAddr);
    e->on_frame(0, std::span<const uint8_t>(f, 60), now);
    for (uint32_t i = 0; i < kReals; ++i) {
      build_arp_request(f, real_mac(i), real_addr(i), kLanAddr);
      e->on_frame(1, std::span<const uint8_t>(f, 60), now);
    }
    with_engine = static_cast<double>(rss_kib()) * 1024;
    for (uint32_t i = 0; i < kConns; ++i) {
      now = now + Duration::micros(1);
      build_tcp(f, 54, kWanMac, kGwMac, client_addr(i), kVip, client_port(i), kVport, tcpf::kSyn, 1000, 0);
      e->on_frame(0, std::span<const uint8_t>(f, 54), now);
      const uint32_t r = get32(sink.last.data() + kEth + 16) - real_addr(0).v;  // where the SYN went
      build_tcp(f, 54, kLanMac, real_mac(r), real_addr(r), client_addr(i), kVport, client_port(i),
                tcpf::kSyn | tcpf::kAck, 5000, 1001);
      e->on_frame(1, std::span<const uint8_t>(f, 54), now);
      build_tcp(f, 54, kWanMac, kGwMac, client_addr(i), kVip, client_port(i), kVport, tcpf::kAck, 1001, 5001);
      e->on_frame(0, std::span<const uint8_t>(f, 54), now);
      if ((i & 63) == 0)
        if (auto d = e->next_deadline(); d && *d <= now) e->on_timer(now);
    }
    with_conns = static_cast<double>(rss_kib()) * 1024;
    live = e->director().conns().size();
    uint32_t established = 0;
    e->director().conns().for_each([&](uint32_t, const vs::conn::Conn& c) {
      if (c.state == vs::conn::TcpState::kEstablished) ++established;
    });
    if (established != kConns) state.SkipWithError("not every connection is ESTABLISHED");
  }
  state.counters["conns"] = live;
  state.counters["rss_before_engine_MB"] = before / 1e6;
  state.counters["engine_at_start_MB"] = (with_engine - before) / 1e6;
  state.counters["engine_1M_MB"] = (with_conns - before) / 1e6;
  state.counters["bytes/conn"] = (with_conns - with_engine) / live;
  state.counters["sizeof_Conn"] = sizeof(vs::conn::Conn);
}

int profile_main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: engine_bench --profile SCENARIO PACKETS\nscenarios:");
    for (const auto& s : scenarios()) std::fprintf(stderr, " %s", s.name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  for (const auto& s : scenarios()) {
    if (s.name != argv[2]) continue;
    Rig rig(s);
    const uint64_t n = std::strtoull(argv[3], nullptr, 10);
    const uint64_t a0 = rig.allocs();
    rig.run_packets(n);
    std::printf("%s: %" PRIu64 " packets, %" PRIu64 " frames sent, %" PRIu64 " allocations, %u live connections\n",
                s.name.c_str(), n, rig.tx(), rig.allocs() - a0, rig.engine().director().conns().size());
    return 0;
  }
  std::fprintf(stderr, "engine_bench: unknown scenario %s\n", argv[2]);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--profile") return profile_main(argc, argv);
  for (const auto& s : scenarios())
    benchmark::RegisterBenchmark(s.name.c_str(), bm_packets, s)->MinTime(0.5)->Repetitions(3);
  // One pass over 1 M entries per repetition (a new backup each time).
  benchmark::RegisterBenchmark("sync/apply/1M", bm_sync_apply, false)
      ->Iterations(1)
      ->Repetitions(3)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("sync/apply/1M/update", bm_sync_apply, true)
      ->Iterations(1)
      ->Repetitions(3)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("handover/1M", bm_handover)
      ->Iterations(1)
      ->Repetitions(3)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("memory/nat/1M", bm_memory)->Iterations(1)->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// Floods and exhaustion (docs/hardening.md): the connection table's defences against SYN floods
// ([defense] drop_entry and secure_tcp), the neighbour cache and its queues under ARP floods and
// packets to unresolved next hops, and what the router sends to sources it cannot verify (ICMP
// error sizes and rate, echo replies). The 1 M-SYN replay is tests/flood/flood.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine.hpp"
#include "ipvs/director.hpp"
#include "test_config.hpp"
#include "test_frames.hpp"
#include "wire/tcp.hpp"

namespace vs {
namespace {

using ipvs::Decision;
using ipvs::Director;
using Kind = Decision::Kind;
using test::ByteVec;
using test::frame;
using test::ip4;
namespace tf = vs::tcp_flag;

constexpr IpProto kTcp = IpProto::kTcp;
constexpr Ipv4Addr kVip = ip4(10, 0, 0, 100);

Instant at(int64_t s) { return Instant::from_micros(s * 1000000); }
Instant at_ms(int64_t ms) { return Instant::from_micros(ms * 1000); }

// =============================================================================================
// The director's defences, without packet bytes

/// wan/lan; 10.0.0.100:80 rr over 192.168.1.11 and .12 (DR), 10.0.0.100:443 persistent on .11.
test::ConfigText two_services(uint32_t max_conns) {
  test::ConfigText c = test::wan_lan();
  c.max_connections(max_conns);
  c.service("tcp", "10.0.0.100:80", "rr").real("192.168.1.11:80").real("192.168.1.12:80");
  c.service("tcp", "10.0.0.100:443", "rr").persistence(300).real("192.168.1.11:443");
  return c;
}

class DefenseTest : public ::testing::Test {
protected:
  void build(const test::ConfigText& config) {
    cfg_ = config.parse();
    dir_ = std::make_unique<Director>(*cfg_, 1);
  }
  Director& dir() { return *dir_; }
  /// One client packet to VIP:port, accounted as the engine does (classify, in_packet, put).
  Decision send(uint32_t client, uint16_t cport, uint8_t flags, Instant now, uint16_t vport = 80) {
    clock_ = std::max(clock_, now);
    FlowKey k{Ipv4Addr{client}, kVip, cport, vport, kTcp};
    Decision d = dir_->classify({k, flags}, now);
    if (d.kind == Kind::kIn) {
      dir_->in_packet(d.conn, flags, 40, now);
      dir_->put(d.conn, now);
    }
    return d;
  }
  bool known(uint32_t client, uint16_t cport, uint16_t vport = 80) {
    return dir_->lookup(FlowKey{Ipv4Addr{client}, kVip, cport, vport, kTcp}).has_value();
  }
  /// Timers as the replay fires them: each at its deadline, never before the clock.
  void run_timers(Instant until) {
    while (auto t = dir_->next_deadline()) {
      if (*t > until) break;
      clock_ = std::max(clock_, *t);
      dir_->on_timer(clock_);
    }
  }
  uint64_t evicted() { return dir_->drops()[DropReason::kConnEvictedHalfOpen]; }
  uint64_t expired_early() { return dir_->drops()[DropReason::kConnExpiredHalfOpen]; }

  std::shared_ptr<const config::Config> cfg_;
  std::unique_ptr<Director> dir_;
  Instant clock_{};
};

constexpr uint32_t kClient = 0xac100001;  // 172.16.0.1; spoofed sources count up from 11.0.0.0
constexpr uint32_t kSpoof = 0x0b000000;

TEST_F(DefenseTest, DropEntryEvictsTheLeastRecentlyActiveHalfOpenConnection) {
  build(two_services(4).secure_tcp("off"));
  // Two established connections, then two half-open ones (spoofed SYNs at 1 s and 2 s).
  send(kClient, 1, tf::kSyn, at(0));
  send(kClient, 1, tf::kAck, at(0));
  send(kClient, 2, tf::kSyn, at(0));
  send(kClient, 2, tf::kAck, at(0));
  send(kSpoof + 1, 9, tf::kSyn, at(1));
  send(kSpoof + 2, 9, tf::kSyn, at(2));
  // The first spoofed source retransmits its SYN: now the second is the least recently active.
  send(kSpoof + 1, 9, tf::kSyn, at(3));
  EXPECT_EQ(dir().conns().half_open_size(), 2u);
  ASSERT_EQ(dir().conns().size(), 4u);

  Decision d = send(kClient, 3, tf::kSyn, at(4));
  EXPECT_EQ(d.kind, Kind::kIn) << "the new client gets an entry";
  EXPECT_EQ(evicted(), 1u);
  EXPECT_FALSE(known(kSpoof + 2, 9)) << "the least recently active half-open entry went";
  EXPECT_TRUE(known(kSpoof + 1, 9));
  EXPECT_TRUE(known(kClient, 1));
  EXPECT_TRUE(known(kClient, 2));
  EXPECT_EQ(dir().refused_full(), 0u);
  EXPECT_EQ(dir().conns_freed(), 1u);
}

TEST_F(DefenseTest, DropEntryNeverEvictsAnEstablishedConnectionOrATemplate) {
  build(two_services(3));
  // A persistent client: its template and its connection, established; one more established.
  send(kClient, 1, tf::kSyn, at(0), 443);
  send(kClient, 1, tf::kAck, at(0), 443);
  send(kClient, 2, tf::kSyn, at(0));
  send(kClient, 2, tf::kAck, at(0));
  ASSERT_EQ(dir().conns().size(), 3u);
  Decision d = send(kSpoof, 9, tf::kSyn, at(1));
  EXPECT_EQ(d.kind, Kind::kDrop);
  EXPECT_EQ(d.reason, DropReason::kConnTableFull);
  EXPECT_EQ(evicted(), 0u);
  EXPECT_EQ(dir().refused_full(), 1u);
  EXPECT_TRUE(known(kClient, 1, 443));
  EXPECT_TRUE(known(kClient, 2));
}

TEST_F(DefenseTest, DropEntryKeepsTheTemplateOfAnEvictedConnection) {
  build(two_services(3).secure_tcp("off"));
  send(kClient, 1, tf::kSyn, at(0), 443);  // template + half-open connection
  send(kClient, 2, tf::kSyn, at(1));       // half-open
  ASSERT_EQ(dir().conns().size(), 3u);
  EXPECT_EQ(send(kSpoof, 9, tf::kSyn, at(2)).kind, Kind::kIn);
  EXPECT_EQ(evicted(), 1u);
  EXPECT_FALSE(known(kClient, 1, 443));
  // The client comes back on a new port: its template still sends it to the same real.
  EXPECT_EQ(send(kClient, 3, tf::kSyn, at(3), 443).kind, Kind::kIn);
  EXPECT_EQ(evicted(), 2u);  // client 2's half-open entry made room
}

TEST_F(DefenseTest, WithoutDropEntryAFullTableRefusesNewConnections) {
  build(two_services(2).drop_entry(false).secure_tcp("off"));
  send(kSpoof + 1, 9, tf::kSyn, at(0));
  send(kSpoof + 2, 9, tf::kSyn, at(0));
  Decision d = send(kClient, 1, tf::kSyn, at(1));
  EXPECT_EQ(d.kind, Kind::kDrop);
  EXPECT_EQ(d.reason, DropReason::kConnTableFull);
  EXPECT_EQ(evicted(), 0u);
  // SYN_RECV lasts 60 s: the table recovers when the half-open entries expire.
  run_timers(at(59));
  EXPECT_EQ(dir().conns().size(), 2u);
  run_timers(at(60));
  EXPECT_EQ(dir().conns().size(), 0u);
  EXPECT_EQ(send(kClient, 1, tf::kSyn, at(61)).kind, Kind::kIn);
}

TEST_F(DefenseTest, SecureTcpAutoTrimsHalfOpenEntriesDownToHighWater) {
  build(two_services(10).high_water(50).syn_timeout(5));
  for (uint32_t i = 0; i < 4; ++i) send(kSpoof + i, 9, tf::kSyn, at(0));
  EXPECT_FALSE(dir().secure_tcp_engaged()) << "4 of 10 entries: below 50 %";
  EXPECT_EQ(dir().next_deadline(), at(2)) << "only the rate estimator; SYN_RECV lasts 60 s";
  run_timers(at(10));
  EXPECT_EQ(dir().conns().size(), 4u) << "not engaged: half-open entries keep their 60 s";

  send(kSpoof + 4, 9, tf::kSyn, at(10));  // 5 of 10: engaged
  EXPECT_TRUE(dir().secure_tcp_engaged());
  run_timers(at(10));
  // The oldest idle half-open entry (idle 10 s >= 5 s) goes; 4 of 10 is below high water again.
  EXPECT_EQ(expired_early(), 1u);
  EXPECT_EQ(dir().conns().size(), 4u);
  EXPECT_FALSE(dir().secure_tcp_engaged());
  EXPECT_FALSE(known(kSpoof + 0, 9));
  EXPECT_TRUE(known(kSpoof + 4, 9));
}

TEST_F(DefenseTest, SecureTcpAlwaysExpiresHalfOpenEntriesSynTimeoutAfterTheirLastPacket) {
  build(two_services(100).secure_tcp("always").syn_timeout(5));
  send(kSpoof, 9, tf::kSyn, at(0));
  send(kSpoof, 9, tf::kSyn, at(3));  // a retransmission re-arms
  send(kClient, 1, tf::kSyn, at(3));
  send(kClient, 1, tf::kAck, at(4));  // a real client completes its handshake: ESTABLISHED
  EXPECT_EQ(dir().conns().half_open_size(), 1u);
  run_timers(at(7));
  EXPECT_TRUE(known(kSpoof, 9));
  run_timers(at(8));
  EXPECT_FALSE(known(kSpoof, 9)) << "expired at 3 + 5 s";
  EXPECT_EQ(expired_early(), 1u);
  run_timers(at(800));
  EXPECT_TRUE(known(kClient, 1)) << "established connections keep their 900 s";
  EXPECT_EQ(expired_early(), 1u);
}

TEST_F(DefenseTest, SecureTcpOffLeavesHalfOpenEntriesTheirSixtySeconds) {
  build(two_services(2).secure_tcp("off"));
  send(kSpoof + 1, 9, tf::kSyn, at(0));
  send(kSpoof + 2, 9, tf::kSyn, at(0));
  run_timers(at(59));
  EXPECT_EQ(dir().conns().size(), 2u);
  EXPECT_EQ(expired_early(), 0u);
}

TEST_F(DefenseTest, AReloadChangesTheDefenses) {
  build(two_services(2).drop_entry(false).secure_tcp("off"));
  send(kSpoof + 1, 9, tf::kSyn, at(0));
  send(kSpoof + 2, 9, tf::kSyn, at(0));
  EXPECT_EQ(send(kClient, 1, tf::kSyn, at(1)).kind, Kind::kDrop);
  auto next = two_services(2).secure_tcp("always").syn_timeout(10).parse();
  dir().apply_config(*next);
  EXPECT_TRUE(dir().defense().drop_entry);
  EXPECT_TRUE(dir().secure_tcp_engaged());
  EXPECT_EQ(send(kClient, 1, tf::kSyn, at(2)).kind, Kind::kIn);
  EXPECT_EQ(evicted(), 1u);
  run_timers(at(10));
  EXPECT_EQ(expired_early(), 1u) << "the other spoofed entry, idle since 0 s";
  EXPECT_TRUE(known(kClient, 1));
}

TEST_F(DefenseTest, ASynFloodNeverTouchesEstablishedConnections) {
  // 64 entries, 16 established clients, then 100 000 spoofed SYNs at 10 000 per second while the
  // clients keep talking and 17 new clients connect: nobody real is refused or evicted. A half-open
  // entry lives (half-open slots) / (SYN rate), here about 48 / 10 000 s: a handshake with a 1 ms
  // round trip completes.
  build(two_services(64));
  for (uint16_t p = 1; p <= 16; ++p) {
    send(kClient, p, tf::kSyn, at(0));
    send(kClient, p, tf::kAck, at(0));
  }
  uint64_t refused = 0;
  for (uint32_t i = 0; i < 100000; ++i) {
    Instant now = Instant::from_micros(1000000 + int64_t{i} * 100);
    run_timers(now);
    if (send(kSpoof + i, 1024, tf::kSyn, now).kind != Kind::kIn) refused++;
    if (i % 1000 == 0) {
      for (uint16_t p = 1; p <= 16; ++p) ASSERT_EQ(send(kClient, p, tf::kAck | tf::kPsh, now).kind, Kind::kIn);
    }
    // A new client: its SYN, and its ACK 1 ms (ten spoofed SYNs) later.
    const uint16_t p = static_cast<uint16_t>(100 + i / 6000);
    if (i % 6000 == 3000) {
      ASSERT_EQ(send(kClient, p, tf::kSyn, now).kind, Kind::kIn);
    }
    if (i % 6000 == 3010) {
      ASSERT_EQ(send(kClient, p, tf::kAck, now).kind, Kind::kIn) << "client port " << p;
    }
  }
  EXPECT_EQ(refused, 0u) << "drop_entry makes room for every SYN";
  EXPECT_EQ(dir().refused_full(), 0u);
  for (uint16_t p = 1; p <= 16; ++p) EXPECT_TRUE(known(kClient, p));
  for (uint16_t p = 100; p < 117; ++p) EXPECT_TRUE(known(kClient, p));
  EXPECT_LE(dir().conns().size(), 64u);
  // Every connection is accounted for: in the table, or freed (evicted, expired early, or expired).
  const uint64_t conns = dir().total().conns;
  EXPECT_EQ(conns, 16u + 100000u + 17u);
  EXPECT_EQ(conns, dir().conns().size() + dir().conns_freed());
  EXPECT_LE(evicted() + expired_early(), dir().conns_freed());
  EXPECT_GT(evicted() + expired_early(), 99000u);
}

// =============================================================================================
// The engine: ARP floods, unresolved next hops, ICMP sizes and rates

// lan (0): 10.1.0.1/16, the clients' side; srv (1): 10.2.0.1/16, DR reals and many hosts.
// One rr service, 10.1.0.100:80; its DR reals are the test's.
test::ConfigText engine_config() {
  test::ConfigText c;
  c.seed(3).max_connections(1000);
  c.interface("lan", "02:00:00:00:00:01", {"10.1.0.1/16"});
  c.interface("srv", "02:00:00:00:00:02", {"10.2.0.1/16"});
  c.service("tcp", "10.1.0.100:80", "rr");
  return c;
}

constexpr uint32_t kLanIf = 0;
constexpr MacAddr kLanMac = test::mac(0x02, 0, 0, 0, 0, 0x01);
constexpr Ipv4Addr kLanIp = ip4(10, 1, 0, 1);
constexpr Ipv4Addr kEngineVip = ip4(10, 1, 0, 100);

MacAddr host_mac(uint32_t n) {
  return test::mac(0x02, 0xee, static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n), 1);
}
Ipv4Addr lan_host(uint32_t n) { return Ipv4Addr{ip4(10, 1, 1, 0).v + n}; }  // 10.1.1.0 ...: not ours
Ipv4Addr srv_host(uint32_t n) { return Ipv4Addr{ip4(10, 2, 1, 0).v + n}; }  // 10.2.1.0 ...: not the reals

/// Counts and sizes what the engine sends, keeping only the last frame.
class CountingSink : public TxSink {
public:
  void transmit(uint32_t iface, std::span<const uint8_t> f) override {
    frames++;
    per_iface[iface]++;
    max_len = std::max<size_t>(max_len, f.size());
    last.assign(f.begin(), f.end());
    last_iface = iface;
  }
  uint64_t frames = 0;
  uint64_t per_iface[2] = {0, 0};
  size_t max_len = 0;
  ByteVec last;
  uint32_t last_iface = 0;
};

class EngineFloodTest : public ::testing::Test {
protected:
  void SetUp() override {
    cfg_ = engine_config().real("10.2.0.11").real("10.2.0.12").parse();
    engine_ = std::make_unique<Engine>(cfg_, sink_);
  }
  Engine& engine() { return *engine_; }
  uint64_t drops(DropReason r) const { return engine_->drops()[r]; }

  std::shared_ptr<const config::Config> cfg_;
  CountingSink sink_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineFloodTest, ArpRequestFloodCannotGrowTheNeighbourCachePastItsCapacity) {
  const uint32_t cap = engine().neigh().capacity();
  ASSERT_EQ(cap, 1024u);
  // 50 000 distinct hosts ask for our address within one second: each gets its (equal-sized)
  // answer, the cache learns the first `cap` of them and no more.
  for (uint32_t i = 0; i < 50000; ++i) {
    ByteVec req =
        frame().eth(MacAddr::broadcast(), host_mac(i)).arp(1, host_mac(i), lan_host(i), MacAddr{}, kLanIp).build();
    Verdict v = engine().on_frame(kLanIf, req, at_ms(i / 50));
    ASSERT_EQ(v.kind, Verdict::Kind::kConsumed);
    ASSERT_LE(engine().neigh().size(), cap);
    ASSERT_EQ(sink_.last.size(), req.size()) << "an ARP reply is no larger than the request";
  }
  EXPECT_EQ(engine().neigh().size(), cap);
  EXPECT_EQ(sink_.frames, 50000u);
  EXPECT_EQ(engine().counters().arp_replies_sent, 50000u);
  EXPECT_EQ(engine().drops().total(), 0u);
}

TEST_F(EngineFloodTest, UnsolicitedArpRepliesCreateNoEntries) {
  for (uint32_t i = 0; i < 50000; ++i) {
    ByteVec rep = frame().eth(kLanMac, host_mac(i)).arp(2, host_mac(i), lan_host(i), kLanMac, kLanIp).build();
    engine().on_frame(kLanIf, rep, at_ms(i / 50));
  }
  EXPECT_EQ(engine().neigh().size(), 0u);
  EXPECT_EQ(drops(DropReason::kArpUnsolicited), 50000u);
  EXPECT_EQ(sink_.frames, 0u);
}

TEST_F(EngineFloodTest, PacketsToManyUnresolvedNextHopsStayWithinTheQueuesAndThePool) {
  // A client on lan learned (one entry), then 25 000 datagrams to 5 000 distinct unresolved hosts
  // on srv (five rounds), within a quarter of a second.
  const MacAddr cmac = host_mac(0xabcde);
  engine().on_frame(
      kLanIf, frame().eth(MacAddr::broadcast(), cmac).arp(1, cmac, lan_host(1), MacAddr{}, kLanIp).build(), at_ms(0));
  sink_ = {};
  const uint32_t cap = engine().neigh().capacity(), hosts = 5000;
  uint64_t queued = 0, sent_in = 0;
  for (uint32_t round = 0; round < 5; ++round) {
    for (uint32_t h = 0; h < hosts; ++h) {
      ByteVec d = frame().eth(kLanMac, cmac).ipv4(lan_host(1), srv_host(h)).udp(4000, 9, test::pattern(64)).build();
      Verdict v = engine().on_frame(kLanIf, d, at_ms(1 + (round * hosts + h) / 100));
      sent_in++;
      if (v.kind == Verdict::Kind::kQueued) queued++;
      ASSERT_LE(engine().neigh().size(), cap);
    }
  }
  // At most `cap` entries (the client's and cap - 1 next hops), at most 4 packets wait for each,
  // and no more than the pool's 512 buffers wait in all; every other packet is a counted drop.
  EXPECT_EQ(engine().neigh().size(), cap);
  EXPECT_EQ(queued, 512u);
  EXPECT_EQ(queued + drops(DropReason::kNeighTableFull) + drops(DropReason::kNeighQueueFull), sent_in);
  EXPECT_EQ(engine().counters().arp_requests_sent, cap - 1) << "one request per entry so far";
  // Nobody answers: after three requests a second apart the entries give up, every waiting packet
  // is dropped (arp_unresolved), and the cache is empty again.
  for (Instant t = at_ms(300); t <= at(5);) {
    auto d = engine().next_deadline();
    if (!d || *d > at(5)) break;
    t = std::max(t, *d);
    engine().on_timer(t);
  }
  EXPECT_EQ(engine().neigh().size(), 1u) << "only the client's entry is left";
  EXPECT_EQ(drops(DropReason::kNeighUnresolved), queued);
  EXPECT_EQ(engine().counters().arp_requests_sent, 3u * (cap - 1));
  // Their sender is told (host unreachable), within the ICMP rate limits: its own (a burst of 6,
  // then one a second) and the global one.
  const auto& k = engine().counters();
  EXPECT_EQ(k.icmp_errors_sent + k.icmp_errors_rate_limited + k.icmp_errors_peer_limited, queued);
  EXPECT_LE(k.icmp_errors_sent, 6u + 5u);
  // The pool is whole again: 512 new packets to 128 new hosts all wait.
  uint64_t requeued = 0;
  for (uint32_t h = 0; h < 512; ++h) {
    ByteVec d = frame().eth(kLanMac, cmac).ipv4(lan_host(1), srv_host(hosts + h / 4)).udp(4000, 9).build();
    requeued += engine().on_frame(kLanIf, d, at(6)).kind == Verdict::Kind::kQueued;
  }
  EXPECT_EQ(requeued, 512u);
}

TEST_F(EngineFloodTest, IcmpErrorsAreRateLimitedAndNeverMoreThan28BytesLargerThanTheOffendingDatagram) {
  // UDP to the router's own address: port unreachable. Clients on lan, learned first. Without
  // the per-destination limit (icmp_ratelimit 0), which would stop one client at 6 + 1/s.
  EngineParams params;
  params.icmp_ratelimit_ms = 0;
  engine_ = std::make_unique<Engine>(cfg_, sink_, params);
  const MacAddr cmac = host_mac(7);
  engine().on_frame(
      kLanIf, frame().eth(MacAddr::broadcast(), cmac).arp(1, cmac, lan_host(7), MacAddr{}, kLanIp).build(), at(0));
  sink_ = {};
  uint64_t provoked = 0;
  for (size_t payload = 0; payload + 28 <= 1500; payload += 7) {
    ByteVec d = frame().eth(kLanMac, cmac).ipv4(lan_host(7), kLanIp).udp(5000, 7, test::pattern(payload)).build();
    const uint64_t before = sink_.frames;
    engine().on_frame(kLanIf, d, at(1) + Duration::millis(static_cast<int64_t>(provoked) * 10));  // 100/s: no limit
    provoked++;
    ASSERT_EQ(sink_.frames, before + 1) << "one error per datagram";
    ASSERT_TRUE(test::ValidIcmp(sink_.last));
    const size_t in_ip = d.size() - 14, out_ip = sink_.last.size() - 14;
    EXPECT_EQ(out_ip, 28 + std::min<size_t>(in_ip, 576 - 28)) << "RFC 1812: quote as much as fits in 576 bytes";
    EXPECT_LE(out_ip, in_ip + 28);
    EXPECT_LE(out_ip, 576u);
  }
  // 20 000 more within one second: 1000/s with a burst of 50.
  const uint64_t sent_before = engine().counters().icmp_errors_sent;
  for (uint32_t i = 0; i < 20000; ++i) {
    ByteVec d = frame().eth(kLanMac, cmac).ipv4(lan_host(7), kLanIp).udp(5000, 7).build();
    engine().on_frame(kLanIf, d, at(100) + Duration::micros(i * 50));
  }
  const auto& k = engine().counters();
  EXPECT_LE(k.icmp_errors_sent - sent_before, 50u + 1000u);
  EXPECT_EQ(k.icmp_errors_sent + k.icmp_errors_rate_limited, provoked + 20000);
  EXPECT_EQ(drops(DropReason::kLocalNoService), provoked + 20000);
}

TEST_F(EngineFloodTest, AnEchoReplyIsExactlyAsLargeAsItsRequest) {
  const MacAddr cmac = host_mac(9);
  engine().on_frame(
      kLanIf, frame().eth(MacAddr::broadcast(), cmac).arp(1, cmac, lan_host(9), MacAddr{}, kLanIp).build(), at(0));
  for (size_t payload = 0; payload + 28 <= 1500; payload += 13) {
    ByteVec req =
        frame().eth(kLanMac, cmac).ipv4(lan_host(9), kLanIp).echo_request(1, 2, test::pattern(payload)).build();
    sink_ = {};
    engine().on_frame(kLanIf, req, at(1));
    ASSERT_EQ(sink_.frames, 1u);
    EXPECT_EQ(sink_.last.size(), req.size());
  }
  // Padding in the request frame is not echoed: a minimum-size frame gets a reply no larger.
  ByteVec tiny = frame().eth(kLanMac, cmac).ipv4(lan_host(9), kLanIp).echo_request(1, 2, {}).pad_to(60).build();
  sink_ = {};
  engine().on_frame(kLanIf, tiny, at(2));
  ASSERT_EQ(sink_.frames, 1u);
  EXPECT_LE(sink_.last.size(), tiny.size());
}

TEST_F(EngineFloodTest, ASpoofedSynToAServiceWithoutRealsGetsAtMostOneRateLimitedError) {
  // The only real at weight 0: every SYN gets port unreachable (ip_vs_leave); SYNs cannot make
  // the router send more than one error per SYN, nor more than the ICMP rate allows.
  cfg_ = engine_config().real("10.2.0.11").weight(0).parse();
  engine_ = std::make_unique<Engine>(cfg_, sink_);
  const MacAddr gw = host_mac(1);
  engine().on_frame(kLanIf, frame().eth(MacAddr::broadcast(), gw).arp(1, gw, lan_host(1), MacAddr{}, kLanIp).build(),
                    at(0));
  sink_ = {};
  for (uint32_t i = 0; i < 10000; ++i) {
    ByteVec syn = frame()
                      .eth(kLanMac, gw)
                      .ipv4(lan_host(1), kEngineVip)
                      .tcp(static_cast<uint16_t>(1024 + i), 80, tf::kSyn)
                      .build();
    engine().on_frame(kLanIf, syn, at(1) + Duration::micros(i * 100));
    ASSERT_LE(sink_.last.size(), syn.size() + 28);
  }
  EXPECT_EQ(drops(DropReason::kVsNoReal), 10000u);
  // One spoofed source: its own limit (6, then one a second) binds before the global one.
  const auto& k = engine().counters();
  EXPECT_EQ(k.icmp_errors_sent, 6u);  // all within t = 1 s .. 2 s: the burst
  EXPECT_EQ(k.icmp_errors_sent + k.icmp_errors_rate_limited + k.icmp_errors_peer_limited, 10000u);
}

}  // namespace
}  // namespace vs

namespace vs {
namespace {

// Found by fuzz_replay: a capture with a gap of years between two records made the replay step
// through the rate estimator's 2 s ticks one by one (hundreds of millions of them). Once every
// rate has decayed to zero with nothing new counted, a tick changes nothing: the estimator parks
// (asks for no timer) and resumes on its 2 s grid when something is counted again.
TEST(EstimatorTest, AnIdleEstimatorParksAndResumesOnItsGrid) {
  auto cfg = two_services(16).parse();
  Director d(*cfg, 1);
  auto packet = [&d](uint16_t port, Instant now) {
    FlowKey k{Ipv4Addr{kClient}, kVip, port, 80, kTcp};
    Decision dec = d.classify({k, tf::kSyn}, now);
    ASSERT_EQ(dec.kind, Kind::kIn);
    d.in_packet(dec.conn, tf::kSyn, 1500, now);
    d.put(dec.conn, now);
  };
  auto run = [&d](Instant until) {
    Instant clock{};
    int ticks = 0;
    while (auto t = d.next_deadline()) {
      if (*t > until) break;
      clock = std::max(clock, *t);
      d.on_timer(clock);
      ticks++;
    }
    return ticks;
  };
  packet(1, at_ms(1000));  // the ticks' grid: 3.0 s, 5.0 s, ...
  EXPECT_EQ(d.next_deadline(), at_ms(3000));
  // The first tick counts the packet (ip_vs_est.c, Estimator::tick): each rate moves a quarter of
  // the way toward the 2 s interval's rate. 1 connection = 0.5/s: cps (0.5 << 10) / 4 = 128,
  // which ipvsadm --rate shows as (128 + 511) >> 10 = 0; the one packet likewise; 1500 bytes =
  // 750 B/s: inbps (750 << 5) / 4 = 6000, shown as (6000 + 15) >> 5 = 187. So the decay below
  // starts from a rate that is not zero.
  ASSERT_EQ(run(at_ms(3000)), 1);
  EXPECT_EQ(d.total_rates().cps, 0u);
  EXPECT_EQ(d.total_rates().inpps, 0u);
  EXPECT_EQ(d.total_rates().inbps, 187u);
  // The rates decay within a few hundred ticks; the connection (SYN_RECV, 60 s) goes at 61 s;
  // then nothing is due at all, however far the clock goes.
  const int ticks = run(at(100LL * 365 * 86400));
  EXPECT_LT(ticks, 400);
  EXPECT_EQ(d.total_rates().cps, 0u);
  EXPECT_EQ(d.total_rates().inbps, 0u);
  EXPECT_EQ(d.conns().size(), 0u);
  EXPECT_FALSE(d.next_deadline().has_value()) << "parked: no timer while idle";
  // A packet ten years on: the next tick is the first one after it on the same 2 s grid.
  const Instant later = at(10LL * 365 * 86400) + Duration::millis(1500);  // grid point (odd s) + 0.5 s
  packet(2, later);
  EXPECT_EQ(d.next_deadline(), later + Duration::millis(1500));
  run(later + Duration::millis(1500));
  EXPECT_GT(d.total_rates().inbps, 0u) << "the new packet is in the first tick's rates";
}

}  // namespace
}  // namespace vs

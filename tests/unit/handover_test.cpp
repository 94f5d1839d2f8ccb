// Handover (docs/handover.md): the state stream (handover/state.hpp) round-trips and refuses
// anything damaged; a second engine that adopts the first one's snapshot has the same
// connections (expiries to the microsecond, templates, states), neighbours, counters, checker
// states and VRRP states, and carries on forwarding each connection to its real.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "config/config.hpp"
#include "ctl/list.hpp"
#include "engine.hpp"
#include "handover/state.hpp"
#include "test_frames.hpp"
#include "vrrp_rig.hpp"

namespace vs {
namespace {

using test::ByteVec;
namespace tf = vs::tcp_flag;

constexpr Ipv4Addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Ipv4Addr::from_octets(a, b, c, d); }

handover::State sample_state() {
  handover::State s;
  s.now_us = 1'700'000'000'123'456;
  s.monotonic_ns = 987'654'321'000;
  s.writer = "vsrouter test";
  s.total[0] = 5;
  s.total[4] = 1234;
  handover::ConnRec t;
  t.proto = 6;
  t.flags = handover::ConnRec::kTemplate | handover::ConnRec::kAssured;
  t.caddr = ip4(203, 0, 113, 50);
  t.vaddr = ip4(203, 0, 113, 100);
  t.daddr = ip4(10, 1, 0, 11);
  t.vport = 80;
  t.dport = 8080;
  t.expires_us = s.now_us + 300'000'000;
  t.timeout_us = 360'000'000;
  s.conns.push_back(t);
  handover::ConnRec c = t;
  c.flags = handover::ConnRec::kInactive;
  c.cport = 40000;
  c.state = 1;
  c.old_state = 3;
  c.control = 0;
  c.in_pkts = 7;
  c.sync_end_s = 99;
  c.sync_retries = 2;
  c.ho_since_us = 42;
  s.conns.push_back(c);
  s.neigh.push_back({"lan", ip4(10, 1, 0, 11), test::mac(2, 0, 0, 0, 0xaa, 11), s.now_us + 5});
  handover::StatsRec st;
  st.proto = 6;
  st.vip = t.vaddr;
  st.vport = 80;
  st.real = true;
  st.addr = t.daddr;
  st.port = 8080;
  st.inbytes = 77;
  s.stats.push_back(st);
  handover::CheckRec k;
  k.proto = 6;
  k.vip = t.vaddr;
  k.vport = 80;
  k.raddr = t.daddr;
  k.rport = 8080;
  k.position = 1;
  k.type = 2;
  k.up = false;
  k.fail_run = 3;
  k.transitions = 4;
  k.probes = 5;
  k.next_check_us = s.now_us + 1;
  s.checks.push_back(k);
  s.vrrp.push_back({"VI_1", 2});
  s.drops.emplace_back("no_route", 9);
  s.sched.push_back({6, t.vaddr, 80, "wrr", {(int64_t{t.daddr.v} << 16) | 8080, 3}});
  return s;
}

TEST(HandoverState, RoundTripsEveryRecord) {
  const handover::State s = sample_state();
  const auto bytes = handover::encode(s);
  EXPECT_EQ(handover::peek_version(bytes), handover::kVersion);
  auto d = handover::decode(bytes);
  ASSERT_TRUE(d) << d.error().message;
  const handover::State& r = d.value();
  EXPECT_EQ(r.now_us, s.now_us);
  EXPECT_EQ(r.monotonic_ns, s.monotonic_ns);
  EXPECT_EQ(r.writer, s.writer);
  EXPECT_EQ(r.total[0], 5u);
  EXPECT_EQ(r.total[4], 1234u);
  ASSERT_EQ(r.conns.size(), 2u);
  EXPECT_EQ(r.conns[1].cport, 40000);
  EXPECT_EQ(r.conns[1].control, 0u);
  EXPECT_EQ(r.conns[1].old_state, 3);
  EXPECT_EQ(r.conns[1].in_pkts, 7u);
  EXPECT_EQ(r.conns[1].sync_end_s, 99u);
  EXPECT_EQ(r.conns[1].sync_retries, 2);
  EXPECT_EQ(r.conns[1].ho_since_us, 42);
  EXPECT_EQ(r.conns[0].expires_us, s.conns[0].expires_us);
  EXPECT_EQ(r.conns[0].flags, s.conns[0].flags);
  ASSERT_EQ(r.neigh.size(), 1u);
  EXPECT_EQ(r.neigh[0].iface, "lan");
  EXPECT_EQ(r.neigh[0].mac, s.neigh[0].mac);
  ASSERT_EQ(r.stats.size(), 1u);
  EXPECT_TRUE(r.stats[0].real);
  EXPECT_EQ(r.stats[0].inbytes, 77u);
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_FALSE(r.checks[0].up);
  EXPECT_EQ(r.checks[0].position, 1u);
  EXPECT_EQ(r.checks[0].next_check_us, s.now_us + 1);
  ASSERT_EQ(r.vrrp.size(), 1u);
  EXPECT_EQ(r.vrrp[0].name, "VI_1");
  ASSERT_EQ(r.drops.size(), 1u);
  EXPECT_EQ(r.drops[0].second, 9u);
  ASSERT_EQ(r.sched.size(), 1u);
  EXPECT_EQ(r.sched[0].scheduler, "wrr");
  EXPECT_EQ(r.sched[0].values, s.sched[0].values);
}

TEST(HandoverState, AnyDamagedByteOrTruncationIsRefused) {
  const auto bytes = handover::encode(sample_state());
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = bytes;
    b[i] ^= 0x5a;
    EXPECT_FALSE(handover::decode(b)) << "byte " << i;
  }
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(handover::decode(std::span(bytes).first(n))) << "first " << n << " bytes";
}

TEST(HandoverState, AnotherVersionIsRefusedByName) {
  auto bytes = handover::encode(sample_state());
  bytes[4] = 2;
  EXPECT_EQ(handover::peek_version(bytes), 2u);
  auto d = handover::decode(bytes);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("version 2"), std::string::npos) << d.error().message;
}

// Two engines with the same NAT config: the first sees connections, the second adopts them.
const MacAddr kClientMac = test::mac(2, 0, 0, 0, 0xcc, 1), kRealMac = test::mac(2, 0, 0, 0, 0xaa, 11),
              kReal2Mac = test::mac(2, 0, 0, 0, 0xaa, 12);
const Ipv4Addr kClient = ip4(203, 0, 113, 50), kVip = ip4(203, 0, 113, 100), kReal = ip4(10, 1, 0, 11),
               kReal2 = ip4(10, 1, 0, 12);

const char* kConfig = R"(
[[interfaces]]
name = "wan"
mac = "02:00:00:00:01:01"
addresses = ["203.0.113.1/24"]
[[interfaces]]
name = "lan"
mac = "02:00:00:00:01:02"
addresses = ["10.1.0.1/24"]
[[services]]
protocol = "tcp"
address = "203.0.113.100:80"
scheduler = "rr"
reals = [{ address = "10.1.0.11:8080", method = "nat" }, { address = "10.1.0.12:8080", method = "nat" }]
[[services]]
protocol = "tcp"
address = "203.0.113.100:443"
persistence = 300
reals = [{ address = "10.1.0.11:443", method = "nat" }, { address = "10.1.0.12:443", method = "nat" }]
)";

struct Side {
  test::MemSink sink;
  Engine engine;
  explicit Side(const char* text) : engine(parse(text), sink) {}
  static std::shared_ptr<const config::Config> parse(const std::string& t) {
    auto r = config::parse_config(t);
    if (!r) throw std::runtime_error(r.error().message);
    return r.value();
  }
  Verdict rx(uint32_t iface, const ByteVec& f, Instant now) { return engine.on_frame(iface, f, now); }
  void learn(const MacAddr& mac, Ipv4Addr ip, Instant now) {
    // A request for the router's address: the router learns the asker (RFC 826).
    rx(1,
       test::frame()
           .eth(test::mac(0xff, 0xff, 0xff, 0xff, 0xff, 0xff), mac)
           .arp(1, mac, ip, MacAddr{}, ip4(10, 1, 0, 1))
           .build(),
       now);
  }
  Verdict client(uint16_t cport, uint16_t vport, uint8_t flags, Instant now) {
    return rx(0,
              test::frame()
                  .eth(engine.config().interfaces[0].mac, kClientMac)
                  .ipv4(kClient, kVip)
                  .tcp(cport, vport, flags)
                  .build(),
              now);
  }
};

TEST(HandoverEngine, TheAdoptingEngineHasTheSameTableAndForwardsEachConnectionToItsReal) {
  Instant t = Instant::from_micros(1'700'000'000'000'000);
  Side a(kConfig);
  a.engine.start(t);
  a.learn(kRealMac, kReal, t);
  a.learn(kReal2Mac, kReal2, t);
  for (uint16_t p = 40000; p < 40006; ++p) {
    t = t + Duration::millis(3);
    a.client(p, 80, tf::kSyn, t);
    a.client(p, 443, tf::kSyn, t);
  }
  t = t + Duration::millis(500);
  a.client(40000, 80, tf::kAck, t);  // one of them more recent than the others
  const std::string listing = ctl::list_connections(a.engine, t);
  const std::string stats = ctl::list_services_stats(a.engine);
  ASSERT_EQ(a.engine.director().conns().size(), 6u + 6u + 1u) << "12 connections, one template";

  auto bytes = handover::encode(a.engine.snapshot(t));
  auto st = handover::decode(bytes);
  ASSERT_TRUE(st) << st.error().message;

  Side b(kConfig);
  const Instant later = t + Duration::millis(20);
  auto rep = b.engine.adopt(st.value(), later);
  b.engine.start(later);
  EXPECT_EQ(rep.conns.taken, 13u);
  EXPECT_EQ(rep.conns.no_service + rep.conns.no_real + rep.conns.invalid + rep.conns.full, 0u);
  EXPECT_EQ(rep.neigh, 2u);
  EXPECT_EQ(ctl::list_connections(b.engine, t), listing) << "same entries, states and expiries";
  EXPECT_EQ(ctl::list_services_stats(b.engine), stats) << "same counters, same active/inactive counts";

  // Each connection's next packet goes to the real the first engine chose: NAT rewrites the
  // destination to that real, without a new scheduling (rr would alternate).
  for (uint16_t p = 40000; p < 40006; ++p) {
    for (uint16_t vport : {uint16_t{80}, uint16_t{443}}) {
      const auto hit = a.engine.director().conns().lookup(FlowKey{kClient, kVip, p, vport, IpProto::kTcp});
      ASSERT_TRUE(hit);
      const Ipv4Addr real = a.engine.director().conns()[hit->idx].daddr;
      b.sink.sent.clear();
      b.client(p, vport, tf::kAck, later);
      ASSERT_EQ(b.sink.sent.size(), 1u) << p << " " << vport << ": forwarded at once (the neighbour is known)";
      EXPECT_EQ(test::ip_of(b.sink.sent[0].bytes).dst(), real) << p << " " << vport;
    }
  }
  // The rr cursor came along: a new connection goes where the first engine would send it.
  for (uint16_t p = 50000; p < 50004; ++p) {
    a.sink.sent.clear();
    b.sink.sent.clear();
    a.client(p, 80, tf::kSyn, later);
    b.client(p, 80, tf::kSyn, later);
    ASSERT_EQ(a.sink.sent.size(), 1u);
    ASSERT_EQ(b.sink.sent.size(), 1u);
    EXPECT_EQ(test::ip_of(b.sink.sent[0].bytes).dst(), test::ip_of(a.sink.sent[0].bytes).dst()) << p;
  }
  // A new client of the persistent service follows the adopted template.
  b.sink.sent.clear();
  b.client(41000, 443, tf::kSyn, later);
  ASSERT_EQ(b.sink.sent.size(), 1u);
  const auto tpl = a.engine.director().conns().find_template(IpProto::kTcp, kClient, kVip, 443);
  ASSERT_NE(tpl, conn::kNone);
  EXPECT_EQ(test::ip_of(b.sink.sent[0].bytes).dst(), a.engine.director().conns()[tpl].daddr);
}

TEST(HandoverEngine, WhatTheNewConfigLacksIsLeftOutAndCounted) {
  Instant t = Instant::from_micros(1'700'000'000'000'000);
  Side a(kConfig);
  a.engine.start(t);
  a.learn(kRealMac, kReal, t);
  for (uint16_t p = 40000; p < 40004; ++p) a.client(p, 80, tf::kSyn, t);  // rr: two on each real
  auto st = handover::decode(handover::encode(a.engine.snapshot(t)));
  ASSERT_TRUE(st);
  // The new config has only the first real, and no port 443 service.
  std::string text = kConfig;
  text = text.substr(0, text.find("[[services]]\nprotocol = \"tcp\"\naddress = \"203.0.113.100:443\""));
  const auto at = text.find(", { address = \"10.1.0.12:8080\", method = \"nat\" }");
  ASSERT_NE(at, std::string::npos);
  text.erase(at, std::string(", { address = \"10.1.0.12:8080\", method = \"nat\" }").size());
  Side b(text.c_str());
  auto rep = b.engine.adopt(st.value(), t);
  EXPECT_EQ(rep.conns.taken, 2u);
  EXPECT_EQ(rep.conns.no_real, 2u);
  EXPECT_EQ(b.engine.director().conns().size(), 2u);
}

// A VRRP master stays master across a handover: the new process starts the instance in MASTER
// at once (an advert and its gratuitous ARPs), not in BACKUP waiting Master_Down_Interval, which
// would hand the addresses to the peer. A backup stays backup.
TEST(HandoverEngine, AVrrpMasterStaysMasterAndABackupStaysBackup) {
  const std::string text = test::vrrp_config_text(R"(["10.0.0.100"])", "priority = 100\nadvert_int = 1");
  Instant t = Instant::from_micros(1'700'000'000'000'000);
  for (bool master : {true, false}) {
    Side a(text.c_str());
    a.engine.start(t);
    auto run_to = [](Side& s, Instant until) {
      while (auto d = s.engine.next_deadline()) {
        if (*d > until) break;
        s.engine.on_timer(*d);
      }
    };
    if (master) run_to(a, t + Duration::seconds(5));  // nobody else: master after Master_Down_Interval
    ASSERT_EQ(a.engine.vrrp().instances()[0].state, master ? vrrp::State::kMaster : vrrp::State::kBackup);
    auto st = handover::decode(handover::encode(a.engine.snapshot(t + Duration::seconds(5))));
    ASSERT_TRUE(st);
    Side b(text.c_str());
    const Instant now = t + Duration::seconds(5);
    auto rep = b.engine.adopt(st.value(), now);
    EXPECT_EQ(rep.vrrp, 1u);
    b.engine.start(now);
    EXPECT_EQ(b.engine.vrrp().instances()[0].state, master ? vrrp::State::kMaster : vrrp::State::kBackup)
        << "at once, not after Master_Down_Interval";
    if (master) {
      // Its first advert goes out at once (keepalived's entry into MASTER).
      bool advert = false;
      for (const auto& f : b.sink.sent)
        if (test::eth_type(f.bytes) == 0x0800 && static_cast<int>(test::ip_of(f.bytes).protocol()) == 112)
          advert = true;
      EXPECT_TRUE(advert);
    }
  }
}

}  // namespace
}  // namespace vs

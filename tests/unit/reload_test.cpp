// Reload (Engine::reload / Director::apply_config): the new file's services, reals and timeouts
// take effect as one step; established connections stay on their reals; a reload the running
// daemon cannot apply changes nothing.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "config/config.hpp"
#include "engine.hpp"
#include "test_config.hpp"
#include "test_frames.hpp"
#include "wire/tcp.hpp"

namespace vs {
namespace {

using test::frame;
using test::ip4;

using namespace test::wan_lan_hosts;

struct R {
  int octet;
  uint32_t weight = 1;
};

/// wan/lan with one rr service, 10.0.0.100:80, whose NAT reals are 192.168.1.<octet>:8080.
test::ConfigText nat_service(std::initializer_list<R> reals) {
  test::ConfigText c = test::wan_lan();
  c.service("tcp", "10.0.0.100:80", "rr");
  for (R r : reals) c.real("192.168.1." + std::to_string(r.octet) + ":8080", "nat", r.weight);
  return c;
}

class ReloadTest : public ::testing::Test {
protected:
  void SetUp() override {
    engine_ = std::make_unique<Engine>(nat_service({{11}, {12}}).parse(), sink_);
    // The reals ask for the router, which teaches it their MAC (all share one MAC here: the test
    // reads the IP destination). An unsolicited reply would teach nothing.
    for (int o : {11, 12, 13})
      rx(1, frame()
                .eth(MacAddr::broadcast(), kRealMac)
                .arp(1, kRealMac, ip4(192, 168, 1, static_cast<uint8_t>(o)), MacAddr{}, ip4(192, 168, 1, 1))
                .build());
    rx(0, frame().eth(kWanMac, kClientMac).arp(1, kClientMac, kClient, MacAddr{}, kVip).build());
  }
  Verdict rx(uint32_t iface, const test::ByteVec& f) { return engine_->on_frame(iface, f, now_); }
  /// A client packet to the VIP; returns the real it was sent to (0.0.0.0 if none).
  Ipv4Addr send(uint16_t sport, uint8_t flags) {
    sink_.sent.clear();
    rx(0, frame().eth(kWanMac, kClientMac).ipv4(kClient, kVip).tcp(sport, 80, flags).build());
    for (const auto& s : sink_.sent)
      if (s.iface == 1 && test::eth_type(s.bytes) == 0x0800) return test::ip_of(s.bytes).dst();
    return {};
  }
  ipvs::Service* service() { return engine_->director().find_exact(IpProto::kTcp, kVip, 80); }

  test::MemSink sink_;
  std::unique_ptr<Engine> engine_;
  Instant now_{};
};

namespace tf = vs::tcp_flag;

TEST_F(ReloadTest, EstablishedConnectionsStayOnTheirRealsAcrossReloads) {
  // rr over [12, 11]: the first connection goes to .12.
  ASSERT_EQ(send(1000, tf::kSyn), ip4(192, 168, 1, 12));
  send(1000, tf::kAck);
  // Reload: .12's weight changes, .13 is added, .11 stays.
  ASSERT_FALSE(engine_->reload(nat_service({{11}, {12, 5}, {13}}).parse()));
  EXPECT_EQ(service()->dests.size(), 3u);
  EXPECT_EQ(service()->find_real(ip4(192, 168, 1, 12), 8080)->weight, 5);
  // The established connection still goes to .12, packet after packet.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(send(1000, tf::kAck), ip4(192, 168, 1, 12));
  EXPECT_EQ(engine_->director().conns().size(), 1u);
}

TEST_F(ReloadTest, RemovedRealsConnectionsFollowTheDrainPolicy) {
  ASSERT_EQ(send(1000, tf::kSyn), ip4(192, 168, 1, 12));
  ASSERT_FALSE(engine_->reload(nat_service({{11}}).parse()));
  EXPECT_EQ(send(1000, tf::kAck), Ipv4Addr{}) << "drain = drop (default): the packet is dropped";
  EXPECT_EQ(engine_->drops()[DropReason::kVsRealRemoved], 1u);
  // Put .12 back: the kernel revives the dest from its trash, and the connection flows again.
  ASSERT_FALSE(engine_->reload(nat_service({{11}, {12}}).parse()));
  EXPECT_EQ(send(1000, tf::kAck), ip4(192, 168, 1, 12));
}

TEST_F(ReloadTest, RemovedServiceStopsMatchingAndItsVipStopsAnsweringArp) {
  test::ConfigText other = nat_service({{11}, {12}});
  other.service("udp", "10.0.0.53:53").real("192.168.1.11:8080", "nat", 1);
  ASSERT_FALSE(engine_->reload(other.parse()));
  EXPECT_TRUE(engine_->director().is_vip(ip4(10, 0, 0, 53)));
  ASSERT_FALSE(engine_->reload(nat_service({{11}, {12}}).parse()));
  EXPECT_FALSE(engine_->director().is_vip(ip4(10, 0, 0, 53)));
  sink_.sent.clear();
  auto v = rx(
      0,
      frame().eth(MacAddr::broadcast(), kClientMac).arp(1, kClientMac, kClient, MacAddr{}, ip4(10, 0, 0, 53)).build());
  EXPECT_EQ(v.reason, DropReason::kArpNotForUs);
  EXPECT_TRUE(sink_.sent.empty());
}

TEST_F(ReloadTest, SchedulerAndTimeoutChangesApply) {
  ASSERT_FALSE(engine_->reload(nat_service({{11}, {12}}).scheduler("wlc").tcp_timeout(60).parse()));
  EXPECT_EQ(service()->scheduler, "wlc");
  send(2000, tf::kSyn);
  send(2000, tf::kAck);  // ESTABLISHED: the new 60 s timeout
  EXPECT_EQ(engine_->director().conns().timeout(0), Duration::seconds(60));
}

TEST_F(ReloadTest, AReloadThatCannotBeAppliedChangesNothing) {
  ASSERT_EQ(send(1000, tf::kSyn), ip4(192, 168, 1, 12));
  test::ConfigText renamed = nat_service({{11}});
  renamed.iface("lan").name = "in";
  auto err = engine_->reload(renamed.parse());
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("cannot be renamed"), std::string::npos) << *err;
  EXPECT_EQ(service()->dests.size(), 2u) << "the old config stays whole";
  EXPECT_EQ(engine_->config().interfaces[1].name, "lan");
  ASSERT_TRUE(engine_->reload(nat_service({{11}}).max_connections(99).parse()));
  EXPECT_EQ(send(1000, tf::kAck), ip4(192, 168, 1, 12));
}

}  // namespace
}  // namespace vs

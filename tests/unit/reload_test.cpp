// Reload (Engine::reload / Director::apply_config): the new file's services, reals and timeouts
// take effect as one step; established connections stay on their reals; a reload the running
// daemon cannot apply changes nothing.
#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"
#include "engine.hpp"
#include "test_frames.hpp"
#include "wire/tcp.hpp"

namespace vs {
namespace {

using test::frame;
using test::ip4;

const MacAddr kWanMac = *MacAddr::parse("02:00:00:00:00:02");
const MacAddr kLanMac = *MacAddr::parse("02:00:00:00:00:01");
const MacAddr kClientMac = *MacAddr::parse("02:00:00:00:c0:02");
const MacAddr kRealMac = *MacAddr::parse("02:00:00:00:11:00");
const Ipv4Addr kClient = ip4(10, 0, 0, 2);
const Ipv4Addr kVip = ip4(10, 0, 0, 100);

std::string config_text(const std::string& reals, const std::string& extra = "") {
  return R"(
[[interfaces]]
name = "wan"
mac = "02:00:00:00:00:02"
addresses = ["10.0.0.1/24"]
[[interfaces]]
name = "lan"
mac = "02:00:00:00:00:01"
addresses = ["192.168.1.1/24"]
[[services]]
protocol = "tcp"
address = "10.0.0.100:80"
scheduler = "rr"
)" + reals + extra;
}

std::string real(int last_octet, int weight = 1) {
  return "  [[services.reals]]\n  address = \"192.168.1." + std::to_string(last_octet) +
         ":8080\"\n  method = \"nat\"\n  weight = " + std::to_string(weight) + "\n";
}

std::shared_ptr<const config::Config> parse(const std::string& text) {
  auto r = config::parse_config(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.value();
}

class ReloadTest : public ::testing::Test {
protected:
  void SetUp() override {
    engine_ = std::make_unique<Engine>(parse(config_text(real(11) + real(12))), sink_);
    // The reals ask for the router, which teaches it their MAC (all share one MAC here: the test
    // reads the IP destination). An unsolicited reply would teach nothing.
    for (int o : {11, 12, 13})
      rx(1, frame().eth(MacAddr::broadcast(), kRealMac)
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
  ASSERT_FALSE(engine_->reload(parse(config_text(real(11) + real(12, 5) + real(13)))));
  EXPECT_EQ(service()->dests.size(), 3u);
  EXPECT_EQ(service()->find_real(ip4(192, 168, 1, 12), 8080)->weight, 5);
  // The established connection still goes to .12, packet after packet.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(send(1000, tf::kAck), ip4(192, 168, 1, 12));
  EXPECT_EQ(engine_->director().conns().size(), 1u);
}

TEST_F(ReloadTest, RemovedRealsConnectionsFollowTheDrainPolicy) {
  ASSERT_EQ(send(1000, tf::kSyn), ip4(192, 168, 1, 12));
  ASSERT_FALSE(engine_->reload(parse(config_text(real(11)))));
  EXPECT_EQ(send(1000, tf::kAck), Ipv4Addr{}) << "drain = drop (default): the packet is dropped";
  EXPECT_EQ(engine_->drops()[DropReason::kVsRealRemoved], 1u);
  // Put .12 back: the kernel revives the dest from its trash, and the connection flows again.
  ASSERT_FALSE(engine_->reload(parse(config_text(real(11) + real(12)))));
  EXPECT_EQ(send(1000, tf::kAck), ip4(192, 168, 1, 12));
}

TEST_F(ReloadTest, RemovedServiceStopsMatchingAndItsVipStopsAnsweringArp) {
  std::string other = "\n[[services]]\nprotocol = \"udp\"\naddress = \"10.0.0.53:53\"\n" + real(11);
  ASSERT_FALSE(engine_->reload(parse(config_text(real(11) + real(12), other))));
  EXPECT_TRUE(engine_->director().is_vip(ip4(10, 0, 0, 53)));
  ASSERT_FALSE(engine_->reload(parse(config_text(real(11) + real(12)))));
  EXPECT_FALSE(engine_->director().is_vip(ip4(10, 0, 0, 53)));
  sink_.sent.clear();
  auto v = rx(0, frame().eth(MacAddr::broadcast(), kClientMac).arp(1, kClientMac, kClient, MacAddr{}, ip4(10, 0, 0, 53)).build());
  EXPECT_EQ(v.reason, DropReason::kArpNotForUs);
  EXPECT_TRUE(sink_.sent.empty());
}

TEST_F(ReloadTest, SchedulerAndTimeoutChangesApply) {
  std::string t = config_text(real(11) + real(12), "\n[timeouts]\ntcp = 60\n");
  // Replace the scheduler line.
  t.replace(t.find("scheduler = \"rr\""), 16, "scheduler = \"wlc\"");
  ASSERT_FALSE(engine_->reload(parse(t)));
  EXPECT_EQ(service()->scheduler, "wlc");
  send(2000, tf::kSyn);
  send(2000, tf::kAck);  // ESTABLISHED: the new 60 s timeout
  EXPECT_EQ(engine_->director().conns().timeout(0), Duration::seconds(60));
}

TEST_F(ReloadTest, AReloadThatCannotBeAppliedChangesNothing) {
  ASSERT_EQ(send(1000, tf::kSyn), ip4(192, 168, 1, 12));
  std::string renamed = config_text(real(11));
  renamed.replace(renamed.find("name = \"lan\""), 12, "name = \"in\"");
  auto err = engine_->reload(parse(renamed));
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("cannot be renamed"), std::string::npos) << *err;
  EXPECT_EQ(service()->dests.size(), 2u) << "the old config stays whole";
  EXPECT_EQ(engine_->config().interfaces[1].name, "lan");
  auto bigger = config_text(real(11));
  bigger = "[router]\nmax_connections = 99\n" + bigger;
  ASSERT_TRUE(engine_->reload(parse(bigger)));
  EXPECT_EQ(send(1000, tf::kAck), ip4(192, 168, 1, 12));
}

}  // namespace
}  // namespace vs

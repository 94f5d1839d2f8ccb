// The O(1) address indexes: FlatMap itself, the director's VIP index (kept through the control
// API and reload), and the engine's router-address / directed-broadcast index (kept through
// reload), checked by what a user sees: martian sources, ARP answers, local delivery, broadcasts.
#include "base/flat_map.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>

#include "config/config.hpp"
#include "ctl/ipvsadm.hpp"
#include "engine.hpp"
#include "test_config.hpp"
#include "test_frames.hpp"

namespace vs {
namespace {

using test::frame;
using test::ip4;

// ---------------------------------------------------------------------------------------------
// FlatMap

TEST(FlatMap, EmptyFindsNothing) {
  FlatMap<uint32_t, uint32_t> m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.find(0), nullptr);
  EXPECT_FALSE(m.contains(12345));
  m.reset(10);
  EXPECT_FALSE(m.contains(0));
  EXPECT_GE(m.slots(), 20u);
}

TEST(FlatMap, InsertKeepsTheFirstValue) {
  FlatMap<uint32_t, uint32_t> m;
  EXPECT_TRUE(m.insert(7, 1));
  EXPECT_FALSE(m.insert(7, 2));
  ASSERT_NE(m.find(7), nullptr);
  EXPECT_EQ(*m.find(7), 1u);
  EXPECT_EQ(m.size(), 1u);
  *m.find(7) = 3;
  EXPECT_EQ(*m.find(7), 3u);
}

TEST(FlatMap, KeyZeroIsAnOrdinaryKey) {
  FlatMap<uint32_t, bool> m;
  m.reset(4);
  EXPECT_FALSE(m.contains(0));
  m.insert(0, true);
  EXPECT_TRUE(m.contains(0));
  EXPECT_FALSE(m.contains(1));
}

TEST(FlatMap, GrowsAndMatchesAReferenceMap) {
  // Keys as config addresses come: runs of consecutive addresses, plus random ones.
  std::mt19937 rng(42);
  FlatMap<uint32_t, uint32_t> m;
  std::map<uint32_t, uint32_t> ref;
  for (uint32_t i = 0; i < 3000; ++i) {
    uint32_t k = i < 1500 ? 0x0a000000u + i : static_cast<uint32_t>(rng());
    uint32_t v = static_cast<uint32_t>(rng());
    EXPECT_EQ(m.insert(k, v), ref.emplace(k, v).second);
  }
  EXPECT_EQ(m.size(), ref.size());
  EXPECT_GE(m.slots(), 2 * m.size());
  EXPECT_EQ(m.slots() & (m.slots() - 1), 0u) << "a power of two";
  for (auto [k, v] : ref) {
    ASSERT_NE(m.find(k), nullptr) << k;
    EXPECT_EQ(*m.find(k), v);
  }
  size_t absent = 0;
  for (uint32_t i = 0; i < 20000; ++i) {
    uint32_t k = static_cast<uint32_t>(rng());
    if (!ref.count(k)) {
      ++absent;
      EXPECT_FALSE(m.contains(k)) << k;
    }
  }
  EXPECT_GT(absent, 0u);
  size_t seen = 0;
  m.for_each([&](uint32_t k, uint32_t v) {
    ++seen;
    EXPECT_EQ(ref.at(k), v);
  });
  EXPECT_EQ(seen, ref.size());
}

TEST(FlatMap, ResetEmpties) {
  FlatMap<uint32_t, uint8_t> m;
  for (uint32_t i = 0; i < 100; ++i) m.insert(i, 1);
  m.reset(2);
  EXPECT_TRUE(m.empty());
  for (uint32_t i = 0; i < 100; ++i) EXPECT_FALSE(m.contains(i));
  m.insert(5, 9);
  EXPECT_EQ(*m.find(5), 9);
}

TEST(FlatMap, SixtyFourBitKeysDifferingOnlyInTheHighHalf) {
  FlatMap<uint64_t, bool> m;
  const uint64_t a = 0x0a000001u;
  m.insert((uint64_t{1} << 32) | a, true);
  EXPECT_TRUE(m.contains((uint64_t{1} << 32) | a));
  EXPECT_FALSE(m.contains(a));
  EXPECT_FALSE(m.contains((uint64_t{2} << 32) | a));
}

// ---------------------------------------------------------------------------------------------
// Director: VIP index

std::shared_ptr<const config::Config> parse(const std::string& text) {
  auto r = config::parse_config(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message) << "\n" << text;
  return r.ok() ? r.value() : nullptr;
}

const std::string kIfaces = test::wan_lan().text();

config::ServiceSettings spec(Ipv4Addr vip, uint16_t port, uint32_t iface, IpProto p = IpProto::kTcp) {
  config::ServiceSettings s;
  s.protocol = p;
  s.vip = vip;
  s.port = port;
  s.scheduler = "rr";
  s.interface = iface;
  return s;
}

TEST(VipIndex, FirstServiceOfAVipGivesItsInterface) {
  auto cfg = parse(kIfaces);
  ipvs::Director d(*cfg, 1);
  const Ipv4Addr vip = ip4(10, 0, 0, 100);
  EXPECT_FALSE(d.is_vip(vip));
  ipvs::Service* a = nullptr;
  ipvs::Service* b = nullptr;
  ASSERT_EQ(d.add_service(spec(vip, 80, 0), &a), ipvs::Director::CtlError::kOk);
  ASSERT_EQ(d.add_service(spec(vip, 443, 1), &b), ipvs::Director::CtlError::kOk);
  EXPECT_TRUE(d.is_vip(vip));
  EXPECT_EQ(d.vip_interface(vip), 0u) << "the first service in services() order";
  EXPECT_FALSE(d.is_vip(ip4(10, 0, 0, 101)));

  // Moving the first service to another interface moves the VIP's ARP answers.
  ASSERT_EQ(d.edit_service(*a, spec(vip, 80, 1)), ipvs::Director::CtlError::kOk);
  EXPECT_EQ(d.vip_interface(vip), 1u);
  ASSERT_EQ(d.edit_service(*a, spec(vip, 80, 0)), ipvs::Director::CtlError::kOk);
  EXPECT_EQ(d.vip_interface(vip), 0u);
  // Editing the second one changes nothing: the first still answers.
  ASSERT_EQ(d.edit_service(*b, spec(vip, 443, 0)), ipvs::Director::CtlError::kOk);
  ASSERT_EQ(d.edit_service(*b, spec(vip, 443, 1)), ipvs::Director::CtlError::kOk);
  EXPECT_EQ(d.vip_interface(vip), 0u);

  // Deleting the first leaves the second's interface; deleting both, no VIP.
  d.delete_service(*a);
  EXPECT_EQ(d.vip_interface(vip), 1u);
  d.delete_service(*b);
  EXPECT_FALSE(d.is_vip(vip));
  EXPECT_EQ(d.vip_interface(vip), std::nullopt);
}

TEST(VipIndex, ClearAndApplyConfig) {
  auto cfg = parse(kIfaces);
  ipvs::Director d(*cfg, 1);
  for (uint8_t i = 1; i <= 50; ++i)
    ASSERT_EQ(d.add_service(spec(ip4(10, 0, 0, i), 80, 0)), ipvs::Director::CtlError::kOk);
  for (uint8_t i = 1; i <= 50; ++i) EXPECT_TRUE(d.is_vip(ip4(10, 0, 0, i)));
  d.clear();
  for (uint8_t i = 1; i <= 50; ++i) EXPECT_FALSE(d.is_vip(ip4(10, 0, 0, i)));

  auto with = test::wan_lan().service("udp", "10.0.0.53:53", "rr").service("tcp", "10.0.0.80:80", "rr").parse();
  d.apply_config(*with);
  EXPECT_TRUE(d.is_vip(ip4(10, 0, 0, 53)));
  EXPECT_TRUE(d.is_vip(ip4(10, 0, 0, 80)));
  d.apply_config(*cfg);
  EXPECT_FALSE(d.is_vip(ip4(10, 0, 0, 53)));
  EXPECT_FALSE(d.is_vip(ip4(10, 0, 0, 80)));
}

TEST(VipIndex, ThousandServicesAllIndexed) {
  test::ConfigText t;
  t.interface("wan", "02:00:00:00:00:02", {"10.0.0.1/16"});
  for (int i = 0; i < 1000; ++i)
    t.service("tcp", "10.0." + std::to_string(1 + i / 250) + "." + std::to_string(1 + i % 250) + ":80", "rr");
  auto cfg = t.parse();
  ASSERT_TRUE(cfg);
  ipvs::Director d(*cfg, 1);
  ASSERT_EQ(d.services().size(), 1000u);
  for (const auto& s : d.services()) EXPECT_EQ(d.vip_interface(s->vip.v4()), s->interface);
  EXPECT_FALSE(d.is_vip(ip4(10, 0, 5, 1)));
  EXPECT_FALSE(d.is_vip(ip4(10, 0, 1, 251)));
}

// ---------------------------------------------------------------------------------------------
// Engine: what the indexes decide, seen from the wire

const MacAddr kWanMac = *MacAddr::parse("02:00:00:00:00:02");
const MacAddr kClientMac = *MacAddr::parse("02:00:00:00:c0:02");
const MacAddr kHostMac = *MacAddr::parse("02:00:00:00:11:00");
const Ipv4Addr kClient = ip4(10, 0, 0, 2);

class AddrEngineTest : public ::testing::Test {
protected:
  void make(const std::string& text) { engine_ = std::make_unique<Engine>(parse(text), sink_); }
  Verdict rx(uint32_t iface, const test::ByteVec& f) { return engine_->on_frame(iface, f, now_); }
  Verdict udp_from(Ipv4Addr src, Ipv4Addr dst) {
    return rx(0, frame().eth(kWanMac, kClientMac).ipv4(src, dst).udp(1000, 2000).build());
  }
  Verdict ping(Ipv4Addr dst) {
    return rx(0, frame().eth(kWanMac, kClientMac).ipv4(kClient, dst).echo_request(1, 1, test::pattern(8)).build());
  }
  Verdict arp_for(Ipv4Addr tpa) {
    return rx(0, frame().eth(MacAddr::broadcast(), kClientMac).arp(1, kClientMac, kClient, MacAddr{}, tpa).build());
  }
  ctl::Output vsadm(const std::string& line) { return ctl::execute(*engine_, ctl::split_restore_line(line), now_); }

  test::MemSink sink_;
  std::unique_ptr<Engine> engine_;
  Instant now_{};
};

TEST_F(AddrEngineTest, VipAddedAndDeletedByVsadmIsLocalThenNot) {
  make(kIfaces);
  const Ipv4Addr vip = ip4(10, 0, 0, 5);
  // Not a VIP yet: a packet from it is an ordinary source (routed; no neighbour yet: queued).
  EXPECT_EQ(udp_from(vip, ip4(192, 168, 1, 20)).kind, Verdict::Kind::kQueued);
  EXPECT_EQ(arp_for(vip).reason, DropReason::kArpNotForUs);

  ASSERT_EQ(vsadm("-A -t 10.0.0.5:80 -s rr").exit_code, 0);
  Verdict v = udp_from(vip, ip4(192, 168, 1, 20));
  EXPECT_EQ(v.kind, Verdict::Kind::kDropped);
  EXPECT_EQ(v.reason, DropReason::kIpv4BadSource) << "a VIP as source is martian";
  EXPECT_EQ(arp_for(vip).kind, Verdict::Kind::kConsumed) << "the VIP answers ARP";
  EXPECT_EQ(ping(vip).kind, Verdict::Kind::kConsumed) << "and pings";

  ASSERT_EQ(vsadm("-D -t 10.0.0.5:80").exit_code, 0);
  EXPECT_EQ(udp_from(vip, ip4(192, 168, 1, 20)).kind, Verdict::Kind::kQueued);
  EXPECT_EQ(arp_for(vip).reason, DropReason::kArpNotForUs);
}

TEST_F(AddrEngineTest, ReloadRemovingAnAddressStopsAnsweringForIt) {
  make(test::wan_lan().addresses("wan", {"10.0.0.1/24", "10.0.1.1/24"}).text());
  EXPECT_EQ(ping(ip4(10, 0, 1, 1)).kind, Verdict::Kind::kConsumed);
  EXPECT_EQ(arp_for(ip4(10, 0, 1, 1)).kind, Verdict::Kind::kConsumed);
  EXPECT_EQ(udp_from(ip4(10, 0, 1, 1), ip4(192, 168, 1, 20)).reason, DropReason::kIpv4BadSource);
  EXPECT_EQ(udp_from(kClient, ip4(10, 0, 1, 255)).reason, DropReason::kIpv4Broadcast);

  ASSERT_FALSE(engine_->reload(parse(kIfaces)));
  Verdict v = ping(ip4(10, 0, 1, 1));
  EXPECT_EQ(v.kind, Verdict::Kind::kDropped);
  EXPECT_EQ(v.reason, DropReason::kNoRoute) << "no longer ours, and no route to it";
  EXPECT_EQ(arp_for(ip4(10, 0, 1, 1)).reason, DropReason::kArpNotForUs);
  EXPECT_EQ(udp_from(ip4(10, 0, 1, 1), ip4(192, 168, 1, 20)).kind, Verdict::Kind::kQueued);
  EXPECT_EQ(udp_from(kClient, ip4(10, 0, 1, 255)).reason, DropReason::kNoRoute) << "not a broadcast any more";
  // What stayed is still ours.
  EXPECT_EQ(ping(ip4(10, 0, 0, 1)).kind, Verdict::Kind::kConsumed);
  EXPECT_EQ(ping(ip4(192, 168, 1, 1)).kind, Verdict::Kind::kConsumed);
}

TEST_F(AddrEngineTest, DirectedBroadcastsFollowThePrefixLength) {
  make(kIfaces);
  EXPECT_EQ(udp_from(kClient, ip4(192, 168, 1, 255)).reason, DropReason::kIpv4Broadcast);
  EXPECT_EQ(udp_from(kClient, ip4(255, 255, 255, 255)).reason, DropReason::kIpv4Broadcast);
  EXPECT_EQ(udp_from(ip4(192, 168, 1, 255), ip4(192, 168, 1, 20)).reason, DropReason::kIpv4BadSource);

  // /25: .127 is the broadcast now, .255 an address outside every subnet. A /31 and a /32 have
  // no directed broadcast (RFC 3021), so their last address is an ordinary one.
  ASSERT_FALSE(engine_->reload(test::wan_lan()
                                   .addresses("wan", {"10.0.0.1/24", "10.9.9.0/31", "10.8.8.8/32"})
                                   .addresses("lan", {"192.168.1.1/25"})
                                   .parse()));
  EXPECT_EQ(udp_from(kClient, ip4(192, 168, 1, 127)).reason, DropReason::kIpv4Broadcast);
  EXPECT_EQ(udp_from(kClient, ip4(192, 168, 1, 255)).reason, DropReason::kNoRoute);
  EXPECT_EQ(udp_from(kClient, ip4(255, 255, 255, 255)).reason, DropReason::kIpv4Broadcast);
  EXPECT_EQ(udp_from(kClient, ip4(10, 9, 9, 1)).kind, Verdict::Kind::kQueued);
  EXPECT_EQ(ping(ip4(10, 8, 8, 8)).kind, Verdict::Kind::kConsumed);
}

TEST_F(AddrEngineTest, ArpIsAnsweredOnlyOnTheAddressesOwnInterface) {
  make(kIfaces);
  // 192.168.1.1 belongs to lan (1): asked on wan (0) it is not answered.
  EXPECT_EQ(arp_for(ip4(192, 168, 1, 1)).reason, DropReason::kArpNotForUs);
  EXPECT_EQ(arp_for(ip4(10, 0, 0, 1)).kind, Verdict::Kind::kConsumed);
  auto v = rx(1, frame()
                     .eth(MacAddr::broadcast(), kHostMac)
                     .arp(1, kHostMac, ip4(192, 168, 1, 20), MacAddr{}, ip4(192, 168, 1, 1))
                     .build());
  EXPECT_EQ(v.kind, Verdict::Kind::kConsumed);
}

}  // namespace
}  // namespace vs

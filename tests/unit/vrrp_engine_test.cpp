// VRRP through the engine: adverts and gratuitous ARPs as frames, and an instance's addresses
// answered (ARP, ping, traffic) only while the router is their master.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "config/config.hpp"
#include "engine.hpp"
#include "test_frames.hpp"
#include "vrrp_rig.hpp"
#include "wire/vrrp.hpp"

namespace vs {
namespace {

using test::ByteVec;

constexpr Ipv4Addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Ipv4Addr::from_octets(a, b, c, d); }
const MacAddr kWanMac = test::mac(2, 0, 0, 0, 0x0a, 1), kClientMac = test::mac(2, 0, 0, 0, 0xcc, 1);
const MacAddr kPeerMac = test::mac(2, 0, 0, 0, 0x0b, 1), kVmac = test::mac(0, 0, 0x5e, 0, 1, 51);
const Ipv4Addr kMe = ip4(10, 0, 0, 2), kPeer = ip4(10, 0, 0, 3), kClient = ip4(10, 0, 0, 50);
const Ipv4Addr kVip = ip4(10, 0, 0, 100), kGateway = ip4(10, 0, 0, 1), kGroup = ip4(224, 0, 0, 18);

std::string config_text(const std::string& keys) {
  return test::vrrp_config_text(R"(["10.0.0.100", "10.0.0.1"])", keys);
}

struct Rig {
  test::MemSink sink;
  Engine engine;
  int64_t now_us = 1'000'000'000;
  explicit Rig(const std::string& keys) : engine(parse(config_text(keys)), sink) { engine.start(now()); }
  static std::shared_ptr<const config::Config> parse(const std::string& t) {
    auto r = config::parse_config(t);
    if (!r) throw std::runtime_error(r.error().message);
    return r.value();
  }
  Instant now() const { return Instant::from_micros(now_us); }
  void run(double secs) {
    const int64_t until = now_us + static_cast<int64_t>(secs * 1e6);
    for (;;) {
      auto d = engine.next_deadline();
      if (!d || d->us > until) break;
      now_us = std::max(now_us, d->us);
      engine.on_timer(now());
    }
    now_us = until;
  }
  Verdict rx(const ByteVec& f) { return engine.on_frame(0, f, now()); }
  Verdict arp_who_has(Ipv4Addr target) {
    sink.clear();
    return rx(
        test::frame().eth(MacAddr::broadcast(), kClientMac).arp(1, kClientMac, kClient, MacAddr{}, target).build());
  }
  /// A version 2 advert from the peer (its MAC and address), priority `prio`.
  Verdict advert(uint8_t prio, uint8_t ttl = 255) {
    ByteVec body(wire::VrrpView<uint8_t>::length_for(2, 2));
    auto v = wire::VrrpView<uint8_t>::unchecked(body);
    v.fill(2, 51, prio, 2, 0, 100);
    v.set_address(0, kVip);
    v.set_address(1, kGateway);
    v.fill_checksum(kPeer, kGroup);
    return rx(test::frame()
                  .eth(test::mac(1, 0, 0x5e, 0, 0, 0x12), kPeerMac)
                  .ipv4(kPeer, kGroup)
                  .ttl(ttl)
                  .raw(112, body)
                  .build());
  }
  uint64_t drops(DropReason r) const { return engine.drops().n[static_cast<size_t>(r)]; }
};

TEST(VrrpEngine, ABackupDoesNotAnswerForTheInstancesAddressesTheMasterDoes) {
  Rig r("");
  EXPECT_EQ(r.engine.vrrp().instances()[0].state, vrrp::State::kBackup);
  EXPECT_EQ(r.arp_who_has(kVip).reason, DropReason::kVrrpBackup);
  EXPECT_EQ(r.arp_who_has(kGateway).reason, DropReason::kVrrpBackup);
  EXPECT_TRUE(r.sink.sent.empty());
  EXPECT_EQ(r.arp_who_has(kMe).kind, Verdict::Kind::kConsumed) << "its own address, always";
  auto syn = test::frame().eth(kWanMac, kClientMac).ipv4(kClient, kVip).tcp(40000, 80, tcp_flag::kSyn).build();
  EXPECT_EQ(r.rx(syn).reason, DropReason::kVrrpBackup);
  auto ping = test::frame().eth(kWanMac, kClientMac).ipv4(kClient, kGateway).echo_request(1, 1, {}).build();
  EXPECT_EQ(r.rx(ping).reason, DropReason::kVrrpBackup);

  // No advert for 3.609 s: master. One advert to the group, then the gratuitous ARPs.
  r.sink.clear();
  r.run(3.7);
  ASSERT_EQ(r.engine.vrrp().instances()[0].state, vrrp::State::kMaster);
  ASSERT_GE(r.sink.sent.size(), 11u);
  const ByteVec& adv = r.sink.sent[0].bytes;
  EXPECT_EQ(test::eth_dst(adv), test::mac(1, 0, 0x5e, 0, 0, 0x12));
  EXPECT_EQ(test::eth_src(adv), kWanMac);
  ASSERT_TRUE(test::ValidIpv4(adv));
  auto ipv = test::ip_of(adv);
  EXPECT_EQ(ipv.ttl(), 255);
  EXPECT_EQ(ipv.src(), kMe);
  EXPECT_EQ(ipv.dst(), kGroup);
  auto v = wire::VrrpView<const uint8_t>::parse(ipv.payload());
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->verify_checksum(kMe, kGroup));
  EXPECT_EQ(v->count(), 2);
  int garps = 0;
  for (size_t k = 1; k < r.sink.sent.size(); ++k) {
    const ByteVec& f = r.sink.sent[k].bytes;
    if (test::eth_type(f) != 0x0806) continue;
    auto a = test::arp_of(f);
    EXPECT_EQ(test::eth_dst(f), MacAddr::broadcast());
    EXPECT_EQ(a.oper(), 1);
    EXPECT_EQ(a.spa(), a.tpa()) << "gratuitous: sender = target";
    garps++;
  }
  EXPECT_EQ(garps, 10) << "5 repeats of 2 addresses";
  EXPECT_EQ(r.arp_who_has(kVip).kind, Verdict::Kind::kConsumed);
  ASSERT_EQ(r.sink.sent.size(), 1u);
  EXPECT_EQ(test::arp_of(r.sink.sent[0].bytes).sha(), kWanMac) << "without use_vmac: the interface's MAC";
  EXPECT_EQ(r.arp_who_has(kGateway).kind, Verdict::Kind::kConsumed);
  r.sink.clear();
  EXPECT_NE(r.rx(ping).kind, Verdict::Kind::kDropped) << "the gateway address answers pings";
  ASSERT_FALSE(r.sink.sent.empty());
  EXPECT_EQ(test::ip_of(r.sink.sent[0].bytes).src(), kGateway);

  // A better master: back to backup, and silent for the addresses again.
  EXPECT_EQ(r.advert(200).kind, Verdict::Kind::kConsumed);
  EXPECT_EQ(r.engine.vrrp().instances()[0].state, vrrp::State::kBackup);
  EXPECT_EQ(r.arp_who_has(kVip).reason, DropReason::kVrrpBackup);
  EXPECT_EQ(r.advert(200, 64).reason, DropReason::kVrrpBadTtl);
}

TEST(VrrpEngine, UseVmacAnswersAndSendsFromTheVirtualMacAndTakesFramesToIt) {
  Rig r("priority = 255\nuse_vmac = true");
  ASSERT_EQ(r.engine.vrrp().instances()[0].state, vrrp::State::kMaster);
  EXPECT_EQ(r.arp_who_has(kVip).kind, Verdict::Kind::kConsumed);
  ASSERT_EQ(r.sink.sent.size(), 1u);
  EXPECT_EQ(test::arp_of(r.sink.sent[0].bytes).sha(), kVmac);
  EXPECT_EQ(test::eth_src(r.sink.sent[0].bytes), kVmac);
  auto ping = test::frame().eth(kVmac, kClientMac).ipv4(kClient, kGateway).echo_request(1, 1, {}).build();
  EXPECT_NE(r.rx(ping).reason, DropReason::kEthNotForUs) << "a frame to the VMAC is ours while master";
  r.sink.clear();
  r.run(1.1);
  ASSERT_FALSE(r.sink.sent.empty());
  EXPECT_EQ(test::eth_src(r.sink.sent[0].bytes), kVmac) << "adverts from the VMAC";
  r.engine.stop(r.now());
  auto last = wire::VrrpView<const uint8_t>::parse(test::ip_of(r.sink.sent.back().bytes).payload());
  ASSERT_TRUE(last);
  EXPECT_EQ(last->priority(), 0) << "a stopping master resigns";
  EXPECT_EQ(r.rx(ping).reason, DropReason::kEthNotForUs) << "stopped: the VMAC is not ours";
}

}  // namespace
}  // namespace vs

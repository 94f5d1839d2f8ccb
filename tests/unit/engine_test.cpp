// Engine tests (src/engine.cpp): ARP answers and learning, next-hop resolution with queues and
// probes, local ICMP, forwarding (TTL, LPM, MTU, fragmentation), ICMP error rules and rate limit,
// malformed input, determinism.
//
// Frames are built by hand with tests/unit/test_frames.hpp (its checksums come from a reference
// RFC 1071 implementation); every frame the engine emits has its checksums verified before its
// fields are compared with values derived from the protocol rules (RFC 791, 792, 826, 1191, 1812).
#include "engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "test_config.hpp"
#include "test_frames.hpp"
#include "wire/tcp.hpp"

namespace vs {
namespace {

using test::ByteVec;
using test::frame;
using test::ip4;
using test::MemSink;
using test::Sent;
using test::ValidArp;
using test::ValidIcmp;
using test::ValidIpv4;
using test::ValidTransport;

// ---------------------------------------------------------------------------------------------
// The router under test
//
//   lan (0) 02:00:00:00:00:01  192.168.1.1/24                      VIP 192.168.1.100 (tcp:80)
//   wan (1) 02:00:00:00:00:02  203.0.113.2/24, 198.51.100.1/30     VIP 203.0.113.53 (udp:53)
//   dmz (2) 02:00:00:00:00:03  10.9.0.1/24, MTU 576
//   10.0.0.0/8 via 192.168.1.254 (lan), 172.16.0.0/12 via 198.51.100.2 (wan); no default route.

/// The router alone: no virtual service, so nothing of IPVS's touches transit traffic (the
/// kernel's ip_vs_out_hook reassembles transit fragments only once a service exists).
test::ConfigText plain_router_config() {
  test::ConfigText c = test::lan_wan_dmz();
  c.seed(7).mtu("dmz", 576);
  c.route("10.0.0.0/8", "192.168.1.254").route("172.16.0.0/12", "198.51.100.2");
  return c;
}

test::ConfigText router_config() {
  test::ConfigText c = plain_router_config();
  c.service("tcp", "192.168.1.100:80").real("192.168.1.11");
  c.service("udp", "203.0.113.53:53").real("203.0.113.60");
  return c;
}

constexpr uint32_t kLan = 0, kWan = 1, kDmz = 2;
constexpr MacAddr kLanMac = test::mac(0x02, 0, 0, 0, 0, 0x01);
constexpr MacAddr kWanMac = test::mac(0x02, 0, 0, 0, 0, 0x02);
constexpr MacAddr kDmzMac = test::mac(0x02, 0, 0, 0, 0, 0x03);
constexpr MacAddr kBcast = MacAddr::broadcast();
constexpr MacAddr kZeroMac{};

constexpr Ipv4Addr kLanIp = ip4(192, 168, 1, 1);
constexpr Ipv4Addr kWanIp = ip4(203, 0, 113, 2);
constexpr Ipv4Addr kWan2Ip = ip4(198, 51, 100, 1);
constexpr Ipv4Addr kDmzIp = ip4(10, 9, 0, 1);
constexpr Ipv4Addr kVipLan = ip4(192, 168, 1, 100);
constexpr Ipv4Addr kVipWan = ip4(203, 0, 113, 53);

// Hosts around the router.
constexpr Ipv4Addr kHostA = ip4(192, 168, 1, 50);  // lan
constexpr MacAddr kHostAMac = test::mac(0x02, 0xaa, 0, 0, 0, 0x50);
constexpr Ipv4Addr kHostB = ip4(192, 168, 1, 51);   // lan
constexpr Ipv4Addr kLanGw = ip4(192, 168, 1, 254);  // lan, gateway for 10/8
constexpr MacAddr kLanGwMac = test::mac(0x02, 0xaa, 0, 0, 0, 0xfe);
constexpr Ipv4Addr kWanHost = ip4(203, 0, 113, 7);  // wan
constexpr MacAddr kWanHostMac = test::mac(0x02, 0xbb, 0, 0, 0, 0x07);
constexpr Ipv4Addr kWanPeer = ip4(198, 51, 100, 2);  // wan /30, gateway for 172.16/12
constexpr MacAddr kWanPeerMac = test::mac(0x02, 0xbb, 0, 0, 0, 0x02);
constexpr Ipv4Addr kRemote = ip4(172, 16, 5, 5);  // behind kWanPeer
constexpr Ipv4Addr kDmzHost = ip4(10, 9, 0, 5);   // dmz
constexpr MacAddr kDmzHostMac = test::mac(0x02, 0xcc, 0, 0, 0, 0x05);

constexpr Instant T0 = Instant::from_micros(1'000'000'000);
constexpr Instant at_us(int64_t us) { return T0 + Duration::micros(us); }
constexpr Instant at_ms(int64_t ms) { return T0 + Duration::millis(ms); }
constexpr Instant at_s(int64_t s) { return T0 + Duration::seconds(s); }

/// The ICMP data (quoted datagram) of an emitted ICMP error.
ByteVec icmp_data(const ByteVec& f) {
  auto d = test::icmp_of(f).data();
  return ByteVec(d.begin(), d.end());
}

class EngineTest : public ::testing::Test {
protected:
  void SetUp() override { make({}); }

  void make(const EngineParams& p, const test::ConfigText& config = router_config()) {
    cfg_ = config.parse();
    ASSERT_TRUE(cfg_);
    engine_ = std::make_unique<Engine>(cfg_, sink_, p);
    sink_.clear();
  }

  Verdict rx(uint32_t iface, const ByteVec& f, Instant t = T0) { return engine_->on_frame(iface, f, t); }

  /// The host asks for our address `ours` on `iface` (so we learn it); our reply is discarded.
  void learn(uint32_t iface, Ipv4Addr host, const MacAddr& hmac, Ipv4Addr ours, Instant t = T0) {
    auto v = rx(iface, frame().eth(kBcast, hmac).arp(1, hmac, host, kZeroMac, ours).build(), t);
    ASSERT_EQ(v.kind, Verdict::Kind::kConsumed) << "learning " << host.str();
    sink_.clear();
  }
  void learn_host_a(Instant t = T0) { learn(kLan, kHostA, kHostAMac, kLanIp, t); }

  std::vector<Sent>& sent() { return sink_.sent; }
  const DropCounters& drops() const { return engine_->drops(); }
  Engine& engine() { return *engine_; }

  std::shared_ptr<const config::Config> cfg_;
  MemSink sink_;
  std::unique_ptr<Engine> engine_;
};

void expect_dropped(const Verdict& v, DropReason r) {
  EXPECT_EQ(v.kind, Verdict::Kind::kDropped);
  EXPECT_EQ(drop_name(v.reason), drop_name(r));
}

/// A UDP datagram from the wan host to host A (forwarded lan-ward), ident `id`.
ByteVec wan_to_a(uint16_t id, size_t payload = 32) {
  return frame()
      .eth(kWanMac, kWanHostMac)
      .ipv4(kWanHost, kHostA)
      .id(id)
      .udp(1000, 2000, test::pattern(payload))
      .build();
}

// =============================================================================================
// ARP answers (RFC 826)

TEST_F(EngineTest, ArpRequestForRouterAddressIsAnsweredToTheRequester) {
  auto v = rx(kLan, frame().eth(kBcast, kHostAMac).arp(1, kHostAMac, kHostA, kZeroMac, kLanIp).build());
  EXPECT_EQ(v.kind, Verdict::Kind::kConsumed);
  ASSERT_EQ(sent().size(), 1u);
  const auto& f = sent()[0];
  EXPECT_EQ(f.iface, kLan);
  ASSERT_TRUE(ValidArp(f.bytes));
  EXPECT_EQ(test::eth_dst(f.bytes), kHostAMac);
  EXPECT_EQ(test::eth_src(f.bytes), kLanMac);
  auto a = test::arp_of(f.bytes);
  EXPECT_EQ(a.oper(), 2);
  EXPECT_EQ(a.sha(), kLanMac);
  EXPECT_EQ(a.spa(), kLanIp);
  EXPECT_EQ(a.tha(), kHostAMac);
  EXPECT_EQ(a.tpa(), kHostA);
  EXPECT_EQ(engine().counters().arp_replies_sent, 1u);
}

TEST_F(EngineTest, ArpRequestForSecondaryAddressIsAnsweredWithThatAddress) {
  auto v = rx(kWan, frame().eth(kBcast, kWanPeerMac).arp(1, kWanPeerMac, kWanPeer, kZeroMac, kWan2Ip).build());
  EXPECT_EQ(v.kind, Verdict::Kind::kConsumed);
  ASSERT_EQ(sent().size(), 1u);
  ASSERT_TRUE(ValidArp(sent()[0].bytes));
  EXPECT_EQ(sent()[0].iface, kWan);
  EXPECT_EQ(test::eth_dst(sent()[0].bytes), kWanPeerMac);
  auto a = test::arp_of(sent()[0].bytes);
  EXPECT_EQ(a.oper(), 2);
  EXPECT_EQ(a.sha(), kWanMac);
  EXPECT_EQ(a.spa(), kWan2Ip);
  EXPECT_EQ(a.tha(), kWanPeerMac);
  EXPECT_EQ(a.tpa(), kWanPeer);
}

TEST_F(EngineTest, ArpRequestForVipIsAnsweredOnTheVipsInterface) {
  rx(kLan, frame().eth(kBcast, kHostAMac).arp(1, kHostAMac, kHostA, kZeroMac, kVipLan).build());
  rx(kWan, frame().eth(kBcast, kWanHostMac).arp(1, kWanHostMac, kWanHost, kZeroMac, kVipWan).build());
  ASSERT_EQ(sent().size(), 2u);
  ASSERT_TRUE(ValidArp(sent()[0].bytes));
  ASSERT_TRUE(ValidArp(sent()[1].bytes));
  EXPECT_EQ(sent()[0].iface, kLan);
  EXPECT_EQ(test::eth_dst(sent()[0].bytes), kHostAMac);
  EXPECT_EQ(test::arp_of(sent()[0].bytes).oper(), 2);
  EXPECT_EQ(test::arp_of(sent()[0].bytes).sha(), kLanMac);
  EXPECT_EQ(test::arp_of(sent()[0].bytes).spa(), kVipLan);
  EXPECT_EQ(test::arp_of(sent()[0].bytes).tpa(), kHostA);
  EXPECT_EQ(sent()[1].iface, kWan);
  EXPECT_EQ(test::arp_of(sent()[1].bytes).sha(), kWanMac);
  EXPECT_EQ(test::arp_of(sent()[1].bytes).spa(), kVipWan);
  EXPECT_EQ(test::arp_of(sent()[1].bytes).tha(), kWanHostMac);
}

TEST_F(EngineTest, ArpRequestForVipOnAnotherInterfaceIsNotForUs) {
  expect_dropped(rx(kWan, frame().eth(kBcast, kWanHostMac).arp(1, kWanHostMac, kWanHost, kZeroMac, kVipLan).build()),
                 DropReason::kArpNotForUs);
  expect_dropped(rx(kLan, frame().eth(kBcast, kHostAMac).arp(1, kHostAMac, kHostA, kZeroMac, kVipWan).build()),
                 DropReason::kArpNotForUs);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(drops()[DropReason::kArpNotForUs], 2u);
  EXPECT_EQ(engine().neigh().size(), 0u) << "a request not for us creates no entry";
}

TEST_F(EngineTest, ArpRequestForForeignAddressIsNotForUs) {
  expect_dropped(
      rx(kLan, frame().eth(kBcast, kHostAMac).arp(1, kHostAMac, kHostA, kZeroMac, ip4(192, 168, 1, 77)).build()),
      DropReason::kArpNotForUs);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(engine().neigh().size(), 0u);
}

TEST_F(EngineTest, ArpRequestTargetedAtUsTeachesTheSender) {
  learn_host_a();
  EXPECT_EQ(engine().neigh().size(), 1u);
  // A packet to host A now leaves at once with its MAC: no ARP request, no queueing.
  auto v = rx(kWan, wan_to_a(1));
  EXPECT_EQ(v.kind, Verdict::Kind::kForwarded);
  EXPECT_EQ(v.out_iface, kLan);
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(test::eth_dst(sent()[0].bytes), kHostAMac);
  EXPECT_EQ(engine().counters().arp_requests_sent, 0u);
}

TEST_F(EngineTest, ArpProbeIsAnsweredButNotLearned) {
  // RFC 5227 probe: sender IP 0.0.0.0.
  auto v = rx(kLan, frame().eth(kBcast, kHostAMac).arp(1, kHostAMac, Ipv4Addr{}, kZeroMac, kLanIp).build());
  EXPECT_EQ(v.kind, Verdict::Kind::kConsumed);
  ASSERT_EQ(sent().size(), 1u);
  ASSERT_TRUE(ValidArp(sent()[0].bytes));
  EXPECT_EQ(test::eth_dst(sent()[0].bytes), kHostAMac);
  auto a = test::arp_of(sent()[0].bytes);
  EXPECT_EQ(a.oper(), 2);
  EXPECT_EQ(a.sha(), kLanMac);
  EXPECT_EQ(a.spa(), kLanIp);
  EXPECT_EQ(a.tha(), kHostAMac);
  EXPECT_EQ(a.tpa(), Ipv4Addr{});
  EXPECT_EQ(engine().neigh().size(), 0u);
}

TEST_F(EngineTest, UnsolicitedArpReplyCreatesNoEntry) {
  auto v = rx(kLan, frame().eth(kLanMac, kHostAMac).arp(2, kHostAMac, kHostA, kLanMac, kLanIp).build());
  expect_dropped(v, DropReason::kArpUnsolicited);
  EXPECT_EQ(engine().neigh().size(), 0u);
  EXPECT_TRUE(sent().empty());
  // And host A is still unknown: a packet to it waits for ARP.
  EXPECT_EQ(rx(kWan, wan_to_a(1)).kind, Verdict::Kind::kQueued);
}

TEST_F(EngineTest, ArpReplyFromKnownHostUpdatesItsEntry) {
  learn_host_a();
  const MacAddr moved = test::mac(0x02, 0xaa, 0, 0, 0x01, 0x50);
  auto v = rx(kLan, frame().eth(kLanMac, moved).arp(2, moved, kHostA, kLanMac, kLanIp).build(), at_s(1));
  EXPECT_EQ(v.kind, Verdict::Kind::kConsumed);
  EXPECT_TRUE(sent().empty());
  rx(kWan, wan_to_a(1), at_s(2));
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(test::eth_dst(sent()[0].bytes), moved);
}

TEST_F(EngineTest, ArpRequestNotForUsStillUpdatesAKnownEntry) {
  learn_host_a();
  const MacAddr moved = test::mac(0x02, 0xaa, 0, 0, 0x01, 0x50);
  // Gratuitous ARP (sender = target = host A) with a new MAC.
  expect_dropped(rx(kLan, frame().eth(kBcast, moved).arp(1, moved, kHostA, kZeroMac, kHostA).build(), at_s(1)),
                 DropReason::kArpNotForUs);
  rx(kWan, wan_to_a(1), at_s(2));
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(test::eth_dst(sent()[0].bytes), moved);
}

TEST_F(EngineTest, ExpiredArpEntryKeepsForwardingWhileUnicastProbesReconfirmIt) {
  learn_host_a(T0);
  EXPECT_EQ(rx(kWan, wan_to_a(1), at_us(60'000'000 - 1)).kind, Verdict::Kind::kForwarded);
  sent().clear();
  // Expired at 60 s: the packet still goes to the MAC we know (Linux STALE, then DELAY).
  ASSERT_EQ(rx(kWan, wan_to_a(2), at_s(60)).kind, Verdict::Kind::kForwarded);
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(test::eth_dst(sent()[0].bytes), kHostAMac);
  ASSERT_TRUE(engine().neigh().next_deadline());
  EXPECT_EQ(*engine().neigh().next_deadline(), at_s(65)) << "first probe after delay_first_probe (5 s)";
  sent().clear();
  // PROBE: unicast requests to that MAC, one per second, three in all; packets keep flowing.
  for (int s = 65; s <= 67; ++s) {
    engine().on_timer(at_s(s));
    ASSERT_EQ(sent().size(), 1u) << "at " << s << " s";
    ASSERT_TRUE(ValidArp(sent()[0].bytes));
    EXPECT_EQ(test::eth_dst(sent()[0].bytes), kHostAMac) << "unicast, not broadcast";
    EXPECT_EQ(test::arp_of(sent()[0].bytes).tpa(), kHostA);
    sent().clear();
    EXPECT_EQ(rx(kWan, wan_to_a(static_cast<uint16_t>(s)), at_s(s)).kind, Verdict::Kind::kForwarded);
    sent().clear();
  }
  // No answer: the entry goes; the next packet starts a broadcast resolution and waits.
  engine().on_timer(at_s(68));
  EXPECT_EQ(engine().neigh().size(), 0u);
  EXPECT_EQ(drops()[DropReason::kNeighUnresolved], 0u) << "no packet was waiting";
  EXPECT_EQ(rx(kWan, wan_to_a(9), at_s(68)).kind, Verdict::Kind::kQueued);
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(test::eth_dst(sent()[0].bytes), kBcast);
}

TEST_F(EngineTest, AnsweredProbeMakesTheEntryReachableForAnotherSixtySeconds) {
  learn_host_a(T0);
  ASSERT_EQ(rx(kWan, wan_to_a(1), at_s(61)).kind, Verdict::Kind::kForwarded);
  engine().on_timer(at_s(66));  // the probe
  sent().clear();
  auto reply = frame().eth(kLanMac, kHostAMac).arp(2, kHostAMac, kHostA, kLanMac, kLanIp).build();
  ASSERT_EQ(rx(kLan, reply, at_s(66)).kind, Verdict::Kind::kConsumed);
  EXPECT_FALSE(engine().neigh().next_deadline()) << "nothing left to probe";
  EXPECT_EQ(rx(kWan, wan_to_a(2), at_s(125)).kind, Verdict::Kind::kForwarded);
  EXPECT_EQ(engine().neigh().size(), 1u);
  EXPECT_EQ(sent().size(), 1u) << "the datagram only: no request before 66 + 60 s";
}

TEST_F(EngineTest, TruncatedOrNonEthernetIpv4ArpIsMalformed) {
  ByteVec good = frame().eth(kBcast, kHostAMac).arp(1, kHostAMac, kHostA, kZeroMac, kLanIp).build();
  ByteVec shortf(good.begin(), good.end() - 1);  // 27 bytes of ARP
  ByteVec htype = good;
  htype[14 + 1] = 6;  // IEEE 802 hardware
  ByteVec ptype = good;
  ptype[14 + 2] = 0x86;
  ptype[14 + 3] = 0xdd;
  ByteVec hlen = good;
  hlen[14 + 4] = 8;
  ByteVec plen = good;
  plen[14 + 5] = 16;
  for (const ByteVec* f : {&shortf, &htype, &ptype, &hlen, &plen})
    expect_dropped(rx(kLan, *f), DropReason::kArpMalformed);
  EXPECT_EQ(drops()[DropReason::kArpMalformed], 5u);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(engine().neigh().size(), 0u);
}

TEST_F(EngineTest, ArpWithUnknownOperationIsMalformed) {
  for (uint16_t op : {0, 3, 4, 0x0100})
    expect_dropped(rx(kLan, frame().eth(kBcast, kHostAMac).arp(op, kHostAMac, kHostA, kZeroMac, kLanIp).build()),
                   DropReason::kArpMalformed);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(engine().neigh().size(), 0u);
}

TEST_F(EngineTest, ArpWithInvalidSenderIsMalformed) {
  const MacAddr multicast = test::mac(0x01, 0x00, 0x5e, 0, 0, 1);
  // Bad sender hardware address.
  expect_dropped(rx(kLan, frame().eth(kBcast, kHostAMac).arp(1, multicast, kHostA, kZeroMac, kLanIp).build()),
                 DropReason::kArpMalformed);
  expect_dropped(rx(kLan, frame().eth(kBcast, kHostAMac).arp(1, kZeroMac, kHostA, kZeroMac, kLanIp).build()),
                 DropReason::kArpMalformed);
  expect_dropped(rx(kLan, frame().eth(kBcast, kHostAMac).arp(1, kBcast, kHostA, kZeroMac, kLanIp).build()),
                 DropReason::kArpMalformed);
  // Bad sender protocol address: broadcast, multicast, or one of ours (an address conflict).
  for (Ipv4Addr spa : {Ipv4Addr::broadcast(), ip4(224, 0, 0, 1), kLanIp, kVipLan}) {
    SCOPED_TRACE(spa.str());
    expect_dropped(rx(kLan, frame().eth(kBcast, kHostAMac).arp(1, kHostAMac, spa, kZeroMac, kLanIp).build()),
                   DropReason::kArpMalformed);
  }
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(engine().neigh().size(), 0u);
}

// =============================================================================================
// Next-hop resolution

TEST_F(EngineTest, PacketToUnresolvedNextHopSendsOneBroadcastArpRequest) {
  auto v = rx(kWan, wan_to_a(1));
  EXPECT_EQ(v.kind, Verdict::Kind::kQueued);
  EXPECT_EQ(v.out_iface, kLan);
  ASSERT_EQ(sent().size(), 1u);
  const auto& f = sent()[0];
  EXPECT_EQ(f.iface, kLan);
  ASSERT_TRUE(ValidArp(f.bytes));
  EXPECT_EQ(test::eth_dst(f.bytes), kBcast);
  EXPECT_EQ(test::eth_src(f.bytes), kLanMac);
  auto a = test::arp_of(f.bytes);
  EXPECT_EQ(a.oper(), 1);
  EXPECT_EQ(a.sha(), kLanMac);
  EXPECT_EQ(a.spa(), kLanIp);
  EXPECT_EQ(a.tha(), kZeroMac);
  EXPECT_EQ(a.tpa(), kHostA);
  // More packets for the same next hop wait without another request.
  EXPECT_EQ(rx(kWan, wan_to_a(2), at_ms(10)).kind, Verdict::Kind::kQueued);
  EXPECT_EQ(rx(kWan, wan_to_a(3), at_ms(20)).kind, Verdict::Kind::kQueued);
  EXPECT_EQ(sent().size(), 1u);
  EXPECT_EQ(engine().counters().arp_requests_sent, 1u);
}

TEST_F(EngineTest, ArpRequestSourceIsOurAddressOnTheNextHopsSubnet) {
  // 172.16.1.1 is reached via 198.51.100.2: the request must come from 198.51.100.1, not from
  // wan's first address 203.0.113.2.
  rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, ip4(172, 16, 1, 1)).udp(1, 2).build());
  rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kWanHost).udp(1, 2).build());
  ASSERT_EQ(sent().size(), 2u);
  ASSERT_TRUE(ValidArp(sent()[0].bytes));
  ASSERT_TRUE(ValidArp(sent()[1].bytes));
  EXPECT_EQ(sent()[0].iface, kWan);
  EXPECT_EQ(test::arp_of(sent()[0].bytes).tpa(), kWanPeer);
  EXPECT_EQ(test::arp_of(sent()[0].bytes).spa(), kWan2Ip);
  EXPECT_EQ(test::arp_of(sent()[0].bytes).sha(), kWanMac);
  EXPECT_EQ(test::arp_of(sent()[1].bytes).tpa(), kWanHost);
  EXPECT_EQ(test::arp_of(sent()[1].bytes).spa(), kWanIp);
}

TEST_F(EngineTest, QueuedPacketsLeaveIntactAndInOrderWhenTheReplyArrives) {
  // Three different packets (ids 1..3, sizes differ) wait for host A.
  std::vector<ByteVec> in = {wan_to_a(1, 10), wan_to_a(2, 200), wan_to_a(3, 33)};
  for (size_t i = 0; i < in.size(); ++i)
    EXPECT_EQ(rx(kWan, in[i], at_ms(static_cast<int64_t>(i))).kind, Verdict::Kind::kQueued);
  sent().clear();
  auto v = rx(kLan, frame().eth(kLanMac, kHostAMac).arp(2, kHostAMac, kHostA, kLanMac, kLanIp).build(), at_ms(50));
  EXPECT_EQ(v.kind, Verdict::Kind::kConsumed);
  ASSERT_EQ(sent().size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const auto& f = sent()[i].bytes;
    EXPECT_EQ(sent()[i].iface, kLan);
    ASSERT_TRUE(ValidTransport(f));
    EXPECT_EQ(test::eth_dst(f), kHostAMac);
    EXPECT_EQ(test::eth_src(f), kLanMac);
    EXPECT_EQ(test::ip_bytes(f), test::forwarded_ip(in[i]));
  }
  EXPECT_EQ(engine().neigh().size(), 1u);
  EXPECT_FALSE(engine().neigh().next_deadline().has_value()) << "no ARP resolution pending";
}

TEST_F(EngineTest, ArpRequestFromTheHostBeingResolvedReleasesItsQueue) {
  ByteVec in = wan_to_a(9);
  EXPECT_EQ(rx(kWan, in).kind, Verdict::Kind::kQueued);
  sent().clear();
  // Host A asks for us (as it would to answer): we learn it, send the queue, and answer.
  rx(kLan, frame().eth(kBcast, kHostAMac).arp(1, kHostAMac, kHostA, kZeroMac, kLanIp).build(), at_ms(5));
  ASSERT_EQ(sent().size(), 2u);
  ASSERT_TRUE(ValidTransport(sent()[0].bytes));
  EXPECT_EQ(test::ip_bytes(sent()[0].bytes), test::forwarded_ip(in));
  EXPECT_EQ(test::eth_dst(sent()[0].bytes), kHostAMac);
  ASSERT_TRUE(ValidArp(sent()[1].bytes));
  EXPECT_EQ(test::arp_of(sent()[1].bytes).oper(), 2);
}

TEST_F(EngineTest, NeighbourQueueOverflowDropsArpQueueFull) {
  for (uint16_t id = 1; id <= 4; ++id) EXPECT_EQ(rx(kWan, wan_to_a(id)).kind, Verdict::Kind::kQueued);
  auto v = rx(kWan, wan_to_a(5));
  expect_dropped(v, DropReason::kNeighQueueFull);
  EXPECT_EQ(drops()[DropReason::kNeighQueueFull], 1u);
  EXPECT_EQ(engine().counters().forwarded, 4u) << "a packet dropped for a full queue is not forwarded";
  sent().clear();
  rx(kLan, frame().eth(kLanMac, kHostAMac).arp(2, kHostAMac, kHostA, kLanMac, kLanIp).build(), at_ms(1));
  ASSERT_EQ(sent().size(), 4u);
  for (uint16_t i = 0; i < 4; ++i) EXPECT_EQ(test::ip_of(sent()[i].bytes).ident(), i + 1);
}

TEST_F(EngineTest, ArpRequestsRepeatEverySecondUpToThreeAndNextDeadlineTracksThem) {
  EXPECT_FALSE(engine().next_deadline().has_value());
  rx(kWan, wan_to_a(1), T0);
  ASSERT_EQ(sent().size(), 1u);
  const ByteVec first = sent()[0].bytes;
  EXPECT_EQ(engine().next_deadline(), at_s(1));

  engine().on_timer(at_ms(999));
  EXPECT_EQ(sent().size(), 1u) << "nothing is due before 1 s";

  engine().on_timer(at_s(1));
  ASSERT_EQ(sent().size(), 2u);
  EXPECT_EQ(sent()[1].iface, kLan);
  EXPECT_EQ(sent()[1].bytes, first) << "the repeated request is the same broadcast";
  EXPECT_EQ(engine().next_deadline(), at_s(2));

  engine().on_timer(at_s(2));
  ASSERT_EQ(sent().size(), 3u);
  EXPECT_EQ(sent()[2].bytes, first);
  EXPECT_EQ(engine().next_deadline(), at_s(3));
  EXPECT_EQ(engine().counters().arp_requests_sent, 3u);
}

TEST_F(EngineTest, UnresolvedNextHopDropsQueuedPacketsAndSendsHostUnreachableToEachSource) {
  learn(kWan, kWanHost, kWanHostMac, kWanIp);
  learn(kWan, kWanPeer, kWanPeerMac, kWan2Ip);
  ByteVec p1 = wan_to_a(1);
  ByteVec p2 = frame().eth(kWanMac, kWanPeerMac).ipv4(kRemote, kHostA).id(2).tcp(5555, 80, 0x02).build();
  rx(kWan, p1);
  rx(kWan, p2);
  engine().on_timer(at_s(1));
  engine().on_timer(at_s(2));
  sent().clear();

  engine().on_timer(at_s(3));
  EXPECT_EQ(engine().counters().arp_requests_sent, 3u) << "no fourth request";
  EXPECT_EQ(drops()[DropReason::kNeighUnresolved], 2u);
  ASSERT_EQ(sent().size(), 2u);
  // The queued packets had been forwarded already (TTL 63) when resolution failed.
  struct Want {
    MacAddr mac;
    Ipv4Addr from, to;
    const ByteVec* pkt;
  } want[] = {{kWanHostMac, kWanIp, kWanHost, &p1}, {kWanPeerMac, kWan2Ip, kRemote, &p2}};
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    const auto& f = sent()[i].bytes;
    EXPECT_EQ(sent()[i].iface, kWan);
    ASSERT_TRUE(ValidIcmp(f));
    EXPECT_EQ(test::eth_dst(f), want[i].mac);
    EXPECT_EQ(test::eth_src(f), kWanMac);
    EXPECT_EQ(test::ip_of(f).src(), want[i].from);
    EXPECT_EQ(test::ip_of(f).dst(), want[i].to);
    EXPECT_EQ(test::icmp_of(f).type(), 3);
    EXPECT_EQ(test::icmp_of(f).code(), 1);
    EXPECT_EQ(icmp_data(f), test::forwarded_ip(*want[i].pkt));
  }
  EXPECT_FALSE(engine().neigh().next_deadline().has_value()) << "no ARP resolution pending";
  EXPECT_EQ(engine().neigh().size(), 2u) << "only the two learned hosts remain";
  sent().clear();
  engine().on_timer(at_s(10));
  EXPECT_TRUE(sent().empty());
}

TEST_F(EngineTest, NeighbourTableFullDropsArpTableFull) {
  EngineParams p;
  p.neigh.capacity = 2;
  make(p);
  auto to = [](Ipv4Addr dst) { return frame().eth(kLanMac, kHostAMac).ipv4(kHostA, dst).udp(1, 2).build(); };
  EXPECT_EQ(rx(kLan, to(ip4(203, 0, 113, 7))).kind, Verdict::Kind::kQueued);
  EXPECT_EQ(rx(kLan, to(ip4(203, 0, 113, 8))).kind, Verdict::Kind::kQueued);
  expect_dropped(rx(kLan, to(ip4(203, 0, 113, 9))), DropReason::kNeighTableFull);
  EXPECT_EQ(drops()[DropReason::kNeighTableFull], 1u);
  EXPECT_EQ(engine().counters().arp_requests_sent, 2u);
  EXPECT_EQ(engine().neigh().size(), 2u);
}

TEST_F(EngineTest, FailedResolutionReturnsEveryPacketBuffer) {
  // Two buffers in all. A packet from 10.5.5.5 to 10.6.6.6 goes back out through 192.168.1.254,
  // which never answers; the host-unreachable error for 10.5.5.5 needs the same neighbour. When
  // resolution fails, no buffer may stay held: afterwards two packets can wait at once again.
  EngineParams p;
  p.pool_buffers = 2;
  make(p);
  ByteVec pkt = frame().eth(kLanMac, kLanGwMac).ipv4(ip4(10, 5, 5, 5), ip4(10, 6, 6, 6)).udp(7, 7).build();
  EXPECT_EQ(rx(kLan, pkt).kind, Verdict::Kind::kQueued);
  for (int s = 1; s <= 3; ++s) engine().on_timer(at_s(s));
  // Let anything the failure left behind fail as well.
  for (int s = 4; s <= 8; ++s) engine().on_timer(at_s(s));
  EXPECT_FALSE(engine().neigh().next_deadline().has_value()) << "no ARP resolution pending";

  auto to = [](Ipv4Addr dst) { return frame().eth(kWanMac, kWanHostMac).ipv4(kWanHost, dst).udp(1, 2).build(); };
  EXPECT_EQ(rx(kWan, to(kHostA), at_s(9)).kind, Verdict::Kind::kQueued);
  EXPECT_EQ(rx(kWan, to(kHostB), at_s(9)).kind, Verdict::Kind::kQueued);
}

TEST_F(EngineTest, FailedResolutionOfOurOwnEchoReplySendsNothing) {
  // Host A pings us but never answers our ARP. When resolution fails, the waiting echo reply is
  // ours: no host-unreachable to ourselves, no ARP request for our own address.
  rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).echo_request(1, 1, {}).build());
  engine().on_timer(at_s(1));
  engine().on_timer(at_s(2));
  sent().clear();
  engine().on_timer(at_s(3));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(drops()[DropReason::kNeighUnresolved], 1u);
  EXPECT_EQ(engine().counters().icmp_errors_sent, 0u);
  EXPECT_FALSE(engine().neigh().next_deadline().has_value()) << "no ARP resolution pending";
  EXPECT_EQ(engine().neigh().size(), 0u);
}

// =============================================================================================
// ICMP to the router (RFC 792, RFC 1122 §3.2.2.6)

TEST_F(EngineTest, EchoRequestToRouterAddressGetsEchoReply) {
  learn_host_a();
  const ByteVec data = test::pattern(57, 0x40);  // odd length: the checksum pads
  auto v = rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).ttl(5).echo_request(0x4242, 7, data).build());
  EXPECT_EQ(v.kind, Verdict::Kind::kConsumed);
  ASSERT_EQ(sent().size(), 1u);
  const auto& f = sent()[0].bytes;
  EXPECT_EQ(sent()[0].iface, kLan);
  ASSERT_TRUE(ValidIcmp(f));
  EXPECT_EQ(test::eth_dst(f), kHostAMac);
  EXPECT_EQ(test::eth_src(f), kLanMac);
  auto ip = test::ip_of(f);
  EXPECT_EQ(ip.src(), kLanIp);
  EXPECT_EQ(ip.dst(), kHostA);
  EXPECT_EQ(ip.ttl(), 64);
  EXPECT_EQ(ip.total_len(), 20 + 8 + 57);
  auto icmp = test::icmp_of(f);
  EXPECT_EQ(icmp.type(), 0);
  EXPECT_EQ(icmp.code(), 0);
  EXPECT_EQ(icmp.ident(), 0x4242);
  EXPECT_EQ(icmp.seq(), 7);
  EXPECT_EQ(icmp_data(f), data);
  EXPECT_EQ(engine().counters().echo_replies_sent, 1u);
}

TEST_F(EngineTest, EchoReplyComesFromThePingedAddress) {
  learn_host_a();
  learn(kWan, kWanPeer, kWanPeerMac, kWan2Ip);
  // Secondary address, the address of another interface, and a VIP.
  rx(kWan, frame().eth(kWanMac, kWanPeerMac).ipv4(kWanPeer, kWan2Ip).echo_request(1, 1, {}).build());
  rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kWanIp).echo_request(2, 2, {}).build());
  rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzIp).echo_request(3, 3, {}).build());
  rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kVipLan).echo_request(4, 4, {}).build());
  ASSERT_EQ(sent().size(), 4u);
  struct Want {
    uint32_t iface;
    Ipv4Addr from, to;
    uint16_t id;
  } want[] = {
      {kWan, kWan2Ip, kWanPeer, 1}, {kLan, kWanIp, kHostA, 2}, {kLan, kDmzIp, kHostA, 3}, {kLan, kVipLan, kHostA, 4}};
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    const auto& f = sent()[i].bytes;
    ASSERT_TRUE(ValidIcmp(f));
    EXPECT_EQ(sent()[i].iface, want[i].iface);
    EXPECT_EQ(test::ip_of(f).src(), want[i].from);
    EXPECT_EQ(test::ip_of(f).dst(), want[i].to);
    EXPECT_EQ(test::icmp_of(f).type(), 0);
    EXPECT_EQ(test::icmp_of(f).ident(), want[i].id);
  }
}

TEST_F(EngineTest, EchoRequestWithTtlOneToRouterIsAnswered) {
  learn_host_a();
  auto v = rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).ttl(1).echo_request(9, 9, {1, 2, 3}).build());
  EXPECT_EQ(v.kind, Verdict::Kind::kConsumed);
  ASSERT_EQ(sent().size(), 1u);
  ASSERT_TRUE(ValidIcmp(sent()[0].bytes));
  EXPECT_EQ(test::icmp_of(sent()[0].bytes).type(), 0);
  EXPECT_EQ(drops().total(), 0u);
}

TEST_F(EngineTest, EchoReplyToUnresolvedHostWaitsIntactForArp) {
  const ByteVec data = test::pattern(24);
  auto v = rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).echo_request(0x77, 3, data).build());
  EXPECT_EQ(v.kind, Verdict::Kind::kConsumed);
  ASSERT_EQ(sent().size(), 1u);
  ASSERT_TRUE(ValidArp(sent()[0].bytes));
  EXPECT_EQ(test::arp_of(sent()[0].bytes).tpa(), kHostA);
  sent().clear();
  rx(kLan, frame().eth(kLanMac, kHostAMac).arp(2, kHostAMac, kHostA, kLanMac, kLanIp).build(), at_ms(3));
  ASSERT_EQ(sent().size(), 1u);
  const auto& f = sent()[0].bytes;
  ASSERT_TRUE(ValidIcmp(f));
  EXPECT_EQ(test::eth_dst(f), kHostAMac);
  EXPECT_EQ(test::eth_src(f), kLanMac);
  EXPECT_EQ(test::ip_of(f).src(), kLanIp);
  EXPECT_EQ(test::ip_of(f).dst(), kHostA);
  EXPECT_EQ(test::icmp_of(f).type(), 0);
  EXPECT_EQ(test::icmp_of(f).ident(), 0x77);
  EXPECT_EQ(test::icmp_of(f).seq(), 3);
  EXPECT_EQ(icmp_data(f), data);
}

TEST_F(EngineTest, IcmpOtherThanEchoRequestToUsIsUnhandled) {
  learn_host_a();
  // Timestamp request (13), echo reply (0), and an error (port unreachable) addressed to us.
  const ByteVec quoted = test::ip_bytes(frame().eth(kHostAMac, kLanMac).ipv4(kLanIp, kHostA).udp(53, 53).build());
  for (auto f : {frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).icmp(13, 0, 0x00010001, ByteVec(12, 0)).build(),
                 frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).icmp(0, 0, 0x00010001, {}).build(),
                 frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).icmp(3, 3, 0, quoted).build()})
    expect_dropped(rx(kLan, f), DropReason::kIcmpLocalUnhandled);
  EXPECT_TRUE(sent().empty());
}

TEST_F(EngineTest, IcmpWithBadChecksumToUsIsDropped) {
  learn_host_a();
  ByteVec f = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).echo_request(1, 1, test::pattern(8)).build();
  f[14 + 20 + 2] ^= 0x01;  // ICMP checksum; the IP header stays valid
  expect_dropped(rx(kLan, f), DropReason::kIcmpBadChecksum);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(engine().counters().echo_replies_sent, 0u);
}

// tcp_v4_send_reset: a segment nothing takes gets a RST from the address it was sent to.
TEST_F(EngineTest, TcpSynToRouterAddressGetsRst) {
  learn_host_a();
  ByteVec in = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).tos(0x13).tcp(40000, 22, 0x02).build();
  expect_dropped(rx(kLan, in), DropReason::kLocalNoService);
  ASSERT_EQ(sent().size(), 1u);
  const auto& f = sent()[0].bytes;
  ASSERT_TRUE(ValidTransport(f));
  EXPECT_EQ(test::eth_dst(f), kHostAMac);
  auto ip = test::ip_of(f);
  EXPECT_EQ(ip.src(), kLanIp);
  EXPECT_EQ(ip.dst(), kHostA);
  EXPECT_EQ(ip.protocol(), IpProto::kTcp);
  EXPECT_EQ(ip.total_len(), 40u);
  EXPECT_EQ(ip.ttl(), 64);
  EXPECT_EQ(ip.tos(), 0x10);  // ECN bits cleared
  EXPECT_EQ(ip.ident(), 0);
  EXPECT_TRUE(ip.dont_fragment());
  auto th = wire::TcpView<const uint8_t>::parse(ip.payload());
  ASSERT_TRUE(th);
  EXPECT_EQ(th->sport(), 22);
  EXPECT_EQ(th->dport(), 40000);
  EXPECT_EQ(th->flags(), tcp_flag::kRst | tcp_flag::kAck);
  EXPECT_EQ(th->seq(), 0u);
  EXPECT_EQ(th->ack(), 0x01020304u + 1);  // SYN counts one
  EXPECT_EQ(th->window(), 0);
  EXPECT_EQ(th->header_len(), 20u);
  EXPECT_EQ(engine().counters().tcp_resets_sent, 1u);
  EXPECT_EQ(engine().counters().icmp_errors_sent, 0u);
}

TEST_F(EngineTest, TcpAckToVipWithoutConnectionGetsRstWithItsAckAsSeq) {
  learn_host_a();
  // A bare ACK to the VIP's served port 80 (no connection: it may not open one) and a FIN with
  // data to an unserved port.
  ByteVec ack =
      frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kVipLan).tcp(1000, 80, 0x10).seq_ack(7, 0xdeadbeef).build();
  expect_dropped(rx(kLan, ack), DropReason::kLocalNoService);
  ByteVec fin = frame()
                    .eth(kLanMac, kHostAMac)
                    .ipv4(kHostA, kVipLan)
                    .tcp(1001, 81, 0x01, test::pattern(5))
                    .seq_ack(100, 0)
                    .build();
  expect_dropped(rx(kLan, fin), DropReason::kLocalNoService);
  ASSERT_EQ(sent().size(), 2u);
  auto a = wire::TcpView<const uint8_t>::parse(test::ip_of(sent()[0].bytes).payload());
  ASSERT_TRUE(ValidTransport(sent()[0].bytes));
  EXPECT_EQ(test::ip_of(sent()[0].bytes).src(), kVipLan);
  EXPECT_EQ(a->flags(), tcp_flag::kRst);
  EXPECT_EQ(a->seq(), 0xdeadbeefu);
  EXPECT_EQ(a->ack(), 0u);
  EXPECT_EQ(a->sport(), 80);
  auto b = wire::TcpView<const uint8_t>::parse(test::ip_of(sent()[1].bytes).payload());
  ASSERT_TRUE(ValidTransport(sent()[1].bytes));
  EXPECT_EQ(b->flags(), tcp_flag::kRst | tcp_flag::kAck);
  EXPECT_EQ(b->seq(), 0u);
  EXPECT_EQ(b->ack(), 100u + 1 + 5);  // FIN + payload
  EXPECT_EQ(engine().counters().tcp_resets_sent, 2u);
}

// [ipvs] sloppy_tcp: the same bare ACK opens a connection and goes to the real instead.
TEST_F(EngineTest, SloppyTcpSchedulesAMidFlowAckInsteadOfAReset) {
  make({}, router_config().sloppy_tcp(true));
  learn_host_a();
  ByteVec ack = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kVipLan).tcp(1000, 80, 0x10).seq_ack(7, 9).build();
  Verdict v = rx(kLan, ack);
  EXPECT_NE(v.kind, Verdict::Kind::kDropped);
  EXPECT_EQ(engine().counters().tcp_resets_sent, 0u);
  EXPECT_EQ(drops()[DropReason::kLocalNoService], 0u);
  ASSERT_EQ(engine().director().conns().size(), 1u);
  // A RST still opens nothing: it reaches local delivery and is not answered.
  expect_dropped(rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kVipLan).tcp(1001, 80, 0x04).build()),
                 DropReason::kLocalNoService);
  EXPECT_EQ(engine().director().conns().size(), 1u);
}

TEST_F(EngineTest, NoRstForRstOrBadChecksum) {
  learn_host_a();
  // RFC 793: a RST is never answered; SYN+RST neither. tcp_v4_rcv drops a bad checksum.
  expect_dropped(rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).tcp(1, 22, 0x04).build()),
                 DropReason::kLocalNoService);
  expect_dropped(rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kVipLan).tcp(1, 80, 0x06).build()),
                 DropReason::kLocalNoService);
  ByteVec bad = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).tcp(1, 22, 0x02).build();
  bad[test::kEthLen + 20 + 16] ^= 0xff;
  expect_dropped(rx(kLan, bad), DropReason::kLocalNoService);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(engine().counters().tcp_resets_sent, 0u);
  EXPECT_EQ(engine().counters().icmp_errors_sent, 0u);
}

TEST_F(EngineTest, OtherProtocolToUsGetsProtocolUnreachable) {
  learn_host_a();
  ByteVec in = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).raw(47, test::pattern(8)).build();
  expect_dropped(rx(kLan, in), DropReason::kLocalNoService);
  ASSERT_EQ(sent().size(), 1u);
  ASSERT_TRUE(ValidIcmp(sent()[0].bytes));
  EXPECT_EQ(test::icmp_of(sent()[0].bytes).type(), 3);
  EXPECT_EQ(test::icmp_of(sent()[0].bytes).code(), 2);
}

TEST_F(EngineTest, UdpToVipWithoutServiceGetsPortUnreachableFromTheVip) {
  learn_host_a();
  ByteVec in = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kVipLan).udp(5353, 5000, test::pattern(10)).build();
  expect_dropped(rx(kLan, in), DropReason::kLocalNoService);
  ASSERT_EQ(sent().size(), 1u);
  const auto& f = sent()[0].bytes;
  ASSERT_TRUE(ValidIcmp(f));
  EXPECT_EQ(test::ip_of(f).src(), kVipLan);
  EXPECT_EQ(test::ip_of(f).dst(), kHostA);
  EXPECT_EQ(test::icmp_of(f).type(), 3);
  EXPECT_EQ(test::icmp_of(f).code(), 3);
  EXPECT_EQ(icmp_data(f), test::ip_bytes(in));
}

// =============================================================================================
// Forwarding (RFC 1812 §5.3)

TEST_F(EngineTest, ForwardedPacketHasTtlDecrementedAndMacsRewritten) {
  learn_host_a();
  ByteVec in = wan_to_a(0x1111, 100);
  auto v = rx(kWan, in);
  EXPECT_EQ(v.kind, Verdict::Kind::kForwarded);
  EXPECT_EQ(v.out_iface, kLan);
  ASSERT_EQ(sent().size(), 1u);
  const auto& f = sent()[0].bytes;
  EXPECT_EQ(sent()[0].iface, kLan);
  ASSERT_TRUE(ValidTransport(f));
  EXPECT_EQ(test::eth_dst(f), kHostAMac);
  EXPECT_EQ(test::eth_src(f), kLanMac);
  EXPECT_EQ(test::ip_of(f).ttl(), 63);
  EXPECT_EQ(test::ip_bytes(f), test::forwarded_ip(in));
  // RFC 1624: TTL is the high byte of word 4; lowering it by 1 lowers the sum by 0x0100, so the
  // checksum grows by 0x0100 (one's complement addition, end-around carry).
  uint32_t c = test::get16(in, 14 + 10) + 0x0100u;
  c = (c & 0xffff) + (c >> 16);
  EXPECT_EQ(test::ip_of(f).checksum(), c);
  EXPECT_EQ(engine().counters().forwarded, 1u);
}

TEST_F(EngineTest, ForwardingUsesLongestPrefixMatch) {
  learn(kDmz, kDmzHost, kDmzHostMac, kDmzIp);
  learn(kLan, kLanGw, kLanGwMac, kLanIp);
  // 10.9.0.5: connected 10.9.0.0/24 on dmz beats 10.0.0.0/8 via 192.168.1.254.
  EXPECT_EQ(rx(kWan, frame().eth(kWanMac, kWanHostMac).ipv4(kWanHost, kDmzHost).udp(1, 2).build()).out_iface, kDmz);
  // 10.5.0.5: only 10.0.0.0/8 matches.
  EXPECT_EQ(rx(kWan, frame().eth(kWanMac, kWanHostMac).ipv4(kWanHost, ip4(10, 5, 0, 5)).udp(1, 2).build()).out_iface,
            kLan);
  ASSERT_EQ(sent().size(), 2u);
  EXPECT_EQ(sent()[0].iface, kDmz);
  EXPECT_EQ(test::eth_dst(sent()[0].bytes), kDmzHostMac);
  EXPECT_EQ(test::eth_src(sent()[0].bytes), kDmzMac);
  EXPECT_EQ(sent()[1].iface, kLan);
  EXPECT_EQ(test::eth_dst(sent()[1].bytes), kLanGwMac);
  EXPECT_EQ(test::ip_of(sent()[1].bytes).dst(), ip4(10, 5, 0, 5)) << "the destination is not rewritten";
}

TEST_F(EngineTest, StaticRouteSendsToTheGatewaysMac) {
  learn(kWan, kWanPeer, kWanPeerMac, kWan2Ip);
  ByteVec in = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, ip4(172, 20, 1, 1)).tcp(1234, 443, 0x02).build();
  auto v = rx(kLan, in);
  EXPECT_EQ(v.kind, Verdict::Kind::kForwarded);
  EXPECT_EQ(v.out_iface, kWan);
  ASSERT_EQ(sent().size(), 1u);
  ASSERT_TRUE(ValidTransport(sent()[0].bytes));
  EXPECT_EQ(test::eth_dst(sent()[0].bytes), kWanPeerMac);
  EXPECT_EQ(test::eth_src(sent()[0].bytes), kWanMac);
  EXPECT_EQ(test::ip_bytes(sent()[0].bytes), test::forwarded_ip(in));
}

TEST_F(EngineTest, PacketWithIpOptionsIsForwardedWithItsOptions) {
  learn_host_a();
  ByteVec in = frame()
                   .eth(kWanMac, kWanHostMac)
                   .ipv4(kWanHost, kHostA)
                   .options({1, 1, 1, 0})
                   .udp(1, 2, test::pattern(9))
                   .build();
  EXPECT_EQ(rx(kWan, in).kind, Verdict::Kind::kForwarded);
  ASSERT_EQ(sent().size(), 1u);
  ASSERT_TRUE(ValidTransport(sent()[0].bytes));
  EXPECT_EQ(test::ip_of(sent()[0].bytes).header_len(), 24u);
  EXPECT_EQ(test::ip_bytes(sent()[0].bytes), test::forwarded_ip(in));
}

TEST_F(EngineTest, EthernetPaddingIsNotForwarded) {
  learn_host_a();
  // 20 + 8 + 2 = 30 bytes of IP in a minimum-size (60-byte) frame: 16 bytes of padding.
  ByteVec in = frame().eth(kWanMac, kWanHostMac).ipv4(kWanHost, kHostA).udp(1, 2, {0xab, 0xcd}).pad_to(60).build();
  ASSERT_EQ(in.size(), 60u);
  EXPECT_EQ(rx(kWan, in).kind, Verdict::Kind::kForwarded);
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(sent()[0].bytes.size(), 14u + 30u);
  EXPECT_EQ(test::ip_bytes(sent()[0].bytes), test::forwarded_ip(in));
}

TEST_F(EngineTest, FragmentsAreForwardedWithoutTransportChecks) {
  make({}, plain_router_config());  // transit fragments are reassembled once a service exists
  learn_host_a();
  // A non-first fragment of TCP with 8 bytes (not a TCP header) and a tiny first fragment.
  ByteVec later =
      frame().eth(kWanMac, kWanHostMac).ipv4(kWanHost, kHostA).id(5).frag_offset(1480).raw(6, test::pattern(8)).build();
  ByteVec first = frame().eth(kWanMac, kWanHostMac).ipv4(kWanHost, kHostA).id(6).mf().raw(17, test::pattern(8)).build();
  ByteVec icmp_later =
      frame().eth(kWanMac, kWanHostMac).ipv4(kWanHost, kHostA).id(7).frag_offset(8).raw(1, {1, 2, 3}).build();
  for (const ByteVec* in : {&later, &first, &icmp_later}) {
    EXPECT_EQ(rx(kWan, *in).kind, Verdict::Kind::kForwarded);
    ASSERT_FALSE(sent().empty());
    ASSERT_TRUE(ValidIpv4(sent().back().bytes));
    EXPECT_EQ(test::ip_bytes(sent().back().bytes), test::forwarded_ip(*in));
  }
  EXPECT_EQ(sent().size(), 3u);
  EXPECT_EQ(drops().total(), 0u);
}

TEST_F(EngineTest, TtlExpiryGetsTimeExceededFromTheAddressFacingTheSender) {
  learn(kWan, kWanPeer, kWanPeerMac, kWan2Ip);
  for (uint8_t ttl : {1, 0}) {
    SCOPED_TRACE(int{ttl});
    sent().clear();
    // From 172.16.5.5 (behind 198.51.100.2): the router's address toward it is 198.51.100.1.
    ByteVec in = frame().eth(kWanMac, kWanPeerMac).ipv4(kRemote, kHostA).ttl(ttl).udp(9, 9, test::pattern(20)).build();
    expect_dropped(rx(kWan, in), DropReason::kTtlExceeded);
    ASSERT_EQ(sent().size(), 1u);
    const auto& f = sent()[0].bytes;
    EXPECT_EQ(sent()[0].iface, kWan);
    ASSERT_TRUE(ValidIcmp(f));
    EXPECT_EQ(test::eth_dst(f), kWanPeerMac);
    EXPECT_EQ(test::eth_src(f), kWanMac);
    EXPECT_EQ(test::ip_of(f).src(), kWan2Ip);
    EXPECT_EQ(test::ip_of(f).dst(), kRemote);
    EXPECT_EQ(test::ip_of(f).ttl(), 64);
    EXPECT_EQ(test::icmp_of(f).type(), 11);
    EXPECT_EQ(test::icmp_of(f).code(), 0);
    EXPECT_EQ(test::icmp_of(f).rest(), 0u);
    EXPECT_EQ(icmp_data(f), test::ip_bytes(in)) << "the original header (TTL as received) and data";
  }
  EXPECT_EQ(drops()[DropReason::kTtlExceeded], 2u);
  EXPECT_EQ(engine().counters().icmp_errors_sent, 2u);
}

TEST_F(EngineTest, IcmpErrorQuoteIsLimitedTo576ByteDatagram) {
  learn_host_a();
  ByteVec in = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).ttl(1).udp(9, 9, test::pattern(972)).build();
  ASSERT_EQ(test::ip_bytes(in).size(), 1000u);
  expect_dropped(rx(kLan, in), DropReason::kTtlExceeded);
  ASSERT_EQ(sent().size(), 1u);
  const auto& f = sent()[0].bytes;
  ASSERT_TRUE(ValidIcmp(f));
  // RFC 1812 §4.3.2.3: 576 = 20 (IP) + 8 (ICMP) + 548 quoted bytes.
  EXPECT_EQ(test::ip_of(f).total_len(), 576);
  ByteVec orig = test::ip_bytes(in);
  EXPECT_EQ(icmp_data(f), ByteVec(orig.begin(), orig.begin() + 548));
}

TEST_F(EngineTest, IcmpErrorFitsTheMtuOfItsEgressInterface) {
  // The same router with lan's MTU lowered to 100: an error toward host A may not exceed 100 bytes
  // (20 + 8 + 72 quoted) even though 576 would be allowed (Linux: min(576, route MTU)).
  make({}, router_config().mtu("lan", 100));
  learn_host_a();
  ByteVec in = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).ttl(1).udp(9, 9, test::pattern(72)).build();
  ASSERT_EQ(test::ip_bytes(in).size(), 100u);
  expect_dropped(rx(kLan, in), DropReason::kTtlExceeded);
  ASSERT_EQ(sent().size(), 1u);
  const auto& f = sent()[0].bytes;
  ASSERT_TRUE(ValidIcmp(f));
  EXPECT_EQ(test::ip_of(f).total_len(), 100);
  ByteVec orig = test::ip_bytes(in);
  EXPECT_EQ(icmp_data(f), ByteVec(orig.begin(), orig.begin() + 72));
}

TEST_F(EngineTest, NoRouteGetsNetUnreachable) {
  learn_host_a();
  ByteVec in = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, ip4(8, 8, 8, 8)).udp(53, 53, test::pattern(4)).build();
  expect_dropped(rx(kLan, in), DropReason::kNoRoute);
  ASSERT_EQ(sent().size(), 1u);
  const auto& f = sent()[0].bytes;
  ASSERT_TRUE(ValidIcmp(f));
  EXPECT_EQ(sent()[0].iface, kLan);
  EXPECT_EQ(test::ip_of(f).src(), kLanIp);
  EXPECT_EQ(test::ip_of(f).dst(), kHostA);
  EXPECT_EQ(test::icmp_of(f).type(), 3);
  EXPECT_EQ(test::icmp_of(f).code(), 0);
  EXPECT_EQ(icmp_data(f), test::ip_bytes(in));
}

TEST_F(EngineTest, NoRouteIsCheckedBeforeTtlAsLinuxDoes) {
  // Linux looks the route up on input (ip_route_input) before ip_forward checks the TTL, so a
  // TTL-1 packet with no route is told "net unreachable", not "time exceeded".
  learn_host_a();
  ByteVec in =
      frame().eth(kLanMac, kHostAMac).ipv4(kHostA, ip4(8, 8, 8, 8)).ttl(1).udp(53, 53, test::pattern(4)).build();
  expect_dropped(rx(kLan, in), DropReason::kNoRoute);
  ASSERT_EQ(sent().size(), 1u);
  ASSERT_TRUE(ValidIcmp(sent()[0].bytes));
  EXPECT_EQ(test::icmp_of(sent()[0].bytes).type(), 3);
  EXPECT_EQ(test::icmp_of(sent()[0].bytes).code(), 0);
}

TEST_F(EngineTest, OversizedPacketWithDfGetsFragNeededWithTheNextHopMtu) {
  learn_host_a();
  learn(kDmz, kDmzHost, kDmzHostMac, kDmzIp);
  ByteVec in = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).df().udp(9, 9, test::pattern(549)).build();
  ASSERT_EQ(test::ip_bytes(in).size(), 577u);  // one byte over dmz's MTU
  expect_dropped(rx(kLan, in), DropReason::kFragNeeded);
  ASSERT_EQ(sent().size(), 1u) << "nothing forwarded";
  const auto& f = sent()[0].bytes;
  EXPECT_EQ(sent()[0].iface, kLan);
  ASSERT_TRUE(ValidIcmp(f));
  EXPECT_EQ(test::ip_of(f).src(), kLanIp);
  EXPECT_EQ(test::ip_of(f).dst(), kHostA);
  EXPECT_EQ(test::icmp_of(f).type(), 3);
  EXPECT_EQ(test::icmp_of(f).code(), 4);
  // RFC 1191: bytes 4-5 unused (zero), 6-7 the next-hop MTU.
  EXPECT_EQ(test::icmp_of(f).rest(), 576u);
  EXPECT_EQ(test::icmp_of(f).next_hop_mtu(), 576);
  ByteVec orig = test::ip_bytes(in);
  EXPECT_EQ(icmp_data(f), ByteVec(orig.begin(), orig.begin() + 548));
}

TEST_F(EngineTest, PacketExactlyAtTheMtuIsForwardedWhole) {
  learn(kDmz, kDmzHost, kDmzHostMac, kDmzIp);
  ByteVec in = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).df().udp(9, 9, test::pattern(548)).build();
  ASSERT_EQ(test::ip_bytes(in).size(), 576u);
  EXPECT_EQ(rx(kLan, in).kind, Verdict::Kind::kForwarded);
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(test::ip_bytes(sent()[0].bytes), test::forwarded_ip(in));
  EXPECT_EQ(engine().counters().fragments_sent, 0u);
}

/// Checks the fragments in `out` against RFC 791: same id/proto/src/dst, TTL - 1, valid checksum,
/// the given header lengths, offsets (bytes) and MF flags, non-last data a multiple of 8, and the
/// data reassembling to `data`.
void expect_fragments(const std::vector<Sent>& out, const ByteVec& in, const std::vector<size_t>& hls,
                      const std::vector<size_t>& offsets, const std::vector<bool>& mfs, size_t base_offset) {
  ASSERT_EQ(out.size(), offsets.size());
  auto orig = test::ip_of(in);
  ByteVec joined;
  for (size_t i = 0; i < out.size(); ++i) {
    SCOPED_TRACE(i);
    const auto& f = out[i].bytes;
    EXPECT_EQ(out[i].iface, kDmz);
    ASSERT_TRUE(ValidIpv4(f));
    EXPECT_EQ(test::eth_dst(f), kDmzHostMac);
    EXPECT_EQ(test::eth_src(f), kDmzMac);
    auto ip = test::ip_of(f);
    EXPECT_LE(ip.total_len(), 576);
    EXPECT_EQ(ip.header_len(), hls[i]);
    EXPECT_EQ(ip.ident(), orig.ident());
    EXPECT_EQ(ip.protocol(), orig.protocol());
    EXPECT_EQ(ip.src(), orig.src());
    EXPECT_EQ(ip.dst(), orig.dst());
    EXPECT_EQ(ip.ttl(), orig.ttl() - 1);
    EXPECT_FALSE(ip.dont_fragment());
    EXPECT_EQ(ip.frag_offset(), base_offset + offsets[i]);
    EXPECT_EQ(ip.more_fragments(), mfs[i]);
    if (i + 1 < out.size()) {
      EXPECT_EQ(ip.payload().size() % 8, 0u);
    }
    EXPECT_EQ(base_offset + joined.size(), ip.frag_offset()) << "fragments are contiguous";
    joined.insert(joined.end(), ip.payload().begin(), ip.payload().end());
  }
  EXPECT_EQ(joined, ByteVec(orig.payload().begin(), orig.payload().end()));
}

TEST_F(EngineTest, OversizedPacketWithoutDfIsFragmented) {
  learn(kDmz, kDmzHost, kDmzHostMac, kDmzIp);
  // 1500 bytes = 20 + 1480 of data. MTU 576 leaves 556, cut to 552 (69 * 8): 552 + 552 + 376.
  ByteVec in = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).id(0xbeef).udp(9, 9, test::pattern(1472)).build();
  ASSERT_EQ(test::ip_bytes(in).size(), 1500u);
  auto v = rx(kLan, in);
  EXPECT_EQ(v.kind, Verdict::Kind::kForwarded);
  EXPECT_EQ(v.out_iface, kDmz);
  expect_fragments(sent(), in, {20, 20, 20}, {0, 552, 1104}, {true, true, false}, 0);
  ASSERT_EQ(sent().size(), 3u);
  EXPECT_EQ(test::ip_of(sent()[0].bytes).total_len(), 572);
  EXPECT_EQ(test::ip_of(sent()[1].bytes).total_len(), 572);
  EXPECT_EQ(test::ip_of(sent()[2].bytes).total_len(), 396);
  EXPECT_EQ(engine().counters().fragments_sent, 3u);
  EXPECT_EQ(engine().counters().forwarded, 1u);
}

TEST_F(EngineTest, LaterFragmentsCarryOnlyCopiedOptions) {
  learn(kDmz, kDmzHost, kDmzHostMac, kDmzIp);
  // Options: 0x9e (copied flag set, experimental) len 3, then 0x1e (not copied) len 5: 8 bytes,
  // header 28. First fragment: 548 -> 544 bytes of data. Later ones: 20 + 3 padded to 24,
  // 552 bytes of data; 1000 - 544 = 456 left: one more fragment.
  const ByteVec opts = {0x9e, 0x03, 0x55, 0x1e, 0x05, 0x01, 0x02, 0x03};
  ByteVec in =
      frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).options(opts).udp(9, 9, test::pattern(992)).build();
  ASSERT_EQ(test::ip_bytes(in).size(), 28u + 1000u);
  EXPECT_EQ(rx(kLan, in).kind, Verdict::Kind::kForwarded);
  expect_fragments(sent(), in, {28, 24}, {0, 544}, {true, false}, 0);
  ASSERT_EQ(sent().size(), 2u);
  auto o1 = test::ip_of(sent()[0].bytes).options();
  auto o2 = test::ip_of(sent()[1].bytes).options();
  EXPECT_EQ(ByteVec(o1.begin(), o1.end()), opts);
  EXPECT_EQ(ByteVec(o2.begin(), o2.end()), (ByteVec{0x9e, 0x03, 0x55, 0x00}));
}

TEST_F(EngineTest, FragmentingAFragmentKeepsItsOffsetAndMoreFragments) {
  make({}, plain_router_config());  // transit fragments are reassembled once a service exists
  learn(kDmz, kDmzHost, kDmzHostMac, kDmzIp);
  // A middle fragment (offset 800, MF) of 1000 data bytes: 552 + 448, both MF, offsets 800, 1352.
  ByteVec in =
      frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).mf().frag_offset(800).raw(17, test::pattern(1000)).build();
  EXPECT_EQ(rx(kLan, in).kind, Verdict::Kind::kForwarded);
  expect_fragments(sent(), in, {20, 20}, {0, 552}, {true, true}, 800);
  // The last fragment (offset 800, no MF): only the new last piece has MF clear.
  sent().clear();
  ByteVec last =
      frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).frag_offset(800).raw(17, test::pattern(1000)).build();
  EXPECT_EQ(rx(kLan, last).kind, Verdict::Kind::kForwarded);
  expect_fragments(sent(), last, {20, 20}, {0, 552}, {true, false}, 800);
}

// =============================================================================================
// ICMP error rules (RFC 1812 §4.3.2.7) and rate limit

TEST_F(EngineTest, IcmpErrorIsSentAboutAnIcmpQuery) {
  learn_host_a();
  ByteVec in = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).ttl(1).echo_request(1, 1, {}).build();
  expect_dropped(rx(kLan, in), DropReason::kTtlExceeded);
  ASSERT_EQ(sent().size(), 1u);
  ASSERT_TRUE(ValidIcmp(sent()[0].bytes));
  EXPECT_EQ(test::icmp_of(sent()[0].bytes).type(), 11);
}

TEST_F(EngineTest, NoIcmpErrorAboutAnIcmpError) {
  learn_host_a();
  const ByteVec quoted = test::ip_bytes(frame().eth(kHostAMac, kLanMac).ipv4(kDmzHost, kHostA).udp(53, 53).build());
  for (uint8_t type : {3, 4, 5, 11, 12}) {
    SCOPED_TRACE(int{type});
    expect_dropped(
        rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).ttl(1).icmp(type, 0, 0, quoted).build()),
        DropReason::kTtlExceeded);
    expect_dropped(
        rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, ip4(8, 8, 8, 8)).icmp(type, 1, 0, quoted).build()),
        DropReason::kNoRoute);
  }
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(engine().counters().icmp_errors_sent, 0u);
}

TEST_F(EngineTest, NoIcmpErrorAboutANonFirstFragment) {
  learn_host_a();
  expect_dropped(rx(kLan, frame()
                              .eth(kLanMac, kHostAMac)
                              .ipv4(kHostA, kDmzHost)
                              .ttl(1)
                              .frag_offset(8)
                              .raw(17, test::pattern(16))
                              .build()),
                 DropReason::kTtlExceeded);
  expect_dropped(rx(kLan, frame()
                              .eth(kLanMac, kHostAMac)
                              .ipv4(kHostA, ip4(8, 8, 8, 8))
                              .mf()
                              .frag_offset(1480)
                              .raw(6, test::pattern(16))
                              .build()),
                 DropReason::kNoRoute);
  EXPECT_TRUE(sent().empty());
}

TEST_F(EngineTest, FirstFragmentGetsAnIcmpError) {
  learn_host_a();
  ByteVec in = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).ttl(1).mf().raw(17, test::pattern(16)).build();
  expect_dropped(rx(kLan, in), DropReason::kTtlExceeded);
  ASSERT_EQ(sent().size(), 1u);
  ASSERT_TRUE(ValidIcmp(sent()[0].bytes));
  EXPECT_EQ(icmp_data(sent()[0].bytes), test::ip_bytes(in));
}

TEST_F(EngineTest, L2BroadcastFrameIsNotForwardedAndGetsNoIcmpError) {
  learn_host_a();
  for (uint8_t ttl : {64, 1}) {
    auto v = rx(kLan, frame().eth(kBcast, kHostAMac).ipv4(kHostA, kDmzHost).ttl(ttl).udp(1, 2).build());
    EXPECT_EQ(v.kind, Verdict::Kind::kDropped);
  }
  auto v = rx(kLan, frame().eth(kBcast, kHostAMac).ipv4(kHostA, ip4(8, 8, 8, 8)).udp(1, 2).build());
  EXPECT_EQ(v.kind, Verdict::Kind::kDropped);
  EXPECT_TRUE(sent().empty());
}

TEST_F(EngineTest, NoPortUnreachableAboutL2BroadcastOrMulticastFrameToUs) {
  learn_host_a();
  const MacAddr mcast = test::mac(0x01, 0x00, 0x5e, 0x00, 0x00, 0x01);
  expect_dropped(rx(kLan, frame().eth(kBcast, kHostAMac).ipv4(kHostA, kLanIp).udp(68, 67).build()),
                 DropReason::kLocalNoService);
  expect_dropped(rx(kLan, frame().eth(mcast, kHostAMac).ipv4(kHostA, kVipLan).tcp(1000, 81, 0x02).build()),
                 DropReason::kLocalNoService);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(engine().counters().icmp_errors_sent, 0u);
  EXPECT_EQ(engine().counters().tcp_resets_sent, 0u);
}

TEST_F(EngineTest, NoIcmpErrorAboutBroadcastOrMulticastDestination) {
  learn_host_a();
  auto udp_to = [](Ipv4Addr dst) { return frame().eth(kLanMac, kHostAMac).ipv4(kHostA, dst).udp(1, 2).build(); };
  for (Ipv4Addr dst : {Ipv4Addr::broadcast(), ip4(192, 168, 1, 255), ip4(198, 51, 100, 3), ip4(10, 9, 0, 255)}) {
    SCOPED_TRACE(dst.str());
    expect_dropped(rx(kLan, udp_to(dst)), DropReason::kIpv4Broadcast);
  }
  for (Ipv4Addr dst : {ip4(224, 0, 0, 251), ip4(239, 255, 255, 250)}) {
    SCOPED_TRACE(dst.str());
    expect_dropped(rx(kLan, udp_to(dst)), DropReason::kIpv4Multicast);
  }
  EXPECT_TRUE(sent().empty());
}

TEST_F(EngineTest, IcmpErrorsAreRateLimitedByATokenBucket) {
  EngineParams p;
  p.icmp_ratelimit_ms = 0;  // the global bucket alone (all the errors go to host A)
  make(p);
  learn_host_a();
  auto expired = [](uint16_t id) {
    return frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).id(id).ttl(1).udp(1, 2).build();
  };
  // Burst 50: 50 errors in the same instant, the 51st is suppressed.
  for (uint16_t i = 0; i < 51; ++i) expect_dropped(rx(kLan, expired(i), T0), DropReason::kTtlExceeded);
  EXPECT_EQ(sent().size(), 50u);
  EXPECT_EQ(engine().counters().icmp_errors_sent, 50u);
  EXPECT_EQ(engine().counters().icmp_errors_rate_limited, 1u);
  EXPECT_EQ(drops()[DropReason::kTtlExceeded], 51u);
  // 1000/s: one token per millisecond.
  rx(kLan, expired(100), at_us(999));
  EXPECT_EQ(sent().size(), 50u);
  EXPECT_EQ(engine().counters().icmp_errors_rate_limited, 2u);
  rx(kLan, expired(101), at_ms(1));
  EXPECT_EQ(sent().size(), 51u);
  rx(kLan, expired(102), at_ms(1));
  EXPECT_EQ(sent().size(), 51u);
  EXPECT_EQ(engine().counters().icmp_errors_rate_limited, 3u);
  // After a long pause the bucket is full again, but holds no more than the burst.
  sent().clear();
  for (uint16_t i = 0; i < 60; ++i) rx(kLan, expired(i), at_s(10));
  EXPECT_EQ(sent().size(), 50u);
  EXPECT_EQ(engine().counters().icmp_errors_rate_limited, 13u);
}

TEST_F(EngineTest, IcmpRateLimitFollowsEngineParams) {
  EngineParams p;
  p.icmp_errors_per_sec = 10;  // one token per 100 ms
  p.icmp_errors_burst = 2;
  p.icmp_ratelimit_ms = 0;
  make(p);
  learn_host_a();
  auto no_route = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, ip4(8, 8, 8, 8)).udp(1, 2).build();
  for (int i = 0; i < 3; ++i) rx(kLan, no_route, T0);
  EXPECT_EQ(sent().size(), 2u);
  rx(kLan, no_route, at_ms(99));
  EXPECT_EQ(sent().size(), 2u);
  rx(kLan, no_route, at_ms(100));
  EXPECT_EQ(sent().size(), 3u);
  EXPECT_EQ(engine().counters().icmp_errors_rate_limited, 2u);
}

// icmpv4_xrlim_allow / inet_peer_xrlim_allow: per destination a burst of 6, then one a second;
// fragmentation needed and echo replies are not limited per destination.
TEST_F(EngineTest, IcmpErrorsArePerDestinationLimitedToSixThenOneASecond) {
  learn_host_a();
  auto expired = [](uint16_t id) {
    return frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).id(id).ttl(1).udp(1, 2).build();
  };
  for (uint16_t i = 0; i < 10; ++i) rx(kLan, expired(i), T0);
  EXPECT_EQ(sent().size(), 6u);
  EXPECT_EQ(engine().counters().icmp_errors_peer_limited, 4u);
  EXPECT_EQ(engine().counters().icmp_errors_rate_limited, 0u);
  rx(kLan, expired(20), at_ms(999));
  EXPECT_EQ(sent().size(), 6u);
  // A refused error costs nothing: 1.999 s of tokens at 1.999 s, 0.999 s left after this one.
  rx(kLan, expired(21), at_ms(1999));
  EXPECT_EQ(sent().size(), 7u);
  rx(kLan, expired(22), at_ms(2000));
  EXPECT_EQ(sent().size(), 8u);
  rx(kLan, expired(23), at_ms(2500));
  EXPECT_EQ(sent().size(), 8u);
  EXPECT_EQ(engine().counters().icmp_errors_peer_limited, 6u);
  // Echo replies are not errors: answered.
  rx(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).echo_request(1, 1, {}).build(), at_ms(2500));
  EXPECT_EQ(sent().size(), 9u);
  // The limit is the destination's: host B still gets its burst.
  const MacAddr host_b_mac = test::mac(0x02, 0xaa, 0, 0, 0, 0x51);
  learn(kLan, kHostB, host_b_mac, kLanIp, at_ms(2500));
  sent().clear();
  for (uint16_t i = 0; i < 7; ++i)
    rx(kLan, frame().eth(kLanMac, host_b_mac).ipv4(kHostB, kDmzHost).id(i).ttl(1).udp(1, 2).build(), at_ms(2500));
  EXPECT_EQ(sent().size(), 6u);
  // Full again after 6 s idle, and never more than 6.
  for (uint16_t i = 0; i < 8; ++i) rx(kLan, expired(i), at_s(60));
  EXPECT_EQ(sent().size(), 6u + 6u);
}

TEST_F(EngineTest, FragNeededIsNotPerDestinationLimited) {
  learn_host_a();
  learn(kDmz, kDmzHost, kDmzHostMac, kDmzIp);
  auto big = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).df().udp(1, 2, test::pattern(1400)).build();
  for (int i = 0; i < 10; ++i) expect_dropped(rx(kLan, big, T0), DropReason::kFragNeeded);
  EXPECT_EQ(engine().counters().icmp_errors_sent, 10u);
  EXPECT_EQ(engine().counters().icmp_errors_peer_limited, 0u);
}

// =============================================================================================
// Malformed input: each counted under its reason, nothing sent

class EngineMalformedTest : public EngineTest {
protected:
  void SetUp() override {
    EngineTest::SetUp();
    learn_host_a();
  }
  /// A valid UDP packet from host A to the dmz host (forwardable).
  static ByteVec good() {
    return frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).udp(1, 2, test::pattern(8)).build();
  }
  void expect_all(std::initializer_list<ByteVec> frames, DropReason r) {
    uint64_t before = drops()[r];
    for (const ByteVec& f : frames) expect_dropped(rx(kLan, f), r);
    EXPECT_EQ(drops()[r], before + frames.size());
    EXPECT_TRUE(sent().empty());
  }
};

TEST_F(EngineMalformedTest, ShortFrameIsEthTruncated) {
  ByteVec g = good();
  expect_all({ByteVec{}, ByteVec(g.begin(), g.begin() + 13)}, DropReason::kEthTruncated);
}

TEST_F(EngineMalformedTest, UnicastToAnotherMacIsEthNotForUs) {
  ByteVec other = good();
  other[5] = 0x99;
  expect_all({other, frame().eth(kWanMac, kHostAMac).ipv4(kHostA, kDmzHost).udp(1, 2).build()},
             DropReason::kEthNotForUs);
}

TEST_F(EngineMalformedTest, BadSourceMacIsEthSrcInvalid) {
  auto from = [](const MacAddr& src) { return frame().eth(kLanMac, src).ipv4(kHostA, kDmzHost).udp(1, 2).build(); };
  expect_all({from(test::mac(0x01, 0x00, 0x5e, 0, 0, 1)), from(kBcast), from(kZeroMac), from(kLanMac)},
             DropReason::kEthSrcInvalid);
}

TEST_F(EngineMalformedTest, UnknownEthertypeIsUnsupported) {
  ByteVec vlan = good();
  test::put16(vlan, 12, 0x8100);
  ByteVec lldp = good();
  test::put16(lldp, 12, 0x88cc);
  expect_all({vlan, lldp}, DropReason::kEthTypeUnsupported);
}

TEST_F(EngineMalformedTest, Ipv6OnAnInterfaceWithoutItIsDropped) {
  ByteVec v6 = good();
  test::put16(v6, 12, 0x86dd);
  expect_all({v6}, DropReason::kIpv6Disabled);
}

TEST_F(EngineMalformedTest, ShortIpv4IsTruncated) {
  ByteVec g = good();
  expect_all({ByteVec(g.begin(), g.begin() + 14), ByteVec(g.begin(), g.begin() + 14 + 19)}, DropReason::kIpv4Truncated);
}

TEST_F(EngineMalformedTest, VersionOtherThanFourIsBadVersion) {
  ByteVec v6 = good();
  v6[14] = 0x65;
  test::refresh_ip_checksum(v6);
  ByteVec v0 = good();
  v0[14] = 0x05;
  test::refresh_ip_checksum(v0);
  expect_all({v6, v0}, DropReason::kIpv4BadVersion);
}

TEST_F(EngineMalformedTest, HeaderLengthBelowTwentyIsBadIhl) {
  ByteVec ihl4 = good();
  ihl4[14] = 0x44;
  ByteVec ihl0 = good();
  ihl0[14] = 0x40;
  expect_all({ihl4, ihl0}, DropReason::kIpv4BadIhl);
}

TEST_F(EngineMalformedTest, TotalLengthBeyondFrameOrBelowHeaderIsBadLength) {
  ByteVec longer = good();
  test::put16(longer, 16, static_cast<uint16_t>(longer.size() - 14 + 1));
  test::refresh_ip_checksum(longer);
  ByteVec below = good();
  test::put16(below, 16, 19);
  test::refresh_ip_checksum(below);
  ByteVec options_cut = good();  // IHL 15 (60 bytes) but total length 36
  options_cut[14] = 0x4f;
  ByteVec cut = good();  // the frame ends before the total length
  cut.resize(cut.size() - 1);
  expect_all({longer, below, options_cut, cut}, DropReason::kIpv4BadLength);
}

TEST_F(EngineMalformedTest, WrongHeaderChecksumIsBadChecksum) {
  ByteVec bad = good();
  bad[14 + 11] ^= 0x01;
  ByteVec changed = good();  // a field changed without fixing the checksum
  changed[14 + 8] = 63;
  expect_all({bad, changed}, DropReason::kIpv4BadChecksum);
}

TEST_F(EngineMalformedTest, MartianSourceIsBadSource) {
  auto from = [](Ipv4Addr src) { return frame().eth(kLanMac, kHostAMac).ipv4(src, kDmzHost).udp(1, 2).build(); };
  expect_all({from(Ipv4Addr{}), from(ip4(127, 0, 0, 1)), from(ip4(224, 0, 0, 5)), from(ip4(240, 0, 0, 1)),
              from(Ipv4Addr::broadcast()), from(ip4(192, 168, 1, 255)), from(kLanIp), from(kWanIp), from(kVipLan)},
             DropReason::kIpv4BadSource);
}

TEST_F(EngineMalformedTest, UnusableDestinationIsBadDestination) {
  auto to = [](Ipv4Addr dst) { return frame().eth(kLanMac, kHostAMac).ipv4(kHostA, dst).udp(1, 2).build(); };
  expect_all({to(Ipv4Addr{}), to(ip4(127, 0, 0, 1)), to(ip4(240, 0, 0, 1)), to(ip4(254, 1, 2, 3))},
             DropReason::kIpv4BadDestination);
}

TEST_F(EngineMalformedTest, ShortTcpHeaderIsTcpTruncated) {
  auto tcp_raw = [](const ByteVec& seg) {
    return frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kVipLan).raw(6, seg).build();
  };
  ByteVec hdr(20, 0);
  hdr[12] = 0x40;  // data offset 4 words < 5
  ByteVec hdr60(20, 0);
  hdr60[12] = 0xf0;  // data offset 15 words, only 20 bytes present
  expect_all({tcp_raw(ByteVec(19, 0)), tcp_raw(hdr), tcp_raw(hdr60),
              frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).raw(6, ByteVec(10, 0)).build()},
             DropReason::kTcpTruncated);
}

TEST_F(EngineMalformedTest, ShortOrInconsistentUdpIsUdpTruncated) {
  auto udp_raw = [](const ByteVec& seg) {
    return frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kVipLan).raw(17, seg).build();
  };
  ByteVec too_long = {0, 1, 0, 2, 0, 100, 0, 0};  // length 100 in 8 bytes
  ByteVec too_short = {0, 1, 0, 2, 0, 7, 0, 0};   // length 7 < 8
  expect_all({udp_raw(ByteVec(7, 0)), udp_raw(too_long), udp_raw(too_short)}, DropReason::kUdpTruncated);
}

TEST_F(EngineMalformedTest, ShortIcmpIsIcmpTruncated) {
  expect_all({frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).raw(1, {8, 0, 0, 0}).build(),
              frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kVipLan).raw(1, ByteVec(7, 0)).build()},
             DropReason::kIcmpTruncated);
}

// RFC 1812: a router does not judge the transport header of what it forwards (nor does the
// kernel's ip_forward): a datagram in transit with a broken one is routed as it is.
TEST_F(EngineMalformedTest, TransitDatagramWithABrokenTransportHeaderIsRouted) {
  learn(kDmz, kDmzHost, kDmzHostMac, kDmzIp);
  ByteVec short_tcp = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).raw(6, ByteVec(19, 0)).build();
  ByteVec long_udp = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).raw(17, {0, 1, 0, 2, 0, 100, 0, 0}).build();
  ByteVec short_icmp = frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).raw(1, ByteVec(7, 0)).build();
  for (const ByteVec* in : {&short_tcp, &long_udp, &short_icmp}) {
    sent().clear();
    EXPECT_EQ(rx(kLan, *in).kind, Verdict::Kind::kForwarded);
    ASSERT_EQ(sent().size(), 1u);
    EXPECT_EQ(test::ip_bytes(sent()[0].bytes), test::forwarded_ip(*in));
  }
  EXPECT_EQ(drops().total(), 0u);
}

TEST_F(EngineMalformedTest, RandomAndMutatedFramesNeverCrashAndEveryDropIsCounted) {
  learn(kDmz, kDmzHost, kDmzHostMac, kDmzIp);
  const std::vector<ByteVec> templates = {
      good(),
      frame().eth(kBcast, kHostAMac).arp(1, kHostAMac, kHostA, kZeroMac, kLanIp).build(),
      frame().eth(kLanMac, kHostAMac).arp(2, kHostAMac, kHostA, kLanMac, kLanIp).build(),
      frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).echo_request(1, 2, test::pattern(40)).build(),
      frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kVipLan).tcp(1, 80, 0x02).build(),
      frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).ttl(1).udp(1, 2, test::pattern(100)).build(),
      frame()
          .eth(kLanMac, kHostAMac)
          .ipv4(kHostA, kDmzHost)
          .options({0x9e, 0x03, 0x55, 0x1e, 0x05, 1, 2, 3})
          .udp(1, 2, test::pattern(1200))
          .build(),
      frame().eth(kLanMac, kHostAMac).ipv4(kHostA, ip4(10, 7, 7, 7)).udp(1, 2, test::pattern(30)).build(),
  };
  std::mt19937 rng(12345);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  for (int i = 0; i < 20000; ++i) {
    ByteVec f;
    if (i % 10 == 0) {
      f.resize(pick(120));
      for (auto& b : f) b = static_cast<uint8_t>(rng());
      if (f.size() >= 14 && pick(2) == 0) {
        std::copy(kLanMac.b.begin(), kLanMac.b.end(), f.begin());
        test::put16(f, 12, pick(2) ? 0x0800 : 0x0806);
      }
    } else {
      f = templates[pick(templates.size())];
      for (size_t k = 0, n = 1 + pick(3); k < n; ++k)
        f[14 + pick(std::min<size_t>(f.size() - 14, 64))] = static_cast<uint8_t>(rng());
      if (pick(4) == 0) f.resize(pick(f.size() + 1));
      if (f.size() >= 34 && test::get16(f, 12) == 0x0800 && (f[14] >> 4) == 4 && pick(2) == 0) {
        size_t hl = static_cast<size_t>(f[14] & 0x0f) * 4;
        if (hl >= 20 && 14 + hl <= f.size()) test::refresh_ip_checksum(f);
      }
    }
    Instant t = at_ms(i);
    uint64_t before = drops().total();
    Verdict v = rx(pick(4) == 0 ? static_cast<uint32_t>(pick(3)) : kLan, f, t);
    if (v.kind == Verdict::Kind::kDropped) {
      EXPECT_GT(drops().total(), before) << "iteration " << i;
    }
    for (const Sent& s : sent()) {
      if (test::eth_type(s.bytes) == 0x0800) {
        EXPECT_TRUE(ValidIpv4(s.bytes)) << "iteration " << i;
        // What the router originates (from one of its addresses) must have a valid ICMP checksum;
        // forwarded junk keeps whatever transport checksum it had.
        Ipv4Addr src = test::ip_of(s.bytes).src();
        bool ours =
            src == kLanIp || src == kWanIp || src == kWan2Ip || src == kDmzIp || src == kVipLan || src == kVipWan;
        if (ours) {
          EXPECT_TRUE(ValidIcmp(s.bytes)) << "iteration " << i;
        }
      } else {
        EXPECT_TRUE(ValidArp(s.bytes)) << "iteration " << i;
      }
    }
    sent().clear();
    if (auto d = engine().next_deadline(); d && *d <= t) engine().on_timer(t);
  }
}

// =============================================================================================
// Determinism

TEST(EngineDeterminismTest, SameConfigAndInputsGiveIdenticalOutput) {
  auto run = [](MemSink& sink) {
    auto cfg = router_config().parse();
    ASSERT_TRUE(cfg);
    Engine e(cfg, sink);
    auto in = [&](uint32_t iface, const ByteVec& f, Instant t) { e.on_frame(iface, f, t); };
    in(kLan, frame().eth(kBcast, kHostAMac).arp(1, kHostAMac, kHostA, kZeroMac, kLanIp).build(), T0);
    in(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).echo_request(1, 1, test::pattern(20)).build(),
       at_ms(1));
    in(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).udp(1, 2, test::pattern(1300)).build(), at_ms(2));
    in(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kDmzHost).ttl(1).udp(1, 2).build(), at_ms(3));
    in(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, ip4(8, 8, 4, 4)).tcp(1, 2, 0x02).build(), at_ms(4));
    in(kLan, frame().eth(kLanMac, kHostAMac).ipv4(kHostA, kLanIp).udp(1, 2).build(), at_ms(5));
    in(kWan, frame().eth(kWanMac, kWanHostMac).ipv4(kWanHost, kHostB).udp(1, 2).build(), at_ms(6));
    for (int s = 1; s <= 4; ++s)
      if (auto d = e.next_deadline()) e.on_timer(*d);
    in(kDmz, frame().eth(kDmzMac, kDmzHostMac).arp(2, kDmzHostMac, kDmzHost, kDmzMac, kDmzIp).build(), at_s(5));
    EXPECT_GT(e.counters().icmp_errors_sent, 2u);
  };
  MemSink a, b;
  run(a);
  run(b);
  ASSERT_FALSE(a.sent.empty());
  ASSERT_EQ(a.sent.size(), b.sent.size());
  for (size_t i = 0; i < a.sent.size(); ++i) {
    EXPECT_EQ(a.sent[i].iface, b.sent[i].iface) << i;
    EXPECT_EQ(a.sent[i].bytes, b.sent[i].bytes) << i;
  }
}

}  // namespace
}  // namespace vs

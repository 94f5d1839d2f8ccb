// Fragments through the engine: a datagram to a VIP that arrives in fragments is reassembled,
// scheduled and forwarded as one (NAT, TUN), cut again when it does not fit the egress MTU;
// fragments that never complete expire with a counted drop (and ICMP time exceeded when the
// first fragment came); a flood of headless fragments stays within the memory budget.
#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"
#include "engine.hpp"
#include "test_config.hpp"
#include "test_frames.hpp"

namespace vs {
namespace {

using test::ByteVec;
using test::frame;
using test::ip4;

using namespace test::wan_lan_hosts;

std::shared_ptr<const config::Config> config(const std::string& method, uint32_t lan_mtu,
                                             const std::vector<std::string>& router = {}) {
  test::ConfigText c = test::wan_lan();
  c.mtu("lan", lan_mtu);
  for (const auto& l : router) c.router_line(l);
  c.service("udp", "10.0.0.100:53").real(method == "nat" ? "192.168.1.11:5353" : "192.168.1.11:53", method);
  return c.parse();
}

/// The fragments of an Ethernet+IPv4 frame `whole`: [off, off+len) of its IP payload each.
std::vector<ByteVec> cut(const ByteVec& whole, const std::vector<std::pair<size_t, size_t>>& pieces) {
  std::vector<ByteVec> out;
  const size_t data_len = whole.size() - 34;
  for (auto [off, len] : pieces) {
    ByteVec f(whole.begin(), whole.begin() + 34);
    f.insert(f.end(), whole.begin() + 34 + static_cast<ptrdiff_t>(off),
             whole.begin() + 34 + static_cast<ptrdiff_t>(off + len));
    test::put16(f, 14 + 2, static_cast<uint16_t>(20 + len));
    const bool mf = off + len < data_len;
    test::put16(f, 14 + 6, static_cast<uint16_t>((test::get16(f, 14 + 6) & 0x4000) | (mf ? 0x2000 : 0) | (off / 8)));
    test::refresh_ip_checksum(f);
    out.push_back(f);
  }
  return out;
}

class FragEngineTest : public ::testing::Test {
protected:
  void start(const std::string& method, uint32_t lan_mtu, const std::vector<std::string>& router = {}) {
    engine_ = std::make_unique<Engine>(config(method, lan_mtu, router), sink_);
    rx(kLan,
       frame().eth(MacAddr::broadcast(), kRealMac).arp(1, kRealMac, kReal, MacAddr{}, ip4(192, 168, 1, 1)).build());
    rx(kWan, frame().eth(kWanMac, kClientMac).arp(1, kClientMac, kClient, MacAddr{}, kVip).build());
    sink_.sent.clear();
  }
  Verdict rx(uint32_t iface, const ByteVec& f) { return engine_->on_frame(iface, f, now_); }
  /// A client datagram to VIP:53 of `n` bytes of UDP payload.
  ByteVec query(size_t n, uint16_t id = 0x4242, uint16_t sport = 40000) {
    return frame().eth(kWanMac, kClientMac).ipv4(kClient, kVip).id(id).udp(sport, 53, test::pattern(n)).build();
  }
  std::vector<ByteVec> ip_on(uint32_t iface) const {
    std::vector<ByteVec> r;
    for (const auto& o : sink_.sent)
      if (o.iface == iface && test::eth_type(o.bytes) == 0x0800) r.push_back(o.bytes);
    return r;
  }
  uint64_t drops(DropReason r) const { return engine_->drops()[r]; }

  test::MemSink sink_;
  std::unique_ptr<Engine> engine_;
  Instant now_{};
};

/// Joins IPv4 fragments (in order) into one datagram: the first's header, every payload.
ByteVec join(const std::vector<ByteVec>& frags) {
  ByteVec f(frags.at(0).begin(), frags.at(0).begin() + 34);  // Ethernet + the first's header
  for (const auto& g : frags) {
    auto ip = test::ip_of(g);
    EXPECT_EQ(ip.frag_offset(), f.size() - 34) << "contiguous";
    f.insert(f.end(), ip.payload().begin(), ip.payload().end());
  }
  test::put16(f, 14 + 2, static_cast<uint16_t>(f.size() - 14));
  test::put16(f, 14 + 6, 0);
  test::refresh_ip_checksum(f);
  return f;
}

TEST_F(FragEngineTest, FragmentedDatagramToNatVipReachesTheRealInFragmentsNoLargerThanThoseThatCame) {
  start("nat", 9000);
  ByteVec q = query(2972);                                     // a 3000-byte datagram
  auto frags = cut(q, {{1480, 1480}, {0, 1480}, {2960, 20}});  // out of order
  EXPECT_EQ(rx(kWan, frags[0]).kind, Verdict::Kind::kConsumed);
  EXPECT_EQ(rx(kWan, frags[1]).kind, Verdict::Kind::kConsumed);
  EXPECT_EQ(engine_->reassembler().queues(), 1u);
  Verdict v = rx(kWan, frags[2]);
  EXPECT_EQ(v.kind, Verdict::Kind::kForwarded);
  EXPECT_EQ(v.out_iface, kLan);
  // Scheduled and rewritten as one datagram, sent in fragments of at most the largest one
  // received (1500 bytes), though the LAN's MTU is 9000: ip_do_fragment with frag_max_size.
  auto out = ip_on(kLan);
  ASSERT_EQ(out.size(), 3u);
  for (const auto& f : out) {
    ASSERT_TRUE(test::ValidIpv4(f));
    auto ip = test::ip_of(f);
    EXPECT_LE(ip.total_len(), 1500);
    EXPECT_EQ(ip.dst(), kReal);
    EXPECT_EQ(ip.ident(), 0x4242);
    EXPECT_EQ(ip.ttl(), 63);
  }
  EXPECT_EQ(test::ip_of(out[0]).total_len(), 1500);
  ByteVec whole = join(out);
  ASSERT_TRUE(test::ValidTransport(whole)) << "UDP checksum right over the rewritten datagram";
  auto ip = test::ip_of(whole);
  EXPECT_EQ(ip.total_len(), 3000);
  EXPECT_EQ(test::get16(ip.payload(), 2), 5353);
  EXPECT_EQ(engine_->counters().reassembled, 1u);
  EXPECT_EQ(engine_->reassembler().queues(), 0u);
  EXPECT_EQ(engine_->director().conns().size(), 1u);
  EXPECT_EQ(engine_->drops().total(), 0u);
}

TEST_F(FragEngineTest, ReassembledDatagramOverTheRealsMtuIsFragmentedAgain) {
  start("nat", 1000);
  ByteVec q = query(2972);
  for (const auto& f : cut(q, {{0, 1480}, {1480, 1480}, {2960, 20}})) rx(kWan, f);
  auto out = ip_on(kLan);
  ASSERT_EQ(out.size(), 4u);  // 980 -> 976 bytes of data each: 976 * 3 + 52
  for (const auto& f : out) {
    ASSERT_TRUE(test::ValidIpv4(f));
    EXPECT_LE(test::ip_of(f).total_len(), 1000);
    EXPECT_EQ(test::ip_of(f).ident(), 0x4242);
    EXPECT_EQ(test::ip_of(f).dst(), kReal);
    EXPECT_FALSE(test::ip_of(f).dont_fragment());
  }
  ByteVec whole = join(out);
  ASSERT_TRUE(test::ValidTransport(whole)) << "UDP checksum right over the rewritten datagram";
  EXPECT_EQ(test::get16(test::ip_of(whole).payload(), 2), 5353);
  EXPECT_EQ(engine_->counters().fragments_sent, 4u);
}

TEST_F(FragEngineTest, TunFragmentsTheOuterDatagramWhenTheInnerHasNoDf) {
  start("tun", 1500);
  ByteVec q = query(2972);
  for (const auto& f : cut(q, {{0, 1480}, {1480, 1480}, {2960, 20}})) rx(kWan, f);
  auto out = ip_on(kLan);
  ASSERT_EQ(out.size(), 3u);  // 3020 bytes of IPIP: 1480 + 1480 + 40 of data
  for (const auto& f : out) {
    ASSERT_TRUE(test::ValidIpv4(f));
    EXPECT_EQ(number(test::ip_of(f).protocol()), 4);
    EXPECT_FALSE(test::ip_of(f).dont_fragment());
  }
  ByteVec outer = join(out);
  auto inner = wire::Ipv4View<const uint8_t>::parse(test::ip_of(outer).payload());
  ASSERT_TRUE(inner.has_value());
  EXPECT_EQ(inner->total_len(), 3000);
  EXPECT_FALSE(inner->is_fragment());
  EXPECT_EQ(inner->dst(), kVip);
}

TEST_F(FragEngineTest, ReassembledDatagramWithDfOverTheMtuGetsFragNeeded) {
  start("nat", 1000);
  ByteVec q =
      frame().eth(kWanMac, kClientMac).ipv4(kClient, kVip).id(7).df().udp(40000, 53, test::pattern(1472)).build();
  for (const auto& f : cut(q, {{0, 1000}, {1000, 480}})) rx(kWan, f);
  EXPECT_EQ(drops(DropReason::kFragNeeded), 1u);
  EXPECT_TRUE(ip_on(kLan).empty());
  auto back = ip_on(kWan);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(test::icmp_of(back[0]).type(), 3);
  EXPECT_EQ(test::icmp_of(back[0]).code(), 4);
}

TEST_F(FragEngineTest, IncompleteDatagramExpiresWithTimeExceededWhenItsFirstFragmentCame) {
  start("nat", 1500);
  ByteVec q = query(2972);
  auto frags = cut(q, {{0, 1480}, {1480, 1480}, {2960, 20}});
  rx(kWan, frags[0]);
  rx(kWan, frags[2]);
  ASSERT_TRUE(engine_->next_deadline().has_value());
  EXPECT_EQ(engine_->next_deadline()->us, 30'000'000);
  engine_->on_timer(Instant{29'999'999});
  EXPECT_EQ(engine_->reassembler().queues(), 1u);
  engine_->on_timer(Instant{30'000'000});
  EXPECT_EQ(engine_->reassembler().queues(), 0u);
  EXPECT_EQ(drops(DropReason::kFragTimeout), 2u);
  auto back = ip_on(kWan);
  ASSERT_EQ(back.size(), 1u);
  ASSERT_TRUE(test::ValidIcmp(back[0]));
  EXPECT_EQ(test::ip_of(back[0]).src(), kVip);
  EXPECT_EQ(test::ip_of(back[0]).dst(), kClient);
  EXPECT_EQ(test::icmp_of(back[0]).type(), 11);
  EXPECT_EQ(test::icmp_of(back[0]).code(), 1);
  EXPECT_TRUE(ip_on(kLan).empty());
}

TEST_F(FragEngineTest, HeadlessDatagramExpiresSilently) {
  start("nat", 1500);
  rx(kWan, cut(query(2972), {{1480, 1480}})[0]);
  engine_->on_timer(Instant{30'000'000});
  EXPECT_EQ(drops(DropReason::kFragTimeout), 1u);
  EXPECT_TRUE(sink_.sent.empty());
}

TEST_F(FragEngineTest, OverlappingFragmentsAreDroppedTogether) {
  start("nat", 1500);
  ByteVec q = query(2972);
  rx(kWan, cut(q, {{0, 1480}})[0]);
  rx(kWan, cut(q, {{1480, 1480}})[0]);
  EXPECT_EQ(rx(kWan, cut(q, {{2904, 76}})[0]).reason, DropReason::kFragOverlap);  // sticks out of held data
  EXPECT_EQ(drops(DropReason::kFragOverlap), 3u);
  EXPECT_EQ(engine_->reassembler().queues(), 0u);
  EXPECT_TRUE(sink_.sent.empty());
}

TEST_F(FragEngineTest, ReassemblyOffDropsFragmentsToUsAsBefore) {
  start("nat", 1500, {"frag_queues = 0"});
  EXPECT_EQ(rx(kWan, cut(query(2972), {{0, 1480}})[0]).reason, DropReason::kLocalFragment);
}

TEST_F(FragEngineTest, ReassemblyLimitsNeedARestart) {
  start("nat", 1500);
  auto why = engine_->reload(config("nat", 1500, {"frag_memory = 8388608"}));
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("frag_"), std::string::npos) << *why;
  EXPECT_FALSE(engine_->reload(config("nat", 1400)).has_value()) << "other changes still apply";
}

TEST_F(FragEngineTest, TransitIcmpFragmentsAreRoutedAsTheyAre) {
  start("nat", 1500);
  ByteVec t = frame().eth(kWanMac, kClientMac).ipv4(kClient, kReal).id(9).raw(1, test::pattern(2980)).build();
  EXPECT_EQ(rx(kWan, cut(t, {{0, 1480}})[0]).kind, Verdict::Kind::kForwarded);
  EXPECT_EQ(engine_->reassembler().queues(), 0u);
}

// A NAT real's fragmented answer passes the director in transit: reassembled (ip_vs_out_hook's
// ip_vs_gather_frags), matched to its connection, SNATed to the VIP, and sent on in fragments of
// the sizes it came in.
TEST_F(FragEngineTest, FragmentedAnswerOfANatRealIsReassembledAndLeavesFromTheVip) {
  start("nat", 1500);
  ASSERT_EQ(rx(kWan, query(100)).kind, Verdict::Kind::kForwarded);
  auto q = ip_on(kLan);
  ASSERT_EQ(q.size(), 1u);
  const uint16_t real_port = test::get16(test::ip_of(q[0]).payload(), 2);
  sink_.sent.clear();
  ByteVec answer =
      frame().eth(kLanMac, kRealMac).ipv4(kReal, kClient).id(77).udp(real_port, 40000, test::pattern(2972)).build();
  auto frags = cut(answer, {{0, 1480}, {1480, 1480}, {2960, 20}});
  EXPECT_EQ(rx(kLan, frags[0]).kind, Verdict::Kind::kConsumed);
  EXPECT_EQ(rx(kLan, frags[1]).kind, Verdict::Kind::kConsumed);
  EXPECT_EQ(rx(kLan, frags[2]).kind, Verdict::Kind::kForwarded);
  auto out = ip_on(kWan);
  ASSERT_EQ(out.size(), 3u);
  const uint16_t sizes[] = {1500, 1500, 40};
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(test::ValidIpv4(out[i]));
    EXPECT_EQ(test::ip_of(out[i]).total_len(), sizes[i]);
    EXPECT_EQ(test::ip_of(out[i]).src(), kVip);
    EXPECT_EQ(test::ip_of(out[i]).ident(), 77);
  }
  ByteVec whole = join(out);
  ASSERT_TRUE(test::ValidTransport(whole)) << "UDP checksum right over the SNATed datagram";
  EXPECT_EQ(test::get16(test::ip_of(whole).payload(), 0), 53);
  EXPECT_EQ(engine_->counters().reassembled, 1u);
}

// The fragment flood: fragments without a first fragment from many sources. The reassembly
// memory never exceeds its budget, every refused fragment is a counted drop, and once the
// timeout has passed the memory is free and a real datagram goes through.
TEST_F(FragEngineTest, FloodOfHeadlessFragmentsStaysWithinTheBudget) {
  start("nat", 1500, {"frag_queues = 128", "frag_memory = 131072", "frag_memory_per_source = 65536"});
  const auto& r = engine_->reassembler();
  uint64_t held = 0;
  for (uint32_t i = 0; i < 5000; ++i) {
    now_ = Instant{int64_t{i} * 200};
    const Ipv4Addr src{0xc6120001u + (i % 200)};  // 198.18.0.1 .. 198.18.0.200
    ByteVec f = frame()
                    .eth(kWanMac, kClientMac)
                    .ipv4(src, kVip)
                    .id(static_cast<uint16_t>(i))
                    .udp(1, 53, test::pattern(1472))
                    .build();
    Verdict v = rx(kWan, cut(f, {{8 + 8 * (i % 20), 1000}})[0]);
    if (v.kind == Verdict::Kind::kConsumed) ++held;
    ASSERT_LE(r.queues(), 128u);
    ASSERT_LE(r.bytes(), 131072u);
  }
  const uint64_t refused =
      drops(DropReason::kFragNoMemory) + drops(DropReason::kFragQueuesFull) + drops(DropReason::kFragSourceBudget);
  EXPECT_EQ(held + refused, 5000u);
  EXPECT_GT(refused, 4500u);
  engine_->on_timer(now_ + Duration::seconds(30));
  EXPECT_EQ(drops(DropReason::kFragTimeout), held);
  EXPECT_EQ(r.queues(), 0u);
  EXPECT_EQ(r.bytes(), 0u);
  sink_.sent.clear();
  now_ = now_ + Duration::seconds(30);
  for (const auto& f : cut(query(2000), {{0, 1480}, {1480, 528}})) rx(kWan, f);
  EXPECT_EQ(ip_on(kLan).size(), 2u) << "a datagram reassembles again (then is cut for the 1500 MTU)";
}

}  // namespace
}  // namespace vs

// Offloads (offload.hpp, gso.cpp): frames whose TCP/UDP checksum is deferred (partial) and TCP
// super-frames (TSO/GSO), as a TAP with IFF_VNET_HDR hands them over. What a user would see:
// every frame that reaches a receiver, once the deferred work is done (by the adapter's kernel
// or by the engine), is the same correct wire traffic as without offloads.
#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"
#include "engine.hpp"
#include "test_config.hpp"
#include "test_frames.hpp"
#include "wire/tcp.hpp"

namespace vs {
namespace {

using test::ByteVec;
using test::frame;
using test::ip4;

using namespace test::wan_lan_hosts;
constexpr size_t kL4 = 14 + 20;  // csum_start of our frames (no IP options)

std::shared_ptr<const config::Config> config(const std::string& method, uint32_t lan_mtu = 1500) {
  test::ConfigText c = test::wan_lan();
  c.mtu("lan", lan_mtu);
  c.service("tcp", "10.0.0.100:80", "rr").real(method == "nat" ? "192.168.1.11:8080" : "192.168.1.11:80", method);
  c.service("udp", "10.0.0.100:53").real("192.168.1.11:5353", "nat");
  return c.parse();
}

/// Records frames and the offload state they were handed over with.
class OffloadSink : public TxSink {
public:
  struct Out {
    uint32_t iface;
    ByteVec bytes;
    Offload off;
  };
  void transmit(uint32_t iface, std::span<const uint8_t> f) override {
    out.push_back({iface, {f.begin(), f.end()}, {}});
  }
  void transmit_offload(uint32_t iface, std::span<const uint8_t> f, const Offload& o) override {
    out.push_back({iface, {f.begin(), f.end()}, o});
  }
  std::vector<Out> ip_on(uint32_t iface) const {
    std::vector<Out> r;
    for (const auto& o : out)
      if (o.iface == iface && test::eth_type(o.bytes) == 0x0800) r.push_back(o);
    return r;
  }
  std::vector<Out> out;
};

/// The TCP/UDP checksum field of `f` replaced by the pseudo-header sum, as a kernel defers it.
ByteVec make_partial(ByteVec f) {
  auto ip = test::ip_of(f);
  const size_t field = kL4 + (ip.protocol() == IpProto::kTcp ? 16 : 6);
  const size_t l4_len = ip.payload().size();
  uint64_t ps = test::ref_pseudo(ip.src(), ip.dst(), number(ip.protocol()), l4_len);
  test::put16(f, field, test::ref_fold(ps));
  return f;
}
Offload partial_tcp() { return {.gso_size = 0, .csum_start = kL4, .csum_offset = 16, .csum_partial = true}; }

/// What the receiver's kernel does with a partial frame: sums from csum_start, stores the result.
ByteVec complete(ByteVec f, const Offload& o) {
  EXPECT_TRUE(o.csum_partial);
  std::span<const uint8_t> l4(f.data() + o.csum_start, f.size() - o.csum_start);
  test::put16(f, o.csum_start + o.csum_offset, test::ref_checksum(l4));
  return f;
}

class OffloadTest : public ::testing::Test {
protected:
  void start(const std::string& method, bool adapter_offload, uint32_t lan_mtu = 1500) {
    EngineParams p;
    p.offload = adapter_offload;
    engine_ = std::make_unique<Engine>(config(method, lan_mtu), sink_, p);
    rx(1, frame().eth(MacAddr::broadcast(), kRealMac).arp(1, kRealMac, kReal, MacAddr{}, ip4(192, 168, 1, 1)).build());
    rx(0, frame().eth(kWanMac, kClientMac).arp(1, kClientMac, kClient, MacAddr{}, kVip).build());
    // The connection: a SYN through the director.
    rx(0, frame().eth(kWanMac, kClientMac).ipv4(kClient, kVip).tcp(40000, 80, vs::tcp_flag::kSyn).build());
    sink_.out.clear();
  }
  Verdict rx(uint32_t iface, const ByteVec& f, const Offload& o = {}) { return engine_->on_frame(iface, f, now_, o); }
  /// A client data segment of `n` payload bytes (ACK|PSH), made partial.
  ByteVec data(size_t n, bool df = true) {
    auto b = frame().eth(kWanMac, kClientMac).ipv4(kClient, kVip).id(0x100);
    if (df) b.df();
    return make_partial(b.tcp(40000, 80, vs::tcp_flag::kAck | vs::tcp_flag::kPsh, test::pattern(n)).build());
  }
  uint64_t drops(DropReason r) const { return engine_->drops()[r]; }

  OffloadSink sink_;
  std::unique_ptr<Engine> engine_;
  Instant now_{};
};

TEST_F(OffloadTest, NatKeepsAPartialChecksumPartialAndRightForTheNewAddress) {
  start("nat", true);
  ASSERT_EQ(rx(0, data(100), partial_tcp()).kind, Verdict::Kind::kForwarded);
  auto out = sink_.ip_on(1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].off.csum_partial);
  EXPECT_EQ(out[0].off.csum_start, kL4);
  EXPECT_EQ(out[0].off.csum_offset, 16);
  auto done = complete(out[0].bytes, out[0].off);
  EXPECT_TRUE(test::ValidTransport(done));
  EXPECT_EQ(test::ip_of(done).dst(), kReal);
  EXPECT_EQ(wire::TcpView<const uint8_t>::unchecked(test::ip_of(done).payload()).dport(), 8080);
}

TEST_F(OffloadTest, NatReplyWithPartialChecksumLeavesFromTheVip) {
  start("nat", true);
  auto reply = make_partial(frame()
                                .eth(kLanMac, kRealMac)
                                .ipv4(kReal, kClient)
                                .tcp(8080, 40000, vs::tcp_flag::kSyn | vs::tcp_flag::kAck, test::pattern(10))
                                .build());
  ASSERT_EQ(rx(1, reply, partial_tcp()).kind, Verdict::Kind::kForwarded);
  auto out = sink_.ip_on(0);
  ASSERT_EQ(out.size(), 1u);
  auto done = complete(out[0].bytes, out[0].off);
  EXPECT_TRUE(test::ValidTransport(done));
  EXPECT_EQ(test::ip_of(done).src(), kVip);
  EXPECT_EQ(wire::TcpView<const uint8_t>::unchecked(test::ip_of(done).payload()).sport(), 80);
}

TEST_F(OffloadTest, PartialUdpThroughNatIsRightToo) {
  start("nat", true);
  auto q = make_partial(frame().eth(kWanMac, kClientMac).ipv4(kClient, kVip).udp(5000, 53, test::pattern(33)).build());
  ASSERT_EQ(rx(0, q, {.gso_size = 0, .csum_start = kL4, .csum_offset = 6, .csum_partial = true}).kind,
            Verdict::Kind::kForwarded);
  auto out = sink_.ip_on(1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(test::ValidTransport(complete(out[0].bytes, out[0].off)));
}

TEST_F(OffloadTest, WithoutAdapterOffloadsTheEngineCompletesTheChecksum) {
  start("nat", false);
  ASSERT_EQ(rx(0, data(100), partial_tcp()).kind, Verdict::Kind::kForwarded);
  auto out = sink_.ip_on(1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].off.any());
  EXPECT_TRUE(test::ValidTransport(out[0].bytes));
}

TEST_F(OffloadTest, SuperFrameCrossesNatWholeWithItsSegmentSize) {
  start("nat", true);
  ByteVec f = data(4 * 1448 + 100);
  ASSERT_GT(f.size(), 1514u);
  Offload o = partial_tcp();
  o.gso_size = 1448;
  ASSERT_EQ(rx(0, f, o).kind, Verdict::Kind::kForwarded);
  auto out = sink_.ip_on(1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].off.gso_size, 1448);
  EXPECT_EQ(out[0].bytes.size(), f.size());
  EXPECT_TRUE(test::ValidTransport(complete(out[0].bytes, out[0].off)));
  EXPECT_EQ(engine_->counters().gso_frames, 1u);
  EXPECT_EQ(engine_->counters().gso_segmented, 0u);
  EXPECT_EQ(engine_->counters().csum_completed, 0u);
}

TEST_F(OffloadTest, SuperFrameLargerThanAnyFrameIsTakenOnlyAsASuperFrame) {
  start("dr", true);
  ByteVec f = data(30000);
  Offload o = partial_tcp();
  EXPECT_EQ(rx(0, f, o).kind, Verdict::Kind::kDropped);
  EXPECT_EQ(drops(DropReason::kEthTooLong), 1u);
  o.gso_size = 1448;
  ASSERT_EQ(rx(0, f, o).kind, Verdict::Kind::kForwarded);
  auto out = sink_.ip_on(1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(test::eth_dst(out[0].bytes), kRealMac);
  EXPECT_EQ(test::ip_bytes(out[0].bytes), test::forwarded_ip(f)) << "DR: the datagram is untouched but for the TTL";
  EXPECT_EQ(out[0].off.gso_size, 1448);
}

/// Checks the segments a super-frame was cut into against the original: lengths, sequence
/// numbers, flags, IDs, checksums, and the payload reassembled.
void expect_segments(const std::vector<OffloadSink::Out>& out, const ByteVec& orig, size_t mss, size_t encap,
                     size_t mtu) {
  auto oip = test::ip_of(orig);
  auto otcp = wire::TcpView<const uint8_t>::unchecked(oip.payload());
  ByteVec payload;
  uint16_t outer_id = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const ByteVec& f = out[i].bytes;
    EXPECT_FALSE(out[i].off.any());
    EXPECT_TRUE(test::ValidIpv4(f));
    EXPECT_LE(f.size() - 14, mtu);
    ByteVec inner(f.begin() + static_cast<std::ptrdiff_t>(encap), f.end());  // Ethernet + inner datagram
    std::copy(f.begin(), f.begin() + 14, inner.begin());
    if (encap) {
      EXPECT_EQ(test::ip_of(f).protocol(), IpProto::kIpip);
      if (i) {
        EXPECT_NE(test::ip_of(f).ident(), outer_id) << "each IPIP packet has its own ID";
      }
      outer_id = test::ip_of(f).ident();
    }
    EXPECT_TRUE(test::ValidTransport(inner)) << "segment " << i;
    auto ip = test::ip_of(inner);
    auto tcp = wire::TcpView<const uint8_t>::unchecked(ip.payload());
    EXPECT_EQ(ip.ident(), static_cast<uint16_t>(oip.ident() + i));
    EXPECT_EQ(tcp.seq(), otcp.seq() + payload.size());
    const bool last = i + 1 == out.size();
    EXPECT_EQ((tcp.flags() & vs::tcp_flag::kPsh) != 0, last);
    EXPECT_EQ(tcp.payload().size(), last ? oip.payload().size() - 20 - payload.size() : mss);
    payload.insert(payload.end(), tcp.payload().begin(), tcp.payload().end());
  }
  EXPECT_EQ(payload, ByteVec(otcp.payload().begin(), otcp.payload().end()));
}

TEST_F(OffloadTest, WithoutAdapterOffloadsASuperFrameLeavesAsItsSegments) {
  start("nat", false);
  ByteVec f = data(4 * 1448 + 100);
  Offload o = partial_tcp();
  o.gso_size = 1448;
  ASSERT_EQ(rx(0, f, o).kind, Verdict::Kind::kForwarded);
  auto out = sink_.ip_on(1);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(engine_->counters().gso_segmented, 1u);
  // NAT rewrote them: compare against the original with the real's address and port.
  ByteVec natted = f;
  {
    auto m = wire::Ipv4View<uint8_t>::unchecked(std::span<uint8_t>(natted).subspan(14));
    m.set_dst_update_checksum(kReal);
    test::put16(natted, kL4 + 2, 8080);
  }
  expect_segments(out, natted, 1448, 0, 1500);
}

TEST_F(OffloadTest, TunEncapsulatesEachSegmentOfASuperFrame) {
  start("tun", true, 1520);
  ByteVec f = data(3 * 1448 + 7);
  Offload o = partial_tcp();
  o.gso_size = 1448;
  ASSERT_EQ(rx(0, f, o).kind, Verdict::Kind::kForwarded);
  auto out = sink_.ip_on(1);
  ASSERT_EQ(out.size(), 4u);
  for (const auto& s : out) EXPECT_EQ(test::ip_of(s.bytes).dst(), kReal);
  expect_segments(out, f, 1448, 20, 1520);
}

TEST_F(OffloadTest, TunCompletesAPartialChecksumBeforeEncapsulating) {
  start("tun", true, 1520);
  ASSERT_EQ(rx(0, data(200), partial_tcp()).kind, Verdict::Kind::kForwarded);
  auto out = sink_.ip_on(1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].off.any()) << "a receiver would complete it at the outer header's offset";
  EXPECT_EQ(engine_->counters().csum_completed, 1u);
  ByteVec inner(out[0].bytes.begin() + 20, out[0].bytes.end());
  std::copy(out[0].bytes.begin(), out[0].bytes.begin() + 14, inner.begin());
  EXPECT_TRUE(test::ValidTransport(inner));
}

TEST_F(OffloadTest, SegmentsOverTheMtuWithDfGetFragNeededWithTheMtu) {
  start("nat", true, 1400);
  Offload o = partial_tcp();
  o.gso_size = 1448;
  EXPECT_EQ(rx(0, data(3 * 1448), o).kind, Verdict::Kind::kDropped);
  EXPECT_EQ(drops(DropReason::kFragNeeded), 1u);
  auto back = sink_.ip_on(0);
  ASSERT_EQ(back.size(), 1u);
  ASSERT_TRUE(test::ValidIcmp(back[0].bytes));
  EXPECT_EQ(test::icmp_of(back[0].bytes).code(), 4);
  EXPECT_EQ(test::icmp_of(back[0].bytes).rest() & 0xffff, 1400u);
}

TEST_F(OffloadTest, SegmentsOverTheMtuWithoutDfAreCutThenFragmented) {
  start("nat", true, 1000);
  Offload o = partial_tcp();
  o.gso_size = 1448;
  ASSERT_EQ(rx(0, data(2 * 1448, /*df=*/false), o).kind, Verdict::Kind::kForwarded);
  auto out = sink_.ip_on(1);
  ASSERT_EQ(out.size(), 4u) << "two segments of 1488 bytes, two fragments each";
  for (const auto& s : out) {
    EXPECT_TRUE(test::ValidIpv4(s.bytes));
    EXPECT_LE(s.bytes.size() - 14, 1000u);
    EXPECT_FALSE(s.off.any());
  }
  // The first fragment of each segment holds the TCP header with a complete checksum over the
  // whole segment: reassemble the first segment and check it.
  ByteVec seg(out[0].bytes.begin(), out[0].bytes.end());
  seg.insert(seg.end(), out[1].bytes.begin() + 34, out[1].bytes.end());
  test::put16(seg, 14 + 2, static_cast<uint16_t>(seg.size() - 14));
  test::put16(seg, 14 + 6, 0);
  test::refresh_ip_checksum(seg);
  EXPECT_TRUE(test::ValidTransport(seg));
}

TEST_F(OffloadTest, OffloadStateTheEngineCannotHonourIsACountedDrop) {
  start("nat", true);
  Offload wrong_start = partial_tcp();
  wrong_start.csum_start = 20;
  EXPECT_EQ(rx(0, data(10), wrong_start).kind, Verdict::Kind::kDropped);
  Offload wrong_offset = partial_tcp();
  wrong_offset.csum_offset = 6;
  EXPECT_EQ(rx(0, data(10), wrong_offset).kind, Verdict::Kind::kDropped);
  Offload gso_without_csum{.gso_size = 1000};
  EXPECT_EQ(rx(0, data(3000), gso_without_csum).kind, Verdict::Kind::kDropped);
  Offload other{.unsupported = true};
  EXPECT_EQ(rx(0, data(10), other).kind, Verdict::Kind::kDropped);
  auto udp =
      make_partial(frame().eth(kWanMac, kClientMac).ipv4(kClient, kVip).udp(5000, 53, test::pattern(3000)).build());
  Offload udp_gso{.gso_size = 1000, .csum_start = kL4, .csum_offset = 6, .csum_partial = true};
  EXPECT_EQ(rx(0, udp, udp_gso).kind, Verdict::Kind::kDropped);
  Offload huge_segments = partial_tcp();
  huge_segments.gso_size = 20000;
  EXPECT_EQ(rx(0, data(30000), huge_segments).kind, Verdict::Kind::kDropped);
  EXPECT_EQ(drops(DropReason::kOffloadInvalid), 6u);
  EXPECT_TRUE(sink_.ip_on(1).empty());
}

TEST_F(OffloadTest, PartialFrameWaitingForArpLeavesWithACompleteChecksum) {
  start("nat", true);
  // A client that the router has not resolved: the reply waits for ARP.
  const Ipv4Addr other = ip4(10, 0, 0, 3);
  rx(0, frame().eth(kWanMac, kClientMac).ipv4(other, kVip).tcp(40001, 80, vs::tcp_flag::kSyn).build());
  sink_.out.clear();
  auto reply = make_partial(frame()
                                .eth(kLanMac, kRealMac)
                                .ipv4(kReal, other)
                                .tcp(8080, 40001, vs::tcp_flag::kSyn | vs::tcp_flag::kAck, test::pattern(10))
                                .build());
  EXPECT_EQ(rx(1, reply, partial_tcp()).kind, Verdict::Kind::kQueued);
  Offload o = partial_tcp();
  o.gso_size = 1000;
  auto big = make_partial(frame()
                              .eth(kLanMac, kRealMac)
                              .ipv4(kReal, other)
                              .df()
                              .tcp(8080, 40001, vs::tcp_flag::kAck, test::pattern(3000))
                              .build());
  EXPECT_EQ(rx(1, big, o).kind, Verdict::Kind::kDropped);
  EXPECT_EQ(drops(DropReason::kGsoNeighUnresolved), 1u);
  sink_.out.clear();
  const MacAddr other_mac = *MacAddr::parse("02:00:00:00:c0:03");
  rx(0, frame().eth(kWanMac, other_mac).arp(2, other_mac, other, kWanMac, ip4(10, 0, 0, 1)).build());
  auto out = sink_.ip_on(0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].off.any());
  EXPECT_TRUE(test::ValidTransport(out[0].bytes));
  EXPECT_EQ(test::ip_of(out[0].bytes).src(), kVip);
}

}  // namespace
}  // namespace vs

// The engine's IPv6 router (src/engine_ip6.cpp): Duplicate Address Detection (RFC 4862 §5.4),
// Neighbour Discovery (RFC 4861 §7), ICMPv6 (RFC 4443) and forwarding (RFC 8200).
//
// Frames are built here byte by byte with the reference checksum of test_frames.hpp (not
// src/wire); every frame the engine emits has its ICMPv6/TCP checksum verified the same way
// before its fields are compared with what the RFCs say.
#include <gtest/gtest.h>

#include <memory>

#include "config/config.hpp"
#include "engine.hpp"
#include "test_frames.hpp"

namespace vs {
namespace {

using test::ByteVec;
using test::MemSink;

//   wan (0) 02:00:00:00:00:01  2001:db8:1::1/64, 10.0.0.1/24   (link-local fe80::ff:fe00:1)
//   lan (1) 02:00:00:00:00:02  2001:db8:2::1/64, MTU 1400       (link-local fe80::ff:fe00:2)
//   v4  (2) 02:00:00:00:00:03  10.9.0.1/24 (no IPv6)
//   2001:db8:9::/48 via 2001:db8:2::fe
constexpr const char* kConfig = R"(
[router]
seed = 3
[[interfaces]]
name = "wan"
mac = "02:00:00:00:00:01"
addresses = ["10.0.0.1/24", "2001:db8:1::1/64"]
[[interfaces]]
name = "lan"
mac = "02:00:00:00:00:02"
addresses = ["2001:db8:2::1/64"]
mtu = 1400
[[interfaces]]
name = "v4"
mac = "02:00:00:00:00:03"
addresses = ["10.9.0.1/24"]
[[routes]]
to = "2001:db8:9::/48"
via = "2001:db8:2::fe"
)";

constexpr uint32_t kWan = 0, kLan = 1, kV4 = 2;
constexpr MacAddr kWanMac = test::mac(0x02, 0, 0, 0, 0, 0x01);
constexpr MacAddr kLanMac = test::mac(0x02, 0, 0, 0, 0, 0x02);
constexpr MacAddr kClientMac = test::mac(0x02, 0xaa, 0, 0, 0, 0x02);
constexpr MacAddr kServerMac = test::mac(0x02, 0xbb, 0, 0, 0, 0x02);

Ipv6Addr a6(const char* s) { return *Ipv6Addr::parse(s); }
const Ipv6Addr kWanIp = a6("2001:db8:1::1"), kLanIp = a6("2001:db8:2::1"), kWanLl = a6("fe80::ff:fe00:1");
const Ipv6Addr kClient = a6("2001:db8:1::2"), kServer = a6("2001:db8:2::2"), kGw = a6("2001:db8:2::fe");

constexpr Instant T0 = Instant::from_micros(5'000'000'000);
constexpr Instant at_ms(int64_t ms) { return T0 + Duration::millis(ms); }

uint64_t ref_pseudo6(const Ipv6Addr& s, const Ipv6Addr& d, uint8_t next, size_t len) {
  uint64_t acc = test::ref_sum(s.b) + test::ref_sum(d.b);
  return acc + len + next;
}

/// An Ethernet frame with an IPv6 header and `l4` (whose checksum at `csum_at`, if any, is filled).
ByteVec frame6(const MacAddr& dst_mac, const MacAddr& src_mac, const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next,
               uint8_t hops, ByteVec l4, std::optional<size_t> csum_at) {
  if (csum_at) {
    test::put16(l4, *csum_at, 0);
    test::put16(l4, *csum_at, test::ref_checksum(l4, ref_pseudo6(src, dst, next, l4.size())));
  }
  ByteVec f;
  test::app_mac(f, dst_mac);
  test::app_mac(f, src_mac);
  test::app16(f, 0x86dd);
  test::app32(f, 0x60000000);
  test::app16(f, static_cast<uint16_t>(l4.size()));
  f.push_back(next);
  f.push_back(hops);
  test::app(f, src.b);
  test::app(f, dst.b);
  test::app(f, l4);
  return f;
}

ByteVec icmp6(uint8_t type, uint8_t code, uint32_t rest, const ByteVec& data) {
  ByteVec b{type, code, 0, 0};
  test::app32(b, rest);
  test::app(b, data);
  return b;
}

ByteVec nd_body(const Ipv6Addr& target, std::optional<std::pair<uint8_t, MacAddr>> opt) {
  ByteVec d(target.b.begin(), target.b.end());
  if (opt) {
    d.push_back(opt->first);
    d.push_back(1);
    test::app_mac(d, opt->second);
  }
  return d;
}

/// An NS from `src` (its link-layer option unless DAD) for `target`.
ByteVec ns(const Ipv6Addr& src, const MacAddr& smac, const Ipv6Addr& target, bool dad = false, uint8_t hops = 255) {
  const Ipv6Addr dst = target.solicited_node();
  return frame6(multicast_mac(dst), smac, src, dst, 58, hops,
                icmp6(135, 0, 0, nd_body(target, dad ? std::nullopt : std::optional(std::pair{uint8_t{1}, smac}))), 2);
}

ByteVec na(const Ipv6Addr& src, const MacAddr& smac, const MacAddr& dmac, const Ipv6Addr& dst, uint8_t flags) {
  return frame6(dmac, smac, src, dst, 58, 255,
                icmp6(136, 0, uint32_t{flags} << 24, nd_body(src, std::pair{uint8_t{2}, smac})), 2);
}

ByteVec echo(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t hops = 64, size_t data = 8,
             const MacAddr& to = kWanMac) {
  return frame6(to, kClientMac, src, dst, 58, hops, icmp6(128, 0, 0x12340001, test::pattern(data)), 2);
}

struct Out {
  uint32_t iface;
  ByteVec f;
  uint16_t etype() const { return test::get16(f, 12); }
  uint8_t next() const { return f[20]; }
  uint8_t hops() const { return f[21]; }
  Ipv6Addr src() const { return addr(22); }
  Ipv6Addr dst() const { return addr(38); }
  std::span<const uint8_t> l4() const { return std::span<const uint8_t>(f).subspan(54); }
  uint8_t type() const { return l4()[0]; }
  uint8_t code() const { return l4()[1]; }
  MacAddr eth_dst() const {
    MacAddr m;
    std::copy_n(f.begin(), 6, m.b.begin());
    return m;
  }
  Ipv6Addr addr(size_t off) const {
    Ipv6Addr a;
    std::copy_n(f.begin() + static_cast<ptrdiff_t>(off), 16, a.b.begin());
    return a;
  }
  /// The upper layer's checksum over the pseudo-header is right (ICMPv6, TCP and UDP; a tunnel's
  /// payload has none of its own).
  bool checksum_ok() const {
    if (next() != 58 && next() != 6 && next() != 17) return true;
    return test::ref_verify(l4(), ref_pseudo6(src(), dst(), next(), l4().size()));
  }
};

class EngineIpv6Test : public ::testing::Test {
protected:
  void SetUp() override { make(kConfig); }
  void make(const char* text) {
    auto r = config::parse_config(text);
    ASSERT_TRUE(r.ok()) << r.error().message;
    cfg_ = r.value();
    engine_ = std::make_unique<Engine>(cfg_, sink_);
    sink_.clear();
  }
  /// Start and let DAD finish (1 s), as a daemon's first second.
  void up() {
    engine_->start(T0);
    engine_->on_timer(at_ms(1000));
    sink_.clear();
  }
  Verdict rx(uint32_t iface, const ByteVec& f, Instant t) { return engine_->on_frame(iface, f, t); }
  std::vector<Out> sent() {
    std::vector<Out> v;
    for (const auto& s : sink_.sent) {
      v.push_back({s.iface, s.bytes});
      if (v.back().etype() == 0x86dd) {
        EXPECT_TRUE(v.back().checksum_ok()) << "bad checksum";
      }
    }
    sink_.clear();
    return v;
  }
  static std::string why(const Verdict& v) {
    return v.kind == Verdict::Kind::kDropped ? std::string(drop_name(v.reason)) : "not dropped";
  }
  uint64_t drops(DropReason r) const { return engine_->drops().n[static_cast<size_t>(r)]; }
  /// The client at kClient is known (it solicited us).
  void learn_client(Instant t) {
    ASSERT_EQ(rx(kWan, ns(kClient, kClientMac, kWanIp), t).kind, Verdict::Kind::kConsumed);
    sink_.clear();
  }

  std::shared_ptr<const config::Config> cfg_;
  MemSink sink_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineIpv6Test, StartSendsOneDadProbePerAddressThenTheAddressesAreOurs) {
  engine_->start(T0);
  auto out = sent();
  // wan: link-local + global; lan: link-local + global; the IPv4-only interface: nothing.
  ASSERT_EQ(out.size(), 4u);
  for (const Out& o : out) {
    EXPECT_NE(o.iface, kV4);
    EXPECT_EQ(o.type(), 135);
    EXPECT_TRUE(o.src().is_unspecified());  // RFC 4862 §5.4.2
    EXPECT_EQ(o.hops(), 255);
    EXPECT_EQ(o.l4().size(), 24u);  // no source link-layer option from ::
    EXPECT_EQ(o.dst(), o.addr(54 + 8).solicited_node());
    EXPECT_EQ(o.eth_dst(), multicast_mac(o.dst()));
  }
  EXPECT_EQ(out[0].addr(54 + 8), kWanLl);
  EXPECT_EQ(engine_->next_deadline(), std::optional(at_ms(1000)));
  // Tentative: an echo to the address is not answered yet, nor a solicitation for it.
  EXPECT_EQ(why(rx(kWan, ns(kClient, kClientMac, kWanIp), at_ms(10))), drop_name(DropReason::kNdNotForUs));
  EXPECT_EQ(why(rx(kWan, echo(kClient, kWanIp), at_ms(20))), drop_name(DropReason::kIpv6BadDestination));
  EXPECT_TRUE(sent().empty());
  engine_->on_timer(at_ms(1000));
  for (const auto& a : engine_->addresses6()) EXPECT_EQ(a.state, Engine::Addr6::State::kPreferred);
  EXPECT_EQ(rx(kWan, echo(kClient, kWanIp), at_ms(1001)).kind, Verdict::Kind::kConsumed);
  EXPECT_EQ(sent().size(), 1u);
}

TEST_F(EngineIpv6Test, SolicitationIsAnsweredWithASolicitedOverrideAdvertisementAndTheSenderLearnt) {
  up();
  ASSERT_EQ(rx(kWan, ns(kClient, kClientMac, kWanIp), at_ms(1100)).kind, Verdict::Kind::kConsumed);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  const Out& o = out[0];
  EXPECT_EQ(o.iface, kWan);
  EXPECT_EQ(o.type(), 136);
  EXPECT_EQ(o.l4()[4], 0x80 | 0x40 | 0x20);  // Router, Solicited, Override
  EXPECT_EQ(o.src(), kWanIp);
  EXPECT_EQ(o.dst(), kClient);
  EXPECT_EQ(o.eth_dst(), kClientMac);
  EXPECT_EQ(o.hops(), 255);
  EXPECT_EQ(o.addr(54 + 8), kWanIp);
  ASSERT_EQ(o.l4().size(), 32u);
  EXPECT_EQ(o.l4()[24], 2);  // target link-layer address
  EXPECT_TRUE(std::equal(kWanMac.b.begin(), kWanMac.b.end(), o.l4().begin() + 26));
  // Learnt: the echo reply goes straight out, no solicitation of our own.
  rx(kWan, echo(kClient, kWanIp), at_ms(1200));
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type(), 129);
  EXPECT_EQ(out[0].eth_dst(), kClientMac);
  EXPECT_EQ(out[0].src(), kWanIp);
  EXPECT_EQ(out[0].hops(), 64);
}

TEST_F(EngineIpv6Test, LinkLocalAddressAnswersOnItsOwnLinkOnly) {
  up();
  learn_client(at_ms(1100));
  const Ipv6Addr client_ll = a6("fe80::aa:2");
  rx(kWan, ns(client_ll, kClientMac, kWanLl), at_ms(1150));
  sent();
  EXPECT_EQ(rx(kWan, echo(client_ll, kWanLl), at_ms(1200)).kind, Verdict::Kind::kConsumed);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].src(), kWanLl);
  EXPECT_EQ(out[0].dst(), client_ll);
  // The same address asked on another link is no address of ours there, and not routed.
  EXPECT_EQ(why(rx(kLan, echo(client_ll, kWanLl, 64, 8, kLanMac), at_ms(1300))), drop_name(DropReason::kIpv6Scope));
}

TEST_F(EngineIpv6Test, ForwardingResolvesTheNextHopQueuesAndLowersTheHopLimit) {
  up();
  learn_client(at_ms(1100));
  const ByteVec req = echo(kClient, kServer, 9);
  EXPECT_EQ(rx(kWan, req, at_ms(1200)).kind, Verdict::Kind::kQueued);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);  // the solicitation for the server, from our lan address
  EXPECT_EQ(out[0].iface, kLan);
  EXPECT_EQ(out[0].type(), 135);
  EXPECT_EQ(out[0].src(), a6("fe80::ff:fe00:2"));  // a forwarded packet: the link-local address
  EXPECT_EQ(out[0].dst(), kServer.solicited_node());
  EXPECT_EQ(out[0].l4()[24], 1);  // source link-layer address
  // The advertisement releases the packet.
  EXPECT_EQ(rx(kLan, na(kServer, kServerMac, kLanMac, kLanIp, 0x60), at_ms(1201)).kind, Verdict::Kind::kConsumed);
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].iface, kLan);
  EXPECT_EQ(out[0].eth_dst(), kServerMac);
  EXPECT_EQ(out[0].hops(), 8);
  EXPECT_TRUE(std::equal(req.begin() + 54, req.end(), out[0].f.begin() + 54));  // payload untouched
  EXPECT_EQ(engine_->counters().forwarded6, 1u);
  // Through a static route's gateway.
  rx(kWan, echo(kClient, a6("2001:db8:9::5")), at_ms(1300));
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].addr(54 + 8), kGw);  // the solicitation is for the gateway
}

TEST_F(EngineIpv6Test, UnansweredResolutionDropsTheQueueWithAddressUnreachable) {
  up();
  learn_client(at_ms(1100));
  rx(kWan, echo(kClient, kServer), at_ms(1200));
  sent();
  for (int s = 1; s <= 3; ++s) engine_->on_timer(at_ms(1200 + 1000 * s));
  auto out = sent();
  ASSERT_EQ(out.size(), 3u);  // two more solicitations, then the error
  EXPECT_EQ(out[0].type(), 135);
  EXPECT_EQ(out[1].type(), 135);
  EXPECT_EQ(out[2].iface, kWan);
  EXPECT_EQ(out[2].type(), 1);
  EXPECT_EQ(out[2].code(), 3);
  EXPECT_EQ(drops(DropReason::kNeighUnresolved), 1u);
}

TEST_F(EngineIpv6Test, HopLimitNoRouteAndTooBigAreReportedToTheSender) {
  up();
  learn_client(at_ms(1100));
  const ByteVec ttl1 = echo(kClient, kServer, 1);
  EXPECT_EQ(why(rx(kWan, ttl1, at_ms(1200))), drop_name(DropReason::kTtlExceeded));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type(), 3);
  EXPECT_EQ(out[0].code(), 0);
  EXPECT_EQ(out[0].src(), kWanIp);
  EXPECT_EQ(out[0].dst(), kClient);
  EXPECT_TRUE(std::equal(ttl1.begin() + 14, ttl1.end(), out[0].l4().begin() + 8));  // the whole datagram quoted

  EXPECT_EQ(why(rx(kWan, echo(kClient, a6("2001:db8:77::1")), at_ms(1300))), drop_name(DropReason::kNoRoute));
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type(), 1);
  EXPECT_EQ(out[0].code(), 0);

  const ByteVec big = echo(kClient, kServer, 64, 1400);  // 1448 bytes of IPv6 > lan's 1400
  EXPECT_EQ(why(rx(kWan, big, at_ms(1400))), drop_name(DropReason::kFragNeeded));
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type(), 2);
  EXPECT_EQ(test::get16(out[0].l4(), 6), 1400);  // the MTU
  EXPECT_EQ(out[0].f.size(), 14u + 1280u);       // quoted up to the minimum MTU (RFC 4443 §2.4(c))
}

TEST_F(EngineIpv6Test, OurAddressesRefuseWhatNothingListensTo) {
  up();
  learn_client(at_ms(1100));
  ByteVec udp{0, 5, 0, 6, 0, 9, 0, 0, 'x'};
  EXPECT_EQ(why(rx(kWan, frame6(kWanMac, kClientMac, kClient, kWanIp, 17, 64, udp, 6), at_ms(1200))),
            drop_name(DropReason::kLocalNoService));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type(), 1);
  EXPECT_EQ(out[0].code(), 4);  // port unreachable

  ByteVec syn(20, 0);
  test::put16(syn, 0, 40000);
  test::put16(syn, 2, 80);
  syn[4] = 0x11;  // seq 0x11000000
  syn[12] = 5 << 4;
  syn[13] = 0x02;
  rx(kWan, frame6(kWanMac, kClientMac, kClient, kWanIp, 6, 64, syn, 16), at_ms(1300));
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].next(), 6);
  EXPECT_EQ(out[0].l4()[13], 0x14);                // RST|ACK
  EXPECT_EQ(test::get16(out[0].l4(), 0), 80);      // ports swapped
  EXPECT_EQ(test::get16(out[0].l4(), 8), 0x1100);  // ack = seq + 1 (high half)
  EXPECT_EQ(test::get16(out[0].l4(), 10), 0x0001);

  rx(kWan, frame6(kWanMac, kClientMac, kClient, kWanIp, 253, 64, ByteVec(8, 0), std::nullopt), at_ms(1400));
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type(), 4);
  EXPECT_EQ(out[0].code(), 1);
  EXPECT_EQ(test::get16(out[0].l4(), 6), 6);  // pointer: the IPv6 header's Next Header
}

TEST_F(EngineIpv6Test, ErrorsToOneDestinationAreLimitedButPacketTooBigIsNot) {
  up();
  learn_client(at_ms(1100));
  // icmpv6_xrlim_allow: a burst of 6, then one per icmpv6_time (1 s) / 4 for the client's /64.
  for (int i = 0; i < 10; ++i) rx(kWan, echo(kClient, kServer, 1), at_ms(1200));
  EXPECT_EQ(sent().size(), 6u);
  EXPECT_EQ(engine_->counters().icmp_errors_peer_limited, 4u);
  rx(kWan, echo(kClient, kServer, 1), at_ms(1449));
  EXPECT_TRUE(sent().empty());
  rx(kWan, echo(kClient, kServer, 1), at_ms(1451));
  EXPECT_EQ(sent().size(), 1u);
  for (int i = 0; i < 10; ++i) rx(kWan, echo(kClient, kServer, 64, 1400), at_ms(1460));
  EXPECT_EQ(sent().size(), 10u);  // Packet Too Big: never limited (PMTU discovery needs it)
}

TEST_F(EngineIpv6Test, ErrorsAreNotSentAboutErrorsNorAboutLinkLocalTraffic) {
  up();
  learn_client(at_ms(1100));
  // An ICMPv6 error in transit whose hop limit runs out: dropped without an error about it.
  ByteVec err = frame6(kWanMac, kClientMac, kClient, kServer, 58, 1, icmp6(1, 0, 0, ByteVec(48, 0)), 2);
  EXPECT_EQ(why(rx(kWan, err, at_ms(1200))), drop_name(DropReason::kTtlExceeded));
  EXPECT_TRUE(sent().empty());
  // A link-local source is not forwarded: beyond scope (the sender's link-local address known).
  rx(kWan, ns(a6("fe80::aa:2"), kClientMac, kWanLl), at_ms(1250));
  sent();
  EXPECT_EQ(why(rx(kWan, echo(a6("fe80::aa:2"), kServer), at_ms(1300))), drop_name(DropReason::kIpv6Scope));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type(), 1);
  EXPECT_EQ(out[0].code(), 2);
  EXPECT_EQ(out[0].src(), kWanLl);
}

TEST_F(EngineIpv6Test, DuplicateAddressIsNeverUsed) {
  engine_->start(T0);
  sent();
  // Another node runs DAD for our lan address while ours runs.
  EXPECT_EQ(why(rx(kLan, ns(Ipv6Addr{}, kServerMac, kLanIp, /*dad=*/true), at_ms(300))),
            drop_name(DropReason::kNdDuplicate));
  engine_->on_timer(at_ms(1000));
  const Engine::Addr6* lan = nullptr;
  for (const auto& a : engine_->addresses6())
    if (a.prefix.addr == kLanIp) lan = &a;
  ASSERT_NE(lan, nullptr);
  EXPECT_EQ(lan->state, Engine::Addr6::State::kDuplicate);
  EXPECT_EQ(engine_->counters().dad_failures, 1u);
  // Not answered, not used as a source: a solicitation for the server comes from the link-local.
  sent();
  // Its solicited-node group is left: a solicitation for it is not even heard.
  EXPECT_EQ(why(rx(kLan, ns(kServer, kServerMac, kLanIp), at_ms(1100))), drop_name(DropReason::kIpv6Multicast));
  learn_client(at_ms(1150));
  rx(kWan, echo(kClient, kServer), at_ms(1200));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].src(), a6("fe80::ff:fe00:2"));
}

TEST_F(EngineIpv6Test, AnswersADadProbeForAnAddressOfOursToAllNodes) {
  up();
  EXPECT_EQ(rx(kWan, ns(Ipv6Addr{}, kClientMac, kWanIp, /*dad=*/true), at_ms(1100)).kind, Verdict::Kind::kConsumed);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dst(), kAllNodes);
  EXPECT_EQ(out[0].l4()[4], 0x80 | 0x20);  // not solicited (RFC 4861 §7.2.4)
}

TEST_F(EngineIpv6Test, NeighbourDiscoveryRulesAreEnforced) {
  up();
  // Hop limit other than 255: it crossed a router.
  EXPECT_EQ(why(rx(kWan, ns(kClient, kClientMac, kWanIp, false, 254), at_ms(1100))), drop_name(DropReason::kNdInvalid));
  // An advertisement nobody asked for creates nothing.
  EXPECT_EQ(why(rx(kLan, na(kServer, kServerMac, kLanMac, kLanIp, 0x20), at_ms(1200))),
            drop_name(DropReason::kNdUnsolicited));
  EXPECT_EQ(engine_->neigh6().size(), 0u);
  // A solicitation for an address we do not have.
  // A solicitation for an address we do not have: its group is not ours; sent to us, not for us.
  EXPECT_EQ(why(rx(kWan, ns(kClient, kClientMac, a6("2001:db8:1::77")), at_ms(1300))),
            drop_name(DropReason::kIpv6Multicast));
  ByteVec unicast_ns = ns(kClient, kClientMac, a6("2001:db8:1::77"));
  ByteVec body(unicast_ns.begin() + 54, unicast_ns.end());
  EXPECT_EQ(why(rx(kWan, frame6(kWanMac, kClientMac, kClient, kWanIp, 58, 255, body, 2), at_ms(1300))),
            drop_name(DropReason::kNdNotForUs));
  // A solicited advertisement to a group is invalid.
  EXPECT_EQ(why(rx(kLan, na(kServer, kServerMac, multicast_mac(kAllNodes), kAllNodes, 0x40), at_ms(1400))),
            drop_name(DropReason::kNdInvalid));
  // A zero-length option.
  ByteVec bad = ns(kClient, kClientMac, kWanIp);
  bad[14 + 40 + 25] = 0;
  ByteVec l4(bad.begin() + 54, bad.end());
  bad = frame6(multicast_mac(kWanIp.solicited_node()), kClientMac, kClient, kWanIp.solicited_node(), 58, 255, l4, 2);
  EXPECT_EQ(why(rx(kWan, bad, at_ms(1500))), drop_name(DropReason::kNdInvalid));
  EXPECT_TRUE(sent().empty());
}

TEST_F(EngineIpv6Test, MalformedIpv6IsACountedDrop) {
  up();
  ByteVec good = echo(kClient, kWanIp);
  ByteVec shortf(good.begin(), good.begin() + 14 + 39);
  EXPECT_EQ(why(rx(kWan, shortf, at_ms(1100))), drop_name(DropReason::kIpv6Truncated));
  ByteVec v4inside = good;
  v4inside[14] = 0x45;
  EXPECT_EQ(why(rx(kWan, v4inside, at_ms(1100))), drop_name(DropReason::kIpv6BadVersion));
  ByteVec longer = good;
  test::put16(longer, 18, 500);
  EXPECT_EQ(why(rx(kWan, longer, at_ms(1100))), drop_name(DropReason::kIpv6BadLength));
  ByteVec bad_sum = good;
  bad_sum.back() ^= 1;
  EXPECT_EQ(why(rx(kWan, bad_sum, at_ms(1100))), drop_name(DropReason::kIcmpBadChecksum));
  EXPECT_EQ(why(rx(kWan, echo(a6("ff02::1"), kWanIp), at_ms(1100))), drop_name(DropReason::kIpv6BadSource));
  EXPECT_EQ(why(rx(kWan, echo(kClient, a6("ff02::1:3")), at_ms(1100))), drop_name(DropReason::kIpv6Multicast));
  // Nine destination-options headers: over the limit of eight.
  ByteVec chain;
  for (int i = 0; i < 9; ++i) {
    ByteVec h{static_cast<uint8_t>(i == 8 ? 58 : 60), 0, 1, 4, 0, 0, 0, 0};  // PadN
    test::app(chain, h);
  }
  test::app(chain, icmp6(128, 0, 0, ByteVec(4, 0)));
  EXPECT_EQ(why(rx(kWan, frame6(kWanMac, kClientMac, kClient, kWanIp, 60, 64, chain, std::nullopt), at_ms(1100))),
            drop_name(DropReason::kIpv6ExtHeaders));
  EXPECT_EQ(why(rx(kV4, echo(kClient, kWanIp, 64, 8, test::mac(0x02, 0, 0, 0, 0, 0x03)), at_ms(1100))),
            drop_name(DropReason::kIpv6Disabled));
  EXPECT_TRUE(sent().empty());
}

TEST_F(EngineIpv6Test, ReloadKeepsTheStateOfKeptAddressesAndProbesNewOnes) {
  up();
  std::string text = kConfig;
  text.replace(text.find("\"2001:db8:2::1/64\""), 18, "\"2001:db8:2::1/64\", \"2001:db8:3::1/64\"");
  auto r = config::parse_config(text);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_FALSE(engine_->reload(r.value()));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);  // DAD for the new address only
  EXPECT_EQ(out[0].addr(54 + 8), a6("2001:db8:3::1"));
  for (const auto& a : engine_->addresses6())
    EXPECT_EQ(a.state, a.prefix.addr == a6("2001:db8:3::1") ? Engine::Addr6::State::kTentative
                                                            : Engine::Addr6::State::kPreferred);
}

TEST_F(EngineIpv6Test, TunnelsToOurAddressesAreDecapsulatedOneLevel) {
  up();
  learn_client(at_ms(1100));
  rx(kLan, ns(kServer, kServerMac, kLanIp), at_ms(1110));  // the server is known
  sent();
  // IPv6 in IPv6 (as IPVS's TUN to an IPv6 real): the inner packet is routed on.
  const ByteVec inner = echo(kClient, kServer, 30);
  ByteVec inner_ip(inner.begin() + 14, inner.end());
  EXPECT_EQ(rx(kWan, frame6(kWanMac, kClientMac, kClient, kWanIp, 41, 64, inner_ip, std::nullopt), at_ms(1200)).kind,
            Verdict::Kind::kForwarded);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].iface, kLan);
  EXPECT_EQ(out[0].hops(), 29);
  EXPECT_TRUE(std::equal(inner.begin() + 22, inner.end(), out[0].f.begin() + 22));  // addresses, payload
  // IPv4 in IPv6 (an IPv4 service's TUN to this IPv6 endpoint): the inner IPv4 packet is ours.
  ByteVec v4 = test::frame()
                   .eth(kWanMac, kClientMac)
                   .ipv4(test::ip4(10, 0, 0, 2), test::ip4(10, 0, 0, 1))
                   .echo_request(7, 1, test::pattern(8))
                   .build();
  rx(kWan,
     test::frame()
         .eth(kWanMac, kClientMac)
         .arp(1, kClientMac, test::ip4(10, 0, 0, 2), MacAddr{}, test::ip4(10, 0, 0, 1))
         .build(),
     at_ms(1250));
  sent();
  ByteVec v4_ip(v4.begin() + 14, v4.end());
  EXPECT_EQ(rx(kWan, frame6(kWanMac, kClientMac, kClient, kWanIp, 4, 64, v4_ip, std::nullopt), at_ms(1300)).kind,
            Verdict::Kind::kConsumed);
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].etype(), 0x0800);  // the echo reply, in IPv4
  // IPv6 in IPv4 (protocol 41) to our IPv4 address on an interface with IPv6: routed on too.
  ByteVec six_in_four = test::frame()
                            .eth(kWanMac, kClientMac)
                            .ipv4(test::ip4(10, 0, 0, 2), test::ip4(10, 0, 0, 1))
                            .raw(41, inner_ip)
                            .build();
  EXPECT_EQ(rx(kWan, six_in_four, at_ms(1350)).kind, Verdict::Kind::kForwarded);
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].iface, kLan);
  EXPECT_EQ(out[0].hops(), 29);
  // A tunnel inside the tunnel is not opened.
  ByteVec wrapped = frame6(kWanMac, kClientMac, kClient, kWanIp, 41, 64, inner_ip, std::nullopt);
  ByteVec wrapped_ip(wrapped.begin() + 14, wrapped.end());
  EXPECT_EQ(why(rx(kWan, frame6(kWanMac, kClientMac, kClient, kWanIp, 41, 64, wrapped_ip, std::nullopt), at_ms(1400))),
            drop_name(DropReason::kIpipNested));
  EXPECT_EQ(
      why(rx(kWan, frame6(kWanMac, kClientMac, kClient, kWanIp, 41, 64, ByteVec(20, 0), std::nullopt), at_ms(1400))),
      drop_name(DropReason::kIpipTruncated));
}

// RFC 8201: a Packet Too Big about our own echo reply lowers the path MTU toward its sender; the
// next replies leave in fragments that fit (RFC 8200 §4.5), until the entry expires (10 min).
TEST_F(EngineIpv6Test, PacketTooBigAboutOurReplyFragmentsTheNextOnes) {
  up();
  learn_client(at_ms(1100));
  const ByteVec req = echo(kClient, kWanIp, 64, 1400);
  EXPECT_EQ(rx(kWan, req, at_ms(1200)).kind, Verdict::Kind::kConsumed);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].f.size(), 14u + 40 + 8 + 1400) << "the link's MTU (1500) takes it whole";
  const ByteVec reply_icmp(out[0].f.begin() + 54, out[0].f.end());
  // A router on the way says 1280, quoting our reply as it left.
  ByteVec quote(out[0].f.begin() + 14, out[0].f.end());
  quote.resize(1280 - 48);
  EXPECT_EQ(
      rx(kWan, frame6(kWanMac, kClientMac, kClient, kWanIp, 58, 64, icmp6(2, 0, 1280, quote), 2), at_ms(1300)).kind,
      Verdict::Kind::kConsumed);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(rx(kWan, req, at_ms(1400)).kind, Verdict::Kind::kConsumed);
  out = sent();
  ASSERT_EQ(out.size(), 2u);
  ByteVec data;
  for (size_t i = 0; i < 2; ++i) {
    const Out& f = out[i];
    EXPECT_LE(f.f.size() - 14, 1280u);
    EXPECT_EQ(f.next(), 44) << "a Fragment header";
    EXPECT_EQ(f.src(), kWanIp);
    EXPECT_EQ(f.dst(), kClient);
    EXPECT_EQ(f.f[54], 58) << "its Next Header: ICMPv6";
    const uint16_t off_m = test::get16(f.f, 56);
    EXPECT_EQ(off_m & 1, i == 0 ? 1 : 0) << "M on all but the last";
    EXPECT_EQ(off_m & ~7u, data.size()) << "the offset";
    EXPECT_EQ(test::get16(f.f, 58) << 16 | test::get16(f.f, 60),
              test::get16(out[0].f, 58) << 16 | test::get16(out[0].f, 60))
        << "one Identification";
    data.insert(data.end(), f.f.begin() + 62, f.f.end());
  }
  EXPECT_EQ(out[0].f.size() - 62, 1232u) << "(1280 - 40 - 8) rounded down to 8";
  EXPECT_EQ(data, reply_icmp) << "the fragments rebuild the reply";
  // A later report of a larger MTU does not raise it; ten minutes on, the link's MTU is tried again.
  rx(kWan, frame6(kWanMac, kClientMac, kClient, kWanIp, 58, 64, icmp6(2, 0, 1400, quote), 2), at_ms(1500));
  EXPECT_EQ(rx(kWan, req, at_ms(1600)).kind, Verdict::Kind::kConsumed);
  EXPECT_EQ(sent().size(), 2u);
  learn_client(at_ms(1300 + 600'000));
  EXPECT_EQ(rx(kWan, req, at_ms(1300 + 600'000)).kind, Verdict::Kind::kConsumed);
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].f.size(), 14u + 40 + 8 + 1400);
  // A Packet Too Big about a datagram that was not ours changes nothing and is counted.
  ByteVec other = quote;
  std::copy(kServer.b.begin(), kServer.b.end(), other.begin() + 8);  // its source: the server
  EXPECT_EQ(why(rx(kWan, frame6(kWanMac, kClientMac, kClient, kWanIp, 58, 64, icmp6(2, 0, 1280, other), 2),
                   at_ms(1301 + 600'000))),
            drop_name(DropReason::kIcmpLocalUnhandled));
}

// TUN to an IPv6 real (ip_vs_tunnel_xmit_v6), from an IPv6 service and from an IPv4 one (the
// kernel allows the other family behind a tunnel): the work an offloaded frame defers is done
// before the outer header goes on (a receiver would complete a checksum at the outer datagram).
TEST_F(EngineIpv6Test, TunToAnIpv6RealCompletesDeferredWorkBeforeEncapsulating) {
  std::string text = kConfig;
  text +=
      "[[services]]\nprotocol = \"tcp\"\naddress = \"[2001:db8:1::80]:80\"\n"
      "[[services.reals]]\naddress = \"[2001:db8:2::2]:80\"\nmethod = \"tun\"\n"
      "[[services]]\nprotocol = \"tcp\"\naddress = \"10.0.0.100:80\"\n"
      "[[services.reals]]\naddress = \"[2001:db8:2::2]:80\"\nmethod = \"tun\"\n";
  make(text.c_str());
  up();
  learn_client(at_ms(1100));
  rx(kLan, ns(kServer, kServerMac, kLanIp), at_ms(1110));
  const Ipv6Addr vip6 = a6("2001:db8:1::80");
  const Ipv4Addr client4 = test::ip4(10, 0, 0, 2), vip4 = test::ip4(10, 0, 0, 100);
  rx(kWan, test::frame().eth(kWanMac, kClientMac).arp(1, kClientMac, client4, MacAddr{}, vip4).build(), at_ms(1120));
  sent();
  // Each outer packet: IPv6 from lan's address to the real, next header `next`, its payload the
  // inner datagram; returned without the outer header (the inner one behind the Ethernet header).
  auto unwrap = [&](const Out& o, uint8_t next) {
    EXPECT_EQ(o.iface, kLan);
    EXPECT_EQ(o.eth_dst(), kServerMac);
    EXPECT_EQ(o.next(), next);
    EXPECT_EQ(o.src(), kLanIp);
    EXPECT_EQ(o.dst(), kServer);
    EXPECT_EQ(test::get16(o.f, 18), o.f.size() - 54) << "payload length";
    ByteVec inner(o.f.begin() + 40, o.f.end());
    std::copy_n(o.f.begin(), 14, inner.begin());
    test::put16(inner, 12, next == 41 ? 0x86dd : 0x0800);
    return inner;
  };

  // IPv6 service: a TCP segment whose checksum is deferred (the pseudo-header sum in its field).
  ByteVec tcp(20 + 100, 0);
  test::put16(tcp, 0, 40000);
  test::put16(tcp, 2, 80);
  tcp[12] = 0x50;
  tcp[13] = tcp_flag::kSyn;  // a new connection (IPVS schedules on a SYN)
  ByteVec seg = frame6(kWanMac, kClientMac, kClient, vip6, 6, 64, tcp, std::nullopt);
  test::put16(seg, 54 + 16, test::ref_fold(ref_pseudo6(kClient, vip6, 6, tcp.size())));
  const Offload partial{.gso_size = 0, .csum_start = 54, .csum_offset = 16, .csum_partial = true};
  EXPECT_EQ(engine_->on_frame(kWan, seg, at_ms(1200), partial).kind, Verdict::Kind::kForwarded);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].hops(), 63) << "the outer hop limit: the inner one after the decrement";
  const ByteVec in6 = unwrap(out[0], 41);
  const Out inner6{kLan, in6};
  EXPECT_EQ(inner6.hops(), 63);
  EXPECT_TRUE(inner6.checksum_ok()) << "the deferred checksum completed";
  EXPECT_EQ(engine_->counters().csum_completed, 1u);

  // IPv4 service: after the SYN, a TSO super-frame (DF) is cut into segments, each in its own
  // IPv6 packet, each segment's checksum complete; the tunnel's MTU is lan's 1400 less 40.
  ASSERT_EQ(rx(kWan, test::frame().eth(kWanMac, kClientMac).ipv4(client4, vip4).tcp(40001, 80, tcp_flag::kSyn).build(),
               at_ms(1250))
                .kind,
            Verdict::Kind::kForwarded);
  unwrap(sent().at(0), 4);
  auto b = test::frame().eth(kWanMac, kClientMac).ipv4(client4, vip4).id(0x100);
  b.df();
  ByteVec big = b.tcp(40001, 80, tcp_flag::kAck | tcp_flag::kPsh, test::pattern(3 * 1300 + 7)).build();
  const size_t l4 = 14 + 20;
  test::put16(big, l4 + 16, test::ref_fold(test::ref_pseudo(client4, vip4, 6, test::ip_of(big).payload().size())));
  Offload tso{.gso_size = 1300, .csum_start = l4, .csum_offset = 16, .csum_partial = true};
  EXPECT_EQ(engine_->on_frame(kWan, big, at_ms(1300), tso).kind, Verdict::Kind::kForwarded);
  out = sent();
  ASSERT_EQ(out.size(), 4u);
  size_t carried = 0;
  for (const Out& o : out) {
    EXPECT_LE(o.f.size() - 14, 1400u);
    const ByteVec in4 = unwrap(o, 4);
    EXPECT_TRUE(test::ValidTransport(in4));
    EXPECT_EQ(test::ip_of(in4).ttl(), 63);
    EXPECT_EQ(o.hops(), 63);
    carried += test::ip_of(in4).payload().size() - 20;
  }
  EXPECT_EQ(carried, 3u * 1300 + 7);
  // Over the tunnel's MTU with DF: ICMP fragmentation needed with 1360, from the VIP.
  tso.gso_size = 1340;
  EXPECT_EQ(why(engine_->on_frame(kWan, big, at_ms(1400), tso)), drop_name(DropReason::kFragNeeded));
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(test::ValidIcmp(out[0].f));
  EXPECT_EQ(test::ip_of(out[0].f).src(), vip4);
  EXPECT_EQ(test::icmp_of(out[0].f).rest() & 0xffff, 1360u);
}

TEST(ConfigIpv6, VrrpAndSyncNeedAnInterfaceWithIpv4) {
  const std::string base =
      "[[interfaces]]\nname = \"a\"\nmac = \"02:00:00:00:00:01\"\naddresses = [\"2001:db8:1::1/64\"]\n";
  auto r = config::parse_config(base +
                                "[[vrrp_instances]]\nname = \"v\"\ninterface = \"a\"\nvirtual_router_id = 1\n"
                                "virtual_ipaddress = [\"10.0.0.5\"]\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("has no IPv4 address; VRRP instances are IPv4"), std::string::npos)
      << r.error().message;
  r = config::parse_config(base + "[sync]\ninterface = \"a\"\nstate = \"master\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("has no IPv4 address; connection sync runs over IPv4"), std::string::npos)
      << r.error().message;
  EXPECT_TRUE(config::parse_config(base).ok());  // an IPv6-only interface is fine on its own
}

TEST(ConfigIpv6, Ipv6ServicesAreAcceptedAndWhatIsNotBuiltIsRefusedByName) {
  auto err = [](const std::string& vip, const std::string& real, const std::string& svc_extra = "",
                const std::string& real_extra = "", const std::string& tail = "") {
    std::string text =
        "[[interfaces]]\nname = \"a\"\nmac = \"02:00:00:00:00:01\"\naddresses = [\"10.0.0.1/24\", "
        "\"2001:db8:1::1/64\"]\n[[services]]\nprotocol = \"tcp\"\naddress = \"" +
        vip + "\"\n" + svc_extra + "[[services.reals]]\naddress = \"" + real + "\"\n" + real_extra + tail;
    auto r = config::parse_config(text);
    return r.ok() ? std::string("ok") : r.error().message;
  };
  auto has = [](const std::string& got, const std::string& want) {
    return got.find(want) != std::string::npos ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << got;
  };
  EXPECT_EQ(err("10.0.0.100:80", "10.0.0.11:80"), "ok");
  EXPECT_EQ(err("[2001:db8:1::100]:80", "[2001:db8:1::11]:8080", "", "method = \"nat\"\n"), "ok");
  EXPECT_EQ(err("[2001:db8:1::100]:80", "2001:db8:1::11"), "ok") << "a bare IPv6 real takes the service's port";
  EXPECT_EQ(err("[2001:db8:1::100]:80", "[2001:db8:1::11]", "persistence = 60\nnetmask = 64\n"), "ok");
  auto cfg = config::parse_config(
      "[[interfaces]]\nname = \"a\"\nmac = \"02:00:00:00:00:01\"\naddresses = [\"2001:db8:1::1/64\"]\n"
      "[[services]]\nprotocol = \"udp\"\naddress = \"[2001:db8:1::100]:53\"\npersistence = 60\nnetmask = 48\n"
      "[[services.reals]]\naddress = \"[2001:db8:1::11]:53\"\n");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg.value()->services[0].vip.str(53), "[2001:db8:1::100]:53");
  EXPECT_EQ(cfg.value()->services[0].prefix6, 48);
  EXPECT_EQ(cfg.value()->services[0].reals[0].addr.str(), "2001:db8:1::11");
  // The kernel's rule: families mix only behind TUN.
  EXPECT_TRUE(has(err("[2001:db8:1::100]:80", "10.0.0.11:80"), "allowed only for method tun"));
  EXPECT_TRUE(
      has(err("10.0.0.100:80", "[2001:db8:1::11]:80", "", "method = \"nat\"\n"), "allowed only for method tun"));
  EXPECT_EQ(err("[2001:db8:1::100]:80", "[2001:db8:9::11]", "", "method = \"tun\"\n"), "ok");
  EXPECT_EQ(err("[2001:db8:1::100]:80", "10.9.0.11", "", "method = \"tun\"\n"), "ok");
  EXPECT_EQ(err("10.0.0.100:80", "[2001:db8:9::11]", "", "method = \"tun\"\n"), "ok");
  EXPECT_TRUE(has(err("10.0.0.100:80", "[2001:db8:9::11]", "", "method = \"tun\"\n",
                      "[sync]\ninterface = \"a\"\nstate = \"master\"\n"),
                  "connection sync with a real server of the other address family than its service "
                  "(2001:db8:9::11 of 10.0.0.100:80)"));
  EXPECT_TRUE(
      has(err("[2001:db8:1::100]:80", "[2001:db8:1::11]", "", "[[services.reals.checks]]\ntype = \"TCP_CHECK\"\n"),
          "health checks of IPv6 real servers or services are not supported yet"));
  EXPECT_TRUE(has(err("[2001:db8:1::100]:80", "10.0.0.11", "",
                      "method = \"tun\"\n[[services.reals.checks]]\ntype = \"TCP_CHECK\"\n"),
                  "health checks of IPv6 real servers or services are not supported yet"));
  EXPECT_TRUE(has(err("[2001:db8:1::100]:80", "[2001:db8:1::11]", "netmask = \"255.255.255.0\"\n"),
                  "an IPv6 service's netmask is a prefix length"));
  EXPECT_TRUE(has(err("[2001:db8:1::100]:80", "[2001:db8:1::11]", "netmask = 129\n"), "prefix length"));
  EXPECT_TRUE(has(err("[fe80::100]:80", "[2001:db8:1::11]"), "VIP fe80::100 is link-local"));
  EXPECT_TRUE(has(err("[2001:db8:9::100]:80", "[2001:db8:1::11]"),
                  "VIP 2001:db8:9::100 is on no interface's connected subnet"));
  EXPECT_TRUE(has(err("[2001:db8:1::100]:80", "[2001:db8:9::11]", "", "method = \"dr\"\n"),
                  "method dr needs the real server on-link"));
  EXPECT_TRUE(
      has(err("[2001:db8:1::100]:80", "[2001:db8:1::11]", "", "", "[sync]\ninterface = \"a\"\nstate = \"master\"\n"),
          "connection sync of IPv6 services is not supported yet"));
  EXPECT_TRUE(has(err("10.0.0.100:80", "10.0.0.11:99999"), "bad real server address"));
  EXPECT_TRUE(has(err("[2001:db8:1::100]", "[2001:db8:1::11]"), "bad service address"));
}

TEST(ConfigIpv6, AddressesAndRoutesAreCheckedAtTheirLines) {
  auto err = [](const std::string& addresses, const std::string& routes = "") {
    std::string text =
        "[[interfaces]]\nname = \"a\"\nmac = \"02:00:00:00:00:01\"\naddresses = [" + addresses +
        "]\n[[interfaces]]\nname = \"b\"\nmac = \"02:00:00:00:00:02\"\naddresses = [\"2001:db8:2::1/64\"]\n" + routes;
    auto r = config::parse_config(text);
    return r.ok() ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(err("\"2001:db8:1::1/64\", \"10.0.0.1/24\""), "ok");
  EXPECT_NE(err("\"2001:db8:1::1/129\"").find("bad IPv6 prefix"), std::string::npos);
  EXPECT_NE(err("\"ff02::1/64\"").find("is a multicast address"), std::string::npos);
  EXPECT_NE(err("\"2001:db8:1::/64\"").find("subnet-router anycast"), std::string::npos);
  EXPECT_NE(err("\"2001:db8:2::7/64\"").find("overlaps"), std::string::npos);
  EXPECT_NE(err("\"fe80::ff:fe00:1/64\"").find("forms from its MAC"), std::string::npos);
  EXPECT_EQ(err("\"2001:db8:1::1/64\"", "[[routes]]\nto = \"2001:db8:9::/48\"\nvia = \"2001:db8:2::fe\"\n"), "ok");
  EXPECT_NE(err("\"2001:db8:1::1/64\"", "[[routes]]\nto = \"2001:db8:9::1/48\"\nvia = \"2001:db8:2::fe\"\n")
                .find("host bits"),
            std::string::npos);
  EXPECT_NE(err("\"2001:db8:1::1/64\"", "[[routes]]\nto = \"::/0\"\nvia = \"2001:db8:7::fe\"\n")
                .find("no interface's connected subnet"),
            std::string::npos);
  EXPECT_NE(err("\"2001:db8:1::1/64\"", "[[routes]]\nto = \"::/0\"\nvia = \"fe80::1\"\n").find("link-local"),
            std::string::npos);
  EXPECT_EQ(err("\"2001:db8:1::1/64\"", "[[routes]]\nto = \"::/0\"\nvia = \"fe80::1\"\ninterface = \"b\"\n"), "ok");
  EXPECT_NE(err("\"2001:db8:1::1/64\"", "[[routes]]\nto = \"10.0.0.0/8\"\nvia = \"10.0.0.9\"\ninterface = \"b\"\n")
                .find("interface"),
            std::string::npos);
}

}  // namespace
}  // namespace vs

// IPv6 addresses (RFC 4291 text, RFC 5952 canonical form), the header view and the walk over
// extension headers (RFC 8200 §3-4), the upper-layer pseudo-header (§8.1). The byte strings are
// Scapy's (python3-scapy 2.5: IPv6()/IPv6ExtHdr...()/TCP() etc.), so the view is read against
// another implementation's bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/addr.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv6.hpp"

namespace vs::wire {
namespace {

std::vector<uint8_t> hex(const std::string& h) {
  std::vector<uint8_t> b;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    b.push_back(static_cast<uint8_t>(std::stoul(h.substr(i, 2), nullptr, 16)));
  return b;
}
Ipv6Addr a6(const char* s) { return *Ipv6Addr::parse(s); }

TEST(Ipv6Addr, TextFormsAndTheCanonicalOne) {
  struct Case {
    const char* in;
    const char* canonical;
  };
  for (const Case& c : std::vector<Case>{
           {"2001:db8::1", "2001:db8::1"},
           {"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
           {"::", "::"},
           {"::1", "::1"},
           {"fe80::", "fe80::"},
           {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},     // the first of two equal runs (RFC 5952 §4.2.3)
           {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // one zero group is not compressed (§4.2.2)
           {"::ffff:192.0.2.1", "::ffff:c000:201"},
           {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
       }) {
    auto a = Ipv6Addr::parse(c.in);
    ASSERT_TRUE(a) << c.in;
    EXPECT_EQ(a->str(), c.canonical) << c.in;
    EXPECT_EQ(Ipv6Addr::parse(a->str()), a) << c.in;
  }
  for (const char* bad : {"", ":", ":::", "1::2::3", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "12345::", "g::1",
                          "1:2:3:4:5:6:7::8", "::1.2.3", "1.2.3.4::", "fe80::1%eth0", "1:2:3:4:5:6:7:8::"})
    EXPECT_FALSE(Ipv6Addr::parse(bad)) << bad;
  EXPECT_TRUE(a6("::ffff:10.0.0.1").is_v4_mapped());
  EXPECT_TRUE(a6("fe80::1").is_link_local());
  EXPECT_FALSE(a6("fec0::1").is_link_local());
  EXPECT_TRUE(a6("ff02::1").is_multicast());
  EXPECT_TRUE(a6("::").is_unspecified());
  EXPECT_TRUE(Ipv6Addr::loopback().is_loopback());
  // RFC 4291 §2.7.1: 2001:db8::aabb:ccdd -> ff02::1:ffbb:ccdd; RFC 2464 §7: 33:33:ff:bb:cc:dd.
  EXPECT_EQ(a6("2001:db8::aabb:ccdd").solicited_node().str(), "ff02::1:ffbb:ccdd");
  EXPECT_EQ(multicast_mac(a6("ff02::1:ffbb:ccdd")).str(), "33:33:ff:bb:cc:dd");
}

// Scapy: IPv6(src="2001:db8::1", dst="2001:db8::100", hlim=64, tc=0x12, fl=0x12345)
//        /IPv6ExtHdrHopByHop()/IPv6ExtHdrDestOpt()/IPv6ExtHdrRouting()/TCP(sport=1234, dport=80, flags="S")
const char* kChain =
    "61212345002c004020010db800000000000000000000000120010db80000000000000000000001003c000104000000002b00010400000000"
    "060000000000000004d200500000000000000000500220002e4e0000";

TEST(Ipv6View, TheFixedHeaderAndAChainOfExtensionHeadersToTcp) {
  auto b = hex(kChain);
  auto ip = Ipv6View<const uint8_t>::parse(std::span<const uint8_t>(b));
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->version(), 6);
  EXPECT_EQ(ip->traffic_class(), 0x12);
  EXPECT_EQ(ip->flow_label(), 0x12345u);
  EXPECT_EQ(ip->payload_len(), 44);
  EXPECT_EQ(ip->next_header(), ipv6_next::kHopByHop);
  EXPECT_EQ(ip->hop_limit(), 64);
  EXPECT_EQ(ip->src(), a6("2001:db8::1"));
  EXPECT_EQ(ip->dst(), a6("2001:db8::100"));
  auto c = walk(*ip, 8);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->upper, ipv6_next::kTcp);
  EXPECT_EQ(c->upper_offset, 40u + 8 + 8 + 8);
  EXPECT_EQ(c->headers, 3);
  EXPECT_TRUE(c->has_routing);
  EXPECT_EQ(c->routing_offset, 56u);
  EXPECT_FALSE(c->fragment);
  // The TCP checksum holds over the IPv6 pseudo-header with the upper layer's length and type.
  std::span<const uint8_t> tcp(b.data() + c->upper_offset, b.size() - c->upper_offset);
  EXPECT_TRUE(csum::verify(
      tcp, csum::pseudo_header_v6(ip->src(), ip->dst(), ipv6_next::kTcp, static_cast<uint32_t>(tcp.size()))));

  Ipv6ChainError err{};
  EXPECT_FALSE(walk(*ip, 2, &err));
  EXPECT_EQ(err, Ipv6ChainError::kTooMany) << "three extension headers, a limit of two";
  // Cut inside the Routing header (payload length shortened): the walk stops, it does not read on.
  auto cut = b;
  cut[5] = 20;  // 40 + 20: HbH 8, DestOpts 8, 4 bytes of Routing
  auto short_ip = Ipv6View<const uint8_t>::parse(std::span<const uint8_t>(cut));
  ASSERT_TRUE(short_ip);
  EXPECT_FALSE(walk(*short_ip, 8, &err));
  EXPECT_EQ(err, Ipv6ChainError::kTruncated);
  // Hop-by-Hop only right after the fixed header: make DestOpts' Next Header 0.
  auto hbh = b;
  hbh[48] = ipv6_next::kHopByHop;
  auto hbh_ip = Ipv6View<const uint8_t>::parse(std::span<const uint8_t>(hbh));
  EXPECT_FALSE(walk(*hbh_ip, 8, &err));
  EXPECT_EQ(err, Ipv6ChainError::kHopByHopNotFirst);
}

TEST(Ipv6View, AFragmentThatIsNotTheFirstHasNoUpperLayerHeader) {
  // Scapy: IPv6(...)/IPv6ExtHdrFragment(offset=185, m=1, id=0xdeadbeef, nh=17)/Raw(b"x"*16)
  auto b = hex(
      "6000000000182c4020010db800000000000000000000000120010db8000000000000000000000100110005c9deadbeef78787878787878"
      "787878787878787878");
  auto ip = Ipv6View<const uint8_t>::parse(std::span<const uint8_t>(b));
  ASSERT_TRUE(ip);
  auto c = walk(*ip, 8);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->fragment);
  EXPECT_EQ(c->frag_bytes, 185 * 8);
  EXPECT_TRUE(c->more);
  EXPECT_EQ(c->ident, 0xdeadbeefu);
  EXPECT_EQ(c->upper, ipv6_next::kUdp);
  EXPECT_EQ(c->upper_offset, 48u) << "the fragment's data, not a UDP header";
}

TEST(Ipv6View, ParseRefusesWhatIsNotAWholeHeaderAndTrimsPadding) {
  // Scapy: IPv6(src="fe80::1", dst="ff02::1")/ICMPv6EchoRequest(id=7, seq=1, data=b"hello")
  auto b =
      hex("60000000000d3a40fe800000000000000000000000000001ff02000000000000000000000000000180003e580007000168656c6c6f");
  b.resize(b.size() + 7, 0);  // Ethernet padding to 60 bytes
  auto ip = Ipv6View<const uint8_t>::parse(std::span<const uint8_t>(b));
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->bytes().size(), 53u);
  auto c = walk(*ip, 8);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->upper, ipv6_next::kIcmpv6);
  EXPECT_EQ(c->headers, 0);
  std::span<const uint8_t> icmp = ip->payload();
  EXPECT_TRUE(csum::verify(
      icmp, csum::pseudo_header_v6(ip->src(), ip->dst(), ipv6_next::kIcmpv6, static_cast<uint32_t>(icmp.size()))));
  Ipv6Error err{};
  EXPECT_FALSE(Ipv6View<const uint8_t>::parse(std::span<const uint8_t>(b).first(39), &err));
  EXPECT_EQ(err, Ipv6Error::kTruncated);
  auto v4 = b;
  v4[0] = 0x45;
  EXPECT_FALSE(Ipv6View<const uint8_t>::parse(std::span<const uint8_t>(v4), &err));
  EXPECT_EQ(err, Ipv6Error::kBadVersion);
  auto longer = b;
  longer[5] = 0x40;  // payload length 64: past the bytes
  EXPECT_FALSE(Ipv6View<const uint8_t>::parse(std::span<const uint8_t>(longer), &err));
  EXPECT_EQ(err, Ipv6Error::kBadLength);
  // A header built by fill() reads back the same.
  std::vector<uint8_t> out(40);
  Ipv6View<uint8_t>::unchecked(out).fill(0x12, 0x12345, 0, ipv6_next::kNoNext, 255, a6("2001:db8::1"), a6("::1"));
  auto back = Ipv6View<const uint8_t>::parse(std::span<const uint8_t>(out));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->traffic_class(), 0x12);
  EXPECT_EQ(back->flow_label(), 0x12345u);
  EXPECT_EQ(back->hop_limit(), 255);
  EXPECT_EQ(back->dst(), Ipv6Addr::loopback());
  EXPECT_EQ(walk(*back, 8)->upper, ipv6_next::kNoNext);
}

}  // namespace
}  // namespace vs::wire

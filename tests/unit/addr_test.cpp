// MacAddr / Ipv4Addr / Ipv4Prefix / netmask_len / parse_endpoint.

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "base/addr.hpp"

namespace vs {
namespace {

// ---------------------------------------------------------------------------------------------
// MacAddr

TEST(MacAddr, ParsesColonSeparated) {
  auto m = MacAddr::parse("00:0c:29:3e:5b:7a");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (MacAddr{{0x00, 0x0c, 0x29, 0x3e, 0x5b, 0x7a}}));
}

TEST(MacAddr, ParsesDashSeparatedAndUppercase) {
  auto m = MacAddr::parse("AA-BB-CC-DD-EE-FF");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (MacAddr{{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}}));
  auto n = MacAddr::parse("De:aD:bE:eF:00:01");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, (MacAddr{{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01}}));
}

TEST(MacAddr, RejectsMalformed) {
  for (std::string_view s : {
           "",
           "aa:bb:cc:dd:ee",        // five octets
           "aa:bb:cc:dd:ee:ff:00",  // seven octets
           "aa:bb:cc:dd:ee:f",      // short last octet
           "aa:bb:cc:dd:ee:fff",    // long last octet
           "gg:bb:cc:dd:ee:ff",     // not hex
           "aa:bb:cc:dd:ee:fg",     // not hex, last digit
           "aa bb cc dd ee ff",     // wrong separator
           "aa.bb.cc.dd.ee.ff",     // wrong separator
           "aabb.ccdd.eeff",        // Cisco notation
           "aabbccddeeff",          // no separators
           "aa:bb:cc:dd:eeff0",     // 17 chars, separator missing
           "a:bb:cc:dd:ee:ff0",     // 17 chars, misaligned
           " aa:bb:cc:dd:ee:ff",    // leading space
           "aa:bb:cc:dd:ee:ff ",    // trailing space
           "+a:bb:cc:dd:ee:ff",     // sign
           "0xaa:bb:cc:dd:ee:f",    // prefix
       }) {
    EXPECT_FALSE(MacAddr::parse(s)) << '"' << s << '"';
  }
}

TEST(MacAddr, StrIsLowercaseColonSeparated) {
  EXPECT_EQ((MacAddr{{0x00, 0x0c, 0x29, 0x3e, 0x5b, 0x7a}}).str(), "00:0c:29:3e:5b:7a");
  EXPECT_EQ((MacAddr{{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}}).str(), "aa:bb:cc:dd:ee:ff");
  EXPECT_EQ(MacAddr{}.str(), "00:00:00:00:00:00");
  EXPECT_EQ(MacAddr::parse("AA-BB-CC-DD-EE-FF")->str(), "aa:bb:cc:dd:ee:ff");
}

TEST(MacAddr, StrRoundTrips) {
  std::mt19937 rng(826);
  for (int i = 0; i < 10000; ++i) {
    MacAddr m;
    for (auto& x : m.b) x = static_cast<uint8_t>(rng());
    auto back = MacAddr::parse(m.str());
    ASSERT_TRUE(back) << m.str();
    EXPECT_EQ(*back, m);
  }
}

TEST(MacAddr, Predicates) {
  EXPECT_TRUE(MacAddr::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddr::broadcast().is_multicast());  // broadcast has the group bit set
  EXPECT_FALSE(MacAddr::broadcast().is_zero());
  EXPECT_EQ(MacAddr::broadcast().str(), "ff:ff:ff:ff:ff:ff");

  EXPECT_TRUE(MacAddr{}.is_zero());
  EXPECT_FALSE(MacAddr{}.is_multicast());
  EXPECT_FALSE(MacAddr{}.is_broadcast());

  auto mcast = *MacAddr::parse("01:00:5e:01:01:01");  // 239.1.1.1
  EXPECT_TRUE(mcast.is_multicast());
  EXPECT_FALSE(mcast.is_broadcast());
  auto unicast = *MacAddr::parse("02:00:00:00:00:01");  // locally administered, unicast
  EXPECT_FALSE(unicast.is_multicast());
  EXPECT_FALSE(unicast.is_zero());
}

TEST(MacAddr, OrdersBytewise) {
  EXPECT_LT(*MacAddr::parse("00:00:00:00:00:01"), *MacAddr::parse("00:00:00:00:01:00"));
  EXPECT_LT(*MacAddr::parse("00:ff:ff:ff:ff:ff"), *MacAddr::parse("01:00:00:00:00:00"));
  EXPECT_EQ(*MacAddr::parse("aa:bb:cc:dd:ee:ff"), *MacAddr::parse("aa-bb-cc-dd-ee-ff"));
}

// ---------------------------------------------------------------------------------------------
// Ipv4Addr

TEST(Ipv4Addr, ParsesDottedQuad) {
  EXPECT_EQ(Ipv4Addr::parse("192.168.1.1"), Ipv4Addr{0xc0a80101});
  EXPECT_EQ(Ipv4Addr::parse("0.0.0.0"), Ipv4Addr{0});
  EXPECT_EQ(Ipv4Addr::parse("255.255.255.255"), Ipv4Addr{0xffffffff});
  EXPECT_EQ(Ipv4Addr::parse("10.0.0.1"), Ipv4Addr{0x0a000001});
  EXPECT_EQ(Ipv4Addr::parse("1.2.3.4"), Ipv4Addr{0x01020304});
  EXPECT_EQ(Ipv4Addr::parse("100.64.0.0"), Ipv4Addr{0x64400000});
}

TEST(Ipv4Addr, RejectsMalformed) {
  for (std::string_view s : {
           "",
           "1.2.3",              // three octets
           "1.2.3.4.5",          // five octets
           "256.1.1.1",          // octet > 255
           "1.2.3.256",          // last octet > 255
           "1.2.3.999",          //
           "01.2.3.4",           // leading zero (octal-looking)
           "1.2.3.04",           // leading zero, last octet
           "1.00.3.4",           // 00
           "1..3.4",             // empty octet
           ".1.2.3",             // empty first octet
           "1.2.3.",             // empty last octet
           "...",                //
           "1.2.3.-4",           // sign
           "+1.2.3.4",           // sign
           " 1.2.3.4",           // leading space
           "1.2.3.4 ",           // trailing space
           "1.2.3.4\n",          // trailing newline
           "a.b.c.d",            // letters
           "0x1.2.3.4",          // hex
           "1,2,3,4",            // wrong separator
           "1.2.3.4/24",         // a prefix, not an address
           "1.2.3.4:80",         // an endpoint, not an address
           "16909060",           // single integer
           "1.2.3.4294967297",   // wraps to 1 in 32 bits
           "1.2.3.99999999999",  // longer than any uint32
       }) {
    EXPECT_FALSE(Ipv4Addr::parse(s)) << '"' << s << '"';
  }
}

TEST(Ipv4Addr, AcceptsSingleZeroOctets) { EXPECT_EQ(Ipv4Addr::parse("0.0.0.1"), Ipv4Addr{1}); }

TEST(Ipv4Addr, FromOctets) {
  EXPECT_EQ(Ipv4Addr::from_octets(192, 168, 1, 1).v, 0xc0a80101u);
  static_assert(Ipv4Addr::from_octets(255, 0, 0, 1).v == 0xff000001u);
}

TEST(Ipv4Addr, Str) {
  EXPECT_EQ(Ipv4Addr{0xc0a80101}.str(), "192.168.1.1");
  EXPECT_EQ(Ipv4Addr{0}.str(), "0.0.0.0");
  EXPECT_EQ(Ipv4Addr{0xffffffff}.str(), "255.255.255.255");
  EXPECT_EQ(Ipv4Addr{0x0a000001}.str(), "10.0.0.1");
}

TEST(Ipv4Addr, StrRoundTrips) {
  std::mt19937 rng(791);
  for (int i = 0; i < 100000; ++i) {
    Ipv4Addr a{static_cast<uint32_t>(rng())};
    auto back = Ipv4Addr::parse(a.str());
    ASSERT_TRUE(back) << a.str();
    ASSERT_EQ(*back, a);
  }
}

TEST(Ipv4Addr, Predicates) {
  EXPECT_TRUE(Ipv4Addr{}.is_unspecified());
  EXPECT_FALSE(Ipv4Addr::from_octets(0, 0, 0, 1).is_unspecified());
  EXPECT_TRUE(Ipv4Addr::broadcast().is_broadcast());
  EXPECT_EQ(Ipv4Addr::broadcast().str(), "255.255.255.255");
  EXPECT_FALSE(Ipv4Addr::from_octets(192, 168, 1, 255).is_broadcast());

  EXPECT_FALSE(Ipv4Addr::from_octets(223, 255, 255, 255).is_multicast());
  EXPECT_TRUE(Ipv4Addr::from_octets(224, 0, 0, 0).is_multicast());
  EXPECT_TRUE(Ipv4Addr::from_octets(239, 255, 255, 255).is_multicast());
  EXPECT_FALSE(Ipv4Addr::from_octets(240, 0, 0, 0).is_multicast());

  EXPECT_FALSE(Ipv4Addr::from_octets(126, 255, 255, 255).is_loopback());
  EXPECT_TRUE(Ipv4Addr::from_octets(127, 0, 0, 1).is_loopback());
  EXPECT_TRUE(Ipv4Addr::from_octets(127, 255, 255, 255).is_loopback());
  EXPECT_FALSE(Ipv4Addr::from_octets(128, 0, 0, 0).is_loopback());

  EXPECT_FALSE(Ipv4Addr::from_octets(239, 255, 255, 255).is_class_e());
  EXPECT_TRUE(Ipv4Addr::from_octets(240, 0, 0, 0).is_class_e());
  EXPECT_TRUE(Ipv4Addr::broadcast().is_class_e());
}

TEST(Ipv4Addr, OrdersNumerically) {
  EXPECT_LT(*Ipv4Addr::parse("9.255.255.255"), *Ipv4Addr::parse("10.0.0.0"));
  EXPECT_LT(*Ipv4Addr::parse("10.0.0.2"), *Ipv4Addr::parse("10.0.0.10"));
}

// ---------------------------------------------------------------------------------------------
// prefix_mask / Ipv4Prefix

TEST(PrefixMask, EveryLength) {
  for (int len = 0; len <= 32; ++len) {
    // Reference: len leading one bits, computed in 64 bits.
    uint32_t expected = static_cast<uint32_t>((0xffffffffull << (32 - len)) & 0xffffffffull);
    EXPECT_EQ(prefix_mask(static_cast<uint8_t>(len)), expected) << "len " << len;
  }
  EXPECT_EQ(prefix_mask(0), 0u);
  EXPECT_EQ(prefix_mask(8), 0xff000000u);
  EXPECT_EQ(prefix_mask(24), 0xffffff00u);
  EXPECT_EQ(prefix_mask(31), 0xfffffffeu);
  EXPECT_EQ(prefix_mask(32), 0xffffffffu);
  EXPECT_EQ(prefix_mask(33), 0xffffffffu);  // saturates
}

TEST(Ipv4Prefix, Parses) {
  auto p = Ipv4Prefix::parse("192.168.1.10/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->addr, Ipv4Addr::from_octets(192, 168, 1, 10));
  EXPECT_EQ(p->len, 24);
  EXPECT_EQ(p->mask(), 0xffffff00u);

  auto all = Ipv4Prefix::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->len, 0);
  auto host = Ipv4Prefix::parse("10.0.0.1/32");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->len, 32);
}

TEST(Ipv4Prefix, RejectsMalformed) {
  for (std::string_view s : {
           "",
           "1.2.3.4",             // no length
           "1.2.3.4/",            // empty length
           "/24",                 // no address
           "1.2.3.4/33",          // length > 32
           "1.2.3.4/100",         //
           "1.2.3.4/-1",          // sign
           "1.2.3.4/+8",          //
           "1.2.3.4/ 24",         // space
           "1.2.3.4/24 ",         //
           "1.2.3.4/x",           // not a number
           "1.2.3.4/24/8",        // two slashes
           "1.2.3/24",            // bad address
           "256.0.0.0/8",         //
           "01.2.3.4/8",          //
           "1.2.3.4/4294967320",  // 2^32 + 24: must not wrap
       }) {
    EXPECT_FALSE(Ipv4Prefix::parse(s)) << '"' << s << '"';
  }
}

TEST(Ipv4Prefix, NetworkAndBroadcast) {
  auto p = *Ipv4Prefix::parse("192.168.1.10/24");
  EXPECT_EQ(p.network(), Ipv4Addr::from_octets(192, 168, 1, 0));
  EXPECT_EQ(p.directed_broadcast(), Ipv4Addr::from_octets(192, 168, 1, 255));

  auto q = *Ipv4Prefix::parse("10.1.2.3/8");
  EXPECT_EQ(q.network(), Ipv4Addr::from_octets(10, 0, 0, 0));
  EXPECT_EQ(q.directed_broadcast(), Ipv4Addr::from_octets(10, 255, 255, 255));

  auto r = *Ipv4Prefix::parse("172.16.5.77/20");  // 77 = 0100 1101; /20 cuts the third octet
  EXPECT_EQ(r.network(), Ipv4Addr::from_octets(172, 16, 0, 0));
  EXPECT_EQ(r.directed_broadcast(), Ipv4Addr::from_octets(172, 16, 15, 255));

  auto p2p = *Ipv4Prefix::parse("10.0.0.1/31");
  EXPECT_EQ(p2p.network(), Ipv4Addr::from_octets(10, 0, 0, 0));
  EXPECT_EQ(p2p.directed_broadcast(), Ipv4Addr::from_octets(10, 0, 0, 1));

  auto host = *Ipv4Prefix::parse("10.0.0.1/32");
  EXPECT_EQ(host.network(), Ipv4Addr::from_octets(10, 0, 0, 1));
  EXPECT_EQ(host.directed_broadcast(), Ipv4Addr::from_octets(10, 0, 0, 1));

  auto all = *Ipv4Prefix::parse("1.2.3.4/0");
  EXPECT_EQ(all.network(), Ipv4Addr{0});
  EXPECT_EQ(all.directed_broadcast(), Ipv4Addr::broadcast());
}

TEST(Ipv4Prefix, Contains) {
  auto p = *Ipv4Prefix::parse("192.168.1.10/24");
  EXPECT_TRUE(p.contains(Ipv4Addr::from_octets(192, 168, 1, 0)));
  EXPECT_TRUE(p.contains(Ipv4Addr::from_octets(192, 168, 1, 1)));
  EXPECT_TRUE(p.contains(Ipv4Addr::from_octets(192, 168, 1, 10)));
  EXPECT_TRUE(p.contains(Ipv4Addr::from_octets(192, 168, 1, 255)));
  EXPECT_FALSE(p.contains(Ipv4Addr::from_octets(192, 168, 0, 255)));
  EXPECT_FALSE(p.contains(Ipv4Addr::from_octets(192, 168, 2, 0)));
  EXPECT_FALSE(p.contains(Ipv4Addr::from_octets(10, 168, 1, 1)));

  auto all = *Ipv4Prefix::parse("0.0.0.0/0");
  EXPECT_TRUE(all.contains(Ipv4Addr{0}));
  EXPECT_TRUE(all.contains(Ipv4Addr::broadcast()));
  EXPECT_TRUE(all.contains(Ipv4Addr::from_octets(8, 8, 8, 8)));

  auto host = *Ipv4Prefix::parse("10.0.0.1/32");
  EXPECT_TRUE(host.contains(Ipv4Addr::from_octets(10, 0, 0, 1)));
  EXPECT_FALSE(host.contains(Ipv4Addr::from_octets(10, 0, 0, 0)));
  EXPECT_FALSE(host.contains(Ipv4Addr::from_octets(10, 0, 0, 2)));

  auto r = *Ipv4Prefix::parse("172.16.0.0/12");
  EXPECT_TRUE(r.contains(Ipv4Addr::from_octets(172, 31, 255, 255)));
  EXPECT_FALSE(r.contains(Ipv4Addr::from_octets(172, 32, 0, 0)));
  EXPECT_FALSE(r.contains(Ipv4Addr::from_octets(172, 15, 255, 255)));
}

TEST(Ipv4Prefix, ContainsAgreesWithNetworkAndBroadcastForEveryLength) {
  std::mt19937 rng(4632);
  for (int i = 0; i < 10000; ++i) {
    Ipv4Prefix p{Ipv4Addr{static_cast<uint32_t>(rng())}, static_cast<uint8_t>(rng() % 33)};
    Ipv4Addr a{static_cast<uint32_t>(rng())};
    bool in_range = a.v >= p.network().v && a.v <= p.directed_broadcast().v;
    ASSERT_EQ(p.contains(a), in_range) << p.str() << " " << a.str();
    ASSERT_TRUE(p.contains(p.addr));
    ASSERT_TRUE(p.contains(p.network()));
    ASSERT_TRUE(p.contains(p.directed_broadcast()));
  }
}

TEST(Ipv4Prefix, StrRoundTrips) {
  EXPECT_EQ(Ipv4Prefix::parse("192.168.1.10/24")->str(), "192.168.1.10/24");  // host bits kept
  EXPECT_EQ((Ipv4Prefix{Ipv4Addr{0}, 0}).str(), "0.0.0.0/0");
  EXPECT_EQ(Ipv4Prefix{}.str(), "0.0.0.0/32");  // default length is a host route
  std::mt19937 rng(4632);
  for (int i = 0; i < 10000; ++i) {
    Ipv4Prefix p{Ipv4Addr{static_cast<uint32_t>(rng())}, static_cast<uint8_t>(rng() % 33)};
    auto back = Ipv4Prefix::parse(p.str());
    ASSERT_TRUE(back) << p.str();
    ASSERT_EQ(*back, p);
  }
}

// ---------------------------------------------------------------------------------------------
// netmask_len

TEST(NetmaskLen, ContiguousMasks) {
  EXPECT_EQ(netmask_len(*Ipv4Addr::parse("255.255.255.0")), 24);
  EXPECT_EQ(netmask_len(*Ipv4Addr::parse("0.0.0.0")), 0);
  EXPECT_EQ(netmask_len(*Ipv4Addr::parse("255.255.255.255")), 32);
  EXPECT_EQ(netmask_len(*Ipv4Addr::parse("255.255.255.128")), 25);
  EXPECT_EQ(netmask_len(*Ipv4Addr::parse("255.255.255.254")), 31);
  EXPECT_EQ(netmask_len(*Ipv4Addr::parse("255.240.0.0")), 12);
  EXPECT_EQ(netmask_len(*Ipv4Addr::parse("128.0.0.0")), 1);
}

TEST(NetmaskLen, RoundTripsEveryLength) {
  for (int len = 0; len <= 32; ++len) {
    auto got = netmask_len(Ipv4Addr{prefix_mask(static_cast<uint8_t>(len))});
    ASSERT_TRUE(got) << "len " << len;
    EXPECT_EQ(*got, len);
  }
}

TEST(NetmaskLen, RejectsNonContiguous) {
  for (std::string_view s : {"255.0.255.0", "0.255.255.255", "255.255.255.253", "255.255.0.255", "0.0.0.1",
                             "254.255.255.255", "255.255.254.1"}) {
    EXPECT_FALSE(netmask_len(*Ipv4Addr::parse(s))) << s;
  }
  // Every mask with exactly one hole.
  for (int len = 1; len < 32; ++len) {
    for (int hole = 32 - len; hole < 32; ++hole) {
      if (hole == 32 - len) continue;  // clearing the lowest one bit just gives /len-1
      uint32_t m = prefix_mask(static_cast<uint8_t>(len)) & ~(1u << hole);
      EXPECT_FALSE(netmask_len(Ipv4Addr{m})) << std::hex << m;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// parse_endpoint

TEST(ParseEndpoint, AddressAndPort) {
  auto e = parse_endpoint("10.0.0.1:80", false);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->addr, Ipv4Addr::from_octets(10, 0, 0, 1));
  ASSERT_TRUE(e->port);
  EXPECT_EQ(*e->port, 80);

  auto lo = parse_endpoint("0.0.0.0:0", false);
  ASSERT_TRUE(lo);
  EXPECT_EQ(lo->port, uint16_t{0});
  auto hi = parse_endpoint("255.255.255.255:65535", false);
  ASSERT_TRUE(hi);
  EXPECT_EQ(hi->port, uint16_t{65535});
}

TEST(ParseEndpoint, PortOptionalOnlyWhenAllowed) {
  EXPECT_FALSE(parse_endpoint("10.0.0.1", false));
  auto e = parse_endpoint("10.0.0.1", true);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->addr, Ipv4Addr::from_octets(10, 0, 0, 1));
  EXPECT_FALSE(e->port);
  auto with = parse_endpoint("10.0.0.1:443", true);
  ASSERT_TRUE(with);
  EXPECT_EQ(with->port, uint16_t{443});
}

TEST(ParseEndpoint, RejectsMalformed) {
  for (bool allow_no_port : {false, true}) {
    for (std::string_view s : {
             "",
             "10.0.0.1:",       // empty port
             ":80",             // no address
             "10.0.0.1:65536",  // port too large
             "10.0.0.1:99999999999",
             "10.0.0.1:4294967376",   // 2^32 + 80: must not wrap
             "10.0.0.1:-1",           // sign
             "10.0.0.1:+80",          //
             "10.0.0.1:http",         // service name
             "10.0.0.1:80:90",        // two colons
             "10.0.0.1: 80",          // space
             "10.0.0.1:80 ",          //
             "256.0.0.1:80",          // bad address
             "10.0.0:80",             //
             "10.0.0.1.5:80",         //
             "[::ffff:10.0.0.1]:80",  // v4-mapped: it would read as IPv4
             "[2001:db8::1]80",       // no colon before the port
             "[2001:db8::1:80",       // no bracket
             "[10.0.0.1]:80",         // IPv4 in brackets
             "1.2.3",                 // bad address without port
         }) {
      EXPECT_FALSE(parse_endpoint(s, allow_no_port)) << '"' << s << "\" allow_no_port=" << allow_no_port;
    }
  }
}

TEST(ParseEndpoint, Ipv6InIpvsadmsForms) {
  auto e = parse_endpoint("[2001:db8::80]:8080", false);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->addr.str(), "2001:db8::80");
  EXPECT_EQ(e->port, 8080);
  EXPECT_FALSE(parse_endpoint("[2001:db8::80]", false)) << "a port is needed";
  auto no_port = parse_endpoint("[2001:db8::80]", true);
  ASSERT_TRUE(no_port);
  EXPECT_FALSE(no_port->port);
  auto bare = parse_endpoint("2001:db8::80", true);  // ipvsadm reads a bare IPv6 literal as no port
  ASSERT_TRUE(bare);
  EXPECT_TRUE(bare->addr.is_v6());
  EXPECT_FALSE(bare->port);
  EXPECT_FALSE(parse_endpoint("2001:db8::80", false));
}

// --- IpAddr: a service's or a real's address of either family -----------------------------------

TEST(IpAddr, Ipv4RoundTripsThroughTheMappedForm) {
  const IpAddr a = Ipv4Addr::from_octets(192, 168, 10, 11);
  EXPECT_TRUE(a.is_v4());
  EXPECT_FALSE(a.is_v6());
  EXPECT_EQ(a.v4(), Ipv4Addr::from_octets(192, 168, 10, 11));
  EXPECT_EQ(a.str(), "192.168.10.11");
  EXPECT_EQ(a.str(80), "192.168.10.11:80");  // ipvsadm's a.b.c.d:port
  EXPECT_EQ(a.fold(), 0xc0a80a0bu);          // an IPv4 address is its own fold
  EXPECT_EQ(IpAddr::parse("192.168.10.11"), a);
}

TEST(IpAddr, Ipv6PrintsBracketedWithAPort) {
  auto a = IpAddr::parse("2001:db8::80");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v6());
  EXPECT_EQ(a->str(), "2001:db8::80");
  EXPECT_EQ(a->str(80), "[2001:db8::80]:80");  // ipvsadm.c addrport_to_anyname
  EXPECT_EQ(a->v6(), *Ipv6Addr::parse("2001:db8::80"));
}

TEST(IpAddr, RefusesAMappedLiteralAndGarbage) {
  EXPECT_FALSE(IpAddr::parse("::ffff:10.0.0.1"));  // would read as the IPv4 address
  EXPECT_FALSE(IpAddr::parse("10.0.0"));
  EXPECT_FALSE(IpAddr::parse("[2001:db8::1]"));
  EXPECT_FALSE(IpAddr::parse(""));
}

TEST(IpAddr, FoldIsTheKernelsXorOfTheFourWords) {
  // ip_vs_sh.c ip_vs_sh_hashkey: ip6[0] ^ ip6[1] ^ ip6[2] ^ ip6[3], then ntohl.
  auto a = IpAddr::parse("2001:db8:1:2:3:4:5:6");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->fold(), 0x20010db8u ^ 0x00010002u ^ 0x00030004u ^ 0x00050006u);
}

TEST(IpAddr, SortsIpv4FirstThenByAddress) {
  // libipvs.c ipvs_cmp_services: the family first (AF_INET before AF_INET6).
  const IpAddr v4lo = Ipv4Addr::from_octets(10, 0, 0, 1), v4hi = Ipv4Addr::from_octets(203, 0, 113, 1);
  const IpAddr v6lo = *IpAddr::parse("::2"), v6hi = *IpAddr::parse("2001:db8::1");
  EXPECT_LT(v4lo, v4hi);
  EXPECT_LT(v4hi, v6lo);  // ::2 sorts below ::ffff:0:0/96 by bytes, but IPv6 comes after IPv4
  EXPECT_LT(v6lo, v6hi);
  EXPECT_NE(v4lo, v6lo);
}

}  // namespace
}  // namespace vs

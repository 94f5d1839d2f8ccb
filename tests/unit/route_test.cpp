// Tests for the routing table (src/route.cpp): connected subnets from interface addresses plus
// static routes, longest prefix match, a connected route winning a tie with a static one.
// Expected next hops follow from the prefixes in each config, worked out by hand.
#include "route.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "test_config.hpp"

namespace vs {
namespace {

constexpr Ipv4Addr A(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Ipv4Addr::from_octets(a, b, c, d); }

/// test::lan_wan_dmz() (lan 0: 192.168.1.1/24; wan 1: 203.0.113.2/24 and 198.51.100.1/30;
/// dmz 2: 10.9.0.1/24) with these static routes, {to, via}, in this order.
std::shared_ptr<const config::Config> with_routes(const std::vector<std::pair<std::string, std::string>>& routes) {
  test::ConfigText c = test::lan_wan_dmz();
  for (const auto& [to, via] : routes) c.route(to, via);
  return c.parse();
}

void expect_route(const RouteTable& t, Ipv4Addr dst, uint32_t iface, Ipv4Addr next_hop) {
  auto r = t.lookup(dst);
  ASSERT_TRUE(r.has_value()) << "no route to " << dst.str();
  EXPECT_EQ(r->iface, iface) << "to " << dst.str();
  EXPECT_EQ(r->next_hop, next_hop) << "to " << dst.str() << ": next hop " << r->next_hop.str();
}

TEST(RouteTest, ConnectedSubnetGoesToItsInterfaceWithTheDestinationAsNextHop) {
  auto cfg = with_routes({});
  ASSERT_TRUE(cfg);
  RouteTable t(*cfg);
  expect_route(t, A(192, 168, 1, 50), 0, A(192, 168, 1, 50));
  expect_route(t, A(10, 9, 0, 77), 2, A(10, 9, 0, 77));
}

TEST(RouteTest, EverySecondaryAddressIsAConnectedRoute) {
  auto cfg = with_routes({});
  ASSERT_TRUE(cfg);
  RouteTable t(*cfg);
  expect_route(t, A(203, 0, 113, 99), 1, A(203, 0, 113, 99));
  expect_route(t, A(198, 51, 100, 2), 1, A(198, 51, 100, 2));
}

TEST(RouteTest, ConnectedPrefixCoversExactlyItsSubnet) {
  auto cfg = with_routes({});
  ASSERT_TRUE(cfg);
  RouteTable t(*cfg);
  // 198.51.100.1/30 covers 198.51.100.0 .. 198.51.100.3 and nothing else.
  expect_route(t, A(198, 51, 100, 0), 1, A(198, 51, 100, 0));
  expect_route(t, A(198, 51, 100, 3), 1, A(198, 51, 100, 3));
  EXPECT_FALSE(t.lookup(A(198, 51, 100, 4)).has_value());
  EXPECT_FALSE(t.lookup(A(198, 51, 99, 255)).has_value());
  // 192.168.1.0/24: both ends in, the neighbours out.
  expect_route(t, A(192, 168, 1, 0), 0, A(192, 168, 1, 0));
  expect_route(t, A(192, 168, 1, 255), 0, A(192, 168, 1, 255));
  EXPECT_FALSE(t.lookup(A(192, 168, 0, 255)).has_value());
  EXPECT_FALSE(t.lookup(A(192, 168, 2, 0)).has_value());
}

TEST(RouteTest, NoRouteWithoutAMatchingPrefix) {
  auto cfg = with_routes({});
  ASSERT_TRUE(cfg);
  RouteTable t(*cfg);
  EXPECT_FALSE(t.lookup(A(8, 8, 8, 8)).has_value());
  EXPECT_FALSE(t.lookup(A(10, 9, 1, 1)).has_value());
}

TEST(RouteTest, StaticRouteSendsToItsGatewayOnTheGatewaysInterface) {
  auto cfg = with_routes({{"172.16.0.0/12", "198.51.100.2"}});
  ASSERT_TRUE(cfg);
  RouteTable t(*cfg);
  // 172.16.0.0/12 is 172.16.0.0 .. 172.31.255.255.
  expect_route(t, A(172, 16, 0, 1), 1, A(198, 51, 100, 2));
  expect_route(t, A(172, 31, 255, 254), 1, A(198, 51, 100, 2));
  EXPECT_FALSE(t.lookup(A(172, 32, 0, 1)).has_value());
  EXPECT_FALSE(t.lookup(A(172, 15, 255, 255)).has_value());
}

TEST(RouteTest, DefaultRouteCatchesWhatNothingElseMatches) {
  auto cfg = with_routes({{"0.0.0.0/0", "203.0.113.1"}});
  ASSERT_TRUE(cfg);
  RouteTable t(*cfg);
  expect_route(t, A(8, 8, 8, 8), 1, A(203, 0, 113, 1));
  expect_route(t, A(255, 255, 255, 254), 1, A(203, 0, 113, 1));
  expect_route(t, A(1, 0, 0, 0), 1, A(203, 0, 113, 1));
  // Connected subnets are more specific than the default.
  expect_route(t, A(192, 168, 1, 9), 0, A(192, 168, 1, 9));
}

TEST(RouteTest, LongestPrefixWinsWhateverTheConfigOrder) {
  // Listed shortest first, then a longer one, then a middle one: the lookup must not depend on it.
  auto cfg =
      with_routes({{"10.0.0.0/8", "192.168.1.254"}, {"10.1.2.0/24", "198.51.100.2"}, {"10.1.0.0/16", "203.0.113.9"}});
  ASSERT_TRUE(cfg);
  RouteTable t(*cfg);
  expect_route(t, A(10, 1, 2, 3), 1, A(198, 51, 100, 2));   // /24
  expect_route(t, A(10, 1, 3, 3), 1, A(203, 0, 113, 9));    // /16
  expect_route(t, A(10, 2, 0, 1), 0, A(192, 168, 1, 254));  // /8
  expect_route(t, A(10, 9, 0, 5), 2, A(10, 9, 0, 5));       // connected /24 inside 10/8
}

TEST(RouteTest, HostRouteBeatsItsSubnet) {
  auto cfg = with_routes({{"10.1.0.0/16", "203.0.113.9"}, {"10.1.0.7/32", "192.168.1.254"}});
  ASSERT_TRUE(cfg);
  RouteTable t(*cfg);
  expect_route(t, A(10, 1, 0, 7), 0, A(192, 168, 1, 254));
  expect_route(t, A(10, 1, 0, 6), 1, A(203, 0, 113, 9));
  expect_route(t, A(10, 1, 0, 8), 1, A(203, 0, 113, 9));
}

TEST(RouteTest, ConnectedRouteWinsATieWithAStaticRoute) {
  // A static route for exactly the dmz subnet: the connected route must be used.
  auto cfg = with_routes({{"10.9.0.0/24", "192.168.1.254"}});
  ASSERT_TRUE(cfg);
  RouteTable t(*cfg);
  expect_route(t, A(10, 9, 0, 5), 2, A(10, 9, 0, 5));
}

TEST(RouteTest, EntriesHoldConnectedAndStaticRoutesLongestFirst) {
  auto cfg = with_routes({{"0.0.0.0/0", "203.0.113.1"}, {"10.9.0.0/24", "192.168.1.254"}});
  ASSERT_TRUE(cfg);
  RouteTable t(*cfg);
  const auto& e = t.entries();
  // 4 connected (192.168.1/24, 203.0.113/24, 198.51.100.0/30, 10.9.0/24) + 2 static.
  ASSERT_EQ(e.size(), 6u);
  for (size_t i = 1; i < e.size(); ++i) EXPECT_GE(e[i - 1].prefix.len, e[i].prefix.len) << "entry " << i;
  // Connected prefixes are stored in network form.
  EXPECT_EQ(e.front().prefix.addr, A(198, 51, 100, 0));
  EXPECT_EQ(e.front().prefix.len, 30);
  EXPECT_FALSE(e.front().via.has_value());
  EXPECT_EQ(e.back().prefix.len, 0);
  ASSERT_TRUE(e.back().via.has_value());
  EXPECT_EQ(*e.back().via, A(203, 0, 113, 1));
}

// ---------------------------------------------------------------------------------------------
// The lookup cache must give the scan's answer whatever was asked before: many destinations
// (more than the cache holds, so slots are shared and replaced), asked in an order that makes
// neighbours in one slot alternate, including destinations with no route.

TEST(RouteTest, RepeatedAndCollidingLookupsGiveTheLongestPrefixMatch) {
  auto cfg =
      with_routes({{"0.0.0.0/0", "203.0.113.1"}, {"172.16.0.0/12", "10.9.0.254"}, {"172.16.5.0/24", "192.168.1.254"}});
  ASSERT_TRUE(cfg);
  RouteTable t(*cfg);
  auto expected = [](Ipv4Addr d) -> std::pair<uint32_t, Ipv4Addr> {
    if ((d.v >> 8) == (A(192, 168, 1, 0).v >> 8)) return {0, d};
    if ((d.v >> 2) == (A(198, 51, 100, 0).v >> 2)) return {1, d};
    if ((d.v >> 8) == (A(203, 0, 113, 0).v >> 8)) return {1, d};
    if ((d.v >> 8) == (A(10, 9, 0, 0).v >> 8)) return {2, d};
    if ((d.v >> 8) == (A(172, 16, 5, 0).v >> 8)) return {0, A(192, 168, 1, 254)};
    if ((d.v >> 20) == (A(172, 16, 0, 0).v >> 20)) return {2, A(10, 9, 0, 254)};
    return {1, A(203, 0, 113, 1)};
  };
  std::vector<Ipv4Addr> dsts;
  for (uint32_t i = 0; i < 300; ++i) {
    dsts.push_back(A(192, 168, 1, static_cast<uint8_t>(i)));
    dsts.push_back(A(172, 16, 5, static_cast<uint8_t>(i)));
    dsts.push_back(A(172, 17, static_cast<uint8_t>(i), 1));
    dsts.push_back(Ipv4Addr{0x08080000u + i * 7919u});
    dsts.push_back(A(198, 51, 100, static_cast<uint8_t>(i & 3)));
  }
  for (int round = 0; round < 3; ++round)
    for (size_t k = 0; k < dsts.size(); ++k) {
      Ipv4Addr d = dsts[(k * 37 + round) % dsts.size()];
      auto [iface, hop] = expected(d);
      expect_route(t, d, iface, hop);
    }

  // Without a default route some destinations have none, and a cached "none" stays exact.
  auto cfg2 = with_routes({});
  ASSERT_TRUE(cfg2);
  RouteTable u(*cfg2);
  for (int round = 0; round < 3; ++round)
    for (uint32_t i = 0; i < 200; ++i) {
      EXPECT_FALSE(u.lookup(Ipv4Addr{0x08080000u + i * 7919u}).has_value());
      expect_route(u, A(192, 168, 1, static_cast<uint8_t>(i)), 0, A(192, 168, 1, static_cast<uint8_t>(i)));
    }
}

}  // namespace
}  // namespace vs

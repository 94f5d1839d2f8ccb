// The per-destination ICMP limiter (src/icmp_peer_limit.hpp) against inet_peer_xrlim_allow
// (net/ipv4/inetpeer.c): tokens in time units, capped at XRLIM_BURST_FACTOR (6) timeouts, one
// timeout per error; a new peer starts full.
#include "icmp_peer_limit.hpp"

#include <gtest/gtest.h>

namespace vs {
namespace {

Instant ms(int64_t v) { return Instant::from_micros(v * 1000); }
Ipv4Addr host(uint32_t i) {
  return Ipv4Addr::from_octets(10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                               static_cast<uint8_t>(i));
}

TEST(IcmpPeerLimiter, BurstOfSixThenOnePerTimeout) {
  IcmpPeerLimiter l(64, 1000, 1);
  int ok = 0;
  for (int i = 0; i < 10; ++i) ok += l.allow(host(1), ms(0));
  EXPECT_EQ(ok, 6);
  EXPECT_FALSE(l.allow(host(1), ms(999)));
  EXPECT_TRUE(l.allow(host(1), ms(1000)));  // 1000 ms of tokens since the burst
  EXPECT_FALSE(l.allow(host(1), ms(1500)));
  EXPECT_TRUE(l.allow(host(1), ms(2000)));
  // Six timeouts idle refill it to the cap, no more.
  ok = 0;
  for (int i = 0; i < 10; ++i) ok += l.allow(host(1), ms(60000));
  EXPECT_EQ(ok, 6);
}

TEST(IcmpPeerLimiter, TimeoutFollowsTheSysctlAndZeroIsOff) {
  IcmpPeerLimiter fast(64, 100, 1);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(fast.allow(host(1), ms(0)));
  EXPECT_FALSE(fast.allow(host(1), ms(99)));
  EXPECT_TRUE(fast.allow(host(1), ms(100)));
  IcmpPeerLimiter off(64, 0, 1);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(off.allow(host(1), ms(0)));
}

TEST(IcmpPeerLimiter, DestinationsAreIndependent) {
  IcmpPeerLimiter l(64, 1000, 1);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(l.allow(host(1), ms(0)));
  EXPECT_FALSE(l.allow(host(1), ms(0)));
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(l.allow(host(2), ms(0)));
  EXPECT_FALSE(l.allow(host(2), ms(0)));
}

TEST(IcmpPeerLimiter, BoundedTableEvictsTheLeastRecentlyUsedOfASet) {
  IcmpPeerLimiter l(8, 1000, 7);  // 2 sets of 4 ways
  EXPECT_EQ(l.capacity(), 8u);
  // Host 1 exhausts its allowance, then 100 other hosts pass through the table later: with
  // only 4 ways per set, host 1's entry is reclaimed and it starts full again (documented: the
  // global bucket still bounds the total).
  for (int i = 0; i < 6; ++i) l.allow(host(1), ms(0));
  EXPECT_FALSE(l.allow(host(1), ms(0)));
  for (uint32_t h = 2; h < 102; ++h) EXPECT_TRUE(l.allow(host(h), ms(1)));
  EXPECT_TRUE(l.allow(host(1), ms(2)));
  // A recently used entry outlives older ones of its set: the capacity is a hard bound on state.
  IcmpPeerLimiter m(4, 1000, 7);  // one set
  for (int i = 0; i < 6; ++i) m.allow(host(1), ms(10));
  for (uint32_t h = 2; h < 5; ++h) m.allow(host(h), ms(h));  // older than host 1's last use
  m.allow(host(9), ms(11));                                  // evicts host 2 (oldest)
  EXPECT_FALSE(m.allow(host(1), ms(11))) << "host 1 kept its (empty) entry";
}

TEST(IcmpPeerLimiter, SameSeedSameDecisions) {
  IcmpPeerLimiter a(16, 1000, 42), b(16, 1000, 42);
  for (uint32_t i = 0; i < 2000; ++i) {
    const Ipv4Addr h = host(i * 7919 % 97);
    ASSERT_EQ(a.allow(h, ms(i)), b.allow(h, ms(i))) << i;
  }
}

}  // namespace
}  // namespace vs

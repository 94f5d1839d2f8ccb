// ConnTable alone: the bucketed hash (lookups both ways, spills, removal without tombstones),
// the one-line Conn, and exact timers across many re-arms.
#include "conn/conn_table.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace vs::conn {
namespace {

constexpr IpProto kTcp = IpProto::kTcp;
const Ipv4Addr kVip = Ipv4Addr::from_octets(10, 0, 0, 100);
const Ipv4Addr kReal = Ipv4Addr::from_octets(192, 168, 1, 11);

Instant at_s(int64_t s) { return Instant::from_micros(s * 1000000); }

Conn nat_conn(uint32_t n) {
  Conn c;
  c.proto = kTcp;
  c.caddr = Ipv4Addr{(172u << 24) | n};
  c.cport = static_cast<uint16_t>(1024 + n % 60000);
  c.vaddr = kVip;
  c.vport = 80;
  c.daddr = kReal;
  c.dport = 8080;
  c.method = config::Method::kNat;
  return c;
}
FlowKey in_key(const Conn& c) { return FlowKey{c.caddr, c.vaddr, c.cport, c.vport, c.proto}; }
FlowKey out_key(const Conn& c) { return FlowKey{c.daddr, c.caddr, c.dport, c.cport, c.proto}; }

TEST(ConnTableTest, AConnIsOneCacheLine) {
  EXPECT_EQ(sizeof(Conn), 64u);
  EXPECT_EQ(alignof(Conn), 64u);
  ConnTable t(16, 1, {Duration::seconds(60)});
  uint32_t i = t.create(nat_conn(1), Duration::seconds(60), at_s(0));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&t[i]) % 64, 0u) << "the slab is line-aligned";
}

TEST(ConnTableTest, FullTableFindsEveryConnectionBothWaysThroughChurn) {
  // A small table filled to capacity, then churned: spilled buckets, removals in the middle of
  // runs, reuse of freed slots. Every live entry stays reachable in both directions, every freed
  // one disappears, and once all are gone no bucket counts a spill.
  constexpr uint32_t kCap = 64;
  ConnTable t(kCap, 7, {Duration::seconds(60)});
  std::vector<uint32_t> idx(kCap), who(kCap);
  for (uint32_t n = 0; n < kCap; ++n) {
    idx[n] = t.create(nat_conn(n), Duration::seconds(60), at_s(0));
    ASSERT_NE(idx[n], kNone);
    who[n] = n;
  }
  EXPECT_EQ(t.create(nat_conn(999), Duration::seconds(60), at_s(0)), kNone) << "full";
  uint32_t next = kCap;
  for (uint32_t round = 0; round < 2000; ++round) {
    const uint32_t k = (round * 37) % kCap;
    const Conn old = t[idx[k]];
    t.free(idx[k]);
    EXPECT_FALSE(t.lookup(in_key(old)).has_value());
    EXPECT_FALSE(t.lookup(out_key(old)).has_value());
    idx[k] = t.create(nat_conn(next), Duration::seconds(60), at_s(0));
    who[k] = next++;
    ASSERT_NE(idx[k], kNone);
    for (uint32_t n = 0; n < kCap; ++n) {
      const Conn c = nat_conn(who[n]);
      auto in = t.lookup(in_key(c));
      auto out = t.lookup(out_key(c));
      ASSERT_TRUE(in && out) << "round " << round << " entry " << n;
      EXPECT_EQ(in->idx, idx[n]);
      EXPECT_FALSE(in->out);
      EXPECT_EQ(out->idx, idx[n]);
      EXPECT_TRUE(out->out);
    }
  }
  EXPECT_LE(t.max_probe(), 4u);
  for (uint32_t n = 0; n < kCap; ++n) t.free(idx[n]);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.max_probe(), 1u) << "every spill count went back to zero";
  EXPECT_EQ(t.max_chain(), 0u);
}

TEST(ConnTableTest, ATemplateIsFoundOnlyAsATemplate) {
  ConnTable t(16, 1, {Duration::seconds(60)});
  Conn tpl;
  tpl.proto = kTcp;
  tpl.caddr = Ipv4Addr::from_octets(172, 16, 0, 0);
  tpl.vaddr = kVip;
  tpl.vport = 80;
  tpl.flags = kFlagTemplate;
  uint32_t i = t.create(tpl, Duration::seconds(60), at_s(0));
  EXPECT_EQ(t.find_template(kTcp, tpl.caddr, kVip, 80), i);
  EXPECT_FALSE(t.lookup(FlowKey{tpl.caddr, kVip, 0, 80, kTcp}).has_value()) << "not a connection";
  t.unhash(i);
  EXPECT_EQ(t.find_template(kTcp, tpl.caddr, kVip, 80), kNone);
}

TEST(ConnTableTest, ExpiryIsExactAfterManyRearms) {
  // Thousands of re-arms in a shuffled order, two timeouts, a timeout change in the middle: the
  // deadlines come out sorted, each the entry's last packet + its timeout, to the microsecond.
  const Duration a = Duration::seconds(60), b = Duration::seconds(7);
  ConnTable t(256, 3, {a, b});
  std::vector<uint32_t> idx;
  std::vector<Instant> last(200);
  for (uint32_t n = 0; n < 200; ++n) idx.push_back(t.create(nat_conn(n), a, at_s(0)));
  int64_t us = 0;
  for (uint32_t round = 0; round < 50; ++round)
    for (uint32_t n = 0; n < 200; ++n) {
      const uint32_t k = (n * 73 + round * 11) % 200;
      us += 13;
      if (round == 25 && k % 3 == 0) t.set_timeout(idx[k], b);
      t.rearm(idx[k], Instant::from_micros(us));
      last[k] = Instant::from_micros(us);
    }
  for (uint32_t k = 0; k < 200; ++k) EXPECT_EQ(t[idx[k]].expires, last[k] + t.timeout(idx[k]));
  // Timers as the daemon and replay run them: at each deadline. A deadline may come before the
  // earliest expiry (an entry re-armed since it was filed) but never after it, and an entry is
  // due exactly at its expiry: each one leaves at the deadline equal to its expires.
  Instant prev = Instant::from_micros(0);
  uint32_t expired = 0, deadlines = 0;
  while (auto d = t.next_deadline()) {
    ASSERT_GT(*d, prev) << "deadlines move forward";
    prev = *d;
    ++deadlines;
    for (uint32_t i = t.due(*d); i != kNone; i = t.due(*d)) {
      EXPECT_EQ(t[i].expires, *d) << "expired exactly at its expiry";
      t.free(i);
      ++expired;
    }
  }
  EXPECT_EQ(expired, 200u);
  EXPECT_LT(deadlines, 200u * 8) << "a few early deadlines per entry at most";
  EXPECT_FALSE(t.next_deadline().has_value());
}

// --- IPv6 connections: one table for both families (ip_vs_conn_tab), addresses beside the slab ---

Ipv6Addr v6(const char* s) { return *Ipv6Addr::parse(s); }
/// An IPv6 TCP flow's lookup: its key (the folds) and its addresses beside it.
std::optional<ConnTable::Hit> find6(const ConnTable& t, const Ipv6Addr& s, uint16_t sp, const Ipv6Addr& d,
                                    uint16_t dp) {
  const FlowAddr6 a{s, d};
  return t.lookup(FlowKey::folded(a, sp, dp, kTcp), &a);
}

TEST(ConnTableTest, AnIpv6ConnectionIsFoundBothWaysByItsFullAddresses) {
  ConnTable t(64, 1, {Duration::seconds(60)});
  Conn c;
  c.proto = kTcp;
  c.cport = 40000;
  c.vport = 80;
  c.dport = 8080;
  c.method = config::Method::kNat;
  c.flags = kFlagIpv6;
  const ConnAddr6 a{v6("2001:db8:c::7"), v6("2001:db8::80"), v6("2001:db8:1::11")};
  const uint32_t i = t.create(c, Duration::seconds(60), at_s(0), &a);
  ASSERT_NE(i, kNone);
  EXPECT_EQ(t.addr6(i).d, a.d);
  EXPECT_EQ(t[i].caddr.v, IpAddr::from_v6(a.c).fold()) << "the Conn keeps the folds the schedulers hash";
  auto in = find6(t, a.c, 40000, a.v, 80);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->idx, i);
  EXPECT_FALSE(in->out);
  auto out = find6(t, a.d, 8080, a.c, 40000);  // NAT: the real's reply
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->out);
  EXPECT_FALSE(find6(t, a.v, 80, a.c, 40000)) << "NAT replies come from the real";
  EXPECT_FALSE(find6(t, a.c, 40001, a.v, 80));
  EXPECT_FALSE(find6(t, v6("2001:db8:c::8"), 40000, a.v, 80));
  t.free(i);
  EXPECT_FALSE(find6(t, a.c, 40000, a.v, 80));
}

TEST(ConnTableTest, EqualFoldsDoNotMatchAcrossAddressesOrFamilies) {
  ConnTable t(64, 1, {Duration::seconds(60)});
  Conn c;
  c.proto = kTcp;
  c.cport = 40000;
  c.vport = 80;
  c.dport = 80;
  c.method = config::Method::kDr;
  c.flags = kFlagIpv6;
  // The words of x swapped give y: the same XOR fold, another address.
  const Ipv6Addr x = v6("2001:db8:1:2:3:4:5:6"), y = v6("3:4:5:6:2001:db8:1:2"), vip = v6("2001:db8::80");
  ASSERT_EQ(IpAddr::from_v6(x).fold(), IpAddr::from_v6(y).fold());
  const ConnAddr6 ax{x, vip, v6("2001:db8:1::11")};
  const uint32_t i = t.create(c, Duration::seconds(60), at_s(0), &ax);
  EXPECT_EQ(find6(t, x, 40000, vip, 80)->idx, i);
  EXPECT_FALSE(find6(t, y, 40000, vip, 80)) << "same folds, another client";
  // An IPv4 packet whose addresses equal the folds is another flow altogether.
  const Ipv4Addr fx{IpAddr::from_v6(x).fold()}, fv{IpAddr::from_v6(vip).fold()};
  EXPECT_FALSE(t.lookup(FlowKey{fx, fv, 40000, 80, kTcp}));
  const uint32_t j = t.create(nat_conn(5), Duration::seconds(60), at_s(0));
  EXPECT_FALSE(find6(t, v6("::172.0.0.5"), t[j].cport, v6("::10.0.0.100"), 80));
  EXPECT_EQ(t.lookup(in_key(t[j]))->idx, j);
}

TEST(ConnTableTest, AnIpv6TemplateIsKeyedByTheClientPrefix) {
  ConnTable t(16, 1, {Duration::seconds(60)});
  Conn tpl;
  tpl.proto = kTcp;
  tpl.vport = 80;
  tpl.flags = kFlagTemplate | kFlagIpv6;
  const ConnAddr6 a{v6("2001:db8:c::"), v6("2001:db8::80"), v6("2001:db8:1::11")};
  const uint32_t i = t.create(tpl, Duration::seconds(60), at_s(0), &a);
  EXPECT_EQ(t.find_template6(kTcp, a.c, a.v, 80), i);
  EXPECT_EQ(t.find_template6(kTcp, a.c, a.v, 81), kNone);
  EXPECT_EQ(t.find_template(kTcp, t[i].caddr, t[i].vaddr, 80), kNone) << "not an IPv4 template";
  EXPECT_FALSE(find6(t, a.c, 0, a.v, 80)) << "not a connection";
}

TEST(ConnTableTest, AnIpv6EntryNeedsItsAddresses) {
  ConnTable t(16, 1, {Duration::seconds(60)});
  Conn c = nat_conn(1);
  c.flags = kFlagIpv6;
  EXPECT_EQ(t.create(c, Duration::seconds(60), at_s(0)), kNone);
  const ConnAddr6 a{};
  EXPECT_EQ(t.create(nat_conn(2), Duration::seconds(60), at_s(0), &a), kNone) << "addresses without the flag";
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace vs::conn

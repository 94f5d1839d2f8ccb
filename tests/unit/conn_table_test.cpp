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

}  // namespace
}  // namespace vs::conn

// mh against net/netfilter/ipvs/ip_vs_mh.c (Linux 6.12). Slot-exact tables for many scenarios
// are compared with the independent Python model in sched_hash_fixture_test.cpp; the counts
// here follow from the population loop by hand:
//   * 4093 slots; each round walks the list (newest first) and a dest with `turns` t claims t
//     slots in a row; turns = ((last_weight / gcd) >> rshift) or 1 if that is 0 and
//     last_weight != 0; rshift = max(0, fls(max_last_weight / gcd) - 6).
//   * lookups use last_weight-built tables, so quiescing (weight 0) changes nothing in the
//     table; unavailable = weight <= 0 || OVERLOAD.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/sched_names.hpp"
#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

int owned(SchedBed& bed, const ipvs::Dest& d) {
  int n = 0;
  for (const ipvs::Dest* x : lookup_table(*bed.svc.sched)) n += x == &d ? 1 : 0;
  return n;
}

std::vector<ipvs::Dest*> snapshot(SchedBed& bed) {
  auto t = lookup_table(*bed.svc.sched);
  return {t.begin(), t.end()};
}

FlowKey from(const char* src, uint16_t sport = 0, IpProto proto = IpProto::kTcp) {
  FlowKey f;
  f.src = *Ipv4Addr::parse(src);
  f.dst = *Ipv4Addr::parse("10.0.100.1");
  f.sport = sport;
  f.dport = 80;
  f.proto = proto;
  return f;
}

// lib/siphash_kunit.c (64-bit): hsiphash_1u32(0x03020100, key 00..0f) == 0x88d38328.
TEST(SchedMh, HsiphashMatchesTheKernelSelfTest) {
  EXPECT_EQ(hsiphash_u32(0x03020100u, 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull), 0x88d38328u);
}

// Equal weights: one slot per dest per round; 4093 is odd, so the first in list order (B)
// gets the extra slot.
TEST(SchedMh, EqualWeightsSplitEvenly) {
  SchedBed bed("mh");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  ASSERT_EQ(lookup_table(*bed.svc.sched).size(), 4093u);
  EXPECT_EQ(owned(bed, b), 2047);
  EXPECT_EQ(owned(bed, a), 2046);
}

// A(1), B(2), C(3): gcd 1, rshift 0; a round is C C C B B A (6 slots). 682 rounds fill 4092,
// and C takes the last one: C 2047, B 1364, A 682.
TEST(SchedMh, WeightsGiveTurns) {
  SchedBed bed("mh");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 2);
  ipvs::Dest& c = bed.add('C', 3);
  EXPECT_EQ(owned(bed, c), 2047);
  EXPECT_EQ(owned(bed, b), 1364);
  EXPECT_EQ(owned(bed, a), 682);
}

// A(1), B(1000): gcd 1, fls(1000) = 10, rshift 4; turns B 1000 >> 4 = 62, A 1 >> 4 = 0 -> 1.
// Rounds of 63: 64 rounds fill 4032, the remaining 61 all go to B: B 64*62 + 61 = 4029, A 64.
TEST(SchedMh, LargeWeightsAreShifted) {
  SchedBed bed("mh");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1000);
  EXPECT_EQ(owned(bed, b), 4029);
  EXPECT_EQ(owned(bed, a), 64);
}

// A gcd above 1 divides out: 4, 8, 12 behave like 1, 2, 3.
TEST(SchedMh, GcdDividesWeights) {
  SchedBed bed("mh");
  ipvs::Dest& a = bed.add('A', 4);
  ipvs::Dest& b = bed.add('B', 8);
  ipvs::Dest& c = bed.add('C', 12);
  EXPECT_EQ(owned(bed, c), 2047);
  EXPECT_EQ(owned(bed, b), 1364);
  EXPECT_EQ(owned(bed, a), 682);
}

TEST(SchedMh, QuiescingKeepsTheTable) {
  SchedBed bed("mh");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 2);
  bed.add('C', 1);
  const auto before = snapshot(bed);
  bed.set_weight(b, 0);  // last_weight stays 2
  EXPECT_EQ(snapshot(bed), before);
  bed.set_weight(b, 2);
  EXPECT_EQ(snapshot(bed), before);
  bed.set_weight(b, 3);  // a real change rebuilds
  EXPECT_NE(snapshot(bed), before);
}

// A dest added with weight 0 has last_weight 0: turns 0, no slots, until it gets a weight.
TEST(SchedMh, AddedWithWeightZeroTakesNoSlots) {
  SchedBed bed("mh");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 0);
  EXPECT_EQ(owned(bed, a), 4093);
  EXPECT_EQ(owned(bed, b), 0);
  bed.set_weight(b, 1);
  EXPECT_EQ(owned(bed, b), 2047);
}

TEST(SchedMh, NoWeightsMeansAnEmptyTable) {
  SchedBed bed("mh", config::kFlagMhFallback);
  bed.add('A', 0);
  EXPECT_EQ(owned(bed, *bed.svc.dests[0]), 0);
  EXPECT_EQ(bed.pick(from("192.168.1.1")), nullptr);  // empty slot: fallback stops at once
}

TEST(SchedMh, LookupUsesSlotOfTheSourceHash) {
  SchedBed bed("mh");
  for (char c = 'A'; c <= 'E'; ++c) bed.add(c, 1);
  const auto table = lookup_table(*bed.svc.sched);
  const FlowKey f = from("192.168.1.1", 5555, IpProto::kUdp);
  const Ipv4Addr src = f.src;
  EXPECT_EQ(bed.pick(f), table[mh_hashkey(src, 0, kMhHash1, 0) % kMhTabSize]);
  bed.svc.flags = config::kFlagMhPort;
  EXPECT_EQ(bed.pick(f), table[mh_hashkey(src, 5555, kMhHash1, 0) % kMhTabSize]);
  FlowKey icmp = f;
  icmp.proto = IpProto::kIcmp;  // no ports: hashed with port 0
  EXPECT_EQ(bed.pick(icmp), table[mh_hashkey(src, 0, kMhHash1, 0) % kMhTabSize]);
}

// With mh-fallback the probes feed roffset = (offset + ih) % 4093 INTO the hash:
// slot_k = h1(src, port, (k + ih) % 4093) % 4093 for k = 0, 1, ...
TEST(SchedMh, FallbackRehashesWithTheOffset) {
  SchedBed bed("mh", config::kFlagMhFallback);
  for (char c = 'A'; c <= 'H'; ++c) bed.add(c, 1);
  const auto table = lookup_table(*bed.svc.sched);
  const FlowKey f = from("192.168.7.7");
  const uint32_t ih = mh_hashkey(f.src, 0, kMhHash1, 0) % kMhTabSize;
  ipvs::Dest* first = table[ih];
  first->overloaded = true;
  ipvs::Dest* expected = nullptr;
  for (uint32_t k = 0; k < kMhTabSize && expected == nullptr; ++k) {
    ipvs::Dest* d = table[mh_hashkey(f.src, 0, kMhHash1, (k + ih) % kMhTabSize) % kMhTabSize];
    if (!d->overloaded && d->weight > 0) expected = d;
  }
  ASSERT_NE(expected, nullptr);
  EXPECT_EQ(bed.pick(f), expected);
  bed.svc.flags = 0;
  EXPECT_EQ(bed.pick(f), nullptr);
  for (ipvs::Dest* d : bed.svc.dests) d->overloaded = true;
  bed.svc.flags = config::kFlagMhFallback;
  EXPECT_EQ(bed.pick(f), nullptr);  // all 4093 probes fail
}

// Maglev's point: removing one of five dests moves few of the survivors' slots (the exact
// table is in the fixture; here only the property, like Katran's MaglevHashTest).
TEST(SchedMh, DeletionMovesFewSurvivorSlots) {
  SchedBed bed("mh");
  for (char c = 'A'; c <= 'E'; ++c) bed.add(c, 1);
  ipvs::Dest* gone = bed.svc.dests[2];
  const auto before = snapshot(bed);
  bed.del(*gone);
  const auto after = snapshot(bed);
  int moved = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_NE(after[i], gone);
    if (before[i] != gone && after[i] != before[i]) ++moved;
  }
  EXPECT_LT(moved, 82);  // < 2% of the table
}

// [ipvs] mh_sorted (docs/scale-out.md): the table from the reals sorted by address and port, so
// two directors whose lists have different histories (here: the same reals added in opposite
// orders, with unequal weights so that the order decides slots) build the same table; in the
// kernel's list order they do not.
TEST(SchedMh, SortedOrderMakesTheTableIndependentOfTheListsHistory) {
  auto table_of = [](bool sorted, bool reverse) {
    SchedBed bed("mh");
    bed.svc.mh_sorted = sorted;
    bed.rebind();
    const char letters[] = {'A', 'B', 'C', 'D'};
    const int32_t weights[] = {3, 1, 2, 5};
    for (int k = 0; k < 4; ++k) {
      const int i = reverse ? 3 - k : k;
      bed.add(letters[i], weights[i]);
    }
    std::vector<uint32_t> addrs;
    for (const ipvs::Dest* d : lookup_table(*bed.svc.sched)) addrs.push_back(d ? d->addr.v4().v : 0);
    return addrs;
  };
  EXPECT_NE(table_of(false, false), table_of(false, true)) << "the kernel's order: the history shows";
  EXPECT_EQ(table_of(true, false), table_of(true, true));
  // A real deleted and added again (a health check's down and up) moves to the list's head.
  SchedBed a("mh"), b("mh");
  a.svc.mh_sorted = b.svc.mh_sorted = true;
  a.rebind();
  b.rebind();
  for (char c : {'A', 'B', 'C'}) a.add(c, 1), b.add(c, 1);
  ipvs::Dest& bb = *b.svc.find_real(SchedBed::letter_addr('B'), 80);
  b.del(bb);
  b.add('B', 1);
  for (int i = 0; i < 200; ++i) {
    const FlowKey f = from(("192.0.2." + std::to_string(i)).c_str());
    ASSERT_EQ(a.pick(f)->addr, b.pick(f)->addr) << i;
  }
}

}  // namespace
}  // namespace vs::sched

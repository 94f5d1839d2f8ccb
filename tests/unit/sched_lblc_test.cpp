// lblc against net/netfilter/ipvs/ip_vs_lblc.c (Linux 6.12), worked out by hand.
//   * cache keyed by the packet's DESTINATION address. On a hit: lastuse = now, and the cached
//     dest is used if AVAILABLE, weight > 0 and not is_overloaded() (activeconns > weight while
//     some dest of the service has activeconns * 2 < weight); the OVERLOAD flag is not checked.
//   * otherwise the wlc pick (first !OVERLOAD weight > 0 dest, then (s64)loh*w(d) >
//     (s64)doh*w(least)), and the entry is (re)created for it.
//   * GC timer every 60 s from creation (here: from the first schedule()); every 30th tick is a
//     full check dropping entries with now >= lastuse + 24 h, i.e. at creation + k * 1800 s.
//     With more than 16384 entries the other ticks drop entries idle >= 6 min, bucket by bucket
//     from rover + 1, until (entries - 16384) * 4 / 3 (at most 8192) are gone. New entries are
//     refused at 24576 entries.
// Overhead = activeconns * 256 + inactconns. Adding A then B gives the list B, A.
#include <gtest/gtest.h>

#include <vector>

#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

FlowKey to(uint32_t dst) {
  FlowKey f;
  f.src = Ipv4Addr::from_octets(172, 16, 0, 1);
  f.dst = Ipv4Addr{dst};
  f.sport = 40000;
  f.dport = 80;
  f.proto = IpProto::kTcp;
  return f;
}
const uint32_t kX = Ipv4Addr::from_octets(10, 9, 9, 9).v;
const uint32_t kY = Ipv4Addr::from_octets(10, 9, 9, 10).v;
const uint32_t kZ = Ipv4Addr::from_octets(10, 9, 9, 11).v;

Instant at_s(int64_t s, int64_t us = 0) { return Instant{s * 1000000 + us}; }

TEST(SchedLblc, CachedDestStaysUntilBusy) {
  SchedBed bed("lblc");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");  // miss: wlc, all idle -> B (first)
  b.activeconns = 1;                                 // wlc would now pick A; B is not busy (1 > 1 is false)
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");
  b.activeconns = 2;  // 2 > 1 and A has 0 * 2 < 1: busy -> wlc: B 512 vs A 0 -> A
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "A");
  b.activeconns = 0;
  a.activeconns = 1;  // the entry now names A, not busy
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "A");
}

TEST(SchedLblc, HitIgnoresTheOverloadFlagButNotWeightZero) {
  SchedBed bed("lblc");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");
  b.overloaded = true;
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");  // cached, OVERLOAD not checked
  EXPECT_EQ(SchedBed::name(bed.pick(to(kY))), "A");  // a miss uses wlc, which skips B
  b.overloaded = false;
  bed.set_weight(b, 0);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "A");
  bed.set_weight(b, 1);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "A");  // the entry was replaced by A
}

TEST(SchedLblc, BusyNeedsSomeClearlyLessLoadedDest) {
  SchedBed bed("lblc");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");
  b.activeconns = 5;
  a.activeconns = 3;  // 5 > 1, but no dest has active*2 < weight (10 < 1, 6 < 1 are false)
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");
  ipvs::Dest& c = bed.add('C', 4);  // list C,B,A
  c.activeconns = 1;
  c.overloaded = true;                               // C still counts for is_overloaded (2 < 4) although wlc skips it
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "A");  // wlc: B 1280/1, A 768/1 -> A
}

TEST(SchedLblc, RemovedDestIsRescheduled) {
  SchedBed bed("lblc");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");
  bed.del(b);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "A");
}

TEST(SchedLblc, EachDestinationAddressHasItsOwnEntry) {
  SchedBed bed("lblc");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");
  b.activeconns = 1;
  EXPECT_EQ(SchedBed::name(bed.pick(to(kY))), "A");
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");
  EXPECT_EQ(SchedBed::name(bed.pick(to(kY))), "A");
}

TEST(SchedLblc, NothingAvailable) {
  SchedBed bed("lblc");
  EXPECT_EQ(bed.pick(to(kX)), nullptr);
  ipvs::Dest& a = bed.add('A', 1);
  a.overloaded = true;
  EXPECT_EQ(bed.pick(to(kX)), nullptr);
}

// Created at t0 (the GC's start): the full checks run at t0 + k*1800 s; t0 + 86400 s is one
// (k = 48) and drops entries with lastuse <= t0. An entry refreshed 1 us earlier survives
// until the check at t0 + 172800 s.
TEST(SchedLblc, EntriesExpireAtTheFullCheckAfter24Hours) {
  SchedBed bed("lblc");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  const int64_t t0 = 1000;
  bed.now = at_s(t0);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");
  EXPECT_EQ(SchedBed::name(bed.pick(to(kY))), "B");
  b.activeconns = 1;  // from now on a miss gives A
  bed.now = at_s(t0 + 86400, -1);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");  // still cached; lastuse refreshed
  bed.now = at_s(t0 + 86400);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kY))), "A");  // dropped by the full check at t0+86400
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");
  bed.now = at_s(t0 + 172800, -1);
  bed.now = at_s(t0 + 172800);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "A");
}

// An entry used at t0 + 10 s is dropped by the first full check at or after t0 + 86410 s,
// which is t0 + 88200 s (49 * 1800).
TEST(SchedLblc, ExpiryWaitsForTheNextFullCheck) {
  SchedBed bed("lblc");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  const int64_t t0 = 5000;
  bed.now = at_s(t0);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kZ))), "B");  // starts the GC clock
  bed.now = at_s(t0 + 10);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");
  EXPECT_EQ(SchedBed::name(bed.pick(to(kY))), "B");
  b.activeconns = 1;
  bed.now = at_s(t0 + 88200, -1);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");  // 86410 s idle, still there
  bed.now = at_s(t0 + 88200);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kY))), "A");
}

// A long idle stretch with an empty table keeps the timer's phase: X (t0) goes at the check at
// t0 + 86400 s, the table is then empty until t0 + 864000 s (itself a full-check tick, 480 *
// 1800). An entry made then expires at t0 + 950400 s (528 * 1800), not a tick earlier.
TEST(SchedLblc, TimerPhaseSurvivesAnEmptyTable) {
  SchedBed bed("lblc");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  const int64_t t0 = 77;
  bed.now = at_s(t0);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kZ))), "B");
  bed.now = at_s(t0 + 864000);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");  // Z expired long ago; X and Y new
  EXPECT_EQ(SchedBed::name(bed.pick(to(kY))), "B");
  b.activeconns = 1;
  bed.now = at_s(t0 + 950400, -1);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kX))), "B");
  bed.now = at_s(t0 + 950400);
  EXPECT_EQ(SchedBed::name(bed.pick(to(kY))), "A");
  EXPECT_EQ(SchedBed::name(bed.pick(to(kZ))), "A");
}

// The kernel's bucket for a destination address, written out independently: hash_32(addr, 10).
uint32_t bucket_of(uint32_t addr) { return static_cast<uint32_t>(addr * 0x61C88647u) >> 22; }

// 24576 entries fill the table (max_size 16384 * 3 / 2); a 24577th address is served but not
// cached. Above max_size the ticks collect entries idle for >= 6 min: at t0 + 360 s the goal
// is min((24576 - 16384) * 4 / 3, 8192) = 8192, and whole buckets 1, 2, ... (rover 0 + 1) are
// emptied until at least that many entries are gone. Earlier ticks (t0 + 60 .. 300 s) found
// nothing idle long enough, scanned all 1024 buckets and left the rover at 0.
TEST(SchedLblc, FullTableAndPartialCollection) {
  SchedBed bed("lblc");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  const int64_t t0 = 100;
  bed.now = at_s(t0);
  const uint32_t base = Ipv4Addr::from_octets(10, 100, 0, 0).v;
  constexpr uint32_t kCap = 24576;
  for (uint32_t i = 0; i < kCap; ++i) ASSERT_EQ(bed.pick(to(base + i)), &b);
  const uint32_t extra = base + kCap;
  EXPECT_EQ(bed.pick(to(extra)), &b);
  b.activeconns = 1;                                    // a miss now gives A
  EXPECT_EQ(SchedBed::name(bed.pick(to(extra))), "A");  // it was not cached, and still is not
  EXPECT_EQ(SchedBed::name(bed.pick(to(base))), "B");
  EXPECT_EQ(SchedBed::name(bed.pick(to(base + kCap - 1))), "B");

  // Which entries the partial collection at t0 + 360 s removes.
  // (Entry 7 is refreshed at t0 + 359 s below, so it is not idle long enough to count.)
  std::vector<uint32_t> per_bucket(1024, 0);
  for (uint32_t i = 0; i < kCap; ++i) per_bucket[bucket_of(base + i)] += i == 7 ? 0 : 1;
  std::vector<bool> dropped_bucket(1024, false);
  int goal = 8192;
  for (uint32_t j = 1; j < 1024 && goal > 0; ++j) {
    dropped_bucket[j] = true;
    goal -= static_cast<int>(per_bucket[j]);
  }
  // The entries probed above were used at t0, like all the others.
  bed.now = at_s(t0 + 359);
  EXPECT_EQ(SchedBed::name(bed.pick(to(base + 7))), "B");  // nothing collected before 360 s
  bed.now = at_s(t0 + 360);
  int misses = 0, expected_misses = 0;
  for (uint32_t i = 0; i < kCap; ++i) {
    if (i == 7) continue;  // refreshed at t0 + 359: not idle for 6 min
    const bool gone = dropped_bucket[bucket_of(base + i)];
    expected_misses += gone ? 1 : 0;
    const ipvs::Dest* d = bed.pick(to(base + i));
    misses += SchedBed::name(d) == "A" ? 1 : 0;
    ASSERT_EQ(SchedBed::name(d), gone ? "A" : "B") << "entry " << i;
  }
  EXPECT_EQ(misses, expected_misses);
  EXPECT_GE(expected_misses, 8191);
}

}  // namespace
}  // namespace vs::sched

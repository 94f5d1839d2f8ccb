// sed against net/netfilter/ipvs/ip_vs_sed.c (Linux 6.12): wlc's two stages with the overhead
// activeconns + 1 (inactive connections ignored). Stage one: first dest with !OVERLOAD &&
// weight > 0; stage two: later !OVERLOAD dests replace it when (s64)loh*w(d) > (s64)doh*w(least).
// Expected values worked out by hand.
#include <gtest/gtest.h>

#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

TEST(SchedSed, IdleServicePrefersTheHighestWeight) {
  SchedBed bed("sed");
  bed.add('A', 2);
  bed.add('B', 5);
  bed.add('C', 1);
  // C: 1/1. B: 1*5 > 1*1 -> B. A: 1*2 > 1*5? no. -> B
  EXPECT_EQ(bed.seq(1), "B");
}

TEST(SchedSed, ExpectedDelayAndTies) {
  SchedBed bed("sed");
  ipvs::Dest& a = bed.add('A', 3);
  ipvs::Dest& b = bed.add('B', 2);
  bed.add('C', 1);
  b.activeconns = 1;  // 2/2
  a.activeconns = 2;  // 3/3
  // C 1/1; B: 1*2 > 2*1? no; A: 1*3 > 3*1? no -> C (all ties)
  EXPECT_EQ(bed.seq(1), "C");
  a.activeconns = 1;  // 2/3: 1*3 > 2*1 -> A
  EXPECT_EQ(bed.seq(1), "A");
}

TEST(SchedSed, InactiveConnectionsAreIgnored) {
  SchedBed bed("sed");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  b.inactconns = 1000;  // wlc would move to A; sed sees 1 vs 1
  EXPECT_EQ(bed.seq(1), "B");
  a.activeconns = 0;
  b.activeconns = 1;  // 2 vs 1 -> A
  EXPECT_EQ(bed.seq(1), "A");
}

TEST(SchedSed, OverloadAndWeightZero) {
  SchedBed bed("sed");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 4);
  ipvs::Dest& c = bed.add('C', 1);
  b.overloaded = true;
  a.activeconns = 5;
  EXPECT_EQ(bed.seq(1), "C");
  bed.set_weight(c, 0);  // skipped by stage one, and 6*0 > 1*1 never holds later
  EXPECT_EQ(bed.seq(1), "A");
  a.overloaded = true;
  EXPECT_EQ(bed.seq(1), "-");
}

}  // namespace
}  // namespace vs::sched

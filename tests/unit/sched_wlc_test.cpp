// wlc against net/netfilter/ipvs/ip_vs_wlc.c (Linux 6.12). Stage one: the first dest in list
// order with !OVERLOAD && weight > 0 (loh = its overhead). Stage two: every later !OVERLOAD dest
// (weight NOT rechecked) replaces it when (s64)loh * w(d) > (s64)doh * w(least). Overhead =
// (activeconns << 8) + inactconns. Expected values worked out by hand.
#include <gtest/gtest.h>

#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

TEST(SchedWlc, IdleServiceGivesTheFirstEligible) {
  SchedBed bed("wlc");
  bed.add('A', 1);
  bed.add('B', 3);
  bed.add('C', 2);
  EXPECT_EQ(bed.seq(2), "C C");  // all overheads 0: 0 * w > 0 * w never holds
}

TEST(SchedWlc, WeightedComparison) {
  SchedBed bed("wlc");
  ipvs::Dest& a = bed.add('A', 3);
  ipvs::Dest& b = bed.add('B', 2);
  ipvs::Dest& c = bed.add('C', 1);
  c.activeconns = 1;  // 256 / 1
  b.activeconns = 1;  // 256 / 2: 256*2 = 512 > 256*1 = 256 -> B
  a.activeconns = 2;  // 512 / 3: 256*3 = 768 > 512*2 = 1024? no -> B stays
  EXPECT_EQ(bed.seq(1), "B");
  a.activeconns = 1;  // 256 / 3: 768 > 256*2 = 512 -> A
  EXPECT_EQ(bed.seq(1), "A");
}

// Weights go up to INT_MAX (ip_vs_ctl.c refuses only < 0): the products are 64-bit, as the
// kernel's (__s64)loh * weight. 256 * INT_MAX wraps a 32-bit int to -256.
TEST(SchedWlc, LargestWeightsCompareWithoutOverflow) {
  SchedBed bed("wlc");
  ipvs::Dest& a = bed.add('A', 2147483647);
  ipvs::Dest& b = bed.add('B', 3);  // the list is B, A
  b.activeconns = 1;                // loh 256
  a.activeconns = 2;                // 512: 256 * 2147483647 > 512 * 3 -> A
  EXPECT_EQ(bed.seq(1), "A");
}

TEST(SchedWlc, EqualRatioKeepsTheEarlier) {
  SchedBed bed("wlc");
  ipvs::Dest& b = bed.add('B', 2);
  ipvs::Dest& c = bed.add('C', 1);
  c.activeconns = 1;  // 256 / 1
  b.activeconns = 2;  // 512 / 2: 256*2 = 512 > 512*1? no
  EXPECT_EQ(bed.seq(1), "C");
}

TEST(SchedWlc, FirstStageSkipsOverloadAndWeightZero) {
  SchedBed bed("wlc");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 1);
  a.activeconns = 10;
  c.overloaded = true;
  bed.set_weight(b, 0);
  EXPECT_EQ(bed.seq(1), "A");
  a.overloaded = true;
  EXPECT_EQ(bed.seq(1), "-");
}

TEST(SchedWlc, WeightZeroNeverWinsTheSecondStage) {
  SchedBed bed("wlc");
  ipvs::Dest& b = bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 1);
  c.activeconns = 1;
  bed.set_weight(b, 0);  // B idle but weight 0: 256 * 0 > 0 * 1 is false
  EXPECT_EQ(bed.seq(1), "C");
}

TEST(SchedWlc, InactiveConnectionsCountOneIn256) {
  SchedBed bed("wlc");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  b.inactconns = 300;  // 300
  a.activeconns = 1;   // 256: 300*1 > 256*1 -> A
  EXPECT_EQ(bed.seq(1), "A");
  a.inactconns = 44;  // 300: tie -> B
  EXPECT_EQ(bed.seq(1), "B");
}

// The products need 64 bits: C (first) 30000 active, weight 60000 -> 7,680,000;
// B 20000 active, weight 30000 -> 5,120,000. 7,680,000 * 30000 = 230,400,000,000 is not
// greater than 5,120,000 * 60000 = 307,200,000,000, so C stays. (In 32-bit arithmetic the
// products wrap to -1,528,233,984 and -2,037,645,312 and B would wrongly win.)
TEST(SchedWlc, ComparesIn64Bits) {
  SchedBed bed("wlc");
  ipvs::Dest& b = bed.add('B', 30000);
  ipvs::Dest& c = bed.add('C', 60000);
  c.activeconns = 30000;
  b.activeconns = 20000;
  EXPECT_EQ(bed.seq(1), "C");
}

}  // namespace
}  // namespace vs::sched

// ovf against net/netfilter/ipvs/ip_vs_ovf.c (Linux 6.12): skip dests that are OVERLOAD, have
// activeconns > weight, or weight == 0; among the rest the highest weight (strict `>`, so ties
// keep the first in list order). activeconns == weight is still usable.
#include <gtest/gtest.h>

#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

TEST(SchedOvf, HighestWeightUntilItOverflows) {
  SchedBed bed("ovf");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 3);
  ipvs::Dest& c = bed.add('C', 2);
  EXPECT_EQ(bed.seq(1), "B");
  b.activeconns = 3;  // == weight: still used
  EXPECT_EQ(bed.seq(1), "B");
  b.activeconns = 4;  // > weight: skipped -> C (2)
  EXPECT_EQ(bed.seq(1), "C");
  c.activeconns = 3;
  EXPECT_EQ(bed.seq(1), "A");
  a.activeconns = 2;
  EXPECT_EQ(bed.seq(1), "-");
}

TEST(SchedOvf, TiesOverloadAndWeightZero) {
  SchedBed bed("ovf");
  ipvs::Dest& a = bed.add('A', 2);
  ipvs::Dest& b = bed.add('B', 2);
  ipvs::Dest& c = bed.add('C', 5);
  bed.set_weight(c, 0);        // 0 active is not > 0, but weight 0 is skipped
  EXPECT_EQ(bed.seq(1), "B");  // B and A tie, B first (list C,B,A)
  b.overloaded = true;
  EXPECT_EQ(bed.seq(1), "A");
  a.inactconns = 1000;  // inactive connections do not count
  EXPECT_EQ(bed.seq(1), "A");
}

}  // namespace
}  // namespace vs::sched

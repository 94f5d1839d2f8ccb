// fo against net/netfilter/ipvs/ip_vs_fo.c (Linux 6.12): the !OVERLOAD dest with the highest
// weight, found with hw starting at 0 and a strict `weight > hw`, so weight 0 never wins and
// ties keep the first in list order. Connection counts play no part.
#include <gtest/gtest.h>

#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

TEST(SchedFo, HighestWeightFirstInListOnTies) {
  SchedBed bed("fo");
  ipvs::Dest& a = bed.add('A', 3);
  ipvs::Dest& b = bed.add('B', 3);
  bed.add('C', 2);
  b.activeconns = 1000;          // ignored
  EXPECT_EQ(bed.seq(2), "B B");  // list C,B,A: B and A tie at 3, B comes first
  b.overloaded = true;
  EXPECT_EQ(bed.seq(1), "A");
  a.overloaded = true;
  EXPECT_EQ(bed.seq(1), "C");
}

TEST(SchedFo, FailoverOnWeightChanges) {
  SchedBed bed("fo");
  ipvs::Dest& a = bed.add('A', 10);
  ipvs::Dest& b = bed.add('B', 5);
  EXPECT_EQ(bed.seq(1), "A");
  bed.set_weight(a, 0);
  EXPECT_EQ(bed.seq(1), "B");
  bed.set_weight(b, 0);
  EXPECT_EQ(bed.seq(1), "-");
  bed.set_weight(a, 10);
  EXPECT_EQ(bed.seq(1), "A");
}

}  // namespace
}  // namespace vs::sched

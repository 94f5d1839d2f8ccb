// lc against net/netfilter/ipvs/ip_vs_lc.c (Linux 6.12): the smallest overhead
// (activeconns << 8) + inactconns (classic ip_vs_dest_conn_overhead) among dests with
// !OVERLOAD && weight != 0, compared as unsigned with a strict `<`, so ties keep the first in
// list order (newest first). Expected values worked out by hand.
#include <gtest/gtest.h>

#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

TEST(SchedLc, TiesGoToTheFirstInListOrder) {
  SchedBed bed("lc");
  bed.add('A', 1);
  bed.add('B', 1);
  bed.add('C', 1);
  EXPECT_EQ(bed.seq(3), "C C C");  // no counts change: always the head of the list C,B,A
}

TEST(SchedLc, LeastOverheadWins) {
  SchedBed bed("lc");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 1);
  c.activeconns = 1;  // 256
  b.inactconns = 5;   // 5
  a.inactconns = 6;   // 6
  EXPECT_EQ(bed.seq(1), "B");
  b.inactconns = 7;
  EXPECT_EQ(bed.seq(1), "A");
}

TEST(SchedLc, OneActiveWeighs256Inactive) {
  SchedBed bed("lc");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  b.activeconns = 1;   // 256
  a.inactconns = 256;  // 256: tie, B is first
  EXPECT_EQ(bed.seq(1), "B");
  a.inactconns = 255;
  EXPECT_EQ(bed.seq(1), "A");
  a.inactconns = 257;
  EXPECT_EQ(bed.seq(1), "B");
}

TEST(SchedLc, WeightsOtherThanZeroAreIgnored) {
  SchedBed bed("lc");
  ipvs::Dest& a = bed.add('A', 100);
  ipvs::Dest& b = bed.add('B', 1);
  a.inactconns = 1;
  b.inactconns = 1;
  EXPECT_EQ(bed.seq(1), "B");  // tie despite A's weight
}

TEST(SchedLc, WeightZeroAndOverloadAreSkipped) {
  SchedBed bed("lc");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 1);
  a.activeconns = 3;
  bed.set_weight(c, 0);
  b.overloaded = true;
  EXPECT_EQ(bed.seq(1), "A");
  a.overloaded = true;
  EXPECT_EQ(bed.seq(1), "-");
  b.overloaded = false;
  EXPECT_EQ(bed.seq(1), "B");
}

TEST(SchedLc, EmptyServiceGivesNothing) {
  SchedBed bed("lc");
  EXPECT_EQ(bed.pick(), nullptr);
}

}  // namespace
}  // namespace vs::sched

// nq against net/netfilter/ipvs/ip_vs_nq.c (Linux 6.12): in list order, skipping OVERLOAD and
// weight == 0, the first dest with activeconns == 0 is returned immediately; otherwise the
// smallest (activeconns + 1) / weight, switching on (s64)loh*w(d) > (s64)doh*w(least) (ties
// keep the earlier). Expected values worked out by hand.
#include <gtest/gtest.h>

#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

TEST(SchedNq, FirstIdleDestWinsAtOnce) {
  SchedBed bed("nq");
  bed.add('A', 100);
  bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 1);
  c.activeconns = 1;
  EXPECT_EQ(bed.seq(1), "B");  // B is idle, A's weight does not matter
}

TEST(SchedNq, NoIdleDestUsesTheExpectedDelay) {
  SchedBed bed("nq");
  ipvs::Dest& a = bed.add('A', 4);
  ipvs::Dest& b = bed.add('B', 2);
  ipvs::Dest& c = bed.add('C', 1);
  c.activeconns = 1;  // 2/1
  b.activeconns = 2;  // 3/2: 2*2 = 4 > 3*1 = 3 -> B
  a.activeconns = 3;  // 4/4: 3*4 = 12 > 4*2 = 8 -> A
  EXPECT_EQ(bed.seq(1), "A");
  a.activeconns = 5;  // 6/4: 3*4 = 12 > 6*2 = 12? no -> B
  EXPECT_EQ(bed.seq(1), "B");
}

TEST(SchedNq, InactiveConnectionsAreIgnored) {
  SchedBed bed("nq");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  b.inactconns = 50;  // idle as far as nq is concerned (UDP conns are never active)
  EXPECT_EQ(bed.seq(3), "B B B");
}

TEST(SchedNq, IdleButQuiescedOrOverloadedIsSkipped) {
  SchedBed bed("nq");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 1);
  a.activeconns = 5;
  b.overloaded = true;
  bed.set_weight(c, 0);
  EXPECT_EQ(bed.seq(1), "A");
  a.overloaded = true;
  EXPECT_EQ(bed.seq(1), "-");
}

TEST(SchedNq, TiesKeepTheEarlier) {
  SchedBed bed("nq");
  ipvs::Dest& b = bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 1);
  b.activeconns = 1;
  c.activeconns = 1;
  EXPECT_EQ(bed.seq(1), "C");
}

}  // namespace
}  // namespace vs::sched

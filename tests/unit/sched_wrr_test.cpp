// wrr against sequences worked out by hand from net/netfilter/ipvs/ip_vs_wrr.c (Linux 6.12).
//   di = gcd of the weights > 0 (1 if none), mw = max weight - (di - 1).
//   init_service: cl = head, cw = mw.
//   add/del/upd (ip_vs_wrr_dest_changed): cl = head; di, mw recomputed; cw = mw if cw > mw or
//     cw == 0, else if di > 1: cw = (cw / di) * di + 1.
//   schedule: from the entry after cl to the end, take the first !OVERLOAD entry with
//     weight >= cw; at the end cw -= di; cw <= 0 -> cw = mw (and stop with no destination if this
//     was the last pass or the walk started at the head, else "restarted"); last_pass = cw <= di;
//     with last_pass && restarted && started mid-list, the walk stops at the starting entry.
// The list is newest first.
#include <gtest/gtest.h>

#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

// add A(4), B(3), C(2) one by one on an empty service:
//   new scheduler: di 1, mw 0, cw = mw = 0.
//   add A: di 4, mw 1, cw 0 -> cw = mw = 1.   add B: di 1, mw 4, cw 1 kept.   add C: same.
// So the first cycle runs at cw 1 (C B A), then cw restarts at 4:
//   cw4: A | cw3: B A | cw2: C B A | cw1: C B A | cw4: A ...
// Weights up to INT_MAX: add A: di = mw... = 1, cw 1; add B: di 1, mw INT_MAX, cw 1 kept.
//   cw1: B A | cw INT_MAX: A | cw INT_MAX-1: B A
TEST(SchedWrr, LargestWeights) {
  SchedBed bed("wrr");
  bed.add('A', 2147483647);
  bed.add('B', 2147483646);
  EXPECT_EQ(bed.seq(5), "B A A B A");
}

TEST(SchedWrr, AddedOneByOneFirstCycleVisitsEachOnce) {
  SchedBed bed("wrr");
  bed.add('A', 4);
  bed.add('B', 3);
  bed.add('C', 2);
  EXPECT_EQ(bed.seq(21), "C B A A B A C B A C B A A B A C B A C B A");
}

// The same dests when the scheduler is bound to the existing service (ipvsadm -E): init_service
// gives cw = mw = 4 at once.
TEST(SchedWrr, BoundToExistingDestsStartsAtMaxWeight) {
  SchedBed bed("wrr");
  bed.add_no_hook('A', 4);
  bed.add_no_hook('B', 3);
  bed.add_no_hook('C', 2);
  bed.rebind();
  EXPECT_EQ(bed.seq(18), "A B A C B A C B A A B A C B A C B A");
}

// add A(2), B(4): add A: di 2, mw 1, cw 0 -> 1. add B: di 2, mw 3, cw 1 -> (1/2)*2+1 = 1.
//   cw1: B A | end: cw -1 -> 3 (restarted): B | end: cw 1: B A | cw 3: B | ...
TEST(SchedWrr, GcdStepWithTwoWeights) {
  SchedBed bed("wrr");
  bed.add('A', 2);
  bed.add('B', 4);
  EXPECT_EQ(bed.seq(8), "B A B B A B B A");
}

// After C B A A B A (cw 3, cl A), C's weight goes to 6: cl = head, di 1, mw 6, cw 3 kept.
//   cw3: C B A | cw2: C B A | cw1: C B A | cw6: C | cw5: C | cw4: C A | cw3: C B A
TEST(SchedWrr, WeightIncreaseMidCycle) {
  SchedBed bed("wrr");
  bed.add('A', 4);
  bed.add('B', 3);
  ipvs::Dest& c = bed.add('C', 2);
  EXPECT_EQ(bed.seq(6), "C B A A B A");
  bed.set_weight(c, 6);
  EXPECT_EQ(bed.seq(16), "C B A C B A C B A C C C A C B A");
}

// add A(4), B(3): cw 1. Picks: cw1 B A | cw4 A | cw3 B A | cw2 B -> cw 2, cl B.
// B's weight -> 2: di 2, mw 3, cw 2 -> (2/2)*2+1 = 3, cl head.
//   cw3: A | cw1: B A | cw3: A | cw1: B A
// (Without the di rounding cw would stay 2 and B would come first.)
TEST(SchedWrr, WeightEditRoundsCurrentWeightToTheNewGcd) {
  SchedBed bed("wrr");
  bed.add('A', 4);
  ipvs::Dest& b = bed.add('B', 3);
  EXPECT_EQ(bed.seq(6), "B A A B A B");
  bed.set_weight(b, 2);
  EXPECT_EQ(bed.seq(6), "A B A A B A");
}

// After C B A A B (cw 3, cl B) B is deleted: list C,A; di 2, mw 3, cw 3 -> (3/2)*2+1 = 3.
//   cw3: A | cw1: C A | cw3: A | cw1: C A
TEST(SchedWrr, DeletionMidCycle) {
  SchedBed bed("wrr");
  bed.add('A', 4);
  ipvs::Dest& b = bed.add('B', 3);
  bed.add('C', 2);
  EXPECT_EQ(bed.seq(5), "C B A A B");
  bed.del(b);
  EXPECT_EQ(bed.seq(6), "A C A A C A");
}

// Bound with A4 B3 C2 (cw 4), then B quiesced: di gcd(4,2) = 2, mw 3, cw 4 > 3 -> 3.
//   cw3: A | cw1: C A | cw3: A | cw1: C A
TEST(SchedWrr, WeightZeroIsNeverPicked) {
  SchedBed bed("wrr");
  bed.add_no_hook('A', 4);
  ipvs::Dest& b = bed.add_no_hook('B', 3);
  bed.add_no_hook('C', 2);
  bed.rebind();
  bed.set_weight(b, 0);
  EXPECT_EQ(bed.seq(6), "A C A A C A");
}

// add A4 B3 C2 one by one, A overloaded. cw 1:
//   C B | end: cw 0 -> 4, restarted; nothing >= 4 | cw 3: B | cw 2: C B | cw 1: C B | cw 3: B
TEST(SchedWrr, OverloadedIsSkipped) {
  SchedBed bed("wrr");
  ipvs::Dest& a = bed.add('A', 4);
  bed.add('B', 3);
  bed.add('C', 2);
  a.overloaded = true;
  EXPECT_EQ(bed.seq(8), "C B B C B C B B");
}

// After C B A (cw 1, cl A) everything is overloaded: from A the walk wraps (cw 4, restarted),
// runs cw 4, 3, 2 over the whole list, then at cw 1 (last pass) stops when it reaches A again:
// no destination, cl = A, cw = 1. When the flags clear the cycle continues as if nothing
// happened: end of list, cw -> 4: A | cw3: B A | cw2: C B A
TEST(SchedWrr, AllOverloadedThenCleared) {
  SchedBed bed("wrr");
  ipvs::Dest& a = bed.add('A', 4);
  ipvs::Dest& b = bed.add('B', 3);
  ipvs::Dest& c = bed.add('C', 2);
  EXPECT_EQ(bed.seq(3), "C B A");
  a.overloaded = b.overloaded = c.overloaded = true;
  EXPECT_EQ(bed.seq(2), "- -");
  a.overloaded = b.overloaded = c.overloaded = false;
  EXPECT_EQ(bed.seq(6), "A B A C B A");
}

// All overloaded from a fresh start (cl = head): one pass per cw value, then cw <= 0 with
// last == head ends the walk; nothing loops forever.
TEST(SchedWrr, AllOverloadedFromTheHead) {
  SchedBed bed("wrr");
  bed.add_no_hook('A', 4);
  bed.add_no_hook('B', 3);
  bed.rebind();
  for (ipvs::Dest* d : bed.svc.dests) d->overloaded = true;
  EXPECT_EQ(bed.seq(3), "- - -");
}

TEST(SchedWrr, AllWeightZeroOrEmptyGivesNothing) {
  SchedBed bed("wrr");
  EXPECT_EQ(bed.pick(), nullptr);
  ipvs::Dest& a = bed.add('A', 0);  // mw = 0 - 0 = 0
  EXPECT_EQ(bed.pick(), nullptr);
  bed.set_weight(a, 1);
  EXPECT_EQ(bed.seq(2), "A A");
}

// Equal weights 2, 2: di 2, mw 1. After adds cw = 1: B A B A ... (every pass is the last).
TEST(SchedWrr, EqualWeightsAreRoundRobin) {
  SchedBed bed("wrr");
  bed.add('A', 2);
  bed.add('B', 2);
  EXPECT_EQ(bed.seq(5), "B A B A B");
}

}  // namespace
}  // namespace vs::sched

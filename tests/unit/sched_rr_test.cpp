// rr against sequences worked out by hand from net/netfilter/ipvs/ip_vs_rr.c (Linux 6.12):
//   * init_service: cursor = list head.
//   * schedule: last = cursor; walk the entries after the cursor to the end of the list; if the
//     cursor was not the head, walk again from the first entry, stopping after `last` itself;
//     take the first entry with !OVERLOAD && weight > 0 and move the cursor to it.
//   * no add_dest hook (the new entry is at the head, so it is reached after the wrap).
//   * del_dest (after the unlink): if the cursor was the removed entry, it becomes p->next->prev,
//     i.e. the entry that PRECEDED the removed one (or the head).
// The list is newest first: adding A, B, C gives C, B, A.
#include <gtest/gtest.h>

#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

TEST(SchedRr, AllAddedFirstCyclesInListOrder) {
  SchedBed bed("rr");
  bed.add('A', 1);
  bed.add('B', 1);
  bed.add('C', 1);
  // list C,B,A; cursor head: one pass over the whole list each time.
  EXPECT_EQ(bed.seq(7), "C B A C B A C");
}

TEST(SchedRr, AddedOneByOneBetweenPicks) {
  SchedBed bed("rr");
  bed.add('A', 1);
  EXPECT_EQ(bed.seq(2), "A A");  // cursor head -> A; then after A: nothing, wrap: A
  bed.add('B', 1);               // list B,A, cursor A: after A nothing, wrap -> B, then A
  EXPECT_EQ(bed.seq(3), "B A B");
  bed.add('C', 1);  // list C,B,A, cursor B: after B -> A, then wrap -> C
  EXPECT_EQ(bed.seq(5), "A C B A C");
}

TEST(SchedRr, WeightZeroAndOverloadAreSkippedAndComeBack) {
  SchedBed bed("rr");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 5);  // weights other than 0 do not matter
  bed.add('C', 1);
  EXPECT_EQ(bed.seq(2), "C B");
  bed.set_weight(b, 0);  // cursor stays at B (rr has no upd_dest)
  EXPECT_EQ(bed.seq(4), "A C A C");
  bed.set_weight(b, 1);
  a.overloaded = true;
  EXPECT_EQ(bed.seq(4), "B C B C");  // cursor C: after C -> B; after B: A overloaded, wrap -> C
  a.overloaded = false;
  EXPECT_EQ(bed.seq(3), "B A C");
}

TEST(SchedRr, NothingEligibleKeepsTheCursor) {
  SchedBed bed("rr");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 1);
  EXPECT_EQ(bed.seq(2), "C B");  // cursor B
  a.overloaded = b.overloaded = c.overloaded = true;
  EXPECT_EQ(bed.seq(2), "- -");
  a.overloaded = b.overloaded = c.overloaded = false;
  EXPECT_EQ(bed.seq(2), "A C");  // continues after B
}

TEST(SchedRr, DeletingTheCursorContinuesWithItsSuccessor) {
  SchedBed bed("rr");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  bed.add('C', 1);
  EXPECT_EQ(bed.seq(2), "C B");  // cursor B
  bed.del(b);                    // cursor -> C (B's predecessor); list C,A
  EXPECT_EQ(bed.seq(3), "A C A");
}

TEST(SchedRr, DeletingTheCursorAtTheFrontGoesToTheHead) {
  SchedBed bed("rr");
  bed.add('A', 1);
  bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 1);
  EXPECT_EQ(bed.seq(1), "C");  // cursor C, the first entry
  bed.del(c);                  // predecessor is the head: one full pass from B
  EXPECT_EQ(bed.seq(3), "B A B");
}

TEST(SchedRr, DeletingTheCursorAtTheEnd) {
  SchedBed bed("rr");
  ipvs::Dest& a = bed.add('A', 1);
  bed.add('B', 1);
  bed.add('C', 1);
  EXPECT_EQ(bed.seq(3), "C B A");  // cursor A, the last entry
  bed.del(a);                      // cursor -> B: after B nothing, wrap -> C
  EXPECT_EQ(bed.seq(3), "C B C");
}

TEST(SchedRr, DeletingAnotherEntryKeepsTheCursor) {
  SchedBed bed("rr");
  ipvs::Dest& a = bed.add('A', 1);
  bed.add('B', 1);
  bed.add('C', 1);
  EXPECT_EQ(bed.seq(2), "C B");  // cursor B
  bed.del(a);                    // list C,B: after B nothing, wrap -> C
  EXPECT_EQ(bed.seq(3), "C B C");
}

TEST(SchedRr, AddingMidCycleIsReachedAfterTheWrap) {
  SchedBed bed("rr");
  bed.add('A', 1);
  bed.add('B', 1);
  EXPECT_EQ(bed.seq(1), "B");  // cursor B
  bed.add('C', 1);             // list C,B,A
  EXPECT_EQ(bed.seq(4), "A C B A");
}

TEST(SchedRr, RebindStartsAtTheHead) {
  SchedBed bed("rr");
  bed.add_no_hook('A', 1);
  bed.add_no_hook('B', 1);
  bed.rebind();
  EXPECT_EQ(bed.seq(3), "B A B");
}

TEST(SchedRr, EmptyServiceGivesNothing) {
  SchedBed bed("rr");
  EXPECT_EQ(bed.pick(), nullptr);
}

}  // namespace
}  // namespace vs::sched

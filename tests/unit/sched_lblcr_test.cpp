// lblcr against net/netfilter/ipvs/ip_vs_lblcr.c (Linux 6.12), worked out by hand.
//   * cache keyed by the packet's DESTINATION address, each entry a SET of dests (newest first).
//   * hit: lastuse = now; d = set_min (stage one: first member !OVERLOAD, weight > 0,
//     AVAILABLE; stage two: later !OVERLOAD members switch on (s64)loh*w(d) > (s64)doh*w(least)
//     if AVAILABLE). Then if |set| > 1 and now > lastmod + 24 h: erase set_max (first member
//     with weight > 0, switching on moh*w(d) < doh*w(most) with w(d) > 0), lastmod = now. If d
//     and not is_overloaded(d) (activeconns > weight while some dest has active*2 < weight):
//     d. Else the wlc pick over the service, added to the set if absent (lastmod = now).
//   * miss: the wlc pick; a new entry {pick}.
// Overhead = activeconns * 256 + inactconns. Adding A, B, C gives the list C, B, A.
#include <gtest/gtest.h>

#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

FlowKey to_x() {
  FlowKey f;
  f.src = Ipv4Addr::from_octets(172, 16, 0, 1);
  f.dst = Ipv4Addr::from_octets(10, 9, 9, 9);
  f.sport = 40000;
  f.dport = 80;
  f.proto = IpProto::kTcp;
  return f;
}

Instant at_s(int64_t s, int64_t us = 0) { return Instant{s * 1000000 + us}; }

struct Abc {
  SchedBed bed{"lblcr"};
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 1);
  std::string pick() { return SchedBed::name(bed.pick(to_x())); }
};

// Builds the set {A, B, C} for X at t0 = 1000 s (see the steps); returns with lastmod = t0,
// loads A 0, B 512, C 512.
void grow_to_three(Abc& s) {
  s.bed.now = at_s(1000);
  EXPECT_EQ(s.pick(), "C");  // miss: wlc over C,B,A all idle -> C; set {C}
  s.c.activeconns = 1;
  EXPECT_EQ(s.pick(), "C");  // set_min C, 1 > 1 false: not busy
  s.c.activeconns = 2;       // busy (B: 0 < 1) -> wlc: C 512, B 0 -> B; set {B, C}
  EXPECT_EQ(s.pick(), "B");
  EXPECT_EQ(s.pick(), "B");  // set_min {B 0, C 512} -> B
  s.b.activeconns = 2;       // set_min B (512 tie keeps B), busy -> wlc -> A; set {A, B, C}
  EXPECT_EQ(s.pick(), "A");
  EXPECT_EQ(s.pick(), "A");  // set_min: A 0
}

TEST(SchedLblcr, SetGrowsWhenItsBestMemberIsBusy) {
  Abc s;
  grow_to_three(s);
  // All three are members now: whichever is least loaded (and not busy) is used.
  s.a.activeconns = 1;
  s.b.activeconns = 0;
  s.c.activeconns = 1;
  EXPECT_EQ(s.pick(), "B");
  s.b.activeconns = 1;
  EXPECT_EQ(s.pick(), "A");  // A 256, B 256, C 256 in set order A, B, C: A
}

// lastmod = t0 (the insertion of A). A refresh at t0 + 12 h keeps the entry clear of the GC.
// At exactly t0 + 24 h nothing happens (strict >); 1 us later set_max {A 0, B 512, C 512} =
// B (C ties with B and does not replace it) is erased while set_min (A) is returned.
TEST(SchedLblcr, MostLoadedMemberIsDroppedAfterTheSetWasStableFor24Hours) {
  Abc s;
  grow_to_three(s);
  s.bed.now = at_s(1000 + 43200);
  EXPECT_EQ(s.pick(), "A");
  s.bed.now = at_s(1000 + 86400);
  EXPECT_EQ(s.pick(), "A");
  s.b.activeconns = 0;  // if B were still a member, set_min would now give B
  s.a.activeconns = 1;
  s.c.activeconns = 1;
  EXPECT_EQ(s.pick(), "B");  // still a member at exactly lastmod + 24 h
  s.b.activeconns = 2;
  s.a.activeconns = 0;
  s.c.activeconns = 2;
  s.bed.now = at_s(1000 + 86400, 1);
  EXPECT_EQ(s.pick(), "A");  // B erased (lastmod = now)
  s.b.activeconns = 0;
  s.a.activeconns = 1;
  s.c.activeconns = 1;
  EXPECT_EQ(s.pick(), "A");  // set {A, C}: A 256, C 256 -> A; B is gone
}

// Two equally loaded members: set_min and set_max are both the first member, so the expiry
// erases the very dest it returns; the next pick sees the remaining member.
TEST(SchedLblcr, ExpiryMayEraseTheReturnedMember) {
  SchedBed bed("lblcr");
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  (void)a;
  bed.now = at_s(50);
  EXPECT_EQ(SchedBed::name(bed.pick(to_x())), "B");  // {B}
  b.activeconns = 2;                                 // busy -> wlc -> A; {A, B}
  EXPECT_EQ(SchedBed::name(bed.pick(to_x())), "A");
  b.activeconns = 0;
  EXPECT_EQ(SchedBed::name(bed.pick(to_x())), "A");  // A 0, B 0: the first, A
  bed.now = at_s(50 + 43200);
  EXPECT_EQ(SchedBed::name(bed.pick(to_x())), "A");
  bed.now = at_s(50 + 86400, 1);
  EXPECT_EQ(SchedBed::name(bed.pick(to_x())), "A");  // returned, and erased from the set
  EXPECT_EQ(SchedBed::name(bed.pick(to_x())), "B");  // {B}
}

TEST(SchedLblcr, SetMinSkipsOverloadedAndRemovedMembers) {
  Abc s;
  EXPECT_EQ(s.pick(), "C");  // {C}
  s.c.overloaded = true;     // set_min finds nothing -> wlc skips C -> B; {B, C}
  EXPECT_EQ(s.pick(), "B");
  s.c.overloaded = false;
  s.b.activeconns = 1;  // set_min: B 256, C 0 -> C
  EXPECT_EQ(s.pick(), "C");
  s.bed.del(s.c);  // C no longer AVAILABLE: set_min -> B (1 > 1 false: not busy)
  EXPECT_EQ(s.pick(), "B");
}

TEST(SchedLblcr, NothingAvailable) {
  Abc s;
  EXPECT_EQ(s.pick(), "C");
  s.a.overloaded = s.b.overloaded = s.c.overloaded = true;
  EXPECT_EQ(s.pick(), "-");  // set_min none, wlc none
  SchedBed empty("lblcr");
  EXPECT_EQ(empty.pick(to_x()), nullptr);
}

// The entry itself expires like lblc's: used at t0, dropped by the full check at t0 + 86400 s
// (GC started at t0); then a miss makes a fresh set from the wlc pick.
TEST(SchedLblcr, EntryExpiresAtTheFullCheck) {
  Abc s;
  s.bed.now = at_s(10);
  EXPECT_EQ(s.pick(), "C");
  s.c.activeconns = 1;  // C still fine for its set, but wlc would pick B
  s.bed.now = at_s(10 + 86400, -1);
  s.bed.now = at_s(10 + 86400);
  EXPECT_EQ(s.pick(), "B");
  s.c.activeconns = 0;
  s.b.activeconns = 1;
  EXPECT_EQ(s.pick(), "B");  // the new set is {B}: C (now idle) would win if it were a member
}

}  // namespace
}  // namespace vs::sched

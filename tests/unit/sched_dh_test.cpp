// dh against net/netfilter/ipvs/ip_vs_dh.c (Linux 6.12), worked out by hand:
//   * 256 buckets; bucket i = the (i mod n)-th dest in list order (weights ignored), rebuilt on
//     add_dest and del_dest only (no upd_dest).
//   * bucket = hash_32(daddr, 8) = (daddr * 0x61C88647 mod 2^32) >> 24. For the addresses used:
//       192.168.1.1 (0xC0A80101) -> 136, 192.168.1.6 -> 113, 10.9.9.1 (0x0A090901) -> 237,
//       10.9.9.3 -> 176.
//   * the bucket's dest is used only if AVAILABLE, weight > 0 and !OVERLOAD; no fallback.
#include <gtest/gtest.h>

#include <string>

#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

FlowKey to(const char* dst) {
  FlowKey f;
  f.src = *Ipv4Addr::parse("172.16.0.1");
  f.dst = *Ipv4Addr::parse(dst);
  f.proto = IpProto::kTcp;
  return f;
}

std::string table_prefix(SchedBed& bed, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += SchedBed::name(lookup_table(*bed.svc.sched)[i]);
  return s;
}

TEST(SchedDh, HashOfTheDestinationAddress) {
  EXPECT_EQ(dh_hashkey(*Ipv4Addr::parse("192.168.1.1")), 136u);
  EXPECT_EQ(dh_hashkey(*Ipv4Addr::parse("192.168.1.6")), 113u);
  EXPECT_EQ(dh_hashkey(*Ipv4Addr::parse("10.9.9.1")), 237u);
  EXPECT_EQ(dh_hashkey(*Ipv4Addr::parse("10.9.9.3")), 176u);
}

TEST(SchedDh, BucketsCycleThroughTheListIgnoringWeights) {
  SchedBed bed("dh");
  bed.add('A', 5);
  bed.add('B', 1);
  bed.add('C', 2);
  ASSERT_EQ(lookup_table(*bed.svc.sched).size(), 256u);
  EXPECT_EQ(table_prefix(bed, 7), "CBACBAC");
  EXPECT_EQ(SchedBed::name(lookup_table(*bed.svc.sched)[255]), "C");  // 255 % 3 == 0
  EXPECT_EQ(SchedBed::name(bed.pick(to("192.168.1.1"))), "B");        // 136 % 3 = 1
  EXPECT_EQ(SchedBed::name(bed.pick(to("10.9.9.3"))), "A");           // 176 % 3 = 2
  EXPECT_EQ(SchedBed::name(bed.pick(to("10.9.9.1"))), "C");           // 237 % 3 = 0
}

TEST(SchedDh, WeightEditsDoNotRebuildAndThereIsNoFallback) {
  SchedBed bed("dh");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 1);
  bed.set_weight(b, 0);
  EXPECT_EQ(table_prefix(bed, 6), "CBACBA");  // unchanged
  EXPECT_EQ(SchedBed::name(bed.pick(to("192.168.1.1"))), "-");
  EXPECT_EQ(SchedBed::name(bed.pick(to("10.9.9.3"))), "A");
  c.overloaded = true;
  EXPECT_EQ(SchedBed::name(bed.pick(to("10.9.9.1"))), "-");
  bed.set_weight(b, 1);
  EXPECT_EQ(SchedBed::name(bed.pick(to("192.168.1.1"))), "B");
}

TEST(SchedDh, DeletionRebuilds) {
  SchedBed bed("dh");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  bed.add('C', 1);
  bed.del(b);  // list C,A
  EXPECT_EQ(table_prefix(bed, 4), "CACA");
  EXPECT_EQ(SchedBed::name(bed.pick(to("192.168.1.1"))), "C");  // 136 even
  EXPECT_EQ(SchedBed::name(bed.pick(to("192.168.1.6"))), "A");  // 113 odd
}

TEST(SchedDh, EmptyServiceHasAnEmptyTable) {
  SchedBed bed("dh");
  EXPECT_EQ(SchedBed::name(bed.pick(to("192.168.1.1"))), "-");
  ipvs::Dest& a = bed.add('A', 1);
  EXPECT_EQ(SchedBed::name(bed.pick(to("192.168.1.1"))), "A");
  bed.del(a);
  EXPECT_EQ(lookup_table(*bed.svc.sched)[136], nullptr);
}

}  // namespace
}  // namespace vs::sched

// sh against net/netfilter/ipvs/ip_vs_sh.c (Linux 6.12), worked out by hand. (The exhaustive
// comparison over many clients and scenarios is sched_hash_fixture_test.cpp, against the
// independent Python model.)
//   * 256 buckets, rebuilt on add, del AND upd from the current weights: walking the list
//     cyclically, a dest stays for `weight` buckets ("++count >= weight"), so weight 0 takes one.
//   * key = (offset + hash_32(port + saddr, 8)) & 255; hash_32(x, 8) = (x * 0x61C88647) >> 24.
//       192.168.1.1 -> 136; with TCP/UDP/SCTP source port 1234 (sh-port) -> 225.
//   * unavailable = weight <= 0 || OVERLOAD. sh-fallback probes (offset + 2 * ih) & 255 for
//     offset = 0, 1, ... and stops at an empty bucket.
#include <gtest/gtest.h>

#include <string>

#include "config/sched_names.hpp"
#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

FlowKey from(const char* src, uint16_t sport = 0, IpProto proto = IpProto::kTcp) {
  FlowKey f;
  f.src = *Ipv4Addr::parse(src);
  f.dst = *Ipv4Addr::parse("10.0.100.1");
  f.sport = sport;
  f.dport = 80;
  f.proto = proto;
  return f;
}

std::string table_prefix(SchedBed& bed, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += SchedBed::name(lookup_table(*bed.svc.sched)[i]);
  return s;
}

int owned(SchedBed& bed, const ipvs::Dest& d) {
  int n = 0;
  for (const ipvs::Dest* x : lookup_table(*bed.svc.sched)) n += x == &d ? 1 : 0;
  return n;
}

TEST(SchedSh, HashKey) {
  const Ipv4Addr a = *Ipv4Addr::parse("192.168.1.1");
  EXPECT_EQ(sh_hashkey(a, 0, 0), 136u);
  EXPECT_EQ(sh_hashkey(a, 1234, 0), 225u);
  EXPECT_EQ(sh_hashkey(a, 0, 200), (200u + 136u) & 255u);
}

// add A(2), B(1), C(3): list C,B,A -> C C C B A A, repeated. 256 = 42 * 6 + 4, so C gets
// 42*3 + 3 = 129, B 42 + 1 = 43, A 42*2 = 84.
TEST(SchedSh, WeightedFill) {
  SchedBed bed("sh");
  ipvs::Dest& a = bed.add('A', 2);
  ipvs::Dest& b = bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 3);
  EXPECT_EQ(table_prefix(bed, 12), "CCCBAACCCBAA");
  EXPECT_EQ(owned(bed, c), 129);
  EXPECT_EQ(owned(bed, b), 43);
  EXPECT_EQ(owned(bed, a), 84);
}

// A(2), B(2): list B,A -> B B A A. Quiescing B rebuilds: B takes one bucket -> B A A B A A.
TEST(SchedSh, QuiescingRebuildsTheTable) {
  SchedBed bed("sh");
  bed.add('A', 2);
  ipvs::Dest& b = bed.add('B', 2);
  EXPECT_EQ(table_prefix(bed, 8), "BBAABBAA");
  bed.set_weight(b, 0);
  EXPECT_EQ(table_prefix(bed, 9), "BAABAABAA");
  EXPECT_EQ(owned(bed, b), 86);  // buckets 0, 3, ..., 255
}

// A(1), B(1): list B,A -> even buckets B, odd buckets A.
TEST(SchedSh, PortOnlyWithTheFlagAndOnlyForPortProtocols) {
  SchedBed bed("sh");
  bed.add('A', 1);
  bed.add('B', 1);
  EXPECT_EQ(SchedBed::name(bed.pick(from("192.168.1.1", 1234))), "B");  // 136
  bed.svc.flags = config::kFlagShPort;
  EXPECT_EQ(SchedBed::name(bed.pick(from("192.168.1.1", 1234, IpProto::kTcp))), "A");  // 225
  EXPECT_EQ(SchedBed::name(bed.pick(from("192.168.1.1", 1234, IpProto::kUdp))), "A");
  EXPECT_EQ(SchedBed::name(bed.pick(from("192.168.1.1", 1234, IpProto::kSctp))), "A");
  EXPECT_EQ(SchedBed::name(bed.pick(from("192.168.1.1", 1234, IpProto::kIcmp))), "B");  // ICMP: port 0
}

TEST(SchedSh, UnavailableWithoutFallbackGivesNothing) {
  SchedBed bed("sh");
  bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  b.overloaded = true;
  EXPECT_EQ(SchedBed::name(bed.pick(from("192.168.1.1"))), "-");  // bucket 136 is B
  EXPECT_EQ(SchedBed::name(bed.pick(from("192.168.1.6"))), "A");  // 113
}

// 256 dests of weight 1: bucket i holds list[i]. Client 192.168.1.1 hashes to 136. With
// sh-fallback and list[136] overloaded, the probes are (0 + 272) & 255 = 16, then 17, 18, ...
// (not 137, which a plain linear probe would take).
TEST(SchedSh, FallbackProbeOrder) {
  SchedBed bed("sh", config::kFlagShFallback);
  for (int i = 0; i < 256; ++i) {
    bed.add(Ipv4Addr::from_octets(10, 1, static_cast<uint8_t>(i / 256), static_cast<uint8_t>(i)), 1);
  }
  auto& list = bed.svc.dests;
  const FlowKey client = from("192.168.1.1");
  EXPECT_EQ(bed.pick(client), list[136]);
  list[136]->overloaded = true;
  EXPECT_EQ(bed.pick(client), list[16]);
  list[16]->overloaded = true;
  EXPECT_EQ(bed.pick(client), list[17]);
  bed.set_weight(*list[17], 0);  // rebuild; weight 0 still owns its bucket but is unavailable
  EXPECT_EQ(bed.pick(client), list[18]);
}

// A(1), B(1), C(1): list C,B,A, bucket i -> i % 3 (0 C, 1 B, 2 A). Client 136 -> B.
TEST(SchedSh, FallbackSkipsEveryUnavailableKind) {
  SchedBed bed("sh", config::kFlagShFallback);
  ipvs::Dest& a = bed.add('A', 1);
  ipvs::Dest& b = bed.add('B', 1);
  ipvs::Dest& c = bed.add('C', 1);
  const FlowKey client = from("192.168.1.1");
  EXPECT_EQ(SchedBed::name(bed.pick(client)), "B");
  b.overloaded = true;  // probes 16 (B), 17 (A)
  EXPECT_EQ(SchedBed::name(bed.pick(client)), "A");
  bed.set_weight(a, 0);  // table unchanged (weight 1 and 0 both take one bucket); 18 (C)
  EXPECT_EQ(SchedBed::name(bed.pick(client)), "C");
  c.overloaded = true;
  EXPECT_EQ(SchedBed::name(bed.pick(client)), "-");
  b.overloaded = false;
  EXPECT_EQ(SchedBed::name(bed.pick(client)), "B");
}

TEST(SchedSh, EmptyServiceGivesNothingWithOrWithoutFallback) {
  SchedBed bed("sh", config::kFlagShFallback);
  EXPECT_EQ(bed.pick(from("192.168.1.1")), nullptr);
  bed.svc.flags = 0;
  EXPECT_EQ(bed.pick(from("192.168.1.1")), nullptr);
}

}  // namespace
}  // namespace vs::sched

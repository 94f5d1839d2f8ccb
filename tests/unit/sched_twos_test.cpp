// twos against net/netfilter/ipvs/ip_vs_twos.c (Linux 6.12):
//   total = sum of weights of !OVERLOAD, weight > 0 dests (none: no destination, and no random
//   number is drawn); r1, r2 = get_random_u32_below(total + 1); walking those dests in list
//   order, each weight is subtracted from both and the first dest where r <= 0 becomes that
//   choice; choice 2 wins if w2 * oh1 > w1 * oh2 in 32-bit int arithmetic.
// vsrouter draws get_random_u32() from SchedContext::rng (next_u32) and reduces it with the
// kernel's __get_random_u32_below (multiply-shift with rejection). The reference below is a
// straight transcription of those two kernel functions, run on an identical generator.
#include <gtest/gtest.h>

#include <vector>

#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

uint32_t ref_below(Rng& rng, uint32_t ceil) {
  uint32_t rand = rng.next_u32();
  if (ceil == 0) return rand;
  uint64_t mult = uint64_t{ceil} * rand;
  if (static_cast<uint32_t>(mult) < ceil) {
    const uint32_t bound = static_cast<uint32_t>(-ceil) % ceil;
    while (static_cast<uint32_t>(mult) < bound) mult = uint64_t{ceil} * rng.next_u32();
  }
  return static_cast<uint32_t>(mult >> 32);
}

const ipvs::Dest* ref_twos(const std::vector<ipvs::Dest*>& list, Rng& rng) {
  // int arithmetic as the kernel's (-fno-strict-overflow: wraps), in uint32_t here: weights
  // reach INT_MAX.
  uint32_t total = 0;
  bool any = false;
  for (const ipvs::Dest* d : list) {
    if (!d->overloaded && d->weight > 0) {
      total += static_cast<uint32_t>(d->weight);
      any = true;
    }
  }
  if (!any) return nullptr;
  uint32_t r1 = ref_below(rng, total + 1);
  uint32_t r2 = ref_below(rng, total + 1);
  const ipvs::Dest* c1 = nullptr;
  const ipvs::Dest* c2 = nullptr;
  int w1 = -1, w2 = -1;
  uint32_t oh1 = 0, oh2 = 0;
  for (const ipvs::Dest* d : list) {
    if (d->overloaded || d->weight <= 0) continue;
    r1 -= static_cast<uint32_t>(d->weight);
    r2 -= static_cast<uint32_t>(d->weight);
    if (static_cast<int32_t>(r1) <= 0 && w1 == -1) {
      c1 = d;
      w1 = d->weight;
      oh1 = (d->activeconns << 8) + d->inactconns;
    }
    if (static_cast<int32_t>(r2) <= 0 && w2 == -1) {
      c2 = d;
      w2 = d->weight;
      oh2 = (d->activeconns << 8) + d->inactconns;
    }
    if (w1 != -1 && w2 != -1) break;
  }
  // int * int in the kernel, wrapping (the kernel is built with -fno-strict-overflow).
  const auto lhs = static_cast<int32_t>(static_cast<uint32_t>(w2) * oh1);
  const auto rhs = static_cast<int32_t>(static_cast<uint32_t>(w1) * oh2);
  return lhs > rhs ? c2 : c1;
}

TEST(SchedTwos, SingleEligibleDestIsAlwaysChosen) {
  SchedBed bed("twos");
  ipvs::Dest& a = bed.add('A', 3);
  ipvs::Dest& b = bed.add('B', 2);
  bed.add('C', 5);
  bed.set_weight(*bed.svc.dests[0], 0);  // C quiesced
  b.overloaded = true;
  a.activeconns = 100;
  EXPECT_EQ(bed.seq(6), "A A A A A A");
}

TEST(SchedTwos, NothingEligibleDrawsNoRandomNumber) {
  SchedBed bed("twos", 0, 99);
  ipvs::Dest& a = bed.add('A', 1);
  a.overloaded = true;
  EXPECT_EQ(bed.pick(), nullptr);
  Rng fresh(99);
  EXPECT_EQ(bed.rng.next_u64(), fresh.next_u64());
}

// Idle dests B, A of weight 1 (list B, A): total 2, r in {0, 1, 2}. Both choices have overhead
// 0, so 1 * 0 > 1 * 0 never holds and choice 1 wins: B when r1 is 0 or 1, A when r1 is 2.
TEST(SchedTwos, FirstDestHasTheWiderRange) {
  SchedBed bed("twos", 0, 7);
  bed.add('A', 1);
  bed.add('B', 1);
  Rng mirror(7);
  int b_count = 0;
  for (int i = 0; i < 3000; ++i) {
    const uint32_t r1 = ref_below(mirror, 3);
    (void)ref_below(mirror, 3);
    const std::string got = SchedBed::name(bed.pick());
    ASSERT_EQ(got, r1 <= 1 ? "B" : "A") << "pick " << i;
    b_count += got == "B" ? 1 : 0;
  }
  EXPECT_NEAR(b_count, 2000, 120);  // 2/3 of the picks
}

// The less loaded of the two choices wins: B idle, A loaded. Only r1 = r2 = 2 (both A) gives A.
TEST(SchedTwos, LessLoadedChoiceWins) {
  SchedBed bed("twos", 0, 11);
  ipvs::Dest& a = bed.add('A', 1);
  bed.add('B', 1);
  a.activeconns = 3;
  Rng mirror(11);
  for (int i = 0; i < 2000; ++i) {
    const uint32_t r1 = ref_below(mirror, 3);
    const uint32_t r2 = ref_below(mirror, 3);
    ASSERT_EQ(SchedBed::name(bed.pick()), (r1 == 2 && r2 == 2) ? "A" : "B") << "pick " << i;
  }
}

// Many services' worth of varied state against the reference, including counts large enough
// for w * overhead to wrap in 32 bits.
TEST(SchedTwos, MatchesTheKernelArithmetic) {
  SchedBed bed("twos", 0, 2024);
  std::vector<ipvs::Dest*> ds;
  for (char c = 'A'; c <= 'F'; ++c) ds.push_back(&bed.add(c, 1));
  Rng mirror(2024);
  Rng state(555);  // drives the test's own changes
  for (int i = 0; i < 5000; ++i) {
    for (ipvs::Dest* d : ds) {
      const uint32_t r = state.next_u32();
      // Now and then weights near INT_MAX (ipvsadm's limit): sums and differences wrap.
      d->weight = static_cast<int32_t>(r % 7 == 0                           ? 0
                                       : i % 50 == 0                        ? 60000
                                       : i % 50 == 1                        ? 2147483647 - r % 3
                                       : (i % 50 == 2 && (r >> 4) % 2 == 0) ? 1073741824
                                                                            : r % 20);
      d->overloaded = (r >> 8) % 9 == 0;
      d->activeconns = (i % 50 == 0) ? 30000 + (r >> 12) % 5000 : (r >> 12) % 40;
      d->inactconns = (r >> 20) % 300;
    }
    const ipvs::Dest* expected = ref_twos(bed.svc.dests, mirror);
    ASSERT_EQ(bed.pick(), expected) << "pick " << i;
  }
}

TEST(SchedTwos, SameSeedSameChoices) {
  SchedBed one("twos", 0, 5);
  SchedBed two("twos", 0, 5);
  for (SchedBed* bed : {&one, &two}) {
    for (char c = 'A'; c <= 'E'; ++c) bed->add(c, c - 'A' + 1);
  }
  EXPECT_EQ(one.seq(40), two.seq(40));
}

}  // namespace
}  // namespace vs::sched

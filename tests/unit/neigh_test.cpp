// Tests for the neighbour (ARP) cache (src/neigh.cpp): fixed capacity, RFC 826 merge (update an
// existing entry, create only on request), incomplete entries with bounded queues, probe timing
// and expiry. Times are microseconds; the expected instants are the NeighParams arithmetic.
#include "neigh.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace vs {
namespace {

constexpr Ipv4Addr A(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Ipv4Addr::from_octets(a, b, c, d); }
constexpr MacAddr M(uint8_t last) { return MacAddr{{0x02, 0xaa, 0, 0, 0, last}}; }
constexpr Instant T(int64_t us) { return Instant::from_micros(us); }
constexpr int64_t kSec = 1000000;

NeighParams small(uint32_t capacity) {
  NeighParams p;
  p.capacity = capacity;
  return p;
}

TEST(NeighTest, DefaultsMatchTheSpec) {
  NeighParams p;
  EXPECT_EQ(p.queue_per_entry, 4u);
  EXPECT_EQ(p.reachable.us, 60 * kSec);
  EXPECT_EQ(p.retrans.us, 1 * kSec);
  EXPECT_EQ(p.max_probes, 3u);
}

TEST(NeighTest, LookupOfUnknownAddressFindsNothing) {
  NeighTable t(NeighParams{}, 1);
  EXPECT_FALSE(t.lookup(0, A(10, 0, 0, 1), T(0)).has_value());
  EXPECT_EQ(t.size(), 0u);
}

TEST(NeighTest, LearnWithCreateMakesAReachableEntry) {
  NeighTable t(NeighParams{}, 1);
  uint32_t i = t.learn(0, A(10, 0, 0, 1), M(1), T(5), /*create=*/true);
  ASSERT_NE(i, NeighTable::kNone);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.entry(i).state, NeighTable::State::kReachable);
  EXPECT_EQ(t.entry(i).expires, T(5 + 60 * kSec));
  auto m = t.lookup(0, A(10, 0, 0, 1), T(6));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, M(1));
}

TEST(NeighTest, LearnWithoutCreateIgnoresUnknownAddress) {
  NeighTable t(NeighParams{}, 1);
  EXPECT_EQ(t.learn(0, A(10, 0, 0, 1), M(1), T(0), /*create=*/false), NeighTable::kNone);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.lookup(0, A(10, 0, 0, 1), T(0)).has_value());
}

TEST(NeighTest, LearnWithoutCreateUpdatesAnExistingEntry) {
  NeighTable t(NeighParams{}, 1);
  uint32_t i = t.learn(0, A(10, 0, 0, 1), M(1), T(0), true);
  uint32_t j = t.learn(0, A(10, 0, 0, 1), M(2), T(10 * kSec), false);
  EXPECT_EQ(i, j);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.lookup(0, A(10, 0, 0, 1), T(10 * kSec)), M(2));
  // The refresh restarts the lifetime: valid until 10 s + 60 s.
  EXPECT_EQ(t.entry(j).expires, T(70 * kSec));
}

TEST(NeighTest, ExpiredEntryIsStillUsedWhileItIsProbedThenReleased) {
  NeighTable t(NeighParams{}, 1);
  uint32_t i = t.learn(0, A(10, 0, 0, 1), M(1), T(1000), true);
  EXPECT_EQ(t.lookup(0, A(10, 0, 0, 1), T(1000 + 60 * kSec - 1)), M(1));
  EXPECT_FALSE(t.next_deadline()) << "reachable: nothing to do";
  EXPECT_EQ(t.lookup(0, A(10, 0, 0, 1), T(1000 + 60 * kSec)), M(1)) << "expired: still used";
  EXPECT_EQ(t.entry(i).state, NeighTable::State::kProbe);
  EXPECT_EQ(t.next_deadline(), T(1000 + 65 * kSec));
  std::vector<uint32_t> due;
  for (int k = 0; k < 3; ++k) {
    due.clear();
    t.due(T(1000 + (65 + k) * kSec), due);
    ASSERT_EQ(due, std::vector<uint32_t>{i});
    t.mark_probed(i, T(1000 + (65 + k) * kSec));
    EXPECT_EQ(t.lookup(0, A(10, 0, 0, 1), T(1000 + (65 + k) * kSec)), M(1));
  }
  due.clear();
  t.due(T(1000 + 68 * kSec), due);
  ASSERT_EQ(due, std::vector<uint32_t>{i});
  EXPECT_EQ(t.entry(i).probes, 3u) << "exhausted: the caller releases it";
  t.release(i);
  EXPECT_FALSE(t.lookup(0, A(10, 0, 0, 1), T(1000 + 68 * kSec)).has_value());
  EXPECT_FALSE(t.next_deadline());
}

TEST(NeighTest, AnswerDuringProbingMakesTheEntryReachableAgain) {
  NeighTable t(NeighParams{}, 1);
  uint32_t i = t.learn(0, A(10, 0, 0, 1), M(1), T(0), true);
  t.lookup(0, A(10, 0, 0, 1), T(70 * kSec));
  ASSERT_EQ(t.entry(i).state, NeighTable::State::kProbe);
  EXPECT_EQ(t.learn(0, A(10, 0, 0, 1), M(2), T(75 * kSec), false), i);
  EXPECT_EQ(t.entry(i).state, NeighTable::State::kReachable);
  EXPECT_EQ(t.entry(i).expires, T(135 * kSec));
  EXPECT_FALSE(t.next_deadline());
  EXPECT_EQ(t.lookup(0, A(10, 0, 0, 1), T(80 * kSec)), M(2)) << "a new MAC is taken";
}

TEST(NeighTest, EntriesAreKeyedByInterfaceAndAddress) {
  NeighTable t(NeighParams{}, 1);
  t.learn(0, A(10, 0, 0, 1), M(1), T(0), true);
  t.learn(1, A(10, 0, 0, 1), M(2), T(0), true);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.lookup(0, A(10, 0, 0, 1), T(0)), M(1));
  EXPECT_EQ(t.lookup(1, A(10, 0, 0, 1), T(0)), M(2));
  EXPECT_FALSE(t.lookup(2, A(10, 0, 0, 1), T(0)).has_value());
}

TEST(NeighTest, LookupAfterTheEntryWasReusedForAnotherAddressIsExact) {
  // lookup() remembers the entry it last found for an address; when that entry is released and
  // reused for another neighbour (capacity 1: always the same slot), or the address moves to
  // another interface, the answer must be the table's, not the remembered one.
  NeighTable t(small(1), 1);
  uint32_t i = t.learn(0, A(10, 0, 0, 1), M(1), T(0), true);
  EXPECT_EQ(t.lookup(0, A(10, 0, 0, 1), T(1)), M(1));
  EXPECT_EQ(t.lookup(0, A(10, 0, 0, 1), T(2)), M(1));
  EXPECT_FALSE(t.lookup(1, A(10, 0, 0, 1), T(2)).has_value()) << "same address, other interface";
  EXPECT_EQ(t.lookup(0, A(10, 0, 0, 1), T(61 * kSec)), M(1)) << "expired: used while probed";
  t.release(i);  // the probes went unanswered
  EXPECT_FALSE(t.lookup(0, A(10, 0, 0, 1), T(61 * kSec)).has_value()) << "released";
  EXPECT_EQ(t.size(), 0u);
  uint32_t j = t.learn(0, A(10, 0, 0, 2), M(2), T(62 * kSec), true);
  ASSERT_NE(j, NeighTable::kNone);
  EXPECT_FALSE(t.lookup(0, A(10, 0, 0, 1), T(62 * kSec)).has_value()) << "its old entry now holds .2";
  EXPECT_EQ(t.lookup(0, A(10, 0, 0, 2), T(62 * kSec)), M(2));
  t.release(j);
  EXPECT_FALSE(t.lookup(0, A(10, 0, 0, 2), T(62 * kSec)).has_value()) << "released";
  t.learn(1, A(10, 0, 0, 2), M(3), T(63 * kSec), true);
  EXPECT_FALSE(t.lookup(0, A(10, 0, 0, 2), T(63 * kSec)).has_value()) << "now on interface 1 only";
  EXPECT_EQ(t.lookup(1, A(10, 0, 0, 2), T(63 * kSec)), M(3));
  // An incomplete entry in the remembered slot has no MAC to give.
  t.release(t.learn(1, A(10, 0, 0, 2), M(3), T(63 * kSec), false));
  bool created = false;
  t.resolve(1, A(10, 0, 0, 2), T(64 * kSec), created);
  EXPECT_TRUE(created);
  EXPECT_FALSE(t.lookup(1, A(10, 0, 0, 2), T(64 * kSec)).has_value());
}

TEST(NeighTest, ResolveCreatesOneIncompleteEntryWithNoMac) {
  NeighTable t(NeighParams{}, 1);
  bool created = false;
  uint32_t i = t.resolve(0, A(10, 0, 0, 1), T(7), created);
  ASSERT_NE(i, NeighTable::kNone);
  EXPECT_TRUE(created);
  EXPECT_EQ(t.entry(i).state, NeighTable::State::kIncomplete);
  EXPECT_FALSE(t.lookup(0, A(10, 0, 0, 1), T(7)).has_value()) << "incomplete entries have no MAC";
  bool again = true;
  EXPECT_EQ(t.resolve(0, A(10, 0, 0, 1), T(8), again), i);
  EXPECT_FALSE(again);
  EXPECT_EQ(t.size(), 1u);
}

TEST(NeighTest, QueueIsBoundedPerEntryAndKeepsOrder) {
  NeighTable t(NeighParams{}, 1);
  bool created = false;
  uint32_t i = t.resolve(0, A(10, 0, 0, 1), T(0), created);
  for (uint32_t p = 100; p < 104; ++p) EXPECT_TRUE(t.enqueue(i, p));
  EXPECT_FALSE(t.enqueue(i, 104)) << "queue_per_entry is 4";
  auto q = t.queue(i);
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(std::vector<uint32_t>(q.begin(), q.end()), (std::vector<uint32_t>{100, 101, 102, 103}));
  t.clear_queue(i);
  EXPECT_TRUE(t.queue(i).empty());
  EXPECT_TRUE(t.enqueue(i, 7));
}

TEST(NeighTest, QueuesOfDifferentEntriesAreSeparate) {
  NeighTable t(NeighParams{}, 1);
  bool c = false;
  uint32_t a = t.resolve(0, A(10, 0, 0, 1), T(0), c);
  uint32_t b = t.resolve(0, A(10, 0, 0, 2), T(0), c);
  t.enqueue(a, 1);
  t.enqueue(b, 2);
  t.enqueue(a, 3);
  EXPECT_EQ(std::vector<uint32_t>(t.queue(a).begin(), t.queue(a).end()), (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(std::vector<uint32_t>(t.queue(b).begin(), t.queue(b).end()), (std::vector<uint32_t>{2}));
}

TEST(NeighTest, LearningAnIncompleteEntryMakesItReachableAndKeepsItsQueueForTheCaller) {
  NeighTable t(NeighParams{}, 1);
  bool c = false;
  uint32_t i = t.resolve(0, A(10, 0, 0, 1), T(0), c);
  t.enqueue(i, 11);
  t.enqueue(i, 12);
  // A reply (create=false) completes an entry we asked for.
  EXPECT_EQ(t.learn(0, A(10, 0, 0, 1), M(9), T(500), false), i);
  EXPECT_EQ(t.entry(i).state, NeighTable::State::kReachable);
  EXPECT_EQ(t.lookup(0, A(10, 0, 0, 1), T(500)), M(9));
  EXPECT_EQ(std::vector<uint32_t>(t.queue(i).begin(), t.queue(i).end()), (std::vector<uint32_t>{11, 12}));
  // It no longer needs probing.
  std::vector<uint32_t> due;
  t.due(T(100 * kSec), due);
  EXPECT_TRUE(due.empty());
  EXPECT_FALSE(t.next_deadline().has_value());
}

TEST(NeighTest, NewIncompleteEntryIsDueAtOnce) {
  NeighTable t(NeighParams{}, 1);
  bool c = false;
  uint32_t i = t.resolve(0, A(10, 0, 0, 1), T(42), c);
  EXPECT_EQ(t.next_deadline(), T(42));
  std::vector<uint32_t> due;
  t.due(T(41), due);
  EXPECT_TRUE(due.empty());
  t.due(T(42), due);
  EXPECT_EQ(due, (std::vector<uint32_t>{i}));
}

TEST(NeighTest, MarkProbedCountsProbesAndSchedulesTheNextOneRetransLater) {
  NeighTable t(NeighParams{}, 1);
  bool c = false;
  uint32_t i = t.resolve(0, A(10, 0, 0, 1), T(0), c);
  t.mark_probed(i, T(0));
  EXPECT_EQ(t.entry(i).probes, 1u);
  EXPECT_EQ(t.next_deadline(), T(1 * kSec));
  std::vector<uint32_t> due;
  t.due(T(1 * kSec - 1), due);
  EXPECT_TRUE(due.empty());
  t.due(T(1 * kSec), due);
  EXPECT_EQ(due.size(), 1u);
  t.mark_probed(i, T(1 * kSec));
  EXPECT_EQ(t.entry(i).probes, 2u);
  EXPECT_EQ(t.next_deadline(), T(2 * kSec));
}

TEST(NeighTest, NextDeadlineIsTheEarliestProbeAmongIncompleteEntries) {
  NeighTable t(NeighParams{}, 1);
  EXPECT_FALSE(t.next_deadline().has_value());
  bool c = false;
  uint32_t a = t.resolve(0, A(10, 0, 0, 1), T(0), c);
  uint32_t b = t.resolve(0, A(10, 0, 0, 2), T(300), c);
  t.mark_probed(a, T(0));    // next at 1 s
  t.mark_probed(b, T(300));  // next at 1 s + 300 us
  EXPECT_EQ(t.next_deadline(), T(1 * kSec));
  t.release(a);
  EXPECT_EQ(t.next_deadline(), T(1 * kSec + 300));
  // Reachable entries have no deadline.
  t.learn(0, A(10, 0, 0, 3), M(3), T(0), true);
  EXPECT_EQ(t.next_deadline(), T(1 * kSec + 300));
}

TEST(NeighTest, ReleaseFreesTheEntryForReuse) {
  NeighTable t(small(1), 1);
  bool c = false;
  uint32_t i = t.resolve(0, A(10, 0, 0, 1), T(0), c);
  ASSERT_NE(i, NeighTable::kNone);
  EXPECT_EQ(t.resolve(0, A(10, 0, 0, 2), T(0), c), NeighTable::kNone) << "capacity 1";
  t.release(i);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.next_deadline().has_value());
  EXPECT_NE(t.resolve(0, A(10, 0, 0, 2), T(0), c), NeighTable::kNone);
  EXPECT_EQ(t.size(), 1u);
}

TEST(NeighTest, FullTableRefusesNewEntries) {
  NeighTable t(small(2), 1);
  bool c = false;
  EXPECT_NE(t.learn(0, A(10, 0, 0, 1), M(1), T(0), true), NeighTable::kNone);
  EXPECT_NE(t.resolve(0, A(10, 0, 0, 2), T(0), c), NeighTable::kNone);
  EXPECT_EQ(t.learn(0, A(10, 0, 0, 3), M(3), T(0), true), NeighTable::kNone);
  EXPECT_EQ(t.resolve(0, A(10, 0, 0, 4), T(0), c), NeighTable::kNone);
  EXPECT_FALSE(c);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.capacity(), 2u);
  // Existing entries still answer.
  EXPECT_EQ(t.lookup(0, A(10, 0, 0, 1), T(0)), M(1));
}

TEST(NeighTest, FullTableReclaimsAnExpiredReachableEntry) {
  NeighTable t(small(2), 1);
  bool c = false;
  t.learn(0, A(10, 0, 0, 1), M(1), T(0), true);  // expires at 60 s
  t.resolve(0, A(10, 0, 0, 2), T(0), c);         // incomplete: never reclaimed
  EXPECT_EQ(t.resolve(0, A(10, 0, 0, 3), T(60 * kSec - 1), c), NeighTable::kNone);
  uint32_t i = t.resolve(0, A(10, 0, 0, 3), T(60 * kSec), c);
  ASSERT_NE(i, NeighTable::kNone);
  EXPECT_TRUE(c);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_FALSE(t.lookup(0, A(10, 0, 0, 1), T(60 * kSec)).has_value());
  EXPECT_EQ(t.entry(i).ip, A(10, 0, 0, 3));
}

TEST(NeighTest, ResolveRestartsAnExpiredReachableEntry) {
  NeighTable t(NeighParams{}, 1);
  t.learn(0, A(10, 0, 0, 1), M(1), T(0), true);
  bool c = false;
  uint32_t i = t.resolve(0, A(10, 0, 0, 1), T(61 * kSec), c);
  ASSERT_NE(i, NeighTable::kNone);
  EXPECT_TRUE(c);
  EXPECT_EQ(t.entry(i).state, NeighTable::State::kIncomplete);
  EXPECT_EQ(t.size(), 1u);
}

TEST(NeighTest, FillingTheWholeTableKeepsEveryEntryFindable) {
  // 1024 entries in 1024 buckets: chains form; every address must still be found, also after
  // half of them are released (chain unlinking).
  NeighTable t(NeighParams{}, 12345);
  for (uint32_t k = 0; k < 1024; ++k)
    ASSERT_NE(t.learn(k % 3, Ipv4Addr{0x0a000000u + k}, M(static_cast<uint8_t>(k)), T(0), true), NeighTable::kNone);
  EXPECT_EQ(t.size(), 1024u);
  EXPECT_EQ(t.learn(0, Ipv4Addr{0x0b000000u}, M(0), T(0), true), NeighTable::kNone);
  for (uint32_t k = 0; k < 1024; ++k) {
    auto m = t.lookup(k % 3, Ipv4Addr{0x0a000000u + k}, T(1));
    ASSERT_TRUE(m.has_value()) << k;
    EXPECT_EQ(*m, M(static_cast<uint8_t>(k)));
  }
  for (uint32_t idx : t.sorted())
    if (t.entry(idx).ip.v % 2 == 0) t.release(idx);
  EXPECT_EQ(t.size(), 512u);
  for (uint32_t k = 0; k < 1024; ++k)
    EXPECT_EQ(t.lookup(k % 3, Ipv4Addr{0x0a000000u + k}, T(1)).has_value(), k % 2 == 1) << k;
}

TEST(NeighTest, SortedListsEntriesByInterfaceThenAddress) {
  NeighTable t(NeighParams{}, 1);
  bool c = false;
  t.learn(1, A(10, 0, 0, 1), M(1), T(0), true);
  t.resolve(0, A(10, 0, 0, 9), T(0), c);
  t.learn(0, A(10, 0, 0, 2), M(2), T(0), true);
  auto v = t.sorted();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(t.entry(v[0]).iface, 0u);
  EXPECT_EQ(t.entry(v[0]).ip, A(10, 0, 0, 2));
  EXPECT_EQ(t.entry(v[1]).iface, 0u);
  EXPECT_EQ(t.entry(v[1]).ip, A(10, 0, 0, 9));
  EXPECT_EQ(t.entry(v[2]).iface, 1u);
}

}  // namespace
}  // namespace vs

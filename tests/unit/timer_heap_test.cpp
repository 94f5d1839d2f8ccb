// TimerHeap (base/timer_heap.hpp): timers pop in (at, id, gen) order whatever the push order, so
// a replay's probes at the same microsecond go out in config order on any platform.
#include "base/timer_heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "base/rng.hpp"

namespace vs {
namespace {

using Timer = TimerHeap::Timer;

auto key(const Timer& t) { return std::tuple(t.at, t.id, t.gen); }

TEST(TimerHeap, PopsInTimeThenIdThenGenerationOrder) {
  TimerHeap h;
  h.push({30, 1, 0});
  h.push({10, 7, 2});
  h.push({10, 3, 0});
  h.push({10, 7, 1});
  h.push({20, 0, 0});
  std::vector<std::tuple<int64_t, uint32_t, uint32_t>> got;
  while (!h.empty()) {
    got.push_back(key(h.top()));
    h.pop();
  }
  const std::vector<std::tuple<int64_t, uint32_t, uint32_t>> want = {
      {10, 3, 0}, {10, 7, 1}, {10, 7, 2}, {20, 0, 0}, {30, 1, 0}};
  EXPECT_EQ(got, want);
}

// Interleaved pushes and pops (as Health reschedules while it fires) against a sorted model,
// with many equal times, through sizes where the heap has several levels.
TEST(TimerHeap, InterleavedPushAndPopMatchASortedModel) {
  Rng rng(42);
  TimerHeap h;
  h.reserve(64);  // grows past its reservation too
  std::vector<Timer> model;
  int64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    if (model.empty() || rng.next_u32() % 3 != 0) {
      const Timer t{now + static_cast<int64_t>(rng.next_u32() % 50), rng.next_u32() % 100, rng.next_u32() % 4};
      h.push(t);
      model.push_back(t);
    } else {
      auto it =
          std::min_element(model.begin(), model.end(), [](const Timer& a, const Timer& b) { return key(a) < key(b); });
      ASSERT_FALSE(h.empty());
      ASSERT_EQ(key(h.top()), key(*it)) << "step " << step;
      now = h.top().at;  // never earlier than what already fired, as a clock
      h.pop();
      model.erase(it);
    }
    ASSERT_EQ(h.size(), model.size());
  }
  h.clear();
  EXPECT_TRUE(h.empty());
  h.push({5, 1, 1});
  EXPECT_EQ(key(h.top()), key(Timer{5, 1, 1}));
}

}  // namespace
}  // namespace vs

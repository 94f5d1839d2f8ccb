// TimerWheel (base/timer_wheel.hpp): the same (at, id, gen) order as one heap of every timer,
// whichever of its parts (the current slot, the wheel, the overflow) a timer sat in, so the
// health checkers' probes go out in the same order as before it, and a replay is unchanged.
#include "base/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "base/rng.hpp"

namespace vs {
namespace {

using Timer = TimerWheel::Timer;

auto key(const Timer& t) { return std::tuple(t.at, t.id, t.gen); }

TEST(TimerWheel, PopsInTimeThenIdThenGenerationOrderAcrossSlotsAndOverflow) {
  TimerWheel w;
  w.reset(16);
  w.push({30'000'000, 1, 0});  // ~30 s ahead of the anchor: the overflow
  w.push({10, 7, 2});          // the anchor's slot
  w.push({2'000, 3, 0});       // a later slot
  w.push({10, 7, 1});
  w.push({2'000, 0, 5});
  w.push({5'000'000, 9, 0});  // beyond the wheel too
  EXPECT_EQ(w.earliest(), 10);
  std::vector<std::tuple<int64_t, uint32_t, uint32_t>> got;
  while (!w.empty()) {
    got.push_back(key(w.top()));
    w.pop();
  }
  const std::vector<std::tuple<int64_t, uint32_t, uint32_t>> want = {
      {10, 7, 1}, {10, 7, 2}, {2'000, 0, 5}, {2'000, 3, 0}, {5'000'000, 9, 0}, {30'000'000, 1, 0}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(w.earliest(), std::nullopt);
}

// As Health drives it: a clock that moves on, timers pushed from "now" (due at once, soon, or
// seconds and minutes later: every part of the wheel, and wrapping round it many times), popped
// while due, earliest() asked between; against a sorted model.
TEST(TimerWheel, InterleavedPushAndPopMatchASortedModel) {
  Rng rng(7);
  TimerWheel w;
  w.reset(64);
  std::vector<Timer> model;
  int64_t now = 1'000'000'000;
  auto min_it = [&] {
    return std::min_element(model.begin(), model.end(), [](const Timer& a, const Timer& b) { return key(a) < key(b); });
  };
  for (int step = 0; step < 80000; ++step) {
    const uint32_t r = rng.next_u32() % 8;
    if (model.empty() || r < 4) {
      int64_t ahead = 0;
      switch (rng.next_u32() % 5) {
        case 0: ahead = 0; break;                             // due now (a synchronous retry)
        case 1: ahead = rng.next_u32() % 2'000; break;        // this slot or the next
        case 2: ahead = rng.next_u32() % 1'000'000; break;    // within a second
        case 3: ahead = rng.next_u32() % 4'300'000; break;    // across the wheel's end
        default: ahead = rng.next_u32() % 90'000'000; break;  // minutes: the overflow
      }
      const Timer t{now + ahead, rng.next_u32() % 50, rng.next_u32() % 4};
      w.push(t);
      model.push_back(t);
    } else if (r < 6) {
      // The clock jumps to the earliest timer, or a little past it (a late wake-up).
      ASSERT_EQ(w.earliest(), min_it()->at) << "step " << step;
      now = std::max(now, min_it()->at + (rng.next_u32() % 3 == 0 ? rng.next_u32() % 3'000 : 0));
    } else {
      // Fire what is due, in order.
      while (!model.empty() && min_it()->at <= now) {
        auto it = min_it();
        ASSERT_FALSE(w.empty());
        ASSERT_EQ(key(w.top()), key(*it)) << "step " << step;
        w.pop();
        model.erase(it);
      }
      if (!model.empty()) {
        ASSERT_GT(w.top().at, now);
      }
    }
    ASSERT_EQ(w.size(), model.size());
    if (model.empty()) {
      ASSERT_TRUE(w.empty());
    }
  }
}

TEST(TimerWheel, ResetEmptiesItAndItAnchorsAgain) {
  TimerWheel w;
  w.reset(4);
  w.push({100'000, 1, 0});
  w.push({9'000'000, 2, 0});
  w.reset(4);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.earliest(), std::nullopt);
  w.push({5, 3, 3});  // long before the old anchor
  w.push({4'000, 4, 0});
  EXPECT_EQ(w.earliest(), 5);
  EXPECT_EQ(key(w.top()), key(Timer{5, 3, 3}));
  w.pop();
  EXPECT_EQ(key(w.top()), key(Timer{4'000, 4, 0}));
  w.pop();
  EXPECT_TRUE(w.empty());
}

}  // namespace
}  // namespace vs

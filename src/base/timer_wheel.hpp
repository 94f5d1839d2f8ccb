// A timer wheel for owners with many timers (health checkers: 11 000 at delay_loop 1 make 22 000
// timers a second), which run between the data path's bursts and must take little of its cache.
//
// Timers in the next ~4 s sit in 4 096 slots of 1.024 ms (an append to a slot's vector, one bit
// in a bitmap); later ones in an overflow TimerHeap. The slot being fired is moved into a small
// TimerHeap (tens of entries), so a pop touches a few hot lines where a heap of every timer
// (TimerHeap alone) walks 7 levels of a 350 KB array per pop, each level a cache miss that also
// evicts the data path's lines (docs/benchmarks.md, "Health checks").
//
// The order is TimerHeap's, total: (at, id, gen). Every timer of a slot up to the current one is
// in the small heap and every other timer is later, so timers pop in exactly the order one heap of
// them all would give: a replay does not depend on the structure. Entries are never removed out
// of order: an owner that reschedules bumps its generation and skips the stale entry when it pops.
// The slots' vectors keep their capacity: past the first seconds nothing allocates.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/timer_heap.hpp"

namespace vs {

class TimerWheel {
public:
  using Timer = TimerHeap::Timer;

  TimerWheel() : slots_(kSlots) {}

  /// Empties it (the slots keep their capacity); `n`: the timers expected at once (the overflow
  /// heap and the current slot's heap reserve for them).
  void reset(size_t n) {
    for (auto& s : slots_) s.clear();
    bits_.fill(0);
    now_.clear();
    later_.clear();
    now_.reserve(64);
    later_.reserve(n);
    n_ = 0;
    earliest_.reset();
  }
  bool empty() const noexcept { return n_ == 0; }
  size_t size() const noexcept { return n_; }

  void push(const Timer& t) {
    const int64_t s = slot_of(t.at);
    if (n_++ == 0) cur_ = s;  // empty: anchor the wheel anywhere
    if (earliest_ && t.at < *earliest_) earliest_ = t.at;
    if (s <= cur_) {
      now_.push(t);
    } else if (s - cur_ < static_cast<int64_t>(kSlots)) {
      const size_t p = phys(s);
      slots_[p].push_back(t);
      bits_[p / 64] |= uint64_t{1} << (p % 64);
    } else {
      later_.push(t);
    }
  }

  /// The earliest timer's time, without moving the wheel (for a const next_deadline(), asked
  /// after every burst of frames: remembered until a pop).
  std::optional<int64_t> earliest() const noexcept {
    if (n_ == 0) return std::nullopt;
    if (!now_.empty()) return now_.top().at;
    if (earliest_) return earliest_;
    std::optional<int64_t> best;
    if (auto d = next_used(); d) {
      for (const Timer& t : slots_[phys(cur_ + *d)])
        if (!best || t.at < *best) best = t.at;
    }
    if (!later_.empty() && (!best || later_.top().at < *best)) best = later_.top().at;
    earliest_ = best;
    return best;
  }

  /// The earliest timer (the wheel must not be empty): in (at, id, gen) order.
  const Timer& top() {
    if (now_.empty()) advance();
    return now_.top();
  }
  /// Removes top().
  void pop() {
    if (now_.empty()) advance();
    now_.pop();
    --n_;
    earliest_.reset();
  }

private:
  static constexpr unsigned kShift = 10;  // 1.024 ms per slot
  static constexpr size_t kSlots = 4096;  // ~4.2 s ahead
  static int64_t slot_of(int64_t at) noexcept { return at >> kShift; }
  static size_t phys(int64_t s) noexcept { return static_cast<size_t>(s) & (kSlots - 1); }

  /// How many slots after cur_ the next used one is (1 .. kSlots-1), if any is.
  std::optional<int64_t> next_used() const noexcept {
    const size_t start = phys(cur_ + 1);
    size_t w = start / 64;
    uint64_t word = bits_[w] & (~uint64_t{0} << (start % 64));
    for (size_t i = 0; i <= bits_.size(); ++i) {
      if (word != 0) {
        const size_t p = w * 64 + static_cast<size_t>(std::countr_zero(word));
        return static_cast<int64_t>((p - phys(cur_)) & (kSlots - 1));
      }
      w = (w + 1) % bits_.size();
      word = bits_[w];
    }
    return std::nullopt;
  }

  /// now_ is empty and timers remain: move the next used slot (and the overflow's timers of it)
  /// into now_.
  void advance() {
    const auto d = next_used();
    int64_t next = d ? cur_ + *d : slot_of(later_.top().at);
    if (!later_.empty()) next = std::min(next, slot_of(later_.top().at));
    if (d && cur_ + *d == next) {
      const size_t p = phys(next);
      for (const Timer& t : slots_[p]) now_.push(t);
      slots_[p].clear();
      bits_[p / 64] &= ~(uint64_t{1} << (p % 64));
    }
    while (!later_.empty() && slot_of(later_.top().at) <= next) {
      now_.push(later_.top());
      later_.pop();
    }
    cur_ = next;
  }

  std::vector<std::vector<Timer>> slots_;
  std::array<uint64_t, kSlots / 64> bits_{};
  TimerHeap now_;    // every timer of a slot <= cur_
  TimerHeap later_;  // timers kSlots or more slots after cur_ when pushed
  int64_t cur_ = 0;
  size_t n_ = 0;
  mutable std::optional<int64_t> earliest_;  // earliest()'s answer while now_ is empty, until a pop
};

}  // namespace vs

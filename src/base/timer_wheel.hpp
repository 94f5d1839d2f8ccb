// A timer wheel for owners with many timers (health checkers: 11 000 at delay_loop 1 make 22 000
// timers a second), which run between the data path's bursts and must take little of its cache.
//
// Timers in the next ~4 s sit in 4 096 slots of 1.024 ms (a node from a pool linked into the
// slot's list, one bit in a bitmap); later ones in an overflow TimerHeap. The slot being fired is moved into a small
// TimerHeap (tens of entries), so a pop touches a few hot lines where a heap of every timer
// (TimerHeap alone) walks 7 levels of a 350 KB array per pop, each level a cache miss that also
// evicts the data path's lines (docs/benchmarks.md, "Health checks").
//
// The order is TimerHeap's, total: (at, id, gen). Every timer of a slot up to the current one is
// in the small heap and every other timer is later, so timers pop in exactly the order one heap of
// them all would give: a replay does not depend on the structure. Entries are never removed out
// of order: an owner that reschedules bumps its generation and skips the stale entry when it pops.
// The pool, the heaps and the slot heads are sized by reset(): with no more timers than that,
// nothing allocates.
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

  TimerWheel() { heads_.fill(kNil); }

  /// Empties it; `n`: the timers expected at once (the pool and the heaps reserve for them).
  void reset(size_t n) {
    heads_.fill(kNil);
    bits_.fill(0);
    pool_.clear();
    pool_.reserve(n);
    free_ = kNil;
    now_.clear();
    later_.clear();
    now_.reserve(n);
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
      uint32_t i = free_;
      if (i != kNil) {
        free_ = pool_[i].next;
      } else {
        i = static_cast<uint32_t>(pool_.size());
        pool_.emplace_back();
      }
      pool_[i] = {t, heads_[p]};
      heads_[p] = i;
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
      for (uint32_t i = heads_[phys(cur_ + *d)]; i != kNil; i = pool_[i].next)
        if (!best || pool_[i].t.at < *best) best = pool_[i].t.at;
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
      for (uint32_t i = heads_[p]; i != kNil;) {
        now_.push(pool_[i].t);
        const uint32_t after = pool_[i].next;
        pool_[i].next = free_;
        free_ = i;
        i = after;
      }
      heads_[p] = kNil;
      bits_[p / 64] &= ~(uint64_t{1} << (p % 64));
    }
    while (!later_.empty() && slot_of(later_.top().at) <= next) {
      now_.push(later_.top());
      later_.pop();
    }
    cur_ = next;
  }

  static constexpr uint32_t kNil = UINT32_MAX;
  struct Node {
    Timer t;
    uint32_t next;  // the slot's next node, or the free list's
  };
  std::vector<Node> pool_;
  uint32_t free_ = kNil;
  std::array<uint32_t, kSlots> heads_;  // each slot's first node
  std::array<uint64_t, kSlots / 64> bits_{};
  TimerHeap now_;    // every timer of a slot <= cur_
  TimerHeap later_;  // timers kSlots or more slots after cur_ when pushed
  int64_t cur_ = 0;
  size_t n_ = 0;
  mutable std::optional<int64_t> earliest_;  // earliest()'s answer while now_ is empty, until a pop
};

}  // namespace vs

// A min-heap of timers, kept small in the cache because the data path runs between its uses: the
// health checkers' TimerWheel (base/timer_wheel.hpp) keeps its current slot and its far timers in
// two of them.
//
// Four children per node and 16-byte entries: a node's children share one 64-byte cache line, so
// a pop reads one line per level, and the levels are log4(n) (7 for 20 000 timers) instead of a
// binary heap's log2(n) (15, each child pair possibly in its own line). Measured with
// bench/health_bench: the binary std::push_heap/pop_heap of 24-byte entries spent 80 % of the
// checkers' timer handling in the sift-down's compares, cache misses that also evicted the data
// path's lines (docs/benchmarks.md).
//
// The order is total: (at, id, gen). Timers due at the same microsecond pop in id order (for
// Health: config order), whatever the heap's shape, so a replay is the same with any heap layout.
// Entries are never removed out of order: an owner that reschedules bumps its generation and
// skips the stale entry when it pops (the gen field). Capacity is reserved up front by the owner;
// push() allocates only past it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vs {

class TimerHeap {
public:
  struct Timer {
    int64_t at;    // microseconds (Instant::us)
    uint32_t id;   // the owner's: which timer
    uint32_t gen;  // the owner's: which generation of it
  };
  static_assert(sizeof(Timer) == 16);

  void reserve(size_t n) { lines_.reserve((n + kPad) / kArity + 1); }
  void clear() noexcept {
    lines_.clear();
    n_ = 0;
  }
  bool empty() const noexcept { return n_ == 0; }
  size_t size() const noexcept { return n_; }
  const Timer& top() const noexcept { return at(0); }

  void push(const Timer& t) {
    if ((n_ + kPad) / kArity >= lines_.size()) lines_.emplace_back();
    size_t i = n_++;
    while (i > 0) {
      const size_t parent = (i - 1) / kArity;
      if (!before(t, at(parent))) break;
      at(i) = at(parent);
      i = parent;
    }
    at(i) = t;
  }

  /// Removes the earliest timer (the heap must not be empty).
  void pop() noexcept {
    const Timer last = at(--n_);
    const size_t n = n_;
    if (n == 0) return;
    size_t i = 0;
    for (;;) {
      const size_t first = i * kArity + 1;  // its children: first .. first + 3, one cache line
      if (first >= n) break;
      size_t best = first;
      const size_t end = first + kArity < n ? first + kArity : n;
      for (size_t c = first + 1; c < end; ++c)
        if (before(at(c), at(best))) best = c;
      if (!before(at(best), last)) break;
      at(i) = at(best);
      i = best;
    }
    at(i) = last;
  }

private:
  static constexpr size_t kArity = 4;
  // Timer i lives at slot i + 3 of 64-byte lines of four: the children of i (4i+1 .. 4i+4) are
  // slots 4(i+1) .. 4(i+1)+3, exactly one line.
  static constexpr size_t kPad = kArity - 1;
  struct alignas(64) Line {
    Timer t[kArity];
  };
  Timer& at(size_t i) noexcept { return lines_[(i + kPad) / kArity].t[(i + kPad) % kArity]; }
  const Timer& at(size_t i) const noexcept { return lines_[(i + kPad) / kArity].t[(i + kPad) % kArity]; }
  static bool before(const Timer& a, const Timer& b) noexcept {
    if (a.at != b.at) return a.at < b.at;
    if (a.id != b.id) return a.id < b.id;
    return a.gen < b.gen;
  }
  std::vector<Line> lines_;
  size_t n_ = 0;
};

}  // namespace vs

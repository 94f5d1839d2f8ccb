// The destination-address cache of lblc and lblcr (struct ip_vs_lblc_table / ip_vs_lblcr_table)
// with the kernel's garbage collection emulated on virtual time. Used only by lblc.cpp and
// lblcr.cpp.
//
// Layout, as in the kernel: 1024 hash buckets (hash_32(daddr, 10)), each a singly linked list
// with new entries at its head. Entries come from a pool allocated once at construction with
// room for max_size * 3 / 2 = 24576 entries, which is exactly the count at which the kernel's
// ip_vs_lblc(r)_new() refuses to create more; so the pool never needs an eviction policy of its
// own, and a full pool means "no cache entry", as in the kernel.
//
// Garbage collection (ip_vs_lblc(r)_check_expire): a timer fires every 60 s after the table is
// created. With counter starting at 1: if counter % 30 == 0 a FULL check drops every entry with
// now >= lastuse + expiration (sysctl lblc(r)_expiration, 24 h by default) and counter = 1;
// else if entries <= max_size (16384) counter++; else a PARTIAL collection drops entries idle
// for >= 6 min, scanning buckets from rover + 1 until (entries - max_size) * 4 / 3 (at most
// max_size / 2) are gone. There is no timer here: advance(now), called at the start of every
// schedule(), runs every tick due at or before `now` (ticks first, then the packet), which gives
// the same decisions because the cache is only observable through schedule(). The timer's
// start is the first schedule() call's `now` (the kernel starts it when the scheduler is bound
// to the service; vsrouter has no clock at that point), documented in docs/schedulers.md.
//
// Entries point at destinations that may have been removed from the service since (the kernel
// holds a reference; here Service::storage keeps every removed Dest alive for the service's
// lifetime). schedule() checks Dest::available before using one.
#pragma once

#include <cstdint>
#include <memory>

#include "base/time.hpp"
#include "sched/common.hpp"

namespace vs::sched {

/// Payload must be trivially default constructible (the pool is not initialised up front).
template <typename Payload>
class LocalityCache {
public:
  static constexpr uint32_t kTabSize = 1u << kLblcTabBits;
  static constexpr uint32_t kTabMask = kTabSize - 1;
  static constexpr int32_t kMaxSize = kTabSize * 16;                    // tbl->max_size
  static constexpr int32_t kCapacity = kMaxSize * 3 / 2;                // ip_vs_lblc(r)_new refuses at this
  static constexpr Duration kCheckInterval = Duration::seconds(60);     // CHECK_EXPIRE_INTERVAL
  static constexpr Duration kEntryTimeout = Duration::seconds(6 * 60);  // ENTRY_TIMEOUT
  static constexpr int32_t kCountForFullExpiration = 30;
  static constexpr Duration kDefaultExpiration = Duration::seconds(24 * 60 * 60);

  struct Entry {
    uint32_t addr;    // the packet's destination address (host order)
    int64_t lastuse;  // microseconds of virtual time
    int32_t next;     // next entry in the bucket, -1 at the end
    Payload payload;
  };

  explicit LocalityCache(Duration expiration = kDefaultExpiration)
      : expiration_(expiration), pool_(std::make_unique_for_overwrite<Entry[]>(kCapacity)) {
    for (int32_t& h : buckets_) h = -1;
  }

  int32_t entries() const noexcept { return entries_; }

  /// Runs the GC ticks due at or before `now`; on_free(payload) runs for every dropped entry.
  template <typename OnFree>
  void advance(Instant now, OnFree&& on_free) noexcept {
    if (!started_) {
      started_ = true;
      next_tick_ = now + kCheckInterval;
      return;
    }
    while (next_tick_ <= now) {
      if (counter_ % kCountForFullExpiration == 0) {
        full_check(next_tick_, on_free);
        counter_ = 1;
        next_tick_ = next_tick_ + kCheckInterval;
        continue;
      }
      if (entries_ <= kMaxSize) {
        // Ticks that only count. With no entries even the full checks change nothing (a full
        // check scans all 1024 buckets, so the rover ends where it started): jump straight to
        // `now`, keeping the counter's phase. Otherwise jump to the next full check.
        const int64_t due = (now - next_tick_).us / kCheckInterval.us + 1;
        if (entries_ == 0) {
          counter_ = static_cast<int32_t>((counter_ - 1 + due) % kCountForFullExpiration) + 1;
          next_tick_ = next_tick_ + kCheckInterval * due;
          return;
        }
        const int64_t step = due < kCountForFullExpiration - counter_ ? due : kCountForFullExpiration - counter_;
        counter_ += static_cast<int32_t>(step);
        next_tick_ = next_tick_ + kCheckInterval * step;
        continue;
      }
      partial_gc(next_tick_, on_free);
      next_tick_ = next_tick_ + kCheckInterval;
    }
  }

  /// The entry for daddr, or nullptr.
  Entry* get(Ipv4Addr daddr) noexcept {
    for (int32_t i = buckets_[bucket(daddr.v)]; i >= 0; i = pool_[i].next) {
      if (pool_[i].addr == daddr.v) return &pool_[i];
    }
    return nullptr;
  }

  /// A new entry at the head of daddr's bucket with lastuse = now and an uninitialised payload,
  /// or nullptr when the table holds max_size * 3 / 2 entries (the kernel's refusal).
  Entry* insert(Ipv4Addr daddr, Instant now) noexcept {
    if (entries_ >= kCapacity) return nullptr;
    int32_t i;
    if (free_ >= 0) {
      i = free_;
      free_ = pool_[i].next;
    } else {
      i = high_water_++;
    }
    Entry& en = pool_[i];
    en.addr = daddr.v;
    en.lastuse = now.us;
    const uint32_t b = bucket(daddr.v);
    en.next = buckets_[b];
    buckets_[b] = i;
    ++entries_;
    return &en;
  }

  /// Unlinks and frees `en` (on_free runs on its payload first).
  template <typename OnFree>
  void erase(Entry* en, OnFree&& on_free) noexcept {
    const int32_t idx = static_cast<int32_t>(en - pool_.get());
    int32_t* link = &buckets_[bucket(en->addr)];
    while (*link != idx) link = &pool_[*link].next;
    *link = en->next;
    release(idx, on_free);
  }

private:
  static uint32_t bucket(uint32_t addr) noexcept { return hash_32(addr, kLblcTabBits); }

  template <typename OnFree>
  void release(int32_t idx, OnFree& on_free) noexcept {
    on_free(pool_[idx].payload);
    pool_[idx].next = free_;
    free_ = idx;
    --entries_;
  }

  /// Drops the entries of bucket j for which expired(entry) holds; returns how many.
  template <typename Pred, typename OnFree>
  int32_t sweep(uint32_t j, Pred expired, OnFree& on_free) noexcept {
    int32_t dropped = 0;
    int32_t* link = &buckets_[j];
    while (*link >= 0) {
      const int32_t idx = *link;
      if (expired(pool_[idx])) {
        *link = pool_[idx].next;
        release(idx, on_free);
        ++dropped;
      } else {
        link = &pool_[idx].next;
      }
    }
    return dropped;
  }

  template <typename OnFree>
  void full_check(Instant t, OnFree& on_free) noexcept {
    uint32_t j = rover_;
    for (uint32_t i = 0; i < kTabSize; ++i) {
      j = (j + 1) & kTabMask;
      sweep(
          j, [&](const Entry& en) { return t.us >= en.lastuse + expiration_.us; }, on_free);
    }
    rover_ = j;
  }

  template <typename OnFree>
  void partial_gc(Instant t, OnFree& on_free) noexcept {
    int32_t goal = (entries_ - kMaxSize) * 4 / 3;
    if (goal > kMaxSize / 2) goal = kMaxSize / 2;
    uint32_t j = rover_;
    for (uint32_t i = 0; i < kTabSize; ++i) {
      j = (j + 1) & kTabMask;
      goal -= sweep(
          j, [&](const Entry& en) { return t.us >= en.lastuse + kEntryTimeout.us; }, on_free);
      if (goal <= 0) break;
    }
    rover_ = j;
  }

  Duration expiration_;
  std::unique_ptr<Entry[]> pool_;
  int32_t buckets_[kTabSize];
  int32_t free_ = -1;
  int32_t high_water_ = 0;
  int32_t entries_ = 0;
  bool started_ = false;
  Instant next_tick_{};
  int32_t counter_ = 1;
  uint32_t rover_ = 0;
};

}  // namespace vs::sched

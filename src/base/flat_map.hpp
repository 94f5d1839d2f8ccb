// A small open-addressing hash map from an unsigned integer key to a value, for the data path's
// "is this address one of ours" questions (router addresses, directed broadcasts, VIPs).
//
// Built on the control path (construction, reload, control API) and read per packet: insert()
// may allocate, find() never does. Flat array of slots, power-of-two size, linear probing, load
// at most 1/2, so a lookup is one multiply, one shift and (almost always) one or two slot reads.
// Keys that come from the config are rebuilt with the config (clear and insert); erase() serves
// the owners whose keys come and go at run time (health probes in flight), keeping the table
// without tombstones (backward-shift deletion), so a lookup still stops at the first empty slot.
//
// The hash is Fibonacci hashing (Knuth's multiplicative method with 2^64/phi): deterministic on
// every platform, never std::hash. It is not seeded: the keys are the operator's own addresses,
// not the traffic's, so a sender cannot choose them to lengthen probe sequences; a lookup of any
// other key stops at the first empty slot, which at load 1/2 is near.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace vs {

template <class K, class V>
class FlatMap {
  static_assert(std::is_unsigned_v<K> && sizeof(K) <= 8, "keys are unsigned integers");

public:
  FlatMap() = default;

  /// Empties the map and sizes it for `n` keys without growing.
  void reset(size_t n = 0) {
    size_ = 0;
    const size_t cap = std::bit_ceil(std::max<size_t>(kMinSlots, 2 * n));
    slots_.assign(cap, Slot{});
    shift_ = 64 - std::countr_zero(cap);
  }

  /// Adds `k` -> `v` unless `k` is present (then the value is left as it is). True if added.
  bool insert(K k, V v) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    Slot& s = slots_[probe(k)];
    if (s.used) return false;
    s = Slot{k, v, true};
    ++size_;
    return true;
  }

  /// The value of `k`, or nullptr.
  const V* find(K k) const noexcept {
    if (size_ == 0) return nullptr;
    const Slot& s = slots_[probe(k)];
    return s.used ? &s.value : nullptr;
  }
  V* find(K k) noexcept {
    if (size_ == 0) return nullptr;
    Slot& s = slots_[probe(k)];
    return s.used ? &s.value : nullptr;
  }
  bool contains(K k) const noexcept { return find(k) != nullptr; }

  /// Removes `k` if present (Knuth's Algorithm R: later entries of its probe run move back).
  void erase(K k) noexcept {
    if (size_ == 0) return;
    const size_t mask = slots_.size() - 1;
    size_t i = probe(k);
    if (!slots_[i].used) return;
    slots_[i].used = false;
    --size_;
    for (size_t j = (i + 1) & mask; slots_[j].used; j = (j + 1) & mask) {
      const size_t h = home(slots_[j].key);
      // The entry at j may move to the hole at i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      slots_[j].used = false;
      i = j;
    }
  }

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// Slots in the table (a power of two, at least twice size()).
  size_t slots() const noexcept { return slots_.size(); }

  /// Calls f(key, value) for every entry, in slot order (not a meaningful order).
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.used) f(s.key, s.value);
  }

private:
  static constexpr size_t kMinSlots = 8;
  struct Slot {
    K key{};
    V value{};
    bool used = false;
  };

  size_t home(K k) const noexcept {
    return static_cast<size_t>((static_cast<uint64_t>(k) * 0x9e3779b97f4a7c15ull) >> shift_);
  }
  /// The slot holding `k`, or the empty slot where it would go (the table is never full).
  size_t probe(K k) const noexcept {
    const size_t mask = slots_.size() - 1;
    for (size_t i = home(k);; i = (i + 1) & mask)
      if (!slots_[i].used || slots_[i].key == k) return i;
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    reset(std::max<size_t>(size_ + 1, old.size()));
    for (const Slot& s : old)
      if (s.used) {
        slots_[probe(s.key)] = s;
        ++size_;
      }
  }

  std::vector<Slot> slots_;
  unsigned shift_ = 64;
  size_t size_ = 0;
};

}  // namespace vs

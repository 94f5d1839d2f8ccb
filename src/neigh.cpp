#include "neigh.hpp"

#include <algorithm>
#include <bit>

namespace vs {

template <>
uint32_t BasicNeighTable<Ipv4Addr>::fold(Ipv4Addr ip) noexcept {
  return ip.v;
}
template <>
uint64_t BasicNeighTable<Ipv4Addr>::key64(Ipv4Addr ip) noexcept {
  return ip.v;
}
template <>
uint32_t BasicNeighTable<Ipv6Addr>::fold(const Ipv6Addr& ip) noexcept {
  uint32_t x = 0;
  for (size_t i = 0; i < 16; i += 4)
    x ^= uint32_t{ip.b[i]} << 24 | uint32_t{ip.b[i + 1]} << 16 | uint32_t{ip.b[i + 2]} << 8 | ip.b[i + 3];
  return x;
}
template <>
uint64_t BasicNeighTable<Ipv6Addr>::key64(const Ipv6Addr& ip) noexcept {
  uint64_t hi = 0, lo = 0;
  for (size_t i = 0; i < 8; ++i) {
    hi = hi << 8 | ip.b[i];
    lo = lo << 8 | ip.b[8 + i];
  }
  return hi ^ (lo * 0x9e3779b97f4a7c15ull);
}

template <class A>
BasicNeighTable<A>::BasicNeighTable(const NeighParams& p, uint64_t seed)
    : p_(p),
      seed_(seed),
      entries_(p.capacity),
      buckets_(std::bit_ceil(std::max<uint32_t>(p.capacity, 16u)), kNone),
      queues_(size_t{p.capacity} * p.queue_per_entry, kNone) {
  hints_.fill(kNone);
  pending_.reserve(p.capacity);
  for (uint32_t i = p.capacity; i-- > 0;) {
    entries_[i].next = free_;
    free_ = i;
  }
}

template <class A>
uint32_t BasicNeighTable<A>::bucket_of(uint32_t iface, Arg ip) const noexcept {
  // splitmix64 finaliser over (seed, iface, ip): our own hash, identical on every platform.
  uint64_t x = seed_ ^ (uint64_t{iface} << 32) ^ key64(ip);
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  x ^= x >> 31;
  return static_cast<uint32_t>(x & (buckets_.size() - 1));
}

template <class A>
uint32_t BasicNeighTable<A>::find(uint32_t iface, Arg ip) const noexcept {
  for (uint32_t i = buckets_[bucket_of(iface, ip)]; i != kNone; i = entries_[i].next)
    if (entries_[i].iface == iface && entries_[i].ip == ip) return i;
  return kNone;
}

template <class A>
void BasicNeighTable<A>::unlink(uint32_t idx) noexcept {
  Entry& e = entries_[idx];
  uint32_t* link = &buckets_[bucket_of(e.iface, e.ip)];
  while (*link != idx) link = &entries_[*link].next;
  *link = e.next;
}

template <class A>
uint32_t BasicNeighTable<A>::alloc(uint32_t iface, Arg ip, Instant now) noexcept {
  if (free_ == kNone) {
    // Full: reclaim one expired reachable entry if there is one (O(capacity), only when full).
    for (uint32_t i = 0; i < p_.capacity; ++i) {
      if (entries_[i].state == State::kReachable && entries_[i].expires <= now) {
        release(i);
        break;
      }
    }
    if (free_ == kNone) return kNone;
  }
  uint32_t idx = free_;
  free_ = entries_[idx].next;
  Entry& e = entries_[idx];
  e = Entry{};
  e.iface = iface;
  e.ip = ip;
  uint32_t& head = buckets_[bucket_of(iface, ip)];
  e.next = head;
  head = idx;
  ++used_;
  return idx;
}

template <class A>
void BasicNeighTable<A>::release(uint32_t idx) noexcept {
  Entry& e = entries_[idx];
  if (e.state == State::kFree) return;
  if (e.state == State::kIncomplete || e.state == State::kProbe) std::erase(pending_, idx);
  unlink(idx);
  e = Entry{};
  e.next = free_;
  free_ = idx;
  --used_;
}

template <class A>
std::optional<MacAddr> BasicNeighTable<A>::lookup(uint32_t iface, Arg ip, Instant now) noexcept {
  uint32_t& hint = hint_of(ip);
  uint32_t i = hint;
  if (i == kNone || entries_[i].state == State::kFree || entries_[i].iface != iface || entries_[i].ip != ip) {
    i = find(iface, ip);
    hint = i;
  }
  if (i == kNone) return std::nullopt;
  Entry& e = entries_[i];
  if (e.state == State::kProbe) return e.mac;
  if (e.state != State::kReachable) return std::nullopt;
  if (e.expires <= now) {
    e.state = State::kProbe;
    e.probes = 0;
    e.next_probe = now + p_.delay_first_probe;
    pending_.push_back(i);
  }
  return e.mac;
}

template <class A>
uint32_t BasicNeighTable<A>::learn(uint32_t iface, Arg ip, const MacAddr& mac, Instant now, bool create) noexcept {
  uint32_t i = find(iface, ip);
  if (i == kNone) {
    if (!create) return kNone;
    i = alloc(iface, ip, now);
    if (i == kNone) return kNone;
  }
  Entry& e = entries_[i];
  if (e.state == State::kIncomplete || e.state == State::kProbe) std::erase(pending_, i);
  e.state = State::kReachable;
  e.mac = mac;
  e.expires = now + p_.reachable;
  e.probes = 0;
  return i;
}

template <class A>
uint32_t BasicNeighTable<A>::resolve(uint32_t iface, Arg ip, Instant now, bool& created) noexcept {
  created = false;
  uint32_t i = find(iface, ip);
  if (i != kNone) {
    if (entries_[i].state == State::kIncomplete) return i;
    // Not usable (lookup found no MAC): start over.
    release(i);
  }
  i = alloc(iface, ip, now);
  if (i == kNone) return kNone;
  Entry& e = entries_[i];
  e.state = State::kIncomplete;
  e.next_probe = now;
  pending_.push_back(i);
  created = true;
  return i;
}

template <class A>
bool BasicNeighTable<A>::enqueue(uint32_t idx, uint32_t pkt) noexcept {
  Entry& e = entries_[idx];
  if (e.qlen >= p_.queue_per_entry) return false;
  queues_[size_t{idx} * p_.queue_per_entry + e.qlen++] = pkt;
  return true;
}

template <class A>
std::span<const uint32_t> BasicNeighTable<A>::queue(uint32_t idx) const noexcept {
  return {queues_.data() + size_t{idx} * p_.queue_per_entry, entries_[idx].qlen};
}

template <class A>
void BasicNeighTable<A>::clear_queue(uint32_t idx) noexcept {
  entries_[idx].qlen = 0;
}

template <class A>
void BasicNeighTable<A>::due(Instant now, std::vector<uint32_t>& out) const {
  for (uint32_t i : pending_)
    if (entries_[i].next_probe <= now) out.push_back(i);
}

template <class A>
void BasicNeighTable<A>::mark_probed(uint32_t idx, Instant now) noexcept {
  Entry& e = entries_[idx];
  ++e.probes;
  e.next_probe = now + p_.retrans;
}

template <class A>
std::optional<Instant> BasicNeighTable<A>::next_deadline() const noexcept {
  std::optional<Instant> d;
  for (uint32_t i : pending_)
    if (!d || entries_[i].next_probe < *d) d = entries_[i].next_probe;
  return d;
}

template <class A>
std::vector<uint32_t> BasicNeighTable<A>::sorted() const {
  std::vector<uint32_t> v;
  for (uint32_t i = 0; i < p_.capacity; ++i)
    if (entries_[i].state != State::kFree) v.push_back(i);
  std::sort(v.begin(), v.end(), [&](uint32_t a, uint32_t b) {
    return std::pair(entries_[a].iface, entries_[a].ip) < std::pair(entries_[b].iface, entries_[b].ip);
  });
  return v;
}

template class BasicNeighTable<Ipv4Addr>;
template class BasicNeighTable<Ipv6Addr>;

}  // namespace vs

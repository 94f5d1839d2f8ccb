// Per-destination ICMP error rate limit, as the kernel's inet_peer_xrlim_allow
// (net/ipv4/inetpeer.c) with icmp_ratelimit (net/ipv4/icmp.c icmpv4_xrlim_allow; for IPv6
// net/ipv6/icmp.c icmpv6_xrlim_allow with icmpv6_time): each
// destination holds up to XRLIM_BURST_FACTOR (6) timeouts of tokens, an error costs one timeout
// (1000 ms by default), so a destination gets a burst of 6 errors, then one a second.
//
// The kernel keeps the state in inet_peer entries, a tree bounded by inet_peer_threshold and
// garbage-collected by age. Here it is a fixed table, allocated once: 4-way sets indexed by a
// hash of the address keyed by the router's seed; a new destination takes a free way of its set,
// else the way used least recently. A new entry starts full, as a new inet_peer does (its
// rate_last is set 60 s back). Evicting an entry idle for 6 timeouts or more loses nothing (it
// was full again); evicting a busier one forgets its debt, so under a flood of more destinations
// than the table holds one destination may get more than the kernel would give it. The global
// token bucket bounds the total either way.
//
// Deterministic: time is passed in, the hash is ours.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/addr.hpp"
#include "base/time.hpp"

namespace vs {

/// One table per address family (ICMPv4's and ICMPv6's peers are apart in the kernel too).
template <class A>
class BasicIcmpPeerLimiter {
public:
  static constexpr int64_t kBurstFactor = 6;  // XRLIM_BURST_FACTOR
  static constexpr size_t kWays = 4;

  /// `entries` is rounded up to a power of two, at least kWays. `timeout_ms` 0 = no limit (the
  /// sysctl's 0: inet_peer_xrlim_allow always allows).
  BasicIcmpPeerLimiter(size_t entries, uint32_t timeout_ms, uint64_t seed) : timeout_us_(int64_t{timeout_ms} * 1000) {
    size_t sets = 1;
    while (sets * kWays < entries) sets <<= 1;
    table_.resize(sets * kWays);
    mask_ = sets - 1;
    key_ = seed ^ 0x6a09e667f3bcc909ull;
  }

  /// inet_peer_xrlim_allow for the destination `dst` at `now`: true and one timeout of tokens
  /// spent, or false.
  bool allow(const A& dst, Instant now) noexcept { return allow(dst, now, timeout_us_); }
  /// The same with this call's own timeout: icmpv6_xrlim_allow divides icmpv6_time for wider
  /// routes (the timeout() below).
  bool allow(const A& dst, Instant now, int64_t timeout_us) noexcept {
    if (timeout_us_ == 0 || timeout_us == 0) return true;
    Entry& e = find_or_claim(dst, now, timeout_us);
    int64_t tokens = e.tokens + std::max<int64_t>(0, (now - e.last).us);
    e.last = now;
    if (tokens > kBurstFactor * timeout_us) tokens = kBurstFactor * timeout_us;
    const bool ok = tokens >= timeout_us;
    if (ok) tokens -= timeout_us;
    e.tokens = tokens;
    return ok;
  }
  int64_t timeout_us() const noexcept { return timeout_us_; }

  size_t capacity() const noexcept { return table_.size(); }

private:
  struct Entry {
    A addr{};
    bool used = false;
    int64_t tokens = 0;  // microseconds of credit, as the kernel's jiffies
    Instant last{};
  };

  static uint64_t key64(Ipv4Addr a) noexcept { return a.v; }
  static uint64_t key64(const Ipv6Addr& a) noexcept {
    uint64_t hi = 0, lo = 0;
    for (size_t i = 0; i < 8; ++i) {
      hi = hi << 8 | a.b[i];
      lo = lo << 8 | a.b[8 + i];
    }
    return hi ^ (lo * 0x9e3779b97f4a7c15ull);
  }
  size_t set_of(const A& a) const noexcept {
    uint64_t z = (key64(a) ^ key_) + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<size_t>((z ^ (z >> 31)) & mask_);
  }

  Entry& find_or_claim(const A& a, Instant now, int64_t timeout_us) noexcept {
    Entry* set = &table_[set_of(a) * kWays];
    Entry* victim = nullptr;
    for (size_t i = 0; i < kWays; ++i) {
      Entry& e = set[i];
      if (e.used && e.addr == a) return e;
      if (!victim || (victim->used && (!e.used || e.last < victim->last))) victim = &e;
    }
    // A new peer: full (rate_last 60 s back in inet_getpeer).
    *victim = Entry{a, true, kBurstFactor * timeout_us, now};
    return *victim;
  }

  std::vector<Entry> table_;
  size_t mask_ = 0;
  uint64_t key_ = 0;
  int64_t timeout_us_;
};

using IcmpPeerLimiter = BasicIcmpPeerLimiter<Ipv4Addr>;
using IcmpPeerLimiter6 = BasicIcmpPeerLimiter<Ipv6Addr>;

}  // namespace vs

// The neighbour (ARP) cache: fixed capacity, no allocation after construction.
//
// An entry is kIncomplete (we sent a request and hold a bounded queue of packets waiting for the
// answer), kReachable (MAC confirmed until `expires`), or kProbe: a reachable entry used after
// it expired keeps carrying packets to the MAC it knows while it is re-confirmed, as Linux's
// STALE -> DELAY -> PROBE: after `delay_first_probe` a unicast request to that MAC, then one per
// `retrans`, `max_probes` in all; an answer (or any ARP from the host) makes it reachable again,
// silence releases it (the next packet starts a broadcast resolution). So a long transfer does
// not stall for a resolution every `reachable` seconds. Entries are created only when we need
// a next hop or when a host asks us for one of our addresses (RFC 826's "merge" rule, as Linux
// with arp_accept=0); unsolicited replies never create entries, so an ARP flood cannot fill the
// table with addresses we never asked for.
//
// The table stores packets only as indices into a PacketPool owned by the engine; it does no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "base/addr.hpp"
#include "base/time.hpp"

namespace vs {

struct NeighParams {
  uint32_t capacity = 1024;                           // entries
  uint32_t queue_per_entry = 4;                       // packets waiting for one resolution
  Duration reachable = Duration::seconds(60);         // lifetime of a learned entry
  Duration retrans = Duration::seconds(1);            // gap between requests (rate limit)
  uint32_t max_probes = 3;                            // requests before giving up
  Duration delay_first_probe = Duration::seconds(5);  // kProbe: use before the first request
};

/// One neighbour cache per address family: ARP's (Ipv4Addr) and Neighbour Discovery's
/// (Ipv6Addr, RFC 4861 §7.3: INCOMPLETE, REACHABLE and STALE/DELAY/PROBE as kProbe, the same
/// timers). The family changes only the key and its hash.
template <class A>
class BasicNeighTable {
  using Arg = std::conditional_t<sizeof(A) <= 8, A, const A&>;  // IPv4 addresses by value

public:
  enum class State : uint8_t { kFree, kIncomplete, kReachable, kProbe };
  static constexpr uint32_t kNone = UINT32_MAX;

  struct Entry {
    State state = State::kFree;
    uint32_t iface = 0;
    A ip;
    MacAddr mac;
    Instant expires;        // kReachable: end of validity
    Instant next_probe;     // kIncomplete, kProbe: when to send the next request or give up
    uint32_t probes = 0;    // requests sent so far
    uint32_t qlen = 0;      // packets waiting (kIncomplete)
    uint32_t next = kNone;  // hash chain / free list
  };

  BasicNeighTable(const NeighParams& p, uint64_t seed);

  const NeighParams& params() const noexcept { return p_; }

  /// The MAC to send to for (iface, ip), if any: a reachable entry's, or an expired one's, which
  /// then starts being re-confirmed (kProbe).
  std::optional<MacAddr> lookup(uint32_t iface, Arg ip, Instant now) noexcept;

  /// Record that ip is at mac. With create=false only an existing entry is updated (RFC 826 merge).
  /// Returns the entry index if an entry now holds the MAC, kNone otherwise (table full or not
  /// existing with create=false). If the entry was incomplete, its queued packets are in
  /// queue(idx) and must be sent and then cleared with clear_queue(idx).
  uint32_t learn(uint32_t iface, Arg ip, const MacAddr& mac, Instant now, bool create) noexcept;

  /// Find or create an incomplete entry for a next hop. Returns kNone if the table is full.
  /// `created` is set when a new entry was made (the caller sends the first request).
  uint32_t resolve(uint32_t iface, Arg ip, Instant now, bool& created) noexcept;

  /// Add a packet (pool index) to an incomplete entry's queue; false if the queue is full.
  bool enqueue(uint32_t idx, uint32_t pkt) noexcept;
  std::span<const uint32_t> queue(uint32_t idx) const noexcept;
  void clear_queue(uint32_t idx) noexcept;

  /// Entries whose next_probe is due: the caller sends a request (probes < max; unicast to the
  /// known MAC for kProbe) or, when probes are exhausted, fails the queued packets (kIncomplete)
  /// and then calls release(). Appends indices to `out`.
  void due(Instant now, std::vector<uint32_t>& out) const;
  void mark_probed(uint32_t idx, Instant now) noexcept;
  void release(uint32_t idx) noexcept;

  /// The earliest next_probe among incomplete and probing entries.
  std::optional<Instant> next_deadline() const noexcept;

  const Entry& entry(uint32_t idx) const noexcept { return entries_[idx]; }
  /// The entry for (iface, ip), or nullptr; no side effect (lookup() starts re-confirmation).
  const Entry* peek(uint32_t iface, Arg ip) const noexcept {
    const uint32_t i = find(iface, ip);
    return i == kNone ? nullptr : &entries_[i];
  }
  uint32_t size() const noexcept { return used_; }
  uint32_t capacity() const noexcept { return p_.capacity; }
  /// Indices of used entries in a stable order (by interface, then address), for listings.
  std::vector<uint32_t> sorted() const;

private:
  uint32_t bucket_of(uint32_t iface, Arg ip) const noexcept;
  uint32_t find(uint32_t iface, Arg ip) const noexcept;
  uint32_t alloc(uint32_t iface, Arg ip, Instant now) noexcept;
  void unlink(uint32_t idx) noexcept;

  /// A hint for lookup(): the entry last found for addresses with this Fibonacci hash (it
  /// spreads consecutive addresses over distinct slots). Checked against the entry (in use, same
  /// interface and address; (iface, ip) is unique among used entries), so a stale hint only
  /// costs the hashed find() it would have done anyway. 256 slots (1 KiB): the next hops that
  /// carry the traffic (a pool of 100 reals: every one in its own slot; with 64 slots 40 % of
  /// lookups missed) stay hinted while health checks' probes to thousands of other reals pass
  /// through; a miss walks a hash chain in a table sized for every checked real
  /// (docs/benchmarks.md, "Health checks beside the forwarding").
  static constexpr unsigned kHintBits = 8;
  uint32_t& hint_of(Arg ip) noexcept { return hints_[(fold(ip) * 0x9e3779b1u) >> (32 - kHintBits)]; }
  /// The address as 32 bits for the hint (IPv4: itself; IPv6: its four words xor-ed).
  static uint32_t fold(Arg ip) noexcept;
  /// The address as 64 bits for the hash (IPv4: itself; IPv6: its halves xor-ed).
  static uint64_t key64(Arg ip) noexcept;

  NeighParams p_;
  uint64_t seed_;
  std::array<uint32_t, size_t{1} << kHintBits> hints_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> buckets_;
  std::vector<uint32_t> queues_;   // capacity * queue_per_entry pool indices
  std::vector<uint32_t> pending_;  // indices of kIncomplete and kProbe entries (bounded by capacity)
  uint32_t free_ = kNone;
  uint32_t used_ = 0;
};

template <>
uint32_t BasicNeighTable<Ipv4Addr>::fold(Ipv4Addr ip) noexcept;
template <>
uint64_t BasicNeighTable<Ipv4Addr>::key64(Ipv4Addr ip) noexcept;
template <>
uint32_t BasicNeighTable<Ipv6Addr>::fold(const Ipv6Addr& ip) noexcept;
template <>
uint64_t BasicNeighTable<Ipv6Addr>::key64(const Ipv6Addr& ip) noexcept;

using NeighTable = BasicNeighTable<Ipv4Addr>;
using NeighTable6 = BasicNeighTable<Ipv6Addr>;
extern template class BasicNeighTable<Ipv4Addr>;
extern template class BasicNeighTable<Ipv6Addr>;

}  // namespace vs

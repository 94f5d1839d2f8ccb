// The connection table: storage, lookup in both directions, and timers. IPVS semantics (states,
// counts, persistence) live in ipvs/director.*; this file is the mechanism.
//
// Storage: a slab of Conn reserved at start for `capacity` entries (untouched pages cost no
// memory) and a free list; an index names a connection. Full = create() returns kNone.
//
// Lookup: one hash table, two nodes per connection (DPVS's tuplehash[2]):
//   node 2i   (in)  keyed by the client->virtual tuple  (proto, caddr:cport -> vaddr:vport)
//   node 2i+1 (out) keyed by the reply tuple            (proto, raddr:rport -> caddr:cport)
// where raddr:rport is daddr:dport for NAT and vaddr:vport otherwise (ip_vs_conn_out_get).
// Persistence templates have only the in node, keyed (proto, caddr&mask:0 -> vaddr:vport).
//
// Timers: every re-arm sets expires = now + timeout and appends the connection to the FIFO queue
// of that timeout value. All members of one queue share the timeout and are appended in time
// order, so each queue is sorted by expiry: the next deadline is the smallest queue head, and
// expiry is exact to the microsecond, O(1) per packet, with no allocation. Timeout values are
// registered up front (a small set: TCP states, UDP, persistence timeouts, 60 s).
//
// Half-open list: the director links its half-open TCP connections (SYN_RECV, SYNACK) into one
// more list, least recently active first (a packet moves an entry to the tail), so the table
// defences find the entry to evict or expire in O(1) (docs/hardening.md).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/addr.hpp"
#include "base/time.hpp"
#include "config/config.hpp"
#include "conn/tcp_state.hpp"
#include "flow.hpp"

namespace vs::ipvs {
struct Dest;
struct Service;
}  // namespace vs::ipvs

namespace vs::conn {

inline constexpr uint32_t kNone = UINT32_MAX;

enum ConnFlag : uint16_t {
  kFlagTemplate = 1u << 0,  // persistence template (IP_VS_CONN_F_TEMPLATE)
  kFlagNoOutput = 1u << 1,  // no reply seen through us: DR/TUN (IP_VS_CONN_F_NOOUTPUT)
  kFlagInactive = 1u << 2,  // counted in the dest's inactconns (IP_VS_CONN_F_INACTIVE)
  kFlagAssured = 1u << 3,   // template: a controlled connection got established / a UDP reply seen
  kFlagHashed = 1u << 4,    // in the hash table (an invalidated template is not)
  kFlagOnePacket = 1u << 5, // ops: scheduled per packet, never hashed, freed after the packet
  kFlagHalfOpen = 1u << 6,  // in the half-open list
};

struct Conn {
  Ipv4Addr caddr, vaddr, daddr;
  uint16_t cport = 0, vport = 0, dport = 0;
  uint8_t proto = 0;
  config::Method method = config::Method::kDr;
  uint16_t flags = 0;
  TcpState state = TcpState::kNone;
  bool in_use = false;

  Duration timeout;
  Instant expires;
  uint16_t queue = 0;                       // timer queue index
  uint32_t q_prev = kNone, q_next = kNone;  // timer queue links

  ipvs::Service* svc = nullptr;
  ipvs::Dest* dest = nullptr;
  uint32_t control = kNone;  // the template controlling this connection
  uint32_t n_control = 0;    // connections this template controls

  uint32_t h_next[2] = {kNone, kNone};  // hash chain links of the in and out nodes

  uint32_t ho_prev = kNone, ho_next = kNone;  // half-open list links
  Instant ho_since;                           // last packet while half-open
};

class ConnTable {
public:
  ConnTable(uint32_t capacity, uint64_t seed, std::vector<Duration> timeouts);

  struct Hit {
    uint32_t idx;
    bool out;  // the packet is a reply (real -> client)
  };
  /// The non-template connection this packet belongs to, in either direction.
  std::optional<Hit> lookup(const FlowKey& k) const noexcept;
  /// The hashed persistence template (proto, caddr, cport 0, vaddr, vport).
  uint32_t find_template(uint8_t proto, Ipv4Addr caddr, Ipv4Addr vaddr, uint16_t vport) const noexcept;

  /// A new entry with the identity fields of `init` set, hashed (both nodes, or the in node for a
  /// template; a one-packet entry is not hashed), armed with `timeout` from `now`. kNone when the
  /// table is full.
  uint32_t create(const Conn& init, Duration timeout, Instant now) noexcept;
  /// Re-arm: expires = now + timeout (the connection's current timeout).
  void rearm(uint32_t idx, Instant now) noexcept;
  void set_timeout(uint32_t idx, Duration t) noexcept;
  /// Remove from the hash (the entry stays allocated: an invalidated template).
  void unhash(uint32_t idx) noexcept;
  /// Unhash, unlink from its timer queue and free. The caller has done the IPVS bookkeeping.
  void free(uint32_t idx) noexcept;

  /// Link `idx` at the tail of the half-open list (moving it there if already linked), stamped `now`.
  void half_open_touch(uint32_t idx, Instant now) noexcept;
  /// Unlink `idx` from the half-open list if it is linked (free() does this too).
  void half_open_remove(uint32_t idx) noexcept;
  /// The least recently active half-open entry, or kNone.
  uint32_t half_open_oldest() const noexcept { return ho_head_; }
  uint32_t half_open_size() const noexcept { return ho_size_; }
  /// Longest hash chain (nodes in one bucket): a check that lookups stay O(1) under a flood.
  uint32_t max_chain() const noexcept;

  std::optional<Instant> next_deadline() const noexcept;
  /// The entry with the earliest expiry if it is due at `now`, else kNone.
  uint32_t due(Instant now) const noexcept;

  Conn& operator[](uint32_t i) noexcept { return slab_[i]; }
  const Conn& operator[](uint32_t i) const noexcept { return slab_[i]; }
  uint32_t size() const noexcept { return used_; }
  uint32_t capacity() const noexcept { return capacity_; }
  /// Indices of live entries (for listings); order is slab order.
  template <class F>
  void for_each(F&& f) const {
    for (uint32_t i = 0; i < slab_.size(); ++i)
      if (slab_[i].in_use) f(i, slab_[i]);
  }

private:
  struct Queue {
    Duration timeout;
    uint32_t head = kNone, tail = kNone;
  };
  uint32_t bucket(uint8_t proto, Ipv4Addr s, uint16_t sp, Ipv4Addr d, uint16_t dp) const noexcept;
  /// The bucket of a node: node 2i hashes the client->virtual tuple, 2i+1 the reply tuple.
  uint32_t node_bucket(uint32_t node) const noexcept;
  void hash_node(uint32_t node) noexcept;
  void unhash_node(uint32_t node) noexcept;
  bool node_matches(uint32_t node, const FlowKey& k) const noexcept;
  uint16_t queue_of(Duration t) noexcept;
  void q_unlink(uint32_t idx) noexcept;
  void q_append(uint32_t idx) noexcept;

  uint32_t capacity_;
  uint64_t seed_;
  std::vector<Conn> slab_;  // reserved to capacity: never reallocates
  std::vector<uint32_t> free_;
  std::vector<uint32_t> buckets_;
  std::vector<Queue> queues_;
  uint32_t used_ = 0;
  uint32_t ho_head_ = kNone, ho_tail_ = kNone, ho_size_ = 0;
};

}  // namespace vs::conn

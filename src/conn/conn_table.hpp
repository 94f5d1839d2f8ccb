// The connection table: storage, lookup in both directions, and timers. IPVS semantics (states,
// counts, persistence) live in ipvs/director.*; this file is the mechanism.
//
// Storage: a slab of Conn reserved at start for `capacity` entries (untouched pages cost no
// memory) and a free list; an index names a connection. Full = create() returns kNone. A Conn is
// one 64-byte cache line, line-aligned, holding everything a packet of an established connection
// reads or writes; what only templates and half-open entries use (ConnAux) is a parallel array.
//
// Lookup: one hash table, two nodes per connection (DPVS's tuplehash[2]):
//   node 2i   (in)  keyed by the client->virtual tuple  (proto, caddr:cport -> vaddr:vport)
//   node 2i+1 (out) keyed by the reply tuple            (proto, raddr:rport -> caddr:cport)
// where raddr:rport is daddr:dport for NAT and vaddr:vport otherwise (ip_vs_conn_out_get).
// Persistence templates have only the in node, keyed (proto, caddr&mask:0 -> vaddr:vport).
// The table is open addressing over 64-byte buckets of 10 slots, each slot a node index and a
// 16-bit tag from the hash (the bits that did not choose the bucket): a lookup reads one bucket
// line and only the connections whose tag matches, i.e. nearly always just the one it finds. A
// full bucket spills to the next one (linear probing by bucket); each bucket counts the nodes
// that probed past it (`spill`, folly F14's overflow count), so a lookup stops at the first
// bucket with none and a removal needs no tombstones. Buckets: capacity / 2 (two nodes per
// connection, at most 40 % of the slots used with the table full): 32 bytes per connection of
// capacity.
//
// Timers: one timer queue per timeout value (a small set registered up front: TCP states, UDP,
// persistence timeouts, 60 s). A queue is two structures:
//   - a FIFO: a connection is appended when it is created or its timeout changes, with
//     `slot` = its expiry then. All members share the timeout and are appended in time order,
//     so the FIFO is sorted by slot.
//   - a radix heap (Ahuja et al.) of the connections that were still alive when their slot came.
// A packet of a connection whose timeout did not change only writes `expires` (lazy re-arm):
// the entry stays where it is, and its slot (or heap key) becomes a lower bound of its expiry.
// When the clock reaches the slot, on_timer finds `expires` later and moves the entry to the
// heap, keyed by its real expiry; the heap does the same with keys it reaches. So a packet
// touches no other connection (an eager re-arm writes its two FIFO neighbours: two random
// cache lines), and each connection costs at most a few heap moves per timeout period.
// Exact: nothing expires before `expires` (due() checks it), and next_deadline() is a lower
// bound of the earliest expiry, equal to it unless the entry at the front was re-armed since; a
// deadline that comes early only moves entries, so timers fired at each deadline (the daemon,
// replay) expire every connection at its `expires`, to the microsecond. No allocation.
//
// Half-open list: the director links its half-open TCP connections (SYN_RECV, SYNACK) into one
// more list, least recently active first (a packet moves an entry to the tail), so the table
// defences find the entry to evict or expire in O(1) (docs/hardening.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <vector>

#include "base/addr.hpp"
#include "base/huge_alloc.hpp"
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
  kFlagTemplate = 1u << 0,    // persistence template (IP_VS_CONN_F_TEMPLATE)
  kFlagNoOutput = 1u << 1,    // no reply seen through us: DR/TUN (IP_VS_CONN_F_NOOUTPUT)
  kFlagInactive = 1u << 2,    // counted in the dest's inactconns (IP_VS_CONN_F_INACTIVE)
  kFlagAssured = 1u << 3,     // template: a controlled connection got established / a UDP reply seen
  kFlagHashed = 1u << 4,      // in the hash table (an invalidated template is not)
  kFlagOnePacket = 1u << 5,   // ops: scheduled per packet, never hashed, freed after the packet
  kFlagHalfOpen = 1u << 6,    // in the half-open list
  kFlagInUse = 1u << 7,       // a live slab entry
  kFlagAwaitReply = 1u << 8,  // passive_check watches it: no packet from the real yet (vsrouter's)
  kFlagIpv6 = 1u << 9,        // an IPv6 connection: its addresses are in ConnTable::addr6
  kFlagDest6 = 1u << 10,      // an IPv4 connection to an IPv6 real (TUN): the real in addr6(i).d
};

// Field order matters: this is one cache line (static_assert below), so adding a field means
// moving a rarely used one to ConnAux.
struct alignas(64) Conn {
  Ipv4Addr caddr, vaddr, daddr;
  uint16_t cport = 0, vport = 0, dport = 0;
  IpProto proto{};
  config::Method method = config::Method::kDr;
  uint16_t flags = 0;
  TcpState state = TcpState::kNone;
  uint8_t qbucket = 0;  // timer: kInFifo, or the queue's heap bucket (0..64)

  Instant expires;

  ipvs::Service* svc = nullptr;
  ipvs::Dest* dest = nullptr;
  uint32_t control = kNone;  // the template controlling this connection

  uint16_t queue = 0;                       // the timer queue it is linked into
  uint16_t tqueue = 0;                      // the timer queue of its timeout (set_timeout)
  uint32_t q_prev = kNone, q_next = kNone;  // links in its queue's FIFO or heap bucket
};
static_assert(sizeof(Conn) == 64, "a Conn is one cache line");

/// The rarely used part of a connection: templates, half-open entries and connection sync.
struct ConnAux {
  uint32_t n_control = 0;                     // connections this template controls
  uint32_t ho_prev = kNone, ho_next = kNone;  // half-open list links
  uint32_t in_pkts = 0;                       // sync master: client packets (cp->in_pkts)
  Instant ho_since;                           // last packet while half-open
  Instant slot;                               // timer: the expiry it had when appended to the FIFO
  // Connection sync, written only while this director is a sync master (ip_vs_sync.c): the expiry
  // last synced in whole seconds (cp->sync_endtime; 0: never), its resends, the state synced.
  uint32_t sync_end_s = 0;
  TcpState old_state = TcpState::kNone;
  uint8_t sync_retries = 0;
};
static_assert(sizeof(ConnAux) == 40, "sync adds 8 bytes to a connection's rarely used part");

/// The addresses of an IPv6 connection (kFlagIpv6), beside the slab: the Conn's caddr, vaddr and
/// daddr hold their folds (IpAddr::fold). A template's caddr is the client prefix. An IPv4 real
/// of an IPv6 service (TUN) is held v4-mapped in `d`; an IPv6 real of an IPv4 connection
/// (kFlagDest6, TUN) is `d` alone. A tunnelled connection's replies never pass the director, so
/// `d` takes part in no lookup of either.
struct ConnAddr6 {
  Ipv6Addr c, v, d;
};

class ConnTable {
public:
  ConnTable(uint32_t capacity, uint64_t seed, std::vector<Duration> timeouts);

  struct Hit {
    uint32_t idx;
    bool out;  // the packet is a reply (real -> client)
  };
  /// The non-template connection this packet belongs to, in either direction.
  std::optional<Hit> lookup(const FlowKey& k) const noexcept { return lookup(k, nullptr); }
  /// An IPv6 flow (k.v6, k holding the folds): `a6` its addresses; nullptr for IPv4.
  std::optional<Hit> lookup(const FlowKey& k, const FlowAddr6* a6) const noexcept;
  /// The hashed persistence template (proto, caddr, cport 0, vaddr, vport).
  uint32_t find_template(IpProto proto, Ipv4Addr caddr, Ipv4Addr vaddr, uint16_t vport) const noexcept;
  /// The same for an IPv6 service (caddr: the client's prefix, ipv6_addr_prefix).
  uint32_t find_template6(IpProto proto, const Ipv6Addr& caddr, const Ipv6Addr& vaddr, uint16_t vport) const noexcept;

  /// A new entry with the identity fields of `init` set, hashed (both nodes, or the in node for a
  /// template; a one-packet entry is not hashed), armed with `timeout` from `now`. kNone when the
  /// table is full.
  /// An IPv6 connection (kFlagIpv6 in init.flags) passes its addresses in `a6`; init's caddr,
  /// vaddr and daddr are then set to their folds here. An IPv4 connection to an IPv6 real
  /// (kFlagDest6) passes the real in a6->d (its daddr becomes the fold).
  uint32_t create(const Conn& init, Duration timeout, Instant now, const ConnAddr6* a6 = nullptr) noexcept;
  /// Re-arm: expires = now + timeout (the connection's current timeout).
  void rearm(uint32_t idx, Instant now) noexcept;
  void set_timeout(uint32_t idx, Duration t) noexcept;
  /// Whether `t` can be a connection's timeout: a queue has it, or one more queue fits (at most
  /// kMaxQueues: timeouts from outside, such as a sync master's, cannot grow the set unbounded).
  bool can_time(Duration t) const noexcept;
  static constexpr size_t kMaxQueues = 64;
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
  /// The most nodes one lookup can meet (the occupied slots of the buckets it may probe): a
  /// check that lookups stay O(1) under a flood.
  uint32_t max_chain() const noexcept;
  /// The most buckets one lookup can read.
  uint32_t max_probe() const noexcept;
  uint32_t buckets() const noexcept { return static_cast<uint32_t>(buckets_.size()); }

  /// When on_timer() should run next: at or before the earliest expiry (see Timers above).
  std::optional<Instant> next_deadline() const noexcept;
  /// The entry with the earliest expiry if it is due at `now`, else kNone. Moves re-armed
  /// entries it meets to their place (nothing observable).
  uint32_t due(Instant now) noexcept;

  Conn& operator[](uint32_t i) noexcept { return slab_[i]; }
  const Conn& operator[](uint32_t i) const noexcept { return slab_[i]; }
  ConnAux& aux(uint32_t i) noexcept { return aux_[i]; }
  const ConnAux& aux(uint32_t i) const noexcept { return aux_[i]; }
  /// The addresses of IPv6 connection `i` (kFlagIpv6), or the IPv6 real of `i` (kFlagDest6).
  const ConnAddr6& addr6(uint32_t i) const noexcept { return addr6_[i]; }
  /// The timeout the connection is armed with (its timer queue's).
  Duration timeout(uint32_t i) const noexcept { return queues_[slab_[i].tqueue].timeout; }
  uint32_t size() const noexcept { return used_; }
  uint32_t capacity() const noexcept { return capacity_; }
  /// Indices of live entries (for listings); order is slab order.
  template <class F>
  void for_each(F&& f) const {
    for (uint32_t i = 0; i < slab_.size(); ++i)
      if (slab_[i].flags & kFlagInUse) f(i, slab_[i]);
  }

private:
  static constexpr uint8_t kInFifo = 0xff;
  static constexpr uint32_t kHeapBuckets = 65;
  struct Queue {
    Duration timeout;
    uint32_t head = kNone, tail = kNone;  // FIFO
    // Radix heap over keys (biased microseconds): every key >= last; bucket 0 holds keys equal
    // to last, bucket b > 0 the keys whose highest bit differing from last is b - 1.
    uint64_t last = 0;
    uint64_t mask = 0;  // bit b - 1: bucket b > 0 is not empty
    uint32_t heap[kHeapBuckets];
    Queue(Duration t) : timeout(t) { std::fill(std::begin(heap), std::end(heap), kNone); }
  };
  static constexpr uint32_t kWays = 10;
  struct alignas(64) Bucket {
    uint32_t node[kWays];
    uint16_t tag[kWays];
    uint32_t spill;  // nodes whose probe went past this bucket
  };
  static_assert(sizeof(Bucket) == 64, "a bucket is one cache line");
  struct Slot {
    uint32_t bucket;
    uint16_t tag;
  };
  Slot slot(IpProto proto, Ipv4Addr s, uint16_t sp, Ipv4Addr d, uint16_t dp) const noexcept;
  /// IPv6: all 32 address bytes hashed (the folds are linear: keyed on them alone, a sender could
  /// pick addresses that collide; the kernel jhashes the 16 bytes too, ip_vs_conn_hashkey).
  Slot slot6(IpProto proto, const Ipv6Addr& s, uint16_t sp, const Ipv6Addr& d, uint16_t dp) const noexcept;
  Slot key_slot(const FlowKey& k, const FlowAddr6* a6) const noexcept {
    return a6 ? slot6(k.proto, a6->src, k.sport, a6->dst, k.dport) : slot(k.proto, k.src, k.sport, k.dst, k.dport);
  }
  /// The slot of a node: node 2i hashes the client->virtual tuple, 2i+1 the reply tuple.
  Slot node_slot(uint32_t node) const noexcept;
  uint32_t next_bucket(uint32_t b) const noexcept { return b + 1 == buckets_.size() ? 0 : b + 1; }
  /// Visit the nodes whose tag is `s.tag` in the buckets a lookup of `s` probes, until `f`
  /// returns true; returns that node or kNone.
  template <class F>
  uint32_t probe(Slot s, F&& f) const noexcept;
  void hash_node(uint32_t node) noexcept;
  void unhash_node(uint32_t node) noexcept;
  bool node_matches(uint32_t node, const FlowKey& k, const FlowAddr6* a6) const noexcept;
  /// node_matches' IPv6 half: the full addresses (the folds matched). Out of line: the IPv4 path
  /// keeps node_matches small enough to be inlined into every probe.
  [[gnu::noinline, gnu::cold]] bool node_matches6(uint32_t node, const FlowKey& k, const FlowAddr6& a6) const noexcept;
  uint16_t queue_of(Duration t) noexcept;
  void q_unlink(uint32_t idx) noexcept;
  void q_append(uint32_t idx) noexcept;
  void heap_link(uint32_t idx, uint64_t key) noexcept;
  void heap_unlink(uint32_t idx) noexcept;
  /// The queue's entry due at `now` with the earliest expiry, or kNone; moves entries whose
  /// slot or key has come but whose expiry has not.
  uint32_t queue_due(uint16_t qi, Instant now) noexcept;
  /// A lower bound of the earliest expiry in the queue.
  std::optional<Instant> queue_deadline(const Queue& q) const noexcept;

  uint32_t capacity_;
  uint64_t seed_;
  std::vector<Conn, HugePageAllocator<Conn>> slab_;  // reserved to capacity: never reallocates
  std::vector<ConnAux, HugePageAllocator<ConnAux>> aux_;
  // Reserved to capacity and grown with the slab; only IPv6 connections write theirs, so an
  // IPv4-only table leaves its pages untouched.
  std::vector<ConnAddr6, HugePageAllocator<ConnAddr6>> addr6_;
  std::vector<uint32_t> free_;
  std::vector<Bucket, HugePageAllocator<Bucket>> buckets_;
  std::vector<Queue> queues_;
  uint32_t used_ = 0;
  uint32_t ho_head_ = kNone, ho_tail_ = kNone, ho_size_ = 0;
};

}  // namespace vs::conn

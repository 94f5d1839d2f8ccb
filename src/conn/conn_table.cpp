#include "conn/conn_table.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <iterator>

namespace vs::conn {
namespace {

uint64_t mix(uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

// Timer keys: microseconds biased to unsigned, order preserved.
constexpr uint64_t kBias = uint64_t{1} << 63;
uint64_t key_of(Instant t) noexcept { return static_cast<uint64_t>(t.us) ^ kBias; }
Instant instant_of(uint64_t k) noexcept { return Instant::from_micros(static_cast<int64_t>(k ^ kBias)); }
/// The radix heap bucket of `key` (>= last): 0 if equal, else 1 + its highest bit differing.
uint32_t radix_bucket(uint64_t key, uint64_t last) noexcept {
  return key == last ? 0 : 64 - static_cast<uint32_t>(std::countl_zero(key ^ last));
}

}  // namespace

ConnTable::ConnTable(uint32_t capacity, uint64_t seed, std::vector<Duration> timeouts)
    : capacity_(capacity), seed_(seed) {
  slab_.reserve(capacity);
  aux_.reserve(capacity);
  addr6_.reserve(capacity);
  free_.reserve(capacity);
  // Two nodes per connection in slots of kWays per bucket: capacity / 2 buckets fill at most
  // 40 % of the slots. Linear probing needs that headroom: at 80 % the runs of full buckets grow
  // to tens of buckets under churn (a flood), at 40 % they stay within a few. Not a power of
  // two: the bucket is chosen by a multiply (Lemire's range reduction), not a mask.
  buckets_.resize(std::max<uint32_t>((capacity + 1) / 2, 4));
  for (Bucket& bk : buckets_) {
    std::fill(std::begin(bk.node), std::end(bk.node), kNone);
    std::fill(std::begin(bk.tag), std::end(bk.tag), uint16_t{0});
    bk.spill = 0;
  }
  std::sort(timeouts.begin(), timeouts.end());
  timeouts.erase(std::unique(timeouts.begin(), timeouts.end()), timeouts.end());
  for (Duration t : timeouts) queues_.push_back({t});
}

ConnTable::Slot ConnTable::slot(IpProto proto, Ipv4Addr s, uint16_t sp, Ipv4Addr d, uint16_t dp) const noexcept {
  // Our own hash (never std::hash), keyed with router.seed against hash flooding. The low 32
  // bits choose the bucket, the next 16 are the tag.
  uint64_t a = (uint64_t{s.v} << 32) | d.v;
  uint64_t b = (uint64_t{sp} << 32) | (uint64_t{dp} << 16) | number(proto);
  uint64_t h = mix(mix(a ^ seed_) ^ b);
  return Slot{static_cast<uint32_t>(((h & 0xffffffffu) * buckets_.size()) >> 32), static_cast<uint16_t>(h >> 32)};
}

ConnTable::Slot ConnTable::slot6(IpProto proto, const Ipv6Addr& s, uint16_t sp, const Ipv6Addr& d,
                                 uint16_t dp) const noexcept {
  const auto a = std::bit_cast<std::array<uint64_t, 2>>(s.b), b = std::bit_cast<std::array<uint64_t, 2>>(d.b);
  const uint64_t p = (uint64_t{sp} << 32) | (uint64_t{dp} << 16) | number(proto);
  uint64_t h = mix(mix(mix(mix(a[0] ^ seed_) ^ a[1]) ^ b[0]) ^ b[1]);
  h = mix(h ^ p ^ 0x6);  // never the slot of the IPv4 key with the same words
  return Slot{static_cast<uint32_t>(((h & 0xffffffffu) * buckets_.size()) >> 32), static_cast<uint16_t>(h >> 32)};
}

bool ConnTable::node_matches(uint32_t node, const FlowKey& k, const FlowAddr6* a6) const noexcept {
  const Conn& c = slab_[node >> 1];
  if (c.proto != k.proto || (c.flags & (kFlagTemplate | kFlagIpv6))) {
    // IPv6 (the folds first: a node whose tag matched by chance is refused without reading the
    // side array); never a template, never the other family.
    return a6 && (c.flags & (kFlagTemplate | kFlagIpv6)) == kFlagIpv6 && c.proto == k.proto &&
           node_matches6(node, k, *a6);
  }
  if (a6) return false;
  if ((node & 1) == 0) return c.caddr == k.src && c.cport == k.sport && c.vaddr == k.dst && c.vport == k.dport;
  bool nat = c.method == config::Method::kNat;
  Ipv4Addr ra = nat ? c.daddr : c.vaddr;
  uint16_t rp = nat ? c.dport : c.vport;
  return ra == k.src && rp == k.sport && c.caddr == k.dst && c.cport == k.dport;
}

bool ConnTable::node_matches6(uint32_t node, const FlowKey& k, const FlowAddr6& f) const noexcept {
  const Conn& c = slab_[node >> 1];
  const ConnAddr6& a = addr6_[node >> 1];
  if ((node & 1) == 0)
    return c.caddr == k.src && c.cport == k.sport && c.vaddr == k.dst && c.vport == k.dport && a.c == f.src &&
           a.v == f.dst;
  bool nat = c.method == config::Method::kNat;
  return (nat ? c.daddr : c.vaddr) == k.src && (nat ? c.dport : c.vport) == k.sport && c.caddr == k.dst &&
         c.cport == k.dport && (nat ? a.d : a.v) == f.src && a.c == f.dst;
}

ConnTable::Slot ConnTable::node_slot(uint32_t node) const noexcept {
  const Conn& c = slab_[node >> 1];
  bool nat = c.method == config::Method::kNat;
  if (c.flags & kFlagIpv6) {
    const ConnAddr6& a = addr6_[node >> 1];
    if ((node & 1) == 0) return slot6(c.proto, a.c, c.cport, a.v, c.vport);
    return slot6(c.proto, nat ? a.d : a.v, nat ? c.dport : c.vport, a.c, c.cport);
  }
  if ((node & 1) == 0) return slot(c.proto, c.caddr, c.cport, c.vaddr, c.vport);
  return slot(c.proto, nat ? c.daddr : c.vaddr, nat ? c.dport : c.vport, c.caddr, c.cport);
}

template <class F>
uint32_t ConnTable::probe(Slot s, F&& f) const noexcept {
  // At most every bucket once: in a small table the spilled runs can close the ring.
  for (uint32_t b = s.bucket, k = 0; k < buckets_.size(); b = next_bucket(b), ++k) {
    const Bucket& bk = buckets_[b];
    // The tag compare is branch-free over the line; only matching tags touch a connection.
    uint32_t m = 0;
    for (uint32_t i = 0; i < kWays; ++i) m |= uint32_t{bk.tag[i] == s.tag && bk.node[i] != kNone} << i;
    for (; m; m &= m - 1) {
      uint32_t n = bk.node[std::countr_zero(m)];
      if (f(n)) return n;
    }
    if (bk.spill == 0) return kNone;
  }
  return kNone;
}

void ConnTable::hash_node(uint32_t node) noexcept {
  Slot s = node_slot(node);
  // Never loops forever: at most 2 * capacity nodes in kWays * capacity / 4 slots.
  for (uint32_t b = s.bucket;; b = next_bucket(b)) {
    Bucket& bk = buckets_[b];
    for (uint32_t i = 0; i < kWays; ++i)
      if (bk.node[i] == kNone) {
        bk.node[i] = node;
        bk.tag[i] = s.tag;
        return;
      }
    bk.spill++;
  }
}

void ConnTable::unhash_node(uint32_t node) noexcept {
  Slot s = node_slot(node);
  for (uint32_t b = s.bucket;; b = next_bucket(b)) {
    Bucket& bk = buckets_[b];
    for (uint32_t i = 0; i < kWays; ++i)
      if (bk.node[i] == node) {
        bk.node[i] = kNone;
        // Undo the spill counts of the buckets this node's insertion probed past.
        for (uint32_t p = s.bucket; p != b; p = next_bucket(p)) buckets_[p].spill--;
        return;
      }
    if (bk.spill == 0) return;  // not hashed (cannot happen: callers check kFlagHashed)
  }
}

std::optional<ConnTable::Hit> ConnTable::lookup(const FlowKey& k, const FlowAddr6* a6) const noexcept {
  uint32_t n = probe(key_slot(k, a6), [&](uint32_t n) { return node_matches(n, k, a6); });
  if (n == kNone) return std::nullopt;
  return Hit{n >> 1, (n & 1) != 0};
}

uint32_t ConnTable::find_template(IpProto proto, Ipv4Addr caddr, Ipv4Addr vaddr, uint16_t vport) const noexcept {
  uint32_t n = probe(slot(proto, caddr, 0, vaddr, vport), [&](uint32_t n) {
    const Conn& c = slab_[n >> 1];
    return (n & 1) == 0 && (c.flags & kFlagTemplate) && !(c.flags & kFlagIpv6) && c.proto == proto &&
           c.caddr == caddr && c.cport == 0 && c.vaddr == vaddr && c.vport == vport;
  });
  return n == kNone ? kNone : n >> 1;
}

uint32_t ConnTable::find_template6(IpProto proto, const Ipv6Addr& caddr, const Ipv6Addr& vaddr,
                                   uint16_t vport) const noexcept {
  uint32_t n = probe(slot6(proto, caddr, 0, vaddr, vport), [&](uint32_t n) {
    const Conn& c = slab_[n >> 1];
    return (n & 1) == 0 && (c.flags & kFlagTemplate) && (c.flags & kFlagIpv6) && c.proto == proto && c.cport == 0 &&
           c.vport == vport && addr6_[n >> 1].c == caddr && addr6_[n >> 1].v == vaddr;
  });
  return n == kNone ? kNone : n >> 1;
}

uint32_t ConnTable::create(const Conn& init, Duration timeout, Instant now, const ConnAddr6* a6) noexcept {
  const bool side = (init.flags & (kFlagIpv6 | kFlagDest6)) != 0;
  if (side != (a6 != nullptr) || (init.flags & kFlagIpv6 && init.flags & kFlagDest6))
    return kNone;  // a caller's bug: no half entry
  uint32_t idx;
  if (!free_.empty()) {
    idx = free_.back();
    free_.pop_back();
  } else if (slab_.size() < capacity_) {
    idx = static_cast<uint32_t>(slab_.size());
    slab_.emplace_back();  // within the reserved capacity: no reallocation
    aux_.emplace_back();
  } else {
    return kNone;
  }
  Conn& c = slab_[idx];
  c = init;
  if (a6) {
    // Within the reserved capacity: grows without reallocating (touching the pages up to the
    // highest IPv6 entry only).
    if (addr6_.size() <= idx) addr6_.resize(idx + 1);
    addr6_[idx] = *a6;
    if (c.flags & kFlagIpv6) {
      c.caddr = Ipv4Addr{IpAddr::fold6(a6->c)};
      c.vaddr = Ipv4Addr{IpAddr::fold6(a6->v)};
    }
    c.daddr = Ipv4Addr{IpAddr::fold6(a6->d)};
  }
  c.flags |= kFlagInUse;
  c.q_prev = c.q_next = kNone;
  aux_[idx] = ConnAux{};
  c.flags &= static_cast<uint16_t>(~kFlagHalfOpen);
  if (!(c.flags & kFlagOnePacket)) {
    c.flags |= kFlagHashed;
    hash_node(idx * 2);
    if (!(c.flags & kFlagTemplate)) hash_node(idx * 2 + 1);
  }
  c.queue = c.tqueue = queue_of(timeout);
  c.expires = now + timeout;
  q_append(idx);  // may move expires later if the adapter's clock ran back
  ++used_;
  return idx;
}

uint16_t ConnTable::queue_of(Duration t) noexcept {
  uint16_t nearest = 0;
  for (uint16_t i = 0; i < queues_.size(); ++i) {
    if (queues_[i].timeout == t) return i;
    if (std::llabs(queues_[i].timeout.us - t.us) < std::llabs(queues_[nearest].timeout.us - t.us)) nearest = i;
  }
  // Not registered up front (a config the director did not announce): add it. Control-path
  // values only, so this happens at most once per distinct timeout; past kMaxQueues (callers
  // check can_time first) the nearest timeout stands in.
  if (queues_.size() >= kMaxQueues) return nearest;
  queues_.push_back({t});
  return static_cast<uint16_t>(queues_.size() - 1);
}

bool ConnTable::can_time(Duration t) const noexcept {
  return queues_.size() < kMaxQueues ||
         std::any_of(queues_.begin(), queues_.end(), [t](const Queue& q) { return q.timeout == t; });
}

void ConnTable::q_unlink(uint32_t idx) noexcept {
  Conn& c = slab_[idx];
  if (c.qbucket != kInFifo) return heap_unlink(idx);
  Queue& q = queues_[c.queue];
  (c.q_prev == kNone ? q.head : slab_[c.q_prev].q_next) = c.q_next;
  (c.q_next == kNone ? q.tail : slab_[c.q_next].q_prev) = c.q_prev;
  c.q_prev = c.q_next = kNone;
}

void ConnTable::q_append(uint32_t idx) noexcept {
  Conn& c = slab_[idx];
  Queue& q = queues_[c.queue];
  // Time never runs backwards for a queue: keep it sorted even if the adapter's clock did.
  if (q.tail != kNone && aux_[q.tail].slot > c.expires) c.expires = aux_[q.tail].slot;
  if (key_of(c.expires) < q.last) c.expires = instant_of(q.last);
  aux_[idx].slot = c.expires;
  c.qbucket = kInFifo;
  c.q_prev = q.tail;
  c.q_next = kNone;
  (q.tail == kNone ? q.head : slab_[q.tail].q_next) = idx;
  q.tail = idx;
}

void ConnTable::heap_link(uint32_t idx, uint64_t key) noexcept {
  Conn& c = slab_[idx];
  Queue& q = queues_[c.queue];
  const uint32_t b = radix_bucket(key, q.last);
  c.qbucket = static_cast<uint8_t>(b);
  c.q_prev = kNone;
  c.q_next = q.heap[b];
  if (q.heap[b] != kNone) slab_[q.heap[b]].q_prev = idx;
  q.heap[b] = idx;
  if (b > 0) q.mask |= uint64_t{1} << (b - 1);
}

void ConnTable::heap_unlink(uint32_t idx) noexcept {
  Conn& c = slab_[idx];
  Queue& q = queues_[c.queue];
  const uint32_t b = c.qbucket;
  (c.q_prev == kNone ? q.heap[b] : slab_[c.q_prev].q_next) = c.q_next;
  if (c.q_next != kNone) slab_[c.q_next].q_prev = c.q_prev;
  if (b > 0 && q.heap[b] == kNone) q.mask &= ~(uint64_t{1} << (b - 1));
  c.q_prev = c.q_next = kNone;
  c.qbucket = kInFifo;
}

void ConnTable::rearm(uint32_t idx, Instant now) noexcept {
  Conn& c = slab_[idx];
  const Instant at = now + queues_[c.tqueue].timeout;
  if (c.queue == c.tqueue) {
    // Lazy: the entry keeps its place, whose slot or key stays a lower bound of its expiry.
    // A clock that ran back does not move an expiry earlier.
    if (at > c.expires) c.expires = at;
    return;
  }
  // A new timeout (a state transition): move to the FIFO of that timeout's queue.
  q_unlink(idx);
  c.queue = c.tqueue;
  c.expires = at;
  q_append(idx);
}

uint32_t ConnTable::queue_due(uint16_t qi, Instant now) noexcept {
  Queue& q = queues_[qi];
  const uint64_t know = key_of(now);
  // The FIFO's front, while its slots have come: an entry not re-armed since it was appended
  // (expires == slot) is the FIFO's earliest expiry; one re-armed since goes to the heap, keyed
  // by its expiry (not below the heap's `last`: last <= the time of an earlier call, when this
  // slot had not come yet).
  uint32_t fifo = kNone;
  while (q.head != kNone && aux_[q.head].slot <= now) {
    const uint32_t h = q.head;
    if (slab_[h].expires == aux_[h].slot) {
      fifo = h;
      break;
    }
    q_unlink(h);
    heap_link(h, key_of(slab_[h].expires));
  }
  // The heap: bring its minimum to bucket 0 while keys up to now remain. `last` never passes
  // now, so later insertions (expiries after now) stay valid.
  uint32_t heap = kNone;
  for (;;) {
    if (q.heap[0] != kNone) {
      const uint32_t x = q.heap[0];
      const uint64_t k = key_of(slab_[x].expires);
      if (k == q.last) {
        heap = x;
        break;
      }
      heap_unlink(x);  // re-armed since it was filed: its key moved up
      heap_link(x, k);
      continue;
    }
    if (q.mask == 0) break;
    const uint32_t b = static_cast<uint32_t>(std::countr_zero(q.mask)) + 1;
    // Bucket b holds keys agreeing with last above bit b - 1 and having that bit set.
    const uint64_t lo = (b == 64 ? 0 : (q.last >> b) << b) | (uint64_t{1} << (b - 1));
    if (lo > know) break;                                                          // every key in the heap is after now
    const uint64_t hi = b == 64 ? UINT64_MAX : lo + (uint64_t{1} << (b - 1)) - 1;  // bucket b's range [lo, hi]
    uint64_t m = UINT64_MAX;
    for (uint32_t x = q.heap[b]; x != kNone; x = slab_[x].q_next) m = std::min(m, key_of(slab_[x].expires));
    // The new last stays in bucket b's range (so the buckets above keep their meaning) and not
    // after now; every key of bucket b is >= it.
    q.last = std::min({m, know, hi});
    uint32_t x = q.heap[b];
    q.heap[b] = kNone;
    q.mask &= ~(uint64_t{1} << (b - 1));
    while (x != kNone) {
      const uint32_t next = slab_[x].q_next;
      heap_link(x, key_of(slab_[x].expires));
      x = next;
    }
  }
  if (heap != kNone && key_of(slab_[heap].expires) > know) heap = kNone;
  if (fifo == kNone) return heap;
  if (heap == kNone) return fifo;
  return slab_[heap].expires < slab_[fifo].expires ? heap : fifo;
}

std::optional<Instant> ConnTable::queue_deadline(const Queue& q) const noexcept {
  std::optional<Instant> d;
  if (q.head != kNone) d = aux_[q.head].slot;
  std::optional<Instant> h;
  if (q.heap[0] != kNone) {
    h = instant_of(q.last);
  } else if (q.mask != 0) {
    const uint32_t b = static_cast<uint32_t>(std::countr_zero(q.mask)) + 1;
    h = instant_of((b == 64 ? 0 : (q.last >> b) << b) | (uint64_t{1} << (b - 1)));
  }
  if (h && (!d || *h < *d)) d = h;
  return d;
}

void ConnTable::set_timeout(uint32_t idx, Duration t) noexcept {
  // Called per packet: the queue is searched only when the timeout changed (a state transition).
  Conn& c = slab_[idx];
  if (queues_[c.tqueue].timeout != t) c.tqueue = queue_of(t);
}

void ConnTable::unhash(uint32_t idx) noexcept {
  Conn& c = slab_[idx];
  if (!(c.flags & kFlagHashed)) return;
  unhash_node(idx * 2);
  if (!(c.flags & kFlagTemplate)) unhash_node(idx * 2 + 1);
  c.flags &= static_cast<uint16_t>(~kFlagHashed);
}

void ConnTable::free(uint32_t idx) noexcept {
  unhash(idx);
  q_unlink(idx);
  half_open_remove(idx);
  slab_[idx] = Conn{};
  aux_[idx] = ConnAux{};
  free_.push_back(idx);
  --used_;
}

void ConnTable::half_open_touch(uint32_t idx, Instant now) noexcept {
  half_open_remove(idx);
  slab_[idx].flags |= kFlagHalfOpen;
  ConnAux& x = aux_[idx];
  // Oldest first even if the adapter's clock stepped back (as rearm() keeps the timer queues).
  x.ho_since = (ho_tail_ != kNone && aux_[ho_tail_].ho_since > now) ? aux_[ho_tail_].ho_since : now;
  x.ho_prev = ho_tail_;
  x.ho_next = kNone;
  (ho_tail_ == kNone ? ho_head_ : aux_[ho_tail_].ho_next) = idx;
  ho_tail_ = idx;
  ++ho_size_;
}

void ConnTable::half_open_remove(uint32_t idx) noexcept {
  Conn& c = slab_[idx];
  if (!(c.flags & kFlagHalfOpen)) return;
  ConnAux& x = aux_[idx];
  (x.ho_prev == kNone ? ho_head_ : aux_[x.ho_prev].ho_next) = x.ho_next;
  (x.ho_next == kNone ? ho_tail_ : aux_[x.ho_next].ho_prev) = x.ho_prev;
  x.ho_prev = x.ho_next = kNone;
  c.flags &= static_cast<uint16_t>(~kFlagHalfOpen);
  --ho_size_;
}

uint32_t ConnTable::max_chain() const noexcept {
  uint32_t best = 0;
  for (uint32_t b = 0; b < buckets_.size(); ++b) {
    uint32_t n = 0;
    for (uint32_t p = b, k = 0; k < buckets_.size(); p = next_bucket(p), ++k) {
      for (uint32_t node : buckets_[p].node) n += node != kNone;
      if (buckets_[p].spill == 0) break;
    }
    best = std::max(best, n);
  }
  return best;
}

uint32_t ConnTable::max_probe() const noexcept {
  uint32_t best = 0;
  for (uint32_t b = 0; b < buckets_.size(); ++b) {
    uint32_t n = 1;
    for (uint32_t p = b; buckets_[p].spill != 0 && n <= buckets_.size(); p = next_bucket(p)) ++n;
    best = std::max(best, n);
  }
  return best;
}

std::optional<Instant> ConnTable::next_deadline() const noexcept {
  std::optional<Instant> d;
  for (const Queue& q : queues_)
    if (auto t = queue_deadline(q); t && (!d || *t < *d)) d = t;
  return d;
}

uint32_t ConnTable::due(Instant now) noexcept {
  uint32_t best = kNone;
  for (uint16_t i = 0; i < queues_.size(); ++i) {
    uint32_t c = queue_due(i, now);
    if (c != kNone && (best == kNone || slab_[c].expires < slab_[best].expires)) best = c;
  }
  return best;
}

}  // namespace vs::conn

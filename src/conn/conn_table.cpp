#include "conn/conn_table.hpp"

#include <algorithm>
#include <bit>

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

}  // namespace

ConnTable::ConnTable(uint32_t capacity, uint64_t seed, std::vector<Duration> timeouts)
    : capacity_(capacity), seed_(seed) {
  slab_.reserve(capacity);
  free_.reserve(capacity);
  // One bucket per expected entry, up to 2^22 (4 M buckets, 16 MiB); chains stay short.
  buckets_.assign(std::bit_ceil(std::clamp<uint32_t>(capacity, 256, 1u << 22)), kNone);
  std::sort(timeouts.begin(), timeouts.end());
  timeouts.erase(std::unique(timeouts.begin(), timeouts.end()), timeouts.end());
  for (Duration t : timeouts) queues_.push_back({t});
}

uint32_t ConnTable::bucket(uint8_t proto, Ipv4Addr s, uint16_t sp, Ipv4Addr d, uint16_t dp) const noexcept {
  // Our own hash (never std::hash), keyed with router.seed against hash flooding.
  uint64_t a = (uint64_t{s.v} << 32) | d.v;
  uint64_t b = (uint64_t{sp} << 32) | (uint64_t{dp} << 16) | proto;
  return static_cast<uint32_t>(mix(mix(a ^ seed_) ^ b) & (buckets_.size() - 1));
}

bool ConnTable::node_matches(uint32_t node, const FlowKey& k) const noexcept {
  const Conn& c = slab_[node >> 1];
  if (c.proto != k.proto || (c.flags & kFlagTemplate)) return false;
  if ((node & 1) == 0) return c.caddr == k.src && c.cport == k.sport && c.vaddr == k.dst && c.vport == k.dport;
  bool nat = c.method == config::Method::kNat;
  Ipv4Addr ra = nat ? c.daddr : c.vaddr;
  uint16_t rp = nat ? c.dport : c.vport;
  return ra == k.src && rp == k.sport && c.caddr == k.dst && c.cport == k.dport;
}

uint32_t ConnTable::node_bucket(uint32_t node) const noexcept {
  const Conn& c = slab_[node >> 1];
  if ((node & 1) == 0) return bucket(c.proto, c.caddr, c.cport, c.vaddr, c.vport);
  bool nat = c.method == config::Method::kNat;
  return bucket(c.proto, nat ? c.daddr : c.vaddr, nat ? c.dport : c.vport, c.caddr, c.cport);
}

void ConnTable::hash_node(uint32_t node) noexcept {
  uint32_t b = node_bucket(node);
  slab_[node >> 1].h_next[node & 1] = buckets_[b];
  buckets_[b] = node;
}

void ConnTable::unhash_node(uint32_t node) noexcept {
  uint32_t* link = &buckets_[node_bucket(node)];
  while (*link != kNone && *link != node) link = &slab_[*link >> 1].h_next[*link & 1];
  if (*link == node) *link = slab_[node >> 1].h_next[node & 1];
}

std::optional<ConnTable::Hit> ConnTable::lookup(const FlowKey& k) const noexcept {
  for (uint32_t n = buckets_[bucket(k.proto, k.src, k.sport, k.dst, k.dport)]; n != kNone;
       n = slab_[n >> 1].h_next[n & 1])
    if (node_matches(n, k)) return Hit{n >> 1, (n & 1) != 0};
  return std::nullopt;
}

uint32_t ConnTable::find_template(uint8_t proto, Ipv4Addr caddr, Ipv4Addr vaddr, uint16_t vport) const noexcept {
  for (uint32_t n = buckets_[bucket(proto, caddr, 0, vaddr, vport)]; n != kNone; n = slab_[n >> 1].h_next[n & 1]) {
    const Conn& c = slab_[n >> 1];
    if ((n & 1) == 0 && (c.flags & kFlagTemplate) && c.proto == proto && c.caddr == caddr && c.cport == 0 &&
        c.vaddr == vaddr && c.vport == vport)
      return n >> 1;
  }
  return kNone;
}

uint32_t ConnTable::create(const Conn& init, Duration timeout, Instant now) noexcept {
  uint32_t idx;
  if (!free_.empty()) {
    idx = free_.back();
    free_.pop_back();
  } else if (slab_.size() < capacity_) {
    idx = static_cast<uint32_t>(slab_.size());
    slab_.emplace_back();  // within the reserved capacity: no reallocation
  } else {
    return kNone;
  }
  Conn& c = slab_[idx];
  c = init;
  c.in_use = true;
  c.h_next[0] = c.h_next[1] = kNone;
  c.q_prev = c.q_next = kNone;
  c.ho_prev = c.ho_next = kNone;
  c.flags &= static_cast<uint16_t>(~kFlagHalfOpen);
  if (!(c.flags & kFlagOnePacket)) {
    c.flags |= kFlagHashed;
    hash_node(idx * 2);
    if (!(c.flags & kFlagTemplate)) hash_node(idx * 2 + 1);
  }
  c.timeout = timeout;
  c.queue = queue_of(timeout);
  c.expires = now + timeout;
  q_append(idx);
  ++used_;
  return idx;
}

uint16_t ConnTable::queue_of(Duration t) noexcept {
  for (uint16_t i = 0; i < queues_.size(); ++i)
    if (queues_[i].timeout == t) return i;
  // Not registered up front (a config the director did not announce): add it. Control-path
  // values only, so this happens at most once per distinct timeout.
  queues_.push_back({t});
  return static_cast<uint16_t>(queues_.size() - 1);
}

void ConnTable::q_unlink(uint32_t idx) noexcept {
  Conn& c = slab_[idx];
  Queue& q = queues_[c.queue];
  (c.q_prev == kNone ? q.head : slab_[c.q_prev].q_next) = c.q_next;
  (c.q_next == kNone ? q.tail : slab_[c.q_next].q_prev) = c.q_prev;
  c.q_prev = c.q_next = kNone;
}

void ConnTable::q_append(uint32_t idx) noexcept {
  Conn& c = slab_[idx];
  Queue& q = queues_[c.queue];
  c.q_prev = q.tail;
  c.q_next = kNone;
  (q.tail == kNone ? q.head : slab_[q.tail].q_next) = idx;
  q.tail = idx;
}

void ConnTable::rearm(uint32_t idx, Instant now) noexcept {
  q_unlink(idx);
  Conn& c = slab_[idx];
  // The queue only changes with the timeout (a state transition, set_timeout): search then.
  if (queues_[c.queue].timeout != c.timeout) c.queue = queue_of(c.timeout);
  // Time never runs backwards for a queue: keep it sorted even if the adapter's clock did.
  Instant at = now + c.timeout;
  const Queue& q = queues_[c.queue];
  if (q.tail != kNone && slab_[q.tail].expires > at) at = slab_[q.tail].expires;
  c.expires = at;
  q_append(idx);
}

void ConnTable::set_timeout(uint32_t idx, Duration t) noexcept { slab_[idx].timeout = t; }

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
  free_.push_back(idx);
  --used_;
}

void ConnTable::half_open_touch(uint32_t idx, Instant now) noexcept {
  half_open_remove(idx);
  Conn& c = slab_[idx];
  c.flags |= kFlagHalfOpen;
  // Oldest first even if the adapter's clock stepped back (as rearm() keeps the timer queues).
  c.ho_since = (ho_tail_ != kNone && slab_[ho_tail_].ho_since > now) ? slab_[ho_tail_].ho_since : now;
  c.ho_prev = ho_tail_;
  c.ho_next = kNone;
  (ho_tail_ == kNone ? ho_head_ : slab_[ho_tail_].ho_next) = idx;
  ho_tail_ = idx;
  ++ho_size_;
}

void ConnTable::half_open_remove(uint32_t idx) noexcept {
  Conn& c = slab_[idx];
  if (!(c.flags & kFlagHalfOpen)) return;
  (c.ho_prev == kNone ? ho_head_ : slab_[c.ho_prev].ho_next) = c.ho_next;
  (c.ho_next == kNone ? ho_tail_ : slab_[c.ho_next].ho_prev) = c.ho_prev;
  c.ho_prev = c.ho_next = kNone;
  c.flags &= static_cast<uint16_t>(~kFlagHalfOpen);
  --ho_size_;
}

uint32_t ConnTable::max_chain() const noexcept {
  uint32_t best = 0;
  for (uint32_t head : buckets_) {
    uint32_t n = 0;
    for (uint32_t node = head; node != kNone; node = slab_[node >> 1].h_next[node & 1]) ++n;
    best = std::max(best, n);
  }
  return best;
}

std::optional<Instant> ConnTable::next_deadline() const noexcept {
  std::optional<Instant> d;
  for (const Queue& q : queues_)
    if (q.head != kNone && (!d || slab_[q.head].expires < *d)) d = slab_[q.head].expires;
  return d;
}

uint32_t ConnTable::due(Instant now) const noexcept {
  uint32_t best = kNone;
  for (const Queue& q : queues_)
    if (q.head != kNone && slab_[q.head].expires <= now &&
        (best == kNone || slab_[q.head].expires < slab_[best].expires))
      best = q.head;
  return best;
}

}  // namespace vs::conn

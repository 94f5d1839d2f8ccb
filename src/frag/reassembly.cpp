#include "frag/reassembly.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace vs::frag {

namespace {

using Ipv4 = wire::Ipv4View<uint8_t>;

uint64_t mix(uint64_t x) noexcept {  // splitmix64's finaliser
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

Reassembler::Reassembler(const Params& p) : p_(p) {
  if (p.max_queues == 0) return;
  const uint32_t chunks = std::max<uint32_t>(1, static_cast<uint32_t>(p.max_bytes / kChunk));
  queues_.resize(p.max_queues);
  buckets_.assign(std::bit_ceil(size_t{2} * p.max_queues), kNone);
  for (uint32_t i = 0; i < p.max_queues; ++i) queues_[i].hnext = i + 1 < p.max_queues ? i + 1 : kNone;
  free_queue_ = 0;
  // A held fragment takes at least one chunk, so there are never more fragments than chunks.
  frags_.resize(chunks);
  for (uint32_t i = 0; i < chunks; ++i) frags_[i].next = i + 1 < chunks ? i + 1 : kNone;
  free_frag_ = 0;
  arena_.resize(size_t{chunks} * kChunk);
  chunk_next_.resize(chunks);
  for (uint32_t i = 0; i < chunks; ++i) chunk_next_[i] = i + 1 < chunks ? i + 1 : kNone;
  free_chunk_ = 0;
  source_chunks_ = static_cast<uint32_t>(std::max<size_t>(1, p.max_bytes_per_source / kChunk));
  // A source is tracked while it has a queue: never more sources than queues.
  sources_.resize(p.max_queues);
  source_buckets_.assign(buckets_.size(), kNone);
  for (uint32_t i = 0; i < p.max_queues; ++i) sources_[i].hnext = i + 1 < p.max_queues ? i + 1 : kNone;
  free_source_ = 0;
}

size_t Reassembler::bucket(const Key& k) const noexcept {
  const uint64_t a = mix(p_.seed ^ ((uint64_t{k.src.v} << 32) | k.dst.v));
  return static_cast<size_t>(mix(a ^ ((uint64_t{k.id} << 8) | k.proto)) & (buckets_.size() - 1));
}

size_t Reassembler::source_bucket(uint32_t addr) const noexcept {
  return static_cast<size_t>(mix(p_.seed + addr) & (source_buckets_.size() - 1));
}

uint32_t Reassembler::find_queue(const Key& k) const noexcept {
  for (uint32_t q = buckets_[bucket(k)]; q != kNone; q = queues_[q].hnext)
    if (queues_[q].key == k) return q;
  return kNone;
}

uint32_t Reassembler::find_source(uint32_t addr) const noexcept {
  for (uint32_t s = source_buckets_[source_bucket(addr)]; s != kNone; s = sources_[s].hnext)
    if (sources_[s].addr == addr) return s;
  return kNone;
}

uint32_t Reassembler::get_source(uint32_t addr) noexcept {
  if (uint32_t s = find_source(addr); s != kNone) return s;
  const uint32_t s = free_source_;  // never empty: a source per queue at most, and a queue is free
  free_source_ = sources_[s].hnext;
  const size_t b = source_bucket(addr);
  sources_[s] = {addr, 0, 0, source_buckets_[b]};
  source_buckets_[b] = s;
  return s;
}

size_t Reassembler::source_bytes(Ipv4Addr src) const noexcept {
  if (!enabled()) return 0;
  const uint32_t s = find_source(src.v);
  return s == kNone ? 0 : size_t{sources_[s].chunks} * kChunk;
}

uint32_t Reassembler::new_queue(const Key& k, uint32_t source, Instant now) noexcept {
  const uint32_t q = free_queue_;
  free_queue_ = queues_[q].hnext;
  Queue& qu = queues_[q];
  qu = Queue{};
  qu.key = k;
  qu.expires = now + p_.timeout;
  qu.source = source;
  ++sources_[source].queues;
  const size_t b = bucket(k);
  qu.hnext = buckets_[b];
  buckets_[b] = q;
  qu.older = newest_;
  if (newest_ != kNone) queues_[newest_].newer = q;
  else oldest_ = q;
  newest_ = q;
  ++used_queues_;
  return q;
}

uint32_t Reassembler::discard(uint32_t q) noexcept {
  Queue& qu = queues_[q];
  // Out of its hash chain.
  uint32_t* link = &buckets_[bucket(qu.key)];
  while (*link != q) link = &queues_[*link].hnext;
  *link = qu.hnext;
  // Out of the creation order.
  if (qu.older != kNone) queues_[qu.older].newer = qu.newer;
  else oldest_ = qu.newer;
  if (qu.newer != kNone) queues_[qu.newer].older = qu.older;
  else newest_ = qu.older;
  // Its fragments and their chunks back to the free lists.
  for (uint32_t f = qu.frags; f != kNone;) {
    const uint32_t next = frags_[f].next;
    for (uint32_t c = frags_[f].chunk; c != kNone;) {
      const uint32_t cn = chunk_next_[c];
      chunk_next_[c] = free_chunk_;
      free_chunk_ = c;
      c = cn;
    }
    frags_[f].next = free_frag_;
    free_frag_ = f;
    f = next;
  }
  used_chunks_ -= qu.chunks;
  used_frags_ -= qu.nfrags;
  // The source's share, and the source itself once it has no queue left.
  Source& so = sources_[qu.source];
  so.chunks -= qu.chunks;
  if (--so.queues == 0) {
    uint32_t* sl = &source_buckets_[source_bucket(so.addr)];
    while (*sl != qu.source) sl = &sources_[*sl].hnext;
    *sl = so.hnext;
    so.hnext = free_source_;
    free_source_ = qu.source;
  }
  const uint32_t n = qu.nfrags;
  qu.hnext = free_queue_;
  free_queue_ = q;
  --used_queues_;
  return n;
}

size_t Reassembler::copy_out(const Queue& qu, uint32_t upto, std::span<uint8_t> dst) const noexcept {
  size_t written = 0;
  for (uint32_t f = qu.frags; f != kNone && frags_[f].off < upto; f = frags_[f].next) {
    const Frag& fr = frags_[f];
    uint32_t pos = fr.off;
    const uint32_t end = std::min(fr.end, upto);
    for (uint32_t c = fr.chunk; c != kNone && pos < end; c = chunk_next_[c]) {
      const size_t n = std::min<size_t>(kChunk, end - pos);
      std::memcpy(dst.data() + pos, arena_.data() + size_t{c} * kChunk, n);
      pos += static_cast<uint32_t>(n);
    }
    written = std::max<size_t>(written, end);
  }
  return written;
}

Outcome Reassembler::insert(wire::Ipv4View<const uint8_t> frag, Instant now, std::span<uint8_t> out) noexcept {
  const uint32_t hl = static_cast<uint32_t>(frag.header_len());
  const uint32_t off = static_cast<uint32_t>(frag.frag_offset());
  const bool mf = frag.more_fragments();
  auto data = frag.payload();
  uint32_t end = off + static_cast<uint32_t>(data.size());
  if (mf) end &= ~7u;  // only the last fragment may end off the 8-byte grid (the kernel trims)
  const Key k{frag.src(), frag.dst(), frag.ident(), static_cast<uint8_t>(frag.protocol())};
  uint32_t q = find_queue(k);
  // A malformed fragment discards the datagram it belongs to, as ip_frag_queue's discard_qp.
  auto fail = [&](DropReason r) { return dropped(r, 1 + (q != kNone ? discard(q) : 0)); };
  if (end + hl > kMaxDatagram) return fail(DropReason::kFragOversize);
  if (end <= off) return fail(DropReason::kFragMalformed);  // no data (or less than 8 bytes, MF)

  uint32_t prev = kNone;  // the fragment the new one goes after
  if (q != kNone) {
    const Queue& qu = queues_[q];
    // The last fragment fixes the length: nothing may lie beyond it, nor a second last disagree.
    if (!mf && (end < qu.len || (qu.last_in && end != qu.len))) return fail(DropReason::kFragMalformed);
    if (mf && qu.last_in && end > qu.len) return fail(DropReason::kFragMalformed);
    // Overlaps (inet_frag_queue_insert): inside a run of held data = duplicate, dropped alone;
    // any other overlap discards the datagram.
    bool overlap = false;
    uint32_t run_start = 0, run_end = 0;
    for (uint32_t f = qu.frags; f != kNone; f = frags_[f].next) {
      const Frag& fr = frags_[f];
      if (fr.off != run_end || f == qu.frags) run_start = fr.off;
      run_end = fr.end;
      if (off >= run_start && end <= run_end) return dropped(DropReason::kFragDuplicate, 1);
      if (fr.off < end && off < fr.end) overlap = true;
      if (fr.off < off) prev = f;
    }
    if (overlap) return fail(DropReason::kFragOverlap);
  }

  // Budgets: the fragment is refused, the datagram's other fragments wait (inet_frag_find).
  const uint32_t need = static_cast<uint32_t>((end - off + kChunk - 1) / kChunk);
  if (used_chunks_ + need > chunk_next_.size()) return dropped(DropReason::kFragNoMemory, 1);
  const uint32_t s = q != kNone ? queues_[q].source : find_source(k.src.v);
  if ((s != kNone ? sources_[s].chunks : 0) + need > source_chunks_) return dropped(DropReason::kFragSourceBudget, 1);
  if (q == kNone) {
    if (free_queue_ == kNone) return dropped(DropReason::kFragQueuesFull, 1);
    q = new_queue(k, get_source(k.src.v), now);
  }
  Queue& qu = queues_[q];

  // Store it: a fragment record after `prev`, its data in `need` chunks.
  const uint32_t f = free_frag_;
  free_frag_ = frags_[f].next;
  Frag& fr = frags_[f];
  fr = Frag{off, end, kNone, kNone};
  uint32_t* tail = &fr.chunk;
  for (uint32_t i = 0, pos = 0; i < need; ++i, pos += kChunk) {
    const uint32_t c = free_chunk_;
    free_chunk_ = chunk_next_[c];
    chunk_next_[c] = kNone;
    *tail = c;
    tail = &chunk_next_[c];
    std::memcpy(arena_.data() + size_t{c} * kChunk, data.data() + pos, std::min<size_t>(kChunk, end - off - pos));
  }
  uint32_t* link = prev == kNone ? &qu.frags : &frags_[prev].next;
  fr.next = *link;
  *link = f;
  ++used_frags_;
  used_chunks_ += need;
  sources_[qu.source].chunks += need;
  qu.chunks += need;
  ++qu.nfrags;
  qu.meat += end - off;
  if (off == 0) {
    qu.first_in = true;
    qu.hdr_len = static_cast<uint8_t>(hl);
    std::memcpy(qu.hdr.data(), frag.bytes().data(), hl);
  }
  if (!mf) {
    qu.last_in = true;
    qu.len = end;
  } else {
    qu.len = std::max(qu.len, end);
  }
  const auto size = static_cast<uint16_t>(hl + end - off);
  qu.max_size = std::max(qu.max_size, size);
  if (frag.dont_fragment()) qu.max_df_size = std::max(qu.max_df_size, size);

  if (!(qu.first_in && qu.last_in && qu.meat == qu.len)) return {Outcome::Kind::kHeld, {}, 0, 0};
  // Complete (ip_frag_reasm): the first fragment's header, every byte of payload in order.
  const size_t total = size_t{qu.hdr_len} + qu.len;
  if (total > kMaxDatagram || total > out.size()) return fail(DropReason::kFragOversize);
  std::memcpy(out.data(), qu.hdr.data(), qu.hdr_len);
  copy_out(qu, qu.len, out.subspan(qu.hdr_len));
  auto ip = Ipv4::unchecked(out.first(total));
  ip.set_total_len(static_cast<uint16_t>(total));
  // DF when the largest fragment carried it, as the kernel decides (ip_frag_reasm).
  ip.set_flags_frag(qu.max_df_size == qu.max_size ? Ipv4::kFlagDf : 0);
  ip.fill_checksum();
  const uint16_t max_fragment = qu.max_size;
  discard(q);
  return {Outcome::Kind::kComplete, {}, 0, total, max_fragment};
}

std::optional<Expired> Reassembler::expire(Instant now, std::span<uint8_t> first) noexcept {
  if (oldest_ == kNone || queues_[oldest_].expires > now) return std::nullopt;
  const uint32_t q = oldest_;
  const Queue& qu = queues_[q];
  Expired e;
  if (qu.first_in && first.size() >= qu.hdr_len) {
    // The first fragment as received (its header, then its own data: the queue's head).
    std::memcpy(first.data(), qu.hdr.data(), qu.hdr_len);
    const Frag& fr = frags_[qu.frags];
    const uint32_t upto = static_cast<uint32_t>(std::min<size_t>(fr.end, first.size() - qu.hdr_len));
    e.first_len = qu.hdr_len + copy_out(qu, upto, first.subspan(qu.hdr_len));
  }
  e.frames = discard(q);
  return e;
}

std::optional<Instant> Reassembler::next_deadline() const noexcept {
  if (oldest_ == kNone) return std::nullopt;
  return queues_[oldest_].expires;
}

}  // namespace vs::frag

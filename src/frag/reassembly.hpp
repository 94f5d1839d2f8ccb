// IPv4 reassembly (RFC 791 §3.2, RFC 815), as the kernel's ip_defrag does it for local delivery
// and for IPVS (ip_vs_gather_frags): net/ipv4/ip_fragment.c, net/ipv4/inet_fragment.c.
//
// Layer: depends on base/, wire/ and the drop reasons only; sans-I/O (the time is passed in, no
// clock is read). Memory is allocated once, at construction, and bounded:
//   - a fixed pool of reassembly queues, one per datagram (key: source, destination, protocol,
//     identification, as RFC 791), found through a seeded hash;
//   - fragment data in an arena of kChunk-byte chunks whose size is the memory budget
//     (ipfrag_high_thresh, 4 MiB by default); a fragment costs its data rounded up to whole chunks
//     (the kernel counts skb->truesize the same way: what is held, not what was sent);
//   - a per-source share of that budget, so one sender cannot take all of it.
// When the budget (total or the source's) or the queue pool is full, the new fragment is refused
// and counted, as the kernel refuses every fragment above ipfrag_high_thresh (inet_frag_find); no
// queue is evicted early. A queue lives `timeout` from its first fragment (ipfrag_time, 30 s; the
// kernel's timer is not re-armed by later fragments), so fragments whose first fragment never
// comes hold memory for at most that long.
// Overlapping fragments discard the whole datagram (RFC 5722's rule, which Linux applies to IPv4
// too: inet_frag_queue_insert -> IPFRAG_OVERLAP); a fragment lying wholly inside data already
// held is a duplicate and only it is dropped (IPFRAG_DUP). A datagram longer than 65535 bytes
// is discarded (ip_frag_reasm's -E2BIG, caught here when its fragment arrives).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/addr.hpp"
#include "base/time.hpp"
#include "drop.hpp"
#include "wire/ipv4.hpp"

namespace vs::frag {

struct Params {
  uint32_t max_queues = 1024;                // datagrams being reassembled at once; 0: no reassembly
  uint32_t max_bytes = 4u << 20;             // fragment memory, all queues (ipfrag_high_thresh)
  uint32_t max_bytes_per_source = 1u << 20;  // fragment memory of one source address
  Duration timeout = Duration::seconds(30);  // from a datagram's first fragment (ipfrag_time)
  uint64_t seed = 1;                         // keys the queue hash (router.seed)
};

/// What insert() did with a fragment.
struct Outcome {
  enum class Kind : uint8_t {
    kHeld,      // queued: the datagram is not complete yet
    kComplete,  // the datagram is complete and written to `out` (len bytes)
    kDropped,   // see reason; `frames` fragments are dropped (this one and a discarded queue's)
  };
  Kind kind = Kind::kHeld;
  DropReason reason{};
  uint32_t frames = 0;
  size_t len = 0;
  uint16_t max_fragment = 0;  // kComplete: the largest fragment's IP length (IPCB frag_max_size)
};

/// A queue that timed out (expire()).
struct Expired {
  uint32_t frames = 0;   // fragments it held, now dropped
  size_t first_len = 0;  // > 0: the first fragment (offset 0) was held and is written to `first`
};

class Reassembler {
public:
  /// Bytes of fragment data per arena chunk: the unit the budgets count.
  static constexpr size_t kChunk = 256;
  /// The largest datagram reassembly writes (a buffer passed to insert() should hold it).
  static constexpr size_t kMaxDatagram = 65535;

  explicit Reassembler(const Params& p);

  bool enabled() const noexcept { return !queues_.empty(); }

  /// Takes one fragment (a valid IPv4 header with MF set or a non-zero offset). When it completes
  /// its datagram, the datagram is written to `out` (the first fragment's header and options,
  /// total length set, fragment fields cleared but DF, fresh header checksum).
  Outcome insert(wire::Ipv4View<const uint8_t> frag, Instant now, std::span<uint8_t> out) noexcept;

  /// Removes one queue whose time is up at `now`, oldest first, writing its first fragment (if
  /// held, cut to first.size()) to `first` so the caller can send ICMP reassembly time exceeded
  /// (RFC 792, ip_expire). nullopt: none is due.
  std::optional<Expired> expire(Instant now, std::span<uint8_t> first) noexcept;
  std::optional<Instant> next_deadline() const noexcept;

  uint32_t queues() const noexcept { return used_queues_; }
  size_t bytes() const noexcept { return used_chunks_ * kChunk; }
  uint32_t fragments() const noexcept { return used_frags_; }
  size_t capacity_bytes() const noexcept { return chunk_next_.size() * kChunk; }
  /// Memory held for fragments from `src`.
  size_t source_bytes(Ipv4Addr src) const noexcept;

private:
  static constexpr uint32_t kNone = UINT32_MAX;

  struct Key {
    Ipv4Addr src, dst;
    uint16_t id = 0;
    uint8_t proto = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct Frag {  // one held fragment: [off, end) of the datagram's payload, in chunks
    uint32_t off = 0, end = 0;
    uint32_t chunk = kNone;  // first chunk; chunk_next_ links the rest
    uint32_t next = kNone;   // next fragment by offset, or the free list
  };
  struct Queue {
    Key key;
    Instant expires;
    uint32_t hnext = kNone;                 // hash chain, or the free list
    uint32_t older = kNone, newer = kNone;  // creation order (= expiry order)
    uint32_t frags = kNone;                 // sorted by offset
    uint32_t nfrags = 0;
    uint32_t chunks = 0;
    uint32_t source = kNone;
    uint32_t meat = 0;  // payload bytes held
    uint32_t len = 0;   // payload length: known once the last fragment is in
    bool first_in = false, last_in = false;
    uint16_t max_size = 0, max_df_size = 0;  // largest fragment, largest with DF (ip_frag_reasm)
    uint8_t hdr_len = 0;
    std::array<uint8_t, 60> hdr{};  // the first fragment's header
  };
  struct Source {
    uint32_t addr = 0;
    uint32_t chunks = 0;
    uint32_t queues = 0;
    uint32_t hnext = kNone;  // hash chain, or the free list
  };

  uint32_t find_queue(const Key& k) const noexcept;
  uint32_t new_queue(const Key& k, uint32_t source, Instant now) noexcept;
  /// Frees a queue and everything it holds; returns how many fragments it held.
  uint32_t discard(uint32_t q) noexcept;
  uint32_t find_source(uint32_t addr) const noexcept;
  uint32_t get_source(uint32_t addr) noexcept;
  size_t bucket(const Key& k) const noexcept;
  size_t source_bucket(uint32_t addr) const noexcept;
  size_t copy_out(const Queue& q, uint32_t upto, std::span<uint8_t> dst) const noexcept;
  Outcome dropped(DropReason r, uint32_t frames) noexcept { return {Outcome::Kind::kDropped, r, frames, 0}; }

  Params p_;
  std::vector<Queue> queues_;
  std::vector<uint32_t> buckets_;
  uint32_t free_queue_ = kNone;
  uint32_t oldest_ = kNone, newest_ = kNone;
  uint32_t used_queues_ = 0;

  std::vector<Frag> frags_;
  uint32_t free_frag_ = kNone;
  uint32_t used_frags_ = 0;

  std::vector<uint8_t> arena_;
  std::vector<uint32_t> chunk_next_;  // chunk links, and the free list
  uint32_t free_chunk_ = kNone;
  uint32_t used_chunks_ = 0;
  uint32_t source_chunks_ = 0;  // per-source limit in chunks

  std::vector<Source> sources_;
  std::vector<uint32_t> source_buckets_;
  uint32_t free_source_ = kNone;
};

}  // namespace vs::frag

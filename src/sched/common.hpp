// Shared pieces of the IPVS schedulers (src/sched/): the connection-overhead helpers, the kernel's
// hash functions (hash_32, SipHash-1-3 as the 64-bit kernel's hsiphash), the sh/mh/dh hash keys,
// the per-scheduler factories listed by registry.cpp, and a read-only view of the lookup table of
// the table-based schedulers (dh, sh, mh) for tests and diagnostics.
//
// Everything here is pure integer arithmetic on values: no I/O, no clock, no allocation, and no
// std::hash, so every choice is identical on every compiler and platform.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "flow.hpp"
#include "ipvs/scheduler.hpp"
#include "ipvs/service.hpp"

namespace vs::sched {

using ipvs::make_scheduler;
using ipvs::SchedContext;
using ipvs::Scheduler;

// ---- connection overhead (include/net/ip_vs.h) -------------------------------------------------

/// The kernel keeps connection counters in atomic_t (int). Our counters are uint32_t; this gives
/// the same 32-bit two's-complement value the kernel would read.
constexpr int32_t kint(uint32_t v) noexcept { return static_cast<int32_t>(v); }

/// ip_vs_dest_conn_overhead(), classic form: (activeconns << 8) + inactconns, as a 32-bit int
/// (wrapping like the kernel's int arithmetic; only reachable beyond 8M active connections).
/// Used by lc, wlc, lblc, lblcr and twos. (6.12.117+ stable trees use totalconns instead of
/// inactconns; vsrouter follows the classic formula, see docs/schedulers.md.)
constexpr int32_t conn_overhead(const ipvs::Dest& d) noexcept {
  return static_cast<int32_t>((d.activeconns << 8) + d.inactconns);
}

/// The "expected delay" overhead of sed and nq: activeconns + 1 (inactive connections ignored).
constexpr int32_t active_overhead(const ipvs::Dest& d) noexcept { return static_cast<int32_t>(d.activeconns + 1u); }

/// The weighted comparison of wlc/sed/nq/lblc/lblcr: "is (oh_b / w_b) strictly less than
/// (oh_a / w_a)" without division, i.e. (s64)oh_a * w_b > (s64)oh_b * w_a.
constexpr bool less_loaded(int32_t oh_a, int32_t w_a, int32_t oh_b, int32_t w_b) noexcept {
  return int64_t{oh_a} * w_b > int64_t{oh_b} * w_a;
}

/// The eligibility test most schedulers share: not OVERLOAD and weight > 0.
constexpr bool eligible(const ipvs::Dest& d) noexcept { return !d.overloaded && d.weight > 0; }

/// The weighted-least-connection pick shared by wlc, lblc and lblcr (ip_vs_wlc_schedule,
/// __ip_vs_lblc_schedule, __ip_vs_lblcr_schedule): stage one takes the first destination that is
/// not OVERLOAD and has weight > 0; stage two skips only OVERLOAD ones and switches on
/// less_loaded(). nullptr when no destination qualifies. Defined in wlc.cpp.
ipvs::Dest* wlc_pick(const ipvs::Service& svc) noexcept;

/// is_overloaded() of ip_vs_lblc.c / ip_vs_lblcr.c (not the OVERLOAD flag): d has more active
/// connections than its weight AND some destination of the service (d itself included) has
/// activeconns * 2 < weight, i.e. there is a clearly less loaded one to move to.
inline bool lblc_busy(const ipvs::Dest& d, const ipvs::Service& svc) noexcept {
  if (kint(d.activeconns) <= d.weight) return false;
  for (const ipvs::Dest* x : svc.dests) {
    if (kint(x->activeconns * 2u) < x->weight) return true;
  }
  return false;
}

/// The kernel's gcd() (lib/math/gcd.c) for positive arguments.
constexpr int32_t gcd(int32_t a, int32_t b) noexcept {
  while (b != 0) {
    const int32_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/// fls(): 1-based index of the most significant set bit, 0 for 0.
constexpr int fls(uint32_t x) noexcept {
  int r = 0;
  while (x != 0) {
    ++r;
    x >>= 1;
  }
  return r;
}

// ---- hashes ---------------------------------------------------------------------------------

/// GOLDEN_RATIO_32 of include/linux/hash.h.
inline constexpr uint32_t kGoldenRatio32 = 0x61C88647u;

/// hash_32() of include/linux/hash.h (the generic version x86 uses): the top `bits` bits of
/// val * GOLDEN_RATIO_32 (mod 2^32). bits must be 1..32.
constexpr uint32_t hash_32(uint32_t val, unsigned bits) noexcept { return (val * kGoldenRatio32) >> (32u - bits); }

/// SipHash-1-3 of one 32-bit word with a 128-bit key, truncated to 32 bits: what the kernel's
/// hsiphash(&v, 4, key) computes on a 64-bit little-endian kernel (lib/siphash.c, BITS_PER_LONG
/// == 64: "HalfSipHash" is really SipHash-1-3 there, and the 4 bytes of v are read as a
/// little-endian u32, so the message word is v itself). 32-bit kernels run HalfSipHash-1-3 and
/// give different values; vsrouter follows the 64-bit kernel.
constexpr uint32_t hsiphash_u32(uint32_t v, uint64_t k0, uint64_t k1) noexcept {
  uint64_t v0 = 0x736f6d6570736575ull ^ k0;
  uint64_t v1 = 0x646f72616e646f6dull ^ k1;
  uint64_t v2 = 0x6c7967656e657261ull ^ k0;
  uint64_t v3 = 0x7465646279746573ull ^ k1;
  const auto rol = [](uint64_t x, int s) { return (x << s) | (x >> (64 - s)); };
  const auto round = [&] {
    v0 += v1;
    v1 = rol(v1, 13);
    v1 ^= v0;
    v0 = rol(v0, 32);
    v2 += v3;
    v3 = rol(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rol(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rol(v1, 17);
    v1 ^= v2;
    v2 = rol(v2, 32);
  };
  const uint64_t b = (uint64_t{4} << 56) | v;  // message length 4 in the top byte, then the bytes
  v3 ^= b;
  round();
  v0 ^= b;
  v2 ^= 0xff;
  round();
  round();
  round();
  return static_cast<uint32_t>((v0 ^ v1) ^ (v2 ^ v3));
}

/// The source port sh and mh hash with their -port flag (ip_vs_sh_get_port/ip_vs_mh_get_port):
/// the first 16 bits of the L4 header for TCP, UDP and SCTP, 0 for any other protocol.
constexpr uint16_t hash_port(const FlowKey& flow) noexcept {
  return (is_tcp_or_udp(flow.proto) || flow.proto == IpProto::kSctp) ? flow.sport : uint16_t{0};
}

/// dh: IP_VS_DH_TAB_BITS (Kconfig default 8), 256 buckets.
inline constexpr unsigned kDhTabBits = 8;
inline constexpr uint32_t kDhTabSize = 1u << kDhTabBits;

/// ip_vs_dh_hashkey(): hash_32(daddr, 8).
constexpr uint32_t dh_hashkey(Ipv4Addr addr) noexcept { return hash_32(addr.v, kDhTabBits); }

/// sh: IP_VS_SH_TAB_BITS (Kconfig default 8), 256 buckets.
inline constexpr unsigned kShTabBits = 8;
inline constexpr uint32_t kShTabSize = 1u << kShTabBits;

/// ip_vs_sh_hashkey(): (offset + hash_32(port + addr, 8)) & 255, the sum taken mod 2^32.
constexpr uint32_t sh_hashkey(Ipv4Addr addr, uint16_t port, uint32_t offset) noexcept {
  return (offset + hash_32(uint32_t{port} + addr.v, kShTabBits)) & (kShTabSize - 1);
}

/// mh: primes[CONFIG_IP_VS_MH_TAB_INDEX - 8] with the Kconfig default index 12: 4093 slots;
/// IP_VS_MH_TAB_BITS = 12 / 2 = 6 (used by the weight shift).
inline constexpr uint32_t kMhTabSize = 4093;
inline constexpr int kMhTabBits = 6;

/// The two fixed hsiphash keys of ip_vs_mh.c (generate_hash_secret): the kernel does NOT seed
/// them randomly, so these are the kernel's own values, not a choice of ours.
struct MhKey {
  uint64_t k0, k1;
};
inline constexpr MhKey kMhHash1{2654435761ull, 2654435761ull};
inline constexpr MhKey kMhHash2{2654446892ull, 2654446892ull};

/// ip_vs_mh_hashkey(): hsiphash of the u32 (offset + port + addr) (mod 2^32). Callers reduce it
/// modulo the table size.
constexpr uint32_t mh_hashkey(Ipv4Addr addr, uint16_t port, MhKey key, uint32_t offset) noexcept {
  return hsiphash_u32(offset + uint32_t{port} + addr.v, key.k0, key.k1);
}

/// lblc/lblcr: IP_VS_LBLC(R)_TAB_BITS 10, 1024 buckets keyed by hash_32(daddr, 10).
inline constexpr unsigned kLblcTabBits = 10;

// ---- table-based schedulers -------------------------------------------------------------------

/// Base of dh, sh and mh: they keep a lookup table of destinations (rebuilt in the hooks, read
/// by schedule()). table() is for tests and diagnostics.
class TableScheduler : public Scheduler {
public:
  TableScheduler() = default;
  TableScheduler(const TableScheduler&) = delete;  // table_ points into this object
  TableScheduler& operator=(const TableScheduler&) = delete;

  std::span<ipvs::Dest* const> table() const noexcept { return table_; }

protected:
  std::span<ipvs::Dest*> table_;  // points into the derived class's fixed-size storage
};

/// The lookup table of a dh/sh/mh scheduler, or an empty span for any other scheduler.
std::span<ipvs::Dest* const> lookup_table(const Scheduler& s) noexcept;

// ---- factories (one per file, listed in registry.cpp) ------------------------------------------

std::unique_ptr<Scheduler> make_rr(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_wrr(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_lc(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_wlc(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_lblc(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_lblcr(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_dh(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_sh(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_sed(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_nq(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_fo(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_ovf(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_mh(ipvs::Service& svc);
std::unique_ptr<Scheduler> make_twos(ipvs::Service& svc);

}  // namespace vs::sched

// sh: source hashing (net/netfilter/ipvs/ip_vs_sh.c).
//
// A table of 256 buckets (IP_VS_SH_TAB_BITS 8), rebuilt on init, add_dest, del_dest and upd_dest
// from the CURRENT weights: walking the list cyclically, each destination fills max(weight, 1)
// consecutive buckets (the kernel's "++count >= weight" test), until all 256 are filled. So a
// quiesced (weight 0) destination still owns one bucket, and quiescing rebuilds the table.
//
// Key: sh_hashkey(saddr, port, offset) = (offset + hash_32(port + saddr, 8)) & 255, with port = 0
// unless sh-port is set, then the source port for TCP/UDP/SCTP (0 for other protocols).
// A destination is unavailable when weight <= 0 or OVERLOAD.
//   * Without sh-fallback: the bucket's destination if available, else none.
//   * With sh-fallback: the bucket's destination if available; if the bucket is empty, none;
//     otherwise for offset 0..255 it probes bucket sh_hashkey(saddr, port, (offset + ih) % 256)
//     (which is (offset + 2 * ih) & 255), stopping at an empty bucket or the first available one.
// The kernel hashes the destination address instead for "inverse" (ICMP-related) lookups; new
// connections are always scheduled on the client's packet, so vsrouter hashes the source.
#include <array>

#include "config/sched_names.hpp"
#include "sched/common.hpp"

namespace vs::sched {
namespace {

bool unavailable(const ipvs::Dest& d) noexcept { return d.weight <= 0 || d.overloaded; }

class SourceHash final : public TableScheduler {
public:
  explicit SourceHash(ipvs::Service& svc) {
    table_ = buckets_;
    reassign(svc);
  }

  ipvs::Dest* schedule(ipvs::Service& svc, const FlowKey& flow, SchedContext&) noexcept override {
    const uint16_t port = (svc.flags & config::kFlagShPort) != 0 ? hash_port(flow) : uint16_t{0};
    const uint32_t ih = sh_hashkey(flow.src, port, 0);
    ipvs::Dest* d = buckets_[ih];
    if ((svc.flags & config::kFlagShFallback) == 0) return (d == nullptr || unavailable(*d)) ? nullptr : d;
    if (d == nullptr) return nullptr;
    if (!unavailable(*d)) return d;
    for (uint32_t offset = 0; offset < kShTabSize; ++offset) {
      const uint32_t roffset = (offset + ih) % kShTabSize;
      d = buckets_[sh_hashkey(flow.src, port, roffset)];
      if (d == nullptr) break;
      if (!unavailable(*d)) return d;
    }
    return nullptr;
  }

  void add_dest(ipvs::Service& svc, ipvs::Dest&) override { reassign(svc); }
  void del_dest(ipvs::Service& svc, ipvs::Dest&) override { reassign(svc); }
  void upd_dest(ipvs::Service& svc, ipvs::Dest&) override { reassign(svc); }
  int32_t bucket(const ipvs::Service& svc, const FlowKey& flow) const noexcept override {
    const uint16_t port = (svc.flags & config::kFlagShPort) != 0 ? hash_port(flow) : uint16_t{0};
    return static_cast<int32_t>(sh_hashkey(flow.src, port, 0));
  }

private:
  void reassign(const ipvs::Service& svc) noexcept {
    const auto& list = svc.dests;
    size_t p = 0;
    int32_t count = 0;
    for (size_t i = 0; i < kShTabSize; ++i) {
      if (list.empty()) {
        buckets_[i] = nullptr;
        continue;
      }
      if (p == list.size()) p = 0;  // wrap past the list head
      buckets_[i] = list[p];
      if (++count >= list[p]->weight) {  // stay on this destination until it filled `weight`
        ++p;
        count = 0;
      }
    }
  }

  std::array<ipvs::Dest*, kShTabSize> buckets_{};
};

}  // namespace

std::unique_ptr<Scheduler> make_sh(ipvs::Service& svc) { return std::make_unique<SourceHash>(svc); }

}  // namespace vs::sched

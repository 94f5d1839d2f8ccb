// A small test bed for the scheduler unit tests (tests/unit/sched_*_test.cpp): a Service whose
// destination list is changed by the Service's own list operations (ipvs/service.hpp), the ones
// the director uses, so these tests see exactly what the director does: insert at the HEAD,
// last_weight kept on a 0 edit, AVAILABLE cleared on removal, the scheduler's hook after each
// change. Destinations 10.0.0.N are named by letter: 10.0.0.1 = "A", 10.0.0.2 = "B", ...
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/rng.hpp"
#include "base/time.hpp"
#include "flow.hpp"
#include "ipvs/service.hpp"
#include "sched/common.hpp"

namespace vs::sched::testing {

class SchedBed {
public:
  /// A service with scheduler `name` and no destinations (ipvsadm -A, then -a for each dest).
  explicit SchedBed(std::string_view name, unsigned flags = 0, uint64_t seed = 1) : rng(seed) {
    svc.vip = Ipv4Addr{0x0a000064};  // 10.0.0.100: an IPv4 service (the fixture's "family 6" makes it IPv6)
    svc.flags = flags;
    svc.set_scheduler(name);
  }

  /// ipvsadm -a: a new destination at the head of the list, then add_dest.
  ipvs::Dest& add(const IpAddr& addr, int32_t weight, uint16_t port = 80) {
    return svc.add_real(real(addr, weight, port));
  }
  /// add() for 10.0.0.<letter index>: add('A', 1) is 10.0.0.1.
  ipvs::Dest& add(char letter, int32_t weight, uint16_t port = 80) { return add(letter_addr(letter), weight, port); }

  /// A destination inserted at the head WITHOUT calling a hook (to set up a service before
  /// rebind(), like dests that exist when ipvsadm -E changes the scheduler).
  ipvs::Dest& add_no_hook(char letter, int32_t weight, uint16_t port = 80) {
    auto sched = std::move(svc.sched);
    ipvs::Dest& d = svc.add_real(real(letter_addr(letter), weight, port));
    svc.sched = std::move(sched);
    return d;
  }

  /// ipvsadm -E: a fresh scheduler bound to the service as it is (the kernel's init_service).
  void rebind() {
    const std::string name = svc.scheduler;
    svc.set_scheduler(name);
  }

  /// ipvsadm -e -w: last_weight keeps the latest non-zero weight; then upd_dest.
  void set_weight(ipvs::Dest& d, int32_t w) {
    config::Real r = d;
    r.weight = w;
    svc.edit_real(d, r);
  }

  /// ipvsadm -d: AVAILABLE cleared, unlinked, then del_dest. The Dest stays in storage.
  void del(ipvs::Dest& d) { svc.delete_real(d); }

  ipvs::Dest* pick(const FlowKey& flow = {}) {
    SchedContext ctx{now, rng};
    return svc.sched->schedule(svc, flow, ctx);
  }

  /// n picks as letters separated by spaces ("-" for no destination).
  std::string seq(int n, const FlowKey& flow = {}) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      if (i != 0) out += ' ';
      out += name(pick(flow));
    }
    return out;
  }

  static Ipv4Addr letter_addr(char letter) {
    return Ipv4Addr::from_octets(10, 0, 0, static_cast<uint8_t>(letter - 'A' + 1));
  }
  static std::string name(const ipvs::Dest* d) {
    if (d == nullptr) return "-";
    return std::string(1, static_cast<char>('A' + (d->addr.v4().v & 0xff) - 1));
  }

  ipvs::Service svc;
  Rng rng;
  Instant now{};

private:
  static config::Real real(const IpAddr& addr, int32_t weight, uint16_t port) {
    config::Real r;
    r.addr = addr;
    r.port = port;
    r.weight = weight;
    return r;
  }
};

}  // namespace vs::sched::testing

// libFuzzer target: hostile VRRP packets (src/wire/vrrp.hpp, src/vrrp/) to an engine with two
// instances (version 2 with authentication, version 3 unicast), on a virtual clock.
//
// The input is a sequence of records: a byte of flags, a byte of time step (in 10 ms), then a
// length byte and that many bytes of VRRP payload. Each record becomes an IPv4 datagram of
// protocol 112 from 10.0.0.3 (or, by a flag, 10.0.0.9) to 224.0.0.18 or to the router, TTL 255
// (or, by a flag, a TTL drawn from the input), with the VRRP checksum filled in (or not, by a
// flag), so that the state machine sees adverts that pass the checks as well as broken ones.
// Invariants: the view accepts only what its length rule allows; every frame is a counted drop
// or consumed; each instance is in a state whose timers agree with it (a master has an advert
// timer and no Master_Down timer, a backup the reverse, INIT and FAULT neither); an address is
// owned exactly while its instance is master; adverts sent are well-formed with a valid checksum.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "engine.hpp"
#include "fuzz_common.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/vrrp.hpp"

using namespace vs;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

constexpr const char* kConfig = R"(
[[interfaces]]
name = "wan"
mac = "02:00:00:00:0a:01"
addresses = ["10.0.0.2/24"]

[[vrrp_instances]]
name = "V2"
interface = "wan"
virtual_router_id = 51
priority = 100
virtual_ipaddress = ["10.0.0.100", "10.0.0.101"]
authentication = { auth_type = "PASS", auth_pass = "secret" }

[[vrrp_instances]]
name = "V3"
interface = "wan"
virtual_router_id = 52
version = 3
advert_int = 0.5
use_vmac = true
virtual_ipaddress = ["10.0.0.200"]
unicast_peer = ["10.0.0.3"]
)";

// Every frame the engine sends: VRRP ones must be well-formed.
struct CheckSink : TxSink {
  void transmit(uint32_t, std::span<const uint8_t> f) override {
    auto eth = wire::EthernetView<const uint8_t>::parse(f);
    if (!eth) fail("a frame shorter than Ethernet");
    if (eth->ethertype() != static_cast<uint16_t>(wire::EtherType::kIpv4)) return;
    auto ip = wire::Ipv4View<const uint8_t>::parse(f.subspan(14));
    if (!ip || ip->protocol() != IpProto::kVrrp) return;
    auto v = wire::VrrpView<const uint8_t>::parse(ip->payload());
    if (!v) fail("a VRRP advert sent that does not parse");
    if (!v->verify_checksum(ip->src(), ip->dst())) fail("a VRRP advert sent with a bad checksum");
    if (ip->ttl() != 255) fail("a VRRP advert sent with a TTL other than 255");
  }
};

void check_states(const Engine& e) {
  for (const vrrp::Instance& in : e.vrrp().instances()) {
    const bool master = in.state == vrrp::State::kMaster, backup = in.state == vrrp::State::kBackup;
    if (master != in.advert_at.has_value()) fail("advert timer without being master, or master without it");
    if (backup != in.down_at.has_value()) fail("Master_Down timer without being backup, or backup without it");
    for (Ipv4Addr a : in.cfg.addresses)
      if (e.vrrp().owns(a) != master) fail("an address owned while not master, or not owned while master");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::shared_ptr<const config::Config> cfg = [] {
    auto r = config::parse_config(kConfig);
    if (!r) fail("the fuzz config does not load");
    return r.value();
  }();
  CheckSink sink;
  Engine e(cfg, sink);
  int64_t now = 1'000'000;
  e.start(Instant::from_micros(now));
  std::vector<uint8_t> frame;
  size_t off = 0;
  while (off + 3 <= size) {
    const uint8_t flags = data[off], step = data[off + 1], len = data[off + 2];
    off += 3;
    const size_t n = std::min<size_t>(len, size - off);
    std::span<const uint8_t> body(data + off, n);
    off += n;

    // The view's length rule, against the input as it is.
    if (auto v = wire::VrrpView<const uint8_t>::parse(body))
      if (v->bytes().size() != wire::VrrpView<const uint8_t>::length_for(v->version(), v->count()))
        fail("a view whose length is not the one its count implies");

    now += int64_t{step} * 10'000;
    while (auto d = e.next_deadline()) {
      if (d->us > now) break;
      e.on_timer(*d);
    }
    const Ipv4Addr src = (flags & 1) ? Ipv4Addr::from_octets(10, 0, 0, 9) : Ipv4Addr::from_octets(10, 0, 0, 3);
    const Ipv4Addr dst = (flags & 2) ? Ipv4Addr::from_octets(10, 0, 0, 2) : Ipv4Addr::from_octets(224, 0, 0, 18);
    frame.assign(14 + 20 + n, 0);
    std::copy(body.begin(), body.end(), frame.begin() + 34);
    std::span<uint8_t> vb(frame.data() + 34, n);
    if (!(flags & 4) && wire::VrrpView<uint8_t>::parse(vb))
      wire::VrrpView<uint8_t>::unchecked(vb).fill_checksum(src, dst);
    const MacAddr dmac = (flags & 2) ? MacAddr{{2, 0, 0, 0, 0x0a, 1}} : MacAddr{{1, 0, 0x5e, 0, 0, 0x12}};
    wire::fill_ethernet(frame, dmac, MacAddr{{2, 0, 0, 0, 0x0b, 1}}, wire::EtherType::kIpv4);
    wire::Ipv4View<uint8_t>::unchecked(std::span(frame).subspan(14))
        .fill(0xc0, static_cast<uint16_t>(20 + n), 0, 0, (flags & 8) ? static_cast<uint8_t>(flags | 1) : 255,
              IpProto::kVrrp, src, dst);
    const uint64_t before = fuzz::frame_drops(e.drops());
    Verdict v = e.on_frame(0, frame, Instant::from_micros(now));
    const uint64_t after = fuzz::frame_drops(e.drops());
    if (v.kind == Verdict::Kind::kDropped && after != before + 1) fail("a drop not counted once");
    if (v.kind != Verdict::Kind::kDropped && v.kind != Verdict::Kind::kConsumed)
      fail("a VRRP frame neither consumed nor dropped");
    check_states(e);
  }
  e.stop(Instant::from_micros(now));
  for (const vrrp::Instance& in : e.vrrp().instances())
    if (in.state != vrrp::State::kInit) fail("an instance not in INIT after stop");
  return 0;
}

// libFuzzer target: hostile IPVS sync messages (src/wire/ipvs_sync.hpp, src/sync/,
// src/ipvs/director_sync.cpp) to a backup engine, on a virtual clock.
//
// The input is a sequence of records: a byte of flags, a byte of time step (in 100 ms), two bytes
// of length and that many bytes of message. Each record becomes a UDP datagram to 224.0.0.81:8848
// on the sync interface, from a peer (or, by a flag, from another address), with its UDP checksum
// filled in (or, by a flag, broken), so that the entries reach the director as well as the
// refusals. The backup has NAT and DR services, a persistent one, and a tiny table.
// Invariants: every frame is consumed or one counted drop; an entry the codec reads back from a
// message it wrote is the same; each real's active, inactive and persistent counts are those of
// the connections bound to it; the table never holds more than its capacity.
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
#include "wire/ipvs_sync.hpp"
#include "wire/udp.hpp"

using namespace vs;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

constexpr const char* kConfig = R"(
[router]
max_connections = 16

[[interfaces]]
name = "wan"
mac = "02:00:00:00:00:01"
addresses = ["203.0.113.1/24"]

[[interfaces]]
name = "lan"
mac = "02:00:00:00:00:02"
addresses = ["10.1.0.1/24"]

[[services]]
protocol = "tcp"
address = "203.0.113.100:80"
reals = [{ address = "10.1.0.11:8080", method = "nat" }, { address = "10.1.0.12:8080", method = "nat" }]

[[services]]
protocol = "tcp"
address = "203.0.113.101:443"
persistence = 300
reals = [{ address = "10.1.0.11:443" }, { address = "10.1.0.12:443" }]

[[services]]
protocol = "udp"
address = "203.0.113.100:0"
persistence = 60
reals = [{ address = "10.1.0.13:0", method = "nat" }]

[sync]
interface = "lan"
state = "backup"
peers = ["10.1.0.2"]
)";

void check_round_trip(std::span<const uint8_t> msg) {
  auto m = wire::SyncMessage::parse(msg);
  if (!m) return;
  m->walk([](const wire::SyncEntry& e) {
    if (e.skip == wire::SyncSkip::kIpv6) return;
    std::vector<uint8_t> buf(128);
    wire::SyncWriter w(buf);
    if (!w.add(e)) fail("an entry does not fit an empty message");
    bool same = false;
    wire::SyncMessage::parse(w.message())->walk([&](const wire::SyncEntry& back) {
      wire::SyncEntry want = e;
      want.flags &= ~wire::sync_flag::kHashed;
      want.skip = back.skip;  // the skip depends on options that are not written back
      same = back == want;
    });
    if (!same) fail("an entry read back from the codec's own message differs");
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::shared_ptr<const config::Config> cfg = [] {
    auto r = config::parse_config(kConfig);
    if (!r) fail("the fuzz config does not load");
    return r.value();
  }();
  struct Null : TxSink {
    void transmit(uint32_t, std::span<const uint8_t>) override {}
  } sink;
  Engine e(cfg, sink);
  int64_t now = 1'000'000;
  e.start(Instant::from_micros(now));
  const Ipv4Addr group = Ipv4Addr::from_octets(224, 0, 0, 81), me = Ipv4Addr::from_octets(10, 1, 0, 1);
  std::vector<uint8_t> frame;
  size_t off = 0;
  while (off + 4 <= size) {
    const uint8_t flags = data[off], step = data[off + 1];
    const size_t len = std::min<size_t>(size_t{data[off + 2]} << 8 | data[off + 3], size - off - 4);
    off += 4;
    std::span<const uint8_t> body(data + off, len);
    off += len;
    check_round_trip(body);

    now += int64_t{step} * 100'000;
    while (auto d = e.next_deadline()) {
      if (d->us > now) break;
      e.on_timer(*d);
    }
    const Ipv4Addr src = (flags & 1) ? Ipv4Addr::from_octets(10, 1, 0, 9) : Ipv4Addr::from_octets(10, 1, 0, 2);
    const Ipv4Addr dst = (flags & 2) ? me : group;
    frame.assign(14 + 20 + 8 + len, 0);
    std::copy(body.begin(), body.end(), frame.begin() + 42);
    std::span<uint8_t> udp(frame.data() + 34, 8 + len);
    wire::store16(udp, 0, 8848);
    wire::store16(udp, 2, (flags & 4) ? uint16_t{8849} : uint16_t{8848});
    wire::store16(udp, 4, static_cast<uint16_t>(8 + len));
    wire::UdpView<uint8_t>::unchecked(udp).fill_checksum(src, dst);
    if (flags & 8) udp[6] ^= 0x5a;
    wire::fill_ethernet(frame, MacAddr{{1, 0, 0x5e, 0, 0, 0x51}}, MacAddr{{2, 0, 0, 0, 0x0b, 2}},
                        wire::EtherType::kIpv4);
    wire::Ipv4View<uint8_t>::unchecked(std::span(frame).subspan(14))
        .fill(0, static_cast<uint16_t>(28 + len), 0, 0, 1, IpProto::kUdp, src, dst);
    const uint64_t before = fuzz::frame_drops(e.drops());
    Verdict v = e.on_frame(1, frame, Instant::from_micros(now));
    const uint64_t after = fuzz::frame_drops(e.drops());
    if (v.kind == Verdict::Kind::kDropped && after != before + 1) fail("a drop not counted once");
    fuzz::check_dest_counts(e);
  }
  return 0;
}

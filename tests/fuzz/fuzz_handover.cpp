// libFuzzer target: hostile handover streams (src/handover/state.hpp, Engine::adopt,
// src/ipvs/director_handover.cpp): what `vsrouter run --takeover` reads from the process it
// replaces (docs/handover.md).
//
// The input is either a whole stream (first byte even: checked as it is, checksum included, so
// damaged streams are refused) or, first byte odd, the sections alone, sealed with a correct
// header and checksum (handover::seal) so that the fuzzer reaches the section parser and the
// engine's adoption. A stream that decodes is adopted by an engine with NAT, DR and persistent
// services and a tiny table. Invariants: decode never crashes and refuses a damaged stream; what
// decodes re-encodes and decodes to the same records; after adoption the table holds at most its
// capacity, each real's active, inactive and persistent counts are those of the connections
// bound to it, and the engine's own snapshot is a valid stream.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "engine.hpp"
#include "fuzz_common.hpp"
#include "handover/state.hpp"

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
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::shared_ptr<const config::Config> cfg = [] {
    auto r = config::parse_config(kConfig);
    if (!r) fail("the fuzz config does not load");
    return r.value();
  }();
  if (size < 1) return 0;
  std::span<const uint8_t> in(data + 1, size - 1);
  std::vector<uint8_t> sealed;
  if (data[0] & 1) {
    sealed = handover::seal(in);
    in = sealed;
  }
  auto st = handover::decode(in);
  if (!st) return 0;
  const auto again = handover::encode(st.value());
  auto back = handover::decode(again);
  if (!back) fail("a decoded state does not re-encode to a valid stream");
  if (back.value().conns.size() != st.value().conns.size() || back.value().neigh.size() != st.value().neigh.size() ||
      back.value().checks.size() != st.value().checks.size() || back.value().drops.size() != st.value().drops.size())
    fail("a decoded state re-encodes to other records");

  struct Null : TxSink {
    void transmit(uint32_t, std::span<const uint8_t>) override {}
  } sink;
  Engine e(cfg, sink);
  const Instant now = Instant::from_micros(st.value().now_us);
  e.adopt(st.value(), now);
  e.start(now);
  fuzz::check_dest_counts(e);
  if (!handover::decode(handover::encode(e.snapshot(now))))
    fail("the adopting engine's snapshot is not a valid stream");
  // Time runs on: every adopted entry expires by the rules, the counts stay consistent.
  for (int i = 0; i < 64; ++i) {
    auto d = e.next_deadline();
    if (!d) break;
    e.on_timer(*d);
  }
  fuzz::check_dest_counts(e);
  return 0;
}

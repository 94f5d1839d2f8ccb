// libFuzzer target: a pcap file into replay (docs/hardening.md).
//
// The input is the whole file, read as `vsrouter replay` reads one (libpcap for pcap, vsrouter's
// own reader for pcapng with its EPB direction flags; from memory here),
// given to interface "lan" of the fuzz config and replayed with --advance 100; then replayed a
// second time, which must send the same frames at the same times (determinism). A file the reader
// rejects must give one line of error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fuzz_common.hpp"
#include "replay/replay.hpp"

using namespace vs;

namespace {

struct Out {
  uint32_t iface;
  int64_t ts;
  std::vector<uint8_t> bytes;
  bool operator==(const Out&) const = default;
};

std::vector<Out> replay_once(const std::vector<std::vector<replay::PcapRecord>>& records) {
  auto cfg = fuzz::fuzz_config();
  std::vector<Out> out;
  replay::Replayer r(
      cfg,
      [&](uint32_t iface, int64_t ts, std::span<const uint8_t> f) {
        fuzz::check_sent(*cfg, iface, f);
        if (out.size() < 4096) out.push_back({iface, ts, std::vector<uint8_t>(f.begin(), f.end())});
      },
      nullptr, fuzz::small_params());
  replay::replay_records(r, records, 100'000'000, nullptr);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto recs = replay::read_pcap_bytes(std::span<const uint8_t>(data, size));
  if (!recs) {
    const std::string& m = recs.error().message;
    if (m.empty() || m.find('\n') != std::string::npos) {
      std::fprintf(stderr, "bad error message: [%s]\n", m.c_str());
      std::abort();
    }
    return 0;
  }
  std::vector<std::vector<replay::PcapRecord>> records(fuzz::fuzz_config()->interfaces.size());
  records[0] = std::move(recs.value());
  if (replay_once(records) != replay_once(records)) {
    std::fprintf(stderr, "two replays of one input differ\n");
    std::abort();
  }
  return 0;
}

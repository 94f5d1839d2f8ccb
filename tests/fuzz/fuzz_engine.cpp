// libFuzzer target: frames into the engine (docs/hardening.md).
//
// The input is a sequence of records, each
//   byte 0     bits 0-1: interface (modulo 3); bit 2: the time step is in seconds (else in units
//              of 100 us); bit 3: repair the frame's IPv4/TCP/UDP/ICMP checksums before sending;
//              bit 4: an offload record follows (below)
//   bytes 1-2  time step, big-endian (in seconds only its low 10 bits count: up to 1023 s)
//   bytes 3-4  frame length, big-endian (cut to what is left of the input)
//   [offload record, 7 bytes: flags (bit 0 checksum partial, bit 1 GSO ECN, bit 2 unsupported),
//    gso_size, csum_start, csum_offset (big-endian 16 bits each), as a TAP's virtio-net header]
//   then the frame
// The engine runs without adapter offloads, so whatever a record defers must come out done:
// check_sent fails any frame over its interface's MTU (an uncut super-frame).
// fed through the replay loop (timers fire between frames as in a replay), then the clock runs
// 1000 s on so that every timer fires. Every frame the engine sends is checked (fuzz_common.hpp).
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_common.hpp"
#include "replay/replay.hpp"

using namespace vs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto cfg = fuzz::fuzz_config();
  replay::Replayer r(
      cfg, [&cfg](uint32_t iface, int64_t, std::span<const uint8_t> f) { fuzz::check_sent(*cfg, iface, f); }, nullptr,
      fuzz::small_params());
  int64_t t = 1'700'000'000'000'000;
  std::vector<uint8_t> frame;
  size_t i = 0;
  while (size - i >= 5) {
    const uint8_t flags = data[i];
    const uint32_t step = (uint32_t{data[i + 1]} << 8) | data[i + 2];
    size_t len = (size_t{data[i + 3]} << 8) | data[i + 4];
    i += 5;
    Offload off;
    if (flags & 16) {
      if (size - i < 7) break;
      off.csum_partial = data[i] & 1;
      off.gso_ecn = data[i] & 2;
      off.unsupported = data[i] & 4;
      off.gso_size = static_cast<uint16_t>((data[i + 1] << 8) | data[i + 2]);
      off.csum_start = static_cast<uint16_t>((data[i + 3] << 8) | data[i + 4]);
      off.csum_offset = static_cast<uint16_t>((data[i + 5] << 8) | data[i + 6]);
      i += 7;
    }
    len = std::min(len, size - i);
    frame.assign(data + i, data + i + len);
    i += len;
    const uint32_t iface = (flags & 3) % static_cast<uint32_t>(cfg->interfaces.size());
    t += (flags & 4) ? int64_t{step & 0x3ff} * 1'000'000 : int64_t{step} * 100;
    if (flags & 8) fuzz::fix_checksums(frame);
    Verdict v = r.feed(iface, t, frame, off);
    if (v.kind != Verdict::Kind::kDropped && v.out_iface >= cfg->interfaces.size()) std::abort();
  }
  r.finish(t + 1'000'000'000);
  // Expiry is exact: after 1000 s of silence only persistence templates (30 s, 60 s) could be
  // left, and they expire too; so do datagrams being reassembled (fragments to a VIP or a router
  // address, as the seeds of pcaps/nat_udp_frag and pcaps/malformed send).
  if (r.engine().director().conns().size() != 0) {
    std::fprintf(stderr, "%u connections left after 1000 s\n", r.engine().director().conns().size());
    std::abort();
  }
  // Reassembly queues live frag_timeout (30 s) at most: nothing may be held any more.
  if (r.engine().reassembler().queues() != 0 || r.engine().reassembler().bytes() != 0) {
    std::fprintf(stderr, "%u reassembly queues left after 1000 s\n", r.engine().reassembler().queues());
    std::abort();
  }
  return 0;
}

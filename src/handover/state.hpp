// What a running daemon hands to the process that replaces it (`vsrouter run --takeover`,
// docs/handover.md): the engine's state as plain records, and their byte format. Pure data and
// encoding; no I/O here (the daemon's tap/handover.cpp moves the bytes and the TAP descriptors).
//
// The stream, all integers little-endian:
//   "VSHO" | u32 version | u64 payload length | payload | u64 FNV-1a 64 of everything before it
// and the payload a sequence of sections, each
//   u32 tag | u32 count | u64 byte length | count records
// A reader skips a section whose tag it does not know (a newer writer may add sections within
// a version); a record layout never changes within a version: a change is a new version, and a
// reader refuses a version it does not read (the daemon then falls back to a clean start).
// decode() checks the whole stream (magic, version, lengths, checksum, the sections' record
// counts, template links) before it returns a State, so a corrupt or truncated stream is an
// error and never half a table; the engine checks each record's values as it adopts them
// (Engine::adopt skips and counts what does not fit its config).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/addr.hpp"
#include "base/result.hpp"

namespace vs::handover {

/// The format this build writes, and the only one it reads.
inline constexpr uint32_t kVersion = 1;
/// A stream larger than this is refused before it is read (2^31: ~40 M connections).
inline constexpr uint64_t kMaxStream = uint64_t{1} << 31;

/// A connection or persistence template, as the director holds it (conn/conn_table.hpp).
struct ConnRec {
  uint8_t proto = 0;   // IpProto
  uint8_t method = 0;  // config::Method
  uint8_t state = 0;   // TcpState
  uint8_t old_state = 0;
  uint16_t flags = 0;  // kTemplate | kAssured | kInactive | kNoOutput | kHalfOpen (below)
  Ipv4Addr caddr, vaddr, daddr;
  uint16_t cport = 0, vport = 0, dport = 0;
  int64_t expires_us = 0;         // absolute, on the engine's clock
  int64_t timeout_us = 0;         // the timeout it is armed with
  int64_t ho_since_us = 0;        // last packet while half-open
  uint32_t control = UINT32_MAX;  // index (in State::conns) of its template; templates come first
  uint32_t in_pkts = 0;
  uint32_t sync_end_s = 0;
  uint8_t sync_retries = 0;
  enum : uint16_t { kTemplate = 1, kAssured = 2, kInactive = 4, kNoOutput = 8, kHalfOpen = 16 };
};

/// A neighbour whose MAC is known (reachable or being re-confirmed).
struct NeighRec {
  std::string iface;  // the interface's name in the config
  Ipv4Addr ip;
  MacAddr mac;
  int64_t expires_us = 0;
};

/// The counters of a service or of one of its reals (ipvsadm --stats).
struct StatsRec {
  uint8_t proto = 0;
  Ipv4Addr vip;
  uint16_t vport = 0;
  bool real = false;  // a real of that service (addr, port), else the service itself
  Ipv4Addr addr;
  uint16_t port = 0;
  uint64_t conns = 0, inpkts = 0, outpkts = 0, inbytes = 0, outbytes = 0;
};

/// A health checker, identified as reload identifies it: the service, the real, its position
/// among the real's checkers and its type.
struct CheckRec {
  uint8_t proto = 0;
  Ipv4Addr vip;
  uint16_t vport = 0;
  Ipv4Addr raddr;
  uint16_t rport = 0;
  uint32_t position = 0;
  uint8_t type = 0;  // config::CheckType
  bool up = true;
  bool succeeded_once = false;
  uint32_t ok_run = 0, fail_run = 0;
  uint64_t transitions = 0, probes = 0;
  int64_t next_check_us = 0;  // when the next probe starts
};

/// A service's scheduler position (ipvs::Scheduler::state).
struct SchedRec {
  uint8_t proto = 0;
  Ipv4Addr vip;
  uint16_t vport = 0;
  std::string scheduler;  // its name: taken only by a scheduler of the same name
  std::vector<int64_t> values;
};

/// A VRRP instance by name, and the state it was in.
struct VrrpRec {
  std::string name;
  uint8_t state = 0;  // vrrp::State
};

struct State {
  int64_t now_us = 0;         // the engine clock at the snapshot
  uint64_t monotonic_ns = 0;  // CLOCK_MONOTONIC at the same moment (the new process continues the clock)
  std::string writer;         // the writing build: "vsrouter 0.1.0 (revision)"
  std::vector<ConnRec> conns;
  std::vector<NeighRec> neigh;
  std::vector<StatsRec> stats;
  std::vector<CheckRec> checks;
  std::vector<VrrpRec> vrrp;
  std::vector<SchedRec> sched;
  std::vector<std::pair<std::string, uint64_t>> drops;  // by the drop reason's stable name
  uint64_t total[5] = {};  // the director's total Stats: conns, inpkts, outpkts, inbytes, outbytes
};

/// The stream for `s`.
std::vector<uint8_t> encode(const State& s);
/// A stream of this version around `payload` (sections), with its length and checksum: what
/// encode() ends with, and how the fuzz target reaches the sections past the checksum.
std::vector<uint8_t> seal(std::span<const uint8_t> payload);
/// The version a stream announces (0 if it is not one), read before anything else.
uint32_t peek_version(std::span<const uint8_t> b) noexcept;
/// The State of a stream, or what is wrong with it.
Result<State> decode(std::span<const uint8_t> b);

}  // namespace vs::handover

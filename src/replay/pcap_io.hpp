// libpcap behind a small interface: read a whole Ethernet pcap, write one record at a time.
// This adapter is the only code that includes <pcap.h>. pcapng is read and written here without
// libpcap (libpcap 1.10 reads pcapng but drops the EPB flags and cannot write them): a
// `vsrouter run --capture` file is pcapng so that each frame says whether it came in or went out.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace vs::replay {

/// pcapng epb_flags bits 0-1 (the pcapng spec, "Enhanced Packet Block Flags Word").
enum class Direction : uint8_t { kUnknown = 0, kInbound = 1, kOutbound = 2 };

struct PcapRecord {
  int64_t ts_us;  // microseconds since the Unix epoch
  std::vector<uint8_t> data;
  Direction dir = Direction::kUnknown;  // from pcapng epb_flags; always kUnknown from a pcap
};

/// Every record of an Ethernet (DLT_EN10MB) pcap or pcapng file (told apart by the first bytes). A
/// missing, truncated or non-Ethernet file is an Error whose message says which.
Result<std::vector<PcapRecord>> read_pcap(const std::string& path);

/// The same for a file already in memory (the replay fuzz target), with the same messages.
Result<std::vector<PcapRecord>> read_pcap_bytes(std::span<const uint8_t> bytes);

/// An Ethernet pcap being written (microsecond timestamps, snaplen 262144).
class PcapWriter {
public:
  static Result<std::unique_ptr<PcapWriter>> open(const std::string& path);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  void write(int64_t ts_us, const uint8_t* data, size_t len);
  /// Flush and close; false (with err set) if the data could not be written.
  bool close(std::string& err);

private:
  PcapWriter() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A pcapng file with one Ethernet interface (`if_name` = `iface`, microsecond timestamps) being
/// written: each frame an Enhanced Packet Block whose epb_flags carry its direction.
class PcapngWriter {
public:
  static Result<std::unique_ptr<PcapngWriter>> open(const std::string& path, const std::string& iface);
  ~PcapngWriter();
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;

  void write(int64_t ts_us, const uint8_t* data, size_t len, Direction dir);
  /// Flush and close; false (with err set) if the data could not be written.
  bool close(std::string& err);

private:
  PcapngWriter() = default;
  std::FILE* f_ = nullptr;
  bool failed_ = false;
  std::vector<uint8_t> block_;  // reused: no allocation per frame once grown
};

}  // namespace vs::replay

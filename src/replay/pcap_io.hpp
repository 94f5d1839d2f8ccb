// libpcap behind a small interface: read a whole Ethernet pcap, write one record at a time.
// This adapter is the only code that includes <pcap.h>.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace vs::replay {

struct PcapRecord {
  int64_t ts_us;  // microseconds since the Unix epoch
  std::vector<uint8_t> data;
};

/// Every record of an Ethernet (DLT_EN10MB) pcap. A missing, truncated or non-Ethernet file is an
/// Error whose message says which.
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

}  // namespace vs::replay

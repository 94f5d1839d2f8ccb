// Deterministic pcap replay: the engine driven by the records of one pcap per interface, with the
// record timestamps as its clock. Output records carry the virtual time at which they were sent.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace vs::replay {

struct Options {
  std::string config_path;
  std::string in_dir;
  std::string out_dir;
  int64_t advance_us = 0;  // run the clock this long after the last record so timers fire
  bool list = false;       // print the ipvsadm -Ln --stats table and counters at the end
  bool list_conns = false; // print the connection table (ipvsadm -Lnc) at the end
  bool trace = false;      // print what happened to each packet
};

/// Runs a replay. Returns the process exit code: 0, or 2 with one clear line on `err`.
int run(const Options& opt, std::ostream& out, std::ostream& err);

}  // namespace vs::replay

// One-line human descriptions of frames and verdicts, for `replay --trace` and the lab.
// Control-path only (allocates strings); never called on the data path.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "engine.hpp"
#include "ipvs/director.hpp"

namespace vs::replay {

/// e.g. "ARP who-has 192.168.1.10 tell 192.168.1.1" or "192.168.1.1 > 10.0.0.2 ttl 63 ICMP echo request id 7 seq 1".
std::string describe_frame(std::span<const uint8_t> frame);

/// e.g. "forwarded on wan", "dropped: ttl_exceeded".
std::string describe_verdict(const Verdict& v, const config::Config& cfg);

/// Why a new connection went to its real, from the director's SchedNote: the scheduler and the
/// inputs it compared, e.g. "wlc TCP 192.168.1.100:80 for 10.0.0.5:40000: 192.168.2.11:80 w 1
/// act 0 inact 0 oh 0, 192.168.2.10:80 w 1 act 1 inact 0 oh 256 -> 192.168.2.11:80 (dr)".
std::string describe_sched(const ipvs::SchedNote& n);

/// TCP flags as letters ("SA" for SYN+ACK; "none" for none), as traces and diagrams print them.
std::string tcp_flags(uint8_t flags);

}  // namespace vs::replay

// One-line human descriptions of frames and verdicts, for `replay --trace` and the lab.
// Control-path only (allocates strings); never called on the data path.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "engine.hpp"

namespace vs::replay {

/// e.g. "ARP who-has 192.168.1.10 tell 192.168.1.1" or "192.168.1.1 > 10.0.0.2 ttl 63 ICMP echo request id 7 seq 1".
std::string describe_frame(std::span<const uint8_t> frame);

/// e.g. "forwarded on wan", "dropped: ttl_exceeded".
std::string describe_verdict(const Verdict& v, const config::Config& cfg);

}  // namespace vs::replay

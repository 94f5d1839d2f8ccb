// The process_* metrics of the Prometheus client libraries, read from /proc by the daemon at
// scrape time (the core never reads /proc: it renders what it is given, metrics/prometheus.hpp).
#pragma once

#include <optional>

#include "metrics/prometheus.hpp"

namespace vs::tap {

/// CPU time, RSS and VSZ from /proc/self/stat, open descriptors from /proc/self/fd, the soft
/// RLIMIT_NOFILE, and the start time from the process's start (in clock ticks since boot) plus
/// the boot time of /proc/stat, as client_golang's process collector computes them. nullopt if
/// /proc/self/stat cannot be read or parsed.
std::optional<metrics::ProcessStats> read_process_stats();

}  // namespace vs::tap

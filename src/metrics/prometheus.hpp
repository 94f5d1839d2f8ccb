// The engine's state in the Prometheus text exposition format (version 0.0.4). Every metric, its
// labels and its meaning are listed in docs/metrics.md; the daemon serves it over HTTP
// (tap/metrics.hpp). A pure function of the engine and the adapter's counters: no clock, no I/O.
//
// The IPVS metrics that node_exporter's IPVS collector exports (node_ipvs_*) keep its names, HELP
// texts, types and labels, so dashboards and alerts written for node_exporter on an LVS director
// work unchanged; vsrouter's own metrics are named vsrouter_*.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine.hpp"

namespace vs::metrics {

/// Per-TAP adapter counters the daemon keeps (frames it could not write, read/write errors).
/// `interface` should be the configured interface name, so the series join the engine's
/// vsrouter_interface_* series on the same label value.
struct PortCounters {
  std::string interface;
  uint64_t tx_full = 0, tx_error = 0, rx_error = 0;
};

/// The process, as the Prometheus client libraries export it (process_*): gathered by the daemon
/// from /proc/self at scrape time (tap/process_stats.hpp), never by the core.
struct ProcessStats {
  double cpu_seconds = 0;         // user + system CPU time
  uint64_t resident_bytes = 0;    // RSS
  uint64_t virtual_bytes = 0;     // VSZ
  uint64_t open_fds = 0;          // entries of /proc/self/fd
  uint64_t max_fds = 0;           // RLIMIT_NOFILE (soft)
  double start_time_seconds = 0;  // since the Unix epoch
};

/// The metrics endpoint's own counters (tap/metrics.hpp), since it started.
struct HttpStats {
  uint64_t requests = 0;   // requests answered, any status
  uint64_t refused = 0;    // connections closed at once: every slot busy with a request
  uint64_t evicted = 0;    // idle connections (no complete request yet) closed to admit a new one
  uint64_t timed_out = 0;  // connections closed because the request was not complete in time
};

/// What the daemon adds to the engine's state. Without them (replay, tests) the process_* and
/// vsrouter_metrics_* families are absent.
struct DaemonStats {
  std::optional<ProcessStats> process;
  std::optional<HttpStats> http;
};

/// The Prometheus text exposition (version 0.0.4) of the engine's state: every family with
/// # HELP and # TYPE, in a fixed order; services sorted by (protocol, VIP, port) and reals by
/// (address, port), numerically. Every drop reason of drop.hpp is present, zeros included.
/// vsrouter_build_info is always present; the process_* and vsrouter_metrics_* families only when
/// `daemon` has them.
std::string render_metrics(const Engine& engine, const std::vector<PortCounters>& ports,
                           const DaemonStats& daemon = {});

}  // namespace vs::metrics

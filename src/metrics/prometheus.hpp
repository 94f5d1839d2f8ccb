// The engine's state in the Prometheus text exposition format (version 0.0.4). Every metric, its
// labels and its meaning are listed in docs/metrics.md; the daemon serves it over HTTP
// (tap/metrics.hpp). A pure function of the engine and the adapter's counters: no clock, no I/O.
//
// The IPVS metrics that node_exporter's IPVS collector exports (node_ipvs_*) keep its names, HELP
// texts, types and labels, so dashboards and alerts written for node_exporter on an LVS director
// work unchanged; vsrouter's own metrics are named vsrouter_*.
#pragma once

#include <cstdint>
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

/// The Prometheus text exposition (version 0.0.4) of the engine's state: every family with
/// # HELP and # TYPE, in a fixed order; services sorted by (protocol, VIP, port) and reals by
/// (address, port), numerically. Every drop reason of drop.hpp is present, zeros included.
std::string render_metrics(const Engine& engine, const std::vector<PortCounters>& ports);

}  // namespace vs::metrics

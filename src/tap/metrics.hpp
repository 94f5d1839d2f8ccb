// Metrics over HTTP (`vsrouter run --metrics ADDR:PORT`): the engine's state in the Prometheus
// text exposition format (version 0.0.4), served by a small HTTP/1.x server on the daemon's libuv
// loop. Every metric, its labels and its meaning are listed in docs/metrics.md.
//
// The IPVS metrics that node_exporter's IPVS collector exports (node_ipvs_*) keep its names, HELP
// texts, types and labels, so dashboards and alerts written for node_exporter on an LVS director
// work unchanged; vsrouter's own metrics are named vsrouter_*.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "base/result.hpp"
#include "engine.hpp"

namespace vs::tap {

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

/// Bounds of the HTTP server. The defaults are what the daemon uses.
struct MetricsLimits {
  size_t max_request = 8192;       // bytes of request line + headers; beyond: 431 and close
  uint32_t max_clients = 64;       // connections served at once; further ones are closed at once
  uint64_t timeout_ms = 10000;     // a connection's whole life (not reset by traffic: slowloris)
  uint64_t linger_ms = 1000;       // after the response: unread input is drained this long
};

/// A minimal HTTP/1.0-1.1 server on a libuv loop:
///   GET|HEAD /metrics (any query string) -> 200, Content-Type: text/plain; version=0.0.4;
///                                          charset=utf-8, body from render()
///   GET|HEAD any other path               -> 404
///   any other method                      -> 405 (Allow: GET, HEAD)
///   a malformed request line              -> 400
///   request line + headers over max_request bytes -> 431
/// Every response carries Content-Length and `Connection: close`; after it the server shuts its
/// side down, drains what the client still sends (so the client sees the response, not a reset)
/// and closes. Client slots and their request buffers are allocated once, at start(): serving a
/// request allocates only the response body. Nothing blocks the loop.
///
/// start() sets SIGPIPE to ignored if it is at its default (libuv writes with writev(), and a
/// client that resets its connection must not kill the daemon).
class MetricsServer {
public:
  /// Listens on `addr_port`: "A.B.C.D:PORT" or "[IPV6]:PORT" (literals only: no name lookup on
  /// the loop). PORT 0 picks a free port (see port()). Errors: a bad address, or the bind/listen
  /// error in libuv's words ("address already in use").
  static Result<std::unique_ptr<MetricsServer>> start(uv_loop_t* loop, const std::string& addr_port,
                                                      std::function<std::string()> render,
                                                      const MetricsLimits& limits = {});
  /// Closes the listener and every client. The handles are freed by their close callbacks, so the
  /// loop must run again (as it does when the daemon stops) for that memory to be released.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  /// The port actually bound (useful with PORT 0).
  uint16_t port() const noexcept;
  /// Connections being served now (at most MetricsLimits::max_clients).
  uint32_t clients() const noexcept;
  /// Requests answered (any status) and connections refused for want of a slot, since start.
  uint64_t requests() const noexcept;
  uint64_t refused() const noexcept;

  struct Impl;

private:
  explicit MetricsServer(Impl* impl) : impl_(impl) {}
  Impl* impl_;  // freed by the last close callback after the destructor ran
};

}  // namespace vs::tap

// Metrics over HTTP (`vsrouter run --metrics ADDR:PORT`): a small HTTP/1.x server on the
// daemon's libuv loop that serves the Prometheus exposition rendered by the core
// (metrics/prometheus.hpp). Every metric, its labels and its meaning are listed in docs/metrics.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <uv.h>

#include "base/result.hpp"
#include "metrics/prometheus.hpp"

namespace vs::tap {

/// Bounds of the HTTP server. The defaults are what the daemon uses.
struct MetricsLimits {
  size_t max_request = 8192;           // bytes of request line + headers; beyond: 431 and close
  uint32_t max_clients = 64;           // connections held at once (see on_connection for the rest)
  uint64_t request_timeout_ms = 3000;  // from accept to a complete request (not reset by traffic:
                                       // slowloris); then the connection is closed
  uint64_t timeout_ms = 10000;         // writing the response; also caps request_timeout_ms
  uint64_t linger_ms = 1000;           // after the response: unread input is drained this long
};

/// A minimal HTTP/1.0-1.1 server on a libuv loop:
///   GET|HEAD /metrics (any query string) -> 200, Content-Type: text/plain; version=0.0.4;
///                                          charset=utf-8, body from render(), gzipped
///                                          (Content-Encoding: gzip) if Accept-Encoding allows it
///   GET|HEAD any other path               -> 404
///   any other method                      -> 405 (Allow: GET, HEAD)
///   a malformed request line              -> 400
///   request line + headers over max_request bytes -> 431
/// Every response carries Content-Length and `Connection: close`; after it the server shuts its
/// side down, drains what the client still sends (so the client sees the response, not a reset)
/// and closes. Client slots and their request buffers are allocated once, at start(): serving a
/// request allocates only the response body (and its gzip). Nothing blocks the loop.
///
/// A client has request_timeout_ms to send a complete request. When all max_clients slots are
/// taken, a new connection evicts the oldest client that has not sent a complete request yet (so
/// idle connections cannot lock Prometheus out); only when every slot is answering a request is it
/// refused (closed at once). stats() counts both.
///
/// start() sets SIGPIPE to ignored if it is at its default (libuv writes with writev(), and a
/// client that resets its connection must not kill the daemon).
class MetricsServer {
public:
  /// Listens on `addr_port`: "A.B.C.D:PORT", ":PORT" (0.0.0.0:PORT) or "[IPV6]:PORT" (literals
  /// only: no name lookup on the loop). PORT 0 picks a free port (see port()). Errors: a bad address, or the bind/listen
  /// error in libuv's words ("address already in use"). `adopt_fd`: a handover's listening
  /// socket already bound to `addr_port`, served as it is.
  static Result<std::unique_ptr<MetricsServer>> start(uv_loop_t* loop, const std::string& addr_port,
                                                      std::function<std::string()> render,
                                                      const MetricsLimits& limits = {}, int adopt_fd = -1);
  /// Closes the listener and every client. The handles are freed by their close callbacks, so the
  /// loop must run again (as it does when the daemon stops) for that memory to be released.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  /// The listening socket's descriptor (handover).
  int fd() const noexcept;
  /// The port actually bound (useful with PORT 0).
  uint16_t port() const noexcept;
  /// Connections being served now (at most MetricsLimits::max_clients).
  uint32_t clients() const noexcept;
  /// Requests answered (any status) and connections refused for want of a slot, since start.
  uint64_t requests() const noexcept;
  uint64_t refused() const noexcept;
  /// Requests, refused, evicted and timed-out connections, for vsrouter_metrics_* (docs/metrics.md).
  metrics::HttpStats stats() const noexcept;

  struct Impl;

private:
  explicit MetricsServer(Impl* impl) : impl_(impl) {}
  Impl* impl_;  // freed by the last close callback after the destructor ran
};

}  // namespace vs::tap

#include "tap/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <signal.h>

#include "base/addr.hpp"

namespace vs::tap {

struct MetricsServer::Impl {
  enum class State : uint8_t { kFree, kReading, kWriting, kDraining, kClosing };

  struct Client {
    Impl* srv = nullptr;
    uv_tcp_t tcp{};
    uv_timer_t timer{};
    uv_write_t write_req{};
    uv_shutdown_t shutdown_req{};
    std::unique_ptr<char[]> buf;  // max_request bytes, allocated once at start()
    size_t len = 0;
    char head[192]{};  // status line and headers of the response
    size_t head_len = 0;
    std::string_view body;  // `rendered`, or a static error text
    std::string rendered;
    State state = State::kFree;
    int open_handles = 0;
  };

  uv_loop_t* loop = nullptr;
  uv_tcp_t listener{};
  bool listener_open = false;
  std::function<std::string()> render;
  MetricsLimits limits;
  std::vector<Client> clients;
  uint32_t busy = 0;  // slots not kFree
  uint64_t requests = 0, refused = 0;
  bool stopping = false;  // the MetricsServer is gone: delete this when the last handle closes

  void maybe_delete() {
    if (stopping && !listener_open && busy == 0) delete this;
  }

  // --- accepting ---
  static void on_connection(uv_stream_t* server, int status) {
    auto* self = static_cast<Impl*>(server->data);
    if (status < 0 || self->stopping) return;
    Client* c = nullptr;
    for (auto& s : self->clients)
      if (s.state == State::kFree) {
        c = &s;
        break;
      }
    if (!c) {
      // No slot: accept and close at once (left in the backlog it would wait, then time out).
      self->refused++;
      auto* h = new uv_tcp_t;
      uv_tcp_init(self->loop, h);
      uv_accept(server, reinterpret_cast<uv_stream_t*>(h));
      uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* hh) { delete reinterpret_cast<uv_tcp_t*>(hh); });
      return;
    }
    c->srv = self;
    c->len = 0;
    c->head_len = 0;
    c->body = {};
    c->state = State::kReading;
    self->busy++;
    uv_tcp_init(self->loop, &c->tcp);
    uv_timer_init(self->loop, &c->timer);
    c->open_handles = 2;
    c->tcp.data = c;
    c->timer.data = c;
    if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
      close_client(c);
      return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, on_timeout, self->limits.timeout_ms, 0);
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), on_alloc, on_read) != 0) close_client(c);
  }

  static void on_timeout(uv_timer_t* t) { close_client(static_cast<Client*>(t->data)); }

  // --- reading ---
  static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* out) {
    auto* c = static_cast<Client*>(h->data);
    const size_t cap = c->srv->limits.max_request;
    if (c->state == State::kDraining) {  // discarded
      *out = uv_buf_init(c->buf.get(), static_cast<unsigned>(cap));
    } else {
      *out = uv_buf_init(c->buf.get() + c->len, static_cast<unsigned>(cap - c->len));
    }
  }

  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t*) {
    auto* c = static_cast<Client*>(s->data);
    if (n == 0) return;  // EAGAIN
    if (n < 0) {         // EOF or error: nothing (more) to answer
      close_client(c);
      return;
    }
    if (c->state != State::kReading) return;  // draining: discard
    const size_t old = c->len;
    c->len += static_cast<size_t>(n);
    std::string_view req(c->buf.get(), c->len);
    // The end of the header block: an empty line (CRLF CRLF, or bare LF LF as tolerated by most).
    size_t from = old >= 3 ? old - 3 : 0;
    size_t end = req.find("\r\n\r\n", from);
    if (end == std::string_view::npos) end = req.find("\n\n", old >= 1 ? old - 1 : 0);
    if (end != std::string_view::npos) {
      c->srv->respond(c, req);
    } else if (c->len >= c->srv->limits.max_request) {
      c->srv->respond_status(c, 431, "Request Header Fields Too Large", "request header fields too large\n", false);
    }
  }

  // --- answering ---
  void respond(Client* c, std::string_view req) {
    size_t eol = req.find('\n');
    std::string_view line = req.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // METHOD SP request-target SP HTTP-version (RFC 9112 §3)
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
      respond_status(c, 400, "Bad Request", "bad request\n", false);
      return;
    }
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (target.empty() || !version.starts_with("HTTP/1.") || version.size() != 8) {
      respond_status(c, 400, "Bad Request", "bad request\n", false);
      return;
    }
    const bool head = method == "HEAD";
    if (method != "GET" && !head) {
      respond_status(c, 405, "Method Not Allowed", "method not allowed\n", head);
      return;
    }
    std::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics") {
      respond_status(c, 404, "Not Found", "not found: try /metrics\n", head);
      return;
    }
    try {
      c->rendered = render();
    } catch (const std::exception&) {
      respond_status(c, 500, "Internal Server Error", "internal server error\n", head);
      return;
    }
    c->body = c->rendered;
    send(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", head);
  }

  void respond_status(Client* c, int code, const char* reason, std::string_view text, bool head) {
    c->body = text;  // static storage
    send(c, code, reason, "text/plain; charset=utf-8", head);
  }

  void send(Client* c, int code, const char* reason, const char* type, bool head) {
    requests++;
    int n = std::snprintf(c->head, sizeof c->head,
                          "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
                          code, reason, type, c->body.size(), code == 405 ? "Allow: GET, HEAD\r\n" : "");
    c->head_len = static_cast<size_t>(std::clamp(n, 0, static_cast<int>(sizeof c->head) - 1));
    c->state = State::kWriting;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
    uv_buf_t bufs[2] = {uv_buf_init(c->head, static_cast<unsigned>(c->head_len)),
                        uv_buf_init(const_cast<char*>(c->body.data()), static_cast<unsigned>(c->body.size()))};
    const unsigned nbufs = head || c->body.empty() ? 1 : 2;
    c->write_req.data = c;
    if (uv_write(&c->write_req, reinterpret_cast<uv_stream_t*>(&c->tcp), bufs, nbufs, on_written) != 0) close_client(c);
  }

  static void on_written(uv_write_t* w, int status) {
    auto* c = static_cast<Client*>(w->data);
    if (c->state == State::kClosing) return;  // cancelled by uv_close
    std::string().swap(c->rendered);          // the body is no longer needed
    c->body = {};
    if (status < 0) {
      close_client(c);
      return;
    }
    // Half-close, then read and discard what the client still sends until it closes too (or the
    // linger time passes): closing with unread input would reset the connection, and the client
    // could lose the response.
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, reinterpret_cast<uv_stream_t*>(&c->tcp), on_shutdown) != 0) close_client(c);
  }

  static void on_shutdown(uv_shutdown_t* r, int status) {
    auto* c = static_cast<Client*>(r->data);
    if (c->state == State::kClosing) return;
    if (status < 0) {
      close_client(c);
      return;
    }
    c->state = State::kDraining;
    uv_timer_start(&c->timer, on_timeout, std::min(c->srv->limits.linger_ms, c->srv->limits.timeout_ms), 0);
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), on_alloc, on_read) != 0) close_client(c);
  }

  // --- closing ---
  static void close_client(Client* c) {
    if (c->state == State::kClosing || c->state == State::kFree) return;
    c->state = State::kClosing;
    uv_timer_stop(&c->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_client_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), on_client_closed);
  }

  static void on_client_closed(uv_handle_t* h) {
    auto* c = static_cast<Client*>(h->data);
    if (--c->open_handles > 0) return;
    std::string().swap(c->rendered);
    c->body = {};
    c->state = State::kFree;
    Impl* self = c->srv;
    self->busy--;
    self->maybe_delete();
  }

  static void on_listener_closed(uv_handle_t* h) {
    auto* self = static_cast<Impl*>(h->data);
    self->listener_open = false;
    self->maybe_delete();
  }
};

namespace {

/// "A.B.C.D:PORT" or "[V6]:PORT" into a sockaddr; false if malformed.
bool parse_listen_address(const std::string& s, sockaddr_storage& out) {
  std::string host;
  std::string_view port;
  bool v6 = false;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    host = s.substr(1, close - 1);
    port = std::string_view(s).substr(close + 2);
    v6 = true;
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string::npos || s.find(':') != colon) return false;
    host = s.substr(0, colon);
    port = std::string_view(s).substr(colon + 1);
  }
  unsigned p = 0;
  auto r = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || r.ec != std::errc{} || r.ptr != port.data() + port.size() || p > 65535) return false;
  std::memset(&out, 0, sizeof out);
  if (v6) return uv_ip6_addr(host.c_str(), static_cast<int>(p), reinterpret_cast<sockaddr_in6*>(&out)) == 0;
  if (!Ipv4Addr::parse(host)) return false;  // strict dotted quad (inet_pton would take less)
  return uv_ip4_addr(host.c_str(), static_cast<int>(p), reinterpret_cast<sockaddr_in*>(&out)) == 0;
}

}  // namespace

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(uv_loop_t* loop, const std::string& addr_port,
                                                            std::function<std::string()> render,
                                                            const MetricsLimits& limits) {
  sockaddr_storage sa{};
  if (!parse_listen_address(addr_port, sa))
    return Error{"metrics address \"" + addr_port + "\": expected IPV4:PORT or [IPV6]:PORT"};
  if (limits.max_request < 64 || limits.max_clients == 0 || limits.timeout_ms == 0)
    return Error{"metrics: invalid limits"};

  // A client that resets its connection makes writev() raise SIGPIPE; it must not kill us.
  struct sigaction old {};
  if (sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) std::signal(SIGPIPE, SIG_IGN);

  auto* impl = new Impl;
  impl->loop = loop;
  impl->render = std::move(render);
  impl->limits = limits;
  impl->clients = std::vector<Impl::Client>(limits.max_clients);
  for (auto& c : impl->clients) c.buf.reset(new char[limits.max_request]);

  uv_tcp_init(loop, &impl->listener);
  impl->listener.data = impl;
  impl->listener_open = true;
  int rc = uv_tcp_bind(&impl->listener, reinterpret_cast<const sockaddr*>(&sa), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&impl->listener), 128, Impl::on_connection);
  if (rc != 0) {
    impl->stopping = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&impl->listener), Impl::on_listener_closed);
    return Error{"metrics " + addr_port + ": " + uv_strerror(rc)};
  }
  return std::unique_ptr<MetricsServer>(new MetricsServer(impl));
}

MetricsServer::~MetricsServer() {
  impl_->stopping = true;
  for (auto& c : impl_->clients) Impl::close_client(&c);
  uv_close(reinterpret_cast<uv_handle_t*>(&impl_->listener), Impl::on_listener_closed);
}

uint16_t MetricsServer::port() const noexcept {
  sockaddr_storage sa{};
  int len = sizeof sa;
  if (uv_tcp_getsockname(&impl_->listener, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  if (sa.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&sa)->sin_port);
  if (sa.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port);
  return 0;
}

uint32_t MetricsServer::clients() const noexcept { return impl_->busy; }
uint64_t MetricsServer::requests() const noexcept { return impl_->requests; }
uint64_t MetricsServer::refused() const noexcept { return impl_->refused; }

}  // namespace vs::tap

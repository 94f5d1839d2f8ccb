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
#include <zlib.h>

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
    char head[256]{};  // status line and headers of the response
    size_t head_len = 0;
    std::string_view body;  // `rendered`, `gzipped`, or a static error text
    std::string rendered, gzipped;
    uint64_t accepted_at = 0;  // uv_now() at accept: the oldest idle client is evicted first
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
  metrics::HttpStats stats;
  bool pending = false;   // a connection waits in libuv (accepted, not uv_accept()ed) for a slot
  bool stopping = false;  // the MetricsServer is gone: delete this when the last handle closes

  void maybe_delete() {
    if (stopping && !listener_open && busy == 0) delete this;
  }

  // --- accepting ---
  // A slot is taken when a connection is accepted; a client holds it until it has sent a complete
  // request (at most request_timeout_ms), then while its response is written (timeout_ms) and
  // drained (linger_ms). When every slot is taken, the oldest client that has not sent a complete
  // request yet is closed to admit the new connection, which libuv holds (not uv_accept()ed, the
  // listener paused) until that slot is free: idle or slow clients cannot lock a scraper out. Only
  // when every slot is busy with a request is a new connection refused (accepted, closed at once).
  static void on_connection(uv_stream_t* server, int status) {
    auto* self = static_cast<Impl*>(server->data);
    if (status < 0 || self->stopping) return;
    for (auto& s : self->clients)
      if (s.state == State::kFree) {
        self->admit(&s);
        return;
      }
    Client* victim = nullptr;
    bool closing = false;
    for (auto& s : self->clients) {
      if (s.state == State::kClosing) closing = true;
      if (s.state == State::kReading && (!victim || s.accepted_at < victim->accepted_at)) victim = &s;
    }
    if (closing) {  // a slot is being freed: wait for it
      self->pending = true;
      return;
    }
    if (victim) {
      self->stats.evicted++;
      close_client(victim);
      self->pending = true;  // admitted by on_client_closed
      return;
    }
    // Every slot is answering a request: accept and close at once (left in the backlog it would
    // wait, then time out).
    self->stats.refused++;
    auto* h = new uv_tcp_t;
    uv_tcp_init(self->loop, h);
    uv_accept(server, reinterpret_cast<uv_stream_t*>(h));
    uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* hh) { delete reinterpret_cast<uv_tcp_t*>(hh); });
  }

  /// Accepts the connection libuv holds into the free slot `c`.
  void admit(Client* c) {
    c->srv = this;
    c->len = 0;
    c->head_len = 0;
    c->body = {};
    c->state = State::kReading;
    c->accepted_at = uv_now(loop);
    busy++;
    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->timer);
    c->open_handles = 2;
    c->tcp.data = c;
    c->timer.data = c;
    if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener), reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
      close_client(c);
      return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, on_timeout, std::min(limits.request_timeout_ms, limits.timeout_ms), 0);
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), on_alloc, on_read) != 0) close_client(c);
  }

  static void on_timeout(uv_timer_t* t) {
    auto* c = static_cast<Client*>(t->data);
    if (c->state == State::kReading) c->srv->stats.timed_out++;
    close_client(c);
  }

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
    const bool gz = accepts_gzip(req.substr(eol + 1)) && gzip(c->rendered, c->gzipped);
    if (gz) c->body = c->gzipped;
    send(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", head,
         gz ? "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n" : "Vary: Accept-Encoding\r\n");
  }

  /// Whether the Accept-Encoding header of `headers` (the lines after the request line) allows
  /// gzip (RFC 9110 §12.5.3): "gzip" (or "x-gzip") with a non-zero q, or "*" with a non-zero q
  /// when gzip is not listed.
  static bool accepts_gzip(std::string_view headers) {
    int gzip_q = -1, star_q = -1;  // -1 not listed, 0 refused, 1 accepted
    while (!headers.empty()) {
      size_t eol = headers.find('\n');
      std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view{} : headers.substr(eol + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      constexpr std::string_view kName = "accept-encoding:";
      if (line.size() < kName.size() || !iequals(line.substr(0, kName.size()), kName)) continue;
      std::string_view v = line.substr(kName.size());
      while (!v.empty()) {
        size_t comma = v.find(',');
        std::string_view item = trim(v.substr(0, comma));
        v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
        size_t semi = item.find(';');
        std::string_view coding = trim(item.substr(0, semi));
        int q = 1;
        if (semi != std::string_view::npos) {
          std::string_view param = trim(item.substr(semi + 1));
          if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
            q = param.substr(2).find_first_not_of("0.") == std::string_view::npos ? 0 : 1;
        }
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) gzip_q = q;
        else if (coding == "*") star_q = q;
      }
    }
    return gzip_q == 1 || (gzip_q == -1 && star_q == 1);
  }

  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  }

  static bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return (x | 0x20) == (y | 0x20); });
  }

  /// `in` as a gzip member (RFC 1952) into `out`, at zlib's fastest level (the loop waits for it);
  /// false if zlib fails (then the response is sent uncompressed).
  static bool gzip(const std::string& in, std::string& out) {
    z_stream z{};
    if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
    out.resize(deflateBound(&z, static_cast<uLong>(in.size())));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return rc == Z_STREAM_END;
  }

  void respond_status(Client* c, int code, const char* reason, std::string_view text, bool head) {
    c->body = text;  // static storage
    send(c, code, reason, "text/plain; charset=utf-8", head);
  }

  void send(Client* c, int code, const char* reason, const char* type, bool head, const char* extra = "") {
    stats.requests++;
    int n = std::snprintf(c->head, sizeof c->head,
                          "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%sConnection: close\r\n\r\n",
                          code, reason, type, c->body.size(), code == 405 ? "Allow: GET, HEAD\r\n" : "", extra);
    c->head_len = static_cast<size_t>(std::clamp(n, 0, static_cast<int>(sizeof c->head) - 1));
    c->state = State::kWriting;
    uv_timer_start(&c->timer, on_timeout, limits.timeout_ms, 0);  // the response's own deadline
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
    std::string().swap(c->gzipped);
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
    std::string().swap(c->gzipped);
    c->body = {};
    c->state = State::kFree;
    Impl* self = c->srv;
    self->busy--;
    if (self->pending && !self->stopping) {  // the connection waiting for a slot gets this one
      self->pending = false;
      self->admit(c);
      return;
    }
    self->maybe_delete();
  }

  static void on_listener_closed(uv_handle_t* h) {
    auto* self = static_cast<Impl*>(h->data);
    self->listener_open = false;
    self->maybe_delete();
  }
};

namespace {

/// "A.B.C.D:PORT", ":PORT" (0.0.0.0, every IPv4 address, as node_exporter's --web.listen-address)
/// or "[V6]:PORT" into a sockaddr; false if malformed.
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
    host = colon == 0 ? "0.0.0.0" : s.substr(0, colon);
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
                                                            const MetricsLimits& limits, int adopt_fd) {
  sockaddr_storage sa{};
  if (!parse_listen_address(addr_port, sa))
    return Error{"metrics address \"" + addr_port + "\": expected IPV4:PORT, :PORT or [IPV6]:PORT"};
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
  int rc = adopt_fd >= 0 ? uv_tcp_open(&impl->listener, adopt_fd)
                         : uv_tcp_bind(&impl->listener, reinterpret_cast<const sockaddr*>(&sa), 0);
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

int MetricsServer::fd() const noexcept {
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&impl_->listener), &fd) != 0) return -1;
  return fd;
}

uint32_t MetricsServer::clients() const noexcept { return impl_->busy; }
uint64_t MetricsServer::requests() const noexcept { return impl_->stats.requests; }
uint64_t MetricsServer::refused() const noexcept { return impl_->stats.refused; }
metrics::HttpStats MetricsServer::stats() const noexcept { return impl_->stats; }

}  // namespace vs::tap

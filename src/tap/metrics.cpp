#include "tap/metrics.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>
#include <tuple>

#include <arpa/inet.h>
#include <signal.h>

namespace vs::tap {

// =============================================================================================
// The exposition
// =============================================================================================
namespace {

/// Appends families and samples in the text format 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/).
class Exposition {
public:
  explicit Exposition(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (char c : help) {  // HELP escapes backslash and line feed
      if (c == '\\') out_ += "\\\\";
      else if (c == '\n') out_ += "\\n";
      else out_ += c;
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  /// A sample of the current family; `labels` is a rendered label list without braces.
  void sample(std::string_view labels, uint64_t v) {
    begin(labels);
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    out_ += '\n';
  }
  void sample(std::string_view labels, int64_t v) {
    begin(labels);
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    out_ += '\n';
  }
  void sample(uint64_t v) { sample(std::string_view{}, v); }

private:
  void begin(std::string_view labels) {
    out_ += name_;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
  }

  std::string& out_;
  std::string_view name_;
};

/// Builds `a="x",b="y"` with label values escaped (backslash, double quote, line feed).
class Labels {
public:
  Labels& add(std::string_view name, std::string_view value) {
    if (!s_.empty()) s_ += ',';
    s_ += name;
    s_ += "=\"";
    for (char c : value) {
      if (c == '\\') s_ += "\\\\";
      else if (c == '"') s_ += "\\\"";
      else if (c == '\n') s_ += "\\n";
      else s_ += c;
    }
    s_ += '"';
    return *this;
  }
  Labels& add(std::string_view name, uint64_t value) { return add(name, std::to_string(value)); }
  std::string str() { return std::move(s_); }

private:
  std::string s_;
};

struct SvcRow {
  const ipvs::Service* svc;
  std::string labels;  // proto, vip, vport
};
struct RealRow {
  const ipvs::Service* svc;
  const ipvs::Dest* dest;
  std::string node_labels;  // node_exporter's label set
  std::string labels;       // proto, vip, vport, real, rport
};

// What node_exporter's "proto" label holds: the protocol column of /proc/net/ip_vs, as procfs
// parses it ("TCP", "UDP"; "FWM" services have an empty address and a local_mark instead).
std::string_view proc_proto(IpProto p) { return p == IpProto::kTcp ? "TCP" : "UDP"; }

// The five counters and five rates kept per service, per real and in total.
struct StatFamily {
  std::string_view suffix;
  std::string_view what;
  uint64_t ipvs::Stats::*field;
};
constexpr std::array<StatFamily, 5> kStatFamilies = {{
    {"connections", "connections scheduled", &ipvs::Stats::conns},
    {"incoming_packets", "packets received from clients (client to real)", &ipvs::Stats::inpkts},
    {"outgoing_packets", "packets sent back to clients (real to client, through vsrouter: NAT)", &ipvs::Stats::outpkts},
    {"incoming_bytes", "bytes of IP packets received from clients", &ipvs::Stats::inbytes},
    {"outgoing_bytes", "bytes of IP packets sent back to clients", &ipvs::Stats::outbytes},
}};
struct RateFamily {
  std::string_view suffix;
  std::string_view what;
  uint64_t ipvs::Rates::*field;
};
constexpr std::array<RateFamily, 5> kRateFamilies = {{
    {"connections_per_second", "new connections per second (ipvsadm --rate CPS)", &ipvs::Rates::cps},
    {"incoming_packets_per_second", "incoming packets per second (ipvsadm --rate InPPS)", &ipvs::Rates::inpps},
    {"outgoing_packets_per_second", "outgoing packets per second (ipvsadm --rate OutPPS)", &ipvs::Rates::outpps},
    {"incoming_bytes_per_second", "incoming bytes per second (ipvsadm --rate InBPS)", &ipvs::Rates::inbps},
    {"outgoing_bytes_per_second", "outgoing bytes per second (ipvsadm --rate OutBPS)", &ipvs::Rates::outbps},
}};

}  // namespace

std::string render_metrics(const Engine& engine, const std::vector<PortCounters>& ports) {
  const ipvs::Director& dir = engine.director();
  const config::Config& cfg = engine.config();

  // Services by (protocol, VIP, port) and reals by (address, port): numeric, reproducible.
  std::vector<SvcRow> svcs;
  std::vector<RealRow> reals;
  {
    std::vector<const ipvs::Service*> sv;
    for (const auto& s : dir.services()) sv.push_back(s.get());
    std::sort(sv.begin(), sv.end(), [](const ipvs::Service* a, const ipvs::Service* b) {
      return std::tuple(a->protocol, a->vip.v, a->port) < std::tuple(b->protocol, b->vip.v, b->port);
    });
    for (const ipvs::Service* s : sv) {
      const std::string vip = s->vip.str();
      const std::string_view proto = protocol_name(s->protocol);
      svcs.push_back({s, Labels().add("proto", proto).add("vip", vip).add("vport", s->port).str()});
      std::vector<const ipvs::Dest*> ds(s->dests.begin(), s->dests.end());
      std::sort(ds.begin(), ds.end(), [](const ipvs::Dest* a, const ipvs::Dest* b) {
        return std::tuple(a->addr.v, a->port) < std::tuple(b->addr.v, b->port);
      });
      for (const ipvs::Dest* d : ds) {
        const std::string real = d->addr.str();
        // node_exporter's labels, in the order client_golang writes them (sorted by name).
        std::string node = Labels()
                               .add("local_address", vip)
                               .add("local_mark", "")
                               .add("local_port", s->port)
                               .add("proto", proc_proto(s->protocol))
                               .add("remote_address", real)
                               .add("remote_port", d->port)
                               .str();
        std::string own = Labels()
                              .add("proto", proto)
                              .add("vip", vip)
                              .add("vport", s->port)
                              .add("real", real)
                              .add("rport", d->port)
                              .str();
        reals.push_back({s, d, std::move(node), std::move(own)});
      }
    }
  }

  std::string out;
  out.reserve(4096 + 1024 * svcs.size() + 3072 * reals.size());
  Exposition x(out);

  // --- node_exporter's IPVS collector ---------------------------------------------------------
  // Names, HELP texts, types and labels as prometheus/node_exporter collector/ipvs_linux.go
  // (newIPVSCollector; its default label set fullIpvsBackendLabels) and its expected output
  // collector/fixtures/ip_vs_result.txt; families in that file's (alphabetical) order.
  x.family("node_ipvs_backend_connections_active", "gauge",
           "The current active connections by local and remote address.");
  for (const auto& r : reals) x.sample(r.node_labels, uint64_t{r.dest->activeconns});
  x.family("node_ipvs_backend_connections_inactive", "gauge",
           "The current inactive connections by local and remote address.");
  for (const auto& r : reals) x.sample(r.node_labels, uint64_t{r.dest->inactconns});
  x.family("node_ipvs_backend_weight", "gauge", "The current backend weight by local and remote address.");
  for (const auto& r : reals) x.sample(r.node_labels, int64_t{r.dest->weight});
  const ipvs::Stats& total = dir.total();
  x.family("node_ipvs_connections_total", "counter", "The total number of connections made.");
  x.sample(total.conns);
  x.family("node_ipvs_incoming_bytes_total", "counter", "The total amount of incoming data.");
  x.sample(total.inbytes);
  x.family("node_ipvs_incoming_packets_total", "counter", "The total number of incoming packets.");
  x.sample(total.inpkts);
  x.family("node_ipvs_outgoing_bytes_total", "counter", "The total amount of outgoing data.");
  x.sample(total.outbytes);
  x.family("node_ipvs_outgoing_packets_total", "counter", "The total number of outgoing packets.");
  x.sample(total.outpkts);

  // --- vsrouter: IPVS rates in total, per service, per real -----------------------------------
  std::string name, help;
  const ipvs::Rates total_rates = dir.total_rates();
  for (const auto& f : kRateFamilies) {
    name = "vsrouter_ipvs_";
    name += f.suffix;
    help = "All services: ";
    help += f.what;
    help += ", as IPVS's estimator computes it (every 2 s, smoothed).";
    x.family(name, "gauge", help);
    x.sample(total_rates.*f.field);
  }
  // Counters then rates, for services and then for reals: one block serves both.
  auto stat_and_rate_families = [&](const char* prefix, const char* who, const auto& items, auto stats_of,
                                    auto rates_of) {
    for (const auto& f : kStatFamilies) {
      name = prefix;
      name += f.suffix;
      name += "_total";
      help = who;
      help += f.what;
      help += '.';
      x.family(name, "counter", help);
      for (const auto& it : items) x.sample(it.labels, stats_of(it).*f.field);
    }
    for (const auto& f : kRateFamilies) {
      name = prefix;
      name += f.suffix;
      help = who;
      help += f.what;
      help += '.';
      x.family(name, "gauge", help);
      for (const auto& it : items) x.sample(it.labels, rates_of(it).*f.field);
    }
  };
  stat_and_rate_families(
      "vsrouter_service_", "Virtual service: ", svcs, [](const auto& s) -> const ipvs::Stats& { return s.svc->stats; },
      [](const auto& s) { return s.svc->est.rates(); });
  stat_and_rate_families(
      "vsrouter_real_", "Real server: ", reals, [](const auto& r) -> const ipvs::Stats& { return r.dest->stats; },
      [](const auto& r) { return r.dest->est.rates(); });
  x.family("vsrouter_real_connections_active", "gauge",
           "Real server: connections in an active state (TCP ESTABLISHED; ipvsadm ActiveConn).");
  for (const auto& r : reals) x.sample(r.labels, uint64_t{r.dest->activeconns});
  x.family("vsrouter_real_connections_inactive", "gauge",
           "Real server: connections in any other state (ipvsadm InActConn).");
  for (const auto& r : reals) x.sample(r.labels, uint64_t{r.dest->inactconns});
  x.family("vsrouter_real_connections_persistent", "gauge",
           "Real server: persistence templates pointing at it (ipvsadm --persistent-conn PersistConn).");
  for (const auto& r : reals) x.sample(r.labels, uint64_t{r.dest->persistconns});
  x.family("vsrouter_real_weight", "gauge", "Real server: its weight (0 = quiesced: no new connections).");
  for (const auto& r : reals) x.sample(r.labels, int64_t{r.dest->weight});
  x.family("vsrouter_real_overloaded", "gauge",
           "Real server: 1 while its upper connection threshold (ipvsadm -x) is reached, else 0.");
  for (const auto& r : reals) x.sample(r.labels, uint64_t{r.dest->overloaded ? 1u : 0u});

  // --- vsrouter: connection table -------------------------------------------------------------
  x.family("vsrouter_connection_table_entries", "gauge",
           "Entries in the connection table: connections and persistence templates.");
  x.sample(uint64_t{dir.conns().size()});
  x.family("vsrouter_connection_table_capacity", "gauge",
           "Entries the connection table can hold (router.max_connections); beyond, new connections are dropped.");
  x.sample(uint64_t{dir.conns().capacity()});

  // --- vsrouter: interfaces (engine counters, then the adapter's) -----------------------------
  struct IfFamily {
    std::string_view name, help;
    uint64_t IfaceCounters::*field;
  };
  static constexpr std::array<IfFamily, 4> kIf = {{
      {"vsrouter_interface_rx_frames_total", "Frames received on the interface.", &IfaceCounters::rx_frames},
      {"vsrouter_interface_rx_bytes_total", "Bytes of the frames received on the interface (Ethernet header included).",
       &IfaceCounters::rx_bytes},
      {"vsrouter_interface_tx_frames_total", "Frames sent on the interface.", &IfaceCounters::tx_frames},
      {"vsrouter_interface_tx_bytes_total", "Bytes of the frames sent on the interface (Ethernet header included).",
       &IfaceCounters::tx_bytes},
  }};
  std::vector<std::string> if_labels;
  for (const auto& i : cfg.interfaces) if_labels.push_back(Labels().add("interface", i.name).str());
  for (const auto& f : kIf) {
    x.family(f.name, "counter", f.help);
    for (uint32_t i = 0; i < if_labels.size(); ++i) x.sample(if_labels[i], engine.iface_counters(i).*f.field);
  }
  struct PortFamily {
    std::string_view name, help;
    uint64_t PortCounters::*field;
  };
  static constexpr std::array<PortFamily, 3> kPort = {{
      {"vsrouter_interface_tx_full_total", "Frames dropped by the adapter because the device's queue was full.",
       &PortCounters::tx_full},
      {"vsrouter_interface_tx_errors_total", "Frames the adapter failed to write to the device (other errors).",
       &PortCounters::tx_error},
      {"vsrouter_interface_rx_errors_total", "Errors reading frames from the device.", &PortCounters::rx_error},
  }};
  std::vector<std::string> port_labels;
  for (const auto& p : ports) port_labels.push_back(Labels().add("interface", p.interface).str());
  for (const auto& f : kPort) {
    x.family(f.name, "counter", f.help);
    for (size_t i = 0; i < ports.size(); ++i) x.sample(port_labels[i], ports[i].*f.field);
  }

  // --- vsrouter: ARP (neighbour) cache --------------------------------------------------------
  const NeighTable& nt = engine.neigh();
  uint64_t incomplete = 0, reachable = 0, probe = 0;
  for (uint32_t i = 0; i < nt.capacity(); ++i) {
    auto st = nt.entry(i).state;
    if (st == NeighTable::State::kIncomplete) ++incomplete;
    else if (st == NeighTable::State::kReachable) ++reachable;
    else if (st == NeighTable::State::kProbe) ++probe;
  }
  x.family("vsrouter_arp_cache_entries", "gauge",
           "ARP cache entries by state: incomplete (request sent, packets may wait), reachable (MAC known) "
           "or probe (expired, still used while unicast requests re-confirm it).");
  x.sample(R"(state="incomplete")", incomplete);
  x.sample(R"(state="reachable")", reachable);
  x.sample(R"(state="probe")", probe);
  x.family("vsrouter_arp_cache_capacity", "gauge", "Entries the ARP cache can hold.");
  x.sample(uint64_t{nt.capacity()});

  // --- vsrouter: router events ----------------------------------------------------------------
  const EngineCounters& c = engine.counters();
  struct Event {
    std::string_view name, help;
    uint64_t value;
  };
  const std::array<Event, 10> events = {{
      {"vsrouter_forwarded_packets_total", "IPv4 packets routed (sent, or queued waiting for ARP).", c.forwarded},
      {"vsrouter_fragments_sent_total", "Fragments made from packets larger than the egress MTU.", c.fragments_sent},
      {"vsrouter_arp_requests_sent_total", "ARP requests sent to resolve next hops.", c.arp_requests_sent},
      {"vsrouter_arp_replies_sent_total", "ARP replies sent for our addresses and VIPs.", c.arp_replies_sent},
      {"vsrouter_icmp_echo_replies_sent_total", "ICMP echo replies sent (pings to our addresses and VIPs).",
       c.echo_replies_sent},
      {"vsrouter_icmp_errors_sent_total", "ICMP errors sent (time exceeded, unreachable, fragmentation needed).",
       c.icmp_errors_sent},
      {"vsrouter_icmp_errors_rate_limited_total", "ICMP errors not sent because of the rate limit.",
       c.icmp_errors_rate_limited},
      {"vsrouter_offload_super_frames_total", "TCP super-frames (TSO, up to 64 KiB) received from a TAP.",
       c.gso_frames},
      {"vsrouter_offload_segmented_total",
       "Super-frames cut into segments by vsrouter (TUN encapsulation, MTU, an adapter without offloads).",
       c.gso_segmented},
      {"vsrouter_offload_checksums_completed_total", "Deferred TCP/UDP checksums completed by vsrouter.",
       c.csum_completed},
  }};
  for (const auto& e : events) {
    x.family(e.name, "counter", e.help);
    x.sample(e.value);
  }

  // --- vsrouter: drops, every reason (zeros included, so rate() works from the first scrape) --
  x.family("vsrouter_drops_total", "counter", "Frames not forwarded, by reason (see docs/metrics.md).");
  const DropCounters& drops = engine.drops();
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    name = "reason=\"";
    name += kDropReasons[i].name;
    name += '"';
    x.sample(name, drops.n[i]);
  }
  return out;
}

// =============================================================================================
// The HTTP server
// =============================================================================================

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
    char head[192]{};             // status line and headers of the response
    size_t head_len = 0;
    std::string_view body;        // `rendered`, or a static error text
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
    std::string().swap(c->rendered);           // the body is no longer needed
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

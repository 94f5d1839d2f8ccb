#include "metrics/prometheus.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <concepts>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "base/version.hpp"

namespace vs::metrics {
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
  template <std::integral Int>
  void sample(std::string_view labels, Int v) {
    begin(labels);
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    out_ += '\n';
  }
  void sample(uint64_t v) { sample(std::string_view{}, v); }
  /// A floating-point sample (seconds): shortest round-trip form, as Go's strconv does.
  void sample_double(double v) { sample_double({}, v); }
  void sample_double(std::string_view labels, double v) {
    begin(labels);
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    out_ += '\n';
  }

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

// vsrouter's labels of a real server: its service's, then its own address and port.
std::string real_labels(IpProto proto, const IpAddr& vip, uint16_t vport, const IpAddr& real, uint16_t rport) {
  return Labels()
      .add("proto", protocol_name(proto))
      .add("vip", vip.str())
      .add("vport", vport)
      .add("real", real.str())
      .add("rport", rport)
      .str();
}

// The labels of one health checker: its real's, then `check` (the type), `target` (where its
// probes go) and `index`: empty unless another checker of the same real has the same type and
// target, then the checker's position among the real's checkers (from 0), so that the two series
// differ. Empty is what Prometheus stores as no label at all: a series gets an index only when it
// needs one, and keeps its identity when checkers are added or reordered otherwise.
std::string checker_labels(const check::Health& health, const std::string& real, uint32_t c) {
  auto target = [](const config::Check& k) {
    std::string t = k.connect_ip.str();
    if (k.type != config::CheckType::kPing) t += ':' + std::to_string(k.connect_port);
    return t;
  };
  const check::Checker& k = health.checkers()[c];
  const check::RealHealth& rh = health.reals()[k.real];
  const std::string where = target(k.cfg);
  std::string index;
  for (uint32_t o = rh.first_checker; o < rh.first_checker + rh.n_checkers; ++o) {
    const config::Check& other = health.checkers()[o].cfg;
    if (o != c && other.type == k.cfg.type && target(other) == where) index = std::to_string(c - rh.first_checker);
  }
  std::string l = real;
  l += ',';
  l += Labels().add("check", config::check_type_name(k.cfg.type)).add("target", where).add("index", index).str();
  return l;
}

// What node_exporter's "proto" label holds: the protocol column of /proc/net/ip_vs, as procfs
// parses it ("TCP", "UDP"; "FWM" services have an empty address and a local_mark instead).
std::string_view proc_proto(IpProto p) { return p == IpProto::kTcp ? "TCP" : "UDP"; }

// A family drawn from one field of a counter struct: its name (or the name's varying part) and
// its help text (or the help's varying part).
template <class Counters>
struct FieldFamily {
  std::string_view name;
  std::string_view help;
  uint64_t Counters::*field;
};

// The five counters and five rates kept per service, per real and in total.
constexpr std::array<FieldFamily<ipvs::Stats>, 5> kStatFamilies = {{
    {"connections", "connections scheduled", &ipvs::Stats::conns},
    {"incoming_packets", "packets received from clients (client to real)", &ipvs::Stats::inpkts},
    {"outgoing_packets", "packets sent back to clients (real to client, through vsrouter: NAT)", &ipvs::Stats::outpkts},
    {"incoming_bytes", "bytes of IP packets received from clients", &ipvs::Stats::inbytes},
    {"outgoing_bytes", "bytes of IP packets sent back to clients", &ipvs::Stats::outbytes},
}};
constexpr std::array<FieldFamily<ipvs::Rates>, 5> kRateFamilies = {{
    {"connections_per_second", "new connections per second (ipvsadm --rate CPS)", &ipvs::Rates::cps},
    {"incoming_packets_per_second", "incoming packets per second (ipvsadm --rate InPPS)", &ipvs::Rates::inpps},
    {"outgoing_packets_per_second", "outgoing packets per second (ipvsadm --rate OutPPS)", &ipvs::Rates::outpps},
    {"incoming_bytes_per_second", "incoming bytes per second (ipvsadm --rate InBPS)", &ipvs::Rates::inbps},
    {"outgoing_bytes_per_second", "outgoing bytes per second (ipvsadm --rate OutBPS)", &ipvs::Rates::outbps},
}};

}  // namespace

std::string render_metrics(const Engine& engine, const std::vector<PortCounters>& ports, const DaemonStats& daemon) {
  const ipvs::Director& dir = engine.director();
  const config::Config& cfg = engine.config();

  // Services by (protocol, VIP, port) and reals by (address, port): numeric, reproducible.
  std::vector<SvcRow> svcs;
  std::vector<RealRow> reals;
  {
    std::vector<const ipvs::Service*> sv;
    for (const auto& s : dir.services()) sv.push_back(s.get());
    std::sort(sv.begin(), sv.end(), [](const ipvs::Service* a, const ipvs::Service* b) {
      return std::tuple(a->protocol, a->vip, a->port) < std::tuple(b->protocol, b->vip, b->port);
    });
    for (const ipvs::Service* s : sv) {
      const std::string vip = s->vip.str();
      const std::string_view proto = protocol_name(s->protocol);
      svcs.push_back({s, Labels().add("proto", proto).add("vip", vip).add("vport", s->port).str()});
      std::vector<const ipvs::Dest*> ds(s->dests.begin(), s->dests.end());
      std::sort(ds.begin(), ds.end(), [](const ipvs::Dest* a, const ipvs::Dest* b) {
        return std::tuple(a->addr, a->port) < std::tuple(b->addr, b->port);
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
        reals.push_back({s, d, std::move(node), real_labels(s->protocol, s->vip, s->port, d->addr, d->port)});
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
    name += f.name;
    help = "All services: ";
    help += f.help;
    help += ", as IPVS's estimator computes it (every 2 s, smoothed).";
    x.family(name, "gauge", help);
    x.sample(total_rates.*f.field);
  }
  // One family per entry of `table`, named prefix + name + tail, helped "who what.", with one
  // sample per item: value_of(item).*field.
  auto field_families = [&](const auto& table, const char* prefix, const char* tail, std::string_view type,
                            const char* who, const auto& items, auto value_of) {
    for (const auto& f : table) {
      name = prefix;
      name += f.name;
      name += tail;
      help = who;
      help += f.help;
      help += '.';
      x.family(name, type, help);
      for (const auto& it : items) x.sample(it.labels, value_of(it).*f.field);
    }
  };
  // Counters then rates, for services and then for reals.
  auto stat_and_rate_families = [&](const char* prefix, const char* who, const auto& items, auto stats_of,
                                    auto rates_of) {
    field_families(kStatFamilies, prefix, "_total", "counter", who, items, stats_of);
    field_families(kRateFamilies, prefix, "", "gauge", who, items, rates_of);
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

  // --- vsrouter: health checks (src/check/) ---------------------------------------------------
  // Reals with checkers in the order above (a failed real is listed here even when it left its
  // service); a real's checkers in the configuration's order.
  const check::Health& health = engine.health();
  struct CheckedRow {
    const check::RealHealth* rh;
    std::string labels;
  };
  std::vector<CheckedRow> checked;
  for (const check::RealHealth& rh : health.reals())  // (reals without checkers count for quorum only)
    if (rh.n_checkers > 0)
      checked.push_back({&rh, real_labels(rh.protocol, rh.vip, rh.vport, rh.real.addr, rh.real.port)});
  std::sort(checked.begin(), checked.end(), [](const CheckedRow& a, const CheckedRow& b) {
    return std::tuple(a.rh->protocol, IpAddr(a.rh->vip), a.rh->vport, a.rh->real.addr, a.rh->real.port) <
           std::tuple(b.rh->protocol, IpAddr(b.rh->vip), b.rh->vport, b.rh->real.addr, b.rh->real.port);
  });
  struct CheckerRow {
    const check::Checker* k;
    std::string labels;
  };
  std::vector<CheckerRow> checkers;
  for (const CheckedRow& r : checked)
    for (uint32_t c = r.rh->first_checker; c < r.rh->first_checker + r.rh->n_checkers; ++c)
      checkers.push_back({&health.checkers()[c], checker_labels(health, r.labels, c)});
  x.family("vsrouter_real_up", "gauge",
           "Real server with health checkers: 1 while alive (every checker up), 0 while failed (out of its "
           "service, or at weight 0 with inhibit_on_failure).");
  for (const auto& r : checked) x.sample(r.labels, uint64_t{r.rh->alive() ? 1u : 0u});
  x.family("vsrouter_check_up", "gauge", "Health checker: 1 while up, 0 while down.");
  for (const auto& k : checkers) x.sample(k.labels, uint64_t{k.k->up ? 1u : 0u});
  x.family("vsrouter_check_duration_seconds", "gauge",
           "Health checker: how long its last finished probe took, in seconds (0 before the first).");
  for (const auto& k : checkers) x.sample_double(k.labels, static_cast<double>(k.k->last_duration.us) / 1e6);
  x.family("vsrouter_check_transitions_total", "counter", "Health checker: times it went down or up.");
  for (const auto& k : checkers) x.sample(k.labels, k.k->transitions);
  x.family("vsrouter_check_failures_total", "counter",
           "Health checker: failed probes, by reason (see docs/metrics.md).");
  for (const auto& k : checkers)
    for (size_t r = 1; r < k.k->failures.size(); ++r) {  // every reason but "ok", zeros included
      name = k.labels;
      name += ",reason=\"";
      name += check::reason_name(static_cast<check::Reason>(r));
      name += '"';
      x.sample(name, k.k->failures[r]);
    }
  x.family("vsrouter_check_probes_total", "counter", "Health check probes started, every checker.");
  x.sample(health.probes_sent());
  x.family("vsrouter_checks_in_flight", "gauge", "Health check probes in flight (sent, not yet judged).");
  x.sample(uint64_t{health.in_flight()});
  x.family("vsrouter_check_events_lost_total", "counter",
           "Health check events (a checker or a real going down or up) dropped unlogged because the event ring was "
           "full; the changes were applied all the same.");
  x.sample(health.events_lost());

  // --- vsrouter: VRRP (src/vrrp/) ---------------------------------------------------------------
  // One row per [[vrrp_instances]] table, labelled by its name, in the configuration's order.
  const auto& insts = engine.vrrp().instances();
  auto inst_label = [](const vrrp::Instance& in) { return "instance=\"" + in.cfg.name + "\""; };
  x.family("vsrouter_vrrp_state", "gauge",
           "VRRP instance: 1 for the state it is in (INIT, BACKUP, MASTER, FAULT), 0 for the others.");
  for (const auto& in : insts)
    for (auto st : {vrrp::State::kInit, vrrp::State::kBackup, vrrp::State::kMaster, vrrp::State::kFault})
      x.sample(inst_label(in) + ",state=\"" + std::string(vrrp::state_name(st)) + "\"",
               uint64_t{in.state == st ? 1u : 0u});
  x.family("vsrouter_vrrp_priority", "gauge",
           "VRRP instance: its priority now (the configured one, moved by weighted trackers).");
  for (const auto& in : insts) x.sample(inst_label(in), uint64_t{in.priority});
  x.family("vsrouter_vrrp_adverts_sent_total", "counter", "VRRP instance: advertisements sent (priority 0 included).");
  for (const auto& in : insts) x.sample(inst_label(in), in.adverts_sent);
  x.family("vsrouter_vrrp_adverts_received_total", "counter",
           "VRRP instance: advertisements taken (refused ones are drops, see vsrouter_drops_total).");
  for (const auto& in : insts) x.sample(inst_label(in), in.adverts_received);
  x.family("vsrouter_vrrp_became_master_total", "counter", "VRRP instance: times it became master.");
  for (const auto& in : insts) x.sample(inst_label(in), in.became_master);
  // One row per [[vrrp_scripts]] table an instance tracks (the others never run).
  const auto& scripts = engine.vrrp().scripts();
  auto script_label = [](const vrrp::Script& sc) { return Labels().add("script", sc.cfg.name).str(); };
  x.family("vsrouter_vrrp_script_up", "gauge",
           "vrrp_script: 1 while its verdict is up, 0 while it is down or its first run has not ended.");
  for (const auto& sc : scripts)
    if (sc.tracked) x.sample(script_label(sc), uint64_t{sc.known && sc.up ? 1u : 0u});
  x.family("vsrouter_vrrp_script_runs_total", "counter", "vrrp_script: runs started.");
  for (const auto& sc : scripts)
    if (sc.tracked) x.sample(script_label(sc), sc.runs);
  x.family("vsrouter_vrrp_script_failures_total", "counter",
           "vrrp_script: runs that failed (a status other than 0, a signal, or the timeout).");
  for (const auto& sc : scripts)
    if (sc.tracked) x.sample(script_label(sc), sc.failures);
  x.family("vsrouter_vrrp_script_timeouts_total", "counter", "vrrp_script: runs stopped at their timeout.");
  for (const auto& sc : scripts)
    if (sc.tracked) x.sample(script_label(sc), sc.timeouts);

  // --- vsrouter: [announce] (src/announce/) -------------------------------------------------------
  x.family("vsrouter_draining", "gauge", "1 while the director drains (vsadm --drain, or a stop's grace period).");
  x.sample(uint64_t{engine.draining() ? 1u : 0u});
  x.family("vsrouter_announce_vip", "gauge",
           "[announce]: 1 while the VIP is in the file the BGP daemon announces, 0 while withdrawn.");
  if (engine.config().announce.enabled)
    for (const auto& v : engine.announcer().vips())
      x.sample(Labels().add("vip", v.addr.str()).str(), uint64_t{v.announced ? 1u : 0u});

  // --- vsrouter: connection sync (src/sync/) ----------------------------------------------------
  const sync::SyncDaemon& sd = engine.sync();
  x.family("vsrouter_sync_daemon_running", "gauge",
           "Connection sync: 1 while the daemon of that role runs (vsadm -L --daemon lists them).");
  x.sample("role=\"master\"", uint64_t{sd.master() ? 1u : 0u});
  x.sample("role=\"backup\"", uint64_t{sd.backup() ? 1u : 0u});
  const sync::Counters& sc = sd.counters();
  x.family("vsrouter_sync_messages_sent_total", "counter", "Connection sync: messages a master sent.");
  x.sample(sc.messages_sent);
  x.family("vsrouter_sync_entries_sent_total", "counter",
           "Connection sync: connections and templates a master sent (entries of its messages).");
  x.sample(sc.entries_sent);
  x.family("vsrouter_sync_messages_received_total", "counter",
           "Connection sync: messages a backup took (refused ones are drops, reasons sync_*).");
  x.sample(sc.messages_received);
  x.family("vsrouter_sync_entries_received_total", "counter",
           "Connection sync: received entries by what became of them (created, updated, or why not).");
  for (size_t i = 0; i < sync::kEntryResults; ++i)
    x.sample("result=\"" + std::string(sync::entry_result_name(static_cast<sync::EntryResult>(i))) + "\"",
             sc.entries[i]);

  // --- vsrouter: connection table -------------------------------------------------------------
  x.family("vsrouter_connection_table_entries", "gauge",
           "Entries in the connection table: connections and persistence templates.");
  x.sample(uint64_t{dir.conns().size()});
  x.family("vsrouter_connection_table_capacity", "gauge",
           "Entries the connection table can hold (router.max_connections); beyond, new connections are dropped.");
  x.sample(uint64_t{dir.conns().capacity()});

  // --- vsrouter: interfaces (engine counters, then the adapter's) -----------------------------
  static constexpr std::array<FieldFamily<IfaceCounters>, 4> kIf = {{
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
  static constexpr std::array<FieldFamily<PortCounters>, 3> kPort = {{
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
  // Entries of a neighbour table (ARP's or ND's) by state: incomplete, reachable, probe.
  auto by_state = [&x](const auto& table) {
    using State = typename std::remove_cvref_t<decltype(table)>::State;
    uint64_t n[3] = {0, 0, 0};
    for (uint32_t i = 0; i < table.capacity(); ++i) {
      const State st = table.entry(i).state;
      if (st == State::kIncomplete) ++n[0];
      else if (st == State::kReachable) ++n[1];
      else if (st == State::kProbe) ++n[2];
    }
    x.sample(R"(state="incomplete")", n[0]);
    x.sample(R"(state="reachable")", n[1]);
    x.sample(R"(state="probe")", n[2]);
  };
  const NeighTable& nt = engine.neigh();
  x.family("vsrouter_arp_cache_entries", "gauge",
           "ARP cache entries by state: incomplete (request sent, packets may wait), reachable (MAC known) "
           "or probe (expired, still used while unicast requests re-confirm it).");
  by_state(nt);
  x.family("vsrouter_arp_cache_capacity", "gauge", "Entries the ARP cache can hold.");
  x.sample(uint64_t{nt.capacity()});

  // --- vsrouter: IPv6 neighbour cache (Neighbour Discovery) -------------------------------------
  x.family("vsrouter_nd_cache_entries", "gauge",
           "IPv6 neighbour cache entries by state, as vsrouter_arp_cache_entries (Neighbour Discovery).");
  by_state(engine.neigh6());

  // --- vsrouter: IPv4 reassembly (src/frag/) ----------------------------------------------------
  const frag::Reassembler& ra = engine.reassembler();
  x.family("vsrouter_reassembly_datagrams", "gauge", "Datagrams being reassembled from fragments addressed to us.");
  x.sample(uint64_t{ra.queues()});
  x.family("vsrouter_reassembly_memory_bytes", "gauge",
           "Fragment memory held for reassembly (256-byte chunks), of router.frag_memory.");
  x.sample(uint64_t{ra.bytes()});

  // --- vsrouter: router events ----------------------------------------------------------------
  const EngineCounters& c = engine.counters();
  struct Event {
    std::string_view name, help;
    uint64_t value;
  };
  const std::array<Event, 17> events = {{
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
      {"vsrouter_icmp_errors_peer_limited_total",
       "ICMP errors not sent because of their destination's own limit (6, then 1 per second).",
       c.icmp_errors_peer_limited},
      {"vsrouter_tcp_resets_sent_total", "TCP RSTs sent for segments to our addresses and VIPs that nothing takes.",
       c.tcp_resets_sent},
      {"vsrouter_offload_super_frames_total", "TCP super-frames (TSO, up to 64 KiB) received from a TAP.",
       c.gso_frames},
      {"vsrouter_offload_segmented_total",
       "Super-frames cut into segments by vsrouter (TUN encapsulation, MTU, an adapter without offloads).",
       c.gso_segmented},
      {"vsrouter_offload_checksums_completed_total", "Deferred TCP/UDP checksums completed by vsrouter.",
       c.csum_completed},
      {"vsrouter_reassembled_datagrams_total", "IPv4 datagrams reassembled from fragments addressed to vsrouter.",
       c.reassembled},
      {"vsrouter_ipv6_forwarded_packets_total",
       "IPv6 packets routed (sent, or queued waiting for Neighbour Discovery).", c.forwarded6},
      {"vsrouter_nd_solicitations_sent_total",
       "Neighbour Solicitations sent (resolution, re-confirmation, Duplicate Address Detection).", c.nd_solicits_sent},
      {"vsrouter_nd_advertisements_sent_total", "Neighbour Advertisements sent for our IPv6 addresses.",
       c.nd_adverts_sent},
      {"vsrouter_ipv6_dad_failures_total", "IPv6 addresses Duplicate Address Detection found in use by another node.",
       c.dad_failures},
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

  // --- vsrouter: the build ------------------------------------------------------------------
  x.family("vsrouter_build_info", "gauge",
           "Always 1; the labels say which vsrouter this is: version, git revision (git describe at "
           "build time, or unknown) and compiler.");
  x.sample(Labels()
               .add("version", build::kVersion)
               .add("revision", build::kRevision)
               .add("compiler", build::kCompiler)
               .str(),
           1);

  // --- vsrouter: the metrics endpoint (daemon only) -------------------------------------------
  if (daemon.http) {
    const HttpStats& h = *daemon.http;
    x.family("vsrouter_metrics_requests_total", "counter",
             "HTTP requests answered by the metrics endpoint, any status.");
    x.sample(h.requests);
    x.family("vsrouter_metrics_connections_dropped_total", "counter",
             "Connections to the metrics endpoint closed without an answer: refused (every slot busy with a "
             "request), evicted (idle, closed to admit a newer connection) or timeout (no complete request in time).");
    x.sample(R"(reason="refused")", h.refused);
    x.sample(R"(reason="evicted")", h.evicted);
    x.sample(R"(reason="timeout")", h.timed_out);
  }

  // --- the process, as the Prometheus client libraries name it (daemon only) ------------------
  if (daemon.process) {
    const ProcessStats& p = *daemon.process;
    x.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
    x.sample_double(p.cpu_seconds);
    x.family("process_open_fds", "gauge", "Number of open file descriptors.");
    x.sample(p.open_fds);
    x.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
    x.sample(p.max_fds);
    x.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    x.sample(p.virtual_bytes);
    x.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    x.sample(p.resident_bytes);
    x.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    x.sample_double(p.start_time_seconds);
  }
  return out;
}

}  // namespace vs::metrics

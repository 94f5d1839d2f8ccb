// Metrics (src/metrics/prometheus.cpp, src/tap/metrics.cpp): the Prometheus exposition of an
// engine that forwarded a few frames (exact sample lines, every drop reason, the text format's
// syntax checked by a small parser written here), and the HTTP server on a real libuv loop with
// real loopback sockets (200/404/405/400/431, HEAD, split requests, idle timeout, bounded
// clients, shutdown).
#include "tap/metrics.hpp"

#include <gtest/gtest.h>
#include <uv.h>
#include <zlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/version.hpp"
#include "config/config.hpp"
#include "engine.hpp"
#include "health_rig.hpp"
#include "metrics/prometheus.hpp"
#include "tap/process_stats.hpp"
#include "test_config.hpp"
#include "test_frames.hpp"

namespace vs::tap {
namespace {

using metrics::PortCounters;
using metrics::render_metrics;
using test::ByteVec;
using test::frame;
using test::ip4;

// =============================================================================================
// A parser for the text format 0.0.4, strict enough to catch what Prometheus would reject.
// =============================================================================================

struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // as written
  std::string labels_text;                                  // between the braces, as written
  std::string value;
};

struct Family {
  std::string help, type;
  std::vector<Sample> samples;
};

struct Parsed {
  std::vector<std::string> order;  // family names in order of appearance
  std::map<std::string, Family> families;
};

bool valid_metric_name(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
              (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
    if (!ok) return false;
  }
  return true;
}
bool valid_label_name(std::string_view s) {
  if (s.empty() || s.starts_with("__")) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
              (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
    if (!ok) return false;
  }
  return true;
}

/// Parses `text`; on the first violation returns false with `err` set to the line and the reason.
bool parse_exposition(const std::string& text, Parsed& out, std::string& err) {
  if (text.empty() || text.back() != '\n') {
    err = "the exposition must end with a line feed";
    return false;
  }
  std::string current;  // the family whose samples may follow
  std::set<std::string> closed, series;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  auto fail = [&](const std::string& why) {
    err = "line " + std::to_string(n) + ": " + why + ": " + line;
    return false;
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) return fail("empty line");
    if (line[0] == '#') {
      std::istringstream ls(line);
      std::string hash, kw, name;
      ls >> hash >> kw >> name;
      if (kw != "HELP" && kw != "TYPE") return fail("comment that is neither HELP nor TYPE");
      if (!valid_metric_name(name)) return fail("bad metric name");
      std::string rest;
      std::getline(ls, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (name != current) {
        if (closed.count(name)) return fail("family appears twice");
        if (!current.empty()) closed.insert(current);
        current = name;
        out.order.push_back(name);
      }
      Family& f = out.families[name];
      if (!f.samples.empty()) return fail("HELP/TYPE after samples");
      if (kw == "HELP") {
        if (!f.help.empty()) return fail("second HELP");
        if (!f.type.empty()) return fail("HELP after TYPE");
        if (rest.empty()) return fail("empty HELP");
        f.help = rest;
      } else {
        if (!f.type.empty()) return fail("second TYPE");
        if (rest != "counter" && rest != "gauge" && rest != "untyped" && rest != "summary" && rest != "histogram")
          return fail("unknown TYPE");
        f.type = rest;
      }
      continue;
    }
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!valid_metric_name(s.name)) return fail("bad sample name");
    if (i < line.size() && line[i] == '{') {
      size_t start = ++i;
      while (true) {
        if (i < line.size() && line[i] == '}') break;
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) return fail("label without =");
        std::string lname = line.substr(i, eq - i);
        if (!valid_label_name(lname)) return fail("bad label name '" + lname + "'");
        if (eq + 1 >= line.size() || line[eq + 1] != '"') return fail("label value not quoted");
        std::string value;
        size_t j = eq + 2;
        for (;; ++j) {
          if (j >= line.size()) return fail("unterminated label value");
          if (line[j] == '\\') {
            if (j + 1 >= line.size()) return fail("dangling escape");
            char e = line[++j];
            if (e == 'n') value += '\n';
            else if (e == '\\' || e == '"') value += e;
            else return fail("bad escape");
          } else if (line[j] == '"') {
            break;
          } else {
            value += line[j];
          }
        }
        for (const auto& [k, v] : s.labels)
          if (k == lname) return fail("duplicate label");
        s.labels.emplace_back(lname, value);
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
        else if (i >= line.size() || line[i] != '}') return fail("expected , or }");
      }
      s.labels_text = line.substr(start, i - start);
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') return fail("expected a space before the value");
    s.value = line.substr(i + 1);
    if (s.value.empty() || s.value.find(' ') != std::string::npos) return fail("bad value (or timestamp)");
    char* endp = nullptr;
    std::strtod(s.value.c_str(), &endp);
    if (*endp != '\0') return fail("value is not a number");
    if (s.name != current) return fail("sample outside its family (no HELP/TYPE before it)");
    Family& f = out.families[current];
    if (f.help.empty() || f.type.empty()) return fail("sample before its HELP and TYPE");
    if (!series.insert(s.name + "{" + s.labels_text + "}").second) return fail("duplicate series");
    f.samples.push_back(std::move(s));
  }
  return true;
}

TEST(MetricsParserTest, RejectsWhatPrometheusRejects) {
  Parsed p;
  std::string err;
  EXPECT_TRUE(parse_exposition("# HELP a x\n# TYPE a counter\na 1\na{b=\"c\\\"d\"} 2\n", p, err)) << err;
  EXPECT_EQ(p.families["a"].samples[1].labels[0].second, "c\"d");
  for (const char* bad : {
           "a 1\n",                                                                             // no HELP/TYPE
           "# HELP a x\n# TYPE a counter\na 1",                                                 // no final line feed
           "# HELP a x\n# TYPE a counter\na{b=c} 1\n",                                          // unquoted
           "# HELP a x\n# TYPE a counter\na{b=\"c\"} x\n",                                      // not a number
           "# HELP a x\n# TYPE a counter\na 1\na 2\n",                                          // duplicate series
           "# HELP a x\n# TYPE a counter\nb 1\n",                                               // foreign sample
           "# HELP a x\n# TYPE a counter\na 1\n# HELP b y\n# TYPE b gauge\nb 1\n# HELP a x\n",  // interleaved
           "# TYPE a counter\n# HELP a x\na 1\n",                                               // HELP after TYPE
           "# HELP a x\n# TYPE a countr\na 1\n",                                                // unknown type
       }) {
    Parsed q;
    EXPECT_FALSE(parse_exposition(bad, q, err)) << bad;
  }
}

// =============================================================================================
// render_metrics on an engine that handled a few frames
// =============================================================================================

// wan (0): clients; lan (1): NAT reals whose gateway is the router.
test::ConfigText render_config() {
  test::ConfigText c = test::edge();
  c.seed(1).max_connections(4096);
  c.service("tcp", "203.0.113.100:80", "rr").real("10.1.0.11:8080", "nat", 1).real("10.1.0.12:8080", "nat", 3);
  c.service("udp", "203.0.113.53:53").real("10.1.0.20:5353", "nat", 2);
  return c;
}

// Health checks (tests/unit/health_rig.hpp: 10.1.0.11 answers probes, other reals nothing). In
// configuration order, to be sorted: 10.1.0.12 (one checker, fails: no ARP answer), 10.1.0.13 (no
// checkers), 10.1.0.11 (TCP_CHECK, PING_CHECK and the same TCP_CHECK again); a UDP service on
// 10.1.0.11 with a DNS_CHECK.
std::string health_config() {
  const std::string timing = "delay_loop = 1\n    connect_timeout = 1\n    warmup = 0\n    retry = 0\n";
  auto check = [&](const std::string& body) {
    return "    [[services.reals.checks]]\n    " + body + "\n    " + timing;
  };
  return test::health_topology() + R"(
  [[services.reals]]
  address = "10.1.0.12:80"
  method = "nat"
)" + check("type = \"TCP_CHECK\"") +
         R"(
  [[services.reals]]
  address = "10.1.0.13:80"
  method = "nat"

  [[services.reals]]
  address = "10.1.0.11:80"
  method = "nat"
)" + check("type = \"TCP_CHECK\"") +
         check("type = \"PING_CHECK\"") + check("type = \"TCP_CHECK\"\n    connect_port = 80") + R"(
[[services]]
protocol = "udp"
address = "203.0.113.53:53"

  [[services.reals]]
  address = "10.1.0.11:53"
  method = "nat"
)" + check("type = \"DNS_CHECK\"\n    dns_type = \"A\"\n    dns_name = \"example.com\"");
}

constexpr uint32_t kWan = 0, kLan = 1;
constexpr MacAddr kWanMac = test::mac(2, 0, 0, 0, 0, 1);
constexpr MacAddr kLanMac = test::mac(2, 0, 0, 0, 0, 2);
constexpr Ipv4Addr kWanIp = ip4(203, 0, 113, 1);
constexpr Ipv4Addr kLanIp = ip4(10, 1, 0, 1);
constexpr Ipv4Addr kVip = ip4(203, 0, 113, 100);
constexpr Ipv4Addr kVipUdp = ip4(203, 0, 113, 53);
constexpr Ipv4Addr kClient = ip4(203, 0, 113, 7);
constexpr MacAddr kClientMac = test::mac(2, 0xbb, 0, 0, 0, 7);
constexpr Ipv4Addr kReal11 = ip4(10, 1, 0, 11), kReal12 = ip4(10, 1, 0, 12), kReal20 = ip4(10, 1, 0, 20);
constexpr MacAddr kReal11Mac = test::mac(2, 0xaa, 0, 0, 0, 11);
constexpr MacAddr kReal12Mac = test::mac(2, 0xaa, 0, 0, 0, 12);
constexpr MacAddr kReal20Mac = test::mac(2, 0xaa, 0, 0, 0, 20);
constexpr Instant T0 = Instant::from_micros(1'000'000'000);

constexpr uint8_t kSyn = 0x02, kAck = 0x10;

bool has_line(const std::string& text, std::string_view line) {
  return ("\n" + text).find("\n" + std::string(line) + "\n") != std::string::npos;
}

class RenderTest : public ::testing::Test {
protected:
  void SetUp() override {
    cfg_ = render_config().parse();
    engine_ = std::make_unique<Engine>(cfg_, sink_);
  }

  Verdict rx(uint32_t iface, const ByteVec& f) { return engine_->on_frame(iface, f, T0); }

  /// A host asks the router for its address: the router answers and learns the host's MAC.
  void arp_hello(uint32_t iface, const MacAddr& mac, Ipv4Addr ip, Ipv4Addr router) {
    rx(iface, frame().eth(MacAddr::broadcast(), mac).arp(1, mac, ip, MacAddr{}, router).build());
  }

  /// The traffic the tests below expect; see each step.
  void feed() {
    // ARP: the client and the three reals ask for the router (4 ARP replies; 4 entries learned).
    arp_hello(kWan, kClientMac, kClient, kWanIp);
    arp_hello(kLan, kReal11Mac, kReal11, kLanIp);
    arp_hello(kLan, kReal12Mac, kReal12, kLanIp);
    arp_hello(kLan, kReal20Mac, kReal20, kLanIp);
    // TCP handshake through the VIP (40-byte IP packets): SYN and ACK in, SYN-ACK out.
    auto syn = frame().eth(kWanMac, kClientMac).ipv4(kClient, kVip).tcp(40000, 80, kSyn).build();
    ASSERT_EQ(rx(kWan, syn).kind, Verdict::Kind::kForwarded);
    ASSERT_EQ(sink_.sent.size(), 5u);
    real_ = test::ip_of(sink_.sent.back().bytes).dst();
    ASSERT_TRUE(real_ == kReal11 || real_ == kReal12);
    const MacAddr real_mac = real_ == kReal11 ? kReal11Mac : kReal12Mac;
    auto synack = frame().eth(kLanMac, real_mac).ipv4(real_, kClient).tcp(8080, 40000, kSyn | kAck).build();
    ASSERT_EQ(rx(kLan, synack).kind, Verdict::Kind::kForwarded);
    auto ack = frame().eth(kWanMac, kClientMac).ipv4(kClient, kVip).tcp(40000, 80, kAck).build();
    ASSERT_EQ(rx(kWan, ack).kind, Verdict::Kind::kForwarded);
    // UDP: one 38-byte datagram to the UDP service.
    auto udp = frame().eth(kWanMac, kClientMac).ipv4(kClient, kVipUdp).udp(5000, 53, test::pattern(10)).build();
    ASSERT_EQ(rx(kWan, udp).kind, Verdict::Kind::kForwarded);
    // A ping to the router.
    auto ping = frame().eth(kWanMac, kClientMac).ipv4(kClient, kWanIp).echo_request(1, 1, test::pattern(8)).build();
    ASSERT_EQ(rx(kWan, ping).kind, Verdict::Kind::kConsumed);
    // Two drops: a bad IPv4 header checksum, a runt frame.
    auto bad = frame().eth(kWanMac, kClientMac).ipv4(kClient, kVip).tcp(40001, 80, kSyn).build();
    bad[test::kEthLen + 10] ^= 0xff;
    ASSERT_EQ(rx(kWan, bad).reason, DropReason::kIpv4BadChecksum);
    ASSERT_EQ(rx(kWan, ByteVec(6, 0)).reason, DropReason::kEthTruncated);
  }

  std::string render(const std::vector<PortCounters>& ports = {}) { return render_metrics(*engine_, ports); }

  std::shared_ptr<const config::Config> cfg_;
  test::MemSink sink_;
  std::unique_ptr<Engine> engine_;
  Ipv4Addr real_;
};

#define EXPECT_LINE(text, line) EXPECT_TRUE(has_line(text, line)) << "missing line: " << (line) << "\nin:\n" << (text)

TEST_F(RenderTest, NodeExporterIpvsFamilies) {
  ASSERT_NO_FATAL_FAILURE(feed());
  const std::string m = render();
  const std::string other = real_ == kReal11 ? "10.1.0.12" : "10.1.0.11";
  const std::string chosen = real_.str();
  auto node = [](std::string_view vip, int vport, std::string_view proto, std::string_view real, int rport) {
    return "{local_address=\"" + std::string(vip) + "\",local_mark=\"\",local_port=\"" + std::to_string(vport) +
           "\",proto=\"" + std::string(proto) + "\",remote_address=\"" + std::string(real) + "\",remote_port=\"" +
           std::to_string(rport) + "\"}";
  };
  // Totals: 2 connections; in: SYN + ACK (40 bytes each) + the UDP datagram (38); out: SYN-ACK.
  EXPECT_LINE(m, "node_ipvs_connections_total 2");
  EXPECT_LINE(m, "node_ipvs_incoming_packets_total 3");
  EXPECT_LINE(m, "node_ipvs_incoming_bytes_total 118");
  EXPECT_LINE(m, "node_ipvs_outgoing_packets_total 1");
  EXPECT_LINE(m, "node_ipvs_outgoing_bytes_total 40");
  // The established connection is active on the chosen real; the UDP one is inactive (as IPVS
  // counts UDP: never "established").
  EXPECT_LINE(m, "node_ipvs_backend_connections_active" + node("203.0.113.100", 80, "TCP", chosen, 8080) + " 1");
  EXPECT_LINE(m, "node_ipvs_backend_connections_inactive" + node("203.0.113.100", 80, "TCP", chosen, 8080) + " 0");
  EXPECT_LINE(m, "node_ipvs_backend_connections_active" + node("203.0.113.100", 80, "TCP", other, 8080) + " 0");
  EXPECT_LINE(m, "node_ipvs_backend_connections_active" + node("203.0.113.53", 53, "UDP", "10.1.0.20", 5353) + " 0");
  EXPECT_LINE(m, "node_ipvs_backend_connections_inactive" + node("203.0.113.53", 53, "UDP", "10.1.0.20", 5353) + " 1");
  EXPECT_LINE(m, "node_ipvs_backend_weight" + node("203.0.113.100", 80, "TCP", "10.1.0.11", 8080) + " 1");
  EXPECT_LINE(m, "node_ipvs_backend_weight" + node("203.0.113.100", 80, "TCP", "10.1.0.12", 8080) + " 3");
  EXPECT_LINE(m, "node_ipvs_backend_weight" + node("203.0.113.53", 53, "UDP", "10.1.0.20", 5353) + " 2");
  // node_exporter's HELP texts and types, verbatim (collector/ipvs_linux.go).
  EXPECT_LINE(m,
              "# HELP node_ipvs_backend_connections_active "
              "The current active connections by local and remote address.");
  EXPECT_LINE(m, "# TYPE node_ipvs_backend_connections_active gauge");
  EXPECT_LINE(m,
              "# HELP node_ipvs_backend_connections_inactive "
              "The current inactive connections by local and remote address.");
  EXPECT_LINE(m, "# HELP node_ipvs_backend_weight The current backend weight by local and remote address.");
  EXPECT_LINE(m, "# HELP node_ipvs_connections_total The total number of connections made.");
  EXPECT_LINE(m, "# TYPE node_ipvs_connections_total counter");
  EXPECT_LINE(m, "# HELP node_ipvs_incoming_packets_total The total number of incoming packets.");
  EXPECT_LINE(m, "# HELP node_ipvs_outgoing_packets_total The total number of outgoing packets.");
  EXPECT_LINE(m, "# HELP node_ipvs_incoming_bytes_total The total amount of incoming data.");
  EXPECT_LINE(m, "# HELP node_ipvs_outgoing_bytes_total The total amount of outgoing data.");
}

TEST_F(RenderTest, ServiceAndRealFamilies) {
  ASSERT_NO_FATAL_FAILURE(feed());
  const std::string m = render();
  const std::string tcp = R"(proto="tcp",vip="203.0.113.100",vport="80")";
  const std::string udp = R"(proto="udp",vip="203.0.113.53",vport="53")";
  const std::string chosen = tcp + ",real=\"" + real_.str() + "\",rport=\"8080\"";
  const std::string other = tcp + ",real=\"" + (real_ == kReal11 ? "10.1.0.12" : "10.1.0.11") + "\",rport=\"8080\"";
  const std::string u = udp + R"(,real="10.1.0.20",rport="5353")";
  EXPECT_LINE(m, "vsrouter_service_connections_total{" + tcp + "} 1");
  EXPECT_LINE(m, "vsrouter_service_incoming_packets_total{" + tcp + "} 2");
  EXPECT_LINE(m, "vsrouter_service_incoming_bytes_total{" + tcp + "} 80");
  EXPECT_LINE(m, "vsrouter_service_outgoing_packets_total{" + tcp + "} 1");
  EXPECT_LINE(m, "vsrouter_service_outgoing_bytes_total{" + tcp + "} 40");
  EXPECT_LINE(m, "vsrouter_service_connections_total{" + udp + "} 1");
  EXPECT_LINE(m, "vsrouter_service_incoming_bytes_total{" + udp + "} 38");
  EXPECT_LINE(m, "vsrouter_real_connections_total{" + chosen + "} 1");
  EXPECT_LINE(m, "vsrouter_real_connections_total{" + other + "} 0");
  EXPECT_LINE(m, "vsrouter_real_incoming_packets_total{" + chosen + "} 2");
  EXPECT_LINE(m, "vsrouter_real_outgoing_bytes_total{" + chosen + "} 40");
  EXPECT_LINE(m, "vsrouter_real_connections_active{" + chosen + "} 1");
  EXPECT_LINE(m, "vsrouter_real_connections_inactive{" + u + "} 1");
  EXPECT_LINE(m, "vsrouter_real_connections_persistent{" + u + "} 0");
  EXPECT_LINE(m, "vsrouter_real_weight{" + u + "} 2");
  EXPECT_LINE(m, "vsrouter_real_overloaded{" + u + "} 0");
  // No estimator tick yet: rates are 0.
  EXPECT_LINE(m, "vsrouter_service_incoming_bytes_per_second{" + tcp + "} 0");
  EXPECT_LINE(m, "vsrouter_ipvs_connections_per_second 0");
  // Services sorted by (protocol, VIP, port): tcp before udp; reals by address.
  EXPECT_LT(m.find("vsrouter_service_connections_total{" + tcp), m.find("vsrouter_service_connections_total{" + udp));
  EXPECT_LT(m.find("vsrouter_real_weight{" + tcp + R"(,real="10.1.0.11")"),
            m.find("vsrouter_real_weight{" + tcp + R"(,real="10.1.0.12")"));
}

TEST_F(RenderTest, RatesFollowTheEstimator) {
  ASSERT_NO_FATAL_FAILURE(feed());
  // Run the timers for a few estimator ticks (every 2 s).
  const Instant end = T0 + Duration::seconds(7);
  for (int guard = 0; guard < 1000; ++guard) {
    auto d = engine_->next_deadline();
    if (!d || *d > end) break;
    engine_->on_timer(*d);
  }
  const auto& dir = engine_->director();
  const ipvs::Service* tcp = nullptr;
  for (const auto& s : dir.services())
    if (s->protocol == IpProto::kTcp) tcp = s.get();
  ASSERT_NE(tcp, nullptr);
  const ipvs::Rates sr = tcp->est.rates();
  ASSERT_GT(sr.inbps, 0u) << "the estimator should have ticked";
  const std::string m = render();
  const std::string labels = R"({proto="tcp",vip="203.0.113.100",vport="80"})";
  EXPECT_LINE(m, "vsrouter_service_incoming_bytes_per_second" + labels + " " + std::to_string(sr.inbps));
  EXPECT_LINE(m, "vsrouter_service_outgoing_bytes_per_second" + labels + " " + std::to_string(sr.outbps));
  EXPECT_LINE(m, "vsrouter_service_incoming_packets_per_second" + labels + " " + std::to_string(sr.inpps));
  EXPECT_LINE(m, "vsrouter_service_connections_per_second" + labels + " " + std::to_string(sr.cps));
  const ipvs::Rates tr = dir.total_rates();
  EXPECT_LINE(m, "vsrouter_ipvs_incoming_bytes_per_second " + std::to_string(tr.inbps));
  EXPECT_LINE(m, "vsrouter_ipvs_outgoing_bytes_per_second " + std::to_string(tr.outbps));
  for (const ipvs::Dest* d : tcp->dests) {
    const std::string rl =
        R"({proto="tcp",vip="203.0.113.100",vport="80",real=")" + d->addr.str() + R"(",rport="8080"})";
    EXPECT_LINE(m, "vsrouter_real_incoming_bytes_per_second" + rl + " " + std::to_string(d->est.rates().inbps));
  }
}

TEST_F(RenderTest, RouterInterfacesArpTableAndDrops) {
  ASSERT_NO_FATAL_FAILURE(feed());
  const std::string m = render({{"wan", 5, 1, 2}, {"lan", 0, 0, 7}});
  const auto& wan = engine_->iface_counters(kWan);
  const auto& lan = engine_->iface_counters(kLan);
  // wan received: ARP, SYN, ACK, UDP, ping, bad checksum, runt = 7 frames.
  EXPECT_EQ(wan.rx_frames, 7u);
  EXPECT_LINE(m, R"(vsrouter_interface_rx_frames_total{interface="wan"} 7)");
  EXPECT_LINE(m, R"(vsrouter_interface_rx_bytes_total{interface="wan"} )" + std::to_string(wan.rx_bytes));
  EXPECT_LINE(m, R"(vsrouter_interface_tx_frames_total{interface="wan"} )" + std::to_string(wan.tx_frames));
  EXPECT_LINE(m, R"(vsrouter_interface_tx_bytes_total{interface="lan"} )" + std::to_string(lan.tx_bytes));
  EXPECT_LINE(m, R"(vsrouter_interface_rx_frames_total{interface="lan"} 4)");  // 3 ARP + SYN-ACK
  EXPECT_LINE(m, R"(vsrouter_interface_tx_full_total{interface="wan"} 5)");
  EXPECT_LINE(m, R"(vsrouter_interface_tx_errors_total{interface="wan"} 1)");
  EXPECT_LINE(m, R"(vsrouter_interface_rx_errors_total{interface="wan"} 2)");
  EXPECT_LINE(m, R"(vsrouter_interface_rx_errors_total{interface="lan"} 7)");
  // Connection table: one TCP and one UDP connection.
  EXPECT_LINE(m, "vsrouter_connection_table_entries 2");
  EXPECT_LINE(m, "vsrouter_connection_table_capacity 4096");
  // ARP cache: the four hosts that asked for us, nothing pending; the default capacity.
  EXPECT_LINE(m, R"(vsrouter_arp_cache_entries{state="reachable"} 4)");
  EXPECT_LINE(m, R"(vsrouter_arp_cache_entries{state="incomplete"} 0)");
  EXPECT_LINE(m, R"(vsrouter_arp_cache_entries{state="probe"} 0)");
  EXPECT_LINE(m, "vsrouter_arp_cache_capacity " + std::to_string(NeighParams{}.capacity));
  EXPECT_LINE(m, "vsrouter_reassembly_datagrams 0");
  EXPECT_LINE(m, "vsrouter_reassembly_memory_bytes 0");
  // Router events.
  EXPECT_LINE(m, "vsrouter_arp_replies_sent_total 4");
  EXPECT_LINE(m, "vsrouter_arp_requests_sent_total 0");
  EXPECT_LINE(m, "vsrouter_icmp_echo_replies_sent_total 1");
  EXPECT_LINE(m, "vsrouter_icmp_errors_sent_total 0");
  EXPECT_LINE(m, "vsrouter_icmp_errors_rate_limited_total 0");
  EXPECT_LINE(m, "vsrouter_icmp_errors_peer_limited_total 0");
  EXPECT_LINE(m, "vsrouter_tcp_resets_sent_total 0");
  EXPECT_LINE(m, "vsrouter_fragments_sent_total 0");
  EXPECT_LINE(m, "vsrouter_forwarded_packets_total " + std::to_string(engine_->counters().forwarded));
  // Drops: every reason, zeros included, in drop.hpp's order.
  EXPECT_LINE(m, R"(vsrouter_drops_total{reason="ipv4_bad_checksum"} 1)");
  EXPECT_LINE(m, R"(vsrouter_drops_total{reason="eth_truncated"} 1)");
  EXPECT_LINE(m, R"(vsrouter_drops_total{reason="conn_table_full"} 0)");
  size_t last = 0;
  for (const auto& r : kDropReasons) {
    const std::string prefix = "vsrouter_drops_total{reason=\"" + std::string(r.name) + "\"} ";
    size_t at = m.find("\n" + prefix);
    ASSERT_NE(at, std::string::npos) << r.name;
    EXPECT_GT(at, last) << r.name << " out of order";
    last = at;
  }
}

TEST_F(RenderTest, ValidExpositionWithHelpAndTypeForEveryFamily) {
  ASSERT_NO_FATAL_FAILURE(feed());
  const std::string m = render({{"wan", 1, 2, 3}, {"lan", 0, 0, 0}});
  Parsed p;
  std::string err;
  ASSERT_TRUE(parse_exposition(m, p, err)) << err;

  // The families, in the documented order.
  const std::vector<std::string> expected = {
      "node_ipvs_backend_connections_active",
      "node_ipvs_backend_connections_inactive",
      "node_ipvs_backend_weight",
      "node_ipvs_connections_total",
      "node_ipvs_incoming_bytes_total",
      "node_ipvs_incoming_packets_total",
      "node_ipvs_outgoing_bytes_total",
      "node_ipvs_outgoing_packets_total",
      "vsrouter_ipvs_connections_per_second",
      "vsrouter_ipvs_incoming_packets_per_second",
      "vsrouter_ipvs_outgoing_packets_per_second",
      "vsrouter_ipvs_incoming_bytes_per_second",
      "vsrouter_ipvs_outgoing_bytes_per_second",
      "vsrouter_service_connections_total",
      "vsrouter_service_incoming_packets_total",
      "vsrouter_service_outgoing_packets_total",
      "vsrouter_service_incoming_bytes_total",
      "vsrouter_service_outgoing_bytes_total",
      "vsrouter_service_connections_per_second",
      "vsrouter_service_incoming_packets_per_second",
      "vsrouter_service_outgoing_packets_per_second",
      "vsrouter_service_incoming_bytes_per_second",
      "vsrouter_service_outgoing_bytes_per_second",
      "vsrouter_real_connections_total",
      "vsrouter_real_incoming_packets_total",
      "vsrouter_real_outgoing_packets_total",
      "vsrouter_real_incoming_bytes_total",
      "vsrouter_real_outgoing_bytes_total",
      "vsrouter_real_connections_per_second",
      "vsrouter_real_incoming_packets_per_second",
      "vsrouter_real_outgoing_packets_per_second",
      "vsrouter_real_incoming_bytes_per_second",
      "vsrouter_real_outgoing_bytes_per_second",
      "vsrouter_real_connections_active",
      "vsrouter_real_connections_inactive",
      "vsrouter_real_connections_persistent",
      "vsrouter_real_weight",
      "vsrouter_real_overloaded",
      "vsrouter_real_up",
      "vsrouter_check_up",
      "vsrouter_check_duration_seconds",
      "vsrouter_check_transitions_total",
      "vsrouter_check_failures_total",
      "vsrouter_check_probes_total",
      "vsrouter_checks_in_flight",
      "vsrouter_check_events_lost_total",
      "vsrouter_vrrp_state",
      "vsrouter_vrrp_priority",
      "vsrouter_vrrp_adverts_sent_total",
      "vsrouter_vrrp_adverts_received_total",
      "vsrouter_vrrp_became_master_total",
      "vsrouter_vrrp_script_up",
      "vsrouter_vrrp_script_runs_total",
      "vsrouter_vrrp_script_failures_total",
      "vsrouter_vrrp_script_timeouts_total",
      "vsrouter_draining",
      "vsrouter_announce_vip",
      "vsrouter_sync_daemon_running",
      "vsrouter_sync_messages_sent_total",
      "vsrouter_sync_entries_sent_total",
      "vsrouter_sync_messages_received_total",
      "vsrouter_sync_entries_received_total",
      "vsrouter_connection_table_entries",
      "vsrouter_connection_table_capacity",
      "vsrouter_interface_rx_frames_total",
      "vsrouter_interface_rx_bytes_total",
      "vsrouter_interface_tx_frames_total",
      "vsrouter_interface_tx_bytes_total",
      "vsrouter_interface_tx_full_total",
      "vsrouter_interface_tx_errors_total",
      "vsrouter_interface_rx_errors_total",
      "vsrouter_arp_cache_entries",
      "vsrouter_arp_cache_capacity",
      "vsrouter_nd_cache_entries",
      "vsrouter_reassembly_datagrams",
      "vsrouter_reassembly_memory_bytes",
      "vsrouter_forwarded_packets_total",
      "vsrouter_fragments_sent_total",
      "vsrouter_arp_requests_sent_total",
      "vsrouter_arp_replies_sent_total",
      "vsrouter_icmp_echo_replies_sent_total",
      "vsrouter_icmp_errors_sent_total",
      "vsrouter_icmp_errors_rate_limited_total",
      "vsrouter_icmp_errors_peer_limited_total",
      "vsrouter_tcp_resets_sent_total",
      "vsrouter_offload_super_frames_total",
      "vsrouter_offload_segmented_total",
      "vsrouter_offload_checksums_completed_total",
      "vsrouter_reassembled_datagrams_total",
      "vsrouter_ipv6_forwarded_packets_total",
      "vsrouter_nd_solicitations_sent_total",
      "vsrouter_nd_advertisements_sent_total",
      "vsrouter_ipv6_dad_failures_total",
      "vsrouter_drops_total",
      "vsrouter_build_info",
  };
  EXPECT_EQ(p.order, expected);

  for (const auto& [name, f] : p.families) {
    // Counters end in _total; gauges do not; every family here has samples but the per-real and
    // per-checker health families (no checkers in this config: HealthRenderTest has them).
    if (f.type == "counter") {
      EXPECT_TRUE(name.ends_with("_total")) << name;
    } else {
      EXPECT_EQ(f.type, "gauge") << name;
      EXPECT_FALSE(name.ends_with("_total")) << name;
    }
    const bool per_checker = name == "vsrouter_real_up" || name == "vsrouter_announce_vip" ||
                             name.starts_with("vsrouter_vrrp_") ||  // (no VRRP instance here either)
                             (name.starts_with("vsrouter_check_") && name != "vsrouter_check_probes_total" &&
                              name != "vsrouter_check_events_lost_total");
    EXPECT_EQ(f.samples.empty(), per_checker) << name;
    // Same label names in the same order for every sample of a family.
    for (const auto& s : f.samples) {
      ASSERT_EQ(s.labels.size(), f.samples[0].labels.size()) << name;
      for (size_t i = 0; i < s.labels.size(); ++i) EXPECT_EQ(s.labels[i].first, f.samples[0].labels[i].first) << name;
      // Values are non-negative integers.
      EXPECT_EQ(s.value.find_first_not_of("0123456789"), std::string::npos) << name << " " << s.value;
    }
  }
  // Label sets.
  auto label_names = [&](const std::string& fam) {
    std::vector<std::string> v;
    for (const auto& [k, val] : p.families.at(fam).samples.at(0).labels) v.push_back(k);
    return v;
  };
  const std::vector<std::string> node_labels = {"local_address", "local_mark",     "local_port",
                                                "proto",         "remote_address", "remote_port"};
  EXPECT_EQ(label_names("node_ipvs_backend_weight"), node_labels);
  EXPECT_EQ(label_names("vsrouter_real_weight"), (std::vector<std::string>{"proto", "vip", "vport", "real", "rport"}));
  EXPECT_EQ(label_names("vsrouter_service_connections_total"), (std::vector<std::string>{"proto", "vip", "vport"}));
  EXPECT_EQ(p.families.at("node_ipvs_backend_weight").samples.size(), 3u);
  EXPECT_EQ(p.families.at("vsrouter_service_connections_total").samples.size(), 2u);
  EXPECT_EQ(p.families.at("vsrouter_drops_total").samples.size(), kDropReasonCount);
  std::set<std::string> reasons;
  for (const auto& s : p.families.at("vsrouter_drops_total").samples) reasons.insert(s.labels.at(0).second);
  for (const auto& r : kDropReasons) EXPECT_TRUE(reasons.count(std::string(r.name))) << r.name;
}

TEST_F(RenderTest, DeterministicAndEscaped) {
  ASSERT_NO_FATAL_FAILURE(feed());
  EXPECT_EQ(render(), render());
  // An odd adapter name is escaped, not passed through.
  const std::string m = render({{"we\"ird\\na\nme", 1, 0, 0}});
  EXPECT_LINE(m, R"(vsrouter_interface_tx_full_total{interface="we\"ird\\na\nme"} 1)");
  Parsed p;
  std::string err;
  ASSERT_TRUE(parse_exposition(m, p, err)) << err;
  EXPECT_EQ(p.families.at("vsrouter_interface_tx_full_total").samples.at(0).labels.at(0).second, "we\"ird\\na\nme");
}

TEST_F(RenderTest, EveryFamilyAndDropReasonIsDocumented) {
  const std::filesystem::path doc = std::filesystem::path(__FILE__).parent_path() / "../../docs/metrics.md";
  std::ifstream in(doc);
  if (!in) GTEST_SKIP() << "no " << doc;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  ASSERT_NO_FATAL_FAILURE(feed());
  Parsed p;
  std::string err;
  metrics::DaemonStats ds;
  ds.process = metrics::ProcessStats{};
  ds.http = metrics::HttpStats{};
  ASSERT_TRUE(parse_exposition(render_metrics(*engine_, {{"wan", 0, 0, 0}}, ds), p, err)) << err;
  EXPECT_TRUE(p.families.count("process_open_fds"));
  for (const auto& name : p.order)
    EXPECT_NE(text.find("| `" + name + "` |"), std::string::npos) << name << " is not in " << doc;
  for (const auto& r : kDropReasons)
    EXPECT_NE(text.find("| `" + std::string(r.name) + "` |"), std::string::npos) << r.name << " is not in " << doc;
}

TEST_F(RenderTest, BuildInfoProcessAndEndpointFamilies) {
  ASSERT_NO_FATAL_FAILURE(feed());
  // Without the daemon's stats (replay, tests): build info only.
  const std::string plain = render();
  EXPECT_LINE(plain, std::string("vsrouter_build_info{version=\"") + build::kVersion + "\",revision=\"" +
                         build::kRevision + "\",compiler=\"" + build::kCompiler + "\"} 1");
  EXPECT_EQ(build::kVersion, std::string("0.1.0"));
  EXPECT_EQ(plain.find("process_"), std::string::npos);
  EXPECT_EQ(plain.find("vsrouter_metrics_"), std::string::npos);

  metrics::DaemonStats ds;
  ds.process = metrics::ProcessStats{12.5, 4096, 8192, 7, 1024, 1733340000.25};
  ds.http = metrics::HttpStats{10, 1, 2, 3};
  const std::string m = render_metrics(*engine_, {}, ds);
  Parsed p;
  std::string err;
  ASSERT_TRUE(parse_exposition(m, p, err)) << err;
  EXPECT_LINE(m, "process_cpu_seconds_total 12.5");
  EXPECT_LINE(m, "process_resident_memory_bytes 4096");
  EXPECT_LINE(m, "process_virtual_memory_bytes 8192");
  EXPECT_LINE(m, "process_open_fds 7");
  EXPECT_LINE(m, "process_max_fds 1024");
  EXPECT_LINE(m, "process_start_time_seconds 1733340000.25");
  EXPECT_LINE(m, "vsrouter_metrics_requests_total 10");
  EXPECT_LINE(m, R"(vsrouter_metrics_connections_dropped_total{reason="refused"} 1)");
  EXPECT_LINE(m, R"(vsrouter_metrics_connections_dropped_total{reason="evicted"} 2)");
  EXPECT_LINE(m, R"(vsrouter_metrics_connections_dropped_total{reason="timeout"} 3)");
  EXPECT_EQ(p.families.at("process_cpu_seconds_total").type, "counter");
  EXPECT_EQ(p.families.at("process_start_time_seconds").type, "gauge");
}

TEST(ProcessStatsTest, ReadsThisProcess) {
  auto s = read_process_stats();
  ASSERT_TRUE(s);
  EXPECT_GT(s->resident_bytes, 0u);
  EXPECT_GE(s->virtual_bytes, s->resident_bytes);
  EXPECT_GE(s->open_fds, 3u);  // stdin, stdout, stderr at least
  EXPECT_GT(s->max_fds, 0u);
  EXPECT_GE(s->cpu_seconds, 0.0);
  // Started within the last day, not in the future (the clock here is the test's own business).
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(s->start_time_seconds, now + 2);
  EXPECT_GT(s->start_time_seconds, now - 86400);
}

TEST(RenderEmptyTest, NoServicesStillValid) {
  test::ConfigText c;
  c.interface("eth0", "02:00:00:00:00:01", {"192.0.2.1/24"});
  test::MemSink sink;
  Engine e(c.parse(), sink);
  const std::string m = render_metrics(e, {});
  Parsed p;
  std::string err;
  ASSERT_TRUE(parse_exposition(m, p, err)) << err;
  EXPECT_TRUE(p.families.at("node_ipvs_backend_weight").samples.empty());
  EXPECT_TRUE(has_line(m, "node_ipvs_connections_total 0"));
}

// IPv6 services, and a real of the other family behind TUN: the addresses as labels in their
// plain text forms (node_exporter's ipvs collector prints them so, from /proc/net/ip_vs), valid
// exposition.
TEST(RenderIpv6Test, Ipv6AndMixedFamilyLabels) {
  test::ConfigText c;
  c.interface("eth0", "02:00:00:00:00:01", {"192.0.2.1/24", "2001:db8::1/64"});
  c.service("tcp", "[2001:db8::80]:80", "rr").real("[2001:db8::11]:8080", "nat").real("192.0.2.30:80", "tun");
  test::MemSink sink;
  Engine e(c.parse(), sink);
  const std::string m = render_metrics(e, {});
  Parsed p;
  std::string err;
  ASSERT_TRUE(parse_exposition(m, p, err)) << err;
  EXPECT_LINE(m, R"(vsrouter_service_connections_total{proto="tcp",vip="2001:db8::80",vport="80"} 0)");
  EXPECT_LINE(m,
              R"(vsrouter_real_weight{proto="tcp",vip="2001:db8::80",vport="80",real="2001:db8::11",rport="8080"} 1)");
  EXPECT_LINE(m, R"(vsrouter_real_weight{proto="tcp",vip="2001:db8::80",vport="80",real="192.0.2.30",rport="80"} 1)");
  EXPECT_LINE(m, R"(node_ipvs_backend_weight{local_address="2001:db8::80",local_mark="",local_port="80",proto="TCP",)"
                 R"(remote_address="2001:db8::11",remote_port="8080"} 1)");
}

// =============================================================================================
// render_metrics: health checks (an engine whose checkers probed simulated reals)
// =============================================================================================

/// The text render_metrics writes for a duration in seconds.
std::string seconds_text(Duration d) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, static_cast<double>(d.us) / 1e6);
  return std::string(buf, r.ptr);
}

class HealthRenderTest : public ::testing::Test {
protected:
  void SetUp() override { rig_.run(3.5); }
  const check::Health& health() const { return rig_.engine.health(); }
  std::string render() const { return render_metrics(rig_.engine, {}); }

  test::HealthRig rig_{health_config()};
  // health().checkers() in configuration order, with the labels each should get.
  static constexpr std::string_view kTcp = R"(proto="tcp",vip="203.0.113.100",vport="80",)";
  const std::vector<std::string> labels_ = {
      std::string(kTcp) + R"(real="10.1.0.12",rport="80",check="TCP_CHECK",target="10.1.0.12:80",index="")",
      std::string(kTcp) + R"(real="10.1.0.11",rport="80",check="TCP_CHECK",target="10.1.0.11:80",index="0")",
      std::string(kTcp) + R"(real="10.1.0.11",rport="80",check="PING_CHECK",target="10.1.0.11",index="")",
      std::string(kTcp) + R"(real="10.1.0.11",rport="80",check="TCP_CHECK",target="10.1.0.11:80",index="2")",
      R"(proto="udp",vip="203.0.113.53",vport="53",real="10.1.0.11",rport="53",check="DNS_CHECK",)"
      R"(target="10.1.0.11:53",index="")",
  };
};

TEST_F(HealthRenderTest, RealsAndCheckersWithTheirState) {
  const std::string m = render();
  const auto& ks = health().checkers();
  ASSERT_EQ(ks.size(), labels_.size());
  // 10.1.0.12 never answered ARP: failed and out of its service, yet listed here; 10.1.0.13 has
  // no checkers: not listed.
  EXPECT_LINE(m, std::string("vsrouter_real_up{") + std::string(kTcp) + R"(real="10.1.0.11",rport="80"} 1)");
  EXPECT_LINE(m, std::string("vsrouter_real_up{") + std::string(kTcp) + R"(real="10.1.0.12",rport="80"} 0)");
  EXPECT_LINE(m, R"(vsrouter_real_up{proto="udp",vip="203.0.113.53",vport="53",real="10.1.0.11",rport="53"} 1)");
  EXPECT_EQ(m.find(R"(vsrouter_real_up{proto="tcp",vip="203.0.113.100",vport="80",real="10.1.0.13")"),
            std::string::npos);
  EXPECT_EQ(m.find(R"(vsrouter_real_weight{proto="tcp",vip="203.0.113.100",vport="80",real="10.1.0.12")"),
            std::string::npos);
  EXPECT_NE(m.find(R"(vsrouter_real_weight{proto="tcp",vip="203.0.113.100",vport="80",real="10.1.0.13")"),
            std::string::npos);
  const std::vector<int> up = {0, 1, 1, 1, 1};
  for (size_t i = 0; i < ks.size(); ++i) {
    const check::Checker& k = ks[i];
    const std::string& l = labels_[i];
    EXPECT_EQ(k.up, up[i] == 1) << l;
    EXPECT_GT(k.probes, 0u) << l;
    EXPECT_LINE(m, "vsrouter_check_up{" + l + "} " + std::to_string(up[i]));
    EXPECT_LINE(m, "vsrouter_check_transitions_total{" + l + "} " + std::to_string(k.transitions));
    EXPECT_LINE(m, "vsrouter_check_duration_seconds{" + l + "} " + seconds_text(k.last_duration));
    for (size_t r = 1; r < k.failures.size(); ++r)
      EXPECT_LINE(m, "vsrouter_check_failures_total{" + l + ",reason=\"" +
                         std::string(check::reason_name(static_cast<check::Reason>(r))) + "\"} " +
                         std::to_string(k.failures[r]));
    EXPECT_EQ(m.find("vsrouter_check_failures_total{" + l + R"(,reason="ok"})"), std::string::npos);
  }
  // The failed real's checker went down once, for want of an ARP answer or of a SYN-ACK.
  EXPECT_EQ(ks[0].transitions, 1u);
  EXPECT_GE(ks[0].failures[static_cast<size_t>(check::Reason::kNoNeighbour)] +
                ks[0].failures[static_cast<size_t>(check::Reason::kTimeout)],
            1u);
  // The answering real's SYN-ACK came 100 us after the SYN: a fraction of a second.
  EXPECT_GT(ks[1].last_duration.us, 0);
  EXPECT_LT(ks[1].last_duration.us, 1'000'000);
  EXPECT_EQ(std::stod(seconds_text(ks[1].last_duration)), static_cast<double>(ks[1].last_duration.us) / 1e6);
  EXPECT_LINE(m, "vsrouter_check_probes_total " + std::to_string(health().probes_sent()));
  EXPECT_GE(health().probes_sent(), 5u);
  EXPECT_LINE(m, "vsrouter_checks_in_flight " + std::to_string(health().in_flight()));
  EXPECT_LINE(m, "vsrouter_check_events_lost_total 0");
  // Reals sorted as everywhere (protocol, VIP, port, then address, port); a real's checkers in
  // the configuration's order.
  std::vector<size_t> at;
  for (const size_t i : {1, 2, 3, 0, 4}) at.push_back(m.find("vsrouter_check_up{" + labels_[i] + "} "));
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end()));
  EXPECT_LT(m.find(R"(vsrouter_real_up{proto="tcp",vip="203.0.113.100",vport="80",real="10.1.0.11")"),
            m.find(R"(vsrouter_real_up{proto="tcp",vip="203.0.113.100",vport="80",real="10.1.0.12")"));
}

TEST_F(HealthRenderTest, ValidFamiliesLabelsAndDocumentedReasons) {
  const std::string m = render();
  Parsed p;
  std::string err;
  ASSERT_TRUE(parse_exposition(m, p, err)) << err;
  const std::vector<std::string> real = {"proto", "vip", "vport", "real", "rport"};
  std::vector<std::string> checker = real;
  checker.insert(checker.end(), {"check", "target", "index"});
  std::vector<std::string> failure = checker;
  failure.push_back("reason");
  const std::map<std::string, std::pair<std::string, std::vector<std::string>>> expected = {
      {"vsrouter_real_up", {"gauge", real}},
      {"vsrouter_check_up", {"gauge", checker}},
      {"vsrouter_check_duration_seconds", {"gauge", checker}},
      {"vsrouter_check_transitions_total", {"counter", checker}},
      {"vsrouter_check_failures_total", {"counter", failure}},
      {"vsrouter_check_probes_total", {"counter", {}}},
      {"vsrouter_checks_in_flight", {"gauge", {}}},
      {"vsrouter_check_events_lost_total", {"counter", {}}},
  };
  for (const auto& [name, want] : expected) {
    ASSERT_TRUE(p.families.count(name)) << name;
    const Family& f = p.families.at(name);
    EXPECT_EQ(f.type, want.first) << name;
    ASSERT_FALSE(f.samples.empty()) << name;
    for (const auto& smp : f.samples) {
      std::vector<std::string> names;
      for (const auto& [k, v] : smp.labels) names.push_back(k);
      EXPECT_EQ(names, want.second) << name;
    }
  }
  EXPECT_EQ(p.families.at("vsrouter_real_up").samples.size(), 3u);
  EXPECT_EQ(p.families.at("vsrouter_check_up").samples.size(), 5u);
  constexpr size_t kReasons = static_cast<size_t>(check::Reason::kCount) - 1;  // all but "ok"
  EXPECT_EQ(p.families.at("vsrouter_check_failures_total").samples.size(), 5 * kReasons);
  // Every failure reason is in docs/metrics.md's health check section.
  const std::filesystem::path doc = std::filesystem::path(__FILE__).parent_path() / "../../docs/metrics.md";
  std::ifstream in(doc);
  if (!in) GTEST_SKIP() << "no " << doc;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const size_t from = text.find("\n## Health checks\n");
  ASSERT_NE(from, std::string::npos) << "no health check section in " << doc;
  const std::string section = text.substr(from, text.find("\n## ", from + 1) - from);
  for (size_t r = 1; r <= kReasons; ++r) {
    const std::string name(check::reason_name(static_cast<check::Reason>(r)));
    EXPECT_NE(section.find("| `" + name + "` |"), std::string::npos) << name << " is not in " << doc;
  }
}

// =============================================================================================
// MetricsServer on a real loop, with blocking loopback sockets on a client thread
// =============================================================================================

/// A socket connected to 127.0.0.1:port, with a receive timeout so that a test cannot hang.
int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

/// Everything until EOF (or a reset, or the 5 s receive timeout: then "<timeout>" is appended).
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) out += "<timeout>";
    if (n < 0 && errno == ECONNRESET) out += "<reset>";
    return out;
  }
}

std::string http(uint16_t port, std::string_view request) {
  int fd = connect_to(port);
  if (fd < 0) return "<connect failed>";
  std::string r = send_all(fd, request) ? read_all(fd) : "<send failed>";
  ::close(fd);
  return r;
}

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool complete = false;  // headers ended and the body has Content-Length bytes
};

Response parse_response(const std::string& raw) {
  Response r;
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos || !raw.starts_with("HTTP/1.1 ")) return r;
  r.status = std::atoi(raw.c_str() + 9);
  size_t pos = raw.find("\r\n") + 2;
  while (pos < end) {
    size_t eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    r.headers[name] = line.substr(colon + 2);
    pos = eol + 2;
  }
  r.body = raw.substr(end + 4);
  r.complete = r.headers.count("content-length") && std::to_string(r.body.size()) == r.headers["content-length"];
  return r;
}

class ServerTest : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }
  void TearDown() override {
    uv_run(&loop_, UV_RUN_DEFAULT);  // the close callbacks
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left open";
  }

  /// Starts a server on 127.0.0.1:0, runs `client(port)` on a thread while the loop runs here,
  /// then destroys the server (on the loop thread) and runs the loop until everything is closed.
  void serve(const MetricsLimits& lim, std::function<std::string()> render, std::function<void(uint16_t)> client) {
    auto r = MetricsServer::start(&loop_, "127.0.0.1:0", std::move(render), lim);
    ASSERT_TRUE(r) << r.error().message;
    server_ = std::move(r.value());
    const uint16_t port = server_->port();
    ASSERT_NE(port, 0);
    uv_async_t done{};
    done.data = this;
    uv_async_init(&loop_, &done, [](uv_async_t* a) {
      auto* self = static_cast<ServerTest*>(a->data);
      self->requests_ = self->server_->requests();
      self->refused_ = self->server_->refused();
      self->stats_ = self->server_->stats();
      self->server_.reset();
      uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
    });
    std::thread t([&] {
      client(port);
      uv_async_send(&done);
    });
    uv_run(&loop_, UV_RUN_DEFAULT);
    t.join();
  }

  static std::string body() { return "# HELP x y\n# TYPE x gauge\nx 1\n"; }

  uv_loop_t loop_{};
  std::unique_ptr<MetricsServer> server_;
  uint64_t requests_ = 0, refused_ = 0;
  metrics::HttpStats stats_;
};

TEST_F(ServerTest, GetMetricsAndOtherRequests) {
  std::atomic<int> renders{0};
  std::map<std::string, std::string> got;
  serve(
      {},
      [&] {
        ++renders;
        return body();
      },
      [&](uint16_t port) {
        for (const char* req : {
                 "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n",
                 "GET /metrics HTTP/1.0\r\n\r\n",
                 "GET /metrics?name[]=x HTTP/1.1\r\n\r\n",
                 "GET /metrics HTTP/1.0\n\n",
                 "HEAD /metrics HTTP/1.1\r\n\r\n",
                 "GET / HTTP/1.1\r\n\r\n",
                 "GET /metricsx HTTP/1.1\r\n\r\n",
                 "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
                 "HELLO\r\n\r\n",
                 "GET /metrics SPDY/3\r\n\r\n",
             })
          got[req] = http(port, req);
      });
  for (const char* req :
       {"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n", "GET /metrics HTTP/1.0\r\n\r\n",
        "GET /metrics?name[]=x HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.0\n\n"}) {
    Response r = parse_response(got[req]);
    EXPECT_EQ(r.status, 200) << req << " -> " << got[req];
    EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(r.headers["connection"], "close");
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.body, body());
  }
  Response head = parse_response(got["HEAD /metrics HTTP/1.1\r\n\r\n"]);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], std::to_string(body().size()));
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(parse_response(got["GET / HTTP/1.1\r\n\r\n"]).status, 404);
  EXPECT_EQ(parse_response(got["GET /metricsx HTTP/1.1\r\n\r\n"]).status, 404);
  Response post = parse_response(got["POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"]);
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["allow"], "GET, HEAD");
  EXPECT_EQ(parse_response(got["HELLO\r\n\r\n"]).status, 400);
  EXPECT_EQ(parse_response(got["GET /metrics SPDY/3\r\n\r\n"]).status, 400);
  EXPECT_EQ(renders.load(), 5);  // the four GETs and the HEAD
  EXPECT_EQ(requests_, 10u);
}

TEST_F(ServerTest, RequestInPiecesAndRenderFailure) {
  std::string split, half_closed, failed;
  std::atomic<bool> fail{false};
  serve(
      {},
      [&]() -> std::string {
        if (fail) throw std::runtime_error("no");
        return body();
      },
      [&](uint16_t port) {
        int fd = connect_to(port);
        ASSERT_GE(fd, 0);
        for (std::string_view piece : {"GE", "T /met", "rics HTTP/1.1\r", "\nHost: a\r\n", "\r\n"}) {
          send_all(fd, piece);
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        split = read_all(fd);
        ::close(fd);
        // A client that half-closes after its request (as `printf ... | nc -N` does) is answered.
        fd = connect_to(port);
        ASSERT_GE(fd, 0);
        send_all(fd, "GET /metrics HTTP/1.0\r\n\r\n");
        ::shutdown(fd, SHUT_WR);
        half_closed = read_all(fd);
        ::close(fd);
        fail = true;  // the loop thread reads it only inside the next request
        failed = http(port, "GET /metrics HTTP/1.1\r\n\r\n");
      });
  Response r = parse_response(split);
  EXPECT_EQ(r.status, 200) << split;
  EXPECT_EQ(parse_response(half_closed).status, 200) << half_closed;
  EXPECT_EQ(r.body, body());
  EXPECT_EQ(parse_response(failed).status, 500) << failed;
}

TEST_F(ServerTest, OversizedRequestGets431AndIsClosed) {
  std::string big, fits;
  serve({}, body, [&](uint16_t port) {
    // No end of headers within 8 KiB: 431, then the connection is closed (and not reset: the
    // client reads the whole response).
    big = http(port, "GET /metrics HTTP/1.1\r\nX-Fill: " + std::string(9000, 'a') + "\r\n\r\n");
    // Just under the limit: served.
    std::string req = "GET /metrics HTTP/1.1\r\nX-Fill: ";
    req += std::string(8192 - req.size() - 4, 'b');
    req += "\r\n\r\n";
    EXPECT_EQ(req.size(), 8192u);
    fits = http(port, req);
  });
  Response r = parse_response(big);
  EXPECT_EQ(r.status, 431) << big.substr(0, 200);
  EXPECT_TRUE(r.complete) << big.substr(0, 200);
  EXPECT_EQ(parse_response(fits).status, 200) << fits.substr(0, 200);
}

TEST_F(ServerTest, IdleClientIsClosedAfterTheTimeout) {
  MetricsLimits lim;
  lim.request_timeout_ms = 200;  // the time to a complete request (timeout_ms stays 10 s)
  std::string idle, slow;
  double idle_s = 0;
  serve(lim, body, [&](uint16_t port) {
    int fd = connect_to(port);
    ASSERT_GE(fd, 0);
    auto t0 = std::chrono::steady_clock::now();
    idle = read_all(fd);  // nothing sent: closed by the server
    idle_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ::close(fd);
    // Trickling a byte at a time does not extend the deadline (slowloris).
    fd = connect_to(port);
    ASSERT_GE(fd, 0);
    for (int i = 0; i < 8; ++i) {
      if (!send_all(fd, "G")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    slow = read_all(fd);
    ::close(fd);
  });
  EXPECT_EQ(idle, "");
  EXPECT_GE(idle_s, 0.15);
  EXPECT_LT(idle_s, 3.0);
  EXPECT_TRUE(slow == "" || slow == "<reset>") << slow;
  EXPECT_EQ(stats_.timed_out, 2u);
}

TEST_F(ServerTest, IdleClientsAreEvictedOldestFirst) {
  constexpr int kExtra = 6;
  const uint32_t max = MetricsLimits{}.max_clients;
  std::string newest, after;
  int evicted = 0, held = 0;
  serve({}, body, [&](uint16_t port) {
    std::vector<int> fds;
    for (uint32_t i = 0; i < max + kExtra; ++i) {
      int fd = connect_to(port);
      ASSERT_GE(fd, 0);
      fds.push_back(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // distinct accept times
    }
    // Every slot is idle: each new connection closed the oldest one. The first kExtra are closed,
    // the last `max` are held.
    for (int i = 0; i < kExtra; ++i) {
      pollfd p{fds[i], POLLIN, 0};
      if (::poll(&p, 1, 3000) == 1) {
        char c;
        if (::recv(fds[i], &c, 1, 0) <= 0) ++evicted;
      }
    }
    for (uint32_t i = kExtra; i < fds.size(); ++i) {
      pollfd p{fds[i], POLLIN, 0};
      if (::poll(&p, 1, 0) == 0) ++held;
    }
    // The newest connection is served.
    send_all(fds.back(), "GET /metrics HTTP/1.1\r\n\r\n");
    newest = read_all(fds.back());
    for (int fd : fds) ::close(fd);
    after = http(port, "GET /metrics HTTP/1.1\r\n\r\n");
  });
  EXPECT_EQ(evicted, kExtra);
  EXPECT_EQ(held, static_cast<int>(max));
  EXPECT_EQ(parse_response(newest).status, 200) << newest;
  EXPECT_EQ(parse_response(after).status, 200) << after;
  EXPECT_EQ(stats_.evicted, static_cast<uint64_t>(kExtra));
  EXPECT_EQ(stats_.refused, 0u);
}

// The issue this guards against: 64 idle connections used to hold every slot for 10 s and lock
// Prometheus out. 200 idle connections, then a scrape: it must be answered within a second.
TEST_F(ServerTest, TwoHundredIdleConnectionsDoNotBlockAScrape) {
  std::string scrape;
  double scrape_s = 0;
  int opened = 0;
  serve({}, body, [&](uint16_t port) {
    std::vector<int> fds;
    for (int i = 0; i < 200; ++i) {
      int fd = connect_to(port);
      if (fd < 0) break;
      fds.push_back(fd);
    }
    opened = static_cast<int>(fds.size());
    auto t0 = std::chrono::steady_clock::now();
    int fd = connect_to(port);
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd >= 0 && send_all(fd, "GET /metrics HTTP/1.1\r\nAccept-Encoding: identity\r\n\r\n")) scrape = read_all(fd);
    scrape_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (fd >= 0) ::close(fd);
    for (int f : fds) ::close(f);
  });
  EXPECT_EQ(opened, 200);
  Response r = parse_response(scrape);
  EXPECT_EQ(r.status, 200) << scrape;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.body, body());
  EXPECT_LT(scrape_s, 1.0);
  EXPECT_GE(stats_.evicted, 200u - MetricsLimits{}.max_clients);
}

TEST_F(ServerTest, SlotsBusyWithRequestsRefuseNewConnections) {
  MetricsLimits lim;
  lim.max_clients = 2;
  std::string refused_read, a, b;
  serve(
      lim,
      [&] {
        return std::string(4 << 20, '#') + "\n";  // larger than the socket buffers: writing stays busy
      },
      [&](uint16_t port) {
        int fa = connect_to(port), fb = connect_to(port);
        ASSERT_GE(fa, 0);
        ASSERT_GE(fb, 0);
        send_all(fa, "GET /metrics HTTP/1.1\r\n\r\n");
        send_all(fb, "GET /metrics HTTP/1.1\r\n\r\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // both are being answered
        int fc = connect_to(port);
        ASSERT_GE(fc, 0);
        refused_read = read_all(fc);  // closed at once, unanswered
        ::close(fc);
        a = read_all(fa);
        b = read_all(fb);
        ::close(fa);
        ::close(fb);
      });
  EXPECT_TRUE(refused_read == "" || refused_read == "<reset>") << refused_read.substr(0, 100);
  EXPECT_EQ(parse_response(a).status, 200);
  EXPECT_EQ(parse_response(b).status, 200);
  EXPECT_EQ(stats_.refused, 1u);
  EXPECT_EQ(stats_.evicted, 0u);
}

std::string gunzip(const std::string& in) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return "<inflateInit2>";
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  char buf[16384];
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END && z.avail_in == 0 ? out : "<inflate " + std::to_string(rc) + ">";
}

TEST_F(ServerTest, GzipWhenAcceptEncodingAllowsIt) {
  // A real exposition (repetitive, as every scrape is), large enough to be worth compressing.
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "vsrouter_x_total{n=\"" + std::to_string(i) + "\"} " + std::to_string(i * 7) + "\n";
  std::map<std::string, std::string> got;
  const std::vector<std::string> reqs = {
      "GET /metrics HTTP/1.1\r\n\r\n",
      // What Prometheus sends.
      "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
      "Accept-Encoding: gzip\r\nUser-Agent: Prometheus/2.42.0\r\n\r\n",
      "GET /metrics HTTP/1.1\r\naccept-encoding: deflate, GZip;q=0.5\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nAccept-Encoding: *\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip;q=0\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip;q=0.000, *\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nAccept-Encoding: br, deflate\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nX-Accept-Encoding: gzip\r\n\r\n",
      "HEAD /metrics HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n",
  };
  serve(
      {}, [&] { return text; },
      [&](uint16_t port) {
        for (const auto& r : reqs) got[r] = http(port, r);
      });
  Response plain = parse_response(got[reqs[0]]);
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body, text);
  EXPECT_EQ(plain.headers.count("content-encoding"), 0u);
  for (size_t i : {1, 2, 3}) {
    Response r = parse_response(got[reqs[i]]);
    EXPECT_EQ(r.status, 200) << reqs[i];
    EXPECT_TRUE(r.complete) << reqs[i];
    EXPECT_EQ(r.headers["content-encoding"], "gzip") << reqs[i];
    EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_LT(r.body.size(), text.size() / 4) << reqs[i];
    EXPECT_EQ(gunzip(r.body), plain.body) << reqs[i];
  }
  for (size_t i : {4, 5, 6, 7}) {
    Response r = parse_response(got[reqs[i]]);
    EXPECT_EQ(r.headers.count("content-encoding"), 0u) << reqs[i];
    EXPECT_EQ(r.body, text) << reqs[i];
  }
  Response head = parse_response(got[reqs[8]]);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-encoding"], "gzip");
  EXPECT_EQ(head.headers["content-length"], std::to_string(parse_response(got[reqs[1]]).body.size()));
  EXPECT_EQ(head.body, "");
}

// A real scrape: `engine` with the process's own stats and the server's counters, served by
// MetricsServer, asked for gzip as Prometheus asks, decoded and checked. tests/promtool_check.sh
// runs the tests that call this with VS_SCRAPE_DIR set: each writes its scrape to
// $VS_SCRAPE_DIR/`name`.txt, and the script gives every file to `promtool check metrics`.
void real_scrape(const Engine& engine, std::string_view name) {
  uv_loop_t loop{};
  ASSERT_EQ(uv_loop_init(&loop), 0);
  MetricsServer* srv = nullptr;
  auto r = MetricsServer::start(&loop, "127.0.0.1:0", [&] {
    metrics::DaemonStats ds;
    ds.process = read_process_stats();
    ds.http = srv->stats();
    return render_metrics(engine, {{"wan", 1, 0, 2}, {"lan", 0, 0, 0}}, ds);
  });
  ASSERT_TRUE(r) << r.error().message;
  std::unique_ptr<MetricsServer> server = std::move(r.value());
  srv = server.get();
  const uint16_t port = server->port();
  std::string raw;
  uv_async_t done{};
  done.data = &server;
  uv_async_init(&loop, &done, [](uv_async_t* a) {
    static_cast<std::unique_ptr<MetricsServer>*>(a->data)->reset();
    uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
  });
  std::thread t([&] {
    http(port, "GET /metrics HTTP/1.1\r\n\r\n");  // so that requests_total is not 0
    raw = http(port, "GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
    uv_async_send(&done);
  });
  uv_run(&loop, UV_RUN_DEFAULT);
  t.join();
  EXPECT_EQ(uv_loop_close(&loop), 0);
  Response resp = parse_response(raw);
  ASSERT_EQ(resp.status, 200) << raw.substr(0, 200);
  ASSERT_EQ(resp.headers["content-encoding"], "gzip");
  const std::string text = gunzip(resp.body);
  Parsed p;
  std::string err;
  ASSERT_TRUE(parse_exposition(text, p, err)) << err;
  EXPECT_TRUE(has_line(text, "vsrouter_metrics_requests_total 1"));
  EXPECT_TRUE(p.families.count("process_resident_memory_bytes"));
  if (const char* dir = std::getenv("VS_SCRAPE_DIR"); dir && *dir) {
    const std::filesystem::path out = std::filesystem::path(dir) / (std::string(name) + ".txt");
    std::ofstream f(out, std::ios::binary);
    f << text;
    ASSERT_TRUE(f.good()) << out;
  }
}

TEST_F(RenderTest, RealScrapeOverHttp) {
  ASSERT_NO_FATAL_FAILURE(feed());
  ASSERT_NO_FATAL_FAILURE(real_scrape(*engine_, "render"));
}

// The health check families on a real scrape too (HealthRenderTest below).
TEST_F(HealthRenderTest, RealScrapeOverHttp) { ASSERT_NO_FATAL_FAILURE(real_scrape(rig_.engine, "health")); }

TEST_F(ServerTest, DestroyingTheServerClosesItsClients) {
  int fd = -1;
  serve({}, body, [&](uint16_t port) {
    fd = connect_to(port);
    send_all(fd, "GET /met");  // an unfinished request, pending when the server goes away
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  // serve() destroyed the server and ran the loop until every handle was closed.
  ASSERT_GE(fd, 0);
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 1000), 1);
  EXPECT_EQ(read_all(fd), "");
  ::close(fd);
}

TEST_F(ServerTest, StartErrors) {
  for (const char* bad : {"", "9100", "localhost:9100", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:x",
                          "1.2.3:80", "[::1]", "[::1]9100", "::1:9100", ":", ":x", ":65536", "::9100"}) {
    auto r = MetricsServer::start(&loop_, bad, body);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message,
              std::string("metrics address \"") + bad + "\": expected IPV4:PORT, :PORT or [IPV6]:PORT");
  }
  // ":PORT" is every IPv4 address (node_exporter's --web.listen-address=:9100).
  auto any = MetricsServer::start(&loop_, ":0", body);
  ASSERT_TRUE(any) << any.error().message;
  EXPECT_NE(any.value()->port(), 0);
  any.value().reset();
  auto a = MetricsServer::start(&loop_, "127.0.0.1:0", body);
  ASSERT_TRUE(a) << a.error().message;
  const std::string taken = "127.0.0.1:" + std::to_string(a.value()->port());
  auto b = MetricsServer::start(&loop_, taken, body);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().message, "metrics " + taken + ": address already in use");
  a.value().reset();
  // IPv6 literals, where the host has IPv6 loopback.
  auto c = MetricsServer::start(&loop_, "[::1]:0", body);
  if (c) {
    EXPECT_NE(c.value()->port(), 0);
  } else {
    EXPECT_EQ(c.error().message, "metrics [::1]:0: address not available");
  }
}

TEST(VrrpRender, EachInstanceItsStateOneHotAndItsCounters) {
  auto cfg = config::parse_config(R"(
[[interfaces]]
name = "wan"
mac = "02:00:00:00:0a:01"
addresses = ["10.0.0.2/24"]

[[vrrp_instances]]
name = "VI_1"
interface = "wan"
virtual_router_id = 51
priority = 255
virtual_ipaddress = ["10.0.0.100"]

[[vrrp_instances]]
name = "VI_2"
interface = "wan"
virtual_router_id = 52
virtual_ipaddress = ["10.0.0.101"]
track_script = [{ name = "chk", weight = -10 }]

[[vrrp_scripts]]
name = "chk"
script = "/bin/false"
)");
  ASSERT_TRUE(cfg) << cfg.error().message;
  test::MemSink sink;
  Engine e(cfg.value(), sink);
  e.start(Instant::from_micros(1'000'000));
  EXPECT_LINE(render_metrics(e, {}), R"(vsrouter_vrrp_script_up{script="chk"} 0)");
  e.script_exited(kVrrpScriptId | 0, 0, Instant::from_micros(1'100'000));
  EXPECT_LINE(render_metrics(e, {}), R"(vsrouter_vrrp_script_up{script="chk"} 1)");
  e.on_timer(Instant::from_micros(2'000'000));
  e.script_exited(kVrrpScriptId | 0, 1, Instant::from_micros(2'100'000));
  const std::string m = render_metrics(e, {});
  EXPECT_LINE(m, R"(vsrouter_vrrp_state{instance="VI_1",state="MASTER"} 1)");
  EXPECT_LINE(m, R"(vsrouter_vrrp_state{instance="VI_1",state="BACKUP"} 0)");
  EXPECT_LINE(m, R"(vsrouter_vrrp_state{instance="VI_2",state="BACKUP"} 1)");
  EXPECT_LINE(m, R"(vsrouter_vrrp_state{instance="VI_2",state="MASTER"} 0)");
  EXPECT_LINE(m, R"(vsrouter_vrrp_priority{instance="VI_1"} 255)");
  EXPECT_LINE(m, R"(vsrouter_vrrp_adverts_sent_total{instance="VI_1"} 2)") << "at 1 s and 2 s";
  EXPECT_LINE(m, R"(vsrouter_vrrp_became_master_total{instance="VI_2"} 0)");
  EXPECT_LINE(m, R"(vsrouter_vrrp_priority{instance="VI_2"} 90)");
  EXPECT_LINE(m, R"(vsrouter_vrrp_script_up{script="chk"} 0)");
  EXPECT_LINE(m, R"(vsrouter_vrrp_script_runs_total{script="chk"} 2)");
  EXPECT_LINE(m, R"(vsrouter_vrrp_script_failures_total{script="chk"} 1)");
  EXPECT_LINE(m, R"(vsrouter_vrrp_script_timeouts_total{script="chk"} 0)");
}

}  // namespace
}  // namespace vs::tap

#include "replay/diagram.hpp"

#include <cstdio>

#include "replay/describe.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace vs::replay {
namespace {

using namespace wire;

std::string ep(const IpAddr& a, uint16_t p) { return a.str(p); }

std::string stamp(int64_t us, int64_t origin) {
  char buf[32];
  const int64_t d = us - origin;
  std::snprintf(buf, sizeof buf, "%+lld.%06lld", static_cast<long long>(d / 1000000),
                static_cast<long long>((d < 0 ? -d : d) % 1000000));
  return buf;
}

/// Mermaid treats ';' as a statement end and '#' as an entity start.
std::string mermaid_text(std::string s) {
  for (char& c : s)
    if (c == ';') c = ',';
    else if (c == '#') c = ' ';
  return s;
}

}  // namespace

std::optional<Diagram> Diagram::make(const std::string& conn, std::string& err) {
  Diagram d;
  if (!conn.empty() && conn.find_first_not_of("0123456789") == std::string::npos && conn.size() <= 9) {
    d.index_ = static_cast<uint32_t>(std::stoul(conn));
    if (d.index_ > 0) return d;
  }
  if (auto e = parse_endpoint(conn, /*allow_no_port=*/false)) {
    d.client_ = e->addr;
    d.cport_ = *e->port;
    return d;
  }
  err = "--diagram " + conn +
        ": want N (the Nth connection scheduled, from 1) or CLIENT:PORT (the client's address and port: "
        "a.b.c.d:port or [2001:db8::1]:port)";
  return std::nullopt;
}

void Diagram::input(uint32_t iface, int64_t ts_us, std::span<const uint8_t> frame) { add(false, iface, ts_us, frame); }
void Diagram::output(uint32_t iface, int64_t ts_us, std::span<const uint8_t> frame) { add(true, iface, ts_us, frame); }

void Diagram::scheduled(int64_t ts_us, const ipvs::SchedNote& note) {
  if (note.chosen) conns_.push_back({ts_us, note});
}

namespace {

/// The addresses and the upper layer of one IP header of either family (an IPv6 one's extension
/// headers walked): false for a fragment other than the first or what does not parse.
struct Hop {
  IpAddr src, dst;
  uint8_t upper = 0;
  std::span<const uint8_t> payload;
};

std::optional<Hop> hop_of(std::span<const uint8_t> b) {
  if (b.empty()) return std::nullopt;
  if ((b[0] >> 4) == 4) {
    auto ip = Ipv4View<const uint8_t>::parse(b);
    if (!ip || ip->is_fragment()) return std::nullopt;
    return Hop{ip->src(), ip->dst(), number(ip->protocol()), ip->payload()};
  }
  auto ip = Ipv6View<const uint8_t>::parse(b);
  if (!ip) return std::nullopt;
  auto c = wire::walk(*ip, 8);
  if (!c || c->fragment) return std::nullopt;
  return Hop{IpAddr::from_v6(ip->src()), IpAddr::from_v6(ip->dst()), c->upper, ip->bytes().subspan(c->upper_offset)};
}

}  // namespace

void Diagram::add(bool sent, uint32_t iface, int64_t ts_us, std::span<const uint8_t> frame) {
  auto eth = EthernetView<const uint8_t>::parse(frame);
  if (!eth) return;
  if (eth->ethertype() != static_cast<uint16_t>(EtherType::kIpv4) &&
      eth->ethertype() != static_cast<uint16_t>(EtherType::kIpv6))
    return;
  auto outer = hop_of(eth->payload());
  if (!outer) return;
  Event e;
  e.sent = sent;
  e.iface = iface;
  e.ts_us = ts_us;
  e.mac_src = eth->src();
  e.mac_dst = eth->dst();
  e.src = e.inner_src = outer->src;
  e.dst = e.inner_dst = outer->dst;
  Hop l4 = *outer;
  if (outer->upper == number(IpProto::kIpip) || outer->upper == wire::ipv6_next::kIpv6) {  // a TUN packet
    auto in = hop_of(outer->payload);
    if (!in) return;
    e.ipip = true;
    e.inner_src = in->src;
    e.inner_dst = in->dst;
    l4 = *in;
  }
  e.proto = static_cast<IpProto>(l4.upper);
  if (e.proto == IpProto::kTcp) {
    auto t = TcpView<const uint8_t>::parse(l4.payload);
    if (!t) return;
    e.sport = t->sport();
    e.dport = t->dport();
    e.tcp_flags = t->flags();
    e.payload = static_cast<uint32_t>(t->payload().size());
  } else if (e.proto == IpProto::kUdp) {
    auto u = UdpView<const uint8_t>::parse(l4.payload);
    if (!u) return;
    e.sport = u->sport();
    e.dport = u->dport();
    e.payload = static_cast<uint32_t>(u->payload().size());
  } else {
    return;
  }
  events_.push_back(e);
}

bool Diagram::render(const config::Config& cfg, int64_t origin_us, std::string& out) const {
  const Conn* conn = nullptr;
  if (index_) {
    if (index_ <= conns_.size()) conn = &conns_[index_ - 1];
    if (!conn) {
      out = "--diagram " + std::to_string(index_) + ": the replay scheduled " + std::to_string(conns_.size()) +
            " connection" + (conns_.size() == 1 ? "" : "s");
      return false;
    }
  } else {
    for (const Conn& c : conns_)
      if (c.note.src() == client_ && c.note.flow.sport == cport_) {
        conn = &c;
        break;
      }
    if (!conn) {
      out = "--diagram " + ep(client_, cport_) + ": no connection from that client was scheduled";
      return false;
    }
  }
  const ipvs::SchedNote& n = conn->note;
  const IpAddr client = n.src();
  const uint16_t cport = n.flow.sport;
  const bool dr = n.chosen_method == config::Method::kDr;
  const std::string proto = n.flow.proto == IpProto::kTcp ? "TCP" : "UDP";

  std::string s = "sequenceDiagram\n";
  s += "  %% vsrouter replay --diagram: " + proto + " " + ep(client, cport) + " to " + ep(n.dst(), n.flow.dport) +
       ", " + std::string(config::method_name(n.chosen_method)) + " to " + ep(n.chosen_addr, n.chosen_port) + "\n";
  s += "  participant C as client " + ep(client, cport) + "\n";
  s += "  participant D as director (vsrouter)\n";
  s += "  participant R as real " + ep(n.chosen_addr, n.chosen_port) + "\n";
  bool noted = false;
  for (const Event& e : events_) {
    if (e.proto != n.flow.proto) continue;
    const bool from_client = e.inner_src == client && e.sport == cport;
    const bool to_client = e.inner_dst == client && e.dport == cport;
    if (!from_client && !to_client) continue;
    if (!noted && e.ts_us >= conn->ts_us) {
      s += "  Note over C,R: " + mermaid_text(describe_sched(n)) + "\n";
      noted = true;
    }
    const char* arrow = !e.sent ? (from_client ? "C->>D" : "R->>D") : (from_client ? "D->>R" : "D->>C");
    s += "  " + std::string(arrow) + ": " + stamp(e.ts_us, origin_us) + " " + cfg.interfaces[e.iface].name + " ";
    if (e.ipip)
      s += std::string(e.src.is_v4() && e.inner_src.is_v4() ? "IPIP " : "tunnel ") + e.src.str() + " → " + e.dst.str() +
           "<br/>inner ";
    s += ep(e.inner_src, e.sport) + " → " + ep(e.inner_dst, e.dport);
    if (e.proto == IpProto::kTcp) s += " [" + tcp_flags(e.tcp_flags) + "]";
    if (e.payload) s += " len " + std::to_string(e.payload);
    if (dr) s += "<br/>MAC " + e.mac_src.str() + " → " + e.mac_dst.str();
    s += "\n";
  }
  if (n.chosen_method != config::Method::kNat)
    s += "  Note over C,R: " + std::string(dr ? "DR" : "TUN") +
         ": the real answers the client directly, so replies do not pass the director\n";
  out = std::move(s);
  return true;
}

}  // namespace vs::replay

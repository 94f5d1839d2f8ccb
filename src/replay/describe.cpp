#include "replay/describe.hpp"

#include <algorithm>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace vs::replay {
namespace {

using namespace wire;

std::string icmp_desc(const Icmpv4View<const uint8_t>& m) {
  switch (m.type()) {
    case icmp_type::kEchoRequest:
    case icmp_type::kEchoReply:
      return std::string(m.type() == icmp_type::kEchoRequest ? "echo request" : "echo reply") + " id " +
             std::to_string(m.ident()) + " seq " + std::to_string(m.seq());
    case icmp_type::kDestUnreachable: {
      static const char* codes[] = {"net", "host", "protocol", "port", "fragmentation needed"};
      std::string s = "unreachable ";
      s += m.code() < 5 ? codes[m.code()] : ("code " + std::to_string(m.code())).c_str();
      if (m.code() == icmp_code::kFragNeeded) s += " mtu " + std::to_string(m.next_hop_mtu());
      if (auto q = m.quoted()) s += " (about " + q->src().str() + " > " + q->dst().str() + ")";
      return s;
    }
    case icmp_type::kTimeExceeded: {
      std::string s = "time exceeded";
      if (auto q = m.quoted()) s += " (about " + q->src().str() + " > " + q->dst().str() + ")";
      return s;
    }
    default: return "type " + std::to_string(m.type()) + " code " + std::to_string(m.code());
  }
}

std::string icmp6_desc(std::span<const uint8_t> b) {
  auto m = Icmpv6View<const uint8_t>::parse(b);
  if (!m) return "ICMPv6 (truncated)";
  auto about = [&]() -> std::string {
    if (auto q = Ipv6View<const uint8_t>::parse_quoted(m->data()))
      return " (about " + q->src().str() + " > " + q->dst().str() + ")";
    return "";
  };
  switch (m->type()) {
    case icmpv6_type::kEchoRequest:
    case icmpv6_type::kEchoReply:
      return std::string(m->type() == icmpv6_type::kEchoRequest ? "ICMPv6 echo request" : "ICMPv6 echo reply") +
             " id " + std::to_string(m->rest() >> 16) + " seq " + std::to_string(m->rest() & 0xffff);
    case icmpv6_type::kNeighSolicit:
    case icmpv6_type::kNeighAdvert: {
      auto nd = parse_nd(b);
      if (!nd) return "ICMPv6 ND (malformed)";
      if (m->type() == icmpv6_type::kNeighSolicit) return "ICMPv6 neighbour solicitation who-has " + nd->target.str();
      std::string s = "ICMPv6 neighbour advertisement " + nd->target.str();
      if (nd->link_addr) s += " is-at " + nd->link_addr->str();
      s += " [";
      if (nd->flags & nd_flag::kRouter) s += "R";
      if (nd->flags & nd_flag::kSolicited) s += "S";
      if (nd->flags & nd_flag::kOverride) s += "O";
      return s + "]";
    }
    case icmpv6_type::kDestUnreachable: {
      static const char* codes[] = {"no route", "prohibited", "beyond scope", "address", "port"};
      return std::string("ICMPv6 unreachable ") +
             (m->code() < 5 ? codes[m->code()] : ("code " + std::to_string(m->code())).c_str()) + about();
    }
    case icmpv6_type::kPacketTooBig: return "ICMPv6 packet too big mtu " + std::to_string(m->rest()) + about();
    case icmpv6_type::kTimeExceeded: return "ICMPv6 time exceeded" + about();
    case icmpv6_type::kParamProblem:
      return "ICMPv6 parameter problem code " + std::to_string(m->code()) + " pointer " + std::to_string(m->rest()) +
             about();
    default: return "ICMPv6 type " + std::to_string(m->type()) + " code " + std::to_string(m->code());
  }
}

std::string ipv6_desc(std::span<const uint8_t> b) {
  auto ip = Ipv6View<const uint8_t>::parse(b);
  if (!ip) return "IPv6 (malformed)";
  std::string s = ip->src().str() + " > " + ip->dst().str() + " hlim " + std::to_string(ip->hop_limit());
  auto c = walk(*ip, 8);
  if (!c) return s + " (bad extension headers)";
  if (c->fragment)
    s += " frag off " + std::to_string(c->frag_bytes) + (c->more ? " +" : "") + " id " + std::to_string(c->ident);
  if (c->fragment && c->frag_bytes != 0) return s + " next " + std::to_string(c->upper);
  const auto upper = ip->bytes().subspan(c->upper_offset);
  switch (c->upper) {
    case ipv6_next::kIcmpv6: return s + " " + icmp6_desc(upper);
    case ipv6_next::kTcp:
      if (auto t = TcpView<const uint8_t>::parse(upper))
        return s + " TCP " + std::to_string(t->sport()) + " > " + std::to_string(t->dport()) + " [" +
               tcp_flags(t->flags()) + "]";
      return s + " TCP (truncated)";
    case ipv6_next::kUdp:
      if (auto u = UdpView<const uint8_t>::parse(upper))
        return s + " UDP " + std::to_string(u->sport()) + " > " + std::to_string(u->dport()) + " len " +
               std::to_string(u->length() - 8);
      return s + " UDP (truncated)";
    default: return s + " next " + std::to_string(c->upper);
  }
}

}  // namespace

std::string tcp_flags(uint8_t f) {
  std::string s;
  const char* names = "FSRPAUEC";
  for (int i = 0; i < 8; ++i)
    if (f & (1u << i)) s += names[i];
  return s.empty() ? "none" : s;
}

std::string describe_frame(std::span<const uint8_t> frame) {
  auto eth = EthernetView<const uint8_t>::parse(frame);
  if (!eth) return "runt frame (" + std::to_string(frame.size()) + " bytes)";
  std::string l2 = eth->src().str() + " > " + eth->dst().str() + " ";
  if (eth->ethertype() == static_cast<uint16_t>(EtherType::kArp)) {
    auto a = ArpView<const uint8_t>::parse(eth->payload());
    if (!a) return l2 + "ARP (malformed)";
    if (a->oper() == 1) return l2 + "ARP who-has " + a->tpa().str() + " tell " + a->spa().str();
    if (a->oper() == 2) return l2 + "ARP " + a->spa().str() + " is-at " + a->sha().str();
    return l2 + "ARP op " + std::to_string(a->oper());
  }
  if (eth->ethertype() == static_cast<uint16_t>(EtherType::kIpv6)) return l2 + ipv6_desc(eth->payload());
  if (eth->ethertype() != static_cast<uint16_t>(EtherType::kIpv4)) {
    char t[8];
    std::snprintf(t, sizeof t, "%04x", eth->ethertype());
    return l2 + "ethertype 0x" + t;
  }
  auto ip = Ipv4View<const uint8_t>::parse(eth->payload());
  if (!ip) return l2 + "IPv4 (malformed)";
  std::string s = ip->src().str() + " > " + ip->dst().str() + " ttl " + std::to_string(ip->ttl());
  if (ip->is_fragment())
    s += " frag off " + std::to_string(ip->frag_offset()) + (ip->more_fragments() ? " +" : "") + " len " +
         std::to_string(ip->total_len());
  if (ip->frag_offset() != 0) return s + " proto " + std::to_string(number(ip->protocol()));
  switch (ip->protocol()) {
    case IpProto::kIcmp:
      if (auto m = Icmpv4View<const uint8_t>::parse(ip->payload())) return s + " ICMP " + icmp_desc(*m);
      return s + " ICMP (truncated)";
    case IpProto::kTcp:
      if (auto t = TcpView<const uint8_t>::parse(ip->payload()))
        return s + " TCP " + std::to_string(t->sport()) + " > " + std::to_string(t->dport()) + " [" +
               tcp_flags(t->flags()) + "]";
      return s + " TCP (truncated)";
    case IpProto::kUdp:
      if (auto u = UdpView<const uint8_t>::parse(ip->payload()))
        return s + " UDP " + std::to_string(u->sport()) + " > " + std::to_string(u->dport()) + " len " +
               std::to_string(u->length() - 8);
      return s + " UDP (truncated)";
    case IpProto::kIpip:
      if (auto in = Ipv4View<const uint8_t>::parse(ip->payload()))
        return s + " IPIP [" + in->src().str() + " > " + in->dst().str() + "]";
      return s + " IPIP (malformed inner)";
    default: return s + " proto " + std::to_string(number(ip->protocol()));
  }
}

std::string describe_sched(const ipvs::SchedNote& n) {
  const std::string_view sched = n.svc ? std::string_view(n.svc->scheduler) : std::string_view("?");
  auto ep = [](const IpAddr& a, uint16_t p) { return a.str(p); };
  std::string s(n.from_template ? "persistence template" : sched);
  s += std::string(" ") +
       (n.flow.proto == IpProto::kTcp   ? "TCP"
        : n.flow.proto == IpProto::kUdp ? "UDP"
                                        : "proto") +
       " " + ep(n.dst(), n.flow.dport) + " for " + ep(n.src(), n.flow.sport) + ":";
  if (n.from_template) {
    s += " a template for the client's network exists, no scheduler ran";
  } else {
    // The overhead each family compares (sched/common.hpp): (active << 8) + inactive for the lc
    // family, active + 1 for sed and nq; none for the others.
    const bool lc = sched == "lc" || sched == "wlc" || sched == "lblc" || sched == "lblcr" || sched == "twos";
    const bool sed = sched == "sed" || sched == "nq";
    if (n.bucket >= 0) s += " bucket " + std::to_string(n.bucket) + ";";
    const uint32_t shown = std::min(n.n_dests, ipvs::SchedNote::kMaxDests);
    for (uint32_t i = 0; i < shown; ++i) {
      const auto& d = n.dests[i];
      s += (i ? ", " : " ") + ep(d.addr, d.port) + " w " + std::to_string(d.weight) + " act " +
           std::to_string(d.active) + " inact " + std::to_string(d.inactive);
      if (lc) s += " oh " + std::to_string(static_cast<int32_t>((d.active << 8) + d.inactive));
      if (sed) s += " oh " + std::to_string(d.active + 1);
      if (d.overloaded) s += " overloaded";
    }
    if (n.n_dests > shown) s += ", +" + std::to_string(n.n_dests - shown) + " more";
    if (n.n_dests == 0) s += " no reals";
  }
  if (!n.chosen) return s + " -> no real available";
  s += " -> " + ep(n.chosen_addr, n.chosen_port) + " (" + std::string(config::method_name(n.chosen_method)) + ")";
  if (n.new_template) s += ", new persistence template for " + std::to_string(n.svc ? n.svc->persistence : 0) + " s";
  return s;
}

std::string describe_verdict(const Verdict& v, const config::Config& cfg) {
  const std::string& ifn = cfg.interfaces[v.out_iface].name;
  switch (v.kind) {
    case Verdict::Kind::kForwarded: return "forwarded on " + ifn;
    case Verdict::Kind::kQueued: return "queued on " + ifn + " until ARP or Neighbour Discovery resolves the next hop";
    case Verdict::Kind::kConsumed: return "answered/learned by the router";
    case Verdict::Kind::kDropped: return "dropped: " + std::string(drop_name(v.reason));
  }
  return "?";
}

}  // namespace vs::replay

// The engine's IPVS paths for IPv6 services (docs/ipv6-services-plan.md): TCP and UDP toward an
// IPv6 VIP, after the extension-header walk handle_ipv6 made, by NAT (ip_vs_nat_xmit_v6) or DR
// (ip_vs_dr_xmit_v6), and NAT's replies real -> client. The director decides, as for IPv4
// (engine_ipvs.cpp); this file moves bytes. Not yet: TUN toward IPv6 reals, ICMPv6 errors about
// connections, IPv6 fragments (a fragment is routed, as IPv4's are when no service exists).
#include <cstring>

#include "engine.hpp"
#include "engine_impl.hpp"
#include "fwd/nat.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv6.hpp"

namespace vs {

namespace icmpv6_type = wire::icmpv6_type;
namespace icmpv6_code = wire::icmpv6_code;

std::optional<Verdict> Engine::ipvs_ingress6(uint32_t iface, ConstIp6 ip, const wire::Ipv6Chain& chain, bool l2_unicast,
                                             Instant now) noexcept {
  const bool tcp = chain.upper == wire::ipv6_next::kTcp;
  const auto l4 = ip.bytes().subspan(chain.upper_offset);
  // A header too short for its ports and flags is the router's to judge (forwarded or dropped
  // as any other datagram): IPVS never sees it (ip_vs_in: the header pointer fails).
  if (l4.size() < (tcp ? 20u : 8u)) return std::nullopt;
  const FlowAddr6 a{ip.src(), ip.dst()};
  PacketSummary p;
  p.key = FlowKey::folded(a, wire::load16(l4, 0), wire::load16(l4, 2), tcp ? IpProto::kTcp : IpProto::kUdp);
  p.tcp_flags = tcp ? l4[13] : 0;
  p.l4_offset = static_cast<uint16_t>(chain.upper_offset);
  auto d = director_.classify(p, now, &a);
  switch (d.kind) {
    case ipvs::Decision::Kind::kPass: return std::nullopt;
    case ipvs::Decision::Kind::kDrop: return drop(d.reason);
    case ipvs::Decision::Kind::kNoDest:
      // ip_vs_leave: ICMPv6 port unreachable (1/4) from the VIP, and drop.
      send_icmp6_error(icmpv6_type::kDestUnreachable, icmpv6_code::kPortUnreachable, 0, iface, ip, l2_unicast, now);
      return drop(DropReason::kVsNoReal);
    case ipvs::Decision::Kind::kIn: {
      director_.in_packet(d.conn, p.tcp_flags, static_cast<uint32_t>(ip.bytes().size()), now);
      Verdict v = ipvs_xmit6(d.conn, iface, ip, chain, now);
      director_.put(d.conn, now);
      return v;
    }
    case ipvs::Decision::Kind::kOut: return ipvs_out6(d.conn, iface, ip, chain, p.tcp_flags, now);
  }
  return std::nullopt;
}

Verdict Engine::ipvs_xmit6(uint32_t c, uint32_t iface, ConstIp6 ip, const wire::Ipv6Chain& chain,
                           Instant now) noexcept {
  const conn::Conn& cn = director_.conns()[c];
  const conn::ConnAddr6& a = director_.conns().addr6(c);
  // __ip_vs_get_out_rt_v6: the route to the real (none: address unreachable, ip6_link_failure),
  // the hop limit, the MTU (Packet Too Big; IPv6 is never fragmented on the way). Errors come
  // from the VIP the packet was sent to (send_icmp6_error takes a VIP as ours).
  auto rt = routes6_.lookup(a.d);
  if (!rt) {
    send_icmp6_error(icmpv6_type::kDestUnreachable, icmpv6_code::kAddrUnreachable, 0, iface, ip, true, now);
    return drop(DropReason::kNoRoute);
  }
  if (ip.hop_limit() <= 1) {
    send_icmp6_error(icmpv6_type::kTimeExceeded, icmpv6_code::kHopLimit, 0, iface, ip, true, now);
    return drop(DropReason::kTtlExceeded);
  }
  const uint32_t mtu = cfg_->interfaces[rt->iface].mtu;
  if (ip.bytes().size() > mtu) {
    send_icmp6_error(icmpv6_type::kPacketTooBig, 0, mtu, iface, ip, true, now);
    return drop(DropReason::kFragNeeded);
  }
  std::span<uint8_t> out = forward_copy6(rt->iface, ip);
  const Offload off = rx_off_;
  Ipv6Addr next_hop = rt->next_hop;
  if (cn.method == config::Method::kNat)
    fwd::nat6(out.subspan(kEth), chain.upper_offset, cn.proto, /*src=*/false, a.d, cn.dport, off.csum_partial);
  else next_hop = a.d;  // DR: the real is on-link (config checks it): its MAC, the packet untouched
  counters_.forwarded++;
  return send_forwarded6(rt->iface, next_hop, out, off, now);
}

Verdict Engine::ipvs_out6(uint32_t c, uint32_t iface, ConstIp6 ip, const wire::Ipv6Chain& chain, uint8_t tcp_flags,
                          Instant now) noexcept {
  // A reply real -> client through us. The hop limit is the router's business, about the packet
  // as it arrived (as for IPv4: the FORWARD hook runs after ip6_forward's check).
  if (ip.hop_limit() <= 1) return forward6(iface, ip, now);
  const conn::Conn& cn = director_.conns()[c];
  Rewrite6 rw;
  const bool nat = cn.method == config::Method::kNat;
  if (nat) rw = {true, director_.conns().addr6(c).v, cn.vport, chain.upper_offset, cn.proto};
  director_.out_packet(c, tcp_flags, static_cast<uint32_t>(ip.bytes().size()), now);
  Verdict v = forward6(iface, ip, now, nat ? &rw : nullptr);
  director_.put(c, now);
  return v;
}

}  // namespace vs

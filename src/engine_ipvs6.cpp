// The engine's IPVS paths for IPv6 services (docs/ipv6-services-plan.md): TCP and UDP toward an
// IPv6 VIP, after the extension-header walk handle_ipv6 made, by NAT (ip_vs_nat_xmit_v6) or DR
// (ip_vs_dr_xmit_v6) or TUN (ip_vs_tunnel_xmit_v6; and across the families, which the kernel
// allows only for tunnels: IPv6 to an IPv4 real in protocol 41, IPv4 to an IPv6 real in IPv6),
// and NAT's replies real -> client. The director decides, as for IPv4 (engine_ipvs.cpp); this
// file moves bytes; ICMPv6 errors about connections are related as ip_vs_in_icmp_v6 /
// ip_vs_out_icmp_v6 relate them. Not yet: IPv6 fragments (a fragment is routed, as IPv4's are
// when no service exists).
#include <cstring>

#include "engine.hpp"
#include "engine_impl.hpp"
#include "fwd/nat.hpp"
#include "fwd/tun.hpp"
#include "gso.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv6.hpp"

namespace vs {

using wire::Icmpv6View;
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

Verdict Engine::ipvs_xmit6(uint32_t c, uint32_t iface, ConstIp6 ip, const wire::Ipv6Chain& chain, Instant now,
                           const Quote6* icmp) noexcept {
  const conn::Conn& cn = director_.conns()[c];
  const conn::ConnAddr6& a = director_.conns().addr6(c);
  const bool tun = cn.method == config::Method::kTun;
  if (tun && a.d.is_v4_mapped()) return ipvs_xmit_6in4(c, iface, ip, icmp != nullptr, now);
  // __ip_vs_get_out_rt_v6: the route to the real (none: address unreachable, ip6_link_failure),
  // the hop limit, the MTU (Packet Too Big about the datagram with its hop limit already one less;
  // IPv6 is never fragmented on the way). Errors come from the VIP the packet was sent to
  // (send_icmp6_error takes a VIP as ours).
  auto rt = routes6_.lookup(a.d);
  if (auto v = xmit6_refused(iface, ip, rt.has_value(), now)) return *v;
  // TUN: the tunnel's MTU is the route's less the outer header; below IPv6's minimum the kernel
  // drops without a word ("mtu less than 1280").
  const size_t overhead = tun ? fwd::kIp6ipOverhead : 0;
  const uint32_t link = cfg_->interfaces[rt->iface].mtu;
  if (link < kIpv6MinMtu + overhead) return drop(DropReason::kTunnelMtu);
  const uint32_t mtu = link - static_cast<uint32_t>(overhead);
  std::span<uint8_t> out = forward_copy6(rt->iface, ip, overhead);
  if (ip.bytes().size() > mtu) {
    // Not about an ICMPv6 error (ensure_mtu_is_adequate: !ip_vs_iph_icmp), which is dropped.
    if (!icmp)
      send_icmp6_error(icmpv6_type::kPacketTooBig, 0, mtu, iface,
                       ConstIp6::unchecked(std::span<const uint8_t>(out).subspan(kEth + overhead)), true, now);
    return drop(DropReason::kFragNeeded);
  }
  const Offload off = rx_off_;
  Ipv6Addr next_hop = rt->next_hop;
  switch (cn.method) {
    case config::Method::kNat:
      if (icmp)
        fwd::nat_icmp6(out.subspan(kEth), chain.upper_offset, icmp->l4_offset, icmp->proto, /*in=*/true, a.d, cn.dport);
      else fwd::nat6(out.subspan(kEth), chain.upper_offset, cn.proto, /*src=*/false, a.d, cn.dport, off.csum_partial);
      break;
    case config::Method::kDr:
      next_hop = a.d;  // the real is on-link (config checks it): its MAC, the packet untouched
      break;
    case config::Method::kTun: {
      auto src = source_for6(rt->iface, a.d);
      if (!src) return drop(DropReason::kNoRoute);  // no usable address of ours yet (DAD)
      complete_deferred(out, overhead, off);
      counters_.forwarded++;
      return output_tunneled6({rt->iface, rt->next_hop, *src, a.d}, out, now);
    }
  }
  counters_.forwarded++;
  return send_forwarded6(rt->iface, next_hop, out, off, now);
}

std::optional<Verdict> Engine::xmit6_refused(uint32_t iface, ConstIp6 ip, bool routed, Instant now) noexcept {
  if (!routed) {
    send_icmp6_error(icmpv6_type::kDestUnreachable, icmpv6_code::kAddrUnreachable, 0, iface, ip, true, now);
    return drop(DropReason::kNoRoute);
  }
  if (ip.hop_limit() <= 1) {
    send_icmp6_error(icmpv6_type::kTimeExceeded, icmpv6_code::kHopLimit, 0, iface, ip, true, now);
    return drop(DropReason::kTtlExceeded);
  }
  return std::nullopt;
}

void Engine::complete_deferred(std::span<uint8_t> out, size_t encap, const Offload& off) noexcept {
  // A receiver completes a deferred checksum at csum_start of the outermost datagram: behind a
  // tunnel's header it is done here (IPv6 has no segmentation offload here: gso_valid_v6).
  if (!off.csum_partial) return;
  gso::complete_checksum(out.subspan(off.csum_start + encap), off.csum_offset);
  counters_.csum_completed++;
}

Verdict Engine::ipvs_xmit_6in4(uint32_t c, uint32_t iface, ConstIp6 ip, bool icmp_error, Instant now) noexcept {
  // An IPv6 service's IPv4 real (ip_vs_tunnel_xmit with cp->af == AF_INET6): an IPv4 route, the
  // checks of the inner family (__ip_vs_get_out_rt with skb_af AF_INET6), protocol 41 outside.
  const Ipv4Addr real = IpAddr::from_v6(director_.conns().addr6(c).d).v4();
  auto rt = routes_.lookup(real);
  if (auto v = xmit6_refused(iface, ip, rt.has_value(), now)) return *v;
  const uint32_t link = cfg_->interfaces[rt->iface].mtu;
  if (link < kIpv4MinMtu + fwd::kIpipOverhead) return drop(DropReason::kTunnelMtu);  // "mtu less than 68"
  const uint32_t mtu = link - static_cast<uint32_t>(fwd::kIpipOverhead);
  std::span<uint8_t> out = forward_copy6(rt->iface, ip, fwd::kIpipOverhead, wire::EtherType::kIpv4);
  if (ip.bytes().size() > mtu) {
    if (icmp_error) return drop(DropReason::kFragNeeded);
    send_icmp6_error(icmpv6_type::kPacketTooBig, 0, mtu, iface,
                     ConstIp6::unchecked(std::span<const uint8_t>(out).subspan(kEth + fwd::kIpipOverhead)), true, now);
    return drop(DropReason::kFragNeeded);
  }
  complete_deferred(out, fwd::kIpipOverhead, rx_off_);
  fwd::ipip_encap6(out.subspan(kEth), source_for(rt->iface, rt->next_hop), real, next_ip_id());
  counters_.forwarded++;
  return output_ip(rt->iface, rt->next_hop, out, now);
}

Verdict Engine::ipvs_xmit_4in6(uint32_t c, ConstIp ip, Instant now) noexcept {
  // An IPv4 service's IPv6 real (ip_vs_tunnel_xmit_v6 with cp->af == AF_INET): an IPv6 route, the
  // checks of the inner family (__ip_vs_get_out_rt_v6 with skb_af AF_INET: TTL, DF and frag
  // needed), next header 4 outside. Errors come from the VIP, as ipvs_xmit's.
  const Ipv6Addr& real = director_.conns().addr6(c).d;
  const Ipv4Addr vip = ip.dst();
  auto rt = routes6_.lookup(real);
  std::optional<Ipv6Addr> src;
  if (rt) src = source_for6(rt->iface, real);
  if (auto v = xmit_refused(ip, src.has_value(), now)) return *v;
  const uint32_t link = cfg_->interfaces[rt->iface].mtu;
  if (link < kIpv6MinMtu + fwd::kIp6ipOverhead) return drop(DropReason::kTunnelMtu);
  const uint32_t mtu = link - static_cast<uint32_t>(fwd::kIp6ipOverhead);
  constexpr size_t kInner = kEth + fwd::kIp6ipOverhead;
  std::span<uint8_t> out(scratch_.data() + kHeadroom, kInner + ip.total_len());
  wire::fill_ethernet(out, MacAddr{}, cfg_->interfaces[rt->iface].mac, wire::EtherType::kIpv6);
  std::memcpy(out.data() + kInner, ip.bytes().data(), ip.total_len());
  Ipv4View<uint8_t>::unchecked(out.subspan(kInner)).decrement_ttl();
  // As ipvs_xmit: DF and too long for the tunnel -> frag needed with the tunnel's MTU, quoting the
  // datagram with its TTL one less; not for ICMP. Without DF the kernel fragments the outer IPv6
  // datagram; we fragment the inner one instead (docs/ipv6.md), which the real reassembles alike.
  if (wire_len(ip) > mtu && ip.dont_fragment() && ip.protocol() != IpProto::kIcmp) {
    send_icmp_error(icmp_type::kDestUnreachable, icmp_code::kFragNeeded, mtu & 0xffff,
                    ConstIp::unchecked(std::span<const uint8_t>(out).subspan(kInner)), true, vip, now);
    return drop(DropReason::kFragNeeded);
  }
  Verdict v = send_tunneled6({rt->iface, rt->next_hop, *src, real}, out, mtu, now);
  if (v.kind != Verdict::Kind::kDropped) counters_.forwarded++;
  return v;
}

Verdict Engine::send_tunneled6(const Tunnel6& t, std::span<uint8_t> out, uint32_t mtu, Instant now) noexcept {
  constexpr size_t kInner = kEth + fwd::kIp6ipOverhead;
  auto inner = Ipv4View<uint8_t>::unchecked(out.subspan(kInner));
  const Offload& off = rx_off_;
  if (off.gso_size) {
    // Cut here, each segment in its own tunnel packet (a kernel would not segment IPv6 carrying
    // IPv4 marked as plain TCP), each segment fragmented if it is still too long.
    auto sip = ConstIp::unchecked(std::span<const uint8_t>(inner.bytes()));
    Verdict v{Verdict::Kind::kForwarded, {}, t.iface};
    counters_.gso_segmented++;
    const size_t n = gso::segment_count(sip, off.gso_size);
    for (size_t i = 0; i < n; ++i) {
      std::span<uint8_t> seg(seg_buf_.data() + kHeadroom, seg_buf_.size() - kHeadroom);
      std::memcpy(seg.data(), out.data(), kInner);
      const size_t len = gso::segment(sip, off.gso_size, i, seg.subspan(kInner));
      seg = seg.first(kInner + len);
      combine(v, len > mtu ? fragment_and_send(ConstIp::unchecked(std::span<const uint8_t>(seg).subspan(kInner)),
                                               t.iface, {}, mtu, 0, now, &t)
                           : output_tunneled6(t, seg, now));
    }
    return v;
  }
  if (off.csum_partial) {
    gso::complete_checksum(inner);
    counters_.csum_completed++;
  }
  if (inner.total_len() > mtu)
    return fragment_and_send(ConstIp::unchecked(std::span<const uint8_t>(out).subspan(kInner)), t.iface, {}, mtu, 0,
                             now, &t);
  return output_tunneled6(t, out, now);
}

Verdict Engine::output_tunneled6(const Tunnel6& t, std::span<uint8_t> frame, Instant now) noexcept {
  fwd::ip6_encap(frame.subspan(kEth), t.src, t.dst);
  return output_ip6(t.iface, t.next_hop, frame, now);
}

std::optional<Verdict> Engine::ipvs_icmp6(uint32_t iface, ConstIp6 ip, const wire::Ipv6Chain& chain,
                                          Instant now) noexcept {
  // ip_vs_in_icmp_v6 / ip_vs_out_icmp_v6: every ICMPv6 error (types 0-127; informational ones
  // are not related, ICMPV6_INFOMSG_MASK) whose quote is TCP or UDP of a connection: the quote's
  // extension headers walked as the kernel's ipv6_find_hdr does, an inner non-first fragment
  // left alone.
  const auto body = ip.bytes().subspan(chain.upper_offset);
  auto icmp = Icmpv6View<const uint8_t>::parse(body);
  if (!icmp || !Icmpv6View<const uint8_t>::is_error_type(icmp->type())) return std::nullopt;
  auto q = ConstIp6::parse_quoted(body.subspan(Icmpv6View<const uint8_t>::kHeaderLen));
  if (!q) return std::nullopt;
  auto qc = wire::walk(*q, kMaxExtHeaders);
  if (!qc || (qc->fragment && qc->frag_bytes != 0)) return std::nullopt;
  if (qc->upper != wire::ipv6_next::kTcp && qc->upper != wire::ipv6_next::kUdp) return std::nullopt;
  const auto l4 = q->bytes().subspan(qc->upper_offset);
  if (l4.size() < 4) return std::nullopt;
  const IpProto proto = qc->upper == wire::ipv6_next::kTcp ? IpProto::kTcp : IpProto::kUdp;
  // The quoted datagram travels the other way: look its flow up reversed.
  const FlowAddr6 a{q->dst(), q->src()};
  auto hit = director_.lookup(FlowKey::folded(a, wire::load16(l4, 2), wire::load16(l4, 0), proto), &a);
  if (!hit) return std::nullopt;
  const conn::Conn& cn = director_.conns()[hit->idx];
  const bool nat = cn.method == config::Method::kNat;
  if (nat && !icmp->verify_checksum(ip.src(), ip.dst())) return drop(DropReason::kIcmpBadChecksum);
  const uint32_t len = static_cast<uint32_t>(ip.bytes().size());
  const Quote6 quote{qc->upper_offset, proto};
  if (!hit->out) {
    // client -> VIP, about a reply it got: to the real by the connection's method.
    director_.count_in(hit->idx, len);
    return ipvs_xmit6(hit->idx, iface, ip, chain, now, &quote);
  }
  if (!nat) return std::nullopt;  // DR/TUN replies do not pass us: the router forwards it
  // real -> client, about the request it got: the client must see the VIP.
  if (ip.hop_limit() <= 1) return forward6(iface, ip, now);
  director_.count_out(hit->idx, len);
  const Rewrite6 rw{true, director_.conns().addr6(hit->idx).v, cn.vport, chain.upper_offset, proto, quote};
  return forward6(iface, ip, now, &rw);
}

void Engine::ipvs_count_own_icmp6(ConstIp6 about, size_t ip_len) noexcept {
  // As ipvs_count_own_icmp: an error about a client's datagram of a DR/TUN connection.
  if (!director_.has_ipv6_services()) return;
  auto qc = wire::walk(about, kMaxExtHeaders);
  if (!qc || (qc->fragment && qc->frag_bytes != 0)) return;
  if (qc->upper != wire::ipv6_next::kTcp && qc->upper != wire::ipv6_next::kUdp) return;
  const auto l4 = about.bytes().subspan(qc->upper_offset);
  if (l4.size() < 4) return;
  const FlowAddr6 a{about.dst(), about.src()};
  const IpProto proto = qc->upper == wire::ipv6_next::kTcp ? IpProto::kTcp : IpProto::kUdp;
  auto hit = director_.lookup(FlowKey::folded(a, wire::load16(l4, 2), wire::load16(l4, 0), proto), &a);
  if (hit && hit->out) director_.count_out(hit->idx, static_cast<uint32_t>(ip_len));
}

Verdict Engine::ipvs_out6(uint32_t c, uint32_t iface, ConstIp6 ip, const wire::Ipv6Chain& chain, uint8_t tcp_flags,
                          Instant now) noexcept {
  // A reply real -> client through us. The hop limit is the router's business, about the packet
  // as it arrived (as for IPv4: the FORWARD hook runs after ip6_forward's check).
  if (ip.hop_limit() <= 1) return forward6(iface, ip, now);
  const conn::Conn& cn = director_.conns()[c];
  Rewrite6 rw;
  const bool nat = cn.method == config::Method::kNat;
  if (nat) rw = {true, director_.conns().addr6(c).v, cn.vport, chain.upper_offset, cn.proto, std::nullopt};
  director_.out_packet(c, tcp_flags, static_cast<uint32_t>(ip.bytes().size()), now);
  Verdict v = forward6(iface, ip, now, nat ? &rw : nullptr);
  director_.put(c, now);
  return v;
}

}  // namespace vs

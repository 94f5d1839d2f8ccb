// The engine's IPVS paths: packets of virtual services (client -> real by NAT/DR/TUN, NAT replies
// real -> client), ICMP errors about those connections, and IPIP decapsulation for vsrouter as a
// real server's tunnel endpoint. The director (ipvs/director.*) decides; this file moves bytes.
// Order follows the kernel's hooks: IPVS sees a packet before local delivery and forwarding.
#include <cstring>

#include "engine.hpp"
#include "engine_impl.hpp"
#include "fwd/nat.hpp"
#include "fwd/tun.hpp"
#include "wire/ipv6.hpp"

namespace vs {

namespace {

/// Ports of a TCP/UDP header that may be cut short (quoted): the first 4 bytes suffice.
bool ports_of(std::span<const uint8_t> l4, uint16_t& sport, uint16_t& dport) {
  if (l4.size() < 4) return false;
  sport = wire::load16(l4, 0);
  dport = wire::load16(l4, 2);
  return true;
}

bool related_icmp_type(uint8_t t) {
  // IPVS translates only these (ip_vs_in_icmp / ip_vs_out_icmp).
  return t == icmp_type::kDestUnreachable || t == icmp_type::kSourceQuench || t == icmp_type::kTimeExceeded;
}

}  // namespace

std::optional<Verdict> Engine::ipvs_ingress(uint32_t iface, std::span<const uint8_t> frame, ConstIp ip,
                                            const PacketSummary& pkt, bool l2_unicast, Instant now,
                                            int depth) noexcept {
  if (pkt.fragment) return std::nullopt;  // IPVS needs ports; fragments are routed as they are
  const IpProto proto = pkt.key.proto;
  const uint8_t flags = pkt.tcp_flags;

  if (is_tcp_or_udp(proto)) {
    auto d = director_.classify(pkt, now);
    switch (d.kind) {
      case ipvs::Decision::Kind::kPass: return std::nullopt;
      case ipvs::Decision::Kind::kDrop: return drop(d.reason);
      case ipvs::Decision::Kind::kNoDest:
        // ip_vs_leave: ICMP port unreachable from the VIP, and drop.
        send_icmp_error(icmp_type::kDestUnreachable, icmp_code::kPortUnreachable, 0, ip, l2_unicast, ip.dst(), now);
        return drop(DropReason::kVsNoReal);
      case ipvs::Decision::Kind::kIn: {
        director_.in_packet(d.conn, flags, ip.total_len(), now);
        if (d.created && health_.passive_any()) passive_watch(d.conn, now);
        Verdict v = ipvs_xmit(d.conn, ip, /*icmp_error=*/false, now);
        director_.put(d.conn, now);
        return v;
      }
      case ipvs::Decision::Kind::kOut: return ipvs_out(d.conn, ip, flags, now);
    }
  }
  if (proto == IpProto::kIcmp) return ipvs_icmp(ip, now);

  // IPIP to one of the router's own addresses: decapsulate and route the inner packet, as a
  // kernel tunl0 device would deliver it (vsrouter as the tunnel endpoint of a real server).
  // IPv6 in IPv4 (protocol 41, RFC 4213 §3.5) to an interface with IPv6: the same, in
  // engine_ip6.cpp (IPVS's TUN from an IPv4 director to an IPv6-capable real).
  if (number(proto) == wire::ipv6_next::kIpv6 && is_router_address(ip.dst()) && !ip.is_fragment() &&
      cfg_->interfaces[iface].ipv6())
    return decapsulate(iface, ip.payload(), true, frame.data(), l2_unicast, now, depth);
  if (proto == IpProto::kIpip && is_router_address(ip.dst())) {
    if (depth > 0) return drop(DropReason::kIpipNested);
    auto inner = ConstIp::parse(ip.payload());
    if (!inner) return drop(DropReason::kIpipTruncated);
    const size_t len = inner->total_len();
    std::span<uint8_t> out(decap_buf_.data() + kHeadroom, kEth + len);
    std::memcpy(out.data(), frame.data(), kEth);  // the outer frame's Ethernet header
    std::memcpy(out.data() + kEth, inner->bytes().data(), len);
    return handle_ipv4(iface, out, l2_unicast, now, depth + 1);
  }
  return std::nullopt;
}

Verdict Engine::ipvs_xmit(uint32_t c, ConstIp ip, bool icmp_error, Instant now) noexcept {
  const conn::Conn& cn = director_.conns()[c];
  if (cn.flags & conn::kFlagDest6) return ipvs_xmit_4in6(c, ip, now);  // TUN to an IPv6 real
  const Ipv4Addr vip = ip.dst();  // errors about the packet come from the address it was sent to
  auto rt = routes_.lookup(cn.daddr);
  if (auto v = xmit_refused(ip, rt.has_value(), now)) return *v;
  const bool tun = cn.method == config::Method::kTun;
  const size_t overhead = tun ? fwd::kIpipOverhead : 0;
  const uint32_t mtu = cfg_->interfaces[rt->iface].mtu;
  std::span<uint8_t> out(scratch_.data() + kHeadroom, kEth + ip.total_len() + overhead);
  wire::fill_ethernet(out, MacAddr{}, cfg_->interfaces[rt->iface].mac, wire::EtherType::kIpv4);
  std::memcpy(out.data() + kEth + overhead, ip.bytes().data(), ip.total_len());
  auto inner = Ipv4View<uint8_t>::unchecked(out.subspan(kEth + overhead));
  inner.decrement_ttl();
  // ip_vs_xmit MTU check: DF and too long (after encapsulation) -> ICMP frag needed with the MTU
  // the client can use; not for ICMP (the kernel skips the check for it). It runs after
  // decrement_ttl() in __ip_vs_get_out_rt, so the error quotes the datagram with its TTL-1.
  // A super-frame is judged by its segments (they are what the wire carries).
  if (wire_len(ip) + overhead > mtu && ip.dont_fragment() && ip.protocol() != IpProto::kIcmp) {
    send_icmp_error(icmp_type::kDestUnreachable, icmp_code::kFragNeeded, (mtu - overhead) & 0xffff,
                    ConstIp::unchecked(std::span<const uint8_t>(out).subspan(kEth + overhead)), true, vip, now);
    return drop(DropReason::kFragNeeded);
  }
  Ipv4Addr next_hop = rt->next_hop;
  switch (cn.method) {
    case config::Method::kNat:
      if (icmp_error) fwd::nat_icmp_in(inner, cn.daddr, cn.dport);
      else fwd::nat_in(inner, cn.daddr, cn.dport, rx_off_.csum_partial);
      break;
    case config::Method::kDr:
      next_hop = cn.daddr;  // the real is on-link (config checks it): its MAC, IP untouched
      break;
    case config::Method::kTun:
      fwd::ipip_encap(out.subspan(kEth), source_for(rt->iface, rt->next_hop), cn.daddr, next_ip_id());
      break;
  }
  Verdict v = send_datagram(*rt, next_hop, out, overhead, now);
  if (v.kind != Verdict::Kind::kDropped) counters_.forwarded++;
  return v;
}

std::optional<Verdict> Engine::xmit_refused(ConstIp ip, bool routed, Instant now) noexcept {
  // __ip_vs_get_out_rt: no route to the real (ipv4_link_failure: host unreachable), then the TTL
  // (decrement_ttl); the errors come from the VIP the datagram was sent to.
  if (!routed) {
    send_icmp_error(icmp_type::kDestUnreachable, icmp_code::kHostUnreachable, 0, ip, true, ip.dst(), now);
    return drop(DropReason::kNoRoute);
  }
  if (ip.ttl() <= 1) {
    send_icmp_error(icmp_type::kTimeExceeded, icmp_code::kTtlExceeded, 0, ip, true, ip.dst(), now);
    return drop(DropReason::kTtlExceeded);
  }
  return std::nullopt;
}

void Engine::passive_watch(uint32_t c, Instant now) noexcept {
  // passive_check: Health watches one new NAT connection per real for the real's answer.
  const conn::Conn& cn = director_.conns()[c];
  if (cn.method == config::Method::kNat && cn.proto == IpProto::kTcp && cn.svc &&
      health_.passive_watch(cn.proto, cn.vaddr, cn.vport, cn.daddr, cn.dport, cn.caddr, cn.cport, now))
    director_.await_reply(c);
}

Verdict Engine::ipvs_out(uint32_t c, ConstIp ip, uint8_t tcp_flags, Instant now) noexcept {
  // A reply real -> client through us. TTL expiry is the router's business, about the packet as
  // it arrived (the kernel's FORWARD hook runs after ip_forward's TTL check).
  if (ip.ttl() <= 1) return forward(ip, now);
  const conn::Conn& cn = director_.conns()[c];
  Rewrite rw;
  if (cn.method == config::Method::kNat) rw = {Rewrite::Kind::kNatOut, cn.vaddr, cn.vport};
  // passive_check: the real refused a new connection (a RST while the client's SYN waits).
  if (cn.method == config::Method::kNat && cn.proto == IpProto::kTcp && cn.state == conn::TcpState::kSynRecv &&
      (tcp_flags & tcp_flag::kRst) && cn.svc)
    health_.passive_failure(cn.proto, cn.vaddr, cn.vport, cn.daddr, cn.dport, now);
  director_.out_packet(c, tcp_flags, ip.total_len(), now);
  Verdict v = forward(ip, now, rw);
  director_.put(c, now);
  return v;
}

void Engine::ipvs_count_own_icmp(uint8_t type, ConstIp about, size_t icmp_len) noexcept {
  // An ICMP error the router sends passes the kernel's LOCAL_OUT hook, where ip_vs_out_icmp
  // looks the datagram it quotes up as an outgoing one, reversed (ip_vs_conn_out_get), and counts
  // the error in that connection's outgoing stats (handle_response_icmp). A client's datagram
  // reversed is VIP -> client: it finds a DR or TUN connection (whose replies come from the VIP),
  // never a NAT one (whose replies come from the real). So do we, by the same out lookup: frag
  // needed for a TUN packet, a relayed tunnel error, ...
  if (!related_icmp_type(type) || about.frag_offset() != 0 || !is_tcp_or_udp(about.protocol())) return;
  FlowKey k{about.dst(), about.src(), 0, 0, about.protocol()};
  if (!ports_of(about.payload(), k.dport, k.sport)) return;
  auto hit = director_.lookup(k);
  if (hit && hit->out) director_.count_out(hit->idx, static_cast<uint32_t>(icmp_len));
}

std::optional<Verdict> Engine::ipvs_icmp(ConstIp ip, Instant now) noexcept {
  auto icmp = Icmpv4View<const uint8_t>::parse(ip.payload());
  if (!icmp || !related_icmp_type(icmp->type())) return std::nullopt;
  auto q = icmp->quoted();
  if (!q || q->frag_offset() != 0) return std::nullopt;

  if (q->protocol() == IpProto::kIpip) {
    // An error about one of our tunnel packets: relay it to the client about its own packet
    // (ip_vs_in_icmp, "tunnel" case). It must be addressed to us.
    if (!is_local(ip.dst())) return std::nullopt;
    auto orig = ConstIp::parse_quoted(q->payload());
    FlowKey k{};
    if (!orig || orig->frag_offset() != 0 || !is_tcp_or_udp(orig->protocol())) return std::nullopt;
    k = {orig->src(), orig->dst(), 0, 0, orig->protocol()};
    if (!ports_of(orig->payload(), k.sport, k.dport)) return std::nullopt;
    auto hit = director_.lookup(k);
    if (!hit || hit->out) return std::nullopt;
    const conn::Conn& cn = director_.conns()[hit->idx];
    if (cn.method != config::Method::kTun || cn.daddr != q->dst()) return std::nullopt;
    if (!icmp->verify_checksum()) return drop(DropReason::kIcmpBadChecksum);
    uint32_t rest = icmp->rest();
    if (icmp->type() == icmp_type::kDestUnreachable && icmp->code() == icmp_code::kFragNeeded) {
      if (!q->dont_fragment()) return Verdict{Verdict::Kind::kConsumed, {}, 0};  // client does no PMTUD
      uint32_t mtu = icmp->next_hop_mtu();
      if (auto rt = routes_.lookup(cn.daddr)) mtu = std::min(mtu, cfg_->interfaces[rt->iface].mtu);
      if (mtu > 68 + fwd::kIpipOverhead) mtu -= fwd::kIpipOverhead;
      rest = mtu & 0xffff;
    }
    send_icmp_error(icmp->type(), icmp->code(), rest, *orig, true, orig->dst(), now);
    director_.count_out(hit->idx, orig->bytes().size());
    return Verdict{Verdict::Kind::kConsumed, {}, 0};
  }

  if (!is_tcp_or_udp(q->protocol())) return std::nullopt;
  // The quoted datagram travels the other way: look its flow up reversed.
  FlowKey k{q->dst(), q->src(), 0, 0, q->protocol()};
  if (!ports_of(q->payload(), k.dport, k.sport)) return std::nullopt;
  auto hit = director_.lookup(k);
  if (!hit) return std::nullopt;
  const conn::Conn& cn = director_.conns()[hit->idx];
  const bool nat = cn.method == config::Method::kNat;
  if (nat && !icmp->verify_checksum()) return drop(DropReason::kIcmpBadChecksum);
  if (!hit->out) {
    // client -> VIP, about a reply it got: to the real by the connection's method.
    director_.count_in(hit->idx, ip.total_len());
    return ipvs_xmit(hit->idx, ip, /*icmp_error=*/true, now);
  }
  if (!nat) return std::nullopt;  // DR/TUN replies do not pass us: the router forwards it
  // real -> client, about the request it got: the client must see the VIP.
  if (ip.ttl() <= 1) return forward(ip, now);
  director_.count_out(hit->idx, ip.total_len());
  return forward(ip, now, {Rewrite::Kind::kNatIcmpOut, cn.vaddr, cn.vport});
}

}  // namespace vs

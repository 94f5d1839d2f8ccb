// The engine's IPv6 router (docs/ipv6.md): Neighbour Discovery (RFC 4861) with Duplicate Address
// Detection (RFC 4862 §5.4), ICMPv6 (RFC 4443: echo, errors with the shared rate limit) and
// forwarding (RFC 8200: hop limit, no fragmentation by routers, Packet Too Big). An interface takes
// IPv6 when the config gives it an IPv6 address; it then also holds the link-local address formed
// from its MAC, as Linux does.
#include <algorithm>
#include <cstring>

#include "engine.hpp"
#include "engine_impl.hpp"
#include "fwd/nat.hpp"
#include "gso.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace vs {

using ConstIp6 = wire::Ipv6View<const uint8_t>;
using Ip6 = wire::Ipv6View<uint8_t>;
using wire::Icmpv6View;
namespace icmpv6_type = wire::icmpv6_type;
namespace icmpv6_code = wire::icmpv6_code;
namespace nd_flag = wire::nd_flag;

namespace {

/// RFC 4861 §6.1.1, §7.1: Neighbour Discovery messages must come with hop limit 255 (from the link).
constexpr uint8_t kNdHopLimit = 255;
/// The hop limit of datagrams the router originates (Linux's ip6_default_hoplimit, 64).
constexpr uint8_t kHopLimitOwn = 64;

/// The Ethernet header in front of a datagram the engine handles: every IPv6 view handle_ipv6
/// makes is of a frame's bytes after its Ethernet header (a received frame, or decap_buf_, where
/// the outer frame's header is copied in front of the inner datagram).
std::span<const uint8_t> eth_header(const wire::Ipv6View<const uint8_t>& ip) noexcept {
  return {ip.bytes().data() - kEth, kEth};
}

bool is_solicited_node(const Ipv6Addr& a) noexcept {
  static constexpr Ipv6Addr kPrefix = Ipv6Addr{}.solicited_node();  // ff02::1:ff00:0/104
  return std::equal(a.b.begin(), a.b.begin() + 13, kPrefix.b.begin());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Addresses and Duplicate Address Detection

void Engine::index_addresses6() {
  std::vector<Addr6> next;
  for (uint32_t i = 0; i < cfg_->interfaces.size(); ++i) {
    const config::Interface& itf = cfg_->interfaces[i];
    if (!itf.ipv6()) continue;
    next.push_back(Addr6{i, Ipv6Prefix{link_local_from(itf.mac), 64}, Addr6::State::kNew, Instant{}});
    for (const Ipv6Prefix& p : itf.addresses6) next.push_back(Addr6{i, p, Addr6::State::kNew, Instant{}});
  }
  // A reload keeps what an address already had (its DAD done or failed); a new one starts DAD.
  for (Addr6& n : next)
    for (const Addr6& o : addrs6_)
      if (o.iface == n.iface && o.prefix.addr == n.prefix.addr) {
        n.state = o.state;
        n.dad_until = o.dad_until;
      }
  addrs6_ = std::move(next);
  if (ip6_started_)
    for (uint32_t k = 0; k < addrs6_.size(); ++k)
      if (addrs6_[k].state == Addr6::State::kNew) start_dad(k, now_);
}

void Engine::start_ip6(Instant now) noexcept {
  if (ip6_started_) return;
  ip6_started_ = true;
  for (uint32_t k = 0; k < addrs6_.size(); ++k)
    if (addrs6_[k].state == Addr6::State::kNew) start_dad(k, now);
}

void Engine::start_dad(uint32_t k, Instant now) noexcept {
  // RFC 4862 §5.4.2: one solicitation (DupAddrDetectTransmits 1) from the unspecified address to
  // the solicited-node group, then RetransTimer (1 s) of silence makes the address ours. Linux
  // first waits a random 0-1 s (MAX_RTR_SOLICITATION_DELAY); the engine has no random delay.
  Addr6& a = addrs6_[k];
  a.state = Addr6::State::kTentative;
  a.dad_until = now + neigh6_.params().retrans;
  send_ns(a.iface, a.prefix.addr, nullptr, /*dad=*/true);
}

const Engine::Addr6* Engine::addr6_on(uint32_t iface, const Ipv6Addr& a) const noexcept {
  for (const Addr6& x : addrs6_)
    if (x.iface == iface && x.prefix.addr == a) return &x;
  return nullptr;
}

Engine::Addr6* Engine::addr6_on(uint32_t iface, const Ipv6Addr& a) noexcept {
  for (Addr6& x : addrs6_)
    if (x.iface == iface && x.prefix.addr == a) return &x;
  return nullptr;
}

bool Engine::is_local6(uint32_t iface, const Ipv6Addr& a) const noexcept {
  for (const Addr6& x : addrs6_)
    if (x.prefix.addr == a && x.state == Addr6::State::kPreferred && (x.iface == iface || !a.is_link_local()))
      return true;
  return false;
}

bool Engine::joined6(uint32_t iface, const Ipv6Addr& group) const noexcept {
  // A router listens to the link's and the site's all-routers groups (RFC 4291 §2.8).
  static constexpr Ipv6Addr kSiteRouters{{0xff, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};
  if (group == kAllNodes || group == kAllRouters || group == kSiteRouters) return true;
  if (!is_solicited_node(group)) return false;
  for (const Addr6& x : addrs6_)
    if (x.iface == iface && x.state != Addr6::State::kDuplicate && x.prefix.addr.solicited_node() == group) return true;
  // The VIPs held on this interface (their solicitations come to these groups).
  if (director_.has_ipv6_services())
    for (const auto& svc : director_.services())
      if (svc->vip.is_v6() && svc->interface == iface && svc->vip.v6().solicited_node() == group) return true;
  return false;
}

std::optional<Ipv6Addr> Engine::source_for6(uint32_t iface, const Ipv6Addr& toward, bool on_link) const noexcept {
  // RFC 6724 §5 reduced to what an interface here holds: the link-local address toward a
  // link-local or multicast destination; else a global address of the outgoing interface, one
  // whose prefix holds the destination first; else any global one; else the link-local one.
  const Addr6* ll = nullptr;
  const Addr6* global = nullptr;
  for (const Addr6& x : addrs6_) {
    if (x.iface != iface || x.state != Addr6::State::kPreferred) continue;
    if (x.prefix.addr.is_link_local()) {
      if (!ll) ll = &x;
      continue;
    }
    if (x.prefix.contains(toward)) return x.prefix.addr;
    if (!global) global = &x;
  }
  if (toward.is_link_local() || toward.is_multicast()) return ll ? std::optional(ll->prefix.addr) : std::nullopt;
  if (global) return global->prefix.addr;
  if (on_link) return ll ? std::optional(ll->prefix.addr) : std::nullopt;
  for (const Addr6& x : addrs6_)
    if (x.state == Addr6::State::kPreferred && !x.prefix.addr.is_link_local()) return x.prefix.addr;
  return ll ? std::optional(ll->prefix.addr) : std::nullopt;
}

void Engine::dad_failed(Addr6& a) noexcept {
  a.state = Addr6::State::kDuplicate;
  counters_.dad_failures++;
}

// ---------------------------------------------------------------------------------------------
// Input

Verdict Engine::handle_ipv6(uint32_t iface, std::span<const uint8_t> frame, bool l2_unicast, Instant now,
                            int depth) noexcept {
  if (!cfg_->interfaces[iface].ipv6()) return drop(DropReason::kIpv6Disabled);
  if (depth > 0) rx_off_ = {};  // a decapsulated datagram: the outer frame's offload is not its own
  start_ip6(now);
  wire::Ipv6Error err{};
  auto ip = ConstIp6::parse(frame.subspan(kEth), &err);
  if (!ip) {
    switch (err) {
      case wire::Ipv6Error::kTruncated: return drop(DropReason::kIpv6Truncated);
      case wire::Ipv6Error::kBadVersion: return drop(DropReason::kIpv6BadVersion);
      case wire::Ipv6Error::kBadLength: return drop(DropReason::kIpv6BadLength);
    }
  }
  const Ipv6Addr src = ip->src(), dst = ip->dst();
  // RFC 4291 §2.7: a multicast source never; loopback and IPv4-mapped are never on a link.
  if (src.is_multicast() || src.is_loopback() || src.is_v4_mapped() || is_local6(iface, src))
    return drop(DropReason::kIpv6BadSource);
  if (dst.is_unspecified() || dst.is_loopback() || dst.is_v4_mapped()) return drop(DropReason::kIpv6BadDestination);
  wire::Ipv6ChainError cerr{};
  auto chain = wire::walk(*ip, kMaxExtHeaders, &cerr);
  if (!chain) return drop(DropReason::kIpv6ExtHeaders);

  // What the sender deferred: only a TCP or UDP checksum (TSO of IPv6 is not negotiated).
  if (rx_off_.any() &&
      !gso::valid_v6(chain->upper, chain->fragment, kEth + chain->upper_offset, kEth + ip->bytes().size(), rx_off_))
    return drop(DropReason::kOffloadInvalid);

  // IPVS sees TCP and UDP before local delivery and forwarding, as for IPv4 (ip_vs_ops6): to a
  // VIP, and the replies of NAT reals. Fragments are routed (no IPv6 reassembly yet).
  if (l2_unicast && !dst.is_multicast() && !chain->fragment && director_.has_ipv6_services()) {
    if (chain->upper == wire::ipv6_next::kTcp || chain->upper == wire::ipv6_next::kUdp) {
      if (auto v = ipvs_ingress6(iface, *ip, *chain, l2_unicast, now)) return *v;
    } else if (chain->upper == wire::ipv6_next::kIcmpv6) {
      if (auto v = ipvs_icmp6(iface, *ip, *chain, now)) return *v;
    }
  }
  if (dst.is_multicast()) {
    if (!joined6(iface, dst)) return drop(DropReason::kIpv6Multicast);
    return deliver_local6(iface, *ip, *chain, l2_unicast, now, depth);
  }
  // A VIP is the director's own address (the kernel holds it as a local address): what no service
  // takes is answered as the router's own (a RST, port unreachable, an echo reply).
  if (is_local6(iface, dst) || director_.is_vip6(dst))
    return deliver_local6(iface, *ip, *chain, l2_unicast, now, depth);
  // A tentative address is not ours yet (RFC 4862 §5.4), except to Neighbour Discovery about it.
  if (addr6_on(iface, dst) && chain->upper == wire::ipv6_next::kIcmpv6)
    return deliver_local6(iface, *ip, *chain, l2_unicast, now, depth);
  if (!l2_unicast) return drop(DropReason::kEthNotForUs);
  return forward6(iface, *ip, now);
}

Verdict Engine::deliver_local6(uint32_t iface, ConstIp6 ip, const wire::Ipv6Chain& chain, bool l2_unicast, Instant now,
                               int depth) noexcept {
  if (chain.fragment) return drop(DropReason::kIpv6LocalFragment);
  const auto upper = ip.bytes().subspan(chain.upper_offset);
  const bool tentative_dst = !ip.dst().is_multicast() && !is_local6(iface, ip.dst()) && !director_.is_vip6(ip.dst());
  // IPv6 or IPv4 tunnelled to one of our unicast addresses (RFC 2473; IPVS's TUN toward an IPv6
  // real of either service family, ip_vs_xmit.c): decapsulated and handled as if it had arrived
  // on this interface, as an ip6tnl device would deliver it; one level.
  if ((chain.upper == wire::ipv6_next::kIpv6 || chain.upper == wire::ipv6_next::kIpv4) && !tentative_dst &&
      !ip.dst().is_multicast())
    return decapsulate(iface, upper, chain.upper == wire::ipv6_next::kIpv6, eth_header(ip).data(), l2_unicast, now,
                       depth);
  if (chain.upper == wire::ipv6_next::kIcmpv6) {
    auto icmp = Icmpv6View<const uint8_t>::parse(upper);
    if (!icmp) return drop(DropReason::kIcmpTruncated);
    if (!icmp->verify_checksum(ip.src(), ip.dst())) return drop(DropReason::kIcmpBadChecksum);
    switch (icmp->type()) {
      case icmpv6_type::kNeighSolicit: return nd_solicit(iface, ip, upper, now);
      case icmpv6_type::kNeighAdvert: return nd_advert(iface, ip, upper, now);
      case icmpv6_type::kEchoRequest:
        if (tentative_dst) return drop(DropReason::kIpv6BadDestination);
        send_echo_reply6(iface, ip, upper, now);
        return {Verdict::Kind::kConsumed, {}, iface};
      case icmpv6_type::kPacketTooBig:
        // About a datagram we sent ourselves (its quoted source is one of our addresses): the
        // path's MTU for what we send next (RFC 8201 §4). Any other is not ours to act on.
        if (auto q = ConstIp6::parse_quoted(upper.subspan(Icmpv6View<const uint8_t>::kHeaderLen));
            q && !tentative_dst &&
            std::any_of(addrs6_.begin(), addrs6_.end(), [&](const Addr6& a) { return a.prefix.addr == q->src(); })) {
          pmtu6_learn(q->dst(), icmp->rest(), now);
          return {Verdict::Kind::kConsumed, {}, iface};
        }
        return drop(DropReason::kIcmpLocalUnhandled);
      default:
        // Router Solicitations (no Router Advertisements are sent), Redirects (a router takes
        // none, RFC 4861 §8.1), errors about what we sent, and the rest.
        return drop(DropReason::kIcmpLocalUnhandled);
    }
  }
  if (tentative_dst) return drop(DropReason::kIpv6BadDestination);
  // Nothing listens on the router's IPv6 addresses: as Linux's stack answers, TCP gets a RST
  // (tcp_v6_rcv no_tcp_socket), UDP port unreachable, any other Next Header a parameter
  // problem pointing at it (ip6_input_finish: ICMPV6_UNK_NEXTHDR).
  if (chain.upper == wire::ipv6_next::kTcp) {
    send_tcp_reset6(iface, ip, upper, l2_unicast, now);
    return drop(DropReason::kLocalNoService);
  }
  if (chain.upper == wire::ipv6_next::kUdp) {
    if (upper.size() < 8) return drop(DropReason::kUdpTruncated);
    send_icmp6_error(icmpv6_type::kDestUnreachable, icmpv6_code::kPortUnreachable, 0, iface, ip, l2_unicast, now);
    return drop(DropReason::kLocalNoService);
  }
  if (chain.upper == wire::ipv6_next::kNoNext) return {Verdict::Kind::kConsumed, {}, iface};
  // The pointer: the Next Header field that named the protocol (the last header's first byte,
  // or the IPv6 header's own field).
  uint32_t pointer = wire::ipv6_field::kNextHeader;
  if (chain.headers > 0) {
    // Walk again to find the last extension header's start (the chain keeps only the upper offset).
    size_t off = wire::Ipv6View<const uint8_t>::kHeaderLen, last = off;
    uint8_t next = ip.next_header();
    while (off < chain.upper_offset) {
      last = off;
      const size_t len = next == wire::ipv6_next::kFragment ? 8
                         : next == wire::ipv6_next::kAh     ? (size_t{ip.bytes()[off + 1]} + 2) * 4
                                                            : (size_t{ip.bytes()[off + 1]} + 1) * 8;
      next = ip.bytes()[off];
      off += len;
    }
    pointer = static_cast<uint32_t>(last);
  }
  send_icmp6_error(icmpv6_type::kParamProblem, icmpv6_code::kUnknownNextHeader, pointer, iface, ip, l2_unicast, now);
  return drop(DropReason::kLocalNoService);
}

Verdict Engine::decapsulate(uint32_t iface, std::span<const uint8_t> inner, bool inner_v6, const uint8_t* eth_hdr,
                            bool l2_unicast, Instant now, int depth) noexcept {
  if (depth > 0) return drop(DropReason::kIpipNested);
  size_t len = 0;
  if (inner_v6) {
    auto in = ConstIp6::parse(inner);
    if (!in) return drop(DropReason::kIpipTruncated);
    len = in->bytes().size();
  } else {
    auto in = Ipv4View<const uint8_t>::parse(inner);
    if (!in) return drop(DropReason::kIpipTruncated);
    len = in->total_len();
  }
  std::span<uint8_t> out(decap_buf_.data() + kHeadroom, kEth + len);
  std::memcpy(out.data(), eth_hdr, kEth);  // the outer frame's Ethernet header, with the inner type
  wire::store16(out, 12, static_cast<uint16_t>(inner_v6 ? wire::EtherType::kIpv6 : wire::EtherType::kIpv4));
  std::memcpy(out.data() + kEth, inner.data(), len);
  return inner_v6 ? handle_ipv6(iface, out, l2_unicast, now, depth + 1)
                  : handle_ipv4(iface, out, l2_unicast, now, depth + 1);
}

// ---------------------------------------------------------------------------------------------
// Neighbour Discovery (RFC 4861 §7)

Verdict Engine::nd_solicit(uint32_t iface, ConstIp6 ip, std::span<const uint8_t> icmp, Instant now) noexcept {
  if (ip.hop_limit() != kNdHopLimit) return drop(DropReason::kNdInvalid);
  auto m = wire::parse_nd(icmp);
  if (!m) return drop(DropReason::kNdInvalid);
  const Ipv6Addr src = ip.src();
  // §7.1.1: from the unspecified address (a DAD probe), only to a solicited-node group and
  // without a source link-layer option.
  if (src.is_unspecified() && (!is_solicited_node(ip.dst()) || m->link_addr)) return drop(DropReason::kNdInvalid);
  Addr6* a = addr6_on(iface, m->target);
  // A VIP answers on its interface, as an IPv4 VIP answers ARP there (the kernel's director holds
  // the VIP as a local address). Another node's DAD probe for it is not ours to answer.
  const bool vip = !a && director_.vip_interface6(m->target) == iface;
  if (vip && src.is_unspecified()) return drop(DropReason::kNdNotForUs);
  if (!vip && (!a || a->state == Addr6::State::kDuplicate || a->state == Addr6::State::kNew))
    return drop(DropReason::kNdNotForUs);
  if (!vip && a->state == Addr6::State::kTentative) {
    // RFC 4862 §5.4.3: another node's DAD for the same address: it is a duplicate; a resolution
    // of a tentative address is not answered.
    if (!src.is_unspecified()) return drop(DropReason::kNdNotForUs);
    dad_failed(*a);
    return drop(DropReason::kNdDuplicate);
  }
  if (src.is_unspecified()) {
    // §7.2.4: the answer to a DAD probe for an address of ours goes to all nodes, not solicited.
    send_na(iface, kAllNodes, multicast_mac(kAllNodes), m->target, nd_flag::kRouter | nd_flag::kOverride);
    return {Verdict::Kind::kConsumed, {}, iface};
  }
  // The sender's address is learnt (§7.2.3; Linux creates the entry, as ARP's merge rule here).
  if (m->link_addr) {
    const uint32_t learned = neigh6_.learn(iface, src, *m->link_addr, now, /*create=*/true);
    if (learned != NeighTable6::kNone) flush_neigh_queue(neigh6_, learned);
  }
  // The answer goes to the link-layer address the solicitation gave, else to its frame's sender.
  send_na(iface, src, m->link_addr ? *m->link_addr : EthernetView<const uint8_t>::unchecked(eth_header(ip)).src(),
          m->target, nd_flag::kRouter | nd_flag::kSolicited | nd_flag::kOverride);
  return {Verdict::Kind::kConsumed, {}, iface};
}

Verdict Engine::nd_advert(uint32_t iface, ConstIp6 ip, std::span<const uint8_t> icmp, Instant now) noexcept {
  if (ip.hop_limit() != kNdHopLimit) return drop(DropReason::kNdInvalid);
  auto m = wire::parse_nd(icmp);
  if (!m) return drop(DropReason::kNdInvalid);
  // §7.1.2: an advertisement to a multicast group is never solicited.
  if (ip.dst().is_multicast() && (m->flags & nd_flag::kSolicited)) return drop(DropReason::kNdInvalid);
  if (Addr6* a = addr6_on(iface, m->target)) {
    // Someone else has one of our addresses: while it is tentative, DAD has failed (RFC 4862
    // §5.4.4); once it is ours, the other host is wrong, and the address stays (as Linux).
    if (a->state == Addr6::State::kTentative) dad_failed(*a);
    return drop(DropReason::kNdDuplicate);
  }
  // §7.2.5: an advertisement creates no entry; it completes an INCOMPLETE one (with its
  // link-layer address) and changes a known one's address only with the Override flag, so an
  // advertisement without it cannot move traffic to another MAC.
  const NeighTable6::Entry* e = neigh6_.peek(iface, m->target);
  if (!e) return drop(DropReason::kNdUnsolicited);
  const bool incomplete = e->state == NeighTable6::State::kIncomplete;
  if (!m->link_addr) {
    if (incomplete) return {Verdict::Kind::kConsumed, {}, iface};  // nothing to resolve it with
    m->link_addr = e->mac;                                         // a confirmation of what we know
  }
  if (!incomplete && *m->link_addr != e->mac && !(m->flags & nd_flag::kOverride))
    return {Verdict::Kind::kConsumed, {}, iface};
  if (!incomplete && !(m->flags & nd_flag::kSolicited) && *m->link_addr == e->mac)
    return {Verdict::Kind::kConsumed, {}, iface};  // unsolicited news of what we know: no confirmation
  const uint32_t learned = neigh6_.learn(iface, m->target, *m->link_addr, now, /*create=*/false);
  if (learned != NeighTable6::kNone) flush_neigh_queue(neigh6_, learned);
  return {Verdict::Kind::kConsumed, {}, iface};
}

void Engine::send_ns(uint32_t iface, const Ipv6Addr& target, const MacAddr* to, bool dad,
                     const Ipv6Addr* prompt) noexcept {
  // §4.3, §7.2.2: to the target's solicited-node group (or, re-confirming, to the target
  // itself), hop limit 255, with our link-layer address unless it is a DAD probe. The source:
  // the prompting packet's if it is an address of this interface, else the interface's
  // link-local address (Linux's ndisc_solicit and ndisc_send_ns).
  Ipv6Addr src;
  if (!dad) {
    const Addr6* own = prompt ? addr6_on(iface, *prompt) : nullptr;
    if (own && own->state == Addr6::State::kPreferred) {
      src = *prompt;
    } else {
      auto s = source_for6(iface, kAllNodes, /*on_link=*/true);  // the link-local address
      if (!s) return;
      src = *s;
    }
  }
  const Ipv6Addr dst = to ? target : target.solicited_node();
  const size_t icmp_len = 24 + (dad ? 0 : 8);
  std::span<uint8_t> out(nd_buf_.data(), kEth + 40 + icmp_len);
  std::fill(out.begin(), out.end(), uint8_t{0});
  const MacAddr& mine = cfg_->interfaces[iface].mac;
  wire::fill_ethernet(out, to ? *to : multicast_mac(dst), mine, wire::EtherType::kIpv6);
  Ip6::unchecked(out.subspan(kEth))
      .fill(0, 0, static_cast<uint16_t>(icmp_len), wire::ipv6_next::kIcmpv6, kNdHopLimit, src, dst);
  std::span<uint8_t> icmp = out.subspan(kEth + 40);
  icmp[0] = icmpv6_type::kNeighSolicit;
  std::copy(target.b.begin(), target.b.end(), icmp.begin() + 8);
  if (!dad) {
    icmp[24] = wire::nd_opt::kSourceLinkAddr;
    icmp[25] = 1;
    std::copy(mine.b.begin(), mine.b.end(), icmp.begin() + 26);
  }
  Icmpv6View<uint8_t>::unchecked(icmp).fill_checksum(src, dst);
  transmit(iface, out);
  counters_.nd_solicits_sent++;
}

void Engine::send_na(uint32_t iface, const Ipv6Addr& dst, const MacAddr& dst_mac, const Ipv6Addr& target,
                     uint8_t flags) noexcept {
  const size_t icmp_len = 32;
  std::span<uint8_t> out(nd_buf_.data(), kEth + 40 + icmp_len);
  std::fill(out.begin(), out.end(), uint8_t{0});
  const MacAddr& mine = cfg_->interfaces[iface].mac;
  wire::fill_ethernet(out, dst_mac, mine, wire::EtherType::kIpv6);
  // The source is the target itself (§7.2.4: "the Target Address ... is copied"; Linux answers
  // from the solicited address).
  Ip6::unchecked(out.subspan(kEth))
      .fill(0, 0, static_cast<uint16_t>(icmp_len), wire::ipv6_next::kIcmpv6, kNdHopLimit, target, dst);
  std::span<uint8_t> icmp = out.subspan(kEth + 40);
  icmp[0] = icmpv6_type::kNeighAdvert;
  icmp[4] = flags;
  std::copy(target.b.begin(), target.b.end(), icmp.begin() + 8);
  icmp[24] = wire::nd_opt::kTargetLinkAddr;
  icmp[25] = 1;
  std::copy(mine.b.begin(), mine.b.end(), icmp.begin() + 26);
  Icmpv6View<uint8_t>::unchecked(icmp).fill_checksum(target, dst);
  transmit(iface, out);
  counters_.nd_adverts_sent++;
}

Verdict Engine::output_ip6(uint32_t iface, const Ipv6Addr& next_hop, std::span<uint8_t> frame, Instant now,
                           const Offload* off) noexcept {
  if (next_hop.is_multicast()) {
    EthernetView<uint8_t>::unchecked(frame).set_dst(multicast_mac(next_hop));
    transmit(iface, frame, off);
    return {Verdict::Kind::kForwarded, {}, iface};
  }
  if (auto mac = neigh6_.lookup(iface, next_hop, now)) {
    EthernetView<uint8_t>::unchecked(frame).set_dst(*mac);
    transmit(iface, frame, off);
    return {Verdict::Kind::kForwarded, {}, iface};
  }
  // Waiting frames are wire frames: a deferred checksum is completed now.
  if (off && off->csum_partial) {
    gso::complete_checksum(frame.subspan(off->csum_start), off->csum_offset);
    counters_.csum_completed++;
  }
  bool created = false;
  const uint32_t idx = neigh6_.resolve(iface, next_hop, now, created);
  if (idx == NeighTable6::kNone) return drop(DropReason::kNeighTableFull);
  if (created) {
    const Ipv6Addr prompt = ConstIp6::unchecked(std::span<const uint8_t>(frame).subspan(kEth)).src();
    send_ns(iface, next_hop, nullptr, false, &prompt);
    neigh6_.mark_probed(idx, now);
  }
  if (neigh6_.queue(idx).size() >= neigh6_.params().queue_per_entry) return drop(DropReason::kNeighQueueFull);
  const uint32_t pkt = pool_.store(frame);
  if (pkt == PacketPool::kNone) return drop(DropReason::kNeighQueueFull);
  neigh6_.enqueue(idx, pkt);
  return {Verdict::Kind::kQueued, {}, iface};
}

void Engine::ip6_timer(Instant now) noexcept {
  for (Addr6& a : addrs6_)
    if (a.state == Addr6::State::kTentative && a.dad_until <= now) a.state = Addr6::State::kPreferred;
  due_.clear();
  neigh6_.due(now, due_);
  for (uint32_t idx : due_) {
    const auto& e = neigh6_.entry(idx);
    if (e.probes < neigh6_.params().max_probes) {
      const MacAddr known = e.mac;
      send_ns(e.iface, e.ip, e.state == NeighTable6::State::kProbe ? &known : nullptr, false);
      neigh6_.mark_probed(idx, now);
      continue;
    }
    // No answer (§7.3.3): every waiting packet is dropped and its sender told, address unreachable.
    for (size_t i = 0; i < neigh6_.queue(idx).size(); ++i) {
      const uint32_t pkt = neigh6_.queue(idx)[i];
      auto f = pool_.frame(pkt);
      if (auto ip = ConstIp6::parse(std::span<const uint8_t>(f).subspan(kEth)))
        send_icmp6_error(icmpv6_type::kDestUnreachable, icmpv6_code::kAddrUnreachable, 0, e.iface, *ip, true, now);
      pool_.free(pkt);
      drops_.count(DropReason::kNeighUnresolved);
    }
    neigh6_.clear_queue(idx);
    neigh6_.release(idx);
  }
}

std::optional<Instant> Engine::next_deadline6() const noexcept {
  std::optional<Instant> t = neigh6_.next_deadline();
  for (const Addr6& a : addrs6_)
    if (a.state == Addr6::State::kTentative && (!t || a.dad_until < *t)) t = a.dad_until;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Forwarding (RFC 8200 §3, RFC 4443)

Verdict Engine::forward6(uint32_t iface, ConstIp6 ip, Instant now, const Rewrite6* rw) noexcept {
  const Ipv6Addr src = ip.src(), dst = ip.dst();
  // RFC 4291 §2.5.6: link-local destinations are not forwarded.
  if (dst.is_link_local()) return drop(DropReason::kIpv6Scope);
  // In Linux's order: the route (ip6_route_input), the hop limit, then the source's scope
  // (ip6_forward: a link-local source is told its destination is beyond that scope, RFC 4443
  // §3.1 code 2), then the MTU.
  auto rt = routes6_.lookup(dst);
  if (!rt) {
    send_icmp6_error(icmpv6_type::kDestUnreachable, icmpv6_code::kNoRoute, 0, iface, ip, true, now);
    return drop(DropReason::kNoRoute);
  }
  if (ip.hop_limit() <= 1) {
    send_icmp6_error(icmpv6_type::kTimeExceeded, icmpv6_code::kHopLimit, 0, iface, ip, true, now);
    return drop(DropReason::kTtlExceeded);
  }
  if (src.is_link_local() || src.is_unspecified()) {
    if (!src.is_unspecified())
      send_icmp6_error(icmpv6_type::kDestUnreachable, icmpv6_code::kBeyondScope, 0, iface, ip, true, now);
    return drop(DropReason::kIpv6Scope);
  }
  // Routers never fragment IPv6 (RFC 8200 §5): too big for the next link is the sender's to fix.
  const uint32_t mtu = cfg_->interfaces[rt->iface].mtu;
  if (ip.bytes().size() > mtu) {
    send_icmp6_error(icmpv6_type::kPacketTooBig, 0, mtu, iface, ip, true, now);
    return drop(DropReason::kFragNeeded);
  }
  std::span<uint8_t> out = forward_copy6(rt->iface, ip);
  const Offload off = rx_off_;
  if (rw && rw->icmp)
    fwd::nat_icmp6(out.subspan(kEth), rw->l4_offset, rw->icmp->l4_offset, rw->icmp->proto, /*in=*/false, rw->addr,
                   rw->port);
  else if (rw) fwd::nat6(out.subspan(kEth), rw->l4_offset, rw->proto, rw->src, rw->addr, rw->port, off.csum_partial);
  counters_.forwarded6++;
  return send_forwarded6(rt->iface, rt->next_hop, out, off, now);
}

std::span<uint8_t> Engine::forward_copy6(uint32_t out_iface, ConstIp6 ip, size_t encap, wire::EtherType type) noexcept {
  std::span<uint8_t> out(scratch_.data() + kHeadroom, kEth + encap + ip.bytes().size());
  std::memcpy(out.data() + kEth + encap, ip.bytes().data(), ip.bytes().size());
  wire::fill_ethernet(out, MacAddr{}, cfg_->interfaces[out_iface].mac, type);
  Ip6::unchecked(out.subspan(kEth + encap)).set_hop_limit(static_cast<uint8_t>(ip.hop_limit() - 1));
  return out;
}

Verdict Engine::send_forwarded6(uint32_t out_iface, const Ipv6Addr& next_hop, std::span<uint8_t> out,
                                const Offload& off, Instant now) noexcept {
  const Offload* keep = nullptr;
  if (off.csum_partial) {
    if (params_.offload) keep = &off;
    else {
      gso::complete_checksum(out.subspan(off.csum_start), off.csum_offset);
      counters_.csum_completed++;
    }
  }
  return output_ip6(out_iface, next_hop, out, now, keep);
}

// ---------------------------------------------------------------------------------------------
// ICMPv6 the router sends

std::optional<RouteResult6> Engine::route_back6(uint32_t in_iface, const Ipv6Addr& to) const noexcept {
  // A link-local sender is on the link the packet came in by (fe80::/64 there); another, routed.
  if (to.is_link_local()) return RouteResult6{in_iface, to, 64};
  return routes6_.lookup(to);
}

void Engine::send_icmp6_error(uint8_t type, uint8_t code, uint32_t rest, uint32_t in_iface, ConstIp6 offending,
                              bool l2_unicast, Instant now) noexcept {
  const Ipv6Addr to = offending.src();
  // RFC 4443 §2.4(e): never about an error, a datagram from the unspecified or a multicast
  // address, or one to a multicast group or sent as link-layer multicast, except Packet Too Big
  // (and a parameter problem about an option, which the router does not send).
  if (to.is_unspecified() || to.is_multicast()) return;
  if (type != icmpv6_type::kPacketTooBig && (offending.dst().is_multicast() || !l2_unicast)) return;
  if (auto c = wire::walk(offending, kMaxExtHeaders);
      c && c->upper == wire::ipv6_next::kIcmpv6 && !(c->fragment && c->frag_bytes != 0)) {
    const auto upper = offending.bytes().subspan(c->upper_offset);
    if (upper.empty() || Icmpv6View<const uint8_t>::is_error_type(upper[0]) || upper[0] == icmpv6_type::kRedirect)
      return;
  }
  // Rate limit: the global bucket shared with ICMPv4 (Linux's icmp_global_allow, which
  // icmpv6_xrlim_allow also takes), except for Packet Too Big (icmpv6 ratemask's default).
  if (type != icmpv6_type::kPacketTooBig) {
    if (!icmp_token(now)) {
      counters_.icmp_errors_rate_limited++;
      return;
    }
    icmp_take();
  }
  const auto back = route_back6(in_iface, to);
  if (!back) return;
  const uint32_t out_iface = back->iface;
  const Ipv6Addr next_hop = back->next_hop;
  const uint8_t plen = back->prefix_len;  // the route's prefix length toward the sender
  // Per destination (icmpv6_xrlim_allow): errors but Packet Too Big, a burst of 6 then one per
  // icmpv6_time (the [router] icmp_ratelimit both families share here, 1 s), divided by 2 for
  // every 32 bits the route is wider than /128 ("more bandwidth to wider prefixes").
  if (type != icmpv6_type::kPacketTooBig &&
      !icmp_peers6_.allow(to, now, icmp_peers6_.timeout_us() >> ((128 - plen) >> 5))) {
    counters_.icmp_errors_peer_limited++;
    return;
  }
  // The source: the address the offending datagram was sent to if it is ours, else ours toward
  // the sender (icmp6_send: saddr = daddr when it is a local unicast address).
  std::optional<Ipv6Addr> src;
  // A VIP is the director's own address in the kernel: errors about packets to it come from it.
  if (is_local6(in_iface, offending.dst()) || director_.is_vip6(offending.dst())) src = offending.dst();
  else src = source_for6(out_iface, to);
  if (!src) return;
  // §2.4(c): as much of the offending datagram as fits in the minimum MTU.
  const size_t quote = std::min(offending.bytes().size(), size_t{kIpv6MinMtu} - 40 - 8);
  const size_t icmp_len = 8 + quote;
  std::span<uint8_t> out(icmp_buf_.data() + kHeadroom, kEth + 40 + icmp_len);
  wire::fill_ethernet(out, MacAddr{}, cfg_->interfaces[out_iface].mac, wire::EtherType::kIpv6);
  Ip6::unchecked(out.subspan(kEth))
      .fill(0, 0, static_cast<uint16_t>(icmp_len), wire::ipv6_next::kIcmpv6, kHopLimitOwn, *src, to);
  std::span<uint8_t> icmp = out.subspan(kEth + 40);
  icmp[0] = type;
  icmp[1] = code;
  wire::store32(icmp, 4, rest);
  std::memcpy(icmp.data() + 8, offending.bytes().data(), quote);
  Icmpv6View<uint8_t>::unchecked(icmp).fill_checksum(*src, to);
  counters_.icmp_errors_sent++;
  ipvs_count_own_icmp6(offending, 40 + icmp_len);
  output_ip6(out_iface, next_hop, out, now);
}

void Engine::send_echo_reply6(uint32_t iface, ConstIp6 req, std::span<const uint8_t> icmp, Instant now) noexcept {
  const Ipv6Addr to = req.src();
  if (to.is_unspecified()) return;
  const auto back = route_back6(iface, to);
  if (!back) return;
  const uint32_t out_iface = back->iface;
  const Ipv6Addr next_hop = back->next_hop;
  // From the address asked (icmpv6_echo_reply), or ours toward the sender for a group.
  std::optional<Ipv6Addr> src = req.dst();
  if (req.dst().is_multicast()) src = source_for6(iface, to);
  if (!src) return;
  std::span<uint8_t> out(icmp_buf_.data() + kHeadroom, kEth + 40 + icmp.size());
  wire::fill_ethernet(out, MacAddr{}, cfg_->interfaces[out_iface].mac, wire::EtherType::kIpv6);
  Ip6::unchecked(out.subspan(kEth))
      .fill(req.traffic_class(), 0, static_cast<uint16_t>(icmp.size()), wire::ipv6_next::kIcmpv6, kHopLimitOwn, *src,
            to);
  std::span<uint8_t> reply = out.subspan(kEth + 40);
  std::memcpy(reply.data(), icmp.data(), icmp.size());
  reply[0] = icmpv6_type::kEchoReply;
  Icmpv6View<uint8_t>::unchecked(reply).fill_checksum(*src, to);
  counters_.echo_replies_sent++;
  // A reply as long as the request can be too long for the way back: the link out, or a path
  // that said so (Linux fragments its own echo replies the same way).
  output_own6(out_iface, next_hop, out, pmtu6(to, cfg_->interfaces[out_iface].mtu, now), now);
}

namespace {

/// The PMTU cache's slot of a destination (64 slots: Fibonacci hashing of the address's fold). A
/// sender that chooses colliding addresses only evicts entries: its datagrams fall back to the
/// link's MTU until the path says so again.
size_t pmtu6_slot(const Ipv6Addr& a) noexcept { return (IpAddr::fold6(a) * 0x9e3779b9u) >> 26; }

}  // namespace

void Engine::pmtu6_learn(const Ipv6Addr& dst, uint32_t mtu, Instant now) noexcept {
  // RFC 8200 §5 / RFC 8201 §4: never below the IPv6 minimum; a larger report than the present
  // MTU says nothing (an entry only lowers it).
  mtu = std::max(mtu, kIpv6MinMtu);
  Pmtu6& e = pmtu6_[pmtu6_slot(dst)];
  if (e.mtu != 0 && e.dst == dst && e.expires > now && e.mtu <= mtu) return;
  e = {dst, mtu, now + Duration::seconds(600)};
}

uint32_t Engine::pmtu6(const Ipv6Addr& dst, uint32_t link_mtu, Instant now) const noexcept {
  const Pmtu6& e = pmtu6_[pmtu6_slot(dst)];
  if (e.mtu == 0 || e.dst != dst || e.expires <= now) return link_mtu;
  return std::min(link_mtu, e.mtu);
}

void Engine::output_own6(uint32_t iface, const Ipv6Addr& next_hop, std::span<uint8_t> out, uint32_t mtu,
                         Instant now) noexcept {
  if (out.size() - kEth <= mtu) {
    output_ip6(iface, next_hop, out, now);
    return;
  }
  // RFC 8200 §4.5: the IPv6 header is the unfragmentable part; each fragment carries a Fragment
  // header (the original Next Header, the offset in 8-octet units, M on all but the last, one
  // Identification) and a multiple of 8 data octets but the last.
  constexpr size_t kHdr = 40, kFrag = 8;
  const auto whole = std::span<const uint8_t>(out).subspan(kEth);
  const uint8_t next = whole[6];
  const auto data = whole.subspan(kHdr);
  const size_t chunk_max = (mtu - kHdr - kFrag) & ~size_t{7};
  const uint32_t ident = frag6_id_++;
  for (size_t off = 0; off < data.size();) {
    const size_t chunk = std::min(chunk_max, data.size() - off);
    const bool more = off + chunk < data.size();
    std::span<uint8_t> f(frag_scratch_.data() + kHeadroom, kEth + kHdr + kFrag + chunk);
    std::memcpy(f.data(), out.data(), kEth + kHdr);
    wire::store16(f, kEth + 4, static_cast<uint16_t>(kFrag + chunk));
    f[kEth + 6] = wire::ipv6_next::kFragment;
    f[kEth + kHdr] = next;
    f[kEth + kHdr + 1] = 0;
    wire::store16(f, kEth + kHdr + 2, static_cast<uint16_t>(off | (more ? 1u : 0u)));
    wire::store32(f, kEth + kHdr + 4, ident);
    std::memcpy(f.data() + kEth + kHdr + kFrag, data.data() + off, chunk);
    counters_.fragments_sent++;
    output_ip6(iface, next_hop, f, now);
    off += chunk;
  }
}

void Engine::send_tcp_reset6(uint32_t iface, ConstIp6 ip, std::span<const uint8_t> seg, bool l2_unicast,
                             Instant now) noexcept {
  // tcp_v6_rcv / tcp_v6_send_reset, as the IPv4 path: only to unicast, valid checksum, not a RST.
  if (!l2_unicast || ip.dst().is_multicast()) return;
  auto th = wire::TcpView<const uint8_t>::parse(seg);
  if (!th) return;
  if (!rx_off_.csum_partial &&
      !wire::csum::verify(seg, wire::csum::pseudo_header_v6(ip.src(), ip.dst(), wire::ipv6_next::kTcp,
                                                            static_cast<uint32_t>(seg.size()))))
    return;
  if (th->flags() & tcp_flag::kRst) return;
  const auto back = route_back6(iface, ip.src());
  if (!back) return;
  const uint32_t out_iface = back->iface;
  const Ipv6Addr next_hop = back->next_hop;
  constexpr size_t kTcpLen = wire::TcpView<uint8_t>::kMinHeaderLen;
  std::span<uint8_t> out(icmp_buf_.data() + kHeadroom, kEth + 40 + kTcpLen);
  std::fill(out.begin(), out.end(), uint8_t{0});
  wire::fill_ethernet(out, MacAddr{}, cfg_->interfaces[out_iface].mac, wire::EtherType::kIpv6);
  Ip6::unchecked(out.subspan(kEth))
      .fill(0, 0, static_cast<uint16_t>(kTcpLen), wire::ipv6_next::kTcp, kHopLimitOwn, ip.dst(), ip.src());
  std::span<uint8_t> tcp = out.subspan(kEth + 40);
  fill_reset(tcp, *th);
  wire::store16(tcp, 16,
                wire::csum::finish(wire::csum::sum(
                    tcp, wire::csum::pseudo_header_v6(ip.dst(), ip.src(), wire::ipv6_next::kTcp, kTcpLen))));
  counters_.tcp_resets_sent++;
  output_ip6(out_iface, next_hop, out, now);
}

}  // namespace vs

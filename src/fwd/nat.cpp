#include "fwd/nat.hpp"

#include <cstring>

#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace vs::fwd {
namespace {

/// Set the source or destination address (header checksum updated); returns the old one.
Ipv4Addr set_addr(MutIp ip, bool src, Ipv4Addr a) noexcept {
  const Ipv4Addr old_a = src ? ip.src() : ip.dst();
  if (src) ip.set_src_update_checksum(a);
  else ip.set_dst_update_checksum(a);
  return old_a;
}

/// The transport half of rewrite(): the checksum follows the address change and the port, when
/// the header reaches its checksum field (`csum_end` bytes: the view only touches ports and
/// checksum, so a quoted header cut after it will do); else only a port that is there is set.
template <template <class> class View>
void rewrite_l4(std::span<uint8_t> l4, size_t csum_end, bool src, Ipv4Addr old_a, Ipv4Addr a, uint16_t port) noexcept {
  const size_t port_off = src ? 0 : 2;
  if (l4.size() >= csum_end) {
    auto v = View<uint8_t>::unchecked(l4.first(csum_end));
    v.update_checksum_for_addr(old_a, a);
    if (src) v.set_sport_update_checksum(port);
    else v.set_dport_update_checksum(port);
  } else if (l4.size() >= port_off + 2) {
    wire::store16(l4, port_off, port);
  }
}

/// Rewrite one address (src or dst) and one port (sport or dport) of a TCP/UDP datagram whose
/// transport header may be cut short (a quoted datagram): each field is touched only if present.
void rewrite(MutIp ip, bool src, Ipv4Addr a, uint16_t port) noexcept {
  const Ipv4Addr old_a = set_addr(ip, src, a);
  auto l4 = ip.payload();
  if (ip.protocol() == IpProto::kTcp) rewrite_l4<wire::TcpView>(l4, 18, src, old_a, a, port);
  else if (ip.protocol() == IpProto::kUdp) rewrite_l4<wire::UdpView>(l4, 8, src, old_a, a, port);
}

/// A whole datagram whose transport checksum is deferred: its field holds the pseudo-header sum
/// S, not a checksum. An address change updates S as RFC 1624 updates ~S; ports are not in it.
// (Raw field arithmetic, not the views' checksum updates: UDP's treat 0 as "no checksum".)
void rewrite_partial(MutIp ip, bool src, Ipv4Addr a, uint16_t port) noexcept {
  const Ipv4Addr old_a = set_addr(ip, src, a);
  auto l4 = ip.payload();
  const size_t field = ip.protocol() == IpProto::kTcp ? 16 : 6;
  const uint16_t s = wire::load16(l4, field);
  wire::store16(l4, field, static_cast<uint16_t>(~wire::csum::update32(static_cast<uint16_t>(~s), old_a.v, a.v)));
  wire::store16(l4, src ? 0 : 2, port);
}

/// A whole (not quoted) UDP datagram without checksum gets one computed after the rewrite.
void fill_zero_udp_checksum(MutIp ip) noexcept {
  if (ip.protocol() != IpProto::kUdp) return;
  auto u = wire::UdpView<uint8_t>::parse(ip.payload());
  if (u && u->checksum() == 0) u->fill_checksum(ip.src(), ip.dst());
}

void nat_icmp(MutIp ip, bool in, Ipv4Addr a, uint16_t port) noexcept {
  auto icmp = wire::Icmpv4View<uint8_t>::parse(ip.payload());
  if (!icmp) return;
  auto q = icmp->quoted();
  if (!q) return;
  if (in) {
    ip.set_dst_update_checksum(a);
    rewrite(*q, /*src=*/true, a, port);
  } else {
    ip.set_src_update_checksum(a);
    rewrite(*q, /*src=*/false, a, port);
  }
  icmp->fill_checksum();
}

}  // namespace

void nat_in(MutIp ip, Ipv4Addr daddr, uint16_t dport, bool l4_partial) noexcept {
  if (l4_partial) return rewrite_partial(ip, /*src=*/false, daddr, dport);
  rewrite(ip, /*src=*/false, daddr, dport);
  fill_zero_udp_checksum(ip);
}

void nat_out(MutIp ip, Ipv4Addr vaddr, uint16_t vport, bool l4_partial) noexcept {
  if (l4_partial) return rewrite_partial(ip, /*src=*/true, vaddr, vport);
  rewrite(ip, /*src=*/true, vaddr, vport);
  fill_zero_udp_checksum(ip);
}

void nat6(std::span<uint8_t> ip6, size_t l4_off, IpProto proto, bool src, const Ipv6Addr& a, uint16_t port,
          bool l4_partial, bool quoted) noexcept {
  const size_t addr_off = src ? 8 : 24;  // the IPv6 header's source and destination fields
  if (ip6.size() < 40 || l4_off > ip6.size()) return;
  Ipv6Addr old_a;
  std::memcpy(old_a.b.data(), ip6.data() + addr_off, 16);
  std::memcpy(ip6.data() + addr_off, a.b.data(), 16);
  auto l4 = ip6.subspan(l4_off);
  const bool tcp = proto == IpProto::kTcp;
  const size_t field = tcp ? 16 : 6;
  if (l4.size() < field + 2) {
    if (l4.size() >= (src ? 2u : 4u)) wire::store16(l4, src ? 0 : 2, port);
    return;
  }
  const uint16_t old_port = wire::load16(l4, src ? 0 : 2);
  wire::store16(l4, src ? 0 : 2, port);
  const uint16_t c = wire::load16(l4, field);
  if (l4_partial) {
    // The field holds the pseudo-header sum S: it follows the address; ports are not in it.
    wire::store16(l4, field, static_cast<uint16_t>(~wire::csum::update128(static_cast<uint16_t>(~c), old_a, a)));
    return;
  }
  if (!tcp && c == 0 && quoted) return;
  if (!tcp && c == 0) {
    // Sent without a checksum (not allowed over IPv6, but not ours to judge): a full one, as
    // udp_snat_handler computes when it cannot update (CSUM_MANGLED_0 for a computed 0).
    Ipv6Addr s6, d6;
    std::memcpy(s6.b.data(), ip6.data() + 8, 16);
    std::memcpy(d6.b.data(), ip6.data() + 24, 16);
    const uint16_t full = wire::csum::finish(
        wire::csum::sum(l4, wire::csum::pseudo_header_v6(s6, d6, 17, static_cast<uint32_t>(l4.size()))));
    wire::store16(l4, field, full == 0 ? 0xffff : full);
    return;
  }
  uint16_t n = wire::csum::update16(wire::csum::update128(c, old_a, a), old_port, port);
  if (!tcp && n == 0) n = 0xffff;
  wire::store16(l4, field, n);
}

void nat_icmp6(std::span<uint8_t> ip6, size_t icmp_off, size_t inner_l4_off, IpProto inner_proto, bool in,
               const Ipv6Addr& a, uint16_t port) noexcept {
  if (ip6.size() < icmp_off + 8 + 40) return;
  std::memcpy(ip6.data() + (in ? 24 : 8), a.b.data(), 16);
  nat6(ip6.subspan(icmp_off + 8), inner_l4_off, inner_proto, /*src=*/in, a, port, false, /*quoted=*/true);
  auto v = wire::Ipv6View<uint8_t>::unchecked(ip6);
  wire::Icmpv6View<uint8_t>::unchecked(ip6.subspan(icmp_off)).fill_checksum(v.src(), v.dst());
}

void nat_icmp_in(MutIp ip, Ipv4Addr daddr, uint16_t dport) noexcept { nat_icmp(ip, true, daddr, dport); }
void nat_icmp_out(MutIp ip, Ipv4Addr vaddr, uint16_t vport) noexcept { nat_icmp(ip, false, vaddr, vport); }

}  // namespace vs::fwd

#include "gso.hpp"

#include <algorithm>
#include <cstring>

#include "packet.hpp"
#include "wire/checksum.hpp"
#include "wire/tcp.hpp"

namespace vs::gso {
namespace {

constexpr size_t kTcpCsum = 16, kUdpCsum = 6;

size_t tcp_header_len(wire::Ipv4View<const uint8_t> ip) noexcept {
  return wire::TcpView<const uint8_t>::unchecked(ip.payload()).header_len();
}

size_t payload_len(wire::Ipv4View<const uint8_t> ip) noexcept { return ip.payload().size() - tcp_header_len(ip); }

}  // namespace

bool valid(wire::Ipv4View<const uint8_t> ip, size_t l3, const Offload& off) noexcept {
  if (off.unsupported) return false;
  if (!off.csum_partial) return off.gso_size == 0;
  if (ip.is_fragment() || off.csum_start != l3 + ip.header_len()) return false;
  // handle_ipv4 has checked that an unfragmented TCP/UDP datagram holds its whole header.
  if (ip.protocol() == IpProto::kTcp)
    return off.csum_offset == kTcpCsum &&
           (off.gso_size == 0 || segment_ip_len(ip, off.gso_size) <= kMaxFrame - 14);  // a segment fits a buffer
  if (ip.protocol() == IpProto::kUdp) return off.gso_size == 0 && off.csum_offset == kUdpCsum;
  return false;
}

bool valid_v6(uint8_t upper, bool fragment, size_t upper_start, size_t end, const Offload& off) noexcept {
  if (off.unsupported || off.gso_size != 0) return false;  // TSO6 is not negotiated with the TAP
  if (!off.csum_partial) return true;
  const bool tcp = upper == number(IpProto::kTcp), udp = upper == number(IpProto::kUdp);
  if (fragment || (!tcp && !udp) || off.csum_start != upper_start) return false;
  return off.csum_offset == (tcp ? kTcpCsum : kUdpCsum) && size_t{off.csum_start} + off.csum_offset + 2 <= end;
}

void complete_checksum(std::span<uint8_t> l4, size_t field) noexcept {
  uint16_t c = wire::csum::finish(wire::csum::sum(l4));  // the field holds the pseudo-header sum
  if (c == 0) c = 0xffff;                                // as skb_checksum_help (CSUM_MANGLED_0): 0 means "none" to UDP
  wire::store16(l4, field, c);
}

void complete_checksum(wire::Ipv4View<uint8_t> ip) noexcept {
  complete_checksum(ip.payload(), ip.protocol() == IpProto::kTcp ? kTcpCsum : kUdpCsum);
}

size_t segment_count(wire::Ipv4View<const uint8_t> ip, uint16_t gso_size) noexcept {
  const size_t p = payload_len(ip);
  return std::max<size_t>(1, (p + gso_size - 1) / gso_size);
}

size_t segment_ip_len(wire::Ipv4View<const uint8_t> ip, uint16_t gso_size) noexcept {
  return ip.header_len() + tcp_header_len(ip) + std::min<size_t>(gso_size, payload_len(ip));
}

size_t segment(wire::Ipv4View<const uint8_t> ip, uint16_t gso_size, size_t i, std::span<uint8_t> dst) noexcept {
  const size_t hl = ip.header_len();
  const size_t thl = tcp_header_len(ip);
  const size_t total = payload_len(ip);
  const size_t off = i * gso_size;
  const size_t len = std::min<size_t>(gso_size, total - std::min(off, total));
  const bool last = off + len >= total;
  const size_t out_len = hl + thl + len;

  std::memcpy(dst.data(), ip.bytes().data(), hl + thl);
  std::memcpy(dst.data() + hl + thl, ip.bytes().data() + hl + thl + off, len);
  auto o = wire::Ipv4View<uint8_t>::unchecked(dst.first(out_len));
  o.set_total_len(static_cast<uint16_t>(out_len));
  wire::store16(dst, wire::ipv4_field::kIdent, static_cast<uint16_t>(ip.ident() + i));
  o.fill_checksum();

  auto tcp = dst.subspan(hl, thl + len);
  auto in_tcp = wire::TcpView<const uint8_t>::unchecked(ip.payload());
  wire::store32(tcp, 4, static_cast<uint32_t>(in_tcp.seq() + off));
  uint8_t flags = in_tcp.flags();
  if (!last) flags &= static_cast<uint8_t>(~(tcp_flag::kFin | tcp_flag::kPsh));
  if (i != 0) flags &= static_cast<uint8_t>(~tcp_flag::kCwr);
  tcp[13] = flags;
  const uint32_t pseudo =
      wire::csum::pseudo_header(ip.src(), ip.dst(), IpProto::kTcp, static_cast<uint16_t>(thl + len));
  wire::store16(tcp, kTcpCsum, 0);
  wire::store16(tcp, kTcpCsum, wire::csum::finish(wire::csum::sum(tcp, pseudo)));
  return out_len;
}

}  // namespace vs::gso

#include "fwd/tun.hpp"

#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"

namespace vs::fwd {

uint8_t ecn_encapsulate(uint8_t tos) noexcept {
  if ((tos & 0x3) == 0x3) return static_cast<uint8_t>((tos & ~0x3) | 0x2);  // CE -> ECT(0)
  return tos;
}

void ipip_encap(std::span<uint8_t> b, Ipv4Addr src, Ipv4Addr dst, uint16_t ident) noexcept {
  auto inner = wire::Ipv4View<uint8_t>::unchecked(b.subspan(kIpipOverhead));
  const uint16_t df = inner.flags_frag() & wire::Ipv4View<uint8_t>::kFlagDf;
  wire::Ipv4View<uint8_t>::unchecked(b).fill(ecn_encapsulate(inner.tos()), static_cast<uint16_t>(b.size()), ident, df,
                                             inner.ttl(), IpProto::kIpip, src, dst);
}

void ipip_encap6(std::span<uint8_t> b, Ipv4Addr src, Ipv4Addr dst, uint16_t ident) noexcept {
  auto inner = wire::Ipv6View<uint8_t>::unchecked(b.subspan(kIpipOverhead));
  wire::Ipv4View<uint8_t>::unchecked(b).fill(ecn_encapsulate(inner.traffic_class()), static_cast<uint16_t>(b.size()),
                                             ident, 0, inner.hop_limit(), static_cast<IpProto>(wire::ipv6_next::kIpv6),
                                             src, dst);
}

void ip6_encap(std::span<uint8_t> b, const Ipv6Addr& src, const Ipv6Addr& dst) noexcept {
  const auto in = b.subspan(kIp6ipOverhead);
  const bool v6 = (in[0] >> 4) == 6;
  uint8_t tos, hops;
  if (v6) {
    auto inner = wire::Ipv6View<uint8_t>::unchecked(in);
    tos = inner.traffic_class();
    hops = inner.hop_limit();
  } else {
    auto inner = wire::Ipv4View<uint8_t>::unchecked(in);
    tos = inner.tos();
    hops = inner.ttl();
  }
  wire::Ipv6View<uint8_t>::unchecked(b).fill(ecn_encapsulate(tos), 0, static_cast<uint16_t>(in.size()),
                                             v6 ? wire::ipv6_next::kIpv6 : wire::ipv6_next::kIpv4, hops, src, dst);
}

}  // namespace vs::fwd

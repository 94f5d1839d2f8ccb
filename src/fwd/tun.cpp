#include "fwd/tun.hpp"

#include "wire/ipv4.hpp"

namespace vs::fwd {

void ipip_encap(std::span<uint8_t> b, Ipv4Addr src, Ipv4Addr dst, uint16_t ident) noexcept {
  auto inner = wire::Ipv4View<uint8_t>::unchecked(b.subspan(kIpipOverhead));
  uint8_t tos = inner.tos();
  if ((tos & 0x3) == 0x3) tos = static_cast<uint8_t>((tos & ~0x3) | 0x2);  // CE -> ECT(0) (RFC 6040)
  const uint16_t df = inner.flags_frag() & wire::Ipv4View<uint8_t>::kFlagDf;
  wire::Ipv4View<uint8_t>::unchecked(b).fill(tos, static_cast<uint16_t>(b.size()), ident, df, inner.ttl(),
                                             IpProto::kIpip, src, dst);
}

}  // namespace vs::fwd

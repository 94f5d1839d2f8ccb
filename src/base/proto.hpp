// Protocol numbers and TCP flag bits: the one typed set every layer uses (wire views, the flow
// key, the connection table, the director, the config). Values from IANA's protocol numbers
// (include/uapi/linux/in.h) and RFC 793 / RFC 3168 (include/net/tcp.h's TCPHDR_* bits).
#pragma once

#include <cstdint>
#include <string_view>

namespace vs {

/// An IP protocol number. The enumerators are the ones vsrouter handles; any other number may be
/// held (the underlying type is fixed), e.g. a packet's protocol field as received.
enum class IpProto : uint8_t { kIcmp = 1, kIpip = 4, kTcp = 6, kUdp = 17, kVrrp = 112, kSctp = 132 };

/// The number as it stands in the IPv4 header.
constexpr uint8_t number(IpProto p) noexcept { return static_cast<uint8_t>(p); }

/// True for the protocols with 16-bit ports at the start of their header that IPVS balances.
constexpr bool is_tcp_or_udp(IpProto p) noexcept { return p == IpProto::kTcp || p == IpProto::kUdp; }

/// "tcp", "udp", "icmp", "ipip", "vrrp", "sctp"; "?" for any other number.
constexpr std::string_view protocol_name(IpProto p) noexcept {
  switch (p) {
    case IpProto::kIcmp: return "icmp";
    case IpProto::kIpip: return "ipip";
    case IpProto::kTcp: return "tcp";
    case IpProto::kUdp: return "udp";
    case IpProto::kVrrp: return "vrrp";
    case IpProto::kSctp: return "sctp";
  }
  return "?";
}

/// TCP header flag bits (the 14th byte of the header).
namespace tcp_flag {
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20, kEce = 0x40,
                         kCwr = 0x80;
}

}  // namespace vs

// TUN (ipvsadm -i): IP-in-IP encapsulation as ip_vs_tunnel_xmit and ip_vs_tunnel_xmit_v6 build it:
// IPIP (RFC 2003), IPv6 in IPv4 (protocol 41, RFC 4213 §3.5), and IPv4 or IPv6 in IPv6 (RFC 2473).
// The kernel allows a real of the other family than its service only behind such a tunnel.
// DR needs no rewrite at all (the engine only sets the Ethernet destination to the real's MAC),
// so it has no file here.
#pragma once

#include <cstdint>
#include <span>

#include "base/addr.hpp"

namespace vs::fwd {

inline constexpr size_t kIpipOverhead = 20;   // an IPv4 outer header
inline constexpr size_t kIp6ipOverhead = 40;  // an IPv6 outer header

/// INET_ECN_encapsulate: the outer header's DSCP and ECN from the inner's (DSCP copied, ECN copied
/// except CE, which becomes ECT(0); RFC 6040 §4.1, "compatibility mode" for ECT).
uint8_t ecn_encapsulate(uint8_t inner_tos) noexcept;

/// Writes the 20-byte outer header in `outer` (the inner IPv4 datagram follows it in the same
/// buffer, its TTL already decremented): protocol 4, TOS = ecn_encapsulate(inner TOS), TTL = inner
/// TTL, DF copied from the inner header, no options, the given identification, and a full header
/// checksum.
void ipip_encap(std::span<uint8_t> outer_and_inner, Ipv4Addr src, Ipv4Addr dst, uint16_t ident) noexcept;

/// The same over an inner IPv6 datagram (ip_vs_tunnel_xmit, cp->af == AF_INET6): protocol 41,
/// TOS = ecn_encapsulate(inner traffic class), TTL = inner hop limit (already decremented), DF
/// clear (IPv6 has no DF to copy), the identification and the header checksum.
void ipip_encap6(std::span<uint8_t> outer_and_inner, Ipv4Addr src, Ipv4Addr dst, uint16_t ident) noexcept;

/// Writes the 40-byte IPv6 outer header (ip_vs_tunnel_xmit_v6) before an inner IPv4 or IPv6
/// datagram (its version nibble tells): next header 4 or 41, traffic class =
/// ecn_encapsulate(inner TOS or traffic class), flow label 0, payload length = the rest of the
/// span, hop limit = the inner TTL or hop limit (already decremented).
void ip6_encap(std::span<uint8_t> outer_and_inner, const Ipv6Addr& src, const Ipv6Addr& dst) noexcept;

}  // namespace vs::fwd

// NAT (masquerading, ipvsadm -m) rewrites, in place on a datagram the engine owns.
// Checksums: IPv4 header and TCP/UDP updated incrementally (RFC 1624); a UDP datagram sent
// without checksum (0) gets a full one computed, as IPVS does (a computed 0 is sent as 0xffff).
// ICMP errors about a NATed flow have the quoted datagram translated too; unlike IPVS (which
// leaves it stale) the quoted TCP/UDP checksum is updated when the quote contains it, so every
// checksum in the error is right. The ICMP checksum is recomputed in full.
#pragma once

#include <cstdint>
#include <span>

#include "base/addr.hpp"
#include "wire/ipv4.hpp"

namespace vs::fwd {

using MutIp = wire::Ipv4View<uint8_t>;

/// client -> real: destination address and port become the real's (unfragmented TCP/UDP).
/// `l4_partial`: the transport checksum is deferred (offload.hpp): its field holds the
/// pseudo-header sum, which follows the address; the port is not part of it (as IPVS's
/// tcp_partial_csum_update).
void nat_in(MutIp ip, Ipv4Addr daddr, uint16_t dport, bool l4_partial = false) noexcept;
/// real -> client: source address and port become the VIP's (unfragmented TCP/UDP).
void nat_out(MutIp ip, Ipv4Addr vaddr, uint16_t vport, bool l4_partial = false) noexcept;

/// ICMP error client -> VIP about the reply VIP:vport -> client: outer dst, quoted src address
/// and source port become the real's.
void nat_icmp_in(MutIp ip, Ipv4Addr daddr, uint16_t dport) noexcept;
/// ICMP error real -> client about the request client -> real:dport: outer src, quoted dst
/// address and destination port become the VIP's.
void nat_icmp_out(MutIp ip, Ipv4Addr vaddr, uint16_t vport) noexcept;

/// IPv6 (ip_vs_nat_xmit_v6, and handle_response's snat for the reply): one address (the source
/// or the destination) and one port of a TCP/UDP datagram, `ip6` its IPv6 header and payload,
/// the transport header at `l4_off` (after any extension headers). The transport checksum
/// follows (its pseudo-header holds the addresses, RFC 8200 §8.1); `l4_partial` as for IPv4. A
/// UDP checksum that comes out 0 is sent as 0xffff (RFC 768; 0 is not allowed over IPv6).
/// `quoted`: the datagram is the quote of an ICMPv6 error, perhaps cut short: a UDP checksum of 0
/// stays 0 (a full one cannot be computed over a part).
void nat6(std::span<uint8_t> ip6, size_t l4_off, IpProto proto, bool src, const Ipv6Addr& a, uint16_t port,
          bool l4_partial = false, bool quoted = false) noexcept;

/// An ICMPv6 error about a NATed IPv6 flow (ip_vs_nat_icmp_v6): `ip6` the error's datagram, its
/// ICMPv6 header at `icmp_off`, the quoted datagram's transport header `inner_l4_off` bytes into
/// the quote. `in` (client -> VIP, about a reply): the outer destination, the quoted source
/// address and source port become the real's; else (real -> client, about a request): the outer
/// source, the quoted destination address and destination port become the VIP's. The quoted
/// transport checksum is updated when the quote holds it (IPVS leaves it stale, as for IPv4);
/// the ICMPv6 checksum is recomputed in full over the new pseudo-header.
void nat_icmp6(std::span<uint8_t> ip6, size_t icmp_off, size_t inner_l4_off, IpProto inner_proto, bool in,
               const Ipv6Addr& a, uint16_t port) noexcept;

}  // namespace vs::fwd

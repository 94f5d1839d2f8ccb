// TUN (ipvsadm -i): IPIP encapsulation (RFC 2003) as ip_vs_tunnel_xmit builds it.
// DR needs no rewrite at all (the engine only sets the Ethernet destination to the real's MAC),
// so it has no file here.
#pragma once

#include <cstdint>
#include <span>

#include "base/addr.hpp"

namespace vs::fwd {

inline constexpr size_t kIpipOverhead = 20;

/// Writes the 20-byte outer header in `outer` (the inner datagram follows it in the same buffer;
/// its TTL already decremented): protocol 4, TOS = INET_ECN_encapsulate(inner TOS) (DSCP copied,
/// ECN copied except CE, which becomes ECT(0)), TTL = inner TTL, DF copied from the inner header,
/// no options, the given identification, and a full header checksum.
void ipip_encap(std::span<uint8_t> outer_and_inner, Ipv4Addr src, Ipv4Addr dst, uint16_t ident) noexcept;

}  // namespace vs::fwd

// The flow key: a packet parsed once into the fields that service lookup, the connection table
// and the schedulers use (IPVS's ip_vs_iphdr, Katran's packet_description), and the packet
// summary the engine's IPVS path takes.
#pragma once

#include <cstdint>

#include "base/addr.hpp"
#include "base/proto.hpp"

namespace vs {

struct FlowKey {
  Ipv4Addr src;  // IPv4: the address; IPv6: its fold (IpAddr::fold), the schedulers' hash input
  Ipv4Addr dst;
  uint16_t sport = 0;  // 0 when the protocol has no ports or the packet is a non-first fragment
  uint16_t dport = 0;
  IpProto proto{};  // IP protocol number
  bool v6 = false;  // an IPv6 packet: src6/dst6 are its addresses
  Ipv6Addr src6{}, dst6{};

  /// The key of an IPv6 packet: the addresses and, in src/dst, their folds.
  static FlowKey ipv6(const Ipv6Addr& s, uint16_t sp, const Ipv6Addr& d, uint16_t dp, IpProto p) noexcept {
    FlowKey k;
    k.src = Ipv4Addr{IpAddr::from_v6(s).fold()};
    k.dst = Ipv4Addr{IpAddr::from_v6(d).fold()};
    k.sport = sp;
    k.dport = dp;
    k.proto = p;
    k.v6 = true;
    k.src6 = s;
    k.dst6 = d;
    return k;
  }
  IpAddr src_addr() const noexcept { return v6 ? IpAddr::from_v6(src6) : IpAddr(src); }
  IpAddr dst_addr() const noexcept { return v6 ? IpAddr::from_v6(dst6) : IpAddr(dst); }

  friend constexpr bool operator==(const FlowKey&, const FlowKey&) = default;
};

/// A received IPv4 packet summarised once, when its transport header is checked (the engine's
/// handle_ipv4): what the IPVS path needs without parsing the header again.
struct PacketSummary {
  FlowKey key;
  uint8_t tcp_flags = 0;   // the TCP header's flags; 0 for every other protocol
  uint16_t l4_offset = 0;  // where the transport header starts, from the IPv4 header's start
  bool fragment = false;   // a fragment: no transport header to judge, ports 0
};

}  // namespace vs

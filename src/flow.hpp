// The flow key: a packet parsed once into the fields that service lookup, the connection table
// and the schedulers use (IPVS's ip_vs_iphdr, Katran's packet_description), and the packet
// summary the engine's IPVS path takes.
#pragma once

#include <cstdint>

#include "base/addr.hpp"
#include "base/proto.hpp"

namespace vs {

struct FlowKey {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint16_t sport = 0;  // 0 when the protocol has no ports or the packet is a non-first fragment
  uint16_t dport = 0;
  IpProto proto{};  // IP protocol number

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

// The flow key: a packet parsed once into the fields that service lookup, the connection table
// and the schedulers use (IPVS's ip_vs_iphdr, Katran's packet_description).
#pragma once

#include <cstdint>

#include "base/addr.hpp"

namespace vs {

struct FlowKey {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint16_t sport = 0;  // 0 when the protocol has no ports or the packet is a non-first fragment
  uint16_t dport = 0;
  uint8_t proto = 0;   // IP protocol number

  friend constexpr bool operator==(const FlowKey&, const FlowKey&) = default;
};

}  // namespace vs

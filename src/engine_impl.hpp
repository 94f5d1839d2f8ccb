// Private to the engine's two source files (engine.cpp, engine_ipvs.cpp): the wire views they
// both use, by short name, and the Ethernet header length.
#pragma once

#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace vs {

using wire::EthernetView;
using wire::Icmpv4View;
using wire::Ipv4View;
namespace icmp_type = wire::icmp_type;
namespace icmp_code = wire::icmp_code;

inline constexpr size_t kEth = EthernetView<uint8_t>::kHeaderLen;

}  // namespace vs

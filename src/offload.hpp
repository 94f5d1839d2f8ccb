// Offload state of a frame: what a TAP device with IFF_VNET_HDR says about it in the virtio-net
// header (include/uapi/linux/virtio_net.h), in the engine's own terms. Adapters without offloads
// (pcap replay, tests) never set it: every frame is then a complete wire frame.
//
// Two things can be deferred by the kernel that sent the frame, and the engine keeps them
// deferred when the adapter lets it (EngineParams::offload):
//   - the TCP/UDP checksum (`csum_partial`): the checksum field holds the folded, not inverted,
//     pseudo-header sum, and whoever finally needs the checksum sums from `csum_start` to the end
//     and stores the result at csum_start + csum_offset (Linux CHECKSUM_PARTIAL). A NAT rewrite
//     of an address then updates the pseudo-header sum only; a port change needs nothing.
//   - segmentation (`gso_size` > 0, TCP over IPv4 only, as TUN_F_TSO4 negotiates): the frame is
//     one TCP segment of up to 64 KiB standing for ceil(payload / gso_size) segments on the wire;
//     the IPv4 header is that of the first segment (ID incremented per segment) and the TCP header
//     that of all of them (sequence advanced, FIN/PSH only on the last, CWR only on the first).
// Where deferral cannot continue (an IPIP encapsulation of a super-frame, an adapter without
// offloads, a frame waiting for ARP), the engine does the work in software (gso.cpp).
#pragma once

#include <cstdint>

namespace vs {

struct Offload {
  uint16_t gso_size = 0;     // 0: not a super-frame; else the payload bytes of each segment (MSS)
  uint16_t csum_start = 0;   // from the first byte of the Ethernet header
  uint16_t csum_offset = 0;  // of the checksum field, from csum_start
  bool csum_partial = false;
  bool gso_ecn = false;      // the super-frame has CWR set (VIRTIO_NET_HDR_GSO_ECN)
  bool unsupported = false;  // a kind of offload not negotiated (GSO of UDP, IPv6...): dropped

  bool any() const noexcept { return csum_partial || gso_size != 0 || unsupported; }
};

}  // namespace vs

// The virtio-net header (struct virtio_net_hdr, 10 bytes, little-endian: TUNSETVNETLE) in front
// of every frame of a TAP device opened with IFF_VNET_HDR, to and from the engine's Offload.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "offload.hpp"

namespace vs::tap::vnet {

inline constexpr size_t kHeaderLen = 10;
// From include/uapi/linux/virtio_net.h (which does not compile as C++: a field named `class`).
inline constexpr uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
inline constexpr uint8_t VIRTIO_NET_HDR_GSO_NONE = 0, VIRTIO_NET_HDR_GSO_TCPV4 = 1, VIRTIO_NET_HDR_GSO_ECN = 0x80;
using Header = std::array<uint8_t, kHeaderLen>;

inline uint16_t le16(const uint8_t* p) noexcept { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline void put_le16(uint8_t* p, uint16_t v) noexcept {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

/// What the kernel deferred on a frame it hands us. GSO types we did not negotiate (UDP, IPv6)
/// come out as `unsupported` (the engine drops them, counted).
inline Offload decode(const uint8_t* h) noexcept {
  Offload o;
  const uint8_t flags = h[0], type = h[1];
  if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
    o.csum_partial = true;
    o.csum_start = le16(h + 6);
    o.csum_offset = le16(h + 8);
  }
  const uint8_t gso = type & static_cast<uint8_t>(~VIRTIO_NET_HDR_GSO_ECN);
  if (gso == VIRTIO_NET_HDR_GSO_TCPV4) {
    o.gso_size = le16(h + 4);
    o.gso_ecn = (type & VIRTIO_NET_HDR_GSO_ECN) != 0;
    if (o.gso_size == 0) o.unsupported = true;
  } else if (gso != VIRTIO_NET_HDR_GSO_NONE) {
    o.unsupported = true;
  }
  return o;
}

/// The header for a frame we write: zero for a complete frame.
inline Header encode(const Offload& o, std::span<const uint8_t> frame) noexcept {
  Header h{};
  if (o.csum_partial) {
    h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    put_le16(&h[6], o.csum_start);
    put_le16(&h[8], o.csum_offset);
  }
  if (o.gso_size) {
    h[1] = static_cast<uint8_t>(VIRTIO_NET_HDR_GSO_TCPV4 | (o.gso_ecn ? VIRTIO_NET_HDR_GSO_ECN : 0));
    put_le16(&h[4], o.gso_size);
    // hdr_len: the headers up to the end of TCP's (its data offset is in byte 12 of it).
    size_t th = o.csum_start + 12u < frame.size() ? (frame[o.csum_start + 12u] >> 4) * 4u : 20u;
    put_le16(&h[2], static_cast<uint16_t>(o.csum_start + th));
  }
  return h;
}

}  // namespace vs::tap::vnet

// Software versions of the work an offloaded frame defers (offload.hpp): completing a partial
// TCP/UDP checksum and cutting a TCPv4 super-frame into its wire segments, as the kernel's
// skb_checksum_help and tcp_gso_segment/inet_gso_segment do it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "offload.hpp"
#include "wire/ipv4.hpp"

namespace vs::gso {

/// Whether `off` describes what the engine can carry for this datagram (which starts `l3`
/// bytes into its frame): a partial checksum must be the TCP or UDP checksum of an unfragmented
/// datagram (csum_start at its transport header, csum_offset 16 or 6), a super-frame must be TCP
/// with a partial checksum and a non-zero segment size.
bool valid(wire::Ipv4View<const uint8_t> ip, size_t l3, const Offload& off) noexcept;

/// The same for an IPv6 datagram whose upper layer `upper` starts at `upper_start` and which ends
/// at `end` (both from the frame's start): only a TCP or UDP checksum of an unfragmented datagram
/// can be deferred; no segmentation (TSO6 is not negotiated).
bool valid_v6(uint8_t upper, bool fragment, size_t upper_start, size_t end, const Offload& off) noexcept;

/// Completes a partial checksum in place: the transport checksum field holds the pseudo-header
/// sum; afterwards it holds the full checksum (as skb_checksum_help). `l4`: the transport header
/// to the datagram's end; `field`: the checksum's offset in it.
void complete_checksum(std::span<uint8_t> l4, size_t field) noexcept;
/// ... of an IPv4 datagram's TCP or UDP checksum.
void complete_checksum(wire::Ipv4View<uint8_t> ip) noexcept;

/// Number of segments of a super-frame (1 when the payload fits one segment).
size_t segment_count(wire::Ipv4View<const uint8_t> ip, uint16_t gso_size) noexcept;
/// Length of the largest segment's IPv4 datagram: the MTU a super-frame needs.
size_t segment_ip_len(wire::Ipv4View<const uint8_t> ip, uint16_t gso_size) noexcept;

/// Writes segment `i` of the TCPv4 super-frame `ip` (a datagram with a partial checksum) as an
/// IPv4 datagram at the start of `dst` and returns its length. IPv4: total length, ID + i,
/// header checksum; TCP: sequence number advanced, FIN and PSH on the last segment only, CWR on
/// the first only; its checksum complete. `dst` holds segment_ip_len() bytes.
size_t segment(wire::Ipv4View<const uint8_t> ip, uint16_t gso_size, size_t i, std::span<uint8_t> dst) noexcept;

}  // namespace vs::gso

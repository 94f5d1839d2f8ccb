// Private to the engine's source files (engine*.cpp): the wire views they
// both use, by short name, and the Ethernet header length.
#pragma once

#include "engine.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace vs {

using wire::EthernetView;
using wire::Icmpv4View;
using wire::Ipv4View;
namespace icmp_type = wire::icmp_type;
namespace icmp_code = wire::icmp_code;

inline constexpr size_t kEth = EthernetView<uint8_t>::kHeaderLen;

/// More IPv6 extension headers than this and the datagram is dropped (RFC 8200 §4.1 sets no
/// limit; RFC 8504 §5.3 lets a node set one). Linux has none for forwarding, 8 hop-by-hop/
/// destination options would already be unusual. A quote of an ICMPv6 error is walked as far.
inline constexpr uint8_t kMaxExtHeaders = 8;

/// The verdict of a datagram sent as several frames (fragments, segments), given one more frame's:
/// a drop wins, then waiting for ARP, then forwarded.
inline void combine(Verdict& v, const Verdict& part) noexcept {
  if (part.kind == Verdict::Kind::kDropped) v = part;
  else if (part.kind == Verdict::Kind::kQueued && v.kind == Verdict::Kind::kForwarded) v = part;
}

/// The RST answering segment `seg` (tcp_v4_send_reset, tcp_v6_send_reset), written into `tcp` (a
/// zeroed 20-byte header; the caller fills the checksum): ports swapped, no options, window 0;
/// seq = the segment's ack if it has ACK, else seq 0 with ACK and ack = seq + SYN + FIN + its
/// payload length. The caller has checked that `seg` is no RST.
inline void fill_reset(std::span<uint8_t> tcp, const wire::TcpView<const uint8_t>& seg) noexcept {
  const uint8_t flags = seg.flags();
  uint32_t seq = 0, ack = 0;
  uint8_t rflags = tcp_flag::kRst;
  if (flags & tcp_flag::kAck) {
    seq = seg.ack();
  } else {
    rflags |= tcp_flag::kAck;
    ack = seg.seq() + ((flags & tcp_flag::kSyn) ? 1u : 0u) + ((flags & tcp_flag::kFin) ? 1u : 0u) +
          static_cast<uint32_t>(seg.payload().size());
  }
  wire::store16(tcp, 0, seg.dport());
  wire::store16(tcp, 2, seg.sport());
  wire::store32(tcp, 4, seq);
  wire::store32(tcp, 8, ack);
  tcp[12] = static_cast<uint8_t>((wire::TcpView<uint8_t>::kMinHeaderLen / 4) << 4);
  tcp[13] = rflags;
}

}  // namespace vs

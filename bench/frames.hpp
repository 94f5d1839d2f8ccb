// Frames for the benchmarks (engine_bench, health_bench): Ethernet + IPv4 + TCP or UDP and ARP, built
// with plain byte writes and an RFC 1071 sum, independent of src/wire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "base/addr.hpp"

namespace bench {

using vs::Ipv4Addr;
using vs::MacAddr;

constexpr size_t kEth = 14;

inline void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}
inline uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t get32(const uint8_t* p) { return (uint32_t{get16(p)} << 16) | get16(p + 2); }

inline uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += get16(p + i);
  if (n & 1) acc += uint32_t{p[n - 1]} << 8;
  return acc;
}
inline uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(~acc);
}

namespace tcpf {
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
}

/// An Ethernet + IPv4 + TCP frame of `frame_len` bytes (>= 54) into `out`. The TCP payload (the
/// bytes after 54) is `payload` if given (frame_len must be 54 + its size), else a pattern.
inline void build_tcp(uint8_t* out, size_t frame_len, const MacAddr& dmac, const MacAddr& smac, Ipv4Addr src,
                      Ipv4Addr dst, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
                      std::span<const uint8_t> payload = {}) {
  std::memset(out, 0, frame_len);
  std::memcpy(out, dmac.b.data(), 6);
  std::memcpy(out + 6, smac.b.data(), 6);
  put16(out + 12, 0x0800);
  uint8_t* ip = out + kEth;
  const size_t ip_len = frame_len - kEth;
  ip[0] = 0x45;
  put16(ip + 2, static_cast<uint16_t>(ip_len));
  put16(ip + 4, 1);
  put16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = 6;
  put32(ip + 12, src.v);
  put32(ip + 16, dst.v);
  put16(ip + 10, fold(sum16(ip, 20)));
  uint8_t* tcp = ip + 20;
  put16(tcp, sport);
  put16(tcp + 2, dport);
  put32(tcp + 4, seq);
  put32(tcp + 8, ack);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  put16(tcp + 14, 65535);
  if (!payload.empty()) std::memcpy(tcp + 20, payload.data(), payload.size());
  else
    for (size_t i = 20; i < ip_len - 20; ++i) tcp[i] = static_cast<uint8_t>(i);
  const size_t l4 = ip_len - 20;
  uint32_t ph = (src.v >> 16) + (src.v & 0xffff) + (dst.v >> 16) + (dst.v & 0xffff) + 6 + static_cast<uint32_t>(l4);
  put16(tcp + 16, fold(sum16(tcp, l4, ph)));
}

/// An Ethernet + IPv4 + UDP frame carrying `payload` into `out` (room for 42 + its size), TTL
/// `ttl`, the UDP checksum filled; returns the frame's length.
inline size_t build_udp(uint8_t* out, const MacAddr& dmac, const MacAddr& smac, Ipv4Addr src, Ipv4Addr dst,
                        uint16_t sport, uint16_t dport, std::span<const uint8_t> payload, uint8_t ttl = 64) {
  const size_t udp_len = 8 + payload.size(), ip_len = 20 + udp_len;
  std::memset(out, 0, kEth + 28);
  std::memcpy(out, dmac.b.data(), 6);
  std::memcpy(out + 6, smac.b.data(), 6);
  put16(out + 12, 0x0800);
  uint8_t* ip = out + kEth;
  ip[0] = 0x45;
  put16(ip + 2, static_cast<uint16_t>(ip_len));
  put16(ip + 4, 1);
  ip[8] = ttl;
  ip[9] = 17;
  put32(ip + 12, src.v);
  put32(ip + 16, dst.v);
  put16(ip + 10, fold(sum16(ip, 20)));
  uint8_t* udp = ip + 20;
  put16(udp, sport);
  put16(udp + 2, dport);
  put16(udp + 4, static_cast<uint16_t>(udp_len));
  if (!payload.empty()) std::memcpy(udp + 8, payload.data(), payload.size());
  uint32_t ph =
      (src.v >> 16) + (src.v & 0xffff) + (dst.v >> 16) + (dst.v & 0xffff) + 17 + static_cast<uint32_t>(udp_len);
  uint16_t sum = fold(sum16(udp, udp_len, ph));
  put16(udp + 6, sum ? sum : 0xffff);  // RFC 768: a computed 0 is sent as all ones
  return kEth + ip_len;
}

/// A 60-byte ARP frame: a request (oper 1, broadcast) or a reply (oper 2, to `tha`).
inline void build_arp(uint8_t* out, uint16_t oper, const MacAddr& sha, Ipv4Addr spa, const MacAddr& tha, Ipv4Addr tpa) {
  std::memset(out, 0, 60);
  if (oper == 1) std::memset(out, 0xff, 6);
  else std::memcpy(out, tha.b.data(), 6);
  std::memcpy(out + 6, sha.b.data(), 6);
  put16(out + 12, 0x0806);
  uint8_t* a = out + kEth;
  put16(a, 1);
  put16(a + 2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  put16(a + 6, oper);
  std::memcpy(a + 8, sha.b.data(), 6);
  put32(a + 14, spa.v);
  if (oper != 1) std::memcpy(a + 18, tha.b.data(), 6);
  put32(a + 24, tpa.v);
}

inline void build_arp_request(uint8_t* out, const MacAddr& sha, Ipv4Addr spa, Ipv4Addr tpa) {
  build_arp(out, 1, sha, spa, MacAddr{}, tpa);
}

/// The sum of an IPv6 pseudo-header (RFC 8200 §8.1).
inline uint32_t pseudo6(const vs::Ipv6Addr& src, const vs::Ipv6Addr& dst, uint8_t next, size_t len) {
  return sum16(src.b.data(), 16, sum16(dst.b.data(), 16, next + static_cast<uint32_t>(len)));
}

inline void build_ipv6(uint8_t* out, const MacAddr& dmac, const MacAddr& smac, const vs::Ipv6Addr& src,
                       const vs::Ipv6Addr& dst, uint8_t next, uint8_t hlim, size_t payload_len) {
  std::memcpy(out, dmac.b.data(), 6);
  std::memcpy(out + 6, smac.b.data(), 6);
  put16(out + 12, 0x86dd);
  uint8_t* ip = out + kEth;
  put32(ip, 0x60000000);
  put16(ip + 4, static_cast<uint16_t>(payload_len));
  ip[6] = next;
  ip[7] = hlim;
  std::memcpy(ip + 8, src.b.data(), 16);
  std::memcpy(ip + 24, dst.b.data(), 16);
}

/// An Ethernet + IPv6 + UDP frame of `frame_len` bytes (at least 62), the UDP checksum filled.
inline void build_udp6(uint8_t* out, size_t frame_len, const MacAddr& dmac, const MacAddr& smac,
                       const vs::Ipv6Addr& src, const vs::Ipv6Addr& dst, uint16_t sport, uint16_t dport,
                       uint8_t hlim = 64) {
  const size_t udp_len = frame_len - kEth - 40;
  std::memset(out, 0, frame_len);
  build_ipv6(out, dmac, smac, src, dst, 17, hlim, udp_len);
  uint8_t* udp = out + kEth + 40;
  put16(udp, sport);
  put16(udp + 2, dport);
  put16(udp + 4, static_cast<uint16_t>(udp_len));
  const uint16_t sum = fold(sum16(udp, udp_len, pseudo6(src, dst, 17, udp_len)));
  put16(udp + 6, sum ? sum : 0xffff);
}

/// An Ethernet + IPv6 + TCP frame of `frame_len` bytes (at least 74), the TCP checksum filled.
inline void build_tcp6(uint8_t* out, size_t frame_len, const MacAddr& dmac, const MacAddr& smac,
                       const vs::Ipv6Addr& src, const vs::Ipv6Addr& dst, uint16_t sport, uint16_t dport, uint8_t flags,
                       uint32_t seq, uint32_t ack) {
  const size_t tcp_len = frame_len - kEth - 40;
  std::memset(out, 0, frame_len);
  build_ipv6(out, dmac, smac, src, dst, 6, 64, tcp_len);
  uint8_t* tcp = out + kEth + 40;
  put16(tcp, sport);
  put16(tcp + 2, dport);
  put32(tcp + 4, seq);
  put32(tcp + 8, ack);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  put16(tcp + 14, 65535);
  put16(tcp + 16, fold(sum16(tcp, tcp_len, pseudo6(src, dst, 6, tcp_len))));
}

/// An 86-byte Neighbour Solicitation from `src` (its link-layer address option: `smac`) for
/// `target`, to the target's solicited-node group (RFC 4861 §4.3).
inline void build_ns(uint8_t* out, const MacAddr& smac, const vs::Ipv6Addr& src, const vs::Ipv6Addr& target) {
  const vs::Ipv6Addr group = target.solicited_node();
  std::memset(out, 0, 86);
  build_ipv6(out, vs::multicast_mac(group), smac, src, group, 58, 255, 32);
  uint8_t* icmp = out + kEth + 40;
  icmp[0] = 135;
  std::memcpy(icmp + 8, target.b.data(), 16);
  icmp[24] = 1;
  icmp[25] = 1;
  std::memcpy(icmp + 26, smac.b.data(), 6);
  put16(icmp + 2, fold(sum16(icmp, 32, pseudo6(src, group, 58, 32))));
}

}  // namespace bench

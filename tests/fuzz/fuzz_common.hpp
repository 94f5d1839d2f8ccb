// Shared by the libFuzzer targets (docs/hardening.md): the config the engine and replay targets
// run with, and the checks every frame the engine sends must pass.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <span>
#include <string_view>

#include "config/config.hpp"
#include "engine.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"

namespace vs::fuzz {

// Every IPVS path is reachable: NAT, DR and TUN reals, persistence (with a netmask, and a port-0
// service), one-packet scheduling, thresholds, hashing schedulers (not mh: building its 65521-slot
// table for every input would halve the fuzzing rate; fuzz_config builds it); three interfaces with
// different MTUs (fragmentation, PMTU, ICMP frag needed), static routes and unrouted space (ICMP
// net unreachable). The table and the neighbour cache are tiny so that exhaustion, eviction and
// the defences are reached too. Interface 0 and 1 have the MACs of the golden cases' two sides
// (02:00:00:00:00:01 clients, 02:00:00:00:00:02 servers), so their frames make good seeds. Those
// two take IPv6 too (and a route through srv); dmz stays IPv4 only.
inline constexpr std::string_view kConfig = R"(
[router]
seed = 42
max_connections = 24

[[interfaces]]
name = "lan"
mac = "02:00:00:00:00:01"
addresses = ["192.168.1.1/24", "203.0.113.1/24", "192.168.0.1/24", "192.168.1.10/24", "2001:db8:1::1/64",
             "2001:db8::1/64"]

[[interfaces]]
name = "srv"
mac = "02:00:00:00:00:02"
addresses = ["10.0.0.1/24", "10.1.0.1/24", "10.2.0.1/24", "2001:db8:2::1/64"]
mtu = 1400

[[interfaces]]
name = "dmz"
mac = "02:00:00:00:00:03"
addresses = ["10.3.0.1/24", "172.16.1.1/24"]
mtu = 576

[[routes]]
to = "172.16.0.0/16"
via = "10.0.0.254"

[[routes]]
to = "2001:db8:9::/48"
via = "2001:db8:2::fe"

[[routes]]
to = "198.51.100.0/24"
via = "203.0.113.254"

[[routes]]
to = "10.9.0.0/16"
via = "10.1.0.254"

[[routes]]
to = "0.0.0.0/1"
via = "203.0.113.254"

[timeouts]
tcpfin = 10
udp = 20

[defense]
high_water = 50
syn_timeout = 2

[[services]]
protocol = "tcp"
address = "203.0.113.100:80"
scheduler = "rr"
reals = [{ address = "10.1.0.11:8080", method = "nat" }, { address = "10.1.0.12:8080", method = "nat" },
         { address = "10.9.0.11:8080", method = "nat" }]

[[services]]
protocol = "udp"
address = "203.0.113.100:53"
scheduler = "rr"
reals = [{ address = "10.1.0.21:5353", method = "nat" }, { address = "10.1.0.22:5353", method = "nat" },
         { address = "10.2.0.21:53", method = "dr" }]

[[services]]
protocol = "tcp"
address = "203.0.113.100:443"
scheduler = "wlc"
reals = [{ address = "10.2.0.23:443", weight = 0 }, { address = "10.2.0.21:443", upper = 2, lower = 1 }]

[[services]]
protocol = "tcp"
address = "192.168.1.100:80"
scheduler = "rr"
reals = [{ address = "172.16.1.11:80", method = "tun" }, { address = "172.16.9.12:80", method = "tun" },
         { address = "192.168.1.11:80" }, { address = "10.0.0.11:80" }]

[[services]]
protocol = "udp"
address = "192.168.1.100:53"
scheduler = "sh"
flags = ["sh-port", "sh-fallback"]
reals = [{ address = "172.16.1.11:53", method = "tun" }, { address = "172.16.9.12:53", method = "tun" }]

[[services]]
protocol = "tcp"
address = "192.168.0.100:80"
scheduler = "rr"
persistence = 30
netmask = "255.255.255.0"
reals = [{ address = "10.0.0.11:80" }, { address = "10.0.0.12:80" }, { address = "10.0.0.13:80" }]

# IPv6 services on the VIP of pcaps/ipv6_services (its frames are engine seeds): NAT, DR, and
# persistent UDP with a /64 prefix.
[[services]]
protocol = "tcp"
address = "[2001:db8::80]:80"
scheduler = "sh"
reals = [{ address = "[2001:db8:2::11]:8080", method = "nat" }, { address = "[2001:db8:2::12]:8080", method = "nat" }]

[[services]]
protocol = "tcp"
address = "[2001:db8::80]:443"
scheduler = "rr"
reals = [{ address = "[2001:db8:2::21]:443", method = "dr" }, { address = "[2001:db8:2::22]:443", method = "dr" }]

[[services]]
protocol = "udp"
address = "[2001:db8::80]:53"
scheduler = "mh"
persistence = 60
netmask = 64
reals = [{ address = "[2001:db8:2::11]:5353", method = "nat" }, { address = "[2001:db8:2::12]:5353", method = "nat" }]

# TUN with IPv6 reals and across the families (pcaps/ipv6_tun's frames are seeds): IPv6 in IPv6,
# IPv6 in IPv4, IPv4 in IPv6.
[[services]]
protocol = "tcp"
address = "[2001:db8::80]:81"
scheduler = "rr"
reals = [{ address = "[2001:db8:2::31]:81", method = "tun" }, { address = "10.1.0.32:81", method = "tun" }]

[[services]]
protocol = "tcp"
address = "203.0.113.100:81"
scheduler = "rr"
reals = [{ address = "[2001:db8:2::31]:81", method = "tun" }, { address = "10.1.0.32:81", method = "tun" }]

[[services]]
protocol = "tcp"
address = "203.0.113.101:0"
scheduler = "lblcr"
persistence = 60
reals = [{ address = "10.1.0.31", method = "nat" }, { address = "10.2.0.31" }]

[[services]]
protocol = "udp"
address = "203.0.113.102:123"
scheduler = "rr"
flags = ["ops"]
reals = [{ address = "10.1.0.41:123", method = "nat" }, { address = "172.16.9.41:123", method = "tun" }]

[[services]]
protocol = "tcp"
address = "203.0.113.103:80"
scheduler = "dh"
drain = "reschedule"
reals = [{ address = "10.1.0.51:80", method = "nat", upper = 3 }, { address = "10.1.0.52:80", method = "nat" },
         { address = "10.2.0.53:80" }]

[[services]]
protocol = "tcp"
address = "203.0.113.104:80"
scheduler = "twos"
reals = [{ address = "10.1.0.61:80", method = "nat" }, { address = "10.1.0.62:80", method = "nat", weight = 3 }]
)";

/// Small neighbour cache, queues and pool: exhaustion is reachable in a few frames.
inline EngineParams small_params() {
  EngineParams p;
  p.neigh.capacity = 16;
  p.neigh.queue_per_entry = 4;
  p.pool_buffers = 24;
  return p;
}

inline std::shared_ptr<const config::Config> fuzz_config() {
  static std::shared_ptr<const config::Config> cfg = [] {
    auto r = config::parse_config(kConfig);
    if (!r) {
      std::fprintf(stderr, "fuzz config rejected: %s\n", r.error().format("fuzz config").c_str());
      std::abort();
    }
    return r.value();
  }();
  return cfg;
}

[[noreturn]] inline void fail(const char* what, uint32_t iface, std::span<const uint8_t> frame) {
  std::fprintf(stderr, "invariant violated: %s (interface %u, %zu bytes)\n", what, iface, frame.size());
  std::abort();
}

/// The director's books balance: the table holds at most its capacity, and each real's active,
/// inactive and persistent counts are those of the connections bound to it (fuzz_sync and
/// fuzz_handover, whose entries come from outside).
inline void check_dest_counts(const Engine& e) {
  auto fail_counts = [](const char* what) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  };
  const ipvs::Director& d = e.director();
  if (d.conns().size() > d.conns().capacity()) fail_counts("more entries than the table's capacity");
  std::map<const ipvs::Dest*, std::array<uint32_t, 3>> seen;  // active, inactive, templates
  d.conns().for_each([&](uint32_t, const conn::Conn& c) {
    if (!c.dest) return;
    auto& n = seen[c.dest];
    if (c.flags & conn::kFlagTemplate) n[2]++;
    else if (c.flags & conn::kFlagInactive) n[1]++;
    else n[0]++;
  });
  for (const auto& svc : d.services())
    for (const ipvs::Dest* dest : svc->dests) {
      const auto n = seen.count(dest) ? seen[dest] : std::array<uint32_t, 3>{};
      if (dest->activeconns != n[0] || dest->inactconns != n[1] || dest->persistconns != n[2])
        fail_counts("a real's connection counts are not those of its connections");
    }
}

/// The drops of frames: every counter but the two that count connections the defence dropped
/// (an eviction or an expiry may happen while a frame is handled, and is not that frame's drop).
inline uint64_t frame_drops(const DropCounters& d) {
  return d.total() - d[DropReason::kConnEvictedHalfOpen] - d[DropReason::kConnExpiredHalfOpen];
}

inline bool is_local(const config::Config& cfg, Ipv4Addr a) {
  for (const auto& i : cfg.interfaces)
    for (const auto& p : i.addresses)
      if (p.addr == a) return true;
  for (const auto& s : cfg.services)
    if (s.vip == a) return true;
  return false;
}

/// What every frame the engine sends must be: an Ethernet frame from the interface's MAC, ARP of
/// its fixed size or an IPv4 datagram that fits the interface's MTU, with a correct header
/// checksum and a length matching the frame; ICMP the router originates (from one of its
/// addresses or VIPs) has a correct checksum.
inline void check_sent(const config::Config& cfg, uint32_t iface, std::span<const uint8_t> f) {
  if (iface >= cfg.interfaces.size()) fail("unknown interface", iface, f);
  auto eth = wire::EthernetView<const uint8_t>::parse(f);
  if (!eth) fail("frame shorter than Ethernet", iface, f);
  if (eth->src() != cfg.interfaces[iface].mac) fail("source MAC is not the interface's", iface, f);
  if (eth->dst().is_zero()) fail("destination MAC left zero", iface, f);
  if (eth->ethertype() == 0x0806) {
    if (f.size() != 14 + 28) fail("ARP frame size", iface, f);
    return;
  }
  if (eth->ethertype() == 0x86dd) {
    auto ip6 = wire::Ipv6View<const uint8_t>::parse(f.subspan(14));
    if (!ip6) fail("IPv6 does not parse", iface, f);
    if (ip6->bytes().size() != f.size() - 14) fail("IPv6 payload length != frame", iface, f);
    if (ip6->bytes().size() > cfg.interfaces[iface].mtu) fail("IPv6 datagram larger than the MTU", iface, f);
    if (!cfg.interfaces[iface].ipv6()) fail("IPv6 out of an interface without IPv6", iface, f);
    // What the router says itself (ND, echo replies, errors) carries a right ICMPv6 checksum.
    if (ip6->next_header() == 58) {
      auto icmp = wire::Icmpv6View<const uint8_t>::parse(ip6->payload());
      if (!icmp) fail("ICMPv6 too short", iface, f);
      bool ours = ip6->src().is_unspecified();
      for (const auto& itf : cfg.interfaces) {
        for (const auto& a : itf.addresses6) ours = ours || a.addr == ip6->src();
        ours = ours || (itf.ipv6() && ip6->src() == link_local_from(itf.mac));
      }
      for (const auto& svc : cfg.services) ours = ours || (svc.vip.is_v6() && svc.vip.v6() == ip6->src());
      if (ours && !icmp->verify_checksum(ip6->src(), ip6->dst()))
        fail("ICMPv6 checksum of a message from us", iface, f);
    }
    return;
  }
  if (eth->ethertype() != 0x0800) fail("ethertype", iface, f);
  auto ip = wire::Ipv4View<const uint8_t>::parse(f.subspan(14));
  if (!ip) fail("IPv4 does not parse", iface, f);
  if (ip->total_len() != f.size() - 14) fail("IPv4 total length != frame", iface, f);
  if (ip->total_len() > cfg.interfaces[iface].mtu) fail("datagram larger than the MTU", iface, f);
  if (!ip->verify_checksum()) fail("IPv4 header checksum", iface, f);
  if (ip->protocol() == IpProto::kIcmp && !ip->is_fragment() && is_local(cfg, ip->src())) {
    auto icmp = wire::Icmpv4View<const uint8_t>::parse(ip->payload());
    if (!icmp) fail("ICMP from us too short", iface, f);
    if (!icmp->verify_checksum()) fail("ICMP checksum of a message from us", iface, f);
  }
}

// ---------------------------------------------------------------------------------------------
// Checksum repair: lets the fuzzer's mutations get past the checksum checks (a record flag).

inline void put16(std::span<uint8_t> b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}

/// Fix the IPv4 header checksum of `b` and, for an unfragmented datagram, its TCP/UDP/ICMP
/// checksum (and an IPIP inner datagram's, once).
inline void fix_ipv4(std::span<uint8_t> b, int depth = 0) {
  if (b.size() < 20 || (b[0] >> 4) != 4) return;
  size_t hl = static_cast<size_t>(b[0] & 0x0f) * 4;
  size_t tl = (size_t{b[2]} << 8) | b[3];
  if (hl < 20 || tl < hl || tl > b.size()) return;
  auto ip = wire::Ipv4View<uint8_t>::parse(b.first(tl));
  if (!ip) return;
  ip->fill_checksum();
  if (ip->is_fragment()) return;
  auto l4 = ip->payload();
  uint32_t pseudo = wire::csum::pseudo_header(ip->src(), ip->dst(), ip->protocol(), static_cast<uint16_t>(l4.size()));
  switch (ip->protocol()) {
    case IpProto::kIcmp:
      if (l4.size() >= 8) {
        put16(l4, 2, 0);
        put16(l4, 2, wire::csum::compute(l4));
      }
      break;
    case IpProto::kIpip:
      if (depth == 0) fix_ipv4(l4, 1);
      break;
    case IpProto::kTcp:
      if (l4.size() >= 20) {
        put16(l4, 16, 0);
        put16(l4, 16, wire::csum::finish(wire::csum::sum(l4, pseudo)));
      }
      break;
    case IpProto::kUdp:
      if (l4.size() >= 8 && (l4[6] | l4[7])) {
        put16(l4, 6, 0);
        uint16_t c = wire::csum::finish(wire::csum::sum(l4, pseudo));
        put16(l4, 6, c == 0 ? 0xffff : c);
      }
      break;
    default: break;
  }
}

/// Fix the TCP/UDP/ICMPv6 checksum of an IPv6 datagram without extension headers.
inline void fix_ipv6(std::span<uint8_t> b) {
  auto ip = wire::Ipv6View<uint8_t>::parse(b);
  if (!ip) return;
  auto l4 = ip->payload();
  const uint8_t next = ip->next_header();
  const size_t at = next == 58 ? 2 : next == 6 ? 16 : next == 17 ? 6 : SIZE_MAX;
  if (at == SIZE_MAX || l4.size() < at + 2) return;
  put16(l4, at, 0);
  uint16_t c = wire::csum::finish(
      wire::csum::sum(l4, wire::csum::pseudo_header_v6(ip->src(), ip->dst(), next, static_cast<uint32_t>(l4.size()))));
  put16(l4, at, next == 17 && c == 0 ? 0xffff : c);
}

inline void fix_checksums(std::span<uint8_t> frame) {
  if (frame.size() > 14 && frame[12] == 0x08 && frame[13] == 0x00) fix_ipv4(frame.subspan(14));
  if (frame.size() > 14 && frame[12] == 0x86 && frame[13] == 0xdd) fix_ipv6(frame.subspan(14));
}

}  // namespace vs::fuzz

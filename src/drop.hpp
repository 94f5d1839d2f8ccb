// Every reason the engine does not forward a frame, defined once (VPP-style X-macro): the enum,
// the stable snake_case name shown by `--list`, stats and metrics, and a one-line explanation.
// Names are a contract with users' dashboards: add new ones, never rename.
// The conn_*_half_open reasons count connection entries the table defences drop (the director
// counts them; docs/hardening.md), not frames: the frames of such a connection that come later
// are counted where they end up.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vs {

#define VS_DROP_REASONS(X)                                                                                        \
  X(kEthTruncated, "eth_truncated", "frame shorter than an Ethernet header")                                      \
  X(kEthTooLong, "eth_too_long", "frame longer than 9014 bytes (a TSO super-frame: 65549)")                       \
  X(kEthNotForUs, "eth_not_for_us", "unicast frame for another MAC address")                                      \
  X(kEthSrcInvalid, "eth_src_invalid", "source MAC is multicast, broadcast or ours")                              \
  X(kEthTypeUnsupported, "ethertype_unsupported", "EtherType is none of IPv4, ARP and IPv6")                      \
  X(kArpMalformed, "arp_malformed", "ARP not Ethernet/IPv4, truncated or with a bad sender")                      \
  X(kArpNotForUs, "arp_not_for_us", "ARP request for an address we do not own")                                   \
  X(kArpUnsolicited, "arp_unsolicited", "ARP reply for an address we did not ask for")                            \
  X(kIpv4Truncated, "ipv4_truncated", "shorter than an IPv4 header")                                              \
  X(kIpv4BadVersion, "ipv4_bad_version", "IP version is not 4")                                                   \
  X(kIpv4BadIhl, "ipv4_bad_ihl", "IPv4 header length below 20 bytes")                                             \
  X(kIpv4BadLength, "ipv4_bad_length", "IPv4 total length beyond the frame or below the header")                  \
  X(kIpv4BadChecksum, "ipv4_bad_checksum", "IPv4 header checksum is wrong")                                       \
  X(kIpv4BadSource, "ipv4_bad_source", "source is 0, broadcast, multicast, loopback or class E")                  \
  X(kIpv4BadDestination, "ipv4_bad_destination", "destination is 0, loopback or class E")                         \
  X(kIpv4Broadcast, "ipv4_broadcast", "broadcast destination; not forwarded (RFC 2644)")                          \
  X(kIpv4Multicast, "ipv4_multicast", "multicast destination; vsrouter is no multicast router")                   \
  X(kTcpTruncated, "tcp_truncated", "TCP header truncated or data offset invalid")                                \
  X(kUdpTruncated, "udp_truncated", "UDP header truncated or length invalid")                                     \
  X(kIcmpTruncated, "icmp_truncated", "ICMP message shorter than its header")                                     \
  X(kIcmpBadChecksum, "icmp_bad_checksum", "ICMP checksum is wrong (message to us)")                              \
  X(kIcmpLocalUnhandled, "icmp_local_unhandled", "ICMP to us that is not an echo request")                        \
  X(kLocalFragment, "local_fragment", "fragment addressed to us, reassembly off (frag_queues = 0)")               \
  X(kLocalNoService, "local_no_service", "to a router address or VIP, no service (TCP RST/ICMP sent)")            \
  X(kTtlExceeded, "ttl_exceeded", "TTL or hop limit would reach 0 (ICMP time exceeded sent)")                     \
  X(kNoRoute, "no_route", "no route to the destination (ICMP unreachable sent)")                                  \
  X(kFragNeeded, "frag_needed", "over the egress MTU with DF set, or IPv6 (ICMP sent)")                           \
  X(kNeighQueueFull, "arp_queue_full", "too many packets already waiting for this ARP reply")                     \
  X(kNeighTableFull, "arp_table_full", "ARP table full; the next hop could not be added")                         \
  X(kNeighUnresolved, "arp_unresolved", "next hop did not answer ARP (ICMP host unreachable sent)")               \
  X(kConnTableFull, "conn_table_full", "connection table full: new connection refused")                           \
  X(kVsNoReal, "vs_no_real", "no real server available (ICMP port unreachable sent, as IPVS)")                    \
  X(kVsRealRemoved, "vs_real_removed", "the connection's real server was removed (drain = drop)")                 \
  X(kTunnelMtu, "tunnel_mtu", "TUN: the route's MTU less the tunnel header is below the inner minimum (68/1280)") \
  X(kIpipNested, "ipip_nested", "a tunnel inside a decapsulated tunnel (one level is decapsulated)")              \
  X(kIpipTruncated, "ipip_truncated", "IPIP/IPv6 tunnel packet to us without a valid inner IP header")            \
  X(kConnEvictedHalfOpen, "conn_evicted_half_open",                                                               \
    "half-open TCP connection evicted for a new one, table full ([defense] drop_entry)")                          \
  X(kConnExpiredHalfOpen, "conn_expired_half_open",                                                               \
    "half-open TCP connection expired after syn_timeout under load ([defense] secure_tcp)")                       \
  X(kOffloadInvalid, "offload_invalid",                                                                           \
    "offload state the engine cannot honour (not TCP/UDP checksum or TCPv4 segmentation)")                        \
  X(kGsoNeighUnresolved, "gso_arp_unresolved",                                                                    \
    "TSO super-frame while its next hop's MAC is being resolved (not queued; TCP resends)")                       \
  X(kFragOverlap, "frag_overlap", "fragment overlaps held data: its datagram is discarded")                       \
  X(kFragDuplicate, "frag_duplicate", "fragment wholly inside data already held (dropped alone)")                 \
  X(kFragOversize, "frag_oversize", "fragment would make a datagram over 65535 bytes (discarded)")                \
  X(kFragMalformed, "frag_malformed", "empty fragment or one beyond the last: datagram discarded")                \
  X(kFragTimeout, "frag_timeout", "fragment of a datagram not complete within frag_timeout")                      \
  X(kFragNoMemory, "frag_no_memory", "reassembly memory (frag_memory) full: fragment refused")                    \
  X(kFragSourceBudget, "frag_source_budget", "the source's reassembly memory share full: refused")                \
  X(kFragQueuesFull, "frag_queues_full", "every reassembly queue (frag_queues) in use: refused")                  \
  X(kVrrpBackup, "vrrp_backup", "to an address of a VRRP instance this router is not master of")                  \
  X(kVrrpMalformed, "vrrp_malformed", "VRRP packet that is no advertisement of its own length")                   \
  X(kVrrpBadTtl, "vrrp_bad_ttl", "VRRP advertisement with an IP TTL other than 255 (RFC 5798 7.1)")               \
  X(kVrrpBadChecksum, "vrrp_bad_checksum", "VRRP advertisement whose checksum is wrong (either form)")            \
  X(kVrrpOtherVrid, "vrrp_other_vrid", "VRRP advertisement of a VRID no instance has on the interface")           \
  X(kVrrpMismatch, "vrrp_mismatch", "VRRP advertisement whose version, interval, addresses or auth differ")       \
  X(kVrrpForeignPeer, "vrrp_foreign_peer", "VRRP advertisement from none of the instance's unicast_peer")         \
  X(kSyncMalformed, "sync_malformed", "IPVS sync message whose size or entries do not frame (ip_vs_sync.c)")      \
  X(kSyncBadChecksum, "sync_bad_checksum", "IPVS sync message with a wrong UDP checksum")                         \
  X(kSyncOtherSyncid, "sync_other_syncid", "IPVS sync message of another syncid than the backup's")               \
  X(kSyncForeignPeer, "sync_foreign_peer", "IPVS sync message from none of [sync] peers")                         \
  X(kIpv6Disabled, "ipv6_disabled", "IPv6 frame on an interface without an IPv6 address")                         \
  X(kIpv6Truncated, "ipv6_truncated", "shorter than an IPv6 header")                                              \
  X(kIpv6BadVersion, "ipv6_bad_version", "IP version is not 6 in an IPv6 frame")                                  \
  X(kIpv6BadLength, "ipv6_bad_length", "IPv6 payload length beyond the frame")                                    \
  X(kIpv6BadSource, "ipv6_bad_source", "source is multicast, loopback, IPv4-mapped or ours")                      \
  X(kIpv6BadDestination, "ipv6_bad_destination", "destination is ::, loopback, IPv4-mapped or tentative")         \
  X(kIpv6ExtHeaders, "ipv6_bad_ext_headers", "extension headers truncated, misplaced or more than 8")             \
  X(kIpv6Multicast, "ipv6_multicast", "to a multicast group the interface is not in; no multicast routing")       \
  X(kIpv6Scope, "ipv6_scope", "link-local source or destination: not forwarded (RFC 4291 2.5.6)")                 \
  X(kIpv6LocalFragment, "ipv6_local_fragment", "IPv6 fragment addressed to us (no IPv6 reassembly)")              \
  X(kNdInvalid, "nd_invalid", "Neighbour Discovery message failing RFC 4861 7.1 (hop limit, length...)")          \
  X(kNdNotForUs, "nd_not_for_us", "Neighbour Solicitation for an address we do not own")                          \
  X(kNdUnsolicited, "nd_unsolicited", "Neighbour Advertisement for an address we did not ask for")                \
  X(kNdDuplicate, "nd_duplicate_address", "another node claims one of our IPv6 addresses (DAD)")

enum class DropReason : uint8_t {
#define VS_X(id, name, help) id,
  VS_DROP_REASONS(VS_X)
#undef VS_X
};

inline constexpr size_t kDropReasonCount = 0
#define VS_X(id, name, help) +1
    VS_DROP_REASONS(VS_X)
#undef VS_X
    ;

struct DropReasonInfo {
  std::string_view name;
  std::string_view help;
};

inline constexpr std::array<DropReasonInfo, kDropReasonCount> kDropReasons = {{
#define VS_X(id, name, help) {name, help},
    VS_DROP_REASONS(VS_X)
#undef VS_X
}};

constexpr std::string_view drop_name(DropReason r) noexcept { return kDropReasons[static_cast<size_t>(r)].name; }

/// Per-reason counters; indexed by the enum, no allocation.
struct DropCounters {
  std::array<uint64_t, kDropReasonCount> n{};
  void count(DropReason r) noexcept { ++n[static_cast<size_t>(r)]; }
  uint64_t operator[](DropReason r) const noexcept { return n[static_cast<size_t>(r)]; }
  uint64_t total() const noexcept {
    uint64_t t = 0;
    for (auto v : n) t += v;
    return t;
  }
};

}  // namespace vs

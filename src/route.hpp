// The routing table: connected subnets (from interface addresses) and static routes, longest
// prefix match. Built once from the config; lookups do not allocate.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/addr.hpp"
#include "config/config.hpp"

namespace vs {

struct RouteResult {
  uint32_t iface;
  Ipv4Addr next_hop;  // the destination itself for a connected route
};

class RouteTable {
public:
  struct Entry {
    Ipv4Prefix prefix;  // network form
    uint32_t iface;
    std::optional<Ipv4Addr> via;  // nullopt = connected
  };

  explicit RouteTable(const config::Config& cfg);

  /// Longest prefix match; among equal prefixes a connected route wins over a static one.
  std::optional<RouteResult> lookup(Ipv4Addr dst) const noexcept;

  const std::vector<Entry>& entries() const noexcept { return entries_; }

private:
  static constexpr uint32_t kNoRoute = UINT32_MAX;
  static constexpr unsigned kCacheBits = 6;
  /// The scan's answer for one destination: the index of the matching entry, or kNoRoute.
  struct CacheSlot {
    Ipv4Addr dst;
    uint32_t entry = kNoRoute;
    bool valid = false;
  };
  uint32_t scan(Ipv4Addr dst) const noexcept;

  std::vector<Entry> entries_;  // sorted by prefix length, longest first
  // Direct-mapped cache of recent answers (a packet stream asks about the same few next hops:
  // the reals, the gateway). Exact because the table never changes: a reload builds a new
  // RouteTable, and with it an empty cache. Mutable: lookups stay const for their callers.
  mutable std::array<CacheSlot, size_t{1} << kCacheBits> cache_{};
};

struct RouteResult6 {
  uint32_t iface;
  Ipv6Addr next_hop;   // the destination itself for a connected route
  uint8_t prefix_len;  // of the route that matched
};

/// The IPv6 routes: the interfaces' global prefixes (connected) and [[routes]] with IPv6 `to`,
/// longest prefix first. Link-local destinations are not routed (RFC 4291 2.5.6): the caller
/// sends them out of the interface they belong to.
class RouteTable6 {
public:
  struct Entry {
    Ipv6Prefix prefix;  // network form
    uint32_t iface;
    std::optional<Ipv6Addr> via;  // nullopt = connected
    uint64_t net[2], mask[2];     // the prefix as two 64-bit halves, for the scan
  };
  explicit RouteTable6(const config::Config& cfg);
  std::optional<RouteResult6> lookup(const Ipv6Addr& dst) const noexcept;
  const std::vector<Entry>& entries() const noexcept { return entries_; }

private:
  static constexpr uint32_t kNoRoute = UINT32_MAX;
  static constexpr unsigned kCacheBits = 6;
  struct CacheSlot {  // as RouteTable's: the scan's answer for one destination
    Ipv6Addr dst;
    uint32_t entry = kNoRoute;
    bool valid = false;
  };
  uint32_t scan(uint64_t hi, uint64_t lo) const noexcept;

  std::vector<Entry> entries_;  // sorted by prefix length, longest first
  mutable std::array<CacheSlot, size_t{1} << kCacheBits> cache_{};
};

}  // namespace vs

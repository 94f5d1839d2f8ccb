// The routing table: connected subnets (from interface addresses) and static routes, longest
// prefix match. Built once from the config; lookups do not allocate.
#pragma once

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
  std::vector<Entry> entries_;  // sorted by prefix length, longest first
};

}  // namespace vs

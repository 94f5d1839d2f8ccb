#include "route.hpp"

#include <algorithm>

namespace vs {

RouteTable::RouteTable(const config::Config& cfg) {
  for (uint32_t i = 0; i < cfg.interfaces.size(); ++i)
    for (const auto& a : cfg.interfaces[i].addresses)
      entries_.push_back({Ipv4Prefix{a.network(), a.len}, i, std::nullopt});
  for (const auto& r : cfg.routes) entries_.push_back({Ipv4Prefix{r.to.network(), r.to.len}, r.interface, r.via});
  // Longest prefix first; connected before static at equal length; otherwise config order.
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.prefix.len != b.prefix.len) return a.prefix.len > b.prefix.len;
    return !a.via.has_value() && b.via.has_value();
  });
}

uint32_t RouteTable::scan(Ipv4Addr dst) const noexcept {
  for (uint32_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].prefix.contains(dst)) return i;
  return kNoRoute;
}

std::optional<RouteResult> RouteTable::lookup(Ipv4Addr dst) const noexcept {
  CacheSlot& c = cache_[(dst.v * 0x9e3779b1u) >> (32 - kCacheBits)];  // Fibonacci hashing
  if (!c.valid || c.dst != dst) c = CacheSlot{dst, scan(dst), true};
  if (c.entry == kNoRoute) return std::nullopt;
  const Entry& e = entries_[c.entry];
  return RouteResult{e.iface, e.via.value_or(dst)};
}

RouteTable6::RouteTable6(const config::Config& cfg) {
  for (uint32_t i = 0; i < cfg.interfaces.size(); ++i)
    for (const auto& a : cfg.interfaces[i].addresses6)
      if (!a.addr.is_link_local()) entries_.push_back({Ipv6Prefix{a.network(), a.len}, i, std::nullopt});
  for (const auto& r : cfg.routes6) entries_.push_back({Ipv6Prefix{r.to.network(), r.to.len}, r.interface, r.via});
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.prefix.len != b.prefix.len) return a.prefix.len > b.prefix.len;
    return !a.via.has_value() && b.via.has_value();
  });
}

std::optional<RouteResult6> RouteTable6::lookup(const Ipv6Addr& dst) const noexcept {
  // A scan: IPv6 tables here are a few prefixes (no cache until IPv6 services carry traffic).
  for (const Entry& e : entries_)
    if (e.prefix.contains(dst)) return RouteResult6{e.iface, e.via.value_or(dst), e.prefix.len};
  return std::nullopt;
}

}  // namespace vs

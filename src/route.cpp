#include "route.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

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

namespace {

/// Bytes [from, from + 8) of `a` as a big-endian number (the prefix's bits first).
uint64_t half(const Ipv6Addr& a, size_t from) noexcept {
  uint64_t v;
  std::memcpy(&v, a.b.data() + from, 8);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

uint64_t mask_of(unsigned bits) noexcept {
  return bits == 0 ? 0 : bits >= 64 ? ~uint64_t{0} : ~uint64_t{0} << (64 - bits);
}

}  // namespace

RouteTable6::RouteTable6(const config::Config& cfg) {
  auto add = [this](const Ipv6Prefix& p, uint32_t iface, std::optional<Ipv6Addr> via) {
    Entry e{Ipv6Prefix{p.network(), p.len}, iface, via, {}, {}};
    e.mask[0] = mask_of(std::min<unsigned>(p.len, 64));
    e.mask[1] = mask_of(p.len > 64 ? p.len - 64u : 0u);
    e.net[0] = half(e.prefix.addr, 0) & e.mask[0];
    e.net[1] = half(e.prefix.addr, 8) & e.mask[1];
    entries_.push_back(e);
  };
  for (uint32_t i = 0; i < cfg.interfaces.size(); ++i)
    for (const auto& a : cfg.interfaces[i].addresses6)
      if (!a.addr.is_link_local()) add(a, i, std::nullopt);
  for (const auto& r : cfg.routes6) add(r.to, r.interface, r.via);
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.prefix.len != b.prefix.len) return a.prefix.len > b.prefix.len;
    return !a.via.has_value() && b.via.has_value();
  });
}

uint32_t RouteTable6::scan(uint64_t hi, uint64_t lo) const noexcept {
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if ((hi & e.mask[0]) == e.net[0] && (lo & e.mask[1]) == e.net[1]) return i;
  }
  return kNoRoute;
}

std::optional<RouteResult6> RouteTable6::lookup(const Ipv6Addr& dst) const noexcept {
  const uint64_t hi = half(dst, 0), lo = half(dst, 8);
  const uint64_t h = (hi ^ lo) * 0x9e3779b97f4a7c15ull;  // Fibonacci hashing of the folded address
  CacheSlot& c = cache_[h >> (64 - kCacheBits)];
  if (!c.valid || c.dst != dst) c = CacheSlot{dst, scan(hi, lo), true};
  if (c.entry == kNoRoute) return std::nullopt;
  const Entry& e = entries_[c.entry];
  return RouteResult6{e.iface, e.via.value_or(dst), e.prefix.len};
}

}  // namespace vs

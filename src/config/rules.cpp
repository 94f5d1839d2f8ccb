#include "config/rules.hpp"

namespace vs::config {

std::string subnet_str(const Ipv4Prefix& p) { return Ipv4Prefix{p.network(), p.len}.str(); }

std::optional<std::string_view> not_a_host(Ipv4Addr a) noexcept {
  if (a.is_unspecified()) return "is the unspecified address";
  if (a.is_broadcast()) return "is the broadcast address";
  if (a.is_multicast()) return "is a multicast address";
  if (a.is_loopback()) return "is a loopback address";
  return std::nullopt;
}

std::optional<std::string_view> not_a_host(const Ipv6Addr& a) noexcept {
  if (a.is_unspecified()) return "is the unspecified address";
  if (a.is_multicast()) return "is a multicast address";
  if (a.is_loopback()) return "is the loopback address";
  if (a.is_v4_mapped()) return "is an IPv4-mapped address";
  return std::nullopt;
}

std::optional<uint32_t> connected_interface(const std::vector<Interface>& ifaces, const Ipv6Addr& a) noexcept {
  for (uint32_t i = 0; i < ifaces.size(); ++i)
    for (const Ipv6Prefix& p : ifaces[i].addresses6)
      if (!p.addr.is_link_local() && p.contains(a)) return i;
  return std::nullopt;
}

std::optional<std::string> subnet_special(const std::vector<Interface>& ifaces, Ipv4Addr a) {
  for (const Interface& itf : ifaces) {
    for (const Ipv4Prefix& p : itf.addresses) {
      if (p.len > 30 || !p.contains(a)) continue;
      if (a == p.network()) return "is the network address of " + subnet_str(p) + " on interface \"" + itf.name + "\"";
      if (a == p.directed_broadcast())
        return "is the broadcast address of " + subnet_str(p) + " on interface \"" + itf.name + "\"";
    }
  }
  return std::nullopt;
}

std::optional<std::string> not_a_host_on(const std::vector<Interface>& ifaces, Ipv4Addr a) {
  if (auto why = not_a_host(a)) return std::string(*why);
  return subnet_special(ifaces, a);
}

std::optional<uint32_t> connected_interface(const std::vector<Interface>& ifaces, Ipv4Addr a) noexcept {
  for (uint32_t i = 0; i < ifaces.size(); ++i)
    for (const Ipv4Prefix& p : ifaces[i].addresses)
      if (p.contains(a)) return i;
  return std::nullopt;
}

std::optional<std::string> own_address(const std::vector<Interface>& ifaces, Ipv4Addr a) {
  for (const Interface& itf : ifaces)
    for (const Ipv4Prefix& p : itf.addresses)
      if (p.addr == a) return "is the router's own address on interface \"" + itf.name + "\"";
  return std::nullopt;
}

std::optional<std::string> not_a_host_on(const std::vector<Interface>& ifaces, const IpAddr& a) {
  if (a.is_v4()) return not_a_host_on(ifaces, a.v4());
  if (auto why = not_a_host(a.v6())) return std::string(*why);
  if (a.v6().is_link_local()) return std::string("is link-local");
  return std::nullopt;
}

std::optional<uint32_t> connected_interface(const std::vector<Interface>& ifaces, const IpAddr& a) noexcept {
  return a.is_v4() ? connected_interface(ifaces, a.v4()) : connected_interface(ifaces, a.v6());
}

std::optional<std::string> own_address(const std::vector<Interface>& ifaces, const IpAddr& a) {
  if (a.is_v4()) return own_address(ifaces, a.v4());
  for (const Interface& itf : ifaces)
    for (const Ipv6Prefix& p : itf.addresses6)
      if (p.addr == a.v6()) return "is the router's own address on interface \"" + itf.name + "\"";
  return std::nullopt;
}

}  // namespace vs::config

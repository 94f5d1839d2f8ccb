// The address rules of a configuration, in one place: what may be a host address (a VIP, a real
// server, a next hop), which interface's connected subnet holds an address, whether it is the
// router's own. The TOML loader (config.cpp) and vsadm's commands (ctl/ipvsadm.cpp) both apply
// them; each rule returns the reason an address fails, worded to follow its subject ("VIP
// 10.0.0.255 " + reason), so both say the same thing in the same words.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/addr.hpp"
#include "config/config.hpp"

namespace vs::config {

/// The reason for an address on no connected subnet (a VIP nothing would answer ARP for, a next
/// hop or a DR real server that is not on-link).
inline constexpr std::string_view kNotConnected = "is on no interface's connected subnet";

/// "10.0.0.0/24": the prefix's network and length.
std::string subnet_str(const Ipv4Prefix& p);

/// Why `a` can be no host at all ("is the unspecified address", "is the broadcast address", "is
/// a multicast address", "is a loopback address"); nullopt if it can be one.
std::optional<std::string_view> not_a_host(Ipv4Addr a) noexcept;

/// The same for IPv6: "is the unspecified address", "is a multicast address", "is the loopback
/// address", "is an IPv4-mapped address" (RFC 4291 2.5.5.2: never on the wire).
std::optional<std::string_view> not_a_host(const Ipv6Addr& a) noexcept;

/// Why `a` is no host of the connected subnet holding it ("is the network address of
/// 10.0.0.0/24 on interface "lan"", or the broadcast address); nullopt otherwise. Subnets of 31
/// and 32 bits have neither.
std::optional<std::string> subnet_special(const std::vector<Interface>& ifaces, Ipv4Addr a);

/// not_a_host(), then subnet_special(): the rule for every host address a config names.
std::optional<std::string> not_a_host_on(const std::vector<Interface>& ifaces, Ipv4Addr a);

/// The first interface (config order) with a connected subnet holding `a`.
std::optional<uint32_t> connected_interface(const std::vector<Interface>& ifaces, Ipv4Addr a) noexcept;

/// The first interface (config order) with a connected IPv6 subnet (not link-local) holding `a`.
std::optional<uint32_t> connected_interface(const std::vector<Interface>& ifaces, const Ipv6Addr& a) noexcept;

/// Why `a` may not be a real server or next hop: "is the router's own address on interface
/// "lan"" when an interface has it as one of its addresses; nullopt otherwise.
std::optional<std::string> own_address(const std::vector<Interface>& ifaces, Ipv4Addr a);

// The same rules for a VIP's or a real's address of either family. IPv6 adds: not link-local
// (the kernel refuses link-local reals, ip_vs_ctl.c ip_vs_new_dest; a VIP must be routable), and
// the router's own IPv6 addresses (its link-local ones included).
std::optional<std::string> not_a_host_on(const std::vector<Interface>& ifaces, const IpAddr& a);
std::optional<uint32_t> connected_interface(const std::vector<Interface>& ifaces, const IpAddr& a) noexcept;
std::optional<std::string> own_address(const std::vector<Interface>& ifaces, const IpAddr& a);

}  // namespace vs::config

// Text listings of the engine's state: `ipvsadm -Ln --stats` for services (ipvsadm 1.31's exact
// layout, see docs/config.md) followed by vsrouter's own interface, event and drop counters. The
// two IPVS tables are printed by ctl/listing.cpp, the same code vsadm uses.
#pragma once

#include <cstdint>
#include <string>

#include "engine.hpp"

namespace vs::ctl {

/// ipvsadm's print_largenum: %9llu below 10^8, else K/M/G/T with truncating division.
std::string ipvs_largenum(uint64_t n);

/// `ipvsadm -Ln --stats` table.
std::string list_services_stats(const Engine& e);

/// `ipvsadm -Lnc`: the connection table with each entry's time left at `now`, sorted.
std::string list_connections(const Engine& e, Instant now);

/// Interface counters, router events and non-zero drop counters, sorted by name.
std::string list_counters(const Engine& e);

/// Every health checker's state, real by real in config order (docs/health-checks.md); "" when
/// no real has a checker. `vsadm --list-checks`, and `vsrouter replay --list`.
std::string list_health(const Engine& e, Instant now);
/// Every VRRP instance: its state, priority, addresses, timers and counters; empty when there is
/// none. `vsadm --list-vrrp`, SIGUSR1 and `vsrouter replay --list` (docs/vrrp.md).
std::string list_vrrp(const Engine& e, Instant now);
/// [announce]: whether the director drains, and each VIP announced or withdrawn.
std::string list_announce(const Engine& e);
/// The IPv6 addresses with their DAD state and the Neighbour Discovery cache (vsrouter's own;
/// empty without IPv6).
std::string list_ipv6(const Engine& e, Instant now);

}  // namespace vs::ctl

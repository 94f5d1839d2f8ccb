// The tables ipvsadm 1.31 prints, byte for byte, from the engine's state: `-L` in every format
// (default, --stats, --rate, --thresholds, --persistent-conn, --tun-info, --exact, --nosort),
// `-S` (rules), `-c` (connections) and `--timeout`. One implementation: vsadm (ctl/ipvsadm.cpp)
// and the replay/daemon listings (list.cpp) both print through these functions.
//
// Addresses are always printed numerically (ipvsadm -n): vsrouter resolves no names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/time.hpp"
#include "ctl/format.hpp"
#include "engine.hpp"

namespace vs::ctl {

/// ipvsadm's print_largenum: `%9llu` below 10^8, else K/M/G/T with truncating division; with
/// kFmtExact the exact number, at least 9 wide and always preceded by a space.
std::string print_largenum(uint64_t n, unsigned fmt);

/// The services (or, with kFmtNoSort, the kernel's order: creation order for services, newest
/// first for reals) in ipvsadm's order: libipvs's ipvs_cmp_services / ipvs_cmp_dests run by
/// glibc's merge sort, with the `int r = ntohl(a) - ntohl(b)` quirk (192.168.1.1 sorts before
/// 10.0.0.1).
std::vector<const ipvs::Service*> listed_services(const ipvs::Director& d, unsigned fmt);
std::vector<const ipvs::Dest*> listed_dests(const ipvs::Service& s, unsigned fmt);

/// `ipvsadm -L[n] [format]` / `ipvsadm -S[n]` (kFmtRule): the version header (not for rules),
/// the title and every service with its reals.
std::string list_all(const Engine& e, unsigned fmt);
/// `ipvsadm -L -t|-u VIP:PORT [format]`: the title and that one service (no version header).
std::string list_service(const Engine& e, const ipvs::Service& s, unsigned fmt);
/// `ipvsadm -Lc [--persistent-conn]`: the connection table with each entry's time left at
/// `now`. The kernel lists in hash-bucket order; vsrouter sorts the rows so that a listing is
/// reproducible (by protocol, client, virtual and real address and port).
std::string list_connections(const Engine& e, Instant now, unsigned fmt);
/// `ipvsadm -L --timeout`.
std::string list_timeout(const Engine& e);

}  // namespace vs::ctl

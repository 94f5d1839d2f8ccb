#include "ctl/list.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "ctl/listing.hpp"

namespace vs::ctl {
namespace {

std::string fmt(const char* f, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, args...);
  return buf;
}

}  // namespace

// The two IPVS tables are ipvsadm's, printed by the one implementation in ctl/listing.cpp.
std::string ipvs_largenum(uint64_t n) { return print_largenum(n, kFmtNone); }

std::string list_services_stats(const Engine& e) { return list_all(e, kFmtNumeric | kFmtStats); }

std::string list_connections(const Engine& e, Instant now) { return list_connections(e, now, kFmtNumeric); }

std::string list_counters(const Engine& e) {
  const auto& cfg = e.config();
  std::string out = fmt("\n%-16s %10s %12s %10s %12s\n", "Interface", "RxFrames", "RxBytes", "TxFrames", "TxBytes");
  for (uint32_t i = 0; i < cfg.interfaces.size(); ++i) {
    const auto& c = e.iface_counters(i);
    out += fmt("%-16s %10llu %12llu %10llu %12llu\n", cfg.interfaces[i].name.c_str(),
               static_cast<unsigned long long>(c.rx_frames), static_cast<unsigned long long>(c.rx_bytes),
               static_cast<unsigned long long>(c.tx_frames), static_cast<unsigned long long>(c.tx_bytes));
  }
  const auto& k = e.counters();
  const std::pair<const char*, uint64_t> events[] = {
      {"arp_replies_sent", k.arp_replies_sent},
      {"arp_requests_sent", k.arp_requests_sent},
      {"echo_replies_sent", k.echo_replies_sent},
      {"forwarded", k.forwarded},
      {"fragments_sent", k.fragments_sent},
      {"icmp_errors_peer_limited", k.icmp_errors_peer_limited},
      {"icmp_errors_rate_limited", k.icmp_errors_rate_limited},
      {"icmp_errors_sent", k.icmp_errors_sent},
      {"tcp_resets_sent", k.tcp_resets_sent},
      {"connections_in_table", e.director().conns().size()},
      {"connection_table_capacity", e.director().conns().capacity()},
  };
  out += fmt("\n%-32s %12s\n", "Event", "Count");
  for (const auto& [name, n] : events) out += fmt("%-32s %12llu\n", name, static_cast<unsigned long long>(n));

  std::vector<std::pair<std::string_view, uint64_t>> drops;
  for (size_t i = 0; i < kDropReasonCount; ++i)
    if (e.drops().n[i]) drops.emplace_back(kDropReasons[i].name, e.drops().n[i]);
  std::sort(drops.begin(), drops.end());
  out += fmt("\n%-32s %12s\n", "Drop reason", "Packets");
  for (const auto& [name, n] : drops)
    out += fmt("%-32s %12llu\n", std::string(name).c_str(), static_cast<unsigned long long>(n));
  out += fmt("%-32s %12llu\n", "total", static_cast<unsigned long long>(e.drops().total()));
  return out;
}

}  // namespace vs::ctl

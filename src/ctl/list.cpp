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
  if (!e.addresses6().empty()) {  // IPv6's, only where an interface has it (IPv4 listings unchanged)
    const std::pair<const char*, uint64_t> events6[] = {
        {"forwarded6", k.forwarded6},
        {"nd_solicits_sent", k.nd_solicits_sent},
        {"nd_adverts_sent", k.nd_adverts_sent},
        {"dad_failures", k.dad_failures},
    };
    for (const auto& [name, n] : events6) out += fmt("%-32s %12llu\n", name, static_cast<unsigned long long>(n));
  }

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

std::string list_health(const Engine& e, Instant now) {
  const check::Health& h = e.health();
  if (h.reals().empty()) return {};
  std::string out =
      fmt("\n%-5s %-21s %-21s %-7s %s\n", "Prot", "LocalAddress:Port", "RemoteAddress:Port", "State", "Checkers");
  for (const check::RealHealth& rh : h.reals()) {
    if (rh.n_checkers == 0) continue;  // always alive: it counts toward its service's quorum only
    const std::string vs = rh.vip.str() + ":" + std::to_string(rh.vport);
    const std::string rs = rh.real.addr.str() + ":" + std::to_string(rh.real.port);
    const char* state = rh.alive() ? "alive" : (rh.real.inhibit_on_failure ? "inhibit" : "failed");
    out += fmt("%-5s %-21s %-21s %-7s %u of %u up\n", rh.protocol == IpProto::kTcp ? "TCP" : "UDP", vs.c_str(),
               rs.c_str(), state, rh.n_checkers - rh.failed, rh.n_checkers);
    for (uint32_t i = rh.first_checker; i < rh.first_checker + rh.n_checkers; ++i) {
      const check::Checker& k = h.checkers()[i];
      // what is checked: the address (and port), or MISC_CHECK's program
      std::string target = k.cfg.type == config::CheckType::kMisc ? k.cfg.misc_argv.front() : k.cfg.connect_ip.str();
      if (k.cfg.type != config::CheckType::kPing && k.cfg.type != config::CheckType::kMisc) {
        target += ':';  // (not ":" + to_string(): a GCC 12 -O3 -Wrestrict false positive)
        target += std::to_string(k.cfg.connect_port);
      }
      const uint32_t run = k.up ? k.ok_run : k.fail_run;
      std::string next =
          k.phase != check::Checker::Phase::kIdle ? "probing" : fmt("next in %.3f s", (k.next_check - now).us / 1e6);
      const std::string last =
          k.probes == 0 ? std::string("not probed yet")
                        : fmt("%u %s in a row, last %s (%.3f s)", run, k.up ? "ok" : "failed",
                              std::string(check::reason_name(k.last_reason)).c_str(), k.last_duration.us / 1e6);
      out += fmt("  -> %-10s %-21s %-4s %s, %llu transitions, %s\n",
                 std::string(config::check_type_name(k.cfg.type)).c_str(), target.c_str(), k.up ? "up" : "down",
                 last.c_str(), static_cast<unsigned long long>(k.transitions), next.c_str());
    }
  }
  return out;
}

std::string list_vrrp(const Engine& e, Instant now) {
  const auto& insts = e.vrrp().instances();
  if (insts.empty()) return {};
  std::string out = fmt("\n%-16s %-6s %-4s %-8s %-4s %-9s %s\n", "Instance", "State", "VRID", "Priority", "Ver",
                        "Interface", "Addresses");
  for (const vrrp::Instance& in : insts) {
    std::string addrs;
    for (Ipv4Addr a : in.cfg.addresses) addrs += (addrs.empty() ? "" : " ") + a.str();
    out += fmt("%-16s %-6s %-4u %-8u %-4u %-9s %s\n", in.cfg.name.c_str(),
               std::string(vrrp::state_name(in.state)).c_str(), unsigned{in.cfg.vrid}, unsigned{in.priority},
               unsigned{in.cfg.version}, e.config().interfaces[in.cfg.interface].name.c_str(), addrs.c_str());
    std::string timer;
    if (in.advert_at) timer = fmt("next advert in %.3f s", (*in.advert_at - now).us / 1e6);
    else if (in.down_at) timer = fmt("master down in %.3f s", (*in.down_at - now).us / 1e6);
    out += fmt("  -> %s %s, %llu adverts sent, %llu received, master %llu times%s%s\n",
               in.cfg.unicast_peers.empty() ? "multicast" : "unicast", in.src.str().c_str(),
               static_cast<unsigned long long>(in.adverts_sent), static_cast<unsigned long long>(in.adverts_received),
               static_cast<unsigned long long>(in.became_master), timer.empty() ? "" : ", ", timer.c_str());
  }
  // The tracked vrrp_scripts, with keepalived's words for their status (its data dump's
  // "Status = INIT | GOOD | BAD").
  bool any = false;
  for (const vrrp::Script& sc : e.vrrp().scripts()) {
    if (!sc.tracked) continue;
    if (!any)
      out += fmt("%-16s %-6s %-9s %-8s %-8s %-8s %s\n", "Script", "Status", "Interval", "Runs", "Failures", "Timeouts",
                 "Last exit");
    any = true;
    out +=
        fmt("%-16s %-6s %-9.3f %-8llu %-8llu %-8llu %d\n", sc.cfg.name.c_str(),
            !sc.known ? "INIT"
            : sc.up   ? "GOOD"
                      : "BAD",
            sc.cfg.interval.us / 1e6, static_cast<unsigned long long>(sc.runs),
            static_cast<unsigned long long>(sc.failures), static_cast<unsigned long long>(sc.timeouts), sc.last_status);
  }
  return out;
}

std::string list_announce(const Engine& e) {
  std::string out = fmt("Director %s\n%-16s %s\n", e.draining() ? "draining" : "serving", "VIP", "BGP");
  for (const announce::Vip& v : e.announcer().vips())
    out += fmt("%-16s %s\n", v.addr.str().c_str(), v.announced ? "announced" : "withdrawn");
  return out;
}

std::string list_ipv6(const Engine& e, Instant now) {
  if (e.addresses6().empty()) return {};
  const auto& cfg = e.config();
  std::string out = fmt("\n%-16s %-44s %s\n", "Interface", "IPv6 address", "State");
  for (const Engine::Addr6& a : e.addresses6()) {
    const char* st = a.state == Engine::Addr6::State::kPreferred   ? "preferred"
                     : a.state == Engine::Addr6::State::kTentative ? "tentative"
                     : a.state == Engine::Addr6::State::kDuplicate ? "duplicate"
                                                                   : "new";
    out += fmt("%-16s %-44s %s\n", cfg.interfaces[a.iface].name.c_str(), a.prefix.str().c_str(), st);
  }
  // The neighbour cache, as `ip -6 neigh` shows it: address, interface, MAC, state.
  const NeighTable6& nt = e.neigh6();
  out += fmt("\n%-40s %-16s %-17s %s\n", "Neighbour", "Interface", "MAC", "State");
  for (uint32_t i : nt.sorted()) {
    const auto& n = nt.entry(i);
    const char* st = n.state == NeighTable6::State::kIncomplete ? "INCOMPLETE"
                     : n.state == NeighTable6::State::kProbe    ? "PROBE"
                     : n.expires <= now                         ? "STALE"
                                                                : "REACHABLE";
    out += fmt("%-40s %-16s %-17s %s\n", n.ip.str().c_str(), cfg.interfaces[n.iface].name.c_str(),
               n.state == NeighTable6::State::kIncomplete ? "-" : n.mac.str().c_str(), st);
  }
  return out;
}

}  // namespace vs::ctl

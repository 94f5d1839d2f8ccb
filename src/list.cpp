#include "list.hpp"

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <vector>

#include "conn/conn_table.hpp"
#include "conn/tcp_state.hpp"

namespace vs {
namespace {

std::string fmt(const char* f, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, args...);
  return buf;
}

// libipvs sorts with `int r = ntohl(a) - ntohl(b)`: u32 differences read as int, so addresses
// 2^31 or more apart compare "wrong" (192.168.1.1 sorts before 10.0.0.1). ipvsadm users see that
// order, so we keep it.
int ipvs_addr_cmp(Ipv4Addr a, Ipv4Addr b) { return static_cast<int>(a.v - b.v); }

}  // namespace

std::string ipvs_largenum(uint64_t n) {
  if (n < 100000000ull) return fmt("%9llu", static_cast<unsigned long long>(n));
  if (n < 1000000000ull) return fmt("%8lluK", static_cast<unsigned long long>(n / 1000));
  if (n < 100000000000ull) return fmt("%8lluM", static_cast<unsigned long long>(n / 1000000));
  if (n < 100000000000000ull) return fmt("%8lluG", static_cast<unsigned long long>(n / 1000000000));
  return fmt("%8lluT", static_cast<unsigned long long>(n / 1000000000000ull));
}

std::string list_services_stats(const Engine& e) {
  const auto& cfg = e.config();
  std::string out = fmt("IP Virtual Server version 1.2.1 (size=%u)\n", cfg.router.max_connections);
  out += fmt("%-33s %8s %8s %8s %8s %8s\n", "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes",
             "OutBytes");
  out += "  -> RemoteAddress:Port\n";
  auto stats = [](const ipvs::Stats& st) {
    return ipvs_largenum(st.conns) + ipvs_largenum(st.inpkts) + ipvs_largenum(st.outpkts) +
           ipvs_largenum(st.inbytes) + ipvs_largenum(st.outbytes);
  };

  std::vector<const ipvs::Service*> svcs;
  for (const auto& s : e.director().services()) svcs.push_back(s.get());
  std::stable_sort(svcs.begin(), svcs.end(), [](auto* a, auto* b) {
    if (a->protocol != b->protocol) return a->protocol < b->protocol;
    if (int r = ipvs_addr_cmp(a->vip, b->vip)) return r < 0;
    return a->port < b->port;
  });
  for (const auto* s : svcs) {
    std::string name = fmt("%-4s %s:%u", s->protocol == config::Protocol::kTcp ? "TCP" : "UDP",
                           s->vip.str().c_str(), s->port);
    out += fmt("%-33s", name.c_str()) + stats(s->stats) + "\n";
    std::vector<const ipvs::Dest*> dests(s->dests.begin(), s->dests.end());
    std::stable_sort(dests.begin(), dests.end(), [](auto* a, auto* b) {
      if (int r = ipvs_addr_cmp(a->addr, b->addr)) return r < 0;
      return a->port < b->port;
    });
    for (const auto* d : dests) {
      std::string rn = d->addr.str() + ":" + std::to_string(d->port);
      out += fmt("  -> %-28s", rn.c_str()) + stats(d->stats) + "\n";
    }
  }
  return out;
}

std::string list_connections(const Engine& e, Instant now) {
  std::vector<const conn::Conn*> rows;
  e.director().conns().for_each([&](uint32_t, const conn::Conn& c) {
    if (!(c.flags & conn::kFlagOnePacket)) rows.push_back(&c);
  });
  // The kernel lists in hash-bucket order; ours is sorted so that a listing is reproducible.
  std::sort(rows.begin(), rows.end(), [](const conn::Conn* a, const conn::Conn* b) {
    return std::tuple(a->proto, a->caddr.v, a->cport, a->vaddr.v, a->vport, a->daddr.v, a->dport, a->flags) <
           std::tuple(b->proto, b->caddr.v, b->cport, b->vaddr.v, b->vport, b->daddr.v, b->dport, b->flags);
  });
  std::string out = "IPVS connection entries\n";
  out += "pro expire state       source             virtual            destination\n";
  for (const conn::Conn* c : rows) {
    const char* proto = c->proto == 6 ? "TCP" : c->proto == 17 ? "UDP" : "IP";
    int64_t left = std::max<int64_t>(0, (c->expires - now).us) / 1000000;
    std::string expire = fmt("%02lld:%02lld", static_cast<long long>(left / 60), static_cast<long long>(left % 60));
    std::string state;
    if (c->flags & conn::kFlagTemplate)
      state = (c->flags & conn::kFlagAssured) ? "ASSURED" : "NONE";
    else if (c->proto == 17)
      state = "UDP";
    else
      state = std::string(conn::tcp_state_name(c->state));
    auto ep = [](Ipv4Addr a, uint16_t p) { return a.str() + ":" + std::to_string(p); };
    out += fmt("%-3s %-6s %-11s %-18s %-18s %s\n", proto, expire.c_str(), state.c_str(), ep(c->caddr, c->cport).c_str(),
               ep(c->vaddr, c->vport).c_str(), ep(c->daddr, c->dport).c_str());
  }
  return out;
}

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
      {"arp_replies_sent", k.arp_replies_sent},   {"arp_requests_sent", k.arp_requests_sent},
      {"echo_replies_sent", k.echo_replies_sent}, {"forwarded", k.forwarded},
      {"fragments_sent", k.fragments_sent},       {"icmp_errors_rate_limited", k.icmp_errors_rate_limited},
      {"icmp_errors_sent", k.icmp_errors_sent},
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

}  // namespace vs

// ipvsadm 1.31's listing code (print_title, print_service_entry, print_largenum, list_conn,
// list_timeout in ipvsadm.c; ipvs_cmp_services / ipvs_cmp_dests in libipvs.c) over the engine.
#include "ctl/listing.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <tuple>

#include "config/sched_names.hpp"
#include "conn/conn_table.hpp"
#include "conn/tcp_state.hpp"

namespace vs::ctl {
namespace {

[[gnu::format(printf, 2, 3)]] void put(std::string& out, const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  int n = std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  if (n < 0) return;
  if (static_cast<size_t>(n) < sizeof buf) {
    out.append(buf, static_cast<size_t>(n));
    return;
  }
  std::string big(static_cast<size_t>(n) + 1, '\0');
  va_start(ap, f);
  std::vsnprintf(big.data(), big.size(), f, ap);
  va_end(ap);
  big.resize(static_cast<size_t>(n));
  out += big;
}

using ULongLong = unsigned long long;

/// glibc's qsort (msort.c, the merge sort every glibc up to 2.36 and again from 2.39 uses): top-down
/// halves, the left run wins ties (`cmp <= 0`). With libipvs's non-transitive comparator the
/// algorithm decides the order, so it is reproduced exactly rather than replaced by std::sort.
template <class T, class Cmp>
void msort_rec(T* b, size_t n, T* tmp, Cmp& cmp) {
  if (n <= 1) return;
  size_t n1 = n / 2;
  size_t n2 = n - n1;
  T* b1 = b;
  T* b2 = b + n1;
  msort_rec(b1, n1, tmp, cmp);
  msort_rec(b2, n2, tmp, cmp);
  T* t = tmp;
  while (n1 > 0 && n2 > 0) {
    if (cmp(*b1, *b2) <= 0) {
      *t++ = *b1++;
      --n1;
    } else {
      *t++ = *b2++;
      --n2;
    }
  }
  std::copy(b1, b1 + n1, t);
  std::copy(tmp, tmp + (n - n2), b);
}

template <class T, class Cmp>
void glibc_qsort(std::vector<T>& v, Cmp cmp) {
  std::vector<T> tmp(v.size());
  msort_rec(v.data(), v.size(), tmp.data(), cmp);
}

// libipvs: `r = ntohl(a) - ntohl(b)` stored in an int, so addresses 2^31 or more apart compare the
// "wrong" way round.
// An IPv6 address word by word, the same way; an IPv4 `a` against an IPv6 `b` reads b's first
// word (ipvs_cmp_dests compares by the first dest's family).
int addr_cmp(const IpAddr& a, const IpAddr& b) {
  auto word = [](const IpAddr& x, int i) {
    const auto& v = x.v6().b;
    return (uint32_t{v[4 * i]} << 24) | (uint32_t{v[4 * i + 1]} << 16) | (uint32_t{v[4 * i + 2]} << 8) | v[4 * i + 3];
  };
  if (a.is_v4()) return static_cast<int32_t>(a.v4().v - (b.is_v4() ? b.v4().v : word(b, 0)));
  for (int i = 0; i < 4; ++i)
    if (const auto r = static_cast<int32_t>(word(a, i) - word(b, i)); r != 0) return r;
  return 0;
}

/// The address family's number (AF_INET 2, AF_INET6 10), which ipvsadm sorts by first.
int af(const IpAddr& a) { return a.is_v4() ? 2 : 10; }

int cmp_services(const ipvs::Service* a, const ipvs::Service* b) {
  // fwmark is 0 for every vsrouter service; then the family.
  int r = af(a->vip) - af(b->vip);
  if (r != 0) return r;
  r = static_cast<int>(a->protocol) - static_cast<int>(b->protocol);
  if (r != 0) return r;
  r = addr_cmp(a->vip, b->vip);
  if (r != 0) return r;
  return static_cast<int>(a->port) - static_cast<int>(b->port);
}

int cmp_dests(const ipvs::Dest* a, const ipvs::Dest* b) {
  int r = addr_cmp(a->addr, b->addr);
  if (r != 0) return r;
  return static_cast<int>(a->port) - static_cast<int>(b->port);
}

std::string addrport(const IpAddr& a, uint16_t port) { return a.str(port); }

bool is_tcp(const ipvs::Service& s) { return s.protocol == IpProto::kTcp; }

// The kernel's service flags as ipvsadm sees them.
constexpr unsigned kSched1 = config::kFlagShFallback | config::kFlagMhFallback;  // IP_VS_SVC_F_SCHED1
constexpr unsigned kSched2 = config::kFlagShPort | config::kFlagMhPort;          // IP_VS_SVC_F_SCHED2

std::string sched_flags(const ipvs::Service& s) {
  // print_sched_flags: named flags for sh and mh; flag-N for the others (vsadm never stores those).
  std::string f;
  if (s.scheduler == "sh") {
    if (s.flags & kSched1) f += "sh-fallback,";
    if (s.flags & kSched2) f += "sh-port,";
  } else if (s.scheduler == "mh") {
    if (s.flags & kSched1) f += "mh-fallback,";
    if (s.flags & kSched2) f += "mh-port,";
  } else {
    if (s.flags & kSched1) f += "flag-1,";
    if (s.flags & kSched2) f += "flag-2,";
  }
  if (!f.empty()) f.pop_back();
  return f;
}

/// How ipvsadm names a forwarding method in listings ("Masq") and in -S rules ("-m").
struct MethodNames {
  const char* name;
  const char* flag;
};
MethodNames method_names(config::Method m) {
  switch (m) {
    case config::Method::kNat: return {"Masq", "-m"};
    case config::Method::kTun: return {"Tunnel", "-i"};
    case config::Method::kDr: return {"Route", "-g"};
  }
  return {"", ""};
}
const char* fwd_name(config::Method m) { return method_names(m).name; }
const char* fwd_switch(config::Method m) { return method_names(m).flag; }

void print_title(std::string& out, unsigned fmt) {
  if (fmt & kFmtStats)
    put(out, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port", "Conns", "InPkts",
        "OutPkts", "InBytes", "OutBytes");
  else if (fmt & kFmtRate)
    put(out, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS",
        "InBPS", "OutBPS");
  else if (fmt & kFmtThresholds)
    put(out, "%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port", "Uthreshold",
        "Lthreshold", "ActiveConn", "InActConn");
  else if (fmt & kFmtPersistentConn)
    put(out, "%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port", "Weight",
        "PersistConn", "ActiveConn", "InActConn");
  else if (fmt & kFmtTunInfo)
    out +=
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n";
  else if (!(fmt & kFmtRule))
    out +=
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
}

void print_service_entry(std::string& out, const ipvs::Service& s, unsigned fmt) {
  const std::string vname = addrport(s.vip, s.port);
  std::string svc_name;
  if (fmt & kFmtRule) {
    svc_name = std::string(is_tcp(s) ? "-t " : "-u ") + vname;
  } else {
    put(svc_name, "%-4s %s", is_tcp(s) ? "TCP" : "UDP", vname.c_str());
    if (s.vip.is_v4() && svc_name.size() > 33) svc_name.resize(33);  // IPv6 is never cut (print_service_entry)
  }
  const bool persistent = s.persistence != 0;
  const bool has_flags = (s.flags & (kSched1 | kSched2)) != 0;
  const bool ops = (s.flags & config::kFlagOps) != 0;

  if (fmt & kFmtRule) {
    put(out, "-A %s -s %s", svc_name.c_str(), s.scheduler.c_str());
    if (persistent) {
      put(out, " -p %u", s.persistence);
      if (s.vip.is_v6() && s.prefix6 != 128) put(out, " -M %u", unsigned{s.prefix6});  // a prefix length
      else if (s.vip.is_v4() && s.netmask.v != 0xffffffffu) put(out, " -M %s", s.netmask.str().c_str());
    }
    if (ops) out += " -o";
    if (has_flags) out += " -b " + sched_flags(s);
  } else if (fmt & (kFmtStats | kFmtRate)) {
    put(out, "%-33s", svc_name.c_str());
    if (fmt & kFmtStats) {
      for (uint64_t v : {s.stats.conns, s.stats.inpkts, s.stats.outpkts, s.stats.inbytes, s.stats.outbytes})
        out += print_largenum(v, fmt);
    } else {
      const ipvs::Rates r = s.est.rates();
      for (uint64_t v : {r.cps, r.inpps, r.outpps, r.inbps, r.outbps}) out += print_largenum(v, fmt);
    }
  } else {
    put(out, "%s %s", svc_name.c_str(), s.scheduler.c_str());
    if (has_flags) out += " (" + sched_flags(s) + ")";
    if (persistent) {
      put(out, " persistent %u", s.persistence);
      if (s.vip.is_v6() && s.prefix6 != 128) put(out, " mask %u", unsigned{s.prefix6});
      else if (s.vip.is_v4() && s.netmask.v != 0xffffffffu) put(out, " mask %s", s.netmask.str().c_str());
    }
    if (ops) out += " ops";
  }
  out += "\n";

  for (const ipvs::Dest* d : listed_dests(s, fmt)) {
    std::string dname = addrport(d->addr, d->port);
    if (!(fmt & kFmtRule) && d->addr.is_v4() && dname.size() > 28) dname.resize(28);
    const char* dn = dname.c_str();
    if (fmt & kFmtRule) {
      put(out, "-a %s -r %s %s -w %d", svc_name.c_str(), dn, fwd_switch(d->method), d->weight);
      // print_tunnel_rule: a tunnel's type is always listed; vsrouter's tunnels are IPIP.
      if (d->method == config::Method::kTun) out += " --tun-type ipip";
      out += "\n";
    } else if (fmt & kFmtStats) {
      put(out, "  -> %-28s", dn);
      for (uint64_t v : {d->stats.conns, d->stats.inpkts, d->stats.outpkts, d->stats.inbytes, d->stats.outbytes})
        out += print_largenum(v, fmt);
      out += "\n";
    } else if (fmt & kFmtRate) {
      const ipvs::Rates r = d->est.rates();
      put(out, "  -> %-28s %8llu %8llu %8llu", dn, static_cast<ULongLong>(r.cps), static_cast<ULongLong>(r.inpps),
          static_cast<ULongLong>(r.outpps));
      out += print_largenum(r.inbps, fmt) + print_largenum(r.outbps, fmt) + "\n";
    } else if (fmt & kFmtThresholds) {
      put(out, "  -> %-28s %-10u %-10u %-10u %-10u\n", dn, d->upper, d->lower, d->activeconns, d->inactconns);
    } else if (fmt & kFmtPersistentConn) {
      put(out, "  -> %-28s %-9u %-11u %-10u %-10u\n", dn, static_cast<unsigned>(d->weight), d->persistconns,
          d->activeconns, d->inactconns);
    } else if (fmt & kFmtTunInfo) {
      put(out, "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n", dn, fwd_name(d->method),
          d->method == config::Method::kTun ? "ipip" : "n/a", d->weight, d->activeconns, d->inactconns);
    } else {
      put(out, "  -> %-28s %-7s %-6d %-10u %-10u\n", dn, fwd_name(d->method), d->weight, d->activeconns, d->inactconns);
    }
  }
}

}  // namespace

std::string print_largenum(uint64_t i, unsigned fmt) {
  std::string out;
  if (fmt & kFmtExact) {
    const int len = static_cast<int>(std::to_string(i).size());
    put(out, "%*llu", len <= 8 ? 9 : len + 1, static_cast<ULongLong>(i));
  } else if (i < 100000000ull) {
    put(out, "%9llu", static_cast<ULongLong>(i));
  } else if (i < 1000000000ull) {
    put(out, "%8lluK", static_cast<ULongLong>(i / 1000));
  } else if (i < 100000000000ull) {
    put(out, "%8lluM", static_cast<ULongLong>(i / 1000000));
  } else if (i < 100000000000000ull) {
    put(out, "%8lluG", static_cast<ULongLong>(i / 1000000000ull));
  } else {
    put(out, "%8lluT", static_cast<ULongLong>(i / 1000000000000ull));
  }
  return out;
}

std::vector<const ipvs::Service*> listed_services(const ipvs::Director& d, unsigned fmt) {
  std::vector<const ipvs::Service*> v;
  for (const auto& s : d.services()) v.push_back(s.get());
  if (!(fmt & kFmtNoSort)) glibc_qsort(v, cmp_services);
  return v;
}

std::vector<const ipvs::Dest*> listed_dests(const ipvs::Service& s, unsigned fmt) {
  std::vector<const ipvs::Dest*> v(s.dests.begin(), s.dests.end());
  if (!(fmt & kFmtNoSort)) glibc_qsort(v, cmp_dests);
  return v;
}

std::string list_all(const Engine& e, unsigned fmt) {
  std::string out;
  if (!(fmt & kFmtRule)) put(out, "IP Virtual Server version 1.2.1 (size=%u)\n", e.config().router.max_connections);
  print_title(out, fmt);
  for (const ipvs::Service* s : listed_services(e.director(), fmt)) print_service_entry(out, *s, fmt);
  return out;
}

std::string list_service(const Engine&, const ipvs::Service& s, unsigned fmt) {
  std::string out;
  print_title(out, fmt);
  print_service_entry(out, s, fmt);
  return out;
}

std::string list_connections(const Engine& e, Instant now, unsigned fmt) {
  // An IPv6 connection's addresses are beside the table's entry (conn::ConnAddr6).
  struct Row {
    const conn::Conn* c;
    IpAddr caddr, vaddr, daddr;
  };
  std::vector<Row> rows;
  const conn::ConnTable& table = e.director().conns();
  table.for_each([&](uint32_t i, const conn::Conn& c) {
    if (c.flags & conn::kFlagOnePacket) return;  // one-packet entries are never listed
    if (c.flags & conn::kFlagIpv6) {
      const conn::ConnAddr6& a = table.addr6(i);
      rows.push_back({&c, IpAddr::from_v6(a.c), IpAddr::from_v6(a.v), IpAddr::from_v6(a.d)});
    } else {
      const IpAddr d = (c.flags & conn::kFlagDest6) ? IpAddr::from_v6(table.addr6(i).d) : IpAddr(c.daddr);
      rows.push_back({&c, c.caddr, c.vaddr, d});
    }
  });
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tuple(a.c->proto, a.caddr, a.c->cport, a.vaddr, a.c->vport, a.daddr, a.c->dport, a.c->flags) <
           std::tuple(b.c->proto, b.caddr, b.c->cport, b.vaddr, b.c->vport, b.daddr, b.c->dport, b.c->flags);
  });
  std::string out = "IPVS connection entries\n";
  if (fmt & kFmtPersistentConn)
    put(out, "pro expire %-11s %-18s %-18s %-18s %-16s %s\n", "state", "source", "virtual", "destination", "pe name",
        "pe_data");
  else put(out, "pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual", "destination");
  for (const Row& row : rows) {
    const conn::Conn* c = row.c;
    const char* proto = c->proto == IpProto::kTcp ? "TCP" : c->proto == IpProto::kUdp ? "UDP" : "IP";
    // /proc/net/ip_vs_conn gives whole seconds left (truncated); ipvsadm prints minutes:seconds.
    const int64_t left = std::max<int64_t>(0, (c->expires - now).us) / 1000000;
    std::string expire;
    put(expire, "%02lld:%02lld", static_cast<long long>(left / 60), static_cast<long long>(left % 60));
    std::string state;
    if (c->flags & conn::kFlagTemplate) state = (c->flags & conn::kFlagAssured) ? "ASSURED" : "NONE";
    else if (c->proto == IpProto::kUdp) state = "UDP";
    else state = std::string(conn::tcp_state_name(c->state));
    // Rows never carry persistence-engine data, so they keep the six-column shape either way.
    put(out, "%-3s %-6s %-11s %-18s %-18s %s\n", proto, expire.c_str(), state.c_str(),
        addrport(row.caddr, c->cport).c_str(), addrport(row.vaddr, c->vport).c_str(),
        addrport(row.daddr, c->dport).c_str());
  }
  return out;
}

std::string list_timeout(const Engine& e) {
  const conn::Timeouts& t = e.director().timeouts();
  auto secs = [](Duration d) { return static_cast<int>(d.us / 1000000); };
  std::string out;
  put(out, "Timeout (tcp tcpfin udp): %d %d %d\n", secs(t.tcp_of(conn::TcpState::kEstablished)),
      secs(t.tcp_of(conn::TcpState::kFinWait)), secs(t.udp));
  return out;
}

}  // namespace vs::ctl

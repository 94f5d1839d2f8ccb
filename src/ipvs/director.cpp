#include "ipvs/director.hpp"

#include <algorithm>

#include "sched/names.hpp"
#include "sched/scheduler.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace vs::ipvs {

using conn::Conn;
using conn::TcpDir;
using conn::TcpState;

namespace {

constexpr Duration kNewConnTimeout = Duration::seconds(3);   // ip_vs_conn_new, before the first transition
constexpr Duration kTemplateRetry = Duration::seconds(60);   // expiry of a template still in use

constexpr uint8_t kTcp = static_cast<uint8_t>(wire::IpProto::kTcp);
constexpr uint8_t kUdp = static_cast<uint8_t>(wire::IpProto::kUdp);

std::vector<Duration> all_timeouts(const conn::Timeouts& t, const config::Config& cfg) {
  std::vector<Duration> v(t.tcp.begin(), t.tcp.end());
  v.push_back(t.udp);
  v.push_back(kNewConnTimeout);
  v.push_back(kTemplateRetry);
  for (const auto& s : cfg.services)
    if (s.persistence) v.push_back(Duration::seconds(s.persistence));
  return v;
}

}  // namespace

Director::Director(const config::Config& cfg, uint64_t seed)
    : timeouts_(conn::make_timeouts(cfg.timeouts)),
      conns_(cfg.router.max_connections, seed, all_timeouts(timeouts_, cfg)),
      rng_(seed) {
  services_.reserve(cfg.services.size());
  for (const auto& sc : cfg.services) {
    Service& s = services_.emplace_back();
    s.protocol = sc.protocol;
    s.vip = sc.vip;
    s.port = sc.port;
    s.scheduler_name = sc.scheduler;
    s.flags = sc.flags;
    s.persistence = sc.persistence;
    s.netmask = sc.netmask;
    s.drain = sc.drain;
    s.iface = sc.interface;
    s.scheduler = sched::make_scheduler(sc.scheduler, s);
    // Reals are added in file order, each at the head of the list, as `ipvsadm -a` would add them.
    for (const auto& r : sc.reals) add_dest(s, r);
  }
}

Service* Director::find_service(uint8_t proto, Ipv4Addr vip, uint16_t port) noexcept {
  // ip_vs_service_find: exact (proto, vaddr, vport), then the port-0 service of that VIP.
  Service* zero = nullptr;
  for (Service& s : services_) {
    if (static_cast<uint8_t>(s.protocol) != proto || s.vip != vip) continue;
    if (s.port == port) return &s;
    if (s.port == 0) zero = &s;
  }
  return zero;
}

// ---------------------------------------------------------------------------------------------
// Control plane

Dest* Director::add_dest(Service& svc, const config::Real& r) {
  auto d = std::make_unique<Dest>();
  d->addr = r.addr;
  d->port = r.port;
  d->method = r.method;
  d->weight = static_cast<int32_t>(r.weight);
  d->last_weight = static_cast<int32_t>(r.weight);
  d->upper = r.upper;
  d->lower = r.lower;
  Dest* p = d.get();
  svc.storage.push_back(std::move(d));
  svc.dests.insert(svc.dests.begin(), p);  // newest first, as the kernel's list_add
  if (svc.scheduler) svc.scheduler->add_dest(svc, *p);
  return p;
}

void Director::remove_dest(Service& svc, Dest* d) {
  d->available = false;
  svc.dests.erase(std::remove(svc.dests.begin(), svc.dests.end(), d), svc.dests.end());
  if (svc.scheduler) svc.scheduler->del_dest(svc, *d);
  // The Dest stays in svc.storage while connections reference it (the kernel's trash).
}

void Director::edit_dest(Service& svc, Dest* d, int32_t weight, uint32_t upper, uint32_t lower) {
  d->weight = weight;
  if (weight > 0) d->last_weight = weight;
  d->upper = upper;
  d->lower = lower;
  if (svc.scheduler) svc.scheduler->upd_dest(svc, *d);
}

// ---------------------------------------------------------------------------------------------
// Binding (ip_vs_bind_dest / ip_vs_unbind_dest, classic counters)

void Director::bind(Conn& c, Dest* d) noexcept {
  c.dest = d;
  d->refs++;
  if (c.flags & conn::kFlagTemplate) {
    d->persistconns++;
  } else {
    // A new connection inherits INACTIVE (the kernel ORs it into every dest's conn_flags) and
    // NOOUTPUT for every method but NAT.
    c.flags |= conn::kFlagInactive;
    if (d->method != config::Method::kNat) c.flags |= conn::kFlagNoOutput;
    d->inactconns++;
  }
  // Overload is checked on every bind, templates included (their count does not add to total).
  if (d->upper != 0 && d->activeconns + d->inactconns >= d->upper) d->overloaded = true;
}

void Director::unbind(Conn& c) noexcept {
  Dest* d = c.dest;
  if (!d) return;
  if (c.flags & conn::kFlagTemplate) {
    d->persistconns--;
  } else if (c.flags & conn::kFlagInactive) {
    d->inactconns--;
  } else {
    d->activeconns--;
  }
  uint64_t total = d->activeconns + d->inactconns;
  if (d->lower != 0) {
    if (total < d->lower) d->overloaded = false;
  } else if (d->upper != 0) {
    if (total * 4 < uint64_t{d->upper} * 3) d->overloaded = false;
  } else {
    d->overloaded = false;
  }
  d->refs--;
  c.dest = nullptr;
}

uint32_t Director::new_conn(const Conn& init, Dest* dest, Duration timeout, Instant now) noexcept {
  uint32_t idx = conns_.create(init, timeout, now);
  if (idx == conn::kNone) {
    refused_full_++;
    return idx;
  }
  bind(conns_[idx], dest);
  return idx;
}

// ---------------------------------------------------------------------------------------------
// Scheduling (ip_vs_schedule / ip_vs_sched_persist)

uint32_t Director::schedule(Service& svc, const FlowKey& k, Instant now, Decision& d) noexcept {
  sched::SchedContext ctx{now, rng_};
  const bool ops = (svc.flags & sched::kFlagOps) && k.proto == kUdp;
  Conn init;
  init.proto = k.proto;
  init.caddr = k.src;
  init.cport = k.sport;
  init.vaddr = k.dst;
  init.vport = k.dport;
  init.svc = &svc;
  init.flags = ops ? conn::kFlagOnePacket : 0;

  Dest* dest = nullptr;
  uint32_t tpl = conn::kNone;
  if (svc.persistence) {
    // Template <proto, caddr & netmask, 0, vaddr, vport>; vport is 0 for a port-0 service.
    Ipv4Addr snet{k.src.v & svc.netmask.v};
    uint16_t tvport = (k.dport == svc.port) ? svc.port : 0;
    tpl = conns_.find_template(k.proto, snet, k.dst, tvport);
    if (tpl != conn::kNone && (!conns_[tpl].dest || !conns_[tpl].dest->available)) {
      // ip_vs_check_template: invalidate (never matches again), keep it for its connections.
      conns_.unhash(tpl);
      conns_[tpl].vport = conns_[tpl].dport = 0xffff;
      conns_[tpl].cport = 0;
      tpl = conn::kNone;
    }
    if (tpl == conn::kNone) {
      dest = svc.scheduler ? svc.scheduler->schedule(svc, k, ctx) : nullptr;
      if (!dest) {
        d.kind = Decision::Kind::kNoDest;
        return conn::kNone;
      }
      Conn t;
      t.proto = k.proto;
      t.caddr = snet;
      t.cport = 0;
      t.vaddr = k.dst;
      t.vport = tvport;
      t.daddr = dest->addr;
      t.dport = (k.dport == svc.port) ? dest->port : 0;
      t.method = dest->method;
      t.svc = &svc;
      t.flags = conn::kFlagTemplate;
      tpl = new_conn(t, dest, Duration::seconds(svc.persistence), now);
      if (tpl == conn::kNone) {
        d.kind = Decision::Kind::kDrop;
        d.reason = DropReason::kConnTableFull;
        return conn::kNone;
      }
    } else {
      dest = conns_[tpl].dest;
    }
  } else {
    dest = svc.scheduler ? svc.scheduler->schedule(svc, k, ctx) : nullptr;
    if (!dest) {
      d.kind = Decision::Kind::kNoDest;
      return conn::kNone;
    }
  }

  init.daddr = dest->addr;
  init.dport = (k.dport == svc.port && dest->port) ? dest->port : k.dport;
  init.method = dest->method;
  uint32_t c = new_conn(init, dest, kNewConnTimeout, now);
  if (tpl != conn::kNone) {
    if (c != conn::kNone) {
      conns_[c].control = tpl;
      conns_[tpl].n_control++;
    }
    conns_.rearm(tpl, now);  // ip_vs_conn_put(ct)
  }
  if (c == conn::kNone) {
    d.kind = Decision::Kind::kDrop;
    d.reason = DropReason::kConnTableFull;
    return conn::kNone;
  }
  dest->stats.conns++;
  svc.stats.conns++;
  total_.conns++;
  return c;
}

Decision Director::classify(const FlowKey& k, uint8_t tcp_flags, Instant now) noexcept {
  Decision d;
  const bool tcp = k.proto == kTcp;
  if (!tcp && k.proto != kUdp) return d;
  auto hit = conns_.lookup(k);
  if (hit && hit->out) {
    d.kind = Decision::Kind::kOut;
    d.conn = hit->idx;
    return d;
  }
  const bool syn = tcp && (tcp_flags & wire::tcp_flag::kSyn);
  uint32_t c = hit ? hit->idx : conn::kNone;

  // conn_reuse_mode 1: a SYN for a finished, uncontrolled connection starts a new one.
  if (c != conn::kNone && syn) {
    const Conn& cp = conns_[c];
    if (cp.control == conn::kNone && (cp.state == TcpState::kTimeWait || cp.state == TcpState::kClose)) {
      if (cp.n_control == 0) expire_now(c, now);
      c = conn::kNone;
    }
  }
  // The real was removed from its service: drop, or expire and reschedule (drain policy).
  if (c != conn::kNone && conns_[c].dest && !conns_[c].dest->available) {
    if (conns_[c].svc->drain == config::Drain::kDrop) {
      d.kind = Decision::Kind::kDrop;
      d.reason = DropReason::kVsRealRemoved;
      return d;
    }
    expire_now(c, now);
    c = conn::kNone;
  }
  if (c != conn::kNone) {
    d.kind = Decision::Kind::kIn;
    d.conn = c;
    return d;
  }

  // Only a TCP SYN without RST, or any UDP datagram, may open a connection (sloppy_tcp=0).
  if (tcp && (!syn || (tcp_flags & wire::tcp_flag::kRst))) return d;
  Service* svc = find_service(k.proto, k.dst, k.dport);
  if (!svc) return d;
  c = schedule(*svc, k, now, d);
  if (c == conn::kNone) return d;  // kNoDest or kDrop set by schedule()
  d.kind = Decision::Kind::kIn;
  d.conn = c;
  return d;
}

// ---------------------------------------------------------------------------------------------
// Per-packet accounting

void Director::assure_template(uint32_t c) noexcept {
  uint32_t t = conns_[c].control;
  if (t != conn::kNone) conns_[t].flags |= conn::kFlagAssured;
}

void Director::set_tcp_state(uint32_t ci, TcpDir dir, uint8_t flags) noexcept {
  Conn& c = conns_[ci];
  if (c.flags & conn::kFlagNoOutput) {
    if (dir == TcpDir::kOutput)
      c.flags &= static_cast<uint16_t>(~conn::kFlagNoOutput);
    else
      dir = TcpDir::kInputOnly;
  }
  TcpState ns = conn::tcp_transition(c.state, dir, flags);
  if (ns != c.state && c.dest) {
    Dest* d = c.dest;
    bool was_inactive = c.flags & conn::kFlagInactive;
    if (!was_inactive && !conn::tcp_state_active(ns)) {
      d->activeconns--;
      d->inactconns++;
      c.flags |= conn::kFlagInactive;
    } else if (was_inactive && conn::tcp_state_active(ns)) {
      d->activeconns++;
      d->inactconns--;
      c.flags &= static_cast<uint16_t>(~conn::kFlagInactive);
    }
  }
  c.state = ns;
  conns_.set_timeout(ci, timeouts_.tcp_of(ns));
  if (ns == TcpState::kEstablished) assure_template(ci);
}

void Director::count_in(uint32_t c, uint32_t ip_len) noexcept {
  Conn& cp = conns_[c];
  if (cp.dest) add_in(cp.dest->stats, ip_len);
  add_in(cp.svc->stats, ip_len);
  add_in(total_, ip_len);
}

void Director::count_out(uint32_t c, uint32_t ip_len) noexcept {
  Conn& cp = conns_[c];
  if (cp.dest) add_out(cp.dest->stats, ip_len);
  add_out(cp.svc->stats, ip_len);
  add_out(total_, ip_len);
}

void Director::in_packet(uint32_t c, uint8_t tcp_flags, uint32_t ip_len, Instant /*now*/) noexcept {
  Conn& cp = conns_[c];
  count_in(c, ip_len);
  if (cp.proto == kTcp) {
    set_tcp_state(c, TcpDir::kInput, tcp_flags);  // INPUT_ONLY while NOOUTPUT (DR, TUN)
  } else {
    conns_.set_timeout(c, timeouts_.udp);
  }
}

void Director::out_packet(uint32_t c, uint8_t tcp_flags, uint32_t ip_len, Instant /*now*/) noexcept {
  Conn& cp = conns_[c];
  if (cp.proto == kTcp) {
    set_tcp_state(c, TcpDir::kOutput, tcp_flags);
  } else {
    cp.flags &= static_cast<uint16_t>(~conn::kFlagNoOutput);
    conns_.set_timeout(c, timeouts_.udp);
    assure_template(c);
  }
  count_out(c, ip_len);
}

void Director::put(uint32_t c, Instant now) noexcept {
  if (conns_[c].flags & conn::kFlagOnePacket) {
    expire(c, now);
    return;
  }
  conns_.rearm(c, now);
}

// ---------------------------------------------------------------------------------------------
// Expiry (ip_vs_conn_expire)

void Director::expire(uint32_t c, Instant now) noexcept {
  Conn& cp = conns_[c];
  if (cp.n_control > 0) {
    // A template still controlling connections lives on, re-armed at 60 s from now on.
    conns_.set_timeout(c, kTemplateRetry);
    conns_.rearm(c, now);
    return;
  }
  if (cp.control != conn::kNone) {
    conns_[cp.control].n_control--;
    cp.control = conn::kNone;
  }
  unbind(cp);
  conns_.free(c);
}

void Director::expire_now(uint32_t c, Instant now) noexcept { expire(c, now); }

void Director::on_timer(Instant now) noexcept {
  for (uint32_t c = conns_.due(now); c != conn::kNone; c = conns_.due(now)) expire(c, now);
}

}  // namespace vs::ipvs

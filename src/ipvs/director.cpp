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
constexpr Duration kEstimatorTick = Duration::seconds(2);    // ip_vs_est.c: IPVS_EST_TICK (2 s)

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

Director::ServiceSpec Director::ServiceSpec::from(const config::Service& s) {
  ServiceSpec o;
  o.protocol = s.protocol;
  o.vip = s.vip;
  o.port = s.port;
  o.scheduler = s.scheduler;
  o.flags = s.flags;
  o.persistence = s.persistence;
  o.netmask = s.netmask;
  o.drain = s.drain;
  o.iface = s.interface;
  return o;
}

Director::Director(const config::Config& cfg, uint64_t seed, DropCounters* drops)
    : timeouts_(conn::make_timeouts(cfg.timeouts)),
      conns_(cfg.router.max_connections, seed, all_timeouts(timeouts_, cfg)),
      rng_(seed),
      defense_(cfg.defense),
      drops_(drops ? drops : &own_drops_) {
  for (const auto& sc : cfg.services) {
    Service* s = nullptr;
    add_service(ServiceSpec::from(sc), &s);
    // Reals are added in file order, each at the head of the list, as `ipvsadm -a` would add them.
    for (const auto& r : sc.reals) add_real(*s, r);
  }
}

Service* Director::find_service(uint8_t proto, Ipv4Addr vip, uint16_t port) noexcept {
  // ip_vs_service_find: exact (proto, vaddr, vport), then the port-0 service of that VIP.
  Service* zero = nullptr;
  for (auto& sp : services_) {
    Service& s = *sp;
    if (static_cast<uint8_t>(s.protocol) != proto || s.vip != vip) continue;
    if (s.port == port) return &s;
    if (s.port == 0) zero = &s;
  }
  return zero;
}

Service* Director::find_exact(config::Protocol proto, Ipv4Addr vip, uint16_t port) noexcept {
  for (auto& s : services_)
    if (s->protocol == proto && s->vip == vip && s->port == port) return s.get();
  return nullptr;
}

Dest* Director::find_real(Service& svc, Ipv4Addr addr, uint16_t port) noexcept {
  for (Dest* d : svc.dests)
    if (d->addr == addr && d->port == port) return d;
  return nullptr;
}

void Director::index_vips() {
  vips_.reset(services_.size());
  for (const auto& s : services_) vips_.insert(s->vip.v, s->iface);  // the first one of a VIP stays
}

// ---------------------------------------------------------------------------------------------
// Control plane

Director::CtlError Director::add_service(const ServiceSpec& spec, Service** out) {
  if (find_exact(spec.protocol, spec.vip, spec.port)) return CtlError::kServiceExists;
  auto s = std::make_unique<Service>();
  s->protocol = spec.protocol;
  s->vip = spec.vip;
  s->port = spec.port;
  s->scheduler_name = spec.scheduler;
  s->flags = spec.flags;
  s->persistence = spec.persistence;
  s->netmask = spec.netmask;
  s->drain = spec.drain;
  s->iface = spec.iface;
  s->scheduler = sched::make_scheduler(spec.scheduler, *s);
  if (!s->scheduler) return CtlError::kSchedulerNotFound;
  if (out) *out = s.get();
  vips_.insert(s->vip.v, s->iface);  // appended last: a VIP already indexed keeps its first service
  services_.push_back(std::move(s));
  return CtlError::kOk;
}

Director::CtlError Director::edit_service(Service& svc, const ServiceSpec& spec) {
  if (spec.scheduler != svc.scheduler_name) {
    auto sched = sched::make_scheduler(spec.scheduler, svc);  // built from the current list
    if (!sched) return CtlError::kSchedulerNotFound;
    svc.scheduler = std::move(sched);
    svc.scheduler_name = spec.scheduler;
  }
  svc.flags = spec.flags;
  svc.persistence = spec.persistence;
  svc.netmask = spec.netmask;
  svc.drain = spec.drain;
  if (svc.iface != spec.iface) {
    svc.iface = spec.iface;
    index_vips();
  }
  return CtlError::kOk;
}

void Director::delete_service(Service& svc) {
  remove_service(svc);
  index_vips();
}

void Director::remove_service(Service& svc) {
  for (Dest* d : svc.dests) d->available = false;
  svc.dests.clear();
  svc.deleted = true;
  auto it = std::find_if(services_.begin(), services_.end(), [&](auto& p) { return p.get() == &svc; });
  if (it == services_.end()) return;
  std::unique_ptr<Service> owned = std::move(*it);
  services_.erase(it);
  if (owned->refs > 0) retired_.push_back(std::move(owned));  // connections still point at it
}

void Director::clear() {
  while (!services_.empty()) remove_service(*services_.back());
  index_vips();
}

void Director::release_service(Service* svc) noexcept {
  if (--svc->refs > 0 || !svc->deleted) return;
  auto it = std::find_if(retired_.begin(), retired_.end(), [&](auto& p) { return p.get() == svc; });
  if (it != retired_.end()) retired_.erase(it);
}

Director::CtlError Director::add_real(Service& svc, const config::Real& r, Dest** out) {
  if (find_real(svc, r.addr, r.port)) return CtlError::kDestExists;
  Dest* d = nullptr;
  for (auto& old : svc.storage)
    if (!old->available && old->addr == r.addr && old->port == r.port) d = old.get();
  if (d) {
    // Revived from the trash: same object, counters and connections kept.
    d->available = true;
    d->method = r.method;
    d->weight = static_cast<int32_t>(r.weight);
    if (r.weight > 0) d->last_weight = static_cast<int32_t>(r.weight);
    d->upper = r.upper;
    d->lower = r.lower;
    svc.dests.insert(svc.dests.begin(), d);
    if (svc.scheduler) svc.scheduler->add_dest(svc, *d);
  } else {
    d = add_dest(svc, r);
  }
  if (out) *out = d;
  return CtlError::kOk;
}

Director::CtlError Director::edit_real(Service& svc, const config::Real& r) {
  Dest* d = find_real(svc, r.addr, r.port);
  if (!d) return CtlError::kNoDest;
  d->method = r.method;
  edit_dest(svc, d, static_cast<int32_t>(r.weight), r.upper, r.lower);
  return CtlError::kOk;
}

Director::CtlError Director::delete_real(Service& svc, Ipv4Addr addr, uint16_t port) {
  Dest* d = find_real(svc, addr, port);
  if (!d) return CtlError::kNoDest;
  remove_dest(svc, d);
  return CtlError::kOk;
}

void Director::zero(Service* svc) {
  auto zero_one = [](Service& s) {
    s.stats = {};
    s.est = {};
    for (auto& d : s.storage) {
      d->stats = {};
      d->est = {};
    }
  };
  if (svc) {
    zero_one(*svc);
    return;
  }
  for (auto& s : services_) zero_one(*s);
  total_ = {};
  total_est_ = {};
}

void Director::set_timeouts(const config::Timeouts& set) {
  if (set.tcp) timeouts_.tcp[static_cast<size_t>(TcpState::kEstablished)] = Duration::seconds(set.tcp);
  if (set.tcpfin) timeouts_.tcp[static_cast<size_t>(TcpState::kFinWait)] = Duration::seconds(set.tcpfin);
  if (set.udp) timeouts_.udp = Duration::seconds(set.udp);
}

void Director::apply_config(const config::Config& cfg) {
  // Services gone from the file are deleted first, then the file's services are edited or added
  // in file order, each with its reals.
  std::vector<Service*> gone;
  for (auto& s : services_) {
    bool keep = std::any_of(cfg.services.begin(), cfg.services.end(), [&](const config::Service& c) {
      return c.protocol == s->protocol && c.vip == s->vip && c.port == s->port;
    });
    if (!keep) gone.push_back(s.get());
  }
  for (Service* s : gone) remove_service(*s);
  index_vips();

  for (const auto& sc : cfg.services) {
    const ServiceSpec spec = ServiceSpec::from(sc);
    Service* s = find_exact(sc.protocol, sc.vip, sc.port);
    if (s)
      edit_service(*s, spec);
    else
      add_service(spec, &s);
    if (!s) continue;  // unknown scheduler: cannot happen for a validated config
    std::vector<Dest*> old_reals = s->dests;
    for (Dest* d : old_reals) {
      bool keep = std::any_of(sc.reals.begin(), sc.reals.end(),
                              [&](const config::Real& r) { return r.addr == d->addr && r.port == d->port; });
      if (!keep) remove_dest(*s, d);
    }
    for (const auto& r : sc.reals) {
      Dest* d = find_real(*s, r.addr, r.port);
      if (!d) {
        add_real(*s, r);
      } else if (d->method != r.method || d->weight != static_cast<int32_t>(r.weight) || d->upper != r.upper ||
                 d->lower != r.lower) {
        edit_real(*s, r);
      }
    }
  }
  timeouts_ = conn::make_timeouts(cfg.timeouts);
  defense_ = cfg.defense;
}

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
  if (idx == conn::kNone && defense_.drop_entry) {
    // drop_entry: make room by evicting the least recently active half-open TCP connection.
    // Established connections and templates are never in that list.
    uint32_t victim = conns_.half_open_oldest();
    if (victim != conn::kNone) {
      expire(victim, now);
      drops_->count(DropReason::kConnEvictedHalfOpen);
      idx = conns_.create(init, timeout, now);
    }
  }
  if (idx == conn::kNone) {
    refused_full_++;
    return idx;
  }
  init.svc->refs++;
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
      conns_.aux(tpl).n_control++;
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
  if (!next_estimate_ && !services_.empty()) next_estimate_ = now + kEstimatorTick;
  wake_estimator(now);  // this packet may be counted
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
      if (!(cp.flags & conn::kFlagTemplate) || conns_.aux(c).n_control == 0) expire(c, now);
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
    expire(c, now);
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

void Director::set_tcp_state(uint32_t ci, TcpDir dir, uint8_t flags, Instant now) noexcept {
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
  // The half-open list feeds the defences: SYN_RECV and SYNACK, the states a spoofed SYN leaves.
  if (ns == TcpState::kSynRecv || ns == TcpState::kSynAck)
    conns_.half_open_touch(ci, now);
  else
    conns_.half_open_remove(ci);
}

void Director::count_in(uint32_t c, uint32_t ip_len) noexcept {
  if (est_state_ == EstState::kParked) est_state_ = EstState::kWake;
  Conn& cp = conns_[c];
  if (cp.dest) add_in(cp.dest->stats, ip_len);
  add_in(cp.svc->stats, ip_len);
  add_in(total_, ip_len);
}

void Director::count_out(uint32_t c, uint32_t ip_len) noexcept {
  if (est_state_ == EstState::kParked) est_state_ = EstState::kWake;
  Conn& cp = conns_[c];
  if (cp.dest) add_out(cp.dest->stats, ip_len);
  add_out(cp.svc->stats, ip_len);
  add_out(total_, ip_len);
}

void Director::in_packet(uint32_t c, uint8_t tcp_flags, uint32_t ip_len, Instant now) noexcept {
  Conn& cp = conns_[c];
  count_in(c, ip_len);
  if (cp.proto == kTcp) {
    set_tcp_state(c, TcpDir::kInput, tcp_flags, now);  // INPUT_ONLY while NOOUTPUT (DR, TUN)
  } else {
    conns_.set_timeout(c, timeouts_.udp);
  }
}

void Director::out_packet(uint32_t c, uint8_t tcp_flags, uint32_t ip_len, Instant now) noexcept {
  Conn& cp = conns_[c];
  if (cp.proto == kTcp) {
    set_tcp_state(c, TcpDir::kOutput, tcp_flags, now);
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
  if ((cp.flags & conn::kFlagTemplate) && conns_.aux(c).n_control > 0) {  // only templates control
    // A template still controlling connections lives on, re-armed at 60 s from now on.
    conns_.set_timeout(c, kTemplateRetry);
    conns_.rearm(c, now);
    return;
  }
  if (cp.control != conn::kNone) {
    conns_.aux(cp.control).n_control--;
    cp.control = conn::kNone;
  }
  Service* svc = cp.svc;
  if (!(cp.flags & conn::kFlagTemplate)) conns_freed_++;
  unbind(cp);
  conns_.free(c);
  if (svc) release_service(svc);
}

bool Director::secure_tcp_engaged() const noexcept {
  switch (defense_.secure_tcp) {
    case config::DefenseMode::kOff: return false;
    case config::DefenseMode::kAlways: return true;
    case config::DefenseMode::kAuto:
      return uint64_t{conns_.size()} * 100 >= uint64_t{defense_.high_water} * conns_.capacity();
  }
  return false;
}

std::optional<Instant> Director::next_deadline() const noexcept {
  std::optional<Instant> d = conns_.next_deadline();
  auto earliest = [&d](Instant t) {
    if (!d || t < *d) d = t;
  };
  if (next_estimate_ && est_state_ != EstState::kParked) earliest(*next_estimate_);
  // secure_tcp: the oldest half-open entry goes syn_timeout after its last packet. The same
  // condition decides in on_timer(), so a deadline given here is always consumed there.
  uint32_t h = conns_.half_open_oldest();
  if (h != conn::kNone && secure_tcp_engaged())
    earliest(conns_.aux(h).ho_since + Duration::seconds(defense_.syn_timeout));
  return d;
}

bool Director::estimators_idle() const noexcept {
  auto idle = [](const Estimator& e, const Stats& s) {
    return e.cps == 0 && e.inpps == 0 && e.outpps == 0 && e.inbps == 0 && e.outbps == 0 &&
           e.last.conns == s.conns && e.last.inpkts == s.inpkts && e.last.outpkts == s.outpkts &&
           e.last.inbytes == s.inbytes && e.last.outbytes == s.outbytes;
  };
  for (const auto& s : services_) {
    if (!idle(s->est, s->stats)) return false;
    for (const auto& d : s->storage)
      if (!idle(d->est, d->stats)) return false;
  }
  return idle(total_est_, total_);
}

void Director::estimate() noexcept {
  for (auto& s : services_) {
    s->est.tick(s->stats);
    for (auto& d : s->storage) d->est.tick(d->stats);
  }
  total_est_.tick(total_);
}

void Director::on_timer(Instant now) noexcept {
  for (uint32_t c = conns_.due(now); c != conn::kNone; c = conns_.due(now)) expire(c, now);
  // secure_tcp: while engaged, half-open connections idle for syn_timeout go, oldest first (each
  // expiry may bring the table below high_water and disengage an "auto" defence).
  for (uint32_t h = conns_.half_open_oldest(); h != conn::kNone && secure_tcp_engaged();
       h = conns_.half_open_oldest()) {
    if (conns_.aux(h).ho_since + Duration::seconds(defense_.syn_timeout) > now) break;
    expire(h, now);
    drops_->count(DropReason::kConnExpiredHalfOpen);
  }
  // The estimator ticks every 2 s from the first packet on; missed ticks are caught up one by
  // one while they have something to do, and skipped at once when they have not.
  if (!next_estimate_) return;
  wake_estimator(now);
  while (*next_estimate_ <= now) {
    if (estimators_idle()) {
      est_state_ = EstState::kParked;
      wake_estimator(now);
      break;
    }
    estimate();
    *next_estimate_ = *next_estimate_ + kEstimatorTick;
  }
  if (estimators_idle()) est_state_ = EstState::kParked;
}

void Director::wake_estimator(Instant now) noexcept {
  // Parked: the ticks since were no-ops (rates at rest, nothing counted), so the clock of ticks
  // moves to the first one after `now` on its 2 s grid at once. Woken by count_in/count_out (an
  // ICMP error counted while parked): the adapter calls on_timer() right after that frame, at
  // its time, since the stale tick is due; ticks up to then had nothing to count either.
  if (est_state_ == EstState::kRunning || !next_estimate_) return;
  if (*next_estimate_ <= now)
    *next_estimate_ = *next_estimate_ + kEstimatorTick * ((now - *next_estimate_).us / kEstimatorTick.us + 1);
  est_state_ = EstState::kRunning;
}

}  // namespace vs::ipvs

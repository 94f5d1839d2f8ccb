// The director's packet path (the kernel's ip_vs_core.c and ip_vs_conn.c): which packets belong
// to virtual services, scheduling with persistence templates, binding connections to reals, the
// TCP/UDP state machine, stats, and expiry. The control plane is director_ctl.cpp, the rate
// estimator director_est.cpp.
#include "ipvs/director.hpp"

#include "config/sched_names.hpp"
#include "ipvs/scheduler.hpp"

namespace vs::ipvs {

using conn::Conn;
using conn::TcpDir;
using conn::TcpState;

namespace {

constexpr Duration kNewConnTimeout = Duration::seconds(3);  // ip_vs_conn_new, before the first transition
constexpr Duration kTemplateRetry = Duration::seconds(60);  // expiry of a template still in use

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

Director::Director(const config::Config& cfg, uint64_t seed, DropCounters* drops)
    : timeouts_(conn::make_timeouts(cfg.timeouts)),
      conns_(cfg.router.max_connections, seed, all_timeouts(timeouts_, cfg)),
      rng_(seed),
      defense_(cfg.defense),
      ipvs_(cfg.ipvs),
      drops_(drops ? drops : &own_drops_) {
  for (const auto& sc : cfg.services) {
    Service* s = nullptr;
    add_service(sc, &s);
    // Reals are added in file order, each at the head of the list, as `ipvsadm -a` would add them.
    for (const auto& r : sc.reals) s->add_real(r);
  }
}

Service* Director::find_service(IpProto proto, const IpAddr& vip, uint16_t port) noexcept {
  // ip_vs_service_find: exact (proto, vaddr, vport), then the port-0 service of that VIP.
  Service* zero = nullptr;
  for (auto& sp : services_) {
    Service& s = *sp;
    if (s.protocol != proto || s.vip != vip) continue;
    if (s.port == port) return &s;
    if (s.port == 0) zero = &s;
  }
  return zero;
}

Service* Director::find_exact(IpProto proto, const IpAddr& vip, uint16_t port) noexcept {
  for (auto& s : services_)
    if (s->protocol == proto && s->vip == vip && s->port == port) return s.get();
  return nullptr;
}

std::optional<uint32_t> Director::vip_interface6(const Ipv6Addr& a) const noexcept {
  // Asked for every routed IPv6 datagram: nothing is computed while there is no IPv6 service.
  if (vips6_.empty() || !vips6_.contains(IpAddr::fold6(a))) return std::nullopt;
  const IpAddr x = IpAddr::from_v6(a);
  for (const auto& s : services_)
    if (s->vip == x) return s->interface;
  return std::nullopt;
}

void Director::index_vips() {
  vips_.reset(services_.size());
  vips6_.reset(services_.size());
  for (const auto& s : services_) {  // the first one of a VIP stays
    if (s->vip.is_v4()) vips_.insert(s->vip.v4().v, s->interface);
    else vips6_.insert(s->vip.fold(), s->interface);
  }
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

void Director::set_inactive(Conn& c, bool inactive) noexcept {
  if (!c.dest || bool(c.flags & conn::kFlagInactive) == inactive) return;
  if (inactive) {
    c.dest->activeconns--;
    c.dest->inactconns++;
    c.flags |= conn::kFlagInactive;
  } else {
    c.dest->activeconns++;
    c.dest->inactconns--;
    c.flags &= static_cast<uint16_t>(~conn::kFlagInactive);
  }
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

uint32_t Director::new_conn(const Conn& init, Dest* dest, Duration timeout, Instant now,
                            const conn::ConnAddr6* a6) noexcept {
  uint32_t idx = conns_.create(init, timeout, now, a6);
  if (idx == conn::kNone && defense_.drop_entry) {
    // drop_entry: make room by evicting the least recently active half-open TCP connection.
    // Established connections and templates are never in that list.
    uint32_t victim = conns_.half_open_oldest();
    if (victim != conn::kNone) {
      expire(victim, now);
      drops_->count(DropReason::kConnEvictedHalfOpen);
      idx = conns_.create(init, timeout, now, a6);
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

void Director::note_inputs(const Service& svc, const FlowKey& k) noexcept {
  SchedNote& n = *note_;
  n.svc = &svc;
  n.flow = k;
  n.bucket = svc.sched ? svc.sched->bucket(svc, k) : -1;
  n.n_dests = static_cast<uint32_t>(svc.dests.size());
  for (uint32_t i = 0; i < n.n_dests && i < SchedNote::kMaxDests; ++i) {
    const Dest& d = *svc.dests[i];
    n.dests[i] = {d.addr, d.port, d.weight, d.activeconns, d.inactconns, d.overloaded};
  }
}

void Director::note_result(const Dest* dest, bool from_template, bool new_template) noexcept {
  SchedNote& n = *note_;
  n.from_template = from_template;
  n.new_template = new_template;
  n.chosen = dest != nullptr;
  n.chosen_addr = dest ? dest->addr : IpAddr{};
  n.chosen_port = dest ? dest->port : 0;
  n.chosen_method = dest ? dest->method : config::Method::kDr;
  n.count++;
}

Dest* Director::pick(Service& svc, const FlowKey& k, SchedContext& ctx, bool new_template) noexcept {
  if (note_) note_inputs(svc, k);
  Dest* dest = svc.sched ? svc.sched->schedule(svc, k, ctx) : nullptr;
  if (note_) note_result(dest, /*from_template=*/false, new_template);
  return dest;
}

namespace {

/// The family flag of a new entry: an IPv6 connection, or an IPv4 one to an IPv6 real (TUN; the
/// kernel's cp->daf). An IPv4 real of an IPv6 connection is held v4-mapped in ConnAddr6::d.
uint16_t family_flag(const FlowAddr6* f6, const Dest& dest) noexcept {
  if (f6) return conn::kFlagIpv6;
  return dest.addr.is_v6() ? conn::kFlagDest6 : 0;
}

const conn::ConnAddr6* side6(uint16_t flags, const conn::ConnAddr6& a6) noexcept {
  return (flags & (conn::kFlagIpv6 | conn::kFlagDest6)) ? &a6 : nullptr;
}

}  // namespace

uint32_t Director::schedule(Service& svc, const FlowKey& k, const FlowAddr6* f6, Instant now, Decision& d) noexcept {
  SchedContext ctx{now, rng_};
  if (note_ && f6) note_->flow6 = *f6;
  const bool ops = (svc.flags & config::kFlagOps) && k.proto == IpProto::kUdp;
  Conn init;
  init.proto = k.proto;
  init.caddr = k.src;
  init.cport = k.sport;
  init.vaddr = k.dst;
  init.vport = k.dport;
  init.svc = &svc;
  init.flags = ops ? conn::kFlagOnePacket : 0;
  // An IPv6 connection: its addresses beside the slab (the table writes the folds into init's).
  conn::ConnAddr6 a6{};
  if (f6) a6 = {f6->src, f6->dst, {}};

  Dest* dest = nullptr;
  uint32_t tpl = conn::kNone;
  if (svc.persistence) {
    // Template <proto, caddr & netmask, 0, vaddr, vport>; vport is 0 for a port-0 service. IPv6:
    // the client's prefix of svc.prefix6 bits (ip_vs_sched_persist: ipv6_addr_prefix).
    Ipv4Addr snet{k.src.v & svc.netmask.v};
    const Ipv6Addr snet6 = f6 ? Ipv6Prefix{f6->src, svc.prefix6}.network() : Ipv6Addr{};
    uint16_t tvport = (k.dport == svc.port) ? svc.port : 0;
    tpl = f6 ? conns_.find_template6(k.proto, snet6, f6->dst, tvport)
             : conns_.find_template(k.proto, snet, k.dst, tvport);
    if (tpl != conn::kNone && (!conns_[tpl].dest || !conns_[tpl].dest->available)) {
      // ip_vs_check_template: invalidate (never matches again), keep it for its connections.
      conns_.unhash(tpl);
      conns_[tpl].vport = conns_[tpl].dport = 0xffff;
      conns_[tpl].cport = 0;
      tpl = conn::kNone;
    }
    if (tpl == conn::kNone) {
      dest = pick(svc, k, ctx, /*new_template=*/true);
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
      t.daddr = dest->addr.v4();
      t.dport = (k.dport == svc.port) ? dest->port : 0;
      t.method = dest->method;
      t.svc = &svc;
      t.flags = conn::kFlagTemplate | family_flag(f6, *dest);
      const conn::ConnAddr6 t6{snet6, a6.v, dest->addr.v6()};
      tpl = new_conn(t, dest, Duration::seconds(svc.persistence), now, side6(t.flags, t6));
      if (tpl == conn::kNone) {
        d.kind = Decision::Kind::kDrop;
        d.reason = DropReason::kConnTableFull;
        return conn::kNone;
      }
    } else {
      dest = conns_[tpl].dest;
      if (note_) {
        note_inputs(svc, k);
        note_result(dest, true, false);
      }
    }
  } else {
    dest = pick(svc, k, ctx, /*new_template=*/false);
    if (!dest) {
      d.kind = Decision::Kind::kNoDest;
      return conn::kNone;
    }
  }

  init.daddr = dest->addr.v4();
  init.dport = (k.dport == svc.port && dest->port) ? dest->port : k.dport;
  init.method = dest->method;
  a6.d = dest->addr.v6();
  init.flags |= family_flag(f6, *dest);
  uint32_t c = new_conn(init, dest, kNewConnTimeout, now, side6(init.flags, a6));
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

Decision Director::classify(const PacketSummary& p, Instant now, const FlowAddr6* a6) noexcept {
  const FlowKey& k = p.key;
  const uint8_t tcp_flags = p.tcp_flags;
  Decision d;
  const bool tcp = k.proto == IpProto::kTcp;
  if (!tcp && k.proto != IpProto::kUdp) return d;
  if (!next_estimate_ && !services_.empty()) next_estimate_ = now + kEstimatorTick;
  wake_estimator(now);  // this packet may be counted
  auto hit = conns_.lookup(k, a6);
  if (hit && hit->out) {
    d.kind = Decision::Kind::kOut;
    d.conn = hit->idx;
    return d;
  }
  const bool syn = tcp && (tcp_flags & tcp_flag::kSyn);
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

  // Only a TCP SYN without RST, or any UDP datagram, may open a connection; with sloppy_tcp any
  // TCP segment but a RST (tcp_conn_schedule). The state follows from NONE by the packet's flags
  // (an ACK: ESTABLISHED, a FIN: CLOSE, none: CLOSE).
  if (tcp && ((tcp_flags & tcp_flag::kRst) || !(syn || ipvs_.sloppy_tcp))) return d;
  // The O(1) index first: most routed packets go no further (IPv6: by the address's fold, a
  // filter that find_service then makes exact).
  if (a6 ? !vips6_.contains(k.dst.v) : !is_vip(k.dst)) return d;
  Service* svc = find_service(k.proto, a6 ? IpAddr::from_v6(a6->dst) : IpAddr(k.dst), k.dport);
  if (!svc) return d;
  c = schedule(*svc, k, a6, now, d);
  if (c == conn::kNone) return d;  // kNoDest or kDrop set by schedule()
  d.kind = Decision::Kind::kIn;
  d.conn = c;
  d.created = true;
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
    if (dir == TcpDir::kOutput) c.flags &= static_cast<uint16_t>(~conn::kFlagNoOutput);
    else dir = TcpDir::kInputOnly;
  }
  TcpState ns = conn::tcp_transition(c.state, dir, flags);
  if (ns != c.state) set_inactive(c, !conn::tcp_state_active(ns));
  c.state = ns;
  conns_.set_timeout(ci, timeouts_.tcp_of(ns));
  if (ns == TcpState::kEstablished) assure_template(ci);
  // The half-open list feeds the defences: SYN_RECV and SYNACK, the states a spoofed SYN leaves.
  if (ns == TcpState::kSynRecv || ns == TcpState::kSynAck) conns_.half_open_touch(ci, now);
  else conns_.half_open_remove(ci);
}

template <bool Inbound>
void Director::count(uint32_t c, uint32_t ip_len) noexcept {
  if (est_state_ == EstState::kParked) est_state_ = EstState::kWake;
  auto add = [ip_len](Stats& s) {
    if constexpr (Inbound) {
      s.inpkts++;
      s.inbytes += ip_len;
    } else {
      s.outpkts++;
      s.outbytes += ip_len;
    }
  };
  // ip_vs_in_stats / ip_vs_out_stats: only while the real is available. The packets of a removed
  // real's connections (replies, ICMP errors, drain) count nowhere, the service and total
  // included; re-added, the same Dest counts again.
  const Conn& cp = conns_[c];
  if (!cp.dest || !cp.dest->available) return;
  add(cp.dest->stats);
  add(cp.svc->stats);
  add(total_);
}

void Director::count_in(uint32_t c, uint32_t ip_len) noexcept { count<true>(c, ip_len); }
void Director::count_out(uint32_t c, uint32_t ip_len) noexcept { count<false>(c, ip_len); }

void Director::in_packet(uint32_t c, uint8_t tcp_flags, uint32_t ip_len, Instant now) noexcept {
  Conn& cp = conns_[c];
  count_in(c, ip_len);
  if (cp.proto == IpProto::kTcp) {
    set_tcp_state(c, TcpDir::kInput, tcp_flags, now);  // INPUT_ONLY while NOOUTPUT (DR, TUN)
  } else {
    conns_.set_timeout(c, timeouts_.udp);
  }
  if (sync_) [[unlikely]]
    sync_in_packet(c, now);
}

void Director::out_packet(uint32_t c, uint8_t tcp_flags, uint32_t ip_len, Instant now) noexcept {
  Conn& cp = conns_[c];
  cp.flags &= static_cast<uint16_t>(~conn::kFlagAwaitReply);
  if (cp.proto == IpProto::kTcp) {
    set_tcp_state(c, TcpDir::kOutput, tcp_flags, now);
  } else {
    cp.flags &= static_cast<uint16_t>(~conn::kFlagNoOutput);
    conns_.set_timeout(c, timeouts_.udp);
    assure_template(c);
  }
  count_out(c, ip_len);
}

bool Director::awaiting_reply(const FlowKey& k) const noexcept {
  auto hit = conns_.lookup(k);
  if (!hit || hit->out) return false;
  const Conn& cp = conns_[hit->idx];
  return (cp.flags & conn::kFlagAwaitReply) && cp.state == TcpState::kSynRecv;
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
  tick_estimators(now);
}

}  // namespace vs::ipvs

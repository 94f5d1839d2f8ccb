// Connection sync in the director (net/netfilter/ipvs/ip_vs_sync.c, Linux 6.1): when a master
// hands a connection to its sync daemon (ip_vs_sync_conn_needed), what it sends of it, and how a
// backup applies a received entry (ip_vs_proc_conn). The daemon (src/sync/) makes the messages.
#include <algorithm>
#include <cstdlib>

#include "ipvs/director.hpp"

namespace vs::ipvs {

using conn::Conn;
using conn::TcpState;
namespace flag = wire::sync_flag;

namespace {

uint32_t method_bits(config::Method m) noexcept {
  switch (m) {
    case config::Method::kNat: return flag::kMasq;
    case config::Method::kTun: return flag::kTunnel;
    case config::Method::kDr: return flag::kDroute;
  }
  return flag::kDroute;
}

bool sync_state(TcpState s) noexcept {
  return s == TcpState::kEstablished || s == TcpState::kFinWait || s == TcpState::kClose || s == TcpState::kCloseWait ||
         s == TcpState::kTimeWait;
}

}  // namespace

void Director::sync_in_packet(uint32_t c, Instant now) noexcept {
  // ip_vs_in: a one-packet connection counts as sync_threshold (and is not sent itself, only
  // its template); any other counts its client packets.
  // IPv6 connections, and IPv4 ones to IPv6 reals, are not synced yet (docs/ipv6.md).
  if (conns_[c].flags & (conn::kFlagIpv6 | conn::kFlagDest6)) return;
  const bool one = conns_[c].flags & conn::kFlagOnePacket;
  uint32_t pkts = one ? sync_rules_.threshold : ++conns_.aux(c).in_pkts;
  // ip_vs_sync_conn: the connection, then its controlling template (whose count goes up).
  for (bool first = true;; first = false) {
    const Conn& cp = conns_[c];
    if (!(first && one) && sync_needed(c, pkts, now)) sync_->sync_conn(synced_entry(c), now);
    const uint32_t ctl = cp.control;
    if (ctl == conn::kNone) return;
    pkts = (conns_[ctl].flags & conn::kFlagTemplate) ? ++conns_.aux(ctl).in_pkts : sync_rules_.threshold;
    c = ctl;
  }
}

bool Director::sync_needed(uint32_t c, uint32_t pkts, Instant now) noexcept {
  const Conn& cp = conns_[c];
  conn::ConnAux& a = conns_.aux(c);
  const Duration timeout = conns_.timeout(c);
  const Instant n = now + timeout;                           // the expiry this sync reports
  const int64_t end_us = int64_t{a.sync_end_s} * 1'000'000;  // the expiry last reported
  const SyncRules& r = sync_rules_;
  bool force = false;
  uint8_t retries = 0;
  if (cp.flags & conn::kFlagTemplate) {
    force = false;
  } else if (r.persist_mode && cp.control != conn::kNone && (conns_[cp.control].flags & conn::kFlagTemplate)) {
    return false;  // sync_persist_mode: the template stands for its connections
  } else if (cp.proto == IpProto::kTcp) {
    if (!sync_state(cp.state)) return false;
    force = cp.state != a.old_state;
    if (force && cp.state != TcpState::kEstablished) goto set;  // a closing state: at once
  }
  if (r.refresh_period.us > 0) {
    // Not again while the reported expiry moved less than the refresh period (and half the
    // timeout, at least 10 s), but for sync_retries resends an eighth of the period apart.
    const int64_t diff = std::llabs(n.us - end_us);
    const int64_t min_diff = std::max<int64_t>(timeout.us / 2, Duration::seconds(10).us);
    if (diff < std::min<int64_t>(r.refresh_period.us, min_diff)) {
      if (a.sync_retries >= r.retries) return false;
      if (now.us < end_us - timeout.us + r.refresh_period.us / 8) return false;
      retries = static_cast<uint8_t>(a.sync_retries + 1);
    }
  }
  // The backup's copy expires sync_end; the master's, `timeout` after this packet. The kernel lets
  // a quiet connection synced once expire on the backup while it lives on; vsrouter sends it
  // again once the backup's copy is past half its life.
  if (r.resync_before_expiry && a.sync_end_s != 0 &&
      n.us - end_us >= std::max<int64_t>(timeout.us / 2, Duration::seconds(10).us))
    goto set;
  if (r.period > 0) {
    if (!(cp.flags & conn::kFlagTemplate) && pkts % r.period != r.threshold) return false;
  } else if (r.refresh_period.us == 0 && pkts != r.threshold) {
    return false;
  }
set:
  a.old_state = cp.state;
  a.sync_end_s = static_cast<uint32_t>(n.us / 1'000'000);  // whole seconds (the kernel: jiffies & ~3)
  a.sync_retries = retries;
  return true;
}

wire::SyncEntry Director::synced_entry(uint32_t c) const noexcept {
  const Conn& cp = conns_[c];
  wire::SyncEntry e;
  e.protocol = static_cast<uint8_t>(cp.proto);
  e.flags = method_bits(cp.method);
  if (cp.flags & conn::kFlagNoOutput) e.flags |= flag::kNoOutput;
  if (cp.flags & conn::kFlagInactive) e.flags |= flag::kInactive;
  if (cp.flags & conn::kFlagTemplate) {
    // ip_vs_bind_dest ORs the real's conn_flags into a template as into any connection:
    // INACTIVE (never cleared: a template has no state) and NOOUTPUT for every method but NAT.
    e.flags |= flag::kTemplate | flag::kInactive;
    if (cp.method != config::Method::kNat) e.flags |= flag::kNoOutput;
    e.state = (cp.flags & conn::kFlagAssured) ? 1 : 0;  // IP_VS_CTPL_S_ASSURED
  } else if (cp.proto == IpProto::kTcp) {
    e.state = static_cast<uint16_t>(cp.state);  // the kernel's IP_VS_TCP_S_* numbers
  }
  e.cport = cp.cport;
  e.vport = cp.vport;
  e.dport = cp.dport;
  e.caddr = cp.caddr;
  e.vaddr = cp.vaddr;
  e.daddr = cp.daddr;
  e.timeout_s = static_cast<uint32_t>(conns_.timeout(c).us / 1'000'000);
  return e;
}

SyncApplied Director::apply_synced(const wire::SyncEntry& e, Instant now) noexcept {
  const bool tmpl = e.flags & flag::kTemplate;
  const auto proto = static_cast<IpProto>(e.protocol);
  const bool inactive = e.flags & flag::kInactive;
  uint32_t c = conn::kNone;
  if (!tmpl) {
    const FlowKey k{e.caddr, e.vaddr, e.cport, e.vport, proto};
    if (auto hit = conns_.lookup(k); hit && !hit->out && !(conns_[hit->idx].flags & conn::kFlagTemplate)) {
      c = hit->idx;
      const Conn& cp = conns_[c];
      if (cp.dport != e.dport || cp.daddr != e.daddr) {
        if (inactive) return SyncApplied::kStale;  // the expiry of a connection already replaced
        expire(c, now);                            // it moved to another real on the master
        c = conn::kNone;
      }
    }
  } else {
    if (e.cport != 0) return SyncApplied::kUnsupported;
    c = conns_.find_template(proto, e.caddr, e.vaddr, e.vport);
  }

  SyncApplied result = SyncApplied::kUpdated;
  if (c != conn::kNone) {
    // Only the activity (and sequence data, which vsrouter has no use for) is taken.
    if (!tmpl) set_inactive(conns_[c], inactive);
  } else {
    // ip_vs_find_dest: the service by protocol, address and port (or the address's port-0
    // service), the real by address and port (or port 0). Its method is the connection's.
    Service* svc = find_service(proto, e.vaddr, e.vport);
    if (!svc) return SyncApplied::kNoService;
    Dest* d = find_dest(*svc, e.daddr, e.dport);
    if (!d) return SyncApplied::kNoReal;
    Conn init{};
    init.caddr = e.caddr;
    init.vaddr = e.vaddr;
    init.daddr = e.daddr;
    init.cport = e.cport;
    init.vport = e.vport;
    init.dport = e.dport;
    init.proto = proto;
    init.method = d->method;
    init.svc = svc;
    if (tmpl) init.flags = conn::kFlagTemplate;
    c = new_conn(init, d, timeouts_.tcp_of(TcpState::kNone), now);
    if (c == conn::kNone) return SyncApplied::kTableFull;
    // A synced connection keeps the activity it had on the master (ip_vs_bind_dest).
    if (!tmpl) set_inactive(conns_[c], inactive);
    result = SyncApplied::kCreated;
  }

  Conn& cp = conns_[c];
  conn::ConnAux& a = conns_.aux(c);
  a.in_pkts = sync_rules_.threshold;
  if (tmpl) {
    if (e.state == 1) cp.flags |= conn::kFlagAssured;
  } else if (proto == IpProto::kTcp) {
    cp.state = static_cast<TcpState>(e.state);
    if (cp.state == TcpState::kSynRecv || cp.state == TcpState::kSynAck) conns_.half_open_touch(c, now);
    else conns_.half_open_remove(c);
  }
  a.old_state = cp.state;
  // The master's timeout (version 1), else this director's own for the state (version 0; 3
  // minutes for a template), as ip_vs_proc_conn.
  Duration timeout = Duration::seconds(int64_t{e.timeout_s});
  // A timeout the table cannot take (past its bounded set of timer queues) is replaced the same way.
  if (e.timeout_s == 0 || !conns_.can_time(timeout)) {
    if (tmpl) timeout = Duration::seconds(180);
    else timeout = proto == IpProto::kTcp ? timeouts_.tcp_of(cp.state) : timeouts_.udp;
  }
  conns_.set_timeout(c, timeout);
  conns_.rearm(c, now);
  return result;
}

}  // namespace vs::ipvs

// The director's part of a handover (docs/handover.md): its connection table and counters as
// records for the process that replaces this one, and the same records adopted by that process.
// Adoption binds each entry to this config's service and real as connection sync does
// (ip_vs_find_dest: the service by protocol, address and port or the address's port-0 service;
// the real by address and port, or port 0), but keeps what sync cannot carry: the expiry to the
// microsecond, the forwarding method the connection was made with, the template link, the
// half-open order and the sync master's per-connection state.
#include <algorithm>
#include <numeric>

#include "ipvs/director.hpp"
#include "ipvs/scheduler.hpp"

namespace vs::ipvs {

using conn::Conn;
using conn::TcpState;
using handover::ConnRec;

void Director::snapshot_conns(std::vector<ConnRec>& out) const {
  // Templates first, so that a connection names its template by an earlier index. Their slab
  // indices in slab order (so sorted), each with its record's index: a connection's control is
  // found by binary search (no table-sized index: a handover of a small table stays small).
  std::vector<std::pair<uint32_t, uint32_t>> index;
  auto record_of = [&index](uint32_t slab) {
    auto it = std::lower_bound(index.begin(), index.end(), std::pair<uint32_t, uint32_t>(slab, 0));
    return it != index.end() && it->first == slab ? it->second : UINT32_MAX;
  };
  auto put = [&](uint32_t i, const Conn& cp) {
    const conn::ConnAux& a = conns_.aux(i);
    ConnRec r;
    r.proto = static_cast<uint8_t>(cp.proto);
    r.method = static_cast<uint8_t>(cp.method);
    r.state = static_cast<uint8_t>(cp.state);
    r.old_state = static_cast<uint8_t>(a.old_state);
    if (cp.flags & conn::kFlagTemplate) r.flags |= ConnRec::kTemplate;
    if (cp.flags & conn::kFlagAssured) r.flags |= ConnRec::kAssured;
    if (cp.flags & conn::kFlagInactive) r.flags |= ConnRec::kInactive;
    if (cp.flags & conn::kFlagNoOutput) r.flags |= ConnRec::kNoOutput;
    if (cp.flags & conn::kFlagHalfOpen) r.flags |= ConnRec::kHalfOpen;
    r.caddr = cp.caddr;
    r.vaddr = cp.vaddr;
    r.daddr = cp.daddr;
    r.cport = cp.cport;
    r.vport = cp.vport;
    r.dport = cp.dport;
    r.expires_us = cp.expires.us;
    r.timeout_us = conns_.timeout(i).us;
    r.ho_since_us = a.ho_since.us;
    r.control = cp.control == conn::kNone ? UINT32_MAX : record_of(cp.control);
    r.in_pkts = a.in_pkts;
    r.sync_end_s = a.sync_end_s;
    r.sync_retries = a.sync_retries;
    if (cp.flags & conn::kFlagTemplate) index.emplace_back(i, static_cast<uint32_t>(out.size()));
    out.push_back(r);
  };
  out.reserve(out.size() + conns_.size());
  // A template invalidated (unhashed) but alive still controls its connections: it goes too.
  // IPv6 connections, and IPv4 ones to IPv6 reals, are not handed over yet (the records hold
  // IPv4 addresses; docs/ipv6.md).
  constexpr uint16_t kSkip = conn::kFlagOnePacket | conn::kFlagIpv6 | conn::kFlagDest6;
  conns_.for_each([&](uint32_t i, const Conn& cp) {
    if ((cp.flags & conn::kFlagTemplate) && !(cp.flags & kSkip)) put(i, cp);
  });
  conns_.for_each([&](uint32_t i, const Conn& cp) {
    if (!(cp.flags & (conn::kFlagTemplate | kSkip))) put(i, cp);
  });
}

void Director::snapshot_stats(std::vector<handover::StatsRec>& out, uint64_t (&total)[5]) const {
  auto rec = [](const Service& s, const Stats& st) {
    handover::StatsRec r;
    r.proto = static_cast<uint8_t>(s.protocol);
    r.vip = s.vip.v4();  // the records are IPv4 (handover/state.hpp); IPv6 services are not built yet
    r.vport = s.port;
    r.conns = st.conns;
    r.inpkts = st.inpkts;
    r.outpkts = st.outpkts;
    r.inbytes = st.inbytes;
    r.outbytes = st.outbytes;
    return r;
  };
  for (const auto& s : services_) {
    if (!s->vip.is_v4()) continue;  // IPv4 records only (docs/ipv6.md: not handed over yet)
    out.push_back(rec(*s, s->stats));
    for (const Dest* d : s->dests) {
      if (!d->addr.is_v4()) continue;  // an IPv6 real behind a tunnel: not handed over yet
      handover::StatsRec r = rec(*s, d->stats);
      r.real = true;
      r.addr = d->addr.v4();
      r.port = d->port;
      out.push_back(r);
    }
  }
  total[0] = total_.conns;
  total[1] = total_.inpkts;
  total[2] = total_.outpkts;
  total[3] = total_.inbytes;
  total[4] = total_.outbytes;
}

Director::Adopted Director::adopt_conns(std::span<const ConnRec> recs) noexcept {
  Adopted out;
  // The table's timer queues are FIFOs in expiry order per timeout (conn_table.hpp): entries go
  // in by expiry, each created "at" expiry - timeout so that its expiry is exactly the old one.
  std::vector<uint32_t> order(recs.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return recs[a].expires_us < recs[b].expires_us; });
  std::vector<uint32_t> made(recs.size(), conn::kNone);
  for (uint32_t i : order) {
    const ConnRec& r = recs[i];
    const auto proto = static_cast<IpProto>(r.proto);
    const bool tmpl = r.flags & ConnRec::kTemplate;
    if ((proto != IpProto::kTcp && proto != IpProto::kUdp) || r.method > static_cast<uint8_t>(config::Method::kTun) ||
        r.state >= conn::kTcpStateCount || r.old_state >= conn::kTcpStateCount || r.timeout_us <= 0 ||
        (tmpl && r.cport != 0) || !conns_.can_time(Duration::micros(r.timeout_us))) {
      out.invalid++;
      continue;
    }
    Service* svc = find_service(proto, r.vaddr, r.vport);
    if (!svc) {
      out.no_service++;
      continue;
    }
    Dest* d = find_dest(*svc, r.daddr, r.dport);
    if (!d) {
      out.no_real++;
      continue;
    }
    Conn init{};
    init.caddr = r.caddr;
    init.vaddr = r.vaddr;
    init.daddr = r.daddr;
    init.cport = r.cport;
    init.vport = r.vport;
    init.dport = r.dport;
    init.proto = proto;
    init.method = static_cast<config::Method>(r.method);  // the method it was made with
    init.svc = svc;
    if (tmpl) init.flags = conn::kFlagTemplate;
    const Duration timeout = Duration::micros(r.timeout_us);
    const uint32_t c = conns_.create(init, timeout, Instant::from_micros(r.expires_us - r.timeout_us));
    if (c == conn::kNone) {
      out.full++;
      continue;
    }
    svc->refs++;
    bind(conns_[c], d);
    Conn& cp = conns_[c];
    if (tmpl) {
      if (r.flags & ConnRec::kAssured) cp.flags |= conn::kFlagAssured;
    } else {
      cp.state = static_cast<TcpState>(r.state);
      set_inactive(cp, r.flags & ConnRec::kInactive);
      if (!(r.flags & ConnRec::kNoOutput)) cp.flags &= static_cast<uint16_t>(~conn::kFlagNoOutput);
      else cp.flags |= conn::kFlagNoOutput;
    }
    conn::ConnAux& a = conns_.aux(c);
    a.in_pkts = r.in_pkts;
    a.old_state = static_cast<TcpState>(r.old_state);
    a.sync_end_s = r.sync_end_s;
    a.sync_retries = r.sync_retries;
    made[i] = c;
    out.taken++;
  }
  // The half-open list, least recently active first, as it was.
  std::vector<uint32_t> ho;
  for (uint32_t i = 0; i < recs.size(); ++i)
    if (made[i] != conn::kNone && (recs[i].flags & ConnRec::kHalfOpen)) ho.push_back(i);
  std::stable_sort(ho.begin(), ho.end(),
                   [&](uint32_t a, uint32_t b) { return recs[a].ho_since_us < recs[b].ho_since_us; });
  for (uint32_t i : ho) conns_.half_open_touch(made[i], Instant::from_micros(recs[i].ho_since_us));
  // Template links (decode() checked that each names an earlier template).
  for (uint32_t i = 0; i < recs.size(); ++i) {
    const uint32_t t = recs[i].control;
    if (made[i] == conn::kNone || t == UINT32_MAX || t >= recs.size() || made[t] == conn::kNone) continue;
    if (!(conns_[made[t]].flags & conn::kFlagTemplate)) continue;
    conns_[made[i]].control = made[t];
    conns_.aux(made[t]).n_control++;
  }
  return out;
}

void Director::snapshot_sched(std::vector<handover::SchedRec>& out) const {
  for (const auto& s : services_) {
    if (!s->sched || !s->vip.is_v4()) continue;
    std::vector<int64_t> v = s->sched->state();
    if (v.empty()) continue;
    out.push_back({static_cast<uint8_t>(s->protocol), s->vip.v4(), s->port, s->scheduler, std::move(v)});
  }
}

void Director::adopt_sched(std::span<const handover::SchedRec> recs) noexcept {
  for (const handover::SchedRec& r : recs) {
    Service* svc = find_exact(static_cast<IpProto>(r.proto), r.vip, r.vport);
    if (svc && svc->sched && svc->scheduler == r.scheduler) svc->sched->set_state(*svc, r.values);
  }
}

void Director::adopt_stats(std::span<const handover::StatsRec> recs, const uint64_t (&total)[5]) noexcept {
  auto set = [](Stats& st, const handover::StatsRec& r) {
    st.conns = r.conns;
    st.inpkts = r.inpkts;
    st.outpkts = r.outpkts;
    st.inbytes = r.inbytes;
    st.outbytes = r.outbytes;
  };
  for (const handover::StatsRec& r : recs) {
    Service* svc = find_exact(static_cast<IpProto>(r.proto), r.vip, r.vport);
    if (!svc) continue;
    if (!r.real) set(svc->stats, r);
    else if (Dest* d = svc->find_real(r.addr, r.port)) set(d->stats, r);
  }
  total_.conns = total[0];
  total_.inpkts = total[1];
  total_.outpkts = total[2];
  total_.inbytes = total[3];
  total_.outbytes = total[4];
}

}  // namespace vs::ipvs

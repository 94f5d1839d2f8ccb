// The engine's state for a handover (docs/handover.md): what `vsrouter run --takeover` receives
// from the process it replaces, and how it fits it to its own config. The records are plain data
// (handover/state.hpp); the daemon moves them (tap/handover.cpp).
#include <string>

#include "base/version.hpp"
#include "engine.hpp"

namespace vs {

handover::State Engine::snapshot(Instant now) const {
  handover::State s;
  s.now_us = now.us;
  s.writer = std::string("vsrouter ") + build::kVersion + " (" + build::kRevision + ")";
  director_.snapshot_conns(s.conns);
  director_.snapshot_stats(s.stats, s.total);
  director_.snapshot_sched(s.sched);
  for (uint32_t i : neigh_.sorted()) {
    const NeighTable::Entry& e = neigh_.entry(i);
    if (e.state != NeighTable::State::kReachable && e.state != NeighTable::State::kProbe) continue;
    s.neigh.push_back({cfg_->interfaces[e.iface].name, e.ip, e.mac, e.expires.us});
  }
  const auto& checkers = health_.checkers();
  for (uint32_t c = 0; c < checkers.size(); ++c) {
    const check::Checker& k = checkers[c];
    const check::RealHealth& rh = health_.reals()[k.real];
    handover::CheckRec r;
    r.proto = static_cast<uint8_t>(rh.protocol);
    r.vip = rh.vip;
    r.vport = rh.vport;
    r.raddr = rh.real.addr.v4();
    r.rport = rh.real.port;
    r.position = c - rh.first_checker;
    r.type = static_cast<uint8_t>(k.cfg.type);
    r.up = k.up;
    r.succeeded_once = k.succeeded_once;
    r.ok_run = k.ok_run;
    r.fail_run = k.fail_run;
    r.transitions = k.transitions;
    r.probes = k.probes;
    // A probe in flight is not handed over: the new process starts that check again at once.
    r.next_check_us = k.phase == check::Checker::Phase::kIdle ? k.next_check.us : now.us;
    s.checks.push_back(r);
  }
  for (const vrrp::Instance& in : vrrp_.instances()) s.vrrp.push_back({in.cfg.name, static_cast<uint8_t>(in.state)});
  for (size_t r = 0; r < kDropReasonCount; ++r)
    if (drops_.n[r] != 0) s.drops.emplace_back(std::string(kDropReasons[r].name), drops_.n[r]);
  return s;
}

Engine::AdoptReport Engine::adopt(const handover::State& s, Instant now) {
  AdoptReport rep;
  now_ = now;
  // Health first: the director serves the reals the checkers had in service.
  const auto& checkers = health_.checkers();
  for (const handover::CheckRec& r : s.checks) {
    bool found = false;
    for (uint32_t c = 0; c < checkers.size() && !found; ++c) {
      const check::Checker& k = checkers[c];
      const check::RealHealth& rh = health_.reals()[k.real];
      if (static_cast<uint8_t>(rh.protocol) != r.proto || rh.vip != r.vip || rh.vport != r.vport ||
          rh.real.addr != r.raddr || rh.real.port != r.rport || c - rh.first_checker != r.position ||
          static_cast<uint8_t>(k.cfg.type) != r.type)
        continue;
      health_.adopt(c, r.up, r.succeeded_once, r.ok_run, r.fail_run, r.transitions, r.probes,
                    Instant::from_micros(r.next_check_us));
      found = true;
    }
    found ? rep.checkers++ : rep.checkers_skipped++;
  }
  health_.settle_adopted();
  director_.apply_config(*health_.effective(*cfg_));

  rep.conns = director_.adopt_conns(s.conns);
  director_.adopt_stats(s.stats, s.total);
  director_.adopt_sched(s.sched);

  for (const handover::NeighRec& n : s.neigh) {
    uint32_t iface = UINT32_MAX;
    for (uint32_t i = 0; i < cfg_->interfaces.size(); ++i)
      if (cfg_->interfaces[i].name == n.iface) iface = i;
    // learn() makes the entry reachable until now + reachable: "now" is set so that it ends
    // when it did (an entry past its time is re-confirmed at its next use, as before).
    if (iface == UINT32_MAX || n.mac.is_zero() || n.mac.is_multicast() ||
        neigh_.learn(iface, n.ip, n.mac, Instant::from_micros(n.expires_us - neigh_.params().reachable.us), true) ==
            NeighTable::kNone) {
      rep.neigh_skipped++;
      continue;
    }
    rep.neigh++;
  }

  for (const handover::VrrpRec& v : s.vrrp) {
    bool found = false;
    for (uint32_t i = 0; i < vrrp_.instances().size() && !found; ++i) {
      if (vrrp_.instances()[i].cfg.name != v.name) continue;
      const auto st = static_cast<vrrp::State>(v.state);
      if (st == vrrp::State::kMaster || st == vrrp::State::kBackup) vrrp_.resume(i, st);
      found = true;
    }
    found ? rep.vrrp++ : rep.vrrp_skipped++;
  }

  for (const auto& [name, n] : s.drops)
    for (size_t r = 0; r < kDropReasonCount; ++r)
      if (kDropReasons[r].name == name) drops_.n[r] = n;
  // The IPv6 addresses were the replaced process's, its DAD done: they are ours at once (a new
  // DAD would leave IPv6 without an address for a second). Its neighbour cache is not carried:
  // next hops are solicited again on first use.
  for (Addr6& a : addrs6_)
    if (a.state == Addr6::State::kNew) a.state = Addr6::State::kPreferred;
  ip6_started_ = true;
  return rep;
}

}  // namespace vs

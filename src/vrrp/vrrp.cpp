#include "vrrp/vrrp.hpp"

#include <algorithm>
#include <cstring>

#include "wire/ethernet.hpp"
#include "wire/vrrp.hpp"

namespace vs::vrrp {

namespace {

constexpr size_t kEth = wire::EthernetView<uint8_t>::kHeaderLen;
constexpr size_t kIp = 20;
constexpr uint8_t kTtl = 255;   // RFC 5798 §5.1.1.3
constexpr uint8_t kTos = 0xc0;  // keepalived's adverts: precedence "internetwork control"
constexpr size_t kEventCap = 1024;
const Ipv4Addr kGroup = Ipv4Addr::from_octets(224, 0, 0, 18);

}  // namespace

std::string_view state_name(State s) noexcept {
  switch (s) {
    case State::kInit: return "INIT";
    case State::kBackup: return "BACKUP";
    case State::kMaster: return "MASTER";
    case State::kFault: return "FAULT";
  }
  return "?";
}

std::string_view cause_name(Cause c) noexcept {
  switch (c) {
    case Cause::kStart: return "start";
    case Cause::kMasterDown: return "master_down";
    case Cause::kHigherPriority: return "higher_priority";
    case Cause::kFault: return "fault";
    case Cause::kFaultCleared: return "fault_cleared";
    case Cause::kSyncGroup: return "sync_group";
    case Cause::kStop: return "stop";
    case Cause::kHandover: return "handover";
  }
  return "?";
}

Vrrp::Vrrp(const config::Config& cfg, VrrpNet& net) : net_(net) {
  buf_.resize(kEth + kIp + wire::VrrpView<uint8_t>::length_for(2, 255));
  events_.reserve(kEventCap);
  group_of_.assign(cfg.vrrp_instances.size(), -1);
  for (const auto& g : cfg.vrrp_sync_groups) {
    for (uint32_t m : g.members) group_of_[m] = static_cast<int32_t>(groups_.size());
    groups_.push_back(g.members);
  }
  for (const auto& c : cfg.vrrp_instances) {
    Instance in;
    in.cfg = c;
    in.priority = c.priority;
    in.master_adver_cs = c.advert_int_cs;
    const config::Interface& itf = cfg.interfaces[c.interface];
    in.src = c.unicast_src.is_unspecified() ? itf.addresses.front().addr : c.unicast_src;
    in.dst = c.unicast_peers.empty() ? kGroup : c.unicast_peers.front();
    in.mac = c.use_vmac ? MacAddr{{0x00, 0x00, 0x5e, 0x00, 0x01, c.vrid}} : itf.mac;  // RFC 5798 §7.3
    in.iface_up.assign(c.track_interfaces.size(), true);
    in.svc_up.assign(c.track_services.size(), true);
    insts_.push_back(std::move(in));
  }
  for (const auto& c : cfg.vrrp_scripts) {
    Script sc;
    sc.cfg = c;
    // keepalived (vrrp_init_script): one success is enough to come up; init_fail starts down.
    sc.known = c.init_fail;
    sc.result = c.init_fail ? 0 : c.rise - 1;
    scripts_.push_back(std::move(sc));
  }
  for (const auto& c : cfg.vrrp_instances)
    for (const auto& t : c.track_scripts) scripts_[t.index].tracked = true;
  script_events_.reserve(kEventCap);
}

Duration Vrrp::advert_interval(const Instance& in) const noexcept {
  return Duration::micros(int64_t{in.cfg.advert_int_cs} * 10000);
}

Duration Vrrp::skew_time(const Instance& in) noexcept {
  return skew_for(in, in.cfg.priority == 255 ? 255 : in.priority);
}

Duration Vrrp::skew_for(const Instance& in, int64_t priority) noexcept {
  if (in.cfg.version == 2) return Duration::micros((256 - priority) * 1000000 / 256);
  return Duration::micros((256 - priority) * int64_t{in.master_adver_cs} * 10000 / 256);
}

Duration Vrrp::master_down_interval(const Instance& in) noexcept {
  return Duration::micros(3 * int64_t{in.master_adver_cs} * 10000 + skew_time(in).us);
}

void Vrrp::start(Instant now) noexcept {
  if (started_) return;
  started_ = true;
  for (uint32_t s = 0; s < scripts_.size(); ++s) {
    if (!scripts_[s].tracked) continue;
    scripts_[s].next_run = now;  // keepalived runs each tracked script at once
    script_timer(s, now);
  }
  // Every tracker first: a faulted member takes its whole sync group to FAULT, whatever the order.
  for (uint32_t i = 0; i < insts_.size(); ++i) {
    insts_[i].started = now;
    weigh(i);
  }
  for (uint32_t i = 0; i < insts_.size(); ++i)
    if (insts_[i].fault && insts_[i].state == State::kInit && !waiting(i)) enter_fault(i, Cause::kFault, now);
  for (uint32_t i = 0; i < insts_.size(); ++i)
    if (insts_[i].state == State::kInit && !(insts_[i].resume == State::kInit && waiting(i))) begin(i, now);
}

void Vrrp::begin(uint32_t i, Instant now) noexcept {
  Instance& in = insts_[i];
  if (in.state != State::kInit) return;  // faulted, or a sync group member already moved it
  if (in.fault || group_fault(i)) {
    enter_fault(i, Cause::kFault, now);
  } else if (in.resume == State::kMaster) {
    become_master(i, Cause::kHandover, now);
  } else if (in.resume == State::kBackup) {
    become_backup(i, Cause::kHandover, now);
  } else if (in.cfg.priority == 255) {
    become_master(i, Cause::kStart, now);
  } else {
    become_backup(i, Cause::kStart, now);
    // keepalived: `state MASTER` waits one advert interval and the least skew (that of
    // priority 255: VRRP_TIMER_SKEW_MIN) for a master to show itself, not three intervals.
    if (in.cfg.initial_master)
      in.down_at = now + Duration::micros(int64_t{in.master_adver_cs} * 10000 + skew_for(in, 255).us);
  }
}

bool Vrrp::waiting(uint32_t i) const noexcept {
  auto pending = [this](uint32_t m) {
    for (const auto& t : insts_[m].cfg.track_scripts)
      if (t.weight == 0 && !scripts_[t.index].known) return true;
    return false;
  };
  if (const auto g = sync_group(i)) return std::any_of(groups_[*g].begin(), groups_[*g].end(), pending);
  return pending(i);
}

std::optional<Instant> Vrrp::next_deadline() const noexcept {
  if (!started_) return insts_.empty() ? std::nullopt : std::optional<Instant>(Instant{});  // start me
  std::optional<Instant> t;
  auto earliest = [&t](const std::optional<Instant>& x) {
    if (x && (!t || *x < *t)) t = x;
  };
  for (const Instance& in : insts_) {
    earliest(in.advert_at);
    earliest(in.down_at);
    earliest(in.garp_at);
    earliest(in.lower_garp_at);
  }
  for (const Script& sc : scripts_) {
    earliest(sc.next_run);
    earliest(sc.deadline);
  }
  return t;
}

void Vrrp::on_timer(Instant now) noexcept {
  start(now);
  for (uint32_t s = 0; s < scripts_.size(); ++s) script_timer(s, now);
  for (uint32_t i = 0; i < insts_.size(); ++i) {
    Instance& in = insts_[i];
    if (in.down_at && *in.down_at <= now) master_down(i, *in.down_at);
    if (in.advert_at && *in.advert_at <= now) {
      const Instant due = *in.advert_at;
      send_advert(i, in.priority, due);
      in.advert_at = due + advert_interval(in);
    }
    if (in.garp_at && *in.garp_at <= now) {
      const Instant due = *in.garp_at;
      in.garp_at.reset();
      send_garps(i, in.cfg.garp_master_repeat, due);
    }
    if (in.lower_garp_at && *in.lower_garp_at <= now) {
      const Instant due = *in.lower_garp_at;
      in.lower_garp_at.reset();
      send_garps(i, in.cfg.garp_lower_prio_repeat, due);
    }
  }
}

Reject Vrrp::on_advert(uint32_t iface, wire::Ipv4View<const uint8_t> ip, Instant now) noexcept {
  start(now);
  auto v = wire::VrrpView<const uint8_t>::parse(ip.payload());
  if (!v) return Reject::kMalformed;
  if (ip.ttl() != kTtl) return Reject::kTtl;
  if (!v->verify_checksum_any(ip.src(), ip.dst())) return Reject::kChecksum;
  uint32_t i = 0;
  while (i < insts_.size() && !(insts_[i].cfg.interface == iface && insts_[i].cfg.vrid == v->vrid())) ++i;
  if (i == insts_.size()) return Reject::kOtherVrid;
  Instance& in = insts_[i];
  const config::VrrpInstance& c = in.cfg;
  if (!c.unicast_peers.empty() &&
      std::find(c.unicast_peers.begin(), c.unicast_peers.end(), ip.src()) == c.unicast_peers.end())
    return Reject::kPeer;
  if (v->version() != c.version) return Reject::kMismatch;
  if (c.version == 2) {
    // RFC 3768 §7.1: the interval must be ours; authentication as configured (keepalived's PASS:
    // the password in the 8 bytes, zero-padded).
    if (v->interval_cs() != c.advert_int_cs) return Reject::kMismatch;
    uint8_t want[8] = {};
    std::memcpy(want, c.auth_pass.data(), std::min<size_t>(c.auth_pass.size(), 8));
    const uint8_t type = c.auth_pass.empty() ? wire::VrrpView<uint8_t>::kAuthNone : wire::VrrpView<uint8_t>::kAuthPass;
    if (v->auth_type() != type) return Reject::kMismatch;
    if (type == wire::VrrpView<uint8_t>::kAuthPass && !std::equal(want, want + 8, v->auth_data().begin()))
      return Reject::kMismatch;
  }
  // The address list must be ours (keepalived, unless skip_check_adv_addr).
  if (v->count() != c.addresses.size()) return Reject::kMismatch;
  for (size_t k = 0; k < v->count(); ++k)
    if (std::find(c.addresses.begin(), c.addresses.end(), v->address(k)) == c.addresses.end()) return Reject::kMismatch;
  in.adverts_received++;
  const uint8_t prio = v->priority();
  switch (in.state) {
    case State::kBackup:
      if (prio == 0) {
        in.down_at = now + skew_time(in);  // the master resigned: take over after Skew_Time
      } else if (!c.preempt || prio >= in.priority || now < in.started + c.preempt_delay) {
        if (c.version == 3) in.master_adver_cs = v->interval_cs();
        in.down_at = now + master_down_interval(in);
        in.want_master = false;  // a master we accept is here
      }
      // else: a lower priority while we may preempt: discarded; Master_Down fires and we take over.
      break;
    case State::kMaster:
      if (prio == 0) {
        send_advert(i, in.priority, now);  // RFC 5798 §6.4.3: answer a resigning peer at once
        in.advert_at = now + advert_interval(in);
      } else if (prio > in.priority || (prio == in.priority && ip.src().v > in.src.v)) {
        if (c.version == 3) in.master_adver_cs = v->interval_cs();
        // Two masters (a split brain healing): if this advert reached us first, the other never
        // hears us, and the hosts that learnt our MAC would keep it; our own advert makes it
        // send its gratuitous ARPs (assert_master).
        if (c.higher_prio_send_advert) send_advert(i, in.priority, now);
        become_backup(i, Cause::kHigherPriority, now, ip.src());
      } else {
        assert_master(i, now);
      }
      break;
    case State::kInit:
    case State::kFault: break;
  }
  return Reject::kNone;
}

void Vrrp::send_advert(uint32_t i, uint8_t priority, Instant now) noexcept {
  Instance& in = insts_[i];
  const config::VrrpInstance& c = in.cfg;
  const auto count = static_cast<uint8_t>(c.addresses.size());
  const size_t len = wire::VrrpView<uint8_t>::length_for(c.version, count);
  std::span<uint8_t> out(buf_.data(), kEth + kIp + len);
  std::fill(out.begin(), out.end(), uint8_t{0});
  auto v = wire::VrrpView<uint8_t>::unchecked(out.subspan(kEth + kIp));
  const uint8_t auth = c.auth_pass.empty() ? wire::VrrpView<uint8_t>::kAuthNone : wire::VrrpView<uint8_t>::kAuthPass;
  v.fill(c.version, c.vrid, priority, count, auth, c.advert_int_cs);
  for (size_t k = 0; k < count; ++k) v.set_address(k, c.addresses[k]);
  if (c.version == 2) std::memcpy(v.auth_data().data(), c.auth_pass.data(), std::min<size_t>(c.auth_pass.size(), 8));
  // Each destination its own datagram (unicast peers), the checksum over its own pseudo-header.
  const size_t n = c.unicast_peers.empty() ? 1 : c.unicast_peers.size();
  for (size_t k = 0; k < n; ++k) {
    const Ipv4Addr dst = c.unicast_peers.empty() ? kGroup : c.unicast_peers[k];
    v.fill_checksum(in.src, dst, !c.v3_checksum_as_v2);
    wire::Ipv4View<uint8_t>::unchecked(out.subspan(kEth))
        .fill(kTos, static_cast<uint16_t>(kIp + len), 0, 0, kTtl, IpProto::kVrrp, in.src, dst);
    net_.send_advert(c.interface, out, in.mac, now);
  }
  in.adverts_sent++;
  if (priority == 0) in.priority_zero_sent++;
}

void Vrrp::send_garps(uint32_t i, uint32_t count, Instant now) noexcept {
  const Instance& in = insts_[i];
  for (uint32_t r = 0; r < count; ++r)
    for (Ipv4Addr a : in.cfg.addresses) net_.send_garp(in.cfg.interface, a, in.mac, now);
}

void Vrrp::master_down(uint32_t i, Instant now) noexcept {
  Instance& in = insts_[i];
  if (const auto g = sync_group(i)) {
    for (uint32_t m : groups_[*g]) {
      const Instance& o = insts_[m];
      if (m == i || o.state == State::kMaster || o.want_master) continue;
      // Another member still hears its master: wait (keepalived re-arms the whole interval)
      // rather than take the group over and be pushed back by that member (thrashing).
      in.want_master = true;
      in.down_at = now + master_down_interval(in);
      return;
    }
  }
  become_master(i, Cause::kMasterDown, now);
}

void Vrrp::assert_master(uint32_t i, Instant now) noexcept {
  // A lower-priority master means the two did not hear each other (a split brain healing): an
  // advert at once, so it backs off (RFC 9568; keepalived unless lower_prio_no_advert), and
  // gratuitous ARPs, since the hosts on its side learnt its MAC; in a sync group every master
  // member's too, whose peers back off with this one (keepalived vrrp.c, vrrp_state_master_rx).
  Instance& in = insts_[i];
  send_advert(i, in.priority, now);
  in.advert_at = now + advert_interval(in);
  const auto g = sync_group(i);
  for (uint32_t j = 0; j < insts_.size(); ++j) {
    if (j != i && (!g || sync_group(j) != g)) continue;
    Instance& m = insts_[j];
    if (m.state != State::kMaster || m.cfg.garp_lower_prio_repeat == 0) continue;
    send_garps(j, m.cfg.garp_lower_prio_repeat, now);
    if (m.cfg.garp_lower_prio_delay.us > 0) m.lower_garp_at = now + m.cfg.garp_lower_prio_delay;
  }
}

void Vrrp::become(uint32_t i, State to, Cause why, Instant now, Ipv4Addr peer) noexcept {
  Instance& in = insts_[i];
  const State from = in.state;
  if (from == to) return;
  in.state = to;
  if (events_.size() < kEventCap) events_.push_back({now, i, from, to, why, in.priority, peer});
  if (from == State::kMaster || to == State::kMaster) net_.ownership_changed(i);
  follow(i, now);
}

void Vrrp::become_master(uint32_t i, Cause why, Instant now, Ipv4Addr peer) noexcept {
  Instance& in = insts_[i];
  in.down_at.reset();
  in.want_master = false;
  in.became_master++;
  // RFC 5798 §6.4.2: an advert, then the gratuitous ARPs; keepalived repeats the ARPs
  // garp_master_repeat times now and again after garp_master_delay.
  send_advert(i, in.priority, now);
  in.advert_at = now + advert_interval(in);
  send_garps(i, in.cfg.garp_master_repeat, now);
  if (in.cfg.garp_master_delay.us > 0) in.garp_at = now + in.cfg.garp_master_delay;
  become(i, State::kMaster, why, now, peer);
}

void Vrrp::become_backup(uint32_t i, Cause why, Instant now, Ipv4Addr peer) noexcept {
  Instance& in = insts_[i];
  in.advert_at.reset();
  in.garp_at.reset();
  in.lower_garp_at.reset();
  in.down_at = now + master_down_interval(in);
  in.want_master = false;
  become(i, State::kBackup, why, now, peer);
}

void Vrrp::enter_fault(uint32_t i, Cause why, Instant now) noexcept {
  Instance& in = insts_[i];
  if (in.state == State::kMaster) send_advert(i, 0, now);  // keepalived resigns on fault
  in.advert_at.reset();
  in.garp_at.reset();
  in.lower_garp_at.reset();
  in.down_at.reset();
  in.want_master = false;
  become(i, State::kFault, why, now, {});
}

void Vrrp::follow(uint32_t i, Instant now) noexcept {
  if (following_ || group_of_[i] < 0) return;
  following_ = true;
  const State to = insts_[i].state;
  for (uint32_t m : groups_[static_cast<size_t>(group_of_[i])]) {
    if (m == i || insts_[m].state == to || (insts_[m].state == State::kInit && waiting(m))) continue;
    if (to == State::kMaster) become_master(m, Cause::kSyncGroup, now);
    else if (to == State::kBackup) become_backup(m, Cause::kSyncGroup, now);
    else if (to == State::kFault) enter_fault(m, Cause::kSyncGroup, now);
    else become(m, to, Cause::kSyncGroup, now, {});
  }
  following_ = false;
}

void Vrrp::weigh(uint32_t i) noexcept {
  Instance& in = insts_[i];
  bool fault = false;
  int32_t delta = 0;
  // keepalived (vrrp_track.c): an unweighted tracker faults the instance while down (with
  // reverse: while up); a positive weight is added while up, a negative one while down, each
  // negated with reverse.
  auto apply = [&](const config::VrrpTrack& t, bool up) {
    const int32_t m = t.reverse ? -1 : 1;
    if (t.weight == 0 && up == t.reverse) fault = true;
    if (t.weight > 0 && up) delta += t.weight * m;
    if (t.weight < 0 && !up) delta += t.weight * m;
  };
  for (size_t k = 0; k < in.cfg.track_interfaces.size(); ++k) apply(in.cfg.track_interfaces[k], in.iface_up[k]);
  for (size_t k = 0; k < in.cfg.track_services.size(); ++k) apply(in.cfg.track_services[k], in.svc_up[k]);
  for (const config::VrrpTrack& t : in.cfg.track_scripts)
    if (scripts_[t.index].known) apply(t, scripts_[t.index].up);  // undecided: no effect yet
  in.fault = fault;
  in.track_delta = delta;
  // keepalived keeps an owner's 255 and clamps the others to 1..254.
  in.priority =
      in.cfg.priority == 255 ? 255 : static_cast<uint8_t>(std::clamp<int32_t>(in.cfg.priority + delta, 1, 254));
}

bool Vrrp::group_fault(uint32_t i) const noexcept {
  const auto g = sync_group(i);
  if (!g) return insts_[i].fault;
  return std::any_of(groups_[*g].begin(), groups_[*g].end(), [this](uint32_t m) { return insts_[m].fault; });
}

void Vrrp::retrack(uint32_t i, Instant now) noexcept {
  Instance& in = insts_[i];
  const int64_t mdi_before = master_down_interval(in).us;
  weigh(i);
  // keepalived (vrrp_track.c, vrrp_set_effective_priority): a backup's Master_Down timer moves by
  // as much as its Master_Down_Interval changed with the priority (Skew_Time).
  if (in.state == State::kBackup && in.down_at)
    in.down_at = *in.down_at + Duration::micros(master_down_interval(in).us - mdi_before);
  if (in.state == State::kInit) {  // waiting for its scripts' first verdicts (or stopped)
    if (started_ && !stopped_ && !waiting(i)) begin(i, now);
    return;
  }
  // A sync group leaves FAULT when none of its members is faulted (keepalived's num_member_fault).
  if (in.fault && in.state != State::kFault) enter_fault(i, Cause::kFault, now);
  else if (!group_fault(i) && in.state == State::kFault) {
    if (in.cfg.priority == 255) become_master(i, Cause::kFaultCleared, now);
    else become_backup(i, Cause::kFaultCleared, now);
  }
}

void Vrrp::set_tracked(bool service, uint32_t index, bool up, Instant now) noexcept {
  for (uint32_t i = 0; i < insts_.size(); ++i) {
    Instance& in = insts_[i];
    const auto& tracks = service ? in.cfg.track_services : in.cfg.track_interfaces;
    auto& state = service ? in.svc_up : in.iface_up;
    bool changed = false;
    for (size_t k = 0; k < tracks.size(); ++k)
      if (tracks[k].index == index && state[k] != up) state[k] = up, changed = true;
    if (changed && in.state != State::kInit) retrack(i, now);
  }
}

void Vrrp::stop(Instant now) noexcept {
  started_ = true;  // a stopped instance does not start again
  stopped_ = true;
  following_ = true;  // every instance stops on its own
  for (uint32_t s = 0; s < scripts_.size(); ++s) {
    Script& sc = scripts_[s];
    if (sc.deadline) net_.stop_vrrp_script(s);
    sc.deadline.reset();
    sc.next_run.reset();
  }
  for (uint32_t i = 0; i < insts_.size(); ++i) {
    Instance& in = insts_[i];
    if (in.state == State::kMaster) send_advert(i, 0, now);
    in.advert_at.reset();
    in.down_at.reset();
    in.garp_at.reset();
    in.lower_garp_at.reset();
    become(i, State::kInit, Cause::kStop, now, {});
  }
  following_ = false;
}

std::string Vrrp::event_text(const Event& e) const {
  std::string t = "VRRP " + insts_[e.instance].cfg.name + ": " + std::string(state_name(e.from)) + " -> " +
                  std::string(state_name(e.to)) + " (" + std::string(cause_name(e.cause));
  if (!e.peer.is_unspecified()) t += " " + e.peer.str();
  t += ", priority " + std::to_string(e.priority) + ")";
  return t;
}

void Vrrp::script_timer(uint32_t s, Instant now) noexcept {
  Script& sc = scripts_[s];
  if (sc.deadline && *sc.deadline <= now) {
    // keepalived (vrrp_script_child_thread): a run killed at its timeout is a failure.
    const Instant due = *sc.deadline;
    sc.deadline.reset();
    net_.stop_vrrp_script(s);
    sc.timeouts++;
    script_result(s, false, -1, true, due);
  }
  if (sc.next_run && *sc.next_run <= now) {
    const Instant due = *sc.next_run;
    // Every interval from the first run, whatever a run lasts; missed intervals are not made up.
    sc.next_run = due + sc.cfg.interval;
    if (*sc.next_run <= now) sc.next_run = now + sc.cfg.interval;
    if (sc.deadline) {
      sc.skipped++;  // keepalived: "Track script ... is already running, expect idle - skipping run"
      return;
    }
    sc.runs++;
    sc.deadline = due + (sc.cfg.timeout.us > 0 ? sc.cfg.timeout : sc.cfg.interval);
    net_.run_vrrp_script(s);
  }
}

void Vrrp::script_exited(uint32_t s, int status, Instant now) noexcept {
  if (s >= scripts_.size() || !scripts_[s].deadline) return;  // stopped at its timeout, or not ours
  scripts_[s].deadline.reset();
  script_result(s, status == 0, status, false, now);
}

void Vrrp::script_result(uint32_t s, bool ok, int status, bool timed_out, Instant now) noexcept {
  Script& sc = scripts_[s];
  sc.last_status = status;
  if (!ok) sc.failures++;
  // keepalived's counter (vrrp_scheduler.c, vrrp_script_child_thread): successes climb to
  // rise+fall-1, failures fall to 0; the verdict flips on reaching `rise` going up and on
  // falling below it going down. The first run decides either way.
  const bool was_up = sc.up, was_known = sc.known;
  const uint32_t top = sc.cfg.rise + sc.cfg.fall - 1;
  if (ok) {
    if (sc.result + 1 < sc.cfg.rise) {
      sc.result++;
    } else if (sc.result != top) {
      if (sc.result < sc.cfg.rise) sc.up = true;
      sc.result = top;
    }
  } else if (sc.result > sc.cfg.rise) {
    sc.result--;
  } else {
    if (sc.result == sc.cfg.rise || !sc.known) sc.up = false;
    sc.result = 0;
  }
  sc.known = true;
  if (was_known && sc.up == was_up) return;
  if (script_events_.size() < kEventCap) script_events_.push_back({now, s, sc.up, status, timed_out});
  for (uint32_t i = 0; i < insts_.size(); ++i)
    for (const auto& t : insts_[i].cfg.track_scripts)
      if (t.index == s) retrack(i, now);
}

std::string Vrrp::event_text(const ScriptEvent& e) const {
  std::string t = "VRRP script " + scripts_[e.script].cfg.name + ": " + (e.up ? "up" : "down") + " (";
  if (e.timed_out) t += "timed out";
  else if (e.status < 0) t += "killed, or did not start";
  else t += "exited " + std::to_string(e.status);
  return t + ")";
}

bool Vrrp::owns(Ipv4Addr a) const noexcept {
  for (const Instance& in : insts_)
    if (std::find(in.cfg.addresses.begin(), in.cfg.addresses.end(), a) != in.cfg.addresses.end())
      return in.state == State::kMaster;
  return true;
}

std::optional<MacAddr> Vrrp::mac_for(Ipv4Addr a) const noexcept {
  for (const Instance& in : insts_)
    if (std::find(in.cfg.addresses.begin(), in.cfg.addresses.end(), a) != in.cfg.addresses.end()) return in.mac;
  return std::nullopt;
}

}  // namespace vs::vrrp

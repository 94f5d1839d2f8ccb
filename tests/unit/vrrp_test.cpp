// The VRRP state machine (src/vrrp/vrrp.hpp) on a virtual clock: RFC 5798 §6.4's transitions and
// timers (Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time), keepalived's choices
// (state MASTER waits one interval, gratuitous ARPs in two bursts, a master answers a lower
// priority), what a receiver refuses, tracking and sync groups.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "vrrp/vrrp.hpp"
#include "vrrp_rig.hpp"
#include "wire/ipv4.hpp"
#include "wire/vrrp.hpp"

namespace vs::vrrp {
namespace {

constexpr Ipv4Addr ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Ipv4Addr::from_octets(a, b, c, d); }
const Ipv4Addr kGroup = ip(224, 0, 0, 18), kVip = ip(10, 0, 0, 100);
const Ipv4Addr kMe = ip(10, 0, 0, 2), kPeer = ip(10, 0, 0, 3), kLowPeer = ip(10, 0, 0, 1);

struct Sent {
  Instant at;
  uint8_t priority;
  Ipv4Addr dst;
};

struct Net : VrrpNet {
  std::vector<Sent> adverts;
  std::vector<Instant> garps;
  int ownership = 0;
  void send_advert(uint32_t, std::span<uint8_t> frame, const MacAddr&, Instant now) noexcept override {
    auto ipv = wire::Ipv4View<uint8_t>::unchecked(frame.subspan(14));
    auto v = wire::VrrpView<uint8_t>::parse(ipv.payload());
    EXPECT_TRUE(v);
    EXPECT_TRUE(v && v->verify_checksum(ipv.src(), ipv.dst()));
    adverts.push_back({now, v ? v->priority() : uint8_t{0}, ipv.dst()});
  }
  void send_garp(uint32_t, Ipv4Addr, const MacAddr&, Instant now) noexcept override { garps.push_back(now); }
  void ownership_changed(uint32_t) noexcept override { ownership++; }
  std::vector<uint32_t> runs, stops;  // vrrp_script programs started and stopped
  void run_vrrp_script(uint32_t s) noexcept override { runs.push_back(s); }
  void stop_vrrp_script(uint32_t s) noexcept override { stops.push_back(s); }
};

std::string config_text(const std::string& instance_keys, const std::string& extra = "") {
  return test::vrrp_config_text(R"(["10.0.0.100"])", instance_keys, extra);
}

struct Rig {
  std::shared_ptr<const config::Config> cfg;
  Net net;
  Vrrp vrrp;
  int64_t now_us = 1'000'000'000;
  explicit Rig(const std::string& keys, const std::string& extra = "")
      : cfg(parse(config_text(keys, extra))), vrrp(*cfg, net) {
    vrrp.start(now());
  }
  static std::shared_ptr<const config::Config> parse(const std::string& t) {
    auto r = config::parse_config(t);
    if (!r) throw std::runtime_error(r.error().message);
    return r.value();
  }
  Instant now() const { return Instant::from_micros(now_us); }
  double t() const { return static_cast<double>(now_us - 1'000'000'000) / 1e6; }
  void run_to(double secs) {
    const int64_t until = 1'000'000'000 + static_cast<int64_t>(secs * 1e6 + 0.5);
    for (;;) {
      auto d = vrrp.next_deadline();
      if (!d || d->us > until) break;
      now_us = d->us;
      vrrp.on_timer(now());
    }
    now_us = until;
  }
  State state(uint32_t i = 0) const { return vrrp.instances()[i].state; }
  /// An advert from `src` (to the group, TTL 255 unless told), version and fields as given.
  Reject advert(Ipv4Addr src, uint8_t prio, uint8_t version = 2, uint32_t interval_cs = 100, uint8_t ttl = 255,
                uint8_t vrid = 51, std::vector<Ipv4Addr> addrs = {kVip}, const std::string& pass = "",
                Ipv4Addr dst = kGroup, bool corrupt = false) {
    const auto count = static_cast<uint8_t>(addrs.size());
    std::vector<uint8_t> b(20 + wire::VrrpView<uint8_t>::length_for(version, count));
    auto v = wire::VrrpView<uint8_t>::unchecked(std::span(b).subspan(20));
    v.fill(version, vrid, prio, count, pass.empty() ? 0 : 1, interval_cs);
    for (size_t k = 0; k < count; ++k) v.set_address(k, addrs[k]);
    for (size_t k = 0; k < pass.size() && version == 2; ++k) v.auth_data()[k] = static_cast<uint8_t>(pass[k]);
    v.fill_checksum(src, dst);
    if (corrupt) b[27] ^= 1;
    wire::Ipv4View<uint8_t>::unchecked(b).fill(0xc0, static_cast<uint16_t>(b.size()), 0, 0, ttl, IpProto::kVrrp, src,
                                               dst);
    return vrrp.on_advert(0, *wire::Ipv4View<const uint8_t>::parse(b), now());
  }
};

TEST(Vrrp, BackupTakesOverAfterMasterDownIntervalWithAnAdvertAndTwoBurstsOfGarps) {
  Rig r("");
  EXPECT_EQ(r.state(), State::kBackup);
  // Version 2, priority 100: 3 × 1 s + (256 - 100) / 256 s = 3.609375 s.
  r.run_to(3.609);
  EXPECT_EQ(r.state(), State::kBackup);
  EXPECT_TRUE(r.net.adverts.empty()) << "a backup is silent";
  r.run_to(3.61);
  ASSERT_EQ(r.state(), State::kMaster);
  ASSERT_EQ(r.net.adverts.size(), 1u);
  EXPECT_EQ(r.net.adverts[0].at.us - 1'000'000'000, 3'609'375);
  EXPECT_EQ(r.net.adverts[0].priority, 100);
  EXPECT_EQ(r.net.adverts[0].dst, kGroup);
  EXPECT_EQ(r.net.garps.size(), 5u) << "garp_master_repeat 5, at once";
  r.run_to(8.6);
  EXPECT_EQ(r.net.garps.size(), 5u);
  r.run_to(8.61);
  EXPECT_EQ(r.net.garps.size(), 10u) << "and 5 more garp_master_delay (5 s) later";
  EXPECT_EQ(r.net.adverts.size(), 6u) << "then an advert every advert_int";
  EXPECT_EQ(r.net.ownership, 1);
}

TEST(Vrrp, ABackupHearingItsMasterStaysAndAResigningMasterHandsOverAfterSkewTime) {
  Rig r("");
  for (double s = 0.5; s < 10; s += 1) {
    r.run_to(s);
    EXPECT_EQ(r.advert(kPeer, 150), Reject::kNone);
  }
  EXPECT_EQ(r.state(), State::kBackup);
  EXPECT_EQ(r.advert(kPeer, 0), Reject::kNone);  // the master stops
  r.run_to(9.5 + 0.609);
  EXPECT_EQ(r.state(), State::kBackup);
  r.run_to(9.5 + 0.61);
  EXPECT_EQ(r.state(), State::kMaster) << "Skew_Time (0.609 s) after the priority 0";
}

TEST(Vrrp, AMasterYieldsToAHigherPriorityOrAHigherAddressAndAnswersALowerOne) {
  Rig r("priority = 255");
  EXPECT_EQ(r.state(), State::kMaster) << "the address owner is master at once";
  r.run_to(0.5);
  const size_t before = r.net.adverts.size();
  EXPECT_EQ(r.advert(kPeer, 100), Reject::kNone);
  EXPECT_EQ(r.state(), State::kMaster);
  EXPECT_EQ(r.net.adverts.size(), before + 1) << "a lower priority is answered at once";

  Rig equal("priority = 100");
  equal.run_to(4);
  ASSERT_EQ(equal.state(), State::kMaster);
  EXPECT_EQ(equal.advert(kLowPeer, 100), Reject::kNone);
  EXPECT_EQ(equal.state(), State::kMaster) << "equal priority, lower address: we stay";
  const size_t sent = equal.net.adverts.size();
  EXPECT_EQ(equal.advert(kPeer, 100), Reject::kNone);
  EXPECT_EQ(equal.state(), State::kBackup) << "equal priority, higher address: we yield";
  ASSERT_EQ(equal.net.adverts.size(), sent + 1) << "higher_prio_send_advert: one advert of ours first";
  EXPECT_EQ(equal.net.adverts.back().priority, 100);
  equal.run_to(equal.t() + 3.5);  // within Master_Down_Interval (3.609 s)
  EXPECT_EQ(equal.net.adverts.size(), sent + 1) << "then silent: a backup";

  Rig quiet("priority = 100\nhigher_prio_send_advert = false");
  quiet.run_to(4);
  const size_t q = quiet.net.adverts.size();
  EXPECT_EQ(quiet.advert(kPeer, 150), Reject::kNone);
  EXPECT_EQ(quiet.state(), State::kBackup);
  EXPECT_EQ(quiet.net.adverts.size(), q) << "keepalived's default: yield silently";
  const auto& ev = equal.vrrp.instances()[0];
  EXPECT_EQ(ev.state, State::kBackup);
}

TEST(Vrrp, AMasterHearingALowerPrioritySendsGratuitousArpsForItsWholeSyncGroup) {
  // A split brain healing: the lower master's side learnt its MAC; keepalived's defaults
  // (garp_lower_prio_repeat = garp_lower_prio_delay = 5) re-announce ours, now and 5 s later.
  Rig r("priority = 150");
  r.run_to(4);
  ASSERT_EQ(r.state(), State::kMaster);
  r.run_to(20);  // both bursts of becoming master are over
  const size_t adverts = r.net.adverts.size(), garps = r.net.garps.size();
  EXPECT_EQ(r.advert(kPeer, 100), Reject::kNone);
  EXPECT_EQ(r.net.adverts.size(), adverts + 1) << "an advert at once";
  EXPECT_EQ(r.net.garps.size(), garps + 5) << "5 gratuitous ARPs at once";
  r.run_to(24.99);
  EXPECT_EQ(r.net.garps.size(), garps + 5);
  r.run_to(25.01);
  EXPECT_EQ(r.net.garps.size(), garps + 10) << "5 more garp_lower_prio_delay later";

  const std::string two = R"(
[[vrrp_instances]]
name = "VI_2"
interface = "wan"
virtual_router_id = 52
priority = 150
virtual_ipaddress = ["10.0.0.101"]
garp_lower_prio_repeat = 0

[[vrrp_instances]]
name = "VI_3"
interface = "wan"
virtual_router_id = 53
priority = 150
virtual_ipaddress = ["10.0.0.102", "10.0.0.103"]

[[vrrp_sync_groups]]
name = "G"
group = ["VI_1", "VI_2", "VI_3"]
)";
  Rig g("priority = 150\ngarp_lower_prio_repeat = 2\ngarp_lower_prio_delay = 0", two);
  g.run_to(20);
  ASSERT_EQ(g.state(2), State::kMaster);
  const size_t before = g.net.garps.size();
  EXPECT_EQ(g.advert(kPeer, 100), Reject::kNone);
  // VI_1: 2 of its one address; VI_2: none (repeat 0); VI_3: 5 of each of its two.
  EXPECT_EQ(g.net.garps.size(), before + 2 + 10);
  g.run_to(30);
  EXPECT_EQ(g.net.garps.size(), before + 2 + 10 + 10) << "only VI_3 has a second burst";
}

TEST(Vrrp, PreemptionTakesOverFromALowerMasterUnlessNopreemptOrWithinPreemptDelay) {
  Rig pre("priority = 150");
  for (double s = 0.5; s < 6; s += 1) {
    pre.run_to(s);
    pre.advert(kPeer, 100);
  }
  EXPECT_EQ(pre.state(), State::kMaster) << "lower-priority adverts are discarded: Master_Down fired";
  EXPECT_LT(pre.net.adverts.front().at.us - 1'000'000'000, 3'500'000);

  Rig nopre("priority = 150\nnopreempt = true");
  for (double s = 0.5; s < 6; s += 1) {
    nopre.run_to(s);
    nopre.advert(kPeer, 100);
  }
  EXPECT_EQ(nopre.state(), State::kBackup);

  Rig delayed("priority = 150\npreempt_delay = 8");
  for (double s = 0.5; s < 12; s += 1) {
    delayed.run_to(s);
    delayed.advert(kPeer, 100);
    if (s < 8) {
      EXPECT_EQ(delayed.state(), State::kBackup) << "at " << s;
    }
  }
  EXPECT_EQ(delayed.state(), State::kMaster) << "after preempt_delay";
}

TEST(Vrrp, StateMasterWaitsOneIntervalVersion3LearnsTheMastersInterval) {
  Rig m("state = \"MASTER\"");
  m.run_to(1.0);
  EXPECT_EQ(m.state(), State::kBackup);
  m.run_to(1.01);
  EXPECT_EQ(m.state(), State::kMaster) << "one advert_int + the least skew (1/256 s), not three";

  Rig v3("version = 3\nadvert_int = 0.2");
  // 3 × 0.2 + 156 × 0.2 / 256 = 0.721875 s
  v3.run_to(0.72);
  EXPECT_EQ(v3.state(), State::kBackup);
  v3.run_to(0.73);
  EXPECT_EQ(v3.state(), State::kMaster);
  Rig learn("version = 3\nadvert_int = 0.2");
  learn.run_to(0.1);
  EXPECT_EQ(learn.advert(kPeer, 150, 3, 100), Reject::kNone);  // the master advertises every 1 s
  learn.run_to(3.0);
  EXPECT_EQ(learn.state(), State::kBackup) << "3 × 1 s + skew from the master's interval";
  learn.run_to(3.8);
  EXPECT_EQ(learn.state(), State::kMaster);
}

TEST(Vrrp, ReceiversRefuseWhatIsNotTheirGroupsAdvert) {
  Rig r("authentication = { auth_type = \"PASS\", auth_pass = \"secret\" }");
  EXPECT_EQ(r.advert(kPeer, 150, 2, 100, 255, 51, {kVip}, "secret"), Reject::kNone);
  EXPECT_EQ(r.advert(kPeer, 150, 2, 100, 254, 51, {kVip}, "secret"), Reject::kTtl);
  EXPECT_EQ(r.advert(kPeer, 150, 2, 100, 255, 52, {kVip}, "secret"), Reject::kOtherVrid);
  EXPECT_EQ(r.advert(kPeer, 150, 2, 200, 255, 51, {kVip}, "secret"), Reject::kMismatch) << "interval";
  EXPECT_EQ(r.advert(kPeer, 150, 2, 100, 255, 51, {kVip}, "wrong"), Reject::kMismatch) << "password";
  EXPECT_EQ(r.advert(kPeer, 150, 2, 100, 255, 51, {kVip}), Reject::kMismatch) << "no authentication";
  EXPECT_EQ(r.advert(kPeer, 150, 2, 100, 255, 51, {ip(10, 0, 0, 99)}, "secret"), Reject::kMismatch) << "addresses";
  EXPECT_EQ(r.advert(kPeer, 150, 3, 100, 255, 51, {kVip}), Reject::kMismatch) << "version";
  EXPECT_EQ(r.advert(kPeer, 150, 2, 100, 255, 51, {kVip}, "secret", kGroup, true), Reject::kChecksum);
  EXPECT_EQ(r.vrrp.instances()[0].adverts_received, 1u);

  Rig u("version = 3\nunicast_peer = [\"10.0.0.3\"]");
  EXPECT_EQ(u.advert(kPeer, 150, 3, 100, 255, 51, {kVip}, "", kMe), Reject::kNone);
  EXPECT_EQ(u.advert(kLowPeer, 150, 3, 100, 255, 51, {kVip}, "", kMe), Reject::kPeer);
}

TEST(Vrrp, AnUnweightedTrackerFaultsTheInstanceAndItsSyncGroupAWeightedOneMovesThePriority) {
  const std::string two = R"(
[[vrrp_instances]]
name = "VI_2"
interface = "wan"
virtual_router_id = 52
virtual_ipaddress = ["10.0.0.101"]

[[vrrp_sync_groups]]
name = "G"
group = ["VI_1", "VI_2"]
)";
  Rig r("priority = 255\ntrack_service = [\"tcp 10.0.0.100:80\"]", two);
  EXPECT_EQ(r.state(0), State::kMaster);
  EXPECT_EQ(r.state(1), State::kMaster) << "the group follows its member";
  r.run_to(1.5);
  r.vrrp.set_service(0, false, r.now());
  EXPECT_EQ(r.state(0), State::kFault);
  EXPECT_EQ(r.state(1), State::kFault);
  EXPECT_EQ(r.net.adverts.back().priority, 0) << "a master resigns on fault";
  r.vrrp.set_service(0, true, r.now());
  EXPECT_EQ(r.state(0), State::kMaster) << "the owner is master again";

  Rig w("priority = 150\ntrack_service = [{ name = \"tcp 10.0.0.100:80\", weight = -60 }]");
  w.vrrp.set_service(0, false, w.now());
  EXPECT_EQ(w.vrrp.instances()[0].priority, 90);
  EXPECT_EQ(w.state(), State::kBackup);
}

// Two instances on wan in the sync group G (VI_2: VRID 52, 10.0.0.101); `k2`: more VI_2 keys.
std::string group_of_two(const std::string& k2 = "") {
  return R"(
[[vrrp_instances]]
name = "VI_2"
interface = "wan"
virtual_router_id = 52
virtual_ipaddress = ["10.0.0.101"]
)" + k2 + R"(
[[vrrp_sync_groups]]
name = "G"
group = ["VI_1", "VI_2"]
)";
}

TEST(Vrrp, AFaultedMemberHoldsItsWholeSyncGroupInFaultWhateverTheOrder) {
  // VI_2 (second in the file) tracks a service without reals: down from the start.
  const std::string svc = "\n[[services]]\nprotocol = \"tcp\"\naddress = \"10.0.0.101:443\"\n";
  // The engine tells the trackers' state before the start (as the health checks know it).
  const auto cfg = Rig::parse(config_text("", group_of_two("track_service = [\"tcp 10.0.0.101:443\"]\n") + svc));
  Net net;
  Vrrp v(*cfg, net);
  const Instant t0 = Instant::from_micros(1'000'000'000);
  v.set_service(1, false, t0);
  v.start(t0);
  EXPECT_EQ(v.instances()[0].state, State::kFault) << "the group follows its faulted member";
  EXPECT_EQ(v.instances()[1].state, State::kFault);
  v.on_timer(t0 + Duration::seconds(10));
  EXPECT_EQ(v.instances()[0].state, State::kFault) << "no Master_Down while faulted";
  EXPECT_TRUE(net.adverts.empty());

  // Both faulted; one clears: the group stays in FAULT until the other does too.
  Rig two("track_interface = [\"wan\"]", group_of_two("track_service = [\"tcp 10.0.0.101:443\"]\n") + svc);
  two.vrrp.set_interface(0, false, two.now());
  ASSERT_EQ(two.state(0), State::kFault);
  two.vrrp.set_service(1, true, two.now());
  EXPECT_EQ(two.state(0), State::kFault) << "VI_1's interface is still down";
  EXPECT_EQ(two.state(1), State::kFault);
  two.vrrp.set_interface(0, true, two.now());
  EXPECT_EQ(two.state(0), State::kBackup);
  EXPECT_EQ(two.state(1), State::kBackup);
}

TEST(Vrrp, ASyncGroupTakesOverOnlyWhenEveryMemberLostItsMaster) {
  Rig r("", group_of_two());
  const std::vector<Ipv4Addr> second = {ip(10, 0, 0, 101)};
  // The peer's VI_1 adverts stop at 0.5; its VI_2 adverts go on: no member may take over, since
  // VI_2 would be pushed back at once (keepalived's vrrp_sync_can_goto_master: no thrashing).
  r.run_to(0.5);
  EXPECT_EQ(r.advert(kPeer, 150), Reject::kNone);
  for (double s = 0.5; s < 20; s += 1) {
    r.run_to(s);
    EXPECT_EQ(r.advert(kPeer, 150, 2, 100, 255, 52, second), Reject::kNone);
    ASSERT_EQ(r.state(0), State::kBackup) << "at " << s;
    ASSERT_EQ(r.state(1), State::kBackup);
  }
  EXPECT_TRUE(r.net.adverts.empty());
  // Now VI_2's stop too (last at 19.5): the group is master when VI_2's timer fires.
  r.run_to(19.5 + 3.609);
  EXPECT_EQ(r.state(1), State::kBackup);
  r.run_to(19.5 + 3.61);
  EXPECT_EQ(r.state(0), State::kMaster);
  EXPECT_EQ(r.state(1), State::kMaster);
}

TEST(Vrrp, TheSecondBurstsOfBecomingMasterAndOfALowerPriorityRunOnTheirOwnTimers) {
  Rig r("priority = 150\ngarp_lower_prio_delay = 3");
  r.run_to(3.5);  // master at 3.414 s (skew of 150): 5 GARPs, 5 more at 8.414
  ASSERT_EQ(r.state(), State::kMaster);
  ASSERT_EQ(r.net.garps.size(), 5u);
  r.run_to(4);
  EXPECT_EQ(r.advert(kPeer, 100), Reject::kNone);  // 5 GARPs now, 5 more at 7
  EXPECT_EQ(r.net.garps.size(), 10u);
  r.run_to(7.01);
  EXPECT_EQ(r.net.garps.size(), 15u) << "the lower priority's second burst";
  r.run_to(8.5);
  EXPECT_EQ(r.net.garps.size(), 20u) << "and still becoming master's";

  // The other order: a lower priority's second burst due after becoming master's.
  Rig late("priority = 150\ngarp_lower_prio_delay = 6");
  late.run_to(4);
  EXPECT_EQ(late.advert(kPeer, 100), Reject::kNone);  // 5 now, 5 at 10
  late.run_to(8.5);
  EXPECT_EQ(late.net.garps.size(), 15u) << "becoming master's second burst at 8.414";
  late.run_to(10.01);
  EXPECT_EQ(late.net.garps.size(), 20u) << "the lower priority's at 10";
}

TEST(Vrrp, AStoppingMasterSendsPriorityZero) {
  Rig r("priority = 255");
  r.run_to(2.5);
  r.vrrp.stop(r.now());
  EXPECT_EQ(r.net.adverts.back().priority, 0);
  EXPECT_EQ(r.state(), State::kInit);
  EXPECT_FALSE(r.vrrp.next_deadline());
  EXPECT_FALSE(r.vrrp.owns(kVip));
  EXPECT_TRUE(r.vrrp.owns(ip(10, 0, 0, 50))) << "an address of no instance";
  std::vector<std::string> seen;
  r.vrrp.drain_events([&](const Event& e) {
    seen.push_back(std::string(state_name(e.from)) + ">" + std::string(state_name(e.to)) + ":" +
                   std::string(cause_name(e.cause)));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"INIT>MASTER:start", "MASTER>INIT:stop"}));
}

// --- vrrp_script (keepalived's vrrp_scheduler.c and vrrp_track.c) ---------------------------

std::string script_table(const std::string& keys) {
  return "\n[[vrrp_scripts]]\nname = \"chk\"\nscript = \"/usr/local/bin/chk --quick\"\n" + keys + "\n";
}

TEST(VrrpScript, RunsEveryIntervalAndMovesThePriorityAfterFallFailuresAndRiseSuccesses) {
  Rig r("priority = 150\ntrack_script = [\"chk\"]", script_table("interval = 2\nweight = -60\nrise = 2\nfall = 2"));
  ASSERT_EQ(r.net.runs.size(), 1u) << "a tracked script runs at once";
  EXPECT_EQ(r.state(), State::kBackup) << "a weighted script does not hold the instance";
  EXPECT_EQ(r.vrrp.instances()[0].priority, 150) << "undecided: no weight yet";
  r.run_to(0.1);
  r.vrrp.script_exited(0, 1, r.now());
  EXPECT_EQ(r.vrrp.instances()[0].priority, 90) << "the first run decides either way";
  EXPECT_FALSE(r.vrrp.scripts()[0].up);
  r.run_to(1.9);
  EXPECT_EQ(r.net.runs.size(), 1u);
  r.run_to(2.0);
  ASSERT_EQ(r.net.runs.size(), 2u) << "every interval";
  r.vrrp.script_exited(0, 0, r.now());
  EXPECT_EQ(r.vrrp.instances()[0].priority, 90) << "rise 2: one success is not enough";
  r.run_to(4.0);
  r.vrrp.script_exited(0, 0, r.now());
  EXPECT_EQ(r.vrrp.instances()[0].priority, 150);
  r.run_to(6.0);
  r.vrrp.script_exited(0, 3, r.now());
  EXPECT_EQ(r.vrrp.instances()[0].priority, 150) << "fall 2: one failure is not enough";
  r.run_to(8.0);
  r.vrrp.script_exited(0, 0, r.now());
  r.run_to(10.0);
  r.vrrp.script_exited(0, 3, r.now());
  EXPECT_EQ(r.vrrp.instances()[0].priority, 150) << "a success between resets the count";
  r.run_to(12.0);
  r.vrrp.script_exited(0, 3, r.now());
  EXPECT_EQ(r.vrrp.instances()[0].priority, 90);
  EXPECT_EQ(r.vrrp.scripts()[0].runs, 7u);
  EXPECT_EQ(r.vrrp.scripts()[0].failures, 4u);
  std::vector<std::string> log;
  r.vrrp.drain_script_events([&](const ScriptEvent& e) { log.push_back(r.vrrp.event_text(e)); });
  EXPECT_EQ(log, (std::vector<std::string>{"VRRP script chk: down (exited 1)", "VRRP script chk: up (exited 0)",
                                           "VRRP script chk: down (exited 3)"}));
}

TEST(VrrpScript, AnUnweightedScriptHoldsTheInstanceInInitUntilItsFirstVerdictThenFaultsIt) {
  Rig r("priority = 255\ntrack_script = [\"chk\"]", script_table(""));
  EXPECT_EQ(r.state(), State::kInit) << "keepalived waits for the script before starting the instance";
  EXPECT_TRUE(r.net.adverts.empty());
  r.run_to(0.05);
  r.vrrp.script_exited(0, 0, r.now());
  EXPECT_EQ(r.state(), State::kMaster) << "the owner starts as master once its script succeeds";
  r.run_to(1.0);
  r.vrrp.script_exited(0, 1, r.now());
  EXPECT_EQ(r.state(), State::kFault);
  EXPECT_EQ(r.net.adverts.back().priority, 0) << "a master resigns on fault";
  r.run_to(2.0);
  r.vrrp.script_exited(0, 0, r.now());
  EXPECT_EQ(r.state(), State::kMaster);

  Rig f("priority = 255\ntrack_script = [\"chk\"]", script_table(""));
  f.vrrp.script_exited(0, 1, f.now());
  EXPECT_EQ(f.state(), State::kFault) << "a first failure starts the instance in FAULT, never master";
  EXPECT_TRUE(f.net.adverts.empty());

  Rig i("priority = 255\ntrack_script = [\"chk\"]", script_table("init_fail = true\nrise = 2"));
  EXPECT_EQ(i.state(), State::kFault) << "init_fail: failed from the start";
  i.vrrp.script_exited(0, 0, i.now());
  EXPECT_EQ(i.state(), State::kFault) << "init_fail climbs all of rise";
  i.run_to(1.0);
  i.vrrp.script_exited(0, 0, i.now());
  EXPECT_EQ(i.state(), State::kMaster);
}

TEST(VrrpScript, ARunPastItsTimeoutIsStoppedAndFailsAndARunStillGoingIsNotStartedTwice) {
  Rig r("priority = 150\ntrack_script = [{ name = \"chk\", weight = -50 }]", script_table("interval = 1\ntimeout = 3"));
  r.run_to(0.01);
  r.vrrp.script_exited(0, 0, r.now());
  r.run_to(1.0);
  ASSERT_EQ(r.net.runs.size(), 2u);
  r.run_to(3.99);
  EXPECT_EQ(r.net.runs.size(), 2u) << "runs at 2 s and 3 s skipped: the 1 s run still runs";
  EXPECT_EQ(r.vrrp.scripts()[0].skipped, 2u);
  EXPECT_TRUE(r.net.stops.empty());
  EXPECT_EQ(r.vrrp.instances()[0].priority, 150);
  r.run_to(4.0);
  ASSERT_EQ(r.net.stops.size(), 1u) << "stopped at its timeout";
  EXPECT_EQ(r.vrrp.instances()[0].priority, 100) << "a timeout is a failure";
  EXPECT_EQ(r.vrrp.scripts()[0].timeouts, 1u);
  EXPECT_EQ(r.net.runs.size(), 3u) << "and the 4 s run starts";
  r.vrrp.script_exited(0, 0, r.now());
  EXPECT_EQ(r.vrrp.instances()[0].priority, 150);
  r.vrrp.script_exited(0, 1, r.now());
  EXPECT_EQ(r.vrrp.instances()[0].priority, 150) << "an exit nobody waits for is ignored";
  r.vrrp.stop(r.now());
  r.run_to(9.0);
  EXPECT_EQ(r.net.runs.size(), 3u) << "a stopped VRRP runs no script";
}

TEST(VrrpScript, ReverseSwapsUpAndDownAndTrackScriptOverridesTheScriptsWeight) {
  // Script weight 20 reverse: -20 while it succeeds. VI_1 overrides the weight only (keeps reverse).
  Rig r("priority = 150\ntrack_script = [{ name = \"chk\", weight = 30 }]",
        script_table("weight = 20\nreverse = true"));
  r.vrrp.script_exited(0, 0, r.now());
  EXPECT_EQ(r.vrrp.instances()[0].priority, 120);
  r.run_to(1.0);
  r.vrrp.script_exited(0, 1, r.now());
  EXPECT_EQ(r.vrrp.instances()[0].priority, 150);

  Rig n("priority = 150\ntrack_script = [{ name = \"chk\", weight = -30, reverse = true }]", script_table(""));
  n.vrrp.script_exited(0, 1, n.now());
  EXPECT_EQ(n.vrrp.instances()[0].priority, 180) << "negative and reversed: +30 while failing";

  Rig u("priority = 150\ntrack_script = [{ name = \"chk\", reverse = true }]", script_table(""));
  u.vrrp.script_exited(0, 0, u.now());
  EXPECT_EQ(u.state(), State::kFault) << "unweighted and reversed: FAULT while it succeeds";
  u.run_to(1.0);
  u.vrrp.script_exited(0, 2, u.now());
  EXPECT_EQ(u.state(), State::kBackup);
}

TEST(VrrpScript, APriorityChangeMovesABackupsMasterDownTimerByItsSkewTime) {
  Rig r("priority = 150\ntrack_script = [{ name = \"chk\", weight = -60 }]", script_table(""));
  // Master_Down_Interval at 150: 3 + 106/256 = 3.4140625 s; at 90: 3 + 166/256 = 3.6484375 s.
  r.vrrp.script_exited(0, 1, r.now());
  EXPECT_EQ(r.vrrp.instances()[0].priority, 90);
  ASSERT_TRUE(r.vrrp.instances()[0].down_at);
  EXPECT_EQ(r.vrrp.instances()[0].down_at->us - 1'000'000'000, 3'648'437) << "keepalived moves the timer";
  r.run_to(3.648);
  EXPECT_EQ(r.state(), State::kBackup);
  r.run_to(3.649);
  EXPECT_EQ(r.state(), State::kMaster);
  EXPECT_EQ(r.net.adverts.back().priority, 90) << "adverts carry the effective priority";
}

TEST(VrrpScript, AScriptNobodyTracksDoesNotRun) {
  Rig r("", script_table(""));
  r.run_to(5.0);
  EXPECT_TRUE(r.net.runs.empty());
}

}  // namespace
}  // namespace vs::vrrp

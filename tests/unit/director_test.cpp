// Director tests (src/ipvs/director.cpp): IPVS connection semantics without packet bytes.
// Every expectation is derived from the kernel's rules (ip_vs_conn.c ip_vs_bind_dest/ip_vs_unbind_dest, ip_vs_conn.c; ip_vs_core.c,
// ip_vs_conn.c): rr picks the newest real first (reals are added in file order, each at the head
// of the list), a template is keyed <proto, caddr&mask, 0, vaddr, vport>, a template still
// controlling connections is re-armed with 60 s at expiry, and so on.
#include "ipvs/director.hpp"

#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"
#include "test_config.hpp"
#include "wire/tcp.hpp"

namespace vs::ipvs {
namespace {

using Kind = Decision::Kind;
namespace tf = vs::tcp_flag;

constexpr IpProto kTcp = IpProto::kTcp, kUdp = IpProto::kUdp;
const Ipv4Addr kVip = Ipv4Addr::from_octets(10, 0, 0, 100);
const Ipv4Addr kReal1 = Ipv4Addr::from_octets(192, 168, 1, 11);
const Ipv4Addr kReal2 = Ipv4Addr::from_octets(192, 168, 1, 12);

Ipv4Addr client(uint8_t a, uint8_t b) { return Ipv4Addr::from_octets(172, 16, a, b); }
Instant at(int64_t s) { return Instant::from_micros(s * 1000000); }

std::shared_ptr<const config::Config> make_config(const std::string& service_extra, const std::string& real_extra = "",
                                                  uint32_t max_conns = 1024, const std::string& proto = "tcp",
                                                  bool sloppy_tcp = false) {
  test::ConfigText c = test::wan_lan();
  c.max_connections(max_conns);
  if (sloppy_tcp) c.sloppy_tcp(true);
  c.addresses("lan", {"192.168.1.1/24", "172.16.0.1/16"});
  c.service(proto, "10.0.0.100:80", "rr").service_lines(service_extra);
  c.real("192.168.1.11:80").real_lines(real_extra);
  c.real("192.168.1.12:80");
  return c.parse();
}

class DirectorTest : public ::testing::Test {
protected:
  void build(const std::string& service_extra, const std::string& real_extra = "", uint32_t max_conns = 1024,
             const std::string& proto = "tcp") {
    cfg_ = make_config(service_extra, real_extra, max_conns, proto);
    dir_ = std::make_unique<Director>(*cfg_, 1);
  }
  Director& dir() { return *dir_; }
  Service& svc() { return *dir_->services()[0]; }
  Dest* dest(Ipv4Addr a) {
    for (Dest* d : svc().dests)
      if (d->addr == a) return d;
    return nullptr;
  }
  /// ipvsadm -e -w W, thresholds 0, on the real `d`.
  void set_weight(Dest* d, int32_t w) {
    config::Real r = *d;
    r.weight = w;
    r.upper = r.lower = 0;
    EXPECT_EQ(dir().edit_real(svc(), r), Director::CtlError::kOk);
  }
  /// ipvsadm -d of the real `d`.
  void remove(Dest* d) { EXPECT_EQ(dir().delete_real(svc(), d->addr, d->port), Director::CtlError::kOk); }
  /// A packet that opens or continues a connection; returns the decision after accounting it.
  Decision send(Ipv4Addr c, uint16_t cport, uint8_t flags, Instant now, IpProto proto = kTcp) {
    FlowKey k{c, kVip, cport, 80, proto};
    Decision d = dir_->classify({k, flags}, now);
    if (d.kind == Kind::kIn) {
      dir_->in_packet(d.conn, flags, 60, now);
      dir_->put(d.conn, now);
    }
    return d;
  }
  Ipv4Addr real_of(const Decision& d) { return dir_->conns()[d.conn].daddr; }
  void run_timers(Instant until) {
    while (auto t = dir_->next_deadline()) {
      if (*t > until) break;
      dir_->on_timer(*t);
    }
  }

  std::shared_ptr<const config::Config> cfg_;
  std::unique_ptr<Director> dir_;
};

// --- rr order and counts -------------------------------------------------------------------

TEST_F(DirectorTest, RoundRobinStartsWithTheNewestReal) {
  build("");
  // File order 11, 12; each added at the head: the kernel list is [12, 11].
  EXPECT_EQ(real_of(send(client(1, 1), 1000, tf::kSyn, at(0))), kReal2);
  EXPECT_EQ(real_of(send(client(1, 1), 1001, tf::kSyn, at(0))), kReal1);
  EXPECT_EQ(real_of(send(client(1, 1), 1002, tf::kSyn, at(0))), kReal2);
}

TEST_F(DirectorTest, TcpSynCountsActiveAndFinMovesToInactive) {
  build("");
  auto d = send(client(1, 1), 1000, tf::kSyn, at(0));  // NONE -> SYN_RECV (active)
  Dest* r = dest(real_of(d));
  EXPECT_EQ(r->activeconns, 1u);
  EXPECT_EQ(r->inactconns, 0u);
  send(client(1, 1), 1000, tf::kAck, at(1));  // INPUT_ONLY: SR -> ES
  EXPECT_EQ(dir().conns()[d.conn].state, conn::TcpState::kEstablished);
  send(client(1, 1), 1000, tf::kFin | tf::kAck, at(2));  // INPUT_ONLY: ES -> FW (inactive)
  EXPECT_EQ(dir().conns()[d.conn].state, conn::TcpState::kFinWait);
  EXPECT_EQ(r->activeconns, 0u);
  EXPECT_EQ(r->inactconns, 1u);
  EXPECT_EQ(dir().conns()[d.conn].expires, at(2) + Duration::seconds(120));
}

TEST_F(DirectorTest, UdpIsAlwaysInactiveAndEveryDatagramRearmsThreeHundredSeconds) {
  build("", "", 1024, "udp");
  auto d = send(client(1, 1), 5353, 0, at(0), kUdp);
  Dest* r = dest(real_of(d));
  EXPECT_EQ(r->activeconns, 0u);
  EXPECT_EQ(r->inactconns, 1u);
  send(client(1, 1), 5353, 0, at(200), kUdp);
  EXPECT_EQ(dir().conns()[d.conn].expires, at(500));
  run_timers(at(499));
  EXPECT_EQ(dir().conns().size(), 1u);
  run_timers(at(500));
  EXPECT_EQ(dir().conns().size(), 0u);
  EXPECT_EQ(r->inactconns, 0u);
}

TEST_F(DirectorTest, NonSynTcpWithoutConnectionIsNotScheduled) {
  build("");
  EXPECT_EQ(send(client(1, 1), 1000, tf::kAck, at(0)).kind, Kind::kPass);
  EXPECT_EQ(send(client(1, 1), 1000, tf::kSyn | tf::kRst, at(0)).kind, Kind::kPass);
  EXPECT_EQ(dir().conns().size(), 0u);
}

// sloppy_tcp (ip_vs_proto_tcp.c tcp_conn_schedule: th->rst || !(sloppy_tcp || th->syn)): any
// segment but a RST may open a connection; its state comes from NONE by the segment's flags
// (tcp_states, INPUT_ONLY for a DR conn: ack -> ES, fin -> CL; no flag -> CLOSE).
TEST_F(DirectorTest, SloppyTcpSchedulesMidFlowSegmentsButNotRst) {
  cfg_ = make_config("", "", 1024, "tcp", /*sloppy_tcp=*/true);
  dir_ = std::make_unique<Director>(*cfg_, 1);
  ASSERT_TRUE(cfg_->ipvs.sloppy_tcp);
  auto ack = send(client(1, 1), 1000, tf::kAck, at(0));
  ASSERT_EQ(ack.kind, Kind::kIn);
  EXPECT_EQ(dir().conns()[ack.conn].state, conn::TcpState::kEstablished);
  EXPECT_EQ(dir().conns()[ack.conn].expires, at(0) + Duration::seconds(900));
  EXPECT_EQ(dest(real_of(ack))->activeconns, 1u);
  auto fin = send(client(1, 2), 1000, tf::kFin | tf::kAck, at(0));
  ASSERT_EQ(fin.kind, Kind::kIn);
  EXPECT_EQ(dir().conns()[fin.conn].state, conn::TcpState::kClose);  // fin beats ack: NONE -> CL
  EXPECT_EQ(dest(real_of(fin))->inactconns, 1u);
  auto none = send(client(1, 3), 1000, 0, at(0));
  ASSERT_EQ(none.kind, Kind::kIn);
  EXPECT_EQ(dir().conns()[none.conn].state, conn::TcpState::kClose);
  EXPECT_EQ(send(client(1, 4), 1000, tf::kRst, at(0)).kind, Kind::kPass);
  EXPECT_EQ(send(client(1, 4), 1000, tf::kRst | tf::kAck, at(0)).kind, Kind::kPass);
  EXPECT_EQ(dir().conns().size(), 3u);
  EXPECT_EQ(svc().stats.conns, 3u);
}

TEST_F(DirectorTest, SloppyTcpFollowsAReload) {
  build("");
  EXPECT_EQ(send(client(1, 1), 1000, tf::kAck, at(0)).kind, Kind::kPass);
  auto sloppy = make_config("", "", 1024, "tcp", true);
  dir().apply_config(*sloppy);
  EXPECT_EQ(send(client(1, 1), 1000, tf::kAck, at(1)).kind, Kind::kIn);
}

TEST_F(DirectorTest, SynOnTimeWaitConnectionStartsAFreshOne) {
  build("");
  auto d = send(client(1, 1), 1000, tf::kSyn, at(0));
  EXPECT_EQ(real_of(d), kReal2);
  // Drive it to TIME_WAIT through the INPUT_ONLY table: ES -(fin)-> FW ... a second fin: FW -> FW;
  // use the NAT-less path: SR -(fin)-> TW.
  send(client(1, 1), 1000, tf::kFin, at(1));
  ASSERT_EQ(dir().conns()[d.conn].state, conn::TcpState::kTimeWait);
  auto d2 = send(client(1, 1), 1000, tf::kSyn, at(2));  // conn_reuse_mode 1
  EXPECT_EQ(d2.kind, Kind::kIn);
  EXPECT_EQ(real_of(d2), kReal1) << "rescheduled: rr moves on";
  EXPECT_EQ(dir().conns().size(), 1u);
  EXPECT_EQ(svc().stats.conns, 2u);
}

// --- persistence ---------------------------------------------------------------------------

TEST_F(DirectorTest, PersistentClientReturnsToTheSameRealFromANewPort) {
  build("persistence = 60");
  auto a = send(client(1, 1), 1000, tf::kSyn, at(0));
  auto b = send(client(1, 1), 2000, tf::kSyn, at(10));
  EXPECT_EQ(real_of(a), real_of(b));
  EXPECT_EQ(dest(real_of(a))->persistconns, 1u);
  // Template <TCP, 172.16.1.1, 0, VIP, 80>: one template + two connections.
  EXPECT_EQ(dir().conns().size(), 3u);
}

TEST_F(DirectorTest, NetmaskGroupsClientsIntoOneTemplate) {
  build("persistence = 60\nnetmask = \"255.255.255.0\"");
  auto a = send(client(1, 1), 1000, tf::kSyn, at(0));
  auto b = send(client(1, 99), 1000, tf::kSyn, at(1));  // same /24
  auto c = send(client(2, 1), 1000, tf::kSyn, at(2));   // another /24: scheduled, rr moves on
  EXPECT_EQ(real_of(a), real_of(b));
  EXPECT_NE(real_of(a), real_of(c));
}

TEST_F(DirectorTest, TemplateOutlivesItsConnectionsThenClientIsRescheduled) {
  build("persistence = 60");
  auto a = send(client(1, 1), 1000, tf::kSyn, at(0));  // SYN_RECV: 60 s; template 60 s from t=0
  const Ipv4Addr first = real_of(a);
  send(client(1, 1), 1000, tf::kAck, at(1));  // ESTABLISHED: 900 s from t=1
  // At t=60 the template expires while it controls a live connection: re-armed with 60 s.
  run_timers(at(60));
  EXPECT_EQ(dir().conns().size(), 2u);
  // Within the (re-armed) template life the client still sticks.
  auto b = send(client(1, 1), 2000, tf::kSyn, at(100));
  EXPECT_EQ(real_of(b), first);
  // Close both connections with RST: CLOSE, 10 s.
  send(client(1, 1), 1000, tf::kRst, at(200));
  send(client(1, 1), 2000, tf::kRst, at(200));
  run_timers(at(210));  // both connections gone; the template is due at its own timer
  run_timers(at(400));
  EXPECT_EQ(dir().conns().size(), 0u);
  auto c = send(client(1, 1), 3000, tf::kSyn, at(400));
  EXPECT_NE(real_of(c), first) << "after the template expired, rr schedules afresh (next real)";
}

TEST_F(DirectorTest, QuiescedRealGetsNoNewClientsButKeepsStickyOnes) {
  build("persistence = 60");
  auto a = send(client(1, 1), 1000, tf::kSyn, at(0));
  Dest* quiesced = dest(real_of(a));
  set_weight(quiesced, 0);
  // Sticky: the template still names it (IPVS default expire_quiescent_template = 0).
  EXPECT_EQ(real_of(send(client(1, 1), 2000, tf::kSyn, at(1))), quiesced->addr);
  // New clients never go to a weight-0 real.
  for (uint8_t i = 2; i < 6; ++i) EXPECT_NE(real_of(send(client(i, 1), 1000, tf::kSyn, at(2))), quiesced->addr);
}

TEST_F(DirectorTest, NoAvailableRealGivesNoDest) {
  build("", "  weight = 0\n");
  set_weight(dest(kReal2), 0);
  EXPECT_EQ(send(client(1, 1), 1000, tf::kSyn, at(0)).kind, Kind::kNoDest);
  EXPECT_EQ(dir().conns().size(), 0u);
}

// --- table capacity ------------------------------------------------------------------------

TEST_F(DirectorTest, FullTableRefusesNewConnectionsAndRecoversAfterExpiry) {
  build("", "", 3);
  std::vector<Decision> est;
  for (uint16_t p = 1; p <= 3; ++p) est.push_back(send(client(1, 1), p, tf::kSyn, at(0)));
  for (uint16_t p = 1; p <= 3; ++p) send(client(1, 1), p, tf::kAck, at(1));  // ESTABLISHED, 900 s
  auto refused = send(client(1, 1), 4, tf::kSyn, at(2));
  EXPECT_EQ(refused.kind, Kind::kDrop);
  EXPECT_EQ(refused.reason, DropReason::kConnTableFull);
  EXPECT_EQ(dir().refused_full(), 1u);
  // Established flows are untouched.
  for (uint16_t p = 1; p <= 3; ++p) {
    auto d = send(client(1, 1), p, tf::kAck, at(3));
    EXPECT_EQ(d.kind, Kind::kIn);
    EXPECT_EQ(d.conn, est[p - 1].conn);
  }
  // ESTABLISHED expires 900 s after the last packet (t=3).
  run_timers(at(903));
  EXPECT_EQ(dir().conns().size(), 0u);
  EXPECT_EQ(send(client(1, 1), 4, tf::kSyn, at(904)).kind, Kind::kIn);
}

// --- overload (upper/lower thresholds) -----------------------------------------------------

TEST_F(DirectorTest, UpperThresholdOverloadsAndThreeQuartersClearsIt) {
  build("", "  upper = 4\n");
  Dest* r1 = dest(kReal1);
  // rr alternates 12, 11, ...: after 8 SYNs real 11 has 4 connections (total >= upper 4).
  std::vector<Decision> to_r1;
  for (uint16_t p = 1; p <= 8; ++p) {
    auto d = send(client(1, 1), p, tf::kSyn, at(0));
    if (real_of(d) == kReal1) to_r1.push_back(d);
  }
  ASSERT_EQ(to_r1.size(), 4u);
  EXPECT_TRUE(r1->overloaded);
  for (uint16_t p = 9; p <= 12; ++p) EXPECT_EQ(real_of(send(client(1, 1), p, tf::kSyn, at(0))), kReal2);
  // Clearing with lower = 0: total*4 < upper*3, i.e. total < 3: after two connections end.
  // (RST on SYN_RECV stays SYN_RECV in the INPUT_ONLY table: establish first, then ES -rst-> CLOSE.)
  for (uint16_t p : {2, 4}) {
    send(client(1, 1), p, tf::kAck, at(1));
    send(client(1, 1), p, tf::kRst, at(1));
  }
  run_timers(at(11));  // CLOSE: 10 s
  EXPECT_EQ(r1->activeconns + r1->inactconns, 2u);
  EXPECT_FALSE(r1->overloaded);
}

// --- removing a real (drain policy) ------------------------------------------------------------

TEST_F(DirectorTest, RemovedRealsConnectionsAreDroppedByDefault) {
  build("");
  auto d = send(client(1, 1), 1000, tf::kSyn, at(0));
  remove(dest(real_of(d)));
  auto next = send(client(1, 1), 1000, tf::kAck, at(1));
  EXPECT_EQ(next.kind, Kind::kDrop);
  EXPECT_EQ(next.reason, DropReason::kVsRealRemoved);
}

// ip_vs_in_stats / ip_vs_out_stats count only while the dest is IP_VS_DEST_F_AVAILABLE.
TEST_F(DirectorTest, RemovedRealsPacketsAreNotCountedUntilItIsAddedAgain) {
  build("");
  auto d = send(client(1, 1), 1000, tf::kSyn, at(0));
  ASSERT_EQ(real_of(d), kReal2);  // rr: the newest first
  const uint32_t c = d.conn;
  Dest* r = dest(kReal2);
  const config::Real saved = *r;
  dir().out_packet(c, tf::kSyn | tf::kAck, 40, at(0));  // the reply, while available
  EXPECT_EQ(r->stats.inpkts, 1u);
  EXPECT_EQ(r->stats.outpkts, 1u);
  remove(r);
  // Replies and inbound packets of the lingering connection: not counted anywhere.
  dir().out_packet(c, tf::kAck, 40, at(1));
  dir().count_in(c, 40);
  dir().count_out(c, 40);
  EXPECT_EQ(send(client(1, 1), 1000, tf::kAck, at(1)).kind, Kind::kDrop);
  EXPECT_EQ(r->stats.inpkts, 1u);
  EXPECT_EQ(r->stats.outpkts, 1u);
  EXPECT_EQ(svc().stats.inpkts, 1u);
  EXPECT_EQ(svc().stats.outpkts, 1u);
  EXPECT_EQ(dir().total().inpkts, 1u);
  // Added again: the same Dest, available, counts the connection's packets again.
  Dest* back = nullptr;
  ASSERT_EQ(dir().add_real(svc(), saved, &back), Director::CtlError::kOk);
  EXPECT_EQ(back, r);
  EXPECT_EQ(send(client(1, 1), 1000, tf::kAck, at(2)).kind, Kind::kIn);
  dir().out_packet(c, tf::kAck, 40, at(2));
  EXPECT_EQ(r->stats.inpkts, 2u);
  EXPECT_EQ(r->stats.outpkts, 2u);
  EXPECT_EQ(r->stats.inbytes, 120u);
  EXPECT_EQ(svc().stats.inpkts, 2u);
  EXPECT_EQ(svc().stats.outpkts, 2u);
  EXPECT_EQ(dir().total().outpkts, 2u);
}

TEST_F(DirectorTest, RescheduleDrainMovesANewConnectionToAnAvailableReal) {
  build("drain = \"reschedule\"");
  auto d = send(client(1, 1), 1000, tf::kSyn, at(0));
  const Ipv4Addr gone = real_of(d);
  remove(dest(gone));
  // A mid-stream packet cannot open a connection: the old one is expired, the packet passes.
  EXPECT_EQ(send(client(1, 1), 1000, tf::kAck, at(1)).kind, Kind::kPass);
  // A SYN (or any UDP datagram) is scheduled onto a remaining real.
  auto again = send(client(1, 1), 1000, tf::kSyn, at(2));
  EXPECT_EQ(again.kind, Kind::kIn);
  EXPECT_NE(real_of(again), gone);
}

// --- one-packet scheduling ---------------------------------------------------------------------

TEST_F(DirectorTest, OnePacketSchedulingSchedulesEachDatagramAndKeepsNoEntry) {
  build("flags = [\"ops\"]", "", 1024, "udp");
  // A one-packet connection is freed by put(): read its real before.
  auto once = [&] {
    FlowKey k{client(1, 1), kVip, 5353, 80, kUdp};
    Decision d = dir().classify({k, 0}, at(0));
    EXPECT_EQ(d.kind, Kind::kIn);
    Ipv4Addr r = real_of(d);
    dir().in_packet(d.conn, 0, 60, at(0));
    dir().put(d.conn, at(0));
    return r;
  };
  Ipv4Addr a = once(), b = once();
  EXPECT_NE(a, b) << "each datagram is scheduled on its own (rr)";
  EXPECT_EQ(dir().conns().size(), 0u);
  EXPECT_EQ(svc().stats.conns, 2u);
  EXPECT_EQ(dest(kReal1)->inactconns + dest(kReal2)->inactconns, 0u);
}

}  // namespace
}  // namespace vs::ipvs

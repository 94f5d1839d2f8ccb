// Connection sync in the director (src/ipvs/director_sync.cpp) against the kernel's rules
// (net/netfilter/ipvs/ip_vs_sync.c): when a master hands a connection over
// (ip_vs_sync_conn_needed: TCP in ESTABLISHED and the closing states, at packet sync_threshold
// and every sync_period after, a closing state at once; the template after its connection), what
// the entry says, and how a backup applies entries (ip_vs_proc_conn: bound to its own real with
// its own method, the master's activity, state and timeout; a moved connection replaced, a stale
// expiry ignored; templates).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "ipvs/director.hpp"
#include "test_config.hpp"
#include "wire/ipvs_sync.hpp"
#include "wire/tcp.hpp"

namespace vs::ipvs {
namespace {

namespace tf = vs::tcp_flag;
namespace flag = wire::sync_flag;
const Ipv4Addr kVip = Ipv4Addr::from_octets(10, 0, 0, 100);
const Ipv4Addr kReal1 = Ipv4Addr::from_octets(192, 168, 1, 11);
const Ipv4Addr kReal2 = Ipv4Addr::from_octets(192, 168, 1, 12);
Ipv4Addr client(uint8_t b) { return Ipv4Addr::from_octets(172, 16, 0, b); }
Instant at(double s) { return Instant::from_micros(static_cast<int64_t>(s * 1e6)); }

std::shared_ptr<const config::Config> make_config(const std::string& service_extra, const std::string& method) {
  test::ConfigText c = test::wan_lan();
  c.addresses("lan", {"192.168.1.1/24", "172.16.0.1/16"});
  c.service("tcp", "10.0.0.100:80", "rr").service_lines(service_extra);
  c.real("192.168.1.11:80").real_lines("method = \"" + method + "\"");
  c.real("192.168.1.12:80").real_lines("method = \"" + method + "\"");
  return c.parse();
}

struct Sink : SyncSink {
  std::vector<wire::SyncEntry> sent;
  void sync_conn(const wire::SyncEntry& e, Instant) noexcept override { sent.push_back(e); }
};

struct Rig {
  std::shared_ptr<const config::Config> cfg;
  Director dir;
  Sink sink;
  explicit Rig(const std::string& service_extra = "", const std::string& method = "nat")
      : cfg(make_config(service_extra, method)), dir(*cfg, 1) {}
  void master(SyncRules r = {}) { dir.set_sync_master(&sink, r); }
  /// A client packet; returns its connection.
  uint32_t in(uint16_t cport, uint8_t flags, double t, uint8_t c = 1) {
    Decision d = dir.classify({FlowKey{client(c), kVip, cport, 80, IpProto::kTcp}, flags}, at(t));
    EXPECT_EQ(d.kind, Decision::Kind::kIn);
    dir.in_packet(d.conn, flags, 60, at(t));
    dir.put(d.conn, at(t));
    return d.conn;
  }
  /// The real's reply (NAT).
  void out(uint32_t c, uint8_t flags, double t) {
    dir.out_packet(c, flags, 60, at(t));
    dir.put(c, at(t));
  }
};

TEST(DirectorSync, AMasterSendsAtPacketThresholdAndEveryPeriodAndClosingStatesAtOnce) {
  Rig r;
  r.master();  // threshold 3, period 50
  const uint32_t c = r.in(1000, tf::kSyn, 0);
  r.out(c, tf::kSyn | tf::kAck, 0.001);
  r.in(1000, tf::kAck, 0.002);  // packet 2: ESTABLISHED, not yet
  EXPECT_TRUE(r.sink.sent.empty()) << "SYN_RECV is never synced; packet 2 is below the threshold";
  r.in(1000, tf::kAck, 0.003);  // packet 3
  ASSERT_EQ(r.sink.sent.size(), 1u);
  const wire::SyncEntry& e = r.sink.sent[0];
  EXPECT_EQ(e.protocol, 6);
  EXPECT_EQ(e.state, 1) << "ESTABLISHED";
  EXPECT_EQ(e.flags, flag::kMasq) << "NAT, active, output seen";
  EXPECT_EQ(e.caddr, client(1));
  EXPECT_EQ(e.cport, 1000);
  EXPECT_EQ(e.vaddr, kVip);
  EXPECT_EQ(e.vport, 80);
  EXPECT_EQ(e.dport, 80);
  EXPECT_EQ(e.timeout_s, 900u) << "ESTABLISHED's timeout, whole (not what is left)";
  for (int p = 4; p <= 52; ++p) r.in(1000, tf::kAck, 0.004);
  EXPECT_EQ(r.sink.sent.size(), 1u);
  r.in(1000, tf::kAck, 0.005);  // packet 53
  EXPECT_EQ(r.sink.sent.size(), 2u);
  r.in(1000, tf::kFin | tf::kAck, 0.006);  // the client's FIN: CLOSE_WAIT, a closing state, at once
  ASSERT_EQ(r.sink.sent.size(), 3u);
  EXPECT_EQ(r.sink.sent.back().state, 7) << "CLOSE_WAIT (the kernel's INPUT table)";
  EXPECT_EQ(r.sink.sent.back().timeout_s, 60u);
  r.in(1000, tf::kAck, 0.007);  // still CLOSE_WAIT: no change, packet 55
  EXPECT_EQ(r.sink.sent.size(), 3u);

  Rig quiet;
  quiet.in(1000, tf::kSyn, 0);
  for (int p = 0; p < 10; ++p) quiet.in(1000, tf::kAck, 0.1);
  EXPECT_TRUE(quiet.sink.sent.empty()) << "not a master: nothing";
}

TEST(DirectorSync, DrConnectionsAreSentInactiveWithNoOutputAndTheirTemplateFollows) {
  Rig r("persistence = 300", "dr");
  r.master();
  r.in(1000, tf::kSyn, 0);
  r.in(1000, tf::kAck, 0.001);  // INPUT_ONLY: ESTABLISHED on the client's ACK
  r.in(1000, tf::kAck, 0.002);
  // The kernel syncs a template at each packet of a connection it controls (with sync_period
  // set, ip_vs_sync_conn_needed counts no packets for templates), the connection at packet 3.
  ASSERT_EQ(r.sink.sent.size(), 4u) << "template, template, connection and template";
  EXPECT_EQ(r.sink.sent[2].flags, flag::kDroute | flag::kNoOutput);
  EXPECT_EQ(r.sink.sent[2].state, 1) << "ESTABLISHED";
  EXPECT_EQ(r.sink.sent[0].state, 0) << "the template before the connection is established";
  const wire::SyncEntry& t = r.sink.sent[3];
  // As the kernel sends it (a 6.1 master, tests/kernel sync_kernel_interop): the real's
  // conn_flags, INACTIVE and NOOUTPUT included.
  EXPECT_EQ(t.flags, flag::kTemplate | flag::kInactive | flag::kNoOutput | flag::kDroute);
  EXPECT_EQ(t.cport, 0);
  EXPECT_EQ(t.vport, 80);
  EXPECT_EQ(t.daddr, r.sink.sent[2].daddr);
  EXPECT_EQ(t.timeout_s, 300u) << "the persistence timeout";
  EXPECT_EQ(t.state, 1) << "assured: a controlled connection got established";
}

TEST(DirectorSync, ABackupBindsEntriesToItsOwnRealsWithTheMastersStateAndTimeout) {
  Rig b("", "dr");  // the backup's reals are DR: the method comes from its own real
  wire::SyncEntry e;
  e.protocol = 6;
  e.flags = flag::kMasq;  // the master said NAT
  e.state = 1;
  e.caddr = client(7);
  e.cport = 5555;
  e.vaddr = kVip;
  e.vport = 80;
  e.daddr = kReal2;
  e.dport = 80;
  e.timeout_s = 900;
  EXPECT_EQ(b.dir.apply_synced(e, at(10)), SyncApplied::kCreated);
  auto hit = b.dir.conns().lookup(FlowKey{client(7), kVip, 5555, 80, IpProto::kTcp});
  ASSERT_TRUE(hit);
  const conn::Conn& c = b.dir.conns()[hit->idx];
  EXPECT_EQ(c.daddr, kReal2);
  EXPECT_EQ(c.method, config::Method::kDr);
  EXPECT_EQ(c.state, conn::TcpState::kEstablished);
  EXPECT_EQ(c.expires, at(910));
  EXPECT_FALSE(c.flags & conn::kFlagInactive) << "active, as on the master";
  Dest* d2 = nullptr;
  for (Dest* d : b.dir.services()[0]->dests)
    if (d->addr == kReal2) d2 = d;
  ASSERT_TRUE(d2);
  EXPECT_EQ(d2->activeconns, 1u);
  EXPECT_EQ(d2->inactconns, 0u);

  // The same entry again, now closing and inactive: updated in place.
  e.state = 4;
  e.flags |= flag::kInactive;
  e.timeout_s = 120;
  EXPECT_EQ(b.dir.apply_synced(e, at(20)), SyncApplied::kUpdated);
  EXPECT_EQ(c.state, conn::TcpState::kFinWait);
  EXPECT_EQ(c.expires, at(140));
  EXPECT_EQ(d2->activeconns, 0u);
  EXPECT_EQ(d2->inactconns, 1u);

  // The connection moved to r1 on the master: replaced; a stale INACTIVE for r2 then ignored.
  e.daddr = kReal1;
  e.flags = flag::kMasq;
  e.state = 1;
  EXPECT_EQ(b.dir.apply_synced(e, at(30)), SyncApplied::kCreated);
  EXPECT_EQ(b.dir.conns()[b.dir.conns().lookup(FlowKey{client(7), kVip, 5555, 80, IpProto::kTcp})->idx].daddr, kReal1);
  EXPECT_EQ(d2->inactconns, 0u);
  e.daddr = kReal2;
  e.flags = flag::kMasq | flag::kInactive;
  EXPECT_EQ(b.dir.apply_synced(e, at(31)), SyncApplied::kStale);

  // Entries for what this backup does not have.
  wire::SyncEntry other = e;
  other.vport = 443;
  EXPECT_EQ(b.dir.apply_synced(other, at(32)), SyncApplied::kNoService);
  other = e;
  other.cport = 6000;
  other.daddr = Ipv4Addr::from_octets(192, 168, 1, 99);
  EXPECT_EQ(b.dir.apply_synced(other, at(32)), SyncApplied::kNoReal);

  // Version 0 (no timeout): the backup's own timeout for the state.
  other = e;
  other.cport = 6001;
  other.flags = flag::kMasq;
  other.timeout_s = 0;
  other.state = 5;  // TIME_WAIT
  EXPECT_EQ(b.dir.apply_synced(other, at(40)), SyncApplied::kCreated);
  EXPECT_EQ(b.dir.conns()[b.dir.conns().lookup(FlowKey{client(7), kVip, 6001, 80, IpProto::kTcp})->idx].expires,
            at(40 + 120))
      << "TIME_WAIT: tcpfin, 120 s";
}

TEST(DirectorSync, ASyncedTemplateKeepsAPersistentClientOnItsReal) {
  Rig m("persistence = 300", "nat");
  m.master();
  const uint32_t c = m.in(1000, tf::kSyn, 0, 9);
  m.out(c, tf::kSyn | tf::kAck, 0.001);
  m.in(1000, tf::kAck, 0.002, 9);
  m.in(1000, tf::kAck, 0.003, 9);
  ASSERT_EQ(m.sink.sent.size(), 4u) << "template, template, connection, template";
  const Ipv4Addr real = m.sink.sent[2].daddr;

  Rig b("persistence = 300", "nat");
  EXPECT_EQ(b.dir.apply_synced(m.sink.sent[0], at(1)), SyncApplied::kCreated);
  for (size_t i = 1; i < m.sink.sent.size(); ++i)
    EXPECT_EQ(b.dir.apply_synced(m.sink.sent[i], at(1)), i == 2 ? SyncApplied::kCreated : SyncApplied::kUpdated);
  // The backup, taking over, sends the client's new connections to the same real, whatever rr
  // would pick.
  for (uint16_t p = 2000; p < 2004; ++p) {
    Decision d = b.dir.classify({FlowKey{client(9), kVip, p, 80, IpProto::kTcp}, tf::kSyn}, at(2));
    ASSERT_EQ(d.kind, Decision::Kind::kIn);
    EXPECT_EQ(b.dir.conns()[d.conn].daddr, real);
  }
}

TEST(DirectorSync, AQuietConnectionIsSentAgainOnceTheBackupsCopyIsPastHalfItsLife) {
  // The kernel's rules alone send a connection with few packets at packet 3 only: its copy on the
  // backup expires 900 s later while the master, refreshed by each packet, keeps it.
  for (bool resync : {true, false}) {
    Rig r;
    SyncRules rules;
    rules.resync_before_expiry = resync;
    r.master(rules);
    const uint32_t c = r.in(1000, tf::kSyn, 0);
    r.out(c, tf::kSyn | tf::kAck, 0.001);
    r.in(1000, tf::kAck, 0.002);
    r.in(1000, tf::kAck, 0.003);  // packet 3: sent, the backup's copy expires at 900.003
    ASSERT_EQ(r.sink.sent.size(), 1u);
    r.in(1000, tf::kAck, 400);  // the copy has 500 s left: more than half
    EXPECT_EQ(r.sink.sent.size(), 1u);
    r.in(1000, tf::kAck, 460);  // 440 s left: sent again (resync_before_expiry)
    EXPECT_EQ(r.sink.sent.size(), resync ? 2u : 1u);
    r.in(1000, tf::kAck, 800);
    EXPECT_EQ(r.sink.sent.size(), resync ? 2u : 1u) << "the new copy lives until 1360";
  }
}

TEST(DirectorSync, RefreshPeriodResendsAQuietConnectionBeforeItExpiresOnTheBackup) {
  // vsrouter's answer to the kernel's weak spot (a long quiet connection synced once expires on
  // the backup): with sync_refresh_period the master resends when the expiry it reported moved
  // by that much, even without the packet count.
  Rig r;
  SyncRules rules;
  rules.period = 0;
  rules.refresh_period = Duration::seconds(60);
  r.master(rules);
  const uint32_t c = r.in(1000, tf::kSyn, 0);
  r.out(c, tf::kSyn | tf::kAck, 0.001);
  r.in(1000, tf::kAck, 0.002);  // ESTABLISHED: a state change is forced
  EXPECT_EQ(r.sink.sent.size(), 1u);
  r.in(1000, tf::kAck, 30);
  EXPECT_EQ(r.sink.sent.size(), 1u) << "the expiry moved by 30 s only";
  r.in(1000, tf::kAck, 61);
  EXPECT_EQ(r.sink.sent.size(), 2u) << "moved by 61 s: sent again";
}

}  // namespace
}  // namespace vs::ipvs

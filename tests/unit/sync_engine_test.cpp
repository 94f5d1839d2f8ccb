// Connection sync through the engine (src/sync/, docs/sync.md): a master's messages are UDP
// datagrams to 224.0.0.81:8848 from its sync interface (TTL 1, UDP checksum), sent when a
// message is full or `flush` after its first entry; a backup takes them on its sync interface
// and has the connections; what it refuses is a counted drop; roles follow a VRRP instance.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "config/config.hpp"
#include "engine.hpp"
#include "test_frames.hpp"
#include "wire/ipvs_sync.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace vs {
namespace {

using test::ByteVec;
namespace tf = vs::tcp_flag;

constexpr Ipv4Addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Ipv4Addr::from_octets(a, b, c, d); }
const MacAddr kClientMac = test::mac(2, 0, 0, 0, 0xcc, 1), kRealMac = test::mac(2, 0, 0, 0, 0xaa, 11);
const Ipv4Addr kClient = ip4(203, 0, 113, 50), kVip = ip4(203, 0, 113, 100), kReal = ip4(10, 1, 0, 11);
const Ipv4Addr kGroup = ip4(224, 0, 0, 81);

// Director N: wan 203.0.113.N/24, lan 10.1.0.N/24; a NAT service on the VIP with one real; [sync]
// on lan with `sync_keys`.
std::string config_text(int n, const std::string& sync_keys) {
  return "[[interfaces]]\nname = \"wan\"\nmac = \"02:00:00:00:0" + std::to_string(n) +
         ":01\"\naddresses = [\"203.0.113." + std::to_string(n) +
         "/24\"]\n"
         "[[interfaces]]\nname = \"lan\"\nmac = \"02:00:00:00:0" +
         std::to_string(n) + ":02\"\naddresses = [\"10.1.0." + std::to_string(n) +
         "/24\"]\n"
         "[[services]]\nprotocol = \"tcp\"\naddress = \"203.0.113.100:80\"\n"
         "reals = [{ address = \"10.1.0.11:8080\", method = \"nat\" }]\n"
         "[sync]\ninterface = \"lan\"\n" +
         sync_keys + "\n";
}

struct Director {
  test::MemSink sink;
  Engine engine;
  int64_t now_us = 1'000'000'000;
  Director(int n, const std::string& keys) : engine(parse(config_text(n, keys)), sink) { engine.start(now()); }
  static std::shared_ptr<const config::Config> parse(const std::string& t) {
    auto r = config::parse_config(t);
    if (!r) throw std::runtime_error(r.error().message);
    return r.value();
  }
  Instant now() const { return Instant::from_micros(now_us); }
  void run(double secs) {
    const int64_t until = now_us + static_cast<int64_t>(secs * 1e6);
    for (;;) {
      auto d = engine.next_deadline();
      if (!d || d->us > until) break;
      now_us = std::max(now_us, d->us);
      engine.on_timer(now());
    }
    now_us = until;
  }
  Verdict rx(uint32_t iface, const ByteVec& f) { return engine.on_frame(iface, f, now()); }
  /// The real answers ARP for itself (so that NAT can forward), once.
  void learn_real() {
    const MacAddr lan = engine.config().interfaces[1].mac;
    rx(1, test::frame()
              .eth(lan, kRealMac)
              .arp(2, kRealMac, kReal, lan, engine.config().interfaces[1].addresses[0].addr)
              .build());
  }
  /// A client segment to the VIP on wan.
  Verdict client(uint16_t cport, uint8_t flags) {
    return rx(0, test::frame()
                     .eth(engine.config().interfaces[0].mac, kClientMac)
                     .ipv4(kClient, kVip)
                     .tcp(cport, 80, flags)
                     .build());
  }
  /// The frames sent on lan to the sync group.
  std::vector<ByteVec> sync_frames() const {
    std::vector<ByteVec> out;
    for (const auto& s : sink.sent)
      if (s.iface == 1 && test::eth_type(s.bytes) == 0x0800 && test::ip_of(s.bytes).dst() == kGroup)
        out.push_back(s.bytes);
    return out;
  }
  bool has_conn(uint16_t cport) const {
    return engine.director().conns().lookup(FlowKey{kClient, kVip, cport, 80, IpProto::kTcp}).has_value();
  }
  uint64_t drops(DropReason r) const { return engine.drops().n[static_cast<size_t>(r)]; }
};

TEST(SyncEngine, TheMastersMessagesGiveTheBackupItsConnections) {
  Director m(1, "state = \"master\"\nsyncid = 7");
  Director b(2, "state = \"backup\"\nsyncid = 7");
  m.learn_real();
  for (uint16_t p = 40000; p < 40010; ++p) {
    m.client(p, tf::kSyn);
    m.client(p, tf::kAck);  // no SYN-ACK seen: SYN_RECV, never synced...
  }
  m.run(1);
  EXPECT_TRUE(m.sync_frames().empty()) << "no connection in a synced state";
  // ... the real's SYN-ACKs, then the clients' third and fourth segments.
  for (uint16_t p = 40000; p < 40010; ++p) {
    m.rx(1, test::frame()
                .eth(m.engine.config().interfaces[1].mac, kRealMac)
                .ipv4(kReal, kClient)
                .tcp(8080, p, tf::kSyn | tf::kAck)
                .build());
    m.client(p, tf::kAck);  // packet 3: ESTABLISHED
  }
  EXPECT_TRUE(m.sync_frames().empty()) << "held for `flush`";
  m.run(0.099);
  EXPECT_TRUE(m.sync_frames().empty());
  m.run(0.002);
  const auto frames = m.sync_frames();
  ASSERT_EQ(frames.size(), 1u) << "ten entries in one message, 0.1 s after the first";
  const ByteVec& f = frames[0];
  EXPECT_EQ(test::eth_dst(f), test::mac(1, 0, 0x5e, 0, 0, 0x51));
  EXPECT_EQ(test::eth_src(f), m.engine.config().interfaces[1].mac);
  EXPECT_TRUE(test::ValidIpv4(f));
  EXPECT_TRUE(test::ValidTransport(f)) << "the UDP checksum";
  const auto ip = test::ip_of(f);
  EXPECT_EQ(ip.src(), ip4(10, 1, 0, 1));
  EXPECT_EQ(ip.ttl(), 1);
  auto udp = wire::UdpView<const uint8_t>::parse(ip.payload());
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->dport(), 8848);
  auto msg = wire::SyncMessage::parse(udp->payload());
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->version(), 1);
  EXPECT_EQ(msg->syncid(), 7);
  EXPECT_EQ(msg->count(), 10);
  EXPECT_EQ(m.engine.sync().counters().entries_sent, 10u);

  EXPECT_EQ(b.rx(1, f).kind, Verdict::Kind::kConsumed);
  for (uint16_t p = 40000; p < 40010; ++p) EXPECT_TRUE(b.has_conn(p)) << p;
  EXPECT_EQ(b.engine.sync().counters().entries[static_cast<size_t>(sync::EntryResult::kCreated)], 10u);

  // Another syncid, a broken checksum, a truncated message: counted drops; nothing applied.
  Director other(3, "state = \"backup\"\nsyncid = 8");
  EXPECT_EQ(other.rx(1, f).reason, DropReason::kSyncOtherSyncid);
  ByteVec bad = f;
  bad[bad.size() - 1] ^= 1;
  EXPECT_EQ(b.rx(1, bad).reason, DropReason::kSyncBadChecksum);
  ByteVec cut = f;
  cut[14 + 20 + 8 + 4] = 11;                // eleven entries announced
  cut[14 + 20 + 6] = cut[14 + 20 + 7] = 0;  // no UDP checksum
  EXPECT_EQ(b.rx(1, cut).reason, DropReason::kSyncMalformed);
  // Not the backup's interface: an ordinary multicast datagram, not for a router.
  EXPECT_EQ(b.rx(0, f).reason, DropReason::kIpv4Multicast);
}

TEST(SyncEngine, PeersRestrictWhoABackupListensTo) {
  Director m(1, "state = \"master\"");
  Director b(2, "state = \"backup\"\npeers = [\"10.1.0.9\"]");
  m.learn_real();
  m.client(40000, tf::kSyn);
  m.rx(1, test::frame()
              .eth(m.engine.config().interfaces[1].mac, kRealMac)
              .ipv4(kReal, kClient)
              .tcp(8080, 40000, tf::kSyn | tf::kAck)
              .build());
  m.client(40000, tf::kAck);
  m.client(40000, tf::kAck);
  m.run(1);
  ASSERT_EQ(m.sync_frames().size(), 1u);
  EXPECT_EQ(b.rx(1, m.sync_frames()[0]).reason, DropReason::kSyncForeignPeer);
  EXPECT_FALSE(b.has_conn(40000));
}

TEST(SyncEngine, VsadmStartsAndStopsDaemonsAsIpvsadm) {
  Director d(1, "state = \"backup\"");
  sync::SyncDaemon& s = d.engine.sync();
  EXPECT_TRUE(s.backup());
  EXPECT_FALSE(s.master());
  EXPECT_FALSE(s.start_backup(s.defaults())) << "already running";
  EXPECT_TRUE(s.start_master(s.defaults(), d.now()));
  EXPECT_TRUE(s.stop_backup());
  EXPECT_FALSE(s.stop_backup());
  EXPECT_TRUE(s.master());
}

}  // namespace
}  // namespace vs

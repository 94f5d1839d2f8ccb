// The director with IPv6 services (docs/ipv6-services-plan.md): an IPv6 flow opens a connection
// on an IPv6 service, both directions find it by the full addresses, persistence groups clients
// by prefix (ip_vs_sched_persist: ipv6_addr_prefix), and the schedulers that hash an address
// read its fold as the kernel does (ip_vs_sh_hashkey). Services are added through the control
// API: the config refuses IPv6 VIPs until the engine forwards them.
#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"
#include "ipvs/director.hpp"
#include "test_config.hpp"
#include "wire/tcp.hpp"

namespace vs::ipvs {
namespace {

using Kind = Decision::Kind;
namespace tf = vs::tcp_flag;

constexpr IpProto kTcp = IpProto::kTcp;
Ipv6Addr a6(const char* s) { return *Ipv6Addr::parse(s); }
const Ipv6Addr kVip6 = a6("2001:db8::80");
Instant at(int64_t s) { return Instant::from_micros(s * 1000000); }

class DirectorIpv6Test : public ::testing::Test {
protected:
  void SetUp() override {
    test::ConfigText c = test::wan_lan();
    c.max_connections(1024);
    cfg_ = c.parse();
    dir_ = std::make_unique<Director>(*cfg_, 1);
  }
  /// ipvsadm -A -t [vip]:80 -s SCHED [-p P -M PREFIX], then -a of each real (in this order, so
  /// the last is the list's head).
  Service& add(const IpAddr& vip, const std::string& sched, std::initializer_list<const char*> reals,
               config::Method m = config::Method::kNat, uint32_t persistence = 0, uint8_t prefix6 = 128) {
    config::ServiceSettings s;
    s.protocol = kTcp;
    s.vip = vip;
    s.port = 80;
    s.scheduler = sched;
    s.persistence = persistence;
    s.prefix6 = prefix6;
    Service* svc = nullptr;
    EXPECT_EQ(dir_->add_service(s, &svc), Director::CtlError::kOk);
    for (const char* r : reals) {
      config::Real real;
      real.addr = *IpAddr::parse(r);
      real.port = m == config::Method::kNat ? 8080 : 80;
      real.method = m;
      EXPECT_EQ(dir_->add_real(*svc, real), Director::CtlError::kOk);
    }
    return *svc;
  }
  /// An IPv6 TCP segment src:sp -> dst:dp with `flags` through classify().
  Decision seg6(const Ipv6Addr& src, uint16_t sp, const Ipv6Addr& dst, uint16_t dp, uint8_t flags, Instant now) {
    const FlowAddr6 a{src, dst};
    return dir_->classify({FlowKey::folded(a, sp, dp, kTcp), flags}, now, &a);
  }
  Decision syn6(const Ipv6Addr& client, uint16_t cport, Instant now) {
    Decision d = seg6(client, cport, kVip6, 80, tf::kSyn, now);
    if (d.kind == Kind::kIn) {
      dir_->in_packet(d.conn, tf::kSyn, 80, now);
      dir_->put(d.conn, now);
    }
    return d;
  }
  std::string real_of(const Decision& d) { return IpAddr::from_v6(dir_->conns().addr6(d.conn).d).str(); }

  std::shared_ptr<const config::Config> cfg_;
  std::unique_ptr<Director> dir_;
};

TEST_F(DirectorIpv6Test, AnIpv6FlowOpensAConnectionFoundBothWaysByItsAddresses) {
  add(IpAddr::from_v6(kVip6), "rr", {"2001:db8:1::11", "2001:db8:1::12"});
  const Ipv6Addr client = a6("2001:db8:c::7");
  Decision d = syn6(client, 40000, at(1));
  ASSERT_EQ(d.kind, Kind::kIn);
  EXPECT_TRUE(d.created);
  EXPECT_EQ(real_of(d), "2001:db8:1::12") << "rr starts with the newest real";
  const conn::Conn& c = dir_->conns()[d.conn];
  EXPECT_TRUE(c.flags & conn::kFlagIpv6);
  EXPECT_EQ(c.dport, 8080);
  EXPECT_EQ(dir_->conns().addr6(d.conn).c, client);
  EXPECT_EQ(dir_->conns().addr6(d.conn).v, kVip6);
  // The real's SYN-ACK (NAT: from the real's address and port) is the connection's reply.
  Decision r = seg6(a6("2001:db8:1::12"), 8080, client, 40000, tf::kSyn | tf::kAck, at(1));
  EXPECT_EQ(r.kind, Kind::kOut);
  EXPECT_EQ(r.conn, d.conn);
  // The next client packet continues it; another client gets the next real.
  EXPECT_EQ(seg6(client, 40000, kVip6, 80, tf::kAck, at(1)).conn, d.conn);
  EXPECT_EQ(real_of(syn6(a6("2001:db8:c::8"), 40000, at(1))), "2001:db8:1::11");
  EXPECT_EQ(dir_->services()[0]->stats.conns, 2u);
}

TEST_F(DirectorIpv6Test, OnlyTheVipsFamilyIsScheduled) {
  add(IpAddr::from_v6(kVip6), "rr", {"2001:db8:1::11"});
  // An IPv4 packet to the address that equals the VIP's fold is not for the service.
  const Ipv4Addr fold{IpAddr::from_v6(kVip6).fold()};
  FlowKey k{Ipv4Addr::from_octets(172, 16, 0, 1), fold, 40000, 80, kTcp};
  EXPECT_EQ(dir_->classify({k, tf::kSyn}, at(1)).kind, Kind::kPass);
  // Nor an IPv6 packet to another address with the same fold (its words swapped).
  const Ipv6Addr swapped = a6("0:80:2001:db8::");
  ASSERT_EQ(IpAddr::from_v6(swapped).fold(), IpAddr::from_v6(kVip6).fold());
  EXPECT_EQ(seg6(a6("2001:db8:c::7"), 40000, swapped, 80, tf::kSyn, at(1)).kind, Kind::kPass);
  EXPECT_EQ(dir_->conns().size(), 0u);
}

TEST_F(DirectorIpv6Test, PersistenceGroupsClientsByPrefix) {
  // ipvsadm -A -t [2001:db8::80]:80 -s rr -p 300 -M 64
  add(IpAddr::from_v6(kVip6), "rr", {"2001:db8:1::11", "2001:db8:1::12"}, config::Method::kDr, 300, 64);
  const std::string first = real_of(syn6(a6("2001:db8:c:1::7"), 40000, at(1)));
  EXPECT_EQ(real_of(syn6(a6("2001:db8:c:1:ffff::9"), 40001, at(2))), first) << "the same /64: the same real";
  EXPECT_NE(real_of(syn6(a6("2001:db8:c:2::7"), 40002, at(3))), first) << "another /64: a new template, rr's next";
  // The template is keyed by the prefix: the table holds 3 connections and 2 templates.
  uint32_t templates = 0;
  dir_->conns().for_each([&](uint32_t, const conn::Conn& c) { templates += (c.flags & conn::kFlagTemplate) ? 1 : 0; });
  EXPECT_EQ(templates, 2u);
  EXPECT_EQ(dir_->conns().size(), 5u);
}

TEST_F(DirectorIpv6Test, ShHashesTheClientsFoldAsForAnIpv4ClientOfThatAddress) {
  // sh over the same list for both families: an IPv6 client lands where an IPv4 client whose
  // address is its fold lands (hash_32(ntohl(addr_fold)), ip_vs_sh.c).
  add(IpAddr::from_v6(kVip6), "sh", {"2001:db8:1::11", "2001:db8:1::12", "2001:db8:1::13"});
  add(Ipv4Addr::from_octets(10, 0, 0, 100), "sh", {"192.168.1.11", "192.168.1.12", "192.168.1.13"});
  for (const char* c : {"2001:db8:c::7", "2001:db8:c::8", "2001:db8:ffff::1", "fd00::1234:5678"}) {
    const Ipv6Addr client = a6(c);
    Decision d6 = syn6(client, 40000, at(1));
    ASSERT_EQ(d6.kind, Kind::kIn);
    FlowKey k4{Ipv4Addr{IpAddr::from_v6(client).fold()}, Ipv4Addr::from_octets(10, 0, 0, 100), 40000, 80, kTcp};
    Decision d4 = dir_->classify({k4, tf::kSyn}, at(1));
    ASSERT_EQ(d4.kind, Kind::kIn);
    const std::string v6_real = real_of(d6);
    const std::string v4_real = dir_->conns()[d4.conn].daddr.str();
    EXPECT_EQ(v6_real.substr(v6_real.size() - 2), v4_real.substr(v4_real.size() - 2)) << c;
  }
}

TEST_F(DirectorIpv6Test, ConnectionsExpireAndLeaveTheTable) {
  add(IpAddr::from_v6(kVip6), "rr", {"2001:db8:1::11"});
  const Ipv6Addr client = a6("2001:db8:c::7");
  ASSERT_EQ(syn6(client, 40000, at(1)).kind, Kind::kIn);
  while (auto t = dir_->next_deadline()) {
    if (*t > at(200)) break;
    dir_->on_timer(*t);
  }
  EXPECT_EQ(dir_->conns().size(), 0u) << "SYN_RECV lasts 60 s";
  const FlowAddr6 f{client, kVip6};
  EXPECT_FALSE(dir_->lookup(FlowKey::folded(f, 40000, 80, kTcp), &f));
  EXPECT_EQ(dir_->services()[0]->dests[0]->activeconns + dir_->services()[0]->dests[0]->inactconns, 0u);
}

}  // namespace
}  // namespace vs::ipvs

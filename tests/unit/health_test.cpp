// Health checks through the engine (src/check/): probes leave as frames from the router's own
// address, simulated reals answer them (or not), and the director's reals follow the verdicts.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "ctl/list.hpp"
#include "engine.hpp"
#include "health_rig.hpp"
#include "test_frames.hpp"
#include "wire/tcp.hpp"

namespace vs {
namespace {

using test::ip4;
using test::kLanIp;
using Rig = test::HealthRig;

std::string config_text(const std::string& real_extra, const std::string& check_extra) {
  return test::health_topology() + R"(
  [[services.reals]]
  address = "10.1.0.11:80"
  method = "nat"
  )" + real_extra +
         R"(
    [[services.reals.checks]]
    type = "TCP_CHECK"
    delay_loop = 1
    connect_timeout = 1
    warmup = 0
    )" + check_extra +
         R"(

  [[services.reals]]
  address = "10.1.0.12:80"
  method = "nat"
)";
}

const Ipv4Addr kReal = ip4(10, 1, 0, 11);
const Ipv4Addr kOther = ip4(10, 1, 0, 12);

TEST(Health, ProbeIsASynFromTheRoutersAddressAndTheRealStaysWhileItAnswers) {
  Rig r(config_text("", ""));
  r.run(3.5);
  EXPECT_TRUE(r.in_service(kReal));
  EXPECT_GE(r.real.syns, 3);
  EXPECT_EQ(r.real.rsts, r.real.syns);  // every completed handshake is closed with a RST
  // The first probe: ARP for the real, then a SYN from 10.1.0.1 with an MSS option, DF, TTL 64.
  ASSERT_GE(r.seen.size(), 2u);
  EXPECT_EQ(test::eth_type(r.seen[0]), 0x0806);
  ASSERT_TRUE(test::ValidTransport(r.seen[1]));
  auto ip = test::ip_of(r.seen[1]);
  EXPECT_EQ(ip.src(), kLanIp);
  EXPECT_EQ(ip.dst(), kReal);
  EXPECT_EQ(ip.ttl(), 64);
  EXPECT_TRUE(ip.dont_fragment());
  auto t = wire::TcpView<const uint8_t>::parse(ip.payload());
  EXPECT_EQ(t->flags(), tcp_flag::kSyn);
  EXPECT_EQ(t->dport(), 80);
  EXPECT_GE(t->sport(), 32768);
  EXPECT_EQ(t->header_len(), 24u);
}

TEST(Health, RefusedRealLeavesAfterFallFailuresAndReturnsAfterRiseSuccesses) {
  Rig r(config_text("", "retry = 1\nrise = 3"));
  r.run(2.5);  // probes at 0, 1, 2: all fine
  ASSERT_TRUE(r.in_service(kReal));
  r.real.listening = false;
  r.run(1.0);  // t=3: first failure; retried after delay_before_retry (1 s)
  EXPECT_TRUE(r.in_service(kReal)) << "one failure with retry = 1 must not take it down";
  r.run(1.0);  // t=4: second failure: down
  EXPECT_FALSE(r.in_service(kReal));
  EXPECT_TRUE(r.in_service(kOther));
  r.real.listening = true;
  r.run(2.0);  // t=5, 6: two successes: still down with rise = 3
  EXPECT_FALSE(r.in_service(kReal));
  r.run(1.0);  // t=7: third success
  EXPECT_TRUE(r.in_service(kReal));
  const auto& k = r.engine.health().checkers()[0];
  EXPECT_EQ(k.transitions, 2u);
  EXPECT_EQ(k.failures[static_cast<size_t>(check::Reason::kRefused)], 2u);
}

TEST(Health, SilentRealTimesOutAndAnUnansweredArpCountsAsNoNeighbour) {
  Rig r(config_text("", "retry = 0"));
  r.run(1.5);
  ASSERT_TRUE(r.in_service(kReal));
  r.real.present = false;  // the neighbour entry is still fresh: the SYN goes out, nothing answers
  r.run(2.0);
  EXPECT_FALSE(r.in_service(kReal));
  const auto& k = r.engine.health().checkers()[0];
  EXPECT_EQ(k.failures[static_cast<size_t>(check::Reason::kTimeout)] +
                k.failures[static_cast<size_t>(check::Reason::kNoNeighbour)],
            k.fail_run);
  EXPECT_GE(k.fail_run, 1u);
  // No ICMP error about our own probe ever goes out on the wire.
  for (const auto& f : r.seen)
    if (test::eth_type(f) == 0x0800) {
      EXPECT_NE(test::ip_of(f).protocol(), IpProto::kIcmp);
    }
}

TEST(Health, InhibitOnFailureSetsWeightZeroAndRestoresTheWeight) {
  Rig r(config_text("weight = 5\n  inhibit_on_failure = true", "retry = 0"));
  r.run(0.5);
  EXPECT_EQ(r.weight(kReal), 5);
  r.real.listening = false;
  r.run(1.0);
  EXPECT_EQ(r.weight(kReal), 0);  // quiesced, still listed
  r.real.listening = true;
  r.run(1.0);
  EXPECT_EQ(r.weight(kReal), 5);
}

TEST(Health, AlphaStartsDownUntilTheFirstSuccess) {
  Rig r(config_text("", "alpha = true"));
  EXPECT_FALSE(r.in_service(kReal));
  EXPECT_TRUE(r.in_service(kOther));
  r.run(0.5);
  EXPECT_TRUE(r.in_service(kReal));
}

TEST(Health, WithoutAlphaOneFailureIsEnoughInitially) {
  Rig r(config_text("", "retry = 3"));
  r.real.listening = false;
  r.run(0.5);  // keepalived: a checker that never succeeded goes down on its first failure
  EXPECT_FALSE(r.in_service(kReal));
}

TEST(Health, ReloadKeepsTheStateOfUnchangedCheckersAndRestartsChangedOnes) {
  Rig r(config_text("", "retry = 0"));
  r.real.listening = false;
  r.run(1.5);
  ASSERT_FALSE(r.in_service(kReal));
  r.real.listening = true;
  // Same checker: still down after the reload (no flap back into service).
  ASSERT_FALSE(r.engine.reload(Rig::parse(config_text("", "retry = 0"))));
  EXPECT_FALSE(r.in_service(kReal));
  EXPECT_FALSE(r.engine.health().checkers()[0].up);
  // A changed checker starts afresh (up, as without alpha).
  ASSERT_FALSE(r.engine.reload(Rig::parse(config_text("", "retry = 2"))));
  EXPECT_TRUE(r.in_service(kReal));
  EXPECT_TRUE(r.engine.health().checkers()[0].up);
}

TEST(Health, PingCheck) {
  std::string toml = config_text("", "");
  toml.replace(toml.find("TCP_CHECK"), 9, "PING_CHECK");
  Rig r(toml);
  r.run(2.5);
  EXPECT_TRUE(r.in_service(kReal));
  EXPECT_EQ(r.engine.health().checkers()[0].probes, 3u);
  EXPECT_EQ(r.engine.health().checkers()[0].fail_run, 0u);
  r.real.present = false;
  r.run(4.0);
  EXPECT_FALSE(r.in_service(kReal));
}

/// config_text with the checker block replaced by `block` (a type line and its keys).
std::string with_check(const std::string& block, const std::string& real_extra = "") {
  std::string t = config_text(real_extra, "");
  const size_t at = t.find("type = \"TCP_CHECK\"");
  t.replace(at, std::string("type = \"TCP_CHECK\"").size(), block);
  return t;
}

TEST(Health, HttpGetSendsKeepalivedsRequestAndJudgesStatusAndDigest) {
  // md5("hello") = 5d41402abc4b2a76b9719d911017c592
  Rig r(
      with_check("type = \"HTTP_GET\"\n    retry = 0\n    url = [{ path = \"/health\", digest = "
                 "\"5d41402abc4b2a76b9719d911017c592\" }]"));
  r.run(1.5);
  EXPECT_TRUE(r.in_service(kReal));
  EXPECT_EQ(r.real.last_request, "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.1.0.11:80\r\n\r\n");
  EXPECT_EQ(r.engine.health().checkers()[0].fail_run, 0u);
  r.real.http_response = "HTTP/1.0 200 OK\r\n\r\nhellO";  // the body changed: digest mismatch
  r.run(1.0);
  EXPECT_FALSE(r.in_service(kReal));
  EXPECT_EQ(r.engine.health().checkers()[0].last_reason, check::Reason::kDigest);
  r.real.http_response = "HTTP/1.0 200 OK\r\n\r\nhello";
  r.run(1.0);
  EXPECT_TRUE(r.in_service(kReal));
}

TEST(Health, HttpGetStatusCodeAndVirtualhost) {
  Rig r(
      with_check("type = \"HTTP_GET\"\n    retry = 0\n    virtualhost = \"www.example.com\"\n"
                 "    url = [{ path = \"/\", status_code = \"200-299 301\" }]"));
  r.real.http_response = "HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n";
  r.run(0.5);
  EXPECT_TRUE(r.in_service(kReal));
  EXPECT_NE(r.real.last_request.find("Host: www.example.com\r\n"), std::string::npos) << r.real.last_request;
  r.real.http_response = "HTTP/1.1 503 Unavailable\r\n\r\n";
  r.run(1.0);
  EXPECT_FALSE(r.in_service(kReal));
  EXPECT_EQ(r.engine.health().checkers()[0].last_reason, check::Reason::kStatus);
}

TEST(Health, UdpCheckSilenceIsSuccessAnIcmpErrorIsNot) {
  std::string t = with_check("type = \"UDP_CHECK\"\n    retry = 0");
  Rig r(t);
  r.real.udp_answers = false;
  r.run(2.5);  // silence: success (keepalived)
  EXPECT_TRUE(r.in_service(kReal));
  r.real.udp_port_closed = true;
  r.run(2.0);  // a UDP probe ends at its deadline; the next starts delay_loop later
  EXPECT_FALSE(r.in_service(kReal));
  EXPECT_EQ(r.engine.health().checkers()[0].last_reason, check::Reason::kUnreachable);
}

TEST(Health, UdpCheckRequireReplyWithPattern) {
  Rig r(with_check("type = \"UDP_CHECK\"\n    retry = 0\n    payload = \"01 02 03\"\n    require_reply = \"01 0X\""));
  r.run(1.5);  // the echo 01 02 03 matches 01 0X (a prefix, as keepalived compares)
  EXPECT_TRUE(r.in_service(kReal));
  r.real.udp_answers = false;  // with require_reply, silence fails
  r.run(2.5);
  EXPECT_FALSE(r.in_service(kReal));
  EXPECT_EQ(r.engine.health().checkers()[0].last_reason, check::Reason::kTimeout);
}

TEST(Health, DnsCheckRcode) {
  std::string t = with_check(
      "type = \"DNS_CHECK\"\n    retry = 0\n    connect_port = 53\n    dns_type = \"A\"\n"
      "    dns_name = \"example.com\"");
  Rig r(t);
  r.run(1.5);
  EXPECT_TRUE(r.in_service(kReal));
  r.real.dns_rcode = 2;  // SERVFAIL
  r.run(1.0);
  EXPECT_FALSE(r.in_service(kReal));
  EXPECT_EQ(r.engine.health().checkers()[0].last_reason, check::Reason::kRcode);
}

TEST(Health, ListingShowsEachChecker) {
  Rig r(config_text("", "retry = 0"));
  r.real.listening = false;
  r.run(0.5);
  const std::string l = ctl::list_health(r.engine, Instant::from_micros(r.now_us));
  EXPECT_NE(l.find("10.1.0.11:80"), std::string::npos) << l;
  EXPECT_NE(l.find("failed"), std::string::npos) << l;
  EXPECT_NE(l.find("TCP_CHECK"), std::string::npos) << l;
  EXPECT_NE(l.find("refused"), std::string::npos) << l;
}

}  // namespace
}  // namespace vs

namespace vs {
namespace {

/// config_text with service keys after the scheduler line.
std::string with_service_keys(const std::string& keys, const std::string& check_extra = "retry = 0") {
  std::string t = config_text("", check_extra);
  const std::string anchor = "scheduler = \"rr\"\n";
  t.insert(t.find(anchor) + anchor.size(), keys + "\n");
  return t;
}

const Ipv4Addr kSorry = ip4(10, 1, 0, 99);

TEST(Health, QuorumLostBringsTheSorryServerInAndTheRealsBackOut) {
  // Weights 1 + 1 = 2 = quorum. When 10.1.0.11 fails the alive weight is 1: the quorum is lost,
  // the sorry server serves alone (keepalived: the alive reals are removed too).
  Rig r(with_service_keys("quorum = 2\nsorry_server = \"10.1.0.99:80\""));
  EXPECT_FALSE(r.in_service(kSorry));
  r.real.listening = false;
  r.run(0.5);
  EXPECT_FALSE(r.in_service(kReal));
  EXPECT_FALSE(r.in_service(kOther)) << "set aside while the sorry server serves";
  EXPECT_TRUE(r.in_service(kSorry));
  EXPECT_FALSE(r.engine.health().services()[0].quorum_up);
  r.real.listening = true;
  r.run(1.0);
  EXPECT_TRUE(r.in_service(kReal));
  EXPECT_TRUE(r.in_service(kOther));
  EXPECT_FALSE(r.in_service(kSorry));
  // Reload keeps it all as it is, the effective config included.
  ASSERT_FALSE(r.engine.reload(Rig::parse(with_service_keys("quorum = 2\nsorry_server = \"10.1.0.99:80\""))));
  EXPECT_TRUE(r.in_service(kReal));
  EXPECT_FALSE(r.in_service(kSorry));
}

TEST(Health, SorryServerInhibitKeepsItListedAtWeightZero) {
  Rig r(with_service_keys("quorum = 2\nsorry_server = \"10.1.0.99:80\"\nsorry_server_inhibit = true"));
  EXPECT_EQ(r.weight(kSorry), 0);
  r.real.listening = false;
  r.run(0.5);
  EXPECT_EQ(r.weight(kSorry), 1);
  r.real.listening = true;
  r.run(1.0);
  EXPECT_EQ(r.weight(kSorry), 0);
}

TEST(Health, HysteresisDampsTheQuorum) {
  // quorum 2, hysteresis 1: lost only below 1, regained only at 3. One real failing leaves
  // an alive weight of 1: the quorum holds, the other real keeps serving, no sorry server.
  Rig r(with_service_keys("quorum = 2\nhysteresis = 1\nsorry_server = \"10.1.0.99:80\""));
  r.real.listening = false;
  r.run(0.5);
  EXPECT_FALSE(r.in_service(kReal));
  EXPECT_TRUE(r.in_service(kOther));
  EXPECT_FALSE(r.in_service(kSorry));
  EXPECT_TRUE(r.engine.health().services()[0].quorum_up);
}

TEST(Health, SorryServerWithoutQuorumTakesOverWhenEveryRealFailed) {
  std::string t = with_service_keys("sorry_server = \"10.1.0.99:80\"");
  // both reals checked
  const std::string second = "  address = \"10.1.0.12:80\"\n  method = \"nat\"\n";
  t.replace(t.find(second), second.size(),
            second +
                "    [[services.reals.checks]]\n    type = \"TCP_CHECK\"\n    delay_loop = 1\n    connect_timeout = 1\n"
                "    warmup = 0\n    retry = 0\n    connect_ip = \"10.1.0.11\"\n");
  Rig r(t);
  r.real.listening = false;  // 10.1.0.12's checker probes 10.1.0.11 (connect_ip): both fail
  r.run(0.5);
  EXPECT_TRUE(r.in_service(kSorry));
  EXPECT_FALSE(r.in_service(kReal));
  EXPECT_FALSE(r.in_service(kOther));
}

}  // namespace
}  // namespace vs

namespace vs {
namespace {

/// MISC_CHECK's programs, as the test decides their exits.
struct FakeRunner : ScriptRunner {
  std::vector<uint32_t> started, stopped;
  std::vector<std::string> argv0;
  void start(uint32_t checker, const std::vector<std::string>& argv, const std::string&) override {
    started.push_back(checker);
    argv0.push_back(argv.front());
  }
  void stop(uint32_t checker) override { stopped.push_back(checker); }
};

TEST(Health, MiscCheckExitCodesAndDynamicWeights) {
  Rig r(
      with_check("type = \"MISC_CHECK\"\n    misc_path = \"/usr/local/bin/check-it '10.1.0.11' --fast\"\n"
                 "    misc_timeout = 0.5\n    misc_dynamic = true",
                 "weight = 3"));
  FakeRunner runner;
  r.engine.set_script_runner(&runner);
  r.run(0.1);
  ASSERT_EQ(runner.started.size(), 1u);
  EXPECT_EQ(runner.argv0[0], "/usr/local/bin/check-it");
  const auto& argv = r.engine.health().checkers()[0].cfg.misc_argv;
  EXPECT_EQ(argv, (std::vector<std::string>{"/usr/local/bin/check-it", "10.1.0.11", "--fast"}));  // no shell
  auto exit_now = [&](int status) { r.engine.script_exited(0, status, Instant::from_micros(r.now_us)); };
  exit_now(12);  // misc_dynamic: success, weight 12 - 2 = 10
  EXPECT_EQ(r.weight(kReal), 10);
  r.run(1.0);
  exit_now(0);  // success, weight unchanged
  EXPECT_EQ(r.weight(kReal), 10);
  r.run(1.0);
  exit_now(1);  // failure (MISC_CHECK's retry is 0): out
  EXPECT_FALSE(r.in_service(kReal));
  r.run(1.0);
  exit_now(2);  // success with weight 0: back, quiesced
  EXPECT_TRUE(r.in_service(kReal));
  EXPECT_EQ(r.weight(kReal), 0);
  // A program past misc_timeout is stopped and counts as a failure.
  r.run(1.6);
  EXPECT_FALSE(runner.stopped.empty());
  EXPECT_FALSE(r.in_service(kReal));
  EXPECT_EQ(r.engine.health().checkers()[0].last_reason, check::Reason::kTimeout);
}

}  // namespace
}  // namespace vs

namespace vs {
namespace {

const Ipv4Addr kClient = ip4(203, 0, 113, 50);

/// A client's SYN from kClient:port through the VIP; true if rr sent it to kReal (which does not
/// see it: the rig's sink is cleared).
bool syn_to_real(Rig& r, uint16_t port) {
  const MacAddr wan_mac = test::mac(2, 0, 0, 0, 0, 1), client_mac = test::mac(2, 0, 0, 0, 0xcc, 1);
  r.sink.sent.clear();
  auto syn = test::frame()
                 .eth(wan_mac, client_mac)
                 .ipv4(kClient, ip4(203, 0, 113, 100))
                 .tcp(port, 80, tcp_flag::kSyn)
                 .seq_ack(1000, 0)
                 .build();
  r.engine.on_frame(0, syn, Instant::from_micros(r.now_us));
  bool to_real = false;
  for (const auto& s : r.sink.sent)
    if (s.iface == 1 && test::eth_type(s.bytes) == 0x0800 && test::ip_of(s.bytes).dst() == kReal) to_real = true;
  r.sink.sent.clear();
  return to_real;
}

/// The real's answer to the client's SYN from `port`, `flags` (RST+ACK, SYN+ACK), at `at_us`.
void real_answers(Rig& r, uint16_t port, uint8_t flags, int64_t at_us) {
  auto f = test::frame()
               .eth(test::kLanMac, r.real.mac_)
               .ipv4(kReal, kClient)
               .tcp(80, port, flags)
               .seq_ack(5000, 1001)
               .build();
  r.engine.on_frame(1, f, Instant::from_micros(at_us));
}

TEST(Health, PassiveCheckCountsARealsRstToAClientsSynAtOnce) {
  Rig r(with_service_keys("passive_check = true"));
  r.run(0.5);  // the first probe passed at 0; the next is at 1
  ASSERT_TRUE(r.in_service(kReal));
  // rr over 10.1.0.11 and .12: find a SYN that goes to .11.
  uint16_t port = 40000;
  while (!syn_to_real(r, port)) ASSERT_LT(++port, 40004);
  real_answers(r, port, tcp_flag::kRst | tcp_flag::kAck, r.now_us + 200);  // the real refuses
  EXPECT_FALSE(r.in_service(kReal)) << "down at the RST, before its next probe";
  EXPECT_EQ(r.engine.health().checkers()[0].last_reason, check::Reason::kPassive);
}

TEST(Health, PassiveCheckCountsASynTheRealLeavesUnansweredPastPassiveTimeout) {
  Rig r(with_service_keys("passive_check = true\npassive_timeout = 2"));
  r.run(0.5);
  ASSERT_TRUE(r.in_service(kReal));
  uint16_t port = 40000;
  while (!syn_to_real(r, port)) ASSERT_LT(++port, 40004);
  // The probes keep passing; the client's SYN waits: within passive_timeout nothing happens.
  r.run(1.9);
  EXPECT_TRUE(r.in_service(kReal)) << "before passive_timeout";
  r.run(0.2);
  EXPECT_FALSE(r.in_service(kReal)) << "2 s after the unanswered SYN, before the next probe";
  EXPECT_EQ(r.engine.health().checkers()[0].last_reason, check::Reason::kPassiveTimeout);
  // The next probe passes (rise 1): back. A SYN the real answers in time counts nothing.
  r.run(1.5);
  ASSERT_TRUE(r.in_service(kReal));
  while (!syn_to_real(r, ++port)) ASSERT_LT(port, 40010);
  real_answers(r, port, tcp_flag::kSyn | tcp_flag::kAck, r.now_us + 300);
  r.run(3);
  EXPECT_TRUE(r.in_service(kReal)) << "an answered SYN is no failure";
  EXPECT_EQ(r.engine.health().checkers()[0].failures[static_cast<size_t>(check::Reason::kPassiveTimeout)], 1u);
}

}  // namespace
}  // namespace vs

// Tests for the TOML config loader (src/config/config.cpp): the model it fills, its defaults,
// and every validation rule with its exact message and line:column.
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

#include "config/sched_names.hpp"

namespace vs::config {
namespace {

/// One interface on 192.168.1.0/24, appended AFTER a snippet so that the snippet's line numbers
/// are its own (every snippet starts with a table header, so the order is valid TOML).
constexpr std::string_view kLan = R"(
[[interfaces]]
name = "lan"
mac = "02:00:00:00:00:01"
addresses = ["192.168.1.10/24"]
)";

std::string with_lan(std::string_view snippet) { return std::string(snippet) + std::string(kLan); }

std::shared_ptr<const Config> parse_ok(std::string_view text) {
  auto r = parse_config(text);
  if (!r) {
    ADD_FAILURE() << "rejected: " << r.error().format("config");
    return nullptr;
  }
  return r.value();
}

/// "LINE:COL: message" of the error, or "accepted".
std::string error_of(std::string_view text) {
  auto r = parse_config(text);
  if (r) return "accepted";
  const Error& e = r.error();
  return std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message;
}

// ---------------------------------------------------------------------------------------------
// The model

constexpr std::string_view kFull = R"([router]
seed = 7
max_connections = 5000

[[interfaces]]
name = "lan"
tap = "vs-lan"
mac = "02:00:00:00:00:01"
addresses = ["192.168.1.10/24", "192.168.2.1/24"]
mtu = 1400

[[interfaces]]
name = "wan"
mac = "02-00-00-00-00-02"
addresses = ["203.0.113.2/31"]

[[routes]]
to = "0.0.0.0/0"
via = "203.0.113.3"

[[routes]]
to = "10.0.0.0/8"
via = "192.168.2.254"

[timeouts]
tcp = 1000
tcpfin = 60
udp = 30

[[services]]
protocol = "tcp"
address = "192.168.1.100:80"
scheduler = "wrr"
persistence = 300
netmask = "255.255.255.0"
flags = []

  [[services.reals]]
  address = "192.168.1.11:80"
  method = "dr"
  weight = 5
  upper = 100
  lower = 50

  [[services.reals]]
  address = "10.1.2.3:8080"
  method = "nat"
  weight = 0

  [[services.reals]]
  address = "10.1.2.4"
  method = "tun"

[[services]]
protocol = "udp"
address = "203.0.113.2:53"
scheduler = "mh"
flags = ["mh-port", "ops", "mh-fallback"]
)";

TEST(ConfigTest, FullConfigFillsEveryField) {
  auto cfg = parse_ok(kFull);
  ASSERT_TRUE(cfg);

  EXPECT_EQ(cfg->router.seed, 7u);
  EXPECT_EQ(cfg->router.max_connections, 5000u);

  ASSERT_EQ(cfg->interfaces.size(), 2u);
  const Interface& lan = cfg->interfaces[0];
  EXPECT_EQ(lan.name, "lan");
  EXPECT_EQ(lan.tap, "vs-lan");
  EXPECT_EQ(lan.mac, (MacAddr{{0x02, 0, 0, 0, 0, 0x01}}));
  ASSERT_EQ(lan.addresses.size(), 2u);
  EXPECT_EQ(lan.addresses[0], (Ipv4Prefix{Ipv4Addr::from_octets(192, 168, 1, 10), 24}));
  EXPECT_EQ(lan.addresses[1], (Ipv4Prefix{Ipv4Addr::from_octets(192, 168, 2, 1), 24}));
  EXPECT_EQ(lan.mtu, 1400u);
  const Interface& wan = cfg->interfaces[1];
  EXPECT_EQ(wan.name, "wan");
  EXPECT_EQ(wan.tap, "wan");
  EXPECT_EQ(wan.mac, (MacAddr{{0x02, 0, 0, 0, 0, 0x02}}));
  ASSERT_EQ(wan.addresses.size(), 1u);
  EXPECT_EQ(wan.addresses[0], (Ipv4Prefix{Ipv4Addr::from_octets(203, 0, 113, 2), 31}));
  EXPECT_EQ(wan.mtu, 1500u);

  ASSERT_EQ(cfg->routes.size(), 2u);
  EXPECT_EQ(cfg->routes[0].to, (Ipv4Prefix{Ipv4Addr{0}, 0}));
  EXPECT_EQ(cfg->routes[0].via, Ipv4Addr::from_octets(203, 0, 113, 3));
  EXPECT_EQ(cfg->routes[0].interface, 1u);
  EXPECT_EQ(cfg->routes[1].to, (Ipv4Prefix{Ipv4Addr::from_octets(10, 0, 0, 0), 8}));
  EXPECT_EQ(cfg->routes[1].via, Ipv4Addr::from_octets(192, 168, 2, 254));
  EXPECT_EQ(cfg->routes[1].interface, 0u);

  EXPECT_EQ(cfg->timeouts.tcp, 1000u);
  EXPECT_EQ(cfg->timeouts.tcpfin, 60u);
  EXPECT_EQ(cfg->timeouts.udp, 30u);

  ASSERT_EQ(cfg->services.size(), 2u);
  const Service& web = cfg->services[0];
  EXPECT_EQ(web.protocol, IpProto::kTcp);
  EXPECT_EQ(web.vip, Ipv4Addr::from_octets(192, 168, 1, 100));
  EXPECT_EQ(web.port, 80);
  EXPECT_EQ(web.scheduler, "wrr");
  EXPECT_EQ(web.persistence, 300u);
  EXPECT_EQ(web.netmask, Ipv4Addr::from_octets(255, 255, 255, 0));
  EXPECT_EQ(web.flags, 0u);
  EXPECT_EQ(web.interface, 0u);
  ASSERT_EQ(web.reals.size(), 3u);
  EXPECT_EQ(web.reals[0].addr, Ipv4Addr::from_octets(192, 168, 1, 11));
  EXPECT_EQ(web.reals[0].port, 80);
  EXPECT_EQ(web.reals[0].method, Method::kDr);
  EXPECT_EQ(web.reals[0].weight, 5u);
  EXPECT_EQ(web.reals[0].upper, 100u);
  EXPECT_EQ(web.reals[0].lower, 50u);
  EXPECT_EQ(web.reals[1].addr, Ipv4Addr::from_octets(10, 1, 2, 3));
  EXPECT_EQ(web.reals[1].port, 8080);
  EXPECT_EQ(web.reals[1].method, Method::kNat);
  EXPECT_EQ(web.reals[1].weight, 0u);
  EXPECT_EQ(web.reals[2].addr, Ipv4Addr::from_octets(10, 1, 2, 4));
  EXPECT_EQ(web.reals[2].port, 80);  // omitted: the service port
  EXPECT_EQ(web.reals[2].method, Method::kTun);
  EXPECT_EQ(web.reals[2].weight, 1u);

  const Service& dns = cfg->services[1];
  EXPECT_EQ(dns.protocol, IpProto::kUdp);
  EXPECT_EQ(dns.vip, Ipv4Addr::from_octets(203, 0, 113, 2));
  EXPECT_EQ(dns.port, 53);
  EXPECT_EQ(dns.scheduler, "mh");
  EXPECT_EQ(dns.flags, config::kFlagMhPort | config::kFlagOps | config::kFlagMhFallback);
  EXPECT_EQ(dns.interface, 1u);
  EXPECT_TRUE(dns.reals.empty());
}

TEST(ConfigTest, Defaults) {
  auto cfg = parse_ok(with_lan(R"([[services]]
protocol = "tcp"
address = "192.168.1.100:443"
  [[services.reals]]
  address = "192.168.1.11"
)"));
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->router.seed, 1u);
  EXPECT_EQ(cfg->router.max_connections, 1048576u);
  ASSERT_EQ(cfg->interfaces.size(), 1u);
  EXPECT_EQ(cfg->interfaces[0].tap, "lan");
  EXPECT_EQ(cfg->interfaces[0].mtu, 1500u);
  EXPECT_TRUE(cfg->routes.empty());
  EXPECT_EQ(cfg->timeouts.tcp, 900u);
  EXPECT_EQ(cfg->timeouts.tcpfin, 120u);
  EXPECT_EQ(cfg->timeouts.udp, 300u);
  ASSERT_EQ(cfg->services.size(), 1u);
  const Service& s = cfg->services[0];
  EXPECT_EQ(s.scheduler, "wlc");
  EXPECT_EQ(s.persistence, 0u);
  EXPECT_EQ(s.netmask, Ipv4Addr::broadcast());
  EXPECT_EQ(s.flags, 0u);
  EXPECT_EQ(s.interface, 0u);
  ASSERT_EQ(s.reals.size(), 1u);
  EXPECT_EQ(s.reals[0].port, 443);
  EXPECT_EQ(s.reals[0].method, Method::kDr);
  EXPECT_EQ(s.reals[0].weight, 1u);
  EXPECT_EQ(s.reals[0].upper, 0u);
  EXPECT_EQ(s.reals[0].lower, 0u);
}

TEST(ConfigTest, ZeroTimeoutKeepsTheDefault) {
  auto cfg = parse_ok(with_lan(R"([timeouts]
tcp = 0
tcpfin = 0
udp = 2147483
)"));
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->timeouts.tcp, 900u);
  EXPECT_EQ(cfg->timeouts.tcpfin, 120u);
  EXPECT_EQ(cfg->timeouts.udp, 2147483u);
}

TEST(ConfigTest, InlineTablesAndAllPortsService) {
  auto cfg = parse_ok(R"(interfaces = [
  { name = "a", mac = "02:00:00:00:00:0a", addresses = ["10.0.0.1/24"] },
  { name = "b", mac = "02:00:00:00:00:0b", addresses = ["10.0.1.1/24"] },
]
services = [
  { protocol = "tcp", address = "10.0.1.50:0", persistence = 60, reals = [
      { address = "10.0.1.2" }, { address = "10.0.0.3:0", method = "nat" } ] },
]
)");
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->services.size(), 1u);
  const Service& s = cfg->services[0];
  EXPECT_EQ(s.port, 0);
  EXPECT_EQ(s.interface, 1u);
  ASSERT_EQ(s.reals.size(), 2u);
  EXPECT_EQ(s.reals[0].port, 0);
  EXPECT_EQ(s.reals[1].port, 0);
}

TEST(ConfigTest, AcceptedEdgeCases) {
  // /31 and /32 addresses have no network/broadcast address; secondary addresses in one subnet of
  // the same interface are fine; the VIP may be the router's own address; tcp and udp services may
  // share VIP:port; nat may change the port and reach a real off the connected subnets.
  EXPECT_EQ(error_of(R"([[interfaces]]
name = "p2p"
mac = "02:00:00:00:00:01"
addresses = ["10.0.0.0/31", "10.9.9.9/32", "192.168.1.10/24", "192.168.1.11/24"]

[[services]]
protocol = "tcp"
address = "192.168.1.10:53"
  [[services.reals]]
  address = "172.16.0.1:5353"
  method = "nat"

[[services]]
protocol = "udp"
address = "192.168.1.10:53"
)"),
            "accepted");
}

TEST(ConfigTest, Names) {
  EXPECT_EQ(protocol_name(IpProto::kTcp), "tcp");
  EXPECT_EQ(protocol_name(IpProto::kUdp), "udp");
  EXPECT_EQ(method_name(Method::kNat), "nat");
  EXPECT_EQ(method_name(Method::kDr), "dr");
  EXPECT_EQ(method_name(Method::kTun), "tun");
}

// ---------------------------------------------------------------------------------------------
// Files

TEST(ConfigTest, LoadConfigReadsAFile) {
  std::string path = testing::TempDir() + "vsrouter_config_test.toml";
  {
    std::ofstream out(path);
    out << kLan;
  }
  auto r = load_config(path);
  std::remove(path.c_str());
  ASSERT_TRUE(r) << r.error().format(path);
  EXPECT_EQ(r.value()->interfaces.size(), 1u);
}

TEST(ConfigTest, UnreadableFileIsAnErrorWithoutPosition) {
  auto r = load_config("/nonexistent/vsrouter.toml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().line, 0u);
  EXPECT_EQ(r.error().column, 0u);
  EXPECT_EQ(r.error().format("/nonexistent/vsrouter.toml"),
            "/nonexistent/vsrouter.toml: cannot read config: No such file or directory");
}

TEST(ConfigTest, ErrorFormat) {
  auto r = parse_config("[[interfaces]]\nname = \"lan\"\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().format("r.toml"), "r.toml:1:1: missing key \"mac\" in [[interfaces]]");
}

// ---------------------------------------------------------------------------------------------
// Syntax, unknown keys, types, ranges, missing keys

TEST(ConfigErrorTest, TomlSyntax) {
  EXPECT_EQ(error_of("[router]\nseed = \n"), "2:8: Error while parsing key-value pair: expected value, saw '\\n'");
  EXPECT_EQ(error_of("[router\n"), "1:8: Error while parsing table header: expected ']', saw '\\n'");
  EXPECT_EQ(error_of("[router]\nseed = 1\nseed = 2\n"),
            "3:8: Error while parsing key-value pair: cannot redefine existing integer 'seed'");
}

TEST(ConfigErrorTest, UnknownKeys) {
  EXPECT_EQ(error_of(with_lan("[[service]]\nprotocol = \"tcp\"\n")),
            "1:3: unknown key \"service\" at top level; did you mean \"services\"?");
  EXPECT_EQ(error_of(with_lan("[routr]\n")), "1:2: unknown key \"routr\" at top level; did you mean \"router\"?");
  EXPECT_EQ(error_of(with_lan("[router]\nsed = 3\n")), "2:1: unknown key \"sed\" in [router]; did you mean \"seed\"?");
  EXPECT_EQ(error_of(with_lan("[router]\nworkers = 3\n")), "2:1: unknown key \"workers\" in [router]");
  EXPECT_EQ(error_of(R"([[interfaces]]
name = "lan"
mac = "02:00:00:00:00:01"
address = ["192.168.1.10/24"]
)"),
            "4:1: unknown key \"address\" in [[interfaces]]; did you mean \"addresses\"?");
  EXPECT_EQ(error_of(with_lan("[[routes]]\nto = \"0.0.0.0/0\"\ngateway = \"192.168.1.1\"\n")),
            "3:1: unknown key \"gateway\" in [[routes]]");
  EXPECT_EQ(error_of(with_lan("[timeouts]\ntcp_fin = 10\n")),
            "2:1: unknown key \"tcp_fin\" in [timeouts]; did you mean \"tcpfin\"?");
  EXPECT_EQ(error_of(with_lan("[[services]]\nprotocol = \"tcp\"\naddress = \"192.168.1.100:80\"\nsheduler = \"rr\"\n")),
            "4:1: unknown key \"sheduler\" in [[services]]; did you mean \"scheduler\"?");
  EXPECT_EQ(error_of(with_lan(R"([[services]]
protocol = "tcp"
address = "192.168.1.100:80"
  [[services.reals]]
  address = "192.168.1.11:80"
  wieght = 5
)")),
            "6:3: unknown key \"wieght\" in [[services.reals]]; did you mean \"weight\"?");
}

TEST(ConfigErrorTest, FirstUnknownKeyInFileOrder) {
  // "zzz" sorts after "aaa" but comes first in the file.
  EXPECT_EQ(error_of(with_lan("[router]\nzzz = 1\naaa = 2\n")), "2:1: unknown key \"zzz\" in [router]");
}

TEST(ConfigErrorTest, UnknownKeyBeforeMissingKey) {
  EXPECT_EQ(error_of("[[interfaces]]\nname = \"lan\"\nmca = \"02:00:00:00:00:01\"\n"),
            "3:1: unknown key \"mca\" in [[interfaces]]; did you mean \"mac\"?");
}

TEST(ConfigErrorTest, WrongTypes) {
  EXPECT_EQ(error_of(with_lan("[router]\nseed = \"1\"\n")), "2:8: \"seed\" must be an integer");
  EXPECT_EQ(error_of(with_lan("[router]\nmax_connections = 1.5\n")), "2:19: \"max_connections\" must be an integer");
  EXPECT_EQ(error_of("router = 1\n" + std::string(kLan)), "1:10: \"router\" must be a table");
  EXPECT_EQ(error_of("timeouts = [1]\n" + std::string(kLan)), "1:12: \"timeouts\" must be a table");
  EXPECT_EQ(error_of(with_lan("[[router]]\nseed = 1\n")), "1:1: \"router\" must be a table; did you mean [router]?");
  EXPECT_EQ(error_of(with_lan("[services]\nprotocol = \"tcp\"\n")),
            "1:1: \"services\" must be an array of tables; did you mean [[services]]?");
  EXPECT_EQ(error_of(with_lan(R"([[services]]
protocol = "tcp"
address = "192.168.1.100:80"
[services.reals]
address = "192.168.1.11"
)")),
            "4:1: \"reals\" must be an array of tables; did you mean [[services.reals]]?");
  EXPECT_EQ(error_of("[interfaces]\nname = \"lan\"\n"),
            "1:1: \"interfaces\" must be an array of tables; did you mean [[interfaces]]?");
  EXPECT_EQ(error_of("interfaces = [1]\n"), "1:15: \"interfaces\" must be an array of tables");
  EXPECT_EQ(error_of("[[interfaces]]\nname = 1\n"), "2:8: \"name\" must be a string");
  EXPECT_EQ(error_of("[[interfaces]]\nname = \"lan\"\nmac = true\n"), "3:7: \"mac\" must be a string");
  EXPECT_EQ(error_of(R"([[interfaces]]
name = "lan"
mac = "02:00:00:00:00:01"
addresses = "192.168.1.10/24"
)"),
            "4:13: \"addresses\" must be an array of strings");
  EXPECT_EQ(error_of(R"([[interfaces]]
name = "lan"
mac = "02:00:00:00:00:01"
addresses = ["192.168.1.10/24", 5]
)"),
            "4:33: \"addresses\" must be an array of strings");
  EXPECT_EQ(error_of(with_lan("[[services]]\nprotocol = \"tcp\"\naddress = \"192.168.1.100:80\"\nflags = \"ops\"\n")),
            "4:9: \"flags\" must be an array of strings");
  EXPECT_EQ(error_of(with_lan("[[services]]\nprotocol = 6\n")), "2:12: \"protocol\" must be a string");
  EXPECT_EQ(error_of(with_lan("[[services]]\nprotocol = \"tcp\"\naddress = \"192.168.1.100:80\"\nreals = 1\n")),
            "4:9: \"reals\" must be an array of tables");
  EXPECT_EQ(error_of(with_lan(R"([[services]]
protocol = "tcp"
address = "192.168.1.100:80"
  [[services.reals]]
  address = "192.168.1.11"
  weight = 1.0
)")),
            "6:12: \"weight\" must be an integer");
}

TEST(ConfigErrorTest, IntegerRanges) {
  EXPECT_EQ(error_of(with_lan("[router]\nseed = -1\n")), "2:8: \"seed\" must be at least 0");
  EXPECT_EQ(error_of(with_lan("[router]\nmax_connections = 0\n")),
            "2:19: \"max_connections\" must be between 1 and 16777216");
  EXPECT_EQ(error_of(with_lan("[router]\nmax_connections = 16777217\n")),
            "2:19: \"max_connections\" must be between 1 and 16777216");
  EXPECT_EQ(error_of(R"([[interfaces]]
name = "lan"
mac = "02:00:00:00:00:01"
addresses = ["192.168.1.10/24"]
mtu = 67
)"),
            "5:7: \"mtu\" must be between 68 and 9000");
  EXPECT_EQ(error_of(with_lan("[timeouts]\ntcpfin = 31536001\n")), "2:10: \"tcpfin\" must be between 0 and 2147483");
  EXPECT_EQ(error_of(with_lan("[timeouts]\nudp = -5\n")), "2:7: \"udp\" must be between 0 and 2147483");
  EXPECT_EQ(
      error_of(with_lan("[[services]]\nprotocol = \"tcp\"\naddress = \"192.168.1.100:80\"\npersistence = 2678401\n")),
      "4:15: \"persistence\" must be between 0 and 2678400");
  constexpr std::string_view kService = R"([[services]]
protocol = "tcp"
address = "192.168.1.100:80"
  [[services.reals]]
  address = "192.168.1.11"
)";
  EXPECT_EQ(error_of(with_lan(std::string(kService) + "  weight = 2147483648\n")),
            "6:12: \"weight\" must be between 0 and 2147483647");
  EXPECT_EQ(error_of(with_lan(std::string(kService) + "  upper = 2147483648\n")),
            "6:11: \"upper\" must be between 0 and 2147483647");
  EXPECT_EQ(error_of(with_lan(std::string(kService) + "  lower = -1\n")),
            "6:11: \"lower\" must be between 0 and 2147483647");
}

TEST(ConfigErrorTest, MissingKeys) {
  EXPECT_EQ(error_of(""), "1:1: missing key \"interfaces\" at top level");
  EXPECT_EQ(error_of("[router]\nseed = 1\n"), "1:1: missing key \"interfaces\" at top level");
  EXPECT_EQ(error_of("interfaces = []\n"), "1:14: \"interfaces\" must not be empty");
  EXPECT_EQ(error_of("[[interfaces]]\nmac = \"02:00:00:00:00:01\"\n"), "1:1: missing key \"name\" in [[interfaces]]");
  EXPECT_EQ(error_of("\n\n[[interfaces]]\nname = \"lan\"\naddresses = [\"192.168.1.10/24\"]\n"),
            "3:1: missing key \"mac\" in [[interfaces]]");
  EXPECT_EQ(error_of("[[interfaces]]\nname = \"lan\"\nmac = \"02:00:00:00:00:01\"\n"),
            "1:1: missing key \"addresses\" in [[interfaces]]");
  EXPECT_EQ(error_of("[[interfaces]]\nname = \"lan\"\nmac = \"02:00:00:00:00:01\"\naddresses = []\n"),
            "4:13: \"addresses\" must not be empty");
  EXPECT_EQ(error_of(with_lan("[[routes]]\nvia = \"192.168.1.1\"\n")), "1:1: missing key \"to\" in [[routes]]");
  EXPECT_EQ(error_of(with_lan("[[routes]]\nto = \"10.0.0.0/8\"\n")), "1:1: missing key \"via\" in [[routes]]");
  EXPECT_EQ(error_of(with_lan("[[services]]\naddress = \"192.168.1.100:80\"\n")),
            "1:1: missing key \"protocol\" in [[services]]");
  EXPECT_EQ(error_of(with_lan("[[services]]\nprotocol = \"udp\"\n")), "1:1: missing key \"address\" in [[services]]");
  EXPECT_EQ(error_of(with_lan(R"([[services]]
protocol = "tcp"
address = "192.168.1.100:80"

  [[services.reals]]
  weight = 2
)")),
            "5:3: missing key \"address\" in [[services.reals]]");
  EXPECT_EQ(error_of(with_lan(R"([[services]]
protocol = "tcp"
address = "192.168.1.100:80"
reals = [{ address = "192.168.1.11" }, { weight = 2 }]
)")),
            "4:40: missing key \"address\" in [[services.reals]]");
}

// ---------------------------------------------------------------------------------------------
// [[interfaces]]

/// An interface table whose `key = value` line is line 2 (and replaces that key's default).
std::string iface(std::string_view line) {
  std::string text = "[[interfaces]]\n" + std::string(line) + "\n";
  if (line.substr(0, 5) != "name ") text += "name = \"lan\"\n";
  if (line.substr(0, 4) != "mac ") text += "mac = \"02:00:00:00:00:01\"\n";
  if (line.substr(0, 10) != "addresses ") text += "addresses = [\"192.168.1.10/24\"]\n";
  return text;
}

TEST(ConfigErrorTest, InterfaceName) {
  EXPECT_EQ(error_of(iface("name = \"\"")),
            "2:8: bad interface name \"\"; expected 1 to 15 characters of A-Z a-z 0-9 _ . -");
  EXPECT_EQ(error_of(iface("name = \"lan 1\"")),
            "2:8: bad interface name \"lan 1\"; expected 1 to 15 characters of A-Z a-z 0-9 _ . -");
  EXPECT_EQ(error_of(iface("name = \"abcdefghijklmnop\"")),
            "2:8: bad interface name \"abcdefghijklmnop\"; expected 1 to 15 characters of A-Z a-z 0-9 _ . -");
  EXPECT_EQ(error_of(iface("name = \"a\\\"b\"")),
            "2:8: bad interface name \"a\\\"b\"; expected 1 to 15 characters of A-Z a-z 0-9 _ . -");
  EXPECT_EQ(error_of(iface("name = \"abcdefghijklmno\"")), "accepted");  // 15 characters
  EXPECT_EQ(error_of(R"([[interfaces]]
name = "lan"
mac = "02:00:00:00:00:01"
addresses = ["192.168.1.10/24"]

[[interfaces]]
name = "lan"
mac = "02:00:00:00:00:02"
addresses = ["10.0.0.1/24"]
)"),
            "7:8: duplicate interface name \"lan\"; first defined at line 1");
}

TEST(ConfigErrorTest, InterfaceTap) {
  EXPECT_EQ(error_of(iface("tap = \"vs/lan\"")),
            "2:7: bad tap name \"vs/lan\"; expected 1 to 15 characters without '/', ':' or spaces");
  EXPECT_EQ(error_of(iface("tap = \"\"")),
            "2:7: bad tap name \"\"; expected 1 to 15 characters without '/', ':' or spaces");
  EXPECT_EQ(error_of(iface("tap = \"tap-device-number-1\"")),
            "2:7: bad tap name \"tap-device-number-1\"; expected 1 to 15 characters without '/', ':' or spaces");
  EXPECT_EQ(error_of(iface("tap = \"vs:lan\"")),
            "2:7: bad tap name \"vs:lan\"; expected 1 to 15 characters without '/', ':' or spaces");
  EXPECT_EQ(error_of(R"([[interfaces]]
name = "a"
tap = "vs0"
mac = "02:00:00:00:00:01"
addresses = ["10.0.0.1/24"]

[[interfaces]]
name = "b"
tap = "vs0"
mac = "02:00:00:00:00:02"
addresses = ["10.0.1.1/24"]
)"),
            "9:7: tap \"vs0\" is already used by interface \"a\"");
  EXPECT_EQ(error_of(R"([[interfaces]]
name = "a"
tap = "b"
mac = "02:00:00:00:00:01"
addresses = ["10.0.0.1/24"]

[[interfaces]]
name = "b"
mac = "02:00:00:00:00:02"
addresses = ["10.0.1.1/24"]
)"),
            "8:8: tap \"b\" is already used by interface \"a\" (tap defaults to name)");
}

TEST(ConfigErrorTest, InterfaceMac) {
  EXPECT_EQ(error_of(iface("mac = \"02:00:00:00:00\"")), "2:7: bad MAC address \"02:00:00:00:00\"");
  EXPECT_EQ(error_of(iface("mac = \"02:00:00:00:00:0g\"")), "2:7: bad MAC address \"02:00:00:00:00:0g\"");
  EXPECT_EQ(error_of(iface("mac = \"01:00:5e:00:00:01\"")),
            "2:7: MAC address 01:00:5e:00:00:01 is a multicast address; an interface needs a unicast one");
  EXPECT_EQ(error_of(iface("mac = \"ff:ff:ff:ff:ff:ff\"")),
            "2:7: MAC address ff:ff:ff:ff:ff:ff is the broadcast address");
  EXPECT_EQ(error_of(iface("mac = \"00:00:00:00:00:00\"")), "2:7: MAC address 00:00:00:00:00:00 is all-zero");
  EXPECT_EQ(error_of(R"([[interfaces]]
name = "a"
mac = "02:00:00:00:00:01"
addresses = ["10.0.0.1/24"]

[[interfaces]]
name = "b"
mac = "02:00:00:00:00:01"
addresses = ["10.0.1.1/24"]
)"),
            "8:7: MAC address 02:00:00:00:00:01 is already used by interface \"a\"");
}

TEST(ConfigErrorTest, InterfaceAddresses) {
  EXPECT_EQ(error_of(iface("addresses = [\"192.168.1.300/24\"]")), "2:14: bad IPv4 prefix \"192.168.1.300/24\"");
  EXPECT_EQ(error_of(iface("addresses = [\"192.168.1.10\"]")), "2:14: bad IPv4 prefix \"192.168.1.10\"");
  EXPECT_EQ(error_of(iface("addresses = [\"192.168.1.10/33\"]")), "2:14: bad IPv4 prefix \"192.168.1.10/33\"");
  EXPECT_EQ(error_of(iface("addresses = [\"192.168.1.10/0\"]")),
            "2:14: address 192.168.1.10/0 needs a prefix length of 1 to 32");
  EXPECT_EQ(error_of(iface("addresses = [\"192.168.1.0/24\"]")),
            "2:14: address 192.168.1.0/24 is the network address of its prefix");
  EXPECT_EQ(error_of(iface("addresses = [\"192.168.1.255/24\"]")),
            "2:14: address 192.168.1.255/24 is the broadcast address of its prefix");
  EXPECT_EQ(error_of(iface("addresses = [\"10.0.0.1/30\", \"10.0.0.7/30\"]")),
            "2:29: address 10.0.0.7/30 is the broadcast address of its prefix");
  EXPECT_EQ(error_of(iface("addresses = [\"0.0.0.0/32\"]")), "2:14: address 0.0.0.0 is the unspecified address");
  EXPECT_EQ(error_of(iface("addresses = [\"224.0.0.5/32\"]")), "2:14: address 224.0.0.5 is a multicast address");
  EXPECT_EQ(error_of(iface("addresses = [\"127.0.0.2/8\"]")), "2:14: address 127.0.0.2 is a loopback address");
  EXPECT_EQ(error_of(iface("addresses = [\"255.255.255.255/32\"]")),
            "2:14: address 255.255.255.255 is the broadcast address");
  EXPECT_EQ(error_of(iface("addresses = [\"10.0.0.1/24\", \"10.0.0.1/16\"]")),
            "2:29: address 10.0.0.1 appears twice in interface \"lan\"");
  EXPECT_EQ(error_of(R"([[interfaces]]
name = "a"
mac = "02:00:00:00:00:01"
addresses = ["10.0.0.1/24"]

[[interfaces]]
name = "b"
mac = "02:00:00:00:00:02"
addresses = ["10.0.1.1/24", "10.0.0.1/32"]
)"),
            "9:29: address 10.0.0.1 is already assigned to interface \"a\"");
  EXPECT_EQ(error_of(R"([[interfaces]]
name = "a"
mac = "02:00:00:00:00:01"
addresses = ["10.0.0.1/24"]

[[interfaces]]
name = "b"
mac = "02:00:00:00:00:02"
addresses = ["10.0.0.129/25"]
)"),
            "9:14: subnet 10.0.0.128/25 overlaps subnet 10.0.0.0/24 of interface \"a\"");
}

// ---------------------------------------------------------------------------------------------
// [[routes]]

TEST(ConfigErrorTest, Routes) {
  EXPECT_EQ(error_of(with_lan("[[routes]]\nto = \"10.0.0.0\"\nvia = \"192.168.1.1\"\n")),
            "2:6: bad IPv4 prefix \"10.0.0.0\"");
  EXPECT_EQ(error_of(with_lan("[[routes]]\nto = \"10.1.2.3/8\"\nvia = \"192.168.1.1\"\n")),
            "2:6: route 10.1.2.3/8 has host bits set; did you mean 10.0.0.0/8?");
  EXPECT_EQ(error_of(with_lan(R"([[routes]]
to = "10.0.0.0/8"
via = "192.168.1.1"

[[routes]]
to = "10.0.0.0/8"
via = "192.168.1.2"
)")),
            "6:6: duplicate route 10.0.0.0/8; first defined at line 1");
  EXPECT_EQ(error_of(with_lan("[[routes]]\nto = \"0.0.0.0/0\"\nvia = \"192.168.1\"\n")),
            "3:7: bad IPv4 address \"192.168.1\"");
  EXPECT_EQ(error_of(with_lan("[[routes]]\nto = \"0.0.0.0/0\"\nvia = \"10.0.0.1\"\n")),
            "3:7: next hop 10.0.0.1 is on no interface's connected subnet");
  EXPECT_EQ(error_of(with_lan("[[routes]]\nto = \"0.0.0.0/0\"\nvia = \"192.168.1.10\"\n")),
            "3:7: next hop 192.168.1.10 is the router's own address on interface \"lan\"");
  EXPECT_EQ(error_of(with_lan("[[routes]]\nto = \"0.0.0.0/0\"\nvia = \"192.168.1.255\"\n")),
            "3:7: next hop 192.168.1.255 is the broadcast address of 192.168.1.0/24 on interface \"lan\"");
  EXPECT_EQ(error_of(with_lan("[[routes]]\nto = \"0.0.0.0/0\"\nvia = \"0.0.0.0\"\n")),
            "3:7: next hop 0.0.0.0 is the unspecified address");
}

// ---------------------------------------------------------------------------------------------
// [[services]]

/// A service on line 1.. with `protocol` on line 2, `address` on line 3, then `rest`.
std::string service(std::string_view address, std::string_view rest = "", std::string_view protocol = "tcp") {
  return with_lan("[[services]]\nprotocol = \"" + std::string(protocol) + "\"\naddress = \"" + std::string(address) +
                  "\"\n" + std::string(rest));
}

TEST(ConfigErrorTest, ServiceProtocolAndAddress) {
  EXPECT_EQ(error_of(service("192.168.1.100:80", "", "sctp")),
            "2:12: unknown protocol \"sctp\"; expected one of: tcp udp");
  EXPECT_EQ(error_of(service("192.168.1.100")),
            "3:11: bad service address \"192.168.1.100\"; expected \"a.b.c.d:port\" or \"[2001:db8::1]:port\"");
  EXPECT_EQ(error_of(service("192.168.1.100:65536")),
            "3:11: bad service address \"192.168.1.100:65536\"; expected \"a.b.c.d:port\" or \"[2001:db8::1]:port\"");
  EXPECT_EQ(error_of(service("0.0.0.0:80")), "3:11: VIP 0.0.0.0 is the unspecified address");
  EXPECT_EQ(error_of(service("239.1.1.1:80")), "3:11: VIP 239.1.1.1 is a multicast address");
  EXPECT_EQ(error_of(service("255.255.255.255:80")), "3:11: VIP 255.255.255.255 is the broadcast address");
  EXPECT_EQ(error_of(service("10.9.9.9:80")), "3:11: VIP 10.9.9.9 is on no interface's connected subnet");
  EXPECT_EQ(error_of(service("192.168.1.255:80")),
            "3:11: VIP 192.168.1.255 is the broadcast address of 192.168.1.0/24 on interface \"lan\"");
}

TEST(ConfigErrorTest, ServiceScheduler) {
  EXPECT_EQ(error_of(service("192.168.1.100:80", "scheduler = \"wrrr\"\n")),
            "4:13: unknown scheduler \"wrrr\"; expected one of: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf "
            "mh twos");
  for (std::string_view name : config::kSchedulerNames)
    EXPECT_EQ(error_of(service("192.168.1.100:80", "scheduler = \"" + std::string(name) + "\"\n")), "accepted") << name;
}

TEST(ConfigErrorTest, ServiceNetmask) {
  EXPECT_EQ(error_of(service("192.168.1.100:80", "netmask = \"255.255.0\"\n")), "4:11: bad netmask \"255.255.0\"");
  EXPECT_EQ(error_of(service("192.168.1.100:80", "netmask = \"255.0.255.0\"\n")),
            "4:11: netmask 255.0.255.0 is not contiguous");
}

TEST(ConfigErrorTest, ServiceFlags) {
  EXPECT_EQ(error_of(service("192.168.1.100:80", "flags = [\"sh-prot\"]\n")),
            "4:10: unknown flag \"sh-prot\"; expected one of: sh-fallback sh-port mh-fallback mh-port ops");
  EXPECT_EQ(error_of(service("192.168.1.100:80", "flags = [\"sh-port\"]\n")),
            "4:10: incompatible scheduler flag \"sh-port\" for scheduler \"wlc\"; it needs scheduler \"sh\"");
  EXPECT_EQ(error_of(service("192.168.1.100:80", "scheduler = \"sh\"\nflags = [\"sh-port\", \"mh-fallback\"]\n")),
            "5:21: incompatible scheduler flag \"mh-fallback\" for scheduler \"sh\"; it needs scheduler \"mh\"");
  EXPECT_EQ(error_of(service("192.168.1.100:80", "scheduler = \"sh\"\nflags = [\"sh-port\", \"sh-port\"]\n")),
            "5:21: duplicate flag \"sh-port\"");
  EXPECT_EQ(error_of(service("192.168.1.100:80", "flags = [\"ops\"]\n")),
            "4:10: ops (one-packet scheduling) is only for udp services");
  EXPECT_EQ(error_of(service("192.168.1.100:80", "flags = [\"ops\"]\n", "udp")), "accepted");
}

TEST(ConfigErrorTest, ServicePortZeroNeedsPersistence) {
  EXPECT_EQ(error_of(service("192.168.1.100:0")), "3:11: port 0 (all ports) needs persistence");
  EXPECT_EQ(error_of(service("192.168.1.100:0", "persistence = 1\n")), "accepted");
}

TEST(ConfigErrorTest, DuplicateService) {
  EXPECT_EQ(error_of(with_lan(R"([[services]]
protocol = "udp"
address = "192.168.1.100:53"

[[services]]
protocol = "udp"
address = "192.168.1.100:53"
)")),
            "7:11: duplicate service udp 192.168.1.100:53; first defined at line 1");
}

// ---------------------------------------------------------------------------------------------
// [[services.reals]]

/// A persistent service at `vip` whose one real is the table on line 5 with `address` on line 6,
/// followed by `rest` from line 7.
std::string real(std::string_view address, std::string_view rest = "", std::string_view vip = "192.168.1.100:80") {
  return service(vip, "persistence = 60\n  [[services.reals]]\n  address = \"" + std::string(address) + "\"\n" +
                          std::string(rest));
}

TEST(ConfigErrorTest, RealAddress) {
  EXPECT_EQ(error_of(real("192.168.1.11:80:1")),
            "6:13: bad real server address \"192.168.1.11:80:1\"; expected \"a.b.c.d:port\", \"a.b.c.d\", "
            "\"[2001:db8::1]:port\" or \"[2001:db8::1]\"");
  EXPECT_EQ(error_of(real("192.168.1.1111")),
            "6:13: bad real server address \"192.168.1.1111\"; expected \"a.b.c.d:port\", \"a.b.c.d\", "
            "\"[2001:db8::1]:port\" or \"[2001:db8::1]\"");
  EXPECT_EQ(error_of(real("224.0.0.1")), "6:13: real server 224.0.0.1 is a multicast address");
  EXPECT_EQ(error_of(real("192.168.1.0")),
            "6:13: real server 192.168.1.0 is the network address of 192.168.1.0/24 on interface \"lan\"");
  EXPECT_EQ(error_of(real("192.168.1.10")),
            "6:13: real server 192.168.1.10 is the router's own address on interface \"lan\"");
}

TEST(ConfigErrorTest, RealMethod) {
  EXPECT_EQ(error_of(real("192.168.1.11", "  method = \"masq\"\n")),
            "7:12: unknown method \"masq\"; expected one of: nat dr tun");
  EXPECT_EQ(error_of(real("192.168.1.11", "  method = \"DR\"\n")),
            "7:12: unknown method \"DR\"; expected one of: nat dr tun");
}

TEST(ConfigErrorTest, RealPorts) {
  EXPECT_EQ(error_of(real("192.168.1.11:8080")),
            "6:13: method dr cannot change the port: real port 8080 differs from service port 80");
  EXPECT_EQ(error_of(real("10.0.0.1:8080", "  method = \"tun\"\n")),
            "6:13: method tun cannot change the port: real port 8080 differs from service port 80");
  EXPECT_EQ(error_of(real("10.0.0.1:8080", "  method = \"nat\"\n")), "accepted");
  EXPECT_EQ(error_of(real("192.168.1.11:0")), "6:13: real port 0 is only for a port-0 (all ports) service");
  EXPECT_EQ(error_of(real("192.168.1.11:80", "", "192.168.1.100:0")),
            "6:13: real port 80 must be 0 or omitted for a port-0 (all ports) service");
  EXPECT_EQ(error_of(real("10.0.0.1:80", "  method = \"nat\"\n", "192.168.1.100:0")),
            "6:13: real port 80 must be 0 or omitted for a port-0 (all ports) service");
  EXPECT_EQ(error_of(real("192.168.1.11:0", "", "192.168.1.100:0")), "accepted");
  EXPECT_EQ(error_of(real("192.168.1.11", "", "192.168.1.100:0")), "accepted");
}

TEST(ConfigErrorTest, DrRealMustBeOnLink) {
  EXPECT_EQ(error_of(real("10.0.0.1")),
            "6:13: real server 10.0.0.1 is on no interface's connected subnet; method dr needs the real "
            "server on-link");
  EXPECT_EQ(error_of(real("10.0.0.1", "  method = \"tun\"\n")), "accepted");
}

TEST(ConfigErrorTest, DuplicateReal) {
  EXPECT_EQ(error_of(real("192.168.1.11", R"(
  [[services.reals]]
  address = "192.168.1.11:80"
)")),
            "9:13: duplicate real server 192.168.1.11:80 in this service; first defined at line 5");
  // The same real in two services is fine.
  EXPECT_EQ(error_of(with_lan(R"([[services]]
protocol = "tcp"
address = "192.168.1.100:80"
reals = [{ address = "192.168.1.11" }]

[[services]]
protocol = "udp"
address = "192.168.1.100:80"
reals = [{ address = "192.168.1.11" }]
)")),
            "accepted");
}

}  // namespace
}  // namespace vs::config

namespace {

constexpr const char* kDrainBase = R"(
[[interfaces]]
name = "lan"
mac = "02:00:00:00:00:01"
addresses = ["192.168.1.10/24"]

[[services]]
protocol = "tcp"
address = "192.168.1.100:80"
)";

}  // namespace

TEST(ConfigDrain, DefaultsToDropAsIpvs) {
  auto r = vs::config::parse_config(kDrainBase);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value()->services[0].drain, vs::config::Drain::kDrop);
}

TEST(ConfigDrain, AcceptsReschedule) {
  auto r = vs::config::parse_config(std::string(kDrainBase) + "drain = \"reschedule\"\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value()->services[0].drain, vs::config::Drain::kReschedule);
}

TEST(ConfigDrain, RejectsUnknownPolicyAtItsPosition) {
  auto r = vs::config::parse_config(std::string(kDrainBase) + "drain = \"expire\"\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "unknown drain policy \"expire\"; expected one of: drop reschedule");
  EXPECT_EQ(r.error().line, 10u);  // line 1 is the empty line after R"(
  EXPECT_EQ(r.error().column, 9u);
}

// ---------------------------------------------------------------------------------------------
// [defense] (docs/config.md, docs/hardening.md)

namespace vs::config {
namespace {

// Found by fuzz_config: toml++ quotes the offending input in some descriptions, a newline
// included, which broke the one-line FILE:LINE:COL message (tests/fuzz/corpus/config/regress-*).
TEST(ConfigErrorTest, TomlSyntaxMessagesStayOnOneLine) {
  EXPECT_EQ(error_of("a = t\n"), "1:6: Error while parsing boolean: expected 'true', saw 't\\x0a'");
}

TEST(ConfigDefense, Defaults) {
  auto cfg = parse_ok(std::string(kLan));
  ASSERT_TRUE(cfg);
  EXPECT_TRUE(cfg->defense.drop_entry);
  EXPECT_EQ(cfg->defense.secure_tcp, DefenseMode::kAuto);
  EXPECT_EQ(cfg->defense.high_water, 90u);
  EXPECT_EQ(cfg->defense.syn_timeout, 5u);
}

TEST(ConfigDefense, EveryKey) {
  auto cfg = parse_ok(with_lan(R"([defense]
drop_entry = false
secure_tcp = "always"
high_water = 100
syn_timeout = 60
)"));
  ASSERT_TRUE(cfg);
  EXPECT_FALSE(cfg->defense.drop_entry);
  EXPECT_EQ(cfg->defense.secure_tcp, DefenseMode::kAlways);
  EXPECT_EQ(cfg->defense.high_water, 100u);
  EXPECT_EQ(cfg->defense.syn_timeout, 60u);
  auto off = parse_ok(with_lan("[defense]\nsecure_tcp = \"off\"\nhigh_water = 1\nsyn_timeout = 1\n"));
  ASSERT_TRUE(off);
  EXPECT_EQ(off->defense.secure_tcp, DefenseMode::kOff);
  EXPECT_EQ(off->defense.high_water, 1u);
  EXPECT_EQ(off->defense.syn_timeout, 1u);
  auto inl = parse_ok("defense = { secure_tcp = \"auto\", drop_entry = true }\n" + std::string(kLan));
  ASSERT_TRUE(inl);
  EXPECT_EQ(inl->defense.secure_tcp, DefenseMode::kAuto);
}

// [ipvs]: the kernel's sloppy_tcp / sloppy_sctp sysctls, off by default.
TEST(ConfigIpvs, SloppyDefaultsOffAndParses) {
  auto cfg = parse_ok(std::string(kLan));
  ASSERT_TRUE(cfg);
  EXPECT_FALSE(cfg->ipvs.sloppy_tcp);
  EXPECT_FALSE(cfg->ipvs.sloppy_sctp);
  auto on = parse_ok(with_lan("[ipvs]\nsloppy_tcp = true\nsloppy_sctp = true\n"));
  ASSERT_TRUE(on);
  EXPECT_TRUE(on->ipvs.sloppy_tcp);
  EXPECT_TRUE(on->ipvs.sloppy_sctp);
  EXPECT_EQ(error_of(with_lan("[ipvs]\nsloppy_tcp = 1\n")), "2:14: \"sloppy_tcp\" must be a boolean");
  EXPECT_EQ(error_of(with_lan("[ipvs]\nsloppy_udp = true\n")),
            "2:1: unknown key \"sloppy_udp\" in [ipvs]; did you mean \"sloppy_tcp\"?");
  EXPECT_EQ(error_of("ipvs = 1\n" + std::string(kLan)), "1:8: \"ipvs\" must be a table");
}

TEST(ConfigDefense, Names) {
  EXPECT_EQ(defense_mode_name(DefenseMode::kOff), "off");
  EXPECT_EQ(defense_mode_name(DefenseMode::kAuto), "auto");
  EXPECT_EQ(defense_mode_name(DefenseMode::kAlways), "always");
}

TEST(ConfigDefense, Errors) {
  EXPECT_EQ(error_of(with_lan("[defence]\n")), "1:2: unknown key \"defence\" at top level; did you mean \"defense\"?");
  EXPECT_EQ(error_of(with_lan("[defense]\ndropentry = true\n")),
            "2:1: unknown key \"dropentry\" in [defense]; did you mean \"drop_entry\"?");
  EXPECT_EQ(error_of(with_lan("[defense]\namemthresh = 1024\n")), "2:1: unknown key \"amemthresh\" in [defense]");
  EXPECT_EQ(error_of(with_lan("[defense]\ndrop_entry = 1\n")), "2:14: \"drop_entry\" must be a boolean");
  EXPECT_EQ(error_of(with_lan("[defense]\ndrop_entry = \"yes\"\n")), "2:14: \"drop_entry\" must be a boolean");
  EXPECT_EQ(error_of(with_lan("[defense]\nsecure_tcp = true\n")), "2:14: \"secure_tcp\" must be a string");
  EXPECT_EQ(error_of(with_lan("[defense]\nsecure_tcp = \"on\"\n")),
            "2:14: unknown secure_tcp mode \"on\"; expected one of: off auto always");
  EXPECT_EQ(error_of(with_lan("[defense]\nsecure_tcp = \"2\"\n")),
            "2:14: unknown secure_tcp mode \"2\"; expected one of: off auto always");
  EXPECT_EQ(error_of(with_lan("[defense]\nhigh_water = 0\n")), "2:14: \"high_water\" must be between 1 and 100");
  EXPECT_EQ(error_of(with_lan("[defense]\nhigh_water = 101\n")), "2:14: \"high_water\" must be between 1 and 100");
  EXPECT_EQ(error_of(with_lan("[defense]\nhigh_water = 0.9\n")), "2:14: \"high_water\" must be an integer");
  EXPECT_EQ(error_of(with_lan("[defense]\nsyn_timeout = 0\n")), "2:15: \"syn_timeout\" must be between 1 and 60");
  EXPECT_EQ(error_of(with_lan("[defense]\nsyn_timeout = 61\n")), "2:15: \"syn_timeout\" must be between 1 and 60");
  EXPECT_EQ(error_of("defense = 1\n" + std::string(kLan)), "1:11: \"defense\" must be a table");
  EXPECT_EQ(error_of(with_lan("[[defense]]\n")), "1:1: \"defense\" must be a table; did you mean [defense]?");
}

}  // namespace
}  // namespace vs::config

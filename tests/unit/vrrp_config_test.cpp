// [[vrrp_instances]] and [[vrrp_sync_groups]]: keepalived's vrrp_instance vocabulary in TOML
// (docs/vrrp.md), each field parsed and each mistake refused with its position.
#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"

namespace vs::config {
namespace {

// A NAT director: wan 10.0.0.2/24 (VIP 10.0.0.100:80), lan 192.168.10.2/24 (gateway .1).
constexpr std::string_view kTopology = R"(
[[interfaces]]
name = "wan"
mac = "02:00:00:00:0a:01"
addresses = ["10.0.0.2/24"]

[[interfaces]]
name = "lan"
mac = "02:00:00:00:0a:02"
addresses = ["192.168.10.2/24"]

[[services]]
protocol = "tcp"
address = "10.0.0.100:80"
reals = [{ address = "192.168.10.11:80", method = "nat" }]
)";

constexpr std::string_view kPair = R"(
[[vrrp_instances]]
name = "VI_WAN"
state = "MASTER"
interface = "wan"
virtual_router_id = 51
priority = 150
version = 3
advert_int = 0.2
virtual_ipaddress = ["10.0.0.100"]
unicast_src_ip = "10.0.0.2"
unicast_peer = ["10.0.0.3"]
use_vmac = true
garp_master_delay = 2
garp_master_repeat = 3
garp_lower_prio_delay = 0
garp_lower_prio_repeat = 0
higher_prio_send_advert = false
v3_checksum_as_v2 = true
track_interface = ["lan", { name = "wan" }]
track_service = ["tcp 10.0.0.100:80"]
notify_master = "/usr/local/bin/became master"

[[vrrp_instances]]
name = "VI_LAN"
interface = "lan"
virtual_router_id = 52
nopreempt = true
virtual_ipaddress = ["192.168.10.1"]
authentication = { auth_type = "PASS", auth_pass = "secret" }

[[vrrp_sync_groups]]
name = "G"
group = ["VI_WAN", "VI_LAN"]
notify_fault = "/bin/logger fault"
)";

std::string error_of(const std::string& text) {
  auto r = parse_config(text);
  if (r) return "accepted";
  return std::to_string(r.error().line) + ":" + std::to_string(r.error().column) + ": " + r.error().message;
}

TEST(VrrpConfig, EveryKeyLandsInItsField) {
  auto r = parse_config(std::string(kTopology) + std::string(kPair));
  ASSERT_TRUE(r) << r.error().message;
  const Config& c = *r.value();
  ASSERT_EQ(c.vrrp_instances.size(), 2u);
  const VrrpInstance& w = c.vrrp_instances[0];
  EXPECT_EQ(w.name, "VI_WAN");
  EXPECT_TRUE(w.initial_master);
  EXPECT_EQ(w.interface, 0u);
  EXPECT_EQ(w.vrid, 51);
  EXPECT_EQ(w.priority, 150);
  EXPECT_EQ(w.version, 3);
  EXPECT_EQ(w.advert_int_cs, 20u);
  EXPECT_EQ(w.addresses, std::vector<Ipv4Addr>{Ipv4Addr::from_octets(10, 0, 0, 100)});
  EXPECT_EQ(w.unicast_src, Ipv4Addr::from_octets(10, 0, 0, 2));
  EXPECT_EQ(w.unicast_peers, std::vector<Ipv4Addr>{Ipv4Addr::from_octets(10, 0, 0, 3)});
  EXPECT_TRUE(w.use_vmac);
  EXPECT_EQ(w.garp_master_delay, Duration::seconds(2));
  EXPECT_EQ(w.garp_master_repeat, 3u);
  EXPECT_EQ(w.garp_lower_prio_delay, Duration{});
  EXPECT_EQ(w.garp_lower_prio_repeat, 0u);
  EXPECT_FALSE(w.higher_prio_send_advert);
  EXPECT_TRUE(w.v3_checksum_as_v2);
  ASSERT_EQ(w.track_interfaces.size(), 2u);
  EXPECT_EQ(w.track_interfaces[0].index, 1u);
  EXPECT_EQ(w.track_interfaces[1].index, 0u);
  ASSERT_EQ(w.track_services.size(), 1u);
  EXPECT_EQ(w.track_services[0].index, 0u);
  EXPECT_EQ(w.notify_master, (std::vector<std::string>{"/usr/local/bin/became", "master"}));
  const VrrpInstance& l = c.vrrp_instances[1];
  EXPECT_FALSE(l.initial_master);
  EXPECT_EQ(l.priority, 100) << "keepalived's default";
  EXPECT_EQ(l.version, 2);
  EXPECT_EQ(l.advert_int_cs, 100u);
  EXPECT_FALSE(l.preempt);
  EXPECT_EQ(l.auth_pass, "secret");
  EXPECT_EQ(l.garp_master_delay, Duration::seconds(5));
  EXPECT_EQ(l.garp_master_repeat, 5u);
  EXPECT_EQ(l.garp_lower_prio_delay, Duration::seconds(5)) << "keepalived's default: garp_master_delay's";
  EXPECT_EQ(l.garp_lower_prio_repeat, 5u);
  EXPECT_TRUE(l.higher_prio_send_advert) << "ours: on (keepalived: off)";
  ASSERT_EQ(c.vrrp_sync_groups.size(), 1u);
  EXPECT_EQ(c.vrrp_sync_groups[0].members, (std::vector<uint32_t>{0, 1}));
}

TEST(VrrpConfig, MistakesAreRefusedWithTheirPosition) {
  const std::string head = std::string(kTopology) + "\n[[vrrp_instances]]\nname = \"V\"\n";  // lines 16-18
  auto with = [&](const std::string& keys) { return error_of(head + keys); };
  EXPECT_EQ(with("interface = \"wan\"\nvirtual_router_id = 1\nvirtual_ipaddress = [\"10.0.0.2\"]\n"),
            "21:22: virtual_ipaddress 10.0.0.2 is the router's own address on interface \"wan\"; a virtual address is "
            "one no interface owns");
  EXPECT_EQ(with("interface = \"wan\"\nvirtual_router_id = 1\nvirtual_ipaddress = [\"192.168.10.1\"]\n"),
            "21:22: virtual_ipaddress 192.168.10.1 is not on a connected subnet of interface \"wan\"");
  EXPECT_EQ(with("interface = \"wan\"\nvirtual_router_id = 0\nvirtual_ipaddress = [\"10.0.0.1\"]\n"),
            "20:21: \"virtual_router_id\" must be between 1 and 255");
  EXPECT_EQ(with("interface = \"dmz\"\nvirtual_router_id = 1\nvirtual_ipaddress = [\"10.0.0.1\"]\n"),
            "19:13: no interface named \"dmz\"");
  EXPECT_EQ(with("interface = \"wan\"\nvirtual_router_id = 1\nvirtual_ipaddress = [\"10.0.0.1\"]\nadvert_int = 0.5\n"),
            "22:14: version 2's advert_int is whole seconds; use version = 3");
  EXPECT_EQ(with("interface = \"wan\"\nvirtual_router_id = 1\nvirtual_ipaddress = [\"10.0.0.1\"]\nstate = \"MASTER\"\n"
                 "nopreempt = true\n"),
            "23:13: nopreempt needs state = \"BACKUP\" (keepalived)");
  EXPECT_EQ(with("interface = \"wan\"\nvirtual_router_id = 1\nvirtual_ipaddress = [\"10.0.0.1\"]\nversion = 3\n"
                 "authentication = { auth_type = \"PASS\", auth_pass = \"x\" }\n"),
            "23:32: authentication is for version 2 only (RFC 5798 has none)");
  EXPECT_EQ(with("interface = \"wan\"\nvirtual_router_id = 1\nvirtual_ipaddress = [\"10.0.0.1\"]\n"
                 "track_service = [\"udp 10.0.0.100:80\"]\n"),
            "22:18: no service \"udp 10.0.0.100:80\"; expected \"tcp a.b.c.d:port\" of a [[services]]");
  EXPECT_EQ(with("interface = \"wan\"\nvirtual_router_id = 1\nvirtual_ipaddress = [\"10.0.0.1\"]\nvrid = 1\n"),
            "22:1: unknown key \"vrid\" in [[vrrp_instances]]");
  // The same VRID twice on one interface; the same address in two instances.
  const std::string one = "interface = \"wan\"\nvirtual_router_id = 1\nvirtual_ipaddress = [\"10.0.0.1\"]\n";
  EXPECT_EQ(error_of(head + one + "[[vrrp_instances]]\nname = \"W\"\ninterface = \"wan\"\nvirtual_router_id = 1\n" +
                     "virtual_ipaddress = [\"10.0.0.9\"]\n"),
            "25:21: virtual_router_id 1 is already used on interface \"wan\" by vrrp_instance \"V\"");
  EXPECT_EQ(error_of(head + one + "[[vrrp_instances]]\nname = \"W\"\ninterface = \"wan\"\nvirtual_router_id = 2\n" +
                     "virtual_ipaddress = [\"10.0.0.1\"]\n"),
            "26:22: virtual_ipaddress 10.0.0.1 is already in vrrp_instance \"V\"");
  // A sync group names instances that exist, each in one group, tracking unweighted.
  EXPECT_EQ(error_of(head + one + "[[vrrp_sync_groups]]\nname = \"G\"\ngroup = [\"X\"]\n"),
            "24:10: no vrrp_instance named \"X\"");
  EXPECT_EQ(error_of(head + one + "track_interface = [{ name = \"lan\", weight = -20 }]\n" +
                     "[[vrrp_sync_groups]]\nname = \"G\"\ngroup = [\"V\"]\n"),
            "25:9: vrrp_instance \"V\" tracks with a weight; in a sync group trackers are unweighted (keepalived)");
}

TEST(VrrpConfig, VrrpScriptsTheirDefaultsAndTheirTrackers) {
  const std::string scripts = R"(
[[vrrp_scripts]]
name = "chk_web"
script = "/usr/local/bin/chk 'a b' --fast"
interval = 2
timeout = 1.5
weight = 20
reverse = true
rise = 3
fall = 2
init_fail = true
user = "nobody"

[[vrrp_scripts]]
name = "chk_db"
script = "/bin/true"
)";
  const std::string inst =
      "\n[[vrrp_instances]]\nname = \"V\"\ninterface = \"wan\"\nvirtual_router_id = 1\n"
      "virtual_ipaddress = [\"10.0.0.1\"]\n";
  auto r = parse_config(std::string(kTopology) + scripts + inst +
                        "track_script = [\"chk_db\", { name = \"chk_web\", weight = -5 }]\n");
  ASSERT_TRUE(r) << r.error().message;
  const Config& c = *r.value();
  ASSERT_EQ(c.vrrp_scripts.size(), 2u);
  const VrrpScript& w = c.vrrp_scripts[0];
  EXPECT_EQ(w.argv, (std::vector<std::string>{"/usr/local/bin/chk", "a b", "--fast"}));
  EXPECT_EQ(w.interval, Duration::seconds(2));
  EXPECT_EQ(w.timeout, Duration::millis(1500));
  EXPECT_EQ(w.weight, 20);
  EXPECT_TRUE(w.reverse);
  EXPECT_EQ(w.rise, 3u);
  EXPECT_EQ(w.fall, 2u);
  EXPECT_TRUE(w.init_fail);
  EXPECT_EQ(w.user, "nobody");
  const VrrpScript& d = c.vrrp_scripts[1];
  EXPECT_EQ(d.interval, Duration::seconds(1)) << "keepalived's defaults";
  EXPECT_EQ(d.timeout, Duration{}) << "0: the interval";
  EXPECT_EQ(d.weight, 0);
  EXPECT_EQ(d.rise, 1u);
  EXPECT_EQ(d.fall, 1u);
  EXPECT_FALSE(d.init_fail);
  const auto& t = c.vrrp_instances[0].track_scripts;
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].index, 1u);
  EXPECT_EQ(t[0].weight, 0);
  EXPECT_EQ(t[1].index, 0u);
  EXPECT_EQ(t[1].weight, -5) << "track_script's own weight";
  EXPECT_TRUE(t[1].reverse) << "and the script's reverse, as keepalived";

  const std::string head = std::string(kTopology) + scripts + inst;  // track_script on line 38
  EXPECT_EQ(error_of(head + "track_script = [\"chk_www\"]\n"), "38:17: no vrrp_script named \"chk_www\"");
  EXPECT_EQ(error_of(head + "track_script = [\"chk_db\", \"chk_db\"]\n"),
            "38:27: \"chk_db\" appears twice in \"track_script\"");
  EXPECT_EQ(error_of(head + "track_script = [\"chk_web\"]\n[[vrrp_sync_groups]]\nname = \"G\"\ngroup = [\"V\"]\n"),
            "41:9: vrrp_instance \"V\" tracks with a weight; in a sync group trackers are unweighted (keepalived)");
  EXPECT_EQ(error_of(std::string(kTopology) + "[[vrrp_scripts]]\nname = \"x\"\nscript = \"chk.sh\"\n"),
            "18:10: \"script\" must start with an absolute program path");
  EXPECT_EQ(error_of(std::string(kTopology) + "[[vrrp_scripts]]\nname = \"x\"\nscript = \"/bin/x 'open\"\n"),
            "18:10: \"script\" has an unterminated quote");
  EXPECT_EQ(error_of(std::string(kTopology) + "[[vrrp_scripts]]\nname = \"x\"\nscript = \"/bin/x\"\nrise = 0\n"),
            "19:8: \"rise\" must be between 1 and 1000000");
}

}  // namespace
}  // namespace vs::config

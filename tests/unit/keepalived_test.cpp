// keepalived.conf: its syntax (keepalived/syntax.hpp) and its translation to vsrouter's config
// (keepalived/translate.hpp), from files in memory.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "keepalived/syntax.hpp"
#include "keepalived/translate.hpp"

namespace vs::keepalived {
namespace {

using MemFiles = MemoryFiles;

const char* kInterfaces = R"(
[[interfaces]]
name = "eth0"
mac = "02:00:00:00:00:01"
addresses = ["192.168.200.1/24"]

[[interfaces]]
name = "eth1"
mac = "02:00:00:00:00:02"
addresses = ["10.10.10.1/24"]
)";

struct Loaded {
  Result<std::shared_ptr<const config::Config>> cfg;
  Translation t;
};

Loaded load_text(const std::string& conf, bool with_interfaces = true, const std::string& config_id = "") {
  MemFiles m;
  m.files["/etc/keepalived/keepalived.conf"] = conf;
  m.files["/etc/vsrouter/interfaces.toml"] = kInterfaces;
  LoadOptions o;
  if (with_interfaces) o.interfaces_path = "/etc/vsrouter/interfaces.toml";
  o.config_id = config_id;
  Translation t;
  auto cfg = load("/etc/keepalived/keepalived.conf", o, m, &t);
  return {std::move(cfg), std::move(t)};
}

std::string err(const Loaded& l) { return l.cfg ? std::string("(loaded)") : l.cfg.error().format("main"); }

TEST(KeepalivedSyntax, WordsQuotesCommentsBlocksAndPositions) {
  MemFiles m;
  m.files["/k.conf"] =
      "global_defs {   # a comment\n"
      "  router_id \"my director\" ! another\n"
      "}\n"
      "virtual_server 10.0.0.1 80\n"
      "{\n"
      "  misc_path 'a b'\"c\"d \"\\x41\\n\"\n"
      "}\n";
  auto s = read_syntax("/k.conf", {}, m);
  ASSERT_TRUE(s) << s.error().format("/k.conf");
  ASSERT_EQ(s->nodes.size(), 2u);
  const Node& g = s->nodes[0];
  EXPECT_TRUE(g.block);
  ASSERT_EQ(g.children.size(), 1u);
  ASSERT_EQ(g.children[0].words.size(), 2u);
  EXPECT_EQ(g.children[0].words[1].text, "my director");
  EXPECT_EQ(g.children[0].words[1].pos.line, 2u);
  EXPECT_EQ(g.children[0].words[1].pos.column, 13u);
  const Node& v = s->nodes[1];  // its brace on the next line
  EXPECT_TRUE(v.block);
  ASSERT_EQ(v.words.size(), 3u);
  ASSERT_EQ(v.children.size(), 1u);
  ASSERT_EQ(v.children[0].words.size(), 3u);
  EXPECT_EQ(v.children[0].words[1].text, "a bcd");  // quotes join, as the shell's
  EXPECT_EQ(v.children[0].words[2].text, "A\n");    // escapes inside quotes
}

TEST(KeepalivedSyntax, BlockErrorsNameTheirPlace) {
  MemFiles m;
  m.files["/a"] = "global_defs {\n  router_id x\n";
  auto a = read_syntax("/a", {}, m);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().format("?"), "/a:1:13: '{' is never closed");
  m.files["/b"] = "global_defs {\n}\n}\n";
  auto b = read_syntax("/b", {}, m);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().format("?"), "/b:3:1: '}' without a block to close");
  m.files["/c"] = "{\n}\n";
  EXPECT_EQ(read_syntax("/c", {}, m).error().format("?"), "/c:1:1: '{' without a keyword before it");
  m.files["/d"] = "x \"open\n";
  EXPECT_EQ(read_syntax("/d", {}, m).error().format("?"), "/d:1:3: unterminated quoted string (no closing \")");
}

TEST(KeepalivedSyntax, DefinitionsConditionalsAndIncludes) {
  MemFiles m;
  m.files["/etc/k/main.conf"] =
      "$PORT=8080\n"
      "$VIP=10.0.0.1\n"
      "@east virtual_server ${VIP} $PORT {\n"
      "@^east virtual_server 10.0.0.2 $PORT {\n"
      "include conf.d/*.conf\n"
      "}\n";
  m.files["/etc/k/conf.d/a.conf"] = "real_server 10.0.1.1 $PORT {\n}\n";
  m.files["/etc/k/conf.d/b.conf"] = "real_server 10.0.1.2 8080 { weight 2 }\n";
  SyntaxOptions o;
  o.config_id = "east";
  auto s = read_syntax("/etc/k/main.conf", o, m);
  ASSERT_TRUE(s) << s.error().format("main");
  ASSERT_EQ(s->nodes.size(), 1u);
  const Node& v = s->nodes[0];
  ASSERT_EQ(v.words.size(), 3u);
  EXPECT_EQ(v.words[1].text, "10.0.0.1");
  EXPECT_EQ(v.words[2].text, "8080");
  ASSERT_EQ(v.children.size(), 2u);  // both included files, in glob order
  EXPECT_EQ(v.children[0].words[2].text, "8080");
  EXPECT_EQ(s->files[v.children[1].pos().file], "/etc/k/conf.d/b.conf");
  ASSERT_EQ(v.children[1].children.size(), 1u);  // a block on one line
  EXPECT_EQ(v.children[1].children[0].words[1].text, "2");
  o.config_id = "west";
  auto w = read_syntax("/etc/k/main.conf", o, m);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->nodes[0].words[1].text, "10.0.0.2");
  // A missing file (no wildcard) is an error at the include.
  m.files["/etc/k/bad.conf"] = "global_defs {\n}\ninclude nothere.conf\n";
  auto b = read_syntax("/etc/k/bad.conf", o, m);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().format("?"), "/etc/k/bad.conf:3:1: include: no file matches /etc/k/nothere.conf");
  // Includes of includes are bounded (a file including itself).
  m.files["/etc/k/loop.conf"] = "include loop.conf\n";
  auto l = read_syntax("/etc/k/loop.conf", o, m);
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("includes nested deeper than 8"), std::string::npos);
}

TEST(KeepalivedSyntax, FormatDetection) {
  EXPECT_TRUE(looks_like_keepalived("! Configuration File for keepalived\n\nglobal_defs {\n}\n"));
  EXPECT_TRUE(looks_like_keepalived("virtual_server 10.0.0.1 80 {\n}\n"));
  EXPECT_TRUE(looks_like_keepalived("$X=1\n"));
  EXPECT_FALSE(looks_like_keepalived("# vsrouter\n[[interfaces]]\nname = \"lan\"\n"));
  EXPECT_FALSE(looks_like_keepalived("\n[router]\nseed = 1\n"));
  EXPECT_FALSE(looks_like_keepalived(""));
}

// keepalived's forwarding method defaults to NAT (vsrouter's TOML: DR). A translation that
// dropped lb_kind would silently turn NAT into DR.
TEST(KeepalivedTranslate, ServiceWithKeepalivedDefaults) {
  auto l = load_text(R"(
virtual_server 10.10.10.2 1358 {
    delay_loop 6
    lb_algo sh
    flag-1
    persistence_timeout
    protocol UDP
    real_server 192.168.200.2 1358 {
        weight 3
        TCP_CHECK {
            connect_timeout 3
        }
    }
    real_server 192.168.200.3 1358 {
        lvs_method DR
    }
}
)");
  ASSERT_TRUE(l.cfg) << err(l);
  const auto& c = *l.cfg.value();
  ASSERT_EQ(c.services.size(), 1u);
  const auto& s = c.services[0];
  EXPECT_EQ(s.protocol, IpProto::kUdp);
  EXPECT_EQ(s.scheduler, "sh");
  EXPECT_EQ(s.persistence, 360u);  // keepalived.conf(5): default 6 minutes
  EXPECT_NE(s.flags, 0u);          // flag-1 = sh-fallback
  ASSERT_EQ(s.reals.size(), 2u);
  EXPECT_EQ(s.reals[0].method, config::Method::kNat);
  EXPECT_EQ(s.reals[0].weight, 3);
  ASSERT_EQ(s.reals[0].checks.size(), 1u);
  EXPECT_EQ(s.reals[0].checks[0].delay_loop, Duration::seconds(6));
  EXPECT_EQ(s.reals[0].checks[0].connect_timeout, Duration::seconds(3));
  EXPECT_EQ(s.reals[1].method, config::Method::kDr);
  EXPECT_NE(l.t.toml.find("flags = [\"sh-fallback\"]"), std::string::npos) << l.t.toml;
}

TEST(KeepalivedTranslate, RefusalsAndErrorsAtTheKeepalivedLine) {
  // A keepalived keyword vsrouter does not support.
  auto a = load_text("virtual_server 10.10.10.2 80 {\n  ha_suspend\n}\n");
  EXPECT_EQ(err(a), "/etc/keepalived/keepalived.conf:2:3: keyword not supported: ha_suspend (in virtual_server)");
  // Not a keepalived keyword at all.
  auto b = load_text("global_defs {\n  rooter_id x\n}\n");
  EXPECT_EQ(err(b), "/etc/keepalived/keepalived.conf:2:3: unknown keyword \"rooter_id\" in global_defs");
  // A value the config rules refuse: reported where keepalived.conf says it.
  auto c = load_text("virtual_server 10.10.10.2 80 {\n  lvs_sched fastest\n}\n");
  ASSERT_FALSE(c.cfg);
  EXPECT_EQ(c.cfg.error().file, "/etc/keepalived/keepalived.conf");
  EXPECT_EQ(c.cfg.error().line, 2u);
  EXPECT_NE(c.cfg.error().message.find("fastest"), std::string::npos) << c.cfg.error().message;
  // A bad value the translator reads itself.
  auto d = load_text("virtual_server 10.10.10.2 80 {\n  real_server 192.168.200.2 80 {\n    weight heavy\n  }\n}\n");
  EXPECT_EQ(err(d), "/etc/keepalived/keepalived.conf:3:12: weight: \"heavy\" is not an integer");
  // A notify script with a user: refused, not run as the wrong user.
  auto e = load_text(
      "vrrp_instance V {\n  interface eth0\n  virtual_router_id 1\n  notify_master /bin/x nobody\n"
      "  virtual_ipaddress {\n    192.168.200.10\n  }\n}\n");
  EXPECT_NE(err(e).find(":4:24: keyword not supported: notify_master with a user (nobody)"), std::string::npos)
      << err(e);
}

TEST(KeepalivedTranslate, VrrpSyncGroupAndSyncDaemon) {
  auto l = load_text(R"(
global_defs {
  router_id LVS_A
  lvs_sync_daemon eth0 VI_1 id 7
  lvs_timeouts tcp 7200 tcpfin 60 udp 30
}
vrrp_sync_group G {
  group {
    VI_1
  }
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    192.168.200.10/24 dev eth0
  }
}
)");
  ASSERT_TRUE(l.cfg) << err(l);
  const auto& c = *l.cfg.value();
  ASSERT_EQ(c.vrrp_instances.size(), 1u);
  EXPECT_TRUE(c.vrrp_instances[0].initial_master);
  EXPECT_EQ(c.vrrp_instances[0].priority, 150);
  EXPECT_EQ(c.vrrp_instances[0].auth_pass, "secret");
  ASSERT_EQ(c.vrrp_instances[0].addresses.size(), 1u);
  EXPECT_EQ(c.vrrp_instances[0].addresses[0], Ipv4Addr::from_octets(192, 168, 200, 10));
  ASSERT_EQ(c.vrrp_sync_groups.size(), 1u);
  EXPECT_EQ(c.sync.role, config::Sync::Role::kFollow);
  EXPECT_EQ(c.sync.syncid, 7);
  EXPECT_EQ(c.timeouts.tcp, 7200u);
  EXPECT_EQ(c.timeouts.udp, 30u);
  ASSERT_EQ(l.t.notes.size(), 1u);  // router_id: accepted, said to do nothing
  EXPECT_NE(l.t.notes[0].find(":3:3: note: router_id has no effect"), std::string::npos) << l.t.notes[0];
}

TEST(KeepalivedTranslate, VrrpScriptAndTrackScript) {
  const std::string instance = R"(
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 150
  track_script {
    chk_web
    chk_db weight 10 noreverse
  }
  track_interface {
    eth1 weight -20 reverse
  }
  virtual_ipaddress {
    192.168.200.10
  }
}
)";
  auto l = load_text(R"(
vrrp_script chk_web {
  script "/usr/local/bin/chk-web --port 80"
  interval 2
  timeout 1
  weight -30 reverse
  rise 2
  fall 3
  init_fail
  user nobody
}
vrrp_script chk_db {
  script /bin/true
  weight 5 reverse
}
)" + instance);
  ASSERT_TRUE(l.cfg) << err(l);
  const auto& c = *l.cfg.value();
  ASSERT_EQ(c.vrrp_scripts.size(), 2u);
  const auto& w = c.vrrp_scripts[0];
  EXPECT_EQ(w.argv, (std::vector<std::string>{"/usr/local/bin/chk-web", "--port", "80"}));
  EXPECT_EQ(w.interval, Duration::seconds(2));
  EXPECT_EQ(w.timeout, Duration::seconds(1));
  EXPECT_EQ(w.weight, -30);
  EXPECT_TRUE(w.reverse);
  EXPECT_EQ(w.rise, 2u);
  EXPECT_EQ(w.fall, 3u);
  EXPECT_TRUE(w.init_fail);
  EXPECT_EQ(w.user, "nobody");
  const auto& t = c.vrrp_instances[0].track_scripts;
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].weight, -30) << "the script's weight and reverse";
  EXPECT_TRUE(t[0].reverse);
  EXPECT_EQ(t[1].weight, 10);
  EXPECT_FALSE(t[1].reverse) << "noreverse overrides the script's reverse";
  ASSERT_EQ(c.vrrp_instances[0].track_interfaces.size(), 1u);
  EXPECT_TRUE(c.vrrp_instances[0].track_interfaces[0].reverse);

  // A program keepalived would look up in PATH, or run through a shell: refused at its value.
  auto p = load_text("vrrp_script chk {\n  script \"killall -0 haproxy\"\n}\n");
  EXPECT_EQ(err(p),
            "/etc/keepalived/keepalived.conf:2:10: keyword not supported: script with a program that is not an "
            "absolute path (\"killall\"): vsrouter runs it without a shell and without a PATH search; give its full "
            "path");
  auto n = load_text("vrrp_script chk {\n  interval 2\n}\n");
  EXPECT_EQ(err(n),
            "/etc/keepalived/keepalived.conf:1:1: vrrp_script chk has no script (keepalived drops it, and every "
            "track_script of it, with a warning)");
  auto g = load_text("vrrp_script chk {\n  script /bin/true\n  user nobody nogroup\n}\n");
  EXPECT_EQ(err(g),
            "/etc/keepalived/keepalived.conf:3:15: keyword not supported: user with a group (vsrouter takes "
            "the user's)");
  // A tracked script that does not exist: keepalived ignores the line with a warning; refused here.
  auto u = load_text("vrrp_script chk_web {\n  script /bin/true\n}\nvrrp_script chk_db {\n  script /bin/true\n}\n" +
                     std::string(instance).replace(instance.find("chk_db weight"), 6, "chk_xx"));
  ASSERT_FALSE(u.cfg);
  EXPECT_EQ(u.cfg.error().line, 12u) << "its track_script block" << err(u);
  EXPECT_NE(err(u).find("no vrrp_script named \"chk_xx\""), std::string::npos) << err(u);
}

TEST(KeepalivedTranslate, InterfacesFileErrorsNameThatFile) {
  MemFiles m;
  m.files["/k.conf"] = "virtual_server 10.10.10.2 80 {\n}\n";
  m.files["/i.toml"] = "[[interfaces]]\nname = \"eth0\"\nmac = \"zz\"\naddresses = [\"10.10.10.1/24\"]\n";
  LoadOptions o;
  o.interfaces_path = "/i.toml";
  auto r = load("/k.conf", o, m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().file, "/i.toml");
  EXPECT_EQ(r.error().line, 3u);
}

TEST(KeepalivedTranslate, WithoutInterfacesEverythingElseIsChecked) {
  // Two instances on two interfaces: placeholders put each one's addresses on its interface.
  auto l = load_text(R"(
vrrp_instance A {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.1.1.10
  }
}
vrrp_instance B {
  interface eth1
  virtual_router_id 2
  virtual_ipaddress {
    10.2.2.10
  }
}
virtual_server 10.1.1.10 80 {
  real_server 10.9.9.9 80 {
  }
}
)",
                     false);
  ASSERT_TRUE(l.cfg) << err(l);
  EXPECT_EQ(l.cfg.value()->interfaces.size(), 2u);
  // ... and what is wrong elsewhere is still found.
  auto bad =
      load_text("virtual_server 10.1.1.10 80 {\n  real_server 10.9.9.9 81 {\n    lvs_method DR\n  }\n}\n", false);
  ASSERT_FALSE(bad.cfg);
  EXPECT_NE(err(bad).find("cannot change the port"), std::string::npos) << err(bad);
}

}  // namespace
}  // namespace vs::keepalived

// [announce] (docs/scale-out.md): which VIPs the director asks its BGP daemon to announce, as the
// engine decides it: a VIP while a service on it has a healthy real and the director does not
// drain; withdrawn when its last healthy real goes, on drain, on stop and when a reload removes it.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine.hpp"
#include "test_frames.hpp"

namespace vs {
namespace {

std::shared_ptr<const config::Config> parse(const std::string& t) {
  auto r = config::parse_config(t);
  if (!r) throw std::runtime_error(r.error().message);
  return r.value();
}

// Two VIPs: .100 with two services (port 80 without checkers, port 443 whose real starts down:
// alpha), .101 with one service whose only real starts down.
std::string config_text(const std::string& more = "", bool announce = true) {
  std::string t = R"(
[[interfaces]]
name = "wan"
mac = "02:00:00:00:0a:01"
addresses = ["10.0.0.2/24"]

[[services]]
protocol = "tcp"
address = "10.0.0.100:443"
reals = [{ address = "10.0.0.11:443", checks = [{ type = "TCP_CHECK", alpha = true }] }]

[[services]]
protocol = "tcp"
address = "10.0.0.101:80"
reals = [{ address = "10.0.0.12:80", checks = [{ type = "TCP_CHECK", alpha = true }] }]
)" + more;
  if (announce) t += "\n[announce]\nfile = \"/run/vsrouter/vips.conf\"\n";
  return t;
}
const std::string kPort80 = R"(
[[services]]
protocol = "tcp"
address = "10.0.0.100:80"
reals = [{ address = "10.0.0.11:80" }]
)";

std::vector<std::string> events(Engine& e) {
  std::vector<std::string> out;
  e.announcer().drain_events([&](const announce::Event& ev) { out.push_back(announce::Announcer::event_text(ev)); });
  return out;
}

TEST(Announce, AVipWhileAServiceOnItHasAHealthyRealAndTheDirectorDoesNotDrain) {
  test::MemSink sink;
  Engine e(parse(config_text(kPort80)), sink);
  const Instant t0 = Instant::from_micros(1'000'000);
  e.start(t0);
  EXPECT_EQ(events(e), std::vector<std::string>{"announce 10.0.0.100 (healthy)"})
      << "port 80's real has no checker: alive; .101's only real starts down (alpha)";
  ASSERT_EQ(e.announcer().vips().size(), 2u) << "one entry per address, in config order";
  EXPECT_TRUE(e.announcer().vips()[0].announced);
  EXPECT_FALSE(e.announcer().vips()[1].announced);

  e.set_draining(true, t0 + Duration::seconds(1));
  EXPECT_EQ(events(e), std::vector<std::string>{"withdraw 10.0.0.100 (draining)"});
  e.set_draining(false, t0 + Duration::seconds(2));
  EXPECT_EQ(events(e), std::vector<std::string>{"announce 10.0.0.100 (healthy)"});

  // A reload without port 80: .100's only service has no healthy real.
  ASSERT_FALSE(e.reload(parse(config_text())));
  EXPECT_EQ(events(e), std::vector<std::string>{"withdraw 10.0.0.100 (no healthy real)"});
  // Port 80 back, then the stop.
  ASSERT_FALSE(e.reload(parse(config_text(kPort80))));
  EXPECT_EQ(events(e), std::vector<std::string>{"announce 10.0.0.100 (healthy)"});
  e.stop(t0 + Duration::seconds(3));
  EXPECT_EQ(events(e), std::vector<std::string>{"withdraw 10.0.0.100 (stopping)"});
  e.set_draining(false, t0 + Duration::seconds(4));
  EXPECT_TRUE(events(e).empty()) << "nothing is announced after the stop";
}

TEST(Announce, AVipGoesWithItsLastHealthyRealAndAReloadRemovingItsServicesWithdrawsIt) {
  test::MemSink sink;
  // .102: a service whose real has no checker; .100 has a real whose checker will fail.
  const std::string more = R"(
[[services]]
protocol = "tcp"
address = "10.0.0.102:80"
reals = [{ address = "10.0.0.13:80" }]
)";
  Engine e(parse(config_text(more)), sink);
  e.start(Instant::from_micros(1'000'000));
  EXPECT_EQ(events(e), std::vector<std::string>{"announce 10.0.0.102 (healthy)"});
  ASSERT_FALSE(e.reload(parse(config_text())));
  EXPECT_EQ(events(e), std::vector<std::string>{"withdraw 10.0.0.102 (no service)"});
  EXPECT_EQ(e.announcer().vips().size(), 2u);
}

TEST(Announce, WithoutTheTableNothingIsDecidedAloud) {
  test::MemSink sink;
  Engine e(parse(config_text(kPort80, false)), sink);
  e.start(Instant::from_micros(1'000'000));
  EXPECT_TRUE(events(e).empty());
  EXPECT_FALSE(e.config().announce.enabled);
}

TEST(Announce, ConfigKeysAndMistakes) {
  auto c = parse(config_text() + "command = \"/usr/sbin/birdc -s /run/bird.ctl configure\"\nstop_delay = 2.5\n");
  EXPECT_EQ(c->announce.file, "/run/vsrouter/vips.conf");
  EXPECT_EQ(c->announce.command, (std::vector<std::string>{"/usr/sbin/birdc", "-s", "/run/bird.ctl", "configure"}));
  EXPECT_EQ(c->announce.stop_delay, Duration::millis(2500));
  EXPECT_EQ(parse(config_text())->announce.stop_delay, Duration::seconds(1));
  auto bad = [](const std::string& keys) {
    auto r = config::parse_config(config_text("", false) + "\n[announce]\n" + keys);
    return r ? std::string("accepted") : r.error().message;
  };
  EXPECT_EQ(bad("file = \"vips.conf\"\n"), "\"file\" must be an absolute file path");
  EXPECT_EQ(bad("command = \"/bin/true\"\n"), "missing key \"file\" in [announce]");
  EXPECT_EQ(bad("file = \"/a\"\ncommand = \"birdc configure\"\n"),
            "\"command\" must start with an absolute program path");
  EXPECT_EQ(bad("file = \"/a\"\nstop_delay = 61\n"), "\"stop_delay\" must be between 0 and 60 seconds");
  EXPECT_EQ(bad("file = \"/a\"\nnext_hop = \"10.0.0.9\"\n"), "\"next_hop\" must be one of the interfaces' addresses");
  EXPECT_EQ(parse(config_text() + "next_hop = \"10.0.0.2\"\n")->announce.next_hop, Ipv4Addr::from_octets(10, 0, 0, 2));
}

}  // namespace
}  // namespace vs

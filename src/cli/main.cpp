// vsrouter command line: `check` validates a config, `replay` runs pcaps through the engine.
#include <cxxopts.hpp>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include <unistd.h>

#include "base/version.hpp"
#include "config/config.hpp"
#include "config/sched_names.hpp"
#include "ctl/format.hpp"
#include "ctl/listing.hpp"
#include "engine.hpp"
#include "keepalived/translate.hpp"
#include "replay/replay.hpp"
#include "tap/daemon.hpp"

namespace {

constexpr const char* kUsage =
    "usage: vsrouter <command> [options]\n"
    "commands:\n"
    "  check  -c FILE [KEEPALIVED]             validate a config file (vsrouter's TOML or a keepalived.conf)\n"
    "  convert -c FILE [KEEPALIVED]            print a keepalived.conf as vsrouter's TOML\n"
    "  replay -c FILE --in DIR --out DIR [--advance SECONDS] [--start SECONDS] [--list] [--list-conns] [--trace]\n"
    "         [--diagram CONN]\n"
    "                                          replay DIR/<interface>.pcap through the engine\n"
    "  run    -c FILE [--capture DIR] [--control PATH] [--metrics ADDR:PORT] [--no-offload]\n"
    "         [--log-level error|warn|info|debug] [--takeover]\n"
    "                                          run on the configured TAP devices\n"
    "  version, --version                      print the version (and the git revision)\n"
    "  help                                    this text\n"
    "KEEPALIVED (check, convert, replay, run; docs/keepalived.md):\n"
    "  --interfaces FILE    vsrouter's own settings for a keepalived.conf: [[interfaces]], [[routes]], [router]...\n"
    "  --config-id ID       keep the keepalived.conf lines @ID, drop @^ID (keepalived -i; default: the host name)\n"
    "  --format FORMAT      toml or keepalived (default: told from the file's content)\n";

// The keepalived.conf options every command that reads a config takes.
void keepalived_options(cxxopts::Options& o) {
  o.add_options()("interfaces", "for a keepalived.conf: vsrouter's own settings ([[interfaces]], [[routes]], ...)",
                  cxxopts::value<std::string>())(
      "config-id", "keepalived.conf's @ID lines kept for ID (default: the host name)", cxxopts::value<std::string>())(
      "format", "toml or keepalived (default: from the content)", cxxopts::value<std::string>());
}

/// keepalived -i's default: the node name up to its first dot (keepalived's get_local_name()).
std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  std::string n(name);
  return n.substr(0, n.find('.'));
}

/// The options as LoadOptions; nullopt after a message on stderr.
std::optional<vs::keepalived::LoadOptions> load_options(const cxxopts::ParseResult& r, const char* cmd) {
  vs::keepalived::LoadOptions l;
  if (r.count("interfaces")) l.interfaces_path = r["interfaces"].as<std::string>();
  l.config_id = r.count("config-id") ? r["config-id"].as<std::string>() : host_name();
  if (r.count("format")) {
    const std::string f = r["format"].as<std::string>();
    if (f == "toml") l.format = vs::keepalived::LoadOptions::Format::kToml;
    else if (f == "keepalived") l.format = vs::keepalived::LoadOptions::Format::kKeepalived;
    else {
      std::cerr << "vsrouter " << cmd << ": --format must be toml or keepalived\n";
      return std::nullopt;
    }
  }
  return l;
}

/// Frames of `check --save`'s engine go nowhere (it never receives one).
class NoWire : public vs::TxSink {
public:
  void transmit(uint32_t, std::span<const uint8_t>) override {}
};

int cmd_check(int argc, char** argv) {
  cxxopts::Options o("vsrouter check", "validate a vsrouter config file or a keepalived.conf");
  o.add_options()("c,config", "config file", cxxopts::value<std::string>())(
      "save", "print the rules the director starts with, as ipvsadm -S -n (vsadm -S -n) prints them")("h,help", "help");
  keepalived_options(o);
  auto r = o.parse(argc, argv);
  if (r.count("help")) {
    std::cout << o.help() << "\n";
    return 0;
  }
  if (!r.count("config")) {
    std::cerr << "vsrouter check: -c FILE is required\n";
    return 2;
  }
  auto lo = load_options(r, "check");
  if (!lo) return 2;
  const auto path = r["config"].as<std::string>();
  std::vector<std::string> notes;
  auto cfg = vs::keepalived::load_any(path, *lo, &notes);
  for (const auto& n : notes) std::cerr << n << "\n";
  if (!cfg) {
    std::cerr << cfg.error().format(path) << "\n";
    return 2;
  }
  const auto& c = *cfg.value();
  if (r.count("save")) {  // the engine's start: checkers with alpha keep their reals out, as keepalived
    NoWire wire;
    vs::Engine e(cfg.value(), wire);
    e.start(vs::Instant{});
    std::cout << vs::ctl::list_all(e, vs::ctl::kFmtRule | vs::ctl::kFmtNumeric);
    return 0;
  }
  size_t reals = 0;
  for (const auto& s : c.services) reals += s.reals.size();
  const bool ka = vs::keepalived::is_keepalived(path, *lo);
  std::cout << path << ": ok (" << (ka ? "keepalived.conf, " : "") << c.interfaces.size() << " interfaces, "
            << c.routes.size() << " routes, " << c.services.size() << " services, " << reals << " real servers"
            << (c.vrrp_instances.empty() ? "" : ", " + std::to_string(c.vrrp_instances.size()) + " vrrp instances")
            << (ka && !lo->interfaces_path ? "; without --interfaces: interfaces and addresses not checked" : "")
            << ")\n";
  return 0;
}

int cmd_convert(int argc, char** argv) {
  cxxopts::Options o("vsrouter convert", "print a keepalived.conf as vsrouter's TOML");
  o.add_options()("c,config", "keepalived.conf", cxxopts::value<std::string>())("h,help", "help");
  keepalived_options(o);
  o.parse_positional({"config"});
  auto r = o.parse(argc, argv);
  if (r.count("help")) {
    std::cout << o.help() << "\n";
    return 0;
  }
  if (!r.count("config")) {
    std::cerr << "vsrouter convert: a keepalived.conf is required (-c FILE or FILE)\n";
    return 2;
  }
  auto lo = load_options(r, "convert");
  if (!lo) return 2;
  const auto path = r["config"].as<std::string>();
  if (lo->format == vs::keepalived::LoadOptions::Format::kToml || !vs::keepalived::is_keepalived(path, *lo)) {
    std::cerr << "vsrouter convert: " << path << " is not a keepalived.conf (--format keepalived to read it as one)\n";
    return 2;
  }
  // Loaded first (with placeholder interfaces if none are given): what is printed is valid.
  vs::keepalived::DiskFiles files;
  vs::keepalived::Translation t;
  auto cfg = vs::keepalived::load(path, *lo, files, &t);
  for (const auto& n : t.notes) std::cerr << n << "\n";
  if (!cfg) {
    std::cerr << cfg.error().format(path) << "\n";
    return 2;
  }
  if (!lo->interfaces_path) {
    vs::keepalived::SyntaxOptions so;
    so.config_id = lo->config_id;
    auto syn = vs::keepalived::read_syntax(path, so, files);
    auto bare = syn ? vs::keepalived::translate(syn.value(), std::nullopt, false)
                    : vs::Result<vs::keepalived::Translation>(syn.error());
    if (!bare) {
      std::cerr << bare.error().format(path) << "\n";
      return 2;
    }
    t = bare.value();
  }
  std::cout << "# vsrouter config converted from " << path << " by vsrouter convert\n" << t.toml;
  return 0;
}

int cmd_replay(int argc, char** argv) {
  cxxopts::Options o("vsrouter replay", "replay one pcap per interface through the engine");
  o.add_options()("c,config", "config file", cxxopts::value<std::string>())(
      "in", "input directory: <interface>.pcap per interface", cxxopts::value<std::string>())(
      "out", "output directory (created): <interface>.pcap per interface", cxxopts::value<std::string>())(
      "advance", "run the clock on for SECONDS after the last record", cxxopts::value<double>()->default_value("0"))(
      "start",
      "start the engine at SECONDS (Unix time; health checks count their warm-up from it); default: the "
      "first record",
      cxxopts::value<double>())("list", "print the ipvsadm -Ln --stats table and the counters at the end")(
      "list-conns", "print the connection table (ipvsadm -Lnc) at the end")(
      "trace", "print what happened to each packet, and why each new connection went to its real")(
      "diagram", "print connection CONN (N: the Nth scheduled, or CLIENT:PORT) as a Mermaid sequence diagram",
      cxxopts::value<std::string>())("h,help", "help");
  keepalived_options(o);
  auto r = o.parse(argc, argv);
  if (r.count("help")) {
    std::cout << o.help() << "\n";
    return 0;
  }
  for (const char* k : {"config", "in", "out"})
    if (!r.count(k)) {
      std::cerr << "vsrouter replay: --" << k << " is required (" << (k[0] == 'c' ? "-c FILE" : "DIR") << ")\n";
      return 2;
    }
  double adv = r["advance"].as<double>();
  if (!(adv >= 0) || adv > 1e7 || std::isnan(adv)) {
    std::cerr << "vsrouter replay: --advance must be a number of seconds between 0 and 10000000\n";
    return 2;
  }
  vs::replay::Options opt;
  opt.config_path = r["config"].as<std::string>();
  auto lo = load_options(r, "replay");
  if (!lo) return 2;
  opt.load = *lo;
  opt.in_dir = r["in"].as<std::string>();
  opt.out_dir = r["out"].as<std::string>();
  opt.advance_us = static_cast<int64_t>(std::llround(adv * 1e6));
  if (r.count("start")) {
    double st = r["start"].as<double>();
    if (!(st >= 0) || st > 1e11) {
      std::cerr << "vsrouter replay: --start must be a Unix time in seconds\n";
      return 2;
    }
    opt.start_us = static_cast<int64_t>(std::llround(st * 1e6));
  }
  opt.list = r.count("list") > 0;
  opt.list_conns = r.count("list-conns") > 0;
  opt.trace = r.count("trace") > 0;
  if (r.count("diagram")) opt.diagram = r["diagram"].as<std::string>();
  return vs::replay::run(opt, std::cout, std::cerr);
}

int cmd_run(int argc, char** argv) {
  cxxopts::Options o("vsrouter run", "run the router on the configured TAP devices");
  o.add_options()("c,config", "config file", cxxopts::value<std::string>())(
      "capture", "write every frame in and out of each interface to DIR/<interface>.pcapng (with its direction)",
      cxxopts::value<std::string>())(
      "metrics", "serve Prometheus metrics on ADDR:PORT (127.0.0.1:9800; :9800 for all IPv4 addresses)",
      cxxopts::value<std::string>())("control",
                                     "control socket for vsadm (default: /run/vsrouter/vsrouter.sock as root)",
                                     cxxopts::value<std::string>())(
      "no-offload", "plain frames on the TAPs: no IFF_VNET_HDR, no checksum offload or TSO (also while capturing)")(
      "takeover",
      "replace the vsrouter serving the control socket without losing a connection: take its TAPs, listeners "
      "and state, then it exits (docs/handover.md)")("log-level", "error, warn, info or debug",
                                                     cxxopts::value<std::string>()->default_value("warn"))("h,help",
                                                                                                           "help");
  keepalived_options(o);
  auto r = o.parse(argc, argv);
  if (r.count("help")) {
    std::cout << o.help() << "\n";
    return 0;
  }
  if (!r.count("config")) {
    std::cerr << "vsrouter run: -c FILE is required\n";
    return 2;
  }
  vs::tap::RunOptions opt;
  opt.config_path = r["config"].as<std::string>();
  auto lo = load_options(r, "run");
  if (!lo) return 2;
  opt.load = *lo;
  if (r.count("capture")) opt.capture_dir = r["capture"].as<std::string>();
  if (r.count("control")) opt.control_path = r["control"].as<std::string>();
  if (r.count("metrics")) opt.metrics = r["metrics"].as<std::string>();
  opt.offload = r.count("no-offload") == 0;
  opt.takeover = r.count("takeover") > 0;
  const std::string lvl = r["log-level"].as<std::string>();
  const char* levels[] = {"error", "warn", "info", "debug"};
  opt.log_level = -1;
  for (int i = 0; i < 4; ++i)
    if (lvl == levels[i]) opt.log_level = i;
  if (opt.log_level < 0) {
    std::cerr << "vsrouter run: --log-level must be one of: error warn info debug\n";
    return 2;
  }
  // SIGUSR2 starts a successor with the same command line (docs/handover.md): this binary's path
  // as the kernel knows it now (after a package upgrade, the same name holds the new binary).
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  opt.argv.push_back(n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string(argv[-1]));
  opt.argv.push_back("run");
  for (int i = 1; i < argc; ++i) opt.argv.push_back(argv[i]);
  return vs::tap::run(opt);
}

}  // namespace

int main(int argc, char** argv) {
  // vsadm command lines are parsed by libpopt, which would turn POSIX-strict (no option after
  // the first argument) if these were set: the daemon parses as ipvsadm does by default, and
  // clearing them here, before any thread, spares the parser from hiding them per call
  // (ctl/ipvsadm_options.cpp).
  ::unsetenv("POSIXLY_CORRECT");
  ::unsetenv("POSIX_ME_HARDER");
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  std::string cmd = argv[1];
  try {
    if (cmd == "check") return cmd_check(argc - 1, argv + 1);
    if (cmd == "convert") return cmd_convert(argc - 1, argv + 1);
    if (cmd == "replay") return cmd_replay(argc - 1, argv + 1);
    if (cmd == "run") return cmd_run(argc - 1, argv + 1);
    if (cmd == "version" || cmd == "--version") {
      std::cout << "vsrouter " << vs::build::kVersion;
      if (std::string_view(vs::build::kRevision) != "unknown") std::cout << " (" << vs::build::kRevision << ")";
      std::cout << "\n";
      return 0;
    }
    if (cmd == "help" || cmd == "--help" || cmd == "-h") {
      std::cout << kUsage;
      return 0;
    }
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "vsrouter " << cmd << ": " << e.what() << "\n";
    return 2;
  }
  std::cerr << "vsrouter: unknown command \"" << cmd << "\"\n" << kUsage;
  return 2;
}

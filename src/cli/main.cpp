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
#include "replay/replay.hpp"
#include "tap/daemon.hpp"

namespace {

constexpr const char* kUsage =
    "usage: vsrouter <command> [options]\n"
    "commands:\n"
    "  check  -c FILE                          validate a config file\n"
    "  replay -c FILE --in DIR --out DIR [--advance SECONDS] [--start SECONDS] [--list] [--list-conns] [--trace]\n"
    "         [--diagram CONN]\n"
    "                                          replay DIR/<interface>.pcap through the engine\n"
    "  run    -c FILE [--capture DIR] [--control PATH] [--metrics ADDR:PORT] [--no-offload]\n"
    "         [--log-level error|warn|info|debug] [--takeover]\n"
    "                                          run on the configured TAP devices\n"
    "  version, --version                      print the version (and the git revision)\n"
    "  help                                    this text\n";

int cmd_check(int argc, char** argv) {
  cxxopts::Options o("vsrouter check", "validate a vsrouter config file");
  o.add_options()("c,config", "config file", cxxopts::value<std::string>())("h,help", "help");
  auto r = o.parse(argc, argv);
  if (r.count("help")) {
    std::cout << o.help() << "\n";
    return 0;
  }
  if (!r.count("config")) {
    std::cerr << "vsrouter check: -c FILE is required\n";
    return 2;
  }
  const auto path = r["config"].as<std::string>();
  auto cfg = vs::config::load_config(path);
  if (!cfg) {
    std::cerr << cfg.error().format(path) << "\n";
    return 2;
  }
  const auto& c = *cfg.value();
  size_t reals = 0;
  for (const auto& s : c.services) reals += s.reals.size();
  std::cout << path << ": ok (" << c.interfaces.size() << " interfaces, " << c.routes.size() << " routes, "
            << c.services.size() << " services, " << reals << " real servers)\n";
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

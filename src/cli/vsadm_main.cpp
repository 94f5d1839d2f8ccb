// vsadm: ipvsadm's syntax and output for vsrouter. A thin client: it sends its arguments to the
// daemon's control socket and prints what the daemon answers; the daemon parses, applies and
// formats (ctl/ipvsadm.hpp). vsadm links none of that: only the client library (ctl/protocol.hpp,
// ctl/restore_line.hpp), no engine, no libuv. The socket: --control PATH, else
// $VSROUTER_CONTROL, else the default the daemon uses (ctl/paths.hpp).
//
//   vsadm -A -t 10.0.0.100:80 -s rr         any ipvsadm command
//   vsadm -R < rules                         restore: each line is one command (as ipvsadm -R)
//   vsadm -h                                 usage, answered by vsadm itself (no daemon needed)
//   vsadm --reload                           re-read the daemon's config file (as SIGHUP)
//   vsadm --list-checks                      every health checker's state (vsrouter's own)
//   vsadm --list-vrrp                        every VRRP instance's state (vsrouter's own)
//   vsadm --list-ipv6                        IPv6 addresses (DAD) and the ND cache (vsrouter's own)
//   vsadm --drain | --undrain | --list-announce   [announce]: withdraw or announce the VIPs
//                                            (docs/scale-out.md; vsrouter's own)
//   vsadm -v|--version                       ipvsadm's version line, then vsrouter's: answered
//                                            here, without a daemon
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "base/version.hpp"
#include "ctl/paths.hpp"
#include "ctl/protocol.hpp"
#include "ctl/restore_line.hpp"
#include "ctl/usage.hpp"

namespace {

bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

/// One request/reply exchange; on a transport failure, a reply with exit code 2 says why.
vs::ctl::Reply call(const std::string& path, const std::vector<std::string>& args) {
  auto fail = [&](const std::string& what) {
    return vs::ctl::Reply{2, "",
                          "vsadm: " + what + " (" + path + "): " + std::strerror(errno) +
                              "\nIs vsrouter running? Its control socket is set with "
                              "`vsrouter run --control PATH`; give vsadm the same with --control.\n"};
  };
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("cannot create a socket");
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    auto r = fail("cannot connect to vsrouter");
    ::close(fd);
    return r;
  }
  if (!write_all(fd, vs::ctl::encode_request(args))) {
    auto r = fail("cannot send the request");
    ::close(fd);
    return r;
  }
  ::shutdown(fd, SHUT_WR);
  std::string in;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto r = fail("no answer from vsrouter");
      ::close(fd);
      return r;
    }
    if (n == 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto reply = vs::ctl::decode_reply(in);
  if (!reply) return {2, "", "vsadm: malformed answer from vsrouter (" + path + ")\n"};
  return *reply;
}

int print(const vs::ctl::Reply& r) {
  std::fwrite(r.out.data(), 1, r.out.size(), stdout);
  std::fwrite(r.err.data(), 1, r.err.size(), stderr);
  std::fflush(stdout);
  return r.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  if (const char* e = std::getenv("VSROUTER_CONTROL"); e && *e) path = e;
  std::vector<std::string> args;
  bool restore = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--control" && i + 1 < argc) {
      path = argv[++i];
    } else if (a.rfind("--control=", 0) == 0) {
      path = a.substr(10);
    } else if (a == "--control") {
      std::cerr << "vsadm: --control needs a PATH\n";
      return 2;
    } else {
      if (a == "-R" || a == "--restore") restore = true;
      args.push_back(a);
    }
  }
  if (path.empty()) path = vs::ctl::default_control_path();

  // -v first (as `vsadm -v`, `vsadm --version`, `vsadm -v -L`: ipvsadm acts on it at once) is
  // answered here, so that it works without a daemon: ipvsadm's line as the daemon prints it
  // (ctl::execute), then vsrouter's. Elsewhere in a command line it goes to the daemon, which
  // prints ipvsadm's line only.
  if (!args.empty() && (args[0] == "-v" || args[0] == "--version")) {
    std::string v = vs::ctl::kVersion;
    v += "vsrouter ";
    v += vs::build::kVersion;
    if (std::string(vs::build::kRevision) != "unknown") v += std::string(" (") + vs::build::kRevision + ")";
    v += "\n";
    return print({0, v, ""});
  }

  // ipvsadm -h: popt hands parse_options() -h/--help first, and usage_exit(0) prints the usage
  // whatever follows. The text is fixed (ctl/usage.hpp): answered here, without the daemon.
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::fputs(vs::ctl::usage_text().c_str(), stdout);
    return 0;
  }

  if (restore && args.size() == 1) {
    // ipvsadm -R: every line of stdin is one command line (split as config_stream.c does; a
    // blank line is skipped). The daemon runs each as ipvsadm's restore_table() does and says
    // whether ipvsadm would have exit()ed there (kRestoreStop): a usage error (2), a line that
    // is not a command such as a `#` comment ("Try ...", 255), -h/-v, `-L` of a missing service
    // (1) stop the restore with that status; a "kernel" or popt error is printed and the restore
    // goes on. The exit status is the last line's (ctl::restore does the same in one call).
    std::string line;
    int rc = 0;
    while (std::getline(std::cin, line)) {
      auto words = vs::ctl::split_restore_line(line);
      if (words.empty()) continue;
      words.insert(words.begin(), vs::ctl::kRestoreLine);
      vs::ctl::Reply r = call(path, words);
      const bool stop = (r.exit_code & vs::ctl::kRestoreStop) != 0;
      r.exit_code &= 0xff;
      rc = print(r);
      if (stop || rc == 2) break;  // 2 also when vsadm cannot reach the daemon
    }
    return rc;
  }
  return print(call(path, args));
}

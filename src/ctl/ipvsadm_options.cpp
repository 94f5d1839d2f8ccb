// ipvsadm 1.31's option parsing (ipvsadm.c's parse_options and its helpers) with libpopt, the
// library ipvsadm itself is built with: poptGetContext over ipvsadm's option table, then
// poptGetNextOpt / poptGetOptArg / poptGetArg / poptBadOption / poptStrerror as ipvsadm calls
// them. So the scanning edge cases (clusters "-Lnc", attached values "-p600" "--weight=3"
// "-w=3", "--", the optional value of -p, leftovers, which word an error names, popt's "\"
// escapes in option values) are ipvsadm's by construction, not by imitation.
//
// ipvsadm's exit(status) is a ParseExit thrown inside this file and returned by parse_options().
//
// The environment: popt's poptGetContext() makes the context POSIX-strict (the first non-option
// word ends option processing: POPT_CONTEXT_POSIXMEHARDER) when POSIXLY_CORRECT or
// POSIX_ME_HARDER is set; popt has no flag to refuse that. vsrouter parses the same whatever the
// environment it was started in: ipvsadm's default (options may follow arguments). `vsrouter`
// removes both variables at start-up (src/cli/main.cpp); if they are still set when a context is
// made (a test or fuzz binary started with them), they are taken out of the environment for the
// poptGetContext() call only and put back (popt reads them nowhere else). See docs/vsadm.md.
#include "ctl/ipvsadm_options.hpp"

#include <arpa/inet.h>
#include <popt.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "config/sched_names.hpp"

namespace vs::ctl::ipvsadm {
namespace {

constexpr int kNumCmd = CMD_ZERO;

constexpr const char* kCmdNames[kNumCmd] = {
    "add-service", "edit-service", "delete-service", "flush",       "list",    "add-server", "delete-server",
    "edit-server", "set",          "start-daemon",   "stop-daemon", "restore", "save",       "zero",
};

constexpr const char* kOptNames[kNumOpt] = {
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
};

// Legal combinations of commands and options: '+' compulsory, 'x' illegal, '1' exclusive, ' '
// optional. Columns in OPTC_ order:
//   -n -c svc -s -p -M -r fwd -w -x -y -mc tot dmn -st -rt thr -pc srt sid -ex ops -pe -b grp port ttl size tinf type tprt nocs csum remc
constexpr const char* kCommandsVsOptions[kNumCmd] = {
    "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",  // ADD
    "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",  // EDIT
    "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  // DEL
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  // FLUSH
    " 11xxxxxxxxx11       xxxxxxx xxxxx",  // LIST
    "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",  // ADDSRV
    "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",  // DELSRV
    "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",  // EDITSRV
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  // TIMEOUT
    "xxxxxxxxxxx xxxxxxx xxxx    xxxxxx",  // STARTD
    "xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx",  // STOPD
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  // RESTORE
    " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  // SAVE
    "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  // ZERO
};

constexpr int kTunOpts[] = {OPTC_TUN_PORT, OPTC_TUN_NOCSUM, OPTC_TUN_CSUM, OPTC_TUN_REMCSUM};
// tunnel_types_v_options: rows ipip, gue, gre; columns tun-port, nocsum, csum, remcsum.
constexpr const char* kTunnelTypesVsOptions[] = {"xxxx", "+111", "x11x"};

// Tags of options without a short name (popt `val`s >= 128).
enum Tag : int {
  TAG_SET = 128,
  TAG_START_DAEMON,
  TAG_STOP_DAEMON,
  TAG_MCAST_INTERFACE,
  TAG_TIMEOUT,
  TAG_DAEMON,
  TAG_STATS,
  TAG_RATE,
  TAG_THRESHOLDS,
  TAG_PERSISTENTCONN,
  TAG_SORT,
  TAG_NO_SORT,
  TAG_PERSISTENCE_ENGINE,
  TAG_SCTP_SERVICE,
  TAG_MCAST_GROUP,
  TAG_MCAST_PORT,
  TAG_MCAST_TTL,
  TAG_SYNC_MAXLEN,
  TAG_TUN_INFO,
  TAG_TUN_TYPE,
  TAG_TUN_PORT,
  TAG_TUN_NOCSUM,
  TAG_TUN_CSUM,
  TAG_TUN_REMCSUM,
};

/// ipvsadm's option table (ipvsadm.c parse_options): long name, short name, argument, val.
/// Values are taken with poptGetOptArg(), so no `arg` pointer (popt would strdup into it and
/// the copy would leak, as it does in ipvsadm).
const struct poptOption kOptionsTable[] = {
    {"add-service", 'A', POPT_ARG_NONE, nullptr, 'A', nullptr, nullptr},
    {"edit-service", 'E', POPT_ARG_NONE, nullptr, 'E', nullptr, nullptr},
    {"delete-service", 'D', POPT_ARG_NONE, nullptr, 'D', nullptr, nullptr},
    {"clear", 'C', POPT_ARG_NONE, nullptr, 'C', nullptr, nullptr},
    {"list", 'L', POPT_ARG_NONE, nullptr, 'L', nullptr, nullptr},
    {"list", 'l', POPT_ARG_NONE, nullptr, 'l', nullptr, nullptr},
    {"zero", 'Z', POPT_ARG_NONE, nullptr, 'Z', nullptr, nullptr},
    {"add-server", 'a', POPT_ARG_NONE, nullptr, 'a', nullptr, nullptr},
    {"edit-server", 'e', POPT_ARG_NONE, nullptr, 'e', nullptr, nullptr},
    {"delete-server", 'd', POPT_ARG_NONE, nullptr, 'd', nullptr, nullptr},
    {"set", '\0', POPT_ARG_NONE, nullptr, TAG_SET, nullptr, nullptr},
    {"help", 'h', POPT_ARG_NONE, nullptr, 'h', nullptr, nullptr},
    {"version", 'v', POPT_ARG_NONE, nullptr, 'v', nullptr, nullptr},
    {"restore", 'R', POPT_ARG_NONE, nullptr, 'R', nullptr, nullptr},
    {"save", 'S', POPT_ARG_NONE, nullptr, 'S', nullptr, nullptr},
    {"start-daemon", '\0', POPT_ARG_STRING, nullptr, TAG_START_DAEMON, nullptr, nullptr},
    {"stop-daemon", '\0', POPT_ARG_STRING, nullptr, TAG_STOP_DAEMON, nullptr, nullptr},
    {"tcp-service", 't', POPT_ARG_STRING, nullptr, 't', nullptr, nullptr},
    {"udp-service", 'u', POPT_ARG_STRING, nullptr, 'u', nullptr, nullptr},
    {"sctp-service", '\0', POPT_ARG_STRING, nullptr, TAG_SCTP_SERVICE, nullptr, nullptr},
    {"fwmark-service", 'f', POPT_ARG_STRING, nullptr, 'f', nullptr, nullptr},
    {"scheduler", 's', POPT_ARG_STRING, nullptr, 's', nullptr, nullptr},
    {"persistent", 'p', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, nullptr, 'p', nullptr, nullptr},
    {"netmask", 'M', POPT_ARG_STRING, nullptr, 'M', nullptr, nullptr},
    {"real-server", 'r', POPT_ARG_STRING, nullptr, 'r', nullptr, nullptr},
    {"masquerading", 'm', POPT_ARG_NONE, nullptr, 'm', nullptr, nullptr},
    {"ipip", 'i', POPT_ARG_NONE, nullptr, 'i', nullptr, nullptr},
    {"gatewaying", 'g', POPT_ARG_NONE, nullptr, 'g', nullptr, nullptr},
    {"weight", 'w', POPT_ARG_STRING, nullptr, 'w', nullptr, nullptr},
    {"u-threshold", 'x', POPT_ARG_STRING, nullptr, 'x', nullptr, nullptr},
    {"l-threshold", 'y', POPT_ARG_STRING, nullptr, 'y', nullptr, nullptr},
    {"numeric", 'n', POPT_ARG_NONE, nullptr, 'n', nullptr, nullptr},
    {"connection", 'c', POPT_ARG_NONE, nullptr, 'c', nullptr, nullptr},
    {"mcast-interface", '\0', POPT_ARG_STRING, nullptr, TAG_MCAST_INTERFACE, nullptr, nullptr},
    {"syncid", '\0', POPT_ARG_STRING, nullptr, 'I', nullptr, nullptr},
    {"timeout", '\0', POPT_ARG_NONE, nullptr, TAG_TIMEOUT, nullptr, nullptr},
    {"daemon", '\0', POPT_ARG_NONE, nullptr, TAG_DAEMON, nullptr, nullptr},
    {"stats", '\0', POPT_ARG_NONE, nullptr, TAG_STATS, nullptr, nullptr},
    {"rate", '\0', POPT_ARG_NONE, nullptr, TAG_RATE, nullptr, nullptr},
    {"thresholds", '\0', POPT_ARG_NONE, nullptr, TAG_THRESHOLDS, nullptr, nullptr},
    {"persistent-conn", '\0', POPT_ARG_NONE, nullptr, TAG_PERSISTENTCONN, nullptr, nullptr},
    {"nosort", '\0', POPT_ARG_NONE, nullptr, TAG_NO_SORT, nullptr, nullptr},
    {"sort", '\0', POPT_ARG_NONE, nullptr, TAG_SORT, nullptr, nullptr},
    {"exact", 'X', POPT_ARG_NONE, nullptr, 'X', nullptr, nullptr},
    {"ipv6", '6', POPT_ARG_NONE, nullptr, '6', nullptr, nullptr},
    {"ops", 'o', POPT_ARG_NONE, nullptr, 'o', nullptr, nullptr},
    {"pe", '\0', POPT_ARG_STRING, nullptr, TAG_PERSISTENCE_ENGINE, nullptr, nullptr},
    {"sched-flags", 'b', POPT_ARG_STRING, nullptr, 'b', nullptr, nullptr},
    {"mcast-group", '\0', POPT_ARG_STRING, nullptr, TAG_MCAST_GROUP, nullptr, nullptr},
    {"mcast-port", '\0', POPT_ARG_STRING, nullptr, TAG_MCAST_PORT, nullptr, nullptr},
    {"mcast-ttl", '\0', POPT_ARG_STRING, nullptr, TAG_MCAST_TTL, nullptr, nullptr},
    {"sync-maxlen", '\0', POPT_ARG_STRING, nullptr, TAG_SYNC_MAXLEN, nullptr, nullptr},
    {"tun-info", '\0', POPT_ARG_NONE, nullptr, TAG_TUN_INFO, nullptr, nullptr},
    {"tun-type", '\0', POPT_ARG_STRING, nullptr, TAG_TUN_TYPE, nullptr, nullptr},
    {"tun-port", '\0', POPT_ARG_STRING, nullptr, TAG_TUN_PORT, nullptr, nullptr},
    {"tun-nocsum", '\0', POPT_ARG_NONE, nullptr, TAG_TUN_NOCSUM, nullptr, nullptr},
    {"tun-csum", '\0', POPT_ARG_NONE, nullptr, TAG_TUN_CSUM, nullptr, nullptr},
    {"tun-remcsum", '\0', POPT_ARG_NONE, nullptr, TAG_TUN_REMCSUM, nullptr, nullptr},
    POPT_TABLEEND,
};

// ---------------------------------------------------------------------------------------------
// ipvsadm's exit()

[[noreturn]] void fail(int code, const std::string& msg) { throw ParseExit{code, "", msg + "\n", true}; }

[[noreturn]] void tryhelp_exit(int status) { throw ParseExit{status & 0xff, "", tryhelp_text(), true}; }

}  // namespace

namespace {

// ---------------------------------------------------------------------------------------------
// Parsing helpers (ipvsadm.c), without name resolution.

bool c_isspace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool c_isdigit(char c) { return c >= '0' && c <= '9'; }

/// strtol(s, &end, 10) semantics: optional leading white space and sign, then digits. Returns
/// nullopt when there is no digit, or a trailing character, or the value overflows a long.
std::optional<long long> strtol_exact(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && c_isspace(s[i])) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i >= s.size() || !c_isdigit(s[i])) return std::nullopt;
  unsigned long long v = 0;
  bool overflow = false;
  for (; i < s.size() && c_isdigit(s[i]); ++i) {
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
    if (v > static_cast<unsigned long long>(LONG_MAX) + 1) overflow = true;
  }
  if (i != s.size()) return std::nullopt;
  if (overflow || (!neg && v > static_cast<unsigned long long>(LONG_MAX))) return std::nullopt;  // ERANGE
  return neg ? -static_cast<long long>(v) : static_cast<long long>(v);
}

/// string_to_number(s, min, max): -1 on any failure.
long long string_to_number(std::string_view s, long long min, long long max) {
  auto n = strtol_exact(s);
  if (!n || *n < min || *n > max) return -1;
  return *n;
}

/// glibc inet_aton: 1 to 4 parts separated by '.', each decimal, octal (leading 0) or hex (0x);
/// the last part fills the remaining bytes; white space may follow (and then anything).
std::optional<Ipv4Addr> inet_aton_c(std::string_view s) {
  uint32_t parts[4] = {};
  int n = 0;
  size_t i = 0;
  uint64_t val = 0;
  for (;;) {
    if (i >= s.size() || !c_isdigit(s[i])) return std::nullopt;
    int base = 10;
    if (s[i] == '0') {
      if (i + 1 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        base = 16;
        i += 2;
      } else {
        base = 8;
      }
    }
    val = 0;
    bool any = base != 16;
    for (; i < s.size(); ++i) {
      const char c = s[i];
      int d;
      if (c_isdigit(c)) d = c - '0';
      else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else break;
      if (d >= base) break;
      val = val * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
      any = true;
      if (val > 0xffffffffull) return std::nullopt;
    }
    if (!any) {
      // "0x" with no hex digit: strtoul reads "0" and stops at the 'x'.
      val = 0;
      --i;
    }
    if (i < s.size() && s[i] == '.') {
      if (n > 2 || val > 0xff) return std::nullopt;
      parts[n++] = static_cast<uint32_t>(val);
      ++i;
      continue;
    }
    break;
  }
  if (i < s.size() && !c_isspace(s[i])) return std::nullopt;
  uint32_t v = static_cast<uint32_t>(val);
  switch (n) {
    case 0: break;
    case 1:
      if (val > 0xffffff) return std::nullopt;
      v |= parts[0] << 24;
      break;
    case 2:
      if (val > 0xffff) return std::nullopt;
      v |= (parts[0] << 24) | (parts[1] << 16);
      break;
    case 3:
      if (val > 0xff) return std::nullopt;
      v |= (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8);
      break;
  }
  return Ipv4Addr{v};
}

/// getservbyname() for the common names of /etc/services (Debian netbase): vsrouter reads no
/// files, so this table stands in for it. Aliases included.
std::optional<uint16_t> service_to_port(std::string_view name, uint16_t proto) {
  struct Svc {
    const char* name;
    uint16_t port;
    bool tcp, udp;
  };
  static constexpr Svc kServices[] = {
      {"ftp-data", 20, true, false},    {"ftp", 21, true, false},        {"ssh", 22, true, false},
      {"telnet", 23, true, false},      {"smtp", 25, true, false},       {"mail", 25, true, false},
      {"domain", 53, true, true},       {"http", 80, true, false},       {"www", 80, true, false},
      {"pop3", 110, true, false},       {"pop-3", 110, true, false},     {"ntp", 123, false, true},
      {"imap2", 143, true, false},      {"imap", 143, true, false},      {"snmp", 161, true, true},
      {"ldap", 389, true, true},        {"https", 443, true, true},      {"submissions", 465, true, false},
      {"ssmtp", 465, true, false},      {"smtps", 465, true, false},     {"syslog", 514, false, true},
      {"submission", 587, true, false}, {"ldaps", 636, true, true},      {"imaps", 993, true, false},
      {"pop3s", 995, true, false},      {"openvpn", 1194, true, true},   {"radius", 1812, true, true},
      {"mysql", 3306, true, false},     {"sip", 5060, true, true},       {"postgresql", 5432, true, false},
      {"postgres", 5432, true, false},  {"http-alt", 8080, true, false}, {"webcache", 8080, true, false},
  };
  for (const Svc& s : kServices)
    if (name == s.name && ((proto == kProtoTcp && s.tcp) || (proto == kProtoUdp && s.udp))) return s.port;
  return std::nullopt;
}

constexpr int kServiceNone = 0;
constexpr int kServiceAddr = 1;
constexpr int kServicePort = 2;

bool str_is_digit(std::string_view s) { return std::all_of(s.begin(), s.end(), c_isdigit); }

/// parse_service(): "host[:port]" or "[ipv6]:port" into `svc` (addr, af, port; the protocol
/// chooses the service-name table); returns kServiceAddr | kServicePort, or kServiceNone. Host
/// names are not resolved (no I/O): only addresses parse.
int parse_service(const std::string& arg, SvcArgs& svc) {
  if (str_is_digit(arg)) return kServiceNone;  // also the empty string
  std::string host = arg;
  std::optional<std::string> port;  // text after the separating ':'
  if (arg[0] == '[') {
    auto close = arg.find(']');
    if (close == std::string::npos) return kServiceNone;
    if (close + 1 >= arg.size() || arg[close + 1] != ':') return kServiceNone;
    host = arg.substr(1, close - 1);
    port = arg.substr(close + 2);
  }
  in6_addr a6{};
  if (::inet_pton(AF_INET6, host.c_str(), &a6) > 0) {
    svc.af = kAfInet6;
    std::copy(a6.s6_addr, a6.s6_addr + 16, svc.addr.v6.begin());
    svc.addr.v4 = {};
    svc.netmask = 128;
  } else {
    // An IPv4 address: the port follows the last ':' (a bracketed IPv4 address loses its port,
    // as in ipvsadm).
    port.reset();
    if (auto c = host.rfind(':'); c != std::string::npos) {
      port = host.substr(c + 1);
      host.resize(c);
    }
    auto v4 = inet_aton_c(host);
    if (!v4) return kServiceNone;
    svc.addr.v4 = *v4;
    svc.addr.v6 = {};
    svc.af = kAfInet;
  }
  int result = kServiceAddr;
  if (port) {
    result |= kServicePort;
    long long n = string_to_number(*port, 0, 65535);
    if (n != -1) {
      svc.port = static_cast<uint16_t>(n);
    } else if (auto p = service_to_port(*port, svc.protocol)) {
      svc.port = *p;
    } else {
      return kServiceNone;
    }
  }
  return result;
}

std::optional<int> parse_tun_type(std::string_view t) {
  for (int i = 0; i < 3; ++i)
    if (t == kTunNames[i]) return i;
  return std::nullopt;
}

int parse_timeout(const std::optional<std::string>& buf, int min, int max) {
  if (!buf) return kDefaultPersistentTimeout;
  long long i = string_to_number(*buf, min, max);
  if (i == -1) fail(2, "invalid timeout value `" + *buf + "' specified");
  return static_cast<int>(i);
}

uint32_t parse_fwmark(const std::string& buf) {
  auto l = strtol_exact(buf);
  if (!l || *l <= 0 || *l > static_cast<long long>(UINT_MAX)) fail(2, "invalid fwmark value `" + buf + "' specified");
  return static_cast<uint32_t>(*l);
}

unsigned parse_sched_flags(const std::string& sched_in, const std::string& arg) {
  const std::string sched = sched_in.empty() ? "wlc" : sched_in;
  unsigned flags = 0;
  // strtok(arg, ","): empty tokens are skipped; a string of commas yields one empty token check.
  std::vector<std::string> toks;
  size_t i = 0;
  while (i <= arg.size()) {
    size_t j = arg.find(',', i);
    if (j == std::string::npos) j = arg.size();
    if (j > i) toks.push_back(arg.substr(i, j - i));
    i = j + 1;
  }
  if (toks.empty()) toks.push_back("");  // strtok returned NULL: ipvsadm compares NULL (crash); refuse it
  for (const std::string& flag : toks) {
    if (flag == "flag-1") {
      flags |= kSvcSched1;
    } else if (flag == "flag-2") {
      flags |= kSvcSched2;
    } else if (flag == "flag-3") {
      flags |= kSvcSched3;
    } else if (flag == "sh-fallback" || flag == "sh-port" || flag == "mh-fallback" || flag == "mh-port") {
      flags |= (flag == "sh-fallback" || flag == "mh-fallback") ? kSvcSched1 : kSvcSched2;
      if (sched != flag.substr(0, 2)) fail(2, "incompatible scheduler flag `" + flag + "'");
    } else {
      fail(2, "invalid scheduler flag `" + flag + "'");
    }
  }
  return flags;
}

void set_option(uint64_t& options, int optc) {
  const uint64_t o = opt(optc);
  if (options & o) fail(2, std::string("multiple '") + kOptNames[optc] + "' options specified");
  options |= o;
}

void set_command(int& cmd, int newcmd) {
  if (cmd != CMD_NONE) fail(2, "multiple commands specified");
  cmd = newcmd;
}

void generic_opt_check_or_exit(int command, uint64_t options) {
  const int i = command - CMD_NONE - 1;
  int last = 0, count = 0;
  for (int j = 0; j < kNumOpt; ++j) {
    const char rule = kCommandsVsOptions[i][j];
    if (!(options & opt(j))) {
      if (rule == '+')
        fail(2, std::string("You need to supply the '") + kOptNames[j] + "' option for the '" + kCmdNames[i] +
                    "' command");
    } else {
      if (rule == 'x')
        fail(2, std::string("Illegal '") + kOptNames[j] + "' option with the '" + kCmdNames[i] + "' command");
      if (rule == '1') {
        if (++count == 1) {
          last = j;
          continue;
        }
        fail(2, std::string("The option '") + kOptNames[j] + "' conflicts with the '" + kOptNames[last] +
                    "' option in the '" + kCmdNames[i] + "' command");
      }
    }
  }
}

void tunnel_opt_check_or_exit(unsigned tun_type, uint64_t options) {
  int last = 0, count = 0;
  for (int j = 0; j < 4; ++j) {
    const int k = kTunOpts[j];
    const char rule = kTunnelTypesVsOptions[tun_type][j];
    if (!(options & opt(k))) {
      if (rule == '+')
        fail(2, std::string("You need to supply the '") + kOptNames[k] + "' option for the '" + kTunNames[tun_type] +
                    "' tunnel type");
    } else {
      if (rule == 'x')
        fail(2,
             std::string("Illegal '") + kOptNames[k] + "' option with the '" + kTunNames[tun_type] + "' tunnel type");
      if (rule == '1') {
        if (++count == 1) {
          last = k;
          continue;
        }
        fail(2, std::string("The option '") + kOptNames[k] + "' conflicts with the '" + kOptNames[last] +
                    "' option in the '" + kTunNames[tun_type] + "' tunnel type");
      }
    }
  }
}

/// POSIXLY_CORRECT and POSIX_ME_HARDER out of the environment while popt makes a context (popt
/// reads them there only), put back as they were afterwards. Nothing is touched when neither is
/// set, which is always the case in the daemon (src/cli/main.cpp unsets them at start-up).
class PosixlyCorrectHidden {
public:
  PosixlyCorrectHidden() {
    for (Saved& s : saved_) {
      if (const char* v = std::getenv(s.name)) {
        s.value = v;
        ::unsetenv(s.name);
      }
    }
  }
  ~PosixlyCorrectHidden() {
    for (const Saved& s : saved_)
      if (s.value) ::setenv(s.name, s.value->c_str(), 1);
  }
  PosixlyCorrectHidden(const PosixlyCorrectHidden&) = delete;
  PosixlyCorrectHidden& operator=(const PosixlyCorrectHidden&) = delete;

private:
  struct Saved {
    const char* name;
    std::optional<std::string> value;
  };
  Saved saved_[2] = {{"POSIXLY_CORRECT", std::nullopt}, {"POSIX_ME_HARDER", std::nullopt}};
};

struct ContextFree {
  void operator()(poptContext c) const { poptFreeContext(c); }
};
using Context = std::unique_ptr<std::remove_pointer_t<poptContext>, ContextFree>;

struct CharFree {
  void operator()(char* p) const { std::free(p); }
};

/// The popt context over "ipvsadm" + args, as ipvsadm makes it (flags 0: argv[0] skipped).
Context make_context(const std::vector<const char*>& argv) {
  PosixlyCorrectHidden hidden;
  return Context(poptGetContext("ipvsadm", static_cast<int>(argv.size()) - 1, const_cast<const char**>(argv.data()),
                                kOptionsTable, 0));
}

/// poptBadOption(con, POPT_BADOPTION_NOALIAS): the word popt was looking at.
std::string bad_option(poptContext con) {
  const char* w = poptBadOption(con, POPT_BADOPTION_NOALIAS);
  return w ? w : "";
}

/// poptGetArg(): the next leftover argument, in order.
std::optional<std::string> get_arg(poptContext con) {
  const char* a = poptGetArg(con);
  if (!a) return std::nullopt;
  return std::string(a);
}

/// popt replaces "!#:+" in an option's value with the next argument that does not start with '-'
/// (and removes that argument from the command line); with no argument left it keeps the text.
/// But when arguments remain and all start with '-', libpopt 1.19's findNextArg() loops forever,
/// and so does ipvsadm (`ipvsadm -L -t 'x!#:+' -n` never returns). A daemon must answer, so such
/// command lines are refused before popt sees them. Conservatively: every word holding "!#:+"
/// is taken for an option value, and each takes the first free word after it not starting with
/// '-'; true if one of them finds none while words follow it.
bool popt_could_hang(const std::vector<std::string>& args) {
  std::vector<bool> taken(args.size());
  for (size_t j = 0; j < args.size(); ++j) {
    if (args[j].find("!#:+") == std::string::npos || j + 1 == args.size()) continue;
    size_t k = j + 1;
    while (k < args.size() && (taken[k] || (!args[k].empty() && args[k][0] == '-'))) ++k;
    if (k == args.size()) return true;
    taken[k] = true;
  }
  return false;
}

/// ipvsadm.c's parse_options(), throwing ParseExit where ipvsadm exits or returns -1.
CommandEntry parse_or_exit(const std::vector<std::string>& args) {
  if (popt_could_hang(args))
    fail(2,
         "vsrouter: \"!#:+\" with only options after it: popt would look for an argument to put in its "
         "place and never stop (ipvsadm hangs); refused");
  CommandEntry ce;
  uint64_t& options = ce.options;
  unsigned& format = ce.format;
  std::vector<const char*> argv;
  argv.reserve(args.size() + 2);
  argv.push_back("ipvsadm");
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  Context context = make_context(argv);
  poptContext con = context.get();

  // The value of the option just returned (poptGetOptArg hands it over: ours to free), or
  // nullopt for an option without one (-p alone).
  std::optional<std::string> optarg;
  auto next_opt = [&] {
    int c = poptGetNextOpt(con);
    std::unique_ptr<char, CharFree> a(poptGetOptArg(con));
    if (a) optarg = std::string(a.get());
    else optarg.reset();
    return c;
  };
  std::string sched_flags_arg;

  int c = next_opt();
  if (c < 0) tryhelp_exit(-1);
  switch (c) {
    case 'A': set_command(ce.cmd, CMD_ADD); break;
    case 'E': set_command(ce.cmd, CMD_EDIT); break;
    case 'D': set_command(ce.cmd, CMD_DEL); break;
    case 'a': set_command(ce.cmd, CMD_ADDDEST); break;
    case 'e': set_command(ce.cmd, CMD_EDITDEST); break;
    case 'd': set_command(ce.cmd, CMD_DELDEST); break;
    case 'C': set_command(ce.cmd, CMD_FLUSH); break;
    case 'L':
    case 'l': set_command(ce.cmd, CMD_LIST); break;
    case 'Z': set_command(ce.cmd, CMD_ZERO); break;
    case TAG_SET: set_command(ce.cmd, CMD_TIMEOUT); break;
    case 'R': set_command(ce.cmd, CMD_RESTORE); break;
    case 'S': set_command(ce.cmd, CMD_SAVE); break;
    case TAG_START_DAEMON:
      set_command(ce.cmd, CMD_STARTDAEMON);
      if (*optarg != "master" && *optarg != "backup") fail(2, "illegal start-daemon parameter specified");
      ce.daemon.state = *optarg;
      break;
    case TAG_STOP_DAEMON:
      set_command(ce.cmd, CMD_STOPDAEMON);
      if (*optarg != "master" && *optarg != "backup") fail(2, "illegal start_daemon specified");
      ce.daemon.state = *optarg;
      break;
    case 'h': throw ParseExit{0, usage_text(), "", true};
    case 'v': throw ParseExit{0, kVersion, "", true};
    default: tryhelp_exit(-1);
  }

  while ((c = next_opt()) >= 0) {
    switch (c) {
      case 't':
      case 'u':
      case TAG_SCTP_SERVICE: {
        set_option(options, OPTC_SERVICE);
        ce.svc.protocol = c == 't' ? kProtoTcp : c == 'u' ? kProtoUdp : kProtoSctp;
        int parse = parse_service(*optarg, ce.svc);
        if (!(parse & kServiceAddr)) fail(2, "illegal virtual server address[:port] specified");
        break;
      }
      case 'f':
        set_option(options, OPTC_SERVICE);
        ce.svc.af = kAfInet;
        ce.svc.protocol = kProtoTcp;
        ce.svc.fwmark = parse_fwmark(*optarg);
        break;
      case 's':
        set_option(options, OPTC_SCHEDULER);
        ce.svc.sched_name = optarg->substr(0, 15);  // IP_VS_SCHEDNAME_MAXLEN - 1
        break;
      case 'p':
        set_option(options, OPTC_PERSISTENT);
        ce.svc.flags |= kSvcPersistent;
        ce.svc.timeout = static_cast<uint32_t>(parse_timeout(optarg, 1, kMaxTimeout));
        break;
      case 'M':
        set_option(options, OPTC_NETMASK);
        if (ce.svc.af != kAfInet6) {
          auto m = inet_aton_c(*optarg);
          if (!m) fail(2, "illegal virtual server persistent mask specified");
          ce.svc.netmask = m->v;
        } else {
          long n = std::atol(optarg->c_str());
          if (n < 1 || n > 128) fail(2, "illegal ipv6 netmask specified");
          ce.svc.netmask = static_cast<uint32_t>(n);
        }
        break;
      case 'r': {
        set_option(options, OPTC_SERVER);
        SvcArgs t_dest = ce.svc;
        int parse = parse_service(*optarg, t_dest);
        ce.dest.af = t_dest.af;
        ce.dest.addr = t_dest.addr;
        ce.dest.port = t_dest.port;
        if (!(parse & kServiceAddr)) fail(2, "illegal real server address[:port] specified");
        if (parse == kServiceAddr) ce.dest.port = ce.svc.port;  // copy vport to dport if not specified
        break;
      }
      case 'i':
        set_option(options, OPTC_FORWARD);
        ce.dest.conn_flags = kConnTunnel;
        break;
      case 'g':
        set_option(options, OPTC_FORWARD);
        ce.dest.conn_flags = kConnDroute;
        break;
      case 'm':
        set_option(options, OPTC_FORWARD);
        ce.dest.conn_flags = kConnMasq;
        break;
      case 'w': {
        set_option(options, OPTC_WEIGHT);
        long long w = string_to_number(*optarg, 0, INT_MAX);  // ipvsadm 1.31, as the kernel
        if (w == -1) fail(2, "illegal weight specified");
        ce.dest.weight = static_cast<int>(w);
        break;
      }
      case 'x': {
        set_option(options, OPTC_UTHRESHOLD);
        long long v = string_to_number(*optarg, 0, INT_MAX);
        if (v == -1) fail(2, "illegal u_threshold specified");
        ce.dest.u_threshold = static_cast<uint32_t>(v);
        break;
      }
      case 'y': {
        set_option(options, OPTC_LTHRESHOLD);
        long long v = string_to_number(*optarg, 0, INT_MAX);
        if (v == -1) fail(2, "illegal l_threshold specified");
        ce.dest.l_threshold = static_cast<uint32_t>(v);
        break;
      }
      case 'c': set_option(options, OPTC_CONNECTION); break;
      case 'n':
        set_option(options, OPTC_NUMERIC);
        format |= kFmtNumeric;
        break;
      case TAG_MCAST_INTERFACE:
        set_option(options, OPTC_MCAST);
        ce.daemon.mcast_ifn = optarg->substr(0, 15);  // IP_VS_IFNAME_MAXLEN - 1
        break;
      case 'I':
        set_option(options, OPTC_SYNCID);
        if (auto v = string_to_number(*optarg, 0, 255); v != -1) ce.daemon.syncid = static_cast<int>(v);
        else fail(2, "illegal syncid specified");
        break;
      case TAG_TIMEOUT: set_option(options, OPTC_TIMEOUT); break;
      case TAG_DAEMON: set_option(options, OPTC_DAEMON); break;
      case TAG_STATS:
        set_option(options, OPTC_STATS);
        format |= kFmtStats;
        break;
      case TAG_RATE:
        set_option(options, OPTC_RATE);
        format |= kFmtRate;
        break;
      case TAG_THRESHOLDS:
        set_option(options, OPTC_THRESHOLDS);
        format |= kFmtThresholds;
        break;
      case TAG_PERSISTENTCONN:
        set_option(options, OPTC_PERSISTENTCONN);
        format |= kFmtPersistentConn;
        break;
      case TAG_NO_SORT:
        set_option(options, OPTC_NOSORT);
        format |= kFmtNoSort;
        break;
      case TAG_SORT: break;  // sorting is the default; a no-op kept for compatibility
      case 'X':
        set_option(options, OPTC_EXACT);
        format |= kFmtExact;
        break;
      case '6':
        if (ce.svc.fwmark) {
          ce.svc.af = kAfInet6;
          ce.svc.netmask = 128;
        } else {
          fail(2, "-6 used before -f\n");
        }
        break;
      case 'o':
        set_option(options, OPTC_ONEPACKET);
        ce.svc.flags |= kSvcOnePacket;
        break;
      case TAG_PERSISTENCE_ENGINE:
        set_option(options, OPTC_PERSISTENCE_ENGINE);
        ce.svc.pe_name = optarg->substr(0, 16);  // IP_VS_PENAME_MAXLEN
        break;
      case 'b':
        set_option(options, OPTC_SCHED_FLAGS);
        sched_flags_arg = optarg->substr(0, 127);
        break;
      case TAG_MCAST_GROUP: {
        set_option(options, OPTC_MCAST_GROUP);
        if (optarg->find(':') != std::string::npos) {
          in6_addr a6{};
          if (::inet_pton(AF_INET6, optarg->c_str(), &a6) <= 0 || a6.s6_addr[0] != 0xff)
            fail(2, "invalid IPv6 mcast-group `" + *optarg + "'");
        } else {
          in_addr a4{};
          if (::inet_pton(AF_INET, optarg->c_str(), &a4) <= 0 || (ntohl(a4.s_addr) >> 28) != 0xe)
            fail(2, "invalid IPv4 mcast-group `" + *optarg + "'");
        }
        ce.daemon.mcast_group = *optarg;
        break;
      }
      case TAG_MCAST_PORT:
        set_option(options, OPTC_MCAST_PORT);
        if (auto v = string_to_number(*optarg, 1, 65535); v != -1) ce.daemon.mcast_port = static_cast<int>(v);
        else fail(2, "illegal mcast-port specified");
        break;
      case TAG_MCAST_TTL:
        set_option(options, OPTC_MCAST_TTL);
        if (auto v = string_to_number(*optarg, 1, 255); v != -1) ce.daemon.mcast_ttl = static_cast<int>(v);
        else fail(2, "illegal mcast-ttl specified");
        break;
      case TAG_SYNC_MAXLEN:
        set_option(options, OPTC_SYNC_MAXLEN);
        if (auto v = string_to_number(*optarg, 1, 65535 - 20 - 8); v != -1) ce.daemon.sync_maxlen = static_cast<int>(v);
        else fail(2, "illegal sync-maxlen specified");
        break;
      case TAG_TUN_INFO:
        set_option(options, OPTC_TUN_INFO);
        format |= kFmtTunInfo;
        break;
      case TAG_TUN_TYPE: {
        set_option(options, OPTC_TUN_TYPE);
        auto t = parse_tun_type(*optarg);
        if (!t) fail(2, "illegal tunnel type specified");
        ce.dest.tun_type = static_cast<unsigned>(*t);
        break;
      }
      case TAG_TUN_PORT: {
        set_option(options, OPTC_TUN_PORT);
        long long p = string_to_number(*optarg, 1, 65535);
        if (p == -1) fail(2, "illegal tunnel port specified");
        ce.dest.tun_port = static_cast<uint16_t>(p);
        break;
      }
      case TAG_TUN_NOCSUM: set_option(options, OPTC_TUN_NOCSUM); break;
      case TAG_TUN_CSUM:
        set_option(options, OPTC_TUN_CSUM);
        ce.dest.tun_flags |= 1;
        break;
      case TAG_TUN_REMCSUM:
        set_option(options, OPTC_TUN_REMCSUM);
        ce.dest.tun_flags |= 2;
        break;
      default: fail(2, "invalid option `" + bad_option(con) + "'");
    }
  }

  if (c < -1) {
    // An error during option processing: printed, and parse_options() returns -1.
    throw ParseExit{255, "", bad_option(con) + ": " + poptStrerror(c) + "\n", false};
  }

  if (ce.cmd == CMD_TIMEOUT) {
    auto a0 = get_arg(con);
    auto a1 = a0 ? get_arg(con) : std::nullopt;
    auto a2 = a1 ? get_arg(con) : std::nullopt;
    if (!a2) fail(2, "--set option requires 3 timeout values");
    ce.timeout.tcp = parse_timeout(a0, 0, kMaxTimeout);
    ce.timeout.tcpfin = parse_timeout(a1, 0, kMaxTimeout);
    ce.timeout.udp = parse_timeout(a2, 0, kMaxTimeout);
  }

  if (auto extra = get_arg(con)) fail(2, "unexpected argument " + *extra);
  if (!sched_flags_arg.empty()) {
    ce.svc.flags &= ~(kSvcSched1 | kSvcSched2 | kSvcSched3);
    ce.svc.flags |= parse_sched_flags(ce.svc.sched_name, sched_flags_arg);
  }
  return ce;
}

}  // namespace

ParseResult parse_options(const std::vector<std::string>& args) {
  try {
    return parse_or_exit(args);
  } catch (const ParseExit& e) {
    return e;
  }
}

std::optional<ParseExit> generic_opt_check(int command, uint64_t options) {
  try {
    generic_opt_check_or_exit(command, options);
  } catch (const ParseExit& e) {
    return e;
  }
  return std::nullopt;
}

std::optional<ParseExit> tunnel_opt_check(unsigned tun_type, uint64_t options) {
  try {
    tunnel_opt_check_or_exit(tun_type, options);
  } catch (const ParseExit& e) {
    return e;
  }
  return std::nullopt;
}

}  // namespace vs::ctl::ipvsadm

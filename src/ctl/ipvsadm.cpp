// ipvsadm 1.31 (ipvsadm.c, libipvs/libipvs.c, config_stream.c, built with popt) over the
// director. The structure follows ipvsadm.c so that each check happens in the same order and
// says the same thing: parse_options (popt), generic_opt_check (the commands_v_options table),
// process_options (the per-command checks), then the "kernel" request, whose errors are
// ipvs_strerror()'s texts with exit status 255. ipvsadm's exit() is an Exit exception here.
#include "ctl/ipvsadm.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <optional>
#include <string>

#include "config/rules.hpp"
#include "ctl/listing.hpp"
#include "config/sched_names.hpp"

namespace vs::ctl {
namespace {

constexpr const char* kProgram = "vsadm";
constexpr const char* kVersion = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

// ---------------------------------------------------------------------------------------------
// Commands and options (ipvsadm.c)

enum Cmd : int {
  CMD_NONE = 0, CMD_ADD, CMD_EDIT, CMD_DEL, CMD_FLUSH, CMD_LIST, CMD_ADDDEST, CMD_DELDEST, CMD_EDITDEST,
  CMD_TIMEOUT, CMD_STARTDAEMON, CMD_STOPDAEMON, CMD_RESTORE, CMD_SAVE, CMD_ZERO,
};
constexpr int kNumCmd = CMD_ZERO;

constexpr const char* kCmdNames[kNumCmd] = {
    "add-service", "edit-service", "delete-service", "flush", "list", "add-server", "delete-server",
    "edit-server", "set", "start-daemon", "stop-daemon", "restore", "save", "zero",
};

enum Optc : int {
  OPTC_NUMERIC, OPTC_CONNECTION, OPTC_SERVICE, OPTC_SCHEDULER, OPTC_PERSISTENT, OPTC_NETMASK, OPTC_SERVER,
  OPTC_FORWARD, OPTC_WEIGHT, OPTC_UTHRESHOLD, OPTC_LTHRESHOLD, OPTC_MCAST, OPTC_TIMEOUT, OPTC_DAEMON,
  OPTC_STATS, OPTC_RATE, OPTC_THRESHOLDS, OPTC_PERSISTENTCONN, OPTC_NOSORT, OPTC_SYNCID, OPTC_EXACT,
  OPTC_ONEPACKET, OPTC_PERSISTENCE_ENGINE, OPTC_SCHED_FLAGS, OPTC_MCAST_GROUP, OPTC_MCAST_PORT,
  OPTC_MCAST_TTL, OPTC_SYNC_MAXLEN, OPTC_TUN_INFO, OPTC_TUN_TYPE, OPTC_TUN_PORT, OPTC_TUN_NOCSUM,
  OPTC_TUN_CSUM, OPTC_TUN_REMCSUM,
};
constexpr int kNumOpt = 34;
constexpr uint64_t opt(int c) { return uint64_t{1} << c; }

constexpr const char* kOptNames[kNumOpt] = {
    "numeric", "connection", "service-address", "scheduler", "persistent", "netmask", "real-server",
    "forwarding-method", "weight", "u-threshold", "l-threshold", "mcast-interface", "timeout", "daemon",
    "stats", "rate", "thresholds", "persistent-conn", "nosort", "syncid", "exact", "ops", "pe",
    "sched-flags", "mcast-group", "mcast-port", "mcast-ttl", "sync-maxlen", "tun-info", "tun-type",
    "tun-port", "tun-nocsum", "tun-csum", "tun-remcsum",
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

constexpr const char* kTunNames[] = {"ipip", "gue", "gre"};
constexpr int kTunOpts[] = {OPTC_TUN_PORT, OPTC_TUN_NOCSUM, OPTC_TUN_CSUM, OPTC_TUN_REMCSUM};
// tunnel_types_v_options: rows ipip, gue, gre; columns tun-port, nocsum, csum, remcsum.
constexpr const char* kTunnelTypesVsOptions[] = {"xxxx", "+111", "x11x"};

// Tags of options without a short name (popt `val`s >= 128).
enum Tag : int {
  TAG_SET = 128, TAG_START_DAEMON, TAG_STOP_DAEMON, TAG_MCAST_INTERFACE, TAG_TIMEOUT, TAG_DAEMON, TAG_STATS,
  TAG_RATE, TAG_THRESHOLDS, TAG_PERSISTENTCONN, TAG_SORT, TAG_NO_SORT, TAG_PERSISTENCE_ENGINE,
  TAG_SCTP_SERVICE, TAG_MCAST_GROUP, TAG_MCAST_PORT, TAG_MCAST_TTL, TAG_SYNC_MAXLEN, TAG_TUN_INFO,
  TAG_TUN_TYPE, TAG_TUN_PORT, TAG_TUN_NOCSUM, TAG_TUN_CSUM, TAG_TUN_REMCSUM,
};

enum class Arg : uint8_t { kNone, kString, kOptional };
struct OptDef {
  const char* name;
  char short_name;
  Arg arg;
  int val;
};

constexpr OptDef kOptions[] = {
    {"add-service", 'A', Arg::kNone, 'A'},
    {"edit-service", 'E', Arg::kNone, 'E'},
    {"delete-service", 'D', Arg::kNone, 'D'},
    {"clear", 'C', Arg::kNone, 'C'},
    {"list", 'L', Arg::kNone, 'L'},
    {"list", 'l', Arg::kNone, 'l'},
    {"zero", 'Z', Arg::kNone, 'Z'},
    {"add-server", 'a', Arg::kNone, 'a'},
    {"edit-server", 'e', Arg::kNone, 'e'},
    {"delete-server", 'd', Arg::kNone, 'd'},
    {"set", '\0', Arg::kNone, TAG_SET},
    {"help", 'h', Arg::kNone, 'h'},
    {"version", 'v', Arg::kNone, 'v'},
    {"restore", 'R', Arg::kNone, 'R'},
    {"save", 'S', Arg::kNone, 'S'},
    {"start-daemon", '\0', Arg::kString, TAG_START_DAEMON},
    {"stop-daemon", '\0', Arg::kString, TAG_STOP_DAEMON},
    {"tcp-service", 't', Arg::kString, 't'},
    {"udp-service", 'u', Arg::kString, 'u'},
    {"sctp-service", '\0', Arg::kString, TAG_SCTP_SERVICE},
    {"fwmark-service", 'f', Arg::kString, 'f'},
    {"scheduler", 's', Arg::kString, 's'},
    {"persistent", 'p', Arg::kOptional, 'p'},
    {"netmask", 'M', Arg::kString, 'M'},
    {"real-server", 'r', Arg::kString, 'r'},
    {"masquerading", 'm', Arg::kNone, 'm'},
    {"ipip", 'i', Arg::kNone, 'i'},
    {"gatewaying", 'g', Arg::kNone, 'g'},
    {"weight", 'w', Arg::kString, 'w'},
    {"u-threshold", 'x', Arg::kString, 'x'},
    {"l-threshold", 'y', Arg::kString, 'y'},
    {"numeric", 'n', Arg::kNone, 'n'},
    {"connection", 'c', Arg::kNone, 'c'},
    {"mcast-interface", '\0', Arg::kString, TAG_MCAST_INTERFACE},
    {"syncid", '\0', Arg::kString, 'I'},
    {"timeout", '\0', Arg::kNone, TAG_TIMEOUT},
    {"daemon", '\0', Arg::kNone, TAG_DAEMON},
    {"stats", '\0', Arg::kNone, TAG_STATS},
    {"rate", '\0', Arg::kNone, TAG_RATE},
    {"thresholds", '\0', Arg::kNone, TAG_THRESHOLDS},
    {"persistent-conn", '\0', Arg::kNone, TAG_PERSISTENTCONN},
    {"nosort", '\0', Arg::kNone, TAG_NO_SORT},
    {"sort", '\0', Arg::kNone, TAG_SORT},
    {"exact", 'X', Arg::kNone, 'X'},
    {"ipv6", '6', Arg::kNone, '6'},
    {"ops", 'o', Arg::kNone, 'o'},
    {"pe", '\0', Arg::kString, TAG_PERSISTENCE_ENGINE},
    {"sched-flags", 'b', Arg::kString, 'b'},
    {"mcast-group", '\0', Arg::kString, TAG_MCAST_GROUP},
    {"mcast-port", '\0', Arg::kString, TAG_MCAST_PORT},
    {"mcast-ttl", '\0', Arg::kString, TAG_MCAST_TTL},
    {"sync-maxlen", '\0', Arg::kString, TAG_SYNC_MAXLEN},
    {"tun-info", '\0', Arg::kNone, TAG_TUN_INFO},
    {"tun-type", '\0', Arg::kString, TAG_TUN_TYPE},
    {"tun-port", '\0', Arg::kString, TAG_TUN_PORT},
    {"tun-nocsum", '\0', Arg::kNone, TAG_TUN_NOCSUM},
    {"tun-csum", '\0', Arg::kNone, TAG_TUN_CSUM},
    {"tun-remcsum", '\0', Arg::kNone, TAG_TUN_REMCSUM},
};

// popt's error codes and poptStrerror() texts.
constexpr int kPoptErrNoArg = -10;
constexpr int kPoptErrBadOpt = -11;
constexpr int kPoptErrUnwantedArg = -12;

const char* popt_strerror(int e) {
  switch (e) {
    case kPoptErrNoArg: return "missing argument";
    case kPoptErrBadOpt: return "unknown option";
    case kPoptErrUnwantedArg: return "option does not take an argument";
    default: return "unknown error";
  }
}

/// popt's option scanner as ipvsadm uses it (no aliases, no POSIXMEHARDER): words that are not
/// options are set aside as leftover arguments (poptGetArg), "--" makes every later word one,
/// short options cluster ("-Lnc"), an option's value may be attached ("-p600", "--weight=3") or
/// the next word (always for a required value; for an optional one only when it does not start
/// with '-').
class Popt {
public:
  explicit Popt(const std::vector<std::string>& args) : args_(args) {}

  /// The next option's val (optarg set if it has a value), -1 at the end, or a popt error.
  int next(std::optional<std::string>& optarg) {
    optarg.reset();
    for (;;) {
      if (!cluster_.empty()) return short_option(optarg);
      if (next_ >= args_.size()) return -1;
      const std::string& w = args_[next_++];
      word_ = w;
      if (rest_leftover_ || w.size() < 2 || w[0] != '-') {
        leftovers_.push_back(w);
        continue;
      }
      if (w == "--") {
        rest_leftover_ = true;
        continue;
      }
      if (w[1] != '-') {
        cluster_ = w.substr(1);
        continue;
      }
      std::string name = w.substr(2);
      std::optional<std::string> attached;
      if (auto eq = name.find('='); eq != std::string::npos) {
        attached = name.substr(eq + 1);
        name.resize(eq);
      }
      const OptDef* o = nullptr;
      for (const OptDef& d : kOptions)
        if (name == d.name) {
          o = &d;
          break;
        }
      if (!o) return kPoptErrBadOpt;
      if (o->arg == Arg::kNone) return attached ? kPoptErrUnwantedArg : o->val;
      if (attached) {
        optarg = *attached;
        return o->val;
      }
      return take_value(*o, optarg);
    }
  }

  /// The word of the last option handled (poptBadOption(..., POPT_BADOPTION_NOALIAS)).
  const std::string& bad_option() const { return word_; }

  /// The next leftover argument (poptGetArg), in order.
  std::optional<std::string> get_arg() {
    if (leftovers_.empty()) return std::nullopt;
    std::string a = leftovers_.front();
    leftovers_.pop_front();
    return a;
  }

private:
  int short_option(std::optional<std::string>& optarg) {
    const char c = cluster_[0];
    cluster_.erase(0, 1);
    const OptDef* o = nullptr;
    for (const OptDef& d : kOptions)
      if (d.short_name != '\0' && d.short_name == c) {
        o = &d;
        break;
      }
    if (!o) {
      cluster_.clear();
      return kPoptErrBadOpt;
    }
    if (o->arg == Arg::kNone) return o->val;
    if (!cluster_.empty()) {
      optarg = cluster_[0] == '=' ? cluster_.substr(1) : cluster_;
      cluster_.clear();
      return o->val;
    }
    return take_value(*o, optarg);
  }

  int take_value(const OptDef& o, std::optional<std::string>& optarg) {
    if (next_ >= args_.size()) return o.arg == Arg::kOptional ? o.val : kPoptErrNoArg;
    if (o.arg == Arg::kOptional && !args_[next_].empty() && args_[next_][0] == '-') return o.val;
    optarg = args_[next_++];
    return o.val;
  }

  const std::vector<std::string>& args_;
  size_t next_ = 0;
  std::string word_;
  std::string cluster_;
  bool rest_leftover_ = false;
  std::deque<std::string> leftovers_;
};

// ---------------------------------------------------------------------------------------------
// The command entry (struct ipvs_command_entry), with the kernel's flag values.

constexpr int kAfInet = 2;
constexpr int kAfInet6 = 10;
constexpr uint16_t kProtoTcp = 6;
constexpr uint16_t kProtoUdp = 17;
constexpr uint16_t kProtoSctp = 132;

constexpr unsigned kSvcPersistent = 0x0001;
constexpr unsigned kSvcOnePacket = 0x0004;
constexpr unsigned kSvcSched1 = 0x0008;
constexpr unsigned kSvcSched2 = 0x0010;
constexpr unsigned kSvcSched3 = 0x0020;

constexpr unsigned kConnMasq = 0;
constexpr unsigned kConnTunnel = 2;
constexpr unsigned kConnDroute = 3;

constexpr unsigned kTunGue = 1;
constexpr int kMaxTimeout = 86400 * 31;
constexpr int kDefaultPersistentTimeout = 360;  // IPVS_SVC_PERSISTENT_TIMEOUT

struct Address {
  int af = 0;
  Ipv4Addr v4;
  std::array<uint8_t, 16> v6{};
  bool is_zero() const { return v4.v == 0 && std::all_of(v6.begin(), v6.end(), [](uint8_t b) { return b == 0; }); }
};

struct SvcArgs {
  uint32_t fwmark = 0;
  int af = 0;
  uint16_t protocol = 0;
  Address addr;
  uint16_t port = 0;
  std::string sched_name;
  unsigned flags = 0;
  uint32_t timeout = 0;
  uint32_t netmask = 0xffffffffu;  // IPv4 mask (host order), or an IPv6 prefix length
  std::string pe_name;
};

struct DestArgs {
  int af = 0;
  Address addr;
  uint16_t port = 0;
  unsigned conn_flags = kConnDroute;
  int weight = 1;
  uint32_t u_threshold = 0;
  uint32_t l_threshold = 0;
  unsigned tun_type = 0;
  uint16_t tun_port = 0;
  unsigned tun_flags = 0;
};

struct TimeoutArgs {
  int tcp = 0, tcpfin = 0, udp = 0;
};

struct CommandEntry {
  int cmd = CMD_NONE;
  SvcArgs svc;
  DestArgs dest;
  TimeoutArgs timeout;
};

// ---------------------------------------------------------------------------------------------
// Execution context and exit

/// ipvsadm's exit(status).
struct Exit {
  int code;
};

struct Ctx {
  Engine& engine;
  Instant now;
  std::string_view input;
  Output& o;
};

[[noreturn]] void fail(Ctx& ctx, int code, const std::string& msg) {
  ctx.o.err += msg + "\n";
  throw Exit{code};
}

[[noreturn]] void refuse(Ctx& ctx, const std::string& msg) { fail(ctx, 2, "vsrouter: " + msg); }

[[noreturn]] void tryhelp_exit(Ctx& ctx, int status) {
  ctx.o.err += std::string("Try `") + kProgram + " -h' or '" + kProgram + " --help' for more information.\n";
  throw Exit{status & 0xff};
}

std::string usage_text() {
  const std::string p = kProgram;
  std::string u = kVersion;
  u += "Usage:\n";
  u += "  " + p + " -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n";
  u += "  " + p + " -D virtual-service\n";
  u += "  " + p + " -C\n";
  u += "  " + p + " -R\n";
  u += "  " + p + " -S [-n]\n";
  u += "  " + p + " -a|e virtual-service -r server-address [options]\n";
  u += "  " + p + " -d virtual-service -r server-address\n";
  u += "  " + p + " -L|l [virtual-service] [options]\n";
  u += "  " + p + " -Z [virtual-service]\n";
  u += "  " + p + " --set tcp tcpfin udp\n";
  u += "  " + p + " --start-daemon {master|backup} [daemon-options]\n";
  u += "  " + p + " --stop-daemon {master|backup}\n";
  u += "  " + p + " -h\n\n";
  u += "Commands:\n"
       "Either long or short options are allowed.\n"
       "  --add-service     -A        add virtual service with options\n"
       "  --edit-service    -E        edit virtual service with options\n"
       "  --delete-service  -D        delete virtual service\n"
       "  --clear           -C        clear the whole table\n"
       "  --restore         -R        restore rules from stdin\n"
       "  --save            -S        save rules to stdout\n"
       "  --add-server      -a        add real server with options\n"
       "  --edit-server     -e        edit real server with options\n"
       "  --delete-server   -d        delete real server\n"
       "  --list            -L|-l     list the table\n"
       "  --zero            -Z        zero counters in a service or all services\n"
       "  --set tcp tcpfin udp        set connection timeout values\n"
       "  --start-daemon              start connection sync daemon\n"
       "  --stop-daemon               stop connection sync daemon\n"
       "  --help            -h        display this help message\n\n";
  u += "virtual-service:\n"
       "  --tcp-service|-t  service-address   service-address is host[:port]\n"
       "  --udp-service|-u  service-address   service-address is host[:port]\n"
       "  --sctp-service    service-address   service-address is host[:port]\n"
       "  --fwmark-service|-f fwmark          fwmark is an integer greater than zero\n"
       "\n";
  std::string scheds;
  for (std::string_view s : config::kSchedulerNames) scheds += (scheds.empty() ? "" : "|") + std::string(s);
  u += "Options:\n"
       "  --ipv6         -6                   fwmark entry uses IPv6\n"
       "  --scheduler    -s scheduler         one of " + scheds + ",\n"
       "                                      the default scheduler is wlc.\n"
       "  --pe            engine              alternate persistence engine may be sip,\n"
       "                                      not set by default.\n"
       "  --persistent   -p [timeout]         persistent service\n"
       "  --netmask      -M netmask           persistent granularity mask\n"
       "  --real-server  -r server-address    server-address is host (and port)\n"
       "  --gatewaying   -g                   gatewaying (direct routing) (default)\n"
       "  --ipip         -i                   ipip encapsulation (tunneling)\n"
       "  --masquerading -m                   masquerading (NAT)\n"
       "  --tun-type      type                one of ipip|gue|gre,\n"
       "                                      the default tunnel type is ipip.\n"
       "  --tun-port      port                tunnel destination port\n"
       "  --tun-nocsum                        tunnel encapsulation without checksum\n"
       "  --tun-csum                          tunnel encapsulation with checksum\n"
       "  --tun-remcsum                       tunnel encapsulation with remote checksum\n"
       "  --weight       -w weight            capacity of real server\n"
       "  --u-threshold  -x uthreshold        upper threshold of connections\n"
       "  --l-threshold  -y lthreshold        lower threshold of connections\n"
       "  --connection   -c                   output of current IPVS connections\n"
       "  --timeout                           output of timeout (tcp tcpfin udp)\n"
       "  --daemon                            output of daemon information\n"
       "  --stats                             output of statistics information\n"
       "  --rate                              output of rate information\n"
       "  --exact                             expand numbers (display exact values)\n"
       "  --thresholds                        output of thresholds information\n"
       "  --persistent-conn                   output of persistent connection info\n"
       "  --tun-info                          output of tunnel information\n"
       "  --nosort                            disable sorting output of service/server entries\n"
       "  --sort                              does nothing, for backwards compatibility\n"
       "  --ops          -o                   one-packet scheduling\n"
       "  --numeric      -n                   numeric output of addresses and ports\n"
       "  --sched-flags  -b flags             scheduler flags (comma-separated)\n";
  u += "Daemon Options:\n"
       "  --syncid sid                        syncid for connection sync (default=255)\n"
       "  --sync-maxlen length                Max sync message length (default=1472)\n"
       "  --mcast-interface interface         multicast interface for connection sync\n"
       "  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)\n"
       "  --mcast-port port                   UDP port (default=8848)\n"
       "  --mcast-ttl ttl                     Multicast TTL (default=1)\n";
  return u;
}

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
      {"ftp-data", 20, true, false}, {"ftp", 21, true, false},        {"ssh", 22, true, false},
      {"telnet", 23, true, false},   {"smtp", 25, true, false},       {"mail", 25, true, false},
      {"domain", 53, true, true},    {"http", 80, true, false},       {"www", 80, true, false},
      {"pop3", 110, true, false},    {"pop-3", 110, true, false},     {"ntp", 123, false, true},
      {"imap2", 143, true, false},   {"imap", 143, true, false},      {"snmp", 161, true, true},
      {"ldap", 389, true, true},     {"https", 443, true, true},      {"submissions", 465, true, false},
      {"ssmtp", 465, true, false},   {"smtps", 465, true, false},     {"syslog", 514, false, true},
      {"submission", 587, true, false}, {"ldaps", 636, true, true},   {"imaps", 993, true, false},
      {"pop3s", 995, true, false},   {"openvpn", 1194, true, true},   {"radius", 1812, true, true},
      {"mysql", 3306, true, false},  {"sip", 5060, true, true},       {"postgresql", 5432, true, false},
      {"postgres", 5432, true, false}, {"http-alt", 8080, true, false}, {"webcache", 8080, true, false},
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

int parse_timeout(Ctx& ctx, const std::optional<std::string>& buf, int min, int max) {
  if (!buf) return kDefaultPersistentTimeout;
  long long i = string_to_number(*buf, min, max);
  if (i == -1) fail(ctx, 2, "invalid timeout value `" + *buf + "' specified");
  return static_cast<int>(i);
}

uint32_t parse_fwmark(Ctx& ctx, const std::string& buf) {
  auto l = strtol_exact(buf);
  if (!l || *l <= 0 || *l > static_cast<long long>(UINT_MAX))
    fail(ctx, 2, "invalid fwmark value `" + buf + "' specified");
  return static_cast<uint32_t>(*l);
}

unsigned parse_sched_flags(Ctx& ctx, const std::string& sched_in, const std::string& arg) {
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
      if (sched != flag.substr(0, 2)) fail(ctx, 2, "incompatible scheduler flag `" + flag + "'");
    } else {
      fail(ctx, 2, "invalid scheduler flag `" + flag + "'");
    }
  }
  return flags;
}

void set_option(Ctx& ctx, uint64_t& options, int optc) {
  const uint64_t o = opt(optc);
  if (options & o) fail(ctx, 2, std::string("multiple '") + kOptNames[optc] + "' options specified");
  options |= o;
}

void set_command(Ctx& ctx, int& cmd, int newcmd) {
  if (cmd != CMD_NONE) fail(ctx, 2, "multiple commands specified");
  cmd = newcmd;
}

void generic_opt_check(Ctx& ctx, int command, uint64_t options) {
  const int i = command - CMD_NONE - 1;
  int last = 0, count = 0;
  for (int j = 0; j < kNumOpt; ++j) {
    const char rule = kCommandsVsOptions[i][j];
    if (!(options & opt(j))) {
      if (rule == '+')
        fail(ctx, 2, std::string("You need to supply the '") + kOptNames[j] + "' option for the '" +
                         kCmdNames[i] + "' command");
    } else {
      if (rule == 'x')
        fail(ctx, 2, std::string("Illegal '") + kOptNames[j] + "' option with the '" + kCmdNames[i] + "' command");
      if (rule == '1') {
        if (++count == 1) {
          last = j;
          continue;
        }
        fail(ctx, 2, std::string("The option '") + kOptNames[j] + "' conflicts with the '" + kOptNames[last] +
                         "' option in the '" + kCmdNames[i] + "' command");
      }
    }
  }
}

void tunnel_opt_check(Ctx& ctx, unsigned tun_type, uint64_t options) {
  int last = 0, count = 0;
  for (int j = 0; j < 4; ++j) {
    const int k = kTunOpts[j];
    const char rule = kTunnelTypesVsOptions[tun_type][j];
    if (!(options & opt(k))) {
      if (rule == '+')
        fail(ctx, 2, std::string("You need to supply the '") + kOptNames[k] + "' option for the '" +
                         kTunNames[tun_type] + "' tunnel type");
    } else {
      if (rule == 'x')
        fail(ctx, 2, std::string("Illegal '") + kOptNames[k] + "' option with the '" + kTunNames[tun_type] +
                         "' tunnel type");
      if (rule == '1') {
        if (++count == 1) {
          last = k;
          continue;
        }
        fail(ctx, 2, std::string("The option '") + kOptNames[k] + "' conflicts with the '" + kOptNames[last] +
                         "' option in the '" + kTunNames[tun_type] + "' tunnel type");
      }
    }
  }
}

/// parse_options(): false when popt reported an error (printed; ipvsadm returns -1).
bool parse_options(Ctx& ctx, const std::vector<std::string>& args, CommandEntry& ce, uint64_t& options,
                   unsigned& format) {
  Popt popt(args);
  std::optional<std::string> optarg;
  std::string sched_flags_arg;

  int c = popt.next(optarg);
  if (c < 0) tryhelp_exit(ctx, -1);
  switch (c) {
    case 'A': set_command(ctx, ce.cmd, CMD_ADD); break;
    case 'E': set_command(ctx, ce.cmd, CMD_EDIT); break;
    case 'D': set_command(ctx, ce.cmd, CMD_DEL); break;
    case 'a': set_command(ctx, ce.cmd, CMD_ADDDEST); break;
    case 'e': set_command(ctx, ce.cmd, CMD_EDITDEST); break;
    case 'd': set_command(ctx, ce.cmd, CMD_DELDEST); break;
    case 'C': set_command(ctx, ce.cmd, CMD_FLUSH); break;
    case 'L':
    case 'l': set_command(ctx, ce.cmd, CMD_LIST); break;
    case 'Z': set_command(ctx, ce.cmd, CMD_ZERO); break;
    case TAG_SET: set_command(ctx, ce.cmd, CMD_TIMEOUT); break;
    case 'R': set_command(ctx, ce.cmd, CMD_RESTORE); break;
    case 'S': set_command(ctx, ce.cmd, CMD_SAVE); break;
    case TAG_START_DAEMON:
      set_command(ctx, ce.cmd, CMD_STARTDAEMON);
      if (*optarg != "master" && *optarg != "backup") fail(ctx, 2, "illegal start-daemon parameter specified");
      break;
    case TAG_STOP_DAEMON:
      set_command(ctx, ce.cmd, CMD_STOPDAEMON);
      if (*optarg != "master" && *optarg != "backup") fail(ctx, 2, "illegal start_daemon specified");
      break;
    case 'h':
      ctx.o.out += usage_text();
      throw Exit{0};
    case 'v':
      ctx.o.out += kVersion;
      throw Exit{0};
    default: tryhelp_exit(ctx, -1);
  }

  while ((c = popt.next(optarg)) >= 0) {
    switch (c) {
      case 't':
      case 'u':
      case TAG_SCTP_SERVICE: {
        set_option(ctx, options, OPTC_SERVICE);
        ce.svc.protocol = c == 't' ? kProtoTcp : c == 'u' ? kProtoUdp : kProtoSctp;
        int parse = parse_service(*optarg, ce.svc);
        if (!(parse & kServiceAddr)) fail(ctx, 2, "illegal virtual server address[:port] specified");
        break;
      }
      case 'f':
        set_option(ctx, options, OPTC_SERVICE);
        ce.svc.af = kAfInet;
        ce.svc.protocol = kProtoTcp;
        ce.svc.fwmark = parse_fwmark(ctx, *optarg);
        break;
      case 's':
        set_option(ctx, options, OPTC_SCHEDULER);
        ce.svc.sched_name = optarg->substr(0, 15);  // IP_VS_SCHEDNAME_MAXLEN - 1
        break;
      case 'p':
        set_option(ctx, options, OPTC_PERSISTENT);
        ce.svc.flags |= kSvcPersistent;
        ce.svc.timeout = static_cast<uint32_t>(parse_timeout(ctx, optarg, 1, kMaxTimeout));
        break;
      case 'M':
        set_option(ctx, options, OPTC_NETMASK);
        if (ce.svc.af != kAfInet6) {
          auto m = inet_aton_c(*optarg);
          if (!m) fail(ctx, 2, "illegal virtual server persistent mask specified");
          ce.svc.netmask = m->v;
        } else {
          long n = std::atol(optarg->c_str());
          if (n < 1 || n > 128) fail(ctx, 2, "illegal ipv6 netmask specified");
          ce.svc.netmask = static_cast<uint32_t>(n);
        }
        break;
      case 'r': {
        set_option(ctx, options, OPTC_SERVER);
        SvcArgs t_dest = ce.svc;
        int parse = parse_service(*optarg, t_dest);
        ce.dest.af = t_dest.af;
        ce.dest.addr = t_dest.addr;
        ce.dest.port = t_dest.port;
        if (!(parse & kServiceAddr)) fail(ctx, 2, "illegal real server address[:port] specified");
        if (parse == kServiceAddr) ce.dest.port = ce.svc.port;  // copy vport to dport if not specified
        break;
      }
      case 'i':
        set_option(ctx, options, OPTC_FORWARD);
        ce.dest.conn_flags = kConnTunnel;
        break;
      case 'g':
        set_option(ctx, options, OPTC_FORWARD);
        ce.dest.conn_flags = kConnDroute;
        break;
      case 'm':
        set_option(ctx, options, OPTC_FORWARD);
        ce.dest.conn_flags = kConnMasq;
        break;
      case 'w': {
        set_option(ctx, options, OPTC_WEIGHT);
        long long w = string_to_number(*optarg, 0, 65535);
        if (w == -1) fail(ctx, 2, "illegal weight specified");
        ce.dest.weight = static_cast<int>(w);
        break;
      }
      case 'x': {
        set_option(ctx, options, OPTC_UTHRESHOLD);
        long long v = string_to_number(*optarg, 0, INT_MAX);
        if (v == -1) fail(ctx, 2, "illegal u_threshold specified");
        ce.dest.u_threshold = static_cast<uint32_t>(v);
        break;
      }
      case 'y': {
        set_option(ctx, options, OPTC_LTHRESHOLD);
        long long v = string_to_number(*optarg, 0, INT_MAX);
        if (v == -1) fail(ctx, 2, "illegal l_threshold specified");
        ce.dest.l_threshold = static_cast<uint32_t>(v);
        break;
      }
      case 'c': set_option(ctx, options, OPTC_CONNECTION); break;
      case 'n':
        set_option(ctx, options, OPTC_NUMERIC);
        format |= kFmtNumeric;
        break;
      case TAG_MCAST_INTERFACE: set_option(ctx, options, OPTC_MCAST); break;
      case 'I':
        set_option(ctx, options, OPTC_SYNCID);
        if (string_to_number(*optarg, 0, 255) == -1) fail(ctx, 2, "illegal syncid specified");
        break;
      case TAG_TIMEOUT: set_option(ctx, options, OPTC_TIMEOUT); break;
      case TAG_DAEMON: set_option(ctx, options, OPTC_DAEMON); break;
      case TAG_STATS:
        set_option(ctx, options, OPTC_STATS);
        format |= kFmtStats;
        break;
      case TAG_RATE:
        set_option(ctx, options, OPTC_RATE);
        format |= kFmtRate;
        break;
      case TAG_THRESHOLDS:
        set_option(ctx, options, OPTC_THRESHOLDS);
        format |= kFmtThresholds;
        break;
      case TAG_PERSISTENTCONN:
        set_option(ctx, options, OPTC_PERSISTENTCONN);
        format |= kFmtPersistentConn;
        break;
      case TAG_NO_SORT:
        set_option(ctx, options, OPTC_NOSORT);
        format |= kFmtNoSort;
        break;
      case TAG_SORT: break;  // sorting is the default; a no-op kept for compatibility
      case 'X':
        set_option(ctx, options, OPTC_EXACT);
        format |= kFmtExact;
        break;
      case '6':
        if (ce.svc.fwmark) {
          ce.svc.af = kAfInet6;
          ce.svc.netmask = 128;
        } else {
          fail(ctx, 2, "-6 used before -f\n");
        }
        break;
      case 'o':
        set_option(ctx, options, OPTC_ONEPACKET);
        ce.svc.flags |= kSvcOnePacket;
        break;
      case TAG_PERSISTENCE_ENGINE:
        set_option(ctx, options, OPTC_PERSISTENCE_ENGINE);
        ce.svc.pe_name = optarg->substr(0, 16);  // IP_VS_PENAME_MAXLEN
        break;
      case 'b':
        set_option(ctx, options, OPTC_SCHED_FLAGS);
        sched_flags_arg = optarg->substr(0, 127);
        break;
      case TAG_MCAST_GROUP: {
        set_option(ctx, options, OPTC_MCAST_GROUP);
        if (optarg->find(':') != std::string::npos) {
          in6_addr a6{};
          if (::inet_pton(AF_INET6, optarg->c_str(), &a6) <= 0 || a6.s6_addr[0] != 0xff)
            fail(ctx, 2, "invalid IPv6 mcast-group `" + *optarg + "'");
        } else {
          in_addr a4{};
          if (::inet_pton(AF_INET, optarg->c_str(), &a4) <= 0 || (ntohl(a4.s_addr) >> 28) != 0xe)
            fail(ctx, 2, "invalid IPv4 mcast-group `" + *optarg + "'");
        }
        break;
      }
      case TAG_MCAST_PORT:
        set_option(ctx, options, OPTC_MCAST_PORT);
        if (string_to_number(*optarg, 1, 65535) == -1) fail(ctx, 2, "illegal mcast-port specified");
        break;
      case TAG_MCAST_TTL:
        set_option(ctx, options, OPTC_MCAST_TTL);
        if (string_to_number(*optarg, 1, 255) == -1) fail(ctx, 2, "illegal mcast-ttl specified");
        break;
      case TAG_SYNC_MAXLEN:
        set_option(ctx, options, OPTC_SYNC_MAXLEN);
        if (string_to_number(*optarg, 1, 65535 - 20 - 8) == -1) fail(ctx, 2, "illegal sync-maxlen specified");
        break;
      case TAG_TUN_INFO:
        set_option(ctx, options, OPTC_TUN_INFO);
        format |= kFmtTunInfo;
        break;
      case TAG_TUN_TYPE: {
        set_option(ctx, options, OPTC_TUN_TYPE);
        auto t = parse_tun_type(*optarg);
        if (!t) fail(ctx, 2, "illegal tunnel type specified");
        ce.dest.tun_type = static_cast<unsigned>(*t);
        break;
      }
      case TAG_TUN_PORT: {
        set_option(ctx, options, OPTC_TUN_PORT);
        long long p = string_to_number(*optarg, 1, 65535);
        if (p == -1) fail(ctx, 2, "illegal tunnel port specified");
        ce.dest.tun_port = static_cast<uint16_t>(p);
        break;
      }
      case TAG_TUN_NOCSUM: set_option(ctx, options, OPTC_TUN_NOCSUM); break;
      case TAG_TUN_CSUM:
        set_option(ctx, options, OPTC_TUN_CSUM);
        ce.dest.tun_flags |= 1;
        break;
      case TAG_TUN_REMCSUM:
        set_option(ctx, options, OPTC_TUN_REMCSUM);
        ce.dest.tun_flags |= 2;
        break;
      default: fail(ctx, 2, "invalid option `" + popt.bad_option() + "'");
    }
  }

  if (c < -1) {
    ctx.o.err += popt.bad_option() + ": " + popt_strerror(c) + "\n";
    return false;
  }

  if (ce.cmd == CMD_TIMEOUT) {
    auto a0 = popt.get_arg();
    auto a1 = a0 ? popt.get_arg() : std::nullopt;
    auto a2 = a1 ? popt.get_arg() : std::nullopt;
    if (!a2) fail(ctx, 2, "--set option requires 3 timeout values");
    ce.timeout.tcp = parse_timeout(ctx, a0, 0, kMaxTimeout);
    ce.timeout.tcpfin = parse_timeout(ctx, a1, 0, kMaxTimeout);
    ce.timeout.udp = parse_timeout(ctx, a2, 0, kMaxTimeout);
  }

  if (auto extra = popt.get_arg()) fail(ctx, 2, "unexpected argument " + *extra);

  if (!sched_flags_arg.empty()) {
    ce.svc.flags &= ~(kSvcSched1 | kSvcSched2 | kSvcSched3);
    ce.svc.flags |= parse_sched_flags(ctx, ce.svc.sched_name, sched_flags_arg);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The "kernel": the director's control API with the kernel's checks and libipvs's messages.

enum class Err { kOk, kExist, kNoEnt, kSrch, kInval, kRange };

enum class Func { kAddService, kUpdateService, kDelService, kZeroService, kAddDest, kUpdateDest, kDelDest, kStopDaemon };

/// ipvs_strerror(): the per-function table, then the generic entries, then strerror().
std::string ipvs_strerror(Func f, Err e) {
  switch (e) {
    case Err::kExist:
      if (f == Func::kAddService) return "Service already exists";
      if (f == Func::kAddDest) return "Destination already exists";
      return "File exists";
    case Err::kNoEnt:
      if (f == Func::kAddService || f == Func::kUpdateService) return "Scheduler or persistence engine not found";
      if (f == Func::kUpdateDest || f == Func::kDelDest) return "No such destination";
      return "No such file or directory";
    case Err::kSrch:
      if (f == Func::kUpdateService || f == Func::kDelService || f == Func::kZeroService) return "No such service";
      if (f == Func::kAddDest || f == Func::kUpdateDest || f == Func::kDelDest) return "Service not defined";
      if (f == Func::kStopDaemon) return "No daemon is running";
      return "No such process";
    case Err::kInval: return "Invalid operation.  Possibly wrong module version, address not unicast, ...";
    case Err::kRange: return "Numerical result out of range";
    case Err::kOk: break;
  }
  return "Success";
}

/// The service a control request names (the kernel's exact lookup), or nullptr.
ipvs::Service* find_service(Ctx& ctx, const SvcArgs& s) {
  if (s.fwmark != 0 || s.af != kAfInet) return nullptr;
  if (s.protocol != kProtoTcp && s.protocol != kProtoUdp) return nullptr;
  return ctx.engine.director().find_exact(static_cast<IpProto>(s.protocol), s.addr.v4, s.port);
}

/// The kernel's inet_addr_type() check for a new destination: only unicast (or local) addresses.
bool kernel_unicast(const config::Config& cfg, Ipv4Addr a) {
  if ((a.v >> 24) == 0 || a.is_broadcast() || a.is_multicast()) return false;
  return !config::subnet_special(cfg.interfaces, a);  // the local table's broadcast routes
}

/// Kernel service flags -> vsrouter's SchedFlag bits (refused if vsrouter cannot keep them).
unsigned service_flags(Ctx& ctx, const SvcArgs& s, const std::string& sched) {
  unsigned bits = 0;
  if (s.flags & kSvcOnePacket) bits |= config::kFlagOps;
  const unsigned sf = s.flags & (kSvcSched1 | kSvcSched2 | kSvcSched3);
  if (sf == 0) return bits;
  if ((sched == "sh" || sched == "mh") && !(sf & kSvcSched3)) {
    const bool sh = sched == "sh";
    if (sf & kSvcSched1) bits |= sh ? config::kFlagShFallback : config::kFlagMhFallback;
    if (sf & kSvcSched2) bits |= sh ? config::kFlagShPort : config::kFlagMhPort;
    return bits;
  }
  std::string names;
  for (int i = 0; i < 3; ++i)
    if (sf & (kSvcSched1 << i)) names += (names.empty() ? "flag-" : ", flag-") + std::to_string(i + 1);
  refuse(ctx, "scheduler flag " + names + " means nothing to scheduler " + sched +
                  "; vsrouter keeps only sh-fallback and sh-port (sh), mh-fallback and mh-port (mh)");
}

/// What ipvsadm -A/-E sets of a service: scheduler, flags, persistence and its netmask.
void set_from_args(Ctx& ctx, const SvcArgs& s, config::ServiceSettings& settings) {
  settings.scheduler = s.sched_name;
  settings.flags = service_flags(ctx, s, s.sched_name);
  settings.persistence = (s.flags & kSvcPersistent) ? s.timeout : 0;
  settings.netmask = Ipv4Addr{s.netmask};
}

void refuse_unsupported_service(Ctx& ctx, const SvcArgs& s) {
  if (s.fwmark) refuse(ctx, "firewall-mark services (-f) are not supported");
  if (s.af == kAfInet6) refuse(ctx, "IPv6 services are not supported");
  if (s.protocol == kProtoSctp) refuse(ctx, "SCTP services are not supported");
}

Err k_add_service(Ctx& ctx, const SvcArgs& s) {
  refuse_unsupported_service(ctx, s);
  if (find_service(ctx, s)) return Err::kExist;
  const config::Config& cfg = ctx.engine.config();
  const Ipv4Addr vip = s.addr.v4;
  if (config::not_a_host(vip)) refuse(ctx, "VIP " + vip.str() + " is not a unicast host address");
  auto itf = config::connected_interface(cfg.interfaces, vip);
  if (!itf)
    refuse(ctx, "VIP " + vip.str() + " " + std::string(config::kNotConnected) + "; nothing would answer ARP for it");
  if (auto why = config::subnet_special(cfg.interfaces, vip)) refuse(ctx, "VIP " + vip.str() + " " + *why);
  if (!config::known_scheduler(s.sched_name) || !s.pe_name.empty()) return Err::kNoEnt;
  config::ServiceSettings settings;
  settings.protocol = static_cast<IpProto>(s.protocol);
  settings.vip = vip;
  settings.port = s.port;
  settings.interface = *itf;
  set_from_args(ctx, s, settings);
  switch (ctx.engine.director().add_service(settings)) {
    case ipvs::Director::CtlError::kServiceExists: return Err::kExist;
    case ipvs::Director::CtlError::kSchedulerNotFound: return Err::kNoEnt;
    default: return Err::kOk;
  }
}

Err k_update_service(Ctx& ctx, const SvcArgs& s) {
  ipvs::Service* svc = find_service(ctx, s);
  if (!svc) return Err::kSrch;
  if (!config::known_scheduler(s.sched_name) || !s.pe_name.empty()) return Err::kNoEnt;
  config::ServiceSettings settings = *svc;  // drain and the interface are not ipvsadm settings: kept
  set_from_args(ctx, s, settings);
  return ctx.engine.director().edit_service(*svc, settings) == ipvs::Director::CtlError::kOk ? Err::kOk
                                                                                             : Err::kNoEnt;
}

Err k_del_service(Ctx& ctx, const SvcArgs& s) {
  ipvs::Service* svc = find_service(ctx, s);
  if (!svc) return Err::kSrch;
  ctx.engine.director().delete_service(*svc);
  return Err::kOk;
}

Err k_zero_service(Ctx& ctx, const SvcArgs& s) {
  // libipvs sends a service only when one is named (fwmark, address or port set).
  if (s.fwmark == 0 && s.addr.is_zero() && s.port == 0) {
    ctx.engine.director().zero(nullptr);
    return Err::kOk;
  }
  ipvs::Service* svc = find_service(ctx, s);
  if (!svc) return Err::kSrch;
  ctx.engine.director().zero(svc);
  return Err::kOk;
}

config::Method method_of(unsigned conn_flags) {
  return conn_flags == kConnMasq ? config::Method::kNat : conn_flags == kConnTunnel ? config::Method::kTun
                                                                                    : config::Method::kDr;
}

/// vsrouter's refusals for a real server it could not serve.
void refuse_unsupported_dest(Ctx& ctx, const DestArgs& d, bool adding) {
  if (d.af == kAfInet6) refuse(ctx, "IPv6 real servers are not supported");
  if (method_of(d.conn_flags) == config::Method::kTun && d.tun_type != 0)
    refuse(ctx, std::string("tunnel type ") + kTunNames[d.tun_type] + " is not supported (only ipip)");
  const config::Config& cfg = ctx.engine.config();
  const Ipv4Addr a = d.addr.v4;
  if (adding) {
    if (a.is_loopback()) refuse(ctx, "real server " + a.str() + " is a loopback address");
    if (auto own = config::own_address(cfg.interfaces, a)) refuse(ctx, "real server " + a.str() + " " + *own);
  }
  if (method_of(d.conn_flags) == config::Method::kDr && !config::connected_interface(cfg.interfaces, a))
    refuse(ctx, "real server " + a.str() + " " + std::string(config::kNotConnected) +
                    "; direct routing (-g) needs the real server on-link");
}

config::Real real_of(const DestArgs& d) {
  config::Real r;
  r.addr = d.addr.v4;
  r.port = d.port;
  r.method = method_of(d.conn_flags);
  r.weight = d.weight;
  r.upper = d.u_threshold;
  r.lower = d.l_threshold;
  return r;
}

Err k_add_dest(Ctx& ctx, const SvcArgs& s, const DestArgs& d) {
  ipvs::Service* svc = find_service(ctx, s);
  if (!svc) return Err::kSrch;
  if (d.af == kAfInet6) refuse_unsupported_dest(ctx, d, true);
  if (d.l_threshold > d.u_threshold) return Err::kRange;
  if (d.tun_type == kTunGue && d.tun_port == 0) return Err::kInval;
  ipvs::Director& dir = ctx.engine.director();
  if (svc->find_real(d.addr.v4, d.port)) return Err::kExist;
  if (!kernel_unicast(ctx.engine.config(), d.addr.v4)) return Err::kInval;
  refuse_unsupported_dest(ctx, d, true);
  return dir.add_real(*svc, real_of(d)) == ipvs::Director::CtlError::kOk ? Err::kOk : Err::kExist;
}

Err k_update_dest(Ctx& ctx, const SvcArgs& s, const DestArgs& d) {
  ipvs::Service* svc = find_service(ctx, s);
  if (!svc) return Err::kSrch;
  if (d.af == kAfInet6) refuse_unsupported_dest(ctx, d, false);
  if (d.l_threshold > d.u_threshold) return Err::kRange;
  if (d.tun_type == kTunGue && d.tun_port == 0) return Err::kInval;
  ipvs::Director& dir = ctx.engine.director();
  if (!svc->find_real(d.addr.v4, d.port)) return Err::kNoEnt;
  refuse_unsupported_dest(ctx, d, false);
  return dir.edit_real(*svc, real_of(d)) == ipvs::Director::CtlError::kOk ? Err::kOk : Err::kNoEnt;
}

Err k_del_dest(Ctx& ctx, const SvcArgs& s, const DestArgs& d) {
  ipvs::Service* svc = find_service(ctx, s);
  if (!svc) return Err::kSrch;
  if (d.af != kAfInet) return Err::kNoEnt;
  return ctx.engine.director().delete_real(*svc, d.addr.v4, d.port) == ipvs::Director::CtlError::kOk ? Err::kOk
                                                                                                     : Err::kNoEnt;
}

// ---------------------------------------------------------------------------------------------
// process_options / restore_table

int process(Ctx& ctx, const std::vector<std::string>& args, bool reading_stdin);

int restore_table(Ctx& ctx, bool reading_stdin) {
  if (reading_stdin) tryhelp_exit(ctx, -1);  // avoid an infinite loop
  int result = 0;
  size_t pos = 0;
  const std::string_view in = ctx.input;
  while (pos < in.size()) {
    size_t eol = in.find('\n', pos);
    if (eol == std::string_view::npos) eol = in.size();
    std::vector<std::string> words = split_restore_line(in.substr(pos, eol - pos));
    pos = eol + 1;
    if (!words.empty()) result = process(ctx, words, true);
  }
  return result;
}

int process(Ctx& ctx, const std::vector<std::string>& args, bool reading_stdin) {
  CommandEntry ce;
  uint64_t options = 0;
  unsigned format = kFmtNone;

  if (!parse_options(ctx, args, ce, options, format)) return -1;

  generic_opt_check(ctx, ce.cmd, options);

  if (ce.cmd == CMD_ADD || ce.cmd == CMD_EDIT) {
    if (!ce.svc.fwmark && !ce.svc.port && !(ce.svc.flags & kSvcPersistent))
      fail(ctx, 2, "Zero port specified for non-persistent service");
    if ((ce.svc.flags & kSvcOnePacket) && !ce.svc.fwmark && ce.svc.protocol != kProtoUdp)
      fail(ctx, 2, "One-Packet Scheduling is only for UDP virtual services");
    if (ce.svc.sched_name.empty()) ce.svc.sched_name = "wlc";
  }

  const unsigned fwd_method = ce.dest.conn_flags;
  if (ce.cmd == CMD_ADDDEST || ce.cmd == CMD_EDITDEST) {
    // The destination port must be the service port for tunneling and direct routing.
    if (!ce.svc.fwmark && (fwd_method == kConnTunnel || fwd_method == kConnDroute)) ce.dest.port = ce.svc.port;
    if (ce.dest.af != ce.svc.af && fwd_method != kConnTunnel)
      fail(ctx, 2, "Different address family is allowed only for tunneling servers");
    if ((options & (opt(OPTC_TUN_TYPE) | opt(OPTC_TUN_PORT) | opt(OPTC_TUN_NOCSUM) | opt(OPTC_TUN_CSUM) |
                    opt(OPTC_TUN_REMCSUM))) &&
        fwd_method != kConnTunnel)
      fail(ctx, 2, "Tunnel options conflict with forward method");
    tunnel_opt_check(ctx, ce.dest.tun_type, options);
  }

  Err err = Err::kOk;
  Func func = Func::kAddService;
  switch (ce.cmd) {
    case CMD_LIST: {
      const uint64_t conn_like = opt(OPTC_CONNECTION) | opt(OPTC_TIMEOUT) | opt(OPTC_DAEMON);
      const uint64_t stat_like = opt(OPTC_STATS) | opt(OPTC_RATE) | opt(OPTC_THRESHOLDS);
      if (((options & conn_like) && (options & stat_like)) ||
          ((options & (opt(OPTC_TIMEOUT) | opt(OPTC_DAEMON))) && (options & opt(OPTC_PERSISTENTCONN))))
        fail(ctx, 2, "options conflicts in the list command");
      if (options & opt(OPTC_CONNECTION)) {
        ctx.o.out += list_connections(ctx.engine, ctx.now, format);
      } else if (options & opt(OPTC_SERVICE)) {
        const ipvs::Service* svc = find_service(ctx, ce.svc);
        if (!svc) fail(ctx, 1, "No such service");
        ctx.o.out += list_service(ctx.engine, *svc, format);
      } else if (options & opt(OPTC_TIMEOUT)) {
        ctx.o.out += list_timeout(ctx.engine);
      } else if (options & opt(OPTC_DAEMON)) {
        // No synchronisation daemon runs: nothing to list.
      } else {
        ctx.o.out += list_all(ctx.engine, format);
      }
      return 0;
    }
    case CMD_RESTORE: return restore_table(ctx, reading_stdin);
    case CMD_SAVE: ctx.o.out += list_all(ctx.engine, format | kFmtRule); return 0;
    case CMD_FLUSH: ctx.engine.director().clear(); break;
    case CMD_ADD:
      func = Func::kAddService;
      err = k_add_service(ctx, ce.svc);
      break;
    case CMD_EDIT:
      func = Func::kUpdateService;
      err = k_update_service(ctx, ce.svc);
      break;
    case CMD_DEL:
      func = Func::kDelService;
      err = k_del_service(ctx, ce.svc);
      break;
    case CMD_ZERO:
      func = Func::kZeroService;
      err = k_zero_service(ctx, ce.svc);
      break;
    case CMD_ADDDEST:
      func = Func::kAddDest;
      err = k_add_dest(ctx, ce.svc, ce.dest);
      break;
    case CMD_EDITDEST:
      func = Func::kUpdateDest;
      err = k_update_dest(ctx, ce.svc, ce.dest);
      break;
    case CMD_DELDEST:
      func = Func::kDelDest;
      err = k_del_dest(ctx, ce.svc, ce.dest);
      break;
    case CMD_TIMEOUT: {
      config::Timeouts t;
      t.tcp = static_cast<uint32_t>(ce.timeout.tcp);
      t.tcpfin = static_cast<uint32_t>(ce.timeout.tcpfin);
      t.udp = static_cast<uint32_t>(ce.timeout.udp);
      ctx.engine.director().set_timeouts(t);
      break;
    }
    case CMD_STARTDAEMON:
      refuse(ctx, "the connection synchronisation daemon (--start-daemon) is not supported");
    case CMD_STOPDAEMON:
      func = Func::kStopDaemon;
      err = Err::kSrch;  // none is ever running
      break;
    default: break;
  }
  if (err != Err::kOk) {
    ctx.o.err += ipvs_strerror(func, err) + "\n";
    return -1;
  }
  return 0;
}

}  // namespace

std::vector<std::string> split_restore_line(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  auto sep = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < line.size()) {
    while (i < line.size() && sep(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !sep(line[j])) ++j;
    if (j > i) {
      std::string w(line.substr(i, j - i));
      if (w != "ipvsadm") words.push_back(std::move(w));
    }
    i = j;
  }
  return words;
}

Output execute(Engine& engine, const std::vector<std::string>& args_in, Instant now, std::string_view input) {
  Output o;
  Ctx ctx{engine, now, input, o};
  std::vector<std::string> args = args_in;
  if (!args.empty() && args.front() == "ipvsadm") args.erase(args.begin());
  try {
    if (args.empty()) {
      o.out += list_all(engine, kFmtNone);  // ipvsadm with no argument lists the table
      o.exit_code = 0;
    } else {
      o.exit_code = process(ctx, args, false) & 0xff;
    }
  } catch (const Exit& e) {
    o.exit_code = e.code;
  }
  return o;
}

Output restore(Engine& engine, std::string_view input, Instant now) { return execute(engine, {"-R"}, now, input); }

}  // namespace vs::ctl

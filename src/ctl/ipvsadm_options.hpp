// ipvsadm 1.31's command line, parsed: the option table and parse_options() (with libpopt, as
// ipvsadm is built), the commands_v_options legality table (generic_opt_check), the tunnel
// options table (tunnel_opt_check), the argument parsers (parse_service, inet_aton,
// service_to_port, string_to_number, parse_sched_flags), the usage text and the version.
//
// Pure parsing: nothing of the engine, the director or the config. The result is a parsed
// command (struct ipvs_command_entry with the options bitmask and the listing format bits), or
// what ipvsadm would have printed before stopping (ParseExit). ctl/ipvsadm.cpp runs commands.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/addr.hpp"
#include "ctl/format.hpp"
#include "ctl/usage.hpp"

namespace vs::ctl::ipvsadm {

// The version line, the usage text and the "Try ..." hint (ctl/usage.hpp, shared with vsadm).
using vs::ctl::kProgram;
using vs::ctl::kVersion;
using vs::ctl::tryhelp_text;
using vs::ctl::usage_text;

// ---------------------------------------------------------------------------------------------
// Commands and options (ipvsadm.c)

enum Cmd : int {
  CMD_NONE = 0,
  CMD_ADD,
  CMD_EDIT,
  CMD_DEL,
  CMD_FLUSH,
  CMD_LIST,
  CMD_ADDDEST,
  CMD_DELDEST,
  CMD_EDITDEST,
  CMD_TIMEOUT,
  CMD_STARTDAEMON,
  CMD_STOPDAEMON,
  CMD_RESTORE,
  CMD_SAVE,
  CMD_ZERO,
};

enum Optc : int {
  OPTC_NUMERIC,
  OPTC_CONNECTION,
  OPTC_SERVICE,
  OPTC_SCHEDULER,
  OPTC_PERSISTENT,
  OPTC_NETMASK,
  OPTC_SERVER,
  OPTC_FORWARD,
  OPTC_WEIGHT,
  OPTC_UTHRESHOLD,
  OPTC_LTHRESHOLD,
  OPTC_MCAST,
  OPTC_TIMEOUT,
  OPTC_DAEMON,
  OPTC_STATS,
  OPTC_RATE,
  OPTC_THRESHOLDS,
  OPTC_PERSISTENTCONN,
  OPTC_NOSORT,
  OPTC_SYNCID,
  OPTC_EXACT,
  OPTC_ONEPACKET,
  OPTC_PERSISTENCE_ENGINE,
  OPTC_SCHED_FLAGS,
  OPTC_MCAST_GROUP,
  OPTC_MCAST_PORT,
  OPTC_MCAST_TTL,
  OPTC_SYNC_MAXLEN,
  OPTC_TUN_INFO,
  OPTC_TUN_TYPE,
  OPTC_TUN_PORT,
  OPTC_TUN_NOCSUM,
  OPTC_TUN_CSUM,
  OPTC_TUN_REMCSUM,
};
inline constexpr int kNumOpt = 34;
constexpr uint64_t opt(int c) { return uint64_t{1} << c; }

/// Tunnel types (IP_VS_CONN_F_TUNNEL_TYPE_*), by index.
inline constexpr const char* kTunNames[] = {"ipip", "gue", "gre"};

// ---------------------------------------------------------------------------------------------
// The command entry (struct ipvs_command_entry), with the kernel's flag values.

inline constexpr int kAfInet = 2;
inline constexpr int kAfInet6 = 10;
inline constexpr uint16_t kProtoTcp = 6;
inline constexpr uint16_t kProtoUdp = 17;
inline constexpr uint16_t kProtoSctp = 132;

inline constexpr unsigned kSvcPersistent = 0x0001;
inline constexpr unsigned kSvcOnePacket = 0x0004;
inline constexpr unsigned kSvcSched1 = 0x0008;
inline constexpr unsigned kSvcSched2 = 0x0010;
inline constexpr unsigned kSvcSched3 = 0x0020;

inline constexpr unsigned kConnMasq = 0;
inline constexpr unsigned kConnTunnel = 2;
inline constexpr unsigned kConnDroute = 3;

inline constexpr unsigned kTunGue = 1;
inline constexpr int kMaxTimeout = 86400 * 31;
inline constexpr int kDefaultPersistentTimeout = 360;  // IPVS_SVC_PERSISTENT_TIMEOUT

struct Address {
  int af = 0;
  Ipv4Addr v4;
  std::array<uint8_t, 16> v6{};
  bool is_zero() const {
    return v4.v == 0 && std::all_of(v6.begin(), v6.end(), [](uint8_t b) { return b == 0; });
  }
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

/// One parsed command line: ipvs_command_entry plus process_options()'s `options` (bits
/// opt(OPTC_*)) and `format` (kFmt* bits).
/// --start-daemon / --stop-daemon and their options (ipvsadm's ipvs_daemon_t); 0 or empty: unset.
struct DaemonArgs {
  std::string state;               // "master" or "backup"
  std::string mcast_ifn = "eth0";  // ipvsadm's default
  int syncid = 0;
  std::string mcast_group;
  int mcast_port = 0, mcast_ttl = 0, sync_maxlen = 0;
};

struct CommandEntry {
  int cmd = CMD_NONE;
  SvcArgs svc;
  DestArgs dest;
  TimeoutArgs timeout;
  DaemonArgs daemon;
  uint64_t options = 0;
  unsigned format = kFmtNone;
};

/// What ipvsadm printed before it stopped parsing. `exits`: it called exit(code) (a usage error,
/// -h, -v); otherwise parse_options() returned -1 after a popt error (code 255), which ends that
/// command line only: `ipvsadm -R` goes on with the next one.
struct ParseExit {
  int code = 0;
  std::string out;
  std::string err;
  bool exits = true;
};

using ParseResult = std::variant<CommandEntry, ParseExit>;

/// parse_options(): one command line (argv without the program name) through libpopt with
/// ipvsadm's option table, then every per-option check, in ipvsadm's order. The environment
/// does not matter (POSIXLY_CORRECT and POSIX_ME_HARDER are ignored: see the .cpp).
ParseResult parse_options(const std::vector<std::string>& args);

/// generic_opt_check(): the commands_v_options table ('+' compulsory, 'x' illegal, '1' exclusive).
std::optional<ParseExit> generic_opt_check(int command, uint64_t options);

/// tunnel_opt_check(): the tunnel_types_v_options table for `tun_type`.
std::optional<ParseExit> tunnel_opt_check(unsigned tun_type, uint64_t options);

}  // namespace vs::ctl::ipvsadm

// ipvsadm 1.31 (ipvsadm.c, libipvs/libipvs.c, config_stream.c, built with popt) over the
// director. The structure follows ipvsadm.c so that each check happens in the same order and
// says the same thing: parse_options (popt) and generic_opt_check (the commands_v_options table)
// in ctl/ipvsadm_options.cpp, then process_options (the per-command checks), then the "kernel"
// request, whose errors are ipvs_strerror()'s texts with exit status 255. ipvsadm's exit() is an
// Exit exception here.
#include "ctl/ipvsadm.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "config/rules.hpp"
#include "config/sched_names.hpp"
#include "ctl/ipvsadm_options.hpp"
#include "ctl/listing.hpp"

namespace vs::ctl {
namespace {

using namespace ipvsadm;

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
  ctx.o.err += tryhelp_text();
  throw Exit{status & 0xff};
}

/// What ipvsadm printed before stopping in its option parser; exit() there, or -1 (popt error).
[[noreturn]] void exit_with(Ctx& ctx, const ParseExit& e) {
  ctx.o.out += e.out;
  ctx.o.err += e.err;
  throw Exit{e.code};
}

// ---------------------------------------------------------------------------------------------
// The "kernel": the director's control API with the kernel's checks and libipvs's messages.

enum class Err { kOk, kExist, kNoEnt, kSrch, kInval, kRange, kNoDev };

enum class Func {
  kAddService,
  kUpdateService,
  kDelService,
  kZeroService,
  kAddDest,
  kUpdateDest,
  kDelDest,
  kStartDaemon,
  kStopDaemon
};

/// ipvs_strerror(): the per-function table, then the generic entries, then strerror().
std::string ipvs_strerror(Func f, Err e) {
  switch (e) {
    case Err::kExist:
      if (f == Func::kAddService) return "Service already exists";
      if (f == Func::kAddDest) return "Destination already exists";
      if (f == Func::kStartDaemon) return "Daemon has already run";
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
    case Err::kNoDev: return "No such device";
    case Err::kOk: break;
  }
  return "Success";
}

/// The address of a request in either family (libipvs's union nf_inet_addr and its af).
IpAddr ip_of(const Address& a, int af) {
  if (af != kAfInet6) return a.v4;
  Ipv6Addr v6;
  std::copy(a.v6.begin(), a.v6.end(), v6.b.begin());
  return IpAddr::from_v6(v6);
}

/// The service a control request names (the kernel's exact lookup), or nullptr.
ipvs::Service* find_service(Ctx& ctx, const SvcArgs& s) {
  if (s.fwmark != 0 || (s.af != kAfInet && s.af != kAfInet6)) return nullptr;
  if (s.protocol != kProtoTcp && s.protocol != kProtoUdp) return nullptr;
  return ctx.engine.director().find_exact(static_cast<IpProto>(s.protocol), ip_of(s.addr, s.af), s.port);
}

/// The kernel's check for a new destination (ip_vs_new_dest): IPv4, inet_addr_type() unicast (or
/// local); IPv6, ipv6_addr_type() unicast and not link-local.
bool kernel_unicast(const config::Config& cfg, const IpAddr& ip) {
  if (ip.is_v6()) return !ip.v6().is_multicast() && !ip.v6().is_link_local() && !ip.v6().is_unspecified();
  const Ipv4Addr a = ip.v4();
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
  if (s.af == kAfInet6) settings.prefix6 = static_cast<uint8_t>(s.netmask);  // -M: a prefix length
  else settings.netmask = Ipv4Addr{s.netmask};
}

void refuse_unsupported_service(Ctx& ctx, const SvcArgs& s) {
  if (s.fwmark) refuse(ctx, "firewall-mark services (-f) are not supported");
  if (s.protocol == kProtoSctp) refuse(ctx, "SCTP services are not supported");
}

Err k_add_service(Ctx& ctx, const SvcArgs& s) {
  refuse_unsupported_service(ctx, s);
  if (find_service(ctx, s)) return Err::kExist;
  const config::Config& cfg = ctx.engine.config();
  const IpAddr vip = ip_of(s.addr, s.af);
  if (auto why = config::not_a_host_on(cfg.interfaces, vip)) refuse(ctx, "VIP " + vip.str() + " " + *why);
  auto itf = config::connected_interface(cfg.interfaces, vip);
  if (!itf)
    refuse(ctx, "VIP " + vip.str() + " " + std::string(config::kNotConnected) + "; nothing would answer " +
                    (vip.is_v6() ? "Neighbour Solicitations" : "ARP") + " for it");
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
  return ctx.engine.director().edit_service(*svc, settings) == ipvs::Director::CtlError::kOk ? Err::kOk : Err::kNoEnt;
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
  return conn_flags == kConnMasq     ? config::Method::kNat
         : conn_flags == kConnTunnel ? config::Method::kTun
                                     : config::Method::kDr;
}

/// vsrouter's refusals for a real server it could not serve.
void refuse_unsupported_dest(Ctx& ctx, const SvcArgs& s, const DestArgs& d, bool adding) {
  if (method_of(d.conn_flags) == config::Method::kTun && d.tun_type != 0)
    refuse(ctx, std::string("tunnel type ") + kTunNames[d.tun_type] + " is not supported (only ipip)");
  const config::Config& cfg = ctx.engine.config();
  const IpAddr a = ip_of(d.addr, d.af);
  // ip_vs_genl_set_cmd: a real of the other family only while no sync daemon runs.
  if (d.af != s.af && (ctx.engine.sync().master() || ctx.engine.sync().backup()))
    refuse(ctx, "real server " + a.str() +
                    " is of the other address family than its service while connection "
                    "sync runs (the kernel refuses both together)");
  if (adding) {
    if (a.is_v4() ? a.v4().is_loopback() : a.v6().is_loopback())
      refuse(ctx, "real server " + a.str() + " is a loopback address");
    if (auto own = config::own_address(cfg.interfaces, a)) refuse(ctx, "real server " + a.str() + " " + *own);
  }
  if (method_of(d.conn_flags) == config::Method::kDr && !config::connected_interface(cfg.interfaces, a))
    refuse(ctx, "real server " + a.str() + " " + std::string(config::kNotConnected) +
                    "; direct routing (-g) needs the real server on-link");
}

config::Real real_of(const DestArgs& d) {
  config::Real r;
  r.addr = ip_of(d.addr, d.af);
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
  if (d.l_threshold > d.u_threshold) return Err::kRange;
  if (d.tun_type == kTunGue && d.tun_port == 0) return Err::kInval;
  ipvs::Director& dir = ctx.engine.director();
  const IpAddr a = ip_of(d.addr, d.af);
  if (svc->find_real(a, d.port)) return Err::kExist;
  if (!kernel_unicast(ctx.engine.config(), a)) return Err::kInval;
  refuse_unsupported_dest(ctx, s, d, true);
  return dir.add_real(*svc, real_of(d)) == ipvs::Director::CtlError::kOk ? Err::kOk : Err::kExist;
}

Err k_update_dest(Ctx& ctx, const SvcArgs& s, const DestArgs& d) {
  ipvs::Service* svc = find_service(ctx, s);
  if (!svc) return Err::kSrch;
  if (d.l_threshold > d.u_threshold) return Err::kRange;
  if (d.tun_type == kTunGue && d.tun_port == 0) return Err::kInval;
  ipvs::Director& dir = ctx.engine.director();
  if (!svc->find_real(ip_of(d.addr, d.af), d.port)) return Err::kNoEnt;
  refuse_unsupported_dest(ctx, s, d, false);
  return dir.edit_real(*svc, real_of(d)) == ipvs::Director::CtlError::kOk ? Err::kOk : Err::kNoEnt;
}

Err k_del_dest(Ctx& ctx, const SvcArgs& s, const DestArgs& d) {
  ipvs::Service* svc = find_service(ctx, s);
  if (!svc) return Err::kSrch;
  if (d.af != kAfInet && d.af != kAfInet6) return Err::kNoEnt;
  return ctx.engine.director().delete_real(*svc, ip_of(d.addr, d.af), d.port) == ipvs::Director::CtlError::kOk
             ? Err::kOk
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
  ParseResult parsed = parse_options(args);
  if (const ParseExit* e = std::get_if<ParseExit>(&parsed)) {
    if (e->exits) exit_with(ctx, *e);
    ctx.o.out += e->out;
    ctx.o.err += e->err;
    return -1;
  }
  CommandEntry& ce = std::get<CommandEntry>(parsed);
  const uint64_t options = ce.options;
  unsigned format = ce.format;

  if (auto e = generic_opt_check(ce.cmd, options)) exit_with(ctx, *e);

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
    if (auto e = tunnel_opt_check(ce.dest.tun_type, options)) exit_with(ctx, *e);
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
        // ipvsadm 1.31's list_daemon: the master's line, then the backup's, with the maxlen, group,
        // port and TTL the kernel reports (since 4.3 it reports them all).
        const sync::SyncDaemon& d = ctx.engine.sync();
        const auto& ifs = ctx.engine.config().interfaces;
        auto line = [&](const char* state, const sync::DaemonCfg& c) {
          ctx.o.out += std::string(state) + " sync daemon (mcast=" + ifs[c.interface].name +
                       ", syncid=" + std::to_string(c.syncid) + ", maxlen=" + std::to_string(c.maxlen) +
                       ", group=" + c.group.str() + ", port=" + std::to_string(c.port) +
                       ", ttl=" + std::to_string(c.ttl) + ")\n";
        };
        if (d.master()) line("master", *d.master());
        if (d.backup()) line("backup", *d.backup());
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
    case CMD_STARTDAEMON: {
      // start_sync_thread: the interface must exist (ENODEV); a running daemon of that state
      // stays (EEXIST). Unset options keep the [sync] table's values (the kernel's defaults).
      func = Func::kStartDaemon;
      sync::SyncDaemon& d = ctx.engine.sync();
      sync::DaemonCfg c = d.defaults();
      const auto& ifs = ctx.engine.config().interfaces;
      auto it = std::find_if(ifs.begin(), ifs.end(),
                             [&](const config::Interface& i) { return i.name == ce.daemon.mcast_ifn; });
      if (it == ifs.end()) {
        err = Err::kNoDev;
        break;
      }
      if (ce.daemon.mcast_group.find(':') != std::string::npos)
        refuse(ctx, "an IPv6 sync group is not supported (vsrouter syncs IPv4)");
      if (ctx.engine.director().has_mixed_family_reals()) {  // ip_vs_genl_new_daemon
        err = Err::kInval;
        break;
      }
      c.interface = static_cast<uint32_t>(it - ifs.begin());
      c.syncid = static_cast<uint8_t>(ce.daemon.syncid);
      if (!ce.daemon.mcast_group.empty()) c.group = *Ipv4Addr::parse(ce.daemon.mcast_group);
      if (ce.daemon.mcast_port) c.port = static_cast<uint16_t>(ce.daemon.mcast_port);
      if (ce.daemon.mcast_ttl) c.ttl = static_cast<uint8_t>(ce.daemon.mcast_ttl);
      if (ce.daemon.sync_maxlen) c.maxlen = static_cast<uint32_t>(ce.daemon.sync_maxlen);
      const bool ok = ce.daemon.state == "master" ? d.start_master(c, ctx.now) : d.start_backup(c);
      if (!ok) err = Err::kExist;
      break;
    }
    case CMD_STOPDAEMON: {
      func = Func::kStopDaemon;
      sync::SyncDaemon& d = ctx.engine.sync();
      const bool ok = ce.daemon.state == "master" ? d.stop_master(ctx.now) : d.stop_backup();
      if (!ok) err = Err::kSrch;
      break;
    }
    default: break;
  }
  if (err != Err::kOk) {
    ctx.o.err += ipvs_strerror(func, err) + "\n";
    return -1;
  }
  return 0;
}

}  // namespace

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
    o.exited = true;
  }
  return o;
}

Output execute_restore_line(Engine& engine, const std::vector<std::string>& words, Instant now) {
  Output o;
  Ctx ctx{engine, now, {}, o};
  try {
    o.exit_code = words.empty() ? 0 : process(ctx, words, true) & 0xff;  // empty: restore_table skips it
  } catch (const Exit& e) {
    o.exit_code = e.code;
    o.exited = true;
  }
  return o;
}

Output restore(Engine& engine, std::string_view input, Instant now) { return execute(engine, {"-R"}, now, input); }

}  // namespace vs::ctl

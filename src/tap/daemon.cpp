#include "tap/daemon.hpp"

#include <uv.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <vector>

#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "config/config.hpp"
#include "ctl/ipvsadm.hpp"
#include "ctl/list.hpp"
#include "ctl/paths.hpp"
#include "engine.hpp"
#include "handover/state.hpp"
#include "metrics/prometheus.hpp"
#include "replay/pcap_io.hpp"
#include "tap/control.hpp"
#include "tap/handover.hpp"
#include "tap/metrics.hpp"
#include "tap/notify.hpp"
#include "tap/process_stats.hpp"
#include "tap/script_runner.hpp"
#include "tap/tap_device.hpp"
#include "tap/vnet.hpp"

namespace vs::tap {
namespace {

constexpr int kBurst = 256;              // frames read per readiness per device (as tapwire.c)
constexpr size_t kReadBuf = 65536 + 64;  // a TAP frame never exceeds this (a TSO super-frame: 65549)
constexpr uint64_t kLinkPollMs = 500;    // track_interface: how often the TAPs' link state is read

struct Port {
  uint32_t iface = 0;
  std::unique_ptr<TapDevice> dev;
  std::unique_ptr<replay::PcapngWriter> capture;
  uv_poll_t poll{};
  uint64_t tx_full = 0;   // writes that would have blocked: dropped
  uint64_t tx_error = 0;  // other write errors
  uint64_t rx_error = 0;
  // Per-frame read/write errors are logged at most once a second per interface (io_error()).
  bool io_error_logged = false;
  uint64_t io_error_ms = 0;         // uv_hrtime() in ms of the last line
  uint64_t io_errors_unlogged = 0;  // errors since that line that had none
};

struct Incoming;
void pause_at(const char* step);

class Daemon : public TxSink {
public:
  explicit Daemon(int log_level) : log_level_(log_level), journal_(journal_stderr()) {}

  int start(const RunOptions& opt);
  /// Closes every handle and runs the loop until the closes are done.
  void close_handles();
  int takeover_in(const std::string& path, Incoming& in);

  void transmit(uint32_t iface, std::span<const uint8_t> frame) override { write_frame(iface, frame, {}); }
  void transmit_offload(uint32_t iface, std::span<const uint8_t> frame, const Offload& off) override {
    write_frame(iface, frame, off);
  }

private:
  void write_frame(uint32_t iface, std::span<const uint8_t> frame, const Offload& off) {
    Port& p = *ports_[iface];
    if (p.capture) p.capture->write(now_.us, frame.data(), frame.size(), replay::Direction::kOutbound);
    ssize_t n;
    if (p.dev->vnet_hdr()) {
      vnet::Header h = vnet::encode(off, frame);
      iovec iov[2] = {{h.data(), h.size()}, {const_cast<uint8_t*>(frame.data()), frame.size()}};
      n = ::writev(p.dev->fd(), iov, 2);
    } else {
      n = ::write(p.dev->fd(), frame.data(), frame.size());
    }
    if (n >= 0) return;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      p.tx_full++;
    } else {
      p.tx_error++;
      io_error(p, "write", errno);
    }
  }

  /// One line on stderr: "vsrouter: LEVEL: message", or, when stderr is the journal,
  /// "<PRIORITY>LEVEL: message" (the journal names the program itself; sd-daemon(3)).
  void log(int level, const char* fmt, ...) __attribute__((format(printf, 3, 4))) {
    if (level > log_level_) return;
    static const char* names[] = {"error", "warn", "info", "debug"};
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (journal_) std::fprintf(stderr, "%s%s: %s\n", journal_prefix(level), names[level], msg);
    else std::fprintf(stderr, "vsrouter: %s: %s\n", names[level], msg);
  }
  /// A start-up error, as it always read; with the journal's error priority in front there.
  void error_line(const std::string& line) {
    std::fprintf(stderr, "%s%s\n", journal_ ? journal_prefix(0) : "", line.c_str());
  }
  /// A read or write error on a TAP: every one is counted (rx_error, tx_error), but a failing
  /// device can fail every frame, so at most one line per interface per second is logged, which
  /// says how many errors since the previous line were not.
  void io_error(Port& p, const char* op, int err) {
    const uint64_t ms = uv_hrtime() / 1000000;
    if (p.io_error_logged && ms - p.io_error_ms < 1000) {
      p.io_errors_unlogged++;
      return;
    }
    if (p.io_errors_unlogged > 0)
      log(0, "%s: %s: %s (and %llu more I/O errors since the last such line)", p.dev->name().c_str(), op,
          std::strerror(err), static_cast<unsigned long long>(p.io_errors_unlogged));
    else log(0, "%s: %s: %s", p.dev->name().c_str(), op, std::strerror(err));
    p.io_error_logged = true;
    p.io_error_ms = ms;
    p.io_errors_unlogged = 0;
  }
  /// READY=1 with the summary in STATUS= (and `note` after it).
  void notify_ready(const char* note = "") {
    std::string st = "READY=1\nSTATUS=";
    st += status();
    st += note;
    notify(st);
  }
  /// The one-line summary in systemd's STATUS= (systemctl status shows it).
  std::string status() const {
    char s[160];
    std::snprintf(s, sizeof s, "%zu interfaces, %zu services, %u connections", ports_.size(),
                  engine_->director().services().size(), engine_->director().conns().size());
    return s;
  }

  /// Engine time: Unix microseconds at start plus monotonic time since, read once per callback.
  Instant clock() {
    last_hr_ = uv_hrtime();
    now_ = Instant::from_micros(epoch_us_ + static_cast<int64_t>((last_hr_ - hr_start_) / 1000));
    return now_;
  }
  void run_due_timers() {
    if (auto d = engine_->next_deadline(); d && *d <= now_) engine_->on_timer(now_);
  }
  /// After every call into the engine: what health checks decided is logged, then the timer is set
  /// for the engine's next deadline.
  void arm_timer() {
    engine_->health().drain_events([this](const check::Event& e) {
      const check::Health& h = engine_->health();
      log(2, "%s", h.event_text(e).c_str());
      // keepalived's notify_up/notify_down and quorum_up/quorum_down, run without a shell.
      const auto& real = h.reals()[e.real].real;
      const auto& svc = h.services()[e.svc];
      using K = check::Event::Kind;
      const std::vector<std::string>* cmd = e.kind == K::kRealUp         ? &real.notify_up
                                            : e.kind == K::kRealDown     ? &real.notify_down
                                            : e.kind == K::kQuorumGained ? &svc.quorum_up_cmd
                                            : e.kind == K::kQuorumLost   ? &svc.quorum_down_cmd
                                                                         : nullptr;
      if (cmd && !cmd->empty()) scripts_->notify(*cmd, "");
    });
    drain_vrrp();
    drain_announce();
    auto d = engine_->next_deadline();
    if (!d) {
      uv_timer_stop(&timer_);
      return;
    }
    int64_t us = std::max<int64_t>(0, (*d - now_).us);
    uv_timer_start(&timer_, &Daemon::on_timer_cb, static_cast<uint64_t>((us + 999) / 1000), 0);
  }
  /// VRRP transitions: logged once each, and keepalived's notify scripts run: the instance's
  /// notify_master/_backup/_fault/_stop, and its sync group's when this instance moved the group.
  void drain_vrrp() {
    engine_->vrrp().drain_script_events(
        [this](const vrrp::ScriptEvent& e) { log(2, "%s", engine_->vrrp().event_text(e).c_str()); });
    engine_->vrrp().drain_events([this](const vrrp::Event& e) {
      log(2, "%s", engine_->vrrp().event_text(e).c_str());
      const config::Config& c = engine_->config();
      auto pick = [&](const auto& x) -> const std::vector<std::string>* {
        switch (e.to) {
          case vrrp::State::kMaster: return &x.notify_master;
          case vrrp::State::kBackup: return &x.notify_backup;
          case vrrp::State::kFault: return &x.notify_fault;
          case vrrp::State::kInit: return e.cause == vrrp::Cause::kStop ? &x.notify_stop : nullptr;
        }
        return nullptr;
      };
      if (const auto* cmd = pick(c.vrrp_instances[e.instance]); cmd && !cmd->empty()) scripts_->notify(*cmd, "");
      if (e.cause == vrrp::Cause::kSyncGroup) return;
      if (auto g = engine_->vrrp().sync_group(e.instance))
        if (const auto* cmd = pick(c.vrrp_sync_groups[*g]); cmd && !cmd->empty()) scripts_->notify(*cmd, "");
    });
  }

  /// [announce] (docs/scale-out.md): each VIP announced or withdrawn is logged, then the file the
  /// BGP daemon includes is rewritten with the VIPs announced now and its reload command runs.
  void drain_announce() {
    bool changed = false;
    engine_->announcer().drain_events([&](const announce::Event& e) {
      log(2, "%s", announce::Announcer::event_text(e).c_str());
      changed = true;
    });
    if (changed) write_announce();
  }
  void write_announce() {
    const config::Announce& a = engine_->config().announce;
    if (!a.enabled) return;
    std::string text = "# vsrouter: the VIPs this director announces (rewritten on each change)\n";
    for (const announce::Vip& v : engine_->announcer().vips())
      if (v.announced)
        text += "route " + v.addr.str() + "/32 " +
                (a.next_hop.is_unspecified() ? std::string("blackhole") : "via " + a.next_hop.str()) + ";\n";
    // Written beside the file and renamed over it: a reader sees the old set or the new one.
    const std::string tmp = a.file + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (f != nullptr && std::fclose(f) != 0) ok = false;
    if (!ok || std::rename(tmp.c_str(), a.file.c_str()) != 0) {
      log(1, "announce: cannot write %s: %s", a.file.c_str(), std::strerror(errno));
      return;
    }
    if (!a.command.empty()) scripts_->notify(a.command, "");
  }
  /// SIGTERM with VIPs announced: withdraw them, forward on for stop_delay (the routers move
  /// the flows to the other directors meanwhile), then stop. A second signal stops at once.
  void begin_stop() {
    const config::Announce& a = engine_->config().announce;
    const auto& vips = engine_->announcer().vips();
    const bool announced = std::any_of(vips.begin(), vips.end(), [](const announce::Vip& v) { return v.announced; });
    if (stopping_ || handed_over_ || !a.enabled || !announced || a.stop_delay.us == 0) return stop();
    stopping_ = true;
    engine_->set_draining(true, clock());
    log(2, "stopping: VIPs withdrawn, forwarding for %.3f s before the stop", a.stop_delay.us / 1e6);
    arm_timer();
    uv_timer_start(
        &stop_timer_, [](uv_timer_t* t) { static_cast<Daemon*>(t->loop->data)->stop(); },
        static_cast<uint64_t>((a.stop_delay.us + 999) / 1000), 0);
  }

  void on_readable(Port& p) {
    clock();
    run_due_timers();
    const bool vnet_hdr = p.dev->vnet_hdr();
    for (int i = 0; i < kBurst; ++i) {
      vnet::Header h;
      iovec iov[2] = {{h.data(), h.size()}, {rbuf_.data(), rbuf_.size()}};
      ssize_t n = vnet_hdr ? ::readv(p.dev->fd(), iov, 2) : ::read(p.dev->fd(), rbuf_.data(), rbuf_.size());
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          p.rx_error++;
          io_error(p, "read", errno);
        }
        break;  // drained (libuv may report spurious readability)
      }
      Offload off;
      if (vnet_hdr) {
        if (n < static_cast<ssize_t>(vnet::kHeaderLen)) {
          p.rx_error++;
          continue;
        }
        n -= static_cast<ssize_t>(vnet::kHeaderLen);
        off = vnet::decode(h.data());
      }
      std::span<const uint8_t> frame(rbuf_.data(), static_cast<size_t>(n));
      if (p.capture) p.capture->write(now_.us, frame.data(), frame.size(), replay::Direction::kInbound);
      engine_->on_frame(p.iface, frame, now_, off);
    }
    arm_timer();
  }
  void dump() {
    std::string s = ctl::list_services_stats(*engine_) + ctl::list_counters(*engine_);
    s += "\nTAP device        TxFull    TxError    RxError\n";
    for (auto& p : ports_) {
      char line[128];
      std::snprintf(line, sizeof line, "%-14s %9llu %10llu %10llu\n", p->dev->name().c_str(),
                    static_cast<unsigned long long>(p->tx_full), static_cast<unsigned long long>(p->tx_error),
                    static_cast<unsigned long long>(p->rx_error));
      s += line;
    }
    s += ctl::list_vrrp(*engine_, clock());
    s += ctl::list_ipv6(*engine_, clock());
    s += '\n';  // not "\n" + ...: a GCC 12 -O3 -Wrestrict false positive
    s += ctl::list_connections(*engine_, clock());
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  }
  /// Re-read the config file and apply it; on any error the running config stays whole.
  /// systemd hears RELOADING=1 before, READY=1 and the new STATUS= after (sd_notify(3)).
  ctl::Reply reload() {
    notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) + "\nSTATUS=reloading " + config_path_);
    std::vector<std::string> notes;
    auto cfg = keepalived::load_any(config_path_, load_opt_, &notes);
    for (const auto& n : notes) log(2, "%s", n.c_str());
    if (!cfg) {
      std::string e = cfg.error().format(config_path_);
      log(1, "reload refused, running config kept: %s", e.c_str());
      notify_ready(" (last reload refused: see the log)");
      return {2, "", e + "\n"};
    }
    if (auto why = engine_->reload(cfg.value())) {
      log(1, "reload refused, running config kept: %s", why->c_str());
      notify_ready(" (last reload refused: see the log)");
      return {2, "", config_path_ + ": " + *why + "\n"};
    }
    log(2, "reloaded %s", config_path_.c_str());
    arm_timer();
    notify_ready();
    return {0, "", ""};
  }
  ctl::Reply control(const std::vector<std::string>& args) {
    clock();
    if (args.size() == 1 && args[0] == "--reload") return reload();
    if (args.size() == 1 && args[0] == "--list-vrrp") {  // vsrouter's own (docs/vrrp.md)
      std::string l = ctl::list_vrrp(*engine_, now_);
      return {0, l.empty() ? "no vrrp instances\n" : l.substr(1), ""};
    }
    if (args.size() == 1 && (args[0] == "--drain" || args[0] == "--undrain")) {  // docs/scale-out.md
      if (!engine_->config().announce.enabled) return {2, "", "--drain needs an [announce] table in the config\n"};
      engine_->set_draining(args[0] == "--drain", now_);
      arm_timer();
      return {0, ctl::list_announce(*engine_), ""};
    }
    if (args.size() == 1 && args[0] == "--list-announce") {
      if (!engine_->config().announce.enabled) return {0, "no [announce] table\n", ""};
      return {0, ctl::list_announce(*engine_), ""};
    }
    if (args.size() == 1 && args[0] == "--list-ipv6") {  // vsrouter's own (docs/ipv6.md)
      std::string l = ctl::list_ipv6(*engine_, now_);
      return {0, l.empty() ? "no IPv6 addresses\n" : l.substr(1), ""};
    }
    if (args.size() == 1 && args[0] == "--list-checks") {  // vsrouter's own (docs/health-checks.md)
      std::string l = ctl::list_health(*engine_, now_);
      return {0, l.empty() ? "no health checkers\n" : l.substr(1), ""};
    }
    if (!args.empty() && args[0] == ctl::kRestoreLine) {
      auto o = ctl::execute_restore_line(*engine_, {args.begin() + 1, args.end()}, now_);
      arm_timer();
      return {o.exit_code | (o.exited ? ctl::kRestoreStop : 0), std::move(o.out), std::move(o.err)};
    }
    auto o = ctl::execute(*engine_, args, now_);
    arm_timer();  // a change may have moved the next deadline
    return {o.exit_code, std::move(o.out), std::move(o.err)};
  }

  // --- handover, the old side (tap/handover.hpp, docs/handover.md) ---
  /// A new process asked to take over on control connection `fd`. Frames stop being read, the
  /// state is sent with the descriptors; on 'A' this daemon releases its listeners and stops
  /// (without resigning VRRP or running omega: nothing leaves service), else it serves on.
  void handover_out(int fd, const std::vector<std::string>& args) {
    namespace io = handover_io;
    const std::string mine = std::to_string(handover::kVersion);
    bool readable = false;
    for (size_t i = 1; i < args.size(); ++i) readable |= args[i] == mine;
    ucred peer{};
    socklen_t plen = sizeof peer;
    ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &plen);
    if (!readable) {
      std::string theirs;
      for (size_t i = 1; i < args.size(); ++i) theirs += (i > 1 ? "," : "") + args[i];
      log(1, "handover to pid %d refused: it reads state format %s, this daemon writes %s", static_cast<int>(peer.pid),
          theirs.c_str(), mine.c_str());
      const std::string r =
          ctl::encode_reply({2, "",
                             "vsrouter: handover refused: the running daemon writes state format " + mine +
                                 ", the new one reads " + (theirs.empty() ? "none" : theirs) + "\n"});
      io::write_all(fd, r.data(), r.size(), 2000);
      return;
    }
    log(2, "handover to pid %d: TAP reads stopped, sending the state", static_cast<int>(peer.pid));
    for (auto& p : ports_) uv_poll_stop(&p->poll);
    uv_timer_stop(&timer_);
    clock();
    run_due_timers();
    pause_at("old-stopped");
    handover::State st = engine_->snapshot(now_);
    st.monotonic_ns = last_hr_;
    std::vector<uint8_t> stream = handover::encode(st);
    // The fault tests' hook: a damaged stream, which the new process must refuse.
    if (const char* c = std::getenv("VSROUTER_HANDOVER_CORRUPT"); c && *c == '1' && stream.size() > 40)
      stream[stream.size() / 2] ^= 0x20;
    io::Meta meta;
    meta.pid = static_cast<int32_t>(::getpid());
    std::vector<int> fds;
    for (auto& p : ports_) {
      meta.fds.push_back({io::Meta::kTap, p->dev->name(), p->dev->created()});
      fds.push_back(p->dev->fd());
    }
    if (control_ && control_->fd() >= 0) {
      meta.fds.push_back({io::Meta::kControl, control_->path(), false});
      fds.push_back(control_->fd());
    }
    if (metrics_ && metrics_->fd() >= 0) {
      meta.fds.push_back({io::Meta::kMetrics, metrics_addr_, false});
      fds.push_back(metrics_->fd());
    }
    const std::string m = io::encode_meta(meta);
    uint8_t head[8] = {'V', 'S', 'H', 'O'};
    const auto n = static_cast<uint32_t>(fds.size());
    for (int i = 0; i < 4; ++i) head[4 + i] = static_cast<uint8_t>(n >> (8 * i));
    uint8_t mlen[4], slen[8];
    for (int i = 0; i < 4; ++i) mlen[i] = static_cast<uint8_t>(m.size() >> (8 * i));
    for (int i = 0; i < 8; ++i) slen[i] = static_cast<uint8_t>(uint64_t{stream.size()} >> (8 * i));
    const bool sent = io::send_with_fds(fd, fds, head, sizeof head, 5000) && io::write_all(fd, mlen, 4, 5000) &&
                      io::write_all(fd, m.data(), m.size(), 5000) && io::write_all(fd, slen, 8, 5000) &&
                      io::write_all(fd, stream.data(), stream.size(), 60000);
    if (sent) pause_at("old-sent");
    char answer = 0;
    if (!sent || !io::read_all(fd, &answer, 1, 120000) || answer != io::kTaken) {
      handover_resume(!sent                    ? "the state could not be sent"
                      : answer == io::kRefused ? "the new process refused it (see its output)"
                                               : "the new process did not answer (it died or timed out)");
      return;
    }
    // Taken: the listeners are the new process's now (the control socket's path stays bound).
    pause_at("old-taken");
    const char released = io::kReleased;
    char confirmed = 0;
    if (!io::write_all(fd, &released, 1, 2000) || !io::read_all(fd, &confirmed, 1, 10000) ||
        confirmed != io::kConfirmed) {
      handover_resume("the new process died after it took the state");
      return;
    }
    if (control_) control_->release();
    // Under systemd the new process is the service's main process from now on (sd_notify(3):
    // the main process may name another; with NotifyAccess=main only it may, so it does here).
    notify("MAINPID=" + std::to_string(peer.pid) + "\nSTATUS=handed over to pid " + std::to_string(peer.pid));
    log(2, "handover: pid %d has taken over (%zu connections, %zu bytes of state); exiting", static_cast<int>(peer.pid),
        st.conns.size(), stream.size());
    handed_over_ = true;
    // Stopped from the loop, not from inside the control server's callback (stop() frees it).
    uv_timer_start(
        &timer_, [](uv_timer_t* t) { static_cast<Daemon*>(t->loop->data)->stop(); }, 0, 0);
  }
  /// SIGUSR2: the same command line again, with --takeover: a successor (the binary installed
  /// now, the config file as it is now) that takes over from this daemon. Its output goes where
  /// this one's goes; if it fails, this daemon serves on (the handover never happened).
  void start_successor() {
    if (successor_state_ != Successor::kNone) {
      log(1, "SIGUSR2: a successor (pid %d) is already starting", successor_.pid);
      return;
    }
    if (argv_.empty()) return;
    std::vector<std::string> args = argv_;
    if (std::find(args.begin(), args.end(), "--takeover") == args.end()) args.push_back("--takeover");
    std::vector<char*> cargs;
    for (std::string& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    uv_process_options_t o{};
    o.file = cargs[0];
    o.args = cargs.data();
    o.exit_cb = [](uv_process_t* p, int64_t status, int sig) {
      auto* self = static_cast<Daemon*>(p->loop->data);
      if (!self->handed_over_)
        self->log(1, "SIGUSR2: the successor (pid %d) exited (status %lld, signal %d) without taking over; serving on",
                  p->pid, static_cast<long long>(status), sig);
      self->successor_state_ = Successor::kClosing;
      uv_close(reinterpret_cast<uv_handle_t*>(p),
               [](uv_handle_t* h) { static_cast<Daemon*>(h->loop->data)->successor_state_ = Successor::kNone; });
    };
    uv_stdio_container_t stdio[3];
    for (int i = 0; i < 3; ++i) {
      stdio[i].flags = UV_INHERIT_FD;
      stdio[i].data.fd = i;
    }
    o.stdio = stdio;
    o.stdio_count = 3;
    // Its own process group: it outlives this daemon, which exits once it has taken over.
    o.flags = UV_PROCESS_DETACHED;
    const int r = uv_spawn(loop_, &successor_, &o);
    if (r != 0) {
      log(0, "SIGUSR2: cannot start %s: %s; serving on", cargs[0], uv_strerror(r));
      successor_state_ = Successor::kClosing;
      uv_close(reinterpret_cast<uv_handle_t*>(&successor_),
               [](uv_handle_t* h) { static_cast<Daemon*>(h->loop->data)->successor_state_ = Successor::kNone; });
      return;
    }
    successor_state_ = Successor::kRunning;
    log(2, "SIGUSR2: started the successor %s (pid %d)", cargs[0], successor_.pid);
  }

  /// The handover did not happen: read the TAPs again and carry on.
  void handover_resume(const char* why) {
    log(1, "handover failed: %s; this daemon keeps serving", why);
    for (auto& p : ports_) uv_poll_start(&p->poll, UV_READABLE, &Daemon::on_poll_cb);
    clock();
    run_due_timers();
    arm_timer();
  }

  /// keepalived's omega: at shutdown, each alive real's notify_down, then the service's
  /// quorum_down (ipwrapper.c: clear_service_rs, then update_vs_notifies with `stopping`).
  void run_omega_scripts() {
    const check::Health& h = engine_->health();
    for (const check::ServiceHealth& svc : h.services()) {
      if (!svc.omega) continue;
      log(2, "stopping: running the down scripts of %s %s:%u (omega)", std::string(protocol_name(svc.protocol)).c_str(),
          svc.vip.str().c_str(), static_cast<unsigned>(svc.port));
      for (uint32_t i = svc.first_real; i < svc.first_real + svc.n_reals; ++i) {
        const check::RealHealth& rh = h.reals()[i];
        if (rh.alive() && !rh.real.notify_down.empty()) scripts_->notify(rh.real.notify_down, "");
      }
      if (!svc.quorum_down_cmd.empty()) scripts_->notify(svc.quorum_down_cmd, "");
    }
  }

  void stop() {
    if (!handed_over_) {
      notify("STOPPING=1\nSTATUS=stopping");
      // VRRP masters resign (priority 0) while the TAPs are still open: the backups take over at once.
      engine_->stop(clock());
      drain_vrrp();
      drain_announce();
      run_omega_scripts();
    }
    control_.reset();
    metrics_.reset();  // its close callbacks run in the final uv_run
    for (auto& p : ports_) uv_poll_stop(&p->poll);
    uv_timer_stop(&timer_);
    uv_timer_stop(&link_timer_);
    uv_timer_stop(&stop_timer_);
    for (auto* s : {&sigint_, &sigterm_, &sigusr1_, &sighup_, &sigusr2_}) uv_signal_stop(s);
    uv_stop(loop_);
  }

  static void on_poll_cb(uv_poll_t* h, int status, int) {
    auto* p = static_cast<Port*>(h->data);
    auto* self = static_cast<Daemon*>(h->loop->data);
    if (status < 0) {
      self->log(0, "%s: poll: %s", p->dev->name().c_str(), uv_strerror(status));
      return;
    }
    self->on_readable(*p);
  }
  /// track_interface: each TAP's administrative state, every kLinkPollMs, told to VRRP.
  static void on_link_timer_cb(uv_timer_t* t) {
    auto* self = static_cast<Daemon*>(t->loop->data);
    const Instant now = self->clock();
    for (auto& p : self->ports_) self->engine_->vrrp().set_interface(p->iface, p->dev->link_up(), now);
    self->arm_timer();
  }
  static void on_timer_cb(uv_timer_t* t) {
    auto* self = static_cast<Daemon*>(t->loop->data);
    self->engine_->on_timer(self->clock());
    self->arm_timer();
  }
  static void on_signal_cb(uv_signal_t* s, int signum) {
    auto* self = static_cast<Daemon*>(s->loop->data);
    if (signum == SIGUSR1) {
      self->dump();
    } else if (signum == SIGHUP) {
      self->clock();
      self->reload();
    } else if (signum == SIGUSR2) {
      self->start_successor();
    } else {
      self->log(2, "signal %d: stopping", signum);
      self->begin_stop();
    }
  }

  int log_level_;
  bool journal_;  // stderr is the journal: lines carry their priority
  uv_loop_t* loop_ = nullptr;
  uv_timer_t timer_{};
  uv_timer_t link_timer_{};  // track_interface: the TAPs' link state, polled
  uv_timer_t stop_timer_{};  // [announce] stop_delay: the stop after the withdrawal
  bool stopping_ = false;    // begin_stop() ran: the next signal stops at once
  uv_signal_t sigint_{}, sigterm_{}, sigusr1_{}, sighup_{}, sigusr2_{};
  uv_process_t successor_{};  // SIGUSR2's --takeover process
  enum class Successor : uint8_t { kNone, kRunning, kClosing } successor_state_ = Successor::kNone;
  std::vector<std::string> argv_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ScriptRunner> scripts_;  // MISC_CHECK programs, notify scripts
  std::FILE* script_log_ = nullptr;        // --capture: MISC_CHECK exits, for a replay
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MetricsServer> metrics_;
  std::string config_path_;
  keepalived::LoadOptions load_opt_;
  std::vector<uint8_t> rbuf_ = std::vector<uint8_t>(kReadBuf);
  int64_t epoch_us_ = 0;
  uint64_t hr_start_ = 0;
  uint64_t last_hr_ = 0;  // uv_hrtime() of the latest clock()
  Instant now_{};
  std::string metrics_addr_;  // --metrics, as given (handed over with its listener)
  bool handed_over_ = false;  // a new process took over: stop without resigning anything
};

/// What a takeover received from the old daemon (tap/handover.hpp).
struct Incoming {
  handover_io::Meta meta;
  std::vector<int> fds;  // meta.fds's descriptors; -1 once adopted
  handover::State state;
  int sock = -1;
  ~Incoming() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
    if (sock >= 0) ::close(sock);
  }
  /// The descriptor of kind `k` named `name` (taken: the caller owns it), or -1.
  int take(handover_io::Meta::Kind k, const std::string& name) {
    for (size_t i = 0; i < meta.fds.size(); ++i)
      if (meta.fds[i].kind == k && meta.fds[i].name == name && fds[i] >= 0) return std::exchange(fds[i], -1);
    return -1;
  }
  bool created(const std::string& tap) const {
    for (const auto& f : meta.fds)
      if (f.kind == handover_io::Meta::kTap && f.name == tap) return f.created;
    return false;
  }
  /// Tells the old daemon no (it keeps serving).
  void refuse() {
    if (sock < 0) return;
    const char r = handover_io::kRefused;
    handover_io::write_all(sock, &r, 1, 1000);
  }
};

/// The fault tests' hook (tests/e2e/handover.sh, docs/handover.md): with
/// VSROUTER_HANDOVER_PAUSE=STEP in the environment, the process stops itself (SIGSTOP) at that
/// step of a handover, for the test to kill one side there.
void pause_at(const char* step) {
  const char* want = std::getenv("VSROUTER_HANDOVER_PAUSE");
  if (!want || std::strcmp(want, step) != 0) return;
  std::fprintf(stderr, "vsrouter: paused at handover step %s (pid %d)\n", step, static_cast<int>(::getpid()));
  std::fflush(stderr);
  ::raise(SIGSTOP);
}
/// Whether process `pid` still runs: it exists and is not a zombie (a dead process its parent has
/// not reaped yet still answers kill 0).
bool alive(int32_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return true;
  char state = 0;
  // "pid (comm) state ...": comm may hold spaces and parentheses; the state follows the last ')'.
  char buf[512];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  if (const char* p = std::strrchr(buf, ')'); p && p[1] == ' ') state = p[2];
  return state != 'Z' && state != 'X';
}
/// Waits up to `ms` for process `pid` to be gone.
bool wait_gone(int32_t pid, int ms) {
  for (int i = 0; i < ms / 20; ++i) {
    if (!alive(pid)) return true;
    ::usleep(20000);
  }
  return !alive(pid);
}

/// --takeover, the new side: 0 with `in` filled (take over), 1 to start afresh (no daemon
/// there, one that cannot hand over and was stopped, or one that died meanwhile), 2 to exit (the
/// old daemon keeps serving; the reason is on stderr).
int Daemon::takeover_in(const std::string& path, Incoming& in) {
  namespace io = handover_io;
  in.sock = io::connect_unix(path);
  if (in.sock < 0) {
    log(1, "--takeover: no vsrouter answers on %s (%s): starting afresh", path.c_str(), std::strerror(errno));
    return 1;
  }
  ucred peer{};
  socklen_t plen = sizeof peer;
  ::getsockopt(in.sock, SOL_SOCKET, SO_PEERCRED, &peer, &plen);
  const std::string req = ctl::encode_request({io::kRequest, std::to_string(handover::kVersion)});
  uint8_t head[8];
  if (!io::write_all(in.sock, req.data(), req.size(), 5000) || !io::recv_with_fds(in.sock, in.fds, head, 4, 120000)) {
    if (wait_gone(peer.pid, 1000)) {  // its socket closes before it is gone
      log(1, "--takeover: the daemon on %s (pid %d) died before it handed over: starting afresh", path.c_str(),
          static_cast<int>(peer.pid));
      return 1;
    }
    error_line("vsrouter: --takeover: the daemon on " + path + " did not answer; it keeps serving");
    return 2;
  }
  if (std::memcmp(head, "VSHO", 4) != 0) {
    // An ordinary reply: this daemon cannot hand over (another format, or a build without it).
    uint8_t rest[8];
    std::string why;
    if (io::read_all(in.sock, rest, 8, 2000)) {
      const uint32_t out_len = ctl::get_u32(std::string_view(reinterpret_cast<char*>(rest), 8), 4);
      std::string buf(out_len < (1u << 20) ? out_len : 0, '\0');
      uint8_t elen[4];
      if (io::read_all(in.sock, buf.data(), buf.size(), 2000) && io::read_all(in.sock, elen, 4, 2000)) {
        const uint32_t n = ctl::get_u32(std::string_view(reinterpret_cast<char*>(elen), 4), 0);
        why.resize(n < (1u << 20) ? n : 0);
        if (!io::read_all(in.sock, why.data(), why.size(), 2000)) why.clear();
      }
    }
    while (!why.empty() && why.back() == '\n') why.pop_back();
    log(1,
        "--takeover: the daemon on %s (pid %d) cannot hand over (%s): stopping it and starting afresh; its "
        "connections are lost",
        path.c_str(), static_cast<int>(peer.pid), why.empty() ? "no reason given" : why.c_str());
    ::close(std::exchange(in.sock, -1));
    if (peer.pid > 0) ::kill(peer.pid, SIGTERM);
    if (!wait_gone(peer.pid, 10000)) {
      error_line("vsrouter: --takeover: the old daemon (pid " + std::to_string(peer.pid) + ") did not stop");
      return 2;
    }
    return 1;
  }
  auto dead_or_refuse = [&](const std::string& what) {
    if (wait_gone(peer.pid, 1000)) {
      log(1, "--takeover: the old daemon (pid %d) died during the handover (%s): starting afresh",
          static_cast<int>(peer.pid), what.c_str());
      return 1;
    }
    in.refuse();
    error_line("vsrouter: --takeover: " + what + "; the running daemon keeps serving");
    return 2;
  };
  uint8_t lens[4];
  if (!io::recv_with_fds(in.sock, in.fds, head + 4, 4, 5000) || !io::read_all(in.sock, lens, 4, 5000))
    return dead_or_refuse("the descriptors did not arrive");
  const uint32_t nfds = ctl::get_u32(std::string_view(reinterpret_cast<char*>(head), 8), 4);
  const uint32_t mlen = uint32_t{lens[0]} | uint32_t{lens[1]} << 8 | uint32_t{lens[2]} << 16 | uint32_t{lens[3]} << 24;
  (void)nfds;
  if (mlen > (1u << 16)) return dead_or_refuse("the descriptor list is too long");
  std::string m(mlen, '\0');
  uint8_t slen[8];
  if (!io::read_all(in.sock, m.data(), m.size(), 5000) || !io::read_all(in.sock, slen, 8, 5000))
    return dead_or_refuse("the descriptor list did not arrive");
  auto meta = io::decode_meta(m);
  if (!meta || meta.value().fds.size() != in.fds.size())
    return dead_or_refuse(meta ? "the descriptors do not match their list" : meta.error().message);
  in.meta = std::move(meta.value());
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | slen[i];
  if (n > handover::kMaxStream) return dead_or_refuse("the state is larger than a handover may be");
  std::vector<uint8_t> stream(static_cast<size_t>(n));
  if (!io::read_all(in.sock, stream.data(), stream.size(), 60000)) return dead_or_refuse("the state did not arrive");
  auto st = handover::decode(stream);
  if (!st) return dead_or_refuse(st.error().message);
  in.state = std::move(st.value());
  pause_at("new-received");
  return 0;
}

void Daemon::close_handles() {
  uv_walk(
      loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(loop_, UV_RUN_DEFAULT);
}

int Daemon::start(const RunOptions& opt) {
  std::vector<std::string> notes;
  auto cfg = keepalived::load_any(opt.config_path, opt.load, &notes);
  if (!cfg) {
    error_line(cfg.error().format(opt.config_path));
    return 2;
  }
  for (const auto& n : notes) log(2, "%s", n.c_str());
  const auto& c = *cfg.value();
  if (!opt.capture_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opt.capture_dir, ec);
    if (!std::filesystem::is_directory(opt.capture_dir, ec)) {
      error_line(opt.capture_dir + ": cannot create capture directory");
      return 2;
    }
  }
  // Offloads keep frames partial (checksums) and whole (64 KiB TCP): a capture must hold wire
  // frames that replay byte for byte, so capturing turns them off.
  bool offload = opt.offload && opt.capture_dir.empty();
  // Root's default lives in /run/vsrouter/ (made below if missing).
  const std::string control_path = opt.control_path.empty() ? ctl::default_control_path() : opt.control_path;
  // With --takeover the engine is built first, before the old daemon stops reading its TAPs
  // (building the tables is most of a start's time). A fresh start builds it after opening the
  // TAPs, as it always has: a TAP just attached is not forwarding on its bridge at once, and the
  // first health probes' ARP requests would be lost (their checks would fail at start).
  EngineParams params;
  params.offload = offload;
  // SSL_GET's TLS keys must not be predictable: the seed of its random bytes comes from the
  // kernel (check/tls.hpp), not from router.seed.
  check::TlsSeed tls_seed{};
  if (::getrandom(tls_seed.data(), tls_seed.size(), 0) == static_cast<ssize_t>(tls_seed.size()))
    params.tls_seed = tls_seed;
  if (opt.takeover) engine_ = std::make_unique<Engine>(cfg.value(), *this, params);
  Incoming in;
  bool taking = false;
  if (opt.takeover) {
    const int r = takeover_in(control_path, in);
    if (r == 2) return 2;
    taking = r == 0;
  }
  for (uint32_t i = 0; i < c.interfaces.size(); ++i) {
    const auto& ifc = c.interfaces[i];
    const int fd = taking ? in.take(handover_io::Meta::kTap, ifc.tap) : -1;
    auto dev =
        fd >= 0 ? TapDevice::adopt(fd, in.created(ifc.tap), offload) : TapDevice::open(ifc.tap, ifc.mtu, offload);
    if (!dev) {
      in.refuse();
      error_line("vsrouter: interface " + ifc.name + ": " + dev.error().message +
                 (taking ? " (the running daemon keeps serving)" : ""));
      return 2;
    }
    auto p = std::make_unique<Port>();
    p->iface = i;
    p->dev = std::make_unique<TapDevice>(std::move(dev.value()));
    if (!p->dev->warnings.empty()) log(1, "%s", p->dev->warnings.c_str());
    if (!opt.capture_dir.empty()) {
      std::string path = (std::filesystem::path(opt.capture_dir) / (ifc.name + ".pcapng")).string();
      auto w = replay::PcapngWriter::open(path, ifc.name);
      if (!w) {
        error_line(path + ": " + w.error().message);
        return 2;
      }
      p->capture = std::move(w.value());
    }
    log(2, "interface %s on TAP %s (%s), mac %s, offloads %s", ifc.name.c_str(), ifc.tap.c_str(),
        fd >= 0             ? "handed over"
        : p->dev->created() ? "created"
                            : "attached",
        ifc.mac.str().c_str(), p->dev->vnet_hdr() && offload ? "on" : "off");
    ports_.push_back(std::move(p));
  }
  // A handed-over TAP without the virtio-net header cannot carry offloaded frames.
  for (auto& p : ports_) offload = offload && p->dev->vnet_hdr();

  if (taking) {
    // The old process's clock continues: its instants (expiries, timers) mean the same here.
    epoch_us_ = in.state.now_us;
    hr_start_ = in.state.monotonic_ns;
  } else {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    epoch_us_ = int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
    hr_start_ = uv_hrtime();
  }
  if (!engine_ || offload != params.offload) {  // (a handed-over TAP without the header: no offloads)
    params.offload = offload;
    engine_ = std::make_unique<Engine>(cfg.value(), *this, params);
  }

  loop_ = uv_default_loop();
  loop_->data = this;
  scripts_ = std::make_unique<ScriptRunner>(
      loop_,
      [this](uint32_t checker, int status) {
        clock();
        if (script_log_) std::fprintf(script_log_, "%lld %u %d\n", static_cast<long long>(now_.us), checker, status);
        engine_->script_exited(checker, status, now_);
        arm_timer();
      },
      [this](const std::string& m) { log(1, "%s", m.c_str()); });
  engine_->set_script_runner(scripts_.get());
  if (taking) {
    clock();
    const Engine::AdoptReport rep = engine_->adopt(in.state, now_);
    log(2,
        "took over from pid %d (%s, %.1f ms after it stopped reading): %u connections adopted, %u left out (%u without "
        "their service, %u without their real, %u beyond the table, %u invalid); %u neighbours, %u checkers, %u VRRP "
        "instances",
        static_cast<int>(in.meta.pid), in.state.writer.c_str(), (now_.us - in.state.now_us) / 1000.0, rep.conns.taken,
        rep.conns.no_service + rep.conns.no_real + rep.conns.full + rep.conns.invalid, rep.conns.no_service,
        rep.conns.no_real, rep.conns.full, rep.conns.invalid, rep.neigh, rep.checkers, rep.vrrp);
  }
  // Health checks count their warm-up from the engine's start, which a capture records.
  engine_->start(taking ? now_ : Instant::from_micros(epoch_us_));
  if (!opt.capture_dir.empty()) {
    // For a replay of the capture: the start (health checks count their warm-up from it), the
    // TLS seed (SSL_GET's handshakes), and MISC_CHECK's exits as they came (docs/health-checks.md).
    const auto dir = std::filesystem::path(opt.capture_dir);
    if (std::FILE* f = std::fopen((dir / "engine.txt").c_str(), "w")) {
      std::fprintf(f, "start_us %lld\ntls_seed ", static_cast<long long>(epoch_us_));
      for (uint8_t b : tls_seed) std::fprintf(f, "%02x", b);
      std::fprintf(f, "\n");
      std::fclose(f);
    }
    script_log_ = std::fopen((dir / "scripts.txt").c_str(), "w");
    if (script_log_) std::setvbuf(script_log_, nullptr, _IOLBF, 0);
  }
  uv_timer_init(loop_, &timer_);
  uv_timer_init(loop_, &link_timer_);
  uv_timer_init(loop_, &stop_timer_);
  if (std::any_of(c.vrrp_instances.begin(), c.vrrp_instances.end(),
                  [](const config::VrrpInstance& v) { return !v.track_interfaces.empty(); }))
    uv_timer_start(&link_timer_, &Daemon::on_link_timer_cb, 0, kLinkPollMs);
  config_path_ = opt.config_path;
  load_opt_ = opt.load;
  if (opt.control_path.empty()) {
    // Root's default lives in /run/vsrouter/, which systemd makes for the unit
    // (RuntimeDirectory=vsrouter) and a daemon started by hand makes here, as systemd would: 0700.
    const auto dir = std::filesystem::path(control_path).parent_path();
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      error_line("vsrouter: " + dir.string() +
                 ": cannot create the control socket's directory: " + std::strerror(errno));
      close_handles();
      uv_loop_close(loop_);
      return 2;
    }
  }
  auto handler = [this](const std::vector<std::string>& a) { return control(a); };
  const int ctl_fd = taking ? in.take(handover_io::Meta::kControl, control_path) : -1;
  auto ctlsrv = ctl_fd >= 0 ? ControlServer::adopt(loop_, control_path, ctl_fd, handler)
                            : ControlServer::start(loop_, control_path, handler);
  if (!ctlsrv) {
    in.refuse();
    error_line("vsrouter: " + ctlsrv.error().message);
    close_handles();
    uv_loop_close(loop_);
    return 2;
  }
  control_ = std::move(ctlsrv.value());
  control_->set_raw(handover_io::kRequest, [this](int fd, const std::vector<std::string>& a) { handover_out(fd, a); });
  log(2, "control socket %s%s", control_->path().c_str(), ctl_fd >= 0 ? " (handed over)" : "");
  if (!opt.metrics.empty()) {
    metrics_addr_ = opt.metrics;
    const int mfd = taking ? in.take(handover_io::Meta::kMetrics, opt.metrics) : -1;
    auto m = MetricsServer::start(
        loop_, opt.metrics,
        [this] {
          std::vector<metrics::PortCounters> pc;
          for (auto& p : ports_)
            pc.push_back({engine_->config().interfaces[p->iface].name, p->tx_full, p->tx_error, p->rx_error});
          metrics::DaemonStats ds;
          ds.process = read_process_stats();  // /proc/self, at each scrape
          if (metrics_) ds.http = metrics_->stats();
          return metrics::render_metrics(*engine_, pc, ds);
        },
        {}, mfd);
    if (!m) {
      in.refuse();
      error_line("vsrouter: " + m.error().message);
      if (ctl_fd >= 0) control_->release();
      control_.reset();
      close_handles();
      uv_loop_close(loop_);
      return 2;
    }
    metrics_ = std::move(m.value());
    log(2, "metrics on http://%s/metrics", opt.metrics.c_str());
  }
  if (taking) {
    // Everything is ready: the old daemon lets go ('B'), then this one reads the TAPs.
    namespace io = handover_io;
    const char taken = io::kTaken;
    char b = 0;
    pause_at("new-adopted");
    const bool said = io::write_all(in.sock, &taken, 1, 2000);
    if (said) pause_at("new-taken");
    if (!said || !io::read_all(in.sock, &b, 1, 10000) || b != io::kReleased) {
      if (!wait_gone(in.meta.pid, 1000)) {
        error_line("vsrouter: --takeover: the old daemon (pid " + std::to_string(in.meta.pid) +
                   ") did not let go; it keeps serving");
        if (ctl_fd >= 0) control_->release();
        control_.reset();
        metrics_.reset();
        close_handles();
        uv_loop_close(loop_);
        return 2;
      }
      log(1, "--takeover: the old daemon (pid %d) died before it confirmed; serving", static_cast<int>(in.meta.pid));
    } else {
      const char confirmed = io::kConfirmed;
      io::write_all(in.sock, &confirmed, 1, 2000);  // the old one exits; if it is gone, nothing lost
    }
  }
  for (auto& p : ports_) {
    uv_poll_init(loop_, &p->poll, p->dev->fd());
    p->poll.data = p.get();
    uv_poll_start(&p->poll, UV_READABLE, &Daemon::on_poll_cb);
  }
  argv_ = opt.argv;
  int signums[] = {SIGINT, SIGTERM, SIGUSR1, SIGHUP, SIGUSR2};
  uv_signal_t* sigs[] = {&sigint_, &sigterm_, &sigusr1_, &sighup_, &sigusr2_};
  for (int i = 0; i < 5; ++i) {
    uv_signal_init(loop_, sigs[i]);
    uv_signal_start(sigs[i], &Daemon::on_signal_cb, signums[i]);
  }
  log(2, "running with %zu interfaces, %zu services", ports_.size(), c.services.size());
  clock();
  arm_timer();
  write_announce();  // the BGP daemon's include exists from the start, even with nothing in it
  std::fprintf(stdout, "vsrouter: running (pid %d)\n", static_cast<int>(::getpid()));
  std::fflush(stdout);
  // The TAPs, the control socket and the metrics server are up: a Type=notify unit is started.
  notify_ready();

  uv_run(loop_, UV_RUN_DEFAULT);

  // omega's scripts get a second to finish (keepalived: TIMER_HZ); then every handle is closed
  // and the loop finishes the closes before the captures are flushed.
  scripts_->wait_notifies(1000);
  scripts_->close();
  close_handles();
  if (script_log_) std::fclose(script_log_);
  int rc = 0;
  for (auto& p : ports_) {
    if (p->io_errors_unlogged > 0)
      log(0, "%s: %llu more I/O errors since the last such line", p->dev->name().c_str(),
          static_cast<unsigned long long>(p->io_errors_unlogged));
    std::string e;
    if (p->capture && !p->capture->close(e)) {
      log(0, "%s: capture: %s", p->dev->name().c_str(), e.c_str());
      rc = 1;
    }
  }
  uv_loop_close(loop_);
  log(2, "stopped");
  return rc;
}

}  // namespace

int run(const RunOptions& opt) {
  Daemon d(opt.log_level);
  return d.start(opt);
}

}  // namespace vs::tap

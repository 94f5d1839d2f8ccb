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

#include <sys/uio.h>
#include <unistd.h>

#include "config/config.hpp"
#include "ctl/ipvsadm.hpp"
#include "ctl/list.hpp"
#include "ctl/paths.hpp"
#include "engine.hpp"
#include "metrics/prometheus.hpp"
#include "replay/pcap_io.hpp"
#include "tap/control.hpp"
#include "tap/metrics.hpp"
#include "tap/tap_device.hpp"
#include "tap/vnet.hpp"

namespace vs::tap {
namespace {

constexpr int kBurst = 256;              // frames read per readiness per device (as tapwire.c)
constexpr size_t kReadBuf = 65536 + 64;  // a TAP frame never exceeds this (a TSO super-frame: 65549)

struct Port {
  uint32_t iface = 0;
  std::unique_ptr<TapDevice> dev;
  std::unique_ptr<replay::PcapngWriter> capture;
  uv_poll_t poll{};
  uint64_t tx_full = 0;   // writes that would have blocked: dropped
  uint64_t tx_error = 0;  // other write errors
  uint64_t rx_error = 0;
};

class Daemon : public TxSink {
public:
  explicit Daemon(int log_level) : log_level_(log_level) {}

  int start(const RunOptions& opt);
  /// Closes every handle and runs the loop until the closes are done.
  void close_handles();

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
      log(0, "%s: write: %s", p.dev->name().c_str(), std::strerror(errno));
    }
  }

  void log(int level, const char* fmt, ...) __attribute__((format(printf, 3, 4))) {
    if (level > log_level_) return;
    static const char* names[] = {"error", "warn", "info", "debug"};
    std::fprintf(stderr, "vsrouter: %s: ", names[level]);
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fputc('\n', stderr);
  }

  /// Engine time: Unix microseconds at start plus monotonic time since, read once per callback.
  Instant clock() {
    now_ = Instant::from_micros(epoch_us_ + static_cast<int64_t>((uv_hrtime() - hr_start_) / 1000));
    return now_;
  }
  void run_due_timers() {
    if (auto d = engine_->next_deadline(); d && *d <= now_) engine_->on_timer(now_);
  }
  void arm_timer() {
    auto d = engine_->next_deadline();
    if (!d) {
      uv_timer_stop(&timer_);
      return;
    }
    int64_t us = std::max<int64_t>(0, (*d - now_).us);
    uv_timer_start(&timer_, &Daemon::on_timer_cb, static_cast<uint64_t>((us + 999) / 1000), 0);
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
          log(0, "%s: read: %s", p.dev->name().c_str(), std::strerror(errno));
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
    s += "\n" + ctl::list_connections(*engine_, clock());
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  }
  /// Re-read the config file and apply it; on any error the running config stays whole.
  ctl::Reply reload() {
    auto cfg = config::load_config(config_path_);
    if (!cfg) {
      std::string e = cfg.error().format(config_path_);
      log(1, "reload refused, running config kept: %s", e.c_str());
      return {2, "", e + "\n"};
    }
    if (auto why = engine_->reload(cfg.value())) {
      log(1, "reload refused, running config kept: %s", why->c_str());
      return {2, "", config_path_ + ": " + *why + "\n"};
    }
    log(2, "reloaded %s", config_path_.c_str());
    arm_timer();
    return {0, "", ""};
  }
  ctl::Reply control(const std::vector<std::string>& args) {
    clock();
    if (args.size() == 1 && args[0] == "--reload") return reload();
    auto o = ctl::execute(*engine_, args, now_);
    arm_timer();  // a change may have moved the next deadline
    return {o.exit_code, std::move(o.out), std::move(o.err)};
  }

  void stop() {
    control_.reset();
    metrics_.reset();  // its close callbacks run in the final uv_run
    for (auto& p : ports_) uv_poll_stop(&p->poll);
    uv_timer_stop(&timer_);
    for (auto* s : {&sigint_, &sigterm_, &sigusr1_, &sighup_}) uv_signal_stop(s);
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
    } else {
      self->log(2, "signal %d: stopping", signum);
      self->stop();
    }
  }

  int log_level_;
  uv_loop_t* loop_ = nullptr;
  uv_timer_t timer_{};
  uv_signal_t sigint_{}, sigterm_{}, sigusr1_{}, sighup_{};
  std::vector<std::unique_ptr<Port>> ports_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MetricsServer> metrics_;
  std::string config_path_;
  std::vector<uint8_t> rbuf_ = std::vector<uint8_t>(kReadBuf);
  int64_t epoch_us_ = 0;
  uint64_t hr_start_ = 0;
  Instant now_{};
};

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
  auto cfg = config::load_config(opt.config_path);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().format(opt.config_path).c_str());
    return 2;
  }
  const auto& c = *cfg.value();
  if (!opt.capture_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opt.capture_dir, ec);
    if (!std::filesystem::is_directory(opt.capture_dir, ec)) {
      std::fprintf(stderr, "%s: cannot create capture directory\n", opt.capture_dir.c_str());
      return 2;
    }
  }
  // Offloads keep frames partial (checksums) and whole (64 KiB TCP): a capture must hold wire
  // frames that replay byte for byte, so capturing turns them off.
  const bool offload = opt.offload && opt.capture_dir.empty();
  for (uint32_t i = 0; i < c.interfaces.size(); ++i) {
    const auto& ifc = c.interfaces[i];
    auto dev = TapDevice::open(ifc.tap, ifc.mtu, offload);
    if (!dev) {
      std::fprintf(stderr, "vsrouter: interface %s: %s\n", ifc.name.c_str(), dev.error().message.c_str());
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
        std::fprintf(stderr, "%s: %s\n", path.c_str(), w.error().message.c_str());
        return 2;
      }
      p->capture = std::move(w.value());
    }
    log(2, "interface %s on TAP %s (%s), mac %s, offloads %s", ifc.name.c_str(), ifc.tap.c_str(),
        p->dev->created() ? "created" : "attached", ifc.mac.str().c_str(), offload ? "on" : "off");
    ports_.push_back(std::move(p));
  }

  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  epoch_us_ = int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
  hr_start_ = uv_hrtime();
  EngineParams params;
  params.offload = offload;
  engine_ = std::make_unique<Engine>(cfg.value(), *this, params);

  loop_ = uv_default_loop();
  loop_->data = this;
  uv_timer_init(loop_, &timer_);
  config_path_ = opt.config_path;
  const std::string control_path = opt.control_path.empty() ? ctl::default_control_path() : opt.control_path;
  auto ctlsrv =
      ControlServer::start(loop_, control_path, [this](const std::vector<std::string>& a) { return control(a); });
  if (!ctlsrv) {
    std::fprintf(stderr, "vsrouter: %s\n", ctlsrv.error().message.c_str());
    close_handles();
    uv_loop_close(loop_);
    return 2;
  }
  control_ = std::move(ctlsrv.value());
  log(2, "control socket %s", control_->path().c_str());
  if (!opt.metrics.empty()) {
    auto m = MetricsServer::start(loop_, opt.metrics, [this] {
      std::vector<metrics::PortCounters> pc;
      for (auto& p : ports_)
        pc.push_back({engine_->config().interfaces[p->iface].name, p->tx_full, p->tx_error, p->rx_error});
      return metrics::render_metrics(*engine_, pc);
    });
    if (!m) {
      std::fprintf(stderr, "vsrouter: %s\n", m.error().message.c_str());
      control_.reset();
      close_handles();
      uv_loop_close(loop_);
      return 2;
    }
    metrics_ = std::move(m.value());
    log(2, "metrics on http://%s/metrics", opt.metrics.c_str());
  }
  for (auto& p : ports_) {
    uv_poll_init(loop_, &p->poll, p->dev->fd());
    p->poll.data = p.get();
    uv_poll_start(&p->poll, UV_READABLE, &Daemon::on_poll_cb);
  }
  int signums[] = {SIGINT, SIGTERM, SIGUSR1, SIGHUP};
  uv_signal_t* sigs[] = {&sigint_, &sigterm_, &sigusr1_, &sighup_};
  for (int i = 0; i < 4; ++i) {
    uv_signal_init(loop_, sigs[i]);
    uv_signal_start(sigs[i], &Daemon::on_signal_cb, signums[i]);
  }
  log(2, "running with %zu interfaces, %zu services", ports_.size(), c.services.size());
  std::fprintf(stdout, "vsrouter: running (pid %d)\n", static_cast<int>(::getpid()));
  std::fflush(stdout);

  uv_run(loop_, UV_RUN_DEFAULT);

  // Close every handle and let the loop finish the closes before the captures are flushed.
  close_handles();
  int rc = 0;
  for (auto& p : ports_) {
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

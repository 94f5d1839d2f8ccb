// Deterministic pcap replay: the engine driven by the records of one pcap per interface, with the
// record timestamps as its clock. Output records carry the virtual time at which they were sent.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine.hpp"
#include "keepalived/translate.hpp"
#include "replay/pcap_io.hpp"

namespace vs::replay {

struct Options {
  std::string config_path;
  keepalived::LoadOptions load;  // keepalived.conf: --format, --interfaces, --config-id
  std::string in_dir;
  std::string out_dir;
  int64_t advance_us = 0;           // run the clock this long after the last record so timers fire
  std::optional<int64_t> start_us;  // the engine's start (health checks' warm-up): --start, else the
                                    // capture's recorded start, else the first record's time
  bool list = false;                // print the ipvsadm -Ln --stats table and counters at the end
  bool list_conns = false;          // print the connection table (ipvsadm -Lnc) at the end
  bool trace = false;               // print what happened to each packet (and why each connection went to its real)
  std::string diagram;              // --diagram CONN: "N" (the Nth connection scheduled) or "CLIENT:PORT"
};

/// Sees what a Replayer sees: every frame fed, every frame sent, every scheduling decision.
class Observer {
public:
  virtual ~Observer() = default;
  virtual void input(uint32_t /*iface*/, int64_t /*ts_us*/, std::span<const uint8_t> /*frame*/) {}
  virtual void output(uint32_t /*iface*/, int64_t /*ts_us*/, std::span<const uint8_t> /*frame*/) {}
  virtual void scheduled(int64_t /*ts_us*/, const ipvs::SchedNote& /*note*/) {}
};

/// Runs a replay. Returns the process exit code: 0, or 2 with one clear line on `err`.
int run(const Options& opt, std::ostream& out, std::ostream& err);

/// The replay loop without files: an engine fed frames in time order, its timers fired between
/// them exactly as run() fires them. run() drives one over the merged input files; the flood test
/// and the fuzz targets drive one directly (tests/flood/, tests/fuzz/).
class Replayer {
public:
  /// Receives every frame the engine sends, with the interface and the virtual time.
  using Output = std::function<void(uint32_t iface, int64_t ts_us, std::span<const uint8_t> frame)>;

  /// `trace`: where run()'s --trace lines go (nullptr: no trace).
  Replayer(std::shared_ptr<const config::Config> cfg, Output out, std::ostream* trace = nullptr,
           const EngineParams& params = {});
  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

  /// First every timer due up to `ts_us`, each at its own deadline; then the frame, at `ts_us`
  /// (or at the current time if the clock is already past it).
  /// `off`: offload state (offload.hpp) for tests and fuzzing; pcap files carry none.
  Verdict feed(uint32_t iface, int64_t ts_us, std::span<const uint8_t> frame, const Offload& off = {});
  /// Every timer due up to `until`; the clock ends at `until` or later.
  void finish(int64_t until);
  /// Fires timers up to `until` without moving the clock past the last one.
  void run_timers(int64_t until);
  /// Starts the engine at `us` (health checks count their warm-up from it), the clock with it.
  void start(int64_t us);
  /// What health checks decided, one stamped line each, in order (`replay --list` prints them).
  const std::vector<std::string>& health_log() const noexcept { return health_log_; }
  const std::vector<std::string>& vrrp_log() const noexcept { return vrrp_log_; }
  const std::vector<std::string>& announce_log() const noexcept { return announce_log_; }
  /// A MISC_CHECK or vrrp_script program's recorded exit (a capture's scripts.txt), at `ts_us`;
  /// `checker` is the id Engine::script_exited takes.
  void script_exited(int64_t ts_us, uint32_t checker, int status);
  /// Moves the clock to `us` if it is later, firing nothing.
  void advance_to(int64_t us) noexcept { now_us_ = std::max(now_us_, us); }

  /// Reports to `o` from now on (nullptr: stop); records the director's scheduling decisions.
  void observe(Observer* o) noexcept;

  int64_t now_us() const noexcept { return now_us_; }
  /// Trace timestamps are printed relative to this.
  void set_origin(int64_t us) noexcept { origin_ = us; }
  int64_t origin() const noexcept { return origin_; }
  Engine& engine() noexcept { return engine_; }
  const config::Config& config() const noexcept { return *cfg_; }

private:
  class Sink : public TxSink {
  public:
    explicit Sink(Replayer& r) : r_(r) {}
    void transmit(uint32_t iface, std::span<const uint8_t> frame) override;

  private:
    Replayer& r_;
  };

  std::shared_ptr<const config::Config> cfg_;
  Output out_;
  std::ostream* trace_;
  Sink sink_;
  int64_t now_us_ = 0;
  int64_t origin_ = 0;
  Observer* observer_ = nullptr;
  ipvs::SchedNote note_;        // recorded by the director while tracing or observing
  std::string pending_header_;  // printed before the first frame a timer sends (quiet timers stay quiet)
  std::vector<std::string> health_log_;
  std::vector<std::string> vrrp_log_;
  std::vector<std::string> announce_log_;  // [announce]: VIPs announced and withdrawn
  void drain_health();
  Engine engine_;
};

/// One input record in replay order.
struct Input {
  int64_t ts_us;
  uint32_t iface;
  uint32_t seq;  // record order within its file (stable tie-break)
  const std::vector<uint8_t>* data;
};

/// The records of every interface (records[i] belongs to interface i of the config) in the order
/// a replay feeds them: by timestamp, then interface order, then record order. A record whose
/// source MAC is its interface's own is a frame vsrouter sent (a `vsrouter run --capture` file):
/// it is left out and counted in `skipped_own`.
std::vector<Input> merge_inputs(const config::Config& cfg, const std::vector<std::vector<PcapRecord>>& records,
                                uint64_t& skipped_own);

/// run() after the files are read: feeds the merged records, then fires the timers up to the last
/// record + `advance_us`; the clock ends there. `trace` as the Replayer's.
/// A MISC_CHECK or vrrp_script program's exit as `vsrouter run --capture` wrote it (scripts.txt).
struct ScriptExit {
  int64_t ts_us;
  uint32_t checker;
  int status;
};

void replay_records(Replayer& r, const std::vector<std::vector<PcapRecord>>& records, int64_t advance_us,
                    std::ostream* trace, std::optional<int64_t> start_us = std::nullopt,
                    const std::vector<ScriptExit>& scripts = {});

}  // namespace vs::replay

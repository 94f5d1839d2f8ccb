#include "replay/replay.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <ostream>
#include <vector>

#include "config/config.hpp"
#include "ctl/list.hpp"
#include "engine.hpp"
#include "replay/describe.hpp"
#include "replay/diagram.hpp"
#include "replay/pcap_io.hpp"

namespace vs::replay {
namespace fs = std::filesystem;

namespace {

std::string stamp(int64_t us, int64_t origin) {
  char buf[32];
  int64_t d = us - origin;
  std::snprintf(buf, sizeof buf, "%+lld.%06lld", static_cast<long long>(d / 1000000),
                static_cast<long long>((d < 0 ? -d : d) % 1000000));
  return buf;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The replay loop

Replayer::Replayer(std::shared_ptr<const config::Config> cfg, Output out, std::ostream* trace,
                   const EngineParams& params)
    : cfg_(std::move(cfg)), out_(std::move(out)), trace_(trace), sink_(*this), engine_(cfg_, sink_, params) {
  if (trace_) engine_.director().record_sched(&note_);
}

void Replayer::observe(Observer* o) noexcept {
  observer_ = o;
  engine_.director().record_sched(o || trace_ ? &note_ : nullptr);
}

void Replayer::Sink::transmit(uint32_t iface, std::span<const uint8_t> frame) {
  r_.out_(iface, r_.now_us_, frame);
  if (r_.observer_) r_.observer_->output(iface, r_.now_us_, frame);
  if (!r_.trace_) return;
  if (!r_.pending_header_.empty()) *r_.trace_ << r_.pending_header_;
  r_.pending_header_.clear();
  *r_.trace_ << "    sent on " << r_.cfg_->interfaces[iface].name << ": " << describe_frame(frame) << "\n";
}

void Replayer::start(int64_t us) {
  now_us_ = std::max(now_us_, us);
  // What the start decides (VRRP's first states, an owner's adverts) is listed under its moment.
  if (trace_) pending_header_ = stamp(now_us_, origin_) + " start\n";
  engine_.start(Instant::from_micros(now_us_));
  drain_health();
  pending_header_.clear();
}

void Replayer::script_exited(int64_t ts_us, uint32_t checker, int status) {
  run_timers(ts_us);
  now_us_ = std::max(now_us_, ts_us);
  if (trace_ && (checker & kVrrpScriptId))
    *trace_ << stamp(now_us_, origin_) << " vrrp_script " << (checker & ~kVrrpScriptId) << " exited " << status << "\n";
  else if (trace_)
    *trace_ << stamp(now_us_, origin_) << " MISC_CHECK program of checker " << checker << " exited " << status << "\n";
  engine_.script_exited(checker, status, Instant::from_micros(now_us_));
  drain_health();
}

void Replayer::drain_health() {
  // Health and VRRP decisions, each one line in its log and in the trace under its moment.
  auto note = [this](std::vector<std::string>& log, std::string line) {
    if (trace_) {
      if (!pending_header_.empty()) *trace_ << pending_header_;
      pending_header_.clear();
      *trace_ << "    " << line << "\n";
    }
    log.push_back(std::move(line));
  };
  engine_.health().drain_events([&](const check::Event& e) {
    note(health_log_, stamp(e.at.us, origin_) + " health: " + engine_.health().event_text(e));
  });
  engine_.vrrp().drain_script_events([&](const vrrp::ScriptEvent& e) {
    note(vrrp_log_, stamp(e.at.us, origin_) + " vrrp: " + engine_.vrrp().event_text(e));
  });
  engine_.vrrp().drain_events([&](const vrrp::Event& e) {
    note(vrrp_log_, stamp(e.at.us, origin_) + " vrrp: " + engine_.vrrp().event_text(e));
  });
  engine_.announcer().drain_events([&](const announce::Event& e) {
    note(announce_log_, stamp(e.at.us, origin_) + " announce: " + announce::Announcer::event_text(e));
  });
}

void Replayer::run_timers(int64_t until) {
  // Each timer fires at its own deadline.
  while (auto d = engine_.next_deadline()) {
    if (d->us > until) break;
    now_us_ = std::max(now_us_, d->us);
    if (trace_) pending_header_ = stamp(now_us_, origin_) + " timer\n";
    engine_.on_timer(Instant::from_micros(now_us_));
    drain_health();
    pending_header_.clear();
  }
}

Verdict Replayer::feed(uint32_t iface, int64_t ts_us, std::span<const uint8_t> frame, const Offload& off) {
  run_timers(ts_us);
  now_us_ = std::max(now_us_, ts_us);
  if (trace_)
    *trace_ << stamp(now_us_, origin_) << " " << cfg_->interfaces[iface].name << ": " << describe_frame(frame) << "\n";
  if (observer_) observer_->input(iface, now_us_, frame);
  const uint64_t decisions = note_.count;
  const uint32_t held = engine_.reassembler().fragments();
  Verdict v = engine_.on_frame(iface, frame, Instant::from_micros(now_us_), off);
  drain_health();
  if (trace_) {
    // A fragment kept for reassembly is consumed like an ARP request; say which it was.
    const bool kept = v.kind == Verdict::Kind::kConsumed && engine_.reassembler().fragments() > held;
    *trace_ << "    => " << (kept ? std::string("held for reassembly") : describe_verdict(v, *cfg_)) << "\n";
  }
  if (note_.count != decisions) {
    if (trace_) *trace_ << "    scheduled: " << describe_sched(note_) << "\n";
    if (observer_) observer_->scheduled(now_us_, note_);
  }
  return v;
}

void Replayer::finish(int64_t until) {
  run_timers(until);
  advance_to(until);
}

std::vector<Input> merge_inputs(const config::Config& c, const std::vector<std::vector<PcapRecord>>& records,
                                uint64_t& skipped_own) {
  std::vector<Input> inputs;
  skipped_own = 0;
  for (uint32_t i = 0; i < records.size() && i < c.interfaces.size(); ++i) {
    // A capture from `vsrouter run --capture` holds the frames vsrouter sent too. They are the
    // output a replay reproduces, not input. A pcapng record's direction (epb_flags) decides when
    // it has one; otherwise (a pcap) a frame whose source MAC is the interface's own was sent.
    const MacAddr& own = c.interfaces[i].mac;
    for (uint32_t k = 0; k < records[i].size(); ++k) {
      const auto& d = records[i][k].data;
      const Direction dir = records[i][k].dir;
      const bool sent = dir != Direction::kUnknown
                            ? dir == Direction::kOutbound
                            : d.size() >= 12 && std::equal(own.b.begin(), own.b.end(), d.begin() + 6);
      if (sent) {
        skipped_own++;
        continue;
      }
      inputs.push_back({records[i][k].ts_us, i, k, &records[i][k].data});
    }
  }
  std::stable_sort(inputs.begin(), inputs.end(), [](const Input& a, const Input& b) {
    if (a.ts_us != b.ts_us) return a.ts_us < b.ts_us;
    if (a.iface != b.iface) return a.iface < b.iface;
    return a.seq < b.seq;
  });
  return inputs;
}

void replay_records(Replayer& r, const std::vector<std::vector<PcapRecord>>& records, int64_t advance_us,
                    std::ostream* trace, std::optional<int64_t> start_us, const std::vector<ScriptExit>& scripts) {
  uint64_t skipped_own = 0;
  std::vector<Input> inputs = merge_inputs(r.config(), records, skipped_own);
  if (trace && skipped_own)
    *trace << "(" << skipped_own << " frames sent by vsrouter itself in the input capture: not replayed as input)\n";
  // The engine starts at the given start, else at the first record (own frames included: a
  // capture's first frame may be a probe vsrouter sent).
  const bool given = start_us.has_value();
  if (!start_us)
    for (const auto& file : records)
      if (!file.empty() && (!start_us || file.front().ts_us < *start_us)) start_us = file.front().ts_us;
  r.set_origin(given ? *start_us : inputs.empty() ? 0 : inputs.front().ts_us);
  if (start_us) r.start(*start_us);
  size_t next_script = 0;
  for (const Input& in : inputs) {
    for (; next_script < scripts.size() && scripts[next_script].ts_us <= in.ts_us; ++next_script)
      r.script_exited(scripts[next_script].ts_us, scripts[next_script].checker, scripts[next_script].status);
    r.feed(in.iface, in.ts_us, *in.data);
  }
  for (; next_script < scripts.size(); ++next_script)
    r.script_exited(scripts[next_script].ts_us, scripts[next_script].checker, scripts[next_script].status);
  // The clock ends at the last record + --advance, whether or not a timer fired then: the
  // listings are taken at that instant.
  const int64_t end = r.now_us() + advance_us;
  if (!inputs.empty() || advance_us > 0) r.run_timers(end);
  r.advance_to(end);
}

// ---------------------------------------------------------------------------------------------
// vsrouter replay

int run(const Options& opt, std::ostream& out, std::ostream& err) {
  std::vector<std::string> notes;
  auto cfg = keepalived::load_any(opt.config_path, opt.load, &notes);
  for (const auto& n : notes) err << n << "\n";
  if (!cfg) {
    err << cfg.error().format(opt.config_path) << "\n";
    return 2;
  }
  const auto& c = *cfg.value();

  std::error_code ec;
  if (!fs::is_directory(opt.in_dir, ec)) {
    err << opt.in_dir << ": input directory does not exist\n";
    return 2;
  }
  // Every pcap (or pcapng) in the input directory must name an interface: a typo must not silently
  // replay nothing.
  std::vector<std::string> stray;
  for (const auto& ent : fs::directory_iterator(opt.in_dir, ec)) {
    if (ent.path().extension() != ".pcap" && ent.path().extension() != ".pcapng") continue;
    std::string stem = ent.path().stem().string();
    if (std::none_of(c.interfaces.begin(), c.interfaces.end(), [&](auto& i) { return i.name == stem; }))
      stray.push_back(ent.path().string());
  }
  if (!stray.empty()) {
    std::sort(stray.begin(), stray.end());
    err << stray.front() << ": no interface named \"" << fs::path(stray.front()).stem().string() << "\" in "
        << opt.config_path << "\n";
    return 2;
  }

  // A capture's engine.txt (start, TLS seed) and scripts.txt (MISC_CHECK exits): see
  // docs/health-checks.md. Absent in golden cases that give --start in their args.
  std::optional<int64_t> start_us = opt.start_us;
  EngineParams params;
  if (std::FILE* f = std::fopen((fs::path(opt.in_dir) / "engine.txt").c_str(), "r")) {
    char key[32], val[80];
    while (std::fscanf(f, "%31s %79s", key, val) == 2) {
      if (std::string_view(key) == "start_us" && !start_us) start_us = std::strtoll(val, nullptr, 10);
      if (std::string_view(key) == "tls_seed" && std::strlen(val) == 64) {
        check::TlsSeed seed{};
        for (size_t i = 0; i < seed.size(); ++i)
          seed[i] = static_cast<uint8_t>(std::stoul(std::string(val + 2 * i, 2), nullptr, 16));
        params.tls_seed = seed;
      }
    }
    std::fclose(f);
  }
  std::vector<ScriptExit> scripts;
  if (std::FILE* f = std::fopen((fs::path(opt.in_dir) / "scripts.txt").c_str(), "r")) {
    long long ts = 0;
    unsigned checker = 0;
    int status = 0;
    while (std::fscanf(f, "%lld %u %d", &ts, &checker, &status) == 3) scripts.push_back({ts, checker, status});
    std::fclose(f);
    std::stable_sort(scripts.begin(), scripts.end(),
                     [](const ScriptExit& a, const ScriptExit& b) { return a.ts_us < b.ts_us; });
  }

  std::vector<std::vector<PcapRecord>> records(c.interfaces.size());
  for (uint32_t i = 0; i < c.interfaces.size(); ++i) {
    // <name>.pcap (a golden case, an older capture) or <name>.pcapng (`vsrouter run --capture`).
    fs::path p = fs::path(opt.in_dir) / (c.interfaces[i].name + ".pcap");
    fs::path png = fs::path(opt.in_dir) / (c.interfaces[i].name + ".pcapng");
    if (fs::exists(png, ec)) {
      if (fs::exists(p, ec)) {
        err << png.string() << ": " << p.filename().string() << " is there too: keep one file per interface\n";
        return 2;
      }
      p = png;
    }
    if (!fs::exists(p, ec)) continue;  // an interface without a file gets no input
    auto r = read_pcap(p.string());
    if (!r) {
      err << p.string() << ": " << r.error().message << "\n";
      return 2;
    }
    records[i] = std::move(r.value());
  }

  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir, ec)) {
    err << opt.out_dir << ": cannot create output directory\n";
    return 2;
  }
  std::vector<std::unique_ptr<PcapWriter>> writers;
  for (const auto& ifc : c.interfaces) {
    std::string p = (fs::path(opt.out_dir) / (ifc.name + ".pcap")).string();
    auto w = PcapWriter::open(p);
    if (!w) {
      err << p << ": " << w.error().message << "\n";
      return 2;
    }
    writers.push_back(std::move(w.value()));
  }

  std::optional<Diagram> diagram;
  if (!opt.diagram.empty()) {
    std::string e;
    diagram = Diagram::make(opt.diagram, e);
    if (!diagram) {
      err << e << "\n";
      return 2;
    }
  }

  std::ostream* trace = opt.trace ? &out : nullptr;
  Replayer replayer(
      cfg.value(),
      [&writers](uint32_t iface, int64_t ts_us, std::span<const uint8_t> frame) {
        writers[iface]->write(ts_us, frame.data(), frame.size());
      },
      trace, params);
  if (diagram) replayer.observe(&*diagram);
  replay_records(replayer, records, opt.advance_us, trace, start_us, scripts);

  for (uint32_t i = 0; i < writers.size(); ++i) {
    std::string e;
    if (!writers[i]->close(e)) {
      err << (fs::path(opt.out_dir) / (c.interfaces[i].name + ".pcap")).string() << ": " << e << "\n";
      return 2;
    }
  }
  if (opt.list) {
    out << ctl::list_services_stats(replayer.engine()) << ctl::list_counters(replayer.engine());
    if (std::string h = ctl::list_health(replayer.engine(), Instant::from_micros(replayer.now_us())); !h.empty()) {
      out << h << "\nHealth events\n";
      for (const std::string& line : replayer.health_log()) out << line << "\n";
    }
    if (std::string v = ctl::list_vrrp(replayer.engine(), Instant::from_micros(replayer.now_us())); !v.empty()) {
      out << v << "\nVRRP events\n";
      for (const std::string& line : replayer.vrrp_log()) out << line << "\n";
    }
    out << ctl::list_ipv6(replayer.engine(), Instant::from_micros(replayer.now_us()));
    if (replayer.engine().config().announce.enabled) {
      out << "\n" << ctl::list_announce(replayer.engine()) << "\nAnnounce events\n";
      for (const std::string& line : replayer.announce_log()) out << line << "\n";
    }
  }
  if (opt.list_conns)
    out << (opt.list ? "\n" : "") << ctl::list_connections(replayer.engine(), Instant::from_micros(replayer.now_us()));
  if (diagram) {
    std::string text;
    if (!diagram->render(c, replayer.origin(), text)) {
      err << text << "\n";
      return 2;
    }
    out << text;
  }
  return 0;
}

}  // namespace vs::replay

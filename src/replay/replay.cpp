#include "replay/replay.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <vector>

#include "config/config.hpp"
#include "describe.hpp"
#include "engine.hpp"
#include "list.hpp"
#include "replay/pcap_io.hpp"

namespace vs::replay {
namespace fs = std::filesystem;

namespace {

struct Input {
  int64_t ts_us;
  uint32_t iface;
  uint32_t seq;  // record order within its file (stable tie-break)
  const std::vector<uint8_t>* data;
};

std::string stamp(int64_t us, int64_t origin) {
  char buf[32];
  int64_t d = us - origin;
  std::snprintf(buf, sizeof buf, "%+lld.%06lld", static_cast<long long>(d / 1000000),
                static_cast<long long>((d < 0 ? -d : d) % 1000000));
  return buf;
}

/// Writes every transmitted frame to its interface's pcap at the current virtual time, and
/// optionally describes it on the trace stream.
class PcapSink : public TxSink {
public:
  PcapSink(const config::Config& cfg, std::vector<std::unique_ptr<PcapWriter>>& w, std::ostream* trace)
      : cfg_(cfg), writers_(w), trace_(trace) {}
  void transmit(uint32_t iface, std::span<const uint8_t> frame) override {
    writers_[iface]->write(now_us, frame.data(), frame.size());
    if (!trace_) return;
    if (!pending_header.empty()) *trace_ << pending_header;
    pending_header.clear();
    *trace_ << "    sent on " << cfg_.interfaces[iface].name << ": " << describe_frame(frame) << "\n";
  }
  int64_t now_us = 0;
  std::string pending_header;  // printed before the first frame a timer sends (quiet timers stay quiet)

private:
  const config::Config& cfg_;
  std::vector<std::unique_ptr<PcapWriter>>& writers_;
  std::ostream* trace_;
};

}  // namespace

int run(const Options& opt, std::ostream& out, std::ostream& err) {
  auto cfg = config::load_config(opt.config_path);
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
  // Every pcap in the input directory must name an interface: a typo must not silently replay nothing.
  std::vector<std::string> stray;
  for (const auto& ent : fs::directory_iterator(opt.in_dir, ec)) {
    if (ent.path().extension() != ".pcap") continue;
    std::string stem = ent.path().stem().string();
    if (std::none_of(c.interfaces.begin(), c.interfaces.end(), [&](auto& i) { return i.name == stem; }))
      stray.push_back(ent.path().string());
  }
  if (!stray.empty()) {
    std::sort(stray.begin(), stray.end());
    err << stray.front() << ": no interface named \"" << fs::path(stray.front()).stem().string()
        << "\" in " << opt.config_path << "\n";
    return 2;
  }

  std::vector<std::vector<PcapRecord>> records(c.interfaces.size());
  uint64_t skipped_own = 0;
  std::vector<Input> inputs;
  for (uint32_t i = 0; i < c.interfaces.size(); ++i) {
    fs::path p = fs::path(opt.in_dir) / (c.interfaces[i].name + ".pcap");
    if (!fs::exists(p, ec)) continue;  // an interface without a file gets no input
    auto r = read_pcap(p.string());
    if (!r) {
      err << p.string() << ": " << r.error().message << "\n";
      return 2;
    }
    records[i] = std::move(r.value());
    // A capture from `vsrouter run --capture` holds the frames vsrouter sent too: their source MAC
    // is the interface's own. They are the output a replay reproduces, not input.
    const MacAddr& own = c.interfaces[i].mac;
    for (uint32_t k = 0; k < records[i].size(); ++k) {
      const auto& d = records[i][k].data;
      if (d.size() >= 12 && std::equal(own.b.begin(), own.b.end(), d.begin() + 6)) {
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

  std::ostream* trace = opt.trace ? &out : nullptr;
  if (trace && skipped_own)
    out << "(" << skipped_own << " frames sent by vsrouter itself in the input capture: not replayed as input)\n";
  PcapSink sink(c, writers, trace);
  Engine engine(cfg.value(), sink);
  const int64_t origin = inputs.empty() ? 0 : inputs.front().ts_us;

  // Fire every timer due up to `until`, each at its own deadline.
  auto run_timers = [&](int64_t until) {
    while (auto d = engine.next_deadline()) {
      if (d->us > until) break;
      sink.now_us = std::max(sink.now_us, d->us);
      if (trace) sink.pending_header = stamp(sink.now_us, origin) + " timer\n";
      engine.on_timer(Instant::from_micros(sink.now_us));
      sink.pending_header.clear();
    }
  };

  for (const Input& in : inputs) {
    run_timers(in.ts_us);
    sink.now_us = std::max(sink.now_us, in.ts_us);
    if (trace)
      out << stamp(sink.now_us, origin) << " " << c.interfaces[in.iface].name << ": " << describe_frame(*in.data)
          << "\n";
    Verdict v = engine.on_frame(in.iface, *in.data, Instant::from_micros(sink.now_us));
    if (trace) out << "    => " << describe_verdict(v, c) << "\n";
  }
  // The clock ends at the last record + --advance, whether or not a timer fired then: the
  // listings below are taken at that instant.
  const int64_t end = sink.now_us + opt.advance_us;
  if (!inputs.empty() || opt.advance_us > 0) run_timers(end);
  sink.now_us = std::max(sink.now_us, end);

  for (uint32_t i = 0; i < writers.size(); ++i) {
    std::string e;
    if (!writers[i]->close(e)) {
      err << (fs::path(opt.out_dir) / (c.interfaces[i].name + ".pcap")).string() << ": " << e << "\n";
      return 2;
    }
  }
  if (opt.list) out << list_services_stats(engine) << list_counters(engine);
  if (opt.list_conns) out << (opt.list ? "\n" : "") << list_connections(engine, Instant::from_micros(sink.now_us));
  return 0;
}

}  // namespace vs::replay

// libFuzzer target: keepalived.conf text through the keepalived reader (keepalived/syntax.hpp,
// keepalived/translate.hpp) and the config loader (docs/keepalived.md).
//
// The input is the main file; it may include "/etc/k/inc.conf" (a small valid block), itself, or
// names that do not exist. A refused text must give one error with a position inside the file it
// names. An accepted one, with placeholder interfaces, must build an engine whose rules render.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "ctl/format.hpp"
#include "ctl/listing.hpp"
#include "engine.hpp"
#include "keepalived/translate.hpp"

using namespace vs;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

class NullSink : public TxSink {
public:
  void transmit(uint32_t, std::span<const uint8_t>) override {}
};

// Names only, no wildcards: "include *" matching the input itself would include it 2^8 times.
class ExactFiles : public keepalived::MemoryFiles {
public:
  std::vector<std::string> glob(const std::string& pattern) override {
    if (files.count(pattern)) return {pattern};
    return {};
  }
};

size_t lines_of(const std::string& s) {
  size_t n = 1;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65536) return 0;
  ExactFiles m;
  m.files["/etc/k/main.conf"] = std::string(reinterpret_cast<const char*>(data), size);
  m.files["/etc/k/inc.conf"] = "real_server 10.0.0.2 80 {\n  weight 2\n  TCP_CHECK {\n    connect_timeout 1\n  }\n}\n";
  keepalived::LoadOptions o;
  o.config_id = "a";
  keepalived::Translation t;
  auto cfg = keepalived::load("/etc/k/main.conf", o, m, &t);
  if (!cfg) {
    const Error& e = cfg.error();
    if (e.message.empty() || e.message.find('\n') != std::string::npos) fail("error is not one line");
    if (e.line != 0) {
      auto f = m.files.find(e.file);
      if (f == m.files.end()) fail("error names no file of the input");
      if (e.line > lines_of(f->second)) fail("error line past the end of its file");
      if (e.column == 0) fail("error line without a column");
    }
    return 0;
  }
  if (t.toml.empty()) fail("accepted without a translation");
  NullSink sink;
  Engine e(cfg.value(), sink);
  e.start(Instant{});
  const std::string rules = ctl::list_all(e, ctl::kFmtRule | ctl::kFmtNumeric);
  size_t reals = 0;
  for (const auto& s : cfg.value()->services) reals += s.reals.size();
  if (cfg.value()->services.size() > 0 && rules.empty()) fail("services without rules");
  (void)reals;
  return 0;
}

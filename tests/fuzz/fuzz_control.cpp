// libFuzzer target: control requests into the control server's handler (docs/hardening.md).
//
// The input is a sequence of requests in the control protocol's wire format (ctl/protocol.hpp:
// u32 length, then '\0'-ended arguments), as vsadm would send them over the socket. Each one is
// decoded as the server decodes it and run with ctl::execute() against one engine (the fuzz
// config: NAT, DR and TUN services), so sequences of changes (add, edit, delete, clear, restore,
// --set, -Z) meet each other's state. Every reply must be well formed: an exit code ipvsadm uses,
// and after each request the listings must still render. A malformed request is refused, never
// executed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ctl/ipvsadm.hpp"
#include "ctl/list.hpp"
#include "ctl/protocol.hpp"
#include "fuzz_common.hpp"

using namespace vs;

namespace {

class NullSink : public TxSink {
public:
  void transmit(uint32_t, std::span<const uint8_t>) override {}
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto cfg = [] {
    auto r = config::parse_config(fuzz::kConfig);
    if (!r) fail("fuzz config does not parse");
    return r.value();
  }();
  NullSink sink;
  Engine engine(cfg, sink);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Instant now = Instant::from_micros(1700000000000000);
  for (int n = 0; n < 64 && !in.empty(); ++n) {
    auto len = ctl::request_size(in);
    if (!len || *len == 0) break;  // too large or incomplete: the server refuses or waits
    auto args = ctl::decode_request(in.substr(0, *len));
    in.remove_prefix(*len);
    if (!args) continue;  // malformed: refused without running anything
    auto out = ctl::execute(engine, *args, now);
    if (out.exit_code != 0 && out.exit_code != 1 && out.exit_code != 2 && out.exit_code != 255)
      fail("exit code ipvsadm never uses");
    if (out.exit_code != 0 && out.err.empty()) fail("an error without a message");
    // The state stays consistent: the listings render, and the encoded reply decodes.
    (void)ctl::list_services_stats(engine);
    (void)ctl::list_connections(engine, now);
    auto reply = ctl::decode_reply(ctl::encode_reply({out.exit_code, out.out, out.err}));
    if (!reply || reply->out != out.out || reply->err != out.err) fail("reply does not round-trip");
    now = now + Duration::millis(500);
    engine.on_timer(now);
  }
  return 0;
}

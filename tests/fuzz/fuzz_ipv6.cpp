// libFuzzer target: IPv6 datagrams and address text (docs/hardening.md).
//
// Bytes: Ipv6View::parse, then the extension-header walk (wire/ipv6.hpp); whatever they accept
// must hold their invariants (the span trimmed to the payload length, every offset inside it,
// the limit on headers kept). Text: Ipv6Addr::parse; an accepted address prints in the canonical
// form, which parses back to the same address and prints the same again.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#include "base/addr.hpp"
#include "wire/ipv6.hpp"

using namespace vs;

namespace {
[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> b(data, size);
  if (auto ip = wire::Ipv6View<const uint8_t>::parse(b)) {
    if (ip->bytes().size() != 40u + ip->payload_len() || ip->bytes().size() > size) fail("trimmed length");
    constexpr uint8_t kLimit = 8;
    wire::Ipv6ChainError err{};
    if (auto c = wire::walk(*ip, kLimit, &err)) {
      if (c->upper_offset > ip->bytes().size() || c->upper_offset < 40) fail("upper offset");
      if (c->headers > kLimit) fail("header limit");
      if (c->fragment && c->frag_offset + 8 > ip->bytes().size()) fail("fragment header offset");
      if (c->has_routing && c->routing_offset + 2 > ip->bytes().size()) fail("routing header offset");
    }
  }
  std::string_view text(reinterpret_cast<const char*>(data), std::min<size_t>(size, 64));
  if (auto a = Ipv6Addr::parse(text)) {
    const std::string s = a->str();
    auto again = Ipv6Addr::parse(s);
    if (!again || *again != *a) fail("canonical text does not parse back");
    if (again->str() != s) fail("canonical text is not stable");
    if (s.size() > 39) fail("canonical text too long");
  }
  return 0;
}

// libFuzzer target: IPv6 datagrams and address text (docs/hardening.md).
//
// Bytes: Ipv6View::parse, then the extension-header walk (wire/ipv6.hpp); whatever they accept
// must hold their invariants (the span trimmed to the payload length, every offset inside it,
// the limit on headers kept). Text: Ipv6Addr::parse; an accepted address prints in the canonical
// form, which parses back to the same address and prints the same again. ND: the same bytes as
// a Neighbour Solicitation or Advertisement (wire/icmpv6.hpp parse_nd): the options walk ends,
// an accepted message's link-layer address is one of its own options, its target no group.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#include "base/addr.hpp"
#include "wire/icmpv6.hpp"
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
  if (auto nd = wire::parse_nd(b)) {
    if (nd->target.is_multicast()) fail("ND target is a group");
    if (size < 24 || b[1] != 0) fail("ND accepted a short message or a nonzero code");
    if (nd->link_addr) {
      bool found = false;  // an 8-byte option of the message carries exactly these 6 bytes
      for (size_t off = 24; off + 8 <= size && !found; off += 8)
        found = b[off + 1] == 1 && std::equal(nd->link_addr->b.begin(), nd->link_addr->b.end(), b.begin() + off + 2);
      if (!found) fail("ND link-layer address from outside an option");
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

// libFuzzer target: TOML text into the config loader (docs/hardening.md).
//
// A rejected text must give one line of error with a sane position. An accepted config must
// satisfy the model's invariants (docs/config.md) and build an engine whose listings render.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "config/config.hpp"
#include "ctl/list.hpp"
#include "engine.hpp"

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

bool on_link(const config::Config& c, Ipv4Addr a) {
  for (const auto& i : c.interfaces)
    for (const auto& p : i.addresses)
      if (p.contains(a)) return true;
  return false;
}

/// Either family: an IPv6 address is on-link in a non-link-local prefix of an interface.
bool on_link(const config::Config& c, const IpAddr& a) {
  if (a.is_v4()) return on_link(c, a.v4());
  for (const auto& i : c.interfaces)
    for (const auto& p : i.addresses6)
      if (!p.addr.is_link_local() && p.contains(a.v6())) return true;
  return false;
}

void check_model(const config::Config& c) {
  if (c.interfaces.empty()) fail("no interface");
  if (c.router.max_connections < 1 || c.router.max_connections > 16777216) fail("max_connections range");
  for (const auto& i : c.interfaces) {
    if (i.name.empty() || i.name.size() > 15 || i.tap.empty() || i.tap.size() > 15) fail("interface name");
    if (i.addresses.empty() && i.addresses6.empty()) fail("interface without address");
    if (i.mtu < 68 || i.mtu > 9000) fail("mtu range");
    if (i.ipv6() && i.mtu < kIpv6MinMtu) fail("IPv6 interface under IPv6's minimum MTU");
    for (const auto& p : i.addresses6)
      if (p.addr.is_multicast() || p.addr.is_unspecified() || p.addr.is_loopback() || p.len == 0 || p.len > 128)
        fail("IPv6 address");
    if (i.mac.is_multicast() || i.mac.is_zero()) fail("interface MAC");
  }
  for (const auto& r : c.routes) {
    if (r.interface >= c.interfaces.size()) fail("route interface");
    if (!c.interfaces[r.interface].addresses.empty() && !on_link(c, r.via)) fail("route via off-link");
  }
  if (c.defense.high_water < 1 || c.defense.high_water > 100) fail("high_water range");
  if (c.defense.syn_timeout < 1 || c.defense.syn_timeout > 60) fail("syn_timeout range");
  for (const auto& s : c.services) {
    if (s.interface >= c.interfaces.size()) fail("service interface");
    if (!on_link(c, s.vip)) fail("VIP off-link");
    if (s.vip.is_v6() && (s.prefix6 < 1 || s.prefix6 > 128)) fail("IPv6 persistence prefix range");
    if (s.port == 0 && s.persistence == 0) fail("port 0 without persistence");
    for (const auto& r : s.reals) {
      if (r.weight < 0) fail("weight range");  // 0..2147483647 (docs/config.md, as the kernel)
      if (r.method != config::Method::kNat && r.port != s.port) fail("dr/tun real changes the port");
      if (r.method == config::Method::kDr && !on_link(c, r.addr)) fail("dr real off-link");
      const bool mixed = r.addr.is_v6() != s.vip.is_v6();
      if (mixed && r.method != config::Method::kTun) fail("a real of the other family, not by tun");
      if (mixed && c.sync.role != config::Sync::Role::kNone) fail("connection sync with a mixed-family real");
      if ((r.addr.is_v6() || s.vip.is_v6()) && !r.checks.empty()) fail("health checks with IPv6");
    }
  }
  for (const auto& r : c.routes6)
    if (r.interface >= c.interfaces.size() || !c.interfaces[r.interface].ipv6()) fail("IPv6 route interface");
  for (const auto& v : c.vrrp_instances)
    if (c.interfaces[v.interface].addresses.empty()) fail("VRRP instance on an interface without IPv4");
  if (c.sync.role != config::Sync::Role::kNone && c.interfaces[c.sync.interface].addresses.empty())
    fail("sync on an interface without IPv4");
  for (const auto& sc : c.vrrp_scripts) {
    if (sc.argv.empty() || sc.argv[0].empty() || sc.argv[0][0] != '/') fail("vrrp_script program");
    if (sc.rise < 1 || sc.fall < 1 || sc.interval.us <= 0 || sc.timeout.us < 0) fail("vrrp_script range");
    if (sc.weight < -253 || sc.weight > 253) fail("vrrp_script weight");
  }
  if (c.announce.enabled && (c.announce.file.empty() || c.announce.file[0] != '/')) fail("announce file");
  if (c.announce.stop_delay.us < 0 || c.announce.stop_delay.us > 60'000'000) fail("announce stop_delay range");
  for (const auto& v : c.vrrp_instances)
    for (const auto& t : v.track_scripts)
      if (t.index >= c.vrrp_scripts.size() || c.vrrp_scripts[t.index].name != t.name) fail("track_script target");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = config::parse_config(text);
  if (!r) {
    const Error& e = r.error();
    if (e.message.empty() || e.message.find('\n') != std::string::npos) {
      std::fprintf(stderr, "bad error message: [%s]\n", e.message.c_str());
      std::abort();
    }
    if ((e.line == 0) != (e.column == 0)) fail("error position with a line but no column, or the reverse");
    return 0;
  }
  const config::Config& c = *r.value();
  check_model(c);
  // An engine over it (a small table: max_connections only sizes storage) and its listings.
  auto small = std::make_shared<config::Config>(c);
  small->router.max_connections = std::min<uint32_t>(c.router.max_connections, 4096);
  NullSink sink;
  EngineParams p;
  p.pool_buffers = 4;
  Engine engine(small, sink, p);
  std::string s =
      ctl::list_services_stats(engine) + ctl::list_counters(engine) + ctl::list_connections(engine, Instant{});
  if (s.empty()) fail("empty listing");
  return 0;
}

// The tests' config files, built from small knobs instead of TOML retyped in every test file.
//
//   auto cfg = test::wan_lan()
//                  .max_connections(1024)
//                  .service("tcp", "10.0.0.100:80", "rr")
//                  .real("192.168.1.11:80")
//                  .real("192.168.1.12:80", "nat", 3)
//                  .parse();
//
// ConfigText writes the TOML that a user would write (docs/config.md) and only the keys a knob
// set, so every default is the loader's own. The common topologies are below the builder. Tests
// whose exact text matters (error positions, LINE:COL) keep their literal TOML.
//
// Header-only and free of GoogleTest, so that tools outside tests/unit can use it: parse()
// throws std::runtime_error with the loader's message on a bad config (GoogleTest reports an
// exception escaping a test as that test's failure).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace vs::test {

class ConfigText {
public:
  struct Interface {
    std::string name;
    std::string mac;
    std::vector<std::string> addresses;  // "a.b.c.d/len"
    std::optional<uint32_t> mtu;
  };
  struct Real {
    std::string address;  // "a.b.c.d" or "a.b.c.d:port"
    std::string method;   // "" = the loader's default
    std::optional<uint32_t> weight, upper, lower;
    std::string extra;  // raw "key = value" lines
  };
  struct Service {
    std::string protocol;
    std::string address;    // "a.b.c.d:port"
    std::string scheduler;  // "" = the loader's default
    std::optional<uint32_t> persistence;
    std::string netmask, drain;
    std::vector<std::string> flags;
    std::string extra;  // raw "key = value" lines, for a test that hands them in as text
    std::vector<Real> reals;
  };

  // [router]
  ConfigText& seed(uint64_t s) {
    seed_ = s;
    return *this;
  }
  ConfigText& max_connections(uint32_t n) {
    max_connections_ = n;
    return *this;
  }
  /// A raw "key = value" line in [router] (the frag_* keys).
  ConfigText& router_line(std::string line) {
    router_extra_ += line + "\n";
    return *this;
  }

  // [defense]
  ConfigText& drop_entry(bool on) {
    drop_entry_ = on;
    return *this;
  }
  ConfigText& secure_tcp(std::string mode) {
    secure_tcp_ = std::move(mode);
    return *this;
  }
  ConfigText& high_water(uint32_t percent) {
    high_water_ = percent;
    return *this;
  }
  ConfigText& syn_timeout(uint32_t seconds) {
    syn_timeout_ = seconds;
    return *this;
  }

  // [ipvs]
  ConfigText& sloppy_tcp(bool on) {
    sloppy_tcp_ = on;
    return *this;
  }

  // [timeouts]
  ConfigText& tcp_timeout(uint32_t s) {
    tcp_ = s;
    return *this;
  }
  ConfigText& tcpfin_timeout(uint32_t s) {
    tcpfin_ = s;
    return *this;
  }
  ConfigText& udp_timeout(uint32_t s) {
    udp_ = s;
    return *this;
  }

  // [[interfaces]], in order: the first is interface 0.
  ConfigText& interface(std::string name, std::string mac, std::vector<std::string> addresses,
                        std::optional<uint32_t> mtu = {}) {
    interfaces_.push_back({std::move(name), std::move(mac), std::move(addresses), mtu});
    return *this;
  }
  /// The interface called `name` (added before).
  Interface& iface(const std::string& name) {
    for (Interface& i : interfaces_)
      if (i.name == name) return i;
    throw std::invalid_argument("test config: no interface " + name);
  }
  ConfigText& mtu(const std::string& name, uint32_t m) {
    iface(name).mtu = m;
    return *this;
  }
  ConfigText& addresses(const std::string& name, std::vector<std::string> a) {
    iface(name).addresses = std::move(a);
    return *this;
  }

  // [[routes]]
  ConfigText& route(std::string to, std::string via) {
    routes_.emplace_back(std::move(to), std::move(via));
    return *this;
  }

  // [[services]]: service() starts one; the knobs after it set that service.
  ConfigText& service(std::string protocol, std::string address, std::string scheduler = "") {
    services_.push_back({});
    services_.back().protocol = std::move(protocol);
    services_.back().address = std::move(address);
    services_.back().scheduler = std::move(scheduler);
    return *this;
  }
  ConfigText& scheduler(std::string s) {
    last_service().scheduler = std::move(s);
    return *this;
  }
  ConfigText& persistence(uint32_t seconds) {
    last_service().persistence = seconds;
    return *this;
  }
  ConfigText& netmask(std::string m) {
    last_service().netmask = std::move(m);
    return *this;
  }
  ConfigText& drain(std::string d) {
    last_service().drain = std::move(d);
    return *this;
  }
  ConfigText& flags(std::vector<std::string> f) {
    last_service().flags = std::move(f);
    return *this;
  }
  ConfigText& service_lines(std::string toml) {
    last_service().extra = std::move(toml);
    return *this;
  }

  // reals of the last service, in order.
  ConfigText& real(std::string address, std::string method = "", std::optional<uint32_t> weight = {}) {
    last_service().reals.push_back({std::move(address), std::move(method), weight, {}, {}, {}});
    return *this;
  }
  ConfigText& weight(uint32_t w) {
    last_real().weight = w;
    return *this;
  }
  ConfigText& upper(uint32_t u) {
    last_real().upper = u;
    return *this;
  }
  ConfigText& lower(uint32_t l) {
    last_real().lower = l;
    return *this;
  }
  ConfigText& real_lines(std::string toml) {
    last_real().extra = std::move(toml);
    return *this;
  }

  Service& last_service() {
    if (services_.empty()) throw std::logic_error("test config: a service knob before service()");
    return services_.back();
  }
  Real& last_real() {
    if (last_service().reals.empty()) throw std::logic_error("test config: a real knob before real()");
    return last_service().reals.back();
  }

  /// The TOML file.
  std::string text() const {
    std::string t;
    if (seed_ || max_connections_ || !router_extra_.empty()) {
      t += "[router]\n";
      if (seed_) t += "seed = " + std::to_string(*seed_) + "\n";
      if (max_connections_) t += "max_connections = " + std::to_string(*max_connections_) + "\n";
      t += router_extra_;
    }
    if (drop_entry_ || !secure_tcp_.empty() || high_water_ || syn_timeout_) {
      t += "\n[defense]\n";
      if (drop_entry_) t += std::string("drop_entry = ") + (*drop_entry_ ? "true" : "false") + "\n";
      if (!secure_tcp_.empty()) t += "secure_tcp = " + quoted(secure_tcp_) + "\n";
      if (high_water_) t += "high_water = " + std::to_string(*high_water_) + "\n";
      if (syn_timeout_) t += "syn_timeout = " + std::to_string(*syn_timeout_) + "\n";
    }
    if (sloppy_tcp_) t += std::string("\n[ipvs]\nsloppy_tcp = ") + (*sloppy_tcp_ ? "true" : "false") + "\n";
    if (tcp_ || tcpfin_ || udp_) {
      t += "\n[timeouts]\n";
      if (tcp_) t += "tcp = " + std::to_string(*tcp_) + "\n";
      if (tcpfin_) t += "tcpfin = " + std::to_string(*tcpfin_) + "\n";
      if (udp_) t += "udp = " + std::to_string(*udp_) + "\n";
    }
    for (const Interface& i : interfaces_) {
      t += "\n[[interfaces]]\nname = " + quoted(i.name) + "\nmac = " + quoted(i.mac) +
           "\naddresses = " + string_array(i.addresses) + "\n";
      if (i.mtu) t += "mtu = " + std::to_string(*i.mtu) + "\n";
    }
    for (const auto& [to, via] : routes_) t += "\n[[routes]]\nto = " + quoted(to) + "\nvia = " + quoted(via) + "\n";
    for (const Service& s : services_) {
      t += "\n[[services]]\nprotocol = " + quoted(s.protocol) + "\naddress = " + quoted(s.address) + "\n";
      if (!s.scheduler.empty()) t += "scheduler = " + quoted(s.scheduler) + "\n";
      if (s.persistence) t += "persistence = " + std::to_string(*s.persistence) + "\n";
      if (!s.netmask.empty()) t += "netmask = " + quoted(s.netmask) + "\n";
      if (!s.drain.empty()) t += "drain = " + quoted(s.drain) + "\n";
      if (!s.flags.empty()) t += "flags = " + string_array(s.flags) + "\n";
      if (!s.extra.empty()) t += s.extra + (s.extra.back() == '\n' ? "" : "\n");
      for (const Real& r : s.reals) {
        t += "  [[services.reals]]\n  address = " + quoted(r.address) + "\n";
        if (!r.method.empty()) t += "  method = " + quoted(r.method) + "\n";
        if (r.weight) t += "  weight = " + std::to_string(*r.weight) + "\n";
        if (r.upper) t += "  upper = " + std::to_string(*r.upper) + "\n";
        if (r.lower) t += "  lower = " + std::to_string(*r.lower) + "\n";
        if (!r.extra.empty()) t += r.extra + (r.extra.back() == '\n' ? "" : "\n");
      }
    }
    return t;
  }

  /// The parsed config; throws std::runtime_error with the loader's message and the text.
  std::shared_ptr<const config::Config> parse() const { return parse_text(text()); }

  static std::shared_ptr<const config::Config> parse_text(const std::string& text) {
    auto r = config::parse_config(text);
    if (!r.ok()) throw std::runtime_error(r.error().format("test config") + "\n" + text);
    return r.value();
  }

private:
  static std::string quoted(const std::string& s) { return "\"" + s + "\""; }
  static std::string string_array(const std::vector<std::string>& v) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + quoted(v[i]);
    return out + "]";
  }

  std::optional<uint64_t> seed_;
  std::optional<uint32_t> max_connections_;
  std::string router_extra_;
  std::optional<bool> drop_entry_;
  std::string secure_tcp_;
  std::optional<uint32_t> high_water_, syn_timeout_;
  std::optional<uint32_t> tcp_, tcpfin_, udp_;
  std::optional<bool> sloppy_tcp_;
  std::vector<Interface> interfaces_;
  std::vector<std::pair<std::string, std::string>> routes_;
  std::vector<Service> services_;
};

// ---------------------------------------------------------------------------------------------
// The topologies the tests share

/// Two arms, clients on wan:
///   wan (0) 02:00:00:00:00:02  10.0.0.1/24       clients 10.0.0.x, VIPs 10.0.0.100...
///   lan (1) 02:00:00:00:00:01  192.168.1.1/24    reals 192.168.1.x
inline ConfigText wan_lan() {
  ConfigText c;
  c.interface("wan", "02:00:00:00:00:02", {"10.0.0.1/24"});
  c.interface("lan", "02:00:00:00:00:01", {"192.168.1.1/24"});
  return c;
}

/// The hosts around wan_lan() that its tests talk to: a client on wan, the VIP the tests give
/// their services, a real on lan (`using namespace test::wan_lan_hosts;`).
namespace wan_lan_hosts {
inline const MacAddr kWanMac = *MacAddr::parse("02:00:00:00:00:02");
inline const MacAddr kLanMac = *MacAddr::parse("02:00:00:00:00:01");
inline const MacAddr kClientMac = *MacAddr::parse("02:00:00:00:c0:02");
inline const MacAddr kRealMac = *MacAddr::parse("02:00:00:00:11:00");
inline constexpr Ipv4Addr kClient = Ipv4Addr::from_octets(10, 0, 0, 2);
inline constexpr Ipv4Addr kVip = Ipv4Addr::from_octets(10, 0, 0, 100);
inline constexpr Ipv4Addr kReal = Ipv4Addr::from_octets(192, 168, 1, 11);
inline constexpr uint32_t kWan = 0, kLan = 1;
}  // namespace wan_lan_hosts

/// Three arms (the engine and route tests; add routes, MTUs and services to taste):
///   lan (0) 02:00:00:00:00:01  192.168.1.1/24
///   wan (1) 02:00:00:00:00:02  203.0.113.2/24, 198.51.100.1/30
///   dmz (2) 02:00:00:00:00:03  10.9.0.1/24
inline ConfigText lan_wan_dmz() {
  ConfigText c;
  c.interface("lan", "02:00:00:00:00:01", {"192.168.1.1/24"});
  c.interface("wan", "02:00:00:00:00:02", {"203.0.113.2/24", "198.51.100.1/30"});
  c.interface("dmz", "02:00:00:00:00:03", {"10.9.0.1/24"});
  return c;
}

/// A director at an edge, clients on a documentation prefix:
///   wan (0) 02:00:00:00:00:01  203.0.113.1/24    clients, VIPs 203.0.113.x
///   lan (1) 02:00:00:00:00:02  10.1.0.1/24       reals 10.1.0.x
inline ConfigText edge() {
  ConfigText c;
  c.interface("wan", "02:00:00:00:00:01", {"203.0.113.1/24"});
  c.interface("lan", "02:00:00:00:00:02", {"10.1.0.1/24"});
  return c;
}

}  // namespace vs::test

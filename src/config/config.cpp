// The TOML config loader: a toml++ document -> a validated, immutable Config.
// The schema and every rule enforced here are documented in docs/config.md.
//
// Validation failures unwind as the private `Invalid` exception (toml++ already throws
// toml::parse_error), so the per-table code reads like the schema; parse_config() turns both
// into an Error with the offending node's position. Nothing thrown here escapes this file.
#include "config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "base/file.hpp"
#include "config/rules.hpp"
#include "config/sched_names.hpp"

namespace vs::config {

namespace {

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxTimeout = 2147483;      // INT_MAX / HZ at HZ=1000: the kernel's limit for --set
constexpr int64_t kMaxPersistence = 2678400;  // 31 days, as ipvsadm -p
constexpr size_t kMaxIfName = 15;             // IFNAMSIZ - 1

using Keys = std::span<const std::string_view>;

// ---------------------------------------------------------------------------------------------
// Errors

/// A validation failure; caught by parse_config() and returned as its Error.
struct Invalid {
  Error error;
};

[[noreturn]] void fail(const toml::source_position& at, std::string message) {
  throw Invalid{Error{std::move(message), at.line, at.column}};
}

[[noreturn]] void fail(const toml::node& at, std::string message) { fail(at.source().begin, std::move(message)); }

/// `s` with control characters escaped as \xNN, so that a message always stays on one line
/// (toml++ quotes the offending input in some of its descriptions, newlines included).
std::string one_line(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

/// `s` in double quotes, with quotes, backslashes and control characters escaped so that an
/// error message always stays on one line.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

template <class Names>
std::string joined(const Names& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ' ';
    out += n;
  }
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// "; did you mean "weight"?" for the closest allowed key within edit distance 2, else "".
std::string did_you_mean(std::string_view key, Keys allowed) {
  std::string_view best;
  size_t best_distance = 3;
  for (std::string_view candidate : allowed) {
    size_t d = edit_distance(key, candidate);
    if (d < best_distance && d < candidate.size()) {
      best = candidate;
      best_distance = d;
    }
  }
  return best.empty() ? std::string{} : "; did you mean " + quoted(best) + "?";
}

// ---------------------------------------------------------------------------------------------
// Typed values. `key` names the value in messages; errors point at the value itself.

std::string string_value(const toml::node& n, std::string_view key) {
  const auto* s = n.as_string();
  if (s == nullptr) fail(n, quoted(key) + " must be a string");
  return s->get();
}

bool bool_value(const toml::node& n, std::string_view key) {
  const auto* b = n.as_boolean();
  if (b == nullptr) fail(n, quoted(key) + " must be a boolean");
  return b->get();
}

int64_t int_value(const toml::node& n, std::string_view key, int64_t lo, int64_t hi) {
  const auto* i = n.as_integer();
  if (i == nullptr) fail(n, quoted(key) + " must be an integer");
  int64_t v = i->get();
  if (v < lo || v > hi) {
    if (hi == kMaxInt64) fail(n, quoted(key) + " must be at least " + std::to_string(lo));
    fail(n, quoted(key) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return v;
}

/// The table `key` ([x] header or x = {...}); `header` ("[router]") is the hint for [[x]] mistakes.
const toml::table& table_value(const toml::node& n, std::string_view key, std::string_view header) {
  const auto* t = n.as_table();
  if (t == nullptr) {
    std::string hint = n.is_array_of_tables() ? "; did you mean " + std::string(header) + "?" : "";
    fail(n, quoted(key) + " must be a table" + hint);
  }
  return *t;
}

/// The tables of the array of tables `key` ([[x]] headers or x = [{...}]), in file order;
/// `header` ("[[services]]") is the hint for [x] mistakes.
std::vector<const toml::table*> table_array(const toml::node& n, std::string_view key, std::string_view header) {
  const auto* arr = n.as_array();
  if (arr == nullptr) {
    std::string hint = n.is_table() ? "; did you mean " + std::string(header) + "?" : "";
    fail(n, quoted(key) + " must be an array of tables" + hint);
  }
  std::vector<const toml::table*> out;
  for (const toml::node& e : *arr) {
    if (!e.is_table()) fail(e, quoted(key) + " must be an array of tables");
    out.push_back(e.as_table());
  }
  return out;
}

/// The value named by the string `key` among `choices`; `what` names the kind in the error
/// ("unknown method "x"; expected one of: nat dr tun").
template <class E, size_t N>
E choice_value(const toml::node& n, std::string_view key, std::string_view what,
               const std::array<Named<E>, N>& choices) {
  const std::string text = string_value(n, key);
  std::string names;
  for (const Named<E>& c : choices) {
    if (c.name == text) return c.value;
    names += (names.empty() ? "" : " ") + std::string(c.name);
  }
  fail(n, "unknown " + std::string(what) + " " + quoted(text) + "; expected one of: " + names);
}

struct StringElement {
  std::string value;
  const toml::node* node;  // for error positions
};

std::vector<StringElement> string_array(const toml::node& n, std::string_view key) {
  const auto* arr = n.as_array();
  if (arr == nullptr) fail(n, quoted(key) + " must be an array of strings");
  std::vector<StringElement> out;
  for (const toml::node& e : *arr) {
    if (!e.is_string()) fail(e, quoted(key) + " must be an array of strings");
    out.push_back({e.as_string()->get(), &e});
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sections

/// One TOML table of the schema plus its name for messages ("[[interfaces]]"; empty = top level).
class Section {
public:
  Section(const toml::table& table, std::string name) : table_(table), name_(std::move(name)) {}

  uint32_t line() const { return table_.source().begin.line; }
  const toml::table& table() const { return table_; }

  /// Fails at the first (in file order) key not in `allowed`.
  void allow_only(std::initializer_list<std::string_view> allowed) const {
    allow_only(Keys(allowed.begin(), allowed.size()));
  }
  void allow_only(Keys allowed) const {
    const toml::key* unknown = nullptr;
    for (const auto& kv : table_) {
      if (std::find(allowed.begin(), allowed.end(), kv.first.str()) != allowed.end()) continue;
      if (unknown == nullptr || before(kv.first.source().begin, unknown->source().begin)) unknown = &kv.first;
    }
    if (unknown != nullptr)
      fail(unknown->source().begin,
           "unknown key " + quoted(unknown->str()) + " " + where() + did_you_mean(unknown->str(), allowed));
  }

  const toml::node* optional(std::string_view key) const { return table_.get(key); }

  const toml::node& required(std::string_view key) const {
    const toml::node* n = table_.get(key);
    if (n == nullptr) fail(table_, "missing key " + quoted(key) + " " + where());
    return *n;
  }

  /// Sets `out` from the optional integer `key` in [lo, hi]; leaves it alone when absent.
  template <class T>
  void optional_int(std::string_view key, T& out, int64_t lo, int64_t hi) const {
    if (const toml::node* n = optional(key)) out = static_cast<T>(int_value(*n, key, lo, hi));
  }

private:
  static bool before(const toml::source_position& a, const toml::source_position& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  }
  std::string where() const { return name_.empty() ? "at top level" : "in " + name_; }

  const toml::table& table_;
  std::string name_;
};

// ---------------------------------------------------------------------------------------------
// Address checks

bool overlaps(const Ipv4Prefix& a, const Ipv4Prefix& b) {
  return a.len <= b.len ? a.contains(b.addr) : b.contains(a.addr);
}

bool valid_interface_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxIfName) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

/// The kernel's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
bool valid_tap_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxIfName || s == "." || s == "..") return false;
  return s.find_first_of("/: \t\n\v\f\r") == std::string_view::npos;
}

// ---------------------------------------------------------------------------------------------
// Checker timings: set on a service, a real or a checker; the nearest level wins (keepalived's
// inheritance, check_data.c), then the checker type's own default.

/// The keys a [[services]], [[services.reals]] or [[services.reals.checks]] table may hold that the
/// levels below inherit.
constexpr std::array<std::string_view, 10> kTimingKeys = {"delay_loop",         "connect_timeout", "retry", "fall",
                                                          "delay_before_retry", "warmup",          "rise",  "alpha",
                                                          "inhibit_on_failure", "virtualhost"};

struct CheckDefaults {
  std::optional<Duration> delay_loop, connect_timeout, delay_before_retry, warmup;
  std::optional<uint32_t> fall, rise;
  std::optional<bool> alpha, inhibit_on_failure;
  std::optional<std::string> virtualhost;  // HTTP_GET/SSL_GET's Host (keepalived: virtual_server's too)
};

/// A Host header value: non-empty, no blanks or control characters (they would end the field).
std::string host_value(const toml::node& n, std::string_view key) {
  std::string v = string_value(n, key);
  if (v.empty() || std::any_of(v.begin(), v.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c <= 0x20 || c == 0x7f;
      }))
    fail(n, quoted(key) + " must be a host name without blanks or control characters");
  return v;
}

/// Seconds as an integer or a decimal (keepalived takes "1.5"), to the microsecond, in [lo, hi].
Duration seconds_value(const toml::node& n, std::string_view key, double lo, double hi) {
  double v = 0;
  if (const auto* i = n.as_integer()) v = static_cast<double>(i->get());
  else if (const auto* f = n.as_floating_point()) v = f->get();
  else fail(n, quoted(key) + " must be a number of seconds");
  if (!(v >= lo && v <= hi)) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " must be between %g and %g seconds", lo, hi);
    fail(n, quoted(key) + buf);
  }
  return Duration::micros(static_cast<int64_t>(v * 1e6 + 0.5));
}

/// keepalived's misc_path is a command line; here it is split into words as a shell would split
/// plain words and quoted strings ('...' literally, "..." with \\ and \" escapes), and run
/// without a shell: no expansion, no redirection, no injection from the config.
std::vector<std::string> split_command(const toml::node& at, std::string_view key, const std::string& text) {
  std::vector<std::string> words;
  std::string w;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quote == '\'') {
      if (ch == '\'') quote = 0;
      else w += ch;
    } else if (quote == '"') {
      if (ch == '"') quote = 0;
      else if (ch == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) w += text[++i];
      else w += ch;
    } else if (ch == ' ' || ch == '\t') {
      if (in_word) words.push_back(std::move(w)), w.clear();
      in_word = false;
    } else {
      in_word = true;
      if (ch == '\'' || ch == '"') quote = ch;
      else w += ch;
    }
  }
  if (quote) fail(at, quoted(key) + " has an unterminated quote");
  if (in_word) words.push_back(std::move(w));
  return words;
}

/// A program and its arguments (misc_path, notify_up, ...): split_command's words, the first an
/// absolute path.
std::vector<std::string> command_value(const toml::node& n, std::string_view key) {
  std::vector<std::string> argv = split_command(n, key, string_value(n, key));
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/')
    fail(n, quoted(key) + " must start with an absolute program path");
  for (const std::string& w : argv)
    if (std::any_of(w.begin(), w.end(), [](char ch) { return ch == '\0' || ch == '\n'; }))
      fail(n, quoted(key) + " must not hold NUL or newline characters");
  return argv;
}

/// The user a program runs as (MISC_CHECK's and vrrp_script's `user`): a name, looked up when it runs.
std::string user_value(const toml::node& n) {
  std::string u = string_value(n, "user");
  if (u.empty() || u.find_first_of(" \t:/") != std::string::npos) fail(n, "bad user " + quoted(u));
  return u;
}

// ---------------------------------------------------------------------------------------------
// The loader

/// Line of each real server (address, port) of one service, for duplicate detection.
using RealLines = std::map<std::pair<IpAddr, uint16_t>, uint32_t>;

class Loader {
public:
  Config load(const toml::table& root);

private:
  void router(const Section& s);
  void interface(const Section& s);
  Ipv4Prefix interface_address(const toml::node& at, const std::string& text, const Interface& self) const;
  Ipv6Prefix interface_address6(const toml::node& at, const std::string& text, const Interface& self) const;
  void route6(const Section& s, const toml::node& to, const std::string& to_text);
  void route(const Section& s);
  void timeouts(const Section& s);
  void defense(const Section& s);
  void ipvs(const Section& s);
  void service(const Section& s);
  ConfiguredReal real(const Section& s, const Service& svc, RealLines& seen, const CheckDefaults& inherited);
  Check check(const Section& s, const ConfiguredReal& r, const CheckDefaults& inherited);
  void http_check(const Section& s, const std::string& virtualhost, Check& c);
  void udp_check(const Section& s, Check& c);
  void misc_check(const Section& s, Check& c);
  unsigned flags(const toml::node& n, const Service& svc) const;
  void vrrp_script(const Section& s);
  /// The table's `name`: required, not empty, and none of `taken` has it (a `what` name).
  template <class T>
  std::string unique_name(const Section& s, const std::vector<T>& taken, std::string_view what) const;
  void announce(const Section& s);
  void vrrp_instance(const Section& s);
  void vrrp_sync_group(const Section& s);
  void sync(const Section& s);
  /// The index of the interface named by the string `n` (key `key`).
  uint32_t interface_named(const toml::node& n, std::string_view key) const;

  /// `what a` must be a host address, and not a network/broadcast address of a connected subnet
  /// (config/rules.hpp).
  void check_host(const toml::node& at, std::string_view what, Ipv4Addr a) const;
  void check_host(const toml::node& at, std::string_view what, const IpAddr& a) const;

  Config cfg_;
  std::map<std::string, uint32_t> interface_lines_;               // name -> line
  std::map<std::pair<uint32_t, uint8_t>, uint32_t> route_lines_;  // (network, len) -> line
  std::map<std::tuple<IpProto, IpAddr, uint16_t>, uint32_t> service_lines_;
};

Config Loader::load(const toml::table& root) {
  Section top(root, "");
  top.allow_only({"router", "interfaces", "routes", "timeouts", "defense", "ipvs", "services", "vrrp_scripts",
                  "vrrp_instances", "vrrp_sync_groups", "sync", "announce"});

  if (const toml::node* n = top.optional("router")) router(Section(table_value(*n, "router", "[router]"), "[router]"));

  const toml::node& interfaces = top.required("interfaces");
  auto interface_tables = table_array(interfaces, "interfaces", "[[interfaces]]");
  if (interface_tables.empty()) fail(interfaces, "\"interfaces\" must not be empty");
  for (const toml::table* t : interface_tables) interface(Section(*t, "[[interfaces]]"));

  if (const toml::node* n = top.optional("routes"))
    for (const toml::table* t : table_array(*n, "routes", "[[routes]]")) route(Section(*t, "[[routes]]"));

  if (const toml::node* n = top.optional("timeouts"))
    timeouts(Section(table_value(*n, "timeouts", "[timeouts]"), "[timeouts]"));

  if (const toml::node* n = top.optional("defense"))
    defense(Section(table_value(*n, "defense", "[defense]"), "[defense]"));

  if (const toml::node* n = top.optional("ipvs")) ipvs(Section(table_value(*n, "ipvs", "[ipvs]"), "[ipvs]"));

  if (const toml::node* n = top.optional("services"))
    for (const toml::table* t : table_array(*n, "services", "[[services]]")) service(Section(*t, "[[services]]"));

  if (const toml::node* n = top.optional("vrrp_scripts"))
    for (const toml::table* t : table_array(*n, "vrrp_scripts", "[[vrrp_scripts]]"))
      vrrp_script(Section(*t, "[[vrrp_scripts]]"));
  if (const toml::node* n = top.optional("vrrp_instances"))
    for (const toml::table* t : table_array(*n, "vrrp_instances", "[[vrrp_instances]]"))
      vrrp_instance(Section(*t, "[[vrrp_instances]]"));
  if (const toml::node* n = top.optional("vrrp_sync_groups"))
    for (const toml::table* t : table_array(*n, "vrrp_sync_groups", "[[vrrp_sync_groups]]"))
      vrrp_sync_group(Section(*t, "[[vrrp_sync_groups]]"));
  if (const toml::node* n = top.optional("sync")) sync(Section(table_value(*n, "sync", "[sync]"), "[sync]"));
  if (const toml::node* n = top.optional("announce"))
    announce(Section(table_value(*n, "announce", "[announce]"), "[announce]"));

  return std::move(cfg_);
}

void Loader::router(const Section& s) {
  s.allow_only({"seed", "max_connections", "frag_queues", "frag_memory", "frag_memory_per_source", "frag_timeout"});
  s.optional_int("seed", cfg_.router.seed, 0, kMaxInt64);
  s.optional_int("max_connections", cfg_.router.max_connections, 1, 16777216);
  s.optional_int("frag_queues", cfg_.router.frag_queues, 0, 65536);
  s.optional_int("frag_memory", cfg_.router.frag_memory, 65536, 268435456);
  s.optional_int("frag_memory_per_source", cfg_.router.frag_memory_per_source, 65536, 268435456);
  s.optional_int("frag_timeout", cfg_.router.frag_timeout, 1, 3600);
}

void Loader::interface(const Section& s) {
  s.allow_only({"name", "tap", "mac", "addresses", "mtu"});
  Interface itf;

  const toml::node& name = s.required("name");
  itf.name = string_value(name, "name");
  if (!valid_interface_name(itf.name))
    fail(name, "bad interface name " + quoted(itf.name) + "; expected 1 to 15 characters of A-Z a-z 0-9 _ . -");
  if (auto it = interface_lines_.find(itf.name); it != interface_lines_.end())
    fail(name,
         "duplicate interface name " + quoted(itf.name) + "; first defined at line " + std::to_string(it->second));

  const toml::node* tap = s.optional("tap");
  itf.tap = tap != nullptr ? string_value(*tap, "tap") : itf.name;
  if (tap != nullptr && !valid_tap_name(itf.tap))
    fail(*tap, "bad tap name " + quoted(itf.tap) + "; expected 1 to 15 characters without '/', ':' or spaces");
  for (const Interface& other : cfg_.interfaces)
    if (other.tap == itf.tap)
      fail(tap != nullptr ? *tap : name, "tap " + quoted(itf.tap) + " is already used by interface " +
                                             quoted(other.name) + (tap != nullptr ? "" : " (tap defaults to name)"));

  const toml::node& mac = s.required("mac");
  std::string mac_text = string_value(mac, "mac");
  auto m = MacAddr::parse(mac_text);
  if (!m) fail(mac, "bad MAC address " + quoted(mac_text));
  if (m->is_broadcast()) fail(mac, "MAC address " + m->str() + " is the broadcast address");
  if (m->is_multicast())
    fail(mac, "MAC address " + m->str() + " is a multicast address; an interface needs a unicast one");
  if (m->is_zero()) fail(mac, "MAC address " + m->str() + " is all-zero");
  for (const Interface& other : cfg_.interfaces)
    if (other.mac == *m) fail(mac, "MAC address " + m->str() + " is already used by interface " + quoted(other.name));
  itf.mac = *m;

  const toml::node& addresses = s.required("addresses");
  auto texts = string_array(addresses, "addresses");
  if (texts.empty()) fail(addresses, "\"addresses\" must not be empty");
  for (const StringElement& e : texts) {
    if (e.value.find(':') != std::string::npos) itf.addresses6.push_back(interface_address6(*e.node, e.value, itf));
    else itf.addresses.push_back(interface_address(*e.node, e.value, itf));
  }

  s.optional_int("mtu", itf.mtu, kIpv4MinMtu, 9000);
  if (itf.ipv6() && itf.mtu < kIpv6MinMtu)
    fail(s.required("mtu"), "mtu " + std::to_string(itf.mtu) +
                                " is below IPv6's minimum of 1280 (RFC 8200 5); the interface has an IPv6 address");

  interface_lines_.emplace(itf.name, s.line());
  cfg_.interfaces.push_back(std::move(itf));
}

Ipv4Prefix Loader::interface_address(const toml::node& at, const std::string& text, const Interface& self) const {
  auto p = Ipv4Prefix::parse(text);
  if (!p) fail(at, "bad IPv4 prefix " + quoted(text));
  if (p->len == 0) fail(at, "address " + p->str() + " needs a prefix length of 1 to 32");
  if (auto why = not_a_host(p->addr)) fail(at, "address " + p->addr.str() + " " + std::string(*why));
  if (p->len <= 30 && p->addr == p->network())
    fail(at, "address " + p->str() + " is the network address of its prefix");
  if (p->len <= 30 && p->addr == p->directed_broadcast())
    fail(at, "address " + p->str() + " is the broadcast address of its prefix");

  for (const Ipv4Prefix& q : self.addresses)
    if (q.addr == p->addr) fail(at, "address " + p->addr.str() + " appears twice in interface " + quoted(self.name));
  for (const Interface& other : cfg_.interfaces) {
    for (const Ipv4Prefix& q : other.addresses) {
      if (q.addr == p->addr)
        fail(at, "address " + p->addr.str() + " is already assigned to interface " + quoted(other.name));
      if (overlaps(*p, q))
        fail(at,
             "subnet " + subnet_str(*p) + " overlaps subnet " + subnet_str(q) + " of interface " + quoted(other.name));
    }
  }
  return *p;
}

Ipv6Prefix Loader::interface_address6(const toml::node& at, const std::string& text, const Interface& self) const {
  auto p = Ipv6Prefix::parse(text);
  if (!p) fail(at, "bad IPv6 prefix " + quoted(text));
  if (p->len == 0) fail(at, "address " + p->str() + " needs a prefix length of 1 to 128");
  if (auto why = not_a_host(p->addr)) fail(at, "address " + p->addr.str() + " " + std::string(*why));
  if (p->len < 127 && p->addr == p->network() && !p->addr.is_link_local())
    fail(at, "address " + p->str() + " is the subnet-router anycast address of its prefix (RFC 4291 2.6.1)");
  if (p->addr == link_local_from(self.mac))
    fail(at, "address " + p->addr.str() + " is the link-local address the interface forms from its MAC anyway");
  for (const Ipv6Prefix& q : self.addresses6)
    if (q.addr == p->addr) fail(at, "address " + p->addr.str() + " appears twice in interface " + quoted(self.name));
  if (p->addr.is_link_local()) return *p;  // link scope: the same address may serve on another link
  for (const Interface& other : cfg_.interfaces) {
    for (const Ipv6Prefix& q : other.addresses6) {
      if (q.addr.is_link_local()) continue;
      if (q.addr == p->addr)
        fail(at, "address " + p->addr.str() + " is already assigned to interface " + quoted(other.name));
      if (p->len <= q.len ? p->contains(q.addr) : q.contains(p->addr))
        fail(at, "subnet " + p->network().str() + "/" + std::to_string(p->len) + " overlaps subnet " +
                     q.network().str() + "/" + std::to_string(q.len) + " of interface " + quoted(other.name));
    }
  }
  return *p;
}

void Loader::route6(const Section& s, const toml::node& to, const std::string& to_text) {
  Route6 r{};
  auto p = Ipv6Prefix::parse(to_text);
  if (!p) fail(to, "bad IPv6 prefix " + quoted(to_text));
  if (p->addr != p->network())
    fail(to, "route " + p->str() + " has host bits set; did you mean " + p->network().str() + "/" +
                 std::to_string(p->len) + "?");
  for (const Route6& o : cfg_.routes6)
    if (o.to == *p) fail(to, "duplicate route " + p->str());
  r.to = *p;

  const toml::node& via = s.required("via");
  std::string via_text = string_value(via, "via");
  auto gw = Ipv6Addr::parse(via_text);
  if (!gw) fail(via, "bad IPv6 address " + quoted(via_text));
  if (auto why = not_a_host(*gw)) fail(via, "next hop " + gw->str() + " " + std::string(*why));
  const toml::node* itf_node = s.optional("interface");
  std::optional<uint32_t> itf;
  if (itf_node != nullptr) {
    std::string name = string_value(*itf_node, "interface");
    for (uint32_t i = 0; i < cfg_.interfaces.size(); ++i)
      if (cfg_.interfaces[i].name == name) itf = i;
    if (!itf) fail(*itf_node, "no interface named " + quoted(name));
    if (!cfg_.interfaces[*itf].ipv6()) fail(*itf_node, "interface " + quoted(name) + " has no IPv6 address");
  }
  if (gw->is_link_local()) {
    if (!itf) fail(via, "next hop " + gw->str() + " is link-local: say on which link with `interface`");
  } else {
    for (const Interface& i : cfg_.interfaces)
      for (const Ipv6Prefix& q : i.addresses6)
        if (q.addr == *gw)
          fail(via, "next hop " + gw->str() + " is the router's own address on interface " + quoted(i.name));
    std::optional<uint32_t> connected = connected_interface(cfg_.interfaces, *gw);
    if (!connected) fail(via, "next hop " + gw->str() + " " + std::string(kNotConnected));
    if (itf && *itf != *connected)
      fail(*itf_node, "next hop " + gw->str() + " is on interface " + quoted(cfg_.interfaces[*connected].name));
    itf = connected;
  }
  r.via = *gw;
  r.interface = *itf;
  cfg_.routes6.push_back(r);
}

void Loader::route(const Section& s) {
  const toml::node& to = s.required("to");
  std::string to_text = string_value(to, "to");
  if (to_text.find(':') != std::string::npos) {
    s.allow_only({"to", "via", "interface"});
    return route6(s, to, to_text);
  }
  s.allow_only({"to", "via"});
  Route r{};

  auto p = Ipv4Prefix::parse(to_text);
  if (!p) fail(to, "bad IPv4 prefix " + quoted(to_text));
  if (p->addr != p->network())
    fail(to, "route " + p->str() + " has host bits set; did you mean " + subnet_str(*p) + "?");
  if (auto it = route_lines_.find({p->addr.v, p->len}); it != route_lines_.end())
    fail(to, "duplicate route " + p->str() + "; first defined at line " + std::to_string(it->second));
  r.to = *p;

  const toml::node& via = s.required("via");
  std::string via_text = string_value(via, "via");
  auto gw = Ipv4Addr::parse(via_text);
  if (!gw) fail(via, "bad IPv4 address " + quoted(via_text));
  check_host(via, "next hop", *gw);
  auto itf = connected_interface(cfg_.interfaces, *gw);
  if (!itf) fail(via, "next hop " + gw->str() + " " + std::string(kNotConnected));
  if (auto own = own_address(cfg_.interfaces, *gw)) fail(via, "next hop " + gw->str() + " " + *own);
  r.via = *gw;
  r.interface = *itf;

  route_lines_.emplace(std::pair{p->addr.v, p->len}, s.line());
  cfg_.routes.push_back(r);
}

void Loader::timeouts(const Section& s) {
  s.allow_only({"tcp", "tcpfin", "udp"});
  auto set = [&s](std::string_view key, uint32_t& out) {
    uint32_t v = 0;
    s.optional_int(key, v, 0, kMaxTimeout);
    if (v != 0) out = v;  // 0 keeps the default, as with ipvsadm --set
  };
  set("tcp", cfg_.timeouts.tcp);
  set("tcpfin", cfg_.timeouts.tcpfin);
  set("udp", cfg_.timeouts.udp);
}

void Loader::defense(const Section& s) {
  s.allow_only({"drop_entry", "secure_tcp", "high_water", "syn_timeout"});
  Defense& d = cfg_.defense;
  if (const toml::node* n = s.optional("drop_entry")) d.drop_entry = bool_value(*n, "drop_entry");
  if (const toml::node* n = s.optional("secure_tcp"))
    d.secure_tcp = choice_value(*n, "secure_tcp", "secure_tcp mode", kDefenseModes);
  s.optional_int("high_water", d.high_water, 1, 100);
  s.optional_int("syn_timeout", d.syn_timeout, 1, 60);
}

void Loader::ipvs(const Section& s) {
  s.allow_only({"sloppy_tcp", "sloppy_sctp", "mh_sorted"});
  if (const toml::node* n = s.optional("mh_sorted")) cfg_.ipvs.mh_sorted = bool_value(*n, "mh_sorted");
  if (const toml::node* n = s.optional("sloppy_tcp")) cfg_.ipvs.sloppy_tcp = bool_value(*n, "sloppy_tcp");
  if (const toml::node* n = s.optional("sloppy_sctp")) cfg_.ipvs.sloppy_sctp = bool_value(*n, "sloppy_sctp");
}

/// The timing keys `s` sets, over `inherited` (the level above).
CheckDefaults timings(const Section& s, CheckDefaults d) {
  if (const toml::node* n = s.optional("delay_loop")) d.delay_loop = seconds_value(*n, "delay_loop", 0.01, 86400);
  if (const toml::node* n = s.optional("connect_timeout"))
    d.connect_timeout = seconds_value(*n, "connect_timeout", 0.01, 3600);
  if (const toml::node* n = s.optional("delay_before_retry"))
    d.delay_before_retry = seconds_value(*n, "delay_before_retry", 0, 86400);
  if (const toml::node* n = s.optional("warmup")) d.warmup = seconds_value(*n, "warmup", 0, 86400);
  const toml::node* retry = s.optional("retry");
  const toml::node* fall = s.optional("fall");
  if (retry && fall) fail(*fall, "\"fall\" and \"retry\" say the same (fall = retry + 1): set one of them");
  if (retry) d.fall = static_cast<uint32_t>(int_value(*retry, "retry", 0, 1000)) + 1;
  if (fall) d.fall = static_cast<uint32_t>(int_value(*fall, "fall", 1, 1001));
  if (const toml::node* n = s.optional("rise")) d.rise = static_cast<uint32_t>(int_value(*n, "rise", 1, 1000));
  if (const toml::node* n = s.optional("alpha")) d.alpha = bool_value(*n, "alpha");
  if (const toml::node* n = s.optional("inhibit_on_failure"))
    d.inhibit_on_failure = bool_value(*n, "inhibit_on_failure");
  if (const toml::node* n = s.optional("virtualhost")) d.virtualhost = host_value(*n, "virtualhost");
  return d;
}

/// `fixed` and the timing keys, for allow_only.
std::vector<std::string_view> with_timings(std::initializer_list<std::string_view> fixed) {
  std::vector<std::string_view> keys(fixed);
  keys.insert(keys.end(), kTimingKeys.begin(), kTimingKeys.end());
  return keys;
}

void Loader::service(const Section& s) {
  s.allow_only(with_timings({"protocol", "address", "scheduler", "persistence", "netmask", "flags", "drain", "reals",
                             "quorum", "hysteresis", "sorry_server", "sorry_server_method", "sorry_server_inhibit",
                             "quorum_up", "quorum_down", "passive_check", "passive_timeout", "omega"}));
  const CheckDefaults inherited = timings(s, {});
  Service svc;

  svc.protocol = choice_value(s.required("protocol"), "protocol", "protocol", kServiceProtocols);

  const toml::node& address = s.required("address");
  std::string address_text = string_value(address, "address");
  auto ep = parse_endpoint(address_text, /*allow_no_port=*/false);
  if (!ep)
    fail(address,
         "bad service address " + quoted(address_text) + "; expected \"a.b.c.d:port\" or \"[2001:db8::1]:port\"");
  svc.vip = ep->addr;
  svc.port = *ep->port;
  check_host(address, "VIP", svc.vip);
  auto itf = connected_interface(cfg_.interfaces, svc.vip);
  if (!itf) fail(address, "VIP " + svc.vip.str() + " " + std::string(kNotConnected));
  svc.interface = *itf;

  if (const toml::node* n = s.optional("scheduler")) {
    svc.scheduler = string_value(*n, "scheduler");
    if (!known_scheduler(svc.scheduler))
      fail(*n, "unknown scheduler " + quoted(svc.scheduler) + "; expected one of: " + joined(kSchedulerNames));
  }

  s.optional_int("persistence", svc.persistence, 0, kMaxPersistence);

  if (const toml::node* n = s.optional("netmask"); n && svc.vip.is_v6()) {
    // ipvsadm -M for an IPv6 service: a prefix length (ipvsadm.c: 1..128; the kernel the same).
    const auto* len = n->as_integer();
    if (!len || len->get() < 1 || len->get() > 128)
      fail(*n, "an IPv6 service's netmask is a prefix length, an integer 1..128 (ipvsadm -M)");
    svc.prefix6 = static_cast<uint8_t>(len->get());
  } else if (n) {
    std::string text = string_value(*n, "netmask");
    auto mask = Ipv4Addr::parse(text);
    if (!mask) fail(*n, "bad netmask " + quoted(text));
    if (!netmask_len(*mask)) fail(*n, "netmask " + text + " is not contiguous");
    svc.netmask = *mask;
  }

  if (const toml::node* n = s.optional("flags")) svc.flags = flags(*n, svc);

  if (const toml::node* n = s.optional("drain")) svc.drain = choice_value(*n, "drain", "drain policy", kDrains);

  if (svc.port == 0 && svc.persistence == 0) fail(address, "port 0 (all ports) needs persistence");

  auto key = std::tuple{svc.protocol, svc.vip, svc.port};
  if (auto it = service_lines_.find(key); it != service_lines_.end())
    fail(address, "duplicate service " + std::string(protocol_name(svc.protocol)) + " " + svc.vip.str() + ":" +
                      std::to_string(svc.port) + "; first defined at line " + std::to_string(it->second));
  service_lines_.emplace(key, s.line());

  if (const toml::node* n = s.optional("reals")) {
    RealLines seen;
    for (const toml::table* t : table_array(*n, "reals", "[[services.reals]]"))
      svc.reals.push_back(real(Section(*t, "[[services.reals]]"), svc, seen, inherited));
  }

  if (const toml::node* n = s.optional("quorum_up")) svc.quorum_up = command_value(*n, "quorum_up");
  if (const toml::node* n = s.optional("quorum_down")) svc.quorum_down = command_value(*n, "quorum_down");
  if (const toml::node* n = s.optional("passive_check")) {
    svc.passive_check = bool_value(*n, "passive_check");
    if (svc.passive_check && svc.vip.is_v6()) fail(*n, "passive_check of an IPv6 service: not supported yet");
    if (svc.passive_check && svc.protocol != IpProto::kTcp)
      fail(*n, "passive_check watches TCP handshakes: the service is not tcp");
    if (svc.passive_check && std::none_of(svc.reals.begin(), svc.reals.end(),
                                          [](const ConfiguredReal& r) { return r.method == Method::kNat; }))
      fail(*n, "passive_check sees the reals' answers only with method nat: the service has no nat real");
  }
  if (const toml::node* n = s.optional("passive_timeout")) {
    if (!svc.passive_check) fail(*n, "passive_timeout without passive_check = true");
    // Below the kernel's SYN_RECV timeout (60 s): the entry must still be there to be judged.
    svc.passive_timeout = seconds_value(*n, "passive_timeout", 0.1, 59);
  }
  if (const toml::node* n = s.optional("omega")) svc.omega = bool_value(*n, "omega");
  if (svc.omega && svc.vip.is_v6()) fail(*s.optional("omega"), "omega of an IPv6 service: not supported yet");
  s.optional_int("quorum", svc.quorum, 1, kMaxInt32);
  s.optional_int("hysteresis", svc.hysteresis, 0, kMaxInt32);
  if (svc.hysteresis >= svc.quorum && s.optional("hysteresis"))
    fail(*s.optional("hysteresis"), "hysteresis must be smaller than quorum (" + std::to_string(svc.quorum) + ")");
  if (const toml::node* n = s.optional("sorry_server")) {
    std::string text = string_value(*n, "sorry_server");
    auto ep = parse_endpoint(text, /*allow_no_port=*/true);
    if (!ep) fail(*n, "bad sorry_server " + quoted(text) + "; expected \"a.b.c.d:port\" or \"a.b.c.d\"");
    ConfiguredReal sorry;
    sorry.addr = ep->addr;
    sorry.port = ep->port.value_or(svc.port);
    // keepalived: sorry_server_lvs_method, else the service's method; ours: the first real's.
    sorry.method = svc.reals.empty() ? Method::kDr : svc.reals.front().method;
    if (const toml::node* m = s.optional("sorry_server_method"))
      sorry.method = choice_value(*m, "sorry_server_method", "method", kMethods);
    if (sorry.addr.is_v6() || svc.vip.is_v6()) fail(*n, "sorry_server with IPv6: not supported yet (docs/ipv6.md)");
    check_host(*n, "sorry server", sorry.addr);
    if (auto own = own_address(cfg_.interfaces, sorry.addr)) fail(*n, "sorry server " + sorry.addr.str() + " " + *own);
    if (sorry.method != Method::kNat && sorry.port != svc.port)
      fail(*n, "method " + std::string(method_name(sorry.method)) + " cannot change the port: sorry server port " +
                   std::to_string(sorry.port) + " differs from service port " + std::to_string(svc.port));
    if (sorry.method == Method::kDr && !connected_interface(cfg_.interfaces, sorry.addr))
      fail(*n, "sorry server " + sorry.addr.str() + " " + std::string(kNotConnected) + "; method dr needs it on-link");
    for (const ConfiguredReal& r : svc.reals)
      if (r.addr == sorry.addr && r.port == sorry.port)
        fail(*n, "sorry server " + text + " is one of the service's reals");
    svc.sorry_server = sorry;
  } else if (const toml::node* m = s.optional("sorry_server_method")) {
    fail(*m, "sorry_server_method without a sorry_server");
  }
  if (const toml::node* n = s.optional("sorry_server_inhibit")) {
    if (!svc.sorry_server) fail(*n, "sorry_server_inhibit without a sorry_server");
    svc.sorry_server_inhibit = bool_value(*n, "sorry_server_inhibit");
  }

  cfg_.services.push_back(std::move(svc));
}

unsigned Loader::flags(const toml::node& n, const Service& svc) const {
  unsigned bits = 0;
  for (const StringElement& e : string_array(n, "flags")) {
    const auto& all = config::kFlags;
    auto f = std::find_if(all.begin(), all.end(), [&e](const config::FlagInfo& i) { return i.name == e.value; });
    if (f == all.end()) {
      std::vector<std::string_view> names;
      for (const config::FlagInfo& i : all) names.push_back(i.name);
      fail(*e.node, "unknown flag " + quoted(e.value) + "; expected one of: " + joined(names));
    }
    if ((bits & f->bit) != 0) fail(*e.node, "duplicate flag " + quoted(e.value));
    if (!f->only_scheduler.empty() && f->only_scheduler != svc.scheduler)
      fail(*e.node, "incompatible scheduler flag " + quoted(e.value) + " for scheduler " + quoted(svc.scheduler) +
                        "; it needs scheduler " + quoted(f->only_scheduler));
    if (f->bit == config::kFlagOps && svc.protocol != IpProto::kUdp)
      fail(*e.node, "ops (one-packet scheduling) is only for udp services");
    bits |= f->bit;
  }
  return bits;
}

ConfiguredReal Loader::real(const Section& s, const Service& svc, RealLines& seen, const CheckDefaults& inherited) {
  s.allow_only(with_timings({"address", "method", "weight", "upper", "lower", "checks", "notify_up", "notify_down"}));
  const CheckDefaults mine = timings(s, inherited);
  ConfiguredReal r;

  const toml::node& address = s.required("address");
  std::string address_text = string_value(address, "address");
  auto ep = parse_endpoint(address_text, /*allow_no_port=*/true);
  if (!ep)
    fail(address, "bad real server address " + quoted(address_text) +
                      "; expected \"a.b.c.d:port\", \"a.b.c.d\", \"[2001:db8::1]:port\" or \"[2001:db8::1]\"");
  r.addr = ep->addr;
  r.port = ep->port.value_or(svc.port);
  check_host(address, "real server", r.addr);

  if (const toml::node* n = s.optional("method")) r.method = choice_value(*n, "method", "method", kMethods);
  // The kernel allows a real of the other family only behind a tunnel (ip_vs_ctl.c
  // ip_vs_genl_set_cmd; ipvsadm: "Different address family is allowed only for tunneling servers").
  if (r.addr.is_v6() != svc.vip.is_v6() && r.method != Method::kTun)
    fail(address, "real server " + r.addr.str() + " is " + (r.addr.is_v6() ? "IPv6" : "IPv4") + ", the service " +
                      (svc.vip.is_v6() ? "IPv6" : "IPv4") +
                      ": a different address family is allowed only for method tun (as the kernel's ipvsadm)");

  s.optional_int("weight", r.weight, 0, kMaxInt32);  // the kernel takes any int >= 0 (ip_vs_ctl.c)
  s.optional_int("upper", r.upper, 0, kMaxInt32);
  s.optional_int("lower", r.lower, 0, kMaxInt32);

  if (auto own = own_address(cfg_.interfaces, r.addr)) fail(address, "real server " + r.addr.str() + " " + *own);

  if (svc.port == 0 && r.port != 0)
    fail(address, "real port " + std::to_string(r.port) + " must be 0 or omitted for a port-0 (all ports) service");
  if (svc.port != 0 && r.port == 0) fail(address, "real port 0 is only for a port-0 (all ports) service");
  if (r.method != Method::kNat && r.port != svc.port)
    fail(address, "method " + std::string(method_name(r.method)) + " cannot change the port: real port " +
                      std::to_string(r.port) + " differs from service port " + std::to_string(svc.port));

  if (r.method == Method::kDr && !connected_interface(cfg_.interfaces, r.addr))
    fail(address, "real server " + r.addr.str() + " " + std::string(kNotConnected) +
                      "; method dr needs the real server on-link");

  auto key = std::pair{r.addr, r.port};
  if (auto it = seen.find(key); it != seen.end())
    fail(address, "duplicate real server " + r.addr.str() + ":" + std::to_string(r.port) +
                      " in this service; first defined at line " + std::to_string(it->second));
  seen.emplace(key, s.line());

  r.inhibit_on_failure = mine.inhibit_on_failure.value_or(false);
  if (const toml::node* n = s.optional("notify_up")) r.notify_up = command_value(*n, "notify_up");
  if (const toml::node* n = s.optional("notify_down")) r.notify_down = command_value(*n, "notify_down");
  if (const toml::node* n = s.optional("checks"); n && (r.addr.is_v6() || svc.vip.is_v6()))
    fail(*n, "health checks of IPv6 real servers or services are not supported yet (docs/ipv6.md)");
  if (const toml::node* n = s.optional("checks"))
    for (const toml::table* t : table_array(*n, "checks", "[[services.reals.checks]]"))
      r.checks.push_back(check(Section(*t, "[[services.reals.checks]]"), r, mine));
  return r;
}

Check Loader::check(const Section& s, const ConfiguredReal& r, const CheckDefaults& inherited) {
  Check c;
  c.type = choice_value(s.required("type"), "type", "checker type", kCheckTypes);
  switch (c.type) {
    case CheckType::kTcp: s.allow_only(with_timings({"type", "connect_ip", "connect_port", "bindto"})); break;
    case CheckType::kPing: s.allow_only(with_timings({"type", "connect_ip", "bindto"})); break;
    case CheckType::kHttp:
    case CheckType::kSsl:
      s.allow_only(with_timings({"type", "connect_ip", "connect_port", "bindto", "url", "http_protocol"}));
      break;
    case CheckType::kUdp:
      s.allow_only(with_timings({"type", "connect_ip", "connect_port", "bindto", "payload", "require_reply",
                                 "min_reply_length", "max_reply_length"}));
      break;
    case CheckType::kDns:
      s.allow_only(with_timings({"type", "connect_ip", "connect_port", "bindto", "dns_type", "dns_name"}));
      break;
    case CheckType::kMisc:
      s.allow_only(with_timings({"type", "misc_path", "misc_timeout", "misc_dynamic", "user"}));
      break;
  }
  if (s.optional("inhibit_on_failure"))
    fail(*s.optional("inhibit_on_failure"),
         "\"inhibit_on_failure\" belongs to a real server or a service, not a checker");
  const CheckDefaults d = timings(s, inherited);
  // keepalived's defaults per type (check_api.c, check_http.c, check_dns.c, check_misc.c:
  // MISC_CHECK's retry is 0)
  const bool http = c.type == CheckType::kHttp || c.type == CheckType::kSsl;
  c.delay_loop = d.delay_loop.value_or(Duration::seconds(60));
  c.connect_timeout = d.connect_timeout.value_or(Duration::seconds(5));
  c.delay_before_retry = d.delay_before_retry.value_or(http                        ? Duration::seconds(3)
                                                       : c.type == CheckType::kDns ? c.delay_loop
                                                                                   : Duration::seconds(1));
  c.warmup = d.warmup.value_or(c.delay_loop);
  c.fall = d.fall.value_or(c.type == CheckType::kDns ? 4 : c.type == CheckType::kMisc ? 1 : 2);
  c.rise = d.rise.value_or(1);
  c.alpha = d.alpha.value_or(false);

  c.connect_ip = r.addr.v4();
  if (const toml::node* n = s.optional("connect_ip")) {
    std::string text = string_value(*n, "connect_ip");
    auto a = Ipv4Addr::parse(text);
    if (!a) fail(*n, "bad connect_ip " + quoted(text) + "; expected \"a.b.c.d\"");
    check_host(*n, "connect_ip", *a);
    if (auto own = own_address(cfg_.interfaces, *a)) fail(*n, "connect_ip " + a->str() + " " + *own);
    c.connect_ip = *a;
  }
  c.connect_port = r.port;
  if (c.type != CheckType::kPing && c.type != CheckType::kMisc) {
    s.optional_int("connect_port", c.connect_port, 1, 65535);
    if (c.connect_port == 0)
      fail(s.required("type"), "the real has no port (a port-0 service): the checker needs connect_port");
  }
  if (const toml::node* n = s.optional("bindto")) {
    std::string text = string_value(*n, "bindto");
    auto a = Ipv4Addr::parse(text);
    if (!a || !own_address(cfg_.interfaces, *a))
      fail(*n, "bindto " + quoted(text) + " must be one of the router's interface addresses");
    c.bindto = *a;
  }
  if (http) http_check(s, d.virtualhost.value_or(""), c);
  else if (const toml::node* n = s.optional("virtualhost"))
    fail(*n, "\"virtualhost\" is for HTTP_GET and SSL_GET checkers");
  if (c.type == CheckType::kUdp) udp_check(s, c);
  if (c.type == CheckType::kMisc) misc_check(s, c);
  if (c.type == CheckType::kDns) {
    if (const toml::node* n = s.optional("dns_type")) {
      std::string t = string_value(*n, "dns_type");
      auto v = check::parse_dns_type(t);
      if (!v) fail(*n, "unknown dns_type " + quoted(t) + "; expected one of: A NS CNAME SOA MX TXT AAAA RRSIG DNSKEY");
      c.dns_type = *v;
    }
    c.dns_name = std::string(check::kDnsDefaultName);
    if (const toml::node* n = s.optional("dns_name")) {
      c.dns_name = string_value(*n, "dns_name");
      if (auto e = check::validate_dns_name(c.dns_name); e != check::DnsNameError::kOk)
        fail(*n, "bad dns_name " + quoted(c.dns_name) + ": " + std::string(check::to_string(e)));
    }
  }
  return c;
}

void Loader::http_check(const Section& s, const std::string& virtualhost, Check& c) {
  c.virtualhost = virtualhost;
  if (const toml::node* n = s.optional("http_protocol")) {
    std::string t = string_value(*n, "http_protocol");
    auto p = check::parse_http_protocol(t);
    if (!p) fail(*n, "unknown http_protocol " + quoted(t) + "; expected one of: 1.0 1.0C 1.1");
    c.http_protocol = *p;
  }
  const toml::node* urls = s.optional("url");
  if (urls == nullptr) fail(s.required("type"), "an HTTP_GET or SSL_GET checker needs at least one url");
  for (const toml::table* t : table_array(*urls, "url", "[[services.reals.checks.url]]")) {
    Section u(*t, "[[services.reals.checks.url]]");
    u.allow_only({"path", "status_code", "digest"});
    HttpUrl url;
    const toml::node& path = u.required("path");
    url.path = string_value(path, "path");
    if (url.path.empty() || url.path.find_first_of(" \t\r\n") != std::string::npos ||
        std::any_of(url.path.begin(), url.path.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x20; }))
      fail(path, "bad url path " + quoted(url.path) + ": it must be non-empty, without spaces or control characters");
    if (const toml::node* n = u.optional("status_code")) {
      std::string text = n->is_integer() ? std::to_string(n->as_integer()->get()) : string_value(*n, "status_code");
      auto st = check::parse_status_codes(text);
      if (!st) fail(*n, "bad status_code " + quoted(text) + ": " + st.error().message);
      url.status = st.value();
    }
    if (const toml::node* n = u.optional("digest")) {
      std::string text = string_value(*n, "digest");
      auto dg = check::parse_md5_hex(text);
      if (!dg) fail(*n, "bad digest " + quoted(text) + ": " + dg.error().message);
      url.digest = dg.value();
    }
    c.urls.push_back(std::move(url));
  }
  if (c.urls.empty()) fail(*urls, "an HTTP_GET or SSL_GET checker needs at least one url");
}

void Loader::misc_check(const Section& s, Check& c) {
  c.misc_argv = command_value(s.required("misc_path"), "misc_path");
  c.misc_timeout = c.delay_loop;  // keepalived: misc_timeout defaults to delay_loop (check_misc.c)
  if (const toml::node* n = s.optional("misc_timeout")) c.misc_timeout = seconds_value(*n, "misc_timeout", 0.01, 86400);
  c.connect_timeout = c.misc_timeout;
  if (const toml::node* n = s.optional("misc_dynamic")) c.misc_dynamic = bool_value(*n, "misc_dynamic");
  if (const toml::node* n = s.optional("user")) c.misc_user = user_value(*n);
}

void Loader::udp_check(const Section& s, Check& c) {
  if (const toml::node* n = s.optional("payload")) {
    std::string text = string_value(*n, "payload");
    auto p = check::parse_udp_payload(text);
    if (!p) fail(*n, "bad payload " + quoted(text) + ": " + p.error().message);
    c.payload.p = std::make_shared<const check::ReplyPattern>(p.value());
  }
  if (const toml::node* n = s.optional("require_reply")) {
    if (n->is_boolean()) {
      c.require_reply = n->as_boolean()->get();
    } else {
      std::string text = string_value(*n, "require_reply");
      auto p = check::parse_require_reply(text);
      if (!p) fail(*n, "bad require_reply " + quoted(text) + ": " + p.error().message);
      c.require_reply = true;
      c.reply_pattern.p = std::make_shared<const check::ReplyPattern>(p.value());
    }
  }
  s.optional_int("min_reply_length", c.min_reply_length, 0, 65535);
  s.optional_int("max_reply_length", c.max_reply_length, 0, 65535);
  if (c.min_reply_length > c.max_reply_length) {
    const toml::node* at = s.optional("min_reply_length");
    fail(at ? *at : s.required("type"), "min_reply_length is larger than max_reply_length");
  }
}

uint32_t Loader::interface_named(const toml::node& n, std::string_view key) const {
  const std::string name = string_value(n, key);
  for (uint32_t i = 0; i < cfg_.interfaces.size(); ++i)
    if (cfg_.interfaces[i].name == name) return i;
  fail(n, "no interface named " + quoted(name));
}

void Loader::sync(const Section& s) {
  s.allow_only({"interface", "state", "vrrp_instance", "syncid", "mcast_group", "mcast_port", "mcast_ttl", "maxlen",
                "sync_threshold", "sync_period", "sync_refresh_period", "sync_retries", "sync_persist_mode",
                "resync_before_expiry", "flush", "peers"});
  Sync& y = cfg_.sync;
  if (auto v6 =
          std::find_if(cfg_.services.begin(), cfg_.services.end(), [](const Service& x) { return x.vip.is_v6(); });
      v6 != cfg_.services.end())
    fail(s.required("interface"),
         "connection sync of IPv6 services is not supported yet (service " + v6->vip.str(v6->port) + ")");
  // ip_vs_genl_new_daemon: no sync daemon while a real of the other family than its service
  // exists (mixed_address_family_dests), and no such real while one runs.
  for (const Service& x : cfg_.services)
    for (const ConfiguredReal& r : x.reals)
      if (r.addr.is_v6() != x.vip.is_v6())
        fail(s.required("interface"),
             "connection sync with a real server of the other address family than its "
             "service (" +
                 r.addr.str() + " of " + x.vip.str(x.port) + "): the kernel refuses them together");
  y.interface = interface_named(s.required("interface"), "interface");
  if (cfg_.interfaces[y.interface].addresses.empty())
    fail(s.required("interface"), "interface " + quoted(cfg_.interfaces[y.interface].name) +
                                      " has no IPv4 address; connection sync runs over IPv4");
  const toml::node* state = s.optional("state");
  const toml::node* inst = s.optional("vrrp_instance");
  if (state && inst) fail(*inst, "give \"state\" or \"vrrp_instance\", not both");
  if (!state && !inst)
    fail(s.table(), "[sync] needs \"state\" (\"master\", \"backup\" or \"both\") or \"vrrp_instance\"");
  if (state) {
    const std::string v = string_value(*state, "state");
    if (v == "master") y.role = Sync::Role::kMaster;
    else if (v == "backup") y.role = Sync::Role::kBackup;
    else if (v == "both") y.role = Sync::Role::kBoth;
    else fail(*state, "unknown state " + quoted(v) + "; expected \"master\", \"backup\" or \"both\"");
  } else {
    const std::string name = string_value(*inst, "vrrp_instance");
    auto it = std::find_if(cfg_.vrrp_instances.begin(), cfg_.vrrp_instances.end(),
                           [&](const VrrpInstance& v) { return v.name == name; });
    if (it == cfg_.vrrp_instances.end()) fail(*inst, "no vrrp_instance named " + quoted(name));
    y.role = Sync::Role::kFollow;
    y.vrrp_instance = static_cast<uint32_t>(it - cfg_.vrrp_instances.begin());
  }
  s.optional_int("syncid", y.syncid, 0, 255);
  if (const toml::node* n = s.optional("mcast_group")) {
    const std::string v = string_value(*n, "mcast_group");
    auto a = Ipv4Addr::parse(v);
    if (!a || !a->is_multicast()) fail(*n, "bad mcast_group " + quoted(v) + "; expected a multicast address a.b.c.d");
    y.group = *a;
  }
  s.optional_int("mcast_port", y.port, 1, 65535);
  s.optional_int("mcast_ttl", y.ttl, 1, 255);
  const uint32_t mtu = cfg_.interfaces[y.interface].mtu;
  if (const toml::node* n = s.optional("maxlen")) {
    s.optional_int("maxlen", y.maxlen, 8 + 36, 65507);
    if (y.maxlen > mtu - 28)
      fail(*n, "maxlen " + std::to_string(y.maxlen) + " is more than the interface's MTU less 28 (" +
                   std::to_string(mtu - 28) + "): the kernel's own limit");
  }
  s.optional_int("sync_threshold", y.threshold, 0, 65535);
  s.optional_int("sync_period", y.period, 0, 65535);
  if (y.period > 0 && y.threshold >= y.period) {
    const toml::node* at = s.optional("sync_threshold");
    fail(at ? *at : s.required("sync_period"), "sync_threshold must be below sync_period (the kernel refuses it too)");
  }
  if (const toml::node* n = s.optional("sync_refresh_period"))
    y.refresh_period = seconds_value(*n, "sync_refresh_period", 0, 86400);
  s.optional_int("sync_retries", y.retries, 0, 3);
  if (const toml::node* n = s.optional("sync_persist_mode")) y.persist_mode = bool_value(*n, "sync_persist_mode");
  if (const toml::node* n = s.optional("resync_before_expiry"))
    y.resync_before_expiry = bool_value(*n, "resync_before_expiry");
  if (const toml::node* n = s.optional("flush")) y.flush = seconds_value(*n, "flush", 0.001, 2);
  if (const toml::node* n = s.optional("peers")) {
    for (const StringElement& e : string_array(*n, "peers")) {
      auto a = Ipv4Addr::parse(e.value);
      if (!a) fail(*e.node, "bad peer " + quoted(e.value) + "; expected \"a.b.c.d\"");
      if (auto why = not_a_host(*a)) fail(*e.node, "peer " + a->str() + " " + std::string(*why));
      y.peers.push_back(*a);
    }
  }
}

void Loader::vrrp_instance(const Section& s) {
  s.allow_only({"name",
                "state",
                "interface",
                "virtual_router_id",
                "priority",
                "advert_int",
                "version",
                "nopreempt",
                "preempt_delay",
                "virtual_ipaddress",
                "unicast_src_ip",
                "unicast_peer",
                "authentication",
                "use_vmac",
                "garp_master_delay",
                "garp_master_repeat",
                "garp_lower_prio_delay",
                "garp_lower_prio_repeat",
                "higher_prio_send_advert",
                "v3_checksum_as_v2",
                "track_interface",
                "track_service",
                "track_script",
                "notify_master",
                "notify_backup",
                "notify_fault",
                "notify_stop"});
  VrrpInstance v;
  v.name = unique_name(s, cfg_.vrrp_instances, "vrrp_instance");
  if (const toml::node* n = s.optional("state")) {
    const std::string st = string_value(*n, "state");
    if (st != "MASTER" && st != "BACKUP") fail(*n, "unknown state " + quoted(st) + "; expected one of: MASTER BACKUP");
    v.initial_master = st == "MASTER";
  }
  v.interface = interface_named(s.required("interface"), "interface");
  const Interface& itf = cfg_.interfaces[v.interface];
  if (itf.addresses.empty())
    fail(s.required("interface"),
         "interface " + quoted(itf.name) + " has no IPv4 address; VRRP instances are IPv4 (no VRRP for IPv6 yet)");
  v.vrid = static_cast<uint8_t>(int_value(s.required("virtual_router_id"), "virtual_router_id", 1, 255));
  s.optional_int("priority", v.priority, 1, 255);
  s.optional_int("version", v.version, 2, 3);
  if (const toml::node* n = s.optional("advert_int")) {
    // Version 2 carries whole seconds (8 bits); version 3 centiseconds (12 bits).
    const Duration d = seconds_value(*n, "advert_int", 0.01, v.version == 2 ? 255 : 40.95);
    if (v.version == 2 && d.us % 1000000 != 0) fail(*n, "version 2's advert_int is whole seconds; use version = 3");
    v.advert_int_cs = static_cast<uint32_t>((d.us + 5000) / 10000);
  }
  if (const toml::node* n = s.optional("nopreempt")) {
    v.preempt = !bool_value(*n, "nopreempt");
    if (!v.preempt && v.initial_master) fail(*n, "nopreempt needs state = \"BACKUP\" (keepalived)");
  }
  if (const toml::node* n = s.optional("preempt_delay")) {
    if (v.initial_master) fail(*n, "preempt_delay needs state = \"BACKUP\" (keepalived)");
    v.preempt_delay = seconds_value(*n, "preempt_delay", 0, 1000);
  }
  const toml::node& vips = s.required("virtual_ipaddress");
  auto texts = string_array(vips, "virtual_ipaddress");
  if (texts.empty()) fail(vips, "\"virtual_ipaddress\" must not be empty");
  if (texts.size() > 255) fail(vips, "at most 255 addresses in one instance (the advert's count is 8 bits)");
  for (const StringElement& e : texts) {
    auto a = Ipv4Addr::parse(e.value);
    if (!a) fail(*e.node, "bad virtual_ipaddress " + quoted(e.value) + "; expected \"a.b.c.d\"");
    if (auto why = not_a_host_on(cfg_.interfaces, *a)) fail(*e.node, "virtual_ipaddress " + a->str() + " " + *why);
    if (auto own = own_address(cfg_.interfaces, *a))
      fail(*e.node, "virtual_ipaddress " + a->str() + " " + *own + "; a virtual address is one no interface owns");
    auto on = connected_interface(cfg_.interfaces, *a);
    if (!on || *on != v.interface)
      fail(*e.node, "virtual_ipaddress " + a->str() + " is not on a connected subnet of interface " + quoted(itf.name));
    for (const VrrpInstance& o : cfg_.vrrp_instances)
      if (std::find(o.addresses.begin(), o.addresses.end(), *a) != o.addresses.end())
        fail(*e.node, "virtual_ipaddress " + a->str() + " is already in vrrp_instance " + quoted(o.name));
    if (std::find(v.addresses.begin(), v.addresses.end(), *a) != v.addresses.end())
      fail(*e.node, "virtual_ipaddress " + a->str() + " appears twice");
    v.addresses.push_back(*a);
  }
  for (const VrrpInstance& o : cfg_.vrrp_instances)
    if (o.interface == v.interface && o.vrid == v.vrid)
      fail(s.required("virtual_router_id"), "virtual_router_id " + std::to_string(v.vrid) +
                                                " is already used on interface " + quoted(itf.name) +
                                                " by vrrp_instance " + quoted(o.name));
  if (const toml::node* n = s.optional("unicast_src_ip")) {
    auto a = Ipv4Addr::parse(string_value(*n, "unicast_src_ip"));
    if (!a ||
        std::none_of(itf.addresses.begin(), itf.addresses.end(), [&](const Ipv4Prefix& p) { return p.addr == *a; }))
      fail(*n, "unicast_src_ip must be one of interface " + quoted(itf.name) + "'s addresses");
    v.unicast_src = *a;
  }
  if (const toml::node* n = s.optional("unicast_peer")) {
    for (const StringElement& e : string_array(*n, "unicast_peer")) {
      auto a = Ipv4Addr::parse(e.value);
      if (!a) fail(*e.node, "bad unicast_peer " + quoted(e.value) + "; expected \"a.b.c.d\"");
      if (auto why = not_a_host(*a)) fail(*e.node, "unicast_peer " + a->str() + " " + std::string(*why));
      if (own_address(cfg_.interfaces, *a)) fail(*e.node, "unicast_peer " + a->str() + " is the router's own address");
      v.unicast_peers.push_back(*a);
    }
  }
  if (const toml::node* n = s.optional("authentication")) {
    Section a(table_value(*n, "authentication", "authentication"), "authentication");
    a.allow_only({"auth_type", "auth_pass"});
    const toml::node& type = a.required("auth_type");
    const std::string t = string_value(type, "auth_type");
    if (t == "AH") fail(type, "auth_type AH is not supported (RFC 3768 removed authentication; use PASS or none)");
    if (t != "PASS") fail(type, "unknown auth_type " + quoted(t) + "; expected PASS");
    if (v.version != 2) fail(type, "authentication is for version 2 only (RFC 5798 has none)");
    const toml::node& pass = a.required("auth_pass");
    v.auth_pass = string_value(pass, "auth_pass");
    if (v.auth_pass.empty()) fail(pass, "\"auth_pass\" must not be empty");
    if (v.auth_pass.size() > 8)
      fail(pass, "auth_pass is at most 8 characters (keepalived uses the first 8; say which)");
  }
  if (const toml::node* n = s.optional("use_vmac")) v.use_vmac = bool_value(*n, "use_vmac");
  if (const toml::node* n = s.optional("garp_master_delay"))
    v.garp_master_delay = seconds_value(*n, "garp_master_delay", 0, 3600);
  s.optional_int("garp_master_repeat", v.garp_master_repeat, 1, 255);
  if (const toml::node* n = s.optional("garp_lower_prio_delay"))
    v.garp_lower_prio_delay = seconds_value(*n, "garp_lower_prio_delay", 0, 3600);
  s.optional_int("garp_lower_prio_repeat", v.garp_lower_prio_repeat, 0, 255);
  if (const toml::node* n = s.optional("higher_prio_send_advert"))
    v.higher_prio_send_advert = bool_value(*n, "higher_prio_send_advert");
  if (const toml::node* n = s.optional("v3_checksum_as_v2")) {
    v.v3_checksum_as_v2 = bool_value(*n, "v3_checksum_as_v2");
    if (v.version != 3) fail(*n, "v3_checksum_as_v2 is for version 3");
  }
  enum class Tracked : uint8_t { kInterface, kService, kScript };
  auto tracks = [&](std::string_view key, Tracked what) {
    std::vector<VrrpTrack> out;
    const toml::node* n = s.optional(key);
    if (!n) return out;
    const auto* arr = n->as_array();
    if (!arr) fail(*n, quoted(key) + " must be an array of names or { name, weight, reverse } tables");
    for (const toml::node& e : *arr) {
      VrrpTrack t;
      const toml::node* name_node = &e;
      const auto* tbl = e.as_table();
      std::optional<Section> ts;
      if (tbl) {
        ts.emplace(*tbl, std::string(key));
        ts->allow_only({"name", "weight", "reverse"});
        name_node = &ts->required("name");
      }
      t.name = string_value(*name_node, key);
      if (what == Tracked::kScript) {
        // keepalived: the script's weight and reverse, unless the track_script line gives its own.
        uint32_t i = 0;
        while (i < cfg_.vrrp_scripts.size() && cfg_.vrrp_scripts[i].name != t.name) ++i;
        if (i == cfg_.vrrp_scripts.size()) fail(*name_node, "no vrrp_script named " + quoted(t.name));
        t.index = i;
        t.weight = cfg_.vrrp_scripts[i].weight;
        t.reverse = cfg_.vrrp_scripts[i].reverse;
      }
      if (ts) {
        if (const toml::node* w = ts->optional("weight"))
          t.weight = static_cast<int32_t>(int_value(*w, "weight", -253, 253));
        if (const toml::node* r = ts->optional("reverse")) t.reverse = bool_value(*r, "reverse");
      }
      for (const VrrpTrack& o : out)
        if (o.name == t.name) fail(*name_node, quoted(t.name) + " appears twice in " + quoted(key));
      if (what == Tracked::kScript) {
      } else if (what == Tracked::kService) {
        bool found = false;
        for (uint32_t i = 0; i < cfg_.services.size() && !found; ++i) {
          const Service& svc = cfg_.services[i];
          const std::string id =
              std::string(protocol_name(svc.protocol)) + " " + svc.vip.str() + ":" + std::to_string(svc.port);
          if (id == t.name) t.index = i, found = true;
        }
        if (!found)
          fail(*name_node, "no service " + quoted(t.name) + "; expected \"tcp a.b.c.d:port\" of a [[services]]");
      } else {
        t.index = interface_named(*name_node, key);
      }
      out.push_back(std::move(t));
    }
    return out;
  };
  v.track_interfaces = tracks("track_interface", Tracked::kInterface);
  v.track_services = tracks("track_service", Tracked::kService);
  v.track_scripts = tracks("track_script", Tracked::kScript);
  if (const toml::node* n = s.optional("notify_master")) v.notify_master = command_value(*n, "notify_master");
  if (const toml::node* n = s.optional("notify_backup")) v.notify_backup = command_value(*n, "notify_backup");
  if (const toml::node* n = s.optional("notify_fault")) v.notify_fault = command_value(*n, "notify_fault");
  if (const toml::node* n = s.optional("notify_stop")) v.notify_stop = command_value(*n, "notify_stop");
  cfg_.vrrp_instances.push_back(std::move(v));
}

template <class T>
std::string Loader::unique_name(const Section& s, const std::vector<T>& taken, std::string_view what) const {
  const toml::node& name = s.required("name");
  std::string n = string_value(name, "name");
  if (n.empty()) fail(name, "\"name\" must not be empty");
  for (const T& o : taken)
    if (o.name == n) fail(name, "duplicate " + std::string(what) + " name " + quoted(n));
  return n;
}

void Loader::announce(const Section& s) {
  s.allow_only({"file", "next_hop", "command", "stop_delay"});
  if (auto v6 =
          std::find_if(cfg_.services.begin(), cfg_.services.end(), [](const Service& x) { return x.vip.is_v6(); });
      v6 != cfg_.services.end())
    fail(s.required("file"), "announcing IPv6 VIPs is not supported yet (service " + v6->vip.str(v6->port) + ")");
  Announce& a = cfg_.announce;
  a.enabled = true;
  const toml::node& file = s.required("file");
  a.file = string_value(file, "file");
  if (a.file.empty() || a.file[0] != '/' || a.file.back() == '/' ||
      std::any_of(a.file.begin(), a.file.end(), [](char ch) { return ch == '\0' || ch == '\n'; }))
    fail(file, "\"file\" must be an absolute file path");
  if (const toml::node* n = s.optional("next_hop")) {
    auto h = Ipv4Addr::parse(string_value(*n, "next_hop"));
    if (!h || !own_address(cfg_.interfaces, *h)) fail(*n, "\"next_hop\" must be one of the interfaces' addresses");
    a.next_hop = *h;
  }
  if (const toml::node* n = s.optional("command")) a.command = command_value(*n, "command");
  if (const toml::node* n = s.optional("stop_delay")) a.stop_delay = seconds_value(*n, "stop_delay", 0, 60);
}

void Loader::vrrp_script(const Section& s) {
  s.allow_only({"name", "script", "interval", "timeout", "weight", "reverse", "rise", "fall", "init_fail", "user"});
  VrrpScript v;
  v.name = unique_name(s, cfg_.vrrp_scripts, "vrrp_script");
  v.argv = command_value(s.required("script"), "script");
  // keepalived: whole seconds, at least 1 (vrrp_parser.c); fractions are vsrouter's.
  if (const toml::node* n = s.optional("interval")) v.interval = seconds_value(*n, "interval", 0.01, 86400);
  if (const toml::node* n = s.optional("timeout")) v.timeout = seconds_value(*n, "timeout", 0.01, 86400);
  s.optional_int("weight", v.weight, -253, 253);
  if (const toml::node* n = s.optional("reverse")) v.reverse = bool_value(*n, "reverse");
  s.optional_int("rise", v.rise, 1, 1000000);
  s.optional_int("fall", v.fall, 1, 1000000);
  if (const toml::node* n = s.optional("init_fail")) v.init_fail = bool_value(*n, "init_fail");
  if (const toml::node* n = s.optional("user")) v.user = user_value(*n);
  cfg_.vrrp_scripts.push_back(std::move(v));
}

void Loader::vrrp_sync_group(const Section& s) {
  s.allow_only({"name", "group", "notify_master", "notify_backup", "notify_fault", "notify_stop"});
  VrrpSyncGroup g;
  g.name = unique_name(s, cfg_.vrrp_sync_groups, "vrrp_sync_group");
  const toml::node& group = s.required("group");
  for (const StringElement& e : string_array(group, "group")) {
    uint32_t i = 0;
    while (i < cfg_.vrrp_instances.size() && cfg_.vrrp_instances[i].name != e.value) ++i;
    if (i == cfg_.vrrp_instances.size()) fail(*e.node, "no vrrp_instance named " + quoted(e.value));
    for (const VrrpSyncGroup& o : cfg_.vrrp_sync_groups)
      if (std::find(o.members.begin(), o.members.end(), i) != o.members.end())
        fail(*e.node, "vrrp_instance " + quoted(e.value) + " is already in vrrp_sync_group " + quoted(o.name));
    if (std::find(g.members.begin(), g.members.end(), i) != g.members.end())
      fail(*e.node, "vrrp_instance " + quoted(e.value) + " appears twice");
    g.members.push_back(i);
  }
  if (g.members.empty()) fail(group, "\"group\" must not be empty");
  // keepalived: a sync group's members track unweighted (a weighted tracker would move one
  // member's priority alone).
  for (uint32_t i : g.members)
    for (const auto* list : {&cfg_.vrrp_instances[i].track_interfaces, &cfg_.vrrp_instances[i].track_services,
                             &cfg_.vrrp_instances[i].track_scripts})
      for (const VrrpTrack& t : *list)
        if (t.weight != 0)
          fail(group, "vrrp_instance " + quoted(cfg_.vrrp_instances[i].name) +
                          " tracks with a weight; in a sync group trackers are unweighted (keepalived)");
  if (const toml::node* n = s.optional("notify_master")) g.notify_master = command_value(*n, "notify_master");
  if (const toml::node* n = s.optional("notify_backup")) g.notify_backup = command_value(*n, "notify_backup");
  if (const toml::node* n = s.optional("notify_fault")) g.notify_fault = command_value(*n, "notify_fault");
  if (const toml::node* n = s.optional("notify_stop")) g.notify_stop = command_value(*n, "notify_stop");
  cfg_.vrrp_sync_groups.push_back(std::move(g));
}

void Loader::check_host(const toml::node& at, std::string_view what, Ipv4Addr a) const {
  if (auto why = not_a_host_on(cfg_.interfaces, a)) fail(at, std::string(what) + " " + a.str() + " " + *why);
}

void Loader::check_host(const toml::node& at, std::string_view what, const IpAddr& a) const {
  if (auto why = not_a_host_on(cfg_.interfaces, a)) fail(at, std::string(what) + " " + a.str() + " " + *why);
}

}  // namespace

Result<std::shared_ptr<const Config>> parse_config(std::string_view toml_text) {
  try {
    toml::table root = toml::parse(toml_text);
    return std::shared_ptr<const Config>(std::make_shared<Config>(Loader().load(root)));
  } catch (const toml::parse_error& e) {
    return Error{one_line(e.description()), e.source().begin.line, e.source().begin.column};
  } catch (const Invalid& e) {
    return e.error;
  }
}

Result<std::shared_ptr<const Config>> load_config(const std::string& path) {
  auto text = read_file(path);
  if (!text) return Error{"cannot read config: " + text.error().message};
  return parse_config(text.value());
}

}  // namespace vs::config

#include "keepalived/translate.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>
#include <string_view>

#include "base/file.hpp"
#include "keepalived/known_keywords.hpp"

namespace vs::keepalived {
namespace {

struct Failed {
  Error error;
};

/// TOML lines, each with where it came from.
struct Out {
  std::string text;
  std::vector<Pos> origin;
  void line(Pos at, std::string_view s) {
    text.append(s);
    text.push_back('\n');
    origin.push_back(at);
  }
  void append(const Out& o) {
    text += o.text;
    origin.insert(origin.end(), o.origin.begin(), o.origin.end());
  }
  bool empty() const { return text.empty(); }
};

/// A TOML basic string.
std::string q(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

class Translator {
public:
  Translator(const Syntax& syn, const std::optional<std::string>& interfaces, bool placeholders)
      : syn_(syn), interfaces_(interfaces), placeholders_(placeholders) {}

  Translation run() {
    // vrrp_version (global_defs) is the default of every instance: read it first.
    for (const Node& n : syn_.nodes)
      if (n.keyword().text == "global_defs")
        for (const Node& c : n.children)
          if (c.keyword().text == "vrrp_version") vrrp_version_ = integer(c, 1, 2, 3);
    for (const Node& n : syn_.nodes) top(n);
    Translation t;
    Out all;
    if (interfaces_) {
      size_t line = 0;
      std::string_view rest = *interfaces_;
      while (!rest.empty()) {
        const size_t nl = rest.find('\n');
        all.line(Pos{kInterfacesFile, static_cast<uint32_t>(++line), 1}, rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      }
    } else if (placeholders_) {
      placeholders(all);
    } else {
      std::string names;
      for (const auto& n : iface_names_) names += (names.empty() ? "" : ", ") + q(n);
      all.line(Pos{}, "# vsrouter's own settings go here: [[interfaces]] (name, tap, mac, addresses) for " +
                          (names.empty() ? std::string("the interfaces the services use") : names) +
                          ", and [[routes]]; see docs/config.md.");
    }
    all.append(timeouts_);
    all.append(services_);
    all.append(scripts_);
    all.append(vrrp_);
    all.append(groups_);
    all.append(sync_);
    t.toml = std::move(all.text);
    t.origin = std::move(all.origin);
    t.notes = std::move(notes_);
    return t;
  }

private:
  // --- errors and values -------------------------------------------------------------------

  [[noreturn]] void fail(Pos at, std::string message) const { throw Failed{syn_.error(at, std::move(message))}; }

  /// A keyword this block does not take: refused by name, with keepalived's vocabulary in mind.
  [[noreturn]] void refuse(const Node& n, std::string_view where, std::string_view why = {}) const {
    const std::string& kw = n.keyword().text;
    if (!keepalived_knows(kw)) fail(n.pos(), "unknown keyword " + q(kw) + " in " + std::string(where));
    std::string m = "keyword not supported: " + kw + " (in " + std::string(where) + ")";
    if (!why.empty()) m += ": " + std::string(why);
    fail(n.pos(), m);
  }

  void note(const Node& n, std::string_view why) {
    notes_.push_back(
        syn_.error(n.pos(), "note: " + n.keyword().text + " has no effect in vsrouter (" + std::string(why) + ")")
            .format(syn_.files.empty() ? std::string() : syn_.files[0]));
  }

  void no_block(const Node& n) const {
    if (n.block) fail(n.pos(), n.keyword().text + " takes no block");
  }
  void need_block(const Node& n) const {
    if (!n.block) fail(n.pos(), n.keyword().text + " needs a { ... } block");
  }
  /// The statement has exactly `k` values.
  void values(const Node& n, size_t k) const {
    no_block(n);
    if (n.words.size() - 1 != k)
      fail(n.pos(), n.keyword().text + (k == 0   ? " takes no value"
                                        : k == 1 ? " takes one value"
                                                 : " takes " + std::to_string(k) + " values"));
  }
  const Word& value(const Node& n) const {
    values(n, 1);
    return n.words[1];
  }

  int64_t integer(const Node& n, size_t i, int64_t lo, int64_t hi) const {
    if (i == 1) values(n, 1);
    const Word& w = n.words.at(i);
    std::string_view s = w.text;
    const bool neg = !s.empty() && s[0] == '-';
    if (neg) s.remove_prefix(1);
    if (!all_digits(s) || s.size() > 12) fail(w.pos, n.keyword().text + ": " + q(w.text) + " is not an integer");
    int64_t v = std::stoll(std::string(s)) * (neg ? -1 : 1);
    if (v < lo || v > hi)
      fail(w.pos,
           n.keyword().text + ": " + w.text + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
  }
  std::string int_text(const Node& n, int64_t lo, int64_t hi) const { return std::to_string(integer(n, 1, lo, hi)); }

  /// keepalived's <TIMER>: seconds, with a fraction (resolution: microseconds).
  std::string timer(const Node& n, const Word& w) const {
    const std::string& s = w.text;
    const size_t dot = s.find('.');
    const std::string_view whole = std::string_view(s).substr(0, dot);
    const std::string_view frac = dot == std::string::npos ? std::string_view{} : std::string_view(s).substr(dot + 1);
    if (!all_digits(whole) || whole.size() > 9 || (dot != std::string::npos && (!all_digits(frac) || frac.size() > 6)))
      fail(w.pos, n.keyword().text + ": " + q(s) + " is not a time in seconds");
    return s;
  }
  std::string timer(const Node& n) const { return timer(n, value(n)); }

  /// keepalived's optional <BOOL> after a flag keyword: none means true.
  bool flag(const Node& n) const {
    no_block(n);
    if (n.words.size() == 1) return true;
    if (n.words.size() > 2) fail(n.words[2].pos, n.keyword().text + " takes at most one value (on or off)");
    const std::string v = lower(n.words[1].text);
    if (v == "on" || v == "true" || v == "yes") return true;
    if (v == "off" || v == "false" || v == "no") return false;
    fail(n.words[1].pos, n.keyword().text + ": " + q(n.words[1].text) + " is not one of on, off, true, false, yes, no");
  }

  std::string ipv4(const Node& n, const Word& w) {
    if (w.text.find(':') != std::string::npos)
      fail(w.pos, "keyword not supported: IPv6 address " + w.text + " (vsrouter is IPv4 only for now)");
    auto a = Ipv4Addr::parse(w.text);
    if (!a) fail(w.pos, n.keyword().text + ": " + q(w.text) + " is not an IPv4 address");
    seen_.insert(a->v);
    return w.text;
  }

  /// A notify/quorum script: `kw SCRIPT` (quoted when it has arguments). keepalived's optional
  /// user and group after it are refused: vsrouter runs these programs as its own user.
  std::string script(const Node& n) const {
    no_block(n);
    if (n.words.size() < 2) fail(n.pos(), n.keyword().text + " needs a program");
    if (n.words.size() > 2)
      fail(n.words[2].pos, "keyword not supported: " + n.keyword().text + " with a user (" + n.words[2].text +
                               "): vsrouter runs it as its own user; quote the command if " + q(n.words[2].text) +
                               " is an argument");
    return q(n.words[1].text);
  }

  /// A program with its arguments as keepalived's misc_path and vrrp_script's script take them:
  /// one value, split into words when it runs. vsrouter runs it without a shell and without a
  /// PATH search, so the program must be an absolute path.
  std::string program(const Node& n) const {
    const Word& w = value(n);
    const size_t first = w.text.find_first_not_of(" \t\"'");
    if (first == std::string::npos || w.text[first] != '/') {
      const std::string word = w.text.substr(0, w.text.find_first_of(" \t"));
      fail(w.pos, "keyword not supported: " + n.keyword().text + " with a program that is not an absolute path (" +
                      q(word) + "): vsrouter runs it without a shell and without a PATH search; give its full path");
    }
    return q(w.text);
  }

  /// `user USER [GROUP]` of a program (MISC_CHECK, vrrp_script): the group is refused, vsrouter
  /// runs it with the user's own group.
  std::string user(const Node& n) const {
    no_block(n);
    if (n.words.size() == 3)
      fail(n.words[2].pos, "keyword not supported: user with a group (vsrouter takes the user's)");
    return q(value(n).text);
  }

  std::string method(const Node& n) const {
    no_block(n);
    if (n.words.size() < 2) fail(n.pos(), n.keyword().text + " needs NAT, DR or TUN");
    const std::string m = lower(n.words[1].text);
    if (m != "nat" && m != "dr" && m != "tun")
      fail(n.words[1].pos, n.keyword().text + ": " + q(n.words[1].text) + " is not NAT, DR or TUN");
    if (n.words.size() > 2)
      fail(n.words[2].pos, "keyword not supported: " + n.keyword().text + " TUN " + n.words[2].text +
                               " (vsrouter tunnels in IPIP only)");
    return m;
  }

  /// "IP:PORT" or "IP" from `kw IP [PORT]`.
  std::string address(const Node& n, size_t first) {
    if (n.words.size() <= first) fail(n.pos(), n.keyword().text + " needs an address");
    std::string a = ipv4(n, n.words[first]);
    if (n.words.size() > first + 1) a += ":" + std::to_string(integer(n, first + 1, 0, 65535));
    if (n.words.size() > first + 2)
      fail(n.words[first + 2].pos, n.keyword().text + ": unexpected " + q(n.words[first + 2].text));
    return a;
  }

  // --- the top level -----------------------------------------------------------------------

  void top(const Node& n) {
    const std::string& kw = n.keyword().text;
    if (kw == "global_defs") return global_defs(n);
    if (kw == "virtual_server") return virtual_server(n);
    if (kw == "vrrp_instance") return vrrp_instance(n);
    if (kw == "vrrp_sync_group") return vrrp_sync_group(n);
    if (kw == "vrrp_script") return vrrp_script(n);
    refuse(n, "the top level");
  }

  void global_defs(const Node& n) {
    need_block(n);
    for (const Node& c : n.children) {
      const std::string& kw = c.keyword().text;
      if (kw == "router_id") {
        value(c);
        note(c, "it names the director in keepalived's mail and SNMP");
      } else if (kw == "notification_email" || kw == "notification_email_from" || kw == "smtp_server" ||
                 kw == "smtp_connect_timeout" || kw == "smtp_helo_name" || kw == "smtp_alert" ||
                 kw == "smtp_alert_vrrp" || kw == "smtp_alert_checker") {
        note(c, "vsrouter sends no mail; its log and metrics report every change");
      } else if (kw == "vrrp_version") {
        // read in run()
      } else if (kw == "lvs_timeouts") {
        lvs_timeouts(c);
      } else if (kw == "lvs_sync_daemon") {
        lvs_sync_daemon(c);
      } else {
        refuse(c, "global_defs");
      }
    }
  }

  void lvs_timeouts(const Node& n) {
    no_block(n);
    if (n.words.size() < 3 || n.words.size() % 2 == 0)
      fail(n.pos(), "lvs_timeouts takes pairs: tcp N, tcpfin N, udp N");
    timeouts_.line(n.pos(), "[timeouts]");
    for (size_t i = 1; i + 1 < n.words.size(); i += 2) {
      const std::string& k = n.words[i].text;
      if (k != "tcp" && k != "tcpfin" && k != "udp")
        fail(n.words[i].pos, "lvs_timeouts: " + q(k) + " is not tcp, tcpfin or udp");
      timeouts_.line(n.words[i].pos, k + " = " + std::to_string(integer(n, i + 1, 0, 2147483)));
    }
  }

  void lvs_sync_daemon(const Node& n) {
    no_block(n);
    if (n.words.size() < 3) fail(n.pos(), "lvs_sync_daemon needs an interface and a vrrp_instance");
    interface_used(n.words[1].text);
    sync_.line(n.pos(), "[sync]");
    sync_.line(n.words[1].pos, "interface = " + q(n.words[1].text));
    sync_.line(n.words[2].pos, "vrrp_instance = " + q(n.words[2].text));
    for (size_t i = 3; i < n.words.size(); i += 2) {
      const std::string& k = n.words[i].text;
      if (i + 1 >= n.words.size()) fail(n.words[i].pos, "lvs_sync_daemon: " + k + " needs a value");
      if (k == "id") sync_.line(n.words[i].pos, "syncid = " + std::to_string(integer(n, i + 1, 0, 255)));
      else if (k == "maxlen") sync_.line(n.words[i].pos, "maxlen = " + std::to_string(integer(n, i + 1, 1, 65535)));
      else if (k == "port") sync_.line(n.words[i].pos, "mcast_port = " + std::to_string(integer(n, i + 1, 1, 65535)));
      else if (k == "ttl") sync_.line(n.words[i].pos, "mcast_ttl = " + std::to_string(integer(n, i + 1, 1, 255)));
      else if (k == "group") sync_.line(n.words[i].pos, "mcast_group = " + q(ipv4(n, n.words[i + 1])));
      else fail(n.words[i].pos, "lvs_sync_daemon: " + q(k) + " is not id, maxlen, port, ttl or group");
    }
  }

  // --- virtual_server ----------------------------------------------------------------------

  /// The checker timing keys a service, a real and a checker share (docs/health-checks.md).
  bool timing(const Node& c, Out& o, std::string_view indent) {
    const std::string& kw = c.keyword().text;
    const std::string in(indent);
    if (kw == "delay_loop" || kw == "connect_timeout" || kw == "delay_before_retry" || kw == "warmup") {
      o.line(c.pos(), in + kw + " = " + timer(c));
    } else if (kw == "retry" || kw == "nb_get_retry") {
      o.line(c.pos(), in + "retry = " + int_text(c, 0, 1000));
    } else if (kw == "alpha") {
      o.line(c.pos(), in + "alpha = " + (flag(c) ? "true" : "false"));
    } else if (kw == "virtualhost") {
      o.line(c.pos(), in + "virtualhost = " + q(value(c).text));
    } else {
      return false;
    }
    return true;
  }

  void virtual_server(const Node& n) {
    need_block(n);
    if (n.words.size() >= 2 && (n.words[1].text == "fwmark" || n.words[1].text == "group"))
      fail(n.words[1].pos, "keyword not supported: virtual_server " + n.words[1].text +
                               " (vsrouter's services are an address, a protocol and a port)");
    if (n.words.size() < 2 || n.words.size() > 3) fail(n.pos(), "virtual_server takes an address and a port");
    const std::string vip = ipv4(n, n.words[1]);
    const std::string port = n.words.size() == 3 ? std::to_string(integer(n, 2, 0, 65535)) : "0";
    // The service's own keys first (the reals' default method may come after them).
    std::string protocol = "tcp", method_default = "nat", scheduler;
    std::optional<Pos> sorry_pos, sorry_method_pos;
    std::vector<std::pair<const Node*, std::string>> flags;  // flag-N resolved once the scheduler is known
    Out keys;
    for (const Node& c : n.children) {
      const std::string& kw = c.keyword().text;
      if (kw == "real_server") continue;
      if (timing(c, keys, "")) continue;
      if (kw == "lvs_sched" || kw == "lb_algo") {
        scheduler = lower(value(c).text);
        keys.line(c.pos(), "scheduler = " + q(scheduler));
      } else if (kw == "lvs_method" || kw == "lb_kind") {
        method_default = method(c);
      } else if (kw == "protocol") {
        const std::string p = lower(value(c).text);
        if (p == "sctp") fail(c.words[1].pos, "keyword not supported: protocol SCTP (vsrouter balances TCP and UDP)");
        if (p != "tcp" && p != "udp") fail(c.words[1].pos, "protocol: " + q(c.words[1].text) + " is not TCP or UDP");
        protocol = p;
      } else if (kw == "persistence_timeout") {
        no_block(c);
        if (c.words.size() > 2) fail(c.words[2].pos, "persistence_timeout takes one value");
        // keepalived.conf(5): "LVS persistence timeout in seconds, default 6 minutes".
        keys.line(c.pos(),
                  "persistence = " + (c.words.size() == 2 ? std::to_string(integer(c, 1, 1, 2678400)) : "360"));
      } else if (kw == "persistence_granularity") {
        keys.line(c.pos(), "netmask = " + q(ipv4(c, value(c))));
      } else if (kw == "ops" || kw == "sh-port" || kw == "sh-fallback" || kw == "mh-port" || kw == "mh-fallback" ||
                 kw == "flag-1" || kw == "flag-2" || kw == "flag-3") {
        values(c, 0);
        flags.emplace_back(&c, kw);
      } else if (kw == "quorum") {
        keys.line(c.pos(), "quorum = " + int_text(c, 1, 2147483647));
      } else if (kw == "hysteresis") {
        keys.line(c.pos(), "hysteresis = " + int_text(c, 0, 2147483647));
      } else if (kw == "quorum_up" || kw == "quorum_down") {
        keys.line(c.pos(), kw + " = " + script(c));
      } else if (kw == "omega" || kw == "inhibit_on_failure" || kw == "sorry_server_inhibit") {
        keys.line(c.pos(), kw + " = " + (flag(c) ? "true" : "false"));
      } else if (kw == "sorry_server") {
        no_block(c);
        keys.line(c.pos(), "sorry_server = " + q(address(c, 1)));
        sorry_pos = c.pos();
      } else if (kw == "sorry_server_lvs_method") {
        keys.line(c.pos(), "sorry_server_method = " + q(method(c)));
        sorry_method_pos = c.pos();
      } else if (kw == "smtp_alert" || kw == "snmp_name") {
        note(c, kw == "smtp_alert" ? "vsrouter sends no mail" : "vsrouter has no SNMP agent");
      } else {
        refuse(c, "virtual_server");
      }
    }
    // keepalived: the sorry server's method defaults to the service's (ours: the first real's).
    if (sorry_pos && !sorry_method_pos) keys.line(*sorry_pos, "sorry_server_method = " + q(method_default));
    std::vector<std::string> flag_names;
    for (const auto& [node, kw] : flags) {
      std::string name = kw;
      // ipvsadm: flag-1 is the bit sh-fallback and mh-fallback use, flag-2 sh-port's and mh-port's.
      if (kw == "flag-1" || kw == "flag-2") {
        if (scheduler != "sh" && scheduler != "mh")
          fail(node->pos(), "keyword not supported: " + kw + " with scheduler " +
                                q(scheduler.empty() ? "wlc" : scheduler) + " (it means something only to sh and mh)");
        name = scheduler + (kw == "flag-1" ? "-fallback" : "-port");
      } else if (kw == "flag-3") {
        fail(node->pos(), "keyword not supported: flag-3 (no scheduler of vsrouter's uses it)");
      }
      if (std::find(flag_names.begin(), flag_names.end(), name) == flag_names.end()) flag_names.push_back(name);
    }
    services_.line(n.pos(), "[[services]]");
    services_.line(n.pos(), "protocol = " + q(protocol));
    services_.line(n.words[1].pos, "address = " + q(vip + ":" + port));
    if (!flag_names.empty()) {
      std::string f = "flags = [";
      for (size_t i = 0; i < flag_names.size(); ++i) f += (i ? ", " : "") + q(flag_names[i]);
      services_.line(flags.front().first->pos(), f + "]");
    }
    services_.append(keys);
    for (const Node& c : n.children)
      if (c.keyword().text == "real_server") real_server(c, method_default);
  }

  void real_server(const Node& n, const std::string& method_default) {
    need_block(n);
    Out keys, checks;
    std::string m = method_default;
    for (const Node& c : n.children) {
      const std::string& kw = c.keyword().text;
      if (timing(c, keys, "  ")) continue;
      if (kw == "weight") {
        keys.line(c.pos(), "  weight = " + int_text(c, 0, 2147483647));
      } else if (kw == "lvs_method" || kw == "lb_kind") {
        m = method(c);
      } else if (kw == "uthreshold") {
        keys.line(c.pos(), "  upper = " + int_text(c, 0, 2147483647));
      } else if (kw == "lthreshold") {
        keys.line(c.pos(), "  lower = " + int_text(c, 0, 2147483647));
      } else if (kw == "inhibit_on_failure") {
        keys.line(c.pos(), std::string("  inhibit_on_failure = ") + (flag(c) ? "true" : "false"));
      } else if (kw == "notify_up" || kw == "notify_down") {
        keys.line(c.pos(), "  " + kw + " = " + script(c));
      } else if (kw == "smtp_alert" || kw == "snmp_name") {
        note(c, kw == "smtp_alert" ? "vsrouter sends no mail" : "vsrouter has no SNMP agent");
      } else if (kw == "TCP_CHECK" || kw == "HTTP_GET" || kw == "SSL_GET" || kw == "UDP_CHECK" || kw == "PING_CHECK" ||
                 kw == "DNS_CHECK" || kw == "MISC_CHECK") {
        checker(c, checks);
      } else {
        refuse(c, "real_server");
      }
    }
    services_.line(n.pos(), "  [[services.reals]]");
    services_.line(n.words.size() > 1 ? n.words[1].pos : n.pos(), "  address = " + q(address(n, 1)));
    services_.line(n.pos(), "  method = " + q(m));
    services_.append(keys);
    services_.append(checks);
  }

  void checker(const Node& n, Out& o) {
    if (n.words.size() > 1) fail(n.words[1].pos, n.keyword().text + " takes no value before its block");
    const std::string& type = n.keyword().text;
    const bool http = type == "HTTP_GET" || type == "SSL_GET";
    Out keys, urls;
    for (const Node& c : n.children) {
      const std::string& kw = c.keyword().text;
      if (kw == "virtualhost" && !http) refuse(c, type, "only HTTP_GET and SSL_GET send a Host header");
      if (timing(c, keys, "    ")) continue;
      if ((kw == "connect_ip" || kw == "bindto") && type != "MISC_CHECK") {
        keys.line(c.pos(), "    " + kw + " = " + q(ipv4(c, value(c))));
      } else if (kw == "connect_port" && type != "MISC_CHECK" && type != "PING_CHECK") {
        keys.line(c.pos(), "    connect_port = " + int_text(c, 1, 65535));
      } else if (http && kw == "url") {
        url(c, urls);
      } else if (http && kw == "http_protocol") {
        keys.line(c.pos(), "    http_protocol = " + q(value(c).text));
      } else if (type == "UDP_CHECK" && kw == "payload") {
        keys.line(c.pos(), "    payload = " + q(joined(c)));
      } else if (type == "UDP_CHECK" && kw == "require_reply") {
        no_block(c);
        keys.line(c.pos(), "    require_reply = " + (c.words.size() == 1 ? std::string("true") : q(joined(c))));
      } else if (type == "UDP_CHECK" && (kw == "min_reply_length" || kw == "max_reply_length")) {
        keys.line(c.pos(), "    " + kw + " = " + int_text(c, 0, 65535));
      } else if (type == "DNS_CHECK" && (kw == "type" || kw == "name")) {
        keys.line(c.pos(), "    dns_" + kw + " = " + q(value(c).text));
      } else if (type == "MISC_CHECK" && kw == "misc_path") {
        keys.line(c.pos(), "    misc_path = " + program(c));
      } else if (type == "MISC_CHECK" && kw == "misc_timeout") {
        keys.line(c.pos(), "    misc_timeout = " + timer(c));
      } else if (type == "MISC_CHECK" && kw == "misc_dynamic") {
        keys.line(c.pos(), std::string("    misc_dynamic = ") + (flag(c) ? "true" : "false"));
      } else if (type == "MISC_CHECK" && kw == "user") {
        keys.line(c.pos(), "    user = " + user(c));
      } else {
        refuse(c, type);
      }
    }
    o.line(n.pos(), "    [[services.reals.checks]]");
    o.line(n.pos(), "    type = " + q(type));
    o.append(keys);
    o.append(urls);
  }

  /// The values of `kw V1 V2 ...` as one string (keepalived's payload and reply patterns).
  std::string joined(const Node& c) const {
    no_block(c);
    if (c.words.size() < 2) fail(c.pos(), c.keyword().text + " needs a value");
    std::string s;
    for (size_t i = 1; i < c.words.size(); ++i) s += (i > 1 ? " " : "") + c.words[i].text;
    return s;
  }

  void url(const Node& n, Out& o) {
    need_block(n);
    values(Node{{n.words.front()}, false, {}}, 0);
    if (n.words.size() > 1) fail(n.words[1].pos, "url takes no value before its block");
    o.line(n.pos(), "      [[services.reals.checks.url]]");
    for (const Node& c : n.children) {
      const std::string& kw = c.keyword().text;
      if (kw == "path" || kw == "digest") {
        o.line(c.pos(), "      " + kw + " = " + q(value(c).text));
      } else if (kw == "status_code") {
        no_block(c);
        if (c.words.size() == 2 && all_digits(c.words[1].text))
          o.line(c.pos(), "      status_code = " + c.words[1].text);
        else o.line(c.pos(), "      status_code = " + q(joined(c)));
      } else {
        refuse(c, "url");
      }
    }
  }

  // --- VRRP --------------------------------------------------------------------------------

  void vrrp_instance(const Node& n) {
    need_block(n);
    if (n.words.size() != 2) fail(n.pos(), "vrrp_instance takes a name");
    Out o, lists;
    cur_iface_.clear();
    cur_addrs_.clear();
    o.line(n.pos(), "[[vrrp_instances]]");
    o.line(n.words[1].pos, "name = " + q(n.words[1].text));
    bool version_set = false;
    for (const Node& c : n.children) {
      const std::string& kw = c.keyword().text;
      if (kw == "state") {
        const std::string s = value(c).text;
        if (s != "MASTER" && s != "BACKUP") fail(c.words[1].pos, "state: " + q(s) + " is not MASTER or BACKUP");
        o.line(c.pos(), "state = " + q(s));
      } else if (kw == "interface") {
        interface_used(value(c).text);
        cur_iface_ = c.words[1].text;
        o.line(c.pos(), "interface = " + q(c.words[1].text));
      } else if (kw == "virtual_router_id") {
        o.line(c.pos(), "virtual_router_id = " + int_text(c, 1, 255));
      } else if (kw == "priority") {
        o.line(c.pos(), "priority = " + int_text(c, 1, 255));
      } else if (kw == "advert_int" || kw == "preempt_delay" || kw == "garp_master_delay" ||
                 kw == "garp_lower_prio_delay") {
        o.line(c.pos(), kw + " = " + timer(c));
      } else if (kw == "garp_master_repeat" || kw == "garp_lower_prio_repeat") {
        o.line(c.pos(), kw + " = " + int_text(c, 0, 255));
      } else if (kw == "version") {
        o.line(c.pos(), "version = " + int_text(c, 2, 3));
        version_set = true;
      } else if (kw == "nopreempt") {
        values(c, 0);
        o.line(c.pos(), "nopreempt = true");
      } else if (kw == "preempt") {
        values(c, 0);
        o.line(c.pos(), "nopreempt = false");
      } else if (kw == "use_vmac") {
        if (c.words.size() > 1)
          fail(c.words[1].pos, "keyword not supported: use_vmac with a name (vsrouter has no interface to name)");
        values(c, 0);
        o.line(c.pos(), "use_vmac = true");
      } else if (kw == "higher_prio_send_advert") {
        o.line(c.pos(), std::string("higher_prio_send_advert = ") + (flag(c) ? "true" : "false"));
      } else if (kw == "unicast_src_ip") {
        o.line(c.pos(), "unicast_src_ip = " + q(ipv4(c, value(c))));
        cur_addrs_.push_back(Ipv4Addr::parse(c.words[1].text)->v);
      } else if (kw == "virtual_ipaddress") {
        address_list(c, lists, "virtual_ipaddress", true);
      } else if (kw == "unicast_peer") {
        address_list(c, lists, "unicast_peer", false);
      } else if (kw == "authentication") {
        authentication(c, lists);
      } else if (kw == "track_interface") {
        tracks(c, lists, "track_interface");
      } else if (kw == "track_script") {
        tracks(c, lists, "track_script");
      } else if (kw == "notify_master" || kw == "notify_backup" || kw == "notify_fault" || kw == "notify_stop") {
        o.line(c.pos(), kw + " = " + script(c));
      } else if (kw == "smtp_alert") {
        note(c, "vsrouter sends no mail");
      } else {
        refuse(c, "vrrp_instance");
      }
    }
    if (!version_set && vrrp_version_ != 2) o.line(n.pos(), "version = " + std::to_string(vrrp_version_));
    if (!cur_iface_.empty())
      for (uint32_t a : cur_addrs_) on_link_[cur_iface_].push_back(a);
    o.append(lists);
    vrrp_.append(o);
  }

  /// `kw { A ... }`: one address per line. virtual_ipaddress takes keepalived's `A/LEN` (the
  /// length sets the host's route in keepalived; vsrouter answers for the address alone) and
  /// `dev IF` naming the instance's interface.
  void address_list(const Node& n, Out& o, std::string_view key, bool vip) {
    need_block(n);
    if (n.words.size() > 1) fail(n.words[1].pos, n.keyword().text + " takes its addresses in a block");
    std::string list = std::string(key) + " = [";
    for (size_t i = 0; i < n.children.size(); ++i) {
      const Node& a = n.children[i];
      if (a.block) fail(a.pos(), "an address takes no block");
      Word w = a.words[0];
      if (vip) {
        const size_t slash = w.text.find('/');
        if (slash != std::string::npos) {
          const std::string len = w.text.substr(slash + 1);
          if (!all_digits(len) || std::stoi(len) > 32) fail(w.pos, q(w.text) + ": bad prefix length");
          w.text.resize(slash);
        }
        for (size_t k = 1; k < a.words.size(); k += 2) {
          const std::string& opt = a.words[k].text;
          if (opt != "dev" && opt != "label")
            fail(a.words[k].pos, "keyword not supported: " + opt + " in virtual_ipaddress (dev and label only)");
          if (k + 1 >= a.words.size()) fail(a.words[k].pos, opt + " needs a value");
          if (opt == "dev") interface_used(a.words[k + 1].text);
          else
            notes_.push_back(syn_.error(a.words[k].pos,
                                        "note: label has no effect in vsrouter (it names a kernel "
                                        "address; vsrouter's addresses are its own)")
                                 .format(syn_.files[0]));
        }
      } else if (a.words.size() > 1) {
        fail(a.words[1].pos, "keyword not supported: " + a.words[1].text + " after a unicast peer");
      }
      list += (i ? ", " : "") + q(ipv4(a, w));
      if (vip) cur_addrs_.push_back(Ipv4Addr::parse(w.text)->v);
    }
    o.line(n.pos(), list + "]");
  }

  void authentication(const Node& n, Out& o) {
    need_block(n);
    std::string type, pass;
    for (const Node& c : n.children) {
      if (c.keyword().text == "auth_type") type = value(c).text;
      else if (c.keyword().text == "auth_pass") pass = value(c).text;
      else refuse(c, "authentication");
    }
    if (type == "AH") fail(n.pos(), "keyword not supported: auth_type AH (IPsec AH; keepalived deprecates it too)");
    o.line(n.pos(), "authentication = { auth_type = " + q(type) + ", auth_pass = " + q(pass) + " }");
  }

  /// track_interface and track_script blocks: `NAME [weight W [reverse|noreverse]]` per line
  /// (keepalived's alloc_track_script; an interface's takes reverse as well).
  void tracks(const Node& n, Out& o, std::string_view key) {
    need_block(n);
    const bool iface = key == "track_interface";
    std::string list = std::string(key) + " = [";
    for (size_t i = 0; i < n.children.size(); ++i) {
      const Node& t = n.children[i];
      if (t.block) fail(t.pos(), std::string(iface ? "an interface" : "a script") + " takes no block");
      if (iface) interface_used(t.words[0].text);
      list += i ? ", " : "";
      if (t.words.size() == 1) {
        list += q(t.words[0].text);
        continue;
      }
      if (t.words[1].text != "weight" || t.words.size() < 3 || t.words.size() > 4)
        fail(t.words[1].pos, std::string(key) + ": expected NAME, or NAME weight W [reverse|noreverse]");
      list += "{ name = " + q(t.words[0].text) + ", weight = " + std::to_string(integer(t, 2, -253, 253));
      if (t.words.size() == 4) {
        const std::string& r = t.words[3].text;
        if (r != "reverse" && r != "noreverse")
          fail(t.words[3].pos, std::string(key) + ": " + q(r) + " is not reverse or noreverse");
        list += std::string(", reverse = ") + (r == "reverse" ? "true" : "false");
      }
      list += " }";
    }
    o.line(n.pos(), list + "]");
  }

  void vrrp_script(const Node& n) {
    need_block(n);
    if (n.words.size() != 2) fail(n.pos(), "vrrp_script takes a name");
    Out o;
    o.line(n.pos(), "[[vrrp_scripts]]");
    bool has_script = false;
    o.line(n.words[1].pos, "name = " + q(n.words[1].text));
    for (const Node& c : n.children) {
      const std::string& kw = c.keyword().text;
      if (kw == "script") {
        o.line(c.pos(), "script = " + program(c));
        has_script = true;
      } else if (kw == "interval" || kw == "timeout") {
        o.line(c.pos(), kw + " = " + timer(c));
      } else if (kw == "rise" || kw == "fall") {
        o.line(c.pos(), kw + " = " + int_text(c, 1, 1000000));
      } else if (kw == "weight") {
        no_block(c);
        if (c.words.size() < 2 || c.words.size() > 3) fail(c.pos(), "weight: expected W [reverse]");
        o.line(c.pos(), "weight = " + std::to_string(integer(Node{{c.words[0], c.words[1]}, false, {}}, 1, -253, 253)));
        if (c.words.size() == 3) {
          if (c.words[2].text != "reverse") fail(c.words[2].pos, "weight: " + q(c.words[2].text) + " is not reverse");
          o.line(c.words[2].pos, "reverse = true");
        }
      } else if (kw == "init_fail") {
        values(c, 0);
        o.line(c.pos(), "init_fail = true");
      } else if (kw == "user") {
        o.line(c.pos(), "user = " + user(c));
      } else {
        refuse(c, "vrrp_script");
      }
    }
    if (!has_script)
      fail(n.pos(), "vrrp_script " + n.words[1].text +
                        " has no script (keepalived drops it, and every track_script of it, with a warning)");
    scripts_.append(o);
  }

  void vrrp_sync_group(const Node& n) {
    need_block(n);
    if (n.words.size() != 2) fail(n.pos(), "vrrp_sync_group takes a name");
    Out o;
    o.line(n.pos(), "[[vrrp_sync_groups]]");
    o.line(n.words[1].pos, "name = " + q(n.words[1].text));
    for (const Node& c : n.children) {
      const std::string& kw = c.keyword().text;
      if (kw == "group") {
        need_block(c);
        std::string list = "group = [";
        for (size_t i = 0; i < c.children.size(); ++i) {
          if (c.children[i].words.size() != 1 || c.children[i].block)
            fail(c.children[i].pos(), "group: one vrrp_instance name per line");
          list += (i ? ", " : "") + q(c.children[i].words[0].text);
        }
        o.line(c.pos(), list + "]");
      } else if (kw == "notify_master" || kw == "notify_backup" || kw == "notify_fault" || kw == "notify_stop") {
        o.line(c.pos(), kw + " = " + script(c));
      } else if (kw == "smtp_alert") {
        note(c, "vsrouter sends no mail");
      } else {
        refuse(c, "vrrp_sync_group");
      }
    }
    groups_.append(o);
  }

  // --- interfaces --------------------------------------------------------------------------

  void interface_used(const std::string& name) {
    if (std::find(iface_names_.begin(), iface_names_.end(), name) == iface_names_.end()) iface_names_.push_back(name);
  }

  /// Without --interfaces (vsrouter check): an interface for each name used, so that everything
  /// else can be checked. The first takes every unicast address (its connected subnets cover
  /// 1.0.0.0-223.255.255.255 but loopback) except /29 blocks round the VRRP addresses of the
  /// instances on the others, which those get (or a free /29 if they have none).
  void placeholders(Out& o) const {
    std::vector<std::string> names = iface_names_;
    if (names.empty()) names.push_back("lan");
    std::vector<std::vector<uint32_t>> blocks(names.size());  // /29 networks of each but the first
    std::set<uint32_t> taken;
    for (size_t i = 1; i < names.size(); ++i) {
      auto it = on_link_.find(names[i]);
      if (it != on_link_.end())
        for (uint32_t a : it->second)
          if (taken.insert(a & ~7u).second) blocks[i].push_back(a & ~7u);
    }
    uint32_t spare = Ipv4Addr::from_octets(100, 64, 0, 0).v;  // RFC 6598 space for the rest
    for (size_t i = 1; i < names.size(); ++i)
      if (blocks[i].empty()) {
        while (taken.count(spare) || free_host(spare, 29) == 0) spare += 8;
        taken.insert(spare);
        blocks[i].push_back(spare);
      }
    std::vector<std::string> first;
    cover(0, 0, taken, first);
    for (size_t i = 0; i < names.size(); ++i) {
      const Pos none{};
      o.line(none, "[[interfaces]]");
      o.line(none, "name = " + q(names[i]));
      char mac[32];
      std::snprintf(mac, sizeof mac, "02:00:00:00:%02zx:%02zx", (i >> 8) & 0xff, i & 0xff);
      o.line(none, std::string("mac = \"") + mac + "\"");
      std::string list;
      if (i == 0) {
        for (const auto& p : first) list += (list.empty() ? "" : ", ") + q(p);
      } else {
        for (uint32_t b : blocks[i]) {
          const uint32_t h = free_host(b, 29);
          if (h != 0) list += (list.empty() ? "" : ", ") + q(Ipv4Addr{h}.str() + "/29");
        }
      }
      o.line(none, "addresses = [" + list + "]");
    }
  }

  /// A host address of net/len that the config does not use (0: none).
  uint32_t free_host(uint32_t net, unsigned len) const {
    const uint32_t size = len == 32 ? 1 : 1u << (32 - len);
    for (uint32_t h = 1; h + 1 < size; ++h)
      if (!seen_.count(net + h)) return net + h;
    return 0;
  }

  /// The prefixes (as "host/len") covering unicast space outside `taken`'s /29 blocks.
  void cover(uint32_t net, unsigned len, const std::set<uint32_t>& taken, std::vector<std::string>& out) const {
    const uint64_t size = uint64_t{1} << (32 - len);
    const uint64_t lo = net, hi = net + size - 1;
    const uint64_t u_lo = Ipv4Addr::from_octets(1, 0, 0, 0).v, u_hi = Ipv4Addr::from_octets(223, 255, 255, 255).v;
    const uint64_t l_lo = Ipv4Addr::from_octets(127, 0, 0, 0).v, l_hi = Ipv4Addr::from_octets(127, 255, 255, 255).v;
    if (hi < u_lo || lo > u_hi || (lo >= l_lo && hi <= l_hi)) return;
    const auto first_taken = taken.lower_bound(net);
    const bool has_taken = first_taken != taken.end() && *first_taken <= hi;
    const bool inside = lo >= u_lo && hi <= u_hi && (hi < l_lo || lo > l_hi);
    if (len >= 29 || (inside && !has_taken)) {
      if (has_taken || !inside) return;
      if (const uint32_t h = free_host(net, len)) out.push_back(Ipv4Addr{h}.str() + "/" + std::to_string(len));
      return;
    }
    cover(net, len + 1, taken, out);
    cover(static_cast<uint32_t>(net + size / 2), len + 1, taken, out);
  }

  const Syntax& syn_;
  const std::optional<std::string>& interfaces_;
  bool placeholders_;
  Out timeouts_, services_, scripts_, vrrp_, groups_, sync_;
  std::vector<std::string> notes_;
  std::vector<std::string> iface_names_;
  std::map<std::string, std::vector<uint32_t>> on_link_;  // interface -> its instances' addresses
  std::string cur_iface_;                                 // the vrrp_instance being read
  std::vector<uint32_t> cur_addrs_;
  std::set<uint32_t> seen_;  // every address the config names
  int64_t vrrp_version_ = 2;
};

}  // namespace

Result<Translation> translate(const Syntax& syn, const std::optional<std::string>& interfaces_toml, bool placeholders) {
  try {
    return Translator(syn, interfaces_toml, placeholders).run();
  } catch (const Failed& f) {
    return f.error;
  }
}

Result<std::shared_ptr<const config::Config>> load(const std::string& path, const LoadOptions& opt, Files& files,
                                                   Translation* out) {
  SyntaxOptions so;
  so.config_id = opt.config_id;
  auto syn = read_syntax(path, so, files);
  if (!syn) return syn.error();
  std::optional<std::string> interfaces;
  if (opt.interfaces_path) {
    std::string why;
    auto text = files.contents(*opt.interfaces_path, why);
    if (!text) return Error{"cannot read " + *opt.interfaces_path + ": " + why};
    interfaces = std::move(*text);
  }
  auto t = translate(syn.value(), interfaces);
  if (!t) return t.error();
  if (out) *out = t.value();
  auto cfg = config::parse_config(t->toml);
  if (cfg) return cfg;
  // Back to where the TOML line came from.
  Error e = cfg.error();
  if (e.line == 0 || e.line > t->origin.size()) return e;
  const Pos at = t->origin[e.line - 1];
  if (at.file == kInterfacesFile) {
    e.file = *opt.interfaces_path;
    return e;
  }
  if (at.line == 0) return Error{e.message};
  return syn->error(at, e.message);
}

namespace {
bool keepalived_format(const std::string& text, const LoadOptions& opt) {
  if (opt.format != LoadOptions::Format::kAuto) return opt.format == LoadOptions::Format::kKeepalived;
  return looks_like_keepalived(text);
}
}  // namespace

bool is_keepalived(const std::string& path, const LoadOptions& opt) {
  auto text = read_file(path);
  return text && keepalived_format(text.value(), opt);
}

Result<std::shared_ptr<const config::Config>> load_any(const std::string& path, const LoadOptions& opt,
                                                       std::vector<std::string>* notes) {
  auto text = read_file(path);
  if (!text) return Error{"cannot read config: " + text.error().message};
  if (!keepalived_format(text.value(), opt)) {
    if (opt.interfaces_path) return Error{"--interfaces is for a keepalived.conf; this file is vsrouter's TOML"};
    return config::parse_config(text.value());
  }
  DiskFiles files;
  Translation t;
  auto cfg = load(path, opt, files, &t);
  if (notes) *notes = t.notes;
  return cfg;
}

}  // namespace vs::keepalived

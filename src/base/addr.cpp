#include "base/addr.hpp"

#include <algorithm>
#include <cstdio>

namespace vs {
namespace {

std::optional<uint32_t> parse_uint(std::string_view s, uint32_t max) noexcept {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return static_cast<uint32_t>(v);
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<MacAddr> MacAddr::parse(std::string_view s) noexcept {
  if (s.size() != 17) return std::nullopt;
  MacAddr m;
  for (size_t i = 0; i < 6; ++i) {
    int hi = hex_digit(s[i * 3]);
    int lo = hex_digit(s[i * 3 + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i < 5 && s[i * 3 + 2] != ':' && s[i * 3 + 2] != '-') return std::nullopt;
    m.b[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return m;
}

std::string MacAddr::str() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
  return buf;
}

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view s) noexcept {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = s.find('.');
    std::string_view part = (i < 3) ? s.substr(0, dot) : s;
    if (i < 3 && dot == std::string_view::npos) return std::nullopt;
    if (part.size() > 1 && part[0] == '0') return std::nullopt;  // no octal-looking octets
    auto o = parse_uint(part, 255);
    if (!o) return std::nullopt;
    v = (v << 8) | *o;
    if (i < 3) s.remove_prefix(dot + 1);
  }
  return Ipv4Addr{v};
}

std::string Ipv4Addr::str() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
  return buf;
}

std::optional<Ipv6Addr> Ipv6Addr::parse(std::string_view s) noexcept {
  // Up to 8 groups before and after one "::"; a dotted IPv4 tail counts as two groups.
  std::array<uint16_t, 8> head{}, tail{};
  size_t nh = 0, nt = 0;
  bool compressed = false;
  const size_t dc = s.find("::");
  if (dc != std::string_view::npos) {
    if (s.find("::", dc + 1) != std::string_view::npos) return std::nullopt;
    compressed = true;
  }
  auto groups = [](std::string_view part, std::array<uint16_t, 8>& out, size_t& n, bool v4_tail_ok) -> bool {
    if (part.empty()) return true;
    size_t pos = 0;
    while (true) {
      const size_t colon = part.find(':', pos);
      const std::string_view g =
          part.substr(pos, colon == std::string_view::npos ? std::string_view::npos : colon - pos);
      if (colon == std::string_view::npos && v4_tail_ok && g.find('.') != std::string_view::npos) {
        auto v4 = Ipv4Addr::parse(g);
        if (!v4 || n + 2 > 8) return false;
        out[n++] = static_cast<uint16_t>(v4->v >> 16);
        out[n++] = static_cast<uint16_t>(v4->v);
        return true;
      }
      if (g.empty() || g.size() > 4 || n == 8) return false;
      uint16_t v = 0;
      for (char c : g) {
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return false;
        v = static_cast<uint16_t>(v << 4 | d);
      }
      out[n++] = v;
      if (colon == std::string_view::npos) return true;
      pos = colon + 1;
    }
  };
  if (compressed) {
    if (!groups(s.substr(0, dc), head, nh, false) || !groups(s.substr(dc + 2), tail, nt, true)) return std::nullopt;
    if (nh + nt > 7) return std::nullopt;  // "::" stands for at least one zero group
  } else {
    if (!groups(s, head, nh, true) || nh != 8) return std::nullopt;
  }
  Ipv6Addr a;
  for (size_t i = 0; i < nh; ++i) {
    a.b[2 * i] = static_cast<uint8_t>(head[i] >> 8);
    a.b[2 * i + 1] = static_cast<uint8_t>(head[i]);
  }
  for (size_t i = 0; i < nt; ++i) {
    const size_t g = 8 - nt + i;
    a.b[2 * g] = static_cast<uint8_t>(tail[i] >> 8);
    a.b[2 * g + 1] = static_cast<uint8_t>(tail[i]);
  }
  return a;
}

std::string Ipv6Addr::str() const {
  std::array<uint16_t, 8> g{};
  for (size_t i = 0; i < 8; ++i) g[i] = static_cast<uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
  int best = -1, best_len = 1;  // a run of one zero group is not compressed (RFC 5952 §4.2.2)
  for (int i = 0; i < 8;) {
    if (g[static_cast<size_t>(i)] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[static_cast<size_t>(j)] == 0) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  std::string out;
  char buf[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", g[static_cast<size_t>(i)]);
    out += buf;
  }
  return out;
}

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view s) noexcept {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto a = Ipv4Addr::parse(s.substr(0, slash));
  auto len = parse_uint(s.substr(slash + 1), 32);
  if (!a || !len) return std::nullopt;
  return Ipv4Prefix{*a, static_cast<uint8_t>(*len)};
}

std::string Ipv4Prefix::str() const { return addr.str() + "/" + std::to_string(len); }

std::optional<Ipv6Prefix> Ipv6Prefix::parse(std::string_view s) noexcept {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto a = Ipv6Addr::parse(s.substr(0, slash));
  auto len = parse_uint(s.substr(slash + 1), 128);
  if (!a || !len) return std::nullopt;
  return Ipv6Prefix{*a, static_cast<uint8_t>(*len)};
}

std::string Ipv6Prefix::str() const { return addr.str() + "/" + std::to_string(len); }

std::optional<IpAddr> IpAddr::parse(std::string_view s) noexcept {
  if (auto v4 = Ipv4Addr::parse(s)) return IpAddr(*v4);
  auto v6 = Ipv6Addr::parse(s);
  if (!v6 || v6->is_v4_mapped()) return std::nullopt;
  return from_v6(*v6);
}

std::string IpAddr::str() const { return is_v4() ? v4().str() : a.str(); }

std::string IpAddr::str(uint16_t port) const {
  return (is_v4() ? v4().str() : "[" + a.str() + "]") + ":" + std::to_string(port);
}

std::optional<uint8_t> netmask_len(Ipv4Addr mask) noexcept {
  for (uint8_t len = 0; len <= 32; ++len)
    if (prefix_mask(len) == mask.v) return len;
  return std::nullopt;
}

std::optional<Endpoint> parse_endpoint(std::string_view s, bool allow_no_port) noexcept {
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    auto a = Ipv6Addr::parse(s.substr(1, close - 1));
    if (!a || a->is_v4_mapped()) return std::nullopt;
    const std::string_view rest = s.substr(close + 1);
    if (rest.empty()) {
      if (!allow_no_port) return std::nullopt;
      return Endpoint{IpAddr::from_v6(*a), std::nullopt};
    }
    auto p = rest.front() == ':' ? parse_uint(rest.substr(1), 65535) : std::nullopt;
    if (!p) return std::nullopt;
    return Endpoint{IpAddr::from_v6(*a), static_cast<uint16_t>(*p)};
  }
  if (std::count(s.begin(), s.end(), ':') > 1) {  // a bare IPv6 address: no port
    auto a = Ipv6Addr::parse(s);
    if (!allow_no_port || !a || a->is_v4_mapped()) return std::nullopt;
    return Endpoint{IpAddr::from_v6(*a), std::nullopt};
  }
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) {
    if (!allow_no_port) return std::nullopt;
    auto a = Ipv4Addr::parse(s);
    if (!a) return std::nullopt;
    return Endpoint{*a, std::nullopt};
  }
  auto a = Ipv4Addr::parse(s.substr(0, colon));
  auto p = parse_uint(s.substr(colon + 1), 65535);
  if (!a || !p) return std::nullopt;
  return Endpoint{*a, static_cast<uint16_t>(*p)};
}

}  // namespace vs

#include "base/addr.hpp"

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

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view s) noexcept {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto a = Ipv4Addr::parse(s.substr(0, slash));
  auto len = parse_uint(s.substr(slash + 1), 32);
  if (!a || !len) return std::nullopt;
  return Ipv4Prefix{*a, static_cast<uint8_t>(*len)};
}

std::string Ipv4Prefix::str() const { return addr.str() + "/" + std::to_string(len); }

std::optional<uint8_t> netmask_len(Ipv4Addr mask) noexcept {
  for (uint8_t len = 0; len <= 32; ++len)
    if (prefix_mask(len) == mask.v) return len;
  return std::nullopt;
}

std::optional<Endpoint> parse_endpoint(std::string_view s, bool allow_no_port) noexcept {
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

// UDP_CHECK's hex strings and reply matching: see udp_match.hpp.
#include "check/udp_match.hpp"

#include <algorithm>
#include <string>

namespace vs::check {

namespace {

constexpr uint8_t kHexError = 0xff;
constexpr uint8_t kHexWildcard = 0xfe;

// hex_val() in lib/parser.c.
uint8_t hex_val(char c, bool wildcards) noexcept {
  if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<uint8_t>(c - 'A' + 10);
  if (wildcards && (c == 'x' || c == 'X')) return kHexWildcard;
  return kHexError;
}

Error hex_error(std::string_view s, size_t at) {
  return Error{"invalid hex string '" + std::string(s) + "' at offset " + std::to_string(at)};
}

}  // namespace

Result<ReplyPattern> parse_hex_pattern(std::string_view s, bool wildcards) {
  ReplyPattern p;
  size_t i = 0;
  while (true) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i == s.size()) break;
    if (p.len == kUdpPatternMax) return Error{"hex string longer than " + std::to_string(kUdpPatternMax) + " bytes"};
    uint8_t v = hex_val(s[i], wildcards);
    if (v == kHexError) return hex_error(s, i);
    ++i;
    uint8_t mask = 0;
    if (v == kHexWildcard) {
      v = 0;
      mask = 0x0f;
    }
    // A second digit joins the first unless a space or the end follows it; read_hex_str() checks
    // for a space only, so a tab there is a bad digit, as it is here.
    if (i < s.size() && s[i] != ' ') {
      uint8_t lo = hex_val(s[i], wildcards);
      if (lo == kHexError) return hex_error(s, i);
      ++i;
      v = static_cast<uint8_t>(v << 4);
      mask = static_cast<uint8_t>(mask << 4);
      if (lo == kHexWildcard) {
        mask |= 0x0f;
      } else {
        v |= lo;
      }
    }
    p.data[p.len] = v;
    p.mask[p.len] = mask;
    ++p.len;
  }
  if (p.len == 0) return Error{"empty hex string"};
  return p;
}

size_t default_udp_payload(std::span<uint8_t> out) noexcept {
  constexpr std::string_view kText = "keepalived check - ";
  constexpr size_t kLen = 32;  // UDP_BUFSIZE
  if (out.size() < kLen) return 0;
  for (size_t i = 0; i < kLen; ++i) out[i] = static_cast<uint8_t>(kText[i % kText.size()]);
  return kLen;
}

bool match_reply(std::span<const uint8_t> reply, const ReplyPattern& pattern, uint16_t min_len,
                 uint16_t max_len) noexcept {
  if (reply.size() < min_len || reply.size() > max_len) return false;
  size_t n = std::min<size_t>(reply.size(), pattern.len);
  for (size_t i = 0; i < n; ++i)
    if (((reply[i] ^ pattern.data[i]) & ~pattern.mask[i] & 0xff) != 0) return false;
  return true;
}

bool udp_check_passes(UdpEvent event, bool require_reply, std::span<const uint8_t> reply, const ReplyPattern* pattern,
                      uint16_t min_len, uint16_t max_len) noexcept {
  switch (event) {
    case UdpEvent::kUnreachable: return false;
    case UdpEvent::kTimeout: return !require_reply;
    case UdpEvent::kReply:
      return !require_reply || pattern == nullptr || match_reply(reply, *pattern, min_len, max_len);
  }
  return false;
}

}  // namespace vs::check

// UDP_CHECK health checks, sans-I/O: the payload a probe sends and whether the real's reply
// passes, as keepalived does it (keepalived/check/check_udp.c, keepalived/core/layer4.c and
// read_hex_str() in lib/parser.c). The caller owns the socket, the timer and ICMP errors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/result.hpp"

namespace vs::check {

/// The most a payload or reply pattern holds: a UDP datagram in one 1500-byte Ethernet frame
/// (1500 - 20 IPv4 - 8 UDP). keepalived allows 65535; a longer value here is a config error.
inline constexpr size_t kUdpPatternMax = 1472;

/// keepalived's defaults (UDP_CHECK's min_reply_length and max_reply_length, check_udp.c).
/// keepalived receives into max_reply_length + 1 bytes, so a longer reply reads as too long.
inline constexpr uint16_t kUdpMinReplyDefault = 0;
inline constexpr uint16_t kUdpMaxReplyDefault = 255;

/// A hex string's bytes, with a mask whose set bits are don't-care ('X' nibbles). Fixed capacity:
/// parsed once from the config, compared per reply without allocating.
struct ReplyPattern {
  std::array<uint8_t, kUdpPatternMax> data{};
  std::array<uint8_t, kUdpPatternMax> mask{};  // 0x0f, 0xf0 or 0xff where a nibble is 'X'
  uint16_t len = 0;

  friend bool operator==(const ReplyPattern&, const ReplyPattern&) = default;
  std::span<const uint8_t> bytes() const noexcept { return {data.data(), len}; }
  std::span<const uint8_t> wildcards() const noexcept { return {mask.data(), len}; }
};

/// keepalived's read_hex_str(): hex digits (either case) with blanks (space, tab) between
/// tokens. A token is one or two digits: two make a byte ("1f" is 0x1f), one alone before a
/// space or the end makes a byte of that value ("1f 2 3" is 1f 02 03; "abc" is ab 0c). With
/// `wildcards` (require_reply), 'X' or 'x' is a don't-care nibble ("X" alone: a byte whose low
/// nibble is free, as read_hex_str() has it). An empty string, a bad digit, an 'X' without
/// `wildcards`, or more than kUdpPatternMax bytes is an error.
Result<ReplyPattern> parse_hex_pattern(std::string_view s, bool wildcards);

/// UDP_CHECK's payload: parse_hex_pattern() without wildcards.
inline Result<ReplyPattern> parse_udp_payload(std::string_view s) { return parse_hex_pattern(s, false); }
/// UDP_CHECK's require_reply hex string: parse_hex_pattern() with 'X' nibbles.
inline Result<ReplyPattern> parse_require_reply(std::string_view s) { return parse_hex_pattern(s, true); }

/// What keepalived sends without a payload (udp_bind_connect() and set_buf() in layer4.c): 32
/// bytes (UDP_BUFSIZE) of "keepalived check - " repeated. Returns the bytes written, 0 if `out`
/// is shorter.
size_t default_udp_payload(std::span<uint8_t> out) noexcept;

/// keepalived's check_udp_reply(), inverted (true: the reply passes). The length must be within
/// [min_len, max_len]; then only the first min(reply length, pattern length) bytes are compared,
/// each outside the pattern's 'X' nibbles. A reply shorter than the pattern that matches the
/// pattern's start passes: it is a prefix match both ways, not an exact one (set
/// min_reply_length to the pattern's length to demand all of it).
bool match_reply(std::span<const uint8_t> reply, const ReplyPattern& pattern, uint16_t min_len = kUdpMinReplyDefault,
                 uint16_t max_len = kUdpMaxReplyDefault) noexcept;

/// What ended the wait for a reply (udp_socket_state() in layer4.c).
enum class UdpEvent : uint8_t {
  kReply,        // a datagram arrived
  kTimeout,      // none before connect_timeout
  kUnreachable,  // an ICMP destination unreachable (IP_RECVERR), or a failed receive
};

/// The whole verdict of udp_check_thread(): an unreachable fails; without require_reply a
/// timeout passes and so does any reply; with it a timeout fails, and a reply passes the
/// pattern's match_reply() when require_reply had a hex string (`pattern` non-null) or passes
/// whatever it is when it had none (keepalived then checks no length either).
bool udp_check_passes(UdpEvent event, bool require_reply, std::span<const uint8_t> reply, const ReplyPattern* pattern,
                      uint16_t min_len = kUdpMinReplyDefault, uint16_t max_len = kUdpMaxReplyDefault) noexcept;

}  // namespace vs::check

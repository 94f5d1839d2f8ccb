// UDP_CHECK codec tests (check/udp_match.hpp): hex strings as keepalived's read_hex_str()
// (lib/parser.c) reads them and replies as check_udp_reply() (keepalived/check/check_udp.c)
// judges them. Expected bytes are written out by hand from those functions' rules.

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "check/udp_match.hpp"

namespace vs::check {
namespace {

std::vector<uint8_t> data_of(const ReplyPattern& p) { return {p.bytes().begin(), p.bytes().end()}; }
std::vector<uint8_t> mask_of(const ReplyPattern& p) { return {p.wildcards().begin(), p.wildcards().end()}; }

TEST(UdpHex, Payload) {
  auto p = parse_udp_payload("0102 a0FF");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(data_of(p.value()), (std::vector<uint8_t>{0x01, 0x02, 0xa0, 0xff}));
  EXPECT_EQ(mask_of(p.value()), (std::vector<uint8_t>{0, 0, 0, 0}));
}

TEST(UdpHex, LoneDigitsAndOddRuns) {
  // A digit alone before a space or the end is a byte of its own; "abc" is ab 0c.
  EXPECT_EQ(data_of(parse_udp_payload("1 2 f").value()), (std::vector<uint8_t>{0x01, 0x02, 0x0f}));
  EXPECT_EQ(data_of(parse_udp_payload("abc").value()), (std::vector<uint8_t>{0xab, 0x0c}));
  EXPECT_EQ(data_of(parse_udp_payload("  \tab  ").value()), (std::vector<uint8_t>{0xab}));
}

TEST(UdpHex, Errors) {
  for (std::string_view bad : {"", "   ", "0g", "zz", "a\tb", "-1"}) EXPECT_FALSE(parse_udp_payload(bad)) << bad;
  // X is a wildcard only in require_reply.
  EXPECT_FALSE(parse_udp_payload("0X"));
  EXPECT_TRUE(parse_require_reply("0X"));
}

TEST(UdpHex, Capacity) {
  std::string max(2 * kUdpPatternMax, 'a');
  auto p = parse_udp_payload(max);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->len, kUdpPatternMax);
  EXPECT_FALSE(parse_udp_payload(max + "a"));
  EXPECT_FALSE(parse_udp_payload(max + " 1"));
}

TEST(UdpHex, WildcardNibbles) {
  auto p = parse_require_reply("Xa bx XX x");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(data_of(p.value()), (std::vector<uint8_t>{0x0a, 0xb0, 0x00, 0x00}));
  EXPECT_EQ(mask_of(p.value()), (std::vector<uint8_t>{0xf0, 0x0f, 0xff, 0x0f}));
}

TEST(UdpMatch, XNibbles) {
  auto p = parse_require_reply("12X4 X").value();  // 12 X4 0X
  EXPECT_TRUE(match_reply(std::array<uint8_t, 3>{0x12, 0x04, 0x00}, p));
  EXPECT_TRUE(match_reply(std::array<uint8_t, 3>{0x12, 0xf4, 0x0f}, p));
  EXPECT_FALSE(match_reply(std::array<uint8_t, 3>{0x12, 0xf5, 0x0f}, p));  // the fixed nibble
  EXPECT_FALSE(match_reply(std::array<uint8_t, 3>{0x12, 0x04, 0x10}, p));  // lone X: high nibble 0
  EXPECT_FALSE(match_reply(std::array<uint8_t, 3>{0x13, 0x04, 0x00}, p));
}

TEST(UdpMatch, PrefixBothWays) {
  auto p = parse_require_reply("de ad be ef").value();
  // Longer replies are compared on the pattern's length.
  EXPECT_TRUE(match_reply(std::array<uint8_t, 6>{0xde, 0xad, 0xbe, 0xef, 1, 2}, p));
  // Shorter ones on their own length: check_udp_reply() compares min(len, reply_len) bytes.
  EXPECT_TRUE(match_reply(std::array<uint8_t, 2>{0xde, 0xad}, p));
  EXPECT_TRUE(match_reply(std::span<const uint8_t>{}, p));
  EXPECT_FALSE(match_reply(std::array<uint8_t, 2>{0xde, 0xae}, p));
  // min_reply_length set to the pattern's length demands all of it.
  EXPECT_FALSE(match_reply(std::array<uint8_t, 2>{0xde, 0xad}, p, 4));
  EXPECT_TRUE(match_reply(std::array<uint8_t, 4>{0xde, 0xad, 0xbe, 0xef}, p, 4));
}

TEST(UdpMatch, LengthBounds) {
  auto p = parse_require_reply("00").value();
  std::vector<uint8_t> r(255, 0);
  EXPECT_TRUE(match_reply(r, p));  // the default max, 255, included
  r.push_back(0);
  EXPECT_FALSE(match_reply(r, p));
  EXPECT_TRUE(match_reply(r, p, 0, 256));
  EXPECT_FALSE(match_reply(std::span(r).first(9), p, 10, 20));
  EXPECT_TRUE(match_reply(std::span(r).first(10), p, 10, 20));
  EXPECT_FALSE(match_reply(std::span(r).first(10), p, 11, 10));  // min > max: always fails
}

TEST(UdpCheck, Outcome) {
  auto p = parse_require_reply("ff").value();
  std::array<uint8_t, 1> good{0xff}, bad{0x00};
  // Without require_reply: silence and any reply pass, an ICMP unreachable fails.
  EXPECT_TRUE(udp_check_passes(UdpEvent::kTimeout, false, {}, nullptr));
  EXPECT_TRUE(udp_check_passes(UdpEvent::kReply, false, bad, nullptr));
  EXPECT_FALSE(udp_check_passes(UdpEvent::kUnreachable, false, {}, nullptr));
  // With it: silence fails; a reply is matched, or passes as it is without a hex string.
  EXPECT_FALSE(udp_check_passes(UdpEvent::kTimeout, true, {}, &p));
  EXPECT_TRUE(udp_check_passes(UdpEvent::kReply, true, good, &p));
  EXPECT_FALSE(udp_check_passes(UdpEvent::kReply, true, bad, &p));
  EXPECT_TRUE(udp_check_passes(UdpEvent::kReply, true, bad, nullptr));
  EXPECT_FALSE(udp_check_passes(UdpEvent::kUnreachable, true, good, &p));
}

TEST(UdpPayload, KeepalivedDefault) {
  std::array<uint8_t, 40> out{};
  ASSERT_EQ(default_udp_payload(out), 32u);
  EXPECT_EQ(std::string(out.begin(), out.begin() + 32), "keepalived check - keepalived ch");
  EXPECT_EQ(default_udp_payload(std::span(out).first(31)), 0u);
}

}  // namespace
}  // namespace vs::check

// The VRRP advertisement view (src/wire/vrrp.hpp) against adverts Debian's keepalived 2.2.7 sent
// (captured in a two-namespace lab, written out byte by byte): a version 2 multicast advert and
// a version 3 unicast one, whose checksum includes the IPv4 pseudo-header with the unicast
// destination.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "base/addr.hpp"
#include "wire/vrrp.hpp"

namespace vs::wire {
namespace {

constexpr Ipv4Addr ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Ipv4Addr::from_octets(a, b, c, d); }

// 10.99.0.2 -> 224.0.0.18: version 2, advertisement, VRID 51, priority 100, 1 address, auth type
// 0, interval 1 s, checksum 0x7003, 10.99.0.100, 8 bytes of zero authentication data.
constexpr std::array<uint8_t, 20> kV2 = {0x21, 0x33, 0x64, 0x01, 0x00, 0x01, 0x70, 0x03, 0x0a, 0x63,
                                         0x00, 0x64, 0,    0,    0,    0,    0,    0,    0,    0};
// 10.99.0.1 -> 10.99.0.2: version 3, VRID 52, priority 150, 1 address, interval 50 cs, checksum
// 0x1828 (with the pseudo-header; 0x2d6d without), 10.99.0.200.
constexpr std::array<uint8_t, 12> kV3 = {0x31, 0x34, 0x96, 0x01, 0x00, 0x32, 0x18, 0x28, 0x0a, 0x63, 0x00, 0xc8};

TEST(VrrpView, ParsesKeepalivedsVersion2Advert) {
  auto v = VrrpView<const uint8_t>::parse(kV2);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->version(), 2);
  EXPECT_EQ(v->vrid(), 51);
  EXPECT_EQ(v->priority(), 100);
  EXPECT_EQ(v->count(), 1);
  EXPECT_EQ(v->auth_type(), 0);
  EXPECT_EQ(v->interval_cs(), 100u);
  EXPECT_EQ(v->address(0), ip(10, 99, 0, 100));
  EXPECT_EQ(v->auth_data().size(), 8u);
  EXPECT_TRUE(v->verify_checksum(ip(10, 99, 0, 2), ip(224, 0, 0, 18)));
}

TEST(VrrpView, Version3ChecksumHasThePseudoHeaderWithTheUnicastDestination) {
  auto v = VrrpView<const uint8_t>::parse(kV3);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->version(), 3);
  EXPECT_EQ(v->vrid(), 52);
  EXPECT_EQ(v->priority(), 150);
  EXPECT_EQ(v->interval_cs(), 50u);
  EXPECT_EQ(v->address(0), ip(10, 99, 0, 200));
  EXPECT_TRUE(v->auth_data().empty());
  EXPECT_TRUE(v->verify_checksum(ip(10, 99, 0, 1), ip(10, 99, 0, 2)));
  EXPECT_FALSE(v->verify_checksum(ip(10, 99, 0, 1), ip(224, 0, 0, 18))) << "the multicast group is not in it";
  EXPECT_FALSE(v->verify_checksum(ip(10, 99, 0, 1), ip(10, 99, 0, 2), /*with_pseudo=*/false));
  // The same advert as a vendor sends it without the pseudo-header (0x2d6d): accepted by _any.
  auto bare = kV3;
  bare[6] = 0x2d;
  bare[7] = 0x6d;
  auto b = VrrpView<const uint8_t>::parse(bare);
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->verify_checksum(ip(10, 99, 0, 1), ip(10, 99, 0, 2)));
  EXPECT_TRUE(b->verify_checksum_any(ip(10, 99, 0, 1), ip(10, 99, 0, 2)));
}

TEST(VrrpView, BuildsTheSameBytesKeepalivedSent) {
  std::array<uint8_t, 20> v2{};
  auto w2 = VrrpView<uint8_t>::unchecked(v2);
  w2.fill(2, 51, 100, 1, VrrpView<uint8_t>::kAuthNone, 100);
  w2.set_address(0, ip(10, 99, 0, 100));
  w2.fill_checksum(ip(10, 99, 0, 2), ip(224, 0, 0, 18));
  EXPECT_EQ(v2, kV2);
  std::array<uint8_t, 12> v3{};
  auto w3 = VrrpView<uint8_t>::unchecked(v3);
  w3.fill(3, 52, 150, 1, 0, 50);
  w3.set_address(0, ip(10, 99, 0, 200));
  w3.fill_checksum(ip(10, 99, 0, 1), ip(10, 99, 0, 2));
  EXPECT_EQ(v3, kV3);
}

TEST(VrrpView, RefusesWhatIsNotAnAdvertOfItsOwnLength) {
  auto parses = [](std::vector<uint8_t> b) { return VrrpView<const uint8_t>::parse(b).has_value(); };
  EXPECT_TRUE(parses(std::vector<uint8_t>(kV2.begin(), kV2.end())));
  EXPECT_FALSE(parses({0x21, 0x33, 0x64}));                                // shorter than a header
  EXPECT_FALSE(parses(std::vector<uint8_t>(kV2.begin(), kV2.end() - 1)));  // auth data cut
  auto longer = std::vector<uint8_t>(kV2.begin(), kV2.end());
  longer.push_back(0);
  EXPECT_FALSE(parses(longer));  // trailing bytes
  auto v1 = std::vector<uint8_t>(kV2.begin(), kV2.end());
  v1[0] = 0x11;
  EXPECT_FALSE(parses(v1));  // version 1
  auto type2 = std::vector<uint8_t>(kV3.begin(), kV3.end());
  type2[0] = 0x32;
  EXPECT_FALSE(parses(type2));  // not an advertisement
  auto count = std::vector<uint8_t>(kV3.begin(), kV3.end());
  count[3] = 2;
  EXPECT_FALSE(parses(count));  // the count claims an address that is not there
}

}  // namespace
}  // namespace vs::wire

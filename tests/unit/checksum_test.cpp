// Internet checksum (RFC 1071) and incremental update (RFC 1624) tests.
//
// Expected values come from the RFCs, from hand arithmetic shown in comments, or from the
// small independent reference implementation below (ref_*), never from the code under test.

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "base/addr.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace vs::wire {
namespace {

// ---------------------------------------------------------------------------------------------
// Reference implementation: the textbook RFC 1071 loop with a 64-bit accumulator.

uint64_t ref_add(uint64_t acc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) acc += (i % 2 == 0) ? uint64_t{p[i]} << 8 : uint64_t{p[i]};
  return acc;
}
uint16_t ref_fold(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}
uint16_t ref_checksum(const std::vector<uint8_t>& b) {
  return static_cast<uint16_t>(~ref_fold(ref_add(0, b.data(), b.size())));
}

/// TCP/UDP checksum over pseudo-header (RFC 793 §3.1 / RFC 768) + segment, checksum field as is.
uint16_t ref_l4_checksum(Ipv4Addr src, Ipv4Addr dst, uint8_t proto, const std::vector<uint8_t>& seg) {
  const uint8_t ph[12] = {static_cast<uint8_t>(src.v >> 24),
                          static_cast<uint8_t>(src.v >> 16),
                          static_cast<uint8_t>(src.v >> 8),
                          static_cast<uint8_t>(src.v),
                          static_cast<uint8_t>(dst.v >> 24),
                          static_cast<uint8_t>(dst.v >> 16),
                          static_cast<uint8_t>(dst.v >> 8),
                          static_cast<uint8_t>(dst.v),
                          0,
                          proto,
                          static_cast<uint8_t>(seg.size() >> 8),
                          static_cast<uint8_t>(seg.size())};
  uint64_t acc = ref_add(0, ph, sizeof ph);
  acc = ref_add(acc, seg.data(), seg.size());
  return static_cast<uint16_t>(~ref_fold(acc));
}

void put16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}
uint16_t get16(const std::vector<uint8_t>& b, size_t off) { return static_cast<uint16_t>(b[off] << 8 | b[off + 1]); }

/// IPv4 header checksum recomputed from scratch by the reference.
uint16_t ref_ipv4_checksum(std::vector<uint8_t> hdr) {
  put16(hdr, 10, 0);
  return ref_checksum(hdr);
}
uint16_t ref_tcp_checksum(Ipv4Addr src, Ipv4Addr dst, std::vector<uint8_t> seg) {
  put16(seg, 16, 0);
  return ref_l4_checksum(src, dst, 6, seg);
}
/// RFC 768: a computed 0 is transmitted as all ones.
uint16_t ref_udp_checksum(Ipv4Addr src, Ipv4Addr dst, std::vector<uint8_t> seg) {
  put16(seg, 6, 0);
  uint16_t c = ref_l4_checksum(src, dst, 17, seg);
  return c == 0 ? 0xffff : c;
}

std::vector<uint8_t> random_bytes(std::mt19937& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& x : v) x = static_cast<uint8_t>(rng());
  return v;
}

constexpr int kRewrites = 100000;

// ---------------------------------------------------------------------------------------------
// sum / fold / finish / compute / verify

// RFC 1071 §3 numerical example:
//   bytes 00 01 f2 03 f4 f5 f6 f7
//   0001 + f203 + f4f5 + f6f7 = 2ddf0, fold -> ddf0 + 2 = ddf2, checksum = ~ddf2 = 220d
constexpr uint8_t kRfc1071Example[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

TEST(Checksum, Rfc1071ExampleSum) {
  EXPECT_EQ(csum::fold(csum::sum(kRfc1071Example)), 0xddf2);
  EXPECT_EQ(csum::compute(kRfc1071Example), 0x220d);
}

TEST(Checksum, Rfc1071ExampleIsConstexpr) {
  static_assert(csum::fold(csum::sum(kRfc1071Example)) == 0xddf2);
  static_assert(csum::compute(kRfc1071Example) == 0x220d);
  SUCCEED();
}

TEST(Checksum, Rfc1071ByteSwappedInputGivesByteSwappedSum) {
  // RFC 1071 §2(B): byte order independence. Swapping each pair swaps the sum: f2dd.
  constexpr uint8_t swapped[] = {0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6};
  EXPECT_EQ(csum::fold(csum::sum(swapped)), 0xf2dd);
}

TEST(Checksum, AppendingTheChecksumVerifies) {
  // The example followed by its checksum 22 0d sums to ffff.
  constexpr uint8_t with_ck[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0x22, 0x0d};
  EXPECT_TRUE(csum::verify(with_ck));
  EXPECT_EQ(csum::fold(csum::sum(with_ck)), 0xffff);
}

TEST(Checksum, EmptySpanSumsToZero) {
  EXPECT_EQ(csum::sum({}), 0u);
  EXPECT_EQ(csum::compute({}), 0xffff);
  EXPECT_FALSE(csum::verify({}));
}

TEST(Checksum, OddLengthPadsTrailingByteWithZero) {
  // 01 02 03 -> 0102 + 0300 = 0402; checksum fbfd.
  constexpr uint8_t odd[] = {0x01, 0x02, 0x03};
  EXPECT_EQ(csum::fold(csum::sum(odd)), 0x0402);
  EXPECT_EQ(csum::compute(odd), 0xfbfd);
  // A single byte ab is the word ab00.
  constexpr uint8_t one[] = {0xab};
  EXPECT_EQ(csum::fold(csum::sum(one)), 0xab00);
}

TEST(Checksum, OddLengthMatchesReferenceForEveryLength) {
  std::mt19937 rng(1071);
  for (size_t n = 0; n < 300; ++n) {
    auto b = random_bytes(rng, n);
    EXPECT_EQ(csum::compute(b), ref_checksum(b)) << "length " << n;
  }
}

TEST(Checksum, SumChainsOverSpansViaAccumulator) {
  // sum(b2, sum(b1)) == sum(b1 ++ b2) when b1 has even length.
  constexpr uint8_t b1[] = {0x00, 0x01, 0xf2, 0x03};
  constexpr uint8_t b2[] = {0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(csum::fold(csum::sum(b2, csum::sum(b1))), 0xddf2);
}

TEST(Checksum, CarriesWrapAround) {
  // ffff + 0001 = 10000 -> 0000 + 1 = 0001 (end-around carry).
  constexpr uint8_t b[] = {0xff, 0xff, 0x00, 0x01};
  EXPECT_EQ(csum::fold(csum::sum(b)), 0x0001);
  EXPECT_EQ(csum::fold(0x1fffe), 0xffff);
  EXPECT_EQ(csum::fold(0xffffffff), 0xffff);
  EXPECT_EQ(csum::fold(0), 0);
  EXPECT_EQ(csum::finish(0x2ddf0), 0x220d);
}

TEST(Checksum, SumDoesNotOverflowOnVeryLongSpans) {
  // 1 MiB of ff: 2^19 words of ffff. In one's complement ffff is (negative) zero, so the
  // folded sum is ffff. A 32-bit accumulator without intermediate folding wraps at 2^32 and
  // loses carries (it would give fff8).
  std::vector<uint8_t> b(size_t{1} << 20, 0xff);
  EXPECT_EQ(csum::fold(csum::sum(b)), 0xffff);
  std::vector<uint8_t> c(size_t{1} << 20, 0x5a);
  EXPECT_EQ(csum::compute(c), ref_checksum(c));
}

TEST(Checksum, SumOfMaxSizeDatagramMatchesReference) {
  std::mt19937 rng(65535);
  auto b = random_bytes(rng, 65535);
  EXPECT_EQ(csum::compute(b), ref_checksum(b));
}

TEST(Checksum, WordAtATimeSumMatchesReferenceAtEveryLengthAlignmentAndAccumulator) {
  // sum() reads 8 bytes per step at run time: every length (tails of 0..7 bytes), every
  // alignment of the first byte, and accumulators small and large must give the reference's
  // folded sum, including 0 for all-zero data (not 0xffff: verify() tells them apart).
  std::mt19937 rng(1624);
  std::vector<uint8_t> buf(300 + 8);
  for (auto& x : buf) x = static_cast<uint8_t>(rng());
  const uint32_t accs[] = {0, 1, 0xffff, 0x1fffe, 0xfffffffe, 0xffffffff, static_cast<uint32_t>(rng())};
  for (size_t off = 0; off < 8; ++off) {
    for (size_t n = 0; n <= 300; ++n) {
      std::span<const uint8_t> b(buf.data() + off, n);
      for (uint32_t acc : accs) {
        const uint16_t want = ref_fold(ref_add(acc, b.data(), n));
        ASSERT_EQ(csum::fold(csum::sum(b, acc)), want) << "offset " << off << " length " << n << " acc " << acc;
        ASSERT_EQ(csum::fold(csum::sum(b, acc)), csum::fold(csum::detail::sum_bytes(b, acc)));
      }
    }
  }
  std::vector<uint8_t> zeros(77, 0);
  EXPECT_EQ(csum::sum(zeros), 0u);
  EXPECT_EQ(csum::fold(csum::sum(std::span<const uint8_t>(zeros).subspan(3))), 0);
  std::vector<uint8_t> ones(21, 0xff);  // odd: ff..ff ff00
  EXPECT_EQ(csum::fold(csum::sum(ones)), ref_fold(ref_add(0, ones.data(), ones.size())));
}

// Wikipedia "IPv4 header checksum" example:
//   4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7
constexpr uint8_t kWikiIpv4Header[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                       0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

TEST(Checksum, VerifyAcceptsValidHeader) { EXPECT_TRUE(csum::verify(kWikiIpv4Header)); }

TEST(Checksum, ComputeOverZeroedFieldGivesStoredChecksum) {
  std::vector<uint8_t> h(std::begin(kWikiIpv4Header), std::end(kWikiIpv4Header));
  put16(h, 10, 0);
  EXPECT_EQ(csum::compute(h), 0xb861);
}

TEST(Checksum, VerifyRejectsEverySingleBitFlip) {
  // One's complement sum detects every single-bit error.
  for (size_t bit = 0; bit < sizeof kWikiIpv4Header * 8; ++bit) {
    std::vector<uint8_t> h(std::begin(kWikiIpv4Header), std::end(kWikiIpv4Header));
    h[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
    EXPECT_FALSE(csum::verify(h)) << "bit " << bit;
  }
}

TEST(Checksum, VerifyAcceptsNegativeZeroChecksumField) {
  // ffff and 0000 are both zero in one's complement: a header whose sum is ffff verifies
  // whichever of the two is stored, as long as the sum is ffff. Here: data word 0x1234 and
  // checksum ~0x1234 = edcb.
  constexpr uint8_t b[] = {0x12, 0x34, 0xed, 0xcb};
  EXPECT_TRUE(csum::verify(b));
}

TEST(Checksum, PseudoHeaderSum) {
  // 192.168.1.10 -> 192.168.1.1, UDP, length 37:
  //   c0a8 + 010a = c1b2; + c0a8 = 1825a; + 0101 = 1835b; + 0011 = 1836c; + 0025 = 18391
  EXPECT_EQ(csum::pseudo_header(Ipv4Addr{0xc0a8010a}, Ipv4Addr{0xc0a80101}, IpProto::kUdp, 37), 0x18391u);
  EXPECT_EQ(csum::fold(csum::pseudo_header(Ipv4Addr{0xc0a8010a}, Ipv4Addr{0xc0a80101}, IpProto::kUdp, 37)), 0x8392);
}

// ---------------------------------------------------------------------------------------------
// RFC 1624 incremental update

TEST(ChecksumUpdate, Rfc1624Section4Example) {
  // RFC 1624 §4: C = cd7a (sum of the rest), m = 5555 -> m' = 3285.
  //   HC  = ~(cd7a + 5555) = ~22d0 = dd2f
  //   HC' = ~(cd7a + 3285) = ~ffff = 0000  (eqn. 2 would wrongly give ffff)
  EXPECT_EQ(csum::update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

TEST(ChecksumUpdate, NoChangeKeepsChecksum) {
  EXPECT_EQ(csum::update16(0xb861, 0x4011, 0x4011), 0xb861);
  EXPECT_EQ(csum::update32(0xb861, 0xc0a80001, 0xc0a80001), 0xb861);
}

TEST(ChecksumUpdate, TtlDecrementByHand) {
  // Wikipedia header, TTL 64 -> 63: word 4011 -> 3f11, sum drops by 0100, checksum b861 -> b961.
  EXPECT_EQ(csum::update16(0xb861, 0x4011, 0x3f11), 0xb961);
}

TEST(ChecksumUpdate, Update32EqualsTwoUpdate16) {
  std::mt19937 rng(32);
  for (int i = 0; i < 10000; ++i) {
    uint16_t hc = static_cast<uint16_t>(rng() % 0xffff);  // 0000..fffe: what a full compute yields
    uint32_t o = rng(), n = rng();
    uint16_t two = csum::update16(csum::update16(hc, static_cast<uint16_t>(o >> 16), static_cast<uint16_t>(n >> 16)),
                                  static_cast<uint16_t>(o), static_cast<uint16_t>(n));
    EXPECT_EQ(csum::update32(hc, o, n), two);
  }
}

TEST(ChecksumUpdate, Update16MatchesRecomputationOnRandomWords) {
  // A 20-byte block (first word non-zero so the sum can never be +0), one random word
  // rewritten at a time; update16 must agree with the reference recomputation each time.
  std::mt19937 rng(1624);
  for (int i = 0; i < kRewrites; ++i) {
    auto b = random_bytes(rng, 20);
    b[0] |= 0x40;
    put16(b, 10, 0);
    put16(b, 10, ref_checksum(b));
    constexpr size_t kWordOffsets[] = {0, 2, 4, 6, 8, 12, 14, 16, 18};  // all but the checksum (10)
    size_t w = kWordOffsets[rng() % 9];
    uint16_t old_w = get16(b, w);
    uint16_t new_w = static_cast<uint16_t>(rng());
    if (w == 0) new_w |= 0x4000;
    uint16_t hc = csum::update16(get16(b, 10), old_w, new_w);
    put16(b, w, new_w);
    put16(b, 10, 0);
    ASSERT_EQ(hc, ref_checksum(b)) << "iteration " << i;
  }
}

// ---------------------------------------------------------------------------------------------
// IPv4 header: set_src/dst_update_checksum and decrement_ttl against full recomputation

std::vector<uint8_t> random_ipv4_header(std::mt19937& rng) {
  auto h = random_bytes(rng, 20);
  h[0] = 0x45;
  put16(h, 10, 0);
  put16(h, 10, ref_checksum(h));
  return h;
}

TEST(ChecksumUpdate, Ipv4AddressRewritesMatchRecomputation) {
  std::mt19937 rng(791);
  for (int i = 0; i < kRewrites; ++i) {
    auto h = random_ipv4_header(rng);
    auto v = Ipv4View<uint8_t>::unchecked(h);
    Ipv4Addr a{static_cast<uint32_t>(rng())};
    if (rng() & 1) v.set_src_update_checksum(a);
    else v.set_dst_update_checksum(a);
    ASSERT_EQ(v.checksum(), ref_ipv4_checksum(h)) << "iteration " << i;
    ASSERT_TRUE(v.verify_checksum());
  }
}

TEST(ChecksumUpdate, Ipv4ChainedRewritesStayValid) {
  // Many NAT rewrites on the same header: errors must not accumulate.
  std::mt19937 rng(1812);
  auto h = random_ipv4_header(rng);
  auto v = Ipv4View<uint8_t>::unchecked(h);
  for (int i = 0; i < kRewrites; ++i) {
    switch (rng() % 3) {
      case 0: v.set_src_update_checksum(Ipv4Addr{static_cast<uint32_t>(rng())}); break;
      case 1: v.set_dst_update_checksum(Ipv4Addr{static_cast<uint32_t>(rng())}); break;
      default:
        v.set_ttl(static_cast<uint8_t>(rng() % 255 + 1));
        v.fill_checksum();
        v.decrement_ttl();
        break;
    }
    ASSERT_EQ(v.checksum(), ref_ipv4_checksum(h)) << "iteration " << i;
  }
}

TEST(ChecksumUpdate, DecrementTtlKeepsChecksumValidForEveryTtl) {
  std::mt19937 rng(5831);
  for (int rep = 0; rep < 400; ++rep) {
    auto h = random_ipv4_header(rng);
    for (int ttl = 1; ttl <= 255; ++ttl) {
      h[8] = static_cast<uint8_t>(ttl);
      put16(h, 10, ref_ipv4_checksum(h));
      auto v = Ipv4View<uint8_t>::unchecked(h);
      v.decrement_ttl();
      ASSERT_EQ(v.ttl(), ttl - 1);
      ASSERT_TRUE(v.verify_checksum()) << "ttl " << ttl;
      ASSERT_EQ(v.checksum(), ref_ipv4_checksum(h)) << "ttl " << ttl;
    }
  }
}

TEST(ChecksumUpdate, DecrementTtlRepeatedlyFrom255ToZero) {
  // Wikipedia header: decrement all the way down, one step at a time.
  std::vector<uint8_t> h(std::begin(kWikiIpv4Header), std::end(kWikiIpv4Header));
  h[8] = 255;
  put16(h, 10, ref_ipv4_checksum(h));
  auto v = Ipv4View<uint8_t>::unchecked(h);
  for (int ttl = 255; ttl >= 1; --ttl) {
    v.decrement_ttl();
    ASSERT_EQ(v.ttl(), ttl - 1);
    ASSERT_EQ(v.checksum(), ref_ipv4_checksum(h)) << "ttl " << ttl;
  }
}

// ---------------------------------------------------------------------------------------------
// TCP: port and pseudo-header address rewrites

TEST(ChecksumUpdate, TcpRewritesMatchRecomputation) {
  std::mt19937 rng(793);
  for (int i = 0; i < kRewrites; ++i) {
    size_t hl = 20 + 4 * (rng() % 11);  // data offset 5..15
    auto seg = random_bytes(rng, hl + rng() % 64);
    seg[12] = static_cast<uint8_t>((hl / 4) << 4 | (seg[12] & 0x0f));
    Ipv4Addr src{static_cast<uint32_t>(rng())}, dst{static_cast<uint32_t>(rng())};
    put16(seg, 16, ref_tcp_checksum(src, dst, seg));

    auto v = TcpView<uint8_t>::parse(seg);
    ASSERT_TRUE(v);
    ASSERT_TRUE(v->verify_checksum(src, dst));
    uint16_t p = static_cast<uint16_t>(rng());
    Ipv4Addr a{static_cast<uint32_t>(rng())};
    switch (rng() % 4) {
      case 0: v->set_sport_update_checksum(p); break;
      case 1: v->set_dport_update_checksum(p); break;
      case 2:
        v->update_checksum_for_addr(src, a);
        src = a;
        break;
      default:
        v->update_checksum_for_addr(dst, a);
        dst = a;
        break;
    }
    ASSERT_EQ(v->checksum(), ref_tcp_checksum(src, dst, seg)) << "iteration " << i;
    ASSERT_TRUE(v->verify_checksum(src, dst));
  }
}

TEST(ChecksumUpdate, TcpFullNatRewriteMatchesRecomputation) {
  // Both ports and both addresses at once, as a full-NAT forwarder does.
  std::mt19937 rng(3022);
  for (int i = 0; i < kRewrites; ++i) {
    auto seg = random_bytes(rng, 20 + rng() % 1460);
    seg[12] = 0x50;
    Ipv4Addr src{static_cast<uint32_t>(rng())}, dst{static_cast<uint32_t>(rng())};
    put16(seg, 16, ref_tcp_checksum(src, dst, seg));
    auto v = TcpView<uint8_t>::unchecked(seg);
    Ipv4Addr nsrc{static_cast<uint32_t>(rng())}, ndst{static_cast<uint32_t>(rng())};
    v.set_sport_update_checksum(static_cast<uint16_t>(rng()));
    v.set_dport_update_checksum(static_cast<uint16_t>(rng()));
    v.update_checksum_for_addr(src, nsrc);
    v.update_checksum_for_addr(dst, ndst);
    ASSERT_EQ(v.checksum(), ref_tcp_checksum(nsrc, ndst, seg)) << "iteration " << i;
  }
}

TEST(ChecksumUpdate, TcpFillChecksumMatchesReference) {
  std::mt19937 rng(9293);
  for (int i = 0; i < 10000; ++i) {
    auto seg = random_bytes(rng, 20 + rng() % 200);
    seg[12] = 0x50;
    Ipv4Addr src{static_cast<uint32_t>(rng())}, dst{static_cast<uint32_t>(rng())};
    auto v = TcpView<uint8_t>::unchecked(seg);
    v.fill_checksum(src, dst);
    ASSERT_EQ(v.checksum(), ref_tcp_checksum(src, dst, seg));
    ASSERT_TRUE(v.verify_checksum(src, dst));
  }
}

// ---------------------------------------------------------------------------------------------
// UDP: the same, plus the zero-checksum rules of RFC 768

std::vector<uint8_t> random_udp(std::mt19937& rng) {
  auto seg = random_bytes(rng, 8 + rng() % 64);
  put16(seg, 4, static_cast<uint16_t>(seg.size()));
  return seg;
}

TEST(ChecksumUpdate, UdpRewritesMatchRecomputation) {
  std::mt19937 rng(768);
  for (int i = 0; i < kRewrites; ++i) {
    auto seg = random_udp(rng);
    Ipv4Addr src{static_cast<uint32_t>(rng())}, dst{static_cast<uint32_t>(rng())};
    put16(seg, 6, ref_udp_checksum(src, dst, seg));
    auto v = UdpView<uint8_t>::parse(seg);
    ASSERT_TRUE(v);
    ASSERT_TRUE(v->verify_checksum(src, dst));
    uint16_t p = static_cast<uint16_t>(rng());
    Ipv4Addr a{static_cast<uint32_t>(rng())};
    switch (rng() % 4) {
      case 0: v->set_sport_update_checksum(p); break;
      case 1: v->set_dport_update_checksum(p); break;
      case 2:
        v->update_checksum_for_addr(src, a);
        src = a;
        break;
      default:
        v->update_checksum_for_addr(dst, a);
        dst = a;
        break;
    }
    ASSERT_NE(v->checksum(), 0) << "iteration " << i;
    ASSERT_EQ(v->checksum(), ref_udp_checksum(src, dst, seg)) << "iteration " << i;
    ASSERT_TRUE(v->verify_checksum(src, dst));
  }
}

TEST(ChecksumUpdate, UdpZeroChecksumStaysZeroOnEveryRewrite) {
  std::mt19937 rng(7680);
  for (int i = 0; i < kRewrites; ++i) {
    auto seg = random_udp(rng);
    put16(seg, 6, 0);
    auto v = UdpView<uint8_t>::unchecked(seg);
    uint16_t p = static_cast<uint16_t>(rng());
    Ipv4Addr a{static_cast<uint32_t>(rng())}, b{static_cast<uint32_t>(rng())};
    switch (rng() % 3) {
      case 0:
        v.set_sport_update_checksum(p);
        ASSERT_EQ(v.sport(), p);
        break;
      case 1:
        v.set_dport_update_checksum(p);
        ASSERT_EQ(v.dport(), p);
        break;
      default: v.update_checksum_for_addr(a, b); break;
    }
    ASSERT_EQ(v.checksum(), 0) << "iteration " << i;
    ASSERT_TRUE(v.verify_checksum(a, b));
  }
}

// 10.0.0.1:1234 -> 10.0.0.2:5678, length 10, two payload bytes chosen so the sum is ffff:
//   pseudo: 0a00 + 0001 + 0a00 + 0002 + 0011 + 000a = 141e
//   header: 04d2 + 162e + 000a + [0000]             = 1b0a
//   141e + 1b0a = 2f28; payload word = ~2f28 = d0d7; total ffff -> computed checksum 0000.
constexpr Ipv4Addr kZeroSrc{0x0a000001}, kZeroDst{0x0a000002};
constexpr uint8_t kUdpComputesZero[] = {
    0x04, 0xd2,  // sport 1234
    0x16, 0x2e,  // dport 5678
    0x00, 0x0a,  // length 10
    0xa5, 0xa5,  // checksum (to be filled)
    0xd0, 0xd7,  // payload
};

TEST(ChecksumUpdate, UdpComputedZeroIsSentAsFfff) {
  std::vector<uint8_t> seg(std::begin(kUdpComputesZero), std::end(kUdpComputesZero));
  auto v = UdpView<uint8_t>::unchecked(seg);
  v.fill_checksum(kZeroSrc, kZeroDst);
  EXPECT_EQ(v.checksum(), 0xffff);
  EXPECT_TRUE(v.verify_checksum(kZeroSrc, kZeroDst));
}

TEST(ChecksumUpdate, UdpIncrementalUpdateToComputedZeroGivesFfff) {
  // Same datagram with payload d0d6 and sport 1234: sum 2f28 + d0d6 = fffe, checksum 0001.
  // Changing sport to 1235 makes the sum ffff, i.e. computed checksum 0000 -> sent as ffff.
  std::vector<uint8_t> seg(std::begin(kUdpComputesZero), std::end(kUdpComputesZero));
  seg[9] = 0xd6;
  put16(seg, 6, 0x0001);
  auto v = UdpView<uint8_t>::unchecked(seg);
  ASSERT_TRUE(v.verify_checksum(kZeroSrc, kZeroDst));
  v.set_sport_update_checksum(1235);
  EXPECT_EQ(v.checksum(), 0xffff);
  EXPECT_TRUE(v.verify_checksum(kZeroSrc, kZeroDst));
  // And back again: ffff is a valid starting point for the update (one's complement -0).
  v.set_sport_update_checksum(1234);
  EXPECT_EQ(v.checksum(), 0x0001);
}

TEST(ChecksumUpdate, UdpFillChecksumMatchesReference) {
  std::mt19937 rng(7681);
  for (int i = 0; i < 10000; ++i) {
    auto seg = random_udp(rng);
    Ipv4Addr src{static_cast<uint32_t>(rng())}, dst{static_cast<uint32_t>(rng())};
    auto v = UdpView<uint8_t>::unchecked(seg);
    v.fill_checksum(src, dst);
    ASSERT_EQ(v.checksum(), ref_udp_checksum(src, dst, seg));
    ASSERT_TRUE(v.verify_checksum(src, dst));
  }
}

}  // namespace
}  // namespace vs::wire

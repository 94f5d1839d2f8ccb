// IPv4 reassembly (src/frag/): order, duplicates, overlaps, oversize, expiry and the memory
// budgets, driven directly with hand-built fragments and a virtual clock.
#include "frag/reassembly.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "test_frames.hpp"

namespace vs {
namespace {

using test::ByteVec;
using test::ip4;

constexpr Ipv4Addr kSrc = ip4(192, 0, 2, 7);
constexpr Ipv4Addr kDst = ip4(10, 0, 0, 100);

struct Frag {
  size_t off = 0;  // bytes into the payload
  size_t len = 0;
  bool mf = false;
};

/// One IPv4 fragment of the datagram whose payload is pattern(payload_len): bytes [off, off+len).
ByteVec fragment(Frag f, uint16_t id = 0x1234, Ipv4Addr src = kSrc, bool df = false, uint8_t proto = 17) {
  ByteVec b;
  b.push_back(0x45);
  b.push_back(0);
  test::app16(b, static_cast<uint16_t>(20 + f.len));
  test::app16(b, id);
  test::app16(b, static_cast<uint16_t>((df ? 0x4000 : 0) | (f.mf ? 0x2000 : 0) | (f.off / 8)));
  b.push_back(64);
  b.push_back(proto);
  test::app16(b, 0);
  test::app32(b, src.v);
  test::app32(b, kDst.v);
  test::put16(b, 10, test::ref_checksum(std::span<const uint8_t>(b).first(20)));
  ByteVec all = test::pattern(f.off + f.len);
  b.insert(b.end(), all.begin() + static_cast<ptrdiff_t>(f.off), all.end());
  return b;
}

class FragTest : public ::testing::Test {
protected:
  void make(const frag::Params& p) { r_.emplace(p); }
  frag::Reassembler& r() { return *r_; }
  frag::Outcome put(const ByteVec& f, Instant now = Instant{0}) {
    auto ip = wire::Ipv4View<const uint8_t>::parse(std::span<const uint8_t>(f));
    EXPECT_TRUE(ip.has_value());
    return r().insert(*ip, now, out_);
  }
  /// The datagram just completed (insert's output).
  wire::Ipv4View<const uint8_t> datagram(size_t len) {
    return wire::Ipv4View<const uint8_t>::unchecked(std::span<const uint8_t>(out_).first(len));
  }
  void expect_whole(const frag::Outcome& o, size_t payload) {
    ASSERT_EQ(o.kind, frag::Outcome::Kind::kComplete);
    ASSERT_EQ(o.len, 20 + payload);
    auto ip = datagram(o.len);
    EXPECT_TRUE(test::ref_verify(ip.header()));
    EXPECT_EQ(ip.total_len(), 20 + payload);
    EXPECT_EQ(ip.flags_frag(), 0);
    EXPECT_EQ(ip.ident(), 0x1234);
    EXPECT_EQ(ip.src(), kSrc);
    EXPECT_EQ(ip.dst(), kDst);
    ByteVec got(ip.payload().begin(), ip.payload().end());
    EXPECT_EQ(got, test::pattern(payload));
    EXPECT_EQ(r().queues(), 0u);
    EXPECT_EQ(r().bytes(), 0u);
    EXPECT_EQ(r().fragments(), 0u);
  }
  void expect_held(const frag::Outcome& o) { EXPECT_EQ(o.kind, frag::Outcome::Kind::kHeld); }
  void expect_drop(const frag::Outcome& o, DropReason why, uint32_t frames) {
    EXPECT_EQ(o.kind, frag::Outcome::Kind::kDropped);
    EXPECT_EQ(drop_name(o.reason), drop_name(why));
    EXPECT_EQ(o.frames, frames);
  }

  std::optional<frag::Reassembler> r_{std::in_place, frag::Params{}};
  ByteVec out_ = ByteVec(65535);
};

TEST_F(FragTest, InOrderFragmentsMakeTheDatagram) {
  expect_held(put(fragment({0, 1480, true})));
  expect_held(put(fragment({1480, 1480, true})));
  EXPECT_EQ(r().queues(), 1u);
  EXPECT_EQ(r().fragments(), 2u);
  EXPECT_EQ(r().bytes(), 2 * 1536u) << "1480 bytes take six 256-byte chunks";
  expect_whole(put(fragment({2960, 100, false})), 3060);
}

TEST_F(FragTest, OutOfOrderFragmentsMakeTheDatagram) {
  expect_held(put(fragment({2960, 100, false})));
  expect_held(put(fragment({0, 1480, true})));
  expect_whole(put(fragment({1480, 1480, true})), 3060);
}

TEST_F(FragTest, DuplicateIsDroppedAloneAndTheDatagramCompletes) {
  expect_held(put(fragment({0, 16, true})));
  expect_held(put(fragment({16, 16, true})));
  expect_drop(put(fragment({16, 16, true})), DropReason::kFragDuplicate, 1);
  // Inside a run of two held fragments is a duplicate too (inet_frag_queue_insert's runs).
  expect_drop(put(fragment({8, 16, true})), DropReason::kFragDuplicate, 1);
  EXPECT_EQ(r().fragments(), 2u);
  expect_whole(put(fragment({32, 5, false})), 37);
}

TEST_F(FragTest, OverlapDiscardsTheWholeDatagram) {
  expect_held(put(fragment({0, 16, true})));
  expect_held(put(fragment({32, 16, true})));
  // [24, 40) overlaps [32, 48) without lying inside held data: everything goes (RFC 5722).
  expect_drop(put(fragment({24, 16, true})), DropReason::kFragOverlap, 3);
  EXPECT_EQ(r().queues(), 0u);
  EXPECT_EQ(r().bytes(), 0u);
  EXPECT_EQ(r().fragments(), 0u);
  // A later fragment starts a new datagram.
  expect_held(put(fragment({48, 8, false})));
  EXPECT_EQ(r().queues(), 1u);
}

TEST_F(FragTest, DatagramOver65535BytesIsDiscarded) {
  expect_held(put(fragment({0, 1480, true})));
  // 65520 + 20 bytes of data + 20 of header = 65560.
  expect_drop(put(fragment({65520, 20, false})), DropReason::kFragOversize, 2);
  EXPECT_EQ(r().queues(), 0u);
  // Exactly 65535 is allowed: 65512 + 3 + 20.
  expect_held(put(fragment({65512, 3, false}, 7)));
}

TEST_F(FragTest, InconsistentLastFragmentIsMalformed) {
  expect_held(put(fragment({0, 16, true})));
  expect_held(put(fragment({64, 8, false})));
  // Data beyond the last fragment: the datagram and its two held fragments go.
  expect_drop(put(fragment({80, 8, true})), DropReason::kFragMalformed, 3);
  // An empty fragment.
  expect_drop(put(fragment({8, 0, true})), DropReason::kFragMalformed, 1);
}

TEST_F(FragTest, DfOnTheLargestFragmentIsKept) {
  expect_held(put(fragment({0, 16, true}, 0x1234, kSrc, true)));
  auto o = put(fragment({16, 4, false}));
  ASSERT_EQ(o.kind, frag::Outcome::Kind::kComplete);
  EXPECT_TRUE(datagram(o.len).dont_fragment());
}

TEST_F(FragTest, DatagramsAreKeyedBySourceDestinationProtocolAndId) {
  expect_held(put(fragment({0, 16, true}, 1)));
  expect_held(put(fragment({0, 16, true}, 2)));
  expect_held(put(fragment({0, 16, true}, 1, ip4(192, 0, 2, 8))));
  expect_held(put(fragment({0, 16, true}, 1, kSrc, false, 6)));
  EXPECT_EQ(r().queues(), 4u);
  EXPECT_EQ(put(fragment({16, 1, false}, 1, kSrc, false, 6)).kind, frag::Outcome::Kind::kComplete);
  EXPECT_EQ(r().queues(), 3u);
}

TEST_F(FragTest, TimeoutExpiresTheQueueFromItsFirstFragment) {
  expect_held(put(fragment({0, 16, true}), Instant{0}));
  expect_held(put(fragment({32, 16, true}), Instant{20'000'000}));  // later fragments do not re-arm
  ASSERT_TRUE(r().next_deadline().has_value());
  EXPECT_EQ(r().next_deadline()->us, 30'000'000);
  ByteVec first(576);
  EXPECT_FALSE(r().expire(Instant{29'999'999}, first).has_value());
  auto e = r().expire(Instant{30'000'000}, first);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->frames, 2u);
  ASSERT_EQ(e->first_len, 36u) << "the first fragment as received, for ICMP time exceeded";
  EXPECT_EQ(ByteVec(first.begin(), first.begin() + 36), fragment({0, 16, true}));
  EXPECT_EQ(r().queues(), 0u);
  EXPECT_EQ(r().bytes(), 0u);
  EXPECT_FALSE(r().next_deadline().has_value());
}

TEST_F(FragTest, FirstFragmentMissingNeverPinsMemoryPastTheTimeout) {
  for (uint16_t id = 0; id < 100; ++id) expect_held(put(fragment({8, 512, true}, id), Instant{id * 1000}));
  EXPECT_EQ(r().queues(), 100u);
  ByteVec first(576);
  uint32_t frames = 0;
  while (auto e = r().expire(Instant{30'000'000 + 99'000}, first)) {
    EXPECT_EQ(e->first_len, 0u) << "no first fragment: no ICMP";
    frames += e->frames;
  }
  EXPECT_EQ(frames, 100u);
  EXPECT_EQ(r().queues(), 0u);
  EXPECT_EQ(r().bytes(), 0u);
  EXPECT_EQ(r().source_bytes(kSrc), 0u);
}

TEST_F(FragTest, SourceBudgetRefusesFragmentsButKeepsWhatIsHeld) {
  make({.max_queues = 16, .max_bytes = 64 * 1024, .max_bytes_per_source = 4096});
  for (uint16_t id = 0; id < 4; ++id) expect_held(put(fragment({0, 1024, true}, id)));
  EXPECT_EQ(r().source_bytes(kSrc), 4096u);
  expect_drop(put(fragment({0, 8, true}, 9)), DropReason::kFragSourceBudget, 1);
  expect_drop(put(fragment({1024, 8, false}, 0)), DropReason::kFragSourceBudget, 1);
  EXPECT_EQ(r().queues(), 4u);
  // Another source has its own share.
  expect_held(put(fragment({0, 8, true}, 9, ip4(192, 0, 2, 8))));
}

TEST_F(FragTest, TotalBudgetAndQueuePoolRefuseNewFragments) {
  make({.max_queues = 4, .max_bytes = 65536, .max_bytes_per_source = 65536});
  // 64 KiB = 256 chunks; 3 fragments of 21 KiB (84 chunks each) leave 4 chunks.
  for (uint16_t id = 0; id < 3; ++id) expect_held(put(fragment({0, 21 * 1024, true}, id)));
  expect_drop(put(fragment({0, 2048, true}, 3)), DropReason::kFragNoMemory, 1);
  expect_held(put(fragment({0, 8, true}, 3)));
  expect_drop(put(fragment({0, 8, true}, 4)), DropReason::kFragQueuesFull, 1);
  EXPECT_EQ(r().queues(), 4u);
  EXPECT_LE(r().bytes(), r().capacity_bytes());
}

TEST_F(FragTest, DisabledReassemblerHoldsNothing) {
  make({.max_queues = 0});
  EXPECT_FALSE(r().enabled());
  EXPECT_EQ(r().source_bytes(kSrc), 0u);
  EXPECT_FALSE(r().next_deadline().has_value());
}

// A flood of fragments whose first fragment never comes, from many sources: memory stays within
// the budget, every refused fragment is counted, the pool is whole again after the timeout, and
// a datagram then reassembles.
TEST_F(FragTest, FloodOfHeadlessFragmentsFromManySourcesStaysBounded) {
  const frag::Params p{.max_queues = 256, .max_bytes = 256 * 1024, .max_bytes_per_source = 16 * 1024};
  make(p);
  uint64_t held = 0, refused = 0;
  Instant now{0};
  for (uint32_t i = 0; i < 20000; ++i) {
    now = Instant{int64_t{i} * 100};  // 2 s of flood
    const Ipv4Addr src{0xc6120000u + (i % 1000)};
    auto o = put(fragment({8 + 8 * (i % 50), 1000 + (i % 480), true}, static_cast<uint16_t>(i), src), now);
    if (o.kind == frag::Outcome::Kind::kHeld) ++held;
    else if (o.kind == frag::Outcome::Kind::kDropped) refused += o.frames;
    ASSERT_LE(r().queues(), p.max_queues);
    ASSERT_LE(r().bytes(), size_t{p.max_bytes});
    ASSERT_LE(r().source_bytes(src), size_t{p.max_bytes_per_source});
  }
  EXPECT_EQ(held + refused, 20000u);
  EXPECT_GT(refused, 19000u) << "the pool fills and the rest is refused, counted";
  ByteVec first(576);
  uint32_t expired = 0;
  while (auto e = r().expire(now + Duration::seconds(30), first)) expired += e->frames;
  EXPECT_EQ(expired, held);
  EXPECT_EQ(r().queues(), 0u);
  EXPECT_EQ(r().bytes(), 0u);
  expect_held(put(fragment({0, 1480, true}), now + Duration::seconds(30)));
  expect_whole(put(fragment({1480, 20, false}), now + Duration::seconds(30)), 1500);
}

}  // namespace
}  // namespace vs

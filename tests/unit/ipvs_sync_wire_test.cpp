// The IPVS sync message codec (src/wire/ipvs_sync.hpp) against the kernel's layout
// (net/netfilter/ipvs/ip_vs_sync.c): version 1 built and read back, its bytes as tshark decoded
// them, the padding between entries, version 0, and every framing error and skipped entry of
// ip_vs_process_message / ip_vs_proc_sync_conn.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/addr.hpp"
#include "wire/ipvs_sync.hpp"

namespace vs::wire {
namespace {

constexpr Ipv4Addr ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Ipv4Addr::from_octets(a, b, c, d); }

SyncEntry dr_established() {
  SyncEntry e;
  e.protocol = 6;
  e.flags = sync_flag::kDroute;
  e.state = 1;  // ESTABLISHED
  e.cport = 40000;
  e.vport = 80;
  e.dport = 80;
  e.timeout_s = 900;
  e.caddr = ip(10, 0, 0, 2);
  e.vaddr = ip(10, 99, 99, 1);
  e.daddr = ip(10, 1, 0, 11);
  return e;
}

std::vector<SyncEntry> walk_all(std::span<const uint8_t> b, SyncError* err = nullptr) {
  std::vector<SyncEntry> out;
  auto m = SyncMessage::parse(b, err);
  if (!m) return out;
  const SyncError e = m->walk([&](const SyncEntry& x) { out.push_back(x); });
  if (err) *err = e;
  return out;
}

TEST(SyncMessage, Version1BuiltByteForByteAsTheKernelLaysItOut) {
  std::vector<uint8_t> buf(1472);
  SyncWriter w(buf, 5);
  SyncEntry a = dr_established();
  a.flags |= sync_flag::kHashed;  // never sent
  ASSERT_TRUE(w.add(a));
  SyncEntry b = dr_established();
  b.cport = 40001;
  b.has_seq = true;
  b.in_seq = {1, 2, 3};
  b.out_seq = {4, 5, 6};
  ASSERT_TRUE(w.add(b));
  // Header: reserved 0, syncid 5, size 8 + 36 + 62 = 106, 2 entries, version 1, spare 0; the
  // first entry as tshark 4.0 decoded the lab's hand-built message.
  const std::vector<uint8_t> head = {0x00, 0x05, 0x00, 0x6a, 0x02, 0x01, 0x00, 0x00,  // header
                                     0x00, 0x06, 0x00, 0x24, 0x00, 0x00, 0x00, 0x03,  // type proto size flags
                                     0x00, 0x01, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x50,  // state cport vport dport
                                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x84,  // fwmark timeout 900
                                     0x0a, 0x00, 0x00, 0x02, 0x0a, 0x63, 0x63, 0x01,  // caddr vaddr
                                     0x0a, 0x01, 0x00, 0x0b};                         // daddr
  ASSERT_EQ(w.size(), 106u);
  const auto msg = w.message();
  EXPECT_EQ(std::vector<uint8_t>(msg.begin(), msg.begin() + 44), head);
  // The second entry: size 62 (36 + the SEQ_DATA option: type 1, length 24).
  EXPECT_EQ(msg[44 + 2], 0x00);
  EXPECT_EQ(msg[44 + 3], 62);
  EXPECT_EQ(msg[44 + 36], 1);
  EXPECT_EQ(msg[44 + 37], 24);

  SyncError err{};
  const auto got = walk_all(msg, &err);
  EXPECT_EQ(err, SyncError::kNone);
  ASSERT_EQ(got.size(), 2u);
  a.flags &= ~sync_flag::kHashed;
  EXPECT_EQ(got[0], a);
  EXPECT_EQ(got[1], b);
  EXPECT_EQ(SyncMessage::parse(msg)->version(), 1);
  EXPECT_EQ(SyncMessage::parse(msg)->syncid(), 5);
}

TEST(SyncMessage, EntriesAfterAnUnalignedOneStartOnFourBytesAndTheWriterStopsWhenFull) {
  std::vector<uint8_t> buf(8 + 62 + 2 + 36);  // room for exactly these two
  SyncWriter w(buf);
  SyncEntry s = dr_established();
  s.has_seq = true;
  ASSERT_TRUE(w.add(s));
  EXPECT_EQ(w.size(), 70u);
  ASSERT_TRUE(w.add(dr_established()));
  EXPECT_EQ(w.size(), 108u) << "2 bytes of padding before the second entry";
  EXPECT_FALSE(w.add(dr_established())) << "full";
  EXPECT_EQ(w.count(), 2);
  const auto got = walk_all(w.message());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], dr_established());

  std::vector<uint8_t> big(65535);
  SyncWriter many(big);
  int n = 0;
  while (many.add(dr_established())) n++;
  EXPECT_EQ(n, 255) << "the count is one byte";
  w.reset();
  EXPECT_EQ(w.size(), 8u);
  EXPECT_EQ(w.count(), 0);
}

TEST(SyncMessage, Version0IsReadWithItsSequenceData) {
  // count 2, syncid 0, size 4 + 24 + 48 = 76; the second entry with IN_SEQ and its 24 bytes.
  std::vector<uint8_t> m = {2, 0, 0, 76};
  auto entry = [&](uint16_t flags, uint16_t cport) {
    const std::vector<uint8_t> e = {0,
                                    6,
                                    uint8_t(cport >> 8),
                                    uint8_t(cport),
                                    0,
                                    80,
                                    0x1f,
                                    0x90,  // 8080
                                    10,
                                    0,
                                    0,
                                    2,
                                    10,
                                    99,
                                    99,
                                    1,
                                    192,
                                    168,
                                    10,
                                    11,
                                    uint8_t(flags >> 8),
                                    uint8_t(flags),
                                    0,
                                    1};
    m.insert(m.end(), e.begin(), e.end());
  };
  entry(0, 1000);
  entry(sync_flag::kInSeq, 1001);
  for (uint8_t i = 1; i <= 24; ++i) m.push_back(i);
  auto msg = SyncMessage::parse(m);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->version(), 0);
  EXPECT_EQ(msg->count(), 2);
  SyncError err{};
  const auto got = walk_all(m, &err);
  EXPECT_EQ(err, SyncError::kNone);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].cport, 1000);
  EXPECT_EQ(got[0].dport, 8080);
  EXPECT_EQ(got[0].daddr, ip(192, 168, 10, 11));
  EXPECT_EQ(got[0].flags, 0u);
  EXPECT_EQ(got[0].timeout_s, 0u) << "version 0 has no timeout";
  EXPECT_FALSE(got[0].has_seq);
  EXPECT_TRUE(got[1].has_seq);
  EXPECT_EQ(got[1].in_seq.init_seq, 0x01020304u);
  EXPECT_EQ(got[1].out_seq.previous_delta, 0x15161718u);

  m.pop_back();  // the sequence data cut short (and the size adjusted)
  m[3] = 75;
  EXPECT_EQ(walk_all(m, &err).size(), 1u);
  EXPECT_EQ(err, SyncError::kEntryTruncated);
}

// A version 1 message of one entry `e` with raw options `opts` appended (sizes fixed up).
std::vector<uint8_t> with_options(const SyncEntry& e, const std::vector<uint8_t>& opts) {
  std::vector<uint8_t> buf(1472);
  SyncWriter w(buf);
  w.add(e);
  std::vector<uint8_t> m(w.message().begin(), w.message().end());
  m.insert(m.end(), opts.begin(), opts.end());
  m[2] = uint8_t(m.size() >> 8);
  m[3] = uint8_t(m.size());
  m[8 + 3] = uint8_t(36 + opts.size());
  return m;
}

TEST(SyncMessage, FramingErrorsStopTheWalk) {
  SyncError err{};
  EXPECT_FALSE(SyncMessage::parse(std::vector<uint8_t>{0, 1, 0}, &err));
  EXPECT_EQ(err, SyncError::kShort);

  std::vector<uint8_t> buf(1472);
  SyncWriter w(buf);
  w.add(dr_established());
  w.add(dr_established());
  std::vector<uint8_t> m(w.message().begin(), w.message().end());

  auto bad = m;
  bad.push_back(0);  // one byte more than the header says
  EXPECT_FALSE(SyncMessage::parse(bad, &err));
  EXPECT_EQ(err, SyncError::kSize);

  bad = m;
  bad[4] = 3;  // three entries announced, two present
  EXPECT_EQ(walk_all(bad, &err).size(), 2u);
  EXPECT_EQ(err, SyncError::kEntryTruncated);

  bad = m;
  bad[8 + 36 + 2] = 0x10;  // the second entry claims version 1
  EXPECT_EQ(walk_all(bad, &err).size(), 1u) << "the first entry stands";
  EXPECT_EQ(err, SyncError::kEntryVersion);

  bad = m;
  bad[8] = 2;  // neither IPv4 nor IPv6
  EXPECT_EQ(walk_all(bad, &err).size(), 0u);
  EXPECT_EQ(err, SyncError::kEntryType);

  bad = m;
  bad[8 + 3] = 200;  // an entry past the message
  walk_all(bad, &err);
  EXPECT_EQ(err, SyncError::kEntryTruncated);

  bad = m;
  bad[8] = 1;  // IPv6: 72 bytes, not in a 36-byte entry
  walk_all(bad, &err);
  EXPECT_EQ(err, SyncError::kEntryTruncated);

  const SyncEntry e = dr_established();
  walk_all(with_options(e, {0x41, 0, 0, 0}), &err);
  EXPECT_EQ(err, SyncError::kOption) << "length 0";
  walk_all(with_options(e, {1, 4, 0, 0, 0, 0}), &err);
  EXPECT_EQ(err, SyncError::kOption) << "SEQ_DATA of 4 bytes";
  walk_all(with_options(e, {0x41, 8, 0, 0}), &err);
  EXPECT_EQ(err, SyncError::kOption) << "past the entry";
  std::vector<uint8_t> twice = {1, 24};
  twice.resize(26);
  twice.push_back(1);
  twice.push_back(24);
  twice.resize(52);
  walk_all(with_options(e, twice), &err);
  EXPECT_EQ(err, SyncError::kOption) << "SEQ_DATA twice";
}

TEST(SyncMessage, EntriesTheKernelSkipsComeOutWithTheirReason) {
  SyncError err{};
  const SyncEntry base = dr_established();
  auto one = [&](const SyncEntry& e, const std::vector<uint8_t>& opts = {}) {
    const auto got = walk_all(with_options(e, opts), &err);
    EXPECT_EQ(err, SyncError::kNone);
    return got.size() == 1 ? got[0].skip : SyncSkip::kNone;
  };
  EXPECT_EQ(one(base), SyncSkip::kNone);
  EXPECT_EQ(one(base, {0x45, 2, 9, 9}), SyncSkip::kNone) << "an unknown optional option is skipped";
  EXPECT_EQ(one(base, {0x05, 2, 9, 9}), SyncSkip::kMandatoryOption);
  EXPECT_EQ(one(base, {2, 4, 'c', 'a', 'l', 'l', 3, 3, 's', 'i', 'p'}), SyncSkip::kPersistenceEngine);
  SyncEntry e = base;
  e.flags |= sync_flag::kOnePacket;
  EXPECT_EQ(one(e), SyncSkip::kFlags);
  e = base;
  e.flags |= sync_flag::kTemplate | sync_flag::kNoCport;
  EXPECT_EQ(one(e), SyncSkip::kFlags);
  e = base;
  e.state = 11;
  EXPECT_EQ(one(e), SyncSkip::kState) << "TCP has 11 states";
  e.protocol = 17;
  e.state = 1;
  EXPECT_EQ(one(e), SyncSkip::kState) << "UDP has one";
  e.protocol = 132;
  e.state = 0;
  EXPECT_EQ(one(e), SyncSkip::kProtocol) << "SCTP";
  e.flags = sync_flag::kTemplate;
  e.protocol = 0;  // a port-0 persistent service's template (IPPROTO_IP)
  e.state = 1;     // ASSURED
  EXPECT_EQ(one(e), SyncSkip::kNone);
  e.state = 2;
  EXPECT_EQ(one(e), SyncSkip::kState);
}

TEST(SyncMessage, AnIpv6EntryIsSkippedAndTheNextStillRead) {
  // An IPv6 entry (72 bytes) then an IPv4 one: the walk goes on past the skipped entry.
  std::vector<uint8_t> m = {0, 0, 0, 0, 2, 1, 0, 0};
  std::vector<uint8_t> v6(72, 0);
  v6[0] = 1;
  v6[1] = 6;
  v6[3] = 72;
  m.insert(m.end(), v6.begin(), v6.end());
  std::vector<uint8_t> buf(64);
  SyncWriter w(buf);
  w.add(dr_established());
  for (size_t k = 8; k < w.size(); ++k) m.push_back(buf[k]);
  m[3] = uint8_t(m.size());
  SyncError err{};
  const auto got = walk_all(m, &err);
  EXPECT_EQ(err, SyncError::kNone);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].skip, SyncSkip::kIpv6);
  EXPECT_EQ(got[1], dr_established());
}

// A real kernel's message: what Debian's 6.1 master sent in the kernel-differential suite's
// sync_kernel_interop scenario (tests/kernel, docs/kernel-differential.md): one version 1 message
// of 21 entries, in the order the connections reached their sync points: NAT ESTABLISHED (flags 0),
// a NAT connection's CLOSE_WAIT then TIME_WAIT (INACTIVE), DR (NOOUTPUT) ESTABLISHED and FIN_WAIT,
// persistence templates (TEMPLATE, INACTIVE, NOOUTPUT; NONE then ASSURED) at every packet, UDP.
std::vector<uint8_t> unhex(std::string_view s) {
  std::vector<uint8_t> out;
  for (size_t k = 0; k + 1 < s.size(); k += 2)
    out.push_back(uint8_t(std::stoi(std::string(s.substr(k, 2)), nullptr, 16)));
  return out;
}

const char* const kKernelMessage =
    "000102fc15010000"
    "00060024000000000001c351005000500000000000000384cb007132cb0071640a01000d"
    "00060024000000000001c352005000500000000000000384cb007133cb0071640a01000c"
    "00060024000000000001c353005000500000000000000384cb007134cb0071640a01000b"
    "00060024000001000007c35300500050000000000000003ccb007134cb0071640a01000b"
    "00060024000001000005c353005000500000000000000078cb007134cb0071640a01000b"
    "00060024000000830001c35401bb01bb0000000000000384cb007135cb0071640a01000f"
    "00060024000000830001c35501bb01bb0000000000000384cb007136cb0071640a01000e"
    "00060024000001830004c35501bb01bb0000000000000078cb007136cb0071640a01000e"
    "0006002400001183000000001f901f90000000000000012ccb007137cb0071640a010011"
    "0006002400001183000100001f901f90000000000000012ccb007137cb0071640a010011"
    "00060024000000830001c3561f901f900000000000000384cb007137cb0071640a010011"
    "0006002400001183000100001f901f90000000000000012ccb007137cb0071640a010011"
    "0006002400001183000100001f901f90000000000000012ccb007137cb0071640a010011"
    "0006002400001183000100001f901f90000000000000012ccb007137cb0071640a010011"
    "00060024000000830001c3571f901f900000000000000384cb007137cb0071640a010011"
    "0006002400001183000100001f901f90000000000000012ccb007137cb0071640a010011"
    "0006002400001183000000001f901f90000000000000012ccb007138cb0071640a010010"
    "0006002400001183000100001f901f90000000000000012ccb007138cb0071640a010010"
    "00060024000000830001c3581f901f900000000000000384cb007138cb0071640a010010"
    "0006002400001183000100001f901f90000000000000012ccb007138cb0071640a010010"
    "00110024000001000000c35900350035000000000000012ccb007139cb0071640a01000c";

TEST(SyncMessage, AKernelMastersMessageIsReadAndWrittenBackByteForByte) {
  const std::vector<uint8_t> msg = unhex(kKernelMessage);
  ASSERT_EQ(msg.size(), 764u);
  SyncError err{};
  const auto got = walk_all(msg, &err);
  EXPECT_EQ(err, SyncError::kNone);
  ASSERT_EQ(got.size(), 21u);
  EXPECT_EQ(SyncMessage::parse(msg)->version(), 1);
  EXPECT_EQ(SyncMessage::parse(msg)->syncid(), 1);
  for (const SyncEntry& e : got) EXPECT_EQ(e.skip, SyncSkip::kNone);
  // The first: NAT, ESTABLISHED, 203.0.113.50:50001 -> 203.0.113.100:80 -> 10.1.0.13:80, 900 s.
  EXPECT_EQ(got[0].protocol, 6);
  EXPECT_EQ(got[0].flags, sync_flag::kMasq);
  EXPECT_EQ(got[0].state, 1);
  EXPECT_EQ(got[0].cport, 50001);
  EXPECT_EQ(got[0].vport, 80);
  EXPECT_EQ(got[0].dport, 80);
  EXPECT_EQ(got[0].timeout_s, 900u);
  EXPECT_EQ(got[0].caddr, ip(203, 0, 113, 50));
  EXPECT_EQ(got[0].vaddr, ip(203, 0, 113, 100));
  EXPECT_EQ(got[0].daddr, ip(10, 1, 0, 13));
  // CLOSE_WAIT (7) on the client's FIN, 60 s, inactive.
  EXPECT_EQ(got[3].flags, sync_flag::kMasq | sync_flag::kInactive);
  EXPECT_EQ(got[3].state, 7);
  EXPECT_EQ(got[3].timeout_s, 60u);
  // A persistence template: client port 0, the real's conn_flags, the persistence timeout.
  EXPECT_EQ(got[8].flags, sync_flag::kTemplate | sync_flag::kInactive | sync_flag::kNoOutput | sync_flag::kDroute);
  EXPECT_EQ(got[8].cport, 0);
  EXPECT_EQ(got[8].state, 0);
  EXPECT_EQ(got[8].timeout_s, 300u);
  EXPECT_EQ(got[20].protocol, 17);
  EXPECT_EQ(got[20].flags, sync_flag::kMasq | sync_flag::kInactive);
  // vsrouter's writer makes the same bytes of the same entries.
  std::vector<uint8_t> buf(1472);
  SyncWriter w(buf, 1);
  for (const SyncEntry& e : got) ASSERT_TRUE(w.add(e));
  const auto out = w.message();
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.end()), msg);
}

}  // namespace
}  // namespace vs::wire

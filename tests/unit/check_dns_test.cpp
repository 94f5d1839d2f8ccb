// DNS_CHECK codec tests (check/dns.hpp). The expected queries were built by Scapy, not by the
// code under test:
//   /usr/bin/python3 -c 'from scapy.all import DNS,DNSQR,raw;
//     print(raw(DNS(id=0x1234, rd=1, qd=DNSQR(qname="www.example.com", qtype="A", qclass="IN"))).hex())'
// (and likewise for the other two).

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "check/dns.hpp"

namespace vs::check {
namespace {

constexpr std::array<uint8_t, 33> kScapyWwwA = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                                                0x00, 0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70,
                                                0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01};
constexpr std::array<uint8_t, 17> kScapyRootSoa = {0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x01};
constexpr std::array<uint8_t, 25> kScapyVsTestAaaa = {0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                                      0x00, 0x00, 0x00, 0x02, 0x76, 0x73, 0x04, 0x74, 0x65,
                                                      0x73, 0x74, 0x00, 0x00, 0x1c, 0x00, 0x01};
// Scapy: DNS(id=0x1234, qr=1, rd=1, ra=1, qd=DNSQR(qname="www.example.com", qtype="A"),
//            an=DNSRR(rrname="www.example.com", type="A", ttl=60, rdata="192.0.2.7"))
constexpr std::array<uint8_t, 64> kScapyAnswer = {
    0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x03, 0x77, 0x77, 0x77,
    0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00,
    0x01, 0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f,
    0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 0xc0, 0x00, 0x02, 0x07};

std::vector<uint8_t> query(uint16_t id, std::string_view name, DnsType type) {
  std::vector<uint8_t> buf(kDnsBufferSize);
  buf.resize(build_dns_query(buf, id, name, type));
  return buf;
}

std::vector<uint8_t> vec(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

TEST(DnsQuery, MatchesScapy) {
  EXPECT_EQ(query(0x1234, "www.example.com", DnsType::kA), vec(kScapyWwwA));
  EXPECT_EQ(query(0x1234, "www.example.com.", DnsType::kA), vec(kScapyWwwA));
  EXPECT_EQ(query(0xbeef, ".", DnsType::kSoa), vec(kScapyRootSoa));
  EXPECT_EQ(query(0x0001, "vs.test.", DnsType::kAaaa), vec(kScapyVsTestAaaa));
}

TEST(DnsQuery, DefaultIsSoaForTheRoot) {
  // keepalived's DNS_DEFAULT_NAME "" encodes as "." does.
  EXPECT_EQ(query(0xbeef, kDnsDefaultName, kDnsDefaultType), vec(kScapyRootSoa));
}

TEST(DnsQuery, RefusesBadNamesAndSmallBuffers) {
  std::array<uint8_t, 33> exact{};
  EXPECT_EQ(build_dns_query(exact, 0x1234, "www.example.com", DnsType::kA), 33u);
  EXPECT_EQ(build_dns_query(std::span(exact).first(32), 0x1234, "www.example.com", DnsType::kA), 0u);
  EXPECT_TRUE(query(1, "a..b", DnsType::kA).empty());
  EXPECT_TRUE(query(1, std::string(64, 'a'), DnsType::kA).empty());
}

TEST(DnsName, Validation) {
  EXPECT_EQ(validate_dns_name(""), DnsNameError::kOk);
  EXPECT_EQ(validate_dns_name("."), DnsNameError::kOk);
  EXPECT_EQ(validate_dns_name("example.com"), DnsNameError::kOk);
  EXPECT_EQ(validate_dns_name("example.com."), DnsNameError::kOk);
  EXPECT_EQ(validate_dns_name(std::string(63, 'a') + ".com"), DnsNameError::kOk);
  // dns_name_handler()'s empty labels.
  for (std::string_view bad : {"..", ".com", "a..b", "a.b..", "example.com.."})
    EXPECT_EQ(validate_dns_name(bad), DnsNameError::kEmptyLabel) << bad;
  EXPECT_EQ(validate_dns_name(std::string(64, 'a') + ".com"), DnsNameError::kLabelTooLong);
  // 4 labels of 63 bytes: 4 * 64 + 1 = 257 bytes on the wire; 3 of 63 and one of 61: 255.
  std::string l63(63, 'a');
  EXPECT_EQ(validate_dns_name(l63 + "." + l63 + "." + l63 + "." + l63), DnsNameError::kNameTooLong);
  std::string max = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
  EXPECT_EQ(validate_dns_name(max), DnsNameError::kOk);
  EXPECT_EQ(query(7, max, DnsType::kA).size(), 12u + 255u + 4u);
}

TEST(DnsType, NamesAsKeepalivedHasThem) {
  EXPECT_EQ(parse_dns_type("A"), DnsType::kA);
  EXPECT_EQ(parse_dns_type("ns"), DnsType::kNs);
  EXPECT_EQ(parse_dns_type("Cname"), DnsType::kCname);
  EXPECT_EQ(parse_dns_type("SOA"), DnsType::kSoa);
  EXPECT_EQ(parse_dns_type("MX"), DnsType::kMx);
  EXPECT_EQ(parse_dns_type("TXT"), DnsType::kTxt);
  EXPECT_EQ(parse_dns_type("aaaa"), DnsType::kAaaa);
  EXPECT_EQ(parse_dns_type("RRSIG"), DnsType::kRrsig);
  EXPECT_EQ(parse_dns_type("DNSKEY"), DnsType::kDnskey);
  EXPECT_FALSE(parse_dns_type("PTR"));
  EXPECT_FALSE(parse_dns_type(""));
  EXPECT_EQ(static_cast<uint16_t>(DnsType::kAaaa), 28);
  EXPECT_EQ(to_string(DnsType::kSoa), "SOA");
}

TEST(DnsAnswer, Accepted) {
  DnsVerdict v = judge_dns_answer(kScapyAnswer, 0x1234);
  EXPECT_EQ(v.outcome, DnsOutcome::kUp);
  EXPECT_EQ(v.reason, DnsReason::kOk);
  // Only the header counts (dns_recv_thread()): a bare header with QR and RCODE 0 passes.
  std::array<uint8_t, 12> bare = {0x12, 0x34, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(judge_dns_answer(bare, 0x1234).outcome, DnsOutcome::kUp);
}

TEST(DnsAnswer, IgnoredDatagrams) {
  auto a = kScapyAnswer;
  DnsVerdict shortv = judge_dns_answer(std::span(a).first(11), 0x1234);
  EXPECT_EQ(shortv.outcome, DnsOutcome::kIgnore);
  EXPECT_EQ(shortv.reason, DnsReason::kTooShort);
  EXPECT_EQ(judge_dns_answer({}, 0x1234).reason, DnsReason::kTooShort);

  DnsVerdict other = judge_dns_answer(a, 0x1235);
  EXPECT_EQ(other.outcome, DnsOutcome::kIgnore);
  EXPECT_EQ(other.reason, DnsReason::kIdMismatch);
  EXPECT_EQ(other.id, 0x1234);

  // Our own query looped back: QR clear.
  DnsVerdict q = judge_dns_answer(kScapyWwwA, 0x1234);
  EXPECT_EQ(q.outcome, DnsOutcome::kIgnore);
  EXPECT_EQ(q.reason, DnsReason::kNotResponse);
}

TEST(DnsAnswer, RcodeFails) {
  for (uint8_t rcode = 1; rcode < 16; ++rcode) {
    auto a = kScapyAnswer;
    a[3] = static_cast<uint8_t>((a[3] & 0xf0) | rcode);
    DnsVerdict v = judge_dns_answer(a, 0x1234);
    EXPECT_EQ(v.outcome, DnsOutcome::kDown) << int{rcode};
    EXPECT_EQ(v.reason, DnsReason::kRcode);
    EXPECT_EQ(v.rcode, rcode);
  }
  // NXDOMAIN (3), as a resolver sends it.
  auto nx = kScapyAnswer;
  nx[3] = 0x83;
  EXPECT_EQ(judge_dns_answer(nx, 0x1234).rcode, 3);
}

TEST(DnsAnswer, TruncationAndOtherFlagsAreNotChecked) {
  // keepalived checks QR and RCODE only: TC, AA, the opcode and the Z bits do not matter.
  auto a = kScapyAnswer;
  a[2] = 0x87;  // QR, TC, RD (and AA)
  a[3] = 0xf0;
  EXPECT_EQ(judge_dns_answer(a, 0x1234).outcome, DnsOutcome::kUp);
}

}  // namespace
}  // namespace vs::check

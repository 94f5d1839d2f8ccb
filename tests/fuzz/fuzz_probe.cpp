// libFuzzer target: a hostile real's answers to the health-check codecs (src/check/).
//
// The first byte picks the codec (its value modulo 3); the rest is what the real sent:
//   0 HTTP_GET   byte 1 seeds the chunk sizes, the rest is the TCP stream. It is fed in chunks
//                and, separately, in one piece: the verdicts must be equal, the bytes accepted
//                never above the cap, and the digest that of the body an independent scan finds.
//   1 DNS_CHECK  bytes 1-2 are the query ID, the rest the datagram. The verdict must agree with
//                the header's fields; the rest is also used as a name to build a query from, which
//                must parse back to that name and be judged "not a response".
//   2 UDP_CHECK  bytes 1-4 are min and max_reply_length, the rest "hex string|reply". A parsed
//                pattern must accept its own bytes (lengths permitting) and respect the bounds.
// Reads past the input are ASan's to catch.
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "check/dns.hpp"
#include "check/http.hpp"
#include "check/udp_match.hpp"
#include "wire/bytes.hpp"

using namespace vs;
using namespace vs::check;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

// Small enough that the fuzzer reaches it (run_fuzz.sh's -max_len is 16384), above the header limit.
constexpr size_t kCap = 8192;

bool same(const HttpResult& a, const HttpResult& b) {
  return a.ok == b.ok && a.reason == b.reason && a.status == b.status && a.bytes == b.bytes &&
         a.body_bytes == b.body_bytes && a.content_length == b.content_length &&
         a.length_mismatch == b.length_mismatch && a.digest == b.digest && a.digest_hex == b.digest_hex;
}

void fuzz_http(std::span<const uint8_t> in) {
  static HttpResponse chunked(kCap);
  static HttpResponse whole(kCap);
  if (in.empty()) return;
  uint32_t seed = in[0] | 1u;
  auto stream = in.subspan(1);
  HttpExpect expect;
  if (in[0] & 1) expect.digest = Md5Digest{};  // sometimes a digest to compare (it will differ)
  if (in[0] & 2) expect.status = parse_status_codes("100-199 301 404-599").value();

  chunked.reset();
  size_t off = 0, sum = 0;
  while (off < stream.size()) {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    size_t n = std::min<size_t>(stream.size() - off, 1 + seed % 64);
    bool was_done = chunked.done();
    size_t took = chunked.feed(stream.subspan(off, n));
    if (took > n) fail("feed accepted more than it was given");
    if (was_done && took != 0) fail("feed accepted bytes after done()");
    if (took < n && !chunked.done()) fail("feed refused bytes without being done");
    sum += took;
    off += n;
  }
  if (chunked.bytes_accepted() != sum) fail("bytes_accepted != sum of feed() results");
  if (chunked.bytes_accepted() > kCap) fail("bytes accepted above the cap");

  whole.reset();
  whole.feed(stream);
  HttpResult a = chunked.judge(expect);
  HttpResult b = whole.judge(expect);
  if (!same(a, b)) fail("chunked and whole feeds disagree");
  if (!same(a, chunked.judge(expect))) fail("judge() twice disagrees");

  if (a.ok != (a.reason == HttpReason::kOk)) fail("ok and reason disagree");
  if ((a.reason == HttpReason::kNoData) != stream.empty()) fail("no data iff nothing arrived");
  if (a.bytes != sum || a.body_bytes > a.bytes) fail("byte counts");
  if (a.ok && (a.status < kHttpStatusMin || a.status > kHttpStatusMax || !expect.status.contains(a.status)))
    fail("ok with a status outside the set");
  if (a.ok && expect.digest && *expect.digest != a.digest) fail("ok with another digest");

  // The oracle: the header ends at the first CRLF CRLF within kHttpHeaderMax bytes; the body is
  // what follows, up to the bytes accepted, hashed up to Content-Length.
  std::string_view text(reinterpret_cast<const char*>(stream.data()), sum);
  size_t end = text.find("\r\n\r\n");
  bool header = end != std::string_view::npos && end + 4 <= kHttpHeaderMax;
  if (header != (a.digest_hex[0] != 0)) fail("header end disagrees with a plain search");
  if (header && (a.reason == HttpReason::kNoData || a.reason == HttpReason::kIncomplete ||
                 a.reason == HttpReason::kHeaderTooLong))
    fail("a header end, yet judged as without one");
  if (!header) return;
  auto body = stream.subspan(end + 4, sum - end - 4);
  if (body.size() != a.body_bytes) fail("body bytes disagree with a plain search");
  if (a.content_length && *a.content_length < body.size()) body = body.first(static_cast<size_t>(*a.content_length));
  std::array<uint8_t, 16> md{};
  unsigned int mdlen = 0;
  if (EVP_Digest(body.data(), body.size(), md.data(), &mdlen, EVP_md5(), nullptr) != 1) fail("EVP_Digest");
  if (md != a.digest) fail("digest differs from a one-shot MD5 of the body");
}

void fuzz_dns(std::span<const uint8_t> in) {
  if (in.size() < 2) return;
  uint16_t id = wire::load16(in, 0);
  auto reply = in.subspan(2);
  DnsVerdict v = judge_dns_answer(reply, id);
  if ((v.outcome == DnsOutcome::kUp) != (v.reason == DnsReason::kOk)) fail("dns: up iff ok");
  if ((v.outcome == DnsOutcome::kDown) != (v.reason == DnsReason::kRcode)) fail("dns: down iff rcode");
  if (reply.size() < 12) {
    if (v.reason != DnsReason::kTooShort) fail("dns: a short datagram judged");
  } else {
    uint16_t flags = wire::load16(reply, 2);
    if (v.id != wire::load16(reply, 0) || v.flags != flags) fail("dns: header fields");
    if ((v.id != id) != (v.reason == DnsReason::kIdMismatch)) fail("dns: ID check");
    if (v.reason == DnsReason::kOk && ((flags & 0x8000) == 0 || (flags & 0x000f) != 0))
      fail("dns: accepted a bad header");
    if (v.reason == DnsReason::kRcode && v.rcode != (flags & 0x000f)) fail("dns: rcode");
  }

  // The datagram as a name: a query built from it parses back to it.
  std::string_view name(reinterpret_cast<const char*>(reply.data()), reply.size());
  std::array<uint8_t, kDnsBufferSize> q{};
  size_t n = build_dns_query(q, id, name, DnsType::kTxt);
  if ((n != 0) != (validate_dns_name(name) == DnsNameError::kOk)) fail("dns: query built iff the name is valid");
  if (n == 0) return;
  if (n > 12 + 255 + 4) fail("dns: query longer than a maximal name allows");
  auto qs = std::span<const uint8_t>(q.data(), n);
  if (judge_dns_answer(qs, id).reason != DnsReason::kNotResponse) fail("dns: our query judged as an answer");
  std::string_view want = name;
  if (!want.empty() && want.back() == '.') want.remove_suffix(1);
  size_t pos = 12, w = 0;
  while (qs[pos] != 0) {
    size_t len = qs[pos++];
    if (len > 63 || pos + len > n - 5) fail("dns: label length");
    if (w != 0 && (w >= want.size() || want[w++] != '.')) fail("dns: label boundary");
    for (size_t i = 0; i < len; ++i)
      if (w >= want.size() || static_cast<uint8_t>(want[w++]) != qs[pos + i]) fail("dns: label bytes");
    pos += len;
  }
  if (w != want.size() || pos + 5 != n) fail("dns: name length");
  if (wire::load16(qs, pos + 1) != 16 || wire::load16(qs, pos + 3) != 1) fail("dns: qtype/qclass");
}

void fuzz_udp(std::span<const uint8_t> in) {
  if (in.size() < 4) return;
  uint16_t min_len = wire::load16(in, 0) % 512;
  uint16_t max_len = wire::load16(in, 2) % 512;
  std::string_view rest(reinterpret_cast<const char*>(in.data() + 4), in.size() - 4);
  size_t bar = rest.find('|');
  std::string_view hex = rest.substr(0, bar);
  auto reply = bar == std::string_view::npos ? std::span<const uint8_t>{} : in.subspan(4 + bar + 1);

  static ReplyPattern pattern;  // 3 KB: kept off the stack
  auto parsed = parse_require_reply(hex);
  if (!parsed) {
    if (parsed.error().message.empty()) fail("udp: empty error");
    return;
  }
  pattern = parsed.value();
  if (pattern.len == 0 || pattern.len > kUdpPatternMax) fail("udp: pattern length");
  if (pattern.len > (hex.size() + 1) / 2) fail("udp: more bytes than the string can hold");
  bool m = match_reply(reply, pattern, min_len, max_len);
  bool in_bounds = reply.size() >= min_len && reply.size() <= max_len;
  if (m && !in_bounds) fail("udp: matched outside the length bounds");
  if (udp_check_passes(UdpEvent::kReply, true, reply, &pattern, min_len, max_len) != m) fail("udp: passes != match");
  // The pattern's own bytes, with anything in its X nibbles, always match (bounds permitting).
  std::array<uint8_t, kUdpPatternMax> own{};
  for (size_t i = 0; i < pattern.len; ++i)
    own[i] = static_cast<uint8_t>(pattern.data[i] | (pattern.mask[i] & (i < reply.size() ? reply[i] : 0xa5)));
  auto ownspan = std::span<const uint8_t>(own.data(), pattern.len);
  bool own_in_bounds = pattern.len >= min_len && pattern.len <= max_len;
  if (match_reply(ownspan, pattern, min_len, max_len) != own_in_bounds) fail("udp: own bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const uint8_t> in(data, size);
  switch (in[0] % 3) {
    case 0: fuzz_http(in.subspan(1)); break;
    case 1: fuzz_dns(in.subspan(1)); break;
    default: fuzz_udp(in.subspan(1)); break;
  }
  return 0;
}

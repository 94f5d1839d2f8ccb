// HTTP_GET codec tests (check/http.hpp). Expected request texts are keepalived's
// request_template filled in by hand (keepalived/check/check_http.c); expected digests come from
// md5sum (`printf 'hello world\n' | md5sum`), never from the code under test.

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check/http.hpp"

namespace vs::check {
namespace {

std::string request(std::string_view path, std::string_view host, uint16_t port, HttpProtocol proto) {
  std::array<uint8_t, kHttpRequestMax> buf{};
  size_t n = build_http_request(buf, path, host, port, proto);
  return std::string(reinterpret_cast<const char*>(buf.data()), n);
}

std::span<const uint8_t> bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

Md5Digest md5(std::string_view hex) { return parse_md5_hex(hex).value(); }

constexpr std::string_view kHelloMd5 = "6f5902ac237024bdd0c176cb93063dc4";  // "hello world\n"
constexpr std::string_view kEmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";  // ""

TEST(HttpRequest, Http10WithAddressAndPort) {
  EXPECT_EQ(request("/health", "10.1.0.11", 8080, HttpProtocol::k10),
            "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.1.0.11:8080\r\n\r\n");
}

TEST(HttpRequest, Http10CAddsConnectionClose) {
  EXPECT_EQ(request("/", "10.1.0.11", 80, HttpProtocol::k10C),
            "GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 10.1.0.11:80\r\n\r\n");
}

TEST(HttpRequest, Http11AddsConnectionClose) {
  EXPECT_EQ(request("/a?b=c", "10.1.0.11", 443, HttpProtocol::k11),
            "GET /a?b=c HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 10.1.0.11:443\r\n\r\n");
}

TEST(HttpRequest, VirtualhostHasNoPort) {
  EXPECT_EQ(request("/", "www.example.com", 0, HttpProtocol::k10),
            "GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: www.example.com\r\n\r\n");
}

TEST(HttpRequest, Ipv6LiteralIsBracketed) {
  EXPECT_EQ(request("/", "2001:db8::1", 80, HttpProtocol::k10),
            "GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: [2001:db8::1]:80\r\n\r\n");
}

TEST(HttpRequest, RefusesWhatDoesNotFitOrBreaksTheHeader) {
  std::array<uint8_t, 128> small{};  // room for the whole request (67 bytes)
  std::string full = request("/", "10.1.0.11", 80, HttpProtocol::k10);
  EXPECT_EQ(build_http_request(std::span(small).first(full.size() - 1), "/", "10.1.0.11", 80, HttpProtocol::k10), 0u);
  EXPECT_EQ(build_http_request(std::span(small).first(full.size()), "/", "10.1.0.11", 80, HttpProtocol::k10),
            full.size());
  EXPECT_EQ(request("/x\r\nEvil: 1", "h", 0, HttpProtocol::k10), "");
  EXPECT_EQ(request("/", "h\n", 0, HttpProtocol::k10), "");
  EXPECT_EQ(request("/a b", "h", 0, HttpProtocol::k10), "");
  EXPECT_EQ(request(std::string_view("/\0", 2), "h", 0, HttpProtocol::k10), "");
  EXPECT_EQ(request("", "h", 0, HttpProtocol::k10), "");
  EXPECT_EQ(request(std::string(kHttpRequestMax, '/'), "h", 0, HttpProtocol::k10), "");
}

TEST(HttpConfig, Protocol) {
  EXPECT_EQ(parse_http_protocol("1.0"), HttpProtocol::k10);
  EXPECT_EQ(parse_http_protocol("1.0C"), HttpProtocol::k10C);
  EXPECT_EQ(parse_http_protocol("1.0c"), HttpProtocol::k10C);
  EXPECT_EQ(parse_http_protocol("1.1"), HttpProtocol::k11);
  EXPECT_FALSE(parse_http_protocol("2"));
  EXPECT_FALSE(parse_http_protocol("1.1C"));
}

TEST(HttpConfig, StatusCodes) {
  StatusSet def;
  EXPECT_TRUE(def.contains(200));
  EXPECT_TRUE(def.contains(299));
  EXPECT_FALSE(def.contains(199));
  EXPECT_FALSE(def.contains(300));

  auto one = parse_status_codes("200");
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_TRUE(one->contains(200));
  EXPECT_FALSE(one->contains(201));

  auto list = parse_status_codes("200-204  301\t404-404");
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->count, 3);
  for (uint16_t c : {200, 204, 301, 404}) EXPECT_TRUE(list->contains(c)) << c;
  for (uint16_t c : {199, 205, 300, 302, 403, 405}) EXPECT_FALSE(list->contains(c)) << c;

  for (std::string_view bad : {"", "  ", "99", "600", "200-100", "2oo", "200-", "-200", "+200", "100-600", "1000"})
    EXPECT_FALSE(parse_status_codes(bad)) << bad;
  std::string many;
  for (int i = 0; i < 17; ++i) many += std::to_string(200 + i) + " ";
  EXPECT_FALSE(parse_status_codes(many));
}

TEST(HttpConfig, Digest) {
  auto d = parse_md5_hex("6F5902AC237024BDD0C176CB93063DC4");
  ASSERT_TRUE(d);
  EXPECT_EQ(d.value()[0], 0x6f);
  EXPECT_EQ(d.value()[15], 0xc4);
  EXPECT_EQ(std::string(md5_hex(d.value()).data()), kHelloMd5);
  EXPECT_FALSE(parse_md5_hex("6f5902ac237024bdd0c176cb93063dc"));
  EXPECT_FALSE(parse_md5_hex("6f5902ac237024bdd0c176cb93063dc4a"));
  EXPECT_FALSE(parse_md5_hex("6f5902ac237024bdd0c176cb93063dcg"));
  EXPECT_FALSE(parse_md5_hex("+f5902ac237024bdd0c176cb93063dc4"));
}

HttpResult judge_whole(std::string_view response, const HttpExpect& expect = {}) {
  HttpResponse r;
  EXPECT_EQ(r.feed(bytes(response)), response.size());
  return r.judge(expect);
}

TEST(HttpResponse, OkAndBodyDigest) {
  constexpr std::string_view kResp = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello world\n";
  HttpExpect expect;
  expect.digest = md5(kHelloMd5);
  HttpResult r = judge_whole(kResp, expect);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.reason, HttpReason::kOk);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body_bytes, 12u);
  EXPECT_EQ(r.bytes, kResp.size());
  EXPECT_FALSE(r.content_length);
  EXPECT_EQ(std::string(r.digest_hex.data()), kHelloMd5);
}

TEST(HttpResponse, DigestMismatch) {
  HttpExpect expect;
  expect.digest = md5(kEmptyMd5);
  HttpResult r = judge_whole("HTTP/1.1 200 OK\r\n\r\nhello world\n", expect);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, HttpReason::kDigestMismatch);
  EXPECT_EQ(std::string(r.digest_hex.data()), kHelloMd5);
}

TEST(HttpResponse, EmptyBodyDigest) {
  HttpExpect expect;
  expect.digest = md5(kEmptyMd5);
  HttpResult r = judge_whole("HTTP/1.1 204 No Content\r\n\r\n", expect);
  EXPECT_TRUE(r.ok) << to_string(r.reason);
  EXPECT_EQ(r.status, 204);
}

TEST(HttpResponse, ContentLengthLimitsTheDigest) {
  // keepalived's http_process_response() hashes at most Content-Length bytes; the rest counts as
  // body (a length mismatch it only logs).
  HttpExpect expect;
  expect.digest = md5("5d41402abc4b2a76b9719d911017c592");  // "hello"
  HttpResult r = judge_whole("HTTP/1.1 200 OK\r\ncontent-length:  5 \r\n\r\nhello world\n", expect);
  EXPECT_TRUE(r.ok) << to_string(r.reason);
  ASSERT_TRUE(r.content_length);
  EXPECT_EQ(*r.content_length, 5u);
  EXPECT_EQ(r.body_bytes, 12u);
  EXPECT_TRUE(r.length_mismatch);
}

TEST(HttpResponse, FirstContentLengthDecidesAndBadValuesAreUnknown) {
  HttpResult bad = judge_whole("HTTP/1.1 200 OK\r\nContent-Length: 5x\r\nContent-Length: 5\r\n\r\nhello world\n");
  EXPECT_FALSE(bad.content_length);
  EXPECT_EQ(std::string(bad.digest_hex.data()), kHelloMd5);
  HttpResult huge = judge_whole("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nhello world\n");
  EXPECT_FALSE(huge.content_length);
  HttpResult named = judge_whole("HTTP/1.1 200 OK\r\nX-Content-Length: 5\r\n\r\nhello world\n");
  EXPECT_FALSE(named.content_length);
}

TEST(HttpResponse, CompleteOnceContentLengthArrived) {
  HttpResponse r;
  r.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"));
  EXPECT_FALSE(r.complete());
  r.feed(bytes("lo"));
  EXPECT_TRUE(r.complete());
}

TEST(HttpResponse, StatusMismatchAndRanges) {
  EXPECT_EQ(judge_whole("HTTP/1.1 301 Moved\r\n\r\n").reason, HttpReason::kStatusMismatch);
  EXPECT_EQ(judge_whole("HTTP/1.1 301 Moved\r\n\r\n").status, 301);
  HttpExpect expect;
  expect.status = parse_status_codes("200 300-399").value();
  EXPECT_TRUE(judge_whole("HTTP/1.1 301 Moved\r\n\r\n", expect).ok);
  EXPECT_FALSE(judge_whole("HTTP/1.1 404 Not Found\r\n\r\n", expect).ok);
  // A code outside 100..599 fails whatever the set says (keepalived's bit array ends there).
  expect.status.ranges[0] = {0, 999};
  expect.status.count = 1;
  EXPECT_EQ(judge_whole("HTTP/1.1 600 Odd\r\n\r\n", expect).reason, HttpReason::kStatusMismatch);
  EXPECT_EQ(judge_whole("HTTP/1.1 099 Odd\r\n\r\n", expect).reason, HttpReason::kStatusMismatch);
}

TEST(HttpResponse, StatusLineAsExtractStatusCodeReadsIt) {
  // lib/html.c's extract_status_code(): the token before the first space is not checked; the
  // code is exactly 3 characters followed by a space.
  EXPECT_TRUE(judge_whole("XYZ 200 \r\n\r\n").ok);
  for (std::string_view bad : {"HTTP/1.1 200\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
                               "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1\r\n 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n"}) {
    HttpResult r = judge_whole(bad);
    EXPECT_EQ(r.reason, HttpReason::kBadStatusLine) << bad;
    EXPECT_EQ(r.status, 0) << bad;
  }
}

TEST(HttpResponse, StatusLineKept) {
  HttpResponse r;
  r.feed(bytes("HTTP/1.1 503 Service Unavailable\r\nX: y\r\n\r\n"));
  EXPECT_EQ(r.status_line(), "HTTP/1.1 503 Service Unavailable");
  std::string longline = "HTTP/1.1 200 " + std::string(300, 'a') + "\r\n\r\n";
  r.reset();
  r.feed(bytes(longline));
  EXPECT_EQ(r.status_line().size(), HttpResponse::kStatusLineKeep);
  EXPECT_TRUE(r.judge({}).ok);
}

TEST(HttpResponse, NoDataAndIncomplete) {
  HttpResponse r;
  EXPECT_EQ(r.judge({}).reason, HttpReason::kNoData);
  r.feed(bytes("HTTP/1.1 200 OK\r\nX: y\r\n"));
  HttpResult inc = r.judge({});
  EXPECT_EQ(inc.reason, HttpReason::kIncomplete);
  EXPECT_EQ(inc.status, 200);                                                     // parsed, but the header never ended
  EXPECT_EQ(judge_whole("HTTP/1.1 200 OK\n\n").reason, HttpReason::kIncomplete);  // LF alone ends nothing
}

TEST(HttpResponse, HeaderLimit) {
  // 4095 bytes without "\r\n\r\n": keepalived's buffer is full and it gives up.
  std::string head = "HTTP/1.1 200 OK\r\nX: " + std::string(kHttpHeaderMax, 'a');
  HttpResponse r;
  EXPECT_EQ(r.feed(bytes(head)), kHttpHeaderMax);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.feed(bytes("\r\n\r\n")), 0u);
  EXPECT_EQ(r.judge({}).reason, HttpReason::kHeaderTooLong);
  // A header that ends exactly at byte 4095 is fine.
  std::string fits = "HTTP/1.1 200 OK\r\nX: ";
  fits += std::string(kHttpHeaderMax - fits.size() - 4, 'a') + "\r\n\r\nbody";
  r.reset();
  EXPECT_EQ(r.feed(bytes(fits)), fits.size());
  EXPECT_TRUE(r.judge({}).ok);
}

TEST(HttpResponse, Cap) {
  std::string resp = "HTTP/1.1 200 OK\r\n\r\n" + std::string(100, 'b');
  HttpResponse exact(resp.size());
  EXPECT_EQ(exact.feed(bytes(resp)), resp.size());
  EXPECT_FALSE(exact.done());
  EXPECT_TRUE(exact.judge({}).ok);

  HttpResponse small(resp.size() - 1);
  EXPECT_EQ(small.feed(bytes(resp)), resp.size() - 1);
  EXPECT_TRUE(small.done());
  EXPECT_EQ(small.feed(bytes("x")), 0u);
  HttpResponse none(0);
  EXPECT_EQ(none.feed(bytes(resp)), 0u);
  EXPECT_EQ(none.judge({}).reason, HttpReason::kTooLong);
  HttpResult r = small.judge({});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, HttpReason::kTooLong);
  EXPECT_EQ(r.bytes, resp.size() - 1);
  EXPECT_LE(small.bytes_accepted(), small.cap());
}

TEST(HttpResponse, ResetStartsOver) {
  HttpResponse r;
  HttpExpect expect;
  expect.digest = md5(kHelloMd5);
  r.feed(bytes("HTTP/1.1 500 Oops\r\nContent-Length: 1\r\n\r\nxyz"));
  EXPECT_EQ(r.judge(expect).reason, HttpReason::kStatusMismatch);
  r.reset();
  r.feed(bytes("HTTP/1.0 200 OK\r\n\r\nhello world\n"));
  HttpResult ok = r.judge(expect);
  EXPECT_TRUE(ok.ok) << to_string(ok.reason);
  EXPECT_FALSE(ok.content_length);
  // judge() again gives the same verdict (the digest was ended once).
  HttpResult again = r.judge(expect);
  EXPECT_EQ(again.ok, ok.ok);
  EXPECT_EQ(again.digest, ok.digest);
}

TEST(HttpResponse, EverySplitGivesTheSameVerdict) {
  const std::string resp =
      "HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 12\r\nConnection: close\r\n\r\nhello world\nTRAILING";
  HttpExpect expect;
  expect.digest = md5(kHelloMd5);
  HttpResult whole = judge_whole(resp, expect);
  ASSERT_TRUE(whole.ok) << to_string(whole.reason);
  HttpResponse r;
  for (size_t a = 0; a <= resp.size(); ++a) {
    // Two splits: at a, and every byte on its own after it.
    r.reset();
    auto b = bytes(resp);
    r.feed(b.first(a));
    for (size_t i = a; i < b.size(); ++i) r.feed(b.subspan(i, 1));
    HttpResult s = r.judge(expect);
    EXPECT_EQ(s.ok, whole.ok) << a;
    EXPECT_EQ(s.reason, whole.reason) << a;
    EXPECT_EQ(s.status, whole.status) << a;
    EXPECT_EQ(s.body_bytes, whole.body_bytes) << a;
    EXPECT_EQ(s.content_length, whole.content_length) << a;
    EXPECT_EQ(s.digest, whole.digest) << a;
  }
}

TEST(HttpResponse, ChunkedBodyIsHashedRaw) {
  // keepalived decodes no chunked encoding: the digest is of the bytes on the wire.
  HttpResult r = judge_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(std::string(r.digest_hex.data()), "79e9489e3bd3f0cb0158215341de046d");
}

}  // namespace
}  // namespace vs::check

// HTTP_GET's request and response codec: see http.hpp. The keepalived functions named in the
// comments are in keepalived/check/check_http.c unless another file is given.
#include "check/http.hpp"

#include <algorithm>
#include <new>
#include <stdexcept>
#include <string>

namespace vs::check {

namespace {

bool is_digit(uint8_t c) noexcept { return c >= '0' && c <= '9'; }

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Appends to `out` while it has room; `ok` turns false for good on the first overflow.
struct Writer {
  std::span<uint8_t> out;
  size_t pos = 0;
  bool ok = true;

  void put(std::string_view s) noexcept {
    if (!ok || s.size() > out.size() - pos) {
      ok = false;
      return;
    }
    std::copy(s.begin(), s.end(), out.begin() + static_cast<std::ptrdiff_t>(pos));
    pos += s.size();
  }
  void put_decimal(uint16_t v) noexcept {
    std::array<char, 5> digits{};
    size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v = static_cast<uint16_t>(v / 10);
    } while (v != 0);
    std::reverse(digits.begin(), digits.begin() + static_cast<std::ptrdiff_t>(n));
    put(std::string_view(digits.data(), n));
  }
};

/// A control character (CR and LF above all) or a space would end the request line or the Host
/// field early (RFC 9112 §3: the request-target has no space; RFC 9110 §5.5: no CR, LF or NUL
/// in a field value). keepalived's config words cannot hold them; a caller's string might.
bool unsafe(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<uint8_t>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

/// A decimal status code of 3 digits or fewer (status_code_handler() uses strtoul; its
/// leniencies, a sign or leading blanks, are refused here).
std::optional<uint16_t> parse_code(std::string_view s) noexcept {
  if (s.empty() || s.size() > 3) return std::nullopt;
  uint16_t v = 0;
  for (char c : s) {
    if (!is_digit(static_cast<uint8_t>(c))) return std::nullopt;
    v = static_cast<uint16_t>(v * 10 + (c - '0'));
  }
  return v;
}

constexpr std::string_view kContentLength = "content-length:";

}  // namespace

std::optional<HttpProtocol> parse_http_protocol(std::string_view s) noexcept {
  if (s == "1.0") return HttpProtocol::k10;
  if (s == "1.1") return HttpProtocol::k11;
  if (s == "1.0C" || s == "1.0c") return HttpProtocol::k10C;
  return std::nullopt;
}

size_t build_http_request(std::span<uint8_t> out, std::string_view path, std::string_view host, uint16_t port,
                          HttpProtocol proto) noexcept {
  if (path.empty() || host.empty() || unsafe(path) || unsafe(host)) return 0;
  Writer w{out.first(std::min(out.size(), kHttpRequestMax - 1))};  // keepalived's snprintf keeps a NUL
  // request_template / request_template_ipv6 in http_request().
  w.put("GET ");
  w.put(path);
  w.put(proto == HttpProtocol::k11 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
  w.put("User-Agent: KeepAliveClient\r\n");
  if (proto != HttpProtocol::k10) w.put("Connection: close\r\n");
  w.put("Host: ");
  if (port == 0) {
    w.put(host);
  } else {
    bool v6 = host.find(':') != std::string_view::npos;
    if (v6) w.put("[");
    w.put(host);
    if (v6) w.put("]");
    w.put(":");
    w.put_decimal(port);
  }
  w.put("\r\n\r\n");
  return w.ok ? w.pos : 0;
}

// ---------------------------------------------------------------------------------------------

bool StatusSet::contains(uint16_t code) const noexcept {
  size_t n = std::min<size_t>(count, ranges.size());
  for (size_t i = 0; i < n; ++i)
    if (code >= ranges[i].lo && code <= ranges[i].hi) return true;
  return false;
}

Result<StatusSet> parse_status_codes(std::string_view s) {
  StatusSet set;
  set.count = 0;
  size_t pos = 0;
  while (true) {
    pos = s.find_first_not_of(" \t", pos);
    if (pos == std::string_view::npos) break;
    size_t end = s.find_first_of(" \t", pos);
    std::string_view entry = s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? s.size() : end;
    size_t dash = entry.find('-');
    auto lo = parse_code(entry.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : parse_code(entry.substr(dash + 1));
    if (!lo || !hi || *lo < kHttpStatusMin || *hi > kHttpStatusMax || *lo > *hi)
      return Error{"invalid HTTP status code '" + std::string(entry) + "': want N or N-M with 100 <= N <= M <= 599"};
    if (set.count == set.ranges.size())
      return Error{"more than " + std::to_string(set.ranges.size()) + " HTTP status code entries"};
    set.ranges[set.count++] = StatusRange{*lo, *hi};
  }
  if (set.count == 0) return Error{"status_code needs at least one code or range"};
  return set;
}

Result<Md5Digest> parse_md5_hex(std::string_view s) {
  if (s.size() != 32)
    return Error{"digest '" + std::string(s) + "' should be 32 hex digits, not " + std::to_string(s.size())};
  Md5Digest d{};
  for (size_t i = 0; i < d.size(); ++i) {
    int hi = hex_digit(s[2 * i]);
    int lo = hex_digit(s[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return Error{"digest '" + std::string(s) + "': not a hex digit at offset " + std::to_string(2 * i)};
    d[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return d;
}

std::array<char, 33> md5_hex(const Md5Digest& d) noexcept {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::array<char, 33> s{};
  for (size_t i = 0; i < d.size(); ++i) {
    s[2 * i] = kHex[d[i] >> 4];
    s[2 * i + 1] = kHex[d[i] & 0x0f];
  }
  return s;
}

std::string_view to_string(HttpReason r) noexcept {
  switch (r) {
    case HttpReason::kOk: return "ok";
    case HttpReason::kNoData: return "no data received";
    case HttpReason::kIncomplete: return "connection closed before the end of the header";
    case HttpReason::kHeaderTooLong: return "header longer than 4095 bytes";
    case HttpReason::kTooLong: return "response longer than the cap";
    case HttpReason::kBadStatusLine: return "bad status line";
    case HttpReason::kStatusMismatch: return "HTTP status code error";
    case HttpReason::kDigestMismatch: return "MD5 digest error";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------

HttpResponse::HttpResponse(size_t cap) : cap_(cap) {
  ctx_ = EVP_MD_CTX_new();
  if (ctx_ == nullptr) throw std::bad_alloc();
  // Fetched once: EVP_md5() would look the algorithm up in the provider on every init.
  md5_ = EVP_MD_fetch(nullptr, "MD5", nullptr);
  if (md5_ == nullptr) {
    EVP_MD_CTX_free(ctx_);
    throw std::runtime_error("OpenSSL has no MD5 (a FIPS-only provider?): HTTP_GET digests need it");
  }
  reset();
}

HttpResponse::~HttpResponse() {
  EVP_MD_CTX_free(ctx_);
  EVP_MD_free(md5_);
}

void HttpResponse::reset() noexcept {
  EVP_DigestInit_ex2(ctx_, md5_, nullptr);
  accepted_ = 0;
  stopped_ = HttpReason::kOk;
  header_done_ = false;
  crlf_ = 0;
  status_phase_ = StatusPhase::kToken;
  code_digits_ = 0;
  status_ = 0;
  status_keep_len_ = 0;
  in_status_line_ = true;
  line_phase_ = LinePhase::kSkip;
  name_matched_ = 0;
  cl_seen_ = false;
  cl_value_ = 0;
  cl_overflow_ = false;
  content_length_.reset();
  body_bytes_ = 0;
  hashed_ = 0;
  digest_done_ = false;
  digest_ = {};
}

size_t HttpResponse::feed(std::span<const uint8_t> data) noexcept {
  if (done()) return 0;
  size_t take = std::min(data.size(), cap_ - accepted_);
  size_t i = 0;
  while (i < take && !header_done_) {
    header_byte(data[i++]);
    if (!header_done_ && accepted_ + i == kHttpHeaderMax) {
      // keepalived's buffer is full without a header end: its next read is of 0 bytes (EOF).
      accepted_ += i;
      stopped_ = HttpReason::kHeaderTooLong;
      return i;
    }
  }
  if (i < take) body(data.subspan(i, take - i));
  accepted_ += take;
  if (take < data.size()) stopped_ = HttpReason::kTooLong;
  return take;
}

void HttpResponse::header_byte(uint8_t c) noexcept {
  if (in_status_line_) {
    if (c == '\r' || c == '\n') {
      in_status_line_ = false;
    } else if (status_keep_len_ < status_keep_.size()) {
      status_keep_[status_keep_len_++] = static_cast<char>(c);
    }
  }
  if (status_phase_ != StatusPhase::kGood && status_phase_ != StatusPhase::kBad) status_byte(c);
  line_byte(c);
  // The header ends at the first "\r\n\r\n" (extract_html() in lib/html.c).
  if (c == '\r') {
    crlf_ = crlf_ == 2 ? 3 : 1;
  } else if (c == '\n' && (crlf_ == 1 || crlf_ == 3)) {
    ++crlf_;
  } else {
    crlf_ = 0;
  }
  if (crlf_ == 4) header_done_ = true;
}

// extract_status_code() (lib/html.c): skip to the first space (a CR before it: code 0), then
// exactly 3 characters that are not led by a space and are followed by a space. keepalived reads
// them with strtoul, which would take a sign or leading blanks; any such value is below 100 and
// fails the check as well, so only 3 digits are taken here.
void HttpResponse::status_byte(uint8_t c) noexcept {
  switch (status_phase_) {
    case StatusPhase::kToken:
      if (c == ' ') status_phase_ = StatusPhase::kCode;
      if (c == '\r') status_phase_ = StatusPhase::kBad;
      break;
    case StatusPhase::kCode:
      if (!is_digit(c)) {
        status_phase_ = StatusPhase::kBad;
        status_ = 0;
        break;
      }
      status_ = static_cast<uint16_t>(status_ * 10 + (c - '0'));
      if (++code_digits_ == 3) status_phase_ = StatusPhase::kSpace;
      break;
    case StatusPhase::kSpace: status_phase_ = c == ' ' ? StatusPhase::kGood : StatusPhase::kBad; break;
    case StatusPhase::kGood:
    case StatusPhase::kBad: break;
  }
  if (status_phase_ == StatusPhase::kBad) status_ = 0;
}

// Content-Length (RFC 9110 §8.6): a field line whose name is "Content-Length" (any case, RFC 9110
// §5.1), then optional blanks, decimal digits, optional blanks and the CR. keepalived's
// extract_content_length() (lib/html.c) takes the first "Content-Length:" and its strtoul value
// when a CR or LF follows; a first field with another value leaves the length unknown there
// too. It only narrows what is hashed.
void HttpResponse::line_byte(uint8_t c) noexcept {
  if (c == '\n') {
    line_phase_ = LinePhase::kName;
    name_matched_ = 0;
    return;
  }
  if (c == '\r') {
    if ((line_phase_ == LinePhase::kDigits || line_phase_ == LinePhase::kValueTrail) && !cl_overflow_)
      content_length_ = cl_value_;
    line_phase_ = LinePhase::kSkip;
    return;
  }
  bool blank = c == ' ' || c == '\t';
  switch (line_phase_) {
    case LinePhase::kName: {
      uint8_t lower = (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + ('a' - 'A')) : c;
      if (lower != static_cast<uint8_t>(kContentLength[name_matched_])) {
        line_phase_ = LinePhase::kSkip;
      } else if (++name_matched_ == kContentLength.size()) {
        line_phase_ = cl_seen_ ? LinePhase::kSkip : LinePhase::kValueLead;
        cl_seen_ = true;
      }
      break;
    }
    case LinePhase::kValueLead:
      if (is_digit(c)) {
        cl_value_ = c - '0';
        line_phase_ = LinePhase::kDigits;
      } else if (!blank) {
        line_phase_ = LinePhase::kSkip;
      }
      break;
    case LinePhase::kDigits:
      if (is_digit(c)) {
        if (cl_value_ > (UINT64_MAX - 9) / 10) cl_overflow_ = true;
        cl_value_ = cl_value_ * 10 + (c - '0');
      } else {
        line_phase_ = blank ? LinePhase::kValueTrail : LinePhase::kSkip;
      }
      break;
    case LinePhase::kValueTrail:
      if (!blank) line_phase_ = LinePhase::kSkip;
      break;
    case LinePhase::kSkip: break;
  }
}

void HttpResponse::body(std::span<const uint8_t> data) noexcept {
  body_bytes_ += data.size();
  // No more than Content-Length bytes are hashed (http_process_response()).
  uint64_t want = data.size();
  if (content_length_) want = std::min<uint64_t>(want, *content_length_ > hashed_ ? *content_length_ - hashed_ : 0);
  if (want == 0 || digest_done_) return;
  EVP_DigestUpdate(ctx_, data.data(), static_cast<size_t>(want));
  hashed_ += want;
}

void HttpResponse::finish_digest() noexcept {
  if (digest_done_) return;
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_, digest_.data(), &n);
  digest_done_ = true;
}

HttpResult HttpResponse::judge(const HttpExpect& expect) noexcept {
  HttpResult r;
  r.bytes = accepted_;
  r.body_bytes = body_bytes_;
  r.content_length = content_length_;
  r.status = status_phase_ == StatusPhase::kGood ? status_ : 0;
  if (header_done_) {
    finish_digest();
    r.digest = digest_;
    r.digest_hex = md5_hex(digest_);
    r.length_mismatch = content_length_ && *content_length_ != body_bytes_;
  }
  auto fail = [&r](HttpReason why) {
    r.reason = why;
    r.ok = false;
    return r;
  };
  // http_handle_response(): no data, then the status code, then the digest. Reading stopped
  // early (the cap, the header limit) comes first: what arrived is not the whole answer.
  if (stopped_ != HttpReason::kOk) return fail(stopped_);
  if (accepted_ == 0) return fail(HttpReason::kNoData);
  if (!header_done_) return fail(HttpReason::kIncomplete);
  if (r.status == 0) return fail(HttpReason::kBadStatusLine);
  // keepalived's bit array covers 100..599 only: a code outside fails whatever is configured.
  if (r.status < kHttpStatusMin || r.status > kHttpStatusMax || !expect.status.contains(r.status))
    return fail(HttpReason::kStatusMismatch);
  if (expect.digest && *expect.digest != digest_) return fail(HttpReason::kDigestMismatch);
  r.ok = true;
  r.reason = HttpReason::kOk;
  return r;
}

}  // namespace vs::check

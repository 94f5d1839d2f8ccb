// HTTP_GET health checks, sans-I/O: the request a probe sends and how the real's answer is judged,
// as keepalived does it (keepalived/check/check_http.c, lib/html.c; the settings
// keepalived/include/check_http.h defines). The caller owns the TCP connection and the clock: it
// sends the bytes build_http_request() writes, feeds what it reads to HttpResponse::feed() in
// order and calls judge() when the real closes the connection (keepalived judges at EOF).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <openssl/evp.h>

#include "base/result.hpp"

namespace vs::check {

/// keepalived's http_protocol: "1.0" (the default), "1.0C" (1.0 with Connection: close) and
/// "1.1" (with Connection: close; a 1.1 request without it would keep the connection open and
/// the check, which judges at EOF, would time out).
enum class HttpProtocol : uint8_t { k10, k10C, k11 };

/// keepalived's http_protocol_handler(): "1.0", "1.0C" or "1.0c", "1.1"; nullopt otherwise.
std::optional<HttpProtocol> parse_http_protocol(std::string_view s) noexcept;

/// keepalived's GET_BUFFER_LENGTH: it formats the request into that many bytes (snprintf, which
/// would truncate; build_http_request refuses instead).
inline constexpr size_t kHttpRequestMax = 2048;

/// The request, byte for byte as keepalived's http_request() formats it:
///   "GET <path> HTTP/1.<0|1>\r\nUser-Agent: KeepAliveClient\r\n[Connection: close\r\n]Host: <h>\r\n\r\n"
/// With port != 0, `host` is the real's address literal and <h> is "host:port" ("[host]:port"
/// when it contains ':', an IPv6 literal, RFC 2732 as keepalived's request_template_ipv6). With
/// port == 0, `host` is a virtualhost and is written as it is, without a port (keepalived never
/// adds one to a virtualhost). Returns the bytes written; 0 if the request does not fit in `out`
/// or in kHttpRequestMax, or if path or host is empty or holds a space or a control character
/// (CR, LF, NUL, ...: they would end the request line or the Host field early).
size_t build_http_request(std::span<uint8_t> out, std::string_view path, std::string_view host, uint16_t port,
                          HttpProtocol proto) noexcept;

// ---------------------------------------------------------------------------------------------
// Status codes (keepalived's status_code keyword)

/// keepalived keeps the accepted codes in a bit array over HTTP_STATUS_CODE_MIN..MAX (100..599).
inline constexpr uint16_t kHttpStatusMin = 100;
inline constexpr uint16_t kHttpStatusMax = 599;

struct StatusRange {
  uint16_t lo = 0;
  uint16_t hi = 0;
  friend bool operator==(const StatusRange&, const StatusRange&) = default;
};

/// The accepted status codes: a union of up to kMaxStatusRanges inclusive ranges. The default is
/// keepalived's HTTP_DEFAULT_STATUS_CODE_MIN..MAX, 200-299 (url_check() sets it when no
/// status_code is configured).
struct StatusSet {
  static constexpr size_t kMaxStatusRanges = 16;
  std::array<StatusRange, kMaxStatusRanges> ranges{{{200, 299}}};
  uint8_t count = 1;

  bool contains(uint16_t code) const noexcept;
  friend bool operator==(const StatusSet&, const StatusSet&) = default;
};

/// keepalived's status_code_handler(): whitespace-separated entries, each "N" or "N-M", with
/// 100 <= N <= M <= 599 (decimal digits only). keepalived reports a bad entry and goes on with the
/// others; this rejects the whole value so that a typo cannot silently narrow the set. An empty
/// value and more than kMaxStatusRanges entries are errors too.
Result<StatusSet> parse_status_codes(std::string_view s);

// ---------------------------------------------------------------------------------------------
// Digest (keepalived's digest keyword: the MD5 of the body, as genhash prints it)

using Md5Digest = std::array<uint8_t, 16>;

/// keepalived's digest_handler(): exactly 32 hex digits, either case.
Result<Md5Digest> parse_md5_hex(std::string_view s);

/// 32 lowercase hex digits and a NUL, as keepalived's format_digest() prints it.
std::array<char, 33> md5_hex(const Md5Digest& d) noexcept;

// ---------------------------------------------------------------------------------------------
// The response

enum class HttpReason : uint8_t {
  kOk,
  kNoData,          // the real closed without sending a byte
  kIncomplete,      // data, but no header end ("\r\n\r\n") before the close
  kHeaderTooLong,   // no header end within kHttpHeaderMax bytes
  kTooLong,         // more than the response cap arrived; reading stopped
  kBadStatusLine,   // no "<token> <3 digits> " at the start (keepalived: status code 0)
  kStatusMismatch,  // a status code outside the configured set
  kDigestMismatch,  // the body's MD5 differs from the configured digest
};
std::string_view to_string(HttpReason r) noexcept;

/// keepalived reads the header into one MAX_BUFFER_LENGTH (4096) buffer, keeping a byte for a NUL:
/// when 4095 bytes hold no "\r\n\r\n" its next read asks for 0 bytes, which looks like EOF, and
/// the check fails ("no data received"). The header, its final CRLF CRLF included, must fit.
inline constexpr size_t kHttpHeaderMax = 4095;

/// The default cap on all the bytes of one response (header and body).
inline constexpr size_t kHttpResponseCapDefault = size_t{1} << 20;

struct HttpExpect {
  StatusSet status;
  std::optional<Md5Digest> digest;
};

struct HttpResult {
  bool ok = false;
  HttpReason reason = HttpReason::kNoData;
  uint16_t status = 0;      // 0 when the status line did not parse
  uint64_t bytes = 0;       // all the bytes accepted (header and body)
  uint64_t body_bytes = 0;  // after the header end
  std::optional<uint64_t> content_length;
  bool length_mismatch = false;       // Content-Length != body bytes (keepalived only logs it)
  Md5Digest digest{};                 // of the body (see HttpResponse), valid once the header ended
  std::array<char, 33> digest_hex{};  // the same, as keepalived's genhash prints it
};

/// A streaming parser of one response. Fixed-size state: the status line is parsed by a state
/// machine as bytes arrive and only its first kStatusLineKeep bytes are kept (for logs); the body
/// is hashed as it arrives and never stored. One OpenSSL digest context lives as long as the
/// object; reset() starts the next response without allocating a parser.
///
/// What is hashed is keepalived's: the raw bytes after the header end (no chunked decoding: a
/// HTTP/1.0 request gets no chunked answer, RFC 9112 §7.1.3; with 1.1 keepalived hashes the chunk
/// framing too, and so does this), and no more than Content-Length of them when the header has a
/// valid one (http_process_response()).
class HttpResponse {
public:
  static constexpr size_t kStatusLineKeep = 128;

  explicit HttpResponse(size_t cap = kHttpResponseCapDefault);
  ~HttpResponse();
  HttpResponse(const HttpResponse&) = delete;
  HttpResponse& operator=(const HttpResponse&) = delete;

  /// Forget the response: the next feed() is the start of a new one. OpenSSL 3.0's
  /// EVP_DigestInit_ex2() re-creates the provider's MD5 state here (one small allocation per
  /// response); feed() and judge() allocate nothing.
  void reset() noexcept;

  /// The next bytes of the stream, in order. Returns how many were accepted: all of them, unless
  /// the cap or the header limit was reached (then fewer, and done() is true: stop reading).
  size_t feed(std::span<const uint8_t> data) noexcept;

  /// Reading may stop: the cap or the header limit was hit (judge() says which).
  bool done() const noexcept { return stopped_ != HttpReason::kOk; }

  /// The header ended, it had a Content-Length and that many body bytes have arrived: a caller may
  /// judge now instead of waiting for the close (keepalived waits; an HTTP/1.1 server without
  /// Connection: close would keep it open).
  /// The header has ended (its "\r\n\r\n" arrived): the status line is known.
  bool header_done() const noexcept { return header_done_; }
  bool complete() const noexcept { return header_done_ && content_length_ && body_bytes_ >= *content_length_; }

  size_t bytes_accepted() const noexcept { return accepted_; }
  size_t cap() const noexcept { return cap_; }
  std::string_view status_line() const noexcept { return {status_keep_.data(), static_cast<size_t>(status_keep_len_)}; }

  /// The verdict on what arrived, in keepalived's order (http_handle_response()): no data, then the
  /// status code, then the digest (compared only when `expect` has one). The first call ends the
  /// body's MD5; later calls (and other expectations) see the same digest until reset().
  HttpResult judge(const HttpExpect& expect) noexcept;

private:
  enum class StatusPhase : uint8_t { kToken, kCode, kSpace, kGood, kBad };
  enum class LinePhase : uint8_t { kName, kValueLead, kDigits, kValueTrail, kSkip };

  void header_byte(uint8_t c) noexcept;
  void status_byte(uint8_t c) noexcept;
  void line_byte(uint8_t c) noexcept;
  void body(std::span<const uint8_t> data) noexcept;
  void finish_digest() noexcept;

  size_t cap_;
  EVP_MD_CTX* ctx_ = nullptr;
  EVP_MD* md5_ = nullptr;

  size_t accepted_ = 0;
  HttpReason stopped_ = HttpReason::kOk;  // kTooLong or kHeaderTooLong once reading must stop
  bool header_done_ = false;
  uint8_t crlf_ = 0;  // how much of "\r\n\r\n" the last bytes matched

  StatusPhase status_phase_ = StatusPhase::kToken;
  uint8_t code_digits_ = 0;
  uint16_t status_ = 0;
  std::array<char, kStatusLineKeep> status_keep_{};
  uint8_t status_keep_len_ = 0;
  bool in_status_line_ = true;

  LinePhase line_phase_ = LinePhase::kSkip;  // the status line is no header field
  uint8_t name_matched_ = 0;
  bool cl_seen_ = false;  // the first Content-Length field decides, valid or not (lib/html.c)
  uint64_t cl_value_ = 0;
  bool cl_overflow_ = false;
  std::optional<uint64_t> content_length_;

  uint64_t body_bytes_ = 0;
  uint64_t hashed_ = 0;
  bool digest_done_ = false;
  Md5Digest digest_{};
};

}  // namespace vs::check

// DNS_CHECK health checks, sans-I/O: the query a probe sends over UDP and how the answer is
// judged, as keepalived does it (keepalived/check/check_dns.c, keepalived/include/check_dns.h).
// The caller owns the socket, the timer and the query ID (keepalived draws it with random(): the
// caller passes it in, so replay stays deterministic).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace vs::check {

/// keepalived's DNS_TYPE[] table (check_dns.c), with the RR type numbers of RFC 1035 §3.2.2
/// (AAAA: RFC 3596; RRSIG, DNSKEY: RFC 4034).
enum class DnsType : uint16_t {
  kA = 1,
  kNs = 2,
  kCname = 5,
  kSoa = 6,
  kMx = 15,
  kTxt = 16,
  kAaaa = 28,
  kRrsig = 46,
  kDnskey = 48,
};

/// keepalived's dns_type_lookup(): the table's labels ("A", "NS", ..., "DNSKEY"), any case.
std::optional<DnsType> parse_dns_type(std::string_view label) noexcept;
/// The table's label ("SOA"), as dump_dns_check() prints it.
std::string_view to_string(DnsType t) noexcept;

/// keepalived's defaults (DNS_DEFAULT_TYPE, DNS_DEFAULT_NAME): an SOA query for the root. Its ""
/// and "." encode the same (the root label alone).
inline constexpr DnsType kDnsDefaultType = DnsType::kSoa;
inline constexpr std::string_view kDnsDefaultName = "";

/// keepalived's DNS_BUFFER_SIZE: its query buffer, and how much of an answer it reads.
inline constexpr size_t kDnsBufferSize = 768;

enum class DnsNameError : uint8_t {
  kOk,
  kEmptyLabel,    // ".x", "a..b" (keepalived's dns_name_handler() refuses these too)
  kLabelTooLong,  // a label over 63 bytes (RFC 1035 §2.3.4; keepalived does not check)
  kNameTooLong,   // over 255 bytes on the wire (RFC 1035 §2.3.4; keepalived does not check)
};
std::string_view to_string(DnsNameError e) noexcept;

/// Whether `name` can be queried: "" and "." are the root; one trailing dot is allowed.
DnsNameError validate_dns_name(std::string_view name) noexcept;

/// keepalived's dns_make_query(): a 12-byte header (the ID, flags with only RD set, QDCOUNT 1,
/// the other counts 0; RFC 1035 §4.1.1), then the question: QNAME as length-prefixed labels
/// ending with the root's 0, QTYPE, QCLASS IN (RFC 1035 §4.1.2). Returns the bytes written: 0 if
/// the name is not valid (validate_dns_name) or the query does not fit in `out`.
size_t build_dns_query(std::span<uint8_t> out, uint16_t id, std::string_view name, DnsType type) noexcept;

/// What the checker does with a datagram. keepalived's dns_recv_thread() ignores (waits on for
/// another, until the timeout) a datagram shorter than a header, with another ID or without QR,
/// fails the check on a non-zero RCODE and passes it otherwise. It checks no more than that: not
/// TC, not the question section, not the answer count (an SOA query for "." answered with
/// NOERROR and no records passes).
enum class DnsOutcome : uint8_t { kUp, kDown, kIgnore };

enum class DnsReason : uint8_t {
  kOk,
  kTooShort,     // under 12 bytes (kIgnore)
  kIdMismatch,   // another query's answer, or a spoof (kIgnore)
  kNotResponse,  // QR clear: a query, not an answer (kIgnore)
  kRcode,        // RCODE != 0 (kDown); the code is in DnsVerdict::rcode
};
std::string_view to_string(DnsReason r) noexcept;

struct DnsVerdict {
  DnsOutcome outcome = DnsOutcome::kIgnore;
  DnsReason reason = DnsReason::kTooShort;
  uint8_t rcode = 0;   // RFC 1035 §4.1.1's 4 bits (1 FORMERR, 2 SERVFAIL, 3 NXDOMAIN, ...)
  uint16_t id = 0;     // the datagram's ID, when it has a header
  uint16_t flags = 0;  // its flags word
};

/// Judges one datagram received for the query with ID `id`.
DnsVerdict judge_dns_answer(std::span<const uint8_t> reply, uint16_t id) noexcept;

}  // namespace vs::check

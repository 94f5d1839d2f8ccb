// DNS_CHECK's query and answer codec: see dns.hpp. Packet bytes are read and written through
// wire/bytes.hpp's bounds-free accessors after one length check each (no struct casts: keepalived
// casts its buffers to dns_header_t; here every field is a big-endian load at its offset).
#include "check/dns.hpp"

#include <algorithm>
#include <array>

#include "wire/bytes.hpp"

namespace vs::check {

namespace {

struct TypeName {
  DnsType type;
  std::string_view label;
};

// check_dns.c's DNS_TYPE[], in its order.
constexpr std::array<TypeName, 9> kTypes{{
    {DnsType::kA, "A"},
    {DnsType::kNs, "NS"},
    {DnsType::kCname, "CNAME"},
    {DnsType::kSoa, "SOA"},
    {DnsType::kMx, "MX"},
    {DnsType::kTxt, "TXT"},
    {DnsType::kAaaa, "AAAA"},
    {DnsType::kRrsig, "RRSIG"},
    {DnsType::kDnskey, "DNSKEY"},
}};

bool equal_nocase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - ('a' - 'A')) : a[i];
    char y = b[i] >= 'a' && b[i] <= 'z' ? static_cast<char>(b[i] - ('a' - 'A')) : b[i];
    if (x != y) return false;
  }
  return true;
}

constexpr size_t kHeaderLen = 12;     // RFC 1035 §4.1.1
constexpr uint16_t kFlagRd = 0x0100;  // DNS_SET_RD(flags, 1)
constexpr uint16_t kFlagQr = 0x8000;  // DNS_QR(flags)
constexpr uint16_t kClassIn = 1;
constexpr size_t kMaxLabel = 63;
constexpr size_t kMaxWireName = 255;

/// The name without its trailing dot; "" for the root ("" or ".").
std::string_view labels_of(std::string_view name) noexcept {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

}  // namespace

std::optional<DnsType> parse_dns_type(std::string_view label) noexcept {
  for (const auto& t : kTypes)
    if (equal_nocase(label, t.label)) return t.type;
  return std::nullopt;
}

std::string_view to_string(DnsType t) noexcept {
  for (const auto& e : kTypes)
    if (e.type == t) return e.label;
  return "(unknown)";  // dns_type_name()'s word
}

std::string_view to_string(DnsNameError e) noexcept {
  switch (e) {
    case DnsNameError::kOk: return "ok";
    case DnsNameError::kEmptyLabel: return "empty label";
    case DnsNameError::kLabelTooLong: return "label longer than 63 bytes";
    case DnsNameError::kNameTooLong: return "name longer than 255 bytes on the wire";
  }
  return "?";
}

DnsNameError validate_dns_name(std::string_view name) noexcept {
  std::string_view rest = labels_of(name);
  if (rest.empty()) return name.size() <= 1 ? DnsNameError::kOk : DnsNameError::kEmptyLabel;
  size_t wire = 1;  // the root's 0
  while (true) {
    size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    if (label.empty()) return DnsNameError::kEmptyLabel;
    if (label.size() > kMaxLabel) return DnsNameError::kLabelTooLong;
    wire += 1 + label.size();
    if (wire > kMaxWireName) return DnsNameError::kNameTooLong;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return DnsNameError::kOk;
}

size_t build_dns_query(std::span<uint8_t> out, uint16_t id, std::string_view name, DnsType type) noexcept {
  if (validate_dns_name(name) != DnsNameError::kOk) return 0;
  std::string_view rest = labels_of(name);
  // Header, QNAME (each label plus its length byte, and the root's 0), QTYPE, QCLASS.
  size_t need = kHeaderLen + (rest.empty() ? 0 : rest.size() + 1) + 1 + 4;
  if (need > out.size()) return 0;
  wire::store16(out, 0, id);
  wire::store16(out, 2, kFlagRd);
  wire::store16(out, 4, 1);   // QDCOUNT
  wire::store16(out, 6, 0);   // ANCOUNT
  wire::store16(out, 8, 0);   // NSCOUNT
  wire::store16(out, 10, 0);  // ARCOUNT
  size_t pos = kHeaderLen;
  while (!rest.empty()) {
    size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    out[pos++] = static_cast<uint8_t>(label.size());
    for (char c : label) out[pos++] = static_cast<uint8_t>(c);
    rest.remove_prefix(dot == std::string_view::npos ? rest.size() : dot + 1);
  }
  out[pos++] = 0;
  wire::store16(out, pos, static_cast<uint16_t>(type));
  wire::store16(out, pos + 2, kClassIn);
  return pos + 4;
}

std::string_view to_string(DnsReason r) noexcept {
  switch (r) {
    case DnsReason::kOk: return "ok";
    case DnsReason::kTooShort: return "too small message";
    case DnsReason::kIdMismatch: return "ID does not match";
    case DnsReason::kNotResponse: return "receive query message?";
    case DnsReason::kRcode: return "read error occurred (rcode)";
  }
  return "?";
}

DnsVerdict judge_dns_answer(std::span<const uint8_t> reply, uint16_t id) noexcept {
  DnsVerdict v;
  if (reply.size() < kHeaderLen) return v;  // kIgnore, kTooShort
  v.id = wire::load16(reply, 0);
  v.flags = wire::load16(reply, 2);
  if (v.id != id) {
    v.reason = DnsReason::kIdMismatch;
    return v;
  }
  if ((v.flags & kFlagQr) == 0) {
    v.reason = DnsReason::kNotResponse;
    return v;
  }
  v.rcode = static_cast<uint8_t>(v.flags & 0x000f);  // DNS_RC(flags)
  if (v.rcode != 0) {
    v.outcome = DnsOutcome::kDown;
    v.reason = DnsReason::kRcode;
    return v;
  }
  v.outcome = DnsOutcome::kUp;
  v.reason = DnsReason::kOk;
  return v;
}

}  // namespace vs::check

// IPv4 header view (RFC 791 §3.1).
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-------+-------+---------------+-------------------------------+
//  |Version|  IHL  |   DSCP/ECN    |          Total Length         |
//  +-------+-------+---------------+-----+-------------------------+
//  |         Identification        |Flags|     Fragment Offset     |
//  +---------------+---------------+-----+-------------------------+
//  |  Time to Live |    Protocol   |         Header Checksum       |
//  +---------------+---------------+-------------------------------+
//  |                       Source Address                          |
//  |                    Destination Address                        |
//  |                    Options (IHL > 5)                          |
//  +---------------------------------------------------------------+
//
// Invariant: a view from parse() has version 4, IHL >= 5 and header_len <= total_len <= the
// span, and its span is trimmed to total_len (Ethernet padding is not payload). A view from
// parse_quoted() (the datagram quoted in an ICMP error) only guarantees version, IHL and the
// header itself; its payload is whatever was quoted. The header checksum is NOT checked by
// parse(): verify_checksum() is separate so that the caller can count the two drops apart.
#pragma once

#include <algorithm>
#include <optional>

#include "base/addr.hpp"
#include "base/proto.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace vs::wire {

namespace ipv4_field {
inline constexpr size_t kVerIhl = 0, kTos = 1, kLength = 2, kIdent = 4, kFlagsFrag = 6, kTtl = 8, kProto = 9,
                        kChecksum = 10, kSrc = 12, kDst = 16;
}

/// Why an IPv4 header failed to parse (each maps to one drop reason in the engine).
enum class Ipv4Error : uint8_t { kTruncated, kBadVersion, kBadIhl, kBadLength };

template <ByteType B>
class Ipv4View {
public:
  static constexpr size_t kMinHeaderLen = 20;
  static constexpr uint16_t kFlagDf = 0x4000, kFlagMf = 0x2000, kOffsetMask = 0x1fff;
  // Option types (RFC 791 §3.1); the top bit of a type is "copied into every fragment".
  static constexpr uint8_t kOptEnd = 0, kOptNop = 1, kOptRecordRoute = 7, kOptCopied = 0x80;

  /// Untrusted input. On failure `err` (if given) says why.
  static constexpr std::optional<Ipv4View> parse(std::span<B> b, Ipv4Error* err = nullptr) noexcept {
    auto fail = [&](Ipv4Error e) -> std::optional<Ipv4View> {
      if (err) *err = e;
      return std::nullopt;
    };
    if (b.size() < kMinHeaderLen) return fail(Ipv4Error::kTruncated);
    if ((b[0] >> 4) != 4) return fail(Ipv4Error::kBadVersion);
    size_t hl = static_cast<size_t>(b[0] & 0x0fu) * 4;
    if (hl < kMinHeaderLen) return fail(Ipv4Error::kBadIhl);
    size_t tl = load16(b, ipv4_field::kLength);
    if (tl < hl || tl > b.size()) return fail(Ipv4Error::kBadLength);
    return Ipv4View(b.first(tl));
  }

  /// The datagram quoted inside an ICMP error (RFC 792): header complete, payload possibly cut.
  static constexpr std::optional<Ipv4View> parse_quoted(std::span<B> b) noexcept {
    if (b.size() < kMinHeaderLen || (b[0] >> 4) != 4) return std::nullopt;
    size_t hl = static_cast<size_t>(b[0] & 0x0fu) * 4;
    if (hl < kMinHeaderLen || hl > b.size()) return std::nullopt;
    size_t tl = load16(b, ipv4_field::kLength);
    if (tl < hl) return std::nullopt;
    return Ipv4View(b.first(std::min(tl, b.size())));
  }

  /// For emission into a buffer we sized: the span must hold the whole datagram.
  static constexpr Ipv4View unchecked(std::span<B> b) noexcept { return Ipv4View(b); }

  uint8_t version() const noexcept { return b_[ipv4_field::kVerIhl] >> 4; }
  size_t header_len() const noexcept { return static_cast<size_t>(b_[ipv4_field::kVerIhl] & 0x0fu) * 4; }
  uint8_t tos() const noexcept { return b_[ipv4_field::kTos]; }
  uint16_t total_len() const noexcept { return load16(b_, ipv4_field::kLength); }
  uint16_t ident() const noexcept { return load16(b_, ipv4_field::kIdent); }
  uint16_t flags_frag() const noexcept { return load16(b_, ipv4_field::kFlagsFrag); }
  bool dont_fragment() const noexcept { return (flags_frag() & kFlagDf) != 0; }
  bool more_fragments() const noexcept { return (flags_frag() & kFlagMf) != 0; }
  /// Fragment offset in bytes.
  size_t frag_offset() const noexcept { return static_cast<size_t>(flags_frag() & kOffsetMask) * 8; }
  bool is_fragment() const noexcept { return more_fragments() || frag_offset() != 0; }
  uint8_t ttl() const noexcept { return b_[ipv4_field::kTtl]; }
  IpProto protocol() const noexcept { return static_cast<IpProto>(b_[ipv4_field::kProto]); }
  uint16_t checksum() const noexcept { return load16(b_, ipv4_field::kChecksum); }
  Ipv4Addr src() const noexcept { return {load32(b_, ipv4_field::kSrc)}; }
  Ipv4Addr dst() const noexcept { return {load32(b_, ipv4_field::kDst)}; }
  std::span<B> header() const noexcept { return b_.first(header_len()); }
  std::span<B> options() const noexcept { return b_.subspan(kMinHeaderLen, header_len() - kMinHeaderLen); }
  std::span<B> payload() const noexcept { return b_.subspan(header_len()); }
  /// Calls f(option bytes: type, length, data) for each option but No Operation, until f returns
  /// false, End of Option List, or a malformed length (RFC 791 §3.1).
  template <class F>
  void for_each_option(F&& f) const noexcept {
    auto o = options();
    for (size_t i = 0; i < o.size();) {
      if (o[i] == kOptEnd) return;
      if (o[i] == kOptNop) {
        ++i;
        continue;
      }
      if (i + 1 >= o.size() || o[i + 1] < 2 || i + o[i + 1] > o.size()) return;
      const size_t len = o[i + 1];
      if (!f(o.subspan(i, len))) return;
      i += len;
    }
  }
  /// The whole datagram (header + payload, trimmed to total_len).
  std::span<B> bytes() const noexcept { return b_; }

  bool verify_checksum() const noexcept { return csum::verify(header()); }

  // --- setters (writable views only) ---
  void set_ttl(uint8_t t) noexcept requires Mutable<B> { b_[ipv4_field::kTtl] = t; }
  /// TTL - 1 with the checksum updated incrementally (RFC 1624; RFC 1812 §5.3.1).
  void decrement_ttl() noexcept requires Mutable<B> {
    uint16_t old_w = load16(b_, ipv4_field::kTtl);
    b_[ipv4_field::kTtl] = static_cast<uint8_t>(b_[ipv4_field::kTtl] - 1);
    set_checksum(csum::update16(checksum(), old_w, load16(b_, ipv4_field::kTtl)));
  }
  void set_src_update_checksum(Ipv4Addr a) noexcept requires Mutable<B> {
    set_checksum(csum::update32(checksum(), src().v, a.v));
    store32(b_, ipv4_field::kSrc, a.v);
  }
  void set_dst_update_checksum(Ipv4Addr a) noexcept requires Mutable<B> {
    set_checksum(csum::update32(checksum(), dst().v, a.v));
    store32(b_, ipv4_field::kDst, a.v);
  }
  /// A forwarding router's part of the Record Route option (RFC 791 §3.1): `a` goes into the
  /// first free slot and the pointer moves on; a full or malformed option is left alone (as
  /// ip_options_compile and ip_forward_options in net/ipv4/ip_options.c do: they record only when
  /// 4 <= pointer and pointer + 3 <= length). Returns whether the header changed (the caller
  /// fills the checksum).
  bool record_route(Ipv4Addr a) noexcept requires Mutable<B> {
    bool done = false;
    for_each_option([&](std::span<B> opt) {
      if (opt[0] != kOptRecordRoute) return true;
      const size_t ptr = opt.size() >= 3 ? opt[2] : 0;
      if (ptr >= 4 && ptr + 3 <= opt.size()) {
        store32(opt, ptr - 1, a.v);
        opt[2] = static_cast<uint8_t>(ptr + 4);
        done = true;
      }
      return false;  // only the first Record Route option counts
    });
    return done;
  }
  void set_checksum(uint16_t c) noexcept requires Mutable<B> { store16(b_, ipv4_field::kChecksum, c); }
  void fill_checksum() noexcept requires Mutable<B> {
    set_checksum(0);
    set_checksum(csum::compute(header()));
  }
  /// Writes a 20-byte header with no options and a correct checksum; the payload is the caller's.
  void fill(uint8_t tos, uint16_t total_len, uint16_t ident, uint16_t flags_frag, uint8_t ttl, IpProto proto,
            Ipv4Addr src, Ipv4Addr dst) noexcept requires Mutable<B> {
    b_[ipv4_field::kVerIhl] = 0x45;
    b_[ipv4_field::kTos] = tos;
    store16(b_, ipv4_field::kLength, total_len);
    store16(b_, ipv4_field::kIdent, ident);
    store16(b_, ipv4_field::kFlagsFrag, flags_frag);
    b_[ipv4_field::kTtl] = ttl;
    b_[ipv4_field::kProto] = number(proto);
    store32(b_, ipv4_field::kSrc, src.v);
    store32(b_, ipv4_field::kDst, dst.v);
    fill_checksum();
  }
  void set_total_len(uint16_t l) noexcept requires Mutable<B> { store16(b_, ipv4_field::kLength, l); }
  void set_flags_frag(uint16_t f) noexcept requires Mutable<B> { store16(b_, ipv4_field::kFlagsFrag, f); }

private:
  constexpr explicit Ipv4View(std::span<B> b) noexcept : b_(b) {}
  std::span<B> b_;
};

/// IPIP (RFC 2003): an IPv4 datagram with protocol 4 whose payload is another IPv4 datagram.
template <ByteType B>
struct IpipView {
  Ipv4View<B> outer;
  Ipv4View<B> inner;

  static constexpr std::optional<IpipView> parse(std::span<B> b) noexcept {
    auto o = Ipv4View<B>::parse(b);
    if (!o || o->protocol() != IpProto::kIpip || o->is_fragment()) return std::nullopt;
    auto i = Ipv4View<B>::parse(o->payload());
    if (!i) return std::nullopt;
    return IpipView{*o, *i};
  }
};

}  // namespace vs::wire

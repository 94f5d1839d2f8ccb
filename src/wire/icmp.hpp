// ICMPv4 message view (RFC 792).
//
//   0       1       2               4                               8
//  +-------+-------+---------------+-------------------------------+------
//  | type  | code  |   checksum    | rest of header (id/seq, MTU)  | data
//  +-------+-------+---------------+-------------------------------+------
//
// For error messages (destination unreachable, time exceeded, parameter problem, source quench,
// redirect) the data is the quoted datagram: its IP header plus at least 8 bytes (RFC 792), or as
// much as fits in 576 bytes (RFC 1812 §4.3.2.3); quoted() parses it with Ipv4View::parse_quoted.
#pragma once

#include <optional>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace vs::wire {

namespace icmp_type {
inline constexpr uint8_t kEchoReply = 0, kDestUnreachable = 3, kSourceQuench = 4, kRedirect = 5, kEchoRequest = 8,
                         kTimeExceeded = 11, kParamProblem = 12;
}
namespace icmp_code {
// destination unreachable
inline constexpr uint8_t kNetUnreachable = 0, kHostUnreachable = 1, kProtoUnreachable = 2, kPortUnreachable = 3,
                         kFragNeeded = 4;
// time exceeded
inline constexpr uint8_t kTtlExceeded = 0, kReassemblyExceeded = 1;
}  // namespace icmp_code

template <ByteType B>
class Icmpv4View {
public:
  static constexpr size_t kHeaderLen = 8;

  static constexpr std::optional<Icmpv4View> parse(std::span<B> b) noexcept {
    if (b.size() < kHeaderLen) return std::nullopt;
    return Icmpv4View(b);
  }
  static constexpr Icmpv4View unchecked(std::span<B> b) noexcept { return Icmpv4View(b); }

  /// Error messages quote the offending datagram; an error must never be answered by an error.
  static constexpr bool is_error_type(uint8_t t) noexcept {
    return t == icmp_type::kDestUnreachable || t == icmp_type::kSourceQuench || t == icmp_type::kRedirect ||
           t == icmp_type::kTimeExceeded || t == icmp_type::kParamProblem;
  }

  uint8_t type() const noexcept { return b_[0]; }
  uint8_t code() const noexcept { return b_[1]; }
  uint16_t checksum() const noexcept { return load16(b_, 2); }
  uint16_t ident() const noexcept { return load16(b_, 4); }         // echo
  uint16_t seq() const noexcept { return load16(b_, 6); }           // echo
  uint16_t next_hop_mtu() const noexcept { return load16(b_, 6); }  // dest unreachable, code 4 (RFC 1191)
  uint32_t rest() const noexcept { return load32(b_, 4); }
  bool is_error() const noexcept { return is_error_type(type()); }
  std::span<B> data() const noexcept { return b_.subspan(kHeaderLen); }
  std::span<B> bytes() const noexcept { return b_; }
  bool verify_checksum() const noexcept { return csum::verify(b_); }

  /// The datagram quoted in an error message, if it has a complete IPv4 header.
  std::optional<Ipv4View<B>> quoted() const noexcept {
    if (!is_error()) return std::nullopt;
    return Ipv4View<B>::parse_quoted(data());
  }

  void set_type(uint8_t t) noexcept requires Mutable<B> { b_[0] = t; }
  void set_code(uint8_t c) noexcept requires Mutable<B> { b_[1] = c; }
  void set_rest(uint32_t r) noexcept requires Mutable<B> { store32(b_, 4, r); }
  void set_checksum(uint16_t c) noexcept requires Mutable<B> { store16(b_, 2, c); }
  void fill_checksum() noexcept requires Mutable<B> {
    set_checksum(0);
    set_checksum(csum::compute(b_));
  }

private:
  constexpr explicit Icmpv4View(std::span<B> b) noexcept : b_(b) {}
  std::span<B> b_;
};

}  // namespace vs::wire

// Test helpers for engine-level tests: a fluent frame builder (Ethernet, ARP, IPv4, ICMP, TCP,
// UDP) whose checksums come from an independent RFC 1071 reference implementation (not from
// src/wire), a TxSink that records what the engine sends, and checkers that verify every checksum
// of an emitted frame before the test looks at its fields.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/addr.hpp"
#include "engine.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace vs::test {

using ByteVec = std::vector<uint8_t>;

constexpr MacAddr mac(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t e, uint8_t f) {
  return MacAddr{{a, b, c, d, e, f}};
}
constexpr Ipv4Addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Ipv4Addr::from_octets(a, b, c, d); }

// ---------------------------------------------------------------------------------------------
// Reference Internet checksum (RFC 1071): 64-bit accumulator, folded at the end.

inline uint64_t ref_sum(std::span<const uint8_t> b, uint64_t acc = 0) {
  for (size_t i = 0; i < b.size(); ++i) acc += (i % 2 == 0) ? uint64_t{b[i]} << 8 : uint64_t{b[i]};
  return acc;
}
inline uint16_t ref_fold(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}
/// Checksum field value for data summing to `acc` with the field zeroed.
inline uint16_t ref_checksum(std::span<const uint8_t> b, uint64_t acc = 0) {
  return static_cast<uint16_t>(~ref_fold(ref_sum(b, acc)));
}
/// RFC 1071 verification: the data including its checksum sums to 0xffff.
inline bool ref_verify(std::span<const uint8_t> b, uint64_t acc = 0) { return ref_fold(ref_sum(b, acc)) == 0xffff; }
inline uint64_t ref_pseudo(Ipv4Addr src, Ipv4Addr dst, uint8_t proto, size_t len) {
  return (src.v >> 16) + (src.v & 0xffff) + (dst.v >> 16) + (dst.v & 0xffff) + proto + len;
}

// ---------------------------------------------------------------------------------------------
// Byte helpers

inline void put16(ByteVec& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}
inline uint16_t get16(std::span<const uint8_t> b, size_t off) {
  return static_cast<uint16_t>((b[off] << 8) | b[off + 1]);
}
inline void app16(ByteVec& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void app32(ByteVec& b, uint32_t v) {
  app16(b, static_cast<uint16_t>(v >> 16));
  app16(b, static_cast<uint16_t>(v));
}
inline void app_mac(ByteVec& b, const MacAddr& m) { b.insert(b.end(), m.b.begin(), m.b.end()); }
inline void app(ByteVec& b, std::span<const uint8_t> d) { b.insert(b.end(), d.begin(), d.end()); }

/// `n` bytes 0, 1, 2, ... (mod 256) starting at `start`: recognisable payload.
inline ByteVec pattern(size_t n, uint8_t start = 0) {
  ByteVec v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(start + i);
  return v;
}

/// Offsets in an Ethernet frame carrying IPv4 with a 20-byte header.
inline constexpr size_t kEthLen = 14;

/// Recompute the IPv4 header checksum of a frame after a test changed a header field.
inline void refresh_ip_checksum(ByteVec& frame) {
  size_t hl = static_cast<size_t>(frame[kEthLen] & 0x0f) * 4;
  put16(frame, kEthLen + 10, 0);
  put16(frame, kEthLen + 10, ref_checksum(std::span<const uint8_t>(frame).subspan(kEthLen, hl)));
}

// ---------------------------------------------------------------------------------------------
// Fluent frame builder

class FrameBuilder {
public:
  FrameBuilder& eth(const MacAddr& dst, const MacAddr& src) {
    dst_ = dst;
    src_ = src;
    return *this;
  }
  FrameBuilder& ethertype(uint16_t t) {
    ethertype_ = t;
    return *this;
  }

  // --- ARP (RFC 826, Ethernet/IPv4) ---
  FrameBuilder& arp(uint16_t op, const MacAddr& sha, Ipv4Addr spa, const MacAddr& tha, Ipv4Addr tpa) {
    kind_ = Kind::kArp;
    body_.clear();
    app16(body_, 1);
    app16(body_, 0x0800);
    body_.push_back(6);
    body_.push_back(4);
    app16(body_, op);
    app_mac(body_, sha);
    app32(body_, spa.v);
    app_mac(body_, tha);
    app32(body_, tpa.v);
    if (!ethertype_) ethertype_ = 0x0806;
    return *this;
  }

  // --- IPv4 (RFC 791) ---
  FrameBuilder& ipv4(Ipv4Addr src, Ipv4Addr dst) {
    kind_ = Kind::kIpv4;
    ip_src_ = src;
    ip_dst_ = dst;
    if (!ethertype_) ethertype_ = 0x0800;
    return *this;
  }
  FrameBuilder& ttl(uint8_t t) {
    ttl_ = t;
    return *this;
  }
  FrameBuilder& tos(uint8_t t) {
    tos_ = t;
    return *this;
  }
  FrameBuilder& id(uint16_t i) {
    id_ = i;
    return *this;
  }
  FrameBuilder& df() {
    flags_ |= 0x4000;
    return *this;
  }
  FrameBuilder& mf() {
    flags_ |= 0x2000;
    return *this;
  }
  /// Fragment offset in bytes (a multiple of 8).
  FrameBuilder& frag_offset(size_t bytes) {
    flags_ = static_cast<uint16_t>((flags_ & 0xe000) | (bytes / 8));
    return *this;
  }
  /// Raw option bytes; padded with zeros (End of Option List) to a multiple of 4.
  FrameBuilder& options(ByteVec o) {
    options_ = std::move(o);
    while (options_.size() % 4 != 0) options_.push_back(0);
    return *this;
  }

  // --- payloads ---
  FrameBuilder& icmp(uint8_t type, uint8_t code, uint32_t rest, const ByteVec& data) {
    proto_ = 1;
    l4_.clear();
    l4_.push_back(type);
    l4_.push_back(code);
    app16(l4_, 0);
    app32(l4_, rest);
    app(l4_, data);
    put16(l4_, 2, ref_checksum(l4_));
    return *this;
  }
  FrameBuilder& echo_request(uint16_t ident, uint16_t seq, const ByteVec& data) {
    return icmp(8, 0, (uint32_t{ident} << 16) | seq, data);
  }
  FrameBuilder& tcp(uint16_t sport, uint16_t dport, uint8_t flags, const ByteVec& data = {}) {
    proto_ = 6;
    l4_.clear();
    app16(l4_, sport);
    app16(l4_, dport);
    app32(l4_, 0x01020304);  // seq
    app32(l4_, 0);           // ack
    l4_.push_back(5 << 4);   // data offset 5 words
    l4_.push_back(flags);
    app16(l4_, 65535);  // window
    app16(l4_, 0);      // checksum
    app16(l4_, 0);      // urgent
    app(l4_, data);
    l4_checksum_at_ = 16;
    return *this;
  }
  /// Sequence and acknowledgment numbers of the TCP header set by tcp().
  FrameBuilder& seq_ack(uint32_t seq, uint32_t ack) {
    for (int i = 0; i < 4; ++i) {
      l4_[4 + i] = static_cast<uint8_t>(seq >> (24 - 8 * i));
      l4_[8 + i] = static_cast<uint8_t>(ack >> (24 - 8 * i));
    }
    return *this;
  }
  FrameBuilder& udp(uint16_t sport, uint16_t dport, const ByteVec& data = {}) {
    proto_ = 17;
    l4_.clear();
    app16(l4_, sport);
    app16(l4_, dport);
    app16(l4_, static_cast<uint16_t>(8 + data.size()));
    app16(l4_, 0);
    app(l4_, data);
    l4_checksum_at_ = 6;
    return *this;
  }
  /// Any protocol with raw payload bytes, taken as is (no checksum filled): fragments, junk.
  FrameBuilder& raw(uint8_t proto, const ByteVec& data) {
    proto_ = proto;
    l4_ = data;
    l4_checksum_at_.reset();
    return *this;
  }
  /// Ethernet padding up to `n` bytes of frame (not counted in the IP total length).
  FrameBuilder& pad_to(size_t n) {
    pad_to_ = n;
    return *this;
  }

  ByteVec build() const {
    ByteVec f;
    app_mac(f, dst_);
    app_mac(f, src_);
    app16(f, ethertype_.value_or(0x0800));
    if (kind_ == Kind::kArp) {
      app(f, body_);
    } else if (kind_ == Kind::kIpv4) {
      ByteVec l4 = l4_;
      if (l4_checksum_at_) {
        put16(l4, *l4_checksum_at_, 0);
        uint16_t c = ref_checksum(l4, ref_pseudo(ip_src_, ip_dst_, proto_, l4.size()));
        if (proto_ == 17 && c == 0) c = 0xffff;  // RFC 768: computed 0 sent as all ones
        put16(l4, *l4_checksum_at_, c);
      }
      const size_t hl = 20 + options_.size();
      ByteVec h;
      h.push_back(static_cast<uint8_t>(0x40 | (hl / 4)));
      h.push_back(tos_);
      app16(h, static_cast<uint16_t>(hl + l4.size()));
      app16(h, id_);
      app16(h, flags_);
      h.push_back(ttl_);
      h.push_back(proto_);
      app16(h, 0);
      app32(h, ip_src_.v);
      app32(h, ip_dst_.v);
      app(h, options_);
      put16(h, 10, ref_checksum(h));
      app(f, h);
      app(f, l4);
    }
    while (f.size() < pad_to_) f.push_back(0);
    return f;
  }

private:
  enum class Kind { kNone, kArp, kIpv4 };
  Kind kind_ = Kind::kNone;
  MacAddr dst_, src_;
  std::optional<uint16_t> ethertype_;
  ByteVec body_;
  Ipv4Addr ip_src_, ip_dst_;
  uint8_t ttl_ = 64, tos_ = 0, proto_ = 0;
  uint16_t id_ = 0x1234, flags_ = 0;
  ByteVec options_;
  ByteVec l4_;
  std::optional<size_t> l4_checksum_at_;
  size_t pad_to_ = 0;
};

inline FrameBuilder frame() { return FrameBuilder(); }

// ---------------------------------------------------------------------------------------------
// Capturing sink

struct Sent {
  uint32_t iface;
  ByteVec bytes;
};

class MemSink : public TxSink {
public:
  void transmit(uint32_t iface, std::span<const uint8_t> f) override {
    sent.push_back({iface, ByteVec(f.begin(), f.end())});
  }
  void clear() { sent.clear(); }
  std::vector<Sent> sent;
};

// ---------------------------------------------------------------------------------------------
// Checkers: verify structure and checksums with the reference implementation first.

inline MacAddr eth_dst(const ByteVec& f) { return wire::EthernetView<const uint8_t>::unchecked(f).dst(); }
inline MacAddr eth_src(const ByteVec& f) { return wire::EthernetView<const uint8_t>::unchecked(f).src(); }
inline uint16_t eth_type(const ByteVec& f) { return get16(f, 12); }

/// An Ethernet frame holding a well-formed IPv4 datagram with a correct header checksum, and
/// nothing after it (frames we emit carry no padding).
inline ::testing::AssertionResult ValidIpv4(const ByteVec& f) {
  if (f.size() < kEthLen + 20) return ::testing::AssertionFailure() << "frame too short: " << f.size();
  if (eth_type(f) != 0x0800) return ::testing::AssertionFailure() << "ethertype " << std::hex << eth_type(f);
  std::span<const uint8_t> ip(f.data() + kEthLen, f.size() - kEthLen);
  if ((ip[0] >> 4) != 4) return ::testing::AssertionFailure() << "version " << (ip[0] >> 4);
  size_t hl = static_cast<size_t>(ip[0] & 0x0f) * 4;
  if (hl < 20 || hl > ip.size()) return ::testing::AssertionFailure() << "IHL " << hl;
  size_t tl = get16(ip, 2);
  if (tl != ip.size())
    return ::testing::AssertionFailure() << "total length " << tl << " but " << ip.size() << " bytes";
  if (!ref_verify(ip.first(hl))) return ::testing::AssertionFailure() << "bad IPv4 header checksum";
  return ::testing::AssertionSuccess();
}

inline wire::Ipv4View<const uint8_t> ip_of(const ByteVec& f) {
  return wire::Ipv4View<const uint8_t>::unchecked(std::span<const uint8_t>(f).subspan(kEthLen));
}

/// ValidIpv4 + protocol ICMP + correct ICMP checksum.
inline ::testing::AssertionResult ValidIcmp(const ByteVec& f) {
  if (auto r = ValidIpv4(f); !r) return r;
  auto ip = ip_of(f);
  if (ip.protocol() != IpProto::kIcmp)
    return ::testing::AssertionFailure() << "protocol " << int{number(ip.protocol())};
  if (ip.payload().size() < 8) return ::testing::AssertionFailure() << "ICMP too short";
  if (!ref_verify(ip.payload())) return ::testing::AssertionFailure() << "bad ICMP checksum";
  return ::testing::AssertionSuccess();
}

inline wire::Icmpv4View<const uint8_t> icmp_of(const ByteVec& f) {
  return wire::Icmpv4View<const uint8_t>::unchecked(ip_of(f).payload());
}

/// ValidIpv4 + protocol TCP/UDP + correct transport checksum over the pseudo-header.
inline ::testing::AssertionResult ValidTransport(const ByteVec& f) {
  if (auto r = ValidIpv4(f); !r) return r;
  auto ip = ip_of(f);
  auto p = ip.payload();
  if (ip.protocol() == IpProto::kTcp) {
    if (p.size() < 20) return ::testing::AssertionFailure() << "TCP too short";
  } else if (ip.protocol() == IpProto::kUdp) {
    if (p.size() < 8 || get16(p, 4) != p.size()) return ::testing::AssertionFailure() << "UDP length";
    if (get16(p, 6) == 0) return ::testing::AssertionSuccess();
  } else {
    return ::testing::AssertionFailure() << "protocol " << int{number(ip.protocol())};
  }
  if (!ref_verify(p, ref_pseudo(ip.src(), ip.dst(), number(ip.protocol()), p.size())))
    return ::testing::AssertionFailure() << "bad transport checksum";
  return ::testing::AssertionSuccess();
}

/// An ARP frame (Ethertype 0x0806, Ethernet/IPv4, 28 bytes of ARP).
inline ::testing::AssertionResult ValidArp(const ByteVec& f) {
  if (f.size() < kEthLen + 28) return ::testing::AssertionFailure() << "ARP frame too short: " << f.size();
  if (eth_type(f) != 0x0806) return ::testing::AssertionFailure() << "ethertype " << std::hex << eth_type(f);
  if (!wire::ArpView<const uint8_t>::parse(std::span<const uint8_t>(f).subspan(kEthLen)))
    return ::testing::AssertionFailure() << "not Ethernet/IPv4 ARP";
  return ::testing::AssertionSuccess();
}

inline wire::ArpView<const uint8_t> arp_of(const ByteVec& f) {
  return wire::ArpView<const uint8_t>::unchecked(std::span<const uint8_t>(f).subspan(kEthLen));
}

/// The IPv4 datagram of a frame we built (without Ethernet header or padding).
inline ByteVec ip_bytes(const ByteVec& f) {
  size_t tl = get16(f, kEthLen + 2);
  return ByteVec(f.begin() + kEthLen, f.begin() + static_cast<std::ptrdiff_t>(kEthLen + tl));
}

/// What a router emits for a forwarded datagram (RFC 1812 §5.3.1): TTL - 1 and the header
/// checksum recomputed from scratch here (the engine updates it incrementally; both must agree).
inline ByteVec forwarded_ip(const ByteVec& in_frame) {
  ByteVec ip = ip_bytes(in_frame);
  ip[8] = static_cast<uint8_t>(ip[8] - 1);
  size_t hl = static_cast<size_t>(ip[0] & 0x0f) * 4;
  put16(ip, 10, 0);
  put16(ip, 10, ref_checksum(std::span<const uint8_t>(ip).first(hl)));
  return ip;
}

}  // namespace vs::test

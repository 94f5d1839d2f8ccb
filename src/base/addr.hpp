// Address value types shared by every layer: MAC, IPv4 address, IPv4 prefix, IPv6 address.
// Pure values: no I/O, no allocation except in the text formatting helpers.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vs {

struct MacAddr {
  std::array<uint8_t, 6> b{};

  static constexpr MacAddr broadcast() noexcept { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  constexpr bool is_broadcast() const noexcept { return *this == broadcast(); }
  constexpr bool is_multicast() const noexcept { return (b[0] & 0x01) != 0; }
  constexpr bool is_zero() const noexcept { return *this == MacAddr{}; }

  /// "aa:bb:cc:dd:ee:ff" (also accepts '-' separators); nullopt on anything else.
  static std::optional<MacAddr> parse(std::string_view s) noexcept;
  std::string str() const;

  friend constexpr auto operator<=>(const MacAddr&, const MacAddr&) = default;
};

/// An IPv4 address in host order (value 0xC0A80101 is 192.168.1.1).
struct Ipv4Addr {
  uint32_t v = 0;

  static constexpr Ipv4Addr from_octets(uint8_t a, uint8_t b, uint8_t c, uint8_t d) noexcept {
    return {(uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | uint32_t{d}};
  }
  static constexpr Ipv4Addr broadcast() noexcept { return {0xffffffffu}; }
  constexpr bool is_unspecified() const noexcept { return v == 0; }
  constexpr bool is_broadcast() const noexcept { return v == 0xffffffffu; }
  constexpr bool is_multicast() const noexcept { return (v >> 28) == 0xe; }  // 224/4
  constexpr bool is_loopback() const noexcept { return (v >> 24) == 127; }   // 127/8
  constexpr bool is_class_e() const noexcept { return (v >> 28) == 0xf; }    // 240/4

  /// Dotted quad, exactly four decimal octets 0..255; nullopt on anything else.
  static std::optional<Ipv4Addr> parse(std::string_view s) noexcept;
  std::string str() const;

  friend constexpr auto operator<=>(const Ipv4Addr&, const Ipv4Addr&) = default;
};

/// An IPv6 address, its 16 bytes in network order (RFC 4291).
struct Ipv6Addr {
  std::array<uint8_t, 16> b{};

  static constexpr Ipv6Addr loopback() noexcept {
    Ipv6Addr a;
    a.b[15] = 1;
    return a;
  }
  constexpr bool is_unspecified() const noexcept { return *this == Ipv6Addr{}; }                   // ::
  constexpr bool is_loopback() const noexcept { return *this == loopback(); }                      // ::1
  constexpr bool is_multicast() const noexcept { return b[0] == 0xff; }                            // ff00::/8
  constexpr bool is_link_local() const noexcept { return b[0] == 0xfe && (b[1] & 0xc0) == 0x80; }  // fe80::/10
  /// ::ffff:0:0/96 (RFC 4291 §2.5.5.2): an IPv4 address in IPv6 form, never on the wire here.
  constexpr bool is_v4_mapped() const noexcept {
    for (int i = 0; i < 10; ++i)
      if (b[i] != 0) return false;
    return b[10] == 0xff && b[11] == 0xff;
  }
  /// The solicited-node multicast address of this one (RFC 4291 §2.7.1): ff02::1:ff00:0/104 and
  /// its low 24 bits; Neighbour Solicitations for it go there (RFC 4861 §7.2.2).
  constexpr Ipv6Addr solicited_node() const noexcept {
    Ipv6Addr m;
    m.b[0] = 0xff;
    m.b[1] = 0x02;
    m.b[11] = 0x01;
    m.b[12] = 0xff;
    m.b[13] = b[13];
    m.b[14] = b[14];
    m.b[15] = b[15];
    return m;
  }

  /// RFC 4291 §2.2 text: eight groups of 1..4 hex digits, one "::" for a run of zero groups, and
  /// an optional dotted IPv4 tail in the last 32 bits; nullopt on anything else (no zone "%").
  static std::optional<Ipv6Addr> parse(std::string_view s) noexcept;
  /// RFC 5952 §4: lowercase, no leading zeros, the longest run of two or more zero groups (the
  /// first of equal runs) as "::".
  std::string str() const;

  friend constexpr auto operator<=>(const Ipv6Addr&, const Ipv6Addr&) = default;
  /// As two 64-bit words (no call to memcmp on the packet path).
  friend constexpr bool operator==(const Ipv6Addr& x, const Ipv6Addr& y) noexcept {
    const auto a = std::bit_cast<std::array<uint64_t, 2>>(x.b), b = std::bit_cast<std::array<uint64_t, 2>>(y.b);
    return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
  }
};

/// The link-local address an interface forms from its MAC (RFC 4291 §2.5.1 and appendix A,
/// RFC 2464 §4: fe80::/64 and the modified EUI-64 identifier, the universal/local bit inverted),
/// as Linux does with addr_gen_mode 0.
constexpr Ipv6Addr link_local_from(const MacAddr& m) noexcept {
  Ipv6Addr a;
  a.b[0] = 0xfe;
  a.b[1] = 0x80;
  a.b[8] = static_cast<uint8_t>(m.b[0] ^ 0x02);
  a.b[9] = m.b[1];
  a.b[10] = m.b[2];
  a.b[11] = 0xff;
  a.b[12] = 0xfe;
  a.b[13] = m.b[3];
  a.b[14] = m.b[4];
  a.b[15] = m.b[5];
  return a;
}

/// Every link carries IPv6 datagrams of this size (RFC 8200 §5); an ICMPv6 error is at most this
/// long (RFC 4443 §2.4(c)).
inline constexpr uint32_t kIpv6MinMtu = 1280;
/// Every IPv4 module forwards a 68-byte datagram unfragmented (RFC 791 §3.2).
inline constexpr uint32_t kIpv4MinMtu = 68;

/// ff02::1, all nodes on the link (RFC 4291 §2.7.1).
inline constexpr Ipv6Addr kAllNodes{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
/// ff02::2, all routers on the link.
inline constexpr Ipv6Addr kAllRouters{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};

/// An IPv6 address and prefix length: an interface address (host form, 2001:db8::1/64) or a
/// route (network form, host bits zero, checked by config).
struct Ipv6Prefix {
  Ipv6Addr addr;
  uint8_t len = 128;

  constexpr Ipv6Addr network() const noexcept {
    Ipv6Addr n;
    for (unsigned i = 0; i < 16; ++i) {
      const unsigned bits = len >= 8 * (i + 1) ? 8 : (len > 8 * i ? len - 8 * i : 0);
      n.b[i] = static_cast<uint8_t>(addr.b[i] & (bits == 0 ? 0 : (0xff00u >> bits) & 0xff));
    }
    return n;
  }
  constexpr bool contains(const Ipv6Addr& a) const noexcept { return Ipv6Prefix{a, len}.network() == network(); }

  /// "addr/len" with len 0..128; nullopt on anything else.
  static std::optional<Ipv6Prefix> parse(std::string_view s) noexcept;
  std::string str() const;

  friend constexpr auto operator<=>(const Ipv6Prefix&, const Ipv6Prefix&) = default;
};

/// The Ethernet address of IPv6 multicast group `g` (RFC 2464 §7): 33:33 and its low 32 bits.
constexpr MacAddr multicast_mac(const Ipv6Addr& g) noexcept {
  return {{0x33, 0x33, g.b[12], g.b[13], g.b[14], g.b[15]}};
}

/// The Ethernet address of IPv4 multicast group `g` (RFC 1112 §6.4): 01:00:5e and its low 23 bits.
constexpr MacAddr multicast_mac(Ipv4Addr g) noexcept {
  return {{0x01, 0x00, 0x5e, static_cast<uint8_t>((g.v >> 16) & 0x7f), static_cast<uint8_t>(g.v >> 8),
           static_cast<uint8_t>(g.v)}};
}

constexpr uint32_t prefix_mask(uint8_t len) noexcept {
  return len == 0 ? 0u : (len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1u));
}

/// Address plus prefix length. For an interface address `addr` is the host address
/// (192.168.1.10/24); for a route it is the network (host bits zero, checked by config).
struct Ipv4Prefix {
  Ipv4Addr addr;
  uint8_t len = 32;

  constexpr uint32_t mask() const noexcept { return prefix_mask(len); }
  constexpr Ipv4Addr network() const noexcept { return {addr.v & mask()}; }
  constexpr Ipv4Addr directed_broadcast() const noexcept { return {network().v | ~mask()}; }
  constexpr bool contains(Ipv4Addr a) const noexcept { return (a.v & mask()) == network().v; }

  /// "a.b.c.d/len" with len 0..32; nullopt on anything else.
  static std::optional<Ipv4Prefix> parse(std::string_view s) noexcept;
  std::string str() const;

  friend constexpr auto operator<=>(const Ipv4Prefix&, const Ipv4Prefix&) = default;
};

/// A service's or a real's address, of either family (the kernel's `union nf_inet_addr` with its
/// `af`): 16 bytes, an IPv4 address held v4-mapped (::ffff:a.b.c.d, RFC 4291 §2.5.5.2), which
/// no IPv6 VIP or real may be, so the family is read from the prefix. Ordered as ipvsadm sorts
/// (libipvs.c ipvs_cmp_services): IPv4 before IPv6, then the address.
struct IpAddr {
  Ipv6Addr a;

  constexpr IpAddr() noexcept = default;
  constexpr IpAddr(Ipv4Addr v4) noexcept {  // NOLINT(google-explicit-constructor): every IPv4 address is one
    a.b[10] = 0xff;
    a.b[11] = 0xff;
    a.b[12] = static_cast<uint8_t>(v4.v >> 24);
    a.b[13] = static_cast<uint8_t>(v4.v >> 16);
    a.b[14] = static_cast<uint8_t>(v4.v >> 8);
    a.b[15] = static_cast<uint8_t>(v4.v);
  }
  static constexpr IpAddr from_v6(const Ipv6Addr& v6) noexcept {
    IpAddr x;
    x.a = v6;
    return x;
  }
  constexpr bool is_v4() const noexcept { return a.is_v4_mapped(); }
  constexpr bool is_v6() const noexcept { return !is_v4(); }
  /// The IPv4 address (meaningful when is_v4()).
  constexpr Ipv4Addr v4() const noexcept {
    return {(uint32_t{a.b[12]} << 24) | (uint32_t{a.b[13]} << 16) | (uint32_t{a.b[14]} << 8) | uint32_t{a.b[15]}};
  }
  constexpr const Ipv6Addr& v6() const noexcept { return a; }
  /// The kernel's 32-bit fold of an address for the schedulers' hashes (ip_vs_sh.c
  /// ip_vs_sh_hashkey: the four words XORed for IPv6), in host order; an IPv4 address itself.
  constexpr uint32_t fold() const noexcept { return is_v4() ? v4().v : fold6(a); }
  /// The address as the kernel reads its union nf_inet_addr under a service's family `v6`: an
  /// IPv6 service folds it (an IPv4 address fills only the first word: itself), an IPv4 service
  /// reads the first word (of an IPv6 address, its first four bytes). Only a mixed-family real
  /// (TUN) tells the two apart (ip_vs_mh_permutate hashes dests under svc->af).
  constexpr uint32_t fold_in(bool v6) const noexcept {
    if (is_v4() || v6) return fold();
    return (uint32_t{a.b[0]} << 24) | (uint32_t{a.b[1]} << 16) | (uint32_t{a.b[2]} << 8) | a.b[3];
  }
  /// The fold of an IPv6 address: its four words XORed, read as host order (the XOR of the
  /// words as stored, byte-swapped once: on the packet path, no byte loop).
  static constexpr uint32_t fold6(const Ipv6Addr& x) noexcept {
    const auto w = std::bit_cast<std::array<uint32_t, 4>>(x.b);
    const uint32_t f = w[0] ^ w[1] ^ w[2] ^ w[3];
    if constexpr (std::endian::native == std::endian::little) return __builtin_bswap32(f);
    return f;
  }

  /// A dotted quad or an IPv6 literal (Ipv6Addr::parse; a v4-mapped one is refused: it would
  /// read as IPv4).
  static std::optional<IpAddr> parse(std::string_view s) noexcept;
  /// The family's own text: a.b.c.d, or RFC 5952 for IPv6.
  std::string str() const;
  /// ipvsadm's form with a port (ipvsadm.c addrport_to_anyname): a.b.c.d:p, [v6]:p.
  std::string str(uint16_t port) const;

  friend constexpr bool operator==(const IpAddr& x, const IpAddr& y) noexcept { return x.a == y.a; }
  friend constexpr std::strong_ordering operator<=>(const IpAddr& x, const IpAddr& y) noexcept {
    if (x.is_v4() != y.is_v4()) return x.is_v4() ? std::strong_ordering::less : std::strong_ordering::greater;
    return x.a.b <=> y.a.b;
  }
};

/// The prefix length of a contiguous dotted netmask (255.255.255.0 -> 24); nullopt if not contiguous.
std::optional<uint8_t> netmask_len(Ipv4Addr mask) noexcept;

/// "a.b.c.d:port" or ipvsadm's IPv6 form "[2001:db8::1]:port" (port 0..65535). With
/// allow_no_port, "a.b.c.d", "[2001:db8::1]" and "2001:db8::1" give port nullopt.
struct Endpoint {
  IpAddr addr;
  std::optional<uint16_t> port;
};
std::optional<Endpoint> parse_endpoint(std::string_view s, bool allow_no_port) noexcept;

}  // namespace vs

// Header view tests: Ethernet, ARP, IPv4, IPIP, ICMPv4, TCP, UDP.
//
// Every fixture is written out byte by byte with its field layout. Checksums in the fixtures
// were worked out by hand (one example is spelled out next to kTcpSyn) and cross-checked with
// an independent script; none of them is produced by the code under test.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "base/addr.hpp"
#include "wire/arp.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace vs::wire {
namespace {

// ---------------------------------------------------------------------------------------------
// Helpers

using Buf = std::vector<uint8_t>;

template <size_t N>
Buf buf(const uint8_t (&a)[N]) {
  return Buf(std::begin(a), std::end(a));
}
/// A buffer of `n` bytes of 0xa5, so that untouched bytes are visible after a setter runs.
Buf poison(size_t n) { return Buf(n, 0xa5); }

std::string hex(std::span<const uint8_t> b) {
  std::string s;
  char tmp[4];
  for (size_t i = 0; i < b.size(); ++i) {
    std::snprintf(tmp, sizeof tmp, "%02x", b[i]);
    if (i) s += (i % 16 == 0) ? '\n' : ' ';
    s += tmp;
  }
  return s;
}
template <size_t N>
std::string hex(const uint8_t (&a)[N]) {
  return hex(std::span<const uint8_t>(a));
}
std::string hex(const Buf& b) { return hex(std::span<const uint8_t>(b)); }

/// Exactly `n` heap bytes copied from the front of `a`, so AddressSanitizer sees any read past n.
template <size_t N>
Buf prefix(const uint8_t (&a)[N], size_t n) {
  return Buf(std::begin(a), std::begin(a) + static_cast<ptrdiff_t>(n));
}

constexpr MacAddr kHostMac{{0x00, 0x0c, 0x29, 0x3e, 0x5b, 0x7a}};
constexpr MacAddr kRouterMac{{0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e}};
constexpr Ipv4Addr kHostIp = Ipv4Addr::from_octets(192, 168, 1, 10);
constexpr Ipv4Addr kRouterIp = Ipv4Addr::from_octets(192, 168, 1, 1);
constexpr Ipv4Addr kClientIp = Ipv4Addr::from_octets(172, 16, 10, 99);
constexpr Ipv4Addr kServerIp = Ipv4Addr::from_octets(172, 16, 10, 12);

// ---------------------------------------------------------------------------------------------
// Fixtures

// ARP who-has 192.168.1.1 tell 192.168.1.10, as captured on the wire (60-byte minimum frame).
constexpr uint8_t kArpRequestFrame[] = {
    // Ethernet
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  //  0 dst ff:ff:ff:ff:ff:ff
    0x00, 0x0c, 0x29, 0x3e, 0x5b, 0x7a,  //  6 src 00:0c:29:3e:5b:7a
    0x08, 0x06,                          // 12 EtherType ARP
    // ARP (offsets relative to the ARP header)
    0x00, 0x01,                          //  0 htype Ethernet
    0x08, 0x00,                          //  2 ptype IPv4
    0x06,                                //  4 hlen
    0x04,                                //  5 plen
    0x00, 0x01,                          //  6 oper request
    0x00, 0x0c, 0x29, 0x3e, 0x5b, 0x7a,  //  8 sha
    0xc0, 0xa8, 0x01, 0x0a,              // 14 spa 192.168.1.10
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // 18 tha (unknown)
    0xc0, 0xa8, 0x01, 0x01,              // 24 tpa 192.168.1.1
    // Ethernet padding to 60 bytes
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
constexpr size_t kArpOff = 14;

// The answer: 192.168.1.1 is-at 00:1a:2b:3c:4d:5e (ARP body only).
constexpr uint8_t kArpReply[] = {
    0x00, 0x01,                          //  0 htype Ethernet
    0x08, 0x00,                          //  2 ptype IPv4
    0x06, 0x04,                          //  4 hlen, plen
    0x00, 0x02,                          //  6 oper reply
    0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e,  //  8 sha
    0xc0, 0xa8, 0x01, 0x01,              // 14 spa 192.168.1.1
    0x00, 0x0c, 0x29, 0x3e, 0x5b, 0x7a,  // 18 tha
    0xc0, 0xa8, 0x01, 0x0a,              // 24 tpa 192.168.1.10
};

// Linux TCP SYN 172.16.10.99:45678 -> 172.16.10.12:80 with MSS, SACK-permitted, timestamps, NOP,
// window scale. IPv4 header checksum by hand:
//   4500 + 003c + 1c46 + 4000 + 4006 + ac10 + 0a63 + ac10 + 0a0c = 24e17
//   fold: 4e17 + 2 = 4e19; ~4e19 = b1e6
constexpr uint8_t kTcpSyn[] = {
    // IPv4
    0x45,                    //  0 version 4, IHL 5
    0x00,                    //  1 DSCP/ECN
    0x00, 0x3c,              //  2 total length 60
    0x1c, 0x46,              //  4 identification
    0x40, 0x00,              //  6 flags DF, offset 0
    0x40,                    //  8 TTL 64
    0x06,                    //  9 protocol TCP
    0xb1, 0xe6,              // 10 header checksum
    0xac, 0x10, 0x0a, 0x63,  // 12 src 172.16.10.99
    0xac, 0x10, 0x0a, 0x0c,  // 16 dst 172.16.10.12
    // TCP
    0xb2, 0x6e,                                                  //  0 sport 45678
    0x00, 0x50,                                                  //  2 dport 80
    0x12, 0x34, 0x56, 0x78,                                      //  4 seq
    0x00, 0x00, 0x00, 0x00,                                      //  8 ack
    0xa0,                                                        // 12 data offset 10 (40 bytes)
    0x02,                                                        // 13 flags SYN
    0xfa, 0xf0,                                                  // 14 window 64240
    0x40, 0x76,                                                  // 16 checksum
    0x00, 0x00,                                                  // 18 urgent pointer
    0x02, 0x04, 0x05, 0xb4,                                      // 20 MSS 1460
    0x04, 0x02,                                                  // 24 SACK permitted
    0x08, 0x0a, 0x00, 0x1e, 0x84, 0x80, 0x00, 0x00, 0x00, 0x00,  // 26 timestamps 2000000, 0
    0x01,                                                        // 36 NOP
    0x03, 0x03, 0x07,                                            // 37 window scale 7
};
constexpr size_t kSynTcpOff = 20;

// The following ACK in a 60-byte Ethernet frame: 54 bytes of headers + 6 bytes of padding.
constexpr uint8_t kTcpAckFrame[] = {
    // Ethernet
    0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e,  //  0 dst
    0x00, 0x0c, 0x29, 0x3e, 0x5b, 0x7a,  //  6 src
    0x08, 0x00,                          // 12 EtherType IPv4
    // IPv4
    0x45, 0x00, 0x00, 0x28,  // version/IHL, DSCP, total length 40
    0x1c, 0x47, 0x40, 0x00,  // identification, DF
    0x40, 0x06, 0xb1, 0xf9,  // TTL 64, TCP, checksum
    0xac, 0x10, 0x0a, 0x63,  // src 172.16.10.99
    0xac, 0x10, 0x0a, 0x0c,  // dst 172.16.10.12
    // TCP
    0xb2, 0x6e, 0x00, 0x50,  // sport 45678, dport 80
    0x12, 0x34, 0x56, 0x79,  // seq
    0x9a, 0xbc, 0xde, 0xf1,  // ack
    0x50, 0x10, 0x01, 0xf6,  // data offset 5, flags ACK, window 502
    0xac, 0x34, 0x00, 0x00,  // checksum, urgent
    // Ethernet padding
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

// DNS query for example.com A, 192.168.1.10:53000 -> 192.168.1.1:53.
//   IPv4 checksum: 4500+0039+b3a1+0000+4011+c0a8+010a+c0a8+0101 = 2bc46 -> bc48 -> ~ = 43b7
constexpr uint8_t kUdpDnsQuery[] = {
    // IPv4
    0x45, 0x00, 0x00, 0x39,  // version/IHL, DSCP, total length 57
    0xb3, 0xa1, 0x00, 0x00,  // identification, no flags
    0x40, 0x11, 0x43, 0xb7,  // TTL 64, UDP, checksum
    0xc0, 0xa8, 0x01, 0x0a,  // src 192.168.1.10
    0xc0, 0xa8, 0x01, 0x01,  // dst 192.168.1.1
    // UDP
    0xcf, 0x08,  // sport 53000
    0x00, 0x35,  // dport 53
    0x00, 0x25,  // length 37
    0xc3, 0x71,  // checksum
    // DNS
    0x1a, 0x2b, 0x01, 0x00,                                              // id, flags RD
    0x00, 0x01, 0x00, 0x00,                                              // QDCOUNT 1, ANCOUNT 0
    0x00, 0x00, 0x00, 0x00,                                              // NSCOUNT 0, ARCOUNT 0
    0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00,  // QNAME
    0x00, 0x01, 0x00, 0x01,                                              // QTYPE A, QCLASS IN
};
constexpr size_t kDnsUdpOff = 20;

// Windows ping 192.168.1.10 -> 192.168.1.1 (TTL 128, 32 bytes of "abc...").
constexpr uint8_t kIcmpEchoRequest[] = {
    // IPv4
    0x45,
    0x00,
    0x00,
    0x3c,  // version/IHL, DSCP, total length 60
    0x4e,
    0x21,
    0x00,
    0x00,  // identification, no flags
    0x80,
    0x01,
    0x69,
    0x44,  // TTL 128, ICMP, checksum
    0xc0,
    0xa8,
    0x01,
    0x0a,  // src 192.168.1.10
    0xc0,
    0xa8,
    0x01,
    0x01,  // dst 192.168.1.1
    // ICMP
    0x08,  // 0 type echo request
    0x00,  // 1 code
    0x4d,
    0x3a,  // 2 checksum
    0x00,
    0x01,  // 4 identifier 1
    0x00,
    0x21,  // 6 sequence 33
    'a',
    'b',
    'c',
    'd',
    'e',
    'f',
    'g',
    'h',
    'i',
    'j',
    'k',
    'l',
    'm',
    'n',
    'o',
    'p',
    'q',
    'r',
    's',
    't',
    'u',
    'v',
    'w',
    'a',
    'b',
    'c',
    'd',
    'e',
    'f',
    'g',
    'h',
    'i',
};
constexpr size_t kEchoIcmpOff = 20;

// 192.168.1.1 answers the DNS query above with port unreachable, quoting the whole datagram.
constexpr uint8_t kIcmpPortUnreachable[] = {
    // IPv4
    0x45, 0xc0, 0x00, 0x55,  // version/IHL, DSCP CS6, total length 85
    0x0d, 0x80, 0x00, 0x00,  // identification, no flags
    0x40, 0x01, 0xe9, 0x0c,  // TTL 64, ICMP, checksum
    0xc0, 0xa8, 0x01, 0x01,  // src 192.168.1.1
    0xc0, 0xa8, 0x01, 0x0a,  // dst 192.168.1.10
    // ICMP
    0x03, 0x03,              // type destination unreachable, code port unreachable
    0x80, 0x8f,              // checksum
    0x00, 0x00, 0x00, 0x00,  // unused
    // quoted datagram = kUdpDnsQuery (57 bytes)
    0x45, 0x00, 0x00, 0x39, 0xb3, 0xa1, 0x00, 0x00, 0x40, 0x11, 0x43, 0xb7, 0xc0, 0xa8, 0x01, 0x0a, 0xc0, 0xa8, 0x01,
    0x01,                                            // quoted IPv4 header
    0xcf, 0x08, 0x00, 0x35, 0x00, 0x25, 0xc3, 0x71,  // quoted UDP header
    0x1a, 0x2b, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
    0x03, 'c', 'o', 'm', 0x00, 0x00, 0x01, 0x00, 0x01,  // quoted DNS
};
constexpr size_t kUnreachIcmpOff = 20;

// The same error quoting only the IP header + first 8 bytes (the RFC 792 minimum): the quoted
// header says 57 bytes but only 28 are present.
constexpr uint8_t kIcmpPortUnreachableCut[] = {
    // IPv4
    0x45, 0xc0, 0x00, 0x38,  // version/IHL, DSCP CS6, total length 56
    0x0d, 0x81, 0x00, 0x00,  // identification, no flags
    0x40, 0x01, 0xe9, 0x28,  // TTL 64, ICMP, checksum
    0xc0, 0xa8, 0x01, 0x01,  // src 192.168.1.1
    0xc0, 0xa8, 0x01, 0x0a,  // dst 192.168.1.10
    // ICMP
    0x03, 0x03, 0x6a, 0x28,  // type 3, code 3, checksum
    0x00, 0x00, 0x00, 0x00,  // unused
    // quoted IPv4 header (total length 57) + UDP header
    0x45, 0x00, 0x00, 0x39, 0xb3, 0xa1, 0x00, 0x00, 0x40, 0x11, 0x43, 0xb7, 0xc0, 0xa8, 0x01, 0x0a, 0xc0, 0xa8, 0x01,
    0x01,                                            //
    0xcf, 0x08, 0x00, 0x35, 0x00, 0x25, 0xc3, 0x71,  //
};

// Fragmentation needed, next-hop MTU 1400 (RFC 1191), header only.
//   0304 + 0000 + 0000 + 0578 = 087c; ~087c = f783
constexpr uint8_t kIcmpFragNeeded[] = {
    0x03, 0x04,  // type 3, code 4
    0xf7, 0x83,  // checksum
    0x00, 0x00,  // unused
    0x05, 0x78,  // next-hop MTU 1400
};

// IPIP (RFC 2003): 10.0.0.1 -> 10.0.0.2 carrying kIcmpEchoRequest.
constexpr uint8_t kIpipPacket[] = {
    // outer IPv4
    0x45,
    0x00,
    0x00,
    0x50,  // version/IHL, DSCP, total length 80
    0x00,
    0x00,
    0x40,
    0x00,  // identification 0, DF
    0x40,
    0x04,
    0x26,
    0xa8,  // TTL 64, protocol IPIP, checksum
    0x0a,
    0x00,
    0x00,
    0x01,  // src 10.0.0.1
    0x0a,
    0x00,
    0x00,
    0x02,  // dst 10.0.0.2
    // inner IPv4 = kIcmpEchoRequest
    0x45,
    0x00,
    0x00,
    0x3c,
    0x4e,
    0x21,
    0x00,
    0x00,
    0x80,
    0x01,
    0x69,
    0x44,
    0xc0,
    0xa8,
    0x01,
    0x0a,
    0xc0,
    0xa8,
    0x01,
    0x01,  //
    0x08,
    0x00,
    0x4d,
    0x3a,
    0x00,
    0x01,
    0x00,
    0x21,  //
    'a',
    'b',
    'c',
    'd',
    'e',
    'f',
    'g',
    'h',
    'i',
    'j',
    'k',
    'l',
    'm',
    'n',
    'o',
    'p',
    'q',
    'r',
    's',
    't',
    'u',
    'v',
    'w',
    'a',
    'b',
    'c',
    'd',
    'e',
    'f',
    'g',
    'h',
    'i',
};
constexpr size_t kIpipInnerOff = 20;

// IGMPv2 report for 239.1.1.1 with the Router Alert option (RFC 2113): IHL 6.
constexpr uint8_t kIgmpWithRouterAlert[] = {
    // IPv4
    0x46, 0xc0, 0x00, 0x20,  // version 4, IHL 6 (24 bytes), DSCP CS6, total length 32
    0x00, 0x00, 0x40, 0x00,  // identification 0, DF
    0x01, 0x02, 0x32, 0x63,  // TTL 1, protocol IGMP, checksum
    0xc0, 0xa8, 0x01, 0x0a,  // src 192.168.1.10
    0xef, 0x01, 0x01, 0x01,  // dst 239.1.1.1
    0x94, 0x04, 0x00, 0x00,  // option: Router Alert, length 4, value 0
    // IGMP
    0x16, 0x00, 0xf9, 0xfc,  // v2 membership report, max resp 0, checksum
    0xef, 0x01, 0x01, 0x01,  // group 239.1.1.1
};

// ---------------------------------------------------------------------------------------------
// Mutability: setters exist only on views over non-const bytes.

template <class V>
concept HasEthSetter = requires(V v) {
  v.set_ethertype(uint16_t{0});
};
template <class V>
concept HasArpFill = requires(V v) {
  v.fill(ArpOp::kRequest, MacAddr{}, Ipv4Addr{}, MacAddr{}, Ipv4Addr{});
};
template <class V>
concept HasIpv4Setter = requires(V v) {
  v.set_ttl(uint8_t{0});
  v.decrement_ttl();
  v.fill_checksum();
};
template <class V>
concept HasIcmpSetter = requires(V v) {
  v.set_type(uint8_t{0});
};
template <class V>
concept HasTcpSetter = requires(V v) {
  v.set_sport_update_checksum(uint16_t{0});
};
template <class V>
concept HasUdpSetter = requires(V v) {
  v.set_sport_update_checksum(uint16_t{0});
};

static_assert(HasEthSetter<EthernetView<uint8_t>> && !HasEthSetter<EthernetView<const uint8_t>>);
static_assert(HasArpFill<ArpView<uint8_t>> && !HasArpFill<ArpView<const uint8_t>>);
static_assert(HasIpv4Setter<Ipv4View<uint8_t>> && !HasIpv4Setter<Ipv4View<const uint8_t>>);
static_assert(HasIcmpSetter<Icmpv4View<uint8_t>> && !HasIcmpSetter<Icmpv4View<const uint8_t>>);
static_assert(HasTcpSetter<TcpView<uint8_t>> && !HasTcpSetter<TcpView<const uint8_t>>);
static_assert(HasUdpSetter<UdpView<uint8_t>> && !HasUdpSetter<UdpView<const uint8_t>>);
static_assert(std::is_same_v<decltype(Ipv4View<const uint8_t>::parse({})->payload()), std::span<const uint8_t>>);
static_assert(std::is_same_v<decltype(Ipv4View<uint8_t>::parse({})->payload()), std::span<uint8_t>>);

TEST(WireConstants, MatchTheRfcs) {
  EXPECT_EQ(static_cast<uint16_t>(EtherType::kIpv4), 0x0800);
  EXPECT_EQ(static_cast<uint16_t>(EtherType::kArp), 0x0806);
  EXPECT_EQ(static_cast<uint16_t>(ArpOp::kRequest), 1);
  EXPECT_EQ(static_cast<uint16_t>(ArpOp::kReply), 2);
  EXPECT_EQ(static_cast<uint8_t>(IpProto::kIcmp), 1);
  EXPECT_EQ(static_cast<uint8_t>(IpProto::kIpip), 4);
  EXPECT_EQ(static_cast<uint8_t>(IpProto::kTcp), 6);
  EXPECT_EQ(static_cast<uint8_t>(IpProto::kUdp), 17);
  // TCP flags byte (RFC 793 + RFC 3168): CWR ECE URG ACK PSH RST SYN FIN, MSB first.
  EXPECT_EQ(tcp_flag::kCwr, 0x80);
  EXPECT_EQ(tcp_flag::kEce, 0x40);
  EXPECT_EQ(tcp_flag::kUrg, 0x20);
  EXPECT_EQ(tcp_flag::kAck, 0x10);
  EXPECT_EQ(tcp_flag::kPsh, 0x08);
  EXPECT_EQ(tcp_flag::kRst, 0x04);
  EXPECT_EQ(tcp_flag::kSyn, 0x02);
  EXPECT_EQ(tcp_flag::kFin, 0x01);
}

// ---------------------------------------------------------------------------------------------
// bytes.hpp

TEST(Bytes, LoadsBigEndian) {
  constexpr uint8_t b[] = {0x12, 0x34, 0x56, 0x78, 0x9a};
  EXPECT_EQ(load16(std::span<const uint8_t>(b), 0), 0x1234);
  EXPECT_EQ(load16(std::span<const uint8_t>(b), 3), 0x789a);
  EXPECT_EQ(load32(std::span<const uint8_t>(b), 0), 0x12345678u);
  EXPECT_EQ(load32(std::span<const uint8_t>(b), 1), 0x3456789au);
  constexpr uint8_t hi[] = {0xff, 0xfe, 0xfd, 0xfc};
  EXPECT_EQ(load16(std::span<const uint8_t>(hi), 0), 0xfffe);
  EXPECT_EQ(load32(std::span<const uint8_t>(hi), 0), 0xfffefdfcu);
}

TEST(Bytes, StoresBigEndian) {
  Buf b = poison(7);
  store16(b, 0, 0x1234);
  store32(b, 2, 0xdeadbeef);
  constexpr uint8_t expected[] = {0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0xa5};
  EXPECT_EQ(hex(b), hex(expected));
}

// ---------------------------------------------------------------------------------------------
// Ethernet

TEST(EthernetView, Parse) {
  auto e = EthernetView<const uint8_t>::parse(kArpRequestFrame);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->dst(), MacAddr::broadcast());
  EXPECT_EQ(e->src(), kHostMac);
  EXPECT_EQ(e->ethertype(), 0x0806);
  EXPECT_EQ(e->payload().size(), 46u);
  EXPECT_EQ(e->payload().data(), kArpRequestFrame + 14);
  EXPECT_EQ(e->bytes().size(), 60u);
}

TEST(EthernetView, Construct) {
  Buf b = poison(18);
  auto e = EthernetView<uint8_t>::unchecked(b);
  e.set_dst(MacAddr::broadcast());
  e.set_src(kHostMac);
  e.set_ethertype(0x0806);
  constexpr uint8_t expected[] = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // dst
      0x00, 0x0c, 0x29, 0x3e, 0x5b, 0x7a,  // src
      0x08, 0x06,                          // ARP
      0xa5, 0xa5, 0xa5, 0xa5,              // payload untouched
  };
  EXPECT_EQ(hex(b), hex(expected));
}

TEST(EthernetView, RejectsTruncatedHeader) {
  for (size_t n = 0; n < 14; ++n) {
    Buf b = prefix(kArpRequestFrame, n);
    EXPECT_FALSE(EthernetView<const uint8_t>::parse(b)) << "length " << n;
  }
}

TEST(EthernetView, AcceptsHeaderOnlyWithEmptyPayload) {
  Buf b = prefix(kArpRequestFrame, 14);
  auto e = EthernetView<const uint8_t>::parse(b);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->payload().empty());
}

TEST(EthernetView, VlanTagReadsAs8100) {
  // 802.1Q is not decoded: the TPID is reported as the EtherType.
  Buf b = buf(kArpRequestFrame);
  b[12] = 0x81;
  b[13] = 0x00;
  auto e = EthernetView<const uint8_t>::parse(b);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ethertype(), 0x8100);
}

// ---------------------------------------------------------------------------------------------
// ARP

TEST(ArpView, Parse) {
  auto a = ArpView<const uint8_t>::parse(std::span<const uint8_t>(kArpRequestFrame).subspan(kArpOff));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->htype(), 1);
  EXPECT_EQ(a->ptype(), 0x0800);
  EXPECT_EQ(a->oper(), static_cast<uint16_t>(ArpOp::kRequest));
  EXPECT_EQ(a->sha(), kHostMac);
  EXPECT_EQ(a->spa(), kHostIp);
  EXPECT_EQ(a->tha(), MacAddr{});
  EXPECT_EQ(a->tpa(), kRouterIp);
}

TEST(ArpView, ParseReply) {
  auto a = ArpView<const uint8_t>::parse(kArpReply);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->oper(), static_cast<uint16_t>(ArpOp::kReply));
  EXPECT_EQ(a->sha(), kRouterMac);
  EXPECT_EQ(a->spa(), kRouterIp);
  EXPECT_EQ(a->tha(), kHostMac);
  EXPECT_EQ(a->tpa(), kHostIp);
}

TEST(ArpView, ParsesThroughEthernet) {
  auto e = EthernetView<const uint8_t>::parse(kArpRequestFrame);
  ASSERT_TRUE(e);
  auto a = ArpView<const uint8_t>::parse(e->payload());  // 46 bytes incl. padding: accepted
  ASSERT_TRUE(a);
  EXPECT_EQ(a->tpa(), kRouterIp);
}

TEST(ArpView, ConstructReply) {
  Buf b = poison(32);
  auto a = ArpView<uint8_t>::unchecked(b);
  a.fill(ArpOp::kReply, kRouterMac, kRouterIp, kHostMac, kHostIp);
  EXPECT_EQ(hex(std::span<const uint8_t>(b).first(28)), hex(kArpReply));
  EXPECT_EQ(hex(std::span<const uint8_t>(b).subspan(28)), "a5 a5 a5 a5");  // nothing past 28 bytes
}

TEST(ArpView, ConstructRequest) {
  Buf b = poison(28);
  auto a = ArpView<uint8_t>::unchecked(b);
  a.fill(ArpOp::kRequest, kHostMac, kHostIp, MacAddr{}, kRouterIp);
  EXPECT_EQ(hex(b), hex(std::span<const uint8_t>(kArpRequestFrame).subspan(kArpOff, 28)));
}

TEST(ArpView, RejectsTruncated) {
  for (size_t n = 0; n < 28; ++n) {
    Buf b = prefix(kArpReply, n);
    EXPECT_FALSE(ArpView<const uint8_t>::parse(b)) << "length " << n;
  }
}

TEST(ArpView, RejectsWrongHtype) {
  Buf b = buf(kArpReply);
  b[1] = 6;  // IEEE 802
  EXPECT_FALSE(ArpView<const uint8_t>::parse(b));
  b[0] = 0x01;
  b[1] = 0x01;  // 0x0101: high byte checked too
  EXPECT_FALSE(ArpView<const uint8_t>::parse(b));
}

TEST(ArpView, RejectsWrongPtype) {
  Buf b = buf(kArpReply);
  b[2] = 0x86;
  b[3] = 0xdd;  // IPv6
  EXPECT_FALSE(ArpView<const uint8_t>::parse(b));
}

TEST(ArpView, RejectsWrongHlen) {
  Buf b = buf(kArpReply);
  b[4] = 8;
  EXPECT_FALSE(ArpView<const uint8_t>::parse(b));
}

TEST(ArpView, RejectsWrongPlen) {
  Buf b = buf(kArpReply);
  b[5] = 16;
  EXPECT_FALSE(ArpView<const uint8_t>::parse(b));
}

TEST(ArpView, AcceptsUnknownOperation) {
  // The operation is reported, not validated: the engine decides what to do with it.
  Buf b = buf(kArpReply);
  b[7] = 9;
  auto a = ArpView<const uint8_t>::parse(b);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->oper(), 9);
}

// ---------------------------------------------------------------------------------------------
// IPv4

TEST(Ipv4View, Parse) {
  Ipv4Error err{};
  auto ip = Ipv4View<const uint8_t>::parse(kTcpSyn, &err);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->version(), 4);
  EXPECT_EQ(ip->header_len(), 20u);
  EXPECT_EQ(ip->tos(), 0);
  EXPECT_EQ(ip->total_len(), 60);
  EXPECT_EQ(ip->ident(), 0x1c46);
  EXPECT_EQ(ip->flags_frag(), 0x4000);
  EXPECT_TRUE(ip->dont_fragment());
  EXPECT_FALSE(ip->more_fragments());
  EXPECT_EQ(ip->frag_offset(), 0u);
  EXPECT_FALSE(ip->is_fragment());
  EXPECT_EQ(ip->ttl(), 64);
  EXPECT_EQ(ip->protocol(), IpProto::kTcp);
  EXPECT_EQ(ip->checksum(), 0xb1e6);
  EXPECT_EQ(ip->src(), kClientIp);
  EXPECT_EQ(ip->dst(), kServerIp);
  EXPECT_EQ(ip->header().data(), kTcpSyn);
  EXPECT_EQ(ip->header().size(), 20u);
  EXPECT_TRUE(ip->options().empty());
  EXPECT_EQ(ip->payload().data(), kTcpSyn + 20);
  EXPECT_EQ(ip->payload().size(), 40u);
  EXPECT_EQ(ip->bytes().size(), 60u);
  EXPECT_TRUE(ip->verify_checksum());
}

TEST(Ipv4View, ParseUdpAndIcmp) {
  auto u = Ipv4View<const uint8_t>::parse(kUdpDnsQuery);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->protocol(), IpProto::kUdp);
  EXPECT_EQ(u->total_len(), 57);
  EXPECT_EQ(u->flags_frag(), 0);
  EXPECT_FALSE(u->dont_fragment());
  EXPECT_EQ(u->checksum(), 0x43b7);
  EXPECT_TRUE(u->verify_checksum());
  EXPECT_EQ(u->payload().size(), 37u);

  auto i = Ipv4View<const uint8_t>::parse(kIcmpPortUnreachable);
  ASSERT_TRUE(i);
  EXPECT_EQ(i->tos(), 0xc0);
  EXPECT_EQ(i->protocol(), IpProto::kIcmp);
  EXPECT_EQ(i->src(), kRouterIp);
  EXPECT_EQ(i->dst(), kHostIp);
  EXPECT_TRUE(i->verify_checksum());
}

TEST(Ipv4View, ParseWithOptions) {
  auto ip = Ipv4View<const uint8_t>::parse(kIgmpWithRouterAlert);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->header_len(), 24u);
  EXPECT_EQ(ip->header().size(), 24u);
  EXPECT_EQ(hex(ip->options()), "94 04 00 00");
  EXPECT_EQ(ip->payload().size(), 8u);
  EXPECT_EQ(ip->payload()[0], 0x16);
  EXPECT_EQ(ip->ttl(), 1);
  EXPECT_EQ(ip->protocol(), static_cast<IpProto>(2));
  EXPECT_TRUE(ip->dst().is_multicast());
  EXPECT_TRUE(ip->verify_checksum());  // covers the option bytes
}

TEST(Ipv4View, MaxIhlWithFortyOptionBytes) {
  // IHL 15 = 60-byte header: 40 bytes of NOP options, no payload.
  Buf b(60, 0x01);
  b[0] = 0x4f;
  b[1] = 0;
  b[2] = 0;
  b[3] = 60;
  auto ip = Ipv4View<const uint8_t>::parse(b);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->header_len(), 60u);
  EXPECT_EQ(ip->options().size(), 40u);
  EXPECT_TRUE(ip->payload().empty());
}

TEST(Ipv4View, FragmentFields) {
  Buf b = buf(kUdpDnsQuery);
  auto set_ff = [&](uint16_t ff) {
    b[6] = static_cast<uint8_t>(ff >> 8);
    b[7] = static_cast<uint8_t>(ff);
    return *Ipv4View<const uint8_t>::parse(b);
  };
  auto first = set_ff(0x2000);  // MF, offset 0: first fragment
  EXPECT_TRUE(first.more_fragments());
  EXPECT_EQ(first.frag_offset(), 0u);
  EXPECT_TRUE(first.is_fragment());

  auto last = set_ff(0x00b9);  // offset 185 * 8 = 1480: last fragment
  EXPECT_FALSE(last.more_fragments());
  EXPECT_EQ(last.frag_offset(), 1480u);
  EXPECT_TRUE(last.is_fragment());

  auto middle = set_ff(0x20b9);
  EXPECT_TRUE(middle.more_fragments());
  EXPECT_EQ(middle.frag_offset(), 1480u);
  EXPECT_TRUE(middle.is_fragment());

  auto df = set_ff(0x4000);
  EXPECT_TRUE(df.dont_fragment());
  EXPECT_FALSE(df.is_fragment());

  auto all = set_ff(0xffff);  // reserved bit, DF, MF, max offset
  EXPECT_TRUE(all.dont_fragment());
  EXPECT_TRUE(all.more_fragments());
  EXPECT_EQ(all.frag_offset(), 0x1fffu * 8);

  auto rsvd = set_ff(0x8000);  // the reserved ("evil") bit alone is not a fragment
  EXPECT_FALSE(rsvd.is_fragment());
  EXPECT_FALSE(rsvd.dont_fragment());
}

TEST(Ipv4View, ParseTrimsEthernetPadding) {
  auto e = EthernetView<const uint8_t>::parse(kTcpAckFrame);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ethertype(), static_cast<uint16_t>(EtherType::kIpv4));
  ASSERT_EQ(e->payload().size(), 46u);  // 40 bytes of datagram + 6 bytes of padding
  auto ip = Ipv4View<const uint8_t>::parse(e->payload());
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->bytes().size(), 40u);
  EXPECT_EQ(ip->payload().size(), 20u);
  EXPECT_TRUE(ip->verify_checksum());
  auto tcp = TcpView<const uint8_t>::parse(ip->payload());
  ASSERT_TRUE(tcp);
  EXPECT_TRUE(tcp->payload().empty());  // the padding is not TCP data
  EXPECT_TRUE(tcp->verify_checksum(ip->src(), ip->dst()));
}

TEST(Ipv4View, AcceptsTotalLengthEqualToHeaderLength) {
  Buf b = prefix(kTcpSyn, 20);
  b[3] = 20;
  auto ip = Ipv4View<const uint8_t>::parse(b);
  ASSERT_TRUE(ip);
  EXPECT_TRUE(ip->payload().empty());
}

TEST(Ipv4View, RejectsTruncatedHeader) {
  for (size_t n = 0; n < 20; ++n) {
    Buf b = prefix(kTcpSyn, n);
    Ipv4Error err{};
    EXPECT_FALSE(Ipv4View<const uint8_t>::parse(b, &err)) << "length " << n;
    EXPECT_EQ(err, Ipv4Error::kTruncated) << "length " << n;
  }
}

TEST(Ipv4View, RejectsTruncatedDatagramAtEveryLength) {
  // 20..59 bytes of the 60-byte SYN: the header is there, total length is beyond the span.
  for (size_t n = 20; n < 60; ++n) {
    Buf b = prefix(kTcpSyn, n);
    Ipv4Error err{};
    EXPECT_FALSE(Ipv4View<const uint8_t>::parse(b, &err)) << "length " << n;
    EXPECT_EQ(err, Ipv4Error::kBadLength) << "length " << n;
  }
  Buf whole = prefix(kTcpSyn, 60);
  EXPECT_TRUE(Ipv4View<const uint8_t>::parse(whole));
}

TEST(Ipv4View, RejectsVersionNotFour) {
  for (uint8_t version : {0, 1, 5, 6, 15}) {
    Buf b = buf(kTcpSyn);
    b[0] = static_cast<uint8_t>(version << 4 | 5);
    Ipv4Error err{};
    EXPECT_FALSE(Ipv4View<const uint8_t>::parse(b, &err)) << "version " << int{version};
    EXPECT_EQ(err, Ipv4Error::kBadVersion);
  }
}

TEST(Ipv4View, RejectsIhlBelowFive) {
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    Buf b = buf(kTcpSyn);
    b[0] = static_cast<uint8_t>(0x40 | ihl);
    Ipv4Error err{};
    EXPECT_FALSE(Ipv4View<const uint8_t>::parse(b, &err)) << "IHL " << int{ihl};
    EXPECT_EQ(err, Ipv4Error::kBadIhl);
  }
}

TEST(Ipv4View, RejectsIhlBeyondSpan) {
  // IHL 15 (60 bytes) on a 24-byte span whose total length says 24.
  Buf b = buf(kIgmpWithRouterAlert);
  b.resize(24);
  b[0] = 0x4f;
  b[3] = 24;
  Ipv4Error err{};
  EXPECT_FALSE(Ipv4View<const uint8_t>::parse(b, &err));
  EXPECT_EQ(err, Ipv4Error::kBadLength);  // total length 24 < header length 60
  // Same, with total length claiming the full 60: beyond the span.
  b[3] = 60;
  EXPECT_FALSE(Ipv4View<const uint8_t>::parse(b, &err));
  EXPECT_EQ(err, Ipv4Error::kBadLength);
}

TEST(Ipv4View, RejectsTotalLengthBeyondSpan) {
  Buf b = buf(kTcpSyn);
  b[3] = 61;
  Ipv4Error err{};
  EXPECT_FALSE(Ipv4View<const uint8_t>::parse(b, &err));
  EXPECT_EQ(err, Ipv4Error::kBadLength);
  b[2] = 0xff;
  b[3] = 0xff;
  EXPECT_FALSE(Ipv4View<const uint8_t>::parse(b, &err));
  EXPECT_EQ(err, Ipv4Error::kBadLength);
}

TEST(Ipv4View, RejectsTotalLengthBelowHeaderLength) {
  for (uint16_t tl : {0, 1, 19}) {
    Buf b = buf(kTcpSyn);
    b[2] = static_cast<uint8_t>(tl >> 8);
    b[3] = static_cast<uint8_t>(tl);
    Ipv4Error err{};
    EXPECT_FALSE(Ipv4View<const uint8_t>::parse(b, &err)) << "total length " << tl;
    EXPECT_EQ(err, Ipv4Error::kBadLength);
  }
  // With options: total length 20 < header length 24.
  Buf b = buf(kIgmpWithRouterAlert);
  b[3] = 20;
  Ipv4Error err{};
  EXPECT_FALSE(Ipv4View<const uint8_t>::parse(b, &err));
  EXPECT_EQ(err, Ipv4Error::kBadLength);
}

TEST(Ipv4View, ParseWithoutErrorPointer) {
  Buf b = prefix(kTcpSyn, 10);
  EXPECT_FALSE(Ipv4View<const uint8_t>::parse(b));
}

TEST(Ipv4View, ParseDoesNotCheckChecksum) {
  Buf b = buf(kTcpSyn);
  b[11] ^= 0x01;
  auto ip = Ipv4View<const uint8_t>::parse(b);
  ASSERT_TRUE(ip);
  EXPECT_FALSE(ip->verify_checksum());
}

TEST(Ipv4View, VerifyChecksumRejectsCorruptedHeader) {
  for (size_t i = 0; i < 20; ++i) {
    if (i == 2 || i == 3) continue;  // keep the total length parseable
    if (i == 0) continue;            // keep version/IHL parseable
    Buf b = buf(kTcpSyn);
    b[i] ^= 0x10;
    auto ip = Ipv4View<const uint8_t>::parse(b);
    ASSERT_TRUE(ip);
    EXPECT_FALSE(ip->verify_checksum()) << "byte " << i;
  }
}

TEST(Ipv4View, VerifyChecksumIgnoresPayload) {
  Buf b = buf(kTcpSyn);
  b[40] ^= 0xff;  // a TCP byte
  auto ip = Ipv4View<const uint8_t>::parse(b);
  ASSERT_TRUE(ip);
  EXPECT_TRUE(ip->verify_checksum());
}

TEST(Ipv4View, Construct) {
  Buf b = poison(60);
  auto ip = Ipv4View<uint8_t>::unchecked(b);
  ip.fill(0x00, 60, 0x1c46, Ipv4View<uint8_t>::kFlagDf, 64, IpProto::kTcp, kClientIp, kServerIp);
  EXPECT_EQ(hex(std::span<const uint8_t>(b).first(20)), hex(std::span<const uint8_t>(kTcpSyn).first(20)));
  EXPECT_EQ(hex(std::span<const uint8_t>(b).subspan(20)), hex(poison(40)));  // payload untouched
}

TEST(Ipv4View, ConstructWikipediaExample) {
  // 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7
  constexpr uint8_t expected[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                  0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  Buf b = poison(20);
  Ipv4View<uint8_t>::unchecked(b).fill(0, 0x73, 0, 0x4000, 64, IpProto::kUdp, Ipv4Addr::from_octets(192, 168, 0, 1),
                                       Ipv4Addr::from_octets(192, 168, 0, 199));
  EXPECT_EQ(hex(b), hex(expected));
}

TEST(Ipv4View, Setters) {
  Buf b = buf(kTcpSyn);
  auto ip = Ipv4View<uint8_t>::unchecked(b);
  ip.set_ttl(1);
  ip.set_total_len(0x1234);
  ip.set_flags_frag(0x20b9);
  ip.set_checksum(0xbeef);
  constexpr uint8_t expected[] = {
      0x45, 0x00, 0x12, 0x34,  // total length 0x1234
      0x1c, 0x46, 0x20, 0xb9,  // MF, offset 185
      0x01, 0x06, 0xbe, 0xef,  // TTL 1, checksum beef
      0xac, 0x10, 0x0a, 0x63, 0xac, 0x10, 0x0a, 0x0c,
  };
  EXPECT_EQ(hex(std::span<const uint8_t>(b).first(20)), hex(expected));
  EXPECT_EQ(hex(std::span<const uint8_t>(b).subspan(20)), hex(std::span<const uint8_t>(kTcpSyn).subspan(20)));
}

TEST(Ipv4View, FillChecksumCoversOptions) {
  Buf b = buf(kIgmpWithRouterAlert);
  b[10] = 0xa5;
  b[11] = 0xa5;
  auto ip = Ipv4View<uint8_t>::unchecked(b);
  ip.fill_checksum();
  EXPECT_EQ(ip.checksum(), 0x3263);
  EXPECT_EQ(hex(b), hex(kIgmpWithRouterAlert));
}

TEST(Ipv4View, DecrementTtl) {
  // TTL 64 -> 63: word 4006 -> 3f06, the sum drops by 0100, the checksum rises by 0100.
  Buf b = buf(kTcpSyn);
  auto ip = *Ipv4View<uint8_t>::parse(b);
  ip.decrement_ttl();
  EXPECT_EQ(ip.ttl(), 63);
  EXPECT_EQ(ip.checksum(), 0xb2e6);
  EXPECT_EQ(ip.protocol(), IpProto::kTcp);
  EXPECT_TRUE(ip.verify_checksum());
}

TEST(Ipv4View, SetSrcUpdatesChecksum) {
  // src 172.16.10.99 -> 10.0.0.5, recomputed in full:
  //   4500+003c+1c46+4000+4006 = e188; +0a00 = eb88; +0005 = eb8d; +ac10 = 1979d;
  //   +0a0c = 1a1a9 -> a1a9 + 1 = a1aa; ~a1aa = 5e55.
  Buf b = buf(kTcpSyn);
  auto ip = *Ipv4View<uint8_t>::parse(b);
  ip.set_src_update_checksum(Ipv4Addr::from_octets(10, 0, 0, 5));
  EXPECT_EQ(hex(std::span<const uint8_t>(b).subspan(10, 6)), "5e 55 0a 00 00 05");
  EXPECT_TRUE(ip.verify_checksum());
}

TEST(Ipv4View, SetDstUpdatesChecksum) {
  // dst 172.16.10.12 -> 192.168.0.100, recomputed in full:
  //   e188 (first five words, as above); +ac10 = 18d98; +0a63 = 197fb; +c0a8 = 258a3;
  //   +0064 = 25907 -> 5907 + 2 = 5909; ~5909 = a6f6.
  Buf b = buf(kTcpSyn);
  auto ip = *Ipv4View<uint8_t>::parse(b);
  ip.set_dst_update_checksum(Ipv4Addr::from_octets(192, 168, 0, 100));
  EXPECT_EQ(hex(std::span<const uint8_t>(b).subspan(10, 2)), "a6 f6");
  EXPECT_EQ(hex(std::span<const uint8_t>(b).subspan(16, 4)), "c0 a8 00 64");
  EXPECT_TRUE(ip.verify_checksum());
}

// --- parse_quoted

TEST(Ipv4View, ParseQuotedWholeDatagram) {
  std::span<const uint8_t> q = std::span<const uint8_t>(kIcmpPortUnreachable).subspan(kUnreachIcmpOff + 8);
  auto ip = Ipv4View<const uint8_t>::parse_quoted(q);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->total_len(), 57);
  EXPECT_EQ(ip->bytes().size(), 57u);
  EXPECT_EQ(ip->payload().size(), 37u);
  EXPECT_EQ(ip->src(), kHostIp);
  EXPECT_EQ(ip->dst(), kRouterIp);
}

TEST(Ipv4View, ParseQuotedAcceptsCutPayloadButParseDoesNot) {
  std::span<const uint8_t> q = std::span<const uint8_t>(kIcmpPortUnreachableCut).subspan(kUnreachIcmpOff + 8);
  ASSERT_EQ(q.size(), 28u);
  auto ip = Ipv4View<const uint8_t>::parse_quoted(q);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->total_len(), 57);       // what the header says
  EXPECT_EQ(ip->bytes().size(), 28u);   // what was quoted
  EXPECT_EQ(ip->payload().size(), 8u);  // the UDP header only
  EXPECT_TRUE(ip->verify_checksum());
  Ipv4Error err{};
  EXPECT_FALSE(Ipv4View<const uint8_t>::parse(q, &err));
  EXPECT_EQ(err, Ipv4Error::kBadLength);
}

TEST(Ipv4View, ParseQuotedTrimsToTotalLength) {
  // Extra bytes after the quoted datagram (e.g. ICMP extensions) are not its payload.
  Buf b = prefix(kUdpDnsQuery, 57);
  b.resize(70, 0xee);
  auto ip = Ipv4View<const uint8_t>::parse_quoted(b);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->bytes().size(), 57u);
}

TEST(Ipv4View, ParseQuotedRejectsCutHeader) {
  for (size_t n = 0; n < 20; ++n) {
    Buf b = prefix(kUdpDnsQuery, n);
    EXPECT_FALSE(Ipv4View<const uint8_t>::parse_quoted(b)) << "length " << n;
  }
  // IHL 6 but only 20 bytes quoted: the options are cut.
  Buf b = prefix(kIgmpWithRouterAlert, 20);
  EXPECT_FALSE(Ipv4View<const uint8_t>::parse_quoted(b));
  Buf c = prefix(kIgmpWithRouterAlert, 24);
  EXPECT_TRUE(Ipv4View<const uint8_t>::parse_quoted(c));
}

TEST(Ipv4View, ParseQuotedRejectsBadVersionIhlAndLength) {
  Buf v6 = prefix(kUdpDnsQuery, 28);
  v6[0] = 0x65;
  EXPECT_FALSE(Ipv4View<const uint8_t>::parse_quoted(v6));
  Buf ihl4 = prefix(kUdpDnsQuery, 28);
  ihl4[0] = 0x44;
  EXPECT_FALSE(Ipv4View<const uint8_t>::parse_quoted(ihl4));
  Buf short_tl = prefix(kUdpDnsQuery, 28);
  short_tl[3] = 19;
  EXPECT_FALSE(Ipv4View<const uint8_t>::parse_quoted(short_tl));
}

// ---------------------------------------------------------------------------------------------
// IPIP

TEST(IpipView, Parse) {
  auto t = IpipView<const uint8_t>::parse(kIpipPacket);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->outer.protocol(), IpProto::kIpip);
  EXPECT_EQ(t->outer.src(), Ipv4Addr::from_octets(10, 0, 0, 1));
  EXPECT_EQ(t->outer.dst(), Ipv4Addr::from_octets(10, 0, 0, 2));
  EXPECT_EQ(t->outer.total_len(), 80);
  EXPECT_TRUE(t->outer.verify_checksum());
  EXPECT_EQ(t->inner.bytes().data(), kIpipPacket + kIpipInnerOff);
  EXPECT_EQ(t->inner.total_len(), 60);
  EXPECT_EQ(t->inner.ttl(), 128);
  EXPECT_EQ(t->inner.protocol(), IpProto::kIcmp);
  EXPECT_EQ(t->inner.src(), kHostIp);
  EXPECT_EQ(t->inner.dst(), kRouterIp);
  EXPECT_TRUE(t->inner.verify_checksum());
}

TEST(IpipView, TrimsOuterPadding) {
  Buf b = buf(kIpipPacket);
  b.resize(b.size() + 10, 0);
  auto t = IpipView<const uint8_t>::parse(b);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->outer.bytes().size(), 80u);
  EXPECT_EQ(t->inner.bytes().size(), 60u);
}

TEST(IpipView, RejectsNonIpipProtocol) {
  for (uint8_t proto : {0, 1, 6, 17, 41, 47}) {
    Buf b = buf(kIpipPacket);
    b[9] = proto;
    EXPECT_FALSE(IpipView<const uint8_t>::parse(b)) << "protocol " << int{proto};
  }
  EXPECT_FALSE(IpipView<const uint8_t>::parse(kTcpSyn));
}

TEST(IpipView, RejectsOuterFragments) {
  for (uint16_t ff : {0x2000, 0x00b9, 0x20b9, 0x0001}) {
    Buf b = buf(kIpipPacket);
    b[6] = static_cast<uint8_t>(ff >> 8);
    b[7] = static_cast<uint8_t>(ff);
    EXPECT_FALSE(IpipView<const uint8_t>::parse(b)) << "flags/offset " << ff;
  }
}

TEST(IpipView, RejectsBadOuter) {
  Buf b = buf(kIpipPacket);
  b[0] = 0x65;
  EXPECT_FALSE(IpipView<const uint8_t>::parse(b));
  for (size_t n = 0; n < 80; ++n) {
    Buf t = prefix(kIpipPacket, n);
    EXPECT_FALSE(IpipView<const uint8_t>::parse(t)) << "length " << n;
  }
}

TEST(IpipView, RejectsBadInner) {
  {  // inner version 6
    Buf b = buf(kIpipPacket);
    b[kIpipInnerOff] = 0x65;
    EXPECT_FALSE(IpipView<const uint8_t>::parse(b));
  }
  {  // inner IHL 4
    Buf b = buf(kIpipPacket);
    b[kIpipInnerOff] = 0x44;
    EXPECT_FALSE(IpipView<const uint8_t>::parse(b));
  }
  {  // inner total length longer than the outer payload
    Buf b = buf(kIpipPacket);
    b[kIpipInnerOff + 3] = 61;
    EXPECT_FALSE(IpipView<const uint8_t>::parse(b));
  }
  {  // outer total length cuts the inner datagram (outer says 79)
    Buf b = buf(kIpipPacket);
    b[3] = 79;
    EXPECT_FALSE(IpipView<const uint8_t>::parse(b));
  }
  {  // outer carries fewer than 20 bytes of inner header
    Buf b = prefix(kIpipPacket, 39);
    b[3] = 39;
    EXPECT_FALSE(IpipView<const uint8_t>::parse(b));
  }
}

TEST(IpipView, WritableInnerAliasesOuterBuffer) {
  Buf b = buf(kIpipPacket);
  auto t = IpipView<uint8_t>::parse(b);
  ASSERT_TRUE(t);
  t->inner.decrement_ttl();
  EXPECT_EQ(b[kIpipInnerOff + 8], 127);
  EXPECT_TRUE(t->inner.verify_checksum());
}

// ---------------------------------------------------------------------------------------------
// ICMP

TEST(Icmpv4View, ParseEchoRequest) {
  auto ip = Ipv4View<const uint8_t>::parse(kIcmpEchoRequest);
  ASSERT_TRUE(ip);
  auto icmp = Icmpv4View<const uint8_t>::parse(ip->payload());
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), icmp_type::kEchoRequest);
  EXPECT_EQ(icmp->code(), 0);
  EXPECT_EQ(icmp->checksum(), 0x4d3a);
  EXPECT_EQ(icmp->ident(), 1);
  EXPECT_EQ(icmp->seq(), 33);
  EXPECT_EQ(icmp->rest(), 0x00010021u);
  EXPECT_FALSE(icmp->is_error());
  EXPECT_EQ(icmp->data().size(), 32u);
  EXPECT_EQ(std::string(icmp->data().begin(), icmp->data().end()), "abcdefghijklmnopqrstuvwabcdefghi");
  EXPECT_EQ(icmp->bytes().size(), 40u);
  EXPECT_TRUE(icmp->verify_checksum());
  EXPECT_FALSE(icmp->quoted());  // not an error: nothing quoted
}

TEST(Icmpv4View, ParsePortUnreachableQuotingUdp) {
  auto ip = Ipv4View<const uint8_t>::parse(kIcmpPortUnreachable);
  ASSERT_TRUE(ip);
  auto icmp = Icmpv4View<const uint8_t>::parse(ip->payload());
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), icmp_type::kDestUnreachable);
  EXPECT_EQ(icmp->code(), icmp_code::kPortUnreachable);
  EXPECT_EQ(icmp->checksum(), 0x808f);
  EXPECT_EQ(icmp->rest(), 0u);
  EXPECT_TRUE(icmp->is_error());
  EXPECT_TRUE(icmp->verify_checksum());
  EXPECT_EQ(icmp->data().size(), 57u);

  auto q = icmp->quoted();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->src(), kHostIp);
  EXPECT_EQ(q->dst(), kRouterIp);
  EXPECT_EQ(q->protocol(), IpProto::kUdp);
  EXPECT_EQ(q->bytes().data(), kIcmpPortUnreachable + kUnreachIcmpOff + 8);
  auto udp = UdpView<const uint8_t>::parse(q->payload());
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->sport(), 53000);
  EXPECT_EQ(udp->dport(), 53);
  EXPECT_TRUE(udp->verify_checksum(q->src(), q->dst()));
}

TEST(Icmpv4View, QuotedWithCutPayload) {
  auto ip = Ipv4View<const uint8_t>::parse(kIcmpPortUnreachableCut);
  ASSERT_TRUE(ip);
  auto icmp = Icmpv4View<const uint8_t>::parse(ip->payload());
  ASSERT_TRUE(icmp);
  EXPECT_TRUE(icmp->verify_checksum());
  auto q = icmp->quoted();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->total_len(), 57);
  EXPECT_EQ(q->payload().size(), 8u);
  // The quoted UDP header claims 37 bytes: UdpView::parse refuses it, unchecked reads the ports.
  EXPECT_FALSE(UdpView<const uint8_t>::parse(q->payload()));
  auto udp = UdpView<const uint8_t>::unchecked(q->payload());
  EXPECT_EQ(udp.sport(), 53000);
  EXPECT_EQ(udp.dport(), 53);
  EXPECT_EQ(udp.length(), 37);
}

TEST(Icmpv4View, QuotedWithCutHeaderFails) {
  // Error message quoting only 16 bytes of the IP header.
  Buf b = prefix(kIcmpPortUnreachable, kUnreachIcmpOff + 8 + 16);
  auto icmp = Icmpv4View<const uint8_t>::parse(std::span<const uint8_t>(b).subspan(kUnreachIcmpOff));
  ASSERT_TRUE(icmp);
  EXPECT_TRUE(icmp->is_error());
  EXPECT_FALSE(icmp->quoted());
}

TEST(Icmpv4View, QuotedForEveryErrorType) {
  for (uint8_t t : {icmp_type::kDestUnreachable, icmp_type::kSourceQuench, icmp_type::kRedirect,
                    icmp_type::kTimeExceeded, icmp_type::kParamProblem}) {
    Buf b = prefix(kIcmpPortUnreachable, sizeof kIcmpPortUnreachable);
    b[kUnreachIcmpOff] = t;
    auto icmp = Icmpv4View<const uint8_t>::parse(std::span<const uint8_t>(b).subspan(kUnreachIcmpOff));
    ASSERT_TRUE(icmp);
    EXPECT_TRUE(icmp->quoted()) << "type " << int{t};
  }
}

TEST(Icmpv4View, IsErrorTypeExactlyForErrorMessages) {
  for (int t = 0; t < 256; ++t) {
    bool expected = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
    EXPECT_EQ(Icmpv4View<const uint8_t>::is_error_type(static_cast<uint8_t>(t)), expected) << "type " << t;
  }
}

TEST(Icmpv4View, ParseFragNeeded) {
  auto icmp = Icmpv4View<const uint8_t>::parse(kIcmpFragNeeded);
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->type(), icmp_type::kDestUnreachable);
  EXPECT_EQ(icmp->code(), icmp_code::kFragNeeded);
  EXPECT_EQ(icmp->next_hop_mtu(), 1400);
  EXPECT_EQ(icmp->rest(), 1400u);
  EXPECT_TRUE(icmp->verify_checksum());
  EXPECT_TRUE(icmp->data().empty());
  EXPECT_FALSE(icmp->quoted());  // error, but nothing quoted
}

TEST(Icmpv4View, RejectsShorterThanEightBytes) {
  for (size_t n = 0; n < 8; ++n) {
    Buf b = prefix(kIcmpFragNeeded, n);
    EXPECT_FALSE(Icmpv4View<const uint8_t>::parse(b)) << "length " << n;
  }
  Buf b = prefix(kIcmpFragNeeded, 8);
  EXPECT_TRUE(Icmpv4View<const uint8_t>::parse(b));
}

TEST(Icmpv4View, VerifyChecksumRejectsCorruption) {
  Buf b(std::begin(kIcmpEchoRequest) + kEchoIcmpOff, std::end(kIcmpEchoRequest));
  b.back() ^= 0x01;
  auto icmp = Icmpv4View<const uint8_t>::parse(b);
  ASSERT_TRUE(icmp);
  EXPECT_FALSE(icmp->verify_checksum());
}

TEST(Icmpv4View, ConstructEchoRequest) {
  Buf b = poison(40);
  std::copy(std::begin(kIcmpEchoRequest) + kEchoIcmpOff + 8, std::end(kIcmpEchoRequest), b.begin() + 8);
  auto icmp = Icmpv4View<uint8_t>::unchecked(b);
  icmp.set_type(icmp_type::kEchoRequest);
  icmp.set_code(0);
  icmp.set_rest(0x00010021);
  icmp.fill_checksum();
  EXPECT_EQ(hex(b), hex(std::span<const uint8_t>(kIcmpEchoRequest).subspan(kEchoIcmpOff)));
}

TEST(Icmpv4View, ConstructFragNeeded) {
  Buf b = poison(8);
  auto icmp = Icmpv4View<uint8_t>::unchecked(b);
  icmp.set_type(icmp_type::kDestUnreachable);
  icmp.set_code(icmp_code::kFragNeeded);
  icmp.set_rest(1400);
  icmp.set_checksum(0x1234);
  EXPECT_EQ(icmp.checksum(), 0x1234);
  icmp.fill_checksum();
  EXPECT_EQ(hex(b), hex(kIcmpFragNeeded));
}

TEST(Icmpv4View, EchoReplyFromRequestByHand) {
  // Turning a request into a reply: type 8 -> 0 changes word 0800 -> 0000, so the checksum
  // rises by 0800: 4d3a -> 553a.
  Buf b(std::begin(kIcmpEchoRequest) + kEchoIcmpOff, std::end(kIcmpEchoRequest));
  auto icmp = Icmpv4View<uint8_t>::unchecked(b);
  icmp.set_type(icmp_type::kEchoReply);
  icmp.fill_checksum();
  EXPECT_EQ(icmp.checksum(), 0x553a);
}

// ---------------------------------------------------------------------------------------------
// TCP

TEST(TcpView, Parse) {
  auto tcp = TcpView<const uint8_t>::parse(std::span<const uint8_t>(kTcpSyn).subspan(kSynTcpOff));
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->sport(), 45678);
  EXPECT_EQ(tcp->dport(), 80);
  EXPECT_EQ(tcp->seq(), 0x12345678u);
  EXPECT_EQ(tcp->ack(), 0u);
  EXPECT_EQ(tcp->header_len(), 40u);
  EXPECT_EQ(tcp->flags(), tcp_flag::kSyn);
  EXPECT_EQ(tcp->window(), 64240);
  EXPECT_EQ(tcp->checksum(), 0x4076);
  EXPECT_EQ(tcp->urgent(), 0);
  EXPECT_EQ(hex(tcp->options()), "02 04 05 b4 04 02 08 0a 00 1e 84 80 00 00 00 00\n01 03 03 07");
  EXPECT_TRUE(tcp->payload().empty());
  EXPECT_EQ(tcp->bytes().size(), 40u);
  EXPECT_TRUE(tcp->verify_checksum(kClientIp, kServerIp));
}

TEST(TcpView, ParseAck) {
  auto tcp = TcpView<const uint8_t>::parse(std::span<const uint8_t>(kTcpAckFrame).subspan(34, 20));
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->seq(), 0x12345679u);
  EXPECT_EQ(tcp->ack(), 0x9abcdef1u);
  EXPECT_EQ(tcp->header_len(), 20u);
  EXPECT_EQ(tcp->flags(), tcp_flag::kAck);
  EXPECT_EQ(tcp->window(), 502);
  EXPECT_TRUE(tcp->options().empty());
  EXPECT_TRUE(tcp->verify_checksum(kClientIp, kServerIp));
}

TEST(TcpView, PayloadAfterOptions) {
  Buf b(std::begin(kTcpSyn) + kSynTcpOff, std::end(kTcpSyn));
  b.push_back('G');
  b.push_back('E');
  b.push_back('T');
  auto tcp = TcpView<const uint8_t>::parse(b);
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->payload().size(), 3u);
  EXPECT_EQ(tcp->payload()[0], 'G');
}

TEST(TcpView, VerifyChecksumUsesPseudoHeader) {
  auto tcp = TcpView<const uint8_t>::parse(std::span<const uint8_t>(kTcpSyn).subspan(kSynTcpOff));
  ASSERT_TRUE(tcp);
  EXPECT_TRUE(tcp->verify_checksum(kClientIp, kServerIp));
  // Swapping src and dst leaves the pseudo-header sum unchanged (addition commutes): still valid.
  EXPECT_TRUE(tcp->verify_checksum(kServerIp, kClientIp));
  EXPECT_FALSE(tcp->verify_checksum(Ipv4Addr::from_octets(172, 16, 10, 98), kServerIp));
  Buf b(std::begin(kTcpSyn) + kSynTcpOff, std::end(kTcpSyn));
  b[30] ^= 0x01;  // an option byte
  EXPECT_FALSE(TcpView<const uint8_t>::parse(b)->verify_checksum(kClientIp, kServerIp));
}

TEST(TcpView, RejectsTruncatedHeader) {
  for (size_t n = 0; n < 20; ++n) {
    Buf b(std::begin(kTcpSyn) + kSynTcpOff, std::begin(kTcpSyn) + kSynTcpOff + static_cast<ptrdiff_t>(n));
    EXPECT_FALSE(TcpView<const uint8_t>::parse(b)) << "length " << n;
  }
}

TEST(TcpView, RejectsDataOffsetBeyondSpan) {
  // The SYN's data offset is 10 (40 bytes): every cut inside the options fails.
  for (size_t n = 20; n < 40; ++n) {
    Buf b(std::begin(kTcpSyn) + kSynTcpOff, std::begin(kTcpSyn) + kSynTcpOff + static_cast<ptrdiff_t>(n));
    EXPECT_FALSE(TcpView<const uint8_t>::parse(b)) << "length " << n;
  }
  Buf b(std::begin(kTcpSyn) + kSynTcpOff, std::end(kTcpSyn));
  b[12] = 0xf0;  // 60 bytes on a 40-byte span
  EXPECT_FALSE(TcpView<const uint8_t>::parse(b));
}

TEST(TcpView, RejectsDataOffsetBelowFive) {
  for (uint8_t off = 0; off < 5; ++off) {
    Buf b(std::begin(kTcpSyn) + kSynTcpOff, std::end(kTcpSyn));
    b[12] = static_cast<uint8_t>(off << 4);
    EXPECT_FALSE(TcpView<const uint8_t>::parse(b)) << "data offset " << int{off};
  }
}

TEST(TcpView, ReservedBitsDoNotAffectDataOffset) {
  Buf b(std::begin(kTcpSyn) + kSynTcpOff, std::end(kTcpSyn));
  b[12] = 0xaf;  // data offset 10, reserved bits (incl. the old NS bit) set
  auto tcp = TcpView<const uint8_t>::parse(b);
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->header_len(), 40u);
}

TEST(TcpView, FillChecksum) {
  Buf b(std::begin(kTcpSyn) + kSynTcpOff, std::end(kTcpSyn));
  b[16] = 0xa5;
  b[17] = 0xa5;
  auto tcp = TcpView<uint8_t>::unchecked(b);
  tcp.fill_checksum(kClientIp, kServerIp);
  EXPECT_EQ(hex(b), hex(std::span<const uint8_t>(kTcpSyn).subspan(kSynTcpOff)));
}

TEST(TcpView, SetChecksum) {
  Buf b(std::begin(kTcpSyn) + kSynTcpOff, std::end(kTcpSyn));
  TcpView<uint8_t>::unchecked(b).set_checksum(0xbeef);
  EXPECT_EQ(hex(std::span<const uint8_t>(b).subspan(16, 2)), "be ef");
}

TEST(TcpView, SetSportUpdatesChecksum) {
  Buf b(std::begin(kTcpSyn) + kSynTcpOff, std::end(kTcpSyn));
  auto tcp = TcpView<uint8_t>::unchecked(b);
  tcp.set_sport_update_checksum(40000);  // b26e -> 9c40
  EXPECT_EQ(hex(std::span<const uint8_t>(b).first(4)), "9c 40 00 50");
  EXPECT_EQ(tcp.checksum(), 0x56a4);
  EXPECT_TRUE(tcp.verify_checksum(kClientIp, kServerIp));
}

TEST(TcpView, SetDportUpdatesChecksum) {
  Buf b(std::begin(kTcpSyn) + kSynTcpOff, std::end(kTcpSyn));
  auto tcp = TcpView<uint8_t>::unchecked(b);
  tcp.set_dport_update_checksum(8080);  // 0050 -> 1f90
  EXPECT_EQ(hex(std::span<const uint8_t>(b).first(4)), "b2 6e 1f 90");
  EXPECT_EQ(tcp.checksum(), 0x2136);
}

TEST(TcpView, UpdateChecksumForAddr) {
  Buf b(std::begin(kTcpSyn) + kSynTcpOff, std::end(kTcpSyn));
  auto tcp = TcpView<uint8_t>::unchecked(b);
  const Ipv4Addr nat = Ipv4Addr::from_octets(10, 0, 0, 5);
  tcp.update_checksum_for_addr(kClientIp, nat);
  EXPECT_EQ(tcp.checksum(), 0xece4);
  EXPECT_TRUE(tcp.verify_checksum(nat, kServerIp));
  tcp.set_sport_update_checksum(40000);
  EXPECT_EQ(tcp.checksum(), 0x0313);
  EXPECT_TRUE(tcp.verify_checksum(nat, kServerIp));
}

// ---------------------------------------------------------------------------------------------
// UDP

TEST(UdpView, Parse) {
  auto udp = UdpView<const uint8_t>::parse(std::span<const uint8_t>(kUdpDnsQuery).subspan(kDnsUdpOff));
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->sport(), 53000);
  EXPECT_EQ(udp->dport(), 53);
  EXPECT_EQ(udp->length(), 37);
  EXPECT_EQ(udp->checksum(), 0xc371);
  EXPECT_EQ(udp->payload().size(), 29u);
  EXPECT_EQ(udp->payload()[0], 0x1a);
  EXPECT_EQ(udp->payload()[1], 0x2b);
  EXPECT_EQ(udp->bytes().size(), 37u);
  EXPECT_TRUE(udp->verify_checksum(kHostIp, kRouterIp));
}

TEST(UdpView, ParseThroughIpv4) {
  auto ip = Ipv4View<const uint8_t>::parse(kUdpDnsQuery);
  ASSERT_TRUE(ip);
  auto udp = UdpView<const uint8_t>::parse(ip->payload());
  ASSERT_TRUE(udp);
  EXPECT_TRUE(udp->verify_checksum(ip->src(), ip->dst()));
}

TEST(UdpView, TrimsToLength) {
  Buf b(std::begin(kUdpDnsQuery) + kDnsUdpOff, std::end(kUdpDnsQuery));
  b.resize(b.size() + 5, 0xee);
  auto udp = UdpView<const uint8_t>::parse(b);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->bytes().size(), 37u);
  EXPECT_EQ(udp->payload().size(), 29u);
  EXPECT_TRUE(udp->verify_checksum(kHostIp, kRouterIp));
}

TEST(UdpView, AcceptsLengthEight) {
  constexpr uint8_t empty[] = {0x00, 0x07, 0x00, 0x07, 0x00, 0x08, 0x00, 0x00};  // echo, no data
  auto udp = UdpView<const uint8_t>::parse(empty);
  ASSERT_TRUE(udp);
  EXPECT_TRUE(udp->payload().empty());
}

TEST(UdpView, RejectsTruncated) {
  for (size_t n = 0; n < 37; ++n) {
    Buf b(std::begin(kUdpDnsQuery) + kDnsUdpOff, std::begin(kUdpDnsQuery) + kDnsUdpOff + static_cast<ptrdiff_t>(n));
    EXPECT_FALSE(UdpView<const uint8_t>::parse(b)) << "length " << n;
  }
}

TEST(UdpView, RejectsLengthBelowEight) {
  for (uint8_t len = 0; len < 8; ++len) {
    Buf b(std::begin(kUdpDnsQuery) + kDnsUdpOff, std::end(kUdpDnsQuery));
    b[4] = 0;
    b[5] = len;
    EXPECT_FALSE(UdpView<const uint8_t>::parse(b)) << "length field " << int{len};
  }
}

TEST(UdpView, RejectsLengthBeyondSpan) {
  Buf b(std::begin(kUdpDnsQuery) + kDnsUdpOff, std::end(kUdpDnsQuery));
  b[5] = 38;
  EXPECT_FALSE(UdpView<const uint8_t>::parse(b));
  b[4] = 0xff;
  b[5] = 0xff;
  EXPECT_FALSE(UdpView<const uint8_t>::parse(b));
}

TEST(UdpView, VerifyChecksumRejectsCorruptionAndWrongAddresses) {
  Buf b(std::begin(kUdpDnsQuery) + kDnsUdpOff, std::end(kUdpDnsQuery));
  auto udp = UdpView<const uint8_t>::parse(b);
  ASSERT_TRUE(udp);
  EXPECT_FALSE(udp->verify_checksum(kHostIp, Ipv4Addr::from_octets(8, 8, 8, 8)));
  b[20] ^= 0x20;  // 'e' -> 'E' in the query name
  EXPECT_FALSE(udp->verify_checksum(kHostIp, kRouterIp));
}

TEST(UdpView, ZeroChecksumMeansNone) {
  Buf b(std::begin(kUdpDnsQuery) + kDnsUdpOff, std::end(kUdpDnsQuery));
  b[6] = 0;
  b[7] = 0;
  auto udp = UdpView<const uint8_t>::parse(b);
  ASSERT_TRUE(udp);
  EXPECT_TRUE(udp->verify_checksum(kHostIp, kRouterIp));
  EXPECT_TRUE(udp->verify_checksum(Ipv4Addr{1}, Ipv4Addr{2}));  // not checked at all
}

TEST(UdpView, ZeroChecksumStaysZeroOnRewrite) {
  Buf b(std::begin(kUdpDnsQuery) + kDnsUdpOff, std::end(kUdpDnsQuery));
  b[6] = 0;
  b[7] = 0;
  auto udp = UdpView<uint8_t>::unchecked(b);
  udp.set_sport_update_checksum(1024);
  udp.set_dport_update_checksum(5353);
  udp.update_checksum_for_addr(kHostIp, Ipv4Addr::from_octets(203, 0, 113, 7));
  EXPECT_EQ(hex(std::span<const uint8_t>(b).first(8)), "04 00 14 e9 00 25 00 00");
}

TEST(UdpView, FillChecksum) {
  Buf b(std::begin(kUdpDnsQuery) + kDnsUdpOff, std::end(kUdpDnsQuery));
  b[6] = 0xa5;
  b[7] = 0xa5;
  auto udp = UdpView<uint8_t>::unchecked(b);
  udp.fill_checksum(kHostIp, kRouterIp);
  EXPECT_EQ(hex(b), hex(std::span<const uint8_t>(kUdpDnsQuery).subspan(kDnsUdpOff)));
}

TEST(UdpView, SetSportUpdatesChecksum) {
  Buf b(std::begin(kUdpDnsQuery) + kDnsUdpOff, std::end(kUdpDnsQuery));
  auto udp = UdpView<uint8_t>::unchecked(b);
  udp.set_sport_update_checksum(1024);
  EXPECT_EQ(hex(std::span<const uint8_t>(b).first(8)), "04 00 00 35 00 25 8e 7a");
}

TEST(UdpView, SetDportUpdatesChecksum) {
  Buf b(std::begin(kUdpDnsQuery) + kDnsUdpOff, std::end(kUdpDnsQuery));
  auto udp = UdpView<uint8_t>::unchecked(b);
  udp.set_dport_update_checksum(5353);
  EXPECT_EQ(hex(std::span<const uint8_t>(b).first(8)), "cf 08 14 e9 00 25 ae bd");
}

TEST(UdpView, UpdateChecksumForAddr) {
  Buf b(std::begin(kUdpDnsQuery) + kDnsUdpOff, std::end(kUdpDnsQuery));
  auto udp = UdpView<uint8_t>::unchecked(b);
  const Ipv4Addr nat = Ipv4Addr::from_octets(203, 0, 113, 7);
  udp.update_checksum_for_addr(kHostIp, nat);
  EXPECT_EQ(udp.checksum(), 0x491c);
  EXPECT_TRUE(udp.verify_checksum(nat, kRouterIp));
}

// ---------------------------------------------------------------------------------------------
// Random input: every parser stays in bounds (run under AddressSanitizer) and keeps its invariant.

template <class V>
void touch_ipv4(const V& ip) {
  volatile uint32_t sink = 0;
  sink = sink + ip.version() + ip.header_len() + ip.tos() + ip.total_len() + ip.ident() + ip.flags_frag() +
         ip.dont_fragment() + ip.more_fragments() + ip.frag_offset() + ip.is_fragment() + ip.ttl() +
         number(ip.protocol()) + ip.checksum() + ip.src().v + ip.dst().v + ip.verify_checksum();
  for (uint8_t x : ip.options()) sink = sink + x;
  for (uint8_t x : ip.payload()) sink = sink + x;
}

TEST(WireFuzz, ParsersStayInBoundsOnRandomInput) {
  std::mt19937 rng(20240601);
  for (int i = 0; i < 200000; ++i) {
    Buf b(rng() % 80);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    // Bias towards plausible headers so the deeper checks are reached.
    if (b.size() >= 4 && (rng() & 1)) {
      b[0] = static_cast<uint8_t>(0x40 | (rng() % 16));
      b[2] = 0;
      b[3] = static_cast<uint8_t>(rng() % 90);
    }
    if (b.size() >= 13 && (rng() & 1)) b[12] = static_cast<uint8_t>((rng() % 16) << 4);
    if (b.size() >= 6 && (rng() & 1)) {
      b[4] = 0;
      b[5] = static_cast<uint8_t>(rng() % 90);
    }
    std::span<const uint8_t> s(b);
    volatile uint32_t sink = 0;

    if (auto e = EthernetView<const uint8_t>::parse(s)) {
      ASSERT_GE(s.size(), 14u);
      sink = sink + e->ethertype() + e->dst().b[5] + e->src().b[5] + static_cast<uint32_t>(e->payload().size());
    }
    if (auto a = ArpView<const uint8_t>::parse(s)) {
      sink = sink + a->htype() + a->ptype() + a->oper() + a->sha().b[5] + a->spa().v + a->tha().b[5] + a->tpa().v;
    }
    if (auto ip = Ipv4View<const uint8_t>::parse(s)) {
      ASSERT_EQ(ip->version(), 4);
      ASSERT_GE(ip->header_len(), 20u);
      ASSERT_LE(ip->header_len(), ip->bytes().size());
      ASSERT_EQ(ip->bytes().size(), ip->total_len());
      ASSERT_LE(ip->bytes().size(), s.size());
      touch_ipv4(*ip);
    }
    if (auto q = Ipv4View<const uint8_t>::parse_quoted(s)) {
      ASSERT_EQ(q->version(), 4);
      ASSERT_GE(q->header_len(), 20u);
      ASSERT_LE(q->header_len(), q->bytes().size());
      ASSERT_LE(q->bytes().size(), q->total_len());
      touch_ipv4(*q);
    }
    if (auto t = IpipView<const uint8_t>::parse(s)) {
      touch_ipv4(t->outer);
      touch_ipv4(t->inner);
    }
    if (auto icmp = Icmpv4View<const uint8_t>::parse(s)) {
      sink = sink + icmp->type() + icmp->code() + icmp->checksum() + icmp->ident() + icmp->seq() +
             icmp->next_hop_mtu() + icmp->rest() + icmp->verify_checksum() + static_cast<uint32_t>(icmp->data().size());
      if (auto q = icmp->quoted()) touch_ipv4(*q);
    }
    if (auto tcp = TcpView<const uint8_t>::parse(s)) {
      ASSERT_GE(tcp->header_len(), 20u);
      ASSERT_LE(tcp->header_len(), s.size());
      sink = sink + tcp->sport() + tcp->dport() + tcp->seq() + tcp->ack() + tcp->flags() + tcp->window() +
             tcp->checksum() + tcp->urgent() + tcp->verify_checksum(Ipv4Addr{1}, Ipv4Addr{2});
      for (uint8_t x : tcp->options()) sink = sink + x;
      for (uint8_t x : tcp->payload()) sink = sink + x;
    }
    if (auto udp = UdpView<const uint8_t>::parse(s)) {
      ASSERT_GE(udp->length(), 8u);
      ASSERT_EQ(udp->bytes().size(), udp->length());
      sink = sink + udp->sport() + udp->dport() + udp->checksum() + udp->verify_checksum(Ipv4Addr{1}, Ipv4Addr{2});
      for (uint8_t x : udp->payload()) sink = sink + x;
    }
    (void)sink;
  }
}

}  // namespace
}  // namespace vs::wire

// Health checks through a whole engine, for the tests of src/check/ and of its metrics: a
// simulated real server on the lan side that answers probes (or not), and a rig that runs the
// engine's clock and hands the real's answers back to it.
//
// The topology is wan 203.0.113.1/24 (interface 0) and lan 10.1.0.1/24 (interface 1, MAC
// 02:00:00:00:00:02); the simulated real is 10.1.0.11 unless set otherwise. Other reals on lan
// answer nothing (not even ARP).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine.hpp"
#include "test_frames.hpp"
#include "wire/tcp.hpp"

namespace vs::test {

inline constexpr MacAddr kLanMac = mac(2, 0, 0, 0, 0, 2);
inline constexpr Ipv4Addr kLanIp = ip4(10, 1, 0, 1);

/// One simulated real on lan: answers ARP, and SYNs with SYN-ACK (listening) or RST; pings.
struct SimReal {
  Ipv4Addr ip = ip4(10, 1, 0, 11);
  MacAddr mac_ = mac(2, 0, 0, 0, 0xaa, 0x11);
  bool present = true;    // answers anything at all
  bool listening = true;  // a SYN gets SYN-ACK (else RST)
  int syns = 0, rsts = 0;
  std::string http_response = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  std::string last_request;
  bool udp_answers = true;  // UDP: echo the datagram (DNS: answer with udp_rcode)
  uint8_t dns_rcode = 0;
  bool udp_port_closed = false;  // UDP: ICMP port unreachable

  /// The answer to `f`, if any.
  std::optional<ByteVec> answer(const ByteVec& f) {
    if (!present) return std::nullopt;
    if (eth_type(f) == 0x0806) {
      auto a = arp_of(f);
      if (a.oper() != 1 || a.tpa() != ip) return std::nullopt;
      return frame().eth(kLanMac, mac_).arp(2, mac_, ip, kLanMac, kLanIp).build();
    }
    auto ipv = ip_of(f);
    if (ipv.dst() != ip) return std::nullopt;
    if (ipv.protocol() == IpProto::kIcmp) {
      auto m = icmp_of(f);
      if (m.type() != 8) return std::nullopt;
      ByteVec data(m.data().begin(), m.data().end());
      return frame().eth(kLanMac, mac_).ipv4(ip, ipv.src()).icmp(0, 0, m.rest(), data).build();
    }
    if (ipv.protocol() == IpProto::kUdp) {
      ByteVec data(ipv.payload().begin() + 8, ipv.payload().end());
      const uint16_t sport = get16(ipv.payload(), 0), dport = get16(ipv.payload(), 2);
      if (udp_port_closed) {
        ByteVec quote(ipv.bytes().begin(), ipv.bytes().begin() + 28);
        return frame().eth(kLanMac, mac_).ipv4(ip, ipv.src()).icmp(3, 3, 0, quote).build();
      }
      if (!udp_answers) return std::nullopt;
      if (dport == 53 && data.size() >= 12) {  // a DNS answer: QR set, the query's ID, our RCODE
        data[2] |= 0x80;
        data[3] = static_cast<uint8_t>((data[3] & 0xf0) | dns_rcode);
      }
      return frame().eth(kLanMac, mac_).ipv4(ip, ipv.src()).udp(dport, sport, data).build();
    }
    if (ipv.protocol() != IpProto::kTcp) return std::nullopt;
    auto t = wire::TcpView<const uint8_t>::parse(ipv.payload());
    if (t->flags() & tcp_flag::kRst) {
      rsts++;
      return std::nullopt;
    }
    if (!t->payload().empty()) {  // the HTTP request: the response and a FIN in one segment
      last_request.assign(t->payload().begin(), t->payload().end());
      ByteVec body(http_response.begin(), http_response.end());
      return frame()
          .eth(kLanMac, mac_)
          .ipv4(ip, ipv.src())
          .tcp(t->dport(), t->sport(), tcp_flag::kAck | tcp_flag::kPsh | tcp_flag::kFin, body)
          .seq_ack(777001, t->seq() + static_cast<uint32_t>(t->payload().size()))
          .build();
    }
    if (!(t->flags() & tcp_flag::kSyn)) return std::nullopt;
    syns++;
    if (!listening)
      return frame()
          .eth(kLanMac, mac_)
          .ipv4(ip, ipv.src())
          .tcp(t->dport(), t->sport(), tcp_flag::kRst | tcp_flag::kAck)
          .seq_ack(0, t->seq() + 1)
          .build();
    return frame()
        .eth(kLanMac, mac_)
        .ipv4(ip, ipv.src())
        .tcp(t->dport(), t->sport(), tcp_flag::kSyn | tcp_flag::kAck)
        .seq_ack(777000, t->seq() + 1)
        .build();
  }
};

/// The rig's topology (wan 203.0.113.1/24, lan 10.1.0.1/24) and the head of its service, TCP
/// 203.0.113.100:80 rr: a test appends the service's keys and reals.
inline std::string health_topology() {
  return R"(
[[interfaces]]
name = "wan"
mac = "02:00:00:00:00:01"
addresses = ["203.0.113.1/24"]

[[interfaces]]
name = "lan"
mac = "02:00:00:00:00:02"
addresses = ["10.1.0.1/24"]

[[services]]
protocol = "tcp"
address = "203.0.113.100:80"
scheduler = "rr"
)";
}

struct HealthRig {
  MemSink sink;
  Engine engine;
  SimReal real;
  int64_t now_us = 1'000'000'000'000;
  std::vector<ByteVec> seen;  // every frame the engine sent on lan

  explicit HealthRig(const std::string& toml) : engine(parse(toml), sink) {
    engine.start(Instant::from_micros(now_us));
  }
  static std::shared_ptr<const config::Config> parse(const std::string& t) {
    auto r = config::parse_config(t);
    if (!r) throw std::runtime_error(r.error().message);
    return r.value();
  }
  /// Runs the clock to `until_s` seconds from now, answering whatever the real answers 100 µs
  /// after the engine sends it.
  void run(double secs) {
    const int64_t until = now_us + static_cast<int64_t>(secs * 1e6);
    for (;;) {
      auto d = engine.next_deadline();
      if (!d || d->us > until) break;
      now_us = std::max(now_us, d->us);
      engine.on_timer(Instant::from_micros(now_us));
      pump();
    }
    now_us = until;
  }
  void pump() {
    for (int round = 0; round < 10 && !sink.sent.empty(); ++round) {
      auto sent = std::move(sink.sent);
      sink.sent.clear();
      for (const auto& s : sent) {
        if (s.iface != 1) continue;
        seen.push_back(s.bytes);
        if (auto a = real.answer(s.bytes)) engine.on_frame(1, *a, Instant::from_micros(now_us + 100));
      }
    }
  }
  bool in_service(Ipv4Addr a) {
    auto* s = engine.director().find_exact(IpProto::kTcp, ip4(203, 0, 113, 100), 80);
    return s && s->find_real(a, 80) != nullptr;
  }
  int32_t weight(Ipv4Addr a) {
    auto* s = engine.director().find_exact(IpProto::kTcp, ip4(203, 0, 113, 100), 80);
    auto* d = s ? s->find_real(a, 80) : nullptr;
    return d ? d->weight : -1;
  }
};

}  // namespace vs::test

// `vsrouter replay --diagram CONN`: one connection's packets as a Mermaid sequenceDiagram (client,
// director, real), built from what the replay sees: the frames fed, the frames the engine sent
// (with interfaces and virtual times) and the director's scheduling decisions. Control-path only.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/addr.hpp"
#include "config/config.hpp"
#include "replay/replay.hpp"

namespace vs::replay {

class Diagram : public Observer {
public:
  /// `conn`: "N" (1-based: the Nth connection the director scheduled) or "CLIENT:PORT" (an IPv6
  /// client as "[2001:db8::c1]:40001"). Empty
  /// optional with `err` set when the text is neither.
  static std::optional<Diagram> make(const std::string& conn, std::string& err);

  void input(uint32_t iface, int64_t ts_us, std::span<const uint8_t> frame) override;
  void output(uint32_t iface, int64_t ts_us, std::span<const uint8_t> frame) override;
  void scheduled(int64_t ts_us, const ipvs::SchedNote& note) override;

  /// The Mermaid text (no code fence), or an error message when the connection was not seen.
  bool render(const config::Config& cfg, int64_t origin_us, std::string& out) const;

  struct Event {
    bool sent = false;  // by vsrouter (else fed to it)
    uint32_t iface = 0;
    int64_t ts_us = 0;
    MacAddr mac_src, mac_dst;
    IpAddr src, dst;              // the outer IP header (either family)
    bool ipip = false;            // a tunnel (IPIP, IPv6 in IPv6, either in the other): then
    IpAddr inner_src, inner_dst;  // inner_* are the encapsulated header (= src/dst without one)
    IpProto proto{};
    uint16_t sport = 0, dport = 0;
    uint8_t tcp_flags = 0;
    uint32_t payload = 0;  // transport payload bytes
  };
  struct Conn {
    int64_t ts_us;
    ipvs::SchedNote note;
  };

private:
  Diagram() = default;
  void add(bool sent, uint32_t iface, int64_t ts_us, std::span<const uint8_t> frame);

  uint32_t index_ = 0;  // 1-based; 0: by client endpoint
  IpAddr client_;
  uint16_t cport_ = 0;
  std::vector<Event> events_;
  std::vector<Conn> conns_;
};

}  // namespace vs::replay

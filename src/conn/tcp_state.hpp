// The IPVS TCP state machine (net/netfilter/ipvs/ip_vs_proto_tcp.c): states, the three
// transition tables (INPUT, OUTPUT, INPUT_ONLY), which states count as active, and the timeouts.
// Pure functions and tables; the connection table applies them.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "base/time.hpp"
#include "config/config.hpp"

namespace vs::conn {

/// In the kernel's order (IP_VS_TCP_S_*), which is also the column order of its tables.
enum class TcpState : uint8_t {
  kNone,
  kEstablished,
  kSynSent,
  kSynRecv,
  kFinWait,
  kTimeWait,
  kClose,
  kCloseWait,
  kLastAck,
  kListen,
  kSynAck,
};
inline constexpr size_t kTcpStateCount = 11;

/// Which table a packet uses: INPUT = client->real packets of NAT connections; OUTPUT = real->client
/// packets (NAT replies through us); INPUT_ONLY = client packets of connections that never saw
/// output (DR, TUN: the kernel's NOOUTPUT flag).
enum class TcpDir : uint8_t { kInput, kOutput, kInputOnly };

/// The next state for a packet with TCP `flags` (wire byte 13). The event is chosen by priority
/// RST > SYN > FIN > ACK; a packet with none of them gives CLOSE.
TcpState tcp_transition(TcpState cur, TcpDir dir, uint8_t flags) noexcept;

/// ESTABLISHED, SYN_SENT, SYN_RECV and SYNACK count as active connections; the rest inactive.
bool tcp_state_active(TcpState s) noexcept;

/// The state names of `ipvsadm -Lnc` (NONE, ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT, TIME_WAIT,
/// CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, SYNACK).
std::string_view tcp_state_name(TcpState s) noexcept;

/// Connection timeouts: the kernel's tcp_timeouts[] and UDP's, with `ipvsadm --set` overrides
/// (tcp -> ESTABLISHED, tcpfin -> FIN_WAIT, udp -> UDP; 0 keeps the default).
struct Timeouts {
  std::array<Duration, kTcpStateCount> tcp;
  Duration udp;
  Duration tcp_of(TcpState s) const noexcept { return tcp[static_cast<size_t>(s)]; }
};
Timeouts make_timeouts(const config::Timeouts& set) noexcept;

}  // namespace vs::conn

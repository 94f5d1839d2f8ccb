// The IPVS TCP state machine: transition tables, active states, state names and timeouts, as in
// net/netfilter/ipvs/ip_vs_proto_tcp.c (Linux 6.12) and ip_vs_ctl.c ip_vs_set_timeout().
#include "conn/tcp_state.hpp"

namespace vs::conn {
namespace {

// TCP header flag bits (byte 13 of the header).
constexpr uint8_t kFin = 0x01;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kRst = 0x04;
constexpr uint8_t kAck = 0x10;

// The four events, in the kernel's row order within each direction block (tcp_state_idx()
// returns syn 0, fin 1, ack 2, rst 3).
enum Event : uint8_t { kEvSyn, kEvFin, kEvAck, kEvRst };
constexpr size_t kEventCount = 4;
constexpr size_t kDirCount = 3;

// The kernel keeps the three tables as one array of 12 rows (struct tcp_states_t), indexed by
// tcp_state_off[direction] + event, where the offsets are INPUT 0, OUTPUT 4, INPUT_ONLY 8; each
// row's next_state[] is indexed by the current state in IP_VS_TCP_S_* order (sNO sES sSS sSR sFW
// sTW sCL sCW sLA sLI sSA). Here the same data is laid out as [dir][event][current state], with
// dir in TcpDir order (which equals offset / 4) and event in the kernel's syn, fin, ack, rst
// order. These are the normal tables; the secure_tcp ("dos") variant is not implemented.
// Short names as in the kernel's sES, sSS, ... (sNO and sSA never occur as a next state in these
// tables, so they have no alias here).
using S = TcpState;
constexpr S ES = S::kEstablished, SS = S::kSynSent, SR = S::kSynRecv, FW = S::kFinWait, TW = S::kTimeWait,
            CL = S::kClose, CW = S::kCloseWait, LA = S::kLastAck, LI = S::kListen;

using Row = std::array<TcpState, kTcpStateCount>;
using Block = std::array<Row, kEventCount>;

constexpr std::array<Block, kDirCount> kTable = {{
    // INPUT: client -> real server packets of a connection that has seen output (NAT).
    //    NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA
    {{
        {{SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR}},  // syn
        {{CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW}},  // fin
        {{ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES}},  // ack
        {{CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR}},  // rst
    }},
    // OUTPUT: real server -> client packets (replies through us, NAT).
    //    NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA
    {{
        {{SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR}},  // syn
        {{TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW}},  // fin
        {{ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES}},  // ack
        {{CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL}},  // rst
    }},
    // INPUT_ONLY: client packets of a connection that never saw output (DR, TUN).
    //    NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA
    {{
        {{SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR}},  // syn
        {{CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW}},  // fin
        {{ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES}},  // ack
        {{CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL}},  // rst
    }},
}};

constexpr std::array<std::string_view, kTcpStateCount> kNames = {
    "NONE",  "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
    "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "SYNACK",
};

constexpr std::array<bool, kTcpStateCount> kActive = {
    false,  // NONE
    true,   // ESTABLISHED
    true,   // SYN_SENT
    true,   // SYN_RECV
    false,  // FIN_WAIT
    false,  // TIME_WAIT
    false,  // CLOSE
    false,  // CLOSE_WAIT
    false,  // LAST_ACK
    false,  // LISTEN
    true,   // SYNACK
};

// tcp_timeouts[], in seconds, in state order.
constexpr std::array<int64_t, kTcpStateCount> kDefaultTcpSeconds = {
    2,    // NONE
    900,  // ESTABLISHED (15 min; ipvsadm --set tcp)
    120,  // SYN_SENT
    60,   // SYN_RECV
    120,  // FIN_WAIT (ipvsadm --set tcpfin)
    120,  // TIME_WAIT
    10,   // CLOSE
    60,   // CLOSE_WAIT
    30,   // LAST_ACK
    120,  // LISTEN
    120,  // SYNACK
};
constexpr int64_t kDefaultUdpSeconds = 300;

constexpr size_t idx(TcpState s) noexcept { return static_cast<size_t>(s); }

}  // namespace

TcpState tcp_transition(TcpState cur, TcpDir dir, uint8_t flags) noexcept {
  Event ev;
  if (flags & kRst) {
    ev = kEvRst;
  } else if (flags & kSyn) {
    ev = kEvSyn;
  } else if (flags & kFin) {
    ev = kEvFin;
  } else if (flags & kAck) {
    ev = kEvAck;
  } else {
    return TcpState::kClose;  // no event: the kernel's default new_state
  }
  const size_t d = static_cast<size_t>(dir);
  const size_t s = idx(cur);
  if (d >= kDirCount || s >= kTcpStateCount) return TcpState::kClose;
  return kTable[d][ev][s];
}

bool tcp_state_active(TcpState s) noexcept { return idx(s) < kTcpStateCount && kActive[idx(s)]; }

std::string_view tcp_state_name(TcpState s) noexcept {
  return idx(s) < kTcpStateCount ? kNames[idx(s)] : std::string_view("ERR!");
}

Timeouts make_timeouts(const config::Timeouts& set) noexcept {
  Timeouts t{};
  for (size_t i = 0; i < kTcpStateCount; ++i) t.tcp[i] = Duration::seconds(kDefaultTcpSeconds[i]);
  t.udp = Duration::seconds(kDefaultUdpSeconds);
  // ip_vs_set_timeout(): a zero value leaves that timeout unchanged.
  if (set.tcp != 0) t.tcp[idx(TcpState::kEstablished)] = Duration::seconds(set.tcp);
  if (set.tcpfin != 0) t.tcp[idx(TcpState::kFinWait)] = Duration::seconds(set.tcpfin);
  if (set.udp != 0) t.udp = Duration::seconds(set.udp);
  return t;
}

}  // namespace vs::conn

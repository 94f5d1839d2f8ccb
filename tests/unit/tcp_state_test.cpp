// Tests for the IPVS TCP state machine (src/conn/tcp_state.cpp).
//
// The expected transitions are NOT taken from the implementation: kKernelTcpStates below is the
// text of tcp_states[] from net/netfilter/ipvs/ip_vs_proto_tcp.c (Linux 6.12), transcribed with
// the kernel's own sNO/sES/... abbreviations and parsed here. Every one of the 3 x 4 x 11 = 132
// cells is checked with a flag byte carrying only that event's flag, and the event priority is
// checked exhaustively over all 256 flag bytes. The expected timeouts, names and active states
// come from the kernel's tcp_timeouts[], tcp_state_name_table[] and tcp_state_active_table[] and
// from tcp_states[] and tcp_states_dos[] of net/netfilter/ipvs/ip_vs_proto_tcp.c.
#include "conn/tcp_state.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "config/config.hpp"
#include "test_config.hpp"

namespace vs::conn {
namespace {

// tcp_states[] as written in ip_vs_proto_tcp.c (Linux 6.12), verbatim apart from whitespace.
constexpr std::string_view kKernelTcpStates = R"(
/*	INPUT */
/*        sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA	*/
/*syn*/ {{sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR }},
/*fin*/ {{sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW }},
/*ack*/ {{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES }},
/*rst*/ {{sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR }},

/*	OUTPUT */
/*        sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA	*/
/*syn*/ {{sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR }},
/*fin*/ {{sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW }},
/*ack*/ {{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES }},
/*rst*/ {{sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL }},

/*	INPUT-ONLY */
/*        sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA	*/
/*syn*/ {{sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR }},
/*fin*/ {{sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW }},
/*ack*/ {{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES }},
/*rst*/ {{sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL }},
)";

// The kernel's #define sNO IP_VS_TCP_S_NONE ... lines.
const std::map<std::string, TcpState>& abbreviations() {
  static const std::map<std::string, TcpState> m = {
      {"sNO", TcpState::kNone},    {"sES", TcpState::kEstablished}, {"sSS", TcpState::kSynSent},
      {"sSR", TcpState::kSynRecv}, {"sFW", TcpState::kFinWait},     {"sTW", TcpState::kTimeWait},
      {"sCL", TcpState::kClose},   {"sCW", TcpState::kCloseWait},   {"sLA", TcpState::kLastAck},
      {"sLI", TcpState::kListen},  {"sSA", TcpState::kSynAck},
  };
  return m;
}

constexpr uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20, ECE = 0x40, CWR = 0x80;

struct Cell {
  TcpDir dir;
  std::string dir_name;  // INPUT / OUTPUT / INPUT_ONLY
  std::string event;     // syn / fin / ack / rst
  TcpState from;
  TcpState to;
};

void PrintTo(const Cell& c, std::ostream* os) {
  *os << c.dir_name << " " << c.event << " " << tcp_state_name(c.from) << " -> " << tcp_state_name(c.to);
}

// The sXX tokens of one line, in order.
std::vector<std::string> tokens(std::string_view line) {
  std::vector<std::string> out;
  for (size_t i = 0; i + 2 < line.size(); ++i) {
    if (line[i] == 's' && line[i + 1] >= 'A' && line[i + 1] <= 'Z' && line[i + 2] >= 'A' && line[i + 2] <= 'Z' &&
        (i == 0 || !std::isalnum(static_cast<unsigned char>(line[i - 1])))) {
      out.emplace_back(line.substr(i, 3));
      i += 2;
    }
  }
  return out;
}

// Parses kKernelTcpStates into 132 cells. Any malformed line gives an empty result (which the
// ParsedTableIsComplete test reports).
std::vector<Cell> parse_kernel_table() {
  std::vector<Cell> cells;
  std::istringstream in{std::string(kKernelTcpStates)};
  std::string line;
  std::optional<TcpDir> dir;
  std::string dir_name;
  std::vector<TcpState> columns;
  const auto& ab = abbreviations();
  while (std::getline(in, line)) {
    if (line.find("INPUT-ONLY") != std::string::npos) {
      dir = TcpDir::kInputOnly, dir_name = "INPUT_ONLY", columns.clear();
    } else if (line.find("OUTPUT") != std::string::npos) {
      dir = TcpDir::kOutput, dir_name = "OUTPUT", columns.clear();
    } else if (line.find("INPUT") != std::string::npos) {
      dir = TcpDir::kInput, dir_name = "INPUT", columns.clear();
    } else if (line.rfind("/*        s", 0) == 0) {
      for (const auto& t : tokens(line)) {
        auto it = ab.find(t);
        if (it == ab.end()) return {};
        columns.push_back(it->second);
      }
    } else if (line.rfind("/*", 0) == 0 && line.find("*/ {{") != std::string::npos) {
      if (!dir || columns.size() != kTcpStateCount) return {};
      const std::string event = line.substr(2, line.find("*/") - 2);
      const auto next = tokens(line.substr(line.find("{{")));
      if (next.size() != kTcpStateCount) return {};
      for (size_t i = 0; i < kTcpStateCount; ++i) {
        auto it = ab.find(next[i]);
        if (it == ab.end()) return {};
        cells.push_back({*dir, dir_name, event, columns[i], it->second});
      }
    }
  }
  return cells;
}

const std::vector<Cell>& kernel_cells() {
  static const std::vector<Cell> cells = parse_kernel_table();
  return cells;
}

// The expected next state from the kernel text for (dir, event, from).
TcpState expected(TcpDir dir, std::string_view event, TcpState from) {
  for (const Cell& c : kernel_cells())
    if (c.dir == dir && c.event == event && c.from == from) return c.to;
  ADD_FAILURE() << "no kernel cell for " << event;
  return TcpState::kNone;
}

uint8_t flag_of(std::string_view event) {
  if (event == "syn") return SYN;
  if (event == "fin") return FIN;
  if (event == "ack") return ACK;
  if (event == "rst") return RST;
  ADD_FAILURE() << "unknown event " << event;
  return 0;
}

constexpr TcpState kAllStates[] = {
    TcpState::kNone,    TcpState::kEstablished, TcpState::kSynSent, TcpState::kSynRecv,
    TcpState::kFinWait, TcpState::kTimeWait,    TcpState::kClose,   TcpState::kCloseWait,
    TcpState::kLastAck, TcpState::kListen,      TcpState::kSynAck,
};
constexpr TcpDir kAllDirs[] = {TcpDir::kInput, TcpDir::kOutput, TcpDir::kInputOnly};

std::string dir_str(TcpDir d) {
  switch (d) {
    case TcpDir::kInput: return "INPUT";
    case TcpDir::kOutput: return "OUTPUT";
    case TcpDir::kInputOnly: return "INPUT_ONLY";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// The 132 cells, one test each.

TEST(TcpStateTable, ParsedTableIsComplete) {
  const auto& cells = kernel_cells();
  ASSERT_EQ(cells.size(), 3u * 4u * kTcpStateCount);
  // Every (dir, event, from) appears exactly once.
  std::map<std::tuple<int, std::string, int>, int> seen;
  for (const Cell& c : cells) ++seen[{static_cast<int>(c.dir), c.event, static_cast<int>(c.from)}];
  EXPECT_EQ(seen.size(), cells.size());
  // Column headers follow the enum order in every block.
  for (size_t i = 0; i < cells.size(); ++i) EXPECT_EQ(static_cast<size_t>(cells[i].from), i % kTcpStateCount);
}

class TcpStateCell : public ::testing::TestWithParam<Cell> {};

TEST_P(TcpStateCell, MatchesKernel) {
  const Cell& c = GetParam();
  EXPECT_EQ(tcp_transition(c.from, c.dir, flag_of(c.event)), c.to)
      << c.dir_name << " " << c.event << " from " << tcp_state_name(c.from) << ": expected " << tcp_state_name(c.to);
}

INSTANTIATE_TEST_SUITE_P(AllCells, TcpStateCell, ::testing::ValuesIn(kernel_cells()),
                         [](const ::testing::TestParamInfo<Cell>& info) {
                           const Cell& c = info.param;
                           return c.dir_name + "_" + c.event + "_" + std::string(tcp_state_name(c.from));
                         });

// A few cells spelled out by hand, as a sanity check of the parser itself.
TEST(TcpStateTable, HandPickedCells) {
  EXPECT_EQ(tcp_transition(TcpState::kNone, TcpDir::kInput, SYN), TcpState::kSynRecv);
  EXPECT_EQ(tcp_transition(TcpState::kNone, TcpDir::kOutput, SYN), TcpState::kSynSent);
  EXPECT_EQ(tcp_transition(TcpState::kEstablished, TcpDir::kInput, FIN), TcpState::kCloseWait);
  EXPECT_EQ(tcp_transition(TcpState::kEstablished, TcpDir::kInputOnly, FIN), TcpState::kFinWait);
  EXPECT_EQ(tcp_transition(TcpState::kEstablished, TcpDir::kOutput, FIN), TcpState::kFinWait);
  EXPECT_EQ(tcp_transition(TcpState::kSynAck, TcpDir::kInput, RST), TcpState::kSynRecv);
  EXPECT_EQ(tcp_transition(TcpState::kSynAck, TcpDir::kInputOnly, RST), TcpState::kClose);
  EXPECT_EQ(tcp_transition(TcpState::kListen, TcpDir::kOutput, ACK), TcpState::kEstablished);
  EXPECT_EQ(tcp_transition(TcpState::kLastAck, TcpDir::kOutput, ACK), TcpState::kLastAck);
  EXPECT_EQ(tcp_transition(TcpState::kLastAck, TcpDir::kInput, ACK), TcpState::kClose);
  EXPECT_EQ(tcp_transition(TcpState::kTimeWait, TcpDir::kOutput, RST), TcpState::kTimeWait);
}

// ---------------------------------------------------------------------------------------------
// Event priority RST > SYN > FIN > ACK; no event -> CLOSE.

// The kernel's tcp_state_idx(), restated: the event name for a flag byte, or "" for none.
std::string_view event_of(uint8_t flags) {
  if (flags & RST) return "rst";
  if (flags & SYN) return "syn";
  if (flags & FIN) return "fin";
  if (flags & ACK) return "ack";
  return "";
}

TEST(TcpStatePriority, AllFlagBytesAllStatesAllDirections) {
  for (TcpDir dir : kAllDirs) {
    for (TcpState from : kAllStates) {
      for (int f = 0; f < 256; ++f) {
        const auto flags = static_cast<uint8_t>(f);
        const std::string_view ev = event_of(flags);
        const TcpState want = ev.empty() ? TcpState::kClose : expected(dir, ev, from);
        ASSERT_EQ(tcp_transition(from, dir, flags), want)
            << dir_str(dir) << " from " << tcp_state_name(from) << " flags 0x" << std::hex << f;
      }
    }
  }
}

// For each combination below, every state and direction must behave as the named event.
void expect_behaves_as(uint8_t flags, std::string_view event) {
  for (TcpDir dir : kAllDirs)
    for (TcpState from : kAllStates)
      EXPECT_EQ(tcp_transition(from, dir, flags), expected(dir, event, from))
          << dir_str(dir) << " from " << tcp_state_name(from) << " flags 0x" << std::hex << int{flags}
          << " should act as " << event;
}

void expect_close(uint8_t flags) {
  for (TcpDir dir : kAllDirs)
    for (TcpState from : kAllStates)
      EXPECT_EQ(tcp_transition(from, dir, flags), TcpState::kClose)
          << dir_str(dir) << " from " << tcp_state_name(from) << " flags 0x" << std::hex << int{flags};
}

TEST(TcpStatePriority, SynAckIsSyn) { expect_behaves_as(SYN | ACK, "syn"); }
TEST(TcpStatePriority, FinAckIsFin) { expect_behaves_as(FIN | ACK, "fin"); }
TEST(TcpStatePriority, SynFinIsSyn) { expect_behaves_as(SYN | FIN, "syn"); }
TEST(TcpStatePriority, PshAckIsAck) { expect_behaves_as(PSH | ACK, "ack"); }

TEST(TcpStatePriority, RstWithAnythingIsRst) {
  expect_behaves_as(RST, "rst");
  expect_behaves_as(RST | ACK, "rst");
  expect_behaves_as(RST | SYN, "rst");
  expect_behaves_as(RST | FIN, "rst");
  expect_behaves_as(RST | SYN | FIN | ACK, "rst");
  expect_behaves_as(0xff, "rst");
}

TEST(TcpStatePriority, NoEventFlagGivesClose) {
  expect_close(0);
  expect_close(PSH);
  expect_close(URG);
  expect_close(ECE);
  expect_close(CWR);
  expect_close(PSH | URG | ECE | CWR);
}

// ---------------------------------------------------------------------------------------------
// Names and active states.

TEST(TcpStateNames, ExactIpvsadmStrings) {
  EXPECT_EQ(tcp_state_name(TcpState::kNone), "NONE");
  EXPECT_EQ(tcp_state_name(TcpState::kEstablished), "ESTABLISHED");
  EXPECT_EQ(tcp_state_name(TcpState::kSynSent), "SYN_SENT");
  EXPECT_EQ(tcp_state_name(TcpState::kSynRecv), "SYN_RECV");
  EXPECT_EQ(tcp_state_name(TcpState::kFinWait), "FIN_WAIT");
  EXPECT_EQ(tcp_state_name(TcpState::kTimeWait), "TIME_WAIT");
  EXPECT_EQ(tcp_state_name(TcpState::kClose), "CLOSE");
  EXPECT_EQ(tcp_state_name(TcpState::kCloseWait), "CLOSE_WAIT");
  EXPECT_EQ(tcp_state_name(TcpState::kLastAck), "LAST_ACK");
  EXPECT_EQ(tcp_state_name(TcpState::kListen), "LISTEN");
  EXPECT_EQ(tcp_state_name(TcpState::kSynAck), "SYNACK");
}

TEST(TcpStateActive, ActiveStates) {
  EXPECT_FALSE(tcp_state_active(TcpState::kNone));
  EXPECT_TRUE(tcp_state_active(TcpState::kEstablished));
  EXPECT_TRUE(tcp_state_active(TcpState::kSynSent));
  EXPECT_TRUE(tcp_state_active(TcpState::kSynRecv));
  EXPECT_FALSE(tcp_state_active(TcpState::kFinWait));
  EXPECT_FALSE(tcp_state_active(TcpState::kTimeWait));
  EXPECT_FALSE(tcp_state_active(TcpState::kClose));
  EXPECT_FALSE(tcp_state_active(TcpState::kCloseWait));
  EXPECT_FALSE(tcp_state_active(TcpState::kLastAck));
  EXPECT_FALSE(tcp_state_active(TcpState::kListen));
  EXPECT_TRUE(tcp_state_active(TcpState::kSynAck));
}

// ---------------------------------------------------------------------------------------------
// Timeouts.

// tcp_timeouts[] in seconds: 2*HZ, 15*60*HZ, 2*60*HZ, 1*60*HZ, 2*60*HZ, 2*60*HZ, 10*HZ, 60*HZ,
// 30*HZ, 2*60*HZ, 120*HZ.
const std::map<TcpState, int64_t>& default_tcp_seconds() {
  static const std::map<TcpState, int64_t> m = {
      {TcpState::kNone, 2},        {TcpState::kEstablished, 15 * 60}, {TcpState::kSynSent, 2 * 60},
      {TcpState::kSynRecv, 60},    {TcpState::kFinWait, 2 * 60},      {TcpState::kTimeWait, 2 * 60},
      {TcpState::kClose, 10},      {TcpState::kCloseWait, 60},        {TcpState::kLastAck, 30},
      {TcpState::kListen, 2 * 60}, {TcpState::kSynAck, 120},
  };
  return m;
}
constexpr int64_t kDefaultUdp = 300;

// Checks every TCP state and UDP: `overrides` lists the states expected to differ from the
// defaults; everything else must keep its default.
void expect_timeouts(const Timeouts& t, const std::map<TcpState, int64_t>& overrides, int64_t udp_seconds) {
  ASSERT_EQ(default_tcp_seconds().size(), kTcpStateCount);
  for (TcpState s : kAllStates) {
    auto o = overrides.find(s);
    const int64_t want = o != overrides.end() ? o->second : default_tcp_seconds().at(s);
    EXPECT_EQ(t.tcp_of(s), Duration::seconds(want)) << tcp_state_name(s);
    EXPECT_EQ(t.tcp[static_cast<size_t>(s)], Duration::seconds(want)) << tcp_state_name(s);
  }
  EXPECT_EQ(t.udp, Duration::seconds(udp_seconds)) << "UDP";
}

config::Timeouts ipvsadm_set(uint32_t tcp, uint32_t tcpfin, uint32_t udp) {
  config::Timeouts c;
  c.tcp = tcp;
  c.tcpfin = tcpfin;
  c.udp = udp;
  return c;
}

TEST(TcpStateTimeouts, DefaultsFromConfigDefaults) {
  expect_timeouts(make_timeouts(config::Timeouts{}), {}, kDefaultUdp);
}

TEST(TcpStateTimeouts, AllZeroKeepsDefaults) { expect_timeouts(make_timeouts(ipvsadm_set(0, 0, 0)), {}, kDefaultUdp); }

TEST(TcpStateTimeouts, EachDefaultExactly) {
  const Timeouts t = make_timeouts(ipvsadm_set(0, 0, 0));
  EXPECT_EQ(t.tcp_of(TcpState::kNone), Duration::seconds(2));
  EXPECT_EQ(t.tcp_of(TcpState::kEstablished), Duration::seconds(900));
  EXPECT_EQ(t.tcp_of(TcpState::kSynSent), Duration::seconds(120));
  EXPECT_EQ(t.tcp_of(TcpState::kSynRecv), Duration::seconds(60));
  EXPECT_EQ(t.tcp_of(TcpState::kFinWait), Duration::seconds(120));
  EXPECT_EQ(t.tcp_of(TcpState::kTimeWait), Duration::seconds(120));
  EXPECT_EQ(t.tcp_of(TcpState::kClose), Duration::seconds(10));
  EXPECT_EQ(t.tcp_of(TcpState::kCloseWait), Duration::seconds(60));
  EXPECT_EQ(t.tcp_of(TcpState::kLastAck), Duration::seconds(30));
  EXPECT_EQ(t.tcp_of(TcpState::kListen), Duration::seconds(120));
  EXPECT_EQ(t.tcp_of(TcpState::kSynAck), Duration::seconds(120));
  EXPECT_EQ(t.udp, Duration::seconds(300));
  EXPECT_EQ(t.udp.us, 300'000'000);  // microseconds
}

TEST(TcpStateTimeouts, TcpAlone) {
  expect_timeouts(make_timeouts(ipvsadm_set(1234, 0, 0)), {{TcpState::kEstablished, 1234}}, kDefaultUdp);
  // The same with the other two given as their defaults (as the config loader leaves them).
  expect_timeouts(make_timeouts(ipvsadm_set(1234, 120, 300)), {{TcpState::kEstablished, 1234}}, kDefaultUdp);
}

TEST(TcpStateTimeouts, TcpFinAlone) {
  expect_timeouts(make_timeouts(ipvsadm_set(0, 45, 0)), {{TcpState::kFinWait, 45}}, kDefaultUdp);
  expect_timeouts(make_timeouts(ipvsadm_set(900, 45, 300)), {{TcpState::kFinWait, 45}}, kDefaultUdp);
}

TEST(TcpStateTimeouts, UdpAlone) {
  expect_timeouts(make_timeouts(ipvsadm_set(0, 0, 7)), {}, 7);
  expect_timeouts(make_timeouts(ipvsadm_set(900, 120, 7)), {}, 7);
}

TEST(TcpStateTimeouts, AllThree) {
  expect_timeouts(make_timeouts(ipvsadm_set(3600, 30, 60)), {{TcpState::kEstablished, 3600}, {TcpState::kFinWait, 30}},
                  60);
}

TEST(TcpStateTimeouts, OneSecondAndLargeValues) {
  expect_timeouts(make_timeouts(ipvsadm_set(1, 1, 1)), {{TcpState::kEstablished, 1}, {TcpState::kFinWait, 1}}, 1);
  // INT_MAX / HZ with HZ=1000 is the kernel's upper limit.
  constexpr uint32_t kBig = 2147483;
  expect_timeouts(make_timeouts(ipvsadm_set(kBig, kBig, kBig)),
                  {{TcpState::kEstablished, kBig}, {TcpState::kFinWait, kBig}}, kBig);
}

TEST(TcpStateTimeouts, ZerosKeepDefaultsAlongsideOverrides) {
  expect_timeouts(make_timeouts(ipvsadm_set(0, 77, 88)), {{TcpState::kFinWait, 77}}, 88);
  expect_timeouts(make_timeouts(ipvsadm_set(66, 0, 88)), {{TcpState::kEstablished, 66}}, 88);
  expect_timeouts(make_timeouts(ipvsadm_set(66, 77, 0)), {{TcpState::kEstablished, 66}, {TcpState::kFinWait, 77}},
                  kDefaultUdp);
}

TEST(TcpStateTimeouts, FromParsedConfig) {
  // The loader replaces 0 by the default itself; make_timeouts must agree either way.
  test::ConfigText c;
  c.interface("lan", "02:00:00:00:00:01", {"192.168.1.1/24"});
  c.tcp_timeout(100).tcpfin_timeout(0).udp_timeout(50);
  expect_timeouts(make_timeouts(c.parse()->timeouts), {{TcpState::kEstablished, 100}}, 50);
}

// ---------------------------------------------------------------------------------------------
// Walk-throughs of ip_vs_proto_tcp.c's state tables.

struct Step {
  TcpDir dir;
  uint8_t flags;
  TcpState want;
  int64_t want_seconds;
  bool want_active;
  const char* what;
};

void walk(const std::vector<Step>& steps) {
  const Timeouts t = make_timeouts(config::Timeouts{});
  TcpState s = TcpState::kNone;
  for (const Step& step : steps) {
    SCOPED_TRACE(step.what);
    s = tcp_transition(s, step.dir, step.flags);
    EXPECT_EQ(s, step.want) << "got " << tcp_state_name(s);
    EXPECT_EQ(t.tcp_of(s), Duration::seconds(step.want_seconds));
    EXPECT_EQ(tcp_state_active(s), step.want_active);
  }
}

TEST(TcpStateWalkthrough, DirectRouting) {
  walk({
      {TcpDir::kInputOnly, SYN, TcpState::kSynRecv, 60, true, "SYN: NONE -> SYN_RECV"},
      {TcpDir::kInputOnly, ACK, TcpState::kEstablished, 900, true, "ACK: -> ESTABLISHED"},
      {TcpDir::kInputOnly, FIN | ACK, TcpState::kFinWait, 120, false, "client FIN: -> FIN_WAIT"},
      {TcpDir::kInputOnly, ACK, TcpState::kFinWait, 120, false, "ACK: FIN_WAIT stays"},
  });
  // A bare FIN (no ACK) behaves the same.
  walk({
      {TcpDir::kInputOnly, SYN, TcpState::kSynRecv, 60, true, "SYN"},
      {TcpDir::kInputOnly, ACK, TcpState::kEstablished, 900, true, "ACK"},
      {TcpDir::kInputOnly, FIN, TcpState::kFinWait, 120, false, "bare FIN"},
      {TcpDir::kInputOnly, ACK, TcpState::kFinWait, 120, false, "ACK"},
  });
}

TEST(TcpStateWalkthrough, Nat) {
  walk({
      {TcpDir::kInput, SYN, TcpState::kSynRecv, 60, true, "SYN in: NONE -> SYN_RECV"},
      {TcpDir::kOutput, SYN | ACK, TcpState::kSynRecv, 60, true, "SYN+ACK out: SYN_RECV stays"},
      {TcpDir::kInput, ACK, TcpState::kEstablished, 900, true, "ACK in: -> ESTABLISHED"},
      {TcpDir::kOutput, FIN | ACK, TcpState::kFinWait, 120, false, "server FIN out: -> FIN_WAIT"},
      {TcpDir::kInput, FIN | ACK, TcpState::kTimeWait, 120, false, "client FIN+ACK in: -> TIME_WAIT"},
      {TcpDir::kInput, ACK, TcpState::kTimeWait, 120, false, "ACK in: TIME_WAIT stays"},
  });
}

}  // namespace
}  // namespace vs::conn

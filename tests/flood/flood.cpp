// vsflood: a SYN flood replayed through the engine (docs/hardening.md, "SYN flood").
//
// N spoofed SYNs from random sources (default 1 000 000 at 100 000 per second) hit a DR service
// (port 80) and a NAT service (port 443) while L legitimate clients (default 1 000) use them: half
// of them connected before the flood, half connect during it; each sends data every 500 ms and
// closes after the flood. Real servers are simulated: a NAT real answers every SYN (spoofed ones
// too: the backscatter passes through the director) and every data segment; a DR real answers
// the client directly, so the client's ACK follows its SYN; hosts answer ARP.
//
// The frames are generated as the replay goes (nothing is stored), fed through the replay loop
// (replay::Replayer: timers fire between frames exactly as in `vsrouter replay`), and checked:
//   - every packet of every legitimate flow is forwarded, in both directions, and no legitimate
//     SYN is refused (with the defences on; --defense off shows what happens without them);
//   - memory stays bounded: the peak RSS (VmHWM) stops growing once the table is full, and the
//     growth over the baseline stays within what max_connections accounts for;
//   - the counters explain every drop: each frame's verdict is tallied per reason and must equal
//     the engine's drop counters; every connection ever made is in the table or was freed.
// With --pcap-dir DIR it also writes the frames it fed as DIR/in/<interface>.pcap, the config as
// DIR/vsrouter.toml and the final listing as DIR/expected-list.txt, so that `vsrouter replay`
// of the same input can be compared (tests/flood/replay_check.sh).
//
// Exit status 0 when every check passes, 1 otherwise (with the failed checks on stderr).
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <queue>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "ctl/list.hpp"
#include "engine.hpp"
#include "replay/pcap_io.hpp"
#include "replay/replay.hpp"
#include "test_config.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

using namespace vs;
namespace tf = vs::tcp_flag;

namespace {

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  uint64_t syns = 1000000;
  uint32_t flows = 1000;
  uint32_t max_connections = 65536;
  uint32_t rate = 100000;  // spoofed SYNs per second
  bool defense = true;
  std::string pcap_dir;
  bool verbose = false;
};

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--syns") o.syns = std::stoull(next());
    else if (a == "--flows") o.flows = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--max-connections") o.max_connections = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--rate") o.rate = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--defense") o.defense = next() != "off";
    else if (a == "--pcap-dir") o.pcap_dir = next();
    else if (a == "-v") o.verbose = true;
    else {
      std::fprintf(stderr,
                   "usage: vsflood [--syns N] [--flows N] [--max-connections N] [--rate SYNS_PER_S]\n"
                   "               [--defense on|off] [--pcap-dir DIR] [-v]\n");
      return false;
    }
  }
  return o.flows >= 2 && o.flows <= 60000 && o.rate > 0 && o.max_connections > 0;
}

// ---------------------------------------------------------------------------------------------
// The network around the director
//
//   wan (0) 02:00:00:00:00:01  203.0.113.1/24, default route via 203.0.113.254 (the Internet)
//   lan (1) 02:00:00:00:00:02  10.2.0.1/24 (DR reals .21-.24), 10.1.0.1/24 (NAT reals .11-.12)
//   VIP 203.0.113.100: tcp 80 -> DR reals, tcp 443 -> NAT reals port 8443
//   legitimate clients 198.18.0.0/16 (through the gateway); spoofed sources anywhere else.

constexpr uint32_t kWan = 0, kLan = 1;
const MacAddr kWanMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kLanMac{{0x02, 0, 0, 0, 0, 0x02}};
const MacAddr kGwMac{{0x02, 0xaa, 0, 0, 0, 0xfe}};
const Ipv4Addr kGw = Ipv4Addr::from_octets(203, 0, 113, 254);
const Ipv4Addr kVip = Ipv4Addr::from_octets(203, 0, 113, 100);
const Ipv4Addr kWanIp = Ipv4Addr::from_octets(203, 0, 113, 1);
const Ipv4Addr kLanDrIp = Ipv4Addr::from_octets(10, 2, 0, 1);
const Ipv4Addr kLanNatIp = Ipv4Addr::from_octets(10, 1, 0, 1);
constexpr uint16_t kDrPort = 80, kNatPort = 443, kNatRealPort = 8443;

struct Host {
  Ipv4Addr ip;
  MacAddr mac;
  bool nat;
};
const Host kReals[] = {
    {Ipv4Addr::from_octets(10, 2, 0, 21), MacAddr{{0x02, 0xbb, 0, 0, 0, 0x21}}, false},
    {Ipv4Addr::from_octets(10, 2, 0, 22), MacAddr{{0x02, 0xbb, 0, 0, 0, 0x22}}, false},
    {Ipv4Addr::from_octets(10, 2, 0, 23), MacAddr{{0x02, 0xbb, 0, 0, 0, 0x23}}, false},
    {Ipv4Addr::from_octets(10, 2, 0, 24), MacAddr{{0x02, 0xbb, 0, 0, 0, 0x24}}, false},
    {Ipv4Addr::from_octets(10, 1, 0, 11), MacAddr{{0x02, 0xbb, 0, 0, 0, 0x11}}, true},
    {Ipv4Addr::from_octets(10, 1, 0, 12), MacAddr{{0x02, 0xbb, 0, 0, 0, 0x12}}, true},
};

std::string config_text(const Options& o) {
  test::ConfigText c = test::edge();
  c.seed(20240601).max_connections(o.max_connections);
  if (!o.defense) c.drop_entry(false).secure_tcp("off");
  c.addresses("lan", {"10.2.0.1/24", "10.1.0.1/24"});
  c.route("0.0.0.0/0", "203.0.113.254");
  c.service("tcp", "203.0.113.100:80", "wlc");
  for (const Host& r : kReals)
    if (!r.nat) c.real(r.ip.str());
  c.service("tcp", "203.0.113.100:443", "wlc");
  for (const Host& r : kReals)
    if (r.nat) c.real(r.ip.str() + ":8443", "nat");
  return c.text();
}

bool is_legit(Ipv4Addr a) { return (a.v >> 16) == 0xc612; }  // 198.18.0.0/16
Ipv4Addr client_ip(uint32_t i) { return Ipv4Addr{0xc6120000u + ((i / 250) << 8) + (i % 250) + 1}; }
uint32_t client_index(Ipv4Addr a) { return ((a.v >> 8) & 0xff) * 250 + (a.v & 0xff) - 1; }

/// A spoofed source: any unicast address outside our subnets, 10/8 and the legitimate clients.
class Spoofer {
public:
  Ipv4Addr next() {
    for (;;) {
      s_ ^= s_ << 13;
      s_ ^= s_ >> 7;
      s_ ^= s_ << 17;
      uint32_t v = static_cast<uint32_t>(s_ >> 16);
      uint8_t top = static_cast<uint8_t>(v >> 24);
      if (top == 0 || top == 10 || top == 127 || top >= 224) continue;
      if ((v >> 8) == 0xcb0071 || (v >> 16) == 0xc612) continue;  // 203.0.113/24, 198.18/16
      if ((v & 0xff) == 0 || (v & 0xff) == 0xff) continue;        // keep clear of x.y.z.0/255
      return Ipv4Addr{v};
    }
  }
  uint16_t port() { return static_cast<uint16_t>(1024 + (s_ % 60000)); }

private:
  uint64_t s_ = 0x9e3779b97f4a7c15ull;
};

// ---------------------------------------------------------------------------------------------
// Frames

/// A frame in a fixed buffer: generating a million of them allocates nothing (so the peak RSS
/// measures the engine, even under ASan, whose quarantine keeps freed memory).
struct Frame {
  uint16_t len = 0;
  std::array<uint8_t, 256> b{};
  std::span<uint8_t> span() { return {b.data(), len}; }
  std::span<const uint8_t> span() const { return {b.data(), len}; }
};

Frame tcp_frame(const MacAddr& dst, const MacAddr& src, Ipv4Addr sip, Ipv4Addr dip, uint16_t sport, uint16_t dport,
                uint8_t flags, uint32_t seq, uint32_t ack, size_t payload) {
  Frame fr;
  fr.len = static_cast<uint16_t>(14 + 20 + 20 + payload);
  std::span<uint8_t> f = fr.span();
  wire::fill_ethernet(f, dst, src, wire::EtherType::kIpv4);
  std::span<uint8_t> tcp(f.data() + 34, 20 + payload);
  wire::store16(tcp, 0, sport);
  wire::store16(tcp, 2, dport);
  wire::store32(tcp, 4, seq);
  wire::store32(tcp, 8, ack);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  wire::store16(tcp, 14, 65535);
  for (size_t i = 0; i < payload; ++i) tcp[20 + i] = static_cast<uint8_t>('a' + i % 26);
  wire::TcpView<uint8_t>::unchecked(tcp).fill_checksum(sip, dip);
  wire::Ipv4View<uint8_t>::unchecked(f.subspan(14))
      .fill(0, static_cast<uint16_t>(40 + payload), static_cast<uint16_t>(seq), 0x4000, 64, IpProto::kTcp, sip, dip);
  return fr;
}

Frame arp_frame(wire::ArpOp op, const MacAddr& dst, const MacAddr& sha, Ipv4Addr spa, const MacAddr& tha,
                Ipv4Addr tpa) {
  Frame fr;
  fr.len = 42;
  wire::fill_ethernet(fr.span(), dst, sha, wire::EtherType::kArp);
  wire::ArpView<uint8_t>::unchecked(fr.span().subspan(14)).fill(op, sha, spa, tha, tpa);
  return fr;
}

// ---------------------------------------------------------------------------------------------
// Memory

struct Mem {
  uint64_t rss_kb = 0, hwm_kb = 0;
};
Mem memory() {
  Mem m;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) m.rss_kb = std::stoull(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) m.hwm_kb = std::stoull(line.substr(6));
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// The simulation

enum class Who : uint8_t { kOther, kSpoofed, kLegit };

struct Event {
  int64_t t;
  uint32_t iface;
  uint64_t seq;
  Who who;
  Frame frame;
  bool operator>(const Event& o) const {
    if (t != o.t) return t > o.t;
    if (iface != o.iface) return iface > o.iface;
    return seq > o.seq;
  }
};

struct Flow {
  uint16_t cport;
  bool nat;
  uint32_t seq = 1000, rseq = 5000;
  int64_t open_at = 0;
  bool established = false;  // the client has sent its ACK
  bool closed = false;
  uint32_t syn_tries = 0;
};

class Sim {
public:
  Sim(const Options& o, std::shared_ptr<const config::Config> cfg) : o_(o), cfg_(cfg) {
    replayer_ = std::make_unique<replay::Replayer>(
        cfg, [this](uint32_t iface, int64_t ts, std::span<const uint8_t> f) { on_sent(iface, ts, f); });
    flows_.resize(o.flows);
    for (uint32_t i = 0; i < o.flows; ++i) {
      flows_[i].cport = static_cast<uint16_t>(30000 + i % 30000);
      flows_[i].nat = i % 2 == 1;
    }
  }

  void open_pcaps(const std::string& dir) {
    std::filesystem::create_directories(dir + "/in");
    for (const auto& i : cfg_->interfaces) {
      auto w = replay::PcapWriter::open(dir + "/in/" + i.name + ".pcap");
      if (!w) throw std::runtime_error(w.error().message);
      writers_.push_back(std::move(w.value()));
    }
  }

  int run();

private:
  static constexpr int64_t kT0 = 1'700'000'000'000'000;  // virtual clock, microseconds
  static constexpr int64_t kRtt = 5'000;                 // client <-> director round trip
  static constexpr int64_t kRealDelay = 100;             // a real's answer
  static constexpr int64_t kDataEvery = 500'000;

  void push(int64_t t, uint32_t iface, Who who, const Frame& f) { q_.push({t, iface, seq_++, who, f}); }
  void feed(uint32_t iface, int64_t t, Who who, const Frame& f);
  void on_sent(uint32_t iface, int64_t ts, std::span<const uint8_t> f);
  void client_send(uint32_t i, int64_t t, uint8_t flags, size_t payload);
  void real_send(uint32_t i, int64_t t, uint8_t flags, size_t payload, const Host& real);
  const Host* real_by_ip(Ipv4Addr a) const {
    for (const Host& h : kReals)
      if (h.ip == a) return &h;
    return nullptr;
  }
  const Host* real_by_mac(const MacAddr& m) const {
    for (const Host& h : kReals)
      if (h.mac == m) return &h;
    return nullptr;
  }
  bool check(bool ok, const std::string& what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) {
      std::fprintf(stderr, "FAIL %s\n", what.c_str());
      failures_++;
    }
    return ok;
  }

  Options o_;
  std::shared_ptr<const config::Config> cfg_;
  std::unique_ptr<replay::Replayer> replayer_;
  std::vector<std::unique_ptr<replay::PcapWriter>> writers_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> q_;
  uint64_t seq_ = 0;
  std::vector<Flow> flows_;
  Spoofer spoof_;
  int64_t flood_start_ = 0, flood_end_ = 0;

  // Tallies.
  uint64_t fed_[3] = {0, 0, 0};     // by Who
  uint64_t legit_fed_packets_ = 0;  // legitimate TCP segments fed (both directions)
  uint64_t legit_forwarded_ = 0;    // ... and seen leaving the director
  uint64_t legit_refused_syns_ = 0;
  uint64_t legit_dropped_ = 0;
  uint64_t early_flows_dropped_ = 0;  // segments of the flows connected before the flood
  uint64_t spoofed_forwarded_ = 0, spoofed_dropped_ = 0;
  std::array<uint64_t, kDropReasonCount> spoofed_drops_{};
  uint64_t icmp_to_legit_ = 0;
  std::array<uint64_t, kDropReasonCount> verdict_drops_{};
  double legit_ns_before_ = 0, legit_ns_during_ = 0;
  uint64_t legit_n_before_ = 0, legit_n_during_ = 0;
  int failures_ = 0;
};

void Sim::feed(uint32_t iface, int64_t t, Who who, const Frame& fr) {
  const std::span<const uint8_t> f = fr.span();
  if (!writers_.empty()) writers_[iface]->write(t, f.data(), f.size());
  const bool timed = who == Who::kLegit;
  auto t0 = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  Verdict v = replayer_->feed(iface, t, f);
  if (timed) {
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    if (t < flood_start_ || t > flood_end_) {
      legit_ns_before_ += ns;
      legit_n_before_++;
    } else {
      legit_ns_during_ += ns;
      legit_n_during_++;
    }
  }
  fed_[static_cast<int>(who)]++;
  if (v.kind == Verdict::Kind::kDropped) verdict_drops_[static_cast<size_t>(v.reason)]++;
  if (who == Who::kSpoofed) {
    (v.kind == Verdict::Kind::kDropped ? spoofed_dropped_ : spoofed_forwarded_)++;
    if (v.kind == Verdict::Kind::kDropped) spoofed_drops_[static_cast<size_t>(v.reason)]++;
  }
  if (who == Who::kLegit) {
    legit_fed_packets_++;
    if (v.kind == Verdict::Kind::kDropped) {
      legit_dropped_++;
      auto lip = wire::Ipv4View<const uint8_t>::unchecked(f.subspan(14));
      Ipv4Addr client = is_legit(lip.src()) ? lip.src() : lip.dst();
      if (client_index(client) < o_.flows / 2) early_flows_dropped_++;
      // A refused SYN: the client retries 1 s later (at most three times).
      auto ip = wire::Ipv4View<const uint8_t>::unchecked(f.subspan(14));
      auto tcp = wire::TcpView<const uint8_t>::unchecked(ip.payload());
      if ((tcp.flags() & tf::kSyn) && !(tcp.flags() & tf::kAck) && is_legit(ip.src())) {
        legit_refused_syns_++;
        Flow& fl = flows_[client_index(ip.src())];
        if (++fl.syn_tries < 3) push(t + 1'000'000, kWan, Who::kLegit, fr);
      }
    }
  }
}

void Sim::client_send(uint32_t i, int64_t t, uint8_t flags, size_t payload) {
  Flow& fl = flows_[i];
  Frame f = tcp_frame(kWanMac, kGwMac, client_ip(i), kVip, fl.cport, fl.nat ? kNatPort : kDrPort, flags, fl.seq,
                      fl.rseq, payload);
  fl.seq += static_cast<uint32_t>(payload) + ((flags & (tf::kSyn | tf::kFin)) ? 1 : 0);
  push(t, kWan, Who::kLegit, f);
}

void Sim::real_send(uint32_t i, int64_t t, uint8_t flags, size_t payload, const Host& real) {
  Flow& fl = flows_[i];
  Frame f =
      tcp_frame(kLanMac, real.mac, real.ip, client_ip(i), kNatRealPort, fl.cport, flags, fl.rseq, fl.seq, payload);
  fl.rseq += static_cast<uint32_t>(payload) + ((flags & (tf::kSyn | tf::kFin)) ? 1 : 0);
  push(t, kLan, Who::kLegit, f);
}

void Sim::on_sent(uint32_t iface, int64_t ts, std::span<const uint8_t> f) {
  auto eth = wire::EthernetView<const uint8_t>::unchecked(f);
  if (eth.ethertype() == 0x0806) {
    // Hosts answer the director's ARP requests.
    auto arp = wire::ArpView<const uint8_t>::unchecked(f.subspan(14));
    if (arp.oper() != 1) return;
    Ipv4Addr target = arp.tpa();
    if (iface == kWan && target == kGw)
      push(ts + 50, kWan, Who::kOther, arp_frame(wire::ArpOp::kReply, kWanMac, kGwMac, kGw, kWanMac, arp.spa()));
    if (const Host* h = iface == kLan ? real_by_ip(target) : nullptr)
      push(ts + 50, kLan, Who::kOther, arp_frame(wire::ArpOp::kReply, kLanMac, h->mac, h->ip, kLanMac, arp.spa()));
    return;
  }
  auto ip = wire::Ipv4View<const uint8_t>::parse(f.subspan(14));
  if (!ip) return;
  if (ip->protocol() == IpProto::kIcmp) {
    if (is_legit(ip->dst())) icmp_to_legit_++;
    return;
  }
  if (ip->protocol() != IpProto::kTcp) return;
  auto tcp = wire::TcpView<const uint8_t>::unchecked(ip->payload());
  const uint8_t flags = tcp.flags();
  if (iface == kLan) {
    // Client -> real, forwarded by the director (DR keeps the VIP as destination: the MAC says).
    const Host* real = real_by_mac(eth.dst());
    if (!real) return;
    const bool legit = is_legit(ip->src());
    if (legit) legit_forwarded_++;
    const uint32_t i = legit ? client_index(ip->src()) : 0;
    if (real->nat) {
      if (!legit) {
        // The real answers the spoofed SYN; its SYN-ACK goes back through us to the spoofed source.
        if ((flags & tf::kSyn) && !(flags & tf::kAck))
          push(ts + kRealDelay, kLan, Who::kOther,
               tcp_frame(kLanMac, real->mac, real->ip, ip->src(), kNatRealPort, tcp.sport(), tf::kSyn | tf::kAck, 1,
                         tcp.seq() + 1, 0));
        return;
      }
      if ((flags & tf::kSyn) && !(flags & tf::kAck)) real_send(i, ts + kRealDelay, tf::kSyn | tf::kAck, 0, *real);
      else if (flags & tf::kFin) real_send(i, ts + kRealDelay, tf::kFin | tf::kAck, 0, *real);
      else if (ip->payload().size() > tcp.header_len()) real_send(i, ts + kRealDelay, tf::kAck | tf::kPsh, 100, *real);
    } else if (legit) {
      // DR: the real answers the client directly; the client's ACK follows.
      Flow& fl = flows_[i];
      if ((flags & tf::kSyn) && !(flags & tf::kAck) && !fl.established) {
        fl.established = true;
        client_send(i, ts + kRtt, tf::kAck, 0);
      }
    }
    return;
  }
  // Real -> client (NAT replies), forwarded by the director toward the gateway.
  if (!is_legit(ip->dst())) return;
  legit_forwarded_++;
  const uint32_t i = client_index(ip->dst());
  Flow& fl = flows_[i];
  if ((flags & tf::kSyn) && (flags & tf::kAck) && !fl.established) {
    fl.established = true;
    client_send(i, ts + kRtt, tf::kAck, 0);
  } else if ((flags & tf::kFin) && !fl.closed) {
    fl.closed = true;
    client_send(i, ts + kRtt, tf::kAck, 0);
  }
}

int Sim::run() {
  const int64_t flood_gap = 1'000'000 / o_.rate;  // microseconds between spoofed SYNs
  const int64_t flood_len = static_cast<int64_t>(o_.syns) * 1'000'000 / o_.rate;
  flood_start_ = kT0 + 2'000'000;
  flood_end_ = flood_start_ + flood_len;
  const int64_t close_at = flood_end_ + 500'000;

  // The neighbours introduce themselves (they ask for the director's addresses).
  push(kT0, kWan, Who::kOther, arp_frame(wire::ArpOp::kRequest, MacAddr::broadcast(), kGwMac, kGw, MacAddr{}, kWanIp));
  for (const Host& h : kReals)
    push(kT0, kLan, Who::kOther,
         arp_frame(wire::ArpOp::kRequest, MacAddr::broadcast(), h.mac, h.ip, MacAddr{}, h.nat ? kLanNatIp : kLanDrIp));
  // Half the clients connect before the flood, half during it; all send data every 500 ms until
  // the flood is over, then close.
  for (uint32_t i = 0; i < o_.flows; ++i) {
    Flow& fl = flows_[i];
    fl.open_at = i < o_.flows / 2 ? kT0 + 100'000 + int64_t{i} * 1'000
                                  : flood_start_ + (int64_t{i} - o_.flows / 2) * flood_len / (o_.flows - o_.flows / 2);
    client_send(i, fl.open_at, tf::kSyn, 0);
  }

  const Mem base = memory();
  Mem full{}, half{};  // when the table first holds 90 % of max_connections; half-way
  bool full_seen = false;
  uint64_t next_syn = 0;
  int64_t last_t = kT0;
  int64_t next_data = kT0 + kDataEvery;
  bool closed = false;
  for (;;) {
    const int64_t syn_t = next_syn < o_.syns ? flood_start_ + static_cast<int64_t>(next_syn) * flood_gap : INT64_MAX;
    // The clients' periodic data and their close are scheduled tick by tick (bounded queue).
    const int64_t tick_t = !closed ? std::min(next_data, close_at) : INT64_MAX;
    const int64_t q_t = q_.empty() ? INT64_MAX : q_.top().t;
    if (tick_t <= syn_t && tick_t <= q_t && tick_t != INT64_MAX) {
      if (next_data <= close_at) {
        for (uint32_t i = 0; i < o_.flows; ++i)
          if (flows_[i].established && next_data > flows_[i].open_at + kRtt)
            client_send(i, next_data, tf::kAck | tf::kPsh, 200);
        next_data += kDataEvery;
      } else {
        for (uint32_t i = 0; i < o_.flows; ++i) client_send(i, close_at, tf::kFin | tf::kAck, 0);
        closed = true;
      }
      continue;
    }
    if (syn_t == INT64_MAX && q_t == INT64_MAX) break;
    if (syn_t <= q_t) {  // on a tie the spoofed SYN (wan, interface 0) goes first, as in a replay
      Ipv4Addr src = spoof_.next();
      const bool nat = next_syn % 2 == 1;
      Frame f = tcp_frame(kWanMac, kGwMac, src, kVip, spoof_.port(), nat ? kNatPort : kDrPort, tf::kSyn,
                          static_cast<uint32_t>(next_syn), 0, 0);
      feed(kWan, syn_t, Who::kSpoofed, f);
      last_t = syn_t;
      ++next_syn;
      if (!full_seen && next_syn % 1024 == 0 &&
          uint64_t{replayer_->engine().director().conns().size()} * 10 >= uint64_t{o_.max_connections} * 9) {
        full = memory();
        full_seen = true;
      }
      if (next_syn == o_.syns / 2) half = memory();
      continue;
    }
    const Event e = q_.top();
    q_.pop();
    feed(e.iface, e.t, e.who, e.frame);
    last_t = e.t;
  }
  replayer_->finish(last_t);
  const Mem end = memory();
  if (!full_seen) full = end;

  Engine& eng = replayer_->engine();
  const auto& dir = eng.director();
  for (auto& w : writers_) {
    std::string err;
    w->close(err);
  }

  // --- the checks ---------------------------------------------------------------------------
  std::printf("vsflood: %" PRIu64 " spoofed SYNs at %u/s, %u legitimate flows, max_connections %u, defenses %s\n",
              o_.syns, o_.rate, o_.flows, o_.max_connections, o_.defense ? "on" : "off");
  std::printf("  frames fed: %" PRIu64 " spoofed, %" PRIu64 " legitimate, %" PRIu64 " other (ARP, backscatter)\n",
              fed_[1], fed_[2], fed_[0]);
  std::printf("  legitimate segments: %" PRIu64 " fed, %" PRIu64 " forwarded, %" PRIu64 " dropped, %" PRIu64
              " refused SYNs\n",
              legit_fed_packets_, legit_forwarded_, legit_dropped_, legit_refused_syns_);
  std::printf("  spoofed SYNs: %" PRIu64 " forwarded, %" PRIu64 " dropped\n", spoofed_forwarded_, spoofed_dropped_);
  std::printf(
      "  connections: %" PRIu64 " made, %u in the table, %" PRIu64 " freed; longest probe %u buckets, %u nodes\n",
      dir.total().conns, dir.conns().size(), dir.conns_freed(), dir.conns().max_probe(), dir.conns().max_chain());
  const DropCounters& dd = dir.drops();
  const bool shared = &dd == &eng.drops();
  std::printf("  defenses: %" PRIu64 " half-open entries evicted (drop_entry), %" PRIu64
              " expired early (secure_tcp)\n",
              dd[DropReason::kConnEvictedHalfOpen], dd[DropReason::kConnExpiredHalfOpen]);
  std::printf("  memory: VmHWM %" PRIu64 " KiB before the flood, %" PRIu64 " when the table was 90 %% full, %" PRIu64
              " half-way, %" PRIu64 " at the end (VmRSS %" PRIu64 " KiB)\n",
              base.hwm_kb, full.hwm_kb, half.hwm_kb, end.hwm_kb, end.rss_kb);
  std::printf("  time per legitimate frame: %.0f ns before/after the flood, %.0f ns during it\n",
              legit_n_before_ ? legit_ns_before_ / legit_n_before_ : 0.0,
              legit_n_during_ ? legit_ns_during_ / legit_n_during_ : 0.0);
  std::fputs(ctl::list_counters(eng).c_str(), stdout);
  std::printf("\n");

  if (o_.defense) {
    check(legit_forwarded_ == legit_fed_packets_, "every legitimate segment (both directions) was forwarded");
    check(legit_dropped_ == 0 && legit_refused_syns_ == 0, "no legitimate segment dropped, no legitimate SYN refused");
    check(icmp_to_legit_ == 0, "no ICMP error to a legitimate client");
    uint32_t done = 0;
    for (const Flow& f : flows_) done += f.established;
    check(done == o_.flows, "every legitimate flow completed its handshake");
  } else {
    check(legit_refused_syns_ > 0, "without the defenses legitimate SYNs are refused (conn_table_full)");
  }
  check(early_flows_dropped_ == 0, "no segment of a flow connected before the flood was dropped");
  // Memory: once the table is (nearly) full the peak must not move (nothing on the data path
  // allocates), and the growth over the baseline is the table's.
  const uint64_t table_kb = (uint64_t{o_.max_connections} * (sizeof(conn::Conn) + sizeof(conn::ConnAux) + 4) +
                             dir.conns().buckets() * 64ull) /
                            1024;
  check(end.hwm_kb <= full.hwm_kb + 2048,
        "peak RSS flat once the table is 90 % full (+" + std::to_string(end.hwm_kb - full.hwm_kb) + " KiB after)");
  check(end.hwm_kb - base.hwm_kb <= 2 * table_kb + 32 * 1024,
        "peak RSS growth " + std::to_string((end.hwm_kb - base.hwm_kb) / 1024) + " MiB within 2 x the table (" +
            std::to_string(table_kb / 1024) + " MiB) + 32 MiB");
  check(dir.conns().size() <= o_.max_connections, "the table never exceeds max_connections");
  // Every drop is explained: the verdicts' reasons equal the engine's counters.
  bool same = true;
  for (size_t r = 0; r < kDropReasonCount; ++r) {
    uint64_t engine_n = eng.drops().n[r];
    if (shared && (r == static_cast<size_t>(DropReason::kConnEvictedHalfOpen) ||
                   r == static_cast<size_t>(DropReason::kConnExpiredHalfOpen)))
      continue;  // entries, not frames
    if (engine_n != verdict_drops_[r]) {
      std::fprintf(stderr, "  %s: engine %" PRIu64 ", verdicts %" PRIu64 "\n", kDropReasons[r].name.data(), engine_n,
                   verdict_drops_[r]);
      same = false;
    }
  }
  check(same, "the engine's drop counters equal the dropped verdicts, reason by reason");
  check(spoofed_forwarded_ + spoofed_dropped_ == o_.syns, "every spoofed SYN was forwarded or dropped");
  check(spoofed_dropped_ == spoofed_drops_[static_cast<size_t>(DropReason::kConnTableFull)],
        "spoofed SYNs are dropped only as conn_table_full (" + std::to_string(spoofed_dropped_) + ")");
  check(dir.total().conns == dir.conns().size() + dir.conns_freed(),
        "every connection made is in the table or was freed (Conns = in table + freed)");
  check(dd[DropReason::kConnEvictedHalfOpen] + dd[DropReason::kConnExpiredHalfOpen] <= dir.conns_freed(),
        "evicted and early-expired entries are among the freed ones");
  check(dir.conns().max_probe() <= 8, "lookups read few buckets under random sources (keyed hash)");

  if (!o_.pcap_dir.empty()) {
    std::ofstream(o_.pcap_dir + "/vsrouter.toml") << config_text(o_);
    std::ofstream(o_.pcap_dir + "/expected-list.txt") << ctl::list_services_stats(eng) << ctl::list_counters(eng);
  }
  return failures_ == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, o)) return 2;
  auto cfg = config::parse_config(config_text(o));
  if (!cfg) {
    std::fprintf(stderr, "config: %s\n", cfg.error().format("vsflood").c_str());
    return 2;
  }
  Sim sim(o, cfg.value());
  if (!o.pcap_dir.empty()) sim.open_pcaps(o.pcap_dir);
  const auto t0 = std::chrono::steady_clock::now();
  int rc = sim.run();
  std::printf("  wall time %.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return rc;
}

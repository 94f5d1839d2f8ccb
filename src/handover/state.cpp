#include "handover/state.hpp"

#include <cstring>

namespace vs::handover {
namespace {

constexpr uint8_t kMagic[4] = {'V', 'S', 'H', 'O'};
constexpr size_t kHeader = 4 + 4 + 8;
constexpr size_t kMaxString = 255;  // interface and instance names, the writer's identity

enum Tag : uint32_t {
  kTagClock = 1,
  kTagConns = 2,
  kTagNeigh = 3,
  kTagStats = 4,
  kTagChecks = 5,
  kTagVrrp = 6,
  kTagDrops = 7,
  kTagSched = 8,
};

constexpr uint64_t fnv1a(std::span<const uint8_t> b) noexcept {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t c : b) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

class Writer {
public:
  std::vector<uint8_t> out;
  void u8(uint8_t v) { out.push_back(v); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void i64(int64_t v) { put(static_cast<uint64_t>(v), 8); }
  void addr(Ipv4Addr a) { u32(a.v); }
  void str(const std::string& s) {
    const size_t n = s.size() < kMaxString ? s.size() : kMaxString;
    u8(static_cast<uint8_t>(n));
    out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
  }
  /// A section: its header now, its byte length patched by end().
  size_t begin(Tag t, size_t count) {
    u32(t);
    u32(static_cast<uint32_t>(count));
    const size_t at = out.size();
    u64(0);
    return at;
  }
  void end(size_t at) {
    const uint64_t n = out.size() - at - 8;
    for (int i = 0; i < 8; ++i) out[at + static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  }

private:
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
};

class Reader {
public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  bool ok() const noexcept { return ok_; }
  size_t left() const noexcept { return b_.size() - pos_; }
  uint8_t u8() { return static_cast<uint8_t>(get(1)); }
  uint16_t u16() { return static_cast<uint16_t>(get(2)); }
  uint32_t u32() { return static_cast<uint32_t>(get(4)); }
  uint64_t u64() { return get(8); }
  int64_t i64() { return static_cast<int64_t>(get(8)); }
  Ipv4Addr addr() { return Ipv4Addr{u32()}; }
  bool flag() {
    const uint8_t v = u8();
    if (v > 1) ok_ = false;
    return v == 1;
  }
  std::string str() {
    const size_t n = u8();
    if (n > left()) {
      ok_ = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  void skip(size_t n) {
    if (n > left()) ok_ = false;
    else pos_ += n;
  }
  void fail() noexcept { ok_ = false; }

private:
  uint64_t get(int n) {
    if (static_cast<size_t>(n) > left()) {
      ok_ = false;
      pos_ = b_.size();
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t{b_[pos_ + static_cast<size_t>(i)]} << (8 * i);
    pos_ += static_cast<size_t>(n);
    return v;
  }
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// The smallest record of each section: a count that could not fit in its section's bytes is
// refused before anything is reserved for it.
constexpr size_t kConnMin = 3 * 1 + 1 + 2 + 3 * 4 + 3 * 2 + 3 * 8 + 3 * 4 + 1;
constexpr size_t kNeighMin = 1 + 4 + 6 + 8;
constexpr size_t kStatsMin = 1 + 4 + 2 + 1 + 4 + 2 + 5 * 8;
constexpr size_t kCheckMin = 1 + 4 + 2 + 4 + 2 + 4 + 1 + 1 + 1 + 4 + 4 + 8 + 8 + 8;
constexpr size_t kVrrpMin = 1 + 1;
constexpr size_t kDropMin = 1 + 8;
constexpr size_t kSchedMin = 1 + 4 + 2 + 1 + 4;
constexpr uint32_t kMaxSchedValues = 64;

}  // namespace

std::vector<uint8_t> encode(const State& s) {
  Writer w;
  w.out.reserve(kHeader + 64 + s.conns.size() * 64 + s.neigh.size() * 32 + s.stats.size() * 60);
  w.out.insert(w.out.end(), std::begin(kMagic), std::end(kMagic));
  w.u32(kVersion);
  w.u64(0);  // payload length, patched below

  size_t at = w.begin(kTagClock, 1);
  w.i64(s.now_us);
  w.u64(s.monotonic_ns);
  w.str(s.writer);
  for (uint64_t t : s.total) w.u64(t);
  w.end(at);

  at = w.begin(kTagConns, s.conns.size());
  for (const ConnRec& c : s.conns) {
    w.u8(c.proto);
    w.u8(c.method);
    w.u8(c.state);
    w.u8(c.old_state);
    w.u16(c.flags);
    w.addr(c.caddr);
    w.addr(c.vaddr);
    w.addr(c.daddr);
    w.u16(c.cport);
    w.u16(c.vport);
    w.u16(c.dport);
    w.i64(c.expires_us);
    w.i64(c.timeout_us);
    w.i64(c.ho_since_us);
    w.u32(c.control);
    w.u32(c.in_pkts);
    w.u32(c.sync_end_s);
    w.u8(c.sync_retries);
  }
  w.end(at);

  at = w.begin(kTagNeigh, s.neigh.size());
  for (const NeighRec& n : s.neigh) {
    w.str(n.iface);
    w.addr(n.ip);
    for (uint8_t b : n.mac.b) w.u8(b);
    w.i64(n.expires_us);
  }
  w.end(at);

  at = w.begin(kTagStats, s.stats.size());
  for (const StatsRec& r : s.stats) {
    w.u8(r.proto);
    w.addr(r.vip);
    w.u16(r.vport);
    w.u8(r.real ? 1 : 0);
    w.addr(r.addr);
    w.u16(r.port);
    for (uint64_t v : {r.conns, r.inpkts, r.outpkts, r.inbytes, r.outbytes}) w.u64(v);
  }
  w.end(at);

  at = w.begin(kTagChecks, s.checks.size());
  for (const CheckRec& k : s.checks) {
    w.u8(k.proto);
    w.addr(k.vip);
    w.u16(k.vport);
    w.addr(k.raddr);
    w.u16(k.rport);
    w.u32(k.position);
    w.u8(k.type);
    w.u8(k.up ? 1 : 0);
    w.u8(k.succeeded_once ? 1 : 0);
    w.u32(k.ok_run);
    w.u32(k.fail_run);
    w.u64(k.transitions);
    w.u64(k.probes);
    w.i64(k.next_check_us);
  }
  w.end(at);

  at = w.begin(kTagVrrp, s.vrrp.size());
  for (const VrrpRec& v : s.vrrp) {
    w.str(v.name);
    w.u8(v.state);
  }
  w.end(at);

  at = w.begin(kTagDrops, s.drops.size());
  for (const auto& [name, n] : s.drops) {
    w.str(name);
    w.u64(n);
  }
  w.end(at);

  at = w.begin(kTagSched, s.sched.size());
  for (const SchedRec& r : s.sched) {
    w.u8(r.proto);
    w.addr(r.vip);
    w.u16(r.vport);
    w.str(r.scheduler);
    w.u32(static_cast<uint32_t>(r.values.size()));
    for (int64_t v : r.values) w.i64(v);
  }
  w.end(at);

  const uint64_t payload = w.out.size() - kHeader;
  for (int i = 0; i < 8; ++i) w.out[8 + static_cast<size_t>(i)] = static_cast<uint8_t>(payload >> (8 * i));
  w.u64(fnv1a(w.out));
  return std::move(w.out);
}

std::vector<uint8_t> seal(std::span<const uint8_t> payload) {
  Writer w;
  w.out.insert(w.out.end(), std::begin(kMagic), std::end(kMagic));
  w.u32(kVersion);
  w.u64(payload.size());
  w.out.insert(w.out.end(), payload.begin(), payload.end());
  w.u64(fnv1a(w.out));
  return std::move(w.out);
}

uint32_t peek_version(std::span<const uint8_t> b) noexcept {
  if (b.size() < 8 || std::memcmp(b.data(), kMagic, 4) != 0) return 0;
  return uint32_t{b[4]} | uint32_t{b[5]} << 8 | uint32_t{b[6]} << 16 | uint32_t{b[7]} << 24;
}

Result<State> decode(std::span<const uint8_t> b) {
  if (b.size() < kHeader + 8 || std::memcmp(b.data(), kMagic, 4) != 0) return Error{"not a vsrouter handover stream"};
  Reader h(b.subspan(4, kHeader - 4));
  const uint32_t version = h.u32();
  const uint64_t payload = h.u64();
  if (version != kVersion)
    return Error{"handover format version " + std::to_string(version) + ", this build reads version " +
                 std::to_string(kVersion)};
  if (payload != b.size() - kHeader - 8) return Error{"handover stream truncated or too long"};
  Reader sum(b.subspan(b.size() - 8));
  if (sum.u64() != fnv1a(b.first(b.size() - 8))) return Error{"handover stream corrupt (checksum)"};

  State s;
  bool seen_clock = false;
  Reader r(b.subspan(kHeader, payload));
  while (r.ok() && r.left() > 0) {
    const uint32_t tag = r.u32();
    const uint32_t count = r.u32();
    const uint64_t len = r.u64();
    if (!r.ok() || len > r.left()) return Error{"handover stream: a section overruns the stream"};
    const size_t end_left = r.left() - static_cast<size_t>(len);
    auto fits = [&](size_t min) { return uint64_t{count} * min <= len; };
    switch (tag) {
      case kTagClock:
        seen_clock = true;
        s.now_us = r.i64();
        s.monotonic_ns = r.u64();
        s.writer = r.str();
        for (uint64_t& t : s.total) t = r.u64();
        break;
      case kTagConns:
        if (!fits(kConnMin)) return Error{"handover stream: connection count beyond its section"};
        s.conns.resize(count);
        for (ConnRec& c : s.conns) {
          c.proto = r.u8();
          c.method = r.u8();
          c.state = r.u8();
          c.old_state = r.u8();
          c.flags = r.u16();
          c.caddr = r.addr();
          c.vaddr = r.addr();
          c.daddr = r.addr();
          c.cport = r.u16();
          c.vport = r.u16();
          c.dport = r.u16();
          c.expires_us = r.i64();
          c.timeout_us = r.i64();
          c.ho_since_us = r.i64();
          c.control = r.u32();
          c.in_pkts = r.u32();
          c.sync_end_s = r.u32();
          c.sync_retries = r.u8();
        }
        break;
      case kTagNeigh:
        if (!fits(kNeighMin)) return Error{"handover stream: neighbour count beyond its section"};
        s.neigh.resize(count);
        for (NeighRec& n : s.neigh) {
          n.iface = r.str();
          n.ip = r.addr();
          for (uint8_t& x : n.mac.b) x = r.u8();
          n.expires_us = r.i64();
        }
        break;
      case kTagStats:
        if (!fits(kStatsMin)) return Error{"handover stream: counter count beyond its section"};
        s.stats.resize(count);
        for (StatsRec& x : s.stats) {
          x.proto = r.u8();
          x.vip = r.addr();
          x.vport = r.u16();
          x.real = r.flag();
          x.addr = r.addr();
          x.port = r.u16();
          for (uint64_t* v : {&x.conns, &x.inpkts, &x.outpkts, &x.inbytes, &x.outbytes}) *v = r.u64();
        }
        break;
      case kTagChecks:
        if (!fits(kCheckMin)) return Error{"handover stream: checker count beyond its section"};
        s.checks.resize(count);
        for (CheckRec& k : s.checks) {
          k.proto = r.u8();
          k.vip = r.addr();
          k.vport = r.u16();
          k.raddr = r.addr();
          k.rport = r.u16();
          k.position = r.u32();
          k.type = r.u8();
          k.up = r.flag();
          k.succeeded_once = r.flag();
          k.ok_run = r.u32();
          k.fail_run = r.u32();
          k.transitions = r.u64();
          k.probes = r.u64();
          k.next_check_us = r.i64();
        }
        break;
      case kTagVrrp:
        if (!fits(kVrrpMin)) return Error{"handover stream: instance count beyond its section"};
        s.vrrp.resize(count);
        for (VrrpRec& v : s.vrrp) {
          v.name = r.str();
          v.state = r.u8();
        }
        break;
      case kTagDrops:
        if (!fits(kDropMin)) return Error{"handover stream: drop count beyond its section"};
        s.drops.resize(count);
        for (auto& [name, n] : s.drops) {
          name = r.str();
          n = r.u64();
        }
        break;
      case kTagSched:
        if (!fits(kSchedMin)) return Error{"handover stream: scheduler count beyond its section"};
        s.sched.resize(count);
        for (SchedRec& x : s.sched) {
          x.proto = r.u8();
          x.vip = r.addr();
          x.vport = r.u16();
          x.scheduler = r.str();
          const uint32_t n = r.u32();
          if (n > kMaxSchedValues || uint64_t{n} * 8 > r.left()) return Error{"handover stream: bad scheduler state"};
          x.values.resize(n);
          for (int64_t& v : x.values) v = r.i64();
        }
        break;
      default:
        r.skip(static_cast<size_t>(len));  // a section of a newer writer
        continue;
    }
    if (!r.ok() || r.left() != end_left) return Error{"handover stream: a section's length does not match its records"};
  }
  if (!r.ok()) return Error{"handover stream truncated"};
  if (!seen_clock) return Error{"handover stream: no clock section"};
  // Times are microseconds of the engine clock: anything past +-2^62 (146 000 years) is not a
  // time, and arithmetic on it could overflow. A timeout is positive and at most ~31 years.
  constexpr int64_t kMaxTime = int64_t{1} << 62, kMaxTimeout = int64_t{1'000'000'000'000'000};
  auto time_ok = [](int64_t t) { return t > -kMaxTime && t < kMaxTime; };
  bool times = time_ok(s.now_us);
  for (const ConnRec& c : s.conns)
    times = times && time_ok(c.expires_us) && time_ok(c.ho_since_us) && c.timeout_us > 0 && c.timeout_us <= kMaxTimeout;
  for (const NeighRec& n : s.neigh) times = times && time_ok(n.expires_us);
  for (const CheckRec& k : s.checks) times = times && time_ok(k.next_check_us);
  if (!times) return Error{"handover stream: a time out of range"};
  // Templates come first and a connection's control names one of them.
  for (size_t i = 0; i < s.conns.size(); ++i) {
    const uint32_t ctl = s.conns[i].control;
    if (ctl != UINT32_MAX && (ctl >= i || !(s.conns[ctl].flags & ConnRec::kTemplate)))
      return Error{"handover stream: a connection's template is not an earlier template"};
  }
  return s;
}

}  // namespace vs::handover

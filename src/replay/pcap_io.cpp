#include "replay/pcap_io.hpp"

#include <pcap/pcap.h>

#include <sys/stat.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

namespace vs::replay {

namespace {

Result<std::vector<PcapRecord>> read_pcapng(std::span<const uint8_t> bytes);  // below
bool is_pcapng(std::span<const uint8_t> b);

/// Every record of an opened capture; closes it.
Result<std::vector<PcapRecord>> read_all(pcap_t* p) {
  std::unique_ptr<pcap_t, decltype(&pcap_close)> guard(p, &pcap_close);
  int dlt = pcap_datalink(p);
  if (dlt != DLT_EN10MB) {
    const char* name = pcap_datalink_val_to_name(dlt);
    return Error{"not an Ethernet pcap: link type " + std::to_string(dlt) + " (" + (name ? name : "unknown") +
                 "); vsrouter replays Ethernet (DLT_EN10MB) captures only"};
  }
  std::vector<PcapRecord> out;
  for (;;) {
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    int rc = pcap_next_ex(p, &h, &data);
    if (rc == 1) {
      int64_t ts = int64_t{h->ts.tv_sec} * 1000000 + h->ts.tv_usec;
      out.push_back({ts, std::vector<uint8_t>(data, data + h->caplen)});
      continue;
    }
    if (rc == PCAP_ERROR_BREAK) break;  // end of file
    return Error{"bad pcap record " + std::to_string(out.size() + 1) + ": " + pcap_geterr(p)};
  }
  return out;
}

}  // namespace

Result<std::vector<PcapRecord>> read_pcap(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Error{"cannot open pcap: " + std::string(std::strerror(errno))};
  {
    std::unique_ptr<std::FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) return Error{"cannot open pcap: " + std::string(std::strerror(errno))};
    uint8_t magic[4] = {};
    if (std::fread(magic, 1, 4, f.get()) == 4 && is_pcapng(magic)) {
      std::vector<uint8_t> all(static_cast<size_t>(st.st_size));
      std::rewind(f.get());
      if (std::fread(all.data(), 1, all.size(), f.get()) != all.size())
        return Error{"cannot read pcapng: " + std::string(std::strerror(errno))};
      return read_pcapng(all);
    }
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (!p) return Error{std::string("not a readable pcap file: ") + errbuf};
  return read_all(p);
}

Result<std::vector<PcapRecord>> read_pcap_bytes(std::span<const uint8_t> bytes) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  if (bytes.empty()) return Error{"not a readable pcap file: empty"};  // fmemopen() refuses 0 bytes
  if (is_pcapng(bytes)) return read_pcapng(bytes);
  std::FILE* f = fmemopen(const_cast<uint8_t*>(bytes.data()), bytes.size(), "rb");
  if (!f) return Error{"cannot open pcap: " + std::string(std::strerror(errno))};
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (!p) {
    std::fclose(f);  // pcap_fopen_offline leaves the FILE to us when it fails
    return Error{std::string("not a readable pcap file: ") + errbuf};
  }
  return read_all(p);  // pcap_close() closes the FILE
}

struct PcapWriter::Impl {
  pcap_t* dead = nullptr;
  pcap_dumper_t* dumper = nullptr;
};

Result<std::unique_ptr<PcapWriter>> PcapWriter::open(const std::string& path) {
  std::unique_ptr<PcapWriter> w(new PcapWriter());
  w->impl_ = std::make_unique<Impl>();
  w->impl_->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_MICRO);
  if (!w->impl_->dead) return Error{"cannot create pcap writer"};
  w->impl_->dumper = pcap_dump_open(w->impl_->dead, path.c_str());
  if (!w->impl_->dumper) return Error{std::string("cannot write pcap: ") + pcap_geterr(w->impl_->dead)};
  return w;
}

void PcapWriter::write(int64_t ts_us, const uint8_t* data, size_t len) {
  pcap_pkthdr h{};
  h.ts.tv_sec = static_cast<time_t>(ts_us / 1000000);
  h.ts.tv_usec = static_cast<suseconds_t>(ts_us % 1000000);
  h.caplen = h.len = static_cast<bpf_u_int32>(len);
  pcap_dump(reinterpret_cast<u_char*>(impl_->dumper), &h, data);
}

bool PcapWriter::close(std::string& err) {
  bool ok = true;
  if (impl_->dumper) {
    if (pcap_dump_flush(impl_->dumper) != 0) {
      err = "cannot flush pcap output";
      ok = false;
    }
    pcap_dump_close(impl_->dumper);
    impl_->dumper = nullptr;
  }
  if (impl_->dead) {
    pcap_close(impl_->dead);
    impl_->dead = nullptr;
  }
  return ok;
}

PcapWriter::~PcapWriter() {
  std::string ignored;
  if (impl_) close(ignored);
}

}  // namespace vs::replay

// ---------------------------------------------------------------------------------------------
// pcapng (draft-ietf-opsawg-pcapng): SHB, IDB, EPB with epb_flags; other blocks are skipped.

namespace vs::replay {
namespace {

constexpr uint32_t kShb = 0x0A0D0D0A, kIdb = 1, kSpb = 3, kEpb = 6;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr uint16_t kOptEnd = 0, kOptIfName = 2, kOptIfTsresol = 9, kOptEpbFlags = 2, kOptShbUserappl = 4;
constexpr uint32_t kMaxBlock = 16u << 20;  // larger than any frame vsrouter handles

struct NgReader {
  std::span<const uint8_t> b;
  bool swap = false;
  uint32_t u32(size_t at) const {
    uint32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return swap ? __builtin_bswap32(v) : v;
  }
  uint16_t u16(size_t at) const {
    uint16_t v;
    std::memcpy(&v, b.data() + at, 2);
    return swap ? __builtin_bswap16(v) : v;
  }
};

struct NgIface {
  uint64_t units_per_sec = 1000000;  // if_tsresol; default 10^-6
};

/// The value of option `code` in the options area [at, end), or nullopt.
std::optional<std::span<const uint8_t>> ng_option(const NgReader& r, size_t at, size_t end, uint16_t code) {
  while (at + 4 <= end) {
    uint16_t c = r.u16(at), len = r.u16(at + 2);
    if (c == kOptEnd) break;
    size_t padded = (len + 3u) & ~size_t{3};
    if (at + 4 + padded > end) break;
    if (c == code) return r.b.subspan(at + 4, len);
    at += 4 + padded;
  }
  return std::nullopt;
}

Result<std::vector<PcapRecord>> read_pcapng(std::span<const uint8_t> bytes) {
  NgReader r{bytes};
  std::vector<PcapRecord> out;
  std::vector<NgIface> ifaces;
  size_t at = 0;
  uint32_t block_no = 0;
  auto bad = [&](const std::string& why) {
    return Error{"bad pcapng block " + std::to_string(block_no) + " at byte " + std::to_string(at) + ": " + why};
  };
  while (at < bytes.size()) {
    ++block_no;
    if (bytes.size() - at < 12) return bad("truncated block header");
    uint32_t type;
    std::memcpy(&type, bytes.data() + at, 4);  // the SHB type reads the same in both byte orders
    if (type == kShb) {
      uint32_t bom;
      std::memcpy(&bom, bytes.data() + at + 8, 4);
      if (bom == kByteOrderMagic) r.swap = false;
      else if (bom == __builtin_bswap32(kByteOrderMagic)) r.swap = true;
      else return bad("section header without the byte-order magic 0x1A2B3C4D");
      ifaces.clear();  // interface ids are per section
    } else {
      type = r.u32(at);
    }
    const uint32_t len = r.u32(at + 4);
    if (len < 12 || len % 4 != 0 || len > kMaxBlock) return bad("block length " + std::to_string(len));
    if (len > bytes.size() - at) return bad("truncated: block of " + std::to_string(len) + " bytes");
    if (r.u32(at + len - 4) != len) return bad("trailing block length differs from the leading one");
    const size_t body = at + 8, end = at + len - 4;
    if (type == kShb) {
      if (len < 28) return bad("section header too short");
      if (r.u16(body + 4) != 1) return bad("pcapng major version " + std::to_string(r.u16(body + 4)) + ", want 1");
    } else if (type == kIdb) {
      if (end - body < 8) return bad("interface description too short");
      const uint16_t link = r.u16(body);
      if (link != DLT_EN10MB) {
        const char* name = pcap_datalink_val_to_name(link);
        return Error{"not an Ethernet pcapng: interface " + std::to_string(ifaces.size()) + " has link type " +
                     std::to_string(link) + " (" + (name ? name : "unknown") +
                     "); vsrouter replays Ethernet (DLT_EN10MB) captures only"};
      }
      NgIface ifc;
      if (auto o = ng_option(r, body + 8, end, kOptIfTsresol); o && o->size() >= 1) {
        const uint8_t v = (*o)[0];
        const uint32_t e = v & 0x7f;
        if ((v & 0x80) ? e > 63 : e > 19) return bad("if_tsresol " + std::to_string(v) + " out of range");
        uint64_t u = 1;
        for (uint32_t i = 0; i < e; ++i) u *= (v & 0x80) ? 2 : 10;
        ifc.units_per_sec = u;
      }
      ifaces.push_back(ifc);
    } else if (type == kEpb) {
      if (end - body < 20) return bad("enhanced packet block too short");
      const uint32_t id = r.u32(body);
      if (id >= ifaces.size())
        return bad("packet on interface " + std::to_string(id) + " before its interface description");
      const uint64_t ts = (uint64_t{r.u32(body + 4)} << 32) | r.u32(body + 8);
      const uint32_t caplen = r.u32(body + 12);
      if (caplen > end - body - 20) return bad("captured length " + std::to_string(caplen) + " beyond the block");
      const uint64_t ups = ifaces[id].units_per_sec;
      const int64_t us = static_cast<int64_t>(static_cast<unsigned __int128>(ts) * 1000000 / ups);
      PcapRecord rec{us, std::vector<uint8_t>(bytes.begin() + static_cast<ptrdiff_t>(body + 20),
                                              bytes.begin() + static_cast<ptrdiff_t>(body + 20 + caplen))};
      const size_t opts = body + 20 + ((caplen + 3u) & ~size_t{3});
      if (auto o = ng_option(r, opts, end, kOptEpbFlags); o && o->size() == 4)
        rec.dir = static_cast<Direction>(r.u32(static_cast<size_t>(o->data() - bytes.data())) & 3u);
      if (rec.dir != Direction::kInbound && rec.dir != Direction::kOutbound) rec.dir = Direction::kUnknown;
      out.push_back(std::move(rec));
    } else if (type == kSpb) {
      return bad("simple packet blocks (no timestamp) cannot be replayed");
    }
    at += len;
  }
  return out;
}

bool is_pcapng(std::span<const uint8_t> b) {
  return b.size() >= 4 && b[0] == 0x0A && b[1] == 0x0D && b[2] == 0x0D && b[3] == 0x0A;
}

void put16(std::vector<uint8_t>& v, uint16_t x) { v.insert(v.end(), {uint8_t(x), uint8_t(x >> 8)}); }
void put32(std::vector<uint8_t>& v, uint32_t x) {
  v.insert(v.end(), {uint8_t(x), uint8_t(x >> 8), uint8_t(x >> 16), uint8_t(x >> 24)});
}
void put_option(std::vector<uint8_t>& v, uint16_t code, const void* data, uint16_t len) {
  put16(v, code);
  put16(v, len);
  const auto* p = static_cast<const uint8_t*>(data);
  v.insert(v.end(), p, p + len);
  v.resize((v.size() + 3) & ~size_t{3}, 0);
}
/// Starts a block of `type` in `v` (the length is patched by end_block).
void begin_block(std::vector<uint8_t>& v, uint32_t type) {
  v.clear();
  put32(v, type);
  put32(v, 0);
}
void end_block(std::vector<uint8_t>& v) {
  put32(v, 0);
  const uint32_t len = static_cast<uint32_t>(v.size());
  for (int i = 0; i < 4; ++i) v[4 + i] = v[v.size() - 4 + i] = static_cast<uint8_t>(len >> (8 * i));
}

}  // namespace

Result<std::unique_ptr<PcapngWriter>> PcapngWriter::open(const std::string& path, const std::string& iface) {
  std::unique_ptr<PcapngWriter> w(new PcapngWriter());
  w->f_ = std::fopen(path.c_str(), "wb");
  if (!w->f_) return Error{"cannot write pcapng: " + std::string(std::strerror(errno))};
  auto& b = w->block_;
  begin_block(b, kShb);
  put32(b, kByteOrderMagic);
  put16(b, 1);  // version 1.0
  put16(b, 0);
  put32(b, 0xffffffffu);  // section length unknown (-1)
  put32(b, 0xffffffffu);
  static const char appl[] = "vsrouter run --capture";
  put_option(b, kOptShbUserappl, appl, sizeof appl - 1);
  put_option(b, kOptEnd, nullptr, 0);
  end_block(b);
  std::fwrite(b.data(), 1, b.size(), w->f_);
  begin_block(b, kIdb);
  put16(b, DLT_EN10MB);
  put16(b, 0);
  put32(b, 262144);  // snaplen, as the pcap writer's
  put_option(b, kOptIfName, iface.data(), static_cast<uint16_t>(std::min<size_t>(iface.size(), 0xffff)));
  const uint8_t tsresol = 6;  // microseconds
  put_option(b, kOptIfTsresol, &tsresol, 1);
  put_option(b, kOptEnd, nullptr, 0);
  end_block(b);
  if (std::fwrite(b.data(), 1, b.size(), w->f_) != b.size()) w->failed_ = true;
  return w;
}

void PcapngWriter::write(int64_t ts_us, const uint8_t* data, size_t len, Direction dir) {
  if (!f_) return;
  auto& b = block_;
  begin_block(b, kEpb);
  put32(b, 0);  // interface 0: the one IDB
  const uint64_t ts = static_cast<uint64_t>(ts_us);
  put32(b, static_cast<uint32_t>(ts >> 32));
  put32(b, static_cast<uint32_t>(ts));
  put32(b, static_cast<uint32_t>(len));
  put32(b, static_cast<uint32_t>(len));
  b.insert(b.end(), data, data + len);
  b.resize((b.size() + 3) & ~size_t{3}, 0);
  const uint8_t flags[4] = {static_cast<uint8_t>(dir), 0, 0, 0};  // bits 0-1: 01 inbound, 10 outbound (LE)
  put_option(b, kOptEpbFlags, flags, 4);
  put_option(b, kOptEnd, nullptr, 0);
  end_block(b);
  if (std::fwrite(b.data(), 1, b.size(), f_) != b.size()) failed_ = true;
}

bool PcapngWriter::close(std::string& err) {
  if (!f_) return true;
  bool ok = !failed_ && std::fflush(f_) == 0;
  if (std::fclose(f_) != 0) ok = false;
  f_ = nullptr;
  if (!ok) err = "cannot write pcapng output";
  return ok;
}

PcapngWriter::~PcapngWriter() {
  std::string ignored;
  close(ignored);
}

}  // namespace vs::replay

#include "replay/pcap_io.hpp"

#include <pcap/pcap.h>

#include <sys/stat.h>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vs::replay {

namespace {

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
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (!p) return Error{std::string("not a readable pcap file: ") + errbuf};
  return read_all(p);
}

Result<std::vector<PcapRecord>> read_pcap_bytes(std::span<const uint8_t> bytes) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  if (bytes.empty()) return Error{"not a readable pcap file: empty"};  // fmemopen() refuses 0 bytes
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

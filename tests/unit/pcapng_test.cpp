// The pcapng capture format of `vsrouter run --capture` (src/replay/pcap_io.cpp): what the writer
// writes, the reader reads back, directions included; bad files are one clear line.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "replay/pcap_io.hpp"

using namespace vs::replay;

namespace {

std::string temp_path(const char* name) { return "/tmp/vs-pcapng-test-" + std::to_string(getpid()) + "-" + name; }

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

}  // namespace

TEST(Pcapng, WrittenFramesReadBackWithTheirDirection) {
  const std::string p = temp_path("rt.pcapng");
  auto w = PcapngWriter::open(p, "lan");
  ASSERT_TRUE(w);
  const std::vector<uint8_t> a(60, 0xab), b(61, 0xcd);  // 61: the EPB pads the data to 4 bytes
  w.value()->write(1'700'000'000'123'456, a.data(), a.size(), Direction::kInbound);
  w.value()->write(1'700'000'001'000'001, b.data(), b.size(), Direction::kOutbound);
  std::string err;
  ASSERT_TRUE(w.value()->close(err)) << err;

  auto r = read_pcap(p);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r.value().size(), 2u);
  EXPECT_EQ(r.value()[0].ts_us, 1'700'000'000'123'456);
  EXPECT_EQ(r.value()[0].data, a);
  EXPECT_EQ(r.value()[0].dir, Direction::kInbound);
  EXPECT_EQ(r.value()[1].ts_us, 1'700'000'001'000'001);
  EXPECT_EQ(r.value()[1].data, b);
  EXPECT_EQ(r.value()[1].dir, Direction::kOutbound);

  // The same from memory (the fuzz target's path), and a pcap record has no direction.
  auto bytes = slurp(p);
  auto m = read_pcap_bytes(bytes);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m.value().size(), 2u);

  // Cut anywhere inside a block: one line saying which block.
  for (size_t cut : {size_t{13}, size_t{40}, bytes.size() - 1}) {
    auto t = read_pcap_bytes(std::span<const uint8_t>(bytes.data(), cut));
    ASSERT_FALSE(t) << cut;
    EXPECT_NE(t.error().message.find("bad pcapng block"), std::string::npos) << t.error().message;
    EXPECT_EQ(t.error().message.find('\n'), std::string::npos);
  }
  // A section header whose byte-order magic is wrong.
  bytes[8] ^= 0xff;
  auto bom = read_pcap_bytes(bytes);
  ASSERT_FALSE(bom);
  EXPECT_NE(bom.error().message.find("byte-order magic"), std::string::npos) << bom.error().message;
  std::remove(p.c_str());
}

TEST(Pcapng, PcapRecordsHaveNoDirection) {
  const std::string p = temp_path("old.pcap");
  auto w = PcapWriter::open(p);
  ASSERT_TRUE(w);
  const std::vector<uint8_t> a(60, 1);
  w.value()->write(5, a.data(), a.size());
  std::string err;
  ASSERT_TRUE(w.value()->close(err));
  auto r = read_pcap(p);
  ASSERT_TRUE(r);
  ASSERT_EQ(r.value().size(), 1u);
  EXPECT_EQ(r.value()[0].dir, Direction::kUnknown);
  std::remove(p.c_str());
}

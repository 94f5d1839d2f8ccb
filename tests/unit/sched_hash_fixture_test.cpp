// The dh, sh and mh schedulers against tests/fixtures/sched_hash_expected.txt, which the
// independent Python model of the kernel (tests/sched_model.py) produced. The fixture lists each
// scenario's operations (adds at the list head, weight edits, OVERLOAD flags, deletions, flag
// changes) and, after each phase, the whole lookup table and the expected choice and first probe
// position for a set of client flows (IPv6 services too, with reals of either family behind TUN); this test replays the operations through the C++
// schedulers and compares everything. The ctest sched_model (tests/sched_model_check.sh) re-runs
// the model and diffs its output with the fixture, so neither side can drift silently.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "config/sched_names.hpp"
#include "sched/common.hpp"
#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

using testing::SchedBed;

constexpr std::string_view kIdChars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

// Found next to this source file (CMake compiles with absolute paths); for a build with relative
// paths, in tests/fixtures/ of the working directory or one of its parents.
std::filesystem::path fixture_path() {
  namespace fs = std::filesystem;
  const fs::path rel = fs::path("fixtures") / "sched_hash_expected.txt";
  const fs::path here = fs::path(__FILE__).parent_path().parent_path() / rel;
  if (fs::exists(here)) return here;
  std::error_code ec;
  for (fs::path dir = fs::current_path(ec); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / "tests" / rel)) return dir / "tests" / rel;
    if (dir == dir.parent_path()) break;
  }
  return here;
}

IpAddr parse_ip(const std::string& s) {
  if (auto a6 = Ipv6Addr::parse(s)) return IpAddr::from_v6(*a6);
  auto a = Ipv4Addr::parse(s);
  EXPECT_TRUE(a.has_value()) << s;
  return a.value_or(Ipv4Addr{});
}

unsigned parse_flags(const std::string& list) {
  unsigned bits = 0;
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name == "-") continue;
    bool found = false;
    for (const config::FlagInfo& f : config::kFlags) {
      if (f.name == name) {
        bits |= f.bit;
        found = true;
      }
    }
    EXPECT_TRUE(found) << "unknown flag " << name;
  }
  return bits;
}

std::string dest_name(const ipvs::Dest* d) {
  if (d == nullptr) return "-";
  return d->addr.str(d->port);
}

TEST(SchedHashFixture, MatchesThePythonModelOfTheKernel) {
  std::ifstream in(fixture_path());
  ASSERT_TRUE(in.good()) << "cannot open " << fixture_path();

  std::unique_ptr<SchedBed> bed;
  std::string sched_name;
  std::map<std::string, ipvs::Dest*> by_name;
  std::map<const ipvs::Dest*, size_t> ids;
  int scenarios = 0, tables = 0, picks = 0, vectors = 0;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string kind;
    ls >> kind;
    SCOPED_TRACE("fixture line " + std::to_string(lineno) + ": " + line.substr(0, 100));
    if (kind == "hsiphash") {
      uint64_t v = 0, k0 = 0, k1 = 0, r = 0;
      ls >> v >> k0 >> k1 >> r;
      EXPECT_EQ(hsiphash_u32(static_cast<uint32_t>(v), k0, k1), r);
      ++vectors;
    } else if (kind == "scenario") {
      std::string name;
      ls >> name >> sched_name;
      bed = std::make_unique<SchedBed>(sched_name);
      by_name.clear();
      ids.clear();
      ++scenarios;
    } else if (kind == "family") {
      int af = 0;
      ls >> af;
      if (af == 6) bed->svc.vip = parse_ip("2001:db8::80");  // an IPv6 service
    } else if (kind == "add") {
      std::string ap;
      int32_t w = 0;
      ls >> ap >> w;
      const auto colon = ap.rfind(':');
      std::string host = ap.substr(0, colon);
      if (host.front() == '[') host = host.substr(1, host.size() - 2);
      ipvs::Dest& d = bed->add(parse_ip(host), w, static_cast<uint16_t>(std::stoi(ap.substr(colon + 1))));
      ids[&d] = by_name.size();
      by_name[ap] = &d;
    } else if (kind == "weight") {
      std::string ap;
      int32_t w = 0;
      ls >> ap >> w;
      bed->set_weight(*by_name.at(ap), w);
    } else if (kind == "over") {
      std::string ap;
      int on = 0;
      ls >> ap >> on;
      by_name.at(ap)->overloaded = on != 0;
    } else if (kind == "del") {
      std::string ap;
      ls >> ap;
      bed->del(*by_name.at(ap));
    } else if (kind == "flags") {
      std::string list;
      ls >> list;
      bed->svc.flags = parse_flags(list);
    } else if (kind == "table") {
      std::string expected;
      ls >> expected;
      std::string actual;
      for (const ipvs::Dest* d : lookup_table(*bed->svc.sched)) {
        actual += d == nullptr ? '.' : kIdChars[ids.at(d)];
      }
      EXPECT_EQ(actual, expected);
      ++tables;
    } else if (kind == "pick") {
      std::string src, dst, expected;
      unsigned sport = 0, proto = 0;
      uint32_t bucket = 0;
      ls >> src >> dst >> sport >> proto >> bucket >> expected;
      // An IPv6 flow as the director hands it over: the addresses' folds in the key.
      FlowKey flow;
      const IpAddr s_ip = parse_ip(src), d_ip = parse_ip(dst);
      if (s_ip.is_v6()) {
        flow = FlowKey::folded(FlowAddr6{s_ip.v6(), d_ip.v6()}, static_cast<uint16_t>(sport), 80,
                               static_cast<IpProto>(proto));
      } else {
        flow.src = s_ip.v4();
        flow.dst = d_ip.v4();
        flow.sport = static_cast<uint16_t>(sport);
        flow.dport = 80;
        flow.proto = static_cast<IpProto>(proto);
      }
      uint32_t first_probe = 0;
      const unsigned flags = bed->svc.flags;
      if (sched_name == "dh") {
        first_probe = dh_hashkey(flow.dst);
      } else if (sched_name == "sh") {
        first_probe = sh_hashkey(flow.src, (flags & config::kFlagShPort) ? hash_port(flow) : 0, 0);
      } else {
        first_probe =
            mh_hashkey(flow.src, (flags & config::kFlagMhPort) ? hash_port(flow) : 0, kMhHash1, 0) % kMhTabSize;
      }
      EXPECT_EQ(first_probe, bucket);
      EXPECT_EQ(dest_name(bed->pick(flow)), expected);
      ++picks;
    } else if (kind == "end") {
      bed.reset();
    } else {
      ADD_FAILURE() << "unknown fixture line kind " << kind;
    }
  }
  // The fixture's size, so an accidentally truncated file fails loudly.
  EXPECT_EQ(vectors, 11);
  EXPECT_EQ(scenarios, 17);
  EXPECT_EQ(tables, 38);
  EXPECT_GT(picks, 1000);
}

}  // namespace
}  // namespace vs::sched

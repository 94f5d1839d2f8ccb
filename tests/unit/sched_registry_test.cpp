// The scheduler registry (src/sched/registry.cpp): every name of config::kSchedulerNames makes a
// scheduler, unknown names make none, and the table-based ones expose their tables with the
// kernel's default sizes (dh 256, sh 256, mh 4093).
#include <gtest/gtest.h>

#include "config/sched_names.hpp"
#include "sched_fixture.hpp"

namespace vs::sched {
namespace {

TEST(SchedRegistry, EveryNameMakesAScheduler) {
  for (std::string_view name : config::kSchedulerNames) {
    ipvs::Service svc;
    EXPECT_NE(make_scheduler(name, svc), nullptr) << name;
  }
}

TEST(SchedRegistry, UnknownNamesMakeNone) {
  ipvs::Service svc;
  EXPECT_EQ(make_scheduler("", svc), nullptr);
  EXPECT_EQ(make_scheduler("RR", svc), nullptr);
  EXPECT_EQ(make_scheduler("wlcx", svc), nullptr);
}

TEST(SchedRegistry, LookupTableSizes) {
  for (std::string_view name : config::kSchedulerNames) {
    ipvs::Service svc;
    auto s = make_scheduler(name, svc);
    const size_t expected = name == "mh" ? 4093 : (name == "sh" || name == "dh") ? 256 : 0;
    EXPECT_EQ(lookup_table(*s).size(), expected) << name;
  }
}

// Every scheduler on an empty service, and on one whose only dest is quiesced, gives nothing.
TEST(SchedRegistry, EmptyAndQuiescedServicesGiveNothing) {
  for (std::string_view name : config::kSchedulerNames) {
    testing::SchedBed bed(name);
    EXPECT_EQ(bed.pick(), nullptr) << name;
    ipvs::Dest& a = bed.add('A', 1);
    bed.set_weight(a, 0);
    EXPECT_EQ(bed.pick(), nullptr) << name;
    bed.set_weight(a, 1);
    EXPECT_EQ(bed.pick(), &a) << name;  // FlowKey{} hashes to A's bucket in dh/sh/mh too
  }
}

}  // namespace
}  // namespace vs::sched

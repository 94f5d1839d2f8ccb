// The scheduler registry: one explicit compile-time table {name, factory}, in the order of
// config::kSchedulerNames (config/sched_names.hpp). No self-registering statics (the kernel's
// register_ip_vs_scheduler list, fixed at build time): adding a scheduler means adding its file,
// its factory declaration in common.hpp and one row here.
#include <array>
#include <string_view>

#include "config/sched_names.hpp"
#include "sched/common.hpp"

namespace vs::sched {
namespace {

struct SchedulerInfo {
  std::string_view name;
  std::unique_ptr<Scheduler> (*make)(ipvs::Service&);
};

constexpr std::array<SchedulerInfo, config::kSchedulerNames.size()> kSchedulers = {{
    {"rr", &make_rr},
    {"wrr", &make_wrr},
    {"lc", &make_lc},
    {"wlc", &make_wlc},
    {"lblc", &make_lblc},
    {"lblcr", &make_lblcr},
    {"dh", &make_dh},
    {"sh", &make_sh},
    {"sed", &make_sed},
    {"nq", &make_nq},
    {"fo", &make_fo},
    {"ovf", &make_ovf},
    {"mh", &make_mh},
    {"twos", &make_twos},
}};

constexpr bool same_order() {
  for (size_t i = 0; i < kSchedulers.size(); ++i) {
    if (kSchedulers[i].name != config::kSchedulerNames[i]) return false;
  }
  return true;
}
static_assert(same_order(), "kSchedulers must list kSchedulerNames, in the same order");

}  // namespace

std::span<ipvs::Dest* const> lookup_table(const Scheduler& s) noexcept {
  if (const auto* t = dynamic_cast<const TableScheduler*>(&s)) return t->table();
  return {};
}

}  // namespace vs::sched

namespace vs::ipvs {

std::unique_ptr<Scheduler> make_scheduler(std::string_view name, Service& svc) {
  for (const sched::SchedulerInfo& info : sched::kSchedulers) {
    if (info.name == name) return info.make(svc);
  }
  return nullptr;
}

}  // namespace vs::ipvs

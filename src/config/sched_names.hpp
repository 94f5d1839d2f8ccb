// The IPVS scheduler names and scheduler flags vsrouter accepts, in ipvsadm's vocabulary: part
// of the configuration's vocabulary (the config loader, vsadm and the listings use them). The
// schedulers themselves live one per file in src/sched/ (registry.cpp lists them in this order).
#pragma once

#include <array>
#include <string_view>

namespace vs::config {

inline constexpr std::array<std::string_view, 14> kSchedulerNames = {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh",
                                                                     "sh", "sed", "nq", "fo",  "ovf",  "mh",    "twos"};

constexpr bool known_scheduler(std::string_view name) noexcept {
  for (std::string_view n : kSchedulerNames)
    if (n == name) return true;
  return false;
}

/// Scheduler flags (ipvsadm -b) plus "ops" (ipvsadm -o).
enum SchedFlag : unsigned {
  kFlagShFallback = 1u << 0,
  kFlagShPort = 1u << 1,
  kFlagMhFallback = 1u << 2,
  kFlagMhPort = 1u << 3,
  kFlagOps = 1u << 4,
};

struct FlagInfo {
  std::string_view name;
  unsigned bit;
  std::string_view only_scheduler;  // empty: any scheduler
};

inline constexpr std::array<FlagInfo, 5> kFlags = {{
    {"sh-fallback", kFlagShFallback, "sh"},
    {"sh-port", kFlagShPort, "sh"},
    {"mh-fallback", kFlagMhFallback, "mh"},
    {"mh-port", kFlagMhPort, "mh"},
    {"ops", kFlagOps, ""},
}};

}  // namespace vs::config

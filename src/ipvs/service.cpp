#include "ipvs/service.hpp"

#include "sched/scheduler.hpp"

namespace vs::ipvs {

Service::Service() = default;
Service::~Service() = default;
Service::Service(Service&&) noexcept = default;
Service& Service::operator=(Service&&) noexcept = default;

}  // namespace vs::ipvs

#include "ipvs/service.hpp"

#include <algorithm>

#include "ipvs/scheduler.hpp"

namespace vs::ipvs {

Service::Service() = default;
Service::Service(const config::ServiceSettings& settings) : config::ServiceSettings(settings) {}
Service::~Service() = default;
Service::Service(Service&&) noexcept = default;
Service& Service::operator=(Service&&) noexcept = default;

Dest* Service::find_real(const IpAddr& addr, uint16_t port) noexcept {
  for (Dest* d : dests)
    if (d->addr == addr && d->port == port) return d;
  return nullptr;
}

Dest& Service::add_real(const config::Real& r) {
  Dest* d = nullptr;
  for (auto& old : storage)
    if (!old->available && old->addr == r.addr && old->port == r.port) d = old.get();
  if (d) {
    // Revived from the trash: same object, counters and connections kept.
    const int32_t last = d->last_weight;
    static_cast<config::Real&>(*d) = r;
    d->available = true;
    d->last_weight = r.weight > 0 ? r.weight : last;
  } else {
    d = storage.emplace_back(std::make_unique<Dest>()).get();
    static_cast<config::Real&>(*d) = r;
    d->last_weight = r.weight;  // set on add even when 0, as __ip_vs_update_dest does
  }
  dests.insert(dests.begin(), d);  // newest first, as the kernel's list_add
  if (sched) sched->add_dest(*this, *d);
  return *d;
}

void Service::edit_real(Dest& d, const config::Real& r) {
  static_cast<config::Real&>(d) = r;
  if (r.weight > 0) d.last_weight = r.weight;
  if (sched) sched->upd_dest(*this, d);
}

void Service::delete_real(Dest& d) {
  d.available = false;
  dests.erase(std::remove(dests.begin(), dests.end(), &d), dests.end());
  if (sched) sched->del_dest(*this, d);
}

bool Service::set_scheduler(std::string_view name) {
  auto s = make_scheduler(name, *this);  // built from the current list
  if (!s) return false;
  sched = std::move(s);
  scheduler = std::string(name);
  return true;
}

}  // namespace vs::ipvs

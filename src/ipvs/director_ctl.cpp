// The director's control plane (the kernel's ip_vs_ctl.c): services and reals added, edited and
// deleted by vsadm and by a reload, counters zeroed, timeouts set. The list of a service's reals
// changes only through the Service's own list operations (ipvs/service.hpp).
#include <algorithm>

#include "conn/tcp_state.hpp"
#include "ipvs/director.hpp"
#include "ipvs/scheduler.hpp"

namespace vs::ipvs {

using conn::TcpState;

Director::CtlError Director::add_service(const config::ServiceSettings& settings, Service** out) {
  if (find_exact(settings.protocol, settings.vip, settings.port)) return CtlError::kServiceExists;
  auto s = std::make_unique<Service>(settings);
  s->mh_sorted = ipvs_.mh_sorted;
  if (!s->set_scheduler(settings.scheduler)) return CtlError::kSchedulerNotFound;
  if (out) *out = s.get();
  // appended last: a VIP already indexed keeps its first service
  if (s->vip.is_v4()) vips_.insert(s->vip.v4().v, s->interface);
  else vips6_.insert(s->vip.fold(), s->interface);
  services_.push_back(std::move(s));
  return CtlError::kOk;
}

Director::CtlError Director::edit_service(Service& svc, const config::ServiceSettings& settings) {
  if (settings.scheduler != svc.scheduler && !svc.set_scheduler(settings.scheduler))
    return CtlError::kSchedulerNotFound;
  svc.flags = settings.flags;
  svc.persistence = settings.persistence;
  svc.netmask = settings.netmask;
  svc.drain = settings.drain;
  if (svc.interface != settings.interface) {
    svc.interface = settings.interface;
    index_vips();
  }
  return CtlError::kOk;
}

void Director::delete_service(Service& svc) {
  remove_service(svc);
  index_vips();
}

void Director::remove_service(Service& svc) {
  for (Dest* d : svc.dests) d->available = false;
  svc.dests.clear();
  svc.deleted = true;
  auto it = std::find_if(services_.begin(), services_.end(), [&](auto& p) { return p.get() == &svc; });
  if (it == services_.end()) return;
  std::unique_ptr<Service> owned = std::move(*it);
  services_.erase(it);
  if (owned->refs > 0) retired_.push_back(std::move(owned));  // connections still point at it
}

void Director::clear() {
  while (!services_.empty()) remove_service(*services_.back());
  index_vips();
}

void Director::release_service(Service* svc) noexcept {
  if (--svc->refs > 0 || !svc->deleted) return;
  auto it = std::find_if(retired_.begin(), retired_.end(), [&](auto& p) { return p.get() == svc; });
  if (it != retired_.end()) retired_.erase(it);
}

Director::CtlError Director::add_real(Service& svc, const config::Real& r, Dest** out) {
  if (svc.find_real(r.addr, r.port)) return CtlError::kDestExists;
  Dest& d = svc.add_real(r);
  if (out) *out = &d;
  return CtlError::kOk;
}

Director::CtlError Director::edit_real(Service& svc, const config::Real& r) {
  Dest* d = svc.find_real(r.addr, r.port);
  if (!d) return CtlError::kNoDest;
  svc.edit_real(*d, r);
  return CtlError::kOk;
}

Director::CtlError Director::delete_real(Service& svc, const IpAddr& addr, uint16_t port) {
  Dest* d = svc.find_real(addr, port);
  if (!d) return CtlError::kNoDest;
  svc.delete_real(*d);
  return CtlError::kOk;
}

void Director::zero(Service* svc) {
  auto zero_one = [](Service& s) {
    s.stats = {};
    s.est = {};
    for (auto& d : s.storage) {
      d->stats = {};
      d->est = {};
    }
  };
  if (svc) {
    zero_one(*svc);
    return;
  }
  for (auto& s : services_) zero_one(*s);
  total_ = {};
  total_est_ = {};
}

void Director::set_timeouts(const config::Timeouts& set) {
  if (set.tcp) timeouts_.tcp[static_cast<size_t>(TcpState::kEstablished)] = Duration::seconds(set.tcp);
  if (set.tcpfin) timeouts_.tcp[static_cast<size_t>(TcpState::kFinWait)] = Duration::seconds(set.tcpfin);
  if (set.udp) timeouts_.udp = Duration::seconds(set.udp);
}

void Director::apply_config(const config::Config& cfg) {
  // Services gone from the file are deleted first, then the file's services are edited or added
  // in file order, each with its reals.
  std::vector<Service*> gone;
  for (auto& s : services_) {
    bool keep = std::any_of(cfg.services.begin(), cfg.services.end(), [&](const config::Service& c) {
      return c.protocol == s->protocol && c.vip == s->vip && c.port == s->port;
    });
    if (!keep) gone.push_back(s.get());
  }
  for (Service* s : gone) remove_service(*s);
  index_vips();
  ipvs_ = cfg.ipvs;
  for (auto& s : services_)
    if (!s->deleted && s->mh_sorted != ipvs_.mh_sorted) {
      s->mh_sorted = ipvs_.mh_sorted;
      s->set_scheduler(s->scheduler);  // the table again, in the new order
    }

  for (const auto& sc : cfg.services) {
    Service* s = find_exact(sc.protocol, sc.vip, sc.port);
    if (s) edit_service(*s, sc);
    else add_service(sc, &s);
    if (!s) continue;  // unknown scheduler: cannot happen for a validated config
    std::vector<Dest*> old_reals = s->dests;
    for (Dest* d : old_reals) {
      bool keep = std::any_of(sc.reals.begin(), sc.reals.end(),
                              [&](const config::Real& r) { return r.addr == d->addr && r.port == d->port; });
      if (!keep) s->delete_real(*d);
    }
    for (const auto& r : sc.reals) {
      Dest* d = s->find_real(r.addr, r.port);
      if (!d) s->add_real(r);
      else if (static_cast<const config::Real&>(*d) != r) s->edit_real(*d, r);
    }
  }
  timeouts_ = conn::make_timeouts(cfg.timeouts);
  defense_ = cfg.defense;
}

}  // namespace vs::ipvs

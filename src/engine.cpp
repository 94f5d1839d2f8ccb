#include "engine.hpp"

#include <algorithm>
#include <cstring>

#include "engine_impl.hpp"
#include "fwd/nat.hpp"
#include "fwd/tun.hpp"
#include "gso.hpp"
#include "wire/arp.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace vs {

using wire::ArpView;
using wire::TcpView;
using wire::UdpView;

namespace {

constexpr uint8_t kTtlOwn = 64;                // TTL of packets we originate
constexpr size_t kIcmpErrorMax = 576;          // RFC 1812 §4.3.2.3: error datagram size limit
constexpr uint8_t kTosInternetControl = 0xc0;  // precedence of ICMP errors (RFC 1812 §4.3.2.5)

uint16_t seed_ip_id(uint64_t seed) noexcept {
  uint64_t x = seed + 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return static_cast<uint16_t>(x ^ (x >> 31));
}

}  // namespace

/// The neighbour table holds at least an entry for every address health checks probe on a
/// connected subnet (and as many again for clients), so that a large pool of checked reals does
/// not crowd itself out of it.
NeighParams Engine::neigh_params(NeighParams p, const config::Config& cfg) {
  size_t checked = 0;
  for (const auto& s : cfg.services)
    for (const auto& r : s.reals) checked += r.checks.size();
  if (checked > 0) p.capacity = static_cast<uint32_t>(std::max<size_t>(p.capacity, 2 * checked + 64));
  return p;
}

Engine::Engine(std::shared_ptr<const config::Config> cfg, TxSink& tx, const EngineParams& params)
    : cfg_(std::move(cfg)),
      tx_(tx),
      params_(params),
      routes_(*cfg_),
      neigh_(neigh_params(params.neigh, *cfg_), cfg_->router.seed),
      routes6_(*cfg_),
      neigh6_(params.neigh, cfg_->router.seed),
      health_(*cfg_, cfg_->router.seed, *this, params.tls_seed),
      director_(*health_.effective(*cfg_), cfg_->router.seed, &drops_),
      pool_(params.pool_buffers),
      scratch_(kGsoBufSize),
      icmp_buf_(kBufSize),
      frag_scratch_(kBufSize),
      decap_buf_(kGsoBufSize),
      seg_buf_(kBufSize),
      reasm_buf_(kGsoBufSize),
      reasm_(frag::Params{cfg_->router.frag_queues, cfg_->router.frag_memory, cfg_->router.frag_memory_per_source,
                          Duration::seconds(cfg_->router.frag_timeout), cfg_->router.seed}),
      ifc_(cfg_->interfaces.size()),
      ip_id_(seed_ip_id(cfg_->router.seed)),
      icmp_peers_(params.icmp_peer_entries, params.icmp_ratelimit_ms, cfg_->router.seed),
      icmp_peers6_(params.icmp_peer_entries, params.icmp_ratelimit_ms, cfg_->router.seed),
      vrrp_(*cfg_, *this),
      announcer_(*cfg_),
      owned_vmacs_(cfg_->interfaces.size()),
      sync_(*cfg_, director_, *this),
      sync_buf_(kEth + 20 + 8 + 65535) {
  due_.reserve(params.neigh.capacity);
  for (auto& v : owned_vmacs_) v.reserve(cfg_->vrrp_instances.size());
  index_addresses();
  index_addresses6();
}

void Engine::start(Instant now) noexcept {
  now_ = now;
  health_.start(now);
  start_ip6(now);
  track_services(now);
  vrrp_.start(now);
  // The sync daemons of [sync]: a fixed master starts now (a backup is up from the start); one
  // that follows a VRRP instance was set by its first state (ownership_changed).
  const config::Sync& y = cfg_->sync;
  if (y.role == config::Sync::Role::kMaster || y.role == config::Sync::Role::kBoth)
    sync_.start_master(sync_.defaults(), now);
}

void Engine::stop(Instant now) noexcept {
  now_ = now;
  announcer_.stop(now);
  vrrp_.stop(now);
  sync_.stop_master(now);  // what is queued goes out first
}

std::optional<std::string> Engine::reload(std::shared_ptr<const config::Config> cfg) {
  const auto& now = *cfg_;
  const auto& next = *cfg;
  if (next.interfaces.size() != now.interfaces.size())
    return std::string("interfaces cannot be added or removed by a reload (restart vsrouter)");
  for (size_t i = 0; i < next.interfaces.size(); ++i)
    if (next.interfaces[i].name != now.interfaces[i].name || next.interfaces[i].tap != now.interfaces[i].tap)
      return "interface " + now.interfaces[i].name + " (TAP " + now.interfaces[i].tap +
             ") cannot be renamed, reordered or moved to another TAP by a reload (restart vsrouter)";
  if (next.router.max_connections != now.router.max_connections)
    return std::string("router.max_connections cannot change without a restart (the table is allocated at start)");
  if (next.router.frag_queues != now.router.frag_queues || next.router.frag_memory != now.router.frag_memory ||
      next.router.frag_memory_per_source != now.router.frag_memory_per_source ||
      next.router.frag_timeout != now.router.frag_timeout)
    return std::string("router.frag_* cannot change without a restart (reassembly memory is allocated at start)");
  if (next.vrrp_instances != now.vrrp_instances || next.vrrp_sync_groups != now.vrrp_sync_groups ||
      next.vrrp_scripts != now.vrrp_scripts)
    return std::string(
        "vrrp_instances, vrrp_sync_groups and vrrp_scripts cannot change by a reload (restart vsrouter)");
  if (next.sync != now.sync)
    return std::string(
        "[sync] cannot change by a reload (restart vsrouter, or use vsadm --start-daemon/--stop-daemon)");
  if (next.router.seed != now.router.seed)
    return std::string("router.seed cannot change without a restart (hashes and choices depend on it)");
  cfg_ = std::move(cfg);
  routes_ = RouteTable(*cfg_);
  routes6_ = RouteTable6(*cfg_);
  index_addresses6();
  health_.reload(*cfg_);
  director_.apply_config(*health_.effective(*cfg_));
  index_addresses();  // after the director: a VRRP address that is no VIP is a router address
  for (uint32_t i = 0; i < vrrp_.instances().size(); ++i) ownership_changed(i);  // the index is new
  announcer_.reload(*cfg_, now_);
  track_services(now_);
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Health checks (src/check/): probes leave through the router as datagrams it originates; a
// real's change is applied to the director as keepalived applies it to IPVS.

std::optional<Ipv4Addr> Engine::source_toward(Ipv4Addr dst) const noexcept {
  auto rt = routes_.lookup(dst);
  if (!rt) return std::nullopt;
  return source_for(rt->iface, rt->next_hop);
}

void Engine::send_probe(std::span<uint8_t> frame, Instant now) noexcept {
  auto ip = Ipv4View<uint8_t>::unchecked(frame.subspan(kEth));
  auto rt = routes_.lookup(ip.dst());
  if (!rt) return;
  wire::fill_ethernet(frame, MacAddr{}, cfg_->interfaces[rt->iface].mac, wire::EtherType::kIpv4);
  // A probe that cannot even wait for ARP (the neighbour table or the queues are full) fails at
  // once, as one whose ARP goes unanswered does, instead of waiting for its deadline.
  if (output_ip(rt->iface, rt->next_hop, frame, now).kind == Verdict::Kind::kDropped)
    health_.on_unresolved(ConstIp::unchecked(std::span<const uint8_t>(frame).subspan(kEth)), now);
}

void Engine::real_changed(uint32_t real, bool alive) noexcept {  // alive: in service
  const check::RealHealth& rh = health_.reals()[real];
  ipvs::Service* s = director_.find_exact(rh.protocol, rh.vip, rh.vport);
  if (s == nullptr) return;  // the service was deleted (vsadm -D): nothing to apply
  config::Real r = rh.real;
  r.weight = rh.weight;
  if (rh.real.inhibit_on_failure) {
    if (!alive) r.weight = 0;
    director_.edit_real(*s, r);
  } else if (alive) {
    director_.add_real(*s, r);
  } else {
    director_.delete_real(*s, rh.real.addr, rh.real.port);
  }
  track_services(now_);
}

void Engine::weight_changed(uint32_t real) noexcept {
  const check::RealHealth& rh = health_.reals()[real];
  ipvs::Service* s = director_.find_exact(rh.protocol, rh.vip, rh.vport);
  if (s == nullptr) return;
  config::Real r = rh.real;
  r.weight = rh.weight;
  director_.edit_real(*s, r);
}

void Engine::sorry_changed(uint32_t svc, bool active) noexcept {
  const check::ServiceHealth& sh = health_.services()[svc];
  ipvs::Service* s = director_.find_exact(sh.protocol, sh.vip, sh.port);
  if (s == nullptr || !sh.sorry) return;
  // keepalived's sorry_server_inhibit: always listed, enabled by its weight; else added/removed.
  if (sh.sorry_inhibit) {
    config::Real r = *sh.sorry;
    if (!active) r.weight = 0;
    director_.edit_real(*s, r);
  } else if (active) {
    director_.add_real(*s, *sh.sorry);
  } else {
    director_.delete_real(*s, sh.sorry->addr, sh.sorry->port);
  }
}

Verdict Engine::drop(DropReason r) noexcept {
  drops_.count(r);
  return Verdict::dropped(r);
}

void Engine::transmit(uint32_t iface, std::span<const uint8_t> frame, const Offload* off) noexcept {
  ifc_[iface].tx_frames++;
  ifc_[iface].tx_bytes += frame.size();
  if (off && off->any()) tx_.transmit_offload(iface, frame, *off);
  else tx_.transmit(iface, frame);
}

// ---------------------------------------------------------------------------------------------
// Addresses

void Engine::index_addresses() {
  size_t n = 0, nv = 0;
  for (const auto& ifc : cfg_->interfaces) n += ifc.addresses.size();
  for (const auto& v : cfg_->vrrp_instances) nv += v.addresses.size();
  addr_kind_.reset(2 * n + nv);
  iface_addr_.reset(n + nv);
  auto mark = [&](Ipv4Addr a, uint8_t kind) {
    if (uint8_t* k = addr_kind_.find(a.v)) *k |= kind;
    else addr_kind_.insert(a.v, kind);
  };
  for (uint32_t i = 0; i < cfg_->interfaces.size(); ++i) {
    for (const auto& p : cfg_->interfaces[i].addresses) {
      mark(p.addr, kAddrRouter);
      if (p.len <= 30) mark(p.directed_broadcast(), kAddrDirectedBroadcast);
      iface_addr_.insert((uint64_t{i} << 32) | p.addr.v, true);
    }
  }
  // VRRP addresses: owned while their instance is master (ownership_changed sets the bits).
  for (const auto& v : cfg_->vrrp_instances)
    for (Ipv4Addr a : v.addresses) {
      mark(a, kAddrVirtual);
      if (!director_.is_vip(a)) iface_addr_.insert((uint64_t{v.interface} << 32) | a.v, false);
    }
}

bool Engine::owns_on_iface(uint32_t iface, Ipv4Addr a) const noexcept {
  if (const bool* owned = iface_addr_.find((uint64_t{iface} << 32) | a.v)) return *owned;
  if (director_.vip_interface(a) != iface) return false;
  const uint8_t k = addr_kind(a);
  return !(k & kAddrVirtual) || (k & kAddrOwned);
}

Ipv4Addr Engine::source_for(uint32_t iface, Ipv4Addr toward) const noexcept {
  const auto& addrs = cfg_->interfaces[iface].addresses;
  for (const auto& p : addrs)
    if (p.contains(toward)) return p.addr;
  // An IPv6-only interface carries no IPv4 (no IPv4 route leads to it): 0.0.0.0, never sent.
  return addrs.empty() ? Ipv4Addr{} : addrs.front().addr;
}

// ---------------------------------------------------------------------------------------------
// Entry points

Verdict Engine::on_frame(uint32_t iface, std::span<const uint8_t> frame, Instant now, const Offload& off) noexcept {
  now_ = now;
  ifc_[iface].rx_frames++;
  ifc_[iface].rx_bytes += frame.size();

  auto eth = EthernetView<const uint8_t>::parse(frame);
  if (!eth) return drop(DropReason::kEthTruncated);
  // Every buffer the engine copies a frame into holds kMaxFrame (+ tailroom for encapsulation);
  // the one that takes a super-frame (scratch_), 64 KiB.
  if (frame.size() > (off.gso_size ? kMaxGsoFrame : kMaxFrame)) return drop(DropReason::kEthTooLong);
  rx_off_ = off;
  struct Reset {
    Offload& o;
    ~Reset() { o = {}; }
  } reset{rx_off_};
  const MacAddr& mine = cfg_->interfaces[iface].mac;
  MacAddr dst = eth->dst();
  bool l2_unicast = !dst.is_multicast();  // broadcast is a multicast address too
  if (l2_unicast && dst != mine && !owned_vmac(iface, dst)) return drop(DropReason::kEthNotForUs);
  MacAddr src = eth->src();
  if (src.is_multicast() || src.is_zero() || src == mine) return drop(DropReason::kEthSrcInvalid);

  switch (eth->ethertype()) {
    case static_cast<uint16_t>(wire::EtherType::kArp): return handle_arp(iface, frame, now);
    case static_cast<uint16_t>(wire::EtherType::kIpv4): return handle_ipv4(iface, frame, l2_unicast, now);
    case static_cast<uint16_t>(wire::EtherType::kIpv6): return handle_ipv6(iface, frame, l2_unicast, now);
    default: return drop(DropReason::kEthTypeUnsupported);
  }
}

void Engine::on_timer(Instant now) noexcept {
  now_ = now;
  vrrp_.on_timer(now);
  sync_.on_timer(now);
  director_.on_timer(now);
  health_.on_timer(now);
  // Datagrams not reassembled in time (ip_expire): their fragments are dropped and, when the
  // first fragment came, its sender gets ICMP time exceeded, reassembly (RFC 792), from the
  // address it wrote to.
  std::span<uint8_t> first(reasm_buf_.data() + kHeadroom, kIcmpErrorMax);
  while (auto e = reasm_.expire(now, first)) {
    drops_.n[static_cast<size_t>(DropReason::kFragTimeout)] += e->frames;
    if (e->first_len == 0) continue;
    auto ip = ConstIp::unchecked(std::span<const uint8_t>(first).first(e->first_len));
    send_icmp_error(icmp_type::kTimeExceeded, icmp_code::kReassemblyExceeded, 0, ip, true, ip.dst(), now);
  }
  due_.clear();
  neigh_.due(now, due_);
  for (uint32_t idx : due_) {
    const auto& e = neigh_.entry(idx);
    if (e.probes < neigh_.params().max_probes) {
      const MacAddr known = e.mac;
      send_arp_request(e.iface, e.ip, e.state == NeighTable::State::kProbe ? &known : nullptr);
      neigh_.mark_probed(idx, now);
      continue;
    }
    // No answer: every waiting packet is dropped and its sender told (RFC 1812 §4.3.3.1 code 1).
    // An error whose sender is reached through this same neighbour joins this queue: walk it by
    // index so that the error is dropped (and its buffer freed) here too, not leaked.
    for (size_t i = 0; i < neigh_.queue(idx).size(); ++i) {
      uint32_t pkt = neigh_.queue(idx)[i];
      auto f = pool_.frame(pkt);
      // What we originated is reported to its originator (a health probe), not to the wire.
      if (auto ip = ConstIp::parse(std::span<const uint8_t>(f).subspan(kEth))) {
        if (is_router_address(ip->src())) health_.on_unresolved(*ip, now);
        else send_icmp_error(icmp_type::kDestUnreachable, icmp_code::kHostUnreachable, 0, *ip, true, std::nullopt, now);
      }
      pool_.free(pkt);
      drops_.count(DropReason::kNeighUnresolved);
    }
    neigh_.clear_queue(idx);
    neigh_.release(idx);
  }
  if (!addrs6_.empty()) {
    start_ip6(now);
    ip6_timer(now);
  }
}

std::optional<Instant> Engine::next_deadline() const noexcept {
  std::optional<Instant> t;
  for (auto d : {neigh_.next_deadline(), director_.next_deadline(), reasm_.next_deadline(), health_.next_deadline(),
                 vrrp_.next_deadline(), sync_.next_deadline(), next_deadline6()})
    if (d && (!t || *d < *t)) t = d;
  return t;
}

// ---------------------------------------------------------------------------------------------
// VRRP (src/vrrp/): adverts and gratuitous ARPs leave through the router; an instance's addresses
// are the router's only while it is master.

Verdict Engine::vrrp_input(uint32_t iface, ConstIp ip, Instant now) noexcept {
  switch (vrrp_.on_advert(iface, ip, now)) {
    case vrrp::Reject::kNone: return {Verdict::Kind::kConsumed, {}, iface};
    case vrrp::Reject::kMalformed: return drop(DropReason::kVrrpMalformed);
    case vrrp::Reject::kTtl: return drop(DropReason::kVrrpBadTtl);
    case vrrp::Reject::kChecksum: return drop(DropReason::kVrrpBadChecksum);
    case vrrp::Reject::kOtherVrid: return drop(DropReason::kVrrpOtherVrid);
    case vrrp::Reject::kMismatch: return drop(DropReason::kVrrpMismatch);
    case vrrp::Reject::kPeer: return drop(DropReason::kVrrpForeignPeer);
  }
  return drop(DropReason::kVrrpMalformed);
}

// ---------------------------------------------------------------------------------------------
// Connection sync (src/sync/): messages leave as UDP datagrams the router originates, from the
// sync interface's address to the group (TTL mcast_ttl, fragments allowed as the kernel's
// IP_PMTUDISC_DONT); a backup's arrive as UDP to the group and port on the sync interface.

void Engine::send_sync(const sync::DaemonCfg& c, std::span<const uint8_t> msg, Instant now) noexcept {
  (void)now;
  const config::Interface& itf = cfg_->interfaces[c.interface];
  if (itf.addresses.empty()) return;
  const size_t udp_len = 8 + msg.size(), ip_len = 20 + udp_len;
  std::span<uint8_t> out(sync_buf_.data(), kEth + ip_len);
  const Ipv4Addr src = itf.addresses.front().addr, dst = c.group;
  std::copy(msg.begin(), msg.end(), out.begin() + kEth + 28);
  wire::store16(out, kEth + 20, c.port);  // source port: the group's port too
  wire::store16(out, kEth + 22, c.port);
  wire::store16(out, kEth + 24, static_cast<uint16_t>(udp_len));
  wire::UdpView<uint8_t>::unchecked(out.subspan(kEth + 20, udp_len)).fill_checksum(src, dst);
  Ipv4View<uint8_t>::unchecked(out.subspan(kEth))
      .fill(0, static_cast<uint16_t>(ip_len), next_ip_id(), 0, c.ttl, IpProto::kUdp, src, dst);
  wire::fill_ethernet(out, multicast_mac(dst), itf.mac, wire::EtherType::kIpv4);
  transmit(c.interface, out);  // maxlen is at most the MTU less 28 (SyncDaemon::start_master)
}

Verdict Engine::sync_input(ConstIp ip, Instant now) noexcept {
  auto udp = wire::UdpView<const uint8_t>::parse(ip.payload());
  if (!udp) return drop(DropReason::kUdpTruncated);
  if (udp->checksum() != 0 && !udp->verify_checksum(ip.src(), ip.dst())) return drop(DropReason::kSyncBadChecksum);
  switch (sync_.on_message(ip.src(), udp->payload(), now)) {
    case sync::Reject::kNone: return {Verdict::Kind::kConsumed, {}, 0};
    case sync::Reject::kMalformed: return drop(DropReason::kSyncMalformed);
    case sync::Reject::kOtherSyncid: return drop(DropReason::kSyncOtherSyncid);
    case sync::Reject::kForeignPeer: return drop(DropReason::kSyncForeignPeer);
  }
  return drop(DropReason::kSyncMalformed);
}

void Engine::send_advert(uint32_t iface, std::span<uint8_t> frame, const MacAddr& src_mac, Instant now) noexcept {
  const Ipv4Addr dst = Ipv4View<uint8_t>::unchecked(frame.subspan(kEth)).dst();
  if (dst.is_multicast()) {
    wire::fill_ethernet(frame, multicast_mac(dst), src_mac, wire::EtherType::kIpv4);
    transmit(iface, frame);
    return;
  }
  wire::fill_ethernet(frame, MacAddr{}, src_mac, wire::EtherType::kIpv4);
  output_ip(iface, dst, frame, now);
}

void Engine::send_garp(uint32_t iface, Ipv4Addr addr, const MacAddr& mac, Instant now) noexcept {
  (void)now;
  // keepalived's form: an ARP request, broadcast, sender and target address both the address.
  std::span<uint8_t> out(arp_buf_);
  wire::fill_ethernet(out, MacAddr::broadcast(), mac, wire::EtherType::kArp);
  ArpView<uint8_t>::unchecked(out.subspan(kEth)).fill(wire::ArpOp::kRequest, mac, addr, MacAddr::broadcast(), addr);
  transmit(iface, out);
  counters_.arp_requests_sent++;
}

void Engine::ownership_changed(uint32_t instance) noexcept {
  const vrrp::Instance& in = vrrp_.instances()[instance];
  const bool owned = in.state == vrrp::State::kMaster;
  for (Ipv4Addr a : in.cfg.addresses) {
    uint8_t* k = addr_kind_.find(a.v);
    if (k == nullptr) continue;
    *k = static_cast<uint8_t>(owned ? (*k | kAddrOwned) : (*k & ~kAddrOwned));
    if (bool* gw = iface_addr_.find((uint64_t{in.cfg.interface} << 32) | a.v)) {  // no VIP: a router address
      *gw = owned;
      *k = static_cast<uint8_t>(owned ? (*k | kAddrRouter) : (*k & ~kAddrRouter));
    }
  }
  if (in.cfg.use_vmac) {
    auto& v = owned_vmacs_[in.cfg.interface];
    auto it = std::find(v.begin(), v.end(), in.mac);
    if (owned && it == v.end()) v.push_back(in.mac);
    if (!owned && it != v.end()) v.erase(it);
  }
  // [sync] vrrp_instance: the master sends, the backup applies (keepalived's lvs_sync_daemon).
  if (cfg_->sync.role == config::Sync::Role::kFollow && instance == cfg_->sync.vrrp_instance) sync_.follow(owned, now_);
}

bool Engine::owned_vmac(uint32_t iface, const MacAddr& dst) const noexcept {
  const auto& v = owned_vmacs_[iface];
  return !v.empty() && std::find(v.begin(), v.end(), dst) != v.end();
}

bool Engine::service_healthy(uint32_t svc) const noexcept {
  const config::Service& s = cfg_->services[svc];
  for (const check::ServiceHealth& sh : health_.services()) {
    if (sh.protocol != s.protocol || sh.vip != s.vip || sh.port != s.port) continue;
    for (uint32_t r = sh.first_real; r < sh.first_real + sh.n_reals; ++r)
      if (health_.reals()[r].alive()) return true;
    return false;
  }
  return !s.reals.empty();  // no checker: its reals count as alive
}

void Engine::track_services(Instant now) noexcept {
  for (const auto& v : cfg_->vrrp_instances)
    for (const auto& t : v.track_services) vrrp_.set_service(t.index, service_healthy(t.index), now);
  announcer_.update(
      [this](Ipv4Addr vip) {
        for (uint32_t i = 0; i < cfg_->services.size(); ++i)
          if (cfg_->services[i].vip == vip && service_healthy(i)) return true;
        return false;
      },
      draining_, now);
}

void Engine::set_draining(bool on, Instant now) noexcept {
  now_ = now;
  draining_ = on;
  track_services(now);
}

// ---------------------------------------------------------------------------------------------
// ARP (RFC 826; replies as Linux sends them)

Verdict Engine::handle_arp(uint32_t iface, std::span<const uint8_t> frame, Instant now) noexcept {
  auto arp = ArpView<const uint8_t>::parse(frame.subspan(kEth));
  if (!arp) return drop(DropReason::kArpMalformed);
  MacAddr sha = arp->sha();
  Ipv4Addr spa = arp->spa();
  Ipv4Addr tpa = arp->tpa();
  if (sha.is_multicast() || sha.is_zero()) return drop(DropReason::kArpMalformed);
  if (spa.is_multicast() || spa.is_broadcast() || is_local(spa)) return drop(DropReason::kArpMalformed);

  bool for_us = owns_on_iface(iface, tpa);
  uint16_t op = arp->oper();
  if (op != static_cast<uint16_t>(wire::ArpOp::kRequest) && op != static_cast<uint16_t>(wire::ArpOp::kReply))
    return drop(DropReason::kArpMalformed);

  // Merge (RFC 826): update an entry we have; create one only when we are the target of a request.
  // A probe (sender 0.0.0.0, RFC 5227) teaches nothing.
  uint32_t learned = NeighTable::kNone;
  if (!spa.is_unspecified()) {
    bool create = for_us && op == static_cast<uint16_t>(wire::ArpOp::kRequest);
    learned = neigh_.learn(iface, spa, sha, now, create);
    if (learned != NeighTable::kNone) flush_neigh_queue(neigh_, learned);
  }

  if (op == static_cast<uint16_t>(wire::ArpOp::kRequest)) {
    if (!for_us)
      return drop((addr_kind(tpa) & (kAddrVirtual | kAddrOwned)) == kAddrVirtual ? DropReason::kVrrpBackup
                                                                                 : DropReason::kArpNotForUs);
    std::span<uint8_t> out(arp_buf_);
    // An instance's address is answered with its MAC (the VMAC with use_vmac), as keepalived's.
    const MacAddr mine = (addr_kind(tpa) & kAddrVirtual) ? *vrrp_.mac_for(tpa) : cfg_->interfaces[iface].mac;
    wire::fill_ethernet(out, sha, mine, wire::EtherType::kArp);
    ArpView<uint8_t>::unchecked(out.subspan(kEth)).fill(wire::ArpOp::kReply, mine, tpa, sha, spa);
    transmit(iface, out);
    counters_.arp_replies_sent++;
    return {Verdict::Kind::kConsumed, {}, iface};
  }
  if (learned == NeighTable::kNone) return drop(DropReason::kArpUnsolicited);
  return {Verdict::Kind::kConsumed, {}, iface};
}

void Engine::send_arp_request(uint32_t iface, Ipv4Addr target, const MacAddr* to) noexcept {
  std::span<uint8_t> out(arp_buf_);
  const MacAddr& mine = cfg_->interfaces[iface].mac;
  wire::fill_ethernet(out, to ? *to : MacAddr::broadcast(), mine, wire::EtherType::kArp);
  ArpView<uint8_t>::unchecked(out.subspan(kEth))
      .fill(wire::ArpOp::kRequest, mine, source_for(iface, target), MacAddr{}, target);
  transmit(iface, out);
  counters_.arp_requests_sent++;
}

Verdict Engine::output_ip(uint32_t iface, Ipv4Addr next_hop, std::span<uint8_t> frame, Instant now,
                          const Offload* off) noexcept {
  if (auto mac = neigh_.lookup(iface, next_hop, now)) {
    EthernetView<uint8_t>::unchecked(frame).set_dst(*mac);
    transmit(iface, frame, off);
    return {Verdict::Kind::kForwarded, {}, iface};
  }
  // Waiting frames are stored as wire frames: a deferred checksum is completed now; a super-frame
  // is not queued (it would be cut into more segments than a queue holds: TCP sends it again).
  if (off && off->gso_size) return drop(DropReason::kGsoNeighUnresolved);
  if (off && off->csum_partial) {
    gso::complete_checksum(Ipv4View<uint8_t>::unchecked(frame.subspan(kEth)));
    counters_.csum_completed++;
  }
  bool created = false;
  uint32_t idx = neigh_.resolve(iface, next_hop, now, created);
  if (idx == NeighTable::kNone) return drop(DropReason::kNeighTableFull);
  if (created) {
    send_arp_request(iface, next_hop);
    neigh_.mark_probed(idx, now);
  }
  if (neigh_.queue(idx).size() >= neigh_.params().queue_per_entry) return drop(DropReason::kNeighQueueFull);
  uint32_t pkt = pool_.store(frame);
  if (pkt == PacketPool::kNone) return drop(DropReason::kNeighQueueFull);
  neigh_.enqueue(idx, pkt);
  return {Verdict::Kind::kQueued, {}, iface};
}

// ---------------------------------------------------------------------------------------------
// IPv4 (RFC 791, RFC 1812)

Verdict Engine::handle_ipv4(uint32_t iface, std::span<const uint8_t> frame, bool l2_unicast, Instant now,
                            int depth) noexcept {
  wire::Ipv4Error err{};
  auto ip = ConstIp::parse(frame.subspan(kEth), &err);
  if (!ip) {
    switch (err) {
      case wire::Ipv4Error::kTruncated: return drop(DropReason::kIpv4Truncated);
      case wire::Ipv4Error::kBadVersion: return drop(DropReason::kIpv4BadVersion);
      case wire::Ipv4Error::kBadIhl: return drop(DropReason::kIpv4BadIhl);
      case wire::Ipv4Error::kBadLength: return drop(DropReason::kIpv4BadLength);
    }
  }
  if (!ip->verify_checksum()) return drop(DropReason::kIpv4BadChecksum);
  if (depth > 0) rx_off_ = {};  // a decapsulated datagram: the outer frame's offload is not its own

  // RFC 1812 §5.3.7: martian sources are not forwarded (nor answered).
  // One index lookup per address answers "directed broadcast" and "router address" together:
  // a source that is either (is_broadcast or is_local) is martian.
  Ipv4Addr src = ip->src(), dst = ip->dst();
  if (src.is_unspecified() || src.is_multicast() || src.is_loopback() || src.is_class_e() || src.is_broadcast() ||
      addr_kind(src) != 0 || director_.is_vip(src))
    return drop(DropReason::kIpv4BadSource);
  if (dst.is_unspecified() || dst.is_loopback() || (dst.is_class_e() && !dst.is_broadcast()))
    return drop(DropReason::kIpv4BadDestination);
  const uint8_t dst_kind = addr_kind(dst);
  if (dst.is_broadcast() || (dst_kind & kAddrDirectedBroadcast)) return drop(DropReason::kIpv4Broadcast);
  if (ip->protocol() == IpProto::kVrrp && !cfg_->vrrp_instances.empty() &&
      (dst == Ipv4Addr::from_octets(224, 0, 0, 18) || (dst_kind & kAddrRouter)))
    return vrrp_input(iface, *ip, now);
  if (dst.is_multicast()) {
    // The backup sync daemon's group and port on its interface (whole datagrams: a kernel master
    // whose sync_maxlen is above the MTU sends fragments, which are not reassembled here).
    if (ip->protocol() == IpProto::kUdp && !ip->is_fragment() && ip->payload().size() >= 8 &&
        sync_.wants(iface, dst, wire::load16(ip->payload(), 2)))
      return sync_input(*ip, now);
    return drop(DropReason::kIpv4Multicast);
  }
  // A backup does not answer for, nor forward to, its instances' addresses (the master does).
  if ((dst_kind & (kAddrVirtual | kAddrOwned)) == kAddrVirtual) return drop(DropReason::kVrrpBackup);

  // Transport headers are checked where they are complete: in unfragmented datagrams, which are
  // summarised once here for the IPVS path. A datagram to us with a broken transport header is a
  // counted drop; one in transit is routed all the same (RFC 1812: a router does not judge the
  // transport header, and ip_forward does not look at it), past the director: it has no flow.
  // Fragments are routed as they are, or reassembled first (below).
  const bool to_us = (dst_kind & kAddrRouter) || director_.is_vip(dst);
  PacketSummary pkt{{src, dst, 0, 0, ip->protocol()}, 0, static_cast<uint16_t>(ip->header_len()), ip->is_fragment()};
  bool transport_bad = false;
  auto bad_transport = [&](DropReason r) -> std::optional<Verdict> {
    if (to_us) return drop(r);
    transport_bad = true;
    return std::nullopt;
  };
  if (!pkt.fragment) {
    std::optional<Verdict> refused;
    switch (ip->protocol()) {
      case IpProto::kTcp: {
        auto tcp = TcpView<const uint8_t>::parse(ip->payload());
        if (!tcp) {
          refused = bad_transport(DropReason::kTcpTruncated);
          break;
        }
        pkt.key.sport = tcp->sport();
        pkt.key.dport = tcp->dport();
        pkt.tcp_flags = tcp->flags();
        break;
      }
      case IpProto::kUdp: {
        auto udp = UdpView<const uint8_t>::parse(ip->payload());
        if (!udp) {
          refused = bad_transport(DropReason::kUdpTruncated);
          break;
        }
        pkt.key.sport = udp->sport();
        pkt.key.dport = udp->dport();
        break;
      }
      case IpProto::kIcmp:
        if (!Icmpv4View<const uint8_t>::parse(ip->payload())) refused = bad_transport(DropReason::kIcmpTruncated);
        break;
      default: break;
    }
    if (refused) return *refused;
  }
  if (rx_off_.any() && !gso::valid(*ip, kEth, rx_off_)) return drop(DropReason::kOffloadInvalid);
  if (rx_off_.gso_size) counters_.gso_frames++;

  // Fragments to us are reassembled first, as the kernel's IPVS (ip_vs_gather_frags) and local
  // delivery (ip_local_deliver) do. So are TCP/UDP fragments in transit once the director has a
  // service, as ip_vs_out_hook does at FORWARD (a NAT real's fragmented reply must be matched to
  // its connection and leave from the VIP); each leaves in fragments no larger than it came.
  if (pkt.fragment && to_us) return reassemble(iface, frame, *ip, l2_unicast, now, depth);
  // Answers to health probes (to a router address, before a port-0 service on it could take them).
  if ((dst_kind & kAddrRouter) && health_.on_packet(*ip, now, rx_off_.csum_partial))
    return {Verdict::Kind::kConsumed, {}, iface};
  if (!transport_bad)
    if (auto v = ipvs_ingress(iface, frame, *ip, pkt, l2_unicast, now, depth)) return *v;
  if (to_us) return deliver_local(iface, *ip, l2_unicast, now);
  // RFC 1812 §5.3.4: a packet that arrived as a link-layer broadcast is not forwarded.
  if (!l2_unicast) return drop(DropReason::kEthNotForUs);
  // TCP/UDP fragments in transit are reassembled once the director has a service, as
  // ip_vs_out_hook does at the FORWARD hook (after ip_forward's route, TTL and MTU checks): a
  // NAT real's fragmented reply is matched to its connection and leaves from the VIP. Each
  // datagram leaves in fragments no larger than it came (frag_max_size).
  if (pkt.fragment && is_tcp_or_udp(ip->protocol()) && !director_.services().empty()) {
    if (auto refused = forward_checks(*ip, now)) return refused->verdict;
    return reassemble(iface, frame, *ip, l2_unicast, now, depth);
  }
  return forward(*ip, now);
}

Verdict Engine::deliver_local(uint32_t iface, ConstIp ip, bool l2_unicast, Instant now) noexcept {
  (void)iface;
  // Fragments never get here: handle_ipv4 hands them to reassemble() first.
  if (ip.protocol() == IpProto::kIcmp) {
    auto icmp = Icmpv4View<const uint8_t>::parse(ip.payload());  // length checked in handle_ipv4
    if (!icmp->verify_checksum()) return drop(DropReason::kIcmpBadChecksum);
    if (icmp->type() != icmp_type::kEchoRequest) return drop(DropReason::kIcmpLocalUnhandled);
    send_echo_reply(ip, now);
    return {Verdict::Kind::kConsumed, {}, iface};
  }
  // Nothing listens on the router's own addresses; a VIP's services were offered the packet in
  // ipvs_ingress (one that reaches here matched none, or may not open a connection). As the
  // kernel's stack answers: TCP gets a RST (tcp_v4_rcv no_tcp_socket), UDP ICMP port
  // unreachable, any other protocol ICMP protocol unreachable.
  if (ip.protocol() == IpProto::kTcp) {
    send_tcp_reset(ip, l2_unicast, now);
    return drop(DropReason::kLocalNoService);
  }
  const bool udp = ip.protocol() == IpProto::kUdp;
  send_icmp_error(icmp_type::kDestUnreachable, udp ? icmp_code::kPortUnreachable : icmp_code::kProtoUnreachable, 0, ip,
                  l2_unicast, ip.dst(), now);
  return drop(DropReason::kLocalNoService);
}

void Engine::send_tcp_reset(ConstIp ip, bool l2_unicast, Instant now) noexcept {
  // tcp_v4_rcv: only frames addressed to us (PACKET_HOST), with a valid checksum (a deferred one
  // is trusted, as CHECKSUM_PARTIAL is); tcp_v4_send_reset: never in answer to a RST.
  if (!l2_unicast) return;
  auto th = TcpView<const uint8_t>::parse(ip.payload());  // checked in handle_ipv4
  if (!rx_off_.csum_partial && !th->verify_checksum(ip.src(), ip.dst())) return;
  const uint8_t flags = th->flags();
  if (flags & tcp_flag::kRst) return;
  auto rt = routes_.lookup(ip.src());
  if (!rt) return;
  constexpr size_t kIpLen = 20 + TcpView<uint8_t>::kMinHeaderLen;
  std::span<uint8_t> out(icmp_buf_.data() + kHeadroom, kEth + kIpLen);
  std::fill(out.begin(), out.end(), uint8_t{0});
  wire::fill_ethernet(out, MacAddr{}, cfg_->interfaces[rt->iface].mac, wire::EtherType::kIpv4);
  std::span<uint8_t> tcp = out.subspan(kEth + 20);
  fill_reset(tcp, *th);
  TcpView<uint8_t>::unchecked(tcp).fill_checksum(ip.dst(), ip.src());
  // ip_send_unicast_reply from the per-CPU control socket: IP_PMTUDISC_DO, so DF and IP ID 0
  // (ip_select_ident_segs); TTL the default 64; TOS the segment's without ECN.
  Ipv4View<uint8_t>::unchecked(out.subspan(kEth))
      .fill(static_cast<uint8_t>(ip.tos() & ~0x03), static_cast<uint16_t>(kIpLen), 0, Ipv4View<uint8_t>::kFlagDf,
            kTtlOwn, IpProto::kTcp, ip.dst(), ip.src());
  counters_.tcp_resets_sent++;
  output_ip(rt->iface, rt->next_hop, out, now);
}

Verdict Engine::reassemble(uint32_t iface, std::span<const uint8_t> frame, ConstIp ip, bool l2_unicast, Instant now,
                           int depth) noexcept {
  if (!reasm_.enabled()) return drop(DropReason::kLocalFragment);
  std::span<uint8_t> out(reasm_buf_.data() + kHeadroom, kEth + frag::Reassembler::kMaxDatagram);
  const frag::Outcome r = reasm_.insert(ip, now, out.subspan(kEth));
  switch (r.kind) {
    case frag::Outcome::Kind::kHeld: return {Verdict::Kind::kConsumed, {}, iface};
    case frag::Outcome::Kind::kDropped:
      drops_.n[static_cast<size_t>(r.reason)] += r.frames;
      return Verdict::dropped(r.reason);
    case frag::Outcome::Kind::kComplete: break;
  }
  counters_.reassembled++;
  std::memcpy(out.data(), frame.data(), kEth);  // the completing fragment's Ethernet header
  rx_off_ = {};
  // The datagram leaves in fragments no larger than the largest that came in (ip_do_fragment
  // with IPCB(skb)->frag_max_size, set by ip_frag_reasm): reassembly must not make packets the
  // path behind us has not carried.
  frag_max_size_ = r.max_fragment;
  const Verdict v = handle_ipv4(iface, out.first(kEth + r.len), l2_unicast, now, depth);
  frag_max_size_ = 0;
  return v;
}

std::optional<Engine::Refused> Engine::forward_checks(ConstIp ip, Instant now,
                                                      std::optional<RouteResult>* route) noexcept {
  // Route first, then TTL, as Linux does (ip_route_input, then ip_forward): a TTL-1 packet with
  // no route gets net unreachable.
  auto rt = routes_.lookup(ip.dst());
  if (!rt) {
    send_icmp_error(icmp_type::kDestUnreachable, icmp_code::kNetUnreachable, 0, ip, true, std::nullopt, now);
    return Refused{drop(DropReason::kNoRoute)};
  }
  if (ip.ttl() <= 1) {
    send_icmp_error(icmp_type::kTimeExceeded, icmp_code::kTtlExceeded, 0, ip, true, std::nullopt, now);
    return Refused{drop(DropReason::kTtlExceeded)};
  }
  const uint32_t mtu = cfg_->interfaces[rt->iface].mtu;
  if (wire_len(ip) > mtu && ip.dont_fragment()) {
    send_icmp_error(icmp_type::kDestUnreachable, icmp_code::kFragNeeded, mtu & 0xffff, ip, true, std::nullopt, now);
    return Refused{drop(DropReason::kFragNeeded)};
  }
  if (route) *route = rt;
  return std::nullopt;
}

Verdict Engine::forward(ConstIp ip, Instant now, Rewrite rw) noexcept {
  std::optional<RouteResult> rt;
  if (auto refused = forward_checks(ip, now, &rt)) return refused->verdict;
  std::span<uint8_t> out(scratch_.data() + kHeadroom, kEth + ip.total_len());
  wire::fill_ethernet(out, MacAddr{}, cfg_->interfaces[rt->iface].mac, wire::EtherType::kIpv4);
  std::memcpy(out.data() + kEth, ip.bytes().data(), ip.total_len());
  auto mip = Ipv4View<uint8_t>::unchecked(out.subspan(kEth));
  mip.decrement_ttl();
  if (mip.header_len() > Ipv4View<uint8_t>::kMinHeaderLen &&
      mip.record_route(source_for(rt->iface, rt->next_hop)))  // ip_forward_options
    mip.fill_checksum();
  switch (rw.kind) {
    case Rewrite::Kind::kNone: break;
    case Rewrite::Kind::kNatOut: fwd::nat_out(mip, rw.addr, rw.port, rx_off_.csum_partial); break;
    case Rewrite::Kind::kNatIcmpOut: fwd::nat_icmp_out(mip, rw.addr, rw.port); break;
  }
  Verdict v = send_datagram(*rt, rt->next_hop, out, 0, now);
  if (v.kind != Verdict::Kind::kDropped) counters_.forwarded++;
  return v;
}

size_t Engine::wire_len(ConstIp ip) const noexcept {
  return rx_off_.gso_size ? gso::segment_ip_len(ip, rx_off_.gso_size) : ip.total_len();
}

Verdict Engine::send_datagram(const RouteResult& rt, Ipv4Addr next_hop, std::span<uint8_t> out, size_t encap,
                              Instant now) noexcept {
  uint32_t mtu = cfg_->interfaces[rt.iface].mtu;
  if (frag_max_size_ != 0 && encap == 0) mtu = std::min<uint32_t>(mtu, frag_max_size_);  // reassembled here
  auto whole = ConstIp::unchecked(std::span<const uint8_t>(out).subspan(kEth));          // outer if encapsulated
  auto inner = Ipv4View<uint8_t>::unchecked(out.subspan(kEth + encap));
  const Offload& off = rx_off_;
  // Deferred work can stay deferred only on a frame the adapter takes as it is: not encapsulated
  // (a receiver completes the checksum at csum_start of the outer datagram; a kernel would not
  // segment IPIP marked as plain TCP) and, for a super-frame, with segments that fit the MTU.
  const bool keep = params_.offload && encap == 0;
  if (off.gso_size) {
    auto sip = ConstIp::unchecked(std::span<const uint8_t>(inner.bytes()));
    if (keep && gso::segment_ip_len(sip, off.gso_size) <= mtu) return output_ip(rt.iface, next_hop, out, now, &off);
    // Cut it here (tcp_gso_segment), each segment encapsulated again if need be, with complete
    // checksums: either nothing takes offloads, or the segments are over the MTU (DF clear: DF
    // was refused before) and are fragmented as any datagram.
    Verdict v{Verdict::Kind::kForwarded, {}, rt.iface};
    counters_.gso_segmented++;
    const size_t n = gso::segment_count(sip, off.gso_size);
    for (size_t i = 0; i < n; ++i) {
      std::span<uint8_t> seg(seg_buf_.data() + kHeadroom, seg_buf_.size() - kHeadroom);
      std::memcpy(seg.data(), out.data(), kEth + encap);
      const size_t len = encap + gso::segment(sip, off.gso_size, i, seg.subspan(kEth + encap));
      seg = seg.first(kEth + len);
      if (encap) {
        auto o = Ipv4View<uint8_t>::unchecked(seg.subspan(kEth));
        o.set_total_len(static_cast<uint16_t>(len));
        if (i) wire::store16(seg, kEth + wire::ipv4_field::kIdent, next_ip_id());
        o.fill_checksum();
      }
      combine(v, len > mtu ? fragment_and_send(ConstIp::unchecked(std::span<const uint8_t>(seg).subspan(kEth)),
                                               rt.iface, rt.next_hop, mtu, 0, now)
                           : output_ip(rt.iface, next_hop, seg, now));
    }
    return v;
  }
  const size_t len = whole.total_len();
  if (off.csum_partial) {
    if (keep && len <= mtu) return output_ip(rt.iface, next_hop, out, now, &off);
    gso::complete_checksum(inner);
    counters_.csum_completed++;
  }
  return len > mtu ? fragment_and_send(whole, rt.iface, rt.next_hop, mtu, 0, now)
                   : output_ip(rt.iface, next_hop, out, now);
}

// RFC 791 §3.2 fragmentation: the first fragment keeps every option, later ones only the options
// whose "copied" bit is set; data is cut at multiples of 8 bytes.
Verdict Engine::fragment_and_send(ConstIp ip, uint32_t iface, Ipv4Addr next_hop, uint32_t mtu, uint8_t ttl_dec,
                                  Instant now, const Tunnel6* tun) noexcept {
  const size_t hl = ip.header_len();
  // Header of the later fragments: fixed part + copied options, padded with End of Option List.
  std::array<uint8_t, 60> later_hdr{};
  std::memcpy(later_hdr.data(), ip.bytes().data(), 20);
  size_t later_hl = 20;
  ip.for_each_option([&](std::span<const uint8_t> opt) {
    if (opt[0] & Ipv4View<uint8_t>::kOptCopied) {
      std::memcpy(later_hdr.data() + later_hl, opt.data(), opt.size());
      later_hl += opt.size();
    }
    return true;
  });
  later_hl = (later_hl + 3) & ~size_t{3};
  later_hdr[0] = static_cast<uint8_t>(0x40 | (later_hl / 4));

  auto data = ip.payload();
  const size_t base_off = ip.frag_offset();
  const bool orig_mf = ip.more_fragments();
  Verdict v{Verdict::Kind::kForwarded, {}, iface};
  const size_t encap = tun ? fwd::kIp6ipOverhead : 0;
  for (size_t off = 0; off < data.size();) {
    const bool first = off == 0;
    const size_t this_hl = first ? hl : later_hl;
    if (mtu < this_hl + 8) return drop(DropReason::kFragNeeded);  // cannot happen with mtu >= 68
    size_t chunk = std::min(data.size() - off, (mtu - this_hl) & ~size_t{7});
    const bool last = off + chunk == data.size();
    std::span<uint8_t> out(frag_scratch_.data() + kHeadroom, kEth + encap + this_hl + chunk);
    wire::fill_ethernet(out, MacAddr{}, cfg_->interfaces[iface].mac,
                        tun ? wire::EtherType::kIpv6 : wire::EtherType::kIpv4);
    std::memcpy(out.data() + kEth + encap, first ? ip.bytes().data() : later_hdr.data(), this_hl);
    std::memcpy(out.data() + kEth + encap + this_hl, data.data() + off, chunk);
    auto f = Ipv4View<uint8_t>::unchecked(out.subspan(kEth + encap));
    f.set_total_len(static_cast<uint16_t>(this_hl + chunk));
    uint16_t ff = static_cast<uint16_t>((ip.flags_frag() & Ipv4View<uint8_t>::kFlagDf) | ((base_off + off) / 8));
    if (!last || orig_mf) ff |= Ipv4View<uint8_t>::kFlagMf;
    f.set_flags_frag(ff);
    f.set_ttl(static_cast<uint8_t>(ip.ttl() - ttl_dec));
    f.fill_checksum();
    counters_.fragments_sent++;
    combine(v, tun ? output_tunneled6(*tun, out, now) : output_ip(iface, next_hop, out, now));
    off += chunk;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// ICMP we originate

bool Engine::icmp_token(Instant now) noexcept {
  const int64_t cost = 1000000 / std::max<uint32_t>(params_.icmp_errors_per_sec, 1);
  const int64_t cap = cost * params_.icmp_errors_burst;
  if (!icmp_started_) {
    icmp_started_ = true;
    icmp_credit_us_ = cap;
  } else {
    icmp_credit_us_ = std::min(cap, icmp_credit_us_ + std::max<int64_t>(0, (now - icmp_last_).us));
  }
  icmp_last_ = now;
  return icmp_credit_us_ >= cost;
}

void Engine::icmp_take() noexcept { icmp_credit_us_ -= 1000000 / std::max<uint32_t>(params_.icmp_errors_per_sec, 1); }

namespace {

/// icmpv4_mask_allow: the types of the default icmp_ratemask (0x1818: destination unreachable,
/// source quench, time exceeded, parameter problem) are limited per destination, but not
/// fragmentation needed (PMTU discovery).
bool peer_limited_type(uint8_t type, uint8_t code) noexcept {
  if (type == icmp_type::kDestUnreachable && code == icmp_code::kFragNeeded) return false;
  return type < 32 && ((1u << type) & 0x1818u) != 0;
}

}  // namespace

void Engine::send_icmp_error(uint8_t type, uint8_t code, uint32_t rest, ConstIp off, bool l2_unicast,
                             std::optional<Ipv4Addr> src, Instant now) noexcept {
  // RFC 1812 §4.3.2.7: never about an ICMP error, a non-first fragment, a link-layer or IP
  // broadcast/multicast, or a datagram whose source is not a unicast host.
  if (!l2_unicast || off.frag_offset() != 0) return;
  if (off.protocol() == IpProto::kIcmp) {
    auto p = off.payload();
    if (p.empty() || Icmpv4View<const uint8_t>::is_error_type(p[0])) return;
  }
  Ipv4Addr to = off.src();
  if (to.is_unspecified() || to.is_multicast() || is_broadcast(to) || to.is_loopback() || to.is_class_e()) return;
  if (is_local(to)) return;  // about a packet we originated (an echo reply that found no neighbour)
  if (off.dst().is_multicast() || is_broadcast(off.dst())) return;
  auto rt = routes_.lookup(to);
  if (!rt) return;
  // icmp_send: the global bucket first (icmpv4_global_allow), then the destination's own limit
  // (icmpv4_xrlim_allow); only an error that passes both spends a global token.
  if (!icmp_token(now)) {
    counters_.icmp_errors_rate_limited++;
    return;
  }
  if (peer_limited_type(type, code) && !icmp_peers_.allow(to, now)) {
    counters_.icmp_errors_peer_limited++;
    return;
  }
  icmp_take();
  const size_t limit = std::min<size_t>(kIcmpErrorMax, cfg_->interfaces[rt->iface].mtu);  // MTU >= 68
  const size_t quote = std::min(off.bytes().size(), limit - 20 - 8);
  const size_t ip_len = 20 + 8 + quote;
  std::span<uint8_t> out(icmp_buf_.data() + kHeadroom, kEth + ip_len);
  wire::fill_ethernet(out, MacAddr{}, cfg_->interfaces[rt->iface].mac, wire::EtherType::kIpv4);
  auto icmp = Icmpv4View<uint8_t>::unchecked(out.subspan(kEth + 20));
  icmp.set_type(type);
  icmp.set_code(code);
  icmp.set_rest(rest);
  std::memcpy(out.data() + kEth + 28, off.bytes().data(), quote);
  icmp.fill_checksum();
  Ipv4Addr from = src.value_or(source_for(rt->iface, rt->next_hop));
  Ipv4View<uint8_t>::unchecked(out.subspan(kEth))
      .fill(static_cast<uint8_t>((off.tos() & 0x1e) | kTosInternetControl), static_cast<uint16_t>(ip_len), next_ip_id(),
            0, kTtlOwn, IpProto::kIcmp, from, to);
  counters_.icmp_errors_sent++;
  ipvs_count_own_icmp(type, off, ip_len);
  output_ip(rt->iface, rt->next_hop, out, now);
}

void Engine::send_echo_reply(ConstIp req, Instant now) noexcept {
  auto rt = routes_.lookup(req.src());
  if (!rt) return;
  auto msg = req.payload();
  const size_t ip_len = 20 + msg.size();
  if (ip_len > cfg_->interfaces[rt->iface].mtu) return;
  std::span<uint8_t> out(icmp_buf_.data() + kHeadroom, kEth + ip_len);
  wire::fill_ethernet(out, MacAddr{}, cfg_->interfaces[rt->iface].mac, wire::EtherType::kIpv4);
  std::memcpy(out.data() + kEth + 20, msg.data(), msg.size());
  auto icmp = Icmpv4View<uint8_t>::unchecked(out.subspan(kEth + 20));
  icmp.set_type(icmp_type::kEchoReply);
  icmp.fill_checksum();
  Ipv4View<uint8_t>::unchecked(out.subspan(kEth))
      .fill(req.tos(), static_cast<uint16_t>(ip_len), next_ip_id(), 0, kTtlOwn, IpProto::kIcmp, req.dst(), req.src());
  counters_.echo_replies_sent++;
  output_ip(rt->iface, rt->next_hop, out, now);
}

}  // namespace vs

// IPVS semantics over the connection table: which packets belong to virtual services, scheduling
// (with persistence templates), binding connections to destinations (active/inactive counts,
// overload), the TCP/UDP state machine, per-dest/service/total stats, expiry, and the control
// operations (add/remove/edit a real). No packet bytes here: the engine parses, rewrites and
// sends; the director decides. Mirrors ip_vs_core.c / ip_vs_conn.c / ip_vs_ctl.c.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "base/rng.hpp"
#include "base/time.hpp"
#include "config/config.hpp"
#include "conn/conn_table.hpp"
#include "conn/tcp_state.hpp"
#include "drop.hpp"
#include "flow.hpp"
#include "ipvs/service.hpp"

namespace vs::ipvs {

/// What the director decided about a packet.
struct Decision {
  enum class Kind : uint8_t {
    kPass,     // not IPVS traffic: the router handles it (no connection, no service, or a TCP
               // packet that may not open a connection)
    kIn,       // client -> real: transmit by conn's method
    kOut,      // real -> client reply through us
    kDrop,     // counted drop with `reason`
    kNoDest,   // a service matched but no real is available: ICMP port unreachable (ip_vs_leave)
  };
  Kind kind = Kind::kPass;
  uint32_t conn = conn::kNone;
  DropReason reason{};
};

class Director {
public:
  Director(const config::Config& cfg, uint64_t seed);

  /// Classify a TCP/UDP packet (unfragmented; `tcp_flags` 0 for UDP), creating a connection when
  /// it opens one. kIn/kOut carry the connection; call in_packet/out_packet next.
  Decision classify(const FlowKey& k, uint8_t tcp_flags, Instant now) noexcept;

  /// Account a client->real packet (stats in, state transition); `ip_len` = IPv4 total length.
  void in_packet(uint32_t c, uint8_t tcp_flags, uint32_t ip_len, Instant now) noexcept;
  /// Account a real->client packet (state transition OUTPUT, stats out after rewriting).
  void out_packet(uint32_t c, uint8_t tcp_flags, uint32_t ip_len, Instant now) noexcept;
  /// After the packet was handled: re-arm the timer (ip_vs_conn_put), or free a one-packet conn.
  void put(uint32_t c, Instant now) noexcept;
  /// Count an ICMP error related to the connection, without a state change or re-arm.
  void count_in(uint32_t c, uint32_t ip_len) noexcept;
  void count_out(uint32_t c, uint32_t ip_len) noexcept;

  /// The connection a quoted datagram belongs to, for ICMP errors: `inner` is the quoted packet's
  /// flow; for an error travelling client->VIP it is the reply VIP->client, for one travelling
  /// real->client it is the request client->real.
  std::optional<conn::ConnTable::Hit> lookup(const FlowKey& k) const noexcept { return conns_.lookup(k); }

  std::optional<Instant> next_deadline() const noexcept { return conns_.next_deadline(); }
  void on_timer(Instant now) noexcept;

  // --- control plane (reload and vsadm build on these) ---
  Dest* add_dest(Service& svc, const config::Real& r);
  void remove_dest(Service& svc, Dest* d);
  void edit_dest(Service& svc, Dest* d, int32_t weight, uint32_t upper, uint32_t lower);

  // --- views ---
  std::vector<Service>& services() noexcept { return services_; }
  const std::vector<Service>& services() const noexcept { return services_; }
  Service* find_service(uint8_t proto, Ipv4Addr vip, uint16_t port) noexcept;
  const conn::ConnTable& conns() const noexcept { return conns_; }
  const conn::Timeouts& timeouts() const noexcept { return timeouts_; }
  const Stats& total() const noexcept { return total_; }
  uint64_t refused_full() const noexcept { return refused_full_; }

private:
  uint32_t schedule(Service& svc, const FlowKey& k, Instant now, Decision& d) noexcept;
  uint32_t new_conn(const conn::Conn& init, Dest* dest, Duration timeout, Instant now) noexcept;
  void bind(conn::Conn& c, Dest* d) noexcept;
  void unbind(conn::Conn& c) noexcept;
  void expire(uint32_t c, Instant now) noexcept;
  void expire_now(uint32_t c, Instant now) noexcept;
  void set_tcp_state(uint32_t c, conn::TcpDir dir, uint8_t flags) noexcept;
  void assure_template(uint32_t c) noexcept;
  static void add_in(Stats& s, uint32_t len) noexcept { s.inpkts++, s.inbytes += len; }
  static void add_out(Stats& s, uint32_t len) noexcept { s.outpkts++, s.outbytes += len; }

  std::vector<Service> services_;
  conn::Timeouts timeouts_;
  conn::ConnTable conns_;
  Rng rng_;
  Stats total_;
  uint64_t refused_full_ = 0;
};

}  // namespace vs::ipvs

// The connection sync daemon (docs/sync.md): the kernel's IPVS sync protocol
// (net/netfilter/ipvs/ip_vs_sync.c), so that a backup director has the master's connections and
// persistence templates when it takes over, and vsrouter can back up a kernel director or be
// backed up by one.
//
// Master: the director hands over each connection when the kernel's rules say so
// (ipvs::Director::set_sync_master); the daemon packs the entries into version 1 messages of at
// most maxlen bytes and sends one when it is full or `flush` after its first entry.
// Backup: each message received on the sync interface, to the group and port, is checked
// (framing, syncid, peers) and its entries applied to the director (ipvs::Director::apply_synced).
// Roles follow config [sync] (a VRRP instance, or a fixed state) and vsadm --start-daemon /
// --stop-daemon.
//
// Sans-I/O like the engine: messages leave through SyncNet and arrive as UDP payloads, the flush
// timer runs on the engine's clock. One message buffer, fixed at start.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/addr.hpp"
#include "base/time.hpp"
#include "config/config.hpp"
#include "ipvs/director.hpp"
#include "wire/ipvs_sync.hpp"

namespace vs::sync {

/// One daemon's parameters (ipvsadm --start-daemon's options).
struct DaemonCfg {
  uint32_t interface = 0;
  uint8_t syncid = 0;
  uint32_t maxlen = 1472;
  Ipv4Addr group = Ipv4Addr{wire::kSyncGroup};
  uint16_t port = wire::kSyncPort;
  uint8_t ttl = 1;
  friend bool operator==(const DaemonCfg&, const DaemonCfg&) = default;
};

/// What the engine does for the daemon.
class SyncNet {
public:
  virtual ~SyncNet() = default;
  /// A UDP datagram with payload `msg` from `cfg.interface`'s address to cfg.group:cfg.port.
  virtual void send_sync(const DaemonCfg& cfg, std::span<const uint8_t> msg, Instant now) noexcept = 0;
};

/// Why a received message was not taken (the engine counts each as a drop reason).
enum class Reject : uint8_t {
  kNone,
  kMalformed,    // its framing (wire::SyncError) is broken
  kOtherSyncid,  // a syncid other than ours (ours not 0)
  kForeignPeer,  // not from one of [sync] peers
};

/// What became of received entries (vsrouter_sync_entries_received_total{result}).
enum class EntryResult : uint8_t {
  kCreated,
  kUpdated,
  kStale,
  kNoService,
  kNoReal,
  kTableFull,
  kUnsupported,
  kSkipIpv6,
  kSkipOption,
  kSkipFlags,
  kSkipProtocol,
  kSkipState,
  kSkipPersistenceEngine,
};
inline constexpr size_t kEntryResults = 13;
std::string_view entry_result_name(EntryResult r) noexcept;

struct Counters {
  uint64_t messages_sent = 0, entries_sent = 0, bytes_sent = 0;
  uint64_t messages_received = 0;                 // taken (framing, syncid and peer fine), whatever their entries
  std::array<uint64_t, kEntryResults> entries{};  // received entries by result
};

class SyncDaemon final : public ipvs::SyncSink {
public:
  SyncDaemon(const config::Config& cfg, ipvs::Director& director, SyncNet& net);

  /// The [sync] table's defaults for a daemon (ipvsadm --start-daemon starts from them).
  DaemonCfg defaults() const noexcept { return defaults_; }
  /// ipvsadm --start-daemon master|backup (a running one keeps running: the kernel refuses with
  /// EEXIST, `false` here) and --stop-daemon (`false`: it was not running).
  bool start_master(const DaemonCfg& c, Instant now) noexcept;
  bool start_backup(const DaemonCfg& c) noexcept;
  bool stop_master(Instant now) noexcept;
  bool stop_backup() noexcept;
  /// Follow a VRRP instance (keepalived's lvs_sync_daemon IF INSTANCE): master while it is
  /// MASTER, backup otherwise (the [sync] parameters).
  void follow(bool master, Instant now) noexcept;
  const std::optional<DaemonCfg>& master() const noexcept { return master_; }
  const std::optional<DaemonCfg>& backup() const noexcept { return backup_; }

  // Master side.
  void sync_conn(const wire::SyncEntry& e, Instant now) noexcept override;
  std::optional<Instant> next_deadline() const noexcept { return flush_at_; }
  void on_timer(Instant now) noexcept;

  // Backup side: a UDP payload that arrived on `iface` from `src` to `dst`:`dport`. Whether it
  // is the backup's at all (interface, group, port) is `wants`.
  bool wants(uint32_t iface, Ipv4Addr dst, uint16_t dport) const noexcept {
    return backup_ && iface == backup_->interface && dst == backup_->group && dport == backup_->port;
  }
  Reject on_message(Ipv4Addr src, std::span<const uint8_t> payload, Instant now) noexcept;

  const Counters& counters() const noexcept { return counters_; }

private:
  void flush(Instant now) noexcept;
  void apply_rules() noexcept;

  const config::Sync cfg_;
  ipvs::Director& director_;
  SyncNet& net_;
  DaemonCfg defaults_;
  std::vector<uint32_t> mtus_;  // per interface: a message is at most the MTU less 28
  std::optional<DaemonCfg> master_, backup_;
  std::vector<uint8_t> buf_;
  wire::SyncWriter writer_;
  std::optional<Instant> flush_at_;
  Counters counters_;
};

}  // namespace vs::sync

#include "sync/sync.hpp"

#include <algorithm>

namespace vs::sync {

std::string_view entry_result_name(EntryResult r) noexcept {
  switch (r) {
    case EntryResult::kCreated: return "created";
    case EntryResult::kUpdated: return "updated";
    case EntryResult::kStale: return "stale";
    case EntryResult::kNoService: return "no_service";
    case EntryResult::kNoReal: return "no_real";
    case EntryResult::kTableFull: return "table_full";
    case EntryResult::kUnsupported: return "unsupported";
    case EntryResult::kSkipIpv6: return "ipv6";
    case EntryResult::kSkipOption: return "unknown_option";
    case EntryResult::kSkipFlags: return "bad_flags";
    case EntryResult::kSkipProtocol: return "bad_protocol";
    case EntryResult::kSkipState: return "bad_state";
    case EntryResult::kSkipPersistenceEngine: return "persistence_engine";
  }
  return "?";
}

namespace {

EntryResult result_of(ipvs::SyncApplied a) noexcept {
  switch (a) {
    case ipvs::SyncApplied::kCreated: return EntryResult::kCreated;
    case ipvs::SyncApplied::kUpdated: return EntryResult::kUpdated;
    case ipvs::SyncApplied::kStale: return EntryResult::kStale;
    case ipvs::SyncApplied::kNoService: return EntryResult::kNoService;
    case ipvs::SyncApplied::kNoReal: return EntryResult::kNoReal;
    case ipvs::SyncApplied::kTableFull: return EntryResult::kTableFull;
    case ipvs::SyncApplied::kUnsupported: return EntryResult::kUnsupported;
  }
  return EntryResult::kUnsupported;
}

EntryResult result_of(wire::SyncSkip s) noexcept {
  switch (s) {
    case wire::SyncSkip::kIpv6: return EntryResult::kSkipIpv6;
    case wire::SyncSkip::kMandatoryOption: return EntryResult::kSkipOption;
    case wire::SyncSkip::kFlags: return EntryResult::kSkipFlags;
    case wire::SyncSkip::kProtocol: return EntryResult::kSkipProtocol;
    case wire::SyncSkip::kState: return EntryResult::kSkipState;
    case wire::SyncSkip::kPersistenceEngine: return EntryResult::kSkipPersistenceEngine;
    case wire::SyncSkip::kNone: break;
  }
  return EntryResult::kUnsupported;
}

}  // namespace

SyncDaemon::SyncDaemon(const config::Config& cfg, ipvs::Director& director, SyncNet& net)
    : cfg_(cfg.sync), director_(director), net_(net), buf_(65535), writer_(buf_) {
  defaults_.interface = cfg_.interface;
  defaults_.syncid = cfg_.syncid;
  defaults_.group = cfg_.group;
  defaults_.port = cfg_.port;
  defaults_.ttl = cfg_.ttl;
  for (const config::Interface& i : cfg.interfaces) mtus_.push_back(i.mtu);
  // The kernel's master: 1500 less the IPv4 and UDP headers, whatever the interface's MTU.
  defaults_.maxlen = cfg_.maxlen ? cfg_.maxlen : 1472;
  switch (cfg_.role) {
    case config::Sync::Role::kBackup:
    case config::Sync::Role::kBoth:
    case config::Sync::Role::kFollow: backup_ = defaults_; break;  // a follower starts as backup
    case config::Sync::Role::kMaster:
    case config::Sync::Role::kNone: break;
  }
  // A fixed master starts with the engine (Engine::start calls start_master through follow()).
}

void SyncDaemon::apply_rules() noexcept {
  ipvs::SyncRules r;
  r.threshold = cfg_.threshold;
  r.period = cfg_.period;
  r.refresh_period = cfg_.refresh_period;
  r.retries = cfg_.retries;
  r.persist_mode = cfg_.persist_mode;
  r.resync_before_expiry = cfg_.resync_before_expiry;
  director_.set_sync_master(master_ ? this : nullptr, r);
}

bool SyncDaemon::start_master(const DaemonCfg& c, Instant now) noexcept {
  (void)now;
  if (master_) return false;
  master_ = c;
  // One datagram each: at most the interface's MTU less the IPv4 and UDP headers (the kernel
  // lets a larger sync_maxlen fragment; vsrouter keeps them whole), at least one entry.
  const uint32_t mtu = c.interface < mtus_.size() ? mtus_[c.interface] : 1500;
  master_->maxlen = std::clamp<uint32_t>(c.maxlen, 8 + 36, std::max<uint32_t>(8 + 36, mtu - 28));
  writer_ = wire::SyncWriter(std::span(buf_).first(master_->maxlen), c.syncid);
  flush_at_.reset();
  apply_rules();
  return true;
}

bool SyncDaemon::stop_master(Instant now) noexcept {
  if (!master_) return false;
  flush(now);  // what is queued still goes (the kernel's master thread sends its queue on stop)
  master_.reset();
  apply_rules();
  return true;
}

bool SyncDaemon::start_backup(const DaemonCfg& c) noexcept {
  if (backup_) return false;
  backup_ = c;
  return true;
}

bool SyncDaemon::stop_backup() noexcept {
  if (!backup_) return false;
  backup_.reset();
  return true;
}

void SyncDaemon::follow(bool master, Instant now) noexcept {
  // keepalived (vrrp.c): on MASTER the backup daemon stops and the master daemon starts; on
  // leaving MASTER the reverse.
  if (master) {
    stop_backup();
    start_master(defaults_, now);
  } else {
    stop_master(now);
    start_backup(defaults_);
  }
}

void SyncDaemon::sync_conn(const wire::SyncEntry& e, Instant now) noexcept {
  if (!master_) return;
  if (!writer_.add(e)) {
    flush(now);
    if (!writer_.add(e)) return;  // larger than maxlen allows: cannot be sent (maxlen >= 44 fits one)
  }
  if (!flush_at_) flush_at_ = now + cfg_.flush;
}

void SyncDaemon::on_timer(Instant now) noexcept {
  if (flush_at_ && *flush_at_ <= now) flush(*flush_at_);
}

void SyncDaemon::flush(Instant now) noexcept {
  flush_at_.reset();
  if (writer_.count() == 0 || !master_) return;
  net_.send_sync(*master_, writer_.message(), now);
  counters_.messages_sent++;
  counters_.entries_sent += writer_.count();
  counters_.bytes_sent += writer_.size();
  writer_.reset();
}

Reject SyncDaemon::on_message(Ipv4Addr src, std::span<const uint8_t> payload, Instant now) noexcept {
  if (!backup_) return Reject::kNone;
  if (!cfg_.peers.empty() && std::find(cfg_.peers.begin(), cfg_.peers.end(), src) == cfg_.peers.end())
    return Reject::kForeignPeer;
  auto m = wire::SyncMessage::parse(payload);
  if (!m) return Reject::kMalformed;
  if (backup_->syncid != 0 && m->syncid() != backup_->syncid) return Reject::kOtherSyncid;
  counters_.messages_received++;
  // Entries are applied as they are read; a framing error stops there (the kernel drops the rest
  // of the message, the entries before it stand): the message counts as malformed.
  const wire::SyncError err = m->walk([&](const wire::SyncEntry& e) {
    const EntryResult r =
        e.skip != wire::SyncSkip::kNone ? result_of(e.skip) : result_of(director_.apply_synced(e, now));
    counters_.entries[static_cast<size_t>(r)]++;
  });
  return err == wire::SyncError::kNone ? Reject::kNone : Reject::kMalformed;
}

}  // namespace vs::sync

// IPVS connection synchronisation messages, as the kernel's sync daemon sends and receives them
// (net/netfilter/ipvs/ip_vs_sync.c, Linux 6.1): UDP datagrams to 224.0.0.81:8848, IPv4 entries.
//
// Version 1 (sent by default since Linux 2.6.39):
//   header, 8 bytes:  reserved = 0 | syncid | size (be16, the whole message) | count | version = 1 | spare = 0 (be16)
//   entry, 36 bytes:  type (bit 0: IPv6) | protocol | ver_size (be16: version 4 bits = 0, size 12 bits,
//                     the entry with its options, without padding) | flags (be32) | state (be16) |
//                     cport | vport | dport (be16) | fwmark (be32) | timeout (be32, seconds) |
//                     caddr | vaddr | daddr (be32; IPv6: 16 bytes each, a 72-byte entry)
//   options (TLV):    type | length | data; 1 SEQ_DATA (24 bytes: in_seq, out_seq, each init_seq,
//                     delta, previous_delta), 2 PE_DATA, 3 PE_NAME; type | 0x40: optional (an
//                     unknown optional one is skipped, an unknown mandatory one skips the entry)
//   Each entry starts 4-byte aligned; the padding is between entries (the last is not padded)
//   and counts in the header's size.
// Version 0 (sync_version = 0): header nr_conns | syncid | size (be16); entries of 24 bytes:
//   reserved | protocol | cport | vport | dport | caddr | vaddr | daddr | flags (be16) | state (be16),
//   followed by the 24 bytes of sequence data when flags has IN_SEQ or OUT_SEQ. No timeout, no fwmark.
// A message is version 1 when its version byte is 1 and its reserved and spare fields are 0
// (ip_vs_process_message); otherwise it is read as version 0, whose first byte is its count.
//
// SyncMessage::walk decodes each entry in turn as the kernel does: a framing error stops the walk
// (the entries before it stand); an entry the kernel would skip (unknown mandatory option, bad
// flags, unsupported protocol or state) comes out with `skip` set and its reason.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "base/addr.hpp"
#include "wire/bytes.hpp"

namespace vs::wire {

namespace sync_flag {  // IP_VS_CONN_F_* (include/uapi/linux/ip_vs.h)
inline constexpr uint32_t kFwdMask = 0x0007, kMasq = 0x0000, kLocalNode = 0x0001, kTunnel = 0x0002, kDroute = 0x0003;
inline constexpr uint32_t kSync = 0x0020, kHashed = 0x0040, kNoOutput = 0x0080, kInactive = 0x0100;
inline constexpr uint32_t kOutSeq = 0x0200, kInSeq = 0x0400, kSeqMask = 0x0600, kNoCport = 0x0800;
inline constexpr uint32_t kTemplate = 0x1000, kOnePacket = 0x2000;
/// What a backup keeps of a received entry's flags (IP_VS_CONN_F_BACKUP_MASK).
inline constexpr uint32_t kBackupMask = kFwdMask | kNoOutput | kInactive | kSeqMask | kNoCport | kTemplate;
/// What a backup updates on an entry it has (IP_VS_CONN_F_BACKUP_UPD_MASK).
inline constexpr uint32_t kBackupUpdateMask = kInactive | kSeqMask;
}  // namespace sync_flag

inline constexpr uint32_t kSyncGroup = 0xe0000051;  // 224.0.0.81 (IP_VS_SYNC_GROUP)
inline constexpr uint16_t kSyncPort = 8848;         // IP_VS_SYNC_PORT

/// One direction's TCP sequence adjustment (struct ip_vs_seq), carried for application helpers
/// (FTP); vsrouter has none, so it sends none and keeps what it receives only to pass it on.
struct SyncSeq {
  uint32_t init_seq = 0, delta = 0, previous_delta = 0;
  friend bool operator==(const SyncSeq&, const SyncSeq&) = default;
};

/// Why the kernel would skip one entry and go on with the next (ip_vs_proc_sync_conn's retc > 0).
enum class SyncSkip : uint8_t {
  kNone,
  kIpv6,              // an IPv6 entry (vsrouter's services are IPv4)
  kMandatoryOption,   // an unknown option without the optional bit
  kFlags,             // ONE_PACKET, or TEMPLATE with NO_CPORT (ip_vs_sync_validate_flags)
  kProtocol,          // neither TCP nor UDP (for a connection; a template may be any)
  kState,             // beyond the protocol's states (TCP 0..10, UDP 0, templates 0..1)
  kPersistenceEngine  // PE_DATA / PE_NAME (SIP persistence): vsrouter has no persistence engine
};

/// Why a message was dropped, or its walk stopped (the kernel's "Dropping buffer").
enum class SyncError : uint8_t {
  kNone,
  kShort,           // shorter than a header
  kSize,            // the header's size is not the datagram's length
  kEntryTruncated,  // an entry (or its options) runs past the message
  kEntryVersion,    // an entry of a version other than 0 (ver_size's top 4 bits)
  kEntryType,       // an entry type other than IPv4 (0) or IPv6 (1)
  kOption,          // an option of length 0, past its entry, of a wrong length, or twice
};

/// One decoded entry, in host byte order.
struct SyncEntry {
  SyncSkip skip = SyncSkip::kNone;
  uint8_t protocol = 0;
  uint32_t flags = 0;  // as sent (the receiver masks them: sync_flag::kBackupMask)
  uint16_t state = 0;
  uint16_t cport = 0, vport = 0, dport = 0;
  uint32_t fwmark = 0;
  uint32_t timeout_s = 0;  // version 1: the connection's timeout; 0 in version 0 (the receiver's own)
  Ipv4Addr caddr, vaddr, daddr;
  bool has_seq = false;
  SyncSeq in_seq, out_seq;
  friend bool operator==(const SyncEntry&, const SyncEntry&) = default;
};

class SyncMessage {
public:
  static constexpr size_t kHeaderV0 = 4, kHeaderV1 = 8;
  static constexpr size_t kEntryV0 = 24, kEntryV1 = 36, kEntryV1Ipv6 = 72, kSeqLen = 24;
  static constexpr uint8_t kOptSeq = 1, kOptPeData = 2, kOptPeName = 3, kOptOptional = 0x40;
  static constexpr uint32_t kTcpStates = 11, kUdpStates = 1, kTemplateStates = 2;

  /// The header checks of ip_vs_process_message: long enough, and its size the datagram's.
  static std::optional<SyncMessage> parse(std::span<const uint8_t> b, SyncError* err = nullptr) noexcept {
    auto fail = [err](SyncError e) {
      if (err) *err = e;
      return std::nullopt;
    };
    if (b.size() < kHeaderV0) return fail(SyncError::kShort);
    if (load16(b, 2) != b.size()) return fail(SyncError::kSize);
    return SyncMessage(b);
  }

  uint8_t version() const noexcept {
    return b_.size() >= kHeaderV1 && b_[5] == 1 && b_[0] == 0 && load16(b_, 6) == 0 ? 1 : 0;
  }
  uint8_t syncid() const noexcept { return b_[1]; }
  uint8_t count() const noexcept { return version() == 1 ? b_[4] : b_[0]; }
  std::span<const uint8_t> bytes() const noexcept { return b_; }

  /// Calls f(const SyncEntry&) for each of count() entries, in order, until one does not frame;
  /// returns that framing error, or kNone when every entry was walked.
  template <class F>
  SyncError walk(F&& f) const {
    return version() == 1 ? walk_v1(f) : walk_v0(f);
  }

private:
  explicit SyncMessage(std::span<const uint8_t> b) noexcept : b_(b) {}

  static SyncSkip check(const SyncEntry& e) noexcept {
    using namespace sync_flag;
    if ((e.flags & kOnePacket) || ((e.flags & kNoCport) && (e.flags & kTemplate))) return SyncSkip::kFlags;
    if (e.flags & kTemplate) return e.state < kTemplateStates ? SyncSkip::kNone : SyncSkip::kState;
    if (e.protocol == 6) return e.state < kTcpStates ? SyncSkip::kNone : SyncSkip::kState;
    if (e.protocol == 17) return e.state < kUdpStates ? SyncSkip::kNone : SyncSkip::kState;
    return SyncSkip::kProtocol;
  }
  static SyncSeq seq_at(std::span<const uint8_t> b, size_t off) noexcept {
    return {load32(b, off), load32(b, off + 4), load32(b, off + 8)};
  }

  template <class F>
  SyncError walk_v0(F& f) const {
    size_t p = kHeaderV0;
    for (uint32_t i = 0; i < b_[0]; ++i) {
      if (p + kEntryV0 > b_.size()) return SyncError::kEntryTruncated;
      SyncEntry e;
      e.protocol = b_[p + 1];
      e.cport = load16(b_, p + 2);
      e.vport = load16(b_, p + 4);
      e.dport = load16(b_, p + 6);
      e.caddr = Ipv4Addr{load32(b_, p + 8)};
      e.vaddr = Ipv4Addr{load32(b_, p + 12)};
      e.daddr = Ipv4Addr{load32(b_, p + 16)};
      e.flags = load16(b_, p + 20);
      e.state = load16(b_, p + 22);
      if (e.flags & sync_flag::kSeqMask) {
        if (p + kEntryV0 + kSeqLen > b_.size()) return SyncError::kEntryTruncated;
        e.has_seq = true;
        e.in_seq = seq_at(b_, p + kEntryV0);
        e.out_seq = seq_at(b_, p + kEntryV0 + 12);
        p += kSeqLen;
      }
      p += kEntryV0;
      e.skip = check(e);
      f(static_cast<const SyncEntry&>(e));
    }
    return SyncError::kNone;
  }

  template <class F>
  SyncError walk_v1(F& f) const {
    size_t next = kHeaderV1;
    for (uint32_t i = 0; i < b_[4]; ++i) {
      const size_t p = next;
      if (p + kEntryV1 > b_.size()) return SyncError::kEntryTruncated;  // the kernel asks for an IPv4 entry
      const uint16_t ver_size = load16(b_, p + 2);
      const size_t size = ver_size & 0x0fff, end = p + size;
      if (end > b_.size()) return SyncError::kEntryTruncated;
      if (ver_size >> 12) return SyncError::kEntryVersion;
      next = p + ((size + 3) & ~size_t{3});
      SyncEntry e;
      size_t q;
      if (b_[p] & 1) {
        e.skip = SyncSkip::kIpv6;
        q = p + kEntryV1Ipv6;
      } else if (b_[p] == 0) {
        q = p + kEntryV1;
      } else {
        return SyncError::kEntryType;
      }
      if (q > end) return SyncError::kEntryTruncated;
      // The options: SEQ_DATA once and 24 bytes long, PE_DATA (<= 255) and PE_NAME (<= 16) once each.
      bool seen_seq = false, seen_data = false, seen_name = false, mandatory = false;
      while (q < end) {
        if (q + 2 > end) return SyncError::kOption;
        const uint8_t type = b_[q], len = b_[q + 1];
        q += 2;
        if (len == 0 || q + len > end) return SyncError::kOption;
        switch (type & ~kOptOptional) {
          case kOptSeq:
            if (len != kSeqLen || seen_seq) return SyncError::kOption;
            seen_seq = true;
            e.has_seq = true;
            e.in_seq = seq_at(b_, q);
            e.out_seq = seq_at(b_, q + 12);
            break;
          case kOptPeData:
            if (seen_data) return SyncError::kOption;
            seen_data = true;
            break;
          case kOptPeName:
            if (len > 16 || seen_name) return SyncError::kOption;
            seen_name = true;
            break;
          default:
            if (!(type & kOptOptional)) mandatory = true;
        }
        q += len;
      }
      e.protocol = b_[p + 1];
      e.flags = load32(b_, p + 4);
      e.state = load16(b_, p + 8);
      e.cport = load16(b_, p + 10);
      e.vport = load16(b_, p + 12);
      e.dport = load16(b_, p + 14);
      e.fwmark = load32(b_, p + 16);
      e.timeout_s = load32(b_, p + 20);
      if (e.skip == SyncSkip::kNone) {
        e.caddr = Ipv4Addr{load32(b_, p + 24)};
        e.vaddr = Ipv4Addr{load32(b_, p + 28)};
        e.daddr = Ipv4Addr{load32(b_, p + 32)};
        if (mandatory) e.skip = SyncSkip::kMandatoryOption;
        else if (SyncSkip s = check(e); s != SyncSkip::kNone) e.skip = s;
        else if (seen_data) e.skip = SyncSkip::kPersistenceEngine;
      }
      f(static_cast<const SyncEntry&>(e));
    }
    return SyncError::kNone;
  }

  std::span<const uint8_t> b_;
};

/// Builds version 1 messages of IPv4 entries into a buffer of the maximum message length
/// (sync_maxlen: the kernel's default is the interface MTU less the IPv4 and UDP headers).
class SyncWriter {
public:
  explicit SyncWriter(std::span<uint8_t> buf, uint8_t syncid = 0) noexcept : b_(buf), syncid_(syncid) { reset(); }

  void reset() noexcept {
    len_ = SyncMessage::kHeaderV1;
    count_ = 0;
    write_header();
  }
  void set_syncid(uint8_t id) noexcept {
    syncid_ = id;
    write_header();
  }
  /// The length of `e` in a message after `count` entries: padding to 4 bytes before it, then
  /// the entry and its sequence option.
  size_t room_for(const SyncEntry& e) const noexcept {
    const size_t pad = count_ == 0 ? 0 : (4 - len_ % 4) % 4;
    return pad + SyncMessage::kEntryV1 + (e.has_seq ? 2 + SyncMessage::kSeqLen : 0);
  }
  /// Appends `e` (HASHED cleared, as the kernel sends); false when it does not fit or 255
  /// entries are in (the count is one byte).
  bool add(const SyncEntry& e) noexcept {
    const size_t need = room_for(e);
    if (count_ == 255 || len_ + need > b_.size()) return false;
    size_t p = len_;
    while (p % 4) b_[p++] = 0;
    const size_t size = SyncMessage::kEntryV1 + (e.has_seq ? 2 + SyncMessage::kSeqLen : 0);
    b_[p] = 0;  // IPv4
    b_[p + 1] = e.protocol;
    store16(b_, p + 2, static_cast<uint16_t>(size));
    store32(b_, p + 4, e.flags & ~sync_flag::kHashed);
    store16(b_, p + 8, e.state);
    store16(b_, p + 10, e.cport);
    store16(b_, p + 12, e.vport);
    store16(b_, p + 14, e.dport);
    store32(b_, p + 16, e.fwmark);
    store32(b_, p + 20, e.timeout_s);
    store32(b_, p + 24, e.caddr.v);
    store32(b_, p + 28, e.vaddr.v);
    store32(b_, p + 32, e.daddr.v);
    if (e.has_seq) {
      size_t q = p + SyncMessage::kEntryV1;
      b_[q] = SyncMessage::kOptSeq;
      b_[q + 1] = SyncMessage::kSeqLen;
      q += 2;
      for (const SyncSeq* s : {&e.in_seq, &e.out_seq}) {
        store32(b_, q, s->init_seq);
        store32(b_, q + 4, s->delta);
        store32(b_, q + 8, s->previous_delta);
        q += 12;
      }
    }
    len_ = p + size;
    count_++;
    write_header();
    return true;
  }
  uint8_t count() const noexcept { return count_; }
  size_t size() const noexcept { return len_; }
  std::span<const uint8_t> message() const noexcept { return b_.first(len_); }

private:
  void write_header() noexcept {
    b_[0] = 0;
    b_[1] = syncid_;
    store16(b_, 2, static_cast<uint16_t>(len_));
    b_[4] = count_;
    b_[5] = 1;
    store16(b_, 6, 0);
  }
  std::span<uint8_t> b_;
  uint8_t syncid_;
  size_t len_ = 0;
  uint8_t count_ = 0;
};

}  // namespace vs::wire

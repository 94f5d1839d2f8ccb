// Frame buffers. Frames are linear (TAP and pcap deliver whole frames: no fragment lists) and sit
// after kHeadroom bytes. A received frame is read-only: a forwarded datagram is copied once into
// one of the engine's scratch buffers, at an offset that leaves room for the Ethernet header and,
// for TUN, the outer IPv4 header, so encapsulating costs no second copy. The pool (frames
// waiting for ARP) is allocated once; exhaustion is a counted drop, never an allocation.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace vs {

inline constexpr size_t kHeadroom = 64;
inline constexpr size_t kMaxFrame = 9000 + 14;  // largest IP MTU the config allows, plus Ethernet
inline constexpr size_t kTailroom = 64;         // a frame may grow after a rewrite (IPIP: +20)
inline constexpr size_t kBufSize = kHeadroom + kMaxFrame + kTailroom;
// A TCP super-frame from a TAP with TSO (offload.hpp): one IPv4 datagram of up to 64 KiB.
inline constexpr size_t kMaxGsoFrame = 14 + 65535;
inline constexpr size_t kGsoBufSize = kHeadroom + kMaxGsoFrame + kTailroom;

/// A fixed set of frame buffers addressed by index.
class PacketPool {
public:
  static constexpr uint32_t kNone = UINT32_MAX;

  explicit PacketPool(uint32_t count) : data_(size_t{count} * kBufSize), len_(count, 0), free_(count) {
    for (uint32_t i = 0; i < count; ++i) free_[i] = count - 1 - i;
  }

  /// Copy a frame into a free buffer; kNone if the pool is empty or the frame too large.
  uint32_t store(std::span<const uint8_t> frame) noexcept {
    if (free_.empty() || frame.size() > kMaxFrame) return kNone;
    uint32_t i = free_.back();
    free_.pop_back();
    std::memcpy(data_.data() + size_t{i} * kBufSize + kHeadroom, frame.data(), frame.size());
    len_[i] = static_cast<uint32_t>(frame.size());
    return i;
  }
  std::span<uint8_t> frame(uint32_t i) noexcept { return {data_.data() + size_t{i} * kBufSize + kHeadroom, len_[i]}; }
  void free(uint32_t i) noexcept { free_.push_back(i); }  // capacity reserved: never reallocates
  uint32_t available() const noexcept { return static_cast<uint32_t>(free_.size()); }

private:
  std::vector<uint8_t> data_;
  std::vector<uint32_t> len_;
  std::vector<uint32_t> free_;
};

}  // namespace vs

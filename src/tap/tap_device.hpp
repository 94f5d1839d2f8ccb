// A Linux TAP device (IFF_TAP | IFF_NO_PI, non-blocking). The only code that knows /dev/net/tun.
//
// open() attaches to the named device. If it does not exist and the process may create it
// (CAP_NET_ADMIN), the kernel creates it and we bring it up with the configured MTU; if it exists
// as a persistent TAP owned by the running user (`ip tuntap add mode tap user U name N`), attaching
// needs no privilege at all. Errors say which case failed and what to do.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"

namespace vs::tap {

class TapDevice {
public:
  /// `offload`: attach with IFF_VNET_HDR and offer the kernel checksum offload and TSO for IPv4
  /// (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN): every read and write then starts with a
  /// virtio-net header (vnet.hpp). If the kernel refuses the offloads, the device runs without.
  static Result<TapDevice> open(const std::string& name, uint32_t mtu, bool offload = false);
  /// A descriptor of an attached TAP received from the process this one replaces (handover):
  /// the same open file, so the device, its carrier and its queued frames stay as they were.
  /// Its name and virtio-net header are read from the kernel (TUNGETIFF); `offload` false turns
  /// the kernel's offloads off on it (the header stays, as open() leaves it when refused).
  static Result<TapDevice> adopt(int fd, bool created, bool offload);
  TapDevice(TapDevice&& o) noexcept
      : warnings(std::move(o.warnings)),
        fd_(o.fd_),
        name_(std::move(o.name_)),
        created_(o.created_),
        vnet_hdr_(o.vnet_hdr_) {
    o.fd_ = -1;
  }
  TapDevice& operator=(TapDevice&&) = delete;
  TapDevice(const TapDevice&) = delete;
  ~TapDevice();

  int fd() const noexcept { return fd_; }
  const std::string& name() const noexcept { return name_; }
  bool created() const noexcept { return created_; }    // we made it (it goes away when we exit)
  bool vnet_hdr() const noexcept { return vnet_hdr_; }  // frames carry a virtio-net header
  /// Whether the device is administratively up (`ip link set NAME up`): VRRP's track_interface.
  bool link_up() const;

  /// Warnings about a device we attached to (down, smaller MTU); empty when all is well.
  std::string warnings;

private:
  TapDevice(int fd, std::string name, bool created) : fd_(fd), name_(std::move(name)), created_(created) {}
  int fd_ = -1;
  std::string name_;
  bool created_ = false;
  bool vnet_hdr_ = false;
};

}  // namespace vs::tap

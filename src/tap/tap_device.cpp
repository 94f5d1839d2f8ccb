#include "tap/tap_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>  // before nothing from <linux/if.h>: glibc's and the kernel's headers clash
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vs::tap {
namespace {

std::string err(const std::string& what) { return what + ": " + std::strerror(errno); }

/// ifreq for `name`, flags/MTU via an AF_INET datagram socket (what `ip link` does with netlink).
bool link_ioctl(unsigned long req, ifreq& ifr) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  int rc = ::ioctl(s, req, &ifr);
  int saved = errno;
  ::close(s);
  errno = saved;
  return rc == 0;
}

}  // namespace

Result<TapDevice> TapDevice::open(const std::string& name, uint32_t mtu, bool offload) {
  if (name.empty() || name.size() >= IFNAMSIZ) return Error{"TAP name \"" + name + "\" must be 1..15 characters"};
  const bool existed = ::if_nametoindex(name.c_str()) != 0;

  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Error{err("cannot open /dev/net/tun")};

  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0));
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    if (e == EPERM && !existed)
      return Error{name +
                   ": TAP device does not exist and this process may not create it (needs CAP_NET_ADMIN); "
                   "create a persistent one: ip tuntap add mode tap user $(id -un) name " +
                   name};
    if (e == EPERM)
      return Error{name +
                   ": TAP device exists but belongs to another user or group; recreate it with "
                   "ip tuntap add mode tap user $(id -un) name " +
                   name};
    if (e == EBUSY) return Error{name + ": TAP device is already attached to another process"};
    if (e == EINVAL) return Error{name + ": exists and is not a TAP device"};
    return Error{err(name + ": cannot attach TAP device")};
  }
  TapDevice dev(fd, name, !existed);
  if (offload) {
    // The header is little-endian whatever the host (virtio 1.0); 10 bytes (no num_buffers).
    int le = 1, hdr = 10;
    unsigned feats = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN;
    if (::ioctl(fd, TUNSETVNETLE, &le) < 0 || ::ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
        ::ioctl(fd, TUNSETOFFLOAD, feats) < 0) {
      dev.warnings += err(name + ": offloads refused, running without them") + ". ";
      ::ioctl(fd, TUNSETOFFLOAD, 0u);
    }
    dev.vnet_hdr_ = true;  // IFF_VNET_HDR stays: the header is there, with or without offloads
  }

  ifreq q{};
  std::strncpy(q.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (dev.created_) {
    // We made it: give it the configured MTU and bring it up.
    q.ifr_mtu = static_cast<int>(mtu);
    if (!link_ioctl(SIOCSIFMTU, q)) return Error{err(name + ": cannot set MTU " + std::to_string(mtu))};
    if (!link_ioctl(SIOCGIFFLAGS, q)) return Error{err(name + ": cannot read flags")};
    q.ifr_flags = static_cast<short>(q.ifr_flags | IFF_UP);
    if (!link_ioctl(SIOCSIFFLAGS, q)) return Error{err(name + ": cannot bring it up")};
    return dev;
  }
  // Attached to an existing device: tell the user what would stop frames from flowing.
  if (link_ioctl(SIOCGIFMTU, q) && q.ifr_mtu < static_cast<int>(mtu))
    dev.warnings += name + ": device MTU " + std::to_string(q.ifr_mtu) + " is below the configured " +
                    std::to_string(mtu) + "; larger frames will not reach vsrouter. ";
  if (link_ioctl(SIOCGIFFLAGS, q) && !(q.ifr_flags & IFF_UP))
    dev.warnings += name + ": device is down; bring it up: ip link set " + name + " up. ";
  return dev;
}

Result<TapDevice> TapDevice::adopt(int fd, bool created, bool offload) {
  ifreq ifr{};
  if (::ioctl(fd, TUNGETIFF, &ifr) < 0) {
    const std::string e = err("handed-over descriptor is not an attached TAP device");
    ::close(fd);
    return Error{e};
  }
  if ((ifr.ifr_flags & IFF_TAP) == 0) {
    ::close(fd);
    return Error{"handed-over descriptor is a TUN device, not a TAP"};
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  TapDevice dev(fd, std::string(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ)), created);
  dev.vnet_hdr_ = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
  if (dev.vnet_hdr_ && !offload) ::ioctl(fd, TUNSETOFFLOAD, 0u);
  if (!dev.vnet_hdr_ && offload) dev.warnings += dev.name_ + ": handed over without offloads; running without them. ";
  return dev;
}

TapDevice::~TapDevice() {
  if (fd_ >= 0) ::close(fd_);
}

bool TapDevice::link_up() const {
  ifreq q{};
  std::strncpy(q.ifr_name, name_.c_str(), IFNAMSIZ - 1);
  return link_ioctl(SIOCGIFFLAGS, q) && (q.ifr_flags & IFF_UP) != 0;
}

}  // namespace vs::tap

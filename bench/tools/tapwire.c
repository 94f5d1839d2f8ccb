// tapwire: the bare TAP copier, the ceiling of any TAP-based forwarder on this machine (bench/run,
// docs/benchmarks.md). It opens two TAP devices and copies every frame read from one to the
// other, parsing nothing: what vsrouter's rows are divided by in the "×copier" columns.
//   tapwire [-v] TAP_A TAP_B   (creates the devices; the caller moves them into namespaces)
// -v: IFF_VNET_HDR (12-byte virtio-net header) with checksum offload and TSO, so 64 KiB GSO
// super-frames cross whole, as vsrouter's TAP devices do by default; without it, plain frames, as
// `vsrouter run --no-offload`.
// One thread, epoll on both devices (200 ms timeout, so SIGTERM/SIGINT are seen), up to 256
// frames read per readiness per device (as the daemon's kBurst); a frame the other device cannot
// take (EAGAIN) is dropped, never queued. Prints "ready" once both devices exist, and
// "frames=N bytes=M" on stderr when stopped.
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define BURST 256
#define VNET_HDR_LEN 12  // struct virtio_net_hdr_v1 (or _mrg_rxbuf): 12 bytes
#define FRAME_MAX 70000  // a 64 KiB GSO super-frame, its Ethernet header and the virtio-net header

static int open_tap(const char* name, int vnet) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  if (fd < 0) {
    perror("open tun");
    exit(1);
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    perror("TUNSETIFF");
    exit(1);
  }
  if (vnet) {
    int sz = VNET_HDR_LEN;
    if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
      perror("VNETHDRSZ");
      exit(1);
    }
    unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    if (ioctl(fd, TUNSETOFFLOAD, off) < 0) {
      perror("OFFLOAD");
      exit(1);
    }
  }
  return fd;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char** argv) {
  int vnet = 0, i = 1;
  if (argc > 1 && !strcmp(argv[1], "-v")) {
    vnet = 1;
    i++;
  }
  if (argc - i != 2) {
    fprintf(stderr, "usage: tapwire [-v] A B\n");
    return 2;
  }
  int fd[2] = {open_tap(argv[i], vnet), open_tap(argv[i + 1], vnet)};
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  int ep = epoll_create1(0);
  if (ep < 0) {
    perror("epoll_create1");
    return 1;
  }
  for (int k = 0; k < 2; k++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)k};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd[k], &ev) < 0) {
      perror("epoll_ctl");
      return 1;
    }
  }
  printf("ready\n");
  fflush(stdout);

  static char buf[FRAME_MAX];
  unsigned long frames = 0, bytes = 0;
  while (!stop) {
    struct epoll_event evs[2];
    int n = epoll_wait(ep, evs, 2, 200);
    for (int e = 0; e < n; e++) {
      int k = (int)evs[e].data.u32;
      for (int burst = 0; burst < BURST; burst++) {
        ssize_t r = read(fd[k], buf, sizeof buf);
        if (r <= 0) break;
        frames++;
        bytes += (unsigned long)r;
        if (write(fd[1 - k], buf, (size_t)r) < 0 && errno != EAGAIN) {
          // dropped, as on EAGAIN: the copier never queues
        }
      }
    }
  }
  fprintf(stderr, "frames=%lu bytes=%lu\n", frames, bytes);
  return 0;
}

// ipipd: a userspace tunl0 for the TUN-mode benchmark (this kernel has no ipip driver:
// CONFIG_NET_IPIP is not set). It reads the IPv4 packets of an interface from a packet socket,
// keeps the IPIP ones (protocol 4), strips the outer IPv4 header and writes the inner packet to a
// TUN device, where the kernel receives it as a tunnel device would deliver it. The caller drops
// protocol 4 in the namespace's prerouting (nftables), so that the kernel's own IP input never
// sees the outer packets (it would answer some with ICMP protocol unreachable); the packet socket
// gets its copy before that.
//   ipipd IFACE TUN_NAME      (creates the TUN device; the caller brings it up)
// Bursts of up to 64 packets per recvmmsg; one write per packet (TUN has no batched write).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define BURST 64
static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: ipipd IFACE TUN_NAME\n"); return 2; }
  int tun = open("/dev/net/tun", O_RDWR);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[2], IFNAMSIZ - 1);
  if (tun < 0 || ioctl(tun, TUNSETIFF, &ifr) < 0) { perror("ipipd: tun"); return 1; }
  int ps = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
  if (ps < 0) { perror("ipipd: packet socket"); return 1; }
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (ioctl(ps, SIOCGIFINDEX, &ifr) < 0) { perror("ipipd: interface"); return 1; }
  struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = ifr.ifr_ifindex};
  if (bind(ps, (struct sockaddr *)&ll, sizeof ll) < 0) { perror("ipipd: bind"); return 1; }
  int rcv = 4 << 20;
  setsockopt(ps, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  struct sigaction sa = {.sa_handler = on_sig};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  static unsigned char bufs[BURST][65536];
  struct iovec iov[BURST];
  struct mmsghdr msgs[BURST];
  struct sockaddr_ll from[BURST];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BURST; i++) {
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = sizeof bufs[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
  }
  printf("ready\n");
  fflush(stdout);
  unsigned long pkts = 0, bad = 0;
  while (!stop) {
    int n = recvmmsg(ps, msgs, BURST, MSG_WAITFORONE, NULL);
    if (n <= 0) continue;
    for (int i = 0; i < n; i++) {
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      if (from[i].sll_pkttype == PACKET_OUTGOING) continue;  // our own host's transmissions
      unsigned char *p = bufs[i];
      size_t len = msgs[i].msg_len, hl = (size_t)(p[0] & 0x0f) * 4;
      if (len < 20 || p[9] != 4) continue;  // not IPIP
      if (len < hl + 20 || (p[hl] >> 4) != 4) { bad++; continue; }
      if (write(tun, p + hl, len - hl) < 0) bad++;
      pkts++;
    }
  }
  fprintf(stderr, "ipipd: %lu packets decapsulated, %lu bad or unwritten\n", pkts, bad);
  return 0;
}

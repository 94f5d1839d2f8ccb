// flowgen: N UDP flows, one datagram each, written as raw Ethernet frames on an interface
// (AF_PACKET), paced at a given rate. Used by bench/run to fill vsrouter's connection table with
// 1 M concurrent connections: flow i comes from 172.16.0.0 + (i mod 2^20), port 10000 + i / 2^20.
//   flowgen IFACE DST_MAC DST_IP DST_PORT FIRST COUNT RATE
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint16_t csum(const uint8_t *p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: flowgen IFACE DST_MAC DST_IP DST_PORT FIRST COUNT RATE\n");
    return 2;
  }
  const char *ifname = argv[1];
  unsigned m[6];
  if (sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) return 2;
  struct in_addr dst;
  if (inet_pton(AF_INET, argv[3], &dst) != 1) return 2;
  uint16_t dport = (uint16_t)atoi(argv[4]);
  uint64_t first = strtoull(argv[5], NULL, 10), count = strtoull(argv[6], NULL, 10);
  double rate = atof(argv[7]);

  int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
  if (s < 0) { perror("flowgen: socket"); return 1; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) { perror("flowgen: ifindex"); return 1; }
  int ifindex = ifr.ifr_ifindex;
  if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) { perror("flowgen: hwaddr"); return 1; }
  struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6};
  for (int i = 0; i < 6; i++) ll.sll_addr[i] = (uint8_t)m[i];

  uint8_t f[60];
  memset(f, 0, sizeof f);
  for (int i = 0; i < 6; i++) f[i] = (uint8_t)m[i];
  memcpy(f + 6, ifr.ifr_hwaddr.sa_data, 6);
  f[12] = 0x08;
  uint8_t *ip = f + 14, *udp = ip + 20;
  ip[0] = 0x45;
  ip[3] = 20 + 8 + 18;  // total length 46: a 60-byte frame
  ip[8] = 64;
  ip[9] = 17;
  memcpy(ip + 16, &dst, 4);
  udp[2] = (uint8_t)(dport >> 8);
  udp[3] = (uint8_t)dport;
  udp[5] = 8 + 18;  // UDP checksum 0: none (RFC 768)

  const uint64_t gap = (uint64_t)(1e9 / rate), start = now_ns();
  uint64_t sent = 0, failed = 0;
  for (uint64_t k = 0; k < count; k++) {
    uint64_t i = first + k;
    uint32_t src = (172u << 24 | 16u << 16) + (uint32_t)(i & 0xfffff);
    uint16_t sport = (uint16_t)(10000 + (i >> 20));
    ip[12] = (uint8_t)(src >> 24); ip[13] = (uint8_t)(src >> 16); ip[14] = (uint8_t)(src >> 8); ip[15] = (uint8_t)src;
    ip[10] = ip[11] = 0;
    uint16_t c = csum(ip, 20);
    ip[10] = (uint8_t)(c >> 8); ip[11] = (uint8_t)c;
    udp[0] = (uint8_t)(sport >> 8); udp[1] = (uint8_t)sport;
    if ((k & 63) == 0) {  // pace in bursts of 64
      uint64_t at = start + k * gap, t = now_ns();
      if (at > t) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(at - t)};
        nanosleep(&ts, NULL);
      }
    }
    for (;;) {
      if (sendto(s, f, sizeof f, 0, (struct sockaddr *)&ll, sizeof ll) == (ssize_t)sizeof f) { sent++; break; }
      if (errno != ENOBUFS && errno != EAGAIN) { failed++; break; }
      usleep(50);
    }
  }
  printf("flowgen: %llu sent, %llu failed in %.2f s\n", (unsigned long long)sent, (unsigned long long)failed,
         (double)(now_ns() - start) / 1e9);
  return 0;
}

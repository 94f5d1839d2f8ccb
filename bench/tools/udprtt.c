// udprtt: round-trip latency of small UDP requests at a fixed rate (bench/run, docs/benchmarks.md).
//   udprtt server PORT                      echo every datagram back to its sender
//   udprtt client ADDR PORT RATE SECONDS    send RATE requests/s for SECONDS s, print percentiles
// The client paces its sends with clock_nanosleep (absolute deadlines, no busy loop, so it leaves
// the CPU to the forwarder under test) from one thread; another thread blocks in recv() and
// timestamps each echo the moment it wakes up. Each request carries its sequence number and its
// send time (CLOCK_MONOTONIC). The first 10 % of the run is warm-up and not counted.
// Output (one line): sent=N received=M lost=L p50_us=X p90_us=Y p99_us=Z max_us=W
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 32

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int server(int port) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("udprtt server"); return 1; }
  char buf[2048];
  for (;;) {
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&peer, &pl);
    if (n > 0) sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&peer, pl);
  }
}

static int sock;
static uint64_t total, warm, *rtt;  /* rtt[seq] in ns, 0 = no reply */
static volatile int done;

static void *receiver(void *arg) {
  (void)arg;
  char buf[2048];
  while (!done) {
    ssize_t n = recv(sock, buf, sizeof buf, 0);
    uint64_t t = now_ns();
    if (n < 16) continue;
    uint64_t seq, sent;
    memcpy(&seq, buf, 8);
    memcpy(&sent, buf + 8, 8);
    if (seq < total && t > sent) rtt[seq] = t - sent;
  }
  return NULL;
}

static int cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int client(const char *addr, int port, double rate, double seconds) {
  sock = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (sock < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1 || connect(sock, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("udprtt client");
    return 1;
  }
  struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  total = (uint64_t)(rate * seconds);
  warm = total / 10;
  rtt = calloc(total, sizeof *rtt);
  pthread_t th;
  pthread_create(&th, NULL, receiver, NULL);
  const uint64_t gap = (uint64_t)(1e9 / rate), start = now_ns() + 1000000;
  char buf[PAYLOAD] = {0};
  for (uint64_t i = 0; i < total; i++) {
    uint64_t at = start + i * gap;
    struct timespec ts = {.tv_sec = (time_t)(at / 1000000000ull), .tv_nsec = (long)(at % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
    uint64_t t = now_ns();
    memcpy(buf, &i, 8);
    memcpy(buf + 8, &t, 8);
    send(sock, buf, sizeof buf, 0);
  }
  usleep(500000);  /* late echoes */
  done = 1;
  pthread_join(th, NULL);
  uint64_t n = 0;
  for (uint64_t i = warm; i < total; i++)
    if (rtt[i]) rtt[n++] = rtt[i];
  uint64_t counted = total - warm;
  if (n == 0) {
    printf("sent=%llu received=0 lost=%llu p50_us=nan p90_us=nan p99_us=nan max_us=nan\n",
           (unsigned long long)counted, (unsigned long long)counted);
    return 0;
  }
  qsort(rtt, n, sizeof *rtt, cmp);
#define P(q) (rtt[(uint64_t)((q) * (double)(n - 1))] / 1000.0)
  printf("sent=%llu received=%llu lost=%llu p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
         (unsigned long long)counted, (unsigned long long)n, (unsigned long long)(counted - n), P(0.5), P(0.9),
         P(0.99), rtt[n - 1] / 1000.0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "server")) return server(atoi(argv[2]));
  if (argc == 6 && !strcmp(argv[1], "client")) return client(argv[2], atoi(argv[3]), atof(argv[4]), atof(argv[5]));
  fprintf(stderr, "usage: udprtt server PORT | udprtt client ADDR PORT RATE SECONDS\n");
  return 2;
}

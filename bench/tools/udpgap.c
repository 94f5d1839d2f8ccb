// udpgap: a 1 kHz (or RATE) stream of small UDP requests to an echo server, recording when each
// echo came back: the input of bench/handover.sh (the longest interval without forwarded packets
// during a handover).
//   udpgap server PORT                            echo every datagram back to its sender
//   udpgap client ADDR PORT RATE MAX_SECONDS OUT  the stream, below
// Both sockets have 16 MiB receive buffers (SO_RCVBUFFORCE): after a pause of the forwarder, the
// requests and then the echoes queued meanwhile arrive in one burst, which default buffers
// (~200 KiB: a few hundred small datagrams) would partly drop, counting the measuring sockets'
// losses as the forwarder's.
// The client: one connected socket (one flow, one connection in a director's table) sends
// datagram i (32 bytes: i, its send time) at start + i / RATE (clock_nanosleep on absolute
// CLOCK_MONOTONIC deadlines, no busy loop: a late wake-up sends the missed ones at once, so none
// is skipped), until SIGTERM or SIGINT or MAX_SECONDS. Another thread blocks in recvmsg and
// records each echo's arrival as the kernel stamped it (SO_TIMESTAMPNS; the thread's own
// clock_gettime if a datagram has no stamp), so the client's scheduling does not move the times.
// All times are CLOCK_REALTIME, the clock of bash's $EPOCHREALTIME with which the script marks
// the handovers. "udpgap: first echo" goes to stdout when the first echo is back. 0.5 s after
// the last send it writes OUT, one line per datagram: "seq sent_ns received_ns" (received 0: no
// echo), and prints
//   sent=N received=M lost=L max_send_interval_us=X max_receive_interval_us=Y
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 32

static uint64_t clock_ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int sock;
static uint64_t total, *sent_at, *recv_at;  // per sequence number, CLOCK_REALTIME ns; 0 = none
static volatile int done;
static volatile sig_atomic_t stop;
static volatile int first;

static void on_signal(int s) { (void)s; stop = 1; }

static void big_buffer(int s) {
  int size = 16 << 20;
  if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0 &&
      setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0)
    perror("udpgap: SO_RCVBUF");
}

static int server(int port) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("udpgap server");
    return 1;
  }
  big_buffer(s);
  char buf[2048];
  for (;;) {
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&peer, &pl);
    if (n > 0) sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&peer, pl);
  }
}

static void *receiver(void *arg) {
  (void)arg;
  char buf[2048];
  char ctl[CMSG_SPACE(sizeof(struct timespec))];
  while (!done) {
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    ssize_t n = recvmsg(sock, &mh, 0);
    uint64_t t = clock_ns(CLOCK_REALTIME);
    if (n < 16) continue;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
      }
    }
    uint64_t seq;
    memcpy(&seq, buf, 8);
    if (seq < total && recv_at[seq] == 0) recv_at[seq] = t;
    if (!first) {
      first = 1;
      printf("udpgap: first echo\n");
      fflush(stdout);
    }
  }
  return NULL;
}

static int cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "server")) return server(atoi(argv[2]));
  if (argc != 7 || strcmp(argv[1], "client")) {
    fprintf(stderr, "usage: udpgap server PORT | udpgap client ADDR PORT RATE MAX_SECONDS OUT\n");
    return 2;
  }
  argv++;
  const double rate = atof(argv[3]), seconds = atof(argv[4]);
  if (rate <= 0 || seconds <= 0) return 2;
  sock = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (sock < 0 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1 || connect(sock, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("udpgap");
    return 1;
  }
  big_buffer(sock);
  int on = 1;
  if (setsockopt(sock, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0) perror("udpgap: SO_TIMESTAMPNS");
  struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  total = (uint64_t)(rate * seconds);
  sent_at = calloc(total, sizeof *sent_at);
  recv_at = calloc(total, sizeof *recv_at);
  if (!sent_at || !recv_at) return 1;
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  pthread_t th;
  pthread_create(&th, NULL, receiver, NULL);
  const uint64_t gap = (uint64_t)(1e9 / rate), start = clock_ns(CLOCK_MONOTONIC) + 1000000;
  char buf[PAYLOAD] = {0};
  uint64_t n = 0;
  for (; n < total && !stop; n++) {
    uint64_t at = start + n * gap;
    struct timespec ts = {.tv_sec = (time_t)(at / 1000000000ull), .tv_nsec = (long)(at % 1000000000ull)};
    while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
    if (stop) break;
    uint64_t t = clock_ns(CLOCK_REALTIME);
    memcpy(buf, &n, 8);
    memcpy(buf + 8, &t, 8);
    sent_at[n] = t;
    send(sock, buf, sizeof buf, 0);
  }
  usleep(500000);  // late echoes
  done = 1;
  pthread_join(th, NULL);

  FILE *f = fopen(argv[5], "w");
  if (!f) {
    perror(argv[5]);
    return 1;
  }
  uint64_t got = 0, max_send = 0;
  for (uint64_t i = 0; i < n; i++) {
    fprintf(f, "%llu %llu %llu\n", (unsigned long long)i, (unsigned long long)sent_at[i], (unsigned long long)recv_at[i]);
    if (recv_at[i]) recv_at[got++] = recv_at[i];
    if (i && sent_at[i] - sent_at[i - 1] > max_send) max_send = sent_at[i] - sent_at[i - 1];
  }
  fclose(f);
  qsort(recv_at, got, sizeof *recv_at, cmp);
  uint64_t max_recv = 0;
  for (uint64_t i = 1; i < got; i++)
    if (recv_at[i] - recv_at[i - 1] > max_recv) max_recv = recv_at[i] - recv_at[i - 1];
  printf("sent=%llu received=%llu lost=%llu max_send_interval_us=%.1f max_receive_interval_us=%.1f\n",
         (unsigned long long)n, (unsigned long long)got, (unsigned long long)(n - got), max_send / 1000.0,
         max_recv / 1000.0);
  return 0;
}

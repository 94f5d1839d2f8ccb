#include "tap/handover.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vs::tap::handover_io {
namespace {

int64_t mono_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

/// Waits until `fd` is ready for `events` or the deadline passes.
bool wait_for(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    const int64_t left = deadline_ms - mono_ms();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

}  // namespace

std::string encode_meta(const Meta& m) {
  std::string s;
  auto u32 = [&s](uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  };
  u32(static_cast<uint32_t>(m.pid));
  u32(static_cast<uint32_t>(m.fds.size()));
  for (const Meta::Fd& f : m.fds) {
    s.push_back(static_cast<char>(f.kind));
    s.push_back(f.created ? 1 : 0);
    u32(static_cast<uint32_t>(f.name.size()));
    s += f.name;
  }
  return s;
}

Result<Meta> decode_meta(std::string_view b) {
  size_t off = 0;
  bool ok = true;
  auto u32 = [&]() -> uint32_t {
    if (b.size() - off < 4) {
      ok = false;
      return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(b[off + static_cast<size_t>(i)])} << (8 * i);
    off += 4;
    return v;
  };
  Meta m;
  m.pid = static_cast<int32_t>(u32());
  const uint32_t n = u32();
  if (!ok || n > 253) return Error{"handover: bad descriptor list"};
  for (uint32_t i = 0; i < n; ++i) {
    if (b.size() - off < 2) return Error{"handover: descriptor list truncated"};
    Meta::Fd f;
    const auto kind = static_cast<uint8_t>(b[off]);
    f.created = b[off + 1] != 0;
    off += 2;
    const uint32_t len = u32();
    if (!ok || len > b.size() - off || kind < Meta::kTap || kind > Meta::kMetrics)
      return Error{"handover: bad descriptor list"};
    f.kind = static_cast<Meta::Kind>(kind);
    f.name.assign(b.substr(off, len));
    off += len;
    m.fds.push_back(std::move(f));
  }
  if (off != b.size()) return Error{"handover: bad descriptor list"};
  return m;
}

bool write_all(int fd, const void* p, size_t n, int timeout_ms) {
  const int64_t deadline = mono_ms() + timeout_ms;
  const auto* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::send(fd, c, n, MSG_NOSIGNAL);
    if (w > 0) {
      c += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(fd, POLLOUT, deadline)) continue;
    return false;
  }
  return true;
}

bool read_all(int fd, void* p, size_t n, int timeout_ms) {
  std::vector<int> none;
  return recv_with_fds(fd, none, p, n, timeout_ms);
}

bool send_with_fds(int sock, std::span<const int> fds, const void* data, size_t n, int timeout_ms) {
  if (fds.empty()) return write_all(sock, data, n, timeout_ms);
  std::vector<char> ctl(CMSG_SPACE(sizeof(int) * fds.size()));
  iovec iov{const_cast<void*>(data), n};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctl.data();
  mh.msg_controllen = ctl.size();
  cmsghdr* cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(cm), fds.data(), sizeof(int) * fds.size());
  const int64_t deadline = mono_ms() + timeout_ms;
  for (;;) {
    const ssize_t w = ::sendmsg(sock, &mh, MSG_NOSIGNAL);
    if (w >= 0) {
      // The descriptors went with the first byte; the rest of the data goes plainly.
      const size_t sent = static_cast<size_t>(w);
      return sent == n || write_all(sock, static_cast<const char*>(data) + sent, n - sent, timeout_ms);
    }
    if (errno == EINTR) continue;
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(sock, POLLOUT, deadline)) continue;
    return false;
  }
}

bool recv_with_fds(int sock, std::vector<int>& fds, void* data, size_t n, int timeout_ms) {
  const int64_t deadline = mono_ms() + timeout_ms;
  auto* c = static_cast<char*>(data);
  while (n > 0) {
    alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * 253)];
    iovec iov{c, n};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof ctl;
    const ssize_t r = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    if (r > 0) {
      for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
        const size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
          fds.push_back(fd);
        }
      }
      c += r;
      n -= static_cast<size_t>(r);
      continue;
    }
    if (r == 0) return false;  // the peer closed
    if (errno == EINTR) continue;
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(sock, POLLIN, deadline)) continue;
    return false;
  }
  return true;
}

int connect_unix(const std::string& path) {
  sockaddr_un a{};
  if (path.size() >= sizeof a.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  // Non-blocking from here: every read and write waits in poll() with its deadline.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

}  // namespace vs::tap::handover_io

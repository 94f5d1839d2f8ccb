#include "tap/notify.hpp"

#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace vs::tap {

void notify(const std::string& state) { ::sd_notify(0, state.c_str()); }

unsigned long long monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL + static_cast<unsigned long long>(ts.tv_nsec) / 1000;
}

bool journal_stderr() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (!js || !*js) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

const char* journal_prefix(int level) {
  static const char* const prefixes[] = {SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG};
  return level >= 0 && level <= 3 ? prefixes[level] : SD_INFO;
}

}  // namespace vs::tap

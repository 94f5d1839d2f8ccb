#include "tap/process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace vs::tap {
namespace {

/// The whole of a small /proc file ("" if it cannot be read).
std::string slurp(const char* path) {
  std::string s;
  if (FILE* f = std::fopen(path, "re")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
  }
  return s;
}

}  // namespace

std::optional<metrics::ProcessStats> read_process_stats() {
  // proc(5): pid (comm) state ppid ... The command name may hold spaces and parentheses: the
  // fields start after the last ')'. Then field 3 (state) is the first; utime and stime are
  // fields 14 and 15, starttime 22, vsize 23 (bytes), rss 24 (pages).
  const std::string stat = slurp("/proc/self/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  const char* p = stat.c_str() + paren + 1;
  unsigned long long f[25] = {};  // f[k] = field k (3-based as in proc(5))
  for (int k = 3; k <= 24; ++k) {
    while (*p == ' ') ++p;
    if (*p == '\0') return std::nullopt;
    if (k == 3) {
      ++p;  // the state letter
      continue;
    }
    char* end = nullptr;
    f[k] = std::strtoull(p, &end, 10);
    if (end == p) return std::nullopt;
    p = end;
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (ticks <= 0 || page <= 0) return std::nullopt;

  metrics::ProcessStats s;
  s.cpu_seconds = static_cast<double>(f[14] + f[15]) / static_cast<double>(ticks);
  s.virtual_bytes = f[23];
  s.resident_bytes = f[24] * static_cast<unsigned long long>(page);

  // The boot time: "btime SECONDS" in /proc/stat.
  const std::string st = slurp("/proc/stat");
  if (size_t b = st.find("\nbtime "); b != std::string::npos)
    s.start_time_seconds =
        static_cast<double>(std::strtoull(st.c_str() + b + 7, nullptr, 10)) + static_cast<double>(f[22]) / ticks;

  if (DIR* d = ::opendir("/proc/self/fd")) {
    uint64_t n = 0;
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    s.open_fds = n > 0 ? n - 1 : 0;  // not counting the descriptor of the listing itself
  }
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) s.max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : rl.rlim_cur;
  return s;
}

}  // namespace vs::tap

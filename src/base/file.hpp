// Reading a whole file (the control path: configs, included files). No other I/O lives in base/.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "base/result.hpp"

namespace vs {

/// The file's bytes, or an error saying why ("No such file or directory").
inline Result<std::string> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Error{std::strerror(errno)};
  std::string text;
  char buf[65536];
  size_t n = 0;
  errno = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const int read_errno = errno;
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Error{std::strerror(read_errno != 0 ? read_errno : EIO)};
  return text;
}

}  // namespace vs

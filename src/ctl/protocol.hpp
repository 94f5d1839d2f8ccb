// The control protocol between vsadm and the daemon: one request and one reply per connection on
// a Unix stream socket. Pure encoding; no I/O here.
//
//   request: u32 length (big-endian, <= kMaxRequest), then the arguments, each ended by '\0'
//   reply:   u32 exit code, u32 stdout length, stdout, u32 stderr length, stderr
//
// The daemon runs the arguments as one ipvsadm command line (ctl/ipvsadm.hpp), or its own
// commands (--reload). Everything vsadm prints comes from the daemon.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vs::ctl {

inline constexpr size_t kMaxRequest = 1 << 20;

/// vsadm -R sends each line of its standard input as {kRestoreLine, words...}: the daemon runs it
/// as ipvsadm's restore_table() runs a line (ctl::execute_restore_line) and sets kRestoreStop in
/// the reply's exit code when ipvsadm would have exited there (the restore stops); the low 8 bits
/// are the status.
inline constexpr const char* kRestoreLine = "--vsadm-restore-line";
inline constexpr int kRestoreStop = 0x100;

struct Reply {
  int exit_code = 0;
  std::string out;
  std::string err;
};

inline void put_u32(std::string& s, uint32_t v) {
  for (int sh = 24; sh >= 0; sh -= 8) s.push_back(static_cast<char>((v >> sh) & 0xff));
}
inline uint32_t get_u32(std::string_view s, size_t off) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[off + i]);
  return v;
}

inline std::string encode_request(const std::vector<std::string>& args) {
  std::string body;
  for (const auto& a : args) {
    body += a;
    body.push_back('\0');
  }
  std::string msg;
  put_u32(msg, static_cast<uint32_t>(body.size()));
  return msg + body;
}

/// How many bytes a complete request occupies at the start of `buf`: 0 while incomplete, nullopt
/// if the header announces more than kMaxRequest.
inline std::optional<size_t> request_size(std::string_view buf) {
  if (buf.size() < 4) return 0;
  uint32_t n = get_u32(buf, 0);
  if (n > kMaxRequest) return std::nullopt;
  return buf.size() >= 4 + size_t{n} ? 4 + size_t{n} : 0;
}

/// The arguments of a complete request; nullopt if the body is not a sequence of '\0'-ended strings.
inline std::optional<std::vector<std::string>> decode_request(std::string_view msg) {
  if (msg.size() < 4 || get_u32(msg, 0) != msg.size() - 4) return std::nullopt;
  std::string_view body = msg.substr(4);
  std::vector<std::string> args;
  while (!body.empty()) {
    size_t z = body.find('\0');
    if (z == std::string_view::npos) return std::nullopt;
    args.emplace_back(body.substr(0, z));
    body.remove_prefix(z + 1);
  }
  return args;
}

inline std::string encode_reply(const Reply& r) {
  std::string msg;
  put_u32(msg, static_cast<uint32_t>(r.exit_code));
  put_u32(msg, static_cast<uint32_t>(r.out.size()));
  msg += r.out;
  put_u32(msg, static_cast<uint32_t>(r.err.size()));
  msg += r.err;
  return msg;
}

inline std::optional<Reply> decode_reply(std::string_view msg) {
  if (msg.size() < 8) return std::nullopt;
  Reply r;
  r.exit_code = static_cast<int>(get_u32(msg, 0));
  uint32_t n = get_u32(msg, 4);
  if (msg.size() < 8 + size_t{n} + 4) return std::nullopt;
  r.out = std::string(msg.substr(8, n));
  uint32_t m = get_u32(msg, 8 + n);
  if (msg.size() != 12 + size_t{n} + m) return std::nullopt;
  r.err = std::string(msg.substr(12 + n, m));
  return r;
}

}  // namespace vs::ctl

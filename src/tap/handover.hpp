// The daemon side of a handover (docs/handover.md): the conversation on the control socket
// between the running daemon (the old process) and `vsrouter run --takeover` (the new one).
//
//   new -> old   a control request {kRequest, "1"}: the stream versions the new one reads
//   old -> new   "VSHO", u32 descriptor count, with the descriptors attached (SCM_RIGHTS): the
//                TAP devices, the control socket's listener and the metrics listener;
//                then u32 length + what they are (Meta); then u64 length + the state stream
//                (handover/state.hpp), written after the old process stopped reading its TAPs
//   new -> old   'A' (taken: the old one releases its listeners and exits) or 'R' (refused:
//                the old one keeps serving); a closed connection counts as 'R'
//   old -> new   'B': released
//   new -> old   'C': confirmed; the new one reads its TAPs from here, the old one exits (without
//                it the old one serves on: the new one died after 'A')
// An old daemon that does not know the request answers with an ordinary control reply (an
// error), which the new one tells from "VSHO" by its first four bytes.
// Everything blocks with a deadline (poll): while it runs, neither side reads its TAPs, whose
// queues hold the frames that arrive meanwhile.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace vs::tap::handover_io {

inline constexpr const char* kRequest = "--vsrouter-handover";
inline constexpr char kTaken = 'A', kRefused = 'R', kReleased = 'B', kConfirmed = 'C';

/// What the descriptors are, in the order they are attached.
struct Meta {
  enum Kind : uint8_t { kTap = 1, kControl = 2, kMetrics = 3 };
  struct Fd {
    Kind kind = kTap;
    std::string name;      // the TAP device's name; the control path; the metrics ADDR:PORT
    bool created = false;  // a TAP the old process created (it lives while a descriptor does)
  };
  std::vector<Fd> fds;
  int32_t pid = 0;  // the old process
};
std::string encode_meta(const Meta& m);
Result<Meta> decode_meta(std::string_view b);

/// Blocking I/O on a (possibly non-blocking) socket, each call within `timeout_ms`.
bool write_all(int fd, const void* p, size_t n, int timeout_ms);
bool read_all(int fd, void* p, size_t n, int timeout_ms);
/// `data` with the descriptors attached (one message).
bool send_with_fds(int sock, std::span<const int> fds, const void* data, size_t n, int timeout_ms);
/// Reads exactly `n` bytes; the descriptors that came with them are appended to `fds`.
bool recv_with_fds(int sock, std::vector<int>& fds, void* data, size_t n, int timeout_ms);
/// Connects to the Unix socket at `path`: the descriptor, or -1 with errno set.
int connect_unix(const std::string& path);

}  // namespace vs::tap::handover_io

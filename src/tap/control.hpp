// The daemon's control socket: a Unix stream socket on the libuv loop, mode 0600, that accepts
// connections only from its owner (the socket's mode, and SO_PEERCRED for root, who bypasses
// modes). One request per connection (ctl/protocol.hpp), bounded in size and time.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "ctl/protocol.hpp"

namespace vs::tap {

class ControlServer {
public:
  using Handler = std::function<ctl::Reply(const std::vector<std::string>& args)>;
  /// Binds `path` (a stale socket left by a dead daemon is replaced; a live one is an error).
  static Result<std::unique_ptr<ControlServer>> start(uv_loop_t* loop, const std::string& path, Handler handler);
  /// Handover: serves on `fd`, the listening socket of the process this one replaces (bound
  /// at `path`): the socket stays where it is, so vsadm never finds it missing.
  static Result<std::unique_ptr<ControlServer>> adopt(uv_loop_t* loop, const std::string& path, int fd,
                                                      Handler handler);
  ~ControlServer();  // unlinks the socket path (unless released)
  const std::string& path() const noexcept { return path_; }
  /// The listening socket's descriptor (-1 if unknown).
  int fd() const noexcept;
  /// Handover: the path now belongs to the process that took over; the destructor leaves it.
  void release() noexcept;
  /// A request whose first argument is `name` is not answered here: `raw` gets the connection's
  /// descriptor and the arguments and talks on it itself (the handover, tap/handover.hpp); the
  /// connection is closed when it returns.
  using Raw = std::function<void(int fd, const std::vector<std::string>& args)>;
  void set_raw(std::string name, Raw raw) {
    raw_name_ = std::move(name);
    raw_ = std::move(raw);
  }

private:
  struct Client;
  ControlServer() = default;
  static void on_connection(uv_stream_t* server, int status);

  uv_pipe_t pipe_{};
  std::string path_;
  Handler handler_;
  std::string raw_name_;
  Raw raw_;
};

}  // namespace vs::tap

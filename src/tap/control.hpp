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
  ~ControlServer();  // unlinks the socket path
  const std::string& path() const noexcept { return path_; }

private:
  struct Client;
  ControlServer() = default;
  static void on_connection(uv_stream_t* server, int status);

  uv_pipe_t pipe_{};
  std::string path_;
  Handler handler_;
};

}  // namespace vs::tap

#include "tap/control.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace vs::tap {
namespace {

constexpr uint64_t kClientTimeoutMs = 5000;

/// True if something accepts connections on `path` (a running daemon).
bool socket_alive(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  bool alive = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return alive;
}

}  // namespace

struct ControlServer::Client {
  uv_pipe_t pipe{};
  uv_timer_t timer{};
  uv_write_t write{};
  std::string in;
  std::string reply;
  ControlServer* server = nullptr;
  int open_handles = 2;
  bool done = false;
  bool refused = false;  // not the owner: answered with a refusal once its request is read

  void close() {
    if (done) return;
    done = true;
    uv_timer_stop(&timer);
    auto cb = [](uv_handle_t* h) {
      auto* c = static_cast<Client*>(h->data);
      if (--c->open_handles == 0) delete c;
    };
    uv_close(reinterpret_cast<uv_handle_t*>(&pipe), cb);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), cb);
  }
  void respond(const ctl::Reply& r) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&pipe));
    reply = ctl::encode_reply(r);
    uv_buf_t b = uv_buf_init(reply.data(), static_cast<unsigned>(reply.size()));
    write.data = this;
    if (uv_write(&write, reinterpret_cast<uv_stream_t*>(&pipe), &b, 1,
                 [](uv_write_t* w, int) { static_cast<Client*>(w->data)->close(); }) != 0)
      close();
  }
};

Result<std::unique_ptr<ControlServer>> ControlServer::start(uv_loop_t* loop, const std::string& path, Handler handler) {
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) return Error{"control socket path is too long: " + path};
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error{path + ": exists and is not a socket; not replacing it"};
    if (socket_alive(path)) return Error{path + ": control socket in use by another vsrouter (use --control PATH)"};
    ::unlink(path.c_str());  // left behind by a daemon that died
  }
  std::unique_ptr<ControlServer> s(new ControlServer());
  s->path_ = path;
  s->handler_ = std::move(handler);
  uv_pipe_init(loop, &s->pipe_, 0);
  s->pipe_.data = s.get();
  // Created 0600 from the start (umask), so there is no moment at which others may connect.
  mode_t old = ::umask(0177);
  int rc = uv_pipe_bind(&s->pipe_, path.c_str());
  ::umask(old);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&s->pipe_), nullptr);
    s->path_.clear();
    return Error{path + ": cannot bind control socket: " + uv_strerror(rc)};
  }
  ::chmod(path.c_str(), 0600);
  if ((rc = uv_listen(reinterpret_cast<uv_stream_t*>(&s->pipe_), 16, &ControlServer::on_connection)) != 0)
    return Error{path + ": cannot listen: " + uv_strerror(rc)};
  return s;
}

Result<std::unique_ptr<ControlServer>> ControlServer::adopt(uv_loop_t* loop, const std::string& path, int fd,
                                                            Handler handler) {
  std::unique_ptr<ControlServer> s(new ControlServer());
  s->handler_ = std::move(handler);
  uv_pipe_init(loop, &s->pipe_, 0);
  s->pipe_.data = s.get();
  int rc = uv_pipe_open(&s->pipe_, fd);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&s->pipe_), 16, &ControlServer::on_connection);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&s->pipe_), nullptr);
    return Error{path + ": cannot serve the handed-over control socket: " + uv_strerror(rc)};
  }
  s->path_ = path;
  return s;
}

void ControlServer::release() noexcept {
  path_.clear();
  // libuv unlinks the path a pipe was bound to when it closes it (uv__pipe_close): the bound
  // path is only in this private field, a strdup() libuv frees then; we free it now instead.
  std::free(const_cast<char*>(pipe_.pipe_fname));
  pipe_.pipe_fname = nullptr;
}

int ControlServer::fd() const noexcept {
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&pipe_), &fd) != 0) return -1;
  return fd;
}

ControlServer::~ControlServer() {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&pipe_))) uv_close(reinterpret_cast<uv_handle_t*>(&pipe_), nullptr);
  if (!path_.empty()) ::unlink(path_.c_str());
}

void ControlServer::on_connection(uv_stream_t* srv, int status) {
  auto* self = static_cast<ControlServer*>(srv->data);
  if (status < 0) return;
  auto* c = new Client();
  c->server = self;
  uv_pipe_init(srv->loop, &c->pipe, 0);
  uv_timer_init(srv->loop, &c->timer);
  c->pipe.data = c;
  c->timer.data = c;
  if (uv_accept(srv, reinterpret_cast<uv_stream_t*>(&c->pipe)) != 0) {
    c->close();
    return;
  }
  // Only the owner may talk to the router. The 0600 mode keeps other users out; root bypasses
  // file modes, so the peer's uid is checked too.
  uv_os_fd_t fd;
  ucred cred{};
  socklen_t len = sizeof cred;
  // The refusal is sent after the request is read: closing on unread data would reset the
  // connection and the client would never see why.
  c->refused = uv_fileno(reinterpret_cast<uv_handle_t*>(&c->pipe), &fd) != 0 ||
               ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::geteuid();
  uv_timer_start(
      &c->timer, [](uv_timer_t* t) { static_cast<Client*>(t->data)->close(); }, kClientTimeoutMs, 0);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->pipe),
      [](uv_handle_t*, size_t, uv_buf_t* b) {
        static thread_local char buf[65536];
        *b = uv_buf_init(buf, sizeof buf);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
        auto* c = static_cast<Client*>(s->data);
        if (n < 0) {
          c->close();
          return;
        }
        c->in.append(b->base, static_cast<size_t>(n));
        auto size = ctl::request_size(c->in);
        if (!size) {
          c->respond({2, "", "vsadm: request too large\n"});
          return;
        }
        if (*size == 0) return;  // incomplete
        if (c->refused) {
          c->respond({2, "",
                      "vsadm: permission denied: the vsrouter control socket belongs to uid " +
                          std::to_string(::geteuid()) + "\n"});
          return;
        }
        auto args = ctl::decode_request(std::string_view(c->in).substr(0, *size));
        if (!args) {
          c->respond({2, "", "vsadm: malformed request\n"});
          return;
        }
        ControlServer* srv = c->server;
        if (srv->raw_ && !args->empty() && (*args)[0] == srv->raw_name_) {
          uv_read_stop(s);
          uv_timer_stop(&c->timer);
          uv_os_fd_t cfd = -1;
          if (uv_fileno(reinterpret_cast<uv_handle_t*>(&c->pipe), &cfd) == 0) srv->raw_(cfd, *args);
          c->close();
          return;
        }
        c->respond(srv->handler_(*args));
      });
}

}  // namespace vs::tap

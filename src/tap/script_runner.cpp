#include "tap/script_runner.hpp"

#include <pwd.h>
#include <signal.h>

#include <algorithm>
#include <cstring>

namespace vs::tap {

constexpr uint64_t kKillAfterMs = 2000;  // SIGTERM, then SIGKILL (check_misc.c)

struct ScriptRunner::Proc {
  ScriptRunner* owner = nullptr;
  uint32_t checker = 0;
  bool report = true;  // a checker's program (its exit goes to the engine), not a notify script
  std::string name;
  uv_process_t proc{};
  uv_timer_t kill_timer{};
  int open_handles = 0;
};

ScriptRunner::ScriptRunner(uv_loop_t* loop, Exited exited, std::function<void(const std::string&)> log)
    : loop_(loop), exited_(std::move(exited)), log_(std::move(log)) {}

ScriptRunner::~ScriptRunner() = default;

namespace {
void release(uv_handle_t* h) {
  auto* p = static_cast<ScriptRunner::Proc*>(h->data);
  if (--p->open_handles == 0) {
    p->owner->forget(p);
    delete p;
  }
}
}  // namespace

void ScriptRunner::forget(Proc* p) { live_.erase(p); }

void ScriptRunner::start(uint32_t checker, const std::vector<std::string>& argv, const std::string& user) {
  // A program still running from the last check (killed, not yet reaped) gives way at once.
  if (auto it = running_.find(checker); it != running_.end()) {
    uv_process_kill(&it->second->proc, SIGKILL);
    it->second->report = false;
    running_.erase(it);
  }
  spawn(checker, argv, user, true);
}

void ScriptRunner::notify(const std::vector<std::string>& argv, const std::string& user) {
  spawn(0, argv, user, false);
}

void ScriptRunner::spawn(uint32_t checker, const std::vector<std::string>& argv, const std::string& user, bool report) {
  if (closing_ || argv.empty()) return;
  auto* p = new Proc;
  p->owner = this;
  p->checker = checker;
  p->report = report;
  p->name = argv.front();
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  uv_process_options_t o{};
  o.file = args[0];
  o.args = args.data();
  o.exit_cb = &ScriptRunner::on_exit;
  uv_stdio_container_t stdio[3];
  for (auto& s : stdio) s.flags = UV_IGNORE;  // /dev/null
  o.stdio = stdio;
  o.stdio_count = 3;
  if (!user.empty()) {
    const passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) {
      log_(p->name + ": no user " + user);
      if (report) exited_(checker, -1);
      delete p;
      return;
    }
    o.flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
    o.uid = pw->pw_uid;
    o.gid = pw->pw_gid;
  }
  p->proc.data = p;
  int r = uv_spawn(loop_, &p->proc, &o);
  if (r != 0) {
    log_(p->name + ": cannot start: " + uv_strerror(r));
    p->open_handles = 1;
    uv_close(reinterpret_cast<uv_handle_t*>(&p->proc), release);
    if (report) exited_(checker, -1);
    return;
  }
  p->open_handles = 2;
  uv_timer_init(loop_, &p->kill_timer);
  p->kill_timer.data = p;
  live_.insert(p);
  if (report) running_[checker] = p;
}

void ScriptRunner::stop(uint32_t checker) {
  auto it = running_.find(checker);
  if (it == running_.end()) return;
  Proc* p = it->second;
  p->report = false;  // the engine already counted the deadline
  running_.erase(it);
  uv_process_kill(&p->proc, SIGTERM);
  uv_timer_start(&p->kill_timer, &ScriptRunner::on_kill_timer, kKillAfterMs, 0);
}

void ScriptRunner::on_kill_timer(uv_timer_t* t) {
  auto* p = static_cast<Proc*>(t->data);
  uv_process_kill(&p->proc, SIGKILL);
}

void ScriptRunner::on_exit(uv_process_t* h, int64_t status, int signal) {
  auto* p = static_cast<Proc*>(h->data);
  ScriptRunner* self = p->owner;
  const int code = signal != 0 ? -1 : static_cast<int>(status);
  if (p->report) {
    if (auto it = self->running_.find(p->checker); it != self->running_.end() && it->second == p)
      self->running_.erase(it);
    self->exited_(p->checker, code);
  } else if (code != 0 && code != -1) {
    self->log_(p->name + ": exited " + std::to_string(code));
  }
  uv_timer_stop(&p->kill_timer);
  uv_close(reinterpret_cast<uv_handle_t*>(&p->kill_timer), release);
  uv_close(reinterpret_cast<uv_handle_t*>(&p->proc), release);
}

void ScriptRunner::wait_notifies(uint64_t ms) {
  auto notifying = [this] {
    return std::any_of(live_.begin(), live_.end(), [](const Proc* p) {
      return !p->report && !uv_is_closing(reinterpret_cast<const uv_handle_t*>(&p->proc));
    });
  };
  if (!notifying()) return;
  bool expired = false;
  uv_timer_t t{};
  uv_timer_init(loop_, &t);
  t.data = &expired;
  uv_timer_start(
      &t, [](uv_timer_t* h) { *static_cast<bool*>(h->data) = true; }, ms, 0);
  while (!expired && notifying()) uv_run(loop_, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
  uv_run(loop_, UV_RUN_NOWAIT);  // the timer's close
}

void ScriptRunner::close() {
  closing_ = true;
  running_.clear();
  for (Proc* p : std::set<Proc*>(live_)) {
    p->report = false;
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&p->proc))) continue;  // exited, closing
    uv_process_kill(&p->proc, SIGKILL);
    uv_close(reinterpret_cast<uv_handle_t*>(&p->kill_timer), release);
    uv_close(reinterpret_cast<uv_handle_t*>(&p->proc), release);
  }
}

}  // namespace vs::tap

// MISC_CHECK's and vrrp_script's programs for the daemon (docs/health-checks.md): started with libuv's uv_spawn,
// without a shell (the config split the command line into words), stdin/stdout/stderr on
// /dev/null, as keepalived runs them; on the checker's deadline SIGTERM, then SIGKILL 2 s later
// (check_misc.c, vrrp_scheduler.c). Each exit is handed back to the engine with the loop's time. Also used by the
// notify scripts (notify_up/notify_down, quorum_up/quorum_down): fire and forget.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine.hpp"

namespace vs::tap {

class ScriptRunner : public vs::ScriptRunner {
public:
  /// `exited(id, status)`: status 0..255, or -1 (a signal, or it could not start).
  using Exited = std::function<void(uint32_t checker, int status)>;
  ScriptRunner(uv_loop_t* loop, Exited exited, std::function<void(const std::string&)> log);
  ~ScriptRunner() override;

  void start(uint32_t id, const std::vector<std::string>& argv, const std::string& user) override;
  void stop(uint32_t id) override;
  /// A notify script: run, not waited for (its exit is only logged when it fails).
  void notify(const std::vector<std::string>& argv, const std::string& user);
  /// Run the loop until every notify script has exited, for at most `ms` (keepalived waits for
  /// its shutdown scripts with a timeout: system_call_script(..., TIMER_HZ, ...)).
  void wait_notifies(uint64_t ms);
  /// Kill what still runs (at shutdown) and release the handles.
  void close();

  struct Proc;  // one program (public for the libuv close callback)
  void forget(Proc* p);

private:
  void spawn(uint32_t checker, const std::vector<std::string>& argv, const std::string& user, bool report);
  static void on_exit(uv_process_t* p, int64_t status, int signal);
  static void on_kill_timer(uv_timer_t* t);

  uv_loop_t* loop_;
  Exited exited_;
  std::function<void(const std::string&)> log_;
  std::map<uint32_t, Proc*> running_;  // checker -> its program (notify scripts are not here)
  std::set<Proc*> live_;               // every program whose handles are open
  bool closing_ = false;
};

}  // namespace vs::tap

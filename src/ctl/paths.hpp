// Where the daemon listens and vsadm connects by default (both use this one function):
// root: /run/vsrouter/vsrouter.sock (the unit's RuntimeDirectory=vsrouter; vsrouter run creates the
// directory, 0700, when it is missing); another user: $XDG_RUNTIME_DIR/vsrouter.sock, else
// /tmp/vsrouter-<uid>.sock. --control PATH (and $VSROUTER_CONTROL for vsadm) override it.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace vs::ctl {

inline std::string default_control_path() {
  if (::geteuid() == 0) return "/run/vsrouter/vsrouter.sock";
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/vsrouter.sock";
  return "/tmp/vsrouter-" + std::to_string(::geteuid()) + ".sock";
}

}  // namespace vs::ctl

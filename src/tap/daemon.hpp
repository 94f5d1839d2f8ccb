// `vsrouter run`: the engine on TAP devices in one libuv loop.
//
// Each configured interface is attached to its TAP device. Reads drain at most kBurst frames per
// readiness so one busy port cannot starve another; a write that would block is a counted drop
// (tx_full), never a queue. One timer follows the engine's next deadline. The engine's clock is
// the Unix time in microseconds, taken from the monotonic clock (so it never jumps) once per
// callback. With offloads (the default), the TAPs carry virtio-net headers: the kernel hands over
// 64 KiB TCP super-frames with deferred checksums and vsrouter hands them on the same way
// (offload.hpp). SIGINT/SIGTERM stop cleanly (captures flushed); SIGUSR1 prints the tables; SIGHUP
// (or `vsadm --reload`) re-reads the config file and applies it, or keeps the running config whole
// and says why. The control socket (tap/control.hpp) runs vsadm's ipvsadm commands. Under systemd
// it reports readiness, reloads and stopping through sd_notify(3), and log lines carry the
// journal's priorities (tap/notify.hpp, docs/operations.md). With --takeover it replaces the
// daemon serving the same control socket without losing a connection: it receives that one's TAP
// descriptors, listeners and state (tap/handover.hpp, docs/handover.md), and the old one exits.
// SIGUSR2 starts that successor itself, from the same command line (the binary as installed now).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "keepalived/translate.hpp"

namespace vs::tap {

struct RunOptions {
  std::string config_path;
  keepalived::LoadOptions load;  // keepalived.conf: --format, --interfaces, --config-id
  std::string capture_dir;       // empty: no capture
  std::string control_path;      // empty: ctl::default_control_path()
  std::string metrics;           // ADDR:PORT for the Prometheus endpoint; empty: none
  int log_level = 1;             // 0 error, 1 warn, 2 info, 3 debug
  bool offload = true;           // IFF_VNET_HDR + checksum offload + TSO (off while capturing)
  bool takeover = false;         // take over from the daemon on the control socket (docs/handover.md)
  /// The command line that started it (the binary's path first): SIGUSR2 runs it again with
  /// --takeover, a successor that takes over (an upgrade in place).
  std::vector<std::string> argv;
};

/// Runs until SIGINT/SIGTERM. Returns the exit code: 0, or 2 after one clear line on stderr when
/// the daemon cannot start (bad config, missing or foreign TAP device, unwritable capture).
int run(const RunOptions& opt);

}  // namespace vs::tap

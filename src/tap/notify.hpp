// What the daemon tells systemd and the journal (docs/operations.md, "Installing and running as a
// service"):
//   notify()         sd_notify(3): READY=1, STATUS=..., RELOADING=1, STOPPING=1 to the socket named
//                    by $NOTIFY_SOCKET (a Type=notify unit sets it); nothing when it is unset.
//   journal_stderr() whether stderr is the journal's stream: $JOURNAL_STREAM holds the device and
//                    inode of that stream (systemd.exec(5)), compared with stderr's. Then each log
//                    line starts with its priority, "<3>" error ... "<7>" debug (sd-daemon(3)).
#pragma once

#include <string>

namespace vs::tap {

/// Sends `state`, newline-separated VARIABLE=value assignments, to $NOTIFY_SOCKET.
void notify(const std::string& state);

/// CLOCK_MONOTONIC in microseconds, for MONOTONIC_USEC= beside RELOADING=1 (sd_notify(3)).
unsigned long long monotonic_usec();

/// True when $JOURNAL_STREAM names the file stderr is open on.
bool journal_stderr();

/// The sd-daemon(3) prefix of a log line of level 0 error, 1 warn, 2 info, 3 debug: "<3>", "<4>",
/// "<6>", "<7>".
const char* journal_prefix(int level);

}  // namespace vs::tap

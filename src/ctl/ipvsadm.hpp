// The ipvsadm command language, executed against the engine (no I/O: the caller passes argv and
// stdin text and gets stdout, stderr and the exit status back). vsadm sends its argv to the
// daemon over the control socket and the daemon runs execute(); tests call it directly.
//
// Parsing, option legality, error texts and exit codes are ipvsadm 1.31's: the command line is
// parsed by ctl/ipvsadm_options.hpp with libpopt, as ipvsadm is built (Debian and Ubuntu ship
// it so); the "kernel" side (what ipvsadm's netlink requests do) is the
// director's control API, with the kernel's checks and libipvs's ipvs_strerror() wording.
// What vsrouter cannot do (fwmark/IPv6/SCTP services, GUE/GRE tunnels, a VIP nothing would
// answer ARP for, a DR real off-link, ...) is refused with a one-line message and exit status 2.
// docs/vsadm.md is the command reference and lists every difference from ipvsadm.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/time.hpp"
#include "ctl/restore_line.hpp"
#include "engine.hpp"

namespace vs::ctl {

struct Output {
  int exit_code = 0;
  std::string out;
  std::string err;
  /// ipvsadm called exit() (a usage error, "Try ...", -h, -v, `-L` of a missing service) rather
  /// than returning from process_options() (success, a "kernel" error, a popt error). Within
  /// `ipvsadm -R` that difference decides whether the restore stops or goes on.
  bool exited = false;
};

/// One ipvsadm command line (argv without the program name; a leading "ipvsadm" word is
/// accepted, as in -R input) executed against the engine, exactly as ipvsadm 1.31 + the kernel
/// would: same parsing, same errors (text and exit code), same output bytes. `now` dates the
/// connection listing (-c). `input` is what `-R` reads as its standard input.
Output execute(Engine& engine, const std::vector<std::string>& args, Instant now, std::string_view input = {});

/// `ipvsadm -R` with `input` as standard input: each line is split by split_restore_line()
/// (ctl/restore_line.hpp) and run as a command line. As in ipvsadm 1.31 (restore_table() and
/// process_options() in ipvsadm.c): whatever makes ipvsadm exit() stops the restore at that line
/// with that status — a usage error (2), a line whose first word is not a command, such as a `#`
/// comment, or a nested -R ("Try ..." on stderr, 255), -h/-v (0), `-L` of a missing service (1);
/// a "kernel" error or a popt error after the command (`-L --bogus`) is printed and the restore goes
/// on; the exit status is then the last line's (255 for an error).
Output restore(Engine& engine, std::string_view input, Instant now);

/// One line of `ipvsadm -R` input, already split (split_restore_line()), run as restore_table()
/// runs it: process_options(..., reading_stdin = 1). `exited` says whether the restore stops here.
/// The daemon answers vsadm's `-R` with this, one request per line.
Output execute_restore_line(Engine& engine, const std::vector<std::string>& words, Instant now);

}  // namespace vs::ctl

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
};

/// One ipvsadm command line (argv without the program name; a leading "ipvsadm" word is
/// accepted, as in -R input) executed against the engine, exactly as ipvsadm 1.31 + the kernel
/// would: same parsing, same errors (text and exit code), same output bytes. `now` dates the
/// connection listing (-c). `input` is what `-R` reads as its standard input.
Output execute(Engine& engine, const std::vector<std::string>& args, Instant now, std::string_view input = {});

/// `ipvsadm -R` with `input` as standard input: each line is split by split_restore_line() and
/// run as a command line
/// (split_restore_line() is in ctl/restore_line.hpp). As in ipvsadm, a usage error (exit status 2) stops the restore there;
/// a "kernel" error is printed and the restore goes on; the exit status is the last line's.
Output restore(Engine& engine, std::string_view input, Instant now);

}  // namespace vs::ctl

// ipvsadm's fixed texts, as vsadm prints them: the version line, `-h`'s usage text and the
// "Try ..." hint. Pure text, shared by both sides: the daemon's option parser
// (ctl/ipvsadm_options.cpp) prints them, and vsadm answers `-h`/`--help` with the same bytes
// itself, without a daemon (it links only the client library: tests/vsadm_linkage.sh).
#pragma once

#include <string>

namespace vs::ctl {

/// The program name the texts use (ipvsadm prints its argv[0]).
inline constexpr const char* kProgram = "vsadm";
/// `ipvsadm -v`'s line (version_exit).
inline constexpr const char* kVersion = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

/// "Try `vsadm -h' or 'vsadm --help' for more information.\n" (tryhelp_exit's text).
std::string tryhelp_text();

/// `ipvsadm -h`'s text (usage_exit(0): the version line, then the usage), with vsrouter's
/// schedulers in the -s line.
std::string usage_text();

}  // namespace vs::ctl

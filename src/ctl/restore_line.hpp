// One line of `ipvsadm -R` input, split into a command line. Used by both sides: vsadm (which
// sends each line of its standard input to the daemon) and the daemon's own -R (ctl/ipvsadm.cpp).
// Pure text; nothing of the engine.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vs::ctl {

/// Splits one line of `ipvsadm -R` input into words, as ipvsadm's config_stream.c does: words
/// are separated by spaces, tabs, CR and LF; there is no quoting or escaping; every word
/// "ipvsadm" is dropped. ('#' is not special: ipvsadm 1.31's comment handling never triggers.)
std::vector<std::string> split_restore_line(std::string_view line);

}  // namespace vs::ctl

// ipvsadm's version line (`ipvsadm -v`), alone so that vsadm can print it without linking the
// ipvsadm parser (tests/vsadm_linkage.sh).
#pragma once

namespace vs::ctl {

inline constexpr const char* kIpvsadmVersion = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

}  // namespace vs::ctl

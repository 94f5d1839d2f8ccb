// The VRRP tests' topology: interface wan 10.0.0.2/24 (02:00:00:00:0a:01), service
// tcp 10.0.0.100:80, and instance VI_1 on wan, VRID 51, with `vips`; `keys` are more of VI_1's
// keys, `extra` more tables after it.
#pragma once

#include <string>

namespace vs::test {

inline std::string vrrp_config_text(const std::string& vips, const std::string& keys, const std::string& extra = "") {
  return R"(
[[interfaces]]
name = "wan"
mac = "02:00:00:00:0a:01"
addresses = ["10.0.0.2/24"]

[[services]]
protocol = "tcp"
address = "10.0.0.100:80"
reals = [{ address = "10.0.0.11:80" }]

[[vrrp_instances]]
name = "VI_1"
interface = "wan"
virtual_router_id = 51
virtual_ipaddress = )" +
         vips + "\n" + keys + "\n" + extra;
}

}  // namespace vs::test

#include "ctl/usage.hpp"

#include <string_view>

#include "config/sched_names.hpp"

namespace vs::ctl {

std::string tryhelp_text() {
  return std::string("Try `") + kProgram + " -h' or '" + kProgram + " --help' for more information.\n";
}

std::string usage_text() {
  const std::string p = kProgram;
  std::string u = kVersion;
  u += "Usage:\n";
  u += "  " + p +
       " -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n";
  u += "  " + p + " -D virtual-service\n";
  u += "  " + p + " -C\n";
  u += "  " + p + " -R\n";
  u += "  " + p + " -S [-n]\n";
  u += "  " + p + " -a|e virtual-service -r server-address [options]\n";
  u += "  " + p + " -d virtual-service -r server-address\n";
  u += "  " + p + " -L|l [virtual-service] [options]\n";
  u += "  " + p + " -Z [virtual-service]\n";
  u += "  " + p + " --set tcp tcpfin udp\n";
  u += "  " + p + " --start-daemon {master|backup} [daemon-options]\n";
  u += "  " + p + " --stop-daemon {master|backup}\n";
  u += "  " + p + " -h\n\n";
  u += "Commands:\n"
       "Either long or short options are allowed.\n"
       "  --add-service     -A        add virtual service with options\n"
       "  --edit-service    -E        edit virtual service with options\n"
       "  --delete-service  -D        delete virtual service\n"
       "  --clear           -C        clear the whole table\n"
       "  --restore         -R        restore rules from stdin\n"
       "  --save            -S        save rules to stdout\n"
       "  --add-server      -a        add real server with options\n"
       "  --edit-server     -e        edit real server with options\n"
       "  --delete-server   -d        delete real server\n"
       "  --list            -L|-l     list the table\n"
       "  --zero            -Z        zero counters in a service or all services\n"
       "  --set tcp tcpfin udp        set connection timeout values\n"
       "  --start-daemon              start connection sync daemon\n"
       "  --stop-daemon               stop connection sync daemon\n"
       "  --help            -h        display this help message\n\n";
  u += "virtual-service:\n"
       "  --tcp-service|-t  service-address   service-address is host[:port]\n"
       "  --udp-service|-u  service-address   service-address is host[:port]\n"
       "  --sctp-service    service-address   service-address is host[:port]\n"
       "  --fwmark-service|-f fwmark          fwmark is an integer greater than zero\n"
       "\n";
  std::string scheds;
  for (std::string_view s : config::kSchedulerNames) {  // appended piece by piece: GCC 12 -O3
    if (!scheds.empty()) scheds += '|';                 // warns (-Wrestrict) on "|" + string
    scheds += s;
  }
  u += "Options:\n"
       "  --ipv6         -6                   fwmark entry uses IPv6\n"
       "  --scheduler    -s scheduler         one of " +
       scheds +
       ",\n"
       "                                      the default scheduler is wlc.\n"
       "  --pe            engine              alternate persistence engine may be sip,\n"
       "                                      not set by default.\n"
       "  --persistent   -p [timeout]         persistent service\n"
       "  --netmask      -M netmask           persistent granularity mask\n"
       "  --real-server  -r server-address    server-address is host (and port)\n"
       "  --gatewaying   -g                   gatewaying (direct routing) (default)\n"
       "  --ipip         -i                   ipip encapsulation (tunneling)\n"
       "  --masquerading -m                   masquerading (NAT)\n"
       "  --tun-type      type                one of ipip|gue|gre,\n"
       "                                      the default tunnel type is ipip.\n"
       "  --tun-port      port                tunnel destination port\n"
       "  --tun-nocsum                        tunnel encapsulation without checksum\n"
       "  --tun-csum                          tunnel encapsulation with checksum\n"
       "  --tun-remcsum                       tunnel encapsulation with remote checksum\n"
       "  --weight       -w weight            capacity of real server\n"
       "  --u-threshold  -x uthreshold        upper threshold of connections\n"
       "  --l-threshold  -y lthreshold        lower threshold of connections\n"
       "  --connection   -c                   output of current IPVS connections\n"
       "  --timeout                           output of timeout (tcp tcpfin udp)\n"
       "  --daemon                            output of daemon information\n"
       "  --stats                             output of statistics information\n"
       "  --rate                              output of rate information\n"
       "  --exact                             expand numbers (display exact values)\n"
       "  --thresholds                        output of thresholds information\n"
       "  --persistent-conn                   output of persistent connection info\n"
       "  --tun-info                          output of tunnel information\n"
       "  --nosort                            disable sorting output of service/server entries\n"
       "  --sort                              does nothing, for backwards compatibility\n"
       "  --ops          -o                   one-packet scheduling\n"
       "  --numeric      -n                   numeric output of addresses and ports\n"
       "  --sched-flags  -b flags             scheduler flags (comma-separated)\n";
  u += "Daemon Options:\n"
       "  --syncid sid                        syncid for connection sync (default=255)\n"
       "  --sync-maxlen length                Max sync message length (default=1472)\n"
       "  --mcast-interface interface         multicast interface for connection sync\n"
       "  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)\n"
       "  --mcast-port port                   UDP port (default=8848)\n"
       "  --mcast-ttl ttl                     Multicast TTL (default=1)\n";
  return u;
}

}  // namespace vs::ctl

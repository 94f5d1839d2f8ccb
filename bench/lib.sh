# bench/lib.sh: the namespaces, paths and measurements of bench/run (sourced, not run).
#
# Every path under test joins two namespaces, "cli" (the client) and "srv" (the server), each
# with one interface; the server is reached at $BN_TARGET. Depending on the row, the interfaces are
#   direct   a veth pair: the kernel alone, no forwarder (the baseline of "added latency")
#   wire     the two TAP devices of the bare copier (tapwire.c), one moved into each namespace
#   nat/dr/tun  vsrouter's two TAP devices (wan, lan), one moved into each namespace; DR and
#            TUN replies come back directly over a veth pair, as they would in a LAN
#   kernel   nftables DNAT in a third namespace joined by two veth pairs (kernel forwarding)
# vsrouter and the copier run in a third namespace, "rt", where they create their TAP devices
# before the devices are moved out: the forwarded path has no bridge and no veth in it.
#
# All names are "$BN_PREFIX-*" (unique per run), all addresses private and only inside those
# namespaces; bn_cleanup (an EXIT trap) kills what was started and deletes the namespaces.

PY=/usr/bin/python3
BN_PREFIX=${BN_PREFIX:-vsb$$}
# CPU placement, off by default (BENCH_PIN=1 turns it on). With it, on 2 or more CPUs, the
# userspace forwarder (copier, vsrouter) runs on CPU 1 and everything else of a userspace row
# (clients, servers, ipipd: the hosts) on CPU 0, so that each forwarder has a core of its own;
# kernel rows (direct, kernel) are never pinned (their forwarding runs in softirq wherever the
# packets are). On an idle machine that makes the rows compare the forwarders rather than the
# scheduler's placement; on a machine shared with other jobs it makes things worse (a pinned
# forwarder cannot leave a CPU another job is using: milliseconds of added latency), hence off.
if [[ ${BENCH_PIN:-0} == 1 && $(nproc) -ge 2 ]]; then
  BN_FWD=(taskset -c 1)
  BN_HOST=(taskset -c 0)
else
  BN_FWD=()
  BN_HOST=()
fi
BN_PINNED=0  # set by the userspace paths: then clients and servers go on CPU 0
BN_NS=()
BN_PIDS=()
BN_TARGET=""

bn_log() { echo "[bench] $*" >&2; }
bn_die() { echo "[bench] error: $*" >&2; exit 1; }
bn_ns_name() { echo "$BN_PREFIX-$1"; }
in_ns() { local n; n=$(bn_ns_name "$1"); shift; ip netns exec "$n" "$@"; }
# In the background, remembered for bn_teardown; BN_LAST is its pid (`ip netns exec` execs in
# place, so it is the command's own pid). Redirections go on the call: bn_bg NS CMD... >log 2>&1
bn_bg() {
  local n; n=$(bn_ns_name "$1"); shift
  ip netns exec "$n" "$@" &
  BN_LAST=$!
  BN_PIDS+=("$BN_LAST")
}

bn_netns() {
  ip netns add "$(bn_ns_name "$1")" || bn_die "cannot create namespace $(bn_ns_name "$1")"
  BN_NS+=("$(bn_ns_name "$1")")
  in_ns "$1" ip link set lo up
  # Replies of DR/TUN come back on another interface than the one the VIP is reached by.
  in_ns "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# Stop what this row started (by pid), then the namespaces and everything still in them.
bn_teardown() {
  local pid n
  for pid in "${BN_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${BN_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  BN_PIDS=()
  BN_PINNED=0
  for n in "${BN_NS[@]}"; do
    ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns del "$n" 2>/dev/null
  done
  BN_NS=()
}
bn_cleanup() { bn_teardown; }

# Wait (bounded) for a line in a log file.
bn_wait_log() {  # file pattern pid what
  for _ in $(seq 100); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.05
  done
  cat "$1" >&2
  bn_die "$4 did not start"
}

# Move a TAP device created in "rt" into a host namespace and give it an address.
bn_move() {  # dev ns addr/len [mtu]
  ip -n "$(bn_ns_name rt)" link set "$1" netns "$(bn_ns_name "$2")" || bn_die "cannot move $1 to $2"
  in_ns "$2" ip addr add "$3" dev "$1"
  [[ -z ${4:-} ]] || in_ns "$2" ip link set "$1" mtu "$4"
  in_ns "$2" ip link set "$1" up
}

# The return path of DR and TUN: a veth pair between server and client (10.9.0.0/30).
bn_return_veth() {
  ip link add bw-rc netns "$(bn_ns_name cli)" type veth peer name bw-rs netns "$(bn_ns_name srv)" ||
    bn_die "cannot create the return veth"
  in_ns cli ip addr add 10.9.0.1/30 dev bw-rc
  in_ns srv ip addr add 10.9.0.2/30 dev bw-rs
  in_ns cli ip link set bw-rc up
  in_ns srv ip link set bw-rs up
  # "src": replies of unbound UDP servers leave from the VIP, as the client expects.
  in_ns srv ip route add 10.0.0.0/24 via 10.9.0.1 dev bw-rs src 10.0.0.100
}

# A real server with the VIP on lo (DR, TUN), which never answers ARP for it.
bn_vip_on_lo() {
  in_ns srv ip addr add 10.0.0.100/32 dev lo
  in_ns srv sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
}

# --- the paths ------------------------------------------------------------------------------

bn_path_direct() {
  bn_netns cli; bn_netns srv
  ip link add bw-c netns "$(bn_ns_name cli)" type veth peer name bw-s netns "$(bn_ns_name srv)" ||
    bn_die "cannot create veth"
  in_ns cli ip addr add 10.0.0.2/24 dev bw-c
  in_ns srv ip addr add 10.0.0.100/24 dev bw-s
  in_ns cli ip link set bw-c up
  in_ns srv ip link set bw-s up
  BN_TARGET=10.0.0.100
}

bn_path_wire() {  # [-v]
  bn_netns rt; bn_netns cli; bn_netns srv
  BN_PINNED=1
  local log="$BN_DIR/tapwire$1.log"
  bn_bg rt "${BN_FWD[@]}" "$BN_TOOLS/tapwire" ${1:+"$1"} bw-c bw-s >"$log" 2>&1
  bn_wait_log "$log" ready "$BN_LAST" tapwire
  bn_move bw-c cli 10.0.0.2/24
  bn_move bw-s srv 10.0.0.100/24
  BN_TARGET=10.0.0.100
}

bn_path_vsrouter() {  # nat|dr|tun [extra vsrouter run arguments, e.g. --no-offload]
  local mode=$1 log="$BN_DIR/vsrouter-$1${2:+-plain}.log"
  shift
  bn_netns rt; bn_netns cli; bn_netns srv
  BN_PINNED=1
  bn_bg rt "${BN_FWD[@]}" "$BN_VSROUTER" run -c "$BN_ROOT/bench/conf/$mode.toml" --control "$BN_DIR/control-$mode.sock" \
    --metrics 127.0.0.1:9900 --log-level info "$@" >"$log" 2>&1
  BN_VSPID=$BN_LAST
  bn_wait_log "$log" "vsrouter: running" "$BN_VSPID" vsrouter
  bn_move bw-wan cli 10.0.0.2/24
  case $mode in
    nat)
      bn_move bw-lan srv 192.168.10.11/24
      in_ns srv ip route add default via 192.168.10.1
      ;;
    dr)
      bn_move bw-lan srv 192.168.10.11/24
      bn_vip_on_lo
      bn_return_veth
      ;;
    tun)
      bn_move bw-lan srv 192.168.10.11/24 1520
      bn_vip_on_lo
      bn_return_veth
      # The kernel's IP input must not see the IPIP packets (no ipip driver: it would answer
      # some of them with ICMP protocol unreachable); ipipd's packet socket sees them first.
      in_ns srv nft -f - <<'EOF' || bn_die "nft failed"
table ip bench {
  chain pre {
    type filter hook prerouting priority raw; policy accept;
    ip protocol 4 drop
  }
}
EOF
      local tlog="$BN_DIR/ipipd.log"
      bn_bg srv "${BN_HOST[@]}" "$BN_TOOLS/ipipd" bw-lan bw-tun >"$tlog" 2>&1
      bn_wait_log "$tlog" ready "$BN_LAST" ipipd
      in_ns srv ip link set bw-tun up
      in_ns srv sysctl -qw net.ipv4.conf.bw-tun.rp_filter=0
      ;;
  esac
  BN_TARGET=10.0.0.100
}

# Kernel forwarding with nftables DNAT (the reference a kernel LVS would be compared with).
bn_path_kernel() {
  bn_netns rt; bn_netns cli; bn_netns srv
  ip link add bw-c netns "$(bn_ns_name cli)" type veth peer name bw-w netns "$(bn_ns_name rt)" &&
    ip link add bw-s netns "$(bn_ns_name srv)" type veth peer name bw-l netns "$(bn_ns_name rt)" ||
    bn_die "cannot create veth"
  in_ns cli ip addr add 10.0.0.2/24 dev bw-c
  in_ns rt ip addr add 10.0.0.1/24 dev bw-w
  in_ns rt ip addr add 192.168.10.1/24 dev bw-l
  in_ns srv ip addr add 192.168.10.11/24 dev bw-s
  local d
  for d in cli:bw-c rt:bw-w rt:bw-l srv:bw-s; do in_ns "${d%%:*}" ip link set "${d#*:}" up; done
  in_ns srv ip route add default via 192.168.10.1
  in_ns rt sysctl -qw net.ipv4.ip_forward=1
  in_ns rt nft -f - <<'EOF' || bn_die "nft failed"
table ip lb {
  chain pre {
    type nat hook prerouting priority dstnat;
    ip daddr 10.0.0.100 dnat to 192.168.10.11
  }
}
EOF
  # The VIP answers ARP on the client side (a proxy-ARP-like static entry on the client).
  in_ns cli ip neigh add 10.0.0.100 lladdr "$(in_ns rt cat /sys/class/net/bw-w/address)" dev bw-c
  BN_TARGET=10.0.0.100
}

# --- servers and measurements ---------------------------------------------------------------

# The placement prefix of clients and servers (words; empty in kernel rows or without pinning).
bn_host() { [[ $BN_PINNED == 1 ]] && echo "${BN_HOST[*]}"; }

bn_servers() {
  mkdir -p "$BN_DIR/www"
  echo ok >"$BN_DIR/www/index.html"
  cat >"$BN_DIR/nginx.conf" <<EOF
worker_processes 1;
pid $BN_DIR/nginx.pid;
error_log /dev/null;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen 80 reuseport backlog=4096; root $BN_DIR/www; }
}
EOF
  bn_bg srv $(bn_host) nginx -c "$BN_DIR/nginx.conf" -e /dev/null >"$BN_DIR/nginx.log" 2>&1
  bn_bg srv $(bn_host) iperf3 -s >"$BN_DIR/iperf3-server.log" 2>&1
  bn_bg srv $(bn_host) "$BN_TOOLS/udprtt" server 7 >/dev/null 2>&1
  # The wait is bounded: the three servers listen within a few hundred milliseconds.
  for _ in $(seq 100); do
    if in_ns srv ss -Htln 2>/dev/null | grep -q ':80 ' && in_ns srv ss -Htln | grep -q ':5201 ' &&
       in_ns srv ss -Huln | grep -q ':7 '; then
      return 0
    fi
    sleep 0.05
  done
  bn_die "servers did not start"
}

# One value per line on stdout, "" when the measurement failed.
bn_tcp_gbps() {
  timeout $((BN_T + 15)) ip netns exec "$(bn_ns_name cli)" $(bn_host) iperf3 -c "$BN_TARGET" -t "$BN_T" -J \
    >"$BN_DIR/$1-tcp.json" 2>&1
  $PY - "$BN_DIR/$1-tcp.json" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    print("%.3f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("")
EOF
}

bn_udp_kpps() {
  timeout $((BN_T + 15)) ip netns exec "$(bn_ns_name cli)" $(bn_host) iperf3 -c "$BN_TARGET" -u -l 64 -b 0 -t "$BN_T" -J \
    >"$BN_DIR/$1-udp.json" 2>&1
  $PY - "$BN_DIR/$1-udp.json" <<'EOF'
import json, sys
try:
    s = json.load(open(sys.argv[1]))["end"]["sum"]
    print("%.1f" % ((s["packets"] - s["lost_packets"]) / s["seconds"] / 1e3))
except Exception:
    print("")
EOF
}

bn_http_cps() {
  timeout $((BN_T + 15)) ip netns exec "$(bn_ns_name cli)" $(bn_host) wrk -t1 -c32 -d"${BN_T}s" --timeout 2s \
    -H 'Connection: close' "http://$BN_TARGET/" >"$BN_DIR/$1-wrk.txt" 2>&1
  awk '/Requests\/sec/ {printf "%.0f\n", $2; found=1} END {if (!found) print ""}' "$BN_DIR/$1-wrk.txt"
}

bn_rtt() {  # prints "p50 p99" in microseconds
  timeout $((BN_RTT_T + 15)) ip netns exec "$(bn_ns_name cli)" $(bn_host) "$BN_TOOLS/udprtt" client "$BN_TARGET" 7 \
    "$BN_RTT_RATE" "$BN_RTT_T" >"$BN_DIR/$1-rtt.txt" 2>&1
  sed -n 's/.*p50_us=\([^ ]*\) .*p99_us=\([^ ]*\) .*/\1 \2/p' "$BN_DIR/$1-rtt.txt"
}

# Frames the host-side devices could not hand to the forwarder (TX dropped on the client's and
# the server's interface: for a TAP, its queue toward the userspace reader was full).
bn_link_drops() {
  local n total=0 d
  for n in cli srv; do
    d=$(in_ns "$n" ip -j -s link show 2>/dev/null | $PY -c '
import json, sys
print(sum(l.get("stats64", {}).get("tx", {}).get("dropped", 0) for l in json.load(sys.stdin) if l["ifname"] != "lo"))')
    total=$((total + ${d:-0}))
  done
  echo "$total"
}

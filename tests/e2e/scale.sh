#!/usr/bin/env bash
# [announce] with real BIRD 2 (docs/scale-out.md): two vsrouter directors, each with its own BIRD
# speaking eBGP to a router namespace whose BIRD installs the VIP as one ECMP kernel route over
# both. Shows: both directors' next hops in the router's route once they announce; `vsadm
# --drain` on d1 withdraws its next hop (the time measured) and `--undrain` brings it back; a
# SIGTERM of d2 withdraws its next hop before d2 exits (the stop's grace period). Needs root and
# bird2. Usage: scale.sh VSROUTER
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
VSROUTER=$(realpath "$1")
VSADM=$(dirname "$VSROUTER")/vsadm
source "$HERE/lib.sh"
e2e_require_root
trap 'for c in "$E2E_DIR"/*.ctl; do [[ -S $c ]] && birdc -s "$c" down >/dev/null 2>&1; done; e2e_cleanup' EXIT
command -v bird >/dev/null || e2e_fail "bird2 is not installed (scripts/setup installs it)"
VIP=10.99.99.1

e2e_netns sw
e2e_bridge br0
e2e_host rtr br0 10.0.0.1/24
# The router hashes the 5-tuple (policy 3, fields 0x0037: addresses, protocol, ports) over the
# next hops: the same flow keeps its director while the set does not change.
in_ns rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=3 \
  net.ipv4.fib_multipath_hash_fields=0x0037 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
e2e_host r1 br0 10.0.0.21/24 10.0.0.1
e2e_make_blob
e2e_real r1 "$VIP"
for i in 1 2; do
  e2e_tap "vsd-d$i" br0
  e2e_host "b$i" br0 "10.0.0.3$i/24"
done

cat >"$E2E_DIR/rtr.conf" <<CONF
router id 10.0.0.1;
protocol device { }
protocol kernel { ipv4 { import none; export all; }; merge paths yes; }
template bgp lb {
  local as 65000;
  ipv4 { import filter { if net ~ [ 10.99.99.0/24+ ] then accept; reject; }; export none; };
  hold time 3; keepalive time 1; connect retry time 1;
}
protocol bgp d1 from lb { neighbor 10.0.0.31 as 65001; }
protocol bgp d2 from lb { neighbor 10.0.0.32 as 65002; }
CONF
start_bird() {  # namespace config
  ip netns exec "$(ns "$1")" bird -c "$2" -s "$E2E_DIR/$1.ctl" -P "$E2E_DIR/$1.pid" ||
    e2e_fail "bird in $1 did not start"
}
start_bird rtr "$E2E_DIR/rtr.conf"
for i in 1 2; do
  : >"$E2E_DIR/d$i-vips.conf"
  cat >"$E2E_DIR/b$i.conf" <<CONF
router id 10.0.0.3$i;
protocol device { }
protocol static vsrouter {
  ipv4;
  include "$E2E_DIR/d$i-vips.conf";
}
protocol bgp up {
  local as 6500$i; neighbor 10.0.0.1 as 65000;
  ipv4 { import none; export where proto = "vsrouter"; next hop keep; };
  hold time 3; keepalive time 1; connect retry time 1;
}
CONF
  start_bird "b$i" "$E2E_DIR/b$i.conf"
  cat >"$E2E_DIR/d$i.toml" <<CONF
[[interfaces]]
name = "lan"
tap = "vsd-d$i"
mac = "02:00:00:00:0d:0$i"
addresses = ["10.0.0.1$i/24", "10.99.99.1$i/24"]

[[routes]]
to = "0.0.0.0/0"
via = "10.0.0.1"

[ipvs]
sloppy_tcp = true

[[services]]
protocol = "tcp"
address = "$VIP:80"
scheduler = "mh"
reals = [{ address = "10.0.0.21:80", method = "dr" }]

[announce]
file = "$E2E_DIR/d$i-vips.conf"
next_hop = "10.0.0.1$i"
command = "/usr/sbin/birdc -s $E2E_DIR/b$i.ctl configure"
stop_delay = 1
CONF
done

rtr_hops() { in_ns rtr ip -4 route show "$VIP/32" | grep -oE "via 10\.0\.0\.1[0-9]" | sort | tr '\n' ' '; }
# Seconds until `cond` holds (polling every 0.01 s), failing after $1 s.
wait_for() {
  local limit=$1 what=$2 t0
  shift 2
  t0=$(date +%s.%N)
  until "$@"; do
    (($(echo "$(date +%s.%N) - $t0 > $limit" | bc))) && e2e_fail "$what: not within $limit s (route: $(rtr_hops))"
    sleep 0.01
  done
  echo "$(date +%s.%N) - $t0" | bc
}
hops_are() { [[ $(rtr_hops) == "$1" ]]; }

for i in 1 2; do
  e2e_vsrouter "d$i" "$E2E_DIR/d$i.toml"
  PID[$i]=${E2E_PIDS[-1]}
done
took=$(wait_for 20 "the router's ECMP route over both directors" hops_are "via 10.0.0.11 via 10.0.0.12 ") || exit 1
e2e_log "the router's route to $VIP: $(in_ns rtr ip -4 route show "$VIP/32" | tr -s ' \n' ' ')"
grep -q "route $VIP/32 via 10.0.0.11;" "$E2E_DIR/d1-vips.conf" || e2e_fail "d1's file: $(cat "$E2E_DIR/d1-vips.conf")"
grep -q "announce $VIP (healthy)" "$E2E_DIR/vsrouter-d1.log" || e2e_fail "d1 did not log its announcement"

# A client through the router's ECMP route reaches the real (DR; sloppy_tcp and mh on both).
e2e_host cli br0 10.0.0.50/24 10.0.0.1
body=$(in_ns cli curl -s --max-time 3 "http://$VIP/") || e2e_fail "the client cannot reach $VIP through the router"
[[ $body == r1 ]] || e2e_fail "the client got \"$body\""

ctl() { timeout 5 ip netns exec "$(ns sw)" "$VSADM" --control "$E2E_DIR/control-d$1.sock" "${@:2}"; }
ctl 1 --drain | grep -qE "^$VIP +withdrawn" || e2e_fail "--drain does not list $VIP withdrawn"
took=$(wait_for 5 "d1's next hop withdrawn after --drain" hops_are "via 10.0.0.12 ") || exit 1
e2e_log "vsadm --drain on d1: its next hop left the router's route $took s later"
body=$(in_ns cli curl -s --max-time 3 "http://$VIP/") || e2e_fail "the client lost $VIP with d1 drained"
ctl 1 --undrain >/dev/null
took=$(wait_for 5 "d1's next hop back after --undrain" hops_are "via 10.0.0.11 via 10.0.0.12 ") || exit 1
e2e_log "vsadm --undrain on d1: back in the route $took s later"

t0=$(date +%s.%N)
kill -TERM "${PID[2]}"
took=$(wait_for 5 "d2's next hop withdrawn after its SIGTERM" hops_are "via 10.0.0.11 ") || exit 1
kill -0 "${PID[2]}" 2>/dev/null || e2e_fail "d2 exited before its grace period (stop_delay 1 s)"
e2e_log "SIGTERM of d2: its next hop left the route $took s later, while d2 still forwarded"
for _ in $(seq 100); do kill -0 "${PID[2]}" 2>/dev/null || break; sleep 0.05; done
kill -0 "${PID[2]}" 2>/dev/null && e2e_fail "d2 did not stop after its grace period"
grep -q "withdraw $VIP (draining)" "$E2E_DIR/vsrouter-d2.log" || e2e_fail "d2 did not log its withdrawal"
e2e_log "PASS"

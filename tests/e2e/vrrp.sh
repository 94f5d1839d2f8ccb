#!/usr/bin/env bash
# VRRP interop with Debian's keepalived (docs/vrrp.md): vsrouter and `keepalived -P` (VRRP only)
# share VIP 10.0.0.100 on one bridge, with a client beside them. Usage: vrrp.sh MODE VSROUTER,
# MODE one of (the client has no ping: it sends a UDP datagram to the VIP and reads its ARP cache):
#   v2    version 2, multicast to 224.0.0.18, advert_int 1
#   v3    version 3, unicast between 10.0.0.2 (vsrouter) and 10.0.0.3 (keepalived), advert_int 0.5
# In each: keepalived (priority 150) is master and vsrouter (100) backup; keepalived stops
# (priority 0): vsrouter is master within Skew_Time (+ slack) and the client reaches the VIP at
# vsrouter's MAC (its gratuitous ARPs); keepalived starts again and preempts: vsrouter is backup.
# Then the reverse: vsrouter (200) preempts keepalived (100), stops, and keepalived takes over
# within Skew_Time. tshark decodes every advert vsrouter sent, without a warning.
#   script  keepalived's vrrp_script in vsrouter (version 2): a weighted script failing (fall 2)
#           lowers vsrouter's priority below keepalived's, which takes over; its success (rise 2)
#           brings vsrouter back by preemption. Then an unweighted script failing from the start
#           holds vsrouter (priority 200) in INIT and FAULT: keepalived (100) keeps the VIP, and
#           vsrouter is master only once its script succeeds.
# Needs root.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1
VSROUTER=$(realpath "$2")
VSADM=$(dirname "$VSROUTER")/vsadm
source "$HERE/lib.sh"
e2e_require_root
trap e2e_cleanup EXIT
command -v keepalived >/dev/null || e2e_fail "keepalived is not installed (scripts/setup installs it)"
command -v tshark >/dev/null || e2e_fail "tshark is not installed (scripts/setup installs it)"

case $MODE in
  v2) VERSION=2 ADV=1 ;;
  v3) VERSION=3 ADV=0.5 ;;
  script) VERSION=2 ADV=1 ;;
  *) e2e_fail "unknown mode $MODE" ;;
esac
VIP=10.0.0.100 ME=10.0.0.2 KA=10.0.0.3 VS_MAC=02:00:00:00:0a:01

e2e_netns sw
e2e_bridge br0
e2e_tap vsv-wan br0
e2e_host ka br0 "$KA/24"
e2e_host cli br0 10.0.0.50/24
KA_MAC=$(in_ns ka cat /sys/class/net/eth0/address)
ip netns exec "$(ns sw)" tshark -q -i br0 -f "ip proto 112" -w "$E2E_DIR/adverts.pcapng" 2>/dev/null &
TSHARK=$!

vs_config() {  # priority [more VI_1 keys, then more tables]
  cat <<EOF
[[interfaces]]
name = "wan"
tap = "vsv-wan"
mac = "$VS_MAC"
addresses = ["$ME/24"]

[[vrrp_instances]]
name = "VI_1"
interface = "wan"
virtual_router_id = 51
priority = $1
version = $VERSION
advert_int = $ADV
virtual_ipaddress = ["$VIP"]
EOF
  [[ $VERSION == 3 ]] && printf 'unicast_src_ip = "%s"\nunicast_peer = ["%s"]\n' "$ME" "$KA"
  [[ -n ${2:-} ]] && printf '%s\n' "$2"
  return 0
}
ka_config() {  # priority
  cat <<EOF
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority $1
  version $VERSION
  advert_int $ADV
  virtual_ipaddress { $VIP/24 }
EOF
  [[ $VERSION == 3 ]] && printf '  unicast_src_ip %s\n  unicast_peer { %s }\n' "$KA" "$ME"
  echo "}"
}
start_ka() {  # priority
  ka_config "$1" >"$E2E_DIR/ka.conf"
  # `ip netns exec` itself (not through a shell function): $! is keepalived (it execs in place).
  ip netns exec "$(ns ka)" keepalived -P -n -l -f "$E2E_DIR/ka.conf" -p "$E2E_DIR/ka.pid" \
    -r "$E2E_DIR/ka_vrrp.pid" >>"$E2E_DIR/keepalived.log" 2>&1 &
  KA_PID=$!
}
stop_ka() { kill -TERM "$KA_PID"; }  # it sends priority 0, then exits
reap_ka() { wait "$KA_PID" 2>/dev/null; }
start_vs() {  # priority [more config]
  vs_config "$1" "${2:-}" >"$E2E_DIR/vs.toml"
  e2e_vsrouter director "$E2E_DIR/vs.toml"
  VS_PID=${E2E_PIDS[-1]}
}
vs_state() { timeout 5 ip netns exec "$(ns sw)" "$VSADM" --control "$E2E_DIR/control-director.sock" --list-vrrp 2>/dev/null | awk '$1 == "VI_1" {print $2}'; }
ka_has_vip() { in_ns ka ip -4 addr show dev eth0 | grep -qF " $VIP/"; }
cli_reaches() {  # MAC: a datagram from the client to the VIP resolves it to that MAC
  in_ns cli "$PY" -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('$VIP', 9))"
  sleep 0.05
  in_ns cli ip neigh show "$VIP" | grep -qi "lladdr $1"
}
# Seconds until `cond` holds (polling every 0.02 s), failing after $1 s.
wait_for() {
  local limit=$1 what=$2 t0
  shift 2
  t0=$(date +%s.%N)
  until "$@"; do
    if (($(echo "$(date +%s.%N) - $t0 > $limit" | bc))); then
      tail -5 "$E2E_DIR/keepalived.log" >&2
      tail -5 "$E2E_DIR/vsrouter-director.log" >&2
      e2e_fail "$what: not within $limit s"
    fi
    sleep 0.02
  done
  echo "$(date +%s.%N) - $t0" | bc
}
is_state() { [[ $(vs_state) == "$1" ]]; }
# Master_Down_Interval and Skew_Time of a priority (RFC 5798 §6.1; version 2: skew in seconds)
skew() {
  local unit=1
  [[ $VERSION == 3 ]] && unit=$ADV
  echo "scale=3; (256 - $1) * $unit / 256" | bc
}
down_interval() { echo "scale=3; 3 * $ADV + $(skew "$1")" | bc; }

if [[ $MODE == script ]]; then
  # The script succeeds while $E2E_DIR/fail does not exist; no shell: /usr/bin/test runs itself.
  script_cfg() {  # weight
    printf 'track_script = ["chk"]\n\n[[vrrp_scripts]]\nname = "chk"\nscript = "/usr/bin/test ! -e %s"\n' "$E2E_DIR/fail"
    printf 'interval = 1\nweight = %s\nrise = 2\nfall = 2\n' "$1"
  }
  # A. Weighted: vsrouter 150 - 60 = 90 while its script fails, below keepalived's 100.
  start_ka 100
  wait_for 10 "keepalived master alone" ka_has_vip >/dev/null
  start_vs 150 "$(script_cfg -60)"
  took=$(wait_for "$(echo "$(down_interval 150) + 2" | bc)" "vsrouter (150, script up) master by preemption" is_state MASTER) || exit 1
  e2e_log "vsrouter (150, its script up) preempted keepalived (100) $took s after its start"
  wait_for 5 "the client reaches the VIP at vsrouter's MAC" cli_reaches "$VS_MAC" >/dev/null
  touch "$E2E_DIR/fail"
  # fall 2 at interval 1: down within 2 s; then keepalived's Master_Down_Interval (it ignores
  # the lower priority adverts and takes over when its timer fires).
  took=$(wait_for "$(echo "2 + $(down_interval 100) + 2" | bc)" "keepalived master after vsrouter's script failed" ka_has_vip) || exit 1
  wait_for 3 "vsrouter backup" is_state BACKUP >/dev/null
  e2e_log "vsrouter's script failed: keepalived master $took s later"
  grep -q "VRRP script chk: down (exited 1)" "$E2E_DIR/vsrouter-director.log" || e2e_fail "vsrouter did not log its script going down"
  prio=$(timeout 5 ip netns exec "$(ns sw)" "$VSADM" --control "$E2E_DIR/control-director.sock" --list-vrrp | awk '$1 == "VI_1" {print $4}')
  [[ $prio == 90 ]] || e2e_fail "vsrouter's priority is $prio, want 150 - 60 = 90"
  timeout 5 ip netns exec "$(ns sw)" "$VSADM" --control "$E2E_DIR/control-director.sock" --list-vrrp | grep -qE '^chk +BAD ' ||
    e2e_fail "--list-vrrp does not show the script BAD"
  wait_for 5 "the client reaches the VIP at keepalived's MAC" cli_reaches "$KA_MAC" >/dev/null
  rm -f "$E2E_DIR/fail"
  took=$(wait_for "$(echo "2 + $(down_interval 150) + 2" | bc)" "vsrouter master again after its script recovered" is_state MASTER) || exit 1
  e2e_log "vsrouter's script recovered (rise 2): vsrouter master again $took s later"
  wait_for 5 "keepalived released the VIP" bash -c "! ip netns exec $(ns ka) ip -4 addr show dev eth0 | grep -qF ' $VIP/'" >/dev/null
  e2e_stop_vsrouter "$VS_PID"

  # B. Unweighted, failing from the start: vsrouter (200) never becomes master until it succeeds.
  touch "$E2E_DIR/fail"
  : >"$E2E_DIR/vsrouter-director.log"
  start_vs 200 "$(script_cfg 0)"
  wait_for 5 "vsrouter in FAULT" is_state FAULT >/dev/null
  sleep "$(down_interval 200)"
  is_state FAULT || e2e_fail "vsrouter left FAULT with its script failing: $(vs_state)"
  ka_has_vip || e2e_fail "keepalived lost the VIP to a vsrouter whose script fails"
  if grep -q "MASTER" <(grep "VRRP VI_1" "$E2E_DIR/vsrouter-director.log"); then
    e2e_fail "vsrouter was master with its script failing: $(grep 'VRRP VI_1' "$E2E_DIR/vsrouter-director.log")"
  fi
  grep -q "VRRP VI_1: INIT -> FAULT" "$E2E_DIR/vsrouter-director.log" || e2e_fail "vsrouter did not go from INIT to FAULT"
  e2e_log "vsrouter (200) with its script failing from the start: INIT -> FAULT, keepalived kept the VIP"
  rm -f "$E2E_DIR/fail"
  took=$(wait_for "$(echo "2 + $(down_interval 200) + 2" | bc)" "vsrouter master once its script succeeds" is_state MASTER) || exit 1
  wait_for 5 "keepalived released the VIP" bash -c "! ip netns exec $(ns ka) ip -4 addr show dev eth0 | grep -qF ' $VIP/'" >/dev/null
  e2e_log "its script succeeded (rise 2): vsrouter master $took s later"
  e2e_stop_vsrouter "$VS_PID"
  stop_ka
  reap_ka
  kill -INT "$TSHARK" && wait "$TSHARK" 2>/dev/null
  e2e_log "PASS ($MODE)"
  exit 0
fi

# 1. keepalived master (150), vsrouter backup (100).
start_ka 150
wait_for 10 "keepalived master" ka_has_vip >/dev/null
start_vs 100
wait_for 5 "vsrouter backup" is_state BACKUP >/dev/null
wait_for 5 "the client reaches the VIP at keepalived's MAC" cli_reaches "$KA_MAC" >/dev/null
sleep $((2 * ${ADV%.*} + 1))
is_state BACKUP || e2e_fail "vsrouter left BACKUP while keepalived was master: $(vs_state)"
e2e_log "keepalived master, vsrouter backup"

# 2. keepalived stops (priority 0): vsrouter takes over after Skew_Time.
stop_ka
limit=$(echo "$(skew 100) + 1" | bc)
took=$(wait_for "$limit" "vsrouter master after keepalived resigned" is_state MASTER) || exit 1
e2e_log "vsrouter master $took s after keepalived stopped (Skew_Time $(skew 100) s)"
reap_ka
wait_for 3 "the client reaches the VIP at vsrouter's MAC" cli_reaches "$VS_MAC" >/dev/null

# 3. keepalived (150) starts again and preempts.
start_ka 150
took=$(wait_for "$(echo "$(down_interval 150) + 3" | bc)" "vsrouter backup after keepalived preempted" is_state BACKUP) || exit 1
wait_for 3 "keepalived holds the VIP again" ka_has_vip >/dev/null
e2e_log "keepalived preempted; vsrouter backup $took s after keepalived started"
wait_for 5 "the client reaches the VIP at keepalived's MAC again" cli_reaches "$KA_MAC" >/dev/null

# 4. The reverse: vsrouter (200) preempts keepalived (now 100), then stops.
e2e_stop_vsrouter "$VS_PID"
stop_ka
reap_ka
start_ka 100
wait_for 10 "keepalived master alone" ka_has_vip >/dev/null
start_vs 200
took=$(wait_for "$(echo "$(down_interval 200) + 2" | bc)" "vsrouter master by preemption" is_state MASTER) || exit 1
e2e_log "vsrouter (200) preempted keepalived (100) $took s after its start"
wait_for 5 "keepalived released the VIP" bash -c "! ip netns exec $(ns ka) ip -4 addr show dev eth0 | grep -qF ' $VIP/'" >/dev/null
wait_for 5 "the client reaches the VIP at vsrouter's MAC" cli_reaches "$VS_MAC" >/dev/null
t0=$(date +%s.%N)
e2e_stop_vsrouter "$VS_PID"
took=$(wait_for "$(echo "$(skew 100) + 1.5" | bc)" "keepalived master after vsrouter resigned" ka_has_vip) || exit 1
e2e_log "keepalived master $took s after vsrouter's stop (priority 0; Skew_Time $(skew 100) s)"
grep -q "MASTER -> INIT (stop" "$E2E_DIR/vsrouter-director.log" || e2e_fail "vsrouter did not log its stop"

# 5. tshark decodes vsrouter's adverts, with their checksums, and warns about nothing.
sleep 1
kill -INT "$TSHARK" && wait "$TSHARK" 2>/dev/null
decoded=$(tshark -r "$E2E_DIR/adverts.pcapng" -o vrrp.v3_checksum_as_in_v2:FALSE -Y "vrrp && ip.src == $ME" -V 2>&1)
count=$(grep -c "^Virtual Router Redundancy Protocol" <<<"$decoded")
((count >= 3)) || e2e_fail "tshark decoded $count adverts of vsrouter (want several)"
if grep -qiE "malformed|expert info \((warning|error)|\[incorrect|bad checksum" <<<"$decoded"; then
  grep -iE -m5 "malformed|expert info|incorrect|bad checksum" <<<"$decoded" >&2
  e2e_fail "tshark warns about vsrouter's adverts"
fi
grep -q "Version $VERSION, Packet type 1 (Advertisement)" <<<"$decoded" || e2e_fail "tshark does not see version $VERSION adverts"
good=$(grep -c "\[Checksum Status: Good\]" <<<"$decoded")
((good == count)) || e2e_fail "tshark found $good good checksums in $count adverts"
e2e_log "tshark decoded $count adverts of vsrouter without a warning"
e2e_log "PASS ($MODE)"

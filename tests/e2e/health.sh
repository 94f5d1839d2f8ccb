#!/usr/bin/env bash
# End-to-end health checks (docs/health-checks.md): vsrouter checks three real servers (Linux
# namespaces with Python's HTTP server) while a client requests through the VIP in a loop; one
# real's server is stopped and started again. Usage: health.sh MODE VSROUTER, MODE one of:
#   nat, dr     TCP_CHECK: the stopped real is out of `vsadm -Ln` within 3 s of the stop, after
#               that no client request fails; started again, it is back after `rise` successes,
#               not before; every transition is logged once
#   inhibit     the same with inhibit_on_failure: the real stays listed with weight 0
#   ping        PING_CHECK: a real whose interface goes down leaves; back when it comes up
# Needs root (skips loudly outside CI; fails under CI=true).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1
VSROUTER=$(realpath "$2")
VSADM=$(dirname "$VSROUTER")/vsadm
source "$HERE/lib.sh"
e2e_require_root
trap e2e_cleanup EXIT

RISE=3
# The config: the lab's topology (conf/lab-nat.toml, conf/lab-dr.toml) with checkers on the
# HTTP service's reals. health_config METHOD WAN_TAP LAN_TAP REAL_PREFIX CHECK [REAL_KEYS]
health_config() {
  local method=$1 check=$2 real_keys=${3:-} net vip=10.0.0.100
  if [[ $method == nat ]]; then
    net=192.168.10
    cat <<EOF
[router]
seed = 1
[[interfaces]]
name = "wan"
tap = "vsn-wan"
mac = "02:00:00:00:0a:01"
addresses = ["10.0.0.1/24"]
[[interfaces]]
name = "lan"
tap = "vsn-lan"
mac = "02:00:00:00:0a:02"
addresses = ["192.168.10.1/24"]
EOF
  else
    net=10.0.0
    cat <<EOF
[router]
seed = 1
[[interfaces]]
name = "lan"
tap = "vsd-lan"
mac = "02:00:00:00:0d:01"
addresses = ["10.0.0.1/24"]
EOF
  fi
  cat <<EOF
[[services]]
protocol = "tcp"
address = "$vip:80"
scheduler = "rr"
delay_loop = 1
connect_timeout = 1
retry = 0
rise = $RISE
warmup = 0
EOF
  local i
  for i in 1 2 3; do
    cat <<EOF
  [[services.reals]]
  address = "$net.1$i:80"
  method = "$method"
  weight = 2
  $real_keys
    [[services.reals.checks]]
    type = "$check"
EOF
  done
}

case $MODE in
  nat | inhibit) METHOD=nat ;;
  dr | ping) METHOD=dr ;;
  *) e2e_fail "unknown mode $MODE" ;;
esac
CHECK=TCP_CHECK
REAL_KEYS=""
[[ $MODE == ping ]] && CHECK=PING_CHECK
[[ $MODE == inhibit ]] && REAL_KEYS="inhibit_on_failure = true"
health_config $METHOD $CHECK "$REAL_KEYS" >"$E2E_DIR/health.toml"
"$VSROUTER" check -c "$E2E_DIR/health.toml" || e2e_fail "the test's config does not load"

e2e_make_blob
e2e_netns sw
if [[ $METHOD == nat ]]; then
  e2e_bridge br-wan
  e2e_bridge br-lan
  e2e_tap vsn-wan br-wan
  e2e_tap vsn-lan br-lan
  e2e_host cli br-wan 10.0.0.2/24
  for i in 1 2 3; do
    e2e_host "r$i" br-lan "192.168.10.1$i/24" 192.168.10.1
    e2e_real "r$i" ""
  done
  R2=192.168.10.12
else
  e2e_bridge br0
  e2e_tap vsd-lan br0
  e2e_host cli br0 10.0.0.2/24
  for i in 1 2 3; do
    e2e_host "r$i" br0 "10.0.0.1$i/24"
    e2e_real "r$i" 10.0.0.100
  done
  R2=10.0.0.12
fi
for i in 1 2 3; do e2e_wait_real "r$i"; done
CTL="$E2E_DIR/control-director.sock"
e2e_vsrouter director "$E2E_DIR/health.toml"
LOG="$E2E_DIR/vsrouter-director.log"
vsadm() { timeout 5 ip netns exec "$(ns sw)" "$VSADM" --control "$CTL" "$@"; }

# r2's line in `vsadm -Ln` ("" when it is not listed).
r2_line() { vsadm -Ln | grep -F -- "-> $R2:80" || true; }
# Seconds (from now) until `cond` holds, polling every 0.05 s for at most $1 s; fails past that.
wait_for() {
  local limit=$1 what=$2 t0 now
  shift 2
  t0=$(date +%s.%N)
  while :; do
    "$@" && break
    now=$(date +%s.%N)
    if (($(echo "$now - $t0 > $limit" | bc))); then
      vsadm -Ln >&2
      vsadm --list-checks >&2 2>/dev/null
      tail -20 "$LOG" >&2
      e2e_fail "$what: not within $limit s"
    fi
    sleep 0.05
  done
  echo "$(date +%s.%N) - $t0" | bc
}
r2_weight() { r2_line | awk '{print $4}'; }
r2_out() { if [[ $MODE == inhibit ]]; then [[ $(r2_weight) == 0 ]]; else [[ -z $(r2_line) ]]; fi; }
r2_in() { if [[ $MODE == inhibit ]]; then [[ $(r2_weight) == 2 ]]; else [[ -n $(r2_line) ]]; fi; }

# All three in service once their first checks passed.
wait_for 5 "all reals checked and in service" bash -c "[[ \$(timeout 5 ip netns exec $(ns sw) $VSADM --control $CTL -Ln | grep -c -- '-> [0-9]') -eq 3 ]]" >/dev/null

# The client: requests through the VIP in a loop, each line "start end ok body".
in_ns cli "$PY" -c "
import time, urllib.request
end = time.time() + 40
with open('$E2E_DIR/client.log', 'w', buffering=1) as f:
    while time.time() < end:
        t = time.time()
        try:
            body = urllib.request.urlopen('http://10.0.0.100/', timeout=2).read().decode().strip()
            ok = 1
        except Exception as e:
            body, ok = type(e).__name__, 0
        f.write(f'{t:.3f} {time.time():.3f} {ok} {body}\n')
        time.sleep(0.02)
" &
CLIENT=$!
sleep 2

# Stop r2's service: its TCP port closes (refused) or, for PING_CHECK, its interface goes down.
stop_t=$(date +%s.%N)
if [[ $MODE == ping ]]; then
  in_ns r2 ip link set eth0 down
else
  # (pkill would see every namespace's processes: only r2's own are picked)
  killed=0
  for pid in $(ip netns pids "$(ns r2)"); do
    if grep -q "http.server" "/proc/$pid/cmdline" 2>/dev/null; then kill -KILL "$pid" && killed=1; fi
  done
  [[ $killed -eq 1 ]] || e2e_fail "cannot stop r2's HTTP server"
fi
limit=3
[[ $MODE == ping ]] && limit=3.5  # a silent real: the probe's connect_timeout (1 s) is part of it
took=$(wait_for $limit "r2 out of service after its server stopped" r2_out) || exit 1
out_t=$(date +%s.%N)
e2e_log "r2 ($CHECK) out of service $took s after the stop: $(r2_line)"
sleep 4

# Start it again: back after RISE successes (one per delay_loop), not before.
start_t=$(date +%s.%N)
if [[ $MODE == ping ]]; then
  in_ns r2 ip link set eth0 up
  [[ $METHOD == nat ]] && in_ns r2 ip route add default via 192.168.10.1
else
  e2e_real r2 "" >/dev/null 2>&1
  e2e_wait_real r2
fi
took=$(wait_for $((RISE + 3)) "r2 back in service" r2_in) || exit 1
e2e_log "r2 back in service $took s after its server came back: $(r2_line)"
(($(echo "$took >= $RISE - 1" | bc))) || e2e_fail "r2 came back after $took s: before $RISE successes (rise = $RISE, delay_loop 1)"
sleep 3
wait "$CLIENT"

# No request failed after r2 left; before it left, only requests to r2 may have failed.
"$PY" - "$E2E_DIR/client.log" "$out_t" <<'EOF' || e2e_fail "client requests failed (see above)"
import sys
rows = [l.split() for l in open(sys.argv[1])]
out_t = float(sys.argv[2])
total = len(rows)
after = [r for r in rows if float(r[0]) > out_t]
bad = [r for r in after if r[2] != "1"]
print(f"[e2e] client: {total} requests, {len(after)} after r2 left, {len(bad)} of those failed",
      file=sys.stderr)
for r in bad[:10]:
    print("[e2e]   failed:", " ".join(r), file=sys.stderr)
served = {r[3] for r in rows if r[2] == "1"}
if served != {"r1", "r2", "r3"}:
    print(f"[e2e] served by {sorted(served)}, expected r1 r2 r3", file=sys.stderr)
    sys.exit(1)
sys.exit(1 if bad or total < 100 else 0)
EOF

# Each transition logged once: down once, up once, for r2 only.
downs=$(grep -c "real $R2:80 (tcp 10.0.0.100:80): failed" "$LOG")
ups=$(grep -c "real $R2:80 (tcp 10.0.0.100:80): alive" "$LOG")
others=$(grep -E "real 1[0-9.]+:80 .*: (failed|alive)" "$LOG" | grep -vc "$R2" || true)
[[ $downs -eq 1 && $ups -eq 1 && $others -eq 0 ]] ||
  e2e_fail "transitions logged: r2 down $downs, up $ups, others $others (want 1, 1, 0): $(grep health "$LOG" | head)"
e2e_log "logged: $(grep -m1 "$R2[:0-9]* of real" "$LOG" | sed 's/^.*info: //')"
vsadm --list-checks | sed 's/^/[e2e]   /' >&2
e2e_log "PASS ($MODE)"

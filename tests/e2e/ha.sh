#!/usr/bin/env bash
# Two vsrouters as a VRRP pair (docs/vrrp.md), clients requesting in a loop through the VIP
# (topology: e2e_hosts_ha in lib.sh). Usage: ha.sh MODE VSROUTER, MODE one of:
#   dr, nat   version 2, multicast, advert_int 1: DR or NAT service
#   v3        version 3, unicast, advert_int 0.2, DR
#   split     version 2, advert_int 1, NAT: a split brain and its healing
#   keepalived the nat pair from a keepalived.conf (e2e_ha_keepalived: HTTP_GET checks, connection
#             sync) with --interfaces; d1 reloads it (SIGHUP) while master
# dr, nat, v3: d1 (priority 150) is master, d2 (100) backup. kill -9 d1: the client's new requests
# succeed again within 3 x advert_int + Skew_Time (under 4 s at 1 s, under 1 s at 0.2 s), and its
# ARP cache has d2's MAC (d2's gratuitous ARPs; the client never re-resolved). d1 starts again and
# preempts. A clean stop of d1 (priority 0): requests succeed again within 1 s. Apart from these
# moments no request fails.
# split: the link between the halves is cut: both directors are master, each answers only its own
# half (its client, through its real); the link heals: d2 backs off within one advert interval,
# and d1's gratuitous ARPs bring d2's client back to d1. Needs root.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1
VSROUTER=$(realpath "$2")
VSADM=$(dirname "$VSROUTER")/vsadm
source "$HERE/lib.sh"
e2e_require_root
trap 'stop_clients; e2e_cleanup' EXIT

case $MODE in
  dr) METHOD=dr VERSION=2 ADV=1 ;;
  nat | split | keepalived) METHOD=nat VERSION=2 ADV=1 ;;
  v3) METHOD=dr VERSION=3 ADV=0.2 ;;
  *) e2e_fail "unknown mode $MODE" ;;
esac
VIP=10.0.0.100
D1_MAC=02:00:00:00:d1:01 D2_MAC=02:00:00:00:d2:01
# The client's per-request timeout: new requests follow a takeover this closely.
TIMEOUT=$(echo "scale=2; if ($ADV < 1) 0.1 else 0.25" | bc)

e2e_hosts_ha "$METHOD"
declare -A PID
start_d() {  # N PRIORITY
  if [[ $MODE == keepalived ]]; then
    e2e_ha_keepalived "$1" "$2"
    e2e_vsrouter "d$1" "$E2E_DIR/d$1.conf" --interfaces "$E2E_DIR/d$1-interfaces.toml"
  else
    e2e_ha_config "$1" "$METHOD" "$2" "$VERSION" "$ADV" >"$E2E_DIR/d$1.toml"
    e2e_vsrouter "d$1" "$E2E_DIR/d$1.toml"
  fi
  PID[$1]=${E2E_PIDS[-1]}
}
vsadm_d() { local n=$1; shift; timeout 5 ip netns exec "$(ns sw)" "$VSADM" --control "$E2E_DIR/control-d$n.sock" "$@"; }
state() { vsadm_d "$1" --list-vrrp 2>/dev/null | awk '$1 == "VI_WAN" {print $2}'; }
is_state() { [[ $(state "$1") == "$2" ]]; }
both_states() { is_state 1 "$1" && is_state 2 "$2"; }
now() { date +%s.%N; }
# Seconds until `cond` holds (polling every 0.02 s), failing after $1 s.
wait_for() {
  local limit=$1 what=$2 t0
  shift 2
  t0=$(now)
  until "$@"; do
    if (($(echo "$(now) - $t0 > $limit" | bc))); then
      local n
      for n in 1 2; do
        echo "--- d$n: $(state "$n")" >&2
        tail -8 "$E2E_DIR/vsrouter-d$n.log" >&2
      done
      e2e_fail "$what: not within $limit s"
    fi
    sleep 0.02
  done
  echo "$(now) - $t0" | bc
}
skew() {  # priority: Skew_Time (RFC 5798 §6.1; version 2 in seconds)
  local unit=1
  [[ $VERSION == 3 ]] && unit=$ADV
  echo "scale=4; (256 - $1) * $unit / 256" | bc
}
reals_listed() {  # N R...: director N lists exactly these reals
  local got
  got=$(vsadm_d "$1" -Ln | grep -oE -- '-> [0-9.]+\.1[0-9]:' | sed -E 's/.*\.1([0-9]):/r\1/' | sort | xargs)
  shift
  [[ $got == "$*" ]]
}

# The clients: HTTP requests to the VIP in a loop, one at a time, each line of the log
# "start end ok body-or-error"; a failed request is followed at once by the next.
cat >"$E2E_DIR/client.py" <<'EOF'
import os, socket, sys, time
log, stop, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(log, 'w', buffering=1) as f:
    while not os.path.exists(stop):
        t, ok = time.time(), 0
        s = socket.socket()
        try:
            s.settimeout(timeout)
            s.connect(('10.0.0.100', 80))
            s.sendall(b'GET / HTTP/1.0\r\nHost: 10.0.0.100\r\n\r\n')
            data = b''
            while chunk := s.recv(4096):
                data += chunk
            head, _, body = data.partition(b'\r\n\r\n')
            ok, what = (1, body.decode().strip()) if head.startswith(b'HTTP/1.0 200') else (0, 'status')
        except OSError as e:
            what = type(e).__name__
        finally:
            s.close()
        f.write(f'{t:.4f} {time.time():.4f} {ok} {what}\n')
        if ok:
            time.sleep(0.01)
EOF
CLIENTS=()
start_client() {  # NAME
  rm -f "$E2E_DIR/stop-$1"
  ip netns exec "$(ns "$1")" "$PY" "$E2E_DIR/client.py" "$E2E_DIR/$1.log" "$E2E_DIR/stop-$1" "$TIMEOUT" &
  CLIENTS+=("$1:$!")
}
stop_clients() {
  local c
  for c in "${CLIENTS[@]}"; do touch "$E2E_DIR/stop-${c%%:*}"; done
  for c in "${CLIENTS[@]}"; do wait "${c#*:}" 2>/dev/null; done
  CLIENTS=()
}
# Seconds from T until the first request started at or after T succeeded (its end); fails past $3.
recovery() {  # CLIENT T LIMIT WHAT
  local r
  r=$(wait_for "$(echo "$3 + 2" | bc)" "$4: a request succeeding" \
    "$PY" -c "
import sys
for l in open('$E2E_DIR/$1.log'):
    s, e, ok, _ = l.split()
    if ok == '1' and float(s) >= $2:
        print(f'{float(e) - $2:.3f}'); sys.exit(0)
sys.exit(1)" >/dev/null) || exit 1
  "$PY" -c "
for l in open('$E2E_DIR/$1.log'):
    s, e, ok, _ = l.split()
    if ok == '1' and float(s) >= $2:
        print(f'{float(e) - $2:.3f}'); break"
}
vip_mac() { in_ns "$1" ip neigh show "$VIP" | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'; }
# The failed requests of CLIENT that started outside the windows "FROM-TO ..." (epoch seconds;
# each window opens one request timeout early: a request in flight at the event may fail).
failures_outside() {  # CLIENT WINDOW...
  "$PY" - "$E2E_DIR/$1.log" "$TIMEOUT" "${@:2}" <<'EOF'
import sys
timeout = float(sys.argv[2])
wins = [(float(w.split('-')[0]) - timeout, float(w.split('-')[1])) for w in sys.argv[3:]]
rows = [l.split() for l in open(sys.argv[1])]
bad = [r for r in rows if r[2] != '1' and not any(a <= float(r[0]) <= b for a, b in wins)]
print(f'[e2e] {sys.argv[1].rsplit("/", 1)[1]}: {len(rows)} requests, {sum(r[2] != "1" for r in rows)} failed,'
      f' {len(bad)} outside the takeovers', file=sys.stderr)
for r in bad[:5]:
    near = min(wins, key=lambda w: min(abs(float(r[0]) - w[0]), abs(float(r[0]) - w[1])))
    print(f'[e2e]    {" ".join(r)}: {float(r[0]) - near[0]:.3f} s after the start of the window'
          f' {near[0]:.3f}-{near[1]:.3f}', file=sys.stderr)
sys.exit(1 if bad or len(rows) < 50 else 0)
EOF
}

start_d 1 150
start_d 2 100
took=$(wait_for 10 "d1 master, d2 backup" both_states MASTER BACKUP) || exit 1
e2e_log "d1 (150) master, d2 (100) backup, $took s after d2 started"
reals_whole() { reals_listed 1 r1 r2 && reals_listed 2 r1 r2; }
reals_split() { reals_listed 1 r1 && reals_listed 2 r2; }
wait_for 5 "both directors see r1 and r2" reals_whole >/dev/null || exit 1

if [[ $MODE == split ]]; then
  start_client cli
  start_client cli2
  sleep 2
  # 1. The link is cut: d2 hears no advert and is master too after Master_Down_Interval. Each
  # director's checks lose the real of the other half.
  t_cut=$(now)
  e2e_ha_link down
  took=$(wait_for 6 "d2 master as well" both_states MASTER MASTER) || exit 1
  e2e_log "link cut: d2 master too after $took s (Master_Down_Interval $(echo "3 * $ADV + $(skew 100)" | bc) s)"
  wait_for 5 "each director with its own half's real only" reals_split >/dev/null || exit 1
  # 2. Each half is answered by its own director only: its client's ARP cache holds that
  # director's MAC, and its requests, all successful, reach its half's real.
  t_split=$(now)
  sleep 3
  t_split_end=$(now)
  [[ $(vip_mac cli) == "$D1_MAC" ]] || e2e_fail "cli: the VIP at $(vip_mac cli), expected d1's $D1_MAC"
  [[ $(vip_mac cli2) == "$D2_MAC" ]] || e2e_fail "cli2: the VIP at $(vip_mac cli2), expected d2's $D2_MAC"
  both_states MASTER MASTER || e2e_fail "not both master while split: d1 $(state 1), d2 $(state 2)"
  "$PY" - "$E2E_DIR" "$t_split" "$t_split_end" <<'EOF' || e2e_fail "a half was not answered by its own side alone"
import sys
d, a, b = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
for cli, real in (('cli', 'r1'), ('cli2', 'r2')):
    rows = [l.split() for l in open(f'{d}/{cli}.log') if a <= float(l.split()[0]) and float(l.split()[1]) <= b]
    answers = {r[3] for r in rows}
    print(f'[e2e] split: {cli} made {len(rows)} requests, answered by {sorted(answers)}', file=sys.stderr)
    if len(rows) < 20 or answers != {real}:
        sys.exit(1)
EOF
  # 3. The link heals: d2 hears d1's advert (150 > 100) and backs off within one advert
  # interval; d1, hearing d2's lower priority, sends gratuitous ARPs: cli2 comes back to d1.
  t_heal=$(now)
  e2e_ha_link up
  took=$(wait_for "$(echo "$ADV + 0.5" | bc)" "d2 backup after the link healed" both_states MASTER BACKUP) || exit 1
  e2e_log "link healed: d2 backup after $took s (advert_int $ADV s)"
  took=$(wait_for 2 "cli2's ARP cache at d1's MAC" bash -c "[[ \$(ip netns exec $(ns cli2) ip neigh show $VIP) == *'lladdr $D1_MAC '* ]]") ||
    exit 1
  e2e_log "cli2's ARP cache has d1's MAC $took s after the heal (d1's gratuitous ARPs)"
  r=$(recovery cli2 "$(echo "$t_heal + $took" | bc)" 2 "cli2 after the heal") || exit 1
  e2e_log "cli2's requests succeed again $r s after its ARP cache changed"
  sleep 3
  stop_clients
  # Requests may fail only while the halves' checks converge after the cut and the heal.
  for c in cli cli2; do
    failures_outside "$c" "$t_cut-$t_split" "$t_heal-$(echo "$t_heal + 3" | bc)" ||
      e2e_fail "$c: requests failed outside the cut and the heal"
  done
  e2e_log "PASS ($MODE)"
  exit 0
fi

start_client cli
sleep 2
[[ $(vip_mac cli) == "$D1_MAC" ]] || e2e_fail "cli: the VIP at $(vip_mac cli), expected d1's $D1_MAC"
if [[ $MODE == keepalived ]]; then
  # keepalived.conf's pieces took effect: sync follows VI_WAN, HTTP_GET checkers probe /health.
  vsadm_d 1 -L --daemon | grep -q "master sync daemon" || e2e_fail "d1: no master sync daemon: $(vsadm_d 1 -L --daemon)"
  grep -q '"GET /health' "$E2E_DIR/http-r1.log" || e2e_fail "r1 was never probed with GET /health"
  # A reload reads the keepalived.conf again (unchanged: nothing moves, no checker restarts).
  kill -HUP "${PID[1]}"
  wait_for 5 "d1 reloaded its keepalived.conf" grep -q "reloaded $E2E_DIR/d1.conf" "$E2E_DIR/vsrouter-d1.log" >/dev/null ||
    exit 1
  { both_states MASTER BACKUP && reals_whole; } || e2e_fail "the reload moved something: d1 $(state 1), d2 $(state 2)"
  e2e_log "keepalived.conf: sync daemon, HTTP_GET probes, a reload with nothing moved"
fi

# 1. kill -9 the master: d2 takes over after Master_Down_Interval, its GARPs move the client.
down=$(echo "3 * $ADV + $(skew 100)" | bc)
limit=4
[[ $VERSION == 3 ]] && limit=1
t_kill=$(now)
{ kill -KILL "${PID[1]}" && wait "${PID[1]}"; } 2>/dev/null
r_kill=$(recovery cli "$t_kill" "$limit" "after kill -9 of the master") || exit 1
e2e_log "kill -9 of the master: new requests succeed again after $r_kill s (3 x advert_int + Skew_Time = $down s)"
(($(echo "$r_kill < $limit" | bc))) || e2e_fail "requests succeeded again only after $r_kill s (want < $limit s)"
# The dying master may have served that first request (it started before the kill took effect):
# requests fail again until d2 is master, and the takeover lasts until the first success after.
wait_for "$limit" "d2 master" is_state 2 MASTER >/dev/null || exit 1
t_km=$(now)
r_km=$(recovery cli "$t_km" "$limit" "after d2 became master") || exit 1
kill_end=$(echo "$t_km + $r_km" | bc)
[[ $(vip_mac cli) == "$D2_MAC" ]] || e2e_fail "cli: the VIP at $(vip_mac cli), expected d2's $D2_MAC (gratuitous ARP)"
e2e_log "the client's ARP cache follows: the VIP at d2's $D2_MAC"
sleep 1

# 2. d1 starts again and preempts (its first advert and GARPs; d2 yields at once).
t_start=$(now)
start_d 1 150
took=$(wait_for "$(echo "3 * $ADV + $(skew 150) + 2" | bc)" "d1 master again, d2 backup" both_states MASTER BACKUP) || exit 1
t_pre=$(now)
e2e_log "d1 restarted and preempted after $took s"
wait_for 3 "cli's ARP cache at d1's MAC again" bash -c "[[ \$(ip netns exec $(ns cli) ip neigh show $VIP) == *'lladdr $D1_MAC '* ]]" >/dev/null ||
  exit 1
sleep 2

# 3. A clean stop of the master: priority 0, d2 takes over after Skew_Time.
t_stop=$(now)
kill -TERM "${PID[1]}"
r_stop=$(recovery cli "$t_stop" 1 "after the master's clean stop") || exit 1
e2e_log "clean stop of the master: new requests succeed again after $r_stop s (Skew_Time $(skew 100) s)"
(($(echo "$r_stop < 1" | bc))) || e2e_fail "requests succeeded again only after $r_stop s (want < 1 s)"
# The dying master may have served that first request: requests fail again until d2 is master
# (Skew_Time after the priority 0), and the takeover lasts until the first success after that.
wait_for 1 "d2 master" is_state 2 MASTER >/dev/null || exit 1
t_m=$(now)
r_m=$(recovery cli "$t_m" 1 "after d2 became master") || exit 1
stop_end=$(echo "$t_m + $r_m" | bc)
grep -q "MASTER -> INIT (stop" "$E2E_DIR/vsrouter-d1.log" || e2e_fail "d1 did not log its stop"
sleep 2
stop_clients

# Requests failed only while a director took over: after the kill and the stop (until the
# recovery measured above), and around the preemption (connections d2 had open are d1's now:
# without connection sync their next segments are dropped).
failures_outside cli "$t_kill-$kill_end" "$t_start-$(echo "$t_pre + 1" | bc)" \
  "$t_stop-$stop_end" || e2e_fail "requests failed outside the takeovers"
e2e_log "PASS ($MODE)"

#!/usr/bin/env bash
# Scale-out with real BIRD 2 (docs/scale-out.md): vsrouter directors, each with its own BIRD
# speaking eBGP to a router namespace whose BIRD installs the VIP as one ECMP kernel route over
# every director that announces it ([announce]). DR, scheduler mh, sloppy_tcp, reals with the VIP
# on lo. Usage: scale.sh MODE VSROUTER, MODE one of:
#   announce  two directors: both next hops in the router's route; `vsadm --drain` on d1
#             withdraws its next hop (the time measured) and `--undrain` brings it back; a SIGTERM
#             of d2 withdraws its next hop while d2 still forwards (the stop's grace period)
#   failover  three directors, three reals, a client holding 200 long-lived TCP connections through
#             the VIP (a line each way every 0.2 s): d1 stops cleanly (withdrawn first), d2 dies
#             silently (vsrouter kill -9, its BIRD frozen: the router notices by the BGP hold
#             time, 3 s), d1 comes back, d1 is killed with its BIRD (kill -9 of both: the BGP
#             session resets), d1 comes back again. Every connection goes on: no reset, and each
#             keeps its real throughout (the flows the router moved reach the same real through
#             another director). The time from each director's end to the router's withdrawal is
#             measured.
# Needs root and bird2.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1
VSROUTER=$(realpath "$2")
VSADM=$(dirname "$VSROUTER")/vsadm
source "$HERE/lib.sh"
e2e_require_root
trap 'touch "$E2E_DIR/flows-stop" 2>/dev/null; e2e_cleanup' EXIT  # (BIRD goes with its namespace)
command -v bird >/dev/null || e2e_fail "bird2 is not installed (scripts/setup installs it)"
case $MODE in
  announce) DIRECTORS=2 REALS=1 ;;
  failover) DIRECTORS=3 REALS=3 ;;
  *) e2e_fail "unknown mode $MODE" ;;
esac
VIP=$SCALE_VIP
e2e_topology_scale "$DIRECTORS" "$REALS"
e2e_host cli br0 10.0.0.50/24 10.0.0.1

if [[ $MODE == announce ]]; then
  # A client through the router's ECMP route reaches the real (DR; sloppy_tcp and mh on both).
  body=$(in_ns cli curl -s --max-time 3 "http://$VIP/") || e2e_fail "the client cannot reach $VIP through the router"
  [[ $body == r1 ]] || e2e_fail "the client got \"$body\""
  scale_ctl 1 --drain | grep -qE "^$VIP +withdrawn" || e2e_fail "--drain does not list $VIP withdrawn"
  took=$(scale_wait 5 "d1's next hop withdrawn after --drain" scale_hops_are "via 10.0.0.12 ") || exit 1
  e2e_log "vsadm --drain on d1: its next hop left the router's route $took s later"
  in_ns cli curl -s --max-time 3 "http://$VIP/" >/dev/null || e2e_fail "the client lost $VIP with d1 drained"
  scale_ctl 1 --undrain >/dev/null
  took=$(scale_wait 5 "d1's next hop back after --undrain" scale_hops_are "via 10.0.0.11 via 10.0.0.12 ") || exit 1
  e2e_log "vsadm --undrain on d1: back in the route $took s later"
  kill -TERM "${SCALE_PID[2]}"
  took=$(scale_wait 5 "d2's next hop withdrawn after its SIGTERM" scale_hops_are "via 10.0.0.11 ") || exit 1
  kill -0 "${SCALE_PID[2]}" 2>/dev/null || e2e_fail "d2 exited before its grace period (stop_delay 1 s)"
  e2e_log "SIGTERM of d2: its next hop left the route $took s later, while d2 still forwarded"
  for _ in $(seq 100); do kill -0 "${SCALE_PID[2]}" 2>/dev/null || break; sleep 0.05; done
  kill -0 "${SCALE_PID[2]}" 2>/dev/null && e2e_fail "d2 did not stop after its grace period"
  grep -q "withdraw $VIP (draining)" "$E2E_DIR/vsrouter-d2.log" || e2e_fail "d2 did not log its withdrawal"
  e2e_log "PASS ($MODE)"
  exit 0
fi

# --- failover -----------------------------------------------------------------------------
N=200
in_ns cli "$PY" "$HERE/flows.py" "$VIP" 7000 "$N" "$E2E_DIR" >"$E2E_DIR/flows.log" 2>&1 &
FLOWS=$!
for _ in $(seq 300); do [[ -e $E2E_DIR/flows-ready ]] && break; sleep 0.1; done
[[ -e $E2E_DIR/flows-ready ]] || { cat "$E2E_DIR/flows.log" >&2; e2e_fail "the client's connections did not open"; }
flows() { "$PY" -c "import json,sys; s=json.load(open('$E2E_DIR/flows-status')); print(eval(sys.argv[1]))" "$1"; }
[[ $(flows 'len(s["dead"])') == 0 ]] || e2e_fail "connections failed at the start: $(cat "$E2E_DIR/flows-status")"
conns_on() { scale_ctl "$1" -Lnc | grep -c ":7000 "; }
spread=""
for i in 1 2 3; do
  n=$(conns_on "$i")
  ((n > 0)) || e2e_fail "director d$i has no connection: the router does not spread the flows"
  spread+="d$i $n "
done
e2e_log "$N connections: on the directors $spread; on the reals $(flows 's["reals"]')"
sleep 1

# 1. d1 stops cleanly: it withdraws, forwards for stop_delay, then exits.
kill -TERM "${SCALE_PID[1]}"
took=$(scale_wait 5 "d1's next hop withdrawn after its SIGTERM" scale_hops_are "via 10.0.0.12 via 10.0.0.13 ") || exit 1
e2e_log "d1 stopped (SIGTERM): withdrawn from the router's route $took s later"
for _ in $(seq 100); do kill -0 "${SCALE_PID[1]}" 2>/dev/null || break; sleep 0.05; done
sleep 2
[[ $(flows 'len(s["dead"])') == 0 ]] || e2e_fail "connections died after d1's stop: $(cat "$E2E_DIR/flows-status")"

# 2. d2 dies silently, as a host that loses its power: vsrouter killed (kill -9) and its BIRD
# frozen (SIGSTOP: no keepalive, and no FIN either): the router notices by the BGP hold time.
kill -STOP "$(cat "$E2E_DIR/b2.pid")"
kill -KILL "${SCALE_PID[2]}"
took=$(scale_wait 6 "d2's next hop withdrawn after its death" scale_hops_are "via 10.0.0.13 ") || exit 1
e2e_log "d2 died silently (vsrouter kill -9, BIRD frozen): withdrawn $took s later (BGP hold time 3 s)"
sleep 4
[[ $(flows 'len(s["dead"])') == 0 ]] || e2e_fail "connections died after d2's death: $(cat "$E2E_DIR/flows-status")"
n=$(conns_on 3)
e2e_log "d3 alone carries the flows: $n connection entries (sloppy_tcp took over the moved ones)"

# 3. d1 comes back: its BIRD is up, vsrouter announces again; the router spreads over d1 and d3.
scale_start_director 1
took=$(scale_wait 10 "d1 back in the route" scale_hops_are "via 10.0.0.11 via 10.0.0.13 ") || exit 1
e2e_log "d1 started again: in the route $took s after its start"
sleep 3
[[ $(flows 'len(s["dead"])') == 0 ]] || e2e_fail "connections died after d1's return: $(cat "$E2E_DIR/flows-status")"

# 4. d1 crashes with its BIRD (kill -9 of both): BIRD's BGP session closes with it (the kernel
# resets its socket), so the router withdraws at once. Then d1 comes back once more.
kill -KILL "${SCALE_PID[1]}" "$(cat "$E2E_DIR/b1.pid")"
took=$(scale_wait 6 "d1's next hop withdrawn after kill -9" scale_hops_are "via 10.0.0.13 ") || exit 1
e2e_log "d1 killed (kill -9 of vsrouter and BIRD): withdrawn $took s later (the BGP session reset)"
sleep 2
e2e_bird b1 "$E2E_DIR/b1.conf"
scale_start_director 1
took=$(scale_wait 10 "d1 back in the route" scale_hops_are "via 10.0.0.11 via 10.0.0.13 ") || exit 1
e2e_log "d1 (BIRD and vsrouter) started again: in the route $took s later"
sleep 3
touch "$E2E_DIR/flows-stop"
wait "$FLOWS"
[[ $(flows 's["final"]') == True ]] || e2e_fail "the client did not finish: $(cat "$E2E_DIR/flows.log")"
st=$(cat "$E2E_DIR/flows-status")
[[ $(flows 'len(s["dead"])') == 0 ]] || e2e_fail "connections reset or closed: $st"
[[ $(flows 's["moved"]') == 0 ]] || e2e_fail "connections answered by another real: $st"
[[ $(flows 'len(s["unanswered"])') == 0 ]] || e2e_fail "connections without an answer at the end: $st"
e2e_log "all $N connections alive, each on its first real, $(flows 's["lines"]') lines answered: 0 resets"
e2e_log "PASS ($MODE)"

#!/usr/bin/env bash
# Connection sync between two vsrouters (docs/sync.md): a VRRP pair (e2e_hosts_ha in lib.sh)
# whose master sends its connections to the backup with the IPVS sync protocol. Usage:
# sync.sh MODE VSROUTER, MODE nat or dr.
# A client holds 100 TCP connections through the VIP to the reals' echo servers (a persistent
# service, port 7000): each sends a line and reads it back, then waits; one more connection
# carries a bulk transfer, echoed and hashed both ways, all along. The backup's table fills with
# the master's connections and its template. kill -9 the master: the backup takes over, and every
# connection sends and receives again (0 resets), the bulk transfer ends intact, and the client's
# new connections reach the real its template names. tshark decodes the sync messages the master
# sent without a warning. Needs root.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1
VSROUTER=$(realpath "$2")
VSADM=$(dirname "$VSROUTER")/vsadm
source "$HERE/lib.sh"
e2e_require_root
trap 'touch "$E2E_DIR/go" "$E2E_DIR/stop"; e2e_cleanup' EXIT
command -v tshark >/dev/null || e2e_fail "tshark is not installed (scripts/setup installs it)"
case $MODE in
  nat | dr) ;;
  *) e2e_fail "unknown mode $MODE" ;;
esac
N=100

e2e_hosts_ha "$MODE"
for i in 1 2; do e2e_echo_server "r$i"; done
ip netns exec "$(ns sw)" tshark -q -i br-lan1 -f "udp port 8848" -w "$E2E_DIR/sync.pcapng" 2>/dev/null &
TSHARK=$!
declare -A PID
start_d() {  # N PRIORITY
  e2e_ha_config "$1" "$MODE" "$2" 2 1 sync >"$E2E_DIR/d$1.toml"
  e2e_vsrouter "d$1" "$E2E_DIR/d$1.toml"
  PID[$1]=${E2E_PIDS[-1]}
}
vsadm_d() { local n=$1; shift; timeout 5 ip netns exec "$(ns sw)" "$VSADM" --control "$E2E_DIR/control-d$n.sock" "$@"; }
state() { vsadm_d "$1" --list-vrrp 2>/dev/null | awk '$1 == "VI_WAN" {print $2}'; }
now() { date +%s.%N; }
wait_for() {  # LIMIT WHAT CMD...: seconds until CMD holds (polling every 0.05 s)
  local limit=$1 what=$2 t0
  shift 2
  t0=$(now)
  until "$@"; do
    if (($(echo "$(now) - $t0 > $limit" | bc))); then
      for n in 1 2; do
        echo "--- d$n: $(state "$n")" >&2
        tail -5 "$E2E_DIR/vsrouter-d$n.log" >&2
      done
      e2e_fail "$what: not within $limit s"
    fi
    sleep 0.05
  done
  echo "$(now) - $t0" | bc
}
both() { [[ $(state 1) == "$1" && $(state 2) == "$2" ]]; }
# Established connections to port 7000 on real N (its side of the client's connections).
on_real() { in_ns "r$1" ss -Htn state established '( sport = :7000 )' | wc -l; }
synced() { (($(vsadm_d 2 -Lnc | grep -c ':7000 ') >= N + 1)); }

start_d 1 150
start_d 2 100
wait_for 10 "d1 master, d2 backup" both MASTER BACKUP >/dev/null || exit 1
[[ $(vsadm_d 1 -L --daemon) == "master sync daemon (mcast=lan, syncid=1"[!0-9]* ]] ||
  e2e_fail "d1's daemons: $(vsadm_d 1 -L --daemon)"
[[ $(vsadm_d 2 -L --daemon) == "backup sync daemon (mcast=lan, syncid=1"[!0-9]* ]] ||
  e2e_fail "d2's daemons: $(vsadm_d 2 -L --daemon)"

# The client: N connections, each active once and then idle; one bulk transfer throughout.
cat >"$E2E_DIR/client.py" <<'EOF'
import hashlib, os, socket, sys, threading, time
d, n = sys.argv[1], int(sys.argv[2])
def wait_file(name):
    while not os.path.exists(f'{d}/{name}'):
        time.sleep(0.02)
def exchange(s, line):
    s.sendall(line)
    got = b''
    while len(got) < len(line):
        chunk = s.recv(len(line) - len(got))
        if not chunk:
            raise ConnectionError('closed by the peer')
        got += chunk
    if got != line:
        raise ValueError(f'echo {got!r} for {line!r}')
conns = []
for i in range(n):
    s = socket.create_connection(('10.0.0.100', 7000), timeout=10)
    exchange(s, b'hello %d\n' % i)
    conns.append(s)
# The bulk transfer: 64 KiB blocks, about 2 MB/s, until "stop"; the echo hashed as it comes back.
bulk = socket.create_connection(('10.0.0.100', 7000), timeout=30)
sent, recvd, nsent, nrecv = hashlib.sha256(), hashlib.sha256(), [0], [0]
def reader():
    while True:
        chunk = bulk.recv(65536)
        if not chunk:
            return
        recvd.update(chunk)
        nrecv[0] += len(chunk)
t = threading.Thread(target=reader)
t.start()
open(f'{d}/ready', 'w').close()
block = bytes(range(256)) * 256
i = 0
while not os.path.exists(f'{d}/stop'):
    b = block[i % 256:] + block[:i % 256]
    bulk.sendall(b)
    sent.update(b)
    nsent[0] += len(b)
    i += 1
    time.sleep(0.03)
bulk.shutdown(socket.SHUT_WR)
t.join(60)
wait_file('go')
bad = []
for i, s in enumerate(conns):
    try:
        exchange(s, b'again %d\n' % i)
    except Exception as e:
        bad.append(f'{i}:{type(e).__name__}')
print(f'connections: {n - len(bad)} of {n} answered after the takeover', file=sys.stderr)
if bad:
    print('failed: ' + ' '.join(bad[:10]), file=sys.stderr)
ok_bulk = nsent[0] == nrecv[0] and sent.hexdigest() == recvd.hexdigest()
print(f'bulk transfer: {nsent[0]} bytes sent, {nrecv[0]} echoed, sha256 {"equal" if ok_bulk else "DIFFERENT"}',
      file=sys.stderr)
sys.exit(0 if not bad and ok_bulk and nsent[0] > 0 else 1)
EOF
ip netns exec "$(ns cli)" "$PY" "$E2E_DIR/client.py" "$E2E_DIR" "$N" 2>"$E2E_DIR/client.log" &
CLIENT=$!
wait_for 30 "the client's $N connections" test -e "$E2E_DIR/ready" >/dev/null || exit 1
real=1
(($(on_real 2) > $(on_real 1))) && real=2
(($(on_real "$real") >= N + 1)) || e2e_fail "the persistent service spread the client: r1 $(on_real 1), r2 $(on_real 2)"
e2e_log "the client holds $N idle connections and a bulk transfer, all on r$real (persistence)"
took=$(wait_for 5 "d2 has the master's connections" synced) || exit 1
e2e_log "d2 has them $took s later: $(vsadm_d 2 -Lnc | grep -c ':7000 ') entries for port 7000 (with the template)"

# kill -9 the master: d2 takes over with the connections it has.
sleep 1
{ kill -KILL "${PID[1]}" && wait "${PID[1]}"; } 2>/dev/null
took=$(wait_for 6 "d2 master" bash -c "[[ \$(timeout 5 ip netns exec $(ns sw) $VSADM --control $E2E_DIR/control-d2.sock --list-vrrp | awk '\$1 == \"VI_WAN\" {print \$2}') == MASTER ]]") ||
  exit 1
e2e_log "kill -9 of d1: d2 master after $took s"
[[ $(vsadm_d 2 -L --daemon) == "master sync daemon (mcast=lan, syncid=1"[!0-9]* ]] ||
  e2e_fail "d2's daemons after the takeover: $(vsadm_d 2 -L --daemon)"
sleep 4  # the bulk transfer's retransmissions reach d2
touch "$E2E_DIR/stop"
sleep 2
touch "$E2E_DIR/go"
wait "$CLIENT"
rc=$?
sed 's/^/[e2e] /' "$E2E_DIR/client.log" >&2
((rc == 0)) || e2e_fail "connections broke in the takeover"

# The client's new connections go to its real (the template d2 got).
NEW=()
for i in 1 2 3; do
  ip netns exec "$(ns cli)" "$PY" -c "
import socket, time; s = socket.create_connection(('10.0.0.100', 7000), timeout=5); s.sendall(b'x\n'); s.recv(2); time.sleep(1)" &
  NEW+=($!)
done
sleep 0.5
(($(on_real "$real") >= 3)) || e2e_fail "new connections left r$real: r1 $(on_real 1), r2 $(on_real 2)"
wait "${NEW[@]}"
e2e_log "new connections of the client still reach r$real"

# tshark decodes the master's sync messages without a warning.
kill -INT "$TSHARK" && wait "$TSHARK" 2>/dev/null
decoded=$(tshark -r "$E2E_DIR/sync.pcapng" -d udp.port==8848,ipvs -V 2>&1)
count=$(grep -c "^IP Virtual Services Sync Daemon" <<<"$decoded")
((count >= 1)) || e2e_fail "tshark decoded no sync message"
if grep -qiE "malformed|expert info \((warning|error)\)" <<<"$decoded"; then
  grep -iE -m5 "malformed|expert info" <<<"$decoded" >&2
  e2e_fail "tshark warns about the sync messages"
fi
e2e_log "tshark decoded $count sync messages without a warning"
e2e_log "PASS ($MODE)"

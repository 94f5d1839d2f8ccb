#!/usr/bin/env bash
# Live handover (`vsrouter run ... --takeover`): a running vsrouter is replaced by a new process,
# which receives its TAP devices and its whole state over the control socket, says
# "vsrouter: running (pid N)" once it forwards, and the old process exits with status 0 by itself.
# Usage: handover.sh MODE VSROUTER, MODE nat or dr (the topologies of e2e.sh: e2e_hosts_nat,
# e2e_hosts_dr in lib.sh), HANDOVER_COUNT handovers in a row (default 100).
# One vsrouter directs two TCP services on the VIP over three reals, rr: port 80 (the reals' HTTP
# servers, TCP_CHECK with alpha: a real joins only when its checker is up, so a checker state
# lost in a handover empties the service) and port 7000 (the reals' echo servers). A client holds
# 50 connections to port 7000, each echoing a chunk of random bytes every 0.1 s, checked byte for
# byte (and a running SHA-256 of what went and what came back), and makes HTTP requests to port 80
# in a loop, each on a fresh connection with a 2 s deadline. Two takeovers that must fail (an
# invalid config; no process on the control socket, so a fresh start, which finds the TAPs
# taken) exit non-zero with a clear last line on stderr and leave the old process serving. Then
# the handovers, each new process taking over from the last: 0 connections reset, 0 failed
# requests, the transfers intact; the connection table (the 50 entries), the counters (the
# services' Conns), the checkers' state (three reals in service) and rr's position (the requests
# spread within one) survive them all, and the metrics listener (--metrics) with them; the last
# handover also changes the table's size (a config change --reload refuses).
# Then the faults (docs/handover.md): kill -9 of either side at each of the six steps of a
# handover (VSROUTER_HANDOVER_PAUSE), and a damaged stream (VSROUTER_HANDOVER_CORRUPT): each
# time exactly one vsrouter serves afterwards, with the table unless the old side died before it
# sent it. Needs root.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1
VSROUTER=$(realpath "$2")
VSADM=$(dirname "$VSROUTER")/vsadm
source "$HERE/lib.sh"
e2e_require_root
trap 'touch "$E2E_DIR/stop"; e2e_cleanup' EXIT
case $MODE in
  nat) NET=192.168.10 ;;
  dr) NET=10.0.0 ;;
  *) e2e_fail "unknown mode $MODE" ;;
esac
COUNT=${HANDOVER_COUNT:-100}
[[ $COUNT =~ ^[0-9]+$ ]] || e2e_fail "HANDOVER_COUNT must be a number, not '$COUNT'"
CONNS=50
VIP=10.0.0.100
CONF=$E2E_DIR/vsrouter.toml
CTL=$E2E_DIR/control.sock
METRICS=127.0.0.1:9800  # in the switch namespace: the listener goes from process to process too

# --- the director's config: the lab's interfaces, two services over the three reals ------------
write_config() {
  local i
  printf '# tests/e2e/handover.sh, %s\n[router]\nseed = 1\nmax_connections = 65536\n' "$MODE"
  if [[ $MODE == nat ]]; then
    printf '\n[[interfaces]]\nname = "wan"\ntap = "vsn-wan"\nmac = "02:00:00:00:0a:01"\naddresses = ["10.0.0.1/24"]\n'
    printf '\n[[interfaces]]\nname = "lan"\ntap = "vsn-lan"\nmac = "02:00:00:00:0a:02"\naddresses = ["192.168.10.1/24"]\n'
  else
    printf '\n[[interfaces]]\nname = "lan"\ntap = "vsd-lan"\nmac = "02:00:00:00:0d:01"\naddresses = ["10.0.0.1/24"]\n'
  fi
  printf '\n[[services]]\nprotocol = "tcp"\naddress = "%s:80"\nscheduler = "rr"\n' "$VIP"
  printf 'delay_loop = 1\nconnect_timeout = 1\nwarmup = 0\nalpha = true\n'
  for i in 1 2 3; do
    printf '\n  [[services.reals]]\n  address = "%s.1%s:80"\n  method = "%s"\n' "$NET" "$i" "$MODE"
    printf '    [[services.reals.checks]]\n    type = "TCP_CHECK"\n'
  done
  printf '\n[[services]]\nprotocol = "tcp"\naddress = "%s:7000"\nscheduler = "rr"\n' "$VIP"
  for i in 1 2 3; do
    printf '\n  [[services.reals]]\n  address = "%s.1%s:7000"\n  method = "%s"\n' "$NET" "$i" "$MODE"
  done
}

# --- helpers ---------------------------------------------------------------------------------
vsadm() { timeout 10 ip netns exec "$(ns sw)" "$VSADM" --control "$CTL" "$@"; }
us() { echo "${EPOCHREALTIME//[.,]/}"; }  # the time in microseconds
secs() { printf '%d.%03d' $(($1 / 1000000)) $(($1 % 1000000 / 1000)); }  # microseconds as s.mmm
# Running and not a zombie (bash reaps its children at once, but be sure).
alive() { kill -0 "$1" 2>/dev/null && [[ $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) != Z ]]; }
# Let a process go on from its own pause (VSROUTER_HANDOVER_PAUSE stops it: state T), and only
# then: a SIGCONT also discards a pending SIGSTOP, and LeakSanitizer stops the process's threads
# with ptrace (PTRACE_ATTACH's SIGSTOP) at exit, so a SIGCONT sent then hangs the ASan build's
# exit for good (the old side "still ran" in CI's ASan phase, in state R, in LSan's wait).
go_on() { [[ $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) == T ]] && kill -CONT "$1" 2>/dev/null; return 0; }

# Start a vsrouter in sw for STEP (0: the first, k: the k-th takeover), its stdout and stderr in
# $E2E_DIR/vs-STEP.out and .err: start_vs STEP [ARGS...]; sets PID. `ip netns exec` execs in
# place, so $! is the vsrouter process.
start_vs() {
  local step=$1
  shift
  local bin=$VSROUTER
  # VSROUTER_FIRST: another build for the first process (tests/e2e/handover_upgrade.sh).
  [[ $step == 0 && -n ${VSROUTER_FIRST:-} ]] && bin=$VSROUTER_FIRST
  ip netns exec "$(ns sw)" "$bin" run -c "$CONF" --control "$CTL" --metrics "$METRICS" --log-level info "$@" \
    >"$E2E_DIR/vs-$step.out" 2>"$E2E_DIR/vs-$step.err" &
  PID=$!
  E2E_PIDS+=("$PID")
}

# Wait (at most LIMIT s) for STEP's "vsrouter: running (pid PID)": wait_running STEP PID LIMIT.
# Fails (with WHY set) if the process exits first, names another pid, or is late.
wait_running() {
  local out=$E2E_DIR/vs-$1.out pid=$2 deadline line
  deadline=$(($(us) + $3 * 1000000))
  while :; do
    line=$(grep -m1 "vsrouter: running (pid " "$out" 2>/dev/null)
    if [[ -n $line ]]; then
      [[ $line == "vsrouter: running (pid $pid)" ]] && return 0
      WHY="it said '$line', but its pid is $pid"
      return 1
    fi
    if ! alive "$pid"; then
      grep -q "vsrouter: running (pid " "$out" 2>/dev/null && continue
      wait "$pid"
      WHY="it exited with status $? before saying it runs"
      return 1
    fi
    if (($(us) > deadline)); then
      WHY="it did not say it runs within $3 s"
      return 1
    fi
    sleep 0.02
  done
}

# Wait (at most LIMIT s) for PID to exit: wait_exit PID LIMIT; then `wait PID` gives its status.
wait_exit() {
  local deadline
  deadline=$(($(us) + $2 * 1000000))
  while alive "$1"; do
    (($(us) > deadline)) && return 1
    sleep 0.02
  done
}

# The tails of the vsrouter output of the steps given, the client's first failures and the last
# handovers.
diag() {
  local s f
  for s in "$@"; do
    for f in "$E2E_DIR/vs-$s.out" "$E2E_DIR/vs-$s.err"; do
      [[ -e $f ]] || continue
      echo "--- ${f##*/} (step $s: $([[ $s == 0 ]] && echo "the first start" || echo "takeover $s"), last 20 lines)" >&2
      tail -n 20 "$f" >&2
    done
  done
  if grep -q '^FAIL' "$E2E_DIR/client.err" 2>/dev/null; then
    echo "--- the client's failures (the first 10 of $(grep -c '^FAIL' "$E2E_DIR/client.err"))" >&2
    grep -m 10 '^FAIL' "$E2E_DIR/client.err" >&2
  fi
  if [[ -s $E2E_DIR/handovers.log ]]; then
    echo "--- the last handovers (step, started, new process running and old one gone, old pid, new pid)" >&2
    tail -n 5 "$E2E_DIR/handovers.log" >&2
  fi
}

# Where a process that should have exited is: its state, its threads' kernel wait channels, its
# descriptors and (where gdb is installed) its stacks.
proc_state() {
  echo "--- pid $1: $(grep -E '^(State|Threads):' "/proc/$1/status" 2>/dev/null | paste -sd' ')" >&2
  local t
  for t in /proc/"$1"/task/*; do echo "  task ${t##*/}: wchan $(cat "$t/wchan" 2>/dev/null)" >&2; done
  ls -l "/proc/$1/fd" 2>/dev/null | sed 's/^.* \([0-9]* -> \)/  fd \1/' | tail -n +2 >&2
  command -v gdb >/dev/null && timeout 20 gdb -p "$1" -batch -ex 'thread apply all bt' 2>/dev/null | grep -E '^(#|Thread)' >&2
}

# The client's failures so far: fail, with the vsrouter output of the handovers around the first.
check_client() {
  local first t steps
  if ! grep -q '^FAIL' "$E2E_DIR/client.err" 2>/dev/null; then
    alive "$CLIENT" && return 0
    diag
    cat "$E2E_DIR/client.err" >&2
    e2e_fail "the client exited early"
  fi
  first=$(grep -m1 '^FAIL' "$E2E_DIR/client.err")
  t=$(awk '{print $2}' <<<"$first")
  # The last handover begun before the failing exchange began, and the next one.
  steps=$(awk -v t="$t" '$2 <= t {last = $1} $2 > t && !after {after = $1} END {print last, after}' \
    "$E2E_DIR/handovers.log" 2>/dev/null | xargs)
  local -a list
  read -ra list <<<"$steps"
  diag "${list[@]}"
  e2e_fail "the client saw a failure$([[ -n $steps ]] && echo " (the exchange began after handover ${list[0]:-none}${list[1]:+, before ${list[1]}})"): $first"
}

# The client's connections to port 7000 in the director's table: "SOURCE DESTINATION", sorted.
echo_entries() {
  vsadm -Lnc | awk -v v="$VIP:7000" '$1 == "TCP" && $3 == "ESTABLISHED" && $5 == v {print $4, $6}' | sort
}
# The reals in service on port 80 (alpha: those whose checker is up).
reals_up() { vsadm -Ln | grep -c -- "-> $NET\.1[123]:80 "; }
# A service's Conns counter: conns PORT.
conns() { vsadm -Ln --stats --exact | awk -v v="$VIP:$1" '$1 == "TCP" && $2 == v {print $3}'; }

# --- the topology, the echo servers, the director ----------------------------------------------
e2e_hosts_"$MODE"
for i in 1 2 3; do e2e_echo_server "r$i"; done
for i in 1 2 3; do
  for _ in $(seq 100); do
    [[ -n $(in_ns "r$i" ss -Htln "sport = :7000") ]] && break
    sleep 0.05
  done
  [[ -n $(in_ns "r$i" ss -Htln "sport = :7000") ]] || e2e_fail "the echo server on r$i did not start"
done
write_config >"$CONF"
"$VSROUTER" check -c "$CONF" >&2 || e2e_fail "the test's config is invalid"

start_vs 0
wait_running 0 "$PID" 10 || { diag 0; e2e_fail "the first vsrouter (pid $PID): $WHY"; }
CUR=$PID
for _ in $(seq 100); do
  [[ $(reals_up) == 3 ]] && break
  sleep 0.1
done
[[ $(reals_up) == 3 ]] || { vsadm -Ln >&2; e2e_fail "the reals' checkers did not come up within 10 s"; }
e2e_log "vsrouter (pid $CUR) runs; its checkers put the three reals in service"

# --- the client --------------------------------------------------------------------------------
cat >"$E2E_DIR/client.py" <<'EOF'
# The client of tests/e2e/handover.sh: client.py VIP DIR CONNS. CONNS connections to VIP:7000,
# each echoing random bytes every 0.1 s (3 s deadline, checked byte for byte and by a running
# SHA-256 both ways), and HTTP GETs of VIP:80 in a loop, each on a fresh connection from a fresh
# source port (a 2 s deadline). DIR/ready once the connections are open; until DIR/stop. Each
# failure is a line "FAIL TIME WHAT: REASON" on stderr at once (TIME: when the failing exchange
# started, seconds since the epoch); the summary on stdout at the end; exit 1 on any failure.
import hashlib, os, random, socket, sys, threading, time

vip, d, nconns = sys.argv[1], sys.argv[2], int(sys.argv[3])
ECHO_TIMEOUT, HTTP_TIMEOUT = 3.0, 2.0
stop = threading.Event()
lock = threading.Lock()
failures = []


def fail(what, reason, t0):
    with lock:
        failures.append(what)
        print(f'FAIL {t0:.3f} {what}: {reason}', file=sys.stderr, flush=True)


class Echo:
    def __init__(self, i):
        self.i = i
        self.sock = socket.create_connection((vip, 7000), timeout=5)
        self.sport = self.sock.getsockname()[1]
        self.sent, self.echoed = hashlib.sha256(), hashlib.sha256()
        self.bytes = self.rounds = 0
        self.slowest = 0.0
        self.broken = None
        self.exchange(b'hello %d\n' % i)

    def exchange(self, data):
        t0 = time.monotonic()
        got = bytearray()
        try:
            self.sock.settimeout(ECHO_TIMEOUT)
            self.sock.sendall(data)
            self.sent.update(data)
            while len(got) < len(data):
                left = ECHO_TIMEOUT - (time.monotonic() - t0)
                if left <= 0:
                    raise TimeoutError('timed out')
                self.sock.settimeout(left)
                chunk = self.sock.recv(len(data) - len(got))
                if not chunk:
                    raise ConnectionError(f'EOF (closed by the peer) with {len(got)} of {len(data)} bytes back')
                got += chunk
        except TimeoutError:
            raise TimeoutError(f'no echo within {ECHO_TIMEOUT} s ({len(got)} of {len(data)} bytes back)') from None
        self.echoed.update(got)
        if got != data:
            at = next(k for k in range(len(data)) if got[k] != data[k])
            raise ValueError(f'the echo differs from the {len(data)} bytes sent at byte {at}')
        self.bytes += len(data)
        self.rounds += 1
        self.slowest = max(self.slowest, time.monotonic() - t0)

    def run(self):
        rng = random.Random()
        stop.wait(rng.random() * 0.1)
        while not stop.is_set():
            data = rng.randbytes(rng.randint(1, 8192))
            t0 = time.time()
            try:
                self.exchange(data)
            except Exception as e:
                self.broken = f'{type(e).__name__}: {e}'
                fail(f'connection {self.i} (source port {self.sport})', self.broken, t0)
                return
            stop.wait(0.1)


http = {'ok': 0, 'failed': 0, 'slowest': 0.0}
answers = {}


def http_get(s):
    t0 = time.monotonic()
    phase = 'connect'

    def left():
        r = HTTP_TIMEOUT - (time.monotonic() - t0)
        if r <= 0:
            raise TimeoutError('timed out')
        return r
    try:
        s.settimeout(left())
        s.connect((vip, 80))
        phase = 'send'
        s.settimeout(left())
        s.sendall(f'GET / HTTP/1.0\r\nHost: {vip}\r\n\r\n'.encode())
        phase = 'answer'
        data = b''
        while True:
            s.settimeout(left())
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except TimeoutError:
        raise TimeoutError(f'no {phase} within {HTTP_TIMEOUT} s') from None
    except OSError as e:
        raise OSError(f'{e} (in {phase})') from None
    head, _, body = data.partition(b'\r\n\r\n')
    status = head.split(b'\r\n')[0]
    if not (status.startswith(b'HTTP/1.0 200') or status.startswith(b'HTTP/1.1 200')):
        raise ValueError(f'status line {status!r}')
    name = body.decode(errors='replace').strip()
    if name not in ('r1', 'r2', 'r3'):
        raise ValueError(f'body {body[:40]!r}')
    http['slowest'] = max(http['slowest'], time.monotonic() - t0)
    return name


def http_loop():
    # Source ports 10000-29999, below the ephemeral range: never one of the echo connections',
    # and never reused within a run (a port reused soon would meet its previous connection's
    # entries: another test).
    port = 9999
    while not stop.is_set():
        port = port + 1 if port < 29999 else 10000
        s = socket.socket()
        try:
            s.bind(('0.0.0.0', port))
        except OSError:
            s.close()
            continue
        t0 = time.time()
        try:
            name = http_get(s)
        except Exception as e:
            http['failed'] += 1
            fail(f'request (source port {port})', f'{type(e).__name__}: {e}', t0)
        else:
            http['ok'] += 1
            answers[name] = answers.get(name, 0) + 1
        finally:
            s.close()
        stop.wait(0.02)


try:
    conns = [Echo(i) for i in range(nconns)]
except Exception as e:
    print(f'FAIL {time.time():.3f} opening the echo connections: {type(e).__name__}: {e}', file=sys.stderr, flush=True)
    sys.exit(1)
threads = [threading.Thread(target=c.run) for c in conns] + [threading.Thread(target=http_loop)]
for t in threads:
    t.start()
open(f'{d}/ready', 'w').close()
while not os.path.exists(f'{d}/stop'):
    time.sleep(0.05)
stop.set()
for t in threads:
    t.join(10)
stuck = sum(t.is_alive() for t in threads)
reset = sum(1 for c in conns if c.broken)
intact = sum(1 for c in conns if not c.broken and c.sent.digest() == c.echoed.digest())
rounds = sum(c.rounds for c in conns)
print(f'echo: {nconns} connections, {reset} reset or broken, {intact} with sha256(sent) == sha256(echoed), '
      f'{rounds} exchanges, {sum(c.bytes for c in conns)} bytes verified, '
      f'slowest echo {max(c.slowest for c in conns):.3f} s')
spread = ' '.join(f'{k}={answers[k]}' for k in sorted(answers))
print(f'http: {http["ok"] + http["failed"]} requests, {http["ok"]} ok, {http["failed"]} failed ({spread}), '
      f'slowest {http["slowest"]:.3f} s')
if stuck:
    print(f'{stuck} threads did not stop', file=sys.stderr)
for c in conns:
    c.sock.close()
# rr's cursor is handed over too: the three reals share the requests within one, as without
# handovers (a cursor lost at each handover restarts at the list head and skews them).
balanced = len(answers) == 3 and max(answers.values()) - min(answers.values()) <= 1
if not balanced:
    print(f'FAIL the requests are not spread round-robin over the three reals: {spread}', file=sys.stderr)
good = not failures and not stuck and reset == 0 and intact == nconns and rounds > 0 and http['ok'] > 0 and balanced
sys.exit(0 if good else 1)
EOF
ip netns exec "$(ns cli)" "$PY" "$E2E_DIR/client.py" "$VIP" "$E2E_DIR" "$CONNS" \
  >"$E2E_DIR/client.out" 2>"$E2E_DIR/client.err" &
CLIENT=$!
for _ in $(seq 300); do
  [[ -e $E2E_DIR/ready ]] && break
  alive "$CLIENT" || break
  sleep 0.1
done
[[ -e $E2E_DIR/ready ]] || { cat "$E2E_DIR/client.err" >&2; e2e_fail "the client did not open its $CONNS connections"; }
sleep 1
check_client
BEFORE=$(echo_entries)
[[ $(grep -c . <<<"$BEFORE") == "$CONNS" ]] ||
  e2e_fail "the director lists $(grep -c . <<<"$BEFORE") established connections to $VIP:7000, not $CONNS"
e2e_log "the client holds $CONNS echo connections and requests in a loop"

# --- takeovers that fail: one line on stderr, a non-zero exit, the old process serves on ---------
# failed_takeover WHAT LINES WANT CONFIG CONTROL: LINES lines on stderr, the last one holding WANT.
failed_takeover() {
  local what=$1 want_lines=$2 want=$3 rc lines
  timeout 20 ip netns exec "$(ns sw)" "$VSROUTER" run -c "$4" --control "$5" --takeover \
    >"$E2E_DIR/failed.out" 2>"$E2E_DIR/failed.err"
  rc=$?
  lines=$(grep -c . "$E2E_DIR/failed.err")
  if ((rc == 0 || rc == 124)) || [[ $lines != "$want_lines" || -s $E2E_DIR/failed.out ]] ||
    [[ $(tail -n 1 "$E2E_DIR/failed.err") != *"$want"* ]]; then
    echo "--- stdout" >&2; cat "$E2E_DIR/failed.out" >&2
    echo "--- stderr" >&2; cat "$E2E_DIR/failed.err" >&2
    e2e_fail "takeover with $what: exit $rc, $lines lines on stderr (want a non-zero exit, nothing on stdout, $want_lines line(s), the last holding '$want')"
  fi
  alive "$CUR" || { diag 0; e2e_fail "the failed takeover with $what stopped the running vsrouter"; }
  vsadm -Ln >/dev/null || e2e_fail "vsadm does not reach the running vsrouter after the failed takeover with $what"
  e2e_log "takeover with $what: exit $rc, $(paste -sd'|' "$E2E_DIR/failed.err" | sed 's/|/ | /g')"
}
{ cat "$CONF"; echo "x = "; } >"$E2E_DIR/bad.toml"
failed_takeover "an invalid config" 1 "bad.toml:" "$E2E_DIR/bad.toml" "$CTL"
# With no vsrouter on its control socket, --takeover starts afresh (saying so): here it cannot,
# the running one holds the TAPs.
failed_takeover "no process on the control socket" 2 "already attached to another process" "$CONF" "$E2E_DIR/none.sock"
sleep 1
check_client

# --- the handovers -------------------------------------------------------------------------------
START=$(us)
SLOWEST=0 SLOWEST_K=0
# The last handover brings a config change that --reload refuses (the table's size): the new
# process starts with the new config and takes what fits (docs/handover.md).
sed 's/^max_connections = 65536$/max_connections = 131072/' "$CONF" >"$E2E_DIR/vsrouter-bigger.toml"
for k in $(seq "$COUNT"); do
  ((k == COUNT)) && CONF=$E2E_DIR/vsrouter-bigger.toml
  t0=$(us)
  start_vs "$k" --takeover
  NEW=$PID
  wait_running "$k" "$NEW" 10 || {
    diag $((k - 1)) "$k"
    e2e_fail "handover $k: the new vsrouter (pid $NEW): $WHY"
  }
  wait_exit "$CUR" 10 || {
    diag $((k - 1)) "$k"
    proc_state "$CUR"
    e2e_fail "handover $k: the old vsrouter (pid $CUR) still runs 10 s after the new one (pid $NEW) took over"
  }
  wait "$CUR"
  rc=$?
  ((rc == 0)) || { diag $((k - 1)) "$k"; e2e_fail "handover $k: the old vsrouter (pid $CUR) exited with status $rc"; }
  t1=$(us)
  echo "$k $(secs "$t0") $(secs "$t1") $CUR $NEW" >>"$E2E_DIR/handovers.log"
  E2E_PIDS=("$NEW")
  CUR=$NEW
  if ((t1 - t0 > SLOWEST)); then SLOWEST=$((t1 - t0)) SLOWEST_K=$k; fi
  check_client
  ((k % 10 == 0 || k == COUNT)) &&
    e2e_log "handover $k/$COUNT: $(secs $((t1 - START))) s elapsed (the slowest, $SLOWEST_K: $(secs "$SLOWEST") s)"
done
ELAPSED=$(($(us) - START))

# SIGUSR2: the running daemon starts its successor itself (its own command line, --takeover),
# whose output goes to the same files; then one more ordinary handover, so that the last process
# is this shell's child again.
kill -USR2 "$CUR"
succ=
for _ in $(seq 500); do
  succ=$(grep -o "vsrouter: running (pid [0-9]*)" "$E2E_DIR/vs-$COUNT.out" | grep -v "(pid $CUR)" | grep -o "[0-9]*" | tail -1)
  [[ -n $succ ]] && break
  sleep 0.02
done
[[ -n $succ ]] || { diag "$COUNT"; e2e_fail "SIGUSR2: no successor said it runs within 10 s"; }
wait_exit "$CUR" 10 || { diag "$COUNT"; e2e_fail "SIGUSR2: the old vsrouter (pid $CUR) still runs"; }
wait "$CUR"
rc=$?
((rc == 0)) || e2e_fail "SIGUSR2: the old vsrouter (pid $CUR) exited with status $rc"
E2E_PIDS=("$succ")
CUR=$succ
check_client
e2e_log "SIGUSR2: pid $CUR, the successor the daemon started, took over"
k=$((COUNT + 1))
start_vs "$k" --takeover
NEW=$PID
wait_running "$k" "$NEW" 10 || { diag "$COUNT" "$k"; e2e_fail "the handover from the SIGUSR2 successor: $WHY"; }
wait_exit "$CUR" 10 || e2e_fail "the SIGUSR2 successor (pid $CUR) still runs after the next handover"
E2E_PIDS=("$NEW")
CUR=$NEW
check_client

# --- what survived -------------------------------------------------------------------------------
sleep 2
check_client
[[ $(ip netns pids "$(ns sw)" | xargs) == "$CUR" ]] ||
  e2e_fail "processes in the switch namespace: $(ip netns pids "$(ns sw)" | xargs) (want only vsrouter $CUR)"
vsadm -Ln | head -1 | grep -q "(size=131072)" ||
  e2e_fail "the last handover's config (max_connections 131072) is not in force: $(vsadm -Ln | head -1)"
e2e_log "the last handover changed max_connections (65536 -> 131072), which a reload refuses"
AFTER=$(echo_entries)
if [[ $AFTER != "$BEFORE" ]]; then
  diff <(echo "$BEFORE") <(echo "$AFTER") >&2
  e2e_fail "the director's connections to $VIP:7000 changed across the handovers (< before, > after)"
fi
e2e_log "vsadm -Lnc: the same $CONNS established connections to $VIP:7000 as before the handovers"
[[ $(reals_up) == 3 ]] || { vsadm -Ln >&2; e2e_fail "the reals in service on port 80 changed across the handovers"; }
m=$(timeout 5 ip netns exec "$(ns sw)" curl -sf --max-time 3 "http://$METRICS/metrics") ||
  e2e_fail "the metrics endpoint does not answer after the handovers"
grep -q '^node_ipvs_connections_total ' <<<"$m" || e2e_fail "the metrics lack node_ipvs_connections_total"
e2e_log "the metrics endpoint answers ($(grep -c . <<<"$m") lines)"

touch "$E2E_DIR/stop"
wait_exit "$CLIENT" 20 || e2e_fail "the client did not stop within 20 s"
wait "$CLIENT"
rc=$?
sed 's/^/[e2e] client: /' "$E2E_DIR/client.out" >&2
if ((rc != 0)); then
  grep -q '^FAIL' "$E2E_DIR/client.err" && check_client
  cat "$E2E_DIR/client.err" >&2
  e2e_fail "the client failed (exit $rc)"
fi

# The counters went on from one process to the next: every connection was counted once.
requests=$(awk '$1 == "http:" {print $2}' "$E2E_DIR/client.out")
c80=$(conns 80) c7000=$(conns 7000)
[[ $c7000 == "$CONNS" && $c80 == "$requests" ]] || {
  vsadm -Ln --stats --exact >&2
  e2e_fail "Conns: $VIP:7000 $c7000 (want $CONNS), $VIP:80 $c80 (want the client's $requests requests)"
}
e2e_log "Conns counters: $VIP:7000 $c7000, $VIP:80 $c80 (= the client's requests)"

# --- faults: kill -9 of either side at each step of a handover, and a damaged stream ------------
# The processes stop themselves at a step (VSROUTER_HANDOVER_PAUSE, docs/handover.md); the test
# kills one side there and lets the other go on. Whatever the step, afterwards exactly one
# vsrouter serves: it answers vsadm and the VIP answers new requests. Where the state had been
# sent (every step but old-stopped), the connection table survives too.
FSTEP=1000
# A normal handover to a new process with ENV... in its environment (for its own later handover).
handover_env() {
  FSTEP=$((FSTEP + 1))
  ip netns exec "$(ns sw)" env "$@" "$VSROUTER" run -c "$CONF" --control "$CTL" --metrics "$METRICS" --log-level info \
    --takeover >"$E2E_DIR/vs-$FSTEP.out" 2>"$E2E_DIR/vs-$FSTEP.err" &
  local new=$! i
  # The running process may carry a pause of an earlier fault: it is let go on at once.
  for i in $(seq 500); do
    go_on "$CUR"
    grep -q "vsrouter: running (pid $new)" "$E2E_DIR/vs-$FSTEP.out" 2>/dev/null && break
    sleep 0.02
  done
  wait_running "$FSTEP" "$new" 1 || { diag "$FSTEP"; e2e_fail "fault setup: $WHY"; }
  # Then the old side exits by itself (an ASan build checks for leaks first, which takes a while).
  local deadline=$(($(us) + 10000000))
  while alive "$CUR"; do
    go_on "$CUR"
    if (($(us) > deadline)); then
      diag $((FSTEP - 2)) $((FSTEP - 1)) "$FSTEP"
      proc_state "$CUR"
      e2e_fail "fault setup: the old vsrouter (pid $CUR) still runs 10 s after the new one (pid $new) took over"
    fi
    sleep 0.02
  done
  wait "$CUR"
  E2E_PIDS=("$new")
  CUR=$new
}
# Wait for "paused at handover step STEP" in FILE (10 s).
wait_paused() {
  local i
  for i in $(seq 500); do
    grep -q "paused at handover step $1 " "$2" 2>/dev/null && return 0
    sleep 0.02
  done
  return 1
}
serving() {  # exactly one vsrouter in sw, answering vsadm and new requests through the VIP
  local pids i
  for i in $(seq 100); do
    pids=$(ip netns pids "$(ns sw)" | xargs)
    [[ $pids =~ ^[0-9]+$ ]] && break
    sleep 0.05
  done
  [[ $pids =~ ^[0-9]+$ ]] || { WHY="processes in sw: '$pids'"; return 1; }
  for i in $(seq 100); do
    vsadm -Ln >/dev/null 2>&1 && in_ns cli curl -sf --max-time 1 -o /dev/null "http://$VIP/" && break
    sleep 0.05
  done
  vsadm -Ln >/dev/null 2>&1 || { WHY="vsadm gets no answer"; return 1; }
  in_ns cli curl -sf --max-time 2 -o /dev/null "http://$VIP/" || { WHY="the VIP does not answer"; return 1; }
  CUR=$pids
  E2E_PIDS=("$CUR")
}
fault() {  # STEP VICTIM (old|new)
  local step=$1 victim=$2 new pfile before after
  before=$(vsadm -Lnc 2>/dev/null | grep -c -E 'ESTABLISHED|TIME_WAIT|CLOSE')
  if [[ $step == old-* ]]; then
    handover_env VSROUTER_HANDOVER_PAUSE="$step"  # the process that will pause as the old side
    pfile=$E2E_DIR/vs-$FSTEP.err
    FSTEP=$((FSTEP + 1))
    ip netns exec "$(ns sw)" "$VSROUTER" run -c "$CONF" --control "$CTL" --metrics "$METRICS" --log-level info \
      --takeover >"$E2E_DIR/vs-$FSTEP.out" 2>"$E2E_DIR/vs-$FSTEP.err" &
    new=$!
  else
    FSTEP=$((FSTEP + 1))
    ip netns exec "$(ns sw)" env VSROUTER_HANDOVER_PAUSE="$step" "$VSROUTER" run -c "$CONF" --control "$CTL" \
      --metrics "$METRICS" --log-level info --takeover >"$E2E_DIR/vs-$FSTEP.out" 2>"$E2E_DIR/vs-$FSTEP.err" &
    new=$!
    pfile=$E2E_DIR/vs-$FSTEP.err
  fi
  E2E_PIDS=("$CUR" "$new")
  wait_paused "$step" "$pfile" || { diag "$FSTEP"; e2e_fail "fault $step/$victim: no process paused at $step"; }
  if [[ $victim == old ]]; then
    kill -KILL "$CUR"
    go_on "$new"
  else
    kill -KILL "$new"
    go_on "$CUR"
  fi
  local old=$CUR
  serving || { diag "$FSTEP"; e2e_fail "fault $step, kill -9 of the $victim side: $WHY"; }
  after=$(vsadm -Lnc 2>/dev/null | grep -c -E 'ESTABLISHED|TIME_WAIT|CLOSE')
  local who
  who=$([[ $CUR == "$new" ]] && echo "the new process" || echo "the old process")
  [[ $CUR == "$old" || $CUR == "$new" ]] || e2e_fail "fault $step/$victim: an unknown process $CUR serves"
  # The survivor has the table unless the old side died before it sent it (the new one then
  # starts afresh, as after a crash).
  if ! [[ $step == old-stopped && $victim == old ]] && ((after < before)); then
    vsadm -Lnc >&2
    e2e_fail "fault $step, kill -9 of the $victim side: $who serves with $after entries, $before before"
  fi
  e2e_log "fault $step, kill -9 of the $victim side: $who serves ($before entries before, $after after)"
}
if [[ ${HANDOVER_FAULTS:-1} == 1 ]]; then  # HANDOVER_FAULTS=0: none (handover_upgrade.sh)
for step in old-stopped old-sent old-taken new-received new-adopted new-taken; do
  fault "$step" old
  fault "$step" new
done
# A damaged stream: the new process refuses it (exit 2, saying why); the old one serves on.
handover_env VSROUTER_HANDOVER_CORRUPT=1
timeout 20 ip netns exec "$(ns sw)" "$VSROUTER" run -c "$CONF" --control "$CTL" --takeover \
  >"$E2E_DIR/corrupt.out" 2>"$E2E_DIR/corrupt.err"
rc=$?
if ((rc != 2)) || ! grep -q "corrupt" "$E2E_DIR/corrupt.err"; then
  cat "$E2E_DIR/corrupt.err" >&2
  e2e_fail "a damaged handover stream: exit $rc (want 2 and the word corrupt on stderr)"
fi
WHY="it died"
if ! alive "$CUR" || ! serving; then e2e_fail "after the damaged stream the old vsrouter does not serve: $WHY"; fi
e2e_log "a damaged stream: the new process refused it ($(tail -n 1 "$E2E_DIR/corrupt.err")); the old one serves on"
fi

e2e_stop_vsrouter "$CUR"
wait "$CUR"
rc=$?
((rc == 0)) || e2e_fail "the last vsrouter (pid $CUR) exited with status $rc on SIGTERM"
E2E_PIDS=()
# Not a failure, but worth seeing: what the processes complained about.
bad=$(cat "$E2E_DIR"/vs-*.err | grep -E "^vsrouter: (error|warn): " | sort | uniq -c | sort -rn)
[[ -z $bad ]] || e2e_log "errors and warnings the vsrouters logged (count, line):"$'\n'"$(head -10 <<<"$bad")"
e2e_log "PASS ($MODE): $COUNT handovers in $(secs "$ELAPSED") s (slowest: $(secs "$SLOWEST") s, handover $SLOWEST_K)"

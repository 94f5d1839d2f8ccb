#!/usr/bin/env bash
# End-to-end health checks (docs/health-checks.md): vsrouter checks three real servers (Linux
# namespaces with Python's HTTP and UDP echo servers, or dnsmasq) while a client requests through
# the VIP in a loop; one real (r2) fails and recovers. In every mode r2 is out of `vsadm -Ln`
# within 3 s of its failure, after that no client request fails; recovered, it is back after
# `rise` successes, not before; every transition is logged once (and, but for ping, the checker's
# failure with the expected reason). Usage: health.sh MODE VSROUTER, MODE one of:
#   nat, dr       TCP_CHECK of the HTTP service: r2's HTTP server is stopped and started again
#   inhibit       the same (NAT) with inhibit_on_failure: r2 stays listed with weight 0
#   ping          PING_CHECK (DR): r2's interface goes down, then up
#   http          HTTP_GET (NAT), url /health with status_code 200: r2's /health answers 503,
#                 then 200 again (the server stays up)
#   http_digest   HTTP_GET (DR), url /health with status_code 200 and the digest (MD5) of the
#                 body the reals serve, computed here: r2's /health body changes, then comes back
#   udp           UDP_CHECK (NAT) of the UDP echo service (port 53) with require_reply, the hex of
#                 the prefix each real's echo puts ("r2:" for r2); the client requests over UDP:
#                 r2's echo server is stopped (ICMP port unreachable), then started again
#   dns           DNS_CHECK (DR), A example.test, against dnsmasq on port 5353 of each real; the
#                 client queries over UDP: r2's dnsmasq is stopped (port unreachable), then started
#   dns_rcode     the same (NAT), but r2's dnsmasq loses the record (reloaded with SIGHUP): it
#                 answers REFUSED (no upstream server), then the record comes back
#   ssl           SSL_GET (NAT) of /health against `openssl s_server -WWW` on port 443 of each
#                 real (connect_port): r2's s_server is stopped, then started again
#   misc          MISC_CHECK (DR) with misc_dynamic: a program whose exit code is read from a
#                 file per real; r1's weight follows its code (7 -> weight 5); r2's exits 1, then 4
#   sorry         TCP_CHECK (NAT) with a sorry server: every real's server stops, the sorry
#                 server alone serves; they start again, the reals serve again
#   quorum        TCP_CHECK (NAT), weights 2+2+2, quorum 5 and a sorry server: r2 alone failing
#                 loses the quorum (the sorry server serves alone), r2 back regains it; each
#                 notify_up/notify_down/quorum_up/quorum_down runs once per transition, and at
#                 the stop (omega) every alive real's notify_down and quorum_down run
#   reload        nat, and while r2 is out a reload (`vsadm --reload`) that changes r3's checker
#                 only: r2 stays out (no flap), r1's checker keeps its state (its run of good
#                 probes goes on), r3's starts afresh; no transition is logged for either
#   capture       nat, with `vsrouter run --capture`: the capture replayed sends the frames the
#                 live run sent, byte for byte, and makes the same health decisions in order
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
case $MODE in
  nat | inhibit | http | udp | dns_rcode | ssl | sorry | quorum | reload | capture) METHOD=nat ;;
  dr | ping | http_digest | dns | misc) METHOD=dr ;;
  *) e2e_fail "unknown mode $MODE" ;;
esac
# The service (PROTO, PORT), its checker (CHECK), how the client requests (KIND), what r2's stop
# kills (SERVER, a pattern of its command line) and the reason its checker must give (REASON).
PROTO=tcp PORT=80 CHECK=TCP_CHECK KIND=http SERVER=http.server REASON=refused REAL_KEYS=""
case $MODE in
  inhibit) REAL_KEYS="inhibit_on_failure = true" ;;
  ping) CHECK=PING_CHECK REASON="" ;;
  http) CHECK=HTTP_GET REASON=status ;;
  http_digest) CHECK=HTTP_GET REASON=digest ;;
  udp) PROTO=udp PORT=53 CHECK=UDP_CHECK KIND=udp SERVER=SOCK_DGRAM REASON=unreachable ;;
  dns | dns_rcode) PROTO=udp PORT=5353 CHECK=DNS_CHECK KIND=dns SERVER=dnsmasq REASON=unreachable ;;
  ssl) CHECK=SSL_GET SERVER=s_server ;;
  misc) CHECK=MISC_CHECK REASON=script ;;
esac
SERVICE_KEYS=""
SORRY=192.168.10.99
[[ $MODE == sorry ]] && SERVICE_KEYS="sorry_server = \"$SORRY:80\""
# quorum: the notify scripts append a line to notify.log (a shell runs them: the config's words
# are not a shell's)
notify_cmd() { printf '"/bin/sh -c '"'"'echo %s >>%s/notify.log'"'"'"' "$1" "$E2E_DIR"; }
[[ $MODE == quorum ]] && SERVICE_KEYS="quorum = 5
sorry_server = \"$SORRY:80\"
omega = true
quorum_up = $(notify_cmd quorum_up)
quorum_down = $(notify_cmd quorum_down)"
[[ $MODE == dns_rcode ]] && REASON=rcode

# The checker's own keys for real r$1.
check_keys() {
  case $CHECK in
    HTTP_GET)
      if [[ $MODE == http_digest ]]; then
        echo "url = [{ path = \"/health\", status_code = 200, digest = \"$DIGEST\" }]"
      else
        echo 'url = [{ path = "/health", status_code = 200 }]'
      fi
      ;;
    UDP_CHECK) echo "require_reply = \"$(printf 'r%s:' "$1" | od -An -tx1 | xargs)\"" ;;
    DNS_CHECK) printf 'dns_type = "A"\n    dns_name = "example.test"\n' ;;
    SSL_GET) printf 'connect_port = 443\n    url = [{ path = "/health", status_code = 200 }]\n' ;;
    MISC_CHECK)
      # the exit code comes from a file (a shell runs it: the config's words are not a shell's)
      printf "misc_path = \"/bin/sh -c 'exit \$(cat $E2E_DIR/code-r%s)'\"\n    misc_dynamic = true\n" "$1" ;;
  esac
}

# The config: the lab's topology (conf/lab-nat.toml, conf/lab-dr.toml) with checkers on the
# service's reals. health_config METHOD [REAL_KEYS]
health_config() {
  local method=$1 real_keys=${2:-} net vip=10.0.0.100
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
protocol = "$PROTO"
address = "$vip:$PORT"
scheduler = "rr"
delay_loop = 1
connect_timeout = 1
retry = 0
rise = $RISE
warmup = 0
$SERVICE_KEYS
EOF
  local i
  for i in 1 2 3; do
    cat <<EOF
  [[services.reals]]
  address = "$net.1$i:$PORT"
  method = "$method"
  weight = 2
  $real_keys
  $([[ $MODE == quorum ]] && printf 'notify_up = %s\n  notify_down = %s' "$(notify_cmd "up_r$i")" "$(notify_cmd "down_r$i")")
    [[services.reals.checks]]
    type = "$CHECK"
    $(check_keys $i)
    $([[ $i == 3 ]] && echo "${R3_EXTRA:-}")
EOF
  done
}

# One request as the client makes it (KIND http, udp or dns), answered by the real's name.
cat >"$E2E_DIR/request.py" <<'EOF'
import socket, struct, sys

def dns_query(name):
    return (struct.pack('>HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0) +
            b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\0' + struct.pack('>HH', 1, 1))

def request(kind, host, port, sport=0, timeout=4):
    """The name of the real that answered ("r1"), or an exception. 4 s: a request survives one lost
    segment (TCP retransmits its SYN after 1 s) but not a black hole. `sport`: the source port
    (a fresh one per request: a new connection, scheduled afresh, never an old one's entry)."""
    if kind == 'http':
        # HTTP/1.0 over a plain socket, so that a failure names its TCP source port (the
        # director's connection entry and drop counters can then be looked up).
        s = socket.socket()
        try:
            s.settimeout(timeout)
            # A fresh source port per request (as for UDP): a refused connection leaves no
            # TIME_WAIT, so Linux may soon pick its port again, and that SYN would meet the
            # director's entry for the real that refused it, dropped once the real is removed
            # (vs_real_removed, as the kernel's expire_nodest_conn = 0): a port-reuse test,
            # not a health-check one.
            if sport:
                s.bind(('0.0.0.0', sport))
            try:
                s.connect((host, port))
                s.sendall(f'GET / HTTP/1.0\r\nHost: {host}\r\n\r\n'.encode())
                data = b''
                while chunk := s.recv(4096):
                    data += chunk
            except OSError as e:
                raise OSError(f'{type(e).__name__} {e} (source port {s.getsockname()[1]})') from None
        finally:
            s.close()
        head, _, body = data.partition(b'\r\n\r\n')
        if not head.startswith(b'HTTP/1.0 200') and not head.startswith(b'HTTP/1.1 200'):
            raise ValueError(head.split(b'\r\n')[0].decode(errors='replace'))
        return body.decode().strip()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(('0.0.0.0', sport))
        s.settimeout(timeout)
        s.connect((host, port))  # connected: an ICMP port unreachable fails the recv
        s.send(b'ping' if kind == 'udp' else dns_query('example.test'))
        r = s.recv(2048)
    finally:
        s.close()
    if kind == 'udp':
        return r.split(b':')[0].decode()
    # dns: r<i> has example.test at 10.9.9.1<i>
    if r[:2] != b'\x12\x34' or r[3] & 15 or struct.unpack('>H', r[6:8])[0] < 1:
        raise ValueError(f'rcode {r[3] & 15}')
    return f'r{r[-1] - 10}'

if __name__ == '__main__':  # request.py KIND HOST PORT: one request, the answer on stdout
    print(request(sys.argv[1], sys.argv[2], int(sys.argv[3]), timeout=0.5))
EOF

# dnsmasq on port 5353 of r$1, answering example.test from a hosts file (SIGHUP re-reads it),
# nothing else: no upstream servers (other names: REFUSED).
dns_record() { echo "10.9.9.1$1 example.test" >"$E2E_DIR/hosts-r$1"; }
start_dnsmasq() {
  in_ns "r$1" dnsmasq --no-daemon --conf-file=/dev/null --no-hosts --no-resolv --user=root --pid-file= \
    --port 5353 --addn-hosts="$E2E_DIR/hosts-r$1" --log-facility=- >>"$E2E_DIR/dnsmasq-r$1.log" 2>&1 &
}
# Wait until real $1 answers the service on its own address (bounded).
wait_served() {
  for _ in $(seq 100); do
    [[ $(in_ns "$1" "$PY" "$E2E_DIR/request.py" $KIND 127.0.0.1 $PORT 2>/dev/null) == "$1" ]] && return 0
    sleep 0.05
  done
  e2e_fail "$1 does not serve $KIND on port $PORT"
}

# The lab's hosts (conf/lab-nat.toml, conf/lab-dr.toml), then each real's service.
e2e_hosts_$METHOD
R2=10.0.0.12
[[ $METHOD == nat ]] && R2=192.168.10.12
# ssl: `openssl s_server -WWW` serves each real's www directory (its /health) over TLS on 443.
start_s_server() {
  in_ns "r$1" bash -c "cd '$E2E_DIR/www-r$1' && exec openssl s_server -quiet -accept 443 -WWW \
    -cert '$E2E_DIR/tls.crt' -key '$E2E_DIR/tls.key'" >>"$E2E_DIR/s_server-r$1.log" 2>&1 &
  for _ in $(seq 100); do
    in_ns "r$1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/443' 2>/dev/null && return 0
    sleep 0.05
  done
  e2e_fail "r$1's s_server does not listen"
}
if [[ $MODE == ssl ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$E2E_DIR/tls.key" -out "$E2E_DIR/tls.crt" -subj /CN=real \
    -days 2 2>/dev/null || e2e_fail "cannot make a certificate"
fi
for i in 1 2 3; do
  if [[ $KIND == dns ]]; then dns_record $i && start_dnsmasq $i; fi
  [[ $MODE == ssl ]] && start_s_server $i
  echo 4 >"$E2E_DIR/code-r$i"  # misc: exit 4, weight 2 (as configured)
  wait_served "r$i"
done
# sorry, quorum: the sorry server, a fourth host on the reals' subnet answering "sorry"
if [[ $MODE == sorry || $MODE == quorum ]]; then
  e2e_host sorry br-lan "$SORRY/24" 192.168.10.1
  mkdir -p "$E2E_DIR/www-sorry" && echo sorry >"$E2E_DIR/www-sorry/index.html"
  e2e_http_server sorry
  wait_served sorry
fi
# http_digest: the MD5 of the body the reals' /health serves, as the client sees it.
if [[ $MODE == http_digest ]]; then
  DIGEST=$(in_ns r1 curl -sf --max-time 5 http://127.0.0.1/health | md5sum | cut -d' ' -f1)
  [[ $DIGEST =~ ^[0-9a-f]{32}$ ]] || e2e_fail "cannot compute /health's digest"
fi
health_config "$METHOD" "$REAL_KEYS" >"$E2E_DIR/health.toml"
"$VSROUTER" check -c "$E2E_DIR/health.toml" || e2e_fail "the test's config does not load"
CTL="$E2E_DIR/control-director.sock"
CAPTURE=()
[[ $MODE == capture ]] && CAPTURE=(--capture "$E2E_DIR/capture")
e2e_vsrouter director "$E2E_DIR/health.toml" --metrics 127.0.0.1:9800 "${CAPTURE[@]}"
LOG="$E2E_DIR/vsrouter-director.log"
vsadm() { timeout 5 ip netns exec "$(ns sw)" "$VSADM" --control "$CTL" "$@"; }

# r2's line in `vsadm -Ln` ("" when it is not listed).
r2_line() { vsadm -Ln | grep -F -- "-> $R2:$PORT" || true; }
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
sorry_listed() { vsadm -Ln | grep -qF -- "-> $SORRY:80"; }
r2_out() {
  case $MODE in
    inhibit) [[ $(r2_weight) == 0 ]] ;;
    sorry | quorum) [[ -z $(r2_line) ]] && sorry_listed && [[ $(vsadm -Ln | grep -c -- '-> [0-9]') -eq 1 ]] ;;
    *) [[ -z $(r2_line) ]] ;;
  esac
}
r2_in() {
  case $MODE in
    inhibit | misc) [[ $(r2_weight) == 2 ]] ;;
    sorry | quorum) [[ -n $(r2_line) ]] && ! sorry_listed ;;
    *) [[ -n $(r2_line) ]] ;;
  esac
}

# All three in service once their first checks passed.
wait_for 5 "all reals checked and in service" bash -c "[[ \$(timeout 5 ip netns exec $(ns sw) $VSADM --control $CTL -Ln | grep -c -- '-> [0-9]') -eq 3 ]]" >/dev/null

# The client: requests through the VIP in a loop, each line "start end ok body".
in_ns cli "$PY" -c "
import sys, time
sys.path.insert(0, '$E2E_DIR')
from request import request
end = time.time() + 26
n = 0
with open('$E2E_DIR/client.log', 'w', buffering=1) as f:
    while time.time() < end:
        t = time.time()
        try:
            body, ok = request('$KIND', '10.0.0.100', $PORT, sport=10000 + n), 1
        except Exception as e:
            body, ok = type(e).__name__ + ':' + '_'.join(str(e).split()), 0
        n += 1
        f.write(f'{t:.3f} {time.time():.3f} {ok} {body}\n')
        time.sleep(0.02)
" &
CLIENT=$!
sleep 2

# r2 fails: its server stops (TCP refused, ICMP port unreachable for UDP), its interface goes down
# (ping), its /health answers 503 (http) or another body (http_digest), or dnsmasq loses the
# record (dns_rcode).
kill_r2() {  # pattern [signal]
  local pids
  pids=$(e2e_pids_in r2 "$1")
  [[ -n $pids ]] || e2e_fail "r2 runs no $1"
  # shellcheck disable=SC2086
  kill "-${2:-KILL}" $pids
}
r2_fail() {
  case $MODE in
    sorry) for i in 1 2 3; do kill -KILL $(e2e_pids_in "r$i" http.server); done ;;
    misc) echo 1 >"$E2E_DIR/code-r2" ;;
    ping) in_ns r2 ip link set eth0 down ;;
    http) echo 503 >"$E2E_DIR/www-r2/health-status" ;;
    http_digest) echo "not ok" >"$E2E_DIR/www-r2/health" ;;
    dns_rcode) : >"$E2E_DIR/hosts-r2" && kill_r2 dnsmasq HUP ;;
    *) kill_r2 "$SERVER" ;;
  esac
}
# RECOVER_T0: the moment r2's recovery began (r2 cannot pass a probe before it).
r2_recover() {
  RECOVER_T0=$(date +%s.%N)
  case $MODE in
    sorry)  # r2 last: its rise is timed
      for i in 1 3; do e2e_http_server "r$i" && wait_served "r$i"; done
      RECOVER_T0=$(date +%s.%N)
      e2e_http_server r2
      ;;
    misc) echo 4 >"$E2E_DIR/code-r2" ;;
    ssl) start_s_server 2 ;;
    ping) in_ns r2 ip link set eth0 up ;;
    http) rm "$E2E_DIR/www-r2/health-status" ;;
    http_digest) echo "ok" >"$E2E_DIR/www-r2/health" ;;
    dns_rcode) dns_record 2 && kill_r2 dnsmasq HUP ;;
    dns) start_dnsmasq 2 ;;
    udp) e2e_udp_echo r2 ;;
    *) e2e_http_server r2 ;;
  esac
  [[ $MODE == ping ]] || wait_served r2
}

# misc: a real's weight follows its program's exit code (misc_dynamic: code - 2)
if [[ $MODE == misc ]]; then
  echo 7 >"$E2E_DIR/code-r1"
  R1=${R2%2}1
  took=$(wait_for 3 "r1's weight 5 from its exit code 7" bash -c "timeout 5 ip netns exec $(ns sw) $VSADM --control $CTL -Ln | grep -F -- '-> $R1:$PORT' | awk '{exit \$4 != 5}'") || exit 1
  e2e_log "r1's weight is 5 (exit code 7) $took s after its program said so"
fi

r2_fail
limit=3
[[ $MODE == ping ]] && limit=3.5  # a silent real: the probe's connect_timeout (1 s) is part of it
took=$(wait_for $limit "r2 out of service after it failed" r2_out) || exit 1
out_t=$(date +%s.%N)
e2e_log "r2 ($CHECK) out of service $took s after it failed: $(r2_line)"
sleep 4

# reload: r3's checker changes, nothing else: r2 stays out, r1's checker goes on, r3's restarts.
if [[ $MODE == reload ]]; then
  ok_run() { vsadm --list-checks | grep -E -- "-> $CHECK +$1:$PORT " | sed -n 's/.* \([0-9]*\) ok in a row.*/\1/p'; }
  r1_before=$(ok_run "${R2%2}1") r3_before=$(ok_run "${R2%2}3")
  R3_EXTRA="connect_timeout = 2" health_config "$METHOD" "$REAL_KEYS" >"$E2E_DIR/health.toml"
  vsadm --reload || e2e_fail "the reload was refused"
  for _ in $(seq 20); do
    [[ -z $(r2_line) ]] || e2e_fail "r2 came back by the reload (a flap): $(r2_line)"
    sleep 0.1
  done
  r1_after=$(ok_run "${R2%2}1") r3_after=$(ok_run "${R2%2}3")
  e2e_log "reload: r1's checker $r1_before -> $r1_after good probes in a row, r3's (changed) $r3_before -> $r3_after"
  # kept: its run goes on (before + the probes since); restarted: only the probes since count
  ((r1_after > r1_before && r3_before >= 4 && r3_after <= r1_after - r1_before + 1)) ||
    e2e_fail "after the reload r1's checker should go on ($r1_before -> $r1_after), r3's start afresh ($r3_before -> $r3_after)"
  grep -q "reloaded" "$LOG" || e2e_fail "no 'reloaded' in the log"
fi

# r2 recovers: back after RISE successes (one per delay_loop), not before.
r2_recover
took=$(wait_for $((RISE + 3)) "r2 back in service" r2_in) || exit 1
in_t=$(date +%s.%N)
e2e_log "r2 back in service $took s after it recovered: $(r2_line)"
# RISE successes one delay_loop apart take RISE - 1 s at least from the recovery's start (the
# wait for r2 to serve, above, may already hold some of them).
since=$(echo "$in_t - $RECOVER_T0" | bc)
(($(echo "$since >= $RISE - 1" | bc))) ||
  e2e_fail "r2 came back $since s after its recovery began: before $RISE successes (rise = $RISE, delay_loop 1)"
sleep 3
wait "$CLIENT"

# No request failed after r2 left; before it left, only requests to r2 may have failed.
WANT_SERVED="r1 r2 r3"
[[ $MODE == sorry || $MODE == quorum ]] && WANT_SERVED="r1 r2 r3 sorry"
# On a failure: the director's drops (by reason) and its connection entries, for the diagnosis.
client_failed() {
  in_ns sw curl -s --max-time 5 http://127.0.0.1:9800/metrics | grep '^vsrouter_drops_total' | grep -v ' 0$' >&2
  local port
  for port in $(grep -o 'source_port_[0-9]*' "$E2E_DIR/client.log" | cut -d_ -f3 | sort -u); do
    e2e_log "the director's entry for source port $port: $(vsadm -Lnc | grep -F ":$port " || echo none)"
  done
  e2e_fail "client requests failed (see above)"
}
# sorry, quorum: the sorry server leaves the service when the reals are back, and a connection it
# was opening then is dropped with it (a removed real's connections are, as the kernel's with
# expire_nodest_conn 0): the client's ports the director still holds for the sorry server.
SORRY_PORTS=""
if [[ $MODE == sorry || $MODE == quorum ]]; then
  SORRY_PORTS=$(vsadm -Lnc | awk -v s="$SORRY:80" '$6 == s {split($4, a, ":"); print a[2]}' | xargs)
fi
"$PY" - "$E2E_DIR/client.log" "$out_t" "$in_t" "$WANT_SERVED" "$SORRY_PORTS" <<'EOF' || client_failed
import re, sys
rows = [l.split() for l in open(sys.argv[1])]
out_t, in_t = float(sys.argv[2]), float(sys.argv[3])
sorry_ports = set(sys.argv[5].split())
total = len(rows)
after = [r for r in rows if float(r[0]) > out_t]
def to_leaving_sorry(r):
    m = re.search(r'source_port_(\d+)', r[3])
    return float(r[0]) < in_t and m is not None and m.group(1) in sorry_ports
for r in after:
    if r[2] != "1" and to_leaving_sorry(r):
        print(f"[e2e]   a request to the sorry server as it left service failed ({r[3]}): expected",
              file=sys.stderr)
bad = [r for r in after if r[2] != "1" and not to_leaving_sorry(r)]
print(f"[e2e] client: {total} requests, {len(after)} after r2 left, {len(bad)} of those failed",
      file=sys.stderr)
for r in bad[:10]:
    print(f"[e2e]   failed: {float(r[0]) - out_t:.3f} s after r2 left ({float(r[0]) - in_t:.3f} s after it was"
          f" back), took {float(r[1]) - float(r[0]):.3f} s:", r[3], file=sys.stderr)
served = {r[3] for r in rows if r[2] == "1"}
if served != set(sys.argv[4].split()):
    print(f"[e2e] served by {sorted(served)}, expected {sys.argv[4]}", file=sys.stderr)
    sys.exit(1)
sys.exit(1 if bad or total < 100 else 0)
EOF

# Each transition logged once: down once, up once, for r2 only; r2's checker failed for REASON.
real="real $R2:$PORT ($PROTO 10.0.0.100:$PORT)"
downs=$(grep -cF "$real: failed" "$LOG")
ups=$(grep -cF "$real: alive" "$LOG")
others=$(grep -E "real 1[0-9.]+:$PORT .*: (failed|alive)" "$LOG" | grep -vc "$R2" || true)
[[ $MODE == sorry ]] && others=0  # every real failed and came back there
if [[ $MODE == sorry || $MODE == quorum ]]; then
  lost=$(grep -c "quorum lost" "$LOG")
  regained=$(grep -c "quorum regained" "$LOG")
  [[ $lost -eq 1 && $regained -eq 1 ]] || e2e_fail "quorum lost $lost times, regained $regained times (want 1, 1)"
  e2e_log "logged: $(grep -m1 "quorum lost" "$LOG" | sed 's/^.*info: //')"
fi
[[ $downs -eq 1 && $ups -eq 1 && $others -eq 0 ]] ||
  e2e_fail "transitions logged: r2 down $downs, up $ups, others $others (want 1, 1, 0): $(grep health "$LOG" | head)"
down_line=$(grep -m1 "$CHECK [^ ]* of real $R2:$PORT .*: down" "$LOG" | sed 's/^.*info: //')
[[ -z $REASON || $down_line == *"down ($REASON,"* ]] ||
  e2e_fail "r2's checker went down for another reason than $REASON: '$down_line'"
e2e_log "logged: $down_line"
vsadm --list-checks | sed 's/^/[e2e]   /' >&2

# capture: the live run replayed from its capture (engine.txt: its start) sends the same frames
# and makes the same decisions, in the same order.
if [[ $MODE == capture ]]; then
  e2e_stop_vsrouter "${E2E_PIDS[-1]}"
  "$VSROUTER" replay -c "$E2E_DIR/health.toml" --in "$E2E_DIR/capture" --out "$E2E_DIR/replayed" --list \
    >"$E2E_DIR/replayed.txt" || e2e_fail "replay of the capture failed"
  "$PY" "$HERE/capture_check.py" "$E2E_DIR/capture/wan.pcapng" "$E2E_DIR/replayed/wan.pcap" 02:00:00:00:0a:01 &&
    "$PY" "$HERE/capture_check.py" "$E2E_DIR/capture/lan.pcapng" "$E2E_DIR/replayed/lan.pcap" 02:00:00:00:0a:02 ||
    e2e_fail "the replayed capture differs from what the live run sent"
  live=$(grep -E "info: (real |tcp |[A-Z_]+ [0-9])" "$LOG" | grep -E ": (down|up|failed|alive)|quorum" | sed 's/^.*info: //')
  replayed=$(sed -n 's/^[-+0-9.]* health: //p' "$E2E_DIR/replayed.txt")
  [[ -n $live && $live == "$replayed" ]] ||
    e2e_fail "health decisions differ: live '$live', replayed '$replayed'"
  e2e_log "capture replayed: the same $(wc -l <<<"$live") health decisions in the same order"
fi
# quorum: the notify scripts ran once per transition; at the stop (omega) the alive reals'
# notify_down and quorum_down ran too (keepalived's omega).
if [[ $MODE == quorum ]]; then
  running=$(sort "$E2E_DIR/notify.log" | xargs)
  [[ $running == "down_r2 quorum_down quorum_up up_r2" ]] ||
    e2e_fail "notify scripts while running: '$running' (want down_r2 quorum_down quorum_up up_r2)"
  e2e_stop_vsrouter "${E2E_PIDS[-1]}"
  all=$(sort "$E2E_DIR/notify.log" | xargs)
  [[ $all == "down_r1 down_r2 down_r2 down_r3 quorum_down quorum_down quorum_up up_r2" ]] ||
    e2e_fail "notify scripts after the stop (omega): '$all'"
  e2e_log "notify scripts: $running while running; at the stop (omega): $all"
fi
e2e_log "PASS ($MODE)"

# Shared pieces of the end-to-end tests and the lab: LVS topologies in network namespaces with
# vsrouter as the director on TAP devices and unmodified Linux hosts everywhere else.
#
# Everything lives in namespaces this file creates, named "$E2E_PREFIX-*" (unique per run):
#   sw      the "switch": Linux bridges, the TAP devices and the vsrouter processes
#   cli     the client            r1 r2 r3   the real servers
# Hosts connect to the switch with veth pairs. Addresses are private and exist only inside these
# namespaces. e2e_cleanup (run from an EXIT trap) kills the processes and deletes every namespace,
# which takes the TAPs, bridges and veths with it. Every wait is bounded.

PY=/usr/bin/python3
E2E_PREFIX=${E2E_PREFIX:-vse$$}
E2E_DIR=${E2E_DIR:-$(mktemp -d /tmp/vsrouter-e2e.XXXXXX)}
mkdir -p "$E2E_DIR"
E2E_NS=()
E2E_PIDS=()

e2e_log() { echo "[e2e] $*" >&2; }
e2e_fail() { echo "[e2e] FAIL: $*" >&2; exit 1; }
ns() { echo "$E2E_PREFIX-$1"; }
in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }

# Outside CI, without root, the tests cannot create namespaces: skip, loudly (ctest code 77).
# Under CI (which runs as root) a skip would hide a broken environment: it is a failure.
e2e_require_root() {
  if [[ $(id -u) -ne 0 ]] || ! ip netns list >/dev/null 2>&1 || [[ ! -c /dev/net/tun ]]; then
    if [[ ${CI:-} == true ]]; then
      e2e_fail "end-to-end tests need root, ip netns and /dev/net/tun, and CI must run them"
    fi
    echo "************************************************************************" >&2
    echo "SKIPPED: end-to-end tests need root (network namespaces, TAP devices)." >&2
    echo "Run them with: sudo ctest --test-dir build -R e2e" >&2
    echo "************************************************************************" >&2
    exit 77
  fi
}

e2e_cleanup() {
  local pid n
  for pid in "${E2E_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${E2E_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  for n in "${E2E_NS[@]}"; do
    # Anything still running in the namespace (servers) goes with it.
    ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns del "$n" 2>/dev/null
  done
  [[ -n ${E2E_KEEP_DIR:-} ]] || rm -rf "$E2E_DIR"
}

e2e_netns() {  # name
  ip netns add "$(ns "$1")" || e2e_fail "cannot create namespace $(ns "$1")"
  E2E_NS+=("$(ns "$1")")
  in_ns "$1" ip link set lo up
}

e2e_bridge() {  # name (in sw)
  in_ns sw ip link add "$1" type bridge
  in_ns sw ip link set "$1" type bridge forward_delay 0 stp_state 0
  in_ns sw ip link set "$1" up
}

# A host namespace with one interface (eth0) on a bridge: e2e_host NAME BRIDGE ADDR/LEN [GATEWAY]
e2e_host() {
  local name=$1 br=$2 addr=$3 gw=${4:-}
  e2e_netns "$name"
  local port="$name-$br"
  ip link add "${port:0:15}" netns "$(ns sw)" type veth peer name eth0 netns "$(ns "$name")" ||
    e2e_fail "cannot create veth for $name"
  in_ns sw ip link set "${port:0:15}" master "$br" up
  in_ns "$name" ip addr add "$addr" dev eth0
  in_ns "$name" ip link set eth0 up
  [[ -z $gw ]] || in_ns "$name" ip route add default via "$gw"
}

# A persistent TAP in the switch namespace, on a bridge: e2e_tap NAME BRIDGE [OWNER]
e2e_tap() {
  in_ns sw ip tuntap add mode tap ${3:+user "$3"} name "$1" || e2e_fail "cannot create TAP $1"
  in_ns sw ip link set "$1" master "$2" up
}

# A real server: the VIP on lo (DR/TUN) with arp_ignore/arp_announce, an HTTP server whose index
# names it plus a 1 MiB blob, and a UDP echo server that prefixes its name.
e2e_real() {  # name vip-or-empty
  local name=$1 vip=$2 dir="$E2E_DIR/www-$1"
  mkdir -p "$dir"
  echo "$name" > "$dir/index.html"
  echo "ok" > "$dir/health"
  cp "$E2E_DIR/blob" "$dir/blob"
  if [[ -n $vip ]]; then
    in_ns "$name" ip addr add "$vip/32" dev lo
    in_ns "$name" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
      net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  fi
  e2e_http_server "$name"
  e2e_udp_echo "$name"
}

# A real's HTTP server on port 80: Python's file server over $E2E_DIR/www-NAME, plus PUT (the
# body's SHA-256 comes back: uploads cross the director) and GET /health for health checks: the
# file "health" as the body, with the status code in the file "health-status" (200 without it).
e2e_http_server() {  # name
  local name=$1 dir="$E2E_DIR/www-$1"
  in_ns "$name" "$PY" -c "
import hashlib, http.server, functools
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path != '/health':
            return super().do_GET()
        try:
            status = int(open('$dir/health-status').read())
        except (OSError, ValueError):
            status = 200
        body = open('$dir/health', 'rb').read()
        self.send_response(status); self.send_header('Content-Length', str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_PUT(self):
        n = int(self.headers['Content-Length']); h = hashlib.sha256()
        while n > 0:
            d = self.rfile.read(min(n, 65536))
            if not d:
                break
            h.update(d); n -= len(d)
        body = h.hexdigest().encode()
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(('0.0.0.0', 80), functools.partial(H, directory='$dir')).serve_forever()
" >>"$E2E_DIR/http-$name.log" 2>&1 &
  e2e_wait_listening "$name" t 80
}

# Wait (at most 10 s) until something in namespace NAME listens on PORT (PROTO t: TCP, u: UDP):
# a director started next must not probe a real whose server is still starting (on a loaded
# machine Python takes a while), or its checkers log a failure nobody caused.
e2e_wait_listening() {  # name t|u port
  local _
  for _ in $(seq 200); do
    [[ -n $(in_ns "$1" ss -Hln"$2" "sport = :$3" 2>/dev/null) ]] && return 0
    sleep 0.05
  done
  e2e_fail "$1: nothing listens on $([[ $2 == t ]] && echo TCP || echo UDP) port $3 after 10 s"
}

# A real's UDP echo server on port 53: the answer is "NAME:" and the datagram.
e2e_udp_echo() {  # name
  in_ns "$1" "$PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 53))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(b'$1:' + data, peer)
" >>"$E2E_DIR/udp-$1.log" 2>&1 &
  e2e_wait_listening "$1" u 53
}

# The PIDs of a real's processes whose command line contains PATTERN (pgrep would see every
# namespace's processes: only the real's own are picked).
e2e_pids_in() {  # name pattern
  local pid
  for pid in $(ip netns pids "$(ns "$1")"); do
    if grep -qF -- "$2" "/proc/$pid/cmdline" 2>/dev/null; then echo "$pid"; fi
  done
}

e2e_make_blob() { head -c 1048576 /dev/urandom > "$E2E_DIR/blob"; }

# A TCP echo server on port 7000 of a real (long-lived connections for the reload test).
e2e_echo_server() {
  in_ns "$1" "$PY" -c "
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 7000)); s.listen(64)
def serve(c):
    while True:
        d = c.recv(4096)
        if not d:
            break
        c.sendall(d)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
" >"$E2E_DIR/echo-$1.log" 2>&1 &
  e2e_wait_listening "$1" t 7000
}

# Start vsrouter in the switch namespace: e2e_vsrouter NAME CONFIG [extra args...]
# Runs as the user in $E2E_RUN_AS if set (with /dev/net/tun usable by that user through a private
# mount namespace, so the host's device node is never touched).
e2e_vsrouter() {
  local name=$1 cfg=$2
  shift 2
  local log="$E2E_DIR/vsrouter-$name.log"
  # Each daemon gets its own control socket ($E2E_DIR/control-NAME.sock) unless one is given:
  # tests run in parallel and the TUN topology runs four daemons.
  [[ " $* " == *" --control "* ]] || set -- --control "$E2E_DIR/control-$name.sock" "$@"
  # Started with `ip netns exec` itself (not through a shell function), so that $! is the
  # vsrouter process: ip netns exec, unshare and setpriv all exec in place.
  if [[ -n ${E2E_RUN_AS:-} ]]; then
    ip netns exec "$(ns sw)" unshare --mount --propagation private bash -c '
      { [[ -c $1/tun ]] || mknod -m 666 "$1/tun" c 10 200; } && mount --bind "$1/tun" /dev/net/tun &&
      exec setpriv --reuid="$2" --regid="$3" --clear-groups "$4" run -c "$5" --log-level info "${@:6}"' \
      bash "$E2E_DIR" "$(id -u "$E2E_RUN_AS")" "$(id -g "$E2E_RUN_AS")" "$VSROUTER" "$cfg" "$@" >"$log" 2>&1 &
  else
    ip netns exec "$(ns sw)" "$VSROUTER" run -c "$cfg" --log-level info "$@" >"$log" 2>&1 &
  fi
  E2E_PIDS+=($!)
  for _ in $(seq 100); do
    grep -q "vsrouter: running" "$log" 2>/dev/null && return 0
    kill -0 "${E2E_PIDS[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  cat "$log" >&2
  e2e_fail "vsrouter $name did not start"
}

# Wait until a real's HTTP and UDP servers listen (bounded).
e2e_wait_real() {
  local name=$1
  for _ in $(seq 100); do
    in_ns "$name" "$PY" -c "
import socket, sys
s = socket.socket(); s.settimeout(0.2)
sys.exit(s.connect_ex(('127.0.0.1', 80)))" 2>/dev/null && return 0
    sleep 0.05
  done
  e2e_fail "server $name did not start"
}

# --- client-side checks --------------------------------------------------------------------

e2e_http_get() {  # url -> body on stdout
  in_ns cli curl -s --max-time 10 --retry 0 -H 'Connection: close' "$1"
}

# 12 requests with rr over 3 reals: each real answers exactly 4 times.
e2e_check_rr() {
  local vip=$1 counts
  counts=$(for _ in $(seq 12); do e2e_http_get "http://$vip/"; done | sort | uniq -c | awk '{print $2"="$1}' | xargs)
  e2e_log "12 requests: $counts"
  [[ $counts == "r1=4 r2=4 r3=4" ]] || e2e_fail "rr over 3 reals: expected r1=4 r2=4 r3=4, got '$counts'"
}

# A 1 MiB transfer arrives intact.
e2e_check_blob() {
  local vip=$1 got want
  want=$(sha256sum <"$E2E_DIR/blob" | cut -d' ' -f1)
  got=$(e2e_http_get "http://$vip/blob" | sha256sum | cut -d' ' -f1)
  [[ $got == "$want" ]] || e2e_fail "1 MiB transfer through $vip: checksum $got, expected $want"
  e2e_log "1 MiB transfer intact (sha256 $want)"
}

# A 4 MiB upload arrives intact (client -> real: the direction DR and TUN carry).
e2e_check_upload() {
  local vip=$1 got want
  head -c 4194304 /dev/urandom >"$E2E_DIR/upload"
  want=$(sha256sum <"$E2E_DIR/upload" | cut -d' ' -f1)
  got=$(in_ns cli curl -s --max-time 20 -H 'Connection: close' -T "$E2E_DIR/upload" "http://$vip/upload")
  [[ $got == "$want" ]] || e2e_fail "4 MiB upload through $vip: the real got sha256 '$got', expected $want"
  e2e_log "4 MiB upload intact (sha256 $want)"
}

# Offloads on (the default): TCP super-frames crossed the director, as its metrics say.
e2e_check_offload() {
  local m frames segmented
  m=$(in_ns sw curl -sf --max-time 5 "http://$1/metrics") || e2e_fail "no metrics on $1"
  frames=$(awk '/^vsrouter_offload_super_frames_total / {print $2}' <<<"$m")
  segmented=$(awk '/^vsrouter_offload_segmented_total / {print $2}' <<<"$m")
  [[ ${frames:-0} -gt 0 ]] || e2e_fail "no TCP super-frame reached the director (offloads off?)"
  e2e_log "offloads: $frames super-frames received, $segmented cut into segments by vsrouter"
}

# A UDP service answers.
e2e_check_udp() {
  local vip=$1 reply
  reply=$(in_ns cli "$PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
for _ in range(3):
    s.sendto(b'ping', ('$vip', 53))
    try:
        print(s.recvfrom(2048)[0].decode()); break
    except socket.timeout:
        pass
")
  [[ $reply == r[123]:ping ]] || e2e_fail "UDP service $vip:53 did not answer (got '$reply')"
  e2e_log "UDP service answered: $reply"
}

# Stop a vsrouter (flushing its capture) and wait for it (bounded).
e2e_stop_vsrouter() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
  e2e_fail "vsrouter (pid $pid) did not stop on SIGTERM"
}

# --- the three LVS topologies (conf/lab-*.toml describe them) --------------------------------
# Each creates the namespaces, bridges, persistent TAPs, client and real servers, and starts the
# vsrouter process(es) with the lab configs from conf/. $E2E_TAP_OWNER (a user name) makes the
# TAPs owned by that user, for the unprivileged run. Extra arguments go to the director's vsrouter.

# The DR lab without its director: namespaces, bridges, TAPs, client and real servers (up).
e2e_hosts_dr() {
  e2e_make_blob
  e2e_netns sw
  e2e_bridge br0
  e2e_tap vsd-lan br0 "${E2E_TAP_OWNER:-}"
  e2e_host cli br0 10.0.0.2/24
  local i
  for i in 1 2 3; do
    e2e_host "r$i" br0 "10.0.0.1$i/24"
    e2e_real "r$i" 10.0.0.100
  done
  for i in 1 2 3; do e2e_wait_real "r$i"; done
}

e2e_topology_dr() {
  e2e_hosts_dr
  e2e_vsrouter director "$CONF_DIR/lab-dr.toml" "$@"
}

# The NAT lab without its director: namespaces, bridges, TAPs, client and real servers (up).
e2e_hosts_nat() {
  e2e_make_blob
  e2e_netns sw
  e2e_bridge br-wan
  e2e_bridge br-lan
  e2e_tap vsn-wan br-wan
  e2e_tap vsn-lan br-lan
  e2e_host cli br-wan 10.0.0.2/24
  local i
  for i in 1 2 3; do
    e2e_host "r$i" br-lan "192.168.10.1$i/24" 192.168.10.1
    e2e_real "r$i" ""
  done
  for i in 1 2 3; do e2e_wait_real "r$i"; done
}

e2e_topology_nat() {
  e2e_hosts_nat
  e2e_vsrouter director "$CONF_DIR/lab-nat.toml" "$@"
}

e2e_topology_tun() {
  e2e_make_blob
  e2e_netns sw
  e2e_bridge br-wan
  e2e_bridge br-mid
  e2e_tap vst-wan br-wan
  e2e_tap vst-mid br-mid
  e2e_host cli br-wan 10.0.0.2/24
  local i
  for i in 1 2 3; do
    e2e_bridge "br-s$i"
    e2e_tap "vst-e${i}up" br-mid
    e2e_tap "vst-e${i}srv" "br-s$i"
    e2e_tap "vst-e${i}out" br-wan
    e2e_host "r$i" "br-s$i" "10.2.$i.10/24" "10.2.$i.1"
    e2e_real "r$i" 10.0.0.100
  done
  for i in 1 2 3; do
    e2e_wait_real "r$i"
    e2e_vsrouter "endpoint$i" "$CONF_DIR/lab-tun-endpoint-$i.toml"
  done
  e2e_vsrouter director "$CONF_DIR/lab-tun.toml" "$@"
}

# --- two directors with VRRP (tests/e2e/ha.sh, scripts/lab ha) ---------------------------------
# Each segment is two bridges joined by a veth pair, its "link", so that a test can cut the
# network in two (a split brain) and heal it:
#   wan: br-wan1 [cli 10.0.0.50, d1's TAP vsh1-wan]  =wan-link=  br-wan2 [cli2 10.0.0.51, d2's vsh2-wan]
#   lan: br-lan1 [r1 192.168.10.11, d1's vsh1-lan]   =lan-link=  br-lan2 [r2 192.168.10.12, d2's vsh2-lan]
# NAT: the VIP 10.0.0.100 and the reals' default gateway 192.168.10.1 are VRRP addresses, moving
# together (a sync group). DR: the reals are on wan instead (r1 10.0.0.11 on br-wan1, r2 10.0.0.12
# on br-wan2, the VIP on their lo) and answer the clients directly, as in LVS-DR labs (a director
# does not route a datagram whose source is its own VIP: a martian, as for the kernel).
# Usage: e2e_hosts_ha dr|nat
e2e_hosts_ha() {
  local method=$1 seg i
  e2e_make_blob
  e2e_netns sw
  for seg in wan lan; do
    e2e_bridge "br-${seg}1"
    e2e_bridge "br-${seg}2"
    in_ns sw ip link add "$seg-link1" type veth peer name "$seg-link2"
    in_ns sw ip link set "$seg-link1" master "br-${seg}1" up
    in_ns sw ip link set "$seg-link2" master "br-${seg}2" up
    e2e_tap "vsh1-$seg" "br-${seg}1"
    e2e_tap "vsh2-$seg" "br-${seg}2"
  done
  e2e_host cli br-wan1 10.0.0.50/24
  e2e_host cli2 br-wan2 10.0.0.51/24
  for i in 1 2; do
    if [[ $method == dr ]]; then
      e2e_host "r$i" "br-wan$i" "10.0.0.1$i/24"
      e2e_real "r$i" 10.0.0.100
    else
      e2e_host "r$i" "br-lan$i" "192.168.10.1$i/24" 192.168.10.1
      e2e_real "r$i" ""
    fi
  done
  for i in 1 2; do e2e_wait_real "r$i"; done
}

# Cut (down) or join (up) both segments between the two halves.
e2e_ha_link() { in_ns sw ip link set wan-link1 "$1" && in_ns sw ip link set lan-link1 "$1"; }

# Director N's own tables (1 or 2): [router] and its interfaces wan 10.0.0.(N+1) and lan
# 192.168.10.(N+1), for e2e_ha_config and as e2e_ha_keepalived's --interfaces file.
e2e_ha_interfaces() {
  local n=$1
  cat <<EOF
[router]
seed = $n

[[interfaces]]
name = "wan"
tap = "vsh$n-wan"
mac = "02:00:00:00:d$n:01"
addresses = ["10.0.0.$((n + 1))/24"]

[[interfaces]]
name = "lan"
tap = "vsh$n-lan"
mac = "02:00:00:00:d$n:02"
addresses = ["192.168.10.$((n + 1))/24"]
EOF
}

# Director N's config (1 or 2): e2e_ha_config N METHOD PRIORITY VERSION ADVERT_INT [sync]
# Interfaces wan 10.0.0.(N+1) and lan 192.168.10.(N+1); a TCP service on the VIP, port 80, over
# r1 and r2 with TCP_CHECK every second; VI_WAN (VRID 51, the VIP), and for NAT VI_LAN (VRID 52,
# the reals' gateway) with it in the sync group DIRECTOR. Version 3 sends its adverts by unicast
# to the other director. `sync`: also a persistent service on port 7000 (the reals' echo
# servers) and connection sync on lan following VI_WAN (docs/sync.md).
e2e_ha_config() {
  local n=$1 method=$2 prio=$3 version=$4 adv=$5 sync=${6:-} i
  local other=$((3 - n))
  echo "# Director $n of the VRRP pair (tests/e2e/lib.sh, e2e_ha_config): priority $prio."
  e2e_ha_interfaces "$n"
  cat <<EOF

[[services]]
protocol = "tcp"
address = "10.0.0.100:80"
scheduler = "rr"
delay_loop = 1
connect_timeout = 1
retry = 0
warmup = 0
EOF
  local net=192.168.10
  [[ $method == dr ]] && net=10.0.0
  for i in 1 2; do
    printf '  [[services.reals]]\n  address = "%s.1%s:80"\n  method = "%s"\n' "$net" "$i" "$method"
    printf '    [[services.reals.checks]]\n    type = "TCP_CHECK"\n'
  done
  if [[ -n $sync ]]; then
    printf '\n[[services]]\nprotocol = "tcp"\naddress = "10.0.0.100:7000"\nscheduler = "rr"\npersistence = 300\n'
    for i in 1 2; do
      printf '  [[services.reals]]\n  address = "%s.1%s:7000"\n  method = "%s"\n' "$net" "$i" "$method"
    done
  fi
  e2e_ha_instance WAN wan 51 10.0.0.100 10.0.0
  if [[ $method != dr ]]; then
    e2e_ha_instance LAN lan 52 192.168.10.1 192.168.10
    printf '\n[[vrrp_sync_groups]]\nname = "DIRECTOR"\ngroup = ["VI_WAN", "VI_LAN"]\n'
  fi
  [[ -z $sync ]] || printf '\n[sync]\ninterface = "lan"\nvrrp_instance = "VI_WAN"\nsyncid = 1\n'
}
# Director N's pair as keepalived.conf (docs/keepalived.md): e2e_ha_keepalived N PRIORITY writes
# $E2E_DIR/dN.conf, the same director as e2e_ha_config N nat PRIORITY 2 1 in keepalived's words
# (NAT by keepalived's default lb_kind, HTTP_GET of /health instead of TCP_CHECK, connection sync
# on lan following VI_WAN by lvs_sync_daemon), and $E2E_DIR/dN-interfaces.toml, vsrouter's own
# part: its interfaces.
e2e_ha_keepalived() {
  local n=$1 prio=$2 i
  e2e_ha_interfaces "$n" >"$E2E_DIR/d$n-interfaces.toml"
  {
    cat <<EOF
! Director $n of the VRRP pair as keepalived.conf (tests/e2e/lib.sh, e2e_ha_keepalived).
global_defs {
   router_id director$n
   lvs_sync_daemon lan VI_WAN id 1
}

vrrp_sync_group DIRECTOR {
    group {
        VI_WAN
        VI_LAN
    }
}

vrrp_instance VI_WAN {
    state BACKUP
    interface wan
    virtual_router_id 51
    priority $prio
    advert_int 1
    virtual_ipaddress {
        10.0.0.100/24 dev wan
    }
}

vrrp_instance VI_LAN {
    state BACKUP
    interface lan
    virtual_router_id 52
    priority $prio
    advert_int 1
    virtual_ipaddress {
        192.168.10.1/24 dev lan
    }
}

virtual_server 10.0.0.100 80 {
    delay_loop 1
    lb_algo rr
    protocol TCP
EOF
    for i in 1 2; do
      cat <<EOF

    real_server 192.168.10.1$i 80 {
        weight 1
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            connect_timeout 1
            retry 0
            warmup 0
        }
    }
EOF
    done
    echo "}"
  } >"$E2E_DIR/d$n.conf"
}
# One instance of e2e_ha_config (its locals n prio version adv other): NAME IFACE VRID VIP NET
e2e_ha_instance() {
  printf '\n[[vrrp_instances]]\nname = "VI_%s"\ninterface = "%s"\nvirtual_router_id = %s\n' "$1" "$2" "$3"
  printf 'priority = %s\nversion = %s\nadvert_int = %s\nvirtual_ipaddress = ["%s"]\n' "$prio" "$version" "$adv" "$4"
  if [[ $version == 3 ]]; then
    printf 'unicast_src_ip = "%s.%s"\nunicast_peer = ["%s.%s"]\n' "$5" $((n + 1)) "$5" $((other + 1))
  fi
}

# --- scale-out: directors behind a router's ECMP, announced by BIRD (docs/scale-out.md) ---------
# e2e_topology_scale DIRECTORS REALS: bridge br0 (10.0.0.0/24) with the router rtr (10.0.0.1: BIRD,
# ECMP over what it learns), reals r1.. (10.0.0.21.., the VIP on lo, default route via rtr; HTTP on
# 80 and a line echo naming the real on 7000), directors d1.. (vsrouter on TAP vsd-dN, 10.0.0.1N and
# 10.99.99.1N, DR, mh, sloppy_tcp, [announce] into dN-vips.conf) each with BIRD in bN
# (10.0.0.3N, eBGP AS 6500N to the router, hold time 3 s). Returns once the router's route to the
# VIP has every director. SCALE_PID[N]: director N's vsrouter; VSADM must be set.
SCALE_VIP=10.99.99.1
e2e_named_echo() {  # name
  in_ns "$1" "$PY" -c "
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 7000)); s.listen(512)
def serve(c):
    buf = b''
    while True:
        d = c.recv(65536)
        if not d:
            break
        buf += d
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            c.sendall(b'$1 ' + line + b'\n')
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
" >"$E2E_DIR/echo-$1.log" 2>&1 &
  e2e_wait_listening "$1" t 7000
}
e2e_bird() {  # namespace config
  ip netns exec "$(ns "$1")" bird -c "$2" -s "$E2E_DIR/$1.ctl" -P "$E2E_DIR/$1.pid" ||
    e2e_fail "bird in $1 did not start"
}

scale_hops() { in_ns rtr ip -4 route show "$SCALE_VIP/32" | grep -oE "via 10\.0\.0\.1[0-9]" | sort | tr '\n' ' '; }
# Seconds until `cond` holds (polling every 0.01 s), failing after $1 s.
scale_wait() {
  local limit=$1 what=$2 t0
  shift 2
  t0=$(date +%s.%N)
  until "$@"; do
    (($(echo "$(date +%s.%N) - $t0 > $limit" | bc))) && e2e_fail "$what: not within $limit s (route: $(scale_hops))"
    sleep 0.01
  done
  echo "$(date +%s.%N) - $t0" | bc
}
scale_hops_are() { [[ $(scale_hops) == "$1" ]]; }
scale_start_director() {  # i
  e2e_vsrouter "d$1" "$E2E_DIR/d$1.toml"
  SCALE_PID[$1]=${E2E_PIDS[-1]}
}
scale_ctl() { timeout 5 ip netns exec "$(ns sw)" "$VSADM" --control "$E2E_DIR/control-d$1.sock" "${@:2}"; }
e2e_topology_scale() {  # DIRECTORS REALS
  local DIRECTORS=$1 REALS=$2 i REAL_LIST ALL
e2e_netns sw
e2e_bridge br0
e2e_host rtr br0 10.0.0.1/24
# The router hashes the 5-tuple (policy 3, fields 0x0037: addresses, protocol, ports) over the
# next hops: the same flow keeps its director while the set does not change.
in_ns rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=3 \
  net.ipv4.fib_multipath_hash_fields=0x0037 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
e2e_make_blob
# A real answers each line of a connection on port 7000 with its name and the line.
REAL_LIST=""
for ((i = 1; i <= REALS; i++)); do
  e2e_host "r$i" br0 "10.0.0.2$i/24" 10.0.0.1
  e2e_real "r$i" "$SCALE_VIP"
  e2e_named_echo "r$i"
  REAL_LIST+="${REAL_LIST:+, }{ address = \"10.0.0.2$i:0\", method = \"dr\" }"
done
for ((i = 1; i <= REALS; i++)); do e2e_wait_real "r$i"; done

cat >"$E2E_DIR/rtr.conf" <<CONF
router id 10.0.0.1;
protocol device { }
protocol kernel { ipv4 { import none; export all; }; merge paths yes; }
template bgp lb {
  local as 65000;
  ipv4 { import filter { if net ~ [ 10.99.99.0/24+ ] then accept; reject; }; export none; };
  hold time 3; keepalive time 1; connect retry time 1;
}
CONF
for ((i = 1; i <= DIRECTORS; i++)); do
  echo "protocol bgp d$i from lb { neighbor 10.0.0.3$i as 6500$i; }" >>"$E2E_DIR/rtr.conf"
done
e2e_bird rtr "$E2E_DIR/rtr.conf"
for ((i = 1; i <= DIRECTORS; i++)); do
  e2e_tap "vsd-d$i" br0
  e2e_host "b$i" br0 "10.0.0.3$i/24"
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
  e2e_bird "b$i" "$E2E_DIR/b$i.conf"
  # Two services on the VIP: HTTP (80, announce's curl) and the reals' line echo (7000, failover).
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
mh_sorted = true

[[services]]
protocol = "tcp"
address = "$SCALE_VIP:80"
scheduler = "mh"
reals = [$(sed 's/:0"/:80"/g' <<<"$REAL_LIST")]

[[services]]
protocol = "tcp"
address = "$SCALE_VIP:7000"
scheduler = "mh"
flags = ["mh-port"]   # one client, many ports: spread over the reals by port too
reals = [$(sed 's/:0"/:7000"/g' <<<"$REAL_LIST")]

[announce]
file = "$E2E_DIR/d$i-vips.conf"
next_hop = "10.0.0.1$i"
command = "/usr/sbin/birdc -s $E2E_DIR/b$i.ctl configure"
stop_delay = 1
CONF
done
ALL=""
for ((i = 1; i <= DIRECTORS; i++)); do
  scale_start_director "$i"
  ALL+="via 10.0.0.1$i "
done
scale_wait 20 "the router's ECMP route over every director" scale_hops_are "$ALL" >/dev/null || exit 1
e2e_log "the router's route to $SCALE_VIP: $(in_ns rtr ip -4 route show "$SCALE_VIP/32" | tr -s ' \n\t' ' ')"
grep -q "route $SCALE_VIP/32 via 10.0.0.11;" "$E2E_DIR/d1-vips.conf" || e2e_fail "d1's file: $(cat "$E2E_DIR/d1-vips.conf")"
grep -q "announce $SCALE_VIP (healthy)" "$E2E_DIR/vsrouter-d1.log" || e2e_fail "d1 did not log its announcement"
}

#!/usr/bin/env bash
# vsrouter as an IPv6 router between two unmodified Linux hosts (docs/ipv6.md). Usage:
# ipv6.sh MODE VSROUTER, MODE one of:
#   router     IPv6 only:
#                cli 2001:db8:1::2/64 --- wan 2001:db8:1::1 (TAP vs6-wan)  [vsrouter]
#                                         lan 2001:db8:2::1 (TAP vs6-lan, MTU 1400) --- srv 2001:db8:2::2/64
#              (srv also holds 2001:db8:2::fe on eth0 and 2001:db8:9::1 on lo: the static route
#              2001:db8:9::/48 via 2001:db8:2::fe). Duplicate Address Detection holds the
#              router's addresses at least 1 s, unanswered; then the client pings the router's global and
#              link-local addresses, the server and the static route's host; a 1 MiB TCP echo
#              crosses both ways; ping gets Time exceeded (hop limit 1), Destination unreachable
#              (No route, Address unreachable, Beyond scope) and Packet too big (mtu=1400, which
#              the client's kernel then keeps as the route's PMTU and fragments by); UDP to the
#              router's address gets port unreachable and TCP a RST; `vsadm --list-ipv6` shows
#              the addresses preferred and the hosts REACHABLE; the metrics count it all.
#   dualstack  the same topology with IPv4 too (cli 10.0.1.2/24, srv 10.0.2.2/24, vsrouter .1 on
#              each): after DAD as above, both families ping across at the same time, a 1 MiB
#              TCP echo crosses in each family at the same time, and both counters grow.
#   tunnel     the dualstack topology, the server also holding the VIPs 2001:db8:100::1 and
#              192.168.100.1 on lo (vsrouter routes them to it): vsrouter as a real server's
#              tunnel endpoint (IPVS TUN, ip_vs_tunnel_xmit_v6). The client, as the director,
#              builds with Scapy (no ip6tnl/sit/ipip here) UDP to the VIPs tunnelled to the
#              router's wan address: IPv6 in IPv6, IPv4 in IPv6 and IPv6 in IPv4. The server gets
#              each inner datagram from the inner source and its answer comes back routed; a
#              tunnel inside a tunnel is not delivered and counted (drop ipip_nested).
#   services   IPv6 virtual services (docs/ipv6.md): the router topology with a second real
#              srv2 2001:db8:2::3 beside srv; VIP 2001:db8:1::80 on wan's link (vsrouter answers
#              the client's Neighbour Solicitation for it). Port 80 by NAT to [srv]:8080 and
#              [srv2]:8080, port 81 by DR to both (each holds the VIP on lo and answers from it),
#              rr: the client's curl -6 requests alternate between the reals in both, every answer
#              from the VIP; a port without a service gets a RST from the VIP (curl: refused);
#              vsadm -Ln and -Lnc list the services and connections in ipvsadm's [v6]:port form.
#   tun        IPv6 and IPv4 virtual services by TUN, across the families too (dual-stack; the
#              kernel allows a real of the other family only behind a tunnel): the dualstack
#              director (wan 2001:db8:1::1/10.0.1.1, lan 2001:db8:2::1/10.0.2.1, MTU 1400), VIPs
#              2001:db8:1::80 and 10.0.1.80 on wan's link. The real is a tunnel endpoint, a second
#              vsrouter (no ip6tnl/sit/ipip in this kernel), in front of the server:
#                lan --- up 2001:db8:2::2, 10.0.2.2 (TAP vs6-eup)  [vsrouter: endpoint]
#                        srv 2001:db8:3::1, 10.0.3.1 (TAP vs6-esrv) --- srv 2001:db8:3::2, 10.0.3.2
#                                                                       (both VIPs on lo)
#                wan --- out 2001:db8:1::21, 10.0.1.21 (TAP vs6-eout): the server's answers
#              [VIP6]:80 and 10.0.1.80:80 go to the endpoint's IPv6 address (IPv6 in IPv6, IPv4
#              in IPv6), [VIP6]:81 and 10.0.1.80:81 to its IPv4 one (IPv6 in IPv4, IPIP). The
#              client's curl -6/-4 to each is answered by the server, which saw the client's own
#              address at the VIP; 1 MiB uploaded to each crosses the tunnels after the Packet Too
#              Big / fragmentation needed the director sends (the tunnel's MTU is 1400 - 40 or 20)
#              and the client's kernel heeds; vsadm -Lnc lists the reals of either family.
#   tun6       the same with IPv6 only (no IPv4 address anywhere): [VIP6]:80 by TUN to the
#              endpoint's IPv6 address (IPv6 in IPv6).
# The hosts' kernels run no DAD (accept_dad=0): only vsrouter's is waited for. Needs root (skips
# loudly outside CI; fails under CI=true) and ping (iputils-ping, scripts/setup installs it);
# tunnel needs Scapy for $PY (/usr/bin/python3).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1
VSROUTER=$(realpath "$2")
VSADM=$(dirname "$VSROUTER")/vsadm
source "$HERE/lib.sh"
e2e_require_root
trap e2e_cleanup EXIT
case $MODE in
  router | dualstack | tunnel | services | tun | tun6) ;;
  *) e2e_fail "unknown mode $MODE" ;;
esac
command -v ping >/dev/null || e2e_fail "ping is not installed (scripts/setup installs iputils-ping)"
[[ $MODE != tunnel ]] || "$PY" -c "import scapy.all" 2>/dev/null || e2e_fail "Scapy is not installed for $PY"

WAN_MAC=02:00:00:00:00:01 LAN_MAC=02:00:00:00:00:02
WAN_LL=fe80::ff:fe00:1 LAN_LL=fe80::ff:fe00:2   # the link-local addresses formed from the MACs
R1=2001:db8:1::1 R2=2001:db8:2::1 CLI6=2001:db8:1::2 SRV6=2001:db8:2::2
R1_4=10.0.1.1 R2_4=10.0.2.1 CLI4=10.0.1.2 SRV4=10.0.2.2
VIP6=2001:db8:100::1 VIP4=192.168.100.1   # tunnel: the server's VIPs on its lo
SRV6_2=2001:db8:2::3 SVC_VIP=2001:db8:1::80   # services: the second real, the VIP
E_UP6=2001:db8:2::2 E_UP4=10.0.2.2 SVC_VIP4=10.0.1.80   # tun: the endpoint's lan addresses, the IPv4 VIP
METRICS=127.0.0.1:9811
passed=0
pass() { passed=$((passed + 1)); e2e_log "ok: $*"; }

# A host on a bridge of the switch, its kernel without DAD: host6 NAME BRIDGE MTU ADDR6/LEN GW6
# [ADDR4/LEN GW4]. accept_dad=0 on eth0 before it is up covers the link-local address too.
host6() {
  local name=$1 br=$2 mtu=$3 a6=$4 gw6=$5 a4=${6:-} gw4=${7:-}
  e2e_netns "$name"
  local port="$name-$br"
  ip link add "${port:0:15}" netns "$(ns sw)" type veth peer name eth0 netns "$(ns "$name")" ||
    e2e_fail "cannot create veth for $name"
  in_ns sw ip link set "${port:0:15}" mtu "$mtu" master "$br" up
  in_ns "$name" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 net.ipv6.conf.default.accept_dad=0 ||
    e2e_fail "$name: cannot turn DAD off"
  in_ns "$name" ip link set eth0 mtu "$mtu" up
  in_ns "$name" ip -6 addr add "$a6" dev eth0 || e2e_fail "$name: cannot add $a6"
  in_ns "$name" ip -6 route add default via "$gw6" dev eth0 || e2e_fail "$name: no default route via $gw6"
  if [[ -n $a4 ]]; then
    in_ns "$name" ip -4 addr add "$a4" dev eth0 || e2e_fail "$name: cannot add $a4"
    in_ns "$name" ip -4 route add default via "$gw4" || e2e_fail "$name: no default route via $gw4"
  fi
}

# The switch: two bridges (no IPv6 of their own: only the hosts and vsrouter are on the links),
# the TAPs (lan's at 1400, as its link), the client and the server.
e2e_netns sw
for br in br-wan br-lan; do
  e2e_bridge "$br"
  in_ns sw sysctl -qw "net.ipv6.conf.$br.disable_ipv6=1"
done
e2e_tap vs6-wan br-wan
e2e_tap vs6-lan br-lan
in_ns sw ip link set vs6-lan mtu 1400
if [[ $MODE == dualstack || $MODE == tunnel ]]; then
  host6 cli br-wan 1500 "$CLI6/64" "$R1" "$CLI4/24" "$R1_4"
  host6 srv br-lan 1400 "$SRV6/64" "$R2" "$SRV4/24" "$R2_4"
  if [[ $MODE == tunnel ]]; then
    in_ns srv ip -6 addr add "$VIP6/128" dev lo || e2e_fail "srv: cannot add $VIP6"
    in_ns srv ip -4 addr add "$VIP4/32" dev lo || e2e_fail "srv: cannot add $VIP4"
  fi
elif [[ $MODE == tun || $MODE == tun6 ]]; then
  e2e_bridge br-srv
  in_ns sw sysctl -qw net.ipv6.conf.br-srv.disable_ipv6=1
  e2e_tap vs6-eup br-lan
  e2e_tap vs6-esrv br-srv
  e2e_tap vs6-eout br-wan
  in_ns sw ip link set vs6-eup mtu 1400
  if [[ $MODE == tun ]]; then
    host6 cli br-wan 1500 "$CLI6/64" "$R1" "$CLI4/24" "$R1_4"
    host6 srv br-srv 1500 2001:db8:3::2/64 2001:db8:3::1 10.0.3.2/24 10.0.3.1
    in_ns srv ip -4 addr add "$SVC_VIP4/32" dev lo || e2e_fail "srv: cannot add $SVC_VIP4"
  else
    host6 cli br-wan 1500 "$CLI6/64" "$R1"
    host6 srv br-srv 1500 2001:db8:3::2/64 2001:db8:3::1
  fi
  in_ns srv ip -6 addr add "$SVC_VIP/128" dev lo || e2e_fail "srv: cannot add $SVC_VIP"
elif [[ $MODE == services ]]; then
  host6 cli br-wan 1500 "$CLI6/64" "$R1"
  host6 srv br-lan 1400 "$SRV6/64" "$R2"
  host6 srv2 br-lan 1400 "$SRV6_2/64" "$R2"
  for h in srv srv2; do in_ns "$h" ip -6 addr add "$SVC_VIP/128" dev lo || e2e_fail "$h: cannot add the VIP"; done
else
  host6 cli br-wan 1500 "$CLI6/64" "$R1"
  host6 srv br-lan 1400 "$SRV6/64" "$R2"
  # The static route's next hop (a second address on the server) and a host behind it.
  in_ns srv ip -6 addr add 2001:db8:2::fe/64 dev eth0
  in_ns srv ip -6 addr add 2001:db8:9::1/128 dev lo
fi
CLI_MAC=$(in_ns cli cat /sys/class/net/eth0/address)
SRV_MAC=$(in_ns srv cat /sys/class/net/eth0/address)

# The server's TCP echo on port 7000 of every address, both families (a v4-mapped socket).
in_ns srv "$PY" -c "
import socket, threading
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(('::', 7000)); s.listen(16)
def serve(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
" >"$E2E_DIR/echo-srv.log" 2>&1 &
e2e_wait_listening srv t 7000

# vsrouter: wan and lan, IPv6 (and IPv4 in dualstack); lan's MTU 1400.
{
  echo "# tests/e2e/ipv6.sh $MODE"
  for itf in wan lan; do
    if [[ $itf == wan ]]; then mac=$WAN_MAC a6=$R1 a4=$R1_4; else mac=$LAN_MAC a6=$R2 a4=$R2_4; fi
    addrs="\"$a6/64\""
    [[ $MODE != router && $MODE != tun6 ]] && addrs+=", \"$a4/24\""
    printf '\n[[interfaces]]\nname = "%s"\ntap = "vs6-%s"\nmac = "%s"\naddresses = [%s]\n' "$itf" "$itf" "$mac" "$addrs"
    [[ $itf == lan ]] && echo "mtu = 1400"
  done
  [[ $MODE == router ]] && printf '\n[[routes]]\nto = "2001:db8:9::/48"\nvia = "2001:db8:2::fe"\n'
  if [[ $MODE == tun6 ]]; then
    printf '\n[[services]]\nprotocol = "tcp"\naddress = "[%s]:80"\n' "$SVC_VIP"
    printf '  [[services.reals]]\n  address = "[%s]:80"\n  method = "tun"\n' "$E_UP6"
  fi
  if [[ $MODE == tun ]]; then
    for vip in "[$SVC_VIP]" "$SVC_VIP4"; do
      printf '\n[[services]]\nprotocol = "tcp"\naddress = "%s:80"\n' "$vip"
      printf '  [[services.reals]]\n  address = "[%s]:80"\n  method = "tun"\n' "$E_UP6"
      printf '\n[[services]]\nprotocol = "tcp"\naddress = "%s:81"\n' "$vip"
      printf '  [[services.reals]]\n  address = "%s:81"\n  method = "tun"\n' "$E_UP4"
    done
  fi
  [[ $MODE == tunnel ]] && printf '\n[[routes]]\nto = "%s/128"\nvia = "%s"\n' "$VIP6" "$SRV6" &&
    printf '\n[[routes]]\nto = "%s/32"\nvia = "%s"\n' "$VIP4" "$SRV4"
  if [[ $MODE == services ]]; then
    printf '\n[[services]]\nprotocol = "tcp"\naddress = "[%s]:80"\nscheduler = "rr"\n' "$SVC_VIP"
    for r in "$SRV6" "$SRV6_2"; do printf '  [[services.reals]]\n  address = "[%s]:8080"\n  method = "nat"\n' "$r"; done
    printf '\n[[services]]\nprotocol = "tcp"\naddress = "[%s]:81"\nscheduler = "rr"\n' "$SVC_VIP"
    for r in "$SRV6" "$SRV6_2"; do printf '  [[services.reals]]\n  address = "[%s]:81"\n  method = "dr"\n' "$r"; done
  fi
} >"$E2E_DIR/ipv6.toml"

if [[ $MODE == tun || $MODE == tun6 ]]; then
  # The endpoint: what a real's ip6tnl/sit/ipip devices would do, then routes to the server
  # (IPv6 only in tun6: no IPv4 address or route).
  v4() { if [[ $MODE == tun ]]; then printf '%s' "$1"; fi; }
  cat >"$E2E_DIR/endpoint.toml" <<EOF
[router]
seed = 2
[[interfaces]]
name = "up"
tap = "vs6-eup"
mac = "02:00:00:00:0e:01"
addresses = ["$E_UP6/64"$(v4 ", \"$E_UP4/24\"")]
mtu = 1400
[[interfaces]]
name = "srv"
tap = "vs6-esrv"
mac = "02:00:00:00:0e:02"
addresses = ["2001:db8:3::1/64"$(v4 ', "10.0.3.1/24"')]
[[interfaces]]
name = "out"
tap = "vs6-eout"
mac = "02:00:00:00:0e:03"
addresses = ["2001:db8:1::21/64"$(v4 ', "10.0.1.21/24"')]
[[routes]]
to = "$SVC_VIP/128"
via = "2001:db8:3::2"
$(v4 "[[routes]]
to = \"$SVC_VIP4/32\"
via = \"10.0.3.2\"")
EOF
  e2e_vsrouter endpoint "$E2E_DIR/endpoint.toml"
fi

vsadm() { timeout 10 ip netns exec "$(ns sw)" "$VSADM" --control "$E2E_DIR/control-router.sock" "$@"; }
metrics() { timeout 5 ip netns exec "$(ns sw)" curl -sf --max-time 3 "http://$METRICS/metrics"; }
metric() { awk -v m="$1" '$1 == m {print $2}' <<<"$2"; }  # NAME (with labels) METRICS-TEXT
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }  # A >= B (decimals)

# 1. Duplicate Address Detection: every address tentative for 1 s (RetransTimer) after the
#    start, then preferred. Polled through the control socket (no sleep of a guessed length).
t0=$(now)
e2e_vsrouter router "$E2E_DIR/ipv6.toml" --metrics "$METRICS"
want_addrs=("wan $WAN_LL/64" "wan $R1/64" "lan $LAN_LL/64" "lan $R2/64")
# While tentative (RFC 4862 5.4), the address is not answered: no NA, so no echo either. Checked
# only when the listing says tentative both before and after the probe (no race with DAD's end).
during="not probed: DAD was over first"
if vsadm --list-ipv6 | grep -qE "^wan +$R1/64 +tentative$"; then
  out=$(in_ns cli ping -n -c 1 -W 0.3 "$R1" 2>&1)
  if vsadm --list-ipv6 | grep -qE "^wan +$R1/64 +tentative$"; then
    grep -q " 0 received" <<<"$out" || e2e_fail "the client reached $R1 while it was tentative:"$'\n'"$out"
    during="not answered while tentative"
  fi
fi
seen_tentative=no
while :; do
  list=$(vsadm --list-ipv6) || e2e_fail "vsadm --list-ipv6 failed: $list"
  took=$(since "$t0")
  grep -q " tentative$" <<<"$list" && seen_tentative=yes
  [[ $(grep -c " preferred$" <<<"$list") -eq ${#want_addrs[@]} ]] && break
  ge "$took" 5 && break
  sleep 0.05
done
for a in "${want_addrs[@]}"; do
  grep -qE "^${a%% *} +${a#* } +preferred$" <<<"$list" ||
    e2e_fail "--list-ipv6 does not show ${a#* } on ${a%% *} preferred within 5 s:"$'\n'"$list"
done
ge "$took" 1.0 || e2e_fail "the addresses were preferred $took s after the start: DAD (1 s) was skipped"
pass "DAD: the 4 addresses preferred $took s after the start (tentative seen: $seen_tentative; $R1 $during)"

# ping COUNT ARGS... in NAME's namespace: the output; fails unless every echo was answered.
ping_ok() {  # name count args...
  local name=$1 count=$2 out
  shift 2
  out=$(in_ns "$name" ping -n -c "$count" -i 0.2 -W 2 "$@" 2>&1)
  grep -q "$count packets transmitted, $count received" <<<"$out" ||
    e2e_fail "$name: ping $* did not get $count answers:"$'\n'"$out"
  echo "$out"
}
# ping ARGS... in NAME's namespace, expecting the error TEXT from FROM (one probe).
ping_error() {  # name from text args...
  local name=$1 from=$2 text=$3 out
  shift 3
  out=$(in_ns "$name" ping -n -c 1 -W 5 "$@" 2>&1)
  grep -q "^From $from icmp_seq=1 $text" <<<"$out" ||
    e2e_fail "$name: ping $* should get '$text' from $from:"$'\n'"$out"
  grep -m1 "^From" <<<"$out"
}
rtt() { grep -oE "rtt min/avg/max/mdev = [0-9./]+ ms" <<<"$1"; }

if [[ $MODE == dualstack ]]; then
  # 2. Both families at the same time: pings across both ways, then 1 MiB TCP echoes.
  ping_ok cli 3 -4 "$R1_4" >/dev/null
  ping_ok cli 3 -6 "$R1" >/dev/null
  pass "the router answers ping on $R1_4 and $R1"
  pids=()
  for fam in 4 6; do
    for dir in cli srv; do
      if [[ $dir == cli ]]; then dst=$([[ $fam == 4 ]] && echo "$SRV4" || echo "$SRV6"); else
        dst=$([[ $fam == 4 ]] && echo "$CLI4" || echo "$CLI6"); fi
      in_ns "$dir" ping -"$fam" -n -c 20 -i 0.05 -W 2 "$dst" >"$E2E_DIR/ping-$dir-$fam.out" 2>&1 &
      pids+=($!)
    done
  done
  wait "${pids[@]}"
  for fam in 4 6; do
    for dir in cli srv; do
      grep -q "20 packets transmitted, 20 received" "$E2E_DIR/ping-$dir-$fam.out" ||
        e2e_fail "$dir: ping -$fam across lost echoes while the other family pinged too:"$'\n'"$(cat "$E2E_DIR/ping-$dir-$fam.out")"
    done
  done
  pass "20 pings each way in each family at the same time, none lost"
fi

# TCP: 1 MiB to the server's echo and back, intact: tcp_echo ADDRESS -> "N bytes each way in T s"
tcp_echo() {
  in_ns cli "$PY" - "$1" <<'PYEOF'
import hashlib, os, socket, sys, threading, time
data = os.urandom(1 << 20)
t = time.monotonic()
c = socket.create_connection((sys.argv[1], 7000), timeout=10)
sender = threading.Thread(target=lambda: (c.sendall(data), c.shutdown(socket.SHUT_WR)))
sender.start()
got = bytearray()
while True:
    d = c.recv(65536)
    if not d:
        break
    got += d
sender.join()
if hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
    print(f"sent {len(data)} bytes, got {len(got)} back, different"); sys.exit(1)
print(f"{len(data)} bytes each way in {time.monotonic() - t:.2f} s")
PYEOF
}

if [[ $MODE == dualstack ]]; then
  tcp_echo "$SRV4" >"$E2E_DIR/tcp4.out" 2>&1 &
  p4=$!
  tcp_echo "$SRV6" >"$E2E_DIR/tcp6.out" 2>&1 &
  p6=$!
  wait "$p4" || e2e_fail "TCP over IPv4 across: $(cat "$E2E_DIR/tcp4.out")"
  wait "$p6" || e2e_fail "TCP over IPv6 across: $(cat "$E2E_DIR/tcp6.out")"
  pass "TCP at the same time: IPv4 $(cat "$E2E_DIR/tcp4.out"); IPv6 $(cat "$E2E_DIR/tcp6.out")"
  # Each family's neighbour: ARP and ND both resolved the hosts.
  list=$(vsadm --list-ipv6)
  for n in "$CLI6 wan $CLI_MAC" "$SRV6 lan $SRV_MAC"; do
    read -r ip itf mac <<<"$n"
    grep -qE "^$ip +$itf +$mac +REACHABLE$" <<<"$list" || e2e_fail "--list-ipv6 lacks $ip on $itf at $mac REACHABLE:"$'\n'"$list"
  done
  m=$(metrics) || e2e_fail "no metrics on $METRICS"
  f4=$(metric vsrouter_forwarded_packets_total "$m")
  f6=$(metric vsrouter_ipv6_forwarded_packets_total "$m")
  ((${f4:-0} > 0 && ${f6:-0} > 0)) || e2e_fail "forwarded packets: IPv4 ${f4:-none}, IPv6 ${f6:-none}"
  pass "--list-ipv6 has both hosts REACHABLE; forwarded $f4 IPv4 and $f6 IPv6 packets"
  echo "$passed passed, 0 failed"
  exit 0
fi

if [[ $MODE == services ]]; then
  # 2. Each real serves HTTP on 8080 (NAT) and on the VIP's port 81 (DR), saying who it is and
  #    which address the request came to and from.
  for h in srv srv2; do
    in_ns "$h" "$PY" - "$h" >"$E2E_DIR/http-$h.log" 2>&1 <<'PYEOF' &
import http.server, socket, sys, threading
name = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{name} {self.server.server_address[1]} from {self.client_address[0]} to {self.connection.getsockname()[0]}\n".encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
for port in (8080, 81):
    threading.Thread(target=S(("::", port), H).serve_forever, daemon=True).start()
threading.Event().wait()
PYEOF
    e2e_wait_listening "$h" t 8080
    e2e_wait_listening "$h" t 81
  done
  get() { in_ns cli curl -6 -sS --max-time 3 "http://[$SVC_VIP]:$1/"; }
  for port in 80 81; do
    seen=""
    for i in 1 2 3 4; do
      out=$(get "$port") || e2e_fail "curl to [$SVC_VIP]:$port ($i) failed: $out"
      seen+="${out%% *} "
      [[ $out == *" from $CLI6 to "* ]] || e2e_fail "port $port: the real did not see the client's address: $out"
      if [[ $port == 81 ]]; then
        [[ $out == *" to $SVC_VIP" ]] || e2e_fail "DR: the real was not asked at the VIP: $out"
      fi
    done
    # rr over the two reals, newest first: srv2 (added last), srv, srv2, srv.
    [[ $seen == "srv2 srv srv2 srv " ]] || e2e_fail "port $port: the reals answered in the order '$seen', want rr's 'srv2 srv srv2 srv'"
    pass "port $port ($([[ $port == 80 ]] && echo NAT || echo DR)): 4 requests to [$SVC_VIP]:$port answered by $seen(rr)"
  done
  out=$(in_ns cli curl -6 -sS --max-time 3 "http://[$SVC_VIP]:82/" 2>&1) && e2e_fail "port 82 has no service but answered: $out"
  # curl says "refused" or (7.88) "Couldn't connect to server" for ECONNREFUSED; a lost SYN would time out.
  [[ $out == *"refused"* || $out == *"Couldn't connect to server"* ]] ||
    e2e_fail "port 82: want the RST of the VIP (connection refused), got: $out"
  pass "a port without a service: $out"
  ln=$(vsadm -Ln) || e2e_fail "vsadm -Ln failed"
  for want in "TCP  \[$SVC_VIP\]:80 rr" "TCP  \[$SVC_VIP\]:81 rr" "-> \[$SRV6\]:8080 +Masq" "-> \[$SRV6_2\]:81 +Route"; do
    grep -qE -- "$want" <<<"$ln" || e2e_fail "vsadm -Ln lacks /$want/:"$'\n'"$ln"
  done
  lnc=$(vsadm -Lnc) || e2e_fail "vsadm -Lnc failed"
  n=$(grep -cE "^TCP .* \[$CLI6\]:[0-9]+ +\[$SVC_VIP\]:8[01] " <<<"$lnc")
  ((n == 8)) || e2e_fail "vsadm -Lnc: $n entries of the client's 8 connections:"$'\n'"$lnc"
  e2e_log "vsadm -Ln:"$'\n'"$ln"
  pass "vsadm -Ln lists both services in ipvsadm's [v6]:port form, -Lnc the client's 8 connections"
  echo "$passed passed, 0 failed"
  exit 0
fi

if [[ $MODE == tun || $MODE == tun6 ]]; then
  # 2. The server's HTTP on ports 80 and 81 of both VIPs (one dual-stack socket each): a GET says
  #    which port was asked at which address from which client; a POST counts what it got.
  in_ns srv "$PY" - >"$E2E_DIR/http-srv.log" 2>&1 <<'PYEOF' &
import http.server, socket, threading
class H(http.server.BaseHTTPRequestHandler):
    def answer(self, body):
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.answer(f"port {self.server.server_address[1]} from {self.client_address[0]} to {self.connection.getsockname()[0]}\n".encode())
    def do_POST(self):
        n, left = 0, int(self.headers["Content-Length"])
        while left:
            d = self.rfile.read(min(left, 65536))
            if not d:
                break
            n, left = n + len(d), left - len(d)
        self.answer(f"got {n}\n".encode())
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
for port in (80, 81):
    threading.Thread(target=S(("::", port), H).serve_forever, daemon=True).start()
threading.Event().wait()
PYEOF
  e2e_wait_listening srv t 80
  e2e_wait_listening srv t 81
  head -c $((1 << 20)) /dev/zero >"$E2E_DIR/upload"
  fams="6 4" ports="80 81"
  [[ $MODE == tun6 ]] && fams=6 ports=80
  for fam in $fams; do
    if [[ $fam == 6 ]]; then vip="[$SVC_VIP]" shown=$SVC_VIP client=$CLI6; else vip=$SVC_VIP4 shown="::ffff:$SVC_VIP4" client="::ffff:$CLI4"; fi
    for port in $ports; do
      how=$([[ $port == 80 ]] && echo "to the endpoint's IPv6 address" || echo "to the endpoint's IPv4 address")
      out=$(in_ns cli curl -"$fam" -sS --max-time 5 "http://$vip:$port/" 2>&1) || e2e_fail "curl $vip:$port ($how) failed: $out"
      want="port $port from $client to $shown"
      [[ $out == "$want" ]] || e2e_fail "curl $vip:$port: the server answered '$out', want '$want' (the client's own address, at the VIP)"
      out=$(in_ns cli curl -"$fam" -sS --max-time 20 --data-binary "@$E2E_DIR/upload" "http://$vip:$port/" 2>&1) ||
        e2e_fail "1 MiB to $vip:$port ($how) failed: $out"
      [[ $out == "got $((1 << 20))" ]] || e2e_fail "1 MiB to $vip:$port: the server $out"
      pass "$vip:$port by TUN $how: the server saw $client at the VIP; 1 MiB uploaded whole"
    done
  done
  # The client's kernel learnt the tunnels' MTU from the director's errors (the last upload, over
  # IPv4 in IPv4, sets the IPv4 route's; IPv6's was set by the IPv6 tunnels: 1400 - 40 or - 20).
  pmtu6=$(in_ns cli ip -6 route get "$SVC_VIP" | grep -oE 'mtu [0-9]+' || true)
  [[ $pmtu6 == "mtu 1360" || $pmtu6 == "mtu 1380" ]] || e2e_fail "the client's route to $SVC_VIP has '$pmtu6', want the tunnel's 1360 or 1380"
  m=$(metrics) || e2e_fail "no metrics on $METRICS"
  fn=$(metric 'vsrouter_drops_total{reason="frag_needed"}' "$m")
  ((${fn:-0} > 0)) || e2e_fail "the director sent no Packet Too Big / fragmentation needed (drops frag_needed ${fn:-missing})"
  tm=$(metric 'vsrouter_drops_total{reason="tunnel_mtu"}' "$m")
  ((${tm:-0} == 0)) || e2e_fail "drops tunnel_mtu $tm"
  pass "the client's PMTU toward $SVC_VIP: $pmtu6 (the director's too-big errors: $fn)"
  lnc=$(vsadm -Lnc) || e2e_fail "vsadm -Lnc failed"
  wants=("\[$CLI6\]:[0-9]+ +\[$SVC_VIP\]:80 +\[$E_UP6\]:80")
  [[ $MODE == tun ]] && wants+=("\[$CLI6\]:[0-9]+ +\[$SVC_VIP\]:81 +$E_UP4:81" \
    "$CLI4:[0-9]+ +$SVC_VIP4:80 +\[$E_UP6\]:80" "$CLI4:[0-9]+ +$SVC_VIP4:81 +$E_UP4:81")
  for want in "${wants[@]}"; do
    grep -qE -- "$want" <<<"$lnc" || e2e_fail "vsadm -Lnc lacks /$want/:"$'\n'"$lnc"
  done
  pass "vsadm -Lnc lists the connections to the reals of either family"
  echo "$passed passed, 0 failed"
  exit 0
fi

if [[ $MODE == tunnel ]]; then
  # 2. The server's UDP on port 5353 of each VIP: each datagram logged with its source, answered
  #    "re:" and the datagram, straight back (routed through vsrouter as any traffic).
  in_ns srv "$PY" - "$VIP6" "$VIP4" >"$E2E_DIR/tun-srv.log" 2>&1 <<'PYEOF' &
import select, socket, sys
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s6.bind((sys.argv[1], 5353))
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s4.bind((sys.argv[2], 5353))
while True:
    for s in select.select([s6, s4], [], [])[0]:
        data, peer = s.recvfrom(2048)
        print(data.decode(errors="replace"), "from", peer[0], peer[1], flush=True)
        s.sendto(b"re:" + data, peer)
PYEOF
  e2e_wait_listening srv u 5353
  # Each family across first: vsrouter has both hosts' link-layer addresses before the tunnels.
  ping_ok cli 3 -6 "$SRV6" >/dev/null
  ping_ok cli 3 -4 "$SRV4" >/dev/null
  pass "ping across in both families"

  # 3. The director's packets, from the client, to the router's wan addresses: first a tunnel in a
  #    tunnel (not delivered: one level is decapsulated), then the three tunnels, whose answers
  #    come back to the client's sockets on the inner source ports.
  out=$(in_ns cli "$PY" - "$CLI_MAC" "$WAN_MAC" "$CLI6" "$R1" "$CLI4" "$R1_4" "$VIP6" "$VIP4" 2>&1 <<'PYEOF'
import select, socket, sys, time
from scapy.all import IP, UDP, Ether, IPv6, sendp
cli_mac, r_mac, cli6, r1, cli4, r1_4, vip6, vip4 = sys.argv[1:]
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s6.bind((cli6, 40006))
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s4.bind((cli4, 40004))
eth = Ether(src=cli_mac, dst=r_mac)
def udp6(payload):
    return IPv6(src=cli6, dst=vip6) / UDP(sport=40006, dport=5353) / payload
sendp(eth / IPv6(src=cli6, dst=r1, nh=41) / IPv6(src=cli6, dst=r1, nh=41) / udp6(b"nested"),
      iface="eth0", verbose=False)
sendp([eth / IPv6(src=cli6, dst=r1, nh=41) / udp6(b"six-in-six"),
       eth / IPv6(src=cli6, dst=r1, nh=4) / IP(src=cli4, dst=vip4) / UDP(sport=40004, dport=5353) / b"four-in-six",
       eth / IP(src=cli4, dst=r1_4, proto=41) / udp6(b"six-in-four")], iface="eth0", verbose=False)
want = {b"re:six-in-six": vip6, b"re:four-in-six": vip4, b"re:six-in-four": vip6}
got = {}
deadline = time.monotonic() + 5
while len(got) < len(want) and time.monotonic() < deadline:
    for s in select.select([s6, s4], [], [], max(0, deadline - time.monotonic()))[0]:
        data, peer = s.recvfrom(2048)
        got[data] = peer[0]
if got != want:
    print(f"answers {got}, expected {want}"); sys.exit(1)
print("answers from " + ", ".join(f"{v} ({k.decode()[3:]})" for k, v in got.items()))
PYEOF
) || e2e_fail "the tunnelled datagrams' answers: $out"
  # The three inner datagrams reached the server from their inner sources; the nested one did not.
  for want in "six-in-six from $CLI6 40006" "four-in-six from $CLI4 40004" "six-in-four from $CLI6 40006"; do
    grep -qx "$want" "$E2E_DIR/tun-srv.log" || e2e_fail "the server lacks '$want':"$'\n'"$(cat "$E2E_DIR/tun-srv.log")"
  done
  pass "decapsulated and routed to the VIPs, from the inner sources: IPv6 in IPv6, IPv4 in IPv6, IPv6 in IPv4"
  pass "the client got the $(tail -n1 <<<"$out")"
  ! grep -q "^nested " "$E2E_DIR/tun-srv.log" || e2e_fail "a tunnel in a tunnel reached the server:"$'\n'"$(cat "$E2E_DIR/tun-srv.log")"
  [[ $(wc -l <"$E2E_DIR/tun-srv.log") -eq 3 ]] || e2e_fail "the server got other datagrams:"$'\n'"$(cat "$E2E_DIR/tun-srv.log")"
  m=$(metrics) || e2e_fail "no metrics on $METRICS"
  nested=$(metric 'vsrouter_drops_total{reason="ipip_nested"}' "$m")
  [[ $nested == 1 ]] || e2e_fail "metric vsrouter_drops_total{reason=\"ipip_nested\"} is ${nested:-missing}, expected 1"
  truncated=$(metric 'vsrouter_drops_total{reason="ipip_truncated"}' "$m")
  ((${truncated:-0} == 0)) || e2e_fail "metric vsrouter_drops_total{reason=\"ipip_truncated\"} is $truncated, expected 0"
  pass "a tunnel in a tunnel not delivered: drops ipip_nested $nested"
  echo "$passed passed, 0 failed"
  exit 0
fi

# 2. Echo: the router's addresses (global on either side, link-local on the client's link), the
#    server, the host behind the static route, and back from the server.
ping_ok cli 3 "$R1" >/dev/null
ping_ok cli 3 "$R2" >/dev/null
out=$(ping_ok cli 3 "$WAN_LL%eth0") || exit 1
ping_ok srv 3 "$LAN_LL%eth0" >/dev/null
pass "the router answers ping on $R1, $R2, $WAN_LL%eth0 (client, $(rtt "$out")) and $LAN_LL%eth0 (server)"
out=$(ping_ok cli 5 "$SRV6") || exit 1
ping_ok srv 3 "$CLI6" >/dev/null
pass "ping across both ways ($(rtt "$out"))"
hl=$(grep -oE "ttl=[0-9]+" <<<"$out" | sort -u | xargs)
[[ $hl == "ttl=63" ]] || e2e_fail "echo replies across came with $hl, expected the server's 64 minus one hop (ttl=63)"
pass "the hop limit went down by one across the router ($hl)"
ping_ok cli 3 2001:db8:9::1 >/dev/null
pass "ping through the static route 2001:db8:9::/48 via 2001:db8:2::fe"

# 3. TCP across, 1 MiB each way (MSS 1340 on the server's side, whose link is 1400).
out=$(tcp_echo "$SRV6") || e2e_fail "TCP echo across: $out"
pass "TCP across: $out"

# 4. ICMPv6 errors from the router (RFC 4443), as ping prints them.
out=$(ping_error cli "$R1" "Time exceeded: Hop limit" -t 1 "$SRV6") || exit 1
pass "hop limit 1: $out"
out=$(ping_error cli "$R1" "Destination unreachable: No route" 2001:db8:99::1) || exit 1
pass "unrouted 2001:db8:99::1: $out"
t=$(now)
out=$(ping_error cli "$R1" "Destination unreachable: Address unreachable" 2001:db8:2::99) || exit 1
took=$(since "$t")
ge "$took" 2.5 || e2e_fail "Address unreachable after $took s: not after 3 solicitations 1 s apart (RFC 4861 7.3.3)"
pass "nobody at 2001:db8:2::99: $out (after $took s: 3 solicitations 1 s apart)"
CLI_LL=$(in_ns cli ip -6 -o addr show dev eth0 scope link | grep -oE "fe80::[0-9a-f:]+")
out=$(ping_error cli "$WAN_LL%eth0" "Destination unreachable: Beyond scope" -I "$CLI_LL%eth0" "$SRV6") || exit 1
pass "from the client's link-local $CLI_LL to $SRV6: $out"

# 5. Packet Too Big: 1500 bytes for the 1400 link. The router does not fragment; the client's
#    kernel keeps the MTU for the route, then fragments to it and the fragments cross.
out=$(ping_error cli "$R1" "Packet too big: mtu=1400" -M do -s 1452 "$SRV6") || exit 1
pass "1500 bytes with -M do: $out"
route=$(in_ns cli ip -6 route get "$SRV6")
grep -q " mtu 1400 " <<<"$route " || e2e_fail "the client's kernel did not take the PMTU: $route"
pass "the client's route cache: $(xargs <<<"$route")"
ping_ok cli 3 -M do -s 1352 "$SRV6" >/dev/null
ping_ok cli 3 -s 1452 "$SRV6" >/dev/null
pass "1400 bytes whole and 1500 bytes in fragments cross"

# 6. The router's own addresses: UDP gets port unreachable, TCP a RST (nothing listens).
out=$(in_ns cli "$PY" - "$R1" <<'PYEOF'
import socket, sys, time
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.settimeout(3)
u.connect((sys.argv[1], 9))
u.send(b"x")
try:
    u.recv(100); print("UDP: an answer"); sys.exit(1)
except ConnectionRefusedError:
    pass
except socket.timeout:
    print("UDP: no port unreachable within 3 s"); sys.exit(1)
t = time.monotonic()
try:
    socket.create_connection((sys.argv[1], 80), timeout=5); print("TCP: connected"); sys.exit(1)
except ConnectionRefusedError:
    pass
except socket.timeout:
    print("TCP: no RST within 5 s"); sys.exit(1)
if time.monotonic() - t > 1:
    print(f"TCP: refused after {time.monotonic() - t:.1f} s, not at once"); sys.exit(1)
print(f"UDP port 9: refused (port unreachable); TCP port 80: refused (RST) in {(time.monotonic() - t) * 1000:.1f} ms")
PYEOF
) || e2e_fail "to the router's $R1: $out"
pass "$out"

# 7. The control socket and the metrics: the neighbours REACHABLE at the hosts' MACs, the
#    addresses still preferred, and the counters of what happened.
list=$(vsadm --list-ipv6) || e2e_fail "vsadm --list-ipv6 failed"
for n in "$CLI6 wan $CLI_MAC" "$SRV6 lan $SRV_MAC" "2001:db8:2::fe lan $SRV_MAC"; do
  read -r ip itf mac <<<"$n"
  grep -qE "^$ip +$itf +$mac +REACHABLE$" <<<"$list" || e2e_fail "--list-ipv6 lacks $ip on $itf at $mac REACHABLE:"$'\n'"$list"
done
[[ $(grep -c " preferred$" <<<"$list") -eq 4 ]] || e2e_fail "--list-ipv6: addresses not all preferred:"$'\n'"$list"
e2e_log "vsadm --list-ipv6:"$'\n'"$list"
pass "--list-ipv6: 4 addresses preferred, the client, the server and the static next hop REACHABLE"
m=$(metrics) || e2e_fail "no metrics on $METRICS"
for want in vsrouter_ipv6_forwarded_packets_total vsrouter_nd_solicitations_sent_total \
  vsrouter_nd_advertisements_sent_total 'vsrouter_drops_total{reason="ttl_exceeded"}' \
  'vsrouter_drops_total{reason="no_route"}' 'vsrouter_drops_total{reason="frag_needed"}' \
  'vsrouter_drops_total{reason="local_no_service"}' 'vsrouter_drops_total{reason="ipv6_scope"}'; do
  v=$(metric "$want" "$m")
  ((${v:-0} > 0)) || e2e_fail "metric $want is ${v:-missing}, expected > 0"
done
dad=$(metric vsrouter_ipv6_dad_failures_total "$m")
[[ $dad == 0 ]] || e2e_fail "vsrouter_ipv6_dad_failures_total is ${dad:-missing}, expected 0"
pass "metrics: $(metric vsrouter_ipv6_forwarded_packets_total "$m") IPv6 packets forwarded, $(metric vsrouter_nd_solicitations_sent_total "$m") NS and $(metric vsrouter_nd_advertisements_sent_total "$m") NA sent, the drops counted, no DAD failure"
echo "$passed passed, 0 failed"

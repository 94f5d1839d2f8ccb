#!/usr/bin/env bash
# End-to-end tests against real kernel stacks, modelled on the kernel's IPVS selftest (client,
# director, real servers) with vsrouter as the director on TAP devices and unmodified Linux hosts
# everywhere else. Usage: e2e.sh MODE VSROUTER, MODE one of:
#   dr          DR: reals on the LAN with the VIP on lo
#   nat         NAT: reals on an inside subnet whose gateway is vsrouter
#   tun         TUN: reals behind vsrouter tunnel endpoints (this kernel has no ipip driver)
#   dr-unpriv   DR with vsrouter running as an unprivileged user on persistent TAPs
#   capture     DR with --capture; the capture replayed gives the frames the live run sent
#   errors      start-up errors (bad config, missing or foreign TAP, no /dev/net/tun) and a TAP
#               vsrouter creates itself
#   control     vsadm against the running daemon (ipvsadm format, a live change, save/clear/
#               restore round trip, owner-only socket), then 100 reloads, valid and invalid
#               mixed, while long-lived TCP connections keep echoing and the metrics endpoint
#               keeps answering
# Each mode: 12 HTTP requests over rr reach each real 4 times, a 1 MiB download and a 4 MiB upload
# arrive intact (with offloads on in dr, nat and tun: TCP super-frames cross the director),
# a UDP service answers. Needs root (skips loudly outside CI; fails under CI=true).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1
VSROUTER=$(realpath "$2")
CONF_DIR=$(realpath "$HERE/../../conf")
source "$HERE/lib.sh"
e2e_require_root
trap e2e_cleanup EXIT

METRICS=127.0.0.1:9811
case $MODE in
  dr) e2e_topology_dr --metrics $METRICS ;;
  nat) e2e_topology_nat --metrics $METRICS ;;
  tun) e2e_topology_tun --metrics $METRICS ;;
  dr-unpriv)
    ctl=/tmp/$E2E_PREFIX-control.sock
    E2E_TAP_OWNER=nobody E2E_RUN_AS=nobody e2e_topology_dr --control "$ctl"
    # The daemon really runs without privileges: as nobody, with no capabilities.
    pid=${E2E_PIDS[-1]}
    for _ in $(seq 50); do [[ -r /proc/$pid/status ]] && grep -q '^Uid:' /proc/"$pid"/status && break; sleep 0.05; done
    uid=$(awk '/^Uid:/ {print $2}' /proc/"$pid"/status)
    caps=$(awk '/^CapEff:/ {print $2}' /proc/"$pid"/status)
    [[ $uid == 65534 && $caps == 0000000000000000 ]] || e2e_fail "vsrouter runs as uid $uid with CapEff $caps"
    e2e_log "vsrouter runs as uid $uid (nobody) with no capabilities"
    # Its control socket serves its owner, and refuses root too (root ignores the 0600 mode: the
    # daemon checks the peer's uid).
    VSADM=$(dirname "$VSROUTER")/vsadm
    timeout 10 ip netns exec "$(ns sw)" setpriv --reuid=65534 --regid=65534 --clear-groups \
      "$VSADM" --control "$ctl" -Ln | grep -q "^TCP  10.0.0.100:80 rr" || e2e_fail "nobody's vsadm was not served"
    out=$(timeout 10 ip netns exec "$(ns sw)" "$VSADM" --control "$ctl" -Ln 2>&1)
    [[ $? -ne 0 && $out == *"permission denied"*"belongs to uid 65534"* ]] || e2e_fail "root reached nobody's control socket: $out"
    e2e_log "control socket: owner served, root refused ($out)"
    ;;
  capture) e2e_topology_dr --capture "$E2E_DIR/capture" ;;
  errors)
    # Start-up errors are one clear line and exit code 2; nothing is left running.
    e2e_netns sw
    as_nobody() {
      timeout 10 ip netns exec "$(ns sw)" unshare --mount --propagation private bash -c '
        { [[ -c $1/tun ]] || mknod -m 666 "$1/tun" c 10 200; } && mount --bind "$1/tun" /dev/net/tun &&
        exec setpriv --reuid=65534 --regid=65534 --clear-groups "${@:2}"' bash "$E2E_DIR" "$@"
    }
    expect_start_error() {  # description, expected text, command...
      local what=$1 want=$2 out rc
      shift 2
      out=$("$@" 2>&1 >/dev/null)  # every command given here is bounded by timeout 10
      rc=$?
      [[ $rc -eq 2 && $(wc -l <<<"$out") -eq 1 && $out == *"$want"* ]] ||
        e2e_fail "$what: exit $rc, stderr '$out' (want exit 2 and one line containing '$want')"
      e2e_log "$what: $out"
    }
    printf '[[interfaces]]\nname = "lan"\nmac = "02:00:00:00:0d:01"\naddresses = ["10.0.0.1/33"]\n' >"$E2E_DIR/bad.toml"
    expect_start_error "bad config" "bad.toml:4:14: bad IPv4 prefix" \
      timeout 10 ip netns exec "$(ns sw)" "$VSROUTER" run -c "$E2E_DIR/bad.toml"
    expect_start_error "missing TAP, unprivileged" "does not exist and this process may not create it" \
      as_nobody "$VSROUTER" run -c "$CONF_DIR/lab-dr.toml"
    in_ns sw ip tuntap add mode tap user root name vsd-lan  # owned by root (an unowned TAP is open to all)
    expect_start_error "TAP of another user" "belongs to another user" \
      as_nobody "$VSROUTER" run -c "$CONF_DIR/lab-dr.toml"
    expect_start_error "no /dev/net/tun" "cannot open /dev/net/tun" \
      timeout 10 ip netns exec "$(ns sw)" unshare --mount --propagation private bash -c \
      'mount -t tmpfs none /dev/net && exec "$@"' bash "$VSROUTER" run -c "$CONF_DIR/lab-dr.toml"
    # A privileged start creates a missing TAP, brings it up with the MTU, and removes it on exit.
    in_ns sw ip tuntap del mode tap name vsd-lan
    e2e_vsrouter created "$CONF_DIR/lab-dr.toml"
    in_ns sw ip -o link show vsd-lan | grep -q "mtu 1500.*state UNKNOWN\|state UNKNOWN.*mtu 1500\|mtu 1500 .*UP" ||
      e2e_fail "vsrouter did not create vsd-lan up with MTU 1500: $(in_ns sw ip -o link show vsd-lan)"
    e2e_stop_vsrouter "${E2E_PIDS[-1]}"
    ! in_ns sw ip link show vsd-lan >/dev/null 2>&1 || e2e_fail "the TAP vsrouter created outlived it"
    echo "6 passed, 0 failed"
    exit 0
    ;;
  control)
    # vsadm against the running daemon, and reloads under load.
    cp "$CONF_DIR/lab-nat.toml" "$E2E_DIR/nat.toml"
    cat >>"$E2E_DIR/nat.toml" <<'TOML'

[[services]]                # long-lived connections for the reload test
protocol = "tcp"
address = "10.0.0.100:7000"
scheduler = "rr"

  [[services.reals]]
  address = "192.168.10.11:7000"
  method = "nat"

  [[services.reals]]
  address = "192.168.10.12:7000"
  method = "nat"
TOML
    CONF_DIR_SAVED=$CONF_DIR
    ctl="$E2E_DIR/control.sock"
    e2e_make_blob
    e2e_netns sw
    e2e_bridge br-wan
    e2e_bridge br-lan
    e2e_tap vsn-wan br-wan
    e2e_tap vsn-lan br-lan
    e2e_host cli br-wan 10.0.0.2/24
    for i in 1 2 3; do
      e2e_host "r$i" br-lan "192.168.10.1$i/24" 192.168.10.1
      e2e_real "r$i" ""
      e2e_echo_server "r$i"
    done
    for i in 1 2 3; do e2e_wait_real "r$i"; done
    e2e_vsrouter director "$E2E_DIR/nat.toml" --control "$ctl" --metrics 127.0.0.1:9800
    metrics() { timeout 5 ip netns exec "$(ns sw)" curl -sf --max-time 3 http://127.0.0.1:9800/metrics; }
    VSADM=$(dirname "$VSROUTER")/vsadm
    vsadm() { timeout 10 ip netns exec "$(ns sw)" "$VSADM" --control "$ctl" "$@"; }

    # 1. The listing, byte for byte in ipvsadm 1.31's format (reals sorted by address).
    want=$(printf '%s\n' \
      "IP Virtual Server version 1.2.1 (size=65536)" \
      "Prot LocalAddress:Port Scheduler Flags" \
      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn" \
      "TCP  10.0.0.100:80 rr" \
      "  -> 192.168.10.11:80             Masq    1      0          0         " \
      "  -> 192.168.10.12:80             Masq    1      0          0         " \
      "  -> 192.168.10.13:80             Masq    1      0          0         " \
      "TCP  10.0.0.100:7000 rr" \
      "  -> 192.168.10.11:7000           Masq    1      0          0         " \
      "  -> 192.168.10.12:7000           Masq    1      0          0         " \
      "UDP  10.0.0.100:53 rr" \
      "  -> 192.168.10.11:53             Masq    1      0          0         " \
      "  -> 192.168.10.12:53             Masq    1      0          0         " \
      "  -> 192.168.10.13:53             Masq    1      0          0         ")
    got=$(vsadm -Ln) || e2e_fail "vsadm -Ln failed"
    [[ $got == "$want" ]] || e2e_fail "vsadm -Ln through the daemon:"$'\n'"$got"$'\n'"expected:"$'\n'"$want"
    e2e_log "vsadm -Ln matches ipvsadm's format"

    # 2. A change applies at once: traffic follows it.
    vsadm -e -t 10.0.0.100:80 -r 192.168.10.13:80 -m -w 0 || e2e_fail "vsadm -e failed"
    answers=$(for _ in 1 2 3 4; do e2e_http_get "http://10.0.0.100/"; done | sort -u | xargs)
    [[ $answers == "r1 r2" ]] || e2e_fail "after quiescing r3 the answers were '$answers'"
    vsadm -e -t 10.0.0.100:80 -r 192.168.10.13:80 -m -w 1 || e2e_fail "vsadm -e failed"
    e2e_log "vsadm -e (weight 0) quiesced r3 at once"

    # 3. vsadm -S | vsadm -C; vsadm -R round-trips the rules exactly.
    vsadm -S -n >"$E2E_DIR/rules1" || e2e_fail "vsadm -S failed"
    vsadm -C || e2e_fail "vsadm -C failed"
    [[ $(vsadm -Ln | wc -l) -eq 3 ]] || e2e_fail "vsadm -C left services"
    ip netns exec "$(ns sw)" timeout 10 "$VSADM" --control "$ctl" -R <"$E2E_DIR/rules1" || e2e_fail "vsadm -R failed"
    vsadm -S -n >"$E2E_DIR/rules2"
    cmp -s "$E2E_DIR/rules1" "$E2E_DIR/rules2" || e2e_fail "save/clear/restore changed the rules: $(diff "$E2E_DIR/rules1" "$E2E_DIR/rules2")"
    e2e_log "vsadm -S | -C; -R round-trips $(wc -l <"$E2E_DIR/rules1") rules exactly"

    # 4. Only the owner may use the control socket.
    out=$(timeout 10 ip netns exec "$(ns sw)" setpriv --reuid=65534 --regid=65534 --clear-groups \
          "$VSADM" --control "$ctl" -Ln 2>&1)
    rc=$?
    [[ $rc -ne 0 && $out == *"cannot connect to vsrouter"*"Permission denied"* ]] ||
      e2e_fail "another user reached the control socket (exit $rc): $out"
    e2e_log "another user is refused: $(head -1 <<<"$out")"

    # 5. 100 reloads, valid and invalid mixed, while long-lived TCP connections keep echoing.
    in_ns cli "$PY" - "$E2E_DIR/longlived.done" >"$E2E_DIR/longlived.out" 2>&1 <<'PYEOF' &
import os, socket, sys, time
conns = [socket.create_connection(("10.0.0.100", 7000), timeout=5) for _ in range(4)]
n = 0
while not os.path.exists(sys.argv[1]):
    for i, c in enumerate(conns):
        msg = f"{i}:{n}\n".encode()
        c.sendall(msg)
        got = b""
        while len(got) < len(msg):
            chunk = c.recv(4096)
            if not chunk:
                print(f"connection {i} closed after {n} rounds"); sys.exit(1)
            got += chunk
        if got != msg:
            print(f"connection {i}: sent {msg!r}, got {got!r}"); sys.exit(1)
    n += 1
    time.sleep(0.02)
print(f"ok {len(conns)} connections, {n} rounds each"); sys.exit(0)
PYEOF
    client=$!
    sleep 0.5
    valid=0 invalid=0
    cp "$E2E_DIR/nat.toml" "$E2E_DIR/base.toml"
    for k in $(seq 100); do
      # The daemon re-reads the file it was started with: write a variant of it, then reload.
      case $((k % 5)) in
        0) sed 's/^scheduler = "rr"$/scheduler = "wlc"/' "$E2E_DIR/base.toml" ;;
        1) sed "s/^  method = \"nat\"$/  method = \"nat\"\n  weight = $((k % 7 + 1))/" "$E2E_DIR/base.toml" ;;
        2) sed 's/10.0.0.100:53/10.0.0.100:54/' "$E2E_DIR/base.toml" ;;
        3) sed 's#addresses = \["192.168.10.1/24"\]#addresses = ["192.168.10.300/24"]#' "$E2E_DIR/base.toml" ;;
        4) cat "$E2E_DIR/base.toml"; echo "x = " ;;
      esac >"$E2E_DIR/nat.toml"
      metrics | grep -q '^node_ipvs_connections_total ' || e2e_fail "the metrics endpoint did not answer during reload $k"
      if vsadm --reload 2>"$E2E_DIR/reload.err"; then valid=$((valid + 1)); else
        grep -q "nat.toml:[0-9]*:[0-9]*: " "$E2E_DIR/reload.err" ||
          e2e_fail "invalid reload without FILE:LINE:COL: $(cat "$E2E_DIR/reload.err")"
        invalid=$((invalid + 1))
      fi
      kill -0 "$client" 2>/dev/null || break
    done
    cp "$E2E_DIR/base.toml" "$E2E_DIR/nat.toml"
    touch "$E2E_DIR/longlived.done"
    wait "$client" || e2e_fail "long-lived connections broke during reloads: $(cat "$E2E_DIR/longlived.out")"
    e2e_log "100 reloads ($valid valid, $invalid refused): $(cat "$E2E_DIR/longlived.out")"
    [[ $valid -gt 0 && $invalid -gt 0 ]] || e2e_fail "the reload mix was not mixed ($valid valid, $invalid invalid)"
    e2e_check_rr 10.0.0.100
    # The metrics count what went through: the service's connections and the backends' weights.
    m=$(metrics) || e2e_fail "no metrics after the reloads"
    grep -q 'node_ipvs_backend_weight{local_address="10.0.0.100",local_mark="",local_port="80",proto="TCP",remote_address="192.168.10.11",remote_port="80"}' <<<"$m" ||
      e2e_fail "metrics lack the backend weight series: $(grep backend_weight <<<"$m" | head -3)"
    e2e_log "metrics answered throughout ($(grep -c . <<<"$m") lines)"
    echo "7 passed, 0 failed"
    exit 0
    ;;
  *) e2e_fail "unknown mode $MODE" ;;
esac

e2e_check_rr 10.0.0.100
e2e_check_blob 10.0.0.100
e2e_check_upload 10.0.0.100
e2e_check_udp 10.0.0.100
passed=4
if [[ $MODE == dr || $MODE == nat || $MODE == tun ]]; then
  e2e_check_offload $METRICS
  passed=$((passed + 1))
fi

if [[ $MODE == capture ]]; then
  e2e_stop_vsrouter "${E2E_PIDS[-1]}"
  "$VSROUTER" replay -c "$CONF_DIR/lab-dr.toml" --in "$E2E_DIR/capture" --out "$E2E_DIR/replayed" ||
    e2e_fail "replay of the capture failed"
  # The capture is pcapng whose epb_flags say each frame's direction (read here without Scapy's
  # help, which ignores them): the outbound frames are exactly those with vsrouter's source MAC,
  # and they must be the replay's output, byte for byte.
  "$PY" "$HERE/capture_check.py" "$E2E_DIR/capture/lan.pcapng" "$E2E_DIR/replayed/lan.pcap" 02:00:00:00:0d:01 ||
    e2e_fail "the replayed capture differs from what the live run sent"
  passed=$((passed + 1))
fi
echo "$passed passed, 0 failed"

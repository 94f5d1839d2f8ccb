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
# Each mode: 12 HTTP requests over rr reach each real 4 times, a 1 MiB transfer arrives intact,
# a UDP service answers. Needs root (skips loudly outside CI; fails under CI=true).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1
VSROUTER=$(realpath "$2")
CONF_DIR=$(realpath "$HERE/../../conf")
source "$HERE/lib.sh"
e2e_require_root
trap e2e_cleanup EXIT

case $MODE in
  dr) e2e_topology_dr ;;
  nat) e2e_topology_nat ;;
  tun) e2e_topology_tun ;;
  dr-unpriv)
    E2E_TAP_OWNER=nobody E2E_RUN_AS=nobody e2e_topology_dr
    # The daemon really runs without privileges: as nobody, with no capabilities.
    pid=${E2E_PIDS[-1]}
    for _ in $(seq 50); do [[ -r /proc/$pid/status ]] && grep -q '^Uid:' /proc/"$pid"/status && break; sleep 0.05; done
    uid=$(awk '/^Uid:/ {print $2}' /proc/"$pid"/status)
    caps=$(awk '/^CapEff:/ {print $2}' /proc/"$pid"/status)
    [[ $uid == 65534 && $caps == 0000000000000000 ]] || e2e_fail "vsrouter runs as uid $uid with CapEff $caps"
    e2e_log "vsrouter runs as uid $uid (nobody) with no capabilities"
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
  *) e2e_fail "unknown mode $MODE" ;;
esac

e2e_check_rr 10.0.0.100
e2e_check_blob 10.0.0.100
e2e_check_udp 10.0.0.100
passed=3

if [[ $MODE == capture ]]; then
  e2e_stop_vsrouter "${E2E_PIDS[-1]}"
  "$VSROUTER" replay -c "$CONF_DIR/lab-dr.toml" --in "$E2E_DIR/capture" --out "$E2E_DIR/replayed" ||
    e2e_fail "replay of the capture failed"
  # The frames vsrouter sent live (source MAC = its own) must be the replay's output, byte for byte.
  "$PY" - "$E2E_DIR/capture/lan.pcap" "$E2E_DIR/replayed/lan.pcap" 02:00:00:00:0d:01 <<'PYEOF' ||
import sys
from scapy.all import rdpcap
live = [bytes(p) for p in rdpcap(sys.argv[1]) if p.src == sys.argv[3]]
replayed = [bytes(p) for p in rdpcap(sys.argv[2])]
if live != replayed:
    n = next((i for i, (a, b) in enumerate(zip(live, replayed)) if a != b), min(len(live), len(replayed)))
    sys.exit(f"live sent {len(live)} frames, replay {len(replayed)}; first difference at frame {n + 1}")
print(f"[e2e] capture replayed: the same {len(live)} frames, byte for byte", file=sys.stderr)
PYEOF
    e2e_fail "the replayed capture differs from what the live run sent"
  passed=$((passed + 1))
fi
echo "$passed passed, 0 failed"

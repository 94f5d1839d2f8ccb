#!/usr/bin/env bash
# bench/handover.sh: the gap of a handover (`vsrouter run --takeover`, docs/handover.md): the
# longest interval without forwarded packets while a new process takes over, and how fast the
# connection table goes across (docs/benchmarks.md, "Handover gap"). Not a test: no thresholds.
#
#   sudo bench/handover.sh [--vsrouter PATH] [--count N] [--flows N] [--out DIR] [--tools DIR]
#
# The topology and config of bench/run's nat row (bench/lib.sh, bench/conf/nat.toml): a client
# namespace and a server namespace on either side of one vsrouter (NAT), in namespaces it creates
# and deletes. `bench/tools/udpgap server 7` echoes behind the VIP; `udpgap client` sends a
# 32-byte datagram to 10.0.0.100:7 every 1 ms (1 kHz, one flow) and records the kernel's receive
# time of each echo. Once echoes come back, and 2 s later, N handovers (20): each starts
# `vsrouter run -c bench/conf/nat.toml --control SAME --metrics SAME --takeover`, waits for its
# "vsrouter: running (pid NEW)" and for the old process to exit (status 0), then 1 s before the
# next. Then as long again without handovers (the baseline), and the client stops.
# For each handover, in the window from its start to its end + 0.5 s: the longest interval
# between consecutive echoes (every interval that overlaps the window), and the echoes lost
# (datagrams sent in the window that never came back); the same for the same windows shifted
# into the quiet period, and the longest interval of the whole quiet period. From each new
# process's log (--log-level info): "took over from pid ... (..., X ms after it stopped reading):
# N connections adopted", X being the old process's snapshot, its encoding, the transfer and the
# decoding (not the adoption); entries per second = N / X. From the old one's: the state's bytes.
# Two cases, each in a fresh topology: the echo's connection alone, then FLOWS (1 000 000) more
# UDP connections made first by bench/tools/flowgen as bench/run's memory part makes them
# (--flows 0: the first case only). Raw outputs in OUT (build-bench/results/handover/): the echoes,
# the handovers with their figures, every vsrouter log; the tables on stdout and in OUT/handover.md.
#
# --vsrouter: the binary (default build-bench/vsrouter/vsrouter, else build/vsrouter); it is copied
# first, so a rebuild meanwhile does not change it between handovers. --tools: where the tools
# are (compiled there from bench/tools/ when missing or older; default build-bench/tools).
# Environment: BENCH_HANDOVERS (--count, 20), BENCH_FLOWS (--flows, 1000000), BENCH_PIN=1 as in
# bench/run (bench/lib.sh).
set -uo pipefail
BN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$BN_ROOT" || exit 1

VS=""
COUNT=${BENCH_HANDOVERS:-20}
FLOWS=${BENCH_FLOWS:-1000000}
HO_OUT=$BN_ROOT/build-bench/results/handover
BN_TOOLS=$BN_ROOT/build-bench/tools
while [[ $# -gt 0 ]]; do
  case $1 in
    --vsrouter) VS=$2; shift 2 ;;
    --count) COUNT=$2; shift 2 ;;
    --flows) FLOWS=$2; shift 2 ;;
    --out) HO_OUT=$2; shift 2 ;;
    --tools) BN_TOOLS=$2; shift 2 ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) echo "bench/handover.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $COUNT =~ ^[1-9][0-9]*$ && $FLOWS =~ ^[0-9]+$ ]] || { echo "bench/handover.sh: --count and --flows take numbers" >&2; exit 2; }
if [[ $(id -u) -ne 0 ]] || [[ ! -c /dev/net/tun ]] || ! ip netns list >/dev/null 2>&1; then
  echo "bench/handover.sh: needs root, /dev/net/tun and ip netns (network namespaces and TAP devices)" >&2
  exit 1
fi
if [[ -z $VS ]]; then
  VS=$BN_ROOT/build-bench/vsrouter/vsrouter
  [[ -x $VS ]] || VS=$BN_ROOT/build/vsrouter
fi
[[ -x $VS ]] || { echo "bench/handover.sh: no vsrouter at $VS (--vsrouter PATH)" >&2; exit 1; }

BN_DIR=$(mktemp -d /tmp/vsrouter-handover.XXXXXX)
source "$BN_ROOT/bench/lib.sh"
trap 'bn_cleanup; rm -rf "$BN_DIR"' EXIT
mkdir -p "$HO_OUT" "$BN_TOOLS"
rm -rf "$HO_OUT/one" "$HO_OUT/flows"
find "$HO_OUT" -maxdepth 1 -type f -delete
cp "$VS" "$BN_DIR/vsrouter" || bn_die "cannot copy $VS"
BN_VSROUTER=$BN_DIR/vsrouter
VERSION=$("$BN_VSROUTER" --version 2>&1 | head -1)
for t in udpgap flowgen; do
  if [[ ! -x $BN_TOOLS/$t || bench/tools/$t.c -nt $BN_TOOLS/$t ]]; then
    cc -O2 -Wall -Wextra -pthread -o "$BN_TOOLS/$t" "bench/tools/$t.c" || bn_die "bench/tools/$t.c does not compile"
  fi
done
CONF=$BN_ROOT/bench/conf/nat.toml
CTL=$BN_DIR/control-nat.sock  # bn_path_vsrouter's
VIP=10.0.0.100
SUMMARY=$HO_OUT/summary.tsv
: >"$SUMMARY"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
# What else is using the CPUs (as bench/run: other jobs make every number here noisier).
busy() { top -b -n 2 -d 1 -w 200 | awk '/^top -/ {n++} n == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 10 {printf "%s%s %s%%", sep, $12, $9; sep=", "}'; }
BUSY0=$(busy)

us() { echo "${EPOCHREALTIME//[.,]/}"; }  # CLOCK_REALTIME in microseconds
alive() { kill -0 "$1" 2>/dev/null && [[ $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) != Z ]]; }
forget() {  # drop a pid from BN_PIDS (it exited and was waited for)
  local p keep=()
  for p in "${BN_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  BN_PIDS=("${keep[@]}")
}
put() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$SUMMARY"; }  # CASE KEY VALUE
entries() {
  in_ns rt curl -s --max-time 5 http://127.0.0.1:9900/metrics | awk '/^vsrouter_connection_table_entries / {print $2}'
}

# One case: CASE (a name) FLOWS. Appends "CASE key value" lines to $SUMMARY.
run_case() {
  local name=$1 flows=$2 dir=$HO_OUT/$1 k t0 t1 new cur rc line ms adopted bytes fill0=0 fill_s=0 n=0
  mkdir -p "$dir"
  bn_log "$name: vsrouter (NAT), udpgap echo server"
  bn_path_vsrouter nat
  cur=$BN_VSPID
  bn_bg srv $(bn_host) "$BN_TOOLS/udpgap" server 7 >/dev/null 2>&1
  for _ in $(seq 100); do in_ns srv ss -Huln | grep -q ':7 ' && break; sleep 0.05; done
  if ((flows > 0)); then
    # As bench/run's memory part: a UDP socket on the real that never reads (no ICMP back), and
    # one datagram per flow from distinct (address, port) pairs, sent again until all are in (up
    # to 6 passes: on a busy machine the TAP queue drops more of each pass).
    bn_bg srv $PY -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 9))
time.sleep(3600)"
    for _ in $(seq 100); do in_ns srv ss -Huln | grep -q ':9 ' && break; sleep 0.05; done
    local mac pass
    mac=$(awk -F'"' '/^mac/ {print $2; exit}' "$CONF")
    fill0=$(date +%s)
    for pass in 1 2 3 4 5 6; do
      in_ns cli "$BN_TOOLS/flowgen" bw-wan "$mac" "$VIP" 9 0 "$flows" 150000 >>"$dir/flowgen.txt" 2>&1
      sleep 0.5
      n=$(entries)
      bn_log "$name: flowgen pass $pass: ${n:-?} entries in the table"
      [[ -n $n && $n -ge $flows ]] && break
    done
    fill_s=$(($(date +%s) - fill0))
    put "$name" fill_entries "${n:-}"
    put "$name" fill_seconds "$fill_s"
  fi
  bn_bg cli $(bn_host) "$BN_TOOLS/udpgap" client "$VIP" 7 1000 1800 "$dir/echoes.txt" >"$dir/udpgap.txt" 2>&1
  local gap=$BN_LAST
  for _ in $(seq 100); do grep -q "first echo" "$dir/udpgap.txt" && break; alive "$gap" || break; sleep 0.1; done
  grep -q "first echo" "$dir/udpgap.txt" || bn_die "$name: no echo through the VIP within 10 s"
  sleep 2
  bn_log "$name: $COUNT handovers under a 1 kHz UDP echo stream$( ((flows > 0)) && echo ", ${n:-?} entries in the table")"
  : >"$dir/handovers.tsv"
  local prev_log=$BN_DIR/vsrouter-nat.log first_t0="" last_t1=""
  for k in $(seq "$COUNT"); do
    t0=$(us)
    bn_bg rt "${BN_FWD[@]}" "$BN_VSROUTER" run -c "$CONF" --control "$CTL" --metrics 127.0.0.1:9900 --log-level info \
      --takeover >"$dir/vsrouter-$k.log" 2>&1
    new=$BN_LAST
    line=""
    for _ in $(seq 6000); do  # 60 s
      line=$(grep -m1 "vsrouter: running (pid " "$dir/vsrouter-$k.log" 2>/dev/null)
      [[ -n $line ]] && break
      alive "$new" || break
      sleep 0.01
    done
    [[ $line == "vsrouter: running (pid $new)" ]] ||
      { tail -n 20 "$dir/vsrouter-$k.log" >&2; bn_die "$name: handover $k: the new vsrouter (pid $new) did not say it runs within 60 s"; }
    for _ in $(seq 3000); do alive "$cur" || break; sleep 0.01; done  # 30 s
    alive "$cur" && bn_die "$name: handover $k: the old vsrouter (pid $cur) still runs 30 s after the new one took over"
    t1=$(us)
    wait "$cur"
    rc=$?
    forget "$cur"
    ((rc == 0)) || bn_log "$name: handover $k: the old vsrouter (pid $cur) exited with status $rc"
    ms=$(sed -n 's/.*, \([0-9.]*\) ms after it stopped reading): \([0-9]*\) connections adopted.*/\1/p' "$dir/vsrouter-$k.log")
    adopted=$(sed -n 's/.* ms after it stopped reading): \([0-9]*\) connections adopted.*/\1/p' "$dir/vsrouter-$k.log")
    bytes=$(sed -n 's/.*handover: pid [0-9]* has taken over ([0-9]* connections, \([0-9]*\) bytes of state).*/\1/p' "$prev_log")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$k" "$t0" "$t1" "$cur" "$new" "$rc" "${ms:-}" "${adopted:-}" "${bytes:-}" \
      >>"$dir/handovers.tsv"
    [[ -n $first_t0 ]] || first_t0=$t0
    last_t1=$t1
    cur=$new
    prev_log=$dir/vsrouter-$k.log
    sleep 1
  done
  # As long again without handovers: the baseline (the same windows, shifted by SHIFT).
  local shift_us=$((last_t1 + 1500000 - first_t0)) end
  end=$((last_t1 + 1500000 + shift_us + 300000))
  bn_log "$name: $(((shift_us + 500000) / 1000000)) s without handovers (the baseline)"
  while (($(us) < end)); do sleep 0.2; done
  cp "$BN_DIR/vsrouter-nat.log" "$dir/vsrouter-0.log"
  kill -TERM "$gap"
  for _ in $(seq 100); do alive "$gap" || break; sleep 0.1; done
  wait "$gap" 2>/dev/null
  forget "$gap"
  [[ -s $dir/echoes.txt ]] || bn_die "$name: udpgap wrote no echoes ($(cat "$dir/udpgap.txt"))"
  put "$name" udpgap "$(tail -n 1 "$dir/udpgap.txt")"
  put "$name" table_after "$(entries)"
  put "$name" seconds_since_fill "$((fill0 > 0 ? $(date +%s) - fill0 : 0))"
  $PY - "$dir/echoes.txt" "$dir/handovers.tsv" "$shift_us" "$name" >>"$SUMMARY" <<'EOF' || bn_die "$name: the analysis failed"
import bisect, statistics, sys
echoes, hfile, shift_us, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sent, recv = [], []
for line in open(echoes):
    _, s, r = line.split()
    sent.append(int(s))
    recv.append(int(r))
got = sorted(r for r in recv if r)

def longest(a, b):
    """The longest interval between consecutive echoes that overlaps [a, b) (ns)."""
    i = max(bisect.bisect_right(got, a) - 1, 0)
    j = min(bisect.bisect_left(got, b), len(got) - 1)
    return max((got[x + 1] - got[x] for x in range(i, j)), default=0)

def lost(a, b):
    i, j = bisect.bisect_left(sent, a), bisect.bisect_left(sent, b)
    return sum(1 for x in range(i, j) if recv[x] == 0)

rows = []
for line in open(hfile):
    k, t0, t1, old, new, rc, ms, adopted, nbytes = (line.rstrip('\n').split('\t') + [''] * 9)[:9]
    a, b = int(t0) * 1000, (int(t1) + 500000) * 1000
    s = shift_us * 1000
    rows.append(dict(k=int(k), wall_ms=(int(t1) - int(t0)) / 1e3, ms=float(ms) if ms else None,
                     adopted=int(adopted) if adopted else None, nbytes=int(nbytes) if nbytes else None,
                     gap=longest(a, b) / 1e6, lost=lost(a, b), bgap=longest(a + s, b + s) / 1e6, blost=lost(a + s, b + s),
                     a=a, b=b))
with open(hfile.replace('.tsv', '-gaps.tsv'), 'w') as f:
    f.write('handover\twall_ms\tms_after_stopped_reading\tadopted\tstate_bytes\tgap_ms\tlost\tbaseline_gap_ms\tbaseline_lost\n')
    for r in rows:
        f.write('%d\t%.1f\t%s\t%s\t%s\t%.2f\t%d\t%.2f\t%d\n' % (r['k'], r['wall_ms'], r['ms'], r['adopted'], r['nbytes'],
                                                             r['gap'], r['lost'], r['bgap'], r['blost']))
q0 = rows[-1]['b'] + 1000000000
q1 = q0 + shift_us * 1000
med = statistics.median

def out(key, v):
    print(f'{name}\t{key}\t{v}')

out('handovers', len(rows))
out('gap_ms_median', '%.2f' % med(r['gap'] for r in rows))
out('gap_ms_max', '%.2f' % max(r['gap'] for r in rows))
out('lost_median', '%g' % med(r['lost'] for r in rows))
out('lost_max', max(r['lost'] for r in rows))
out('baseline_gap_ms_median', '%.2f' % med(r['bgap'] for r in rows))
out('baseline_gap_ms_max', '%.2f' % max(r['bgap'] for r in rows))
out('baseline_lost_max', max(r['blost'] for r in rows))
out('quiet_seconds', '%.1f' % (shift_us / 1e6))
out('quiet_longest_ms', '%.2f' % (longest(q0, q1) / 1e6))
out('quiet_lost', lost(q0, q1))
out('wall_ms_median', '%.1f' % med(r['wall_ms'] for r in rows))
out('wall_ms_max', '%.1f' % max(r['wall_ms'] for r in rows))
ms = [r['ms'] for r in rows if r['ms'] is not None]
ad = [r['adopted'] for r in rows if r['adopted'] is not None]
nb = [r['nbytes'] for r in rows if r['nbytes'] is not None]
if ms:
    out('stopped_ms_median', '%.1f' % med(ms))
    out('stopped_ms_max', '%.1f' % max(ms))
if ad:
    out('adopted_min', min(ad))
    out('adopted_max', max(ad))
if nb:
    out('state_bytes_median', '%d' % med(nb))
rates = [r['adopted'] / (r['ms'] / 1e3) for r in rows if r['ms'] and r['adopted'] is not None]
if rates:
    out('entries_per_s_median', '%.0f' % med(rates))
EOF
  bn_teardown
}

run_case one 0
BUSY1=$(busy)
((FLOWS > 0)) && run_case flows "$FLOWS"

put all when "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
put all vsrouter "$VERSION"
put all load "$LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (1, 5, 15 min)"
put all seconds "$(($(date +%s) - START))"
BUSY2=$(busy)
put all busy "at the start: ${BUSY0:-none}; between the cases: ${BUSY1:-none}; at the end: ${BUSY2:-none}"
$PY - "$SUMMARY" "$COUNT" "$FLOWS" <<'EOF' | tee "$HO_OUT/handover.md"
import sys
v = {}
for line in open(sys.argv[1]):
    c, k, x = (line.rstrip('\n').split('\t', 2) + ['', ''])[:3]
    v[(c, k)] = x
g = lambda c, k: v.get((c, k), '')
cases = [c for c in ('one', 'flows') if (c, 'handovers') in v]
label = lambda c: 'the echo\'s connection' if c == 'one' else f"{int(sys.argv[3]):,} + the echo's".replace(',', ' ')
print(f"Handover gap (bench/handover.sh: {sys.argv[2]} handovers, 1 kHz UDP echo through vsrouter NAT; {g('all', 'vsrouter')}; {g('all', 'when')}):")
print()
print('| table | longest interval without echoes, ms: median | max | echoes lost per handover: median | max '
      '| same windows without handovers, ms: median | max | lost (max) | quiet period of the same length: longest interval, ms |')
print('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
for c in cases:
    print(f"| {label(c)} | {g(c, 'gap_ms_median')} | {g(c, 'gap_ms_max')} | {g(c, 'lost_median')} | {g(c, 'lost_max')} "
          f"| {g(c, 'baseline_gap_ms_median')} | {g(c, 'baseline_gap_ms_max')} | {g(c, 'baseline_lost_max')} "
          f"| {g(c, 'quiet_longest_ms')} ({g(c, 'quiet_seconds')} s) |")
print()
print('| table | entries adopted | state, bytes | "ms after it stopped reading": median | max | entries per second (median) '
      '| handover, start to old process gone, ms: median | max |')
print('|---|---:|---:|---:|---:|---:|---:|---:|')
for c in cases:
    ad = g(c, 'adopted_min')
    ad = ad if ad == g(c, 'adopted_max') else f"{ad}-{g(c, 'adopted_max')}"
    print(f"| {label(c)} | {ad} | {g(c, 'state_bytes_median')} | {g(c, 'stopped_ms_median')} | {g(c, 'stopped_ms_max')} "
          f"| {g(c, 'entries_per_s_median')} | {g(c, 'wall_ms_median')} | {g(c, 'wall_ms_max')} |")
print()
for c in cases:
    extra = ''
    if c == 'flows':
        extra = (f"; filled in {g(c, 'fill_seconds')} s, {g(c, 'table_after')} entries at the end, "
                 f"{g(c, 'seconds_since_fill')} s after the fill began (UDP entries live 300 s)")
    print(f"{label(c)}: udpgap {g(c, 'udpgap')}{extra}.")
print(f"Load: {g('all', 'load')}; other processes using 10 % of a CPU or more {g('all', 'busy')}; {g('all', 'seconds')} s.")
EOF
bn_log "raw outputs in $HO_OUT (table: $HO_OUT/handover.md)"

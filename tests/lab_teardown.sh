#!/usr/bin/env bash
# scripts/lab leaves nothing behind when it is cut short: `scripts/lab | head -5` (SIGPIPE on its
# stdout), Ctrl-C (SIGINT) in the middle of the lab, and `scripts/lab ha | head -32` (SIGPIPE while
# its two directors and its client loop run). After each, no namespace of the lab, no
# TAP device of it and no process of it (vsrouter, the real servers) may remain.
# Needs root (skips with 77 otherwise, as tests/e2e/e2e.sh does). Every step is bounded.
# The lab runs with its own namespace prefix and temporary directory, so a lab or test running
# alongside is neither disturbed nor mistaken for a leftover.
# Usage: lab_teardown.sh SOURCE_DIR
set -u
SRC=$1
if [[ $(id -u) -ne 0 ]] || ! ip netns list >/dev/null 2>&1 || [[ ! -c /dev/net/tun ]]; then
  echo "SKIPPED: the lab needs root (network namespaces, TAP devices)." >&2
  exit 77
fi
export VSLAB_PREFIX=vslt$$
export TMPDIR
TMPDIR=$(mktemp -d /tmp/vsrouter-lab-test.XXXXXX)
fail=0 passed=0

leftovers() {  # what of the lab remains; nothing printed = clean
  ip netns list | awk -v p="^$VSLAB_PREFIX-" '$1 ~ p {print "namespace " $1}'
  ip -o link show | awk -F': ' '$2 ~ /^vs([dnt]|h[12])-/ {print "TAP " $2}'
  pgrep -af "$TMPDIR/" | sed 's/^/process /'
  ls -d "$TMPDIR"/vsrouter-lab.* 2>/dev/null | sed 's/^/directory /'
}

check_clean() {  # what
  local left
  for _ in $(seq 50); do  # the teardown has finished when the lab exited; allow the kernel a moment
    left=$(leftovers)
    [[ -z $left ]] && break
    sleep 0.1
  done
  if [[ -n $left ]]; then
    echo "FAIL: $1 left:"; echo "$left"; fail=$((fail + 1))
  else
    echo "ok: $1 left nothing behind"; passed=$((passed + 1))
  fi
}

# 1. SIGPIPE: the reader goes away after five lines.
out=$(timeout -s KILL 300 bash -c '"$1/scripts/lab" dr 2>/dev/null | head -5' bash "$SRC")
echo "$out" | sed 's/^/   | /'
[[ $out == *"LVS-dr lab"* ]] || { echo "FAIL: no lab header in the first lines"; fail=$((fail + 1)); }
check_clean "scripts/lab | head -5"

# 2. Ctrl-C once the lab is up (SIGINT to its process group, as a terminal sends it).
log=$TMPDIR/lab.log
# A background job of a script starts with SIGINT ignored, and bash cannot trap a signal ignored
# at its start: env --default-signal gives the lab the SIGINT a terminal's foreground job has.
setsid env --default-signal=INT "$SRC/scripts/lab" dr >"$log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  grep -q "== Six requests" "$log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "== Six requests" "$log" || { echo "FAIL: the lab did not come up:"; cat "$log"; fail=$((fail + 1)); }
kill -INT -- -"$pid" 2>/dev/null
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: the lab did not stop on SIGINT"; fail=$((fail + 1)); kill -KILL -- -"$pid" 2>/dev/null
fi
grep -q "Tearing the lab down" "$log" || { echo "FAIL: no teardown message:"; cat "$log"; fail=$((fail + 1)); }
check_clean "Ctrl-C"

# 3. The HA lab cut short while its client loop runs (two directors, a background client).
out=$(timeout -s KILL 300 bash -c '"$1/scripts/lab" ha 2>/dev/null | head -32' bash "$SRC")
echo "$out" | tail -3 | sed 's/^/   | /'
[[ $out == *"request "*"answered by r"* ]] || { echo "FAIL: scripts/lab ha: no client line in the first lines"; fail=$((fail + 1)); }
check_clean "scripts/lab ha | head -32"

# Whatever a failure left, remove it (only this run's prefix and directory).
"$SRC/scripts/lab-down" >/dev/null
rm -rf "$TMPDIR"
echo "$passed passed, $fail failed"
[[ $fail -eq 0 ]]

#!/usr/bin/env bash
# Upgrade by handover: the previous build of vsrouter runs, this build takes over from it
# (`--takeover`, docs/handover.md), and the connections survive: tests/e2e/handover.sh nat with its
# first process from the previous build, HANDOVER_COUNT handovers (default 3) and no fault runs.
#
# The previous build: $VS_HANDOVER_BASE (a commit), else the merge-base of HEAD and origin/main
# (the branch's base), else HEAD~1 when that is HEAD itself (a clone of main: the commit before).
# Its vsrouter is built here from `git archive` of that commit, unoptimised (-O0: it only has to
# run one handover), in $VS_HANDOVER_BASE_DIR (default /tmp/vsrouter-base-COMMIT, kept: a second
# run reuses it). Not a git checkout, or no such commit: skipped (77) outside CI, a failure in CI.
# Usage: handover_upgrade.sh VSROUTER. Needs root.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VSROUTER=$(realpath "$1")
source "$HERE/lib.sh"
e2e_require_root
trap e2e_cleanup EXIT

skip_or_fail() {
  [[ ${CI:-} == true ]] && e2e_fail "$1"
  echo "SKIPPED: $1" >&2
  exit 77
}
git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1 || skip_or_fail "$ROOT is not a git checkout: no previous build to take over from"
base=${VS_HANDOVER_BASE:-}
if [[ -z $base ]]; then
  head=$(git -C "$ROOT" rev-parse HEAD)
  base=$(git -C "$ROOT" merge-base HEAD origin/main 2>/dev/null)
  [[ -z $base || $base == "$head" ]] && base=$(git -C "$ROOT" rev-parse HEAD~1 2>/dev/null)
fi
base=$(git -C "$ROOT" rev-parse --verify -q "$base^{commit}") || skip_or_fail "no commit '$base' to build the previous vsrouter from"
short=${base:0:12}
dir=${VS_HANDOVER_BASE_DIR:-/tmp/vsrouter-base-$short}
bin=$dir/build/vsrouter
if [[ ! -x $bin ]]; then
  e2e_log "building the vsrouter of $short ($(git -C "$ROOT" log -1 --format=%s "$base" | cut -c1-60)...) in $dir"
  rm -rf "$dir"
  mkdir -p "$dir/src"
  git -C "$ROOT" archive "$base" | tar -x -C "$dir/src" || e2e_fail "git archive $short failed"
  t0=$(date +%s)
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  if ! { cmake -S "$dir/src" -B "$dir/build" -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS=-O0 "${launcher[@]}" &&
    nice cmake --build "$dir/build" -j"$(nproc)" --target vsrouter; } >"$dir/build.log" 2>&1; then
    tail -n 30 "$dir/build.log" >&2
    e2e_fail "the vsrouter of $short does not build (log above)"
  fi
  e2e_log "built in $(($(date +%s) - t0)) s"
fi
e2e_log "previous build: $("$bin" --version 2>/dev/null | head -1); this build: $("$VSROUTER" --version | head -1)"

# handover.sh keeps its files in our E2E_DIR (removed by our cleanup) for the check below.
VSROUTER_FIRST=$bin HANDOVER_FAULTS=0 HANDOVER_COUNT=${HANDOVER_COUNT:-3} E2E_KEEP_DIR=1 E2E_DIR=$E2E_DIR \
  "$HERE/handover.sh" nat "$VSROUTER"
rc=$?
((rc == 0)) || e2e_fail "the handovers from the previous build failed (above)"
# The first takeover was from the previous build, and it adopted that one's connections.
line=$(grep -h "took over from pid" "$E2E_DIR/vs-1.err" 2>/dev/null)
[[ $line == *"connections adopted"* && $line != *" 0 connections adopted"* ]] ||
  e2e_fail "the first takeover did not adopt the previous build's connections: '$line'"
e2e_log "PASS: $short's vsrouter handed over to this build: ${line#*: }"

#!/usr/bin/env bash
# Runs one libFuzzer target the way CI does (docs/hardening.md):
#   1. every committed input in the corpus (seeds and regression cases) once;
#   2. fuzzing for SECONDS, starting from that corpus; new inputs go to WORK/corpus (never into
#      the source tree), a crash, leak, timeout or sanitizer report to WORK/artifacts and fails.
# Usage: run_fuzz.sh TARGET CORPUS_DIR WORK_DIR SECONDS [extra libFuzzer flags...]
set -euo pipefail
target=$1 corpus=$2 work=$3 seconds=$4
shift 4
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
flags=(-timeout=10 -rss_limit_mb=2048 -max_len=16384 -artifact_prefix="$work/artifacts/" "$@")

mapfile -t inputs < <(find "$corpus" -type f | sort)
echo "== $(basename "$target"): ${#inputs[@]} committed inputs"
"$target" "${flags[@]}" "${inputs[@]}" > "$work/regression.log" 2>&1 || {
  tail -n 50 "$work/regression.log"
  echo "FAIL: a committed input fails (log: $work/regression.log)"
  exit 1
}

echo "== $(basename "$target"): fuzzing for ${seconds} s"
if ! "$target" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 "$work/corpus" "$corpus" \
    > "$work/fuzz.log" 2>&1; then
  tail -n 80 "$work/fuzz.log"
  echo "FAIL: finding in $work/artifacts/ (log: $work/fuzz.log); fix it and add the input to $corpus"
  exit 1
fi
grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)" "$work/fuzz.log" || true
grep -E "cov: [0-9]+ ft: [0-9]+" "$work/fuzz.log" | tail -n 1 || true

#!/usr/bin/env bash
# Runs `vsrouter check -c FILE` over the example configs.
# Usage: check_configs.sh VSROUTER_BINARY CONFIGS_DIR
#   CONFIGS_DIR/good/*.toml must be accepted (exit 0).
#   CONFIGS_DIR/bad/*.toml must be rejected (exit 2) with stderr exactly "FILE:LINE:COL: message",
#   where the file's first line is the comment "# expect: LINE:COL: message".
# Prints one line per file and a final "N passed, M failed"; exits 1 on any failure.
set -u

if [[ $# -ne 2 ]]; then
  echo "usage: $0 VSROUTER_BINARY CONFIGS_DIR" >&2
  exit 64
fi
bin=$1
dir=${2%/}
if [[ ! -x $bin ]]; then
  echo "$0: $bin is not an executable" >&2
  exit 64
fi

shopt -s nullglob
passed=0
failed=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

pass() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

for f in "$dir"/good/*.toml; do
  "$bin" check -c "$f" >"$out" 2>"$err"
  rc=$?
  if [[ $rc -eq 0 ]]; then
    pass "$f"
  else
    fail "$f" "expected exit 0, got exit $rc: $(head -c 500 "$err")"
  fi
done

for f in "$dir"/bad/*.toml; do
  first=$(head -n 1 "$f")
  if [[ $first != "# expect: "* ]]; then
    fail "$f" "first line is not '# expect: LINE:COL: message'"
    continue
  fi
  expected="$f:${first#"# expect: "}"
  "$bin" check -c "$f" >"$out" 2>"$err"
  rc=$?
  got=$(cat "$err")   # $(...) drops the trailing newline
  if [[ $rc -ne 2 ]]; then
    fail "$f" "expected exit 2, got exit $rc; stderr: $got"
  elif [[ $got != "$expected" ]]; then
    fail "$f" $'stderr differs\n       expected: '"$expected"$'\n       got:      '"$got"
  else
    pass "$f"
  fi
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]] || exit 1

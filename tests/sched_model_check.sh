#!/bin/sh
# Re-runs the independent Python model of the kernel's dh/sh/mh schedulers and checks that its
# output is byte-for-byte the committed fixture that the C++ test (sched_hash_fixture_test.cpp)
# compares against. Usage: sched_model_check.sh <tests dir>
set -eu
dir=${1:-$(dirname "$0")}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
/usr/bin/python3 "$dir/sched_model.py" > "$out"
if cmp -s "$dir/fixtures/sched_hash_expected.txt" "$out"; then
  echo "sched_model: fixture matches the Python model"
else
  diff -u "$dir/fixtures/sched_hash_expected.txt" "$out" | head -40 >&2 || true
  echo "sched_model: tests/fixtures/sched_hash_expected.txt differs from tests/sched_model.py output" >&2
  echo "  (regenerate with: /usr/bin/python3 tests/sched_model.py > tests/fixtures/sched_hash_expected.txt," >&2
  echo "   after checking the change against the kernel source)" >&2
  exit 1
fi

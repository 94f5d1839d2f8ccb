#!/usr/bin/env bash
# One golden replay case (pcaps/<case>/) under valgrind (memcheck): no invalid access, no use of
# uninitialised memory, no leak, and the output still byte-identical to expected/.
# Usage: valgrind_replay.sh VSROUTER CASE_DIR WORK_DIR
# Registered for the release build only (valgrind and ASan do not mix). Skips (ctest code 77)
# when valgrind is missing, except under CI=true, where that is a failure.
set -euo pipefail
vsrouter=$1 case_dir=${2%/} work=$3
if ! command -v valgrind >/dev/null; then
  [[ ${CI:-} == true ]] && { echo "FAIL: valgrind is not installed (scripts/setup)"; exit 1; }
  echo "SKIP: valgrind is not installed"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
extra=()
[[ -f $case_dir/args ]] && read -r -a extra < "$case_dir/args"
if ! valgrind -q --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes --log-file="$work/valgrind.log" \
    "$vsrouter" replay -c "$case_dir/vsrouter.toml" --in "$case_dir/in" --out "$work/out" --list --list-conns \
    "${extra[@]}" > "$work/list.txt"; then
  cat "$work/valgrind.log"
  echo "FAIL: valgrind reports errors (log: $work/valgrind.log)"
  exit 1
fi
failed=0
for f in "$case_dir"/expected/*; do
  got=$work/out/$(basename "$f")
  [[ $(basename "$f") == list.txt ]] && got=$work/list.txt
  if ! cmp -s "$f" "$got"; then
    echo "FAIL: $(basename "$f") differs from expected/ under valgrind"
    failed=1
  fi
done
[[ $failed == 0 ]] && echo "ok: $(basename "$case_dir") under valgrind: no errors, no leaks, output as expected"
exit $failed

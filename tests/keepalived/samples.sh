#!/usr/bin/env bash
# keepalived's own sample configs through `vsrouter check` (issue: read keepalived.conf): each
# loads with the rules keepalived would program (tests/keepalived/samples/NAME.rules, reasoned in
# NAME.md), or fails only with the documented refusal (expected.tsv). Every sample the package
# ships must be listed, so a new keepalived package's new sample is noticed.
# Usage: tests/keepalived/samples.sh VSROUTER [SAMPLES_DIR]
set -u
VSROUTER=$1
SAMPLES=${2:-/usr/share/doc/keepalived/samples}
HERE=$(cd "$(dirname "$0")" && pwd)
EXPECT=$HERE/samples/expected.tsv
pass=0 fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
if ! compgen -G "$SAMPLES/keepalived.conf.*" >/dev/null; then
  echo "FAIL: no samples in $SAMPLES (install keepalived)"; echo "0 passed, 1 failed"; exit 1
fi
for f in "$SAMPLES"/keepalived.conf.*; do
  name=${f#"$SAMPLES"/keepalived.conf.}
  want=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$EXPECT")
  if [[ -z $want ]]; then bad "$name: not in expected.tsv"; continue; fi
  out=$("$VSROUTER" check -c "$f" --save 2>/tmp/ka-samples.$$.err); rc=$?
  err=$(grep -v ': note: ' /tmp/ka-samples.$$.err)
  case $want in
    rules)
      if (( rc != 0 )); then bad "$name: refused: $err"; continue; fi
      if ! diff <(sort <<<"$out") <(sort "$HERE/samples/$name.rules"); then bad "$name: rules differ (< ours, > keepalived's)"; continue; fi
      ;;
    loads)
      if (( rc != 0 )); then bad "$name: refused: $err"; continue; fi
      ;;
    refused\ *)
      text=${want#refused }
      if (( rc != 2 )); then bad "$name: exit $rc, expected a refusal ($text)"; continue; fi
      if ! grep -qF -- "$text" <<<"$err"; then bad "$name: expected \"$text\", got: $err"; continue; fi
      # FILE:LINE:COL: the refusal names where it is.
      if ! grep -qE "^$f:[0-9]+:[0-9]+: " <<<"$err"; then bad "$name: no FILE:LINE:COL in: $err"; continue; fi
      ;;
    *) bad "$name: bad expectation \"$want\""; continue ;;
  esac
  pass=$((pass + 1))
done
rm -f /tmp/ka-samples.$$.err
echo "$pass passed, $fail failed"
(( fail == 0 ))

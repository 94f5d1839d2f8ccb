#!/usr/bin/env bash
# Renders each man page given (built by scdoc from man/*.scd) and fails if man or groff says
# anything on stderr (warnings: unknown macros, bad escapes, lines that cannot be broken at 80
# columns, ...). Exit 77 (ctest: skipped) when the pages were not built (no scdoc) or when neither
# man nor groff is installed; CI installs scdoc, man-db and groff-base (scripts/setup).
set -uo pipefail
[[ $# -gt 0 ]] || { echo "usage: $0 PAGE..." >&2; exit 2; }
for page in "$@"; do
  if [[ ! -f $page ]]; then
    echo "SKIP: $page was not built (scdoc missing? apt-get install scdoc)"
    exit 77
  fi
done
if command -v man >/dev/null; then
  render() { MANWIDTH=80 MAN_KEEP_FORMATTING=1 man --warnings -l "$1" 2>&1 >/dev/null; }
elif command -v groff >/dev/null; then
  render() { groff -man -ww -z -rLL=80n "$1" 2>&1; }
else
  echo "SKIP: neither man (man-db) nor groff (groff-base) is installed"
  exit 77
fi
rc=0
for page in "$@"; do
  warnings=$(render "$page")
  status=$?
  if [[ $status -ne 0 || -n $warnings ]]; then
    echo "FAIL: $page (status $status):"
    echo "$warnings"
    rc=1
  else
    echo "ok: $page"
  fi
done
exit $rc

#!/usr/bin/env bash
# A flood (SYNs, or fragments) through `vsrouter replay`: vsflood writes what it fed (in/<interface>.pcap), the
# config and its final listing; the CLI replay of those pcaps must end with the same listing
# (ipvsadm -Ln --stats, interface counters, events and every drop reason).
# Usage: replay_check.sh VSFLOOD VSROUTER WORK_DIR [vsflood options]
set -euo pipefail
vsflood=$1 vsrouter=$2 work=$3
shift 3
rm -rf "$work"
mkdir -p "$work"
"$vsflood" --pcap-dir "$work" "$@" > "$work/vsflood.txt" || { cat "$work/vsflood.txt"; exit 1; }
"$vsrouter" replay -c "$work/vsrouter.toml" --in "$work/in" --out "$work/out" --list > "$work/list.txt"
if ! diff -u "$work/expected-list.txt" "$work/list.txt"; then
  echo "FAIL: vsrouter replay of the flood ends differently from the in-process run"
  exit 1
fi
echo "ok: vsrouter replay of $(du -sh "$work/in" | cut -f1) of flood pcaps ends with the same listing"
grep -E "conn_table_full|conn_evicted|conn_expired|frag_|total" "$work/list.txt" || true

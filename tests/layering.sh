#!/usr/bin/env bash
# The layers of src/ include only the layers below them (docs/architecture.md, "Layers"): a file
# in a folder on the left may include project headers only from the folders on the right.
# Adapters (src/tap, src/replay, src/cli) and the control language (src/ctl) sit on top and are
# not listed. The config model holds checker settings as the checkers' own value types (status
# codes, digests, byte patterns, DNS types), whose parsers live with the codecs in src/check. Usage: tests/layering.sh REPO
set -u
SRC=$1/src
declare -A allowed=(
  [base]="base"
  [wire]="base wire"
  [config]="base config check/dns.hpp check/http.hpp check/udp_match.hpp"
  [conn]="base config conn flow.hpp"
  [ipvs]="base config conn ipvs flow.hpp drop.hpp wire/ipvs_sync.hpp handover/state.hpp"
  [handover]="base handover"
  [keepalived]="base config keepalived"
  [sched]="base config conn ipvs sched flow.hpp"
  [fwd]="base wire fwd"
  [frag]="base wire frag drop.hpp"
  [check]="base wire config check"
  [vrrp]="base wire config vrrp"
  [sync]="base wire config conn ipvs sync flow.hpp drop.hpp"
  [announce]="base config announce"
)
fail=0
for layer in "${!allowed[@]}"; do
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"${line#*:}")
    top=${inc%%/*}
    ok=0
    for a in ${allowed[$layer]}; do [[ $top == "$a" || $inc == "$a" ]] && ok=1; done
    if (( !ok )); then
      echo "FAIL: ${file#"$1"/} includes \"$inc\": src/$layer/ may include only: ${allowed[$layer]}"
      fail=1
    fi
  done < <(grep -HE '^#include "' "$SRC/$layer"/*.hpp "$SRC/$layer"/*.cpp 2>/dev/null)
done
if (( fail )); then echo "0 passed, 1 failed"; exit 1; fi
echo "1 passed, 0 failed"

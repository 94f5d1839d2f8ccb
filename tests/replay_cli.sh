#!/usr/bin/env bash
# Replay CLI behaviour a user meets: bad inputs give one clear line and a non-zero exit; good
# inputs give an output pcap per interface. Usage: replay_cli.sh VSROUTER SOURCE_DIR WORK_DIR
set -u
VS=$1 SRC=$2 WORK=$3
CASE=$SRC/pcaps/router_basic
CFG=$CASE/vsrouter.toml
rm -rf "$WORK" && mkdir -p "$WORK"
pass=0 fail=0

# expect NAME WANT_RC WANT_STDERR_SUBSTRING -- command...
expect() {
  local name=$1 want_rc=$2 want_err=$3
  shift 4
  local err rc
  err=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [[ $rc -eq $want_rc && $err == *"$want_err"* ]]; then
    echo "ok   $name"
    pass=$((pass + 1))
  else
    echo "FAIL $name: exit $rc (want $want_rc), stderr: $err (want to contain: $want_err)"
    fail=$((fail + 1))
  fi
}

mkdir -p "$WORK/trunc" "$WORK/dlt" "$WORK/garbage" "$WORK/stray" "$WORK/empty"
# A pcap cut in the middle of a record.
head -c $(( $(stat -c %s "$CASE/in/lan.pcap") - 10 )) "$CASE/in/lan.pcap" > "$WORK/trunc/lan.pcap"
# A valid pcap header with link type 101 (raw IP), not Ethernet.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x65\x00\x00\x00' > "$WORK/dlt/lan.pcap"
echo "this is not a pcap" > "$WORK/garbage/wan.pcap"
cp "$CASE/in/lan.pcap" "$WORK/stray/lna.pcap"
printf 'x = \n' > "$WORK/bad.toml"

expect "missing input directory" 2 "input directory does not exist" -- \
  "$VS" replay -c "$CFG" --in "$WORK/nope" --out "$WORK/o1"
expect "truncated pcap" 2 "lan.pcap: bad pcap record" -- \
  "$VS" replay -c "$CFG" --in "$WORK/trunc" --out "$WORK/o2"
expect "non-Ethernet pcap" 2 "not an Ethernet pcap: link type 12 (RAW)" -- \
  "$VS" replay -c "$CFG" --in "$WORK/dlt" --out "$WORK/o3"
expect "not a pcap at all" 2 "wan.pcap: not a readable pcap file" -- \
  "$VS" replay -c "$CFG" --in "$WORK/garbage" --out "$WORK/o4"
expect "pcap naming no interface" 2 "no interface named \"lna\"" -- \
  "$VS" replay -c "$CFG" --in "$WORK/stray" --out "$WORK/o5"
expect "invalid config" 2 "$WORK/bad.toml:1:" -- \
  "$VS" replay -c "$WORK/bad.toml" --in "$CASE/in" --out "$WORK/o6"
expect "missing config file" 2 "cannot read config" -- \
  "$VS" replay -c "$WORK/none.toml" --in "$CASE/in" --out "$WORK/o7"
expect "missing --in" 2 "--in is required" -- "$VS" replay -c "$CFG" --out "$WORK/o8"
expect "negative --advance" 2 "--advance must be" -- \
  "$VS" replay -c "$CFG" --in "$CASE/in" --out "$WORK/o9" --advance -1
expect "unknown command" 2 "unknown command" -- "$VS" frobnicate
expect "empty input directory" 0 "" -- "$VS" replay -c "$CFG" --in "$WORK/empty" --out "$WORK/o10"
for f in lan wan; do
  if [[ $(stat -c %s "$WORK/o10/$f.pcap" 2>/dev/null) == 24 ]]; then
    echo "ok   empty output pcap for $f"; pass=$((pass + 1))
  else
    echo "FAIL empty output pcap for $f missing or not empty"; fail=$((fail + 1))
  fi
done

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]

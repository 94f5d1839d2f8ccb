#!/usr/bin/env bash
# What replay explains and reads beyond pcap: the --trace line that says why a new connection went
# to its real (rr in nat_tcp, wlc and sh in schedulers), the --diagram of nat_tcp's first connection
# (its arrows, exactly), and pcapng input: the nat_tcp case rewritten as a `run --capture` file would
# be (inputs inbound, the expected outputs outbound, in one pcapng per interface) replays to the
# same bytes; a broken pcapng is one clear line.
# Usage: replay_explain.sh VSROUTER SOURCE_DIR WORK_DIR
set -u
VS=$1 SRC=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK"
pass=0 fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

replay() {  # CASE OUT extra args...
  local c=$SRC/pcaps/$1 out=$2
  shift 2
  "$VS" replay -c "$c/vsrouter.toml" --in "$c/in" --out "$out" $(cat "$c/args" 2>/dev/null) "$@"
}

# --- --trace: the scheduler's inputs --------------------------------------------------------
replay nat_tcp "$WORK/o1" --trace >"$WORK/nat_tcp.trace" 2>&1 || bad "nat_tcp --trace exits 0"
want='    scheduled: rr TCP 203.0.113.100:80 for 203.0.113.50:40001: 10.1.0.12:8080 w 1 act 0 inact 0, 10.1.0.11:8080 w 1 act 0 inact 0 -> 10.1.0.12:8080 (nat)'
if grep -qxF -- "$want" "$WORK/nat_tcp.trace"; then ok "trace: rr decision"; else
  bad "trace: rr decision: want [$want], got:"; grep scheduled: "$WORK/nat_tcp.trace" | head -3; fi

replay schedulers "$WORK/o2" --trace >"$WORK/schedulers.trace" 2>&1 || bad "schedulers --trace exits 0"
for want in "    scheduled: wlc TCP 203.0.113.100:7004 for 203.0.113.10:20301: 10.1.0.14:8080 w 0 act 0 inact 0 oh 0, 10.1.0.13:8080 w 2 act 0 inact 0 oh 0, 10.1.0.12:8080 w 3 act 0 inact 0 oh 0, 10.1.0.11:8080 w 1 act 0 inact 0 oh 0 -> 10.1.0.13:8080 (nat)" \
  "    scheduled: sh TCP 203.0.113.100:7012 for 203.0.113.10:21201: bucket 162; 10.1.0.15:8080 w 3 act 0 inact 0, 10.1.0.14:8080 w 1 act 0 inact 0, 10.1.0.13:8080 w 0 act 0 inact 0, 10.1.0.12:8080 w 2 act 0 inact 0, 10.1.0.11:8080 w 1 act 0 inact 0 -> 10.1.0.15:8080 (nat)"; do
  if grep -qxF -- "$want" "$WORK/schedulers.trace"; then ok "trace: $(awk '{print $2}' <<<"$want") decision"; else
    bad "trace: want [$want]"; fi
done

replay persistence "$WORK/o6" --trace >"$WORK/persistence.trace" 2>&1 || bad "persistence --trace exits 0"
for want in "    scheduled: rr TCP 192.168.0.100:80 for 192.168.1.2:40000: 10.0.0.13:80 w 1 act 0 inact 0, 10.0.0.12:80 w 1 act 0 inact 0, 10.0.0.11:80 w 1 act 0 inact 0 -> 10.0.0.13:80 (dr), new persistence template for 30 s" \
  "    scheduled: persistence template TCP 192.168.0.100:80 for 192.168.1.2:40001: a template for the client's network exists, no scheduler ran -> 10.0.0.13:80 (dr)"; do
  if grep -qxF -- "$want" "$WORK/persistence.trace"; then ok "trace: persistence ${want:15:20}"; else bad "trace: want [$want]"; fi
done

# --- --diagram ------------------------------------------------------------------------------
replay nat_tcp "$WORK/o3" --diagram 1 >"$WORK/nat_tcp.mmd" 2>"$WORK/err" || bad "nat_tcp --diagram 1 exits 0: $(cat "$WORK/err")"
cat >"$WORK/want.arrows" <<'ARROWS'
  C->>D: +0.500000 wan 203.0.113.50:40001 → 203.0.113.100:80 [S]
  D->>R: +0.510000 lan 203.0.113.50:40001 → 10.1.0.12:8080 [S]
  R->>D: +0.520000 lan 10.1.0.12:8080 → 203.0.113.50:40001 [SA]
  D->>C: +0.520000 wan 203.0.113.100:80 → 203.0.113.50:40001 [SA]
  C->>D: +0.530000 wan 203.0.113.50:40001 → 203.0.113.100:80 [A]
  D->>R: +0.530000 lan 203.0.113.50:40001 → 10.1.0.12:8080 [A]
  C->>D: +0.540000 wan 203.0.113.50:40001 → 203.0.113.100:80 [PA] len 18
  D->>R: +0.540000 lan 203.0.113.50:40001 → 10.1.0.12:8080 [PA] len 18
  R->>D: +0.550000 lan 10.1.0.12:8080 → 203.0.113.50:40001 [PA] len 32
  D->>C: +0.550000 wan 203.0.113.100:80 → 203.0.113.50:40001 [PA] len 32
  C->>D: +0.560000 wan 203.0.113.50:40001 → 203.0.113.100:80 [A]
  D->>R: +0.560000 lan 203.0.113.50:40001 → 10.1.0.12:8080 [A]
  R->>D: +0.570000 lan 10.1.0.12:8080 → 203.0.113.50:40001 [FA]
  D->>C: +0.570000 wan 203.0.113.100:80 → 203.0.113.50:40001 [FA]
  C->>D: +0.580000 wan 203.0.113.50:40001 → 203.0.113.100:80 [A]
  D->>R: +0.580000 lan 203.0.113.50:40001 → 10.1.0.12:8080 [A]
  C->>D: +0.590000 wan 203.0.113.50:40001 → 203.0.113.100:80 [FA]
  D->>R: +0.590000 lan 203.0.113.50:40001 → 10.1.0.12:8080 [FA]
  R->>D: +0.600000 lan 10.1.0.12:8080 → 203.0.113.50:40001 [A]
  D->>C: +0.600000 wan 203.0.113.100:80 → 203.0.113.50:40001 [A]
ARROWS
if grep -E '^  [CDR]->>[CDR]:' "$WORK/nat_tcp.mmd" | diff -u "$WORK/want.arrows" - >"$WORK/arrows.diff"; then
  ok "diagram: nat_tcp connection 1 arrows"
else bad "diagram: nat_tcp connection 1 arrows:"; cat "$WORK/arrows.diff"; fi
head -1 "$WORK/nat_tcp.mmd" | grep -qx sequenceDiagram && ok "diagram: Mermaid header" || bad "diagram: Mermaid header"
replay nat_tcp "$WORK/o4" --diagram 203.0.113.50:40001 | cmp -s - "$WORK/nat_tcp.mmd" && ok "diagram: CLIENT:PORT = N" ||
  bad "diagram: CLIENT:PORT differs from N"
err=$(replay nat_tcp "$WORK/o5" --diagram x 2>&1 >/dev/null)
[[ $? -eq 2 && $err == *"want N"* ]] && ok "diagram: bad CONN is one clear line" || bad "diagram: bad CONN: $err"
err=$(replay nat_tcp "$WORK/o5" --diagram 999 2>&1 >/dev/null)
[[ $? -eq 2 && $err == *"scheduled"* ]] && ok "diagram: unknown connection" || bad "diagram: unknown connection: $err"

# IPv6: a NAT connection of pcaps/ipv6_services by its [client]:port, and a TUN one of
# pcaps/ipv6_tun in its IPv6 tunnel (the outer header on the director's arrow).
replay ipv6_services "$WORK/o6" --diagram '[2001:db8::c1]:40001' >"$WORK/v6.mmd" 2>"$WORK/err" ||
  bad "ipv6_services --diagram [client]:port exits 0: $(cat "$WORK/err")"
cat >"$WORK/want6.arrows" <<'ARROWS'
  C->>D: +2.000000 wan [2001:db8::c1]:40001 → [2001:db8::80]:80 [S]
  D->>R: +2.000000 lan [2001:db8::c1]:40001 → [2001:db8:1::12]:8080 [S]
  R->>D: +2.100000 lan [2001:db8:1::12]:8080 → [2001:db8::c1]:40001 [SA]
  D->>C: +2.100000 wan [2001:db8::80]:80 → [2001:db8::c1]:40001 [SA]
  C->>D: +2.200000 wan [2001:db8::c1]:40001 → [2001:db8::80]:80 [PA] len 5
  D->>R: +2.200000 lan [2001:db8::c1]:40001 → [2001:db8:1::12]:8080 [PA] len 5
ARROWS
if grep -E '^  [CDR]->>[CDR]:' "$WORK/v6.mmd" | diff -u "$WORK/want6.arrows" - >"$WORK/arrows6.diff"; then
  ok "diagram: an IPv6 NAT connection's arrows"
else bad "diagram: an IPv6 NAT connection's arrows:"; cat "$WORK/arrows6.diff"; fi
replay ipv6_tun "$WORK/o7" --diagram '[2001:db8::c1]:40002' >"$WORK/tun6.mmd" 2>"$WORK/err" ||
  bad "ipv6_tun --diagram exits 0: $(cat "$WORK/err")"
grep -qF 'D->>R: +2.100000 lan tunnel 2001:db8:1::1 → 2001:db8:1::31<br/>inner [2001:db8::c1]:40002 → [2001:db8::80]:80 [S]' \
  "$WORK/tun6.mmd" && ok "diagram: an IPv6 TUN connection in its tunnel" || bad "diagram: IPv6 TUN: $(cat "$WORK/tun6.mmd")"

# --- pcapng input -----------------------------------------------------------------------------
mkdir -p "$WORK/ng"
python3 - "$SRC/pcaps/nat_tcp" "$WORK/ng" <<'PYEOF' || bad "pcapng: build"
import struct, sys
case, out = sys.argv[1], sys.argv[2]
def pcap(path):
    b = open(path, "rb").read()
    assert struct.unpack_from("<I", b)[0] == 0xA1B2C3D4
    at, recs = 24, []
    while at < len(b):
        s, us, cap, _ = struct.unpack_from("<IIII", b, at)
        recs.append((s * 1000000 + us, b[at + 16 : at + 16 + cap]))
        at += 16 + cap
    return recs
def block(t, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", t, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
def opt(code, v):
    return struct.pack("<HH", code, len(v)) + v + b"\0" * (-len(v) % 4)
for ifc in ("wan", "lan"):
    recs = [(t, d, 1) for t, d in pcap(f"{case}/in/{ifc}.pcap")] + [(t, d, 2) for t, d in pcap(f"{case}/expected/{ifc}.pcap")]
    recs.sort(key=lambda r: (r[0], r[2]))
    f = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + opt(0, b""))
    f += block(1, struct.pack("<HHI", 1, 0, 262144) + opt(2, ifc.encode()) + opt(9, b"\x06") + opt(0, b""))
    for t, d, dr in recs:
        f += block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(d), len(d)) + d + b"\0" * (-len(d) % 4)
                   + opt(2, struct.pack("<I", dr)) + opt(0, b""))
    open(f"{out}/{ifc}.pcapng", "wb").write(f)
PYEOF
c=$SRC/pcaps/nat_tcp
if "$VS" replay -c "$c/vsrouter.toml" --in "$WORK/ng" --out "$WORK/ngout" $(cat "$c/args") >/dev/null 2>"$WORK/err" &&
  cmp -s "$WORK/ngout/wan.pcap" "$c/expected/wan.pcap" && cmp -s "$WORK/ngout/lan.pcap" "$c/expected/lan.pcap"; then
  ok "pcapng: a capture of nat_tcp replays to the expected bytes"
else bad "pcapng: replay differs from expected: $(cat "$WORK/err")"; fi
mkdir -p "$WORK/ngtrunc" "$WORK/both"
head -c 200 "$WORK/ng/wan.pcapng" >"$WORK/ngtrunc/wan.pcapng"
err=$("$VS" replay -c "$c/vsrouter.toml" --in "$WORK/ngtrunc" --out "$WORK/x" 2>&1 >/dev/null)
[[ $? -eq 2 && $(wc -l <<<"$err") -eq 1 && $err == *"bad pcapng block"* ]] && ok "pcapng: truncated: $err" ||
  bad "pcapng: truncated: $err"
cp "$WORK/ng/wan.pcapng" "$c/in/wan.pcap" "$WORK/both/"
err=$("$VS" replay -c "$c/vsrouter.toml" --in "$WORK/both" --out "$WORK/x" 2>&1 >/dev/null)
[[ $? -eq 2 && $err == *"is there too"* ]] && ok "pcapng: .pcap and .pcapng for one interface" || bad "pcapng: both: $err"

echo "$pass passed, $fail failed"
((fail == 0))

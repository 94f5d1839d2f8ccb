#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (docs/hardening.md) from the repository's own inputs.

  corpus/engine/seed-*   the golden cases' input frames (pcaps/*/in/*.pcap), merged in replay
                         order and encoded as fuzz_engine.cpp records, in pieces of at most 8 KiB
  corpus/replay/seed-*   the golden input pcaps (cut to 16 KiB), plus the same frames as
                         pcapng, as nanosecond pcap and as big-endian pcap
  corpus/config/seed-*   every TOML file: tests/configs/, pcaps/*/vsrouter.toml, conf/
  corpus/probe/seed-*    health-check answers (fuzz_probe.cpp's layout): HTTP responses (plain,
                         chunked, garbage), DNS answers (NOERROR, NXDOMAIN), UDP hex strings and replies
  corpus/handover/seed-* handover stream sections (fuzz_handover.cpp's sealed form)

Seeds are re-made from scratch; other files (regression inputs of fixed findings, named
regress-*) are left alone. Run from anywhere: /usr/bin/python3 tests/fuzz/make_corpus.py
"""
import glob
import os
import struct
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(HERE, "corpus")
MAX_ENGINE = 8192
MAX_PCAP = 16384

# fuzz_common.hpp: interface 0 has 02:00:00:00:00:01, 1 has ...:02, 2 has ...:03.
FUZZ_MACS = {"02:00:00:00:00:01": 0, "02:00:00:00:00:02": 1, "02:00:00:00:00:03": 2}


def read_pcap(path):
    """[(ts_us, bytes)] of a classic microsecond little-endian pcap (what the golden cases hold)."""
    with open(path, "rb") as f:
        data = f.read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xA1B2C3D4 and linktype == 1, path
    out, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        out.append((sec * 1000000 + usec, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return out


def pcap_bytes(records, nano=False, big=False):
    e = ">" if big else "<"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = bytearray(struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 262144, 1))
    for ts, b in records:
        frac = (ts % 1000000) * (1000 if nano else 1)
        out += struct.pack(e + "IIII", ts // 1000000, frac, len(b), len(b)) + b
    return bytes(out)


def pcapng_bytes(records):
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", 1, 0, 262144))  # IDB: Ethernet, default microseconds
    for ts, b in records:
        out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(b), len(b)) + b)
    return out


def cut(records, limit):
    out, size = [], 24
    for r in records:
        if size + 16 + len(r[1]) > limit and out:
            break
        out.append(r)
        size += 16 + len(r[1])
    return out


def engine_records(case):
    """The case's input frames in replay order, as (fuzz interface, ts_us, bytes)."""
    with open(os.path.join(case, "vsrouter.toml"), "rb") as f:
        cfg = tomllib.load(f)
    merged = []
    for order, itf in enumerate(cfg["interfaces"]):
        p = os.path.join(case, "in", itf["name"] + ".pcap")
        if not os.path.exists(p):
            continue
        fuzz_if = FUZZ_MACS.get(itf["mac"].lower().replace("-", ":"), 2)
        for seq, (ts, b) in enumerate(read_pcap(p)):
            merged.append((ts, order, seq, fuzz_if, b))
    merged.sort()
    return [(fi, ts, b) for ts, _, _, fi, b in merged]


def offload_of(b, mss=536):
    """An offload record (fuzz_engine.cpp) for a TCP frame, as a TAP with TSO would give it:
    checksum partial, and a super-frame of `mss`-byte segments when its payload is longer."""
    if len(b) < 54 or b[12:14] != b"\x08\x00" or b[23] != 6:
        return None
    ihl = (b[14] & 15) * 4
    tot = (b[16] << 8) | b[17]
    payload = tot - ihl - (b[14 + ihl + 12] >> 4) * 4
    return struct.pack(">BHHH", 1, mss if payload > mss else 0, 14 + ihl, 16)


def encode(records, offload=False):
    """fuzz_engine.cpp records, split into pieces of at most MAX_ENGINE bytes."""
    pieces, cur, last = [], bytearray(), None
    for iface, ts, b in records:
        b = b[:9100]  # longer than any frame the engine takes (eth_too_long) is long enough
        dt = 0 if last is None else ts - last
        last = ts
        if dt >= 65536 * 100:
            flags, step = iface | 4, min(dt // 1000000, 1023)
        else:
            flags, step = iface, dt // 100
        off = offload_of(b) if offload else None
        if off:
            flags |= 16
        rec = struct.pack(">BHH", flags, step, len(b)) + (off or b"") + b
        if cur and len(cur) + len(rec) > MAX_ENGINE:
            pieces.append(bytes(cur))
            cur = bytearray()
        cur += rec
    if cur:
        pieces.append(bytes(cur))
    return pieces


def reset(name):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "seed-*")):
        os.remove(f)
    return d


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# A Scapy-built answer (tests/unit/check_dns_test.cpp's kScapyAnswer): www.example.com A 192.0.2.7.
DNS_ANSWER = bytes.fromhex("12348180000100010000000003777777076578616d706c6503636f6d0000010001"
                           "03777777076578616d706c6503636f6d00000100010000003c0004c0000207")


def probe_seeds():
    """fuzz_probe.cpp's inputs: a selector byte (modulo 3: HTTP, DNS, UDP), then that codec's layout."""
    d = reset("probe")
    http = {
        "http-ok": b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\nhello world\n",
        "http-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "http-404": b"HTTP/1.0 404 Not Found\r\nServer: x\r\ncontent-length: 3\r\n\r\nno\n",
        "http-garbage": b"\x00\xffSSH-2.0 9999 \r\n\n\r\x00Content-Length: 99999999999999999999\r\n",
    }
    for i, (name, text) in enumerate(http.items()):
        write(d, "seed-" + name, bytes([0, 4 + i]) + text)
    write(d, "seed-dns-answer", bytes([1, 0x12, 0x34]) + DNS_ANSWER)
    write(d, "seed-dns-nxdomain", bytes([1, 0x12, 0x34]) + DNS_ANSWER[:3] + b"\x83" + DNS_ANSWER[4:])
    write(d, "seed-dns-name", bytes([1, 0, 1]) + b"www.example.com.")
    write(d, "seed-udp-mask", bytes([2, 0, 0, 0, 255]) + b"de ad XX e f|\xde\xad\x00\x0e\x0f")
    write(d, "seed-udp-lone-x", bytes([2, 0, 4, 1, 0]) + b"0102 X x4|\x01\x02\x0f\x44")


def ip(a):
    """Ipv4Addr::v of a dotted address: the address as a host-order integer."""
    o = [int(x) for x in a.split(".")]
    return (o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]


def handover_section(tag, records):
    body = b"".join(records)
    return struct.pack("<IIQ", tag, len(records), len(body)) + body


def handover_seeds():
    """fuzz_handover.cpp's inputs, odd first byte: the sections of a stream (src/handover/state.cpp),
    sealed by the target. A template and two connections of the fuzz config's services (one on a
    real it does not have), a neighbour, a checker, a VRRP instance, a drop counter."""
    d = reset("handover")
    now = 1_700_000_000_000_000
    clock = struct.pack("<qQ", now, 123456789) + bytes([4]) + b"seed" + struct.pack("<5Q", 3, 10, 9, 1000, 900)

    def conn(proto, state, flags, c, cp, v, vp, r, rp, control, timeout):
        return (struct.pack("<BBBBH", proto, 0, state, state, flags) + struct.pack("<III", ip(c), ip(v), ip(r)) +
                struct.pack("<HHH", cp, vp, rp) + struct.pack("<qqq", now + timeout // 2, timeout, now) +
                struct.pack("<IIIB", control, 3, 0, 0))
    conns = [
        conn(6, 0, 1 | 2, "203.0.113.50", 0, "203.0.113.101", 443, "10.1.0.11", 443, 0xFFFFFFFF, 300_000_000),
        conn(6, 1, 8, "203.0.113.50", 40000, "203.0.113.101", 443, "10.1.0.11", 443, 0, 900_000_000),
        conn(6, 3, 4 | 16, "203.0.113.51", 40001, "203.0.113.100", 80, "10.1.0.12", 8080, 0xFFFFFFFF, 60_000_000),
        conn(17, 0, 4, "203.0.113.52", 53, "203.0.113.100", 53, "10.1.0.99", 53, 0xFFFFFFFF, 300_000_000),
    ]
    neigh = [bytes([3]) + b"lan" + struct.pack("<I", ip("10.1.0.11")) + bytes([2, 0, 0, 0, 0xaa, 0x11]) +
             struct.pack("<q", now + 30_000_000)]
    check = [struct.pack("<BIHIHIB", 6, ip("203.0.113.100"), 80, ip("10.1.0.11"), 8080, 0, 0) + bytes([1, 1]) +
             struct.pack("<IIQQq", 2, 0, 1, 5, now + 1_000_000)]
    vrrp = [bytes([4]) + b"VI_1" + bytes([2])]
    drops = [bytes([8]) + b"no_route" + struct.pack("<Q", 7)]
    sections = (handover_section(1, [clock]) + handover_section(2, conns) + handover_section(3, neigh) +
                handover_section(5, check) + handover_section(6, vrrp) + handover_section(7, drops))
    write(d, "seed-sections", b"\x01" + sections)
    write(d, "seed-unknown-section", b"\x01" + sections + handover_section(99, [b"future"]))
    write(d, "seed-conns-only", b"\x01" + handover_section(1, [clock]) + handover_section(2, conns))


def main():
    cases = sorted(c for c in glob.glob(os.path.join(ROOT, "pcaps", "*")) if os.path.exists(os.path.join(c, "vsrouter.toml")))

    d = reset("engine")
    for case in cases:
        for i, piece in enumerate(encode(engine_records(case))):
            write(d, f"seed-{os.path.basename(case)}-{i}", piece)
    for name in ("nat_tcp", "dr_tcp", "tun_tcp", "tun_pmtu"):
        case = os.path.join(ROOT, "pcaps", name)
        for i, piece in enumerate(encode(engine_records(case), offload=True)):
            write(d, f"seed-{name}-offload-{i}", piece)

    d = reset("replay")
    for case in cases:
        for p in sorted(glob.glob(os.path.join(case, "in", "*.pcap"))):
            name = f"{os.path.basename(case)}-{os.path.basename(p)}"
            write(d, "seed-" + name, pcap_bytes(cut(read_pcap(p), MAX_PCAP)))
    sample = cut(read_pcap(os.path.join(ROOT, "pcaps", "nat_tcp", "in", "wan.pcap")), MAX_PCAP // 2)
    write(d, "seed-nat_tcp-wan.pcapng", pcapng_bytes(sample))
    write(d, "seed-nat_tcp-wan-nanoseconds.pcap", pcap_bytes(sample, nano=True))
    write(d, "seed-nat_tcp-wan-big-endian.pcap", pcap_bytes(sample, big=True))

    d = reset("config")
    tomls = sorted(glob.glob(os.path.join(ROOT, "tests", "configs", "*", "*.toml")))
    tomls += sorted(glob.glob(os.path.join(ROOT, "pcaps", "*", "vsrouter.toml")))
    tomls += sorted(glob.glob(os.path.join(ROOT, "conf", "*.toml")))
    for p in tomls:
        rel = os.path.relpath(p, ROOT).replace(os.sep, "-")
        with open(p, "rb") as f:
            write(d, "seed-" + rel, f.read())

    probe_seeds()
    handover_seeds()

    for name in ("engine", "replay", "config", "probe", "handover"):
        files = glob.glob(os.path.join(CORPUS, name, "*"))
        print(f"corpus/{name}: {len(files)} files, {sum(os.path.getsize(f) for f in files)} bytes")


if __name__ == "__main__":
    main()

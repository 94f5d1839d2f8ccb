#!/usr/bin/python3
"""An independent model of the IPVS hashing schedulers dh, sh and mh, written from the Linux 6.12
sources (net/netfilter/ipvs/ip_vs_dh.c, ip_vs_sh.c, ip_vs_mh.c, include/linux/hash.h,
lib/siphash.c), in plain Python with no dependency on vsrouter.

It runs a fixed list of scenarios (destinations added one by one at the list head like
__ip_vs_update_dest, weight edits, OVERLOAD flags, deletions, scheduler flags) and prints, after
each phase, the whole lookup table and the choice for a fixed set of client flows. The output
is committed as tests/fixtures/sched_hash_expected.txt; tests/unit/sched_hash_fixture_test.cpp
replays the same scenarios through the C++ schedulers and compares, and
tests/sched_model_check.sh re-runs this script and diffs against the fixture so it cannot drift.

Usage: sched_model.py            print the fixture to stdout
"""

import sys

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF

# ---- include/linux/hash.h ------------------------------------------------------------------

GOLDEN_RATIO_32 = 0x61C88647


def hash_32(val, bits):
    return ((val * GOLDEN_RATIO_32) & M32) >> (32 - bits)


# ---- lib/siphash.c, BITS_PER_LONG == 64: hsiphash is SipHash-1-3, result truncated to u32 -----

def _rol64(x, b):
    return ((x << b) | (x >> (64 - b))) & M64


def _sipround(v):
    v0, v1, v2, v3 = v
    v0 = (v0 + v1) & M64; v1 = _rol64(v1, 13); v1 ^= v0; v0 = _rol64(v0, 32)
    v2 = (v2 + v3) & M64; v3 = _rol64(v3, 16); v3 ^= v2
    v0 = (v0 + v3) & M64; v3 = _rol64(v3, 21); v3 ^= v0
    v2 = (v2 + v1) & M64; v1 = _rol64(v1, 17); v1 ^= v2; v2 = _rol64(v2, 32)
    return [v0, v1, v2, v3]


def hsiphash(data, key):
    """hsiphash(data, len(data), key) on a 64-bit kernel; data is bytes, key = (k0, k1)."""
    k0, k1 = key
    v = [0x736f6d6570736575 ^ k0, 0x646f72616e646f6d ^ k1,
         0x6c7967656e657261 ^ k0, 0x7465646279746573 ^ k1]
    n = len(data)
    b = (n << 56) & M64
    full = n - n % 8
    for i in range(0, full, 8):
        m = int.from_bytes(data[i:i + 8], "little")
        v[3] ^= m
        v = _sipround(v)
        v[0] ^= m
    b |= int.from_bytes(data[full:], "little")
    v[3] ^= b
    v = _sipround(v)
    v[0] ^= b
    v[2] ^= 0xff
    for _ in range(3):
        v = _sipround(v)
    return (v[0] ^ v[1] ^ v[2] ^ v[3]) & M32


# ---- the service model ---------------------------------------------------------------------

def ip(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


class Dest:
    def __init__(self, ident, addr, port, weight):
        self.ident = ident          # index in add order, used for the table dump
        self.addr = addr            # "a.b.c.d"
        self.port = port
        self.weight = weight
        self.last_weight = weight   # set on add even when 0 (__ip_vs_update_dest)
        self.overload = False

    def name(self):
        return "%s:%d" % (self.addr, self.port)


def unavailable(d):
    return d.weight <= 0 or d.overload


# ---- ip_vs_dh.c ----------------------------------------------------------------------------

DH_TAB_BITS = 8
DH_TAB_SIZE = 1 << DH_TAB_BITS


class DH:
    hooks = ("add", "del")  # no upd_dest

    def __init__(self):
        self.buckets = [None] * DH_TAB_SIZE

    def reassign(self, dests):
        # bucket i = the (i mod n)-th destination in list order; weights ignored
        p = 0
        for i in range(DH_TAB_SIZE):
            if not dests:
                self.buckets[i] = None
                continue
            if p == len(dests):
                p = 0
            self.buckets[i] = dests[p]
            p += 1

    def key(self, flow):
        return hash_32(ip(flow["dst"]), DH_TAB_BITS)

    def schedule(self, flow, flags):
        d = self.buckets[self.key(flow)]
        if d is None or d.weight <= 0 or d.overload:  # AVAILABLE: only listed dests are here
            return None
        return d


# ---- ip_vs_sh.c ----------------------------------------------------------------------------

SH_TAB_BITS = 8
SH_TAB_SIZE = 1 << SH_TAB_BITS
SH_TAB_MASK = SH_TAB_SIZE - 1


def flow_port(flow):
    # ip_vs_sh_get_port / ip_vs_mh_get_port: ports[0] for TCP, UDP and SCTP only
    return flow["sport"] if flow["proto"] in (6, 17, 132) else 0


def sh_hashkey(addr, port, offset):
    return (offset + hash_32((port + ip(addr)) & M32, SH_TAB_BITS)) & SH_TAB_MASK


class SH:
    hooks = ("add", "del", "upd")

    def __init__(self):
        self.buckets = [None] * SH_TAB_SIZE

    def reassign(self, dests):
        p = 0
        d_count = 0
        for i in range(SH_TAB_SIZE):
            if not dests:
                self.buckets[i] = None
                continue
            if p == len(dests):
                p = 0
            self.buckets[i] = dests[p]
            d_count += 1
            if d_count >= dests[p].weight:
                p += 1
                d_count = 0

    def key(self, flow, flags):
        port = flow_port(flow) if "sh-port" in flags else 0
        return sh_hashkey(flow["src"], port, 0)

    def schedule(self, flow, flags):
        port = flow_port(flow) if "sh-port" in flags else 0
        ihash = sh_hashkey(flow["src"], port, 0)
        d = self.buckets[ihash]
        if "sh-fallback" not in flags:
            return None if d is None or unavailable(d) else d
        if d is None:
            return None
        if not unavailable(d):
            return d
        for offset in range(SH_TAB_SIZE):
            roffset = (offset + ihash) % SH_TAB_SIZE
            d = self.buckets[sh_hashkey(flow["src"], port, roffset)]
            if d is None:
                break
            if not unavailable(d):
                return d
        return None


# ---- ip_vs_mh.c ----------------------------------------------------------------------------

MH_PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071]
CONFIG_IP_VS_MH_TAB_INDEX = 12
MH_TAB_BITS = CONFIG_IP_VS_MH_TAB_INDEX // 2
MH_TAB_SIZE = MH_PRIMES[CONFIG_IP_VS_MH_TAB_INDEX - 8]
MH_HASH1 = (2654435761, 2654435761)
MH_HASH2 = (2654446892, 2654446892)


def mh_hashkey(addr, port, key, offset):
    v = (offset + port + ip(addr)) & M32
    return hsiphash(v.to_bytes(4, "little"), key)  # the u32 in x86 (little-endian) memory order


def fls(x):
    return x.bit_length()


class MH:
    hooks = ("add", "del", "upd")

    def __init__(self):
        self.lookup = [None] * MH_TAB_SIZE

    def reassign(self, dests):
        if len(dests) > MH_TAB_SIZE:
            return  # -EINVAL, table unchanged
        # ip_vs_mh_gcd_weight
        g = 0
        for d in dests:
            if d.last_weight > 0:
                g = _gcd(d.last_weight, g) if g > 0 else d.last_weight
        # ip_vs_mh_shift_weight
        rshift = 0
        if g >= 1:
            mw = max([0] + [d.last_weight for d in dests]) // g
            rshift = max(fls(mw) - MH_TAB_BITS, 0)
        if g < 1:
            self.lookup = [None] * MH_TAB_SIZE
            return
        # ip_vs_mh_permutate
        setup = []
        for d in dests:
            offset = mh_hashkey(d.addr, d.port, MH_HASH1, 0) % MH_TAB_SIZE
            skip = mh_hashkey(d.addr, d.port, MH_HASH2, 0) % (MH_TAB_SIZE - 1) + 1
            lw = d.last_weight
            turns = (lw // g) >> rshift
            if turns == 0:
                turns = 1 if lw != 0 else 0
            setup.append({"perm": offset, "skip": skip, "turns": turns})
        # ip_vs_mh_populate
        used = [False] * MH_TAB_SIZE
        n = 0
        dt_count = 0
        while n < MH_TAB_SIZE:
            i = 0
            while i < len(dests):
                ds = setup[i]
                if ds["turns"] < 1:
                    i += 1
                    continue
                c = ds["perm"]
                while used[c]:
                    ds["perm"] += ds["skip"]
                    if ds["perm"] >= MH_TAB_SIZE:
                        ds["perm"] -= MH_TAB_SIZE
                    c = ds["perm"]
                used[c] = True
                self.lookup[c] = dests[i]
                n += 1
                if n == MH_TAB_SIZE:
                    return
                dt_count += 1
                if dt_count >= ds["turns"]:
                    dt_count = 0
                    i += 1

    def key(self, flow, flags):
        port = flow_port(flow) if "mh-port" in flags else 0
        return mh_hashkey(flow["src"], port, MH_HASH1, 0) % MH_TAB_SIZE

    def schedule(self, flow, flags):
        port = flow_port(flow) if "mh-port" in flags else 0
        ihash = mh_hashkey(flow["src"], port, MH_HASH1, 0) % MH_TAB_SIZE
        d = self.lookup[ihash]
        if "mh-fallback" not in flags:
            return None if d is None or unavailable(d) else d
        if d is None:
            return None
        if not unavailable(d):
            return d
        for offset in range(MH_TAB_SIZE):
            roffset = (offset + ihash) % MH_TAB_SIZE
            d = self.lookup[mh_hashkey(flow["src"], port, MH_HASH1, roffset) % MH_TAB_SIZE]
            if d is None:
                break
            if not unavailable(d):
                return d
        return None


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


# ---- scenarios -----------------------------------------------------------------------------

ID_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def clients(count, seed):
    """A fixed, varied set of flows: addresses spread over many /8s, all four protocol kinds."""
    out = []
    for i in range(count):
        k = i + seed * 1000
        a = 1 + (k * 37) % 223
        b = (k * 101 + 7) % 256
        c = (k * 53 + 11) % 256
        d = (k * 197 + 3) % 256
        out.append({
            "src": "%d.%d.%d.%d" % (a, b, c, d),
            "dst": "%d.%d.%d.%d" % ((k * 29 + 10) % 223 + 1, (k * 7) % 256, (k * 131) % 256, (k * 89 + 1) % 256),
            "sport": (k * 7919 + 1025) % 65536,
            "proto": (6, 17, 132, 1)[i % 4],
        })
    return out


# Each scenario: (name, scheduler, [ops]). Ops:
#   ("add", "a.b.c.d:port", weight)   insert at the list head, add_dest hook
#   ("weight", "a.b.c.d:port", w)     edit (last_weight kept when w == 0), upd_dest hook
#   ("over", "a.b.c.d:port", 0|1)     set/clear OVERLOAD (no hook: the connection table does it)
#   ("del", "a.b.c.d:port")           unlink, del_dest hook
#   ("flags", "sh-port,sh-fallback")  set the service's scheduler flags ("-" for none)
#   ("check", n, seed)                print the table and the choices for n clients
SCENARIOS = [
    ("dh-three", "dh", [
        ("add", "10.1.0.1:80", 1), ("add", "10.1.0.2:80", 1), ("add", "10.1.0.3:80", 1),
        ("check", 24, 1),
        ("weight", "10.1.0.2:80", 0),   # no upd_dest in dh: the table stays, B's buckets fail
        ("over", "10.1.0.3:80", 1),
        ("check", 24, 1),
        ("del", "10.1.0.1:80"),
        ("check", 24, 1),
    ]),
    ("sh-equal", "sh", [
        ("add", "10.2.0.1:80", 1), ("add", "10.2.0.2:80", 1), ("add", "10.2.0.3:80", 1),
        ("check", 48, 2),
    ]),
    ("sh-weights", "sh", [
        ("add", "10.2.1.1:80", 3), ("add", "10.2.1.2:80", 1), ("add", "10.2.1.3:80", 2),
        ("check", 48, 3),
        ("weight", "10.2.1.1:80", 5),
        ("check", 48, 3),
    ]),
    ("sh-port", "sh", [
        ("flags", "sh-port"),
        ("add", "10.2.2.1:8080", 1), ("add", "10.2.2.2:8080", 1), ("add", "10.2.2.3:8080", 1),
        ("add", "10.2.2.4:8080", 1),
        ("check", 48, 4),
    ]),
    ("sh-fallback", "sh", [
        ("add", "10.2.3.1:80", 2), ("add", "10.2.3.2:80", 1), ("add", "10.2.3.3:80", 1),
        ("add", "10.2.3.4:80", 3),
        ("over", "10.2.3.2:80", 1),
        ("check", 48, 5),              # no fallback: B's buckets give no destination
        ("flags", "sh-fallback"),
        ("check", 48, 5),
        ("weight", "10.2.3.4:80", 0),  # quiesce D: sh rebuilds, D keeps one bucket
        ("check", 48, 5),
        ("flags", "sh-fallback,sh-port"),
        ("check", 48, 6),
        ("over", "10.2.3.2:80", 0),
        ("check", 48, 6),
    ]),
    ("sh-none-available", "sh", [
        ("flags", "sh-fallback"),
        ("add", "10.2.4.1:80", 1), ("add", "10.2.4.2:80", 1),
        ("over", "10.2.4.1:80", 1), ("weight", "10.2.4.2:80", 0),
        ("check", 16, 7),
    ]),
    ("sh-del-and-heavy", "sh", [
        ("add", "10.2.5.1:80", 1), ("add", "10.2.5.2:80", 1), ("add", "10.2.5.3:80", 300),
        ("add", "10.2.5.4:80", 0),
        ("check", 24, 8),              # the 300-weight dest fills the rest of the table
        ("del", "10.2.5.3:80"),
        ("check", 24, 8),
        ("del", "10.2.5.4:80"), ("del", "10.2.5.2:80"), ("del", "10.2.5.1:80"),
        ("check", 8, 8),               # empty service: empty table
    ]),
    ("mh-equal", "mh", [
        ("add", "10.3.0.1:80", 1), ("add", "10.3.0.2:80", 1), ("add", "10.3.0.3:80", 1),
        ("check", 48, 9),
    ]),
    ("mh-weights", "mh", [
        ("add", "10.3.1.1:80", 4), ("add", "10.3.1.2:80", 8), ("add", "10.3.1.3:443", 12),
        ("check", 48, 10),             # gcd 4: turns 1, 2, 3
        ("add", "10.3.1.4:80", 1000),  # gcd 1, fls(1000) = 10, rshift 4: turns 62 for it
        ("check", 48, 10),
    ]),
    ("mh-quiesce", "mh", [
        ("add", "10.3.2.1:80", 1), ("add", "10.3.2.2:80", 2), ("add", "10.3.2.3:80", 1),
        ("check", 48, 11),
        ("weight", "10.3.2.2:80", 0),  # last_weight stays 2: same table, B fails
        ("check", 48, 11),
        ("flags", "mh-fallback"),
        ("check", 48, 11),
        ("over", "10.3.2.1:80", 1),
        ("check", 48, 11),
        ("weight", "10.3.2.2:80", 5),
        ("check", 48, 11),
    ]),
    ("mh-zero-at-add", "mh", [
        ("add", "10.3.3.1:80", 1), ("add", "10.3.3.2:80", 0), ("add", "10.3.3.3:80", 1),
        ("check", 24, 12),             # B added with weight 0: last_weight 0, no slots
        ("weight", "10.3.3.2:80", 3),
        ("check", 24, 12),
    ]),
    ("mh-port", "mh", [
        ("flags", "mh-port"),
        ("add", "10.3.4.1:80", 1), ("add", "10.3.4.2:80", 1), ("add", "10.3.4.3:80", 1),
        ("add", "10.3.4.4:80", 1),
        ("check", 48, 13),
        ("flags", "mh-port,mh-fallback"),
        ("over", "10.3.4.4:80", 1),
        ("check", 48, 13),
    ]),
    ("mh-del", "mh", [
        ("add", "10.3.5.1:80", 1), ("add", "10.3.5.2:80", 1), ("add", "10.3.5.3:80", 1),
        ("add", "10.3.5.4:80", 1), ("add", "10.3.5.5:80", 1),
        ("check", 24, 14),
        ("del", "10.3.5.3:80"),
        ("check", 24, 14),
        ("flags", "mh-fallback"),
        ("over", "10.3.5.1:80", 1), ("over", "10.3.5.2:80", 1), ("over", "10.3.5.4:80", 1),
        ("over", "10.3.5.5:80", 1),
        ("check", 8, 14),              # all overloaded: fallback finds nothing
        ("del", "10.3.5.1:80"), ("del", "10.3.5.2:80"), ("del", "10.3.5.4:80"),
        ("del", "10.3.5.5:80"),
        ("check", 8, 14),              # empty service: empty table
    ]),
]

SCHEDULERS = {"dh": DH, "sh": SH, "mh": MH}


def run_scenario(name, sched_name, ops, out):
    sched = SCHEDULERS[sched_name]()
    dests = []        # the kernel's list, newest first
    everyone = {}     # every dest ever added, by name
    flags = set()
    out.append("scenario %s %s" % (name, sched_name))
    sched.reassign(dests)  # init_service
    for op in ops:
        kind = op[0]
        if kind == "add":
            addr, port = op[1].split(":")
            d = Dest(len(everyone), addr, int(port), op[2])
            everyone[op[1]] = d
            dests.insert(0, d)
            if "add" in sched.hooks:
                sched.reassign(dests)
            out.append("add %s %d" % (op[1], op[2]))
        elif kind == "weight":
            d = everyone[op[1]]
            if op[2] != 0:
                d.last_weight = op[2]
            d.weight = op[2]
            if "upd" in sched.hooks:
                sched.reassign(dests)
            out.append("weight %s %d" % (op[1], op[2]))
        elif kind == "over":
            everyone[op[1]].overload = bool(op[2])
            out.append("over %s %d" % (op[1], op[2]))
        elif kind == "del":
            dests.remove(everyone[op[1]])
            if "del" in sched.hooks:
                sched.reassign(dests)
            out.append("del %s" % op[1])
        elif kind == "flags":
            flags = set(f for f in op[1].split(",") if f != "-")
            out.append("flags %s" % op[1])
        elif kind == "check":
            table = sched.buckets if sched_name != "mh" else sched.lookup
            out.append("table " + "".join("." if d is None else ID_CHARS[d.ident] for d in table))
            for flow in clients(op[1], op[2]):
                if sched_name == "dh":
                    bucket = sched.key(flow)
                else:
                    bucket = sched.key(flow, flags)
                d = sched.schedule(flow, flags)
                out.append("pick %s %s %d %d %d %s" % (
                    flow["src"], flow["dst"], flow["sport"], flow["proto"], bucket,
                    "-" if d is None else d.name()))
        else:
            raise ValueError(kind)
    out.append("end")


def main():
    out = [
        "# Generated by tests/sched_model.py (an independent Python model of the kernel's dh, sh and",
        "# mh); do not edit. Checked against the model by tests/sched_model_check.sh and against the",
        "# C++ schedulers by tests/unit/sched_hash_fixture_test.cpp.",
        "# table: one character per bucket/slot, the destination's add index (0-9a-zA-Z), '.' = empty.",
        "# pick <src> <dst> <sport> <proto> <bucket/slot of the first probe> <chosen dest or ->",
        "# hsiphash <u32 message> <k0> <k1> <result>  (SipHash-1-3 of 4 bytes, 64-bit kernel)",
    ]
    # The kernel's own self-test vector (lib/siphash_kunit.c, 64-bit: hsiphash_1u32(0x03020100)
    # with key 00..0f is test_vectors_hsiphash[4] = 0x88d38328), then the mh keys.
    kunit_key = (0x0706050403020100, 0x0f0e0d0c0b0a0908)
    assert hsiphash(bytes(range(4)), kunit_key) == 0x88d38328, "SipHash-1-3 disagrees with the kernel"
    vectors = [(0x03020100, kunit_key)]
    for v in (0, 1, 0x0a000001, 0xc0a80101, 0xffffffff):
        vectors.append((v, MH_HASH1))
        vectors.append((v, MH_HASH2))
    for v, key in vectors:
        out.append("hsiphash %d %d %d %d" % (v, key[0], key[1], hsiphash(v.to_bytes(4, "little"), key)))
    for name, sched_name, ops in SCENARIOS:
        run_scenario(name, sched_name, ops, out)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()

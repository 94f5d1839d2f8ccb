"""Semantic checks of persistence (ip_vs_conn.c, ip_vs_proto_udp.c, ip_vs_core.c ip_vs_sched_persist), against the timeline derived by hand in
gen.py's docstring: which real each connection gets, and what -Lnc shows at 120.1 s.

Rules used: a template <TCP, caddr & 255.255.255.0, cport 0, VIP, 80> is made when a SYN finds
none (rr picks the real) with timeout = persistence (30 s), and re-armed to now + its timeout each
time it gives a new connection its real. At expiry a template still controlling connections is
re-armed with 60 s (and keeps that timeout); otherwise it is gone, and the next SYN of that /24 is
scheduled afresh. State NONE until a controlled connection is ESTABLISHED, then ASSURED.
DR: the datagram goes to the real's MAC, unchanged but for TTL-1.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

gen = load_gen(HERE)
R11, R12, R13 = "10.0.0.11", "10.0.0.12", "10.0.0.13"

# The real of each connection, from the timeline in gen.py (rr order .13, .12, .11, .13, ...):
EXPECT = {
    (gen.A, 40000): R13,  # first client of 192.168.1.0/24: rr's first pick
    (gen.A, 40001): R13,  # same client, new port, within 30 s: the template's real
    (gen.B, 40100): R13,  # other client, same /24: the template's real
    (gen.C, 40200): R12,  # another /24: rr's next pick
    (gen.C, 40201): R11,  # its template expired at 42 s (nothing left to control): rescheduled, rr's next
    (gen.D, 40300): R13,  # a third /24: rr wraps to .13
    (gen.A, 40002): R13,  # tplA outlived 30 s (re-armed while controlling c2/c3): still .13
}
# -Lnc at 120.1 s (sorted by caddr, cport): (expire, state, source, destination); see gen.py.
LNC = [
    ("00:59", "ASSURED", "192.168.1.0:0", R13),          # tplA: 180 - 120.1 = 59.9 s
    ("01:30", "ESTABLISHED", "192.168.1.2:40002", R13),  # c6: 210.1 - 120.1 = 90 s
    ("00:19", "ASSURED", "192.168.2.0:0", R11),          # tplC': re-armed at 80 -> 140; 19.9 s
    ("00:20", "ESTABLISHED", "192.168.2.7:40201", R11),  # c5: 140.1 - 120.1 = 20 s
    ("00:28", "NONE", "192.168.3.0:0", R13),             # tplD: 149 - 120.1 = 28.9 s; D never ACKed
    ("00:58", "SYN_RECV", "192.168.3.9:40300", R13),     # c7: 119 + 60 - 120.1 = 58.9 s
]


def check(out):
    ok = Checker()
    srv = [p for p in read(out, "srv") if IP in p]
    lan_in = [Ether(bytes(f)) for _, f in gen.LAN]
    mac_to_real = {m: r for r, m in gen.REALS.items()}
    ok(len(srv) == len(lan_in), f"every client packet forwarded: {len(srv)} of {len(lan_in)}")
    seen = {}
    for (off, _), cin, p in zip(gen.LAN, lan_in, srv):
        key = (cin[IP].src, cin[TCP].sport)
        real = mac_to_real.get(p[Ether].dst)
        ok(abs(float(p.time) - (gen.T0 + off)) < 1e-6, f"{key}: forwarded at once")
        ok(p[IP].src == cin[IP].src and p[IP].dst == gen.VIP and p[TCP].sport == cin[TCP].sport
           and p[IP].ttl == cin[IP].ttl - 1 and bytes(p[TCP]) == bytes(cin[TCP]), f"{key}: DR, datagram unchanged but TTL")
        ok(real == EXPECT[key], f"{key} at {off} s: sent to {real}, expected {EXPECT[key]}")
        seen.setdefault(key, set()).add(real)
    ok(all(len(v) == 1 for v in seen.values()), "every packet of a connection goes to one real")

    L = Listing(out)
    ok([(c[1], c[2], c[3], c[5].split(":")[0]) for c in L.conns] == LNC, f"-Lnc at 120.1 s:\n{L.conns}")
    ok(all(c[0] == "TCP" and c[4] == "192.168.0.100:80" for c in L.conns), "-Lnc: TCP, virtual VIP:80 (templates too)")
    ok(all(c[3].endswith(":0") for c in L.conns if c[2] in ("NONE", "ASSURED")),
       "templates: source caddr & mask, port 0")
    # Conns count connections, never templates: 7 connections; 5 on .13, 1 on .12, 1 on .11.
    per_real = {r: sum(1 for k, v in EXPECT.items() if v == r) for r in (R11, R12, R13)}
    pkts = {r: sum(1 for cin in lan_in if EXPECT[(cin[IP].src, cin[TCP].sport)] == r) for r in (R11, R12, R13)}
    svc = L.stats("192.168.0.100:80")
    ok(svc is not None and svc[:3] == [7, len(lan_in), 0], f"service stats {svc}")
    for r in (R11, R12, R13):
        real = L.stats(r + ":80")
        ok(real is not None and real[:3] == [per_real[r], pkts[r], 0], f"{r} stats {real}")
    # Left in the table: 3 templates (tplA, tplC', tplD) and 3 connections (c5, c6, c7).
    ok(L.events["connections_in_table"] == 6, f"table holds {L.events['connections_in_table']}")
    ok(L.drops == {"total": 0}, f"drops {L.drops}")
    return ok.n

"""Semantic checks of a full connection table (router.max_connections = 3), from the rules.

A SYN that needs a fourth entry is dropped and counted (conn_table_full): nothing is sent, no
connection is made, and it counts in neither Conns nor InPkts (the kernel counts a packet only
once it has a connection). Packets of existing connections are forwarded as before. When an entry
expires (c3: FIN_WAIT 10 s after its last packet at 5.1 s -> 15.1 s) the next SYN gets it.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

gen = load_gen(HERE)
R11, R12 = "10.0.0.11", "10.0.0.12"
# The real of each accepted connection (rr, see gen.py: refused SYNs move rr on too).
REAL = {40001: R12, 40002: R11, 40003: R12, 40004: R11}


def check(out):
    ok = Checker()
    srv = [p for p in read(out, "srv") if IP in p]
    lan = read(out, "lan")
    inputs = [(off, Ether(bytes(f)), what) for off, f, what in gen.LAN]
    accepted = [x for i, x in enumerate(inputs) if i not in gen.REFUSED]
    ok(len(gen.REFUSED) == 3, "gen.py refuses three SYNs")
    ok(len(lan) == 0, "nothing is sent back to the client (a refused SYN is dropped silently)")
    ok(len(srv) == len(accepted), f"{len(accepted)} packets forwarded, got {len(srv)}")
    mac_to_real = {m: r for r, m in gen.REALS.items()}
    for (off, cin, what), p in zip(accepted, srv):
        ok(abs(float(p.time) - (gen.T0 + off)) < 1e-6, f"'{what}' forwarded at {off} s, got {float(p.time) - gen.T0}")
        ok(p[TCP].sport == cin[TCP].sport and bytes(p[TCP]) == bytes(cin[TCP]) and p[IP].ttl == cin[IP].ttl - 1,
           f"'{what}': the client's segment, TTL-1")
        ok(mac_to_real[p[Ether].dst] == REAL[cin[TCP].sport], f"'{what}': to {REAL[cin[TCP].sport]}")
    # No frame at all at the refused SYNs' times.
    for i in gen.REFUSED:
        off = gen.LAN[i][0]
        ok(not any(abs(float(p.time) - (gen.T0 + off)) < 1e-6 for p in srv), f"nothing sent for the SYN at {off} s")

    L = Listing(out)
    ok(L.drops == {"conn_table_full": 3, "total": 3}, f"drops {L.drops}")
    # 4 connections accepted (c1..c4); InPkts = the 12 accepted packets, bytes = their lengths.
    n_bytes = sum(c[IP].len for _, c, _ in accepted)
    ok(L.stats("192.168.1.100:80") == [4, len(accepted), 0, n_bytes, 0], f"service stats {L.stats('192.168.1.100:80')}")
    for r in (R11, R12):
        mine = [c for _, c, _ in accepted if REAL[c[TCP].sport] == r]
        ok(L.stats(r + ":80") == [2, len(mine), 0, sum(c[IP].len for c in mine), 0], f"{r} stats")
    ok(L.events["connections_in_table"] == 3 and L.events["connection_table_capacity"] == 3, "table full at the end")
    # At 17.0 s: c1 (last packet 4.5 s) and c2 (4.6 s) ESTABLISHED, 900 s: 887.5 / 887.6 s left -> 14:47;
    # c4 (16.1 s): 899.1 s -> 14:59. c3 is gone.
    ok([(c[1], c[2], c[3], c[5]) for c in L.conns] ==
       [("14:47", "ESTABLISHED", "192.168.1.2:40001", R12 + ":80"), ("14:47", "ESTABLISHED", "192.168.1.2:40002", R11 + ":80"),
        ("14:59", "ESTABLISHED", "192.168.1.2:40004", R11 + ":80")], f"-Lnc {L.conns}")
    return ok.n

#!/usr/bin/python3
"""Inputs of the full-table case (router.max_connections = 3, rr over two DR reals).

lan: 192.168.1.1/24 (02:00:00:00:00:01), VIP 192.168.1.100:80; client 192.168.1.2 (02:00:00:00:aa:02)
srv: 10.0.0.1/24 (02:00:00:00:00:02); DR reals 10.0.0.11, 10.0.0.12 (02:00:00:00:bb:<n>)

rr starts with the real added last (.12). A refused SYN has already been scheduled when the entry
cannot be allocated (ip_vs_schedule: the scheduler runs, then ip_vs_conn_new fails), so rr moves on
even for it: picks .12 (c1) .11 (c2) .12 (c3) [.11 refused] [.12 refused] .11 (c4) [.12 refused].
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, IP, TCP, Ether, Raw  # noqa: E402

R_LAN, R_SRV = "02:00:00:00:00:01", "02:00:00:00:00:02"
CLIENT, CLIENT_MAC, VIP = "192.168.1.2", "02:00:00:00:aa:02", "192.168.1.100"
REALS = {"10.0.0.11": "02:00:00:00:bb:11", "10.0.0.12": "02:00:00:00:bb:12"}
T0 = 1700000000.0
BCAST = "ff:ff:ff:ff:ff:ff"


def tcp(sport, flags, seq, ack=0, data=b""):
    p = Ether(src=CLIENT_MAC, dst=R_LAN) / IP(src=CLIENT, dst=VIP) / TCP(sport=sport, dport=80, flags=flags, seq=seq, ack=ack)
    return p / Raw(data) if data else p


# (time, frame, what must happen). "c<n>" names the connection of client port 4000<n>.
LAN = [
    (1.0, tcp(40001, "S", 100), "c1 opens (1 entry) -> .12"),
    (1.1, tcp(40001, "A", 101, 1), "c1 ESTABLISHED"),
    (2.0, tcp(40002, "S", 200), "c2 opens (2 entries) -> .11"),
    (2.1, tcp(40002, "A", 201, 1), "c2 ESTABLISHED"),
    (3.0, tcp(40003, "S", 300), "c3 opens (3 entries: full) -> .12"),
    (3.1, tcp(40003, "A", 301, 1), "c3 ESTABLISHED"),
    (4.0, tcp(40004, "S", 400), "REFUSED: table full (conn_table_full 1)"),
    (4.5, tcp(40001, "PA", 101, 1, b"c1 data"), "c1 data still forwarded -> .12"),
    (4.6, tcp(40002, "PA", 201, 1, b"c2 data"), "c2 data still forwarded -> .11"),
    (5.0, tcp(40003, "FA", 301, 1), "c3 FIN_WAIT, expires 5.0 + 10"),
    (5.1, tcp(40003, "A", 302, 2), "c3 FIN_WAIT, re-armed: expires 5.1 + 10 = 15.1"),
    (6.0, tcp(40004, "S", 400), "REFUSED again: c3 still in FIN_WAIT (conn_table_full 2)"),
    (16.0, tcp(40004, "S", 400), "c3 expired at 15.1: c4 opens -> .11"),
    (16.1, tcp(40004, "A", 401, 1), "c4 ESTABLISHED"),
    (17.0, tcp(40005, "S", 500), "REFUSED: full again with c1, c2, c4 (conn_table_full 3)"),
]
REFUSED = [i for i, (_, _, what) in enumerate(LAN) if what.startswith("REFUSED")]
SRV = [(0.5, Ether(src=m, dst=BCAST) / ARP(op=1, hwsrc=m, psrc=r, pdst="10.0.0.1")) for r, m in REALS.items()]

if __name__ == "__main__":
    t = Trace(HERE)
    for off, f, _ in LAN:
        t.add("lan", T0 + off, f)
    for off, f in SRV:
        t.add("srv", T0 + off, f)
    t.write()

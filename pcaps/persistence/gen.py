#!/usr/bin/python3
"""Inputs of the persistence case (persistence 30 s, netmask /24, rr over three DR reals).

lan: 192.168.0.1/16 (02:00:00:00:00:01), VIP 192.168.0.100:80. Clients (on-link):
     A 192.168.1.2 and B 192.168.1.3 (both in 192.168.1.0/24), C 192.168.2.7, D 192.168.3.9.
srv: 10.0.0.1/24 (02:00:00:00:00:02); DR reals 10.0.0.11, .12, .13 (02:00:00:00:bb:<n>).
Timeouts: ESTABLISHED 90 s, FIN_WAIT 10 s; SYN_RECV 60 s (fixed). rr starts with the real added
last (.13; the kernel adds each dest at the head of its list), then .12, .11, .13, ...

Timeline (seconds after T0), with the template (tpl) and connection (c) expiries it implies:
   1.0  A:40000 SYN   no template for 192.168.1.0 -> rr -> .13; tplA = 1+30 = 31      (c1)
   1.1  A ACK         c1 ESTABLISHED (tplA ASSURED)
   2.0  A FIN, 2.1 ACK  c1 FIN_WAIT, expires 2.1+10 = 12.1
  10.0  A:40001 SYN   tplA -> .13 (same real, new port); tplA = 40                    (c2)
  10.1  ACK           c2 ESTABLISHED, expires 100.1
  11.0  B:40100 SYN   192.168.1.3 & /24 = 192.168.1.0: tplA -> .13; tplA = 41         (c3)
  11.1  ACK           c3 ESTABLISHED, expires 101.1
  12.0  C:40200 SYN   other /24: new tplC -> rr -> .12; tplC = 42                     (c4)
  12.1  ACK           c4 ESTABLISHED (tplC ASSURED)
  13.0  FIN, 13.1 ACK c4 FIN_WAIT, expires 23.1
  12.1  c1 expires; 23.1 c4 expires (tplC controls nothing now)
  41    tplA expires while controlling c2, c3: re-armed with 60 s -> 101
  42    tplC expires, controls nothing: gone
  50.0  C:40201 SYN   no template -> rescheduled: rr -> .11; tplC' = 80               (c5)
  50.1  ACK           c5 ESTABLISHED, expires 140.1 (tplC' ASSURED)
  80    tplC' expires while controlling c5: re-armed -> 140
 100.1  c2 expires; 101 tplA expires while controlling c3 (until 101.1): re-armed -> 161
 101.1  c3 expires
 119.0  D:40300 SYN   new tplD (192.168.3.0) -> rr -> .13; tplD = 149; never ACKed     (c7)
 120.0  A:40002 SYN   tplA (kept alive by its connections) -> .13; re-armed with its
                      current timeout, 60 s: tplA = 180                                (c6)
 120.1  ACK           c6 ESTABLISHED, expires 210.1            <- the listing is taken here
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, IP, TCP, Ether  # noqa: E402

R_LAN, R_SRV = "02:00:00:00:00:01", "02:00:00:00:00:02"
VIP = "192.168.0.100"
A, B, C, D = "192.168.1.2", "192.168.1.3", "192.168.2.7", "192.168.3.9"
MAC = {A: "02:00:00:00:aa:02", B: "02:00:00:00:aa:03", C: "02:00:00:00:aa:07", D: "02:00:00:00:aa:09"}
REALS = {"10.0.0.11": "02:00:00:00:bb:11", "10.0.0.12": "02:00:00:00:bb:12", "10.0.0.13": "02:00:00:00:bb:13"}
T0 = 1700000000.0
BCAST = "ff:ff:ff:ff:ff:ff"


def tcp(client, sport, flags, seq, ack=0):
    return Ether(src=MAC[client], dst=R_LAN) / IP(src=client, dst=VIP, id=sport & 0xFFFF) / \
        TCP(sport=sport, dport=80, flags=flags, seq=seq, ack=ack)


LAN = [
    (1.0, tcp(A, 40000, "S", 100)), (1.1, tcp(A, 40000, "A", 101, 501)),
    (2.0, tcp(A, 40000, "FA", 101, 501)), (2.1, tcp(A, 40000, "A", 102, 502)),
    (10.0, tcp(A, 40001, "S", 200)), (10.1, tcp(A, 40001, "A", 201, 601)),
    (11.0, tcp(B, 40100, "S", 300)), (11.1, tcp(B, 40100, "A", 301, 701)),
    (12.0, tcp(C, 40200, "S", 400)), (12.1, tcp(C, 40200, "A", 401, 801)),
    (13.0, tcp(C, 40200, "FA", 401, 801)), (13.1, tcp(C, 40200, "A", 402, 802)),
    (50.0, tcp(C, 40201, "S", 500)), (50.1, tcp(C, 40201, "A", 501, 901)),
    (119.0, tcp(D, 40300, "S", 600)),
    (120.0, tcp(A, 40002, "S", 700)), (120.1, tcp(A, 40002, "A", 701, 1001)),
]


def real_asks(real):
    """A real asks for the router's address: the router answers and learns (or refreshes) its MAC."""
    return Ether(src=REALS[real], dst=BCAST) / ARP(op=1, hwsrc=REALS[real], psrc=real, pdst="10.0.0.1")


# ARP entries live 60 s: the reals announce themselves at the start, and .13 again before 119 s.
SRV = [(0.5, real_asks(r)) for r in REALS] + [(118.0, real_asks("10.0.0.13"))]

if __name__ == "__main__":
    t = Trace(HERE)
    for off, f in LAN:
        t.add("lan", T0 + off, f)
    for off, f in SRV:
        t.add("srv", T0 + off, f)
    t.write()

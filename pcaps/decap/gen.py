#!/usr/bin/python3
"""Inputs of the IPIP decapsulation case (vsrouter as a real server's tunnel endpoint).

up:  10.0.0.5/24 (02:00:00:00:00:01); director 10.0.0.1 (02:00:00:00:d1:01), also the default route
srv: 172.16.1.1/24 (02:00:00:00:00:02); real server 172.16.1.11 (02:00:00:00:bb:11) holding the
     VIP 192.168.1.100 (route 192.168.1.100/32 via 172.16.1.11). Client 192.168.1.2, far away.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, IP, TCP, UDP, Ether, Raw  # noqa: E402

R_UP, R_SRV = "02:00:00:00:00:01", "02:00:00:00:00:02"
DIR, DIR_MAC = "10.0.0.1", "02:00:00:00:d1:01"
REAL, REAL_MAC = "172.16.1.11", "02:00:00:00:bb:11"
CLIENT, VIP = "192.168.1.2", "192.168.1.100"
T0 = 1700000000.0
BCAST = "ff:ff:ff:ff:ff:ff"


def ipip(payload, dst="10.0.0.5", ident=1):
    """A tunnel packet from the director (as ip_vs_tunnel_xmit builds it: outer TTL = inner TTL)."""
    return Ether(src=DIR_MAC, dst=R_UP) / IP(src=DIR, dst=dst, proto=4, id=ident, ttl=63) / payload


def inner(l4, ident, ttl=63, tos=0):
    """The client's datagram as the director tunnels it (its TTL already decremented once)."""
    return IP(src=CLIENT, dst=VIP, id=ident, ttl=ttl, tos=tos, flags="DF") / l4


SYN = inner(TCP(sport=40000, dport=80, flags="S", seq=100), 21, tos=0xb8)
DGRAM = inner(UDP(sport=5353, dport=53) / Raw(b"query"), 22)
VIA_SRV = inner(UDP(sport=5354, dport=53) / Raw(b"via-srv"), 23)
TTL1 = inner(UDP(sport=5355, dport=53) / Raw(b"ttl-1"), 24, ttl=1)
# An IPv4 header claiming 60 bytes, of which only 28 are present.
SHORT = IP(bytes(IP(src=CLIENT, dst=VIP, id=25, len=60, proto=17) / UDP(sport=1, dport=2))[:28])

UP = [
    # The director asks for 10.0.0.5: answered, its MAC learned.
    (0.5, Ether(src=DIR_MAC, dst=BCAST) / ARP(op=1, hwsrc=DIR_MAC, psrc=DIR, pdst="10.0.0.5")),
    # D1 IPIP to 10.0.0.5 with a TCP SYN inside: decapsulated, routed to the real (ARP for 172.16.1.11
    #    first, the packet waits), inner TTL 63 -> 62, nothing else changed (DSCP EF stays).
    (1.0, ipip(SYN, ident=1)),
    # D2 IPIP with a UDP datagram: decapsulated and routed the same way (the real's MAC is known now).
    (2.0, ipip(DGRAM, ident=2)),
    # D3 IPIP to the router's other address (172.16.1.1, on srv): also ours, also decapsulated.
    (2.1, ipip(VIA_SRV, dst="172.16.1.1", ident=3)),
    # D4 IPIP in IPIP: one level is decapsulated, the second is dropped (ipip_nested).
    (3.0, ipip(IP(src=DIR, dst="10.0.0.5", proto=4, ttl=63) / DGRAM, ident=4)),
    # D5..D7 IPIP whose payload is not a valid IPv4 datagram: dropped (ipip_truncated).
    (3.1, ipip(Raw(b"\x45\x00\x00\x30garbage"), ident=5)),                         # 11 bytes: no header
    (3.2, ipip(Raw(b"\x60" + b"\0" * 39), ident=6)),                                # an IPv6 header
    (3.3, ipip(SHORT, ident=7)),                                                     # total length > bytes
    # D8 IPIP addressed to the real server itself, passing through: not ours, routed as it is
    #    (outer TTL 63 -> 62), not decapsulated.
    (4.0, ipip(DGRAM, dst=REAL, ident=8)),
    # D9 decapsulated, but the inner TTL is 1: ICMP time exceeded about the inner datagram to the
    #    client (via the default route, from 10.0.0.5), nothing to the real.
    (5.0, ipip(TTL1, ident=9)),
]
# The real server answers the ARP request sent at 1.0 s: the SYN leaves at 1.1 s.
SRV = [(1.1, Ether(src=REAL_MAC, dst=R_SRV) / ARP(op=2, hwsrc=REAL_MAC, psrc=REAL, hwdst=R_SRV, pdst="172.16.1.1"))]

if __name__ == "__main__":
    t = Trace(HERE)
    for off, f in UP:
        t.add("up", T0 + off, f)
    for off, f in SRV:
        t.add("srv", T0 + off, f)
    t.write()

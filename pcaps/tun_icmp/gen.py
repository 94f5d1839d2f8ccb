#!/usr/bin/python3
"""Inputs of the TUN ICMP case: three tunnelled flows, then ICMP errors about their IPIP packets.

lan: 192.168.1.1/24 (02:00:00:00:00:01), VIP 192.168.1.100; client 192.168.1.2 (02:00:00:00:aa:02)
wan: 10.0.0.1/24 (02:00:00:00:00:02), MTU 1400; gateway 10.0.0.254 (02:00:00:00:cc:fe) toward
     172.16.0.0/16: the TUN real 172.16.1.11, and 172.16.0.1, a router on the way that sends the errors.
Each error is addressed to 10.0.0.1 (the tunnel source) and quotes an IPIP packet 10.0.0.1 ->
172.16.1.11 as vsrouter sent it, whose payload is the client's datagram (TTL already decremented).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

R_LAN, R_WAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
CLIENT, CLIENT_MAC = "192.168.1.2", "02:00:00:00:aa:02"
GW, GW_MAC = "10.0.0.254", "02:00:00:00:cc:fe"
VIP, REAL, MIDDLE = "192.168.1.100", "172.16.1.11", "172.16.0.1"
T0 = 1700000000.0
BCAST = "ff:ff:ff:ff:ff:ff"


def c2v(ident, l4, df):
    return Ether(src=CLIENT_MAC, dst=R_LAN) / IP(src=CLIENT, dst=VIP, id=ident, flags="DF" if df else 0) / l4


# The client's flows (each one connection to 172.16.1.11):
F1 = c2v(11, UDP(sport=5001, dport=53) / Raw(b"df-query" * 8), df=True)     # DF: the client does PMTUD
F2 = c2v(12, UDP(sport=5002, dport=53) / Raw(b"nodf-query" * 8), df=False)  # no DF
F3 = c2v(13, TCP(sport=40000, dport=80, flags="S", seq=7), df=True)         # a TCP SYN with DF
F9 = c2v(19, UDP(sport=5999, dport=53) / Raw(b"never-sent"), df=True)       # not sent: no connection


def tunnelled(f, ident):
    """The IPIP packet vsrouter sends for client frame f (the inner TTL decremented, DF copied)."""
    inner = IP(bytes(f[IP]))
    inner.ttl -= 1
    del inner.chksum
    inner = IP(bytes(inner))
    return IP(src="10.0.0.1", dst=REAL, proto=4, id=ident, ttl=inner.ttl - 3, tos=inner.tos,
              flags=inner.flags.value & 2) / inner


def err(typ, code, about, nexthopmtu=0, chksum=None):
    """An ICMP error from the middle router to the tunnel source, quoting the whole tunnel packet."""
    icmp = ICMP(type=typ, code=code, nexthopmtu=nexthopmtu) if typ == 3 and code == 4 else ICMP(type=typ, code=code)
    if chksum is not None:
        icmp.chksum = chksum
    return Ether(src=GW_MAC, dst=R_WAN) / IP(src=MIDDLE, dst="10.0.0.1", ttl=62) / icmp / about


T1, T2, T3, T9 = tunnelled(F1, 0x1001), tunnelled(F2, 0x1002), tunnelled(F3, 0x1003), tunnelled(F9, 0x1009)
LAN = [
    # The client asks for the VIP: the router learns its MAC (the relayed errors go to it).
    (0.5, Ether(src=CLIENT_MAC, dst=BCAST) / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=VIP)),
    (1.0, F1), (1.1, F2), (1.2, F3),
]
WAN = [
    # The gateway asks for 10.0.0.1: the router learns the gateway's MAC.
    (0.6, Ether(src=GW_MAC, dst=BCAST) / ARP(op=1, hwsrc=GW_MAC, psrc=GW, pdst="10.0.0.1")),
    # E1 frag needed, MTU 1300, about F1 (DF): relayed, MTU min(1300, 1400) - 20 = 1280.
    (2.0, err(3, 4, T1, nexthopmtu=1300)),
    # E2 frag needed, MTU 1480 (above our own egress MTU), about F1: min(1480, 1400) - 20 = 1380.
    (2.1, err(3, 4, T1, nexthopmtu=1480)),
    # E3 frag needed about F2, which had no DF: the client does no PMTUD, nothing is sent.
    (2.2, err(3, 4, T2, nexthopmtu=1300)),
    # E4 host unreachable about F3: relayed with the same type and code.
    (2.3, err(3, 1, T3)),
    # E5 time exceeded about F1: relayed as 11/0.
    (2.4, err(11, 0, T1)),
    # E6 frag needed about F1 with a bad ICMP checksum: dropped (icmp_bad_checksum), nothing relayed.
    (2.5, err(3, 4, T1, nexthopmtu=1300, chksum=0x1234)),
    # E7 about a tunnel packet of a flow with no connection (F9 was never sent): not IPVS's; the
    #    router itself does not handle ICMP errors addressed to it (icmp_local_unhandled).
    (2.6, err(3, 1, T9)),
]
RELAYED = {"E1": (3, 4, 1280, F1), "E2": (3, 4, 1380, F1), "E4": (3, 1, 0, F3), "E5": (11, 0, 0, F1)}

if __name__ == "__main__":
    t = Trace(HERE)
    for off, f in LAN:
        t.add("lan", T0 + off, f)
    for off, f in WAN:
        t.add("wan", T0 + off, f)
    t.write()

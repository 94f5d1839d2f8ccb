#!/usr/bin/python3
"""Inputs of the TUN path-MTU case (wan MTU 1000, so client datagrams of at most 980 bytes fit).

lan: 192.168.1.1/24 (02:00:00:00:00:01), VIP 192.168.1.100; client 192.168.1.2 (02:00:00:00:aa:02)
wan: 10.0.0.1/24 (02:00:00:00:00:02), MTU 1000; gateway 10.0.0.254 (02:00:00:00:cc:fe) toward
     172.16.0.0/16, where the TUN real 172.16.1.11 lives.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, IP, UDP, Ether, Raw  # noqa: E402

R_LAN, R_WAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
CLIENT, CLIENT_MAC = "192.168.1.2", "02:00:00:00:aa:02"
GW, GW_MAC = "10.0.0.254", "02:00:00:00:cc:fe"
VIP, REAL = "192.168.1.100", "172.16.1.11"
T0 = 1700000000.0
BCAST = "ff:ff:ff:ff:ff:ff"


def udp(sport, ident, total_len, df):
    """A client -> VIP:53 UDP datagram of exactly total_len bytes (20 IP + 8 UDP + payload)."""
    body = bytes((sport + i) & 0xFF for i in range(total_len - 28))
    return Ether(src=CLIENT_MAC, dst=R_LAN) / IP(src=CLIENT, dst=VIP, id=ident, flags="DF" if df else 0) / \
        UDP(sport=sport, dport=53) / Raw(body)


# Three flows, three connections (rr over one real: all to 172.16.1.11).
FIT = udp(5001, 11, 980, True)      # 980 + 20 = 1000: fits exactly, one 1000-byte IPIP frame on wan
BIG_DF = udp(5002, 12, 981, True)   # 981 + 20 > 1000 and DF: ICMP 3/4 from the VIP, MTU 1000 - 20 = 980
BIG = udp(5003, 13, 1400, False)    # 1420-byte outer datagram, no DF: two fragments (996 + 444 bytes)

LAN = [
    # The client asks for the VIP: the router answers and learns the client's MAC (for the ICMP error).
    (0.5, Ether(src=CLIENT_MAC, dst=BCAST) / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=VIP)),
    (1.0, FIT),
    (2.0, BIG_DF),
    (3.0, BIG),
]
# The gateway asks for the router's wan address: the router learns the gateway's MAC.
WAN = [(0.6, Ether(src=GW_MAC, dst=BCAST) / ARP(op=1, hwsrc=GW_MAC, psrc=GW, pdst="10.0.0.1"))]

if __name__ == "__main__":
    t = Trace(HERE)
    for off, f in LAN:
        t.add("lan", T0 + off, f)
    for off, f in WAN:
        t.add("wan", T0 + off, f)
    t.write()

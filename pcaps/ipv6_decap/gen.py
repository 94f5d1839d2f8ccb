#!/usr/bin/python3
"""Inputs of the IPv6 decapsulation case (vsrouter as a TUN real server's tunnel endpoint).

up:  2001:db8:1::5/64, 10.0.0.5/24 (02:00:00:00:00:01); director 2001:db8:1::1, 10.0.0.1
     (02:00:00:00:d1:01), the default routes of both families
srv: 2001:db8:2::1/64, 172.16.1.1/24 (02:00:00:00:00:02); real server 2001:db8:2::11 and
     172.16.1.11 (02:00:00:00:bb:11) holding the VIPs 2001:db8:100::1 and 192.168.1.100.
Clients 2001:db8:ff::2 and 192.168.1.2, far away. The first record starts the engine: its
addresses are tentative for 1 s (DAD), so the director's traffic starts at 2 s.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import (ARP, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,  # noqa: E402
                       ICMPv6NDOptSrcLLAddr, IP, IPv6, TCP, UDP, Ether, Raw)

R_UP, R_SRV = "02:00:00:00:00:01", "02:00:00:00:00:02"
DIR6, DIR4, DIR_MAC = "2001:db8:1::1", "10.0.0.1", "02:00:00:00:d1:01"
REAL6, REAL4, REAL_MAC = "2001:db8:2::11", "172.16.1.11", "02:00:00:00:bb:11"
ME6, ME4 = "2001:db8:1::5", "10.0.0.5"
CLIENT6, VIP6 = "2001:db8:ff::2", "2001:db8:100::1"
CLIENT4, VIP4 = "192.168.1.2", "192.168.1.100"
T0 = 1700000000.0
BCAST = "ff:ff:ff:ff:ff:ff"


def tun6(payload, nh, dst=ME6):
    """A tunnel packet from the director (ip_vs_tunnel_xmit_v6: outer hop limit = inner)."""
    return Ether(src=DIR_MAC, dst=R_UP) / IPv6(src=DIR6, dst=dst, nh=nh, hlim=63) / payload


SYN6 = IPv6(src=CLIENT6, dst=VIP6, hlim=63, tc=0xb8) / TCP(sport=40000, dport=80, flags="S", seq=100)
DGRAM4 = IP(src=CLIENT4, dst=VIP4, id=22, ttl=63, flags="DF") / UDP(sport=5353, dport=53) / Raw(b"four-in-six")
DGRAM6 = IPv6(src=CLIENT6, dst=VIP6, hlim=63) / UDP(sport=5354, dport=53) / Raw(b"six-in-four")
HLIM1 = IPv6(src=CLIENT6, dst=VIP6, hlim=1) / UDP(sport=5355, dport=53) / Raw(b"hop-limit-1")

UP = [
    # The first record: the engine starts, DAD for its four addresses (answered by nobody).
    (0.0, Ether(src=DIR_MAC, dst="33:33:00:00:00:01") / IPv6(src="fe80::d1", dst="ff02::1", hlim=255)
     / ICMPv6EchoRequest(id=9, seq=0)),
    # The director solicits 2001:db8:1::5: answered (R, S, O), the director learned.
    (2.0, Ether(src=DIR_MAC, dst="33:33:ff:00:00:05") / IPv6(src=DIR6, dst="ff02::1:ff00:5", hlim=255)
     / ICMPv6ND_NS(tgt=ME6) / ICMPv6NDOptSrcLLAddr(lladdr=DIR_MAC)),
    # E1 IPv6 in IPv6 (next header 41) with a TCP SYN inside: decapsulated, routed to the real
    #    (NS for 2001:db8:2::11 first, the packet waits), hop limit 63 -> 62, the rest unchanged.
    (2.1, tun6(SYN6, 41)),
    # E2 IPv4 in IPv6 (next header 4), a UDP datagram: decapsulated, routed to the IPv4 VIP (ARP first),
    #    TTL 63 -> 62.
    (2.2, tun6(DGRAM4, 4)),
    # The director asks for 10.0.0.5 (ARP): answered, learned.
    (2.29, Ether(src=DIR_MAC, dst=BCAST) / ARP(op=1, hwsrc=DIR_MAC, psrc=DIR4, pdst=ME4)),
    # E3 IPv6 in IPv4 (protocol 41, RFC 4213): decapsulated, routed to the real (known now), hop limit -1.
    (2.3, Ether(src=DIR_MAC, dst=R_UP) / IP(src=DIR4, dst=ME4, proto=41, ttl=63, id=3) / DGRAM6),
    # E4 a tunnel in the tunnel: one level is decapsulated, the second is dropped (ipip_nested).
    (2.4, tun6(IPv6(src=DIR6, dst=ME6, nh=41, hlim=63) / DGRAM6, 41)),
    # E5 a tunnel whose inner packet is no IPv6 datagram: dropped (ipip_truncated).
    (2.5, tun6(Raw(b"\x60\x00\x00\x00\x00\x10\x11\x40" + b"\0" * 8), 41)),
    # E6 a tunnel addressed to the real server itself, passing through: routed as it is (outer
    #    hop limit 63 -> 62), not decapsulated.
    (2.6, tun6(DGRAM6, 41, dst=REAL6)),
    # E7 decapsulated, but the inner hop limit is 1: ICMPv6 time exceeded about the inner datagram
    #    to the client (via the default route, from 2001:db8:1::5), nothing to the real.
    (2.7, tun6(HLIM1, 41)),
]
# The real server answers the solicitation sent at 2.1 s and the ARP request sent at 2.2 s.
SRV = [
    (2.15, Ether(src=REAL_MAC, dst=R_SRV) / IPv6(src=REAL6, dst="2001:db8:2::1", hlim=255)
     / ICMPv6ND_NA(tgt=REAL6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=REAL_MAC)),
    (2.25, Ether(src=REAL_MAC, dst=R_SRV) / ARP(op=2, hwsrc=REAL_MAC, psrc=REAL4, hwdst=R_SRV, pdst="172.16.1.1")),
]

if __name__ == "__main__":
    t = Trace(HERE)
    for off, f in UP:
        t.add("up", T0 + off, f)
    for off, f in SRV:
        t.add("srv", T0 + off, f)
    t.write()

#!/usr/bin/python3
"""Inputs of the IPv6 TUN case (vsrouter.toml). Each step's comment says what vsrouter must do;
check.py asserts it from the rules, reading these steps.

wan: 2001:db8::1/64 and 10.0.0.1/24 (02:00:00:00:00:01); client C6 2001:db8::c1 (02:00:00:00:cc:01)
     and client C4 10.0.0.2 (02:00:00:00:cc:04).
lan: 2001:db8:1::1/64 and 10.0.1.1/24 (02:00:00:00:00:02); tunnel endpoints E6 2001:db8:1::31
     (02:00:00:00:aa:31) and E4 10.0.1.32 (02:00:00:00:aa:32).
slim: 2001:db8:2::1/64, MTU 1300 (02:00:00:00:00:03); endpoint ES 2001:db8:2::41 (aa:41).

Reals are added in file order at the head of each service's list (ip_vs_ctl.c ip_vs_add_dest), so
rr starts with the last one: 10.0.1.32 for [2001:db8::80]:80, 2001:db8:1::31 for 10.0.0.80:80.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace, ns_from  # noqa: E402
from scapy.all import (ARP, IP, TCP, UDP, Ether, IPv6, Raw)  # noqa: E402

T0 = 1700000000.0
R_WAN, R_LAN, R_SLIM = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"
WAN6, LAN6, SLIM6 = "2001:db8::1", "2001:db8:1::1", "2001:db8:2::1"
WAN4, LAN4 = "10.0.0.1", "10.0.1.1"
VIP6, VIP4 = "2001:db8::80", "10.0.0.80"
C6, C6_MAC = "2001:db8::c1", "02:00:00:00:cc:01"
C4, C4_MAC = "10.0.0.2", "02:00:00:00:cc:04"
E6, E6_MAC = "2001:db8:1::31", "02:00:00:00:aa:31"
E4, E4_MAC = "10.0.1.32", "02:00:00:00:aa:32"
ES, ES_MAC = "2001:db8:2::41", "02:00:00:00:aa:41"
ISN = 1000


ns = ns_from


def arp(src, src_mac, target):
    return Ether(src=src_mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=src_mac, psrc=src, pdst=target)


def from_c6(sport, dport=80, flags="S", tc=0, hlim=64, seq=ISN, data=b""):
    p = Ether(src=C6_MAC, dst=R_WAN) / IPv6(src=C6, dst=VIP6, tc=tc, hlim=hlim) / TCP(sport=sport, dport=dport,
                                                                                      flags=flags, seq=seq)
    return p / Raw(data) if data else p


def from_c4(sport, flags="S", tos=0, df=True, seq=ISN, data=b"", ident=1):
    p = Ether(src=C4_MAC, dst=R_WAN) / IP(src=C4, dst=VIP4, tos=tos, ttl=64, id=ident, flags="DF" if df else 0) / \
        TCP(sport=sport, dport=80, flags=flags, seq=seq)
    return p / Raw(data) if data else p


def udp_c4(sport, size, df, ident):
    """A UDP datagram of `size` bytes in all from C4 to the VIP's port 53."""
    return (Ether(src=C4_MAC, dst=R_WAN) / IP(src=C4, dst=VIP4, ttl=64, id=ident, flags="DF" if df else 0) /
            UDP(sport=sport, dport=53) / Raw(b"u" * (size - 28)))


STEPS = []  # (name, interface, seconds after T0, frame)


def step(name, iface, at, frame):
    STEPS.append((name, iface, at, frame))


# ---- t < 1 s: the router's addresses are tentative (DAD, from the first record). An endpoint's
# resolution of the tentative lan address is not answered, and nothing is learnt (nd_not_for_us).
step("ns_tentative", "lan", 0.0, ns(E6, E6_MAC, LAN6))
# ---- From 1.2 s:
# 1. the endpoints and clients resolve the router and the VIPs (the router learns them from their
#    solicitations and answers: NAs and ARP replies)
step("ns_e6", "lan", 1.2, ns(E6, E6_MAC, LAN6))
step("arp_e4", "lan", 1.21, arp(E4, E4_MAC, LAN4))
step("ns_es", "slim", 1.22, ns(ES, ES_MAC, SLIM6))
step("ns_vip6", "wan", 1.3, ns(C6, C6_MAC, VIP6))
step("arp_vip4", "wan", 1.31, arp(C4, C4_MAC, VIP4))
# 2. C6's SYN to [VIP6]:80 -> rr's first, 10.0.1.32: IPv6 in IPv4 (protocol 41) from 10.0.1.1, DF
#    clear, TTL = the inner hop limit after the decrement (63), TOS from the inner traffic class
step("syn6_a", "wan", 2.0, from_c6(40001, tc=0x28))
# 3. C6's next SYN, its ECN field CE -> 2001:db8:1::31: IPv6 in IPv6 from 2001:db8:1::1, hop limit
#    63, traffic class with CE made ECT(0) (INET_ECN_encapsulate), flow label 0
step("syn6_b", "wan", 2.1, from_c6(40002, tc=0x2b))
# 4. C4's SYN to VIP4:80 -> rr's first, 2001:db8:1::31: IPv4 in IPv6 (next header 4), hop limit 63
step("syn4_a", "wan", 2.2, from_c4(40003, tos=0x01))
# 5. C4's next SYN -> 10.0.1.32 by IPIP (RFC 2003), as before
step("syn4_b", "wan", 2.3, from_c4(40004, ident=2))
# 6. 1480 bytes on the IPv6-in-IPv6 connection: over the tunnel's MTU (1500 - 40) -> Packet Too Big
#    (2/0) with MTU 1460 from the VIP, quoting the datagram with its hop limit one less
step("big6_b", "wan", 3.0, from_c6(40002, flags="A", seq=ISN + 1, data=b"b" * 1420))
# 7. 1490 bytes on the IPv6-in-IPv4 connection: over 1500 - 20 -> Packet Too Big with MTU 1480
step("big6_a", "wan", 3.1, from_c6(40001, flags="A", seq=ISN + 1, data=b"a" * 1430))
# 8. 1480 bytes with DF on the IPv4-in-IPv6 connection: over 1460 -> ICMP 3/4, next-hop MTU 1460,
#    from the VIP, quoting the datagram with its TTL one less
step("big4_df", "wan", 3.2, from_c4(40003, flags="A", seq=ISN + 1, data=b"c" * 1440, ident=3))
# 9. UDP to VIP4:53 (one real, 2001:db8:1::31), 1480 bytes without DF: two IPv4 fragments (1460
#    and 40 bytes: (1460 - 20) & ~7 = 1440 data bytes, then 20), each in its own IPv6 tunnel packet
step("udp_big", "wan", 3.3, udp_c4(50001, 1480, df=False, ident=4))
# 10. the same with DF -> ICMP 3/4, next-hop MTU 1460
step("udp_big_df", "wan", 3.4, udp_c4(50002, 1480, df=True, ident=5))
# 11. a small datagram fits: one tunnel packet
step("udp_small", "wan", 3.5, udp_c4(50003, 100, df=True, ident=6))
# 12. hop limit 1 to [VIP6]:80 -> Time Exceeded (3/0) from the VIP (the connection is made first)
step("hlim1", "wan", 4.0, from_c6(40005, hlim=1))
# 13. [VIP6]:81's real is behind slim: 1300 - 40 < 1280, nothing is sent (drop tunnel_mtu)
step("syn81", "wan", 4.1, from_c6(40006, dport=81))

if __name__ == "__main__":
    t = Trace(HERE)
    for _, iface, at, frame in sorted(STEPS, key=lambda s: s[2]):
        t.add(iface, T0 + at, frame)
    t.write()

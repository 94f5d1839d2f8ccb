#!/usr/bin/python3
"""Inputs of the IPv6 services case (vsrouter.toml: one VIP, 2001:db8::80, three services). Each
step's comment says what vsrouter must do; check.py asserts it from the rules, reading these steps.

wan: 2001:db8::1/64 (02:00:00:00:00:01); clients 2001:db8::c1 and 2001:db8::c2 (one /64),
     02:00:00:00:cc:01 and 02:00:00:00:cc:02; client 2001:db8:0:0:1::c3 is in the same /64 too.
lan: 2001:db8:1::1/64 (02:00:00:00:00:02); NAT reals 2001:db8:1::11 and ::12 (02:00:00:00:aa:11,
     aa:12), DR reals 2001:db8:1::21 and ::22 (aa:21, aa:22; each holds the VIP on a loopback).

Reals are added in file order at the head of each service's list (ip_vs_ctl.c ip_vs_add_dest), so
rr starts with the last one of each service: ::12 for port 80 and 53, ::22 for 443.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace, ns_from  # noqa: E402
from scapy.all import (UDP, TCP, Ether, ICMPv6DestUnreach, ICMPv6PacketTooBig, IPv6, Raw)  # noqa: E402

T0 = 1700000000.0
R_WAN, R_LAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
WAN6, LAN6 = "2001:db8::1", "2001:db8:1::1"
VIP = "2001:db8::80"
C1, C1_MAC = "2001:db8::c1", "02:00:00:00:cc:01"
C2, C2_MAC = "2001:db8::c2", "02:00:00:00:cc:02"
NAT1, NAT1_MAC = "2001:db8:1::11", "02:00:00:00:aa:11"
NAT2, NAT2_MAC = "2001:db8:1::12", "02:00:00:00:aa:12"
DR1, DR1_MAC = "2001:db8:1::21", "02:00:00:00:aa:21"
DR2, DR2_MAC = "2001:db8:1::22", "02:00:00:00:aa:22"
ISN = 1000






ns = ns_from


def from_client(mac, src, sport, dport, flags="S", hlim=64, seq=ISN, ack=0, data=b""):
    p = Ether(src=mac, dst=R_WAN) / IPv6(src=src, dst=VIP, hlim=hlim) / TCP(sport=sport, dport=dport, flags=flags,
                                                                            seq=seq, ack=ack)
    return p / Raw(data) if data else p


STEPS = []  # (name, interface, seconds after T0, frame)


def step(name, iface, at, frame):
    STEPS.append((name, iface, at, frame))


# ---- t < 1 s: the router's addresses are tentative (DAD, from the first record). A real's
# resolution of the tentative lan address is not answered, and nothing is learnt (nd_not_for_us).
step("ns_tentative", "lan", 0.0, ns(NAT1, NAT1_MAC, LAN6))
# ---- From 1 s:
# 1. the reals resolve the router (their NS carries their MAC: the router learns them, RFC 4861 §7.2.3)
for i, (a, m) in enumerate(((NAT1, NAT1_MAC), (NAT2, NAT2_MAC), (DR1, DR1_MAC), (DR2, DR2_MAC))):
    step(f"ns_real{i}", "lan", 1.2 + i * 0.01, ns(a, m, LAN6))
# 2. a client resolves the VIP -> the router answers for it on wan (a VIP answers as an IPv4 VIP
#    answers ARP): solicited NA for 2001:db8::80 with the router's MAC; the client is learnt
step("ns_vip_c1", "wan", 1.3, ns(C1, C1_MAC, VIP))
step("ns_vip_c2", "wan", 1.31, ns(C2, C2_MAC, VIP))
# 3. TCP 80 (NAT, rr): c1's SYN -> to 2001:db8:1::12 port 8080, hop limit 63, TCP checksum updated
step("syn80_c1", "wan", 2.0, from_client(C1_MAC, C1, 40001, 80))
# 4. the real's SYN-ACK -> to c1 from the VIP, port 80, hop limit 63
step("synack80_c1", "lan", 2.1, Ether(src=NAT2_MAC, dst=R_LAN) / IPv6(src=NAT2, dst=C1, hlim=64) /
     TCP(sport=8080, dport=40001, flags="SA", seq=5000, ack=ISN + 1))
# 5. c1's ACK and data -> the same real
step("ack80_c1", "wan", 2.2, from_client(C1_MAC, C1, 40001, 80, flags="PA", seq=ISN + 1, ack=5001, data=b"GET /"))
# 6. c2's SYN -> rr's next real, 2001:db8:1::11
step("syn80_c2", "wan", 2.3, from_client(C2_MAC, C2, 40002, 80))
# 7. TCP 443 (DR): c1 -> to 2001:db8:1::22's MAC, the datagram unchanged but the hop limit; c2 -> ::21
step("syn443_c1", "wan", 3.0, from_client(C1_MAC, C1, 40003, 443))
step("syn443_c2", "wan", 3.1, from_client(C2_MAC, C2, 40004, 443))
# 8. UDP 53 (NAT, persistence per /64): c1 -> ::12 port 5353; c2 (the same /64) -> the same real
step("dns_c1", "wan", 4.0, Ether(src=C1_MAC, dst=R_WAN) / IPv6(src=C1, dst=VIP, hlim=64) /
     UDP(sport=50001, dport=53) / Raw(b"query-1"))
step("dns_c2", "wan", 4.1, Ether(src=C2_MAC, dst=R_WAN) / IPv6(src=C2, dst=VIP, hlim=64) /
     UDP(sport=50002, dport=53) / Raw(b"query-2"))
# 9. the real's answer to c1 -> from the VIP, port 53, UDP checksum updated
step("dns_reply_c1", "lan", 4.2, Ether(src=NAT2_MAC, dst=R_LAN) / IPv6(src=NAT2, dst=C1, hlim=64) /
     UDP(sport=5353, dport=50001) / Raw(b"answer-1"))
# 10. hop limit 1 toward the VIP -> Time Exceeded (3/0) from the VIP (ip_vs_xmit.c decrement_ttl)
step("hlim1_c1", "wan", 5.0, from_client(C1_MAC, C1, 40005, 80, hlim=1))
# 11. a port without a service on the VIP -> the director's stack answers: a RST from the VIP
step("syn81_c1", "wan", 5.1, from_client(C1_MAC, C1, 40006, 81))
# 12. UDP to a port without a service -> port unreachable (1/4) from the VIP
step("udp54_c1", "wan", 5.2, Ether(src=C1_MAC, dst=R_WAN) / IPv6(src=C1, dst=VIP, hlim=64) /
     UDP(sport=50003, dport=54) / Raw(b"q"))

# 13. ICMPv6 errors about connections (ip_vs_in_icmp_v6 / ip_vs_out_icmp_v6: every error type):
#     c1 tells the VIP a reply of its port-80 connection was too big -> to the NAT real ::12 with
#     the outer destination, the quoted source and source port the real's (8080), the ICMPv6
#     checksum recomputed and the quoted TCP checksum updated
QUOTE_REPLY = IPv6(src=VIP, dst=C1, hlim=63) / TCP(sport=80, dport=40001, flags="A", seq=5001, ack=ISN + 6)
step("ptb_in_c1", "wan", 6.0, Ether(src=C1_MAC, dst=R_WAN) / IPv6(src=C1, dst=VIP, hlim=64) /
     ICMPv6PacketTooBig(mtu=1280) / QUOTE_REPLY)
# 14. the NAT real ::12 tells c1 its request could not be delivered (address unreachable, 1/3)
#     -> to c1 from the VIP, the quoted destination and destination port the VIP's (80)
QUOTE_REQ = IPv6(src=C1, dst=NAT2, hlim=63) / TCP(sport=40001, dport=8080, flags="PA", seq=ISN + 6, ack=5001) / \
    Raw(b"more")
step("unreach_out_c1", "lan", 6.1, Ether(src=NAT2_MAC, dst=R_LAN) / IPv6(src=NAT2, dst=C1, hlim=64) /
     ICMPv6DestUnreach(code=3) / QUOTE_REQ)
# 15. c1 tells the VIP about a reply of its DR connection (port 443, from ::22) -> forwarded to
#     that real's MAC, only the hop limit changed (ip_vs_icmp_xmit_v6 by the connection's method)
step("ptb_in_dr_c1", "wan", 6.2, Ether(src=C1_MAC, dst=R_WAN) / IPv6(src=C1, dst=VIP, hlim=64) /
     ICMPv6PacketTooBig(mtu=1280) / IPv6(src=VIP, dst=C1, hlim=64) / TCP(sport=443, dport=40003, flags="SA"))
# 16. the same error as 13 with a wrong ICMPv6 checksum -> dropped (icmp_bad_checksum)
step("ptb_in_bad", "wan", 6.3, Ether(src=C1_MAC, dst=R_WAN) / IPv6(src=C1, dst=VIP, hlim=64) /
     ICMPv6PacketTooBig(mtu=1280, cksum=0x1234) / QUOTE_REPLY)
# 17. an error about no connection of ours (port 9) -> not related: the VIP's own stack takes it
#     (icmp_local_unhandled), nothing sent
step("ptb_in_none", "wan", 6.4, Ether(src=C1_MAC, dst=R_WAN) / IPv6(src=C1, dst=VIP, hlim=64) /
     ICMPv6PacketTooBig(mtu=1280) / IPv6(src=VIP, dst=C1, hlim=64) / TCP(sport=9, dport=40009, flags="A"))

if __name__ == "__main__":
    t = Trace(HERE)
    for _, iface, at, frame in sorted(STEPS, key=lambda s: s[2]):
        t.add(iface, T0 + at, frame)
    t.write()

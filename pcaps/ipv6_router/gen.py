#!/usr/bin/python3
"""Inputs of the IPv6 router case. Each step's comment says what vsrouter must do (check.py asserts it,
reading the same steps: STEPS by name, MALFORMED by expected drop reason).

lan: 2001:db8:1::1/64 and 192.168.1.10/24 (dual stack), 02:00:00:00:00:01, link-local fe80::ff:fe00:1;
     client 2001:db8:1::2 / fe80::2 / 192.168.1.2 (02:00:00:00:aa:02)
wan: 2001:db8:2::1/64, 02:00:00:00:00:02, link-local fe80::ff:fe00:2, MTU 1400;
     server 2001:db8:2::5 (02:00:00:00:bb:05); gateway 2001:db8:2::fe (02:00:00:00:bb:fe) for
     2001:db8:9::/48; fe80::dead, the (silent) link-local next hop for 2001:db8:7::/48
dmz: 2001:db8:3::1/64, 02:00:00:00:00:03, link-local fe80::ff:fe00:3; another node (02:00:00:00:cc:01)
     already has 2001:db8:3::1 and says so by its own DAD probe in the first second; host
     2001:db8:3::99 / fe80::99 (02:00:00:00:cc:99)

The replay starts at the first record (T0): every IPv6 address of the router is tentative and
probed (DAD, RFC 4862 §5.4.2), and preferred at T0 + 1 s unless someone claimed it. Frames to our
addresses come after that, except the two at the start that show a tentative address unused.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace, mmac, sn  # noqa: E402
from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, ICMPv6DestUnreach, ICMPv6EchoRequest,  # noqa: E402
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, Raw)

T0 = 1700000000.0
R_LAN, R_WAN, R_DMZ = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"
LAN6, WAN6, DMZ6 = "2001:db8:1::1", "2001:db8:2::1", "2001:db8:3::1"
LAN_LL, WAN_LL, DMZ_LL = "fe80::ff:fe00:1", "fe80::ff:fe00:2", "fe80::ff:fe00:3"  # modified EUI-64
LAN4 = "192.168.1.10"
CLIENT, CLIENT_LL, CLIENT4, CLIENT_MAC = "2001:db8:1::2", "fe80::2", "192.168.1.2", "02:00:00:00:aa:02"
SERVER, SERVER_MAC = "2001:db8:2::5", "02:00:00:00:bb:05"
GW, GW_MAC = "2001:db8:2::fe", "02:00:00:00:bb:fe"
SILENT = "fe80::dead"
ROUTED, LOST1, LOST2 = "2001:db8:9::9", "2001:db8:7::7", "2001:db8:7::8"
STRANGER, STRANGER_MAC = "2001:db8:2::77", "02:00:00:00:bb:77"  # its NA comes unasked
PROBER_MAC, CLAIMER_MAC, CLAIMER_LL = "02:00:00:00:bb:66", "02:00:00:00:bb:67", "fe80::67"  # want WAN6 later
DMZ_OWNER_MAC = "02:00:00:00:cc:01"  # already holds DMZ6
HOST, HOST_LL, HOST_MAC = "2001:db8:3::99", "fe80::99", "02:00:00:00:cc:99"
BCAST = "ff:ff:ff:ff:ff:ff"
ALL_NODES = "ff02::1"
MTU_WAN = 1400






def c2r():
    return Ether(src=CLIENT_MAC, dst=R_LAN)


def ns(src, dst, target, lla=None, hlim=255):
    p = IPv6(src=src, dst=dst, hlim=hlim) / ICMPv6ND_NS(tgt=target)
    return p / ICMPv6NDOptSrcLLAddr(lladdr=lla) if lla else p


def na(src, dst, target, lla, R=0, S=1, O=1):
    return IPv6(src=src, dst=dst, hlim=255) / ICMPv6ND_NA(tgt=target, R=R, S=S, O=O) / ICMPv6NDOptDstLLAddr(lladdr=lla)


def with_ext(n, upper, src=CLIENT, dst=LAN6):
    """IPv6 with n Destination Options headers (PadN only) before `upper` (a Scapy layer)."""
    p = IPv6(src=src, dst=dst)
    for _ in range(n):
        p = p / IPv6ExtHdrDestOpt()
    return p / upper


STEPS = []  # (name, interface, seconds after T0, frame): the valid traffic, in time order per interface


def step(name, iface, at, frame):
    STEPS.append((name, iface, at, frame))


# ---- t < 1 s: DAD running. At T0 the router sends 6 DAD probes (2 per interface: link-local first).
# 1. a resolution of the tentative lan address -> not answered, nothing learnt (nd_not_for_us)
step("ns_tentative", "lan", 0.0, Ether(src=CLIENT_MAC, dst=mmac(sn(LAN6))) / ns(CLIENT, sn(LAN6), LAN6, CLIENT_MAC))
# 2. a ping to it -> dropped (ipv6_bad_destination)
step("echo_tentative", "lan", 0.2, c2r() / IPv6(src=CLIENT, dst=LAN6) / ICMPv6EchoRequest(id=0x66, seq=0, data=b"early"))
# 3. another node's DAD probe for dmz's 2001:db8:3::1 while ours runs -> duplicate (nd_duplicate_address)
step("dad_conflict", "dmz", 0.5, Ether(src=DMZ_OWNER_MAC, dst=mmac(sn(DMZ6))) / ns("::", sn(DMZ6), DMZ6))

# ---- t >= 1 s: the other five addresses are preferred.
# 4. NS (multicast) for the lan global address -> solicited NA (R,S,O, target link-layer option)
#    from 2001:db8:1::1; the client (source link-layer option) is learnt
step("ns_global", "lan", 1.5, Ether(src=CLIENT_MAC, dst=mmac(sn(LAN6))) / ns(CLIENT, sn(LAN6), LAN6, CLIENT_MAC))
# 5. NS (unicast, as NUD) from the client's link-local address for ours -> NA from fe80::ff:fe00:1
step("ns_ll", "lan", 1.6, c2r() / ns(CLIENT_LL, LAN_LL, LAN_LL, CLIENT_MAC))
# 6. echo to the global address -> reply from it, hop limit 64
step("echo_global", "lan", 2.0, c2r() / IPv6(src=CLIENT, dst=LAN6) / ICMPv6EchoRequest(id=0x77, seq=1, data=b"global-ping"))
# 7. echo link-local to link-local -> reply from fe80::ff:fe00:1
step("echo_ll", "lan", 2.1, c2r() / IPv6(src=CLIENT_LL, dst=LAN_LL) / ICMPv6EchoRequest(id=0x77, seq=2, data=b"ll-ping"))
# 8. echo to the wan address, asked on lan -> reply from 2001:db8:2::1, sent on lan
step("echo_wan", "lan", 2.2, c2r() / IPv6(src=CLIENT, dst=WAN6) / ICMPv6EchoRequest(id=0x77, seq=3, data=b"wan-ping"))
# 9. echo to all-nodes (a group we are in) -> reply from our address toward the client, 2001:db8:1::1
step("echo_mcast", "lan", 2.25, Ether(src=CLIENT_MAC, dst=mmac(ALL_NODES)) / IPv6(src=CLIENT, dst=ALL_NODES) /
     ICMPv6EchoRequest(id=0x77, seq=5, data=b"all-nodes"))
# 10. IPv4 on the same interface still works: ARP reply and echo reply
step("arp4", "lan", 2.3, Ether(src=CLIENT_MAC, dst=BCAST) / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT4, pdst=LAN4))
step("echo4", "lan", 2.4, c2r() / IP(src=CLIENT4, dst=LAN4, id=1) / ICMP(type=8, id=0x77, seq=4) / Raw(b"v4-ping"))
# 11. UDP to the server: NS on wan for it (from a wan address, to its solicited-node group), the
#     packet waits; a second one joins it ...
step("fwd1", "lan", 3.0, c2r() / IPv6(src=CLIENT, dst=SERVER, hlim=64) / UDP(sport=40000, dport=7) / Raw(b"hello"))
step("fwd2", "lan", 3.1, c2r() / IPv6(src=CLIENT, dst=SERVER, hlim=17) / UDP(sport=40000, dport=7) / Raw(b"again"))
# 12. ... until the server's solicited NA: both leave at once, hop limit one less, to its MAC
step("na_server", "wan", 3.5, Ether(src=SERVER_MAC, dst=R_WAN) / na(SERVER, WAN6, SERVER, SERVER_MAC))
# 13. the answer is forwarded to the client (learnt in step 4) at once, hop limit 63
step("fwd_back", "wan", 3.6, Ether(src=SERVER_MAC, dst=R_WAN) / IPv6(src=SERVER, dst=CLIENT, hlim=64) /
     UDP(sport=7, dport=40000) / Raw(b"hello"))
# 14. TCP SYN to 2001:db8:9::9, the static route via 2001:db8:2::fe: NS for the gateway, then its NA
#     (a router: R,S,O) releases the SYN to the gateway's MAC
step("routed", "lan", 4.0, c2r() / IPv6(src=CLIENT, dst=ROUTED, hlim=64) / TCP(sport=40001, dport=80, flags="S", seq=7000))
step("na_gw", "wan", 4.3, Ether(src=GW_MAC, dst=R_WAN) / na(GW, WAN6, GW, GW_MAC, R=1))
# 15. hop limit 1 -> Time Exceeded (3/0) from 2001:db8:1::1 quoting the packet
step("hlim1", "lan", 5.0, c2r() / IPv6(src=CLIENT, dst=SERVER, hlim=1) / UDP(sport=40002, dport=7) / Raw(b"ttl"))
# 16. no route -> Destination Unreachable code 0
step("noroute", "lan", 5.1, c2r() / IPv6(src=CLIENT, dst="2001:db8:ffff::1") / UDP(sport=40003, dport=53) / Raw(b"q"))
# 17. 1450 bytes toward the MTU-1400 wan -> Packet Too Big, MTU 1400, quoting the first 1232 bytes
step("too_big", "lan", 5.2, c2r() / IPv6(src=CLIENT, dst=SERVER) / UDP(sport=40004, dport=7) / Raw(b"B" * (1450 - 48)))
# 18. a link-local source toward a global destination -> Destination Unreachable code 2 (beyond
#     scope of source address) to fe80::2, from fe80::ff:fe00:1 (ipv6_scope)
step("scope", "lan", 5.3, c2r() / IPv6(src=CLIENT_LL, dst=SERVER) / UDP(sport=40005, dport=7) / Raw(b"scope"))
# 19. UDP to the router -> port unreachable (1/4) from the address asked
step("udp_local", "lan", 5.4, c2r() / IPv6(src=CLIENT, dst=LAN6) / UDP(sport=40006, dport=53) / Raw(b"q"))
# 20. TCP SYN to the router -> RST+ACK, seq 0, ack ISN+1
step("syn_local", "lan", 5.5, c2r() / IPv6(src=CLIENT, dst=LAN6) / TCP(sport=40007, dport=22, flags="S", seq=1000))
# 21. TCP ACK to the router -> RST with seq = the segment's ack (RFC 9293 §3.10.7.1)
step("ack_local", "lan", 5.6, c2r() / IPv6(src=CLIENT, dst=LAN6) / TCP(sport=40008, dport=22, flags="A", seq=2000, ack=5555))
# 22. an unknown Next Header -> Parameter Problem code 1, pointer 6 (the IPv6 header's Next Header)
step("nh_unknown", "lan", 5.7, c2r() / IPv6(src=CLIENT, dst=LAN6, nh=253) / Raw(b"x" * 8))
# 23. the same after a Destination Options header -> pointer 40 (that header's Next Header field)
step("nh_unknown_ext", "lan", 5.8, c2r() / IPv6(src=CLIENT, dst=LAN6) / IPv6ExtHdrDestOpt(nh=253) / Raw(b"y" * 8))
# 24. UDP to all-nodes (a group we are in): no error about a multicast destination (local_no_service)
step("udp_mcast", "lan", 5.9, Ether(src=CLIENT_MAC, dst=mmac(ALL_NODES)) / IPv6(src=CLIENT, dst=ALL_NODES) /
     UDP(sport=40009, dport=9) / Raw(b"m"))
# 25. an ICMPv6 error in transit with hop limit 1: no error about an error (ttl_exceeded only)
step("err_hlim1", "lan", 5.95, c2r() / IPv6(src=CLIENT, dst=SERVER, hlim=1) / ICMPv6DestUnreach(code=4) /
     IPv6(src=SERVER, dst=CLIENT) / UDP(sport=1, dport=2))
# 26. 8 extension headers (the limit) are walked: UDP behind them -> port unreachable
step("ext8", "lan", 5.97, c2r() / with_ext(8, UDP(sport=40010, dport=9) / Raw(b"deep")))
# 27. toward 2001:db8:7::/48 via fe80::dead on wan, which never answers: NS (from wan's link-local
#     address) at 6, 7 and 8 s; a second packet waits with the first; at 9 s both are dropped and
#     the client gets Destination Unreachable code 3 (address unreachable) for each
step("lost1", "lan", 6.0, c2r() / IPv6(src=CLIENT, dst=LOST1) / UDP(sport=40011, dport=7) / Raw(b"lost-1"))
step("lost2", "lan", 6.5, c2r() / IPv6(src=CLIENT, dst=LOST2) / UDP(sport=40012, dport=7) / Raw(b"lost-2"))
# 28. an NA for an address the router never asked about -> nothing learnt (nd_unsolicited)
step("na_unsolicited", "wan", 6.2, Ether(src=STRANGER_MAC, dst=mmac(ALL_NODES)) / na(STRANGER, ALL_NODES, STRANGER, STRANGER_MAC, S=0))
# 29. another node's DAD probe for the (preferred) wan address -> defended: NA to all-nodes, R and O,
#     not S (RFC 4861 §7.2.4)
step("dad_probe_ours", "wan", 6.3, Ether(src=PROBER_MAC, dst=mmac(sn(WAN6))) / ns("::", sn(WAN6), WAN6))
# 30. another node advertises the wan address, from its link-local address: the address stays ours,
#     no DAD failure (RFC 4862 §5.4.4 case 2; nd_duplicate_address) ...
step("na_claims_ours", "wan", 6.4, Ether(src=CLAIMER_MAC, dst=mmac(ALL_NODES)) /
     na(CLAIMER_LL, ALL_NODES, WAN6, CLAIMER_MAC, S=0))
# 31. ... and from the address itself: a datagram from one of our (preferred) addresses is dropped
#     before Neighbour Discovery sees it (ipv6_bad_source); the address stays ours all the same
step("na_claims_ours_src", "wan", 6.45, Ether(src=CLAIMER_MAC, dst=mmac(ALL_NODES)) /
     na(WAN6, ALL_NODES, WAN6, CLAIMER_MAC, S=0))
# 32. on dmz: NS for dmz's link-local address -> NA from fe80::ff:fe00:3 (the interface works)
step("ns_dmz_ll", "dmz", 7.5, Ether(src=HOST_MAC, dst=mmac(sn(DMZ_LL))) / ns(HOST_LL, sn(DMZ_LL), DMZ_LL, HOST_MAC))
# 33. NS (unicast) for the duplicate 2001:db8:3::1 -> not answered (nd_not_for_us)
step("ns_dmz_dup", "dmz", 7.6, Ether(src=HOST_MAC, dst=R_DMZ) / ns(HOST, DMZ6, DMZ6, HOST_MAC))
# 34. echo to the duplicate address -> dropped, never ours (ipv6_bad_destination)
step("echo_dmz_dup", "dmz", 7.7, Ether(src=HOST_MAC, dst=R_DMZ) / IPv6(src=HOST, dst=DMZ6) /
     ICMPv6EchoRequest(id=0x99, seq=1, data=b"dup"))


# ---- Malformed (lan, from 10 s, 10 ms apart): (expected drop reason, frame). Nothing is sent about them.
def eth6(payload, dst=R_LAN):
    return bytes(Ether(src=CLIENT_MAC, dst=dst, type=0x86DD)) + payload


_echo = bytes(IPv6(src=CLIENT, dst=LAN6) / ICMPv6EchoRequest(id=1, seq=1, data=b"sum"))
_bad_sum = _echo[:42] + struct.pack("!H", struct.unpack("!H", _echo[42:44])[0] ^ 0x5555) + _echo[44:]
_udp = bytes(IPv6(src=CLIENT, dst=LAN6) / UDP(sport=1, dport=9) / Raw(b"data"))
MALFORMED = [
    ("icmp_bad_checksum", eth6(_bad_sum)),
    ("nd_invalid", eth6(bytes(ns(CLIENT, sn(LAN6), LAN6, CLIENT_MAC, hlim=64)), dst=mmac(sn(LAN6)))),  # §7.1.1 hop limit
    ("nd_invalid", eth6(bytes(ns("::", sn(LAN6), LAN6, CLIENT_MAC)), dst=mmac(sn(LAN6)))),  # DAD probe with an SLLA
    ("nd_invalid", eth6(bytes(ns(CLIENT, LAN6, "ff02::1", CLIENT_MAC)))),                    # multicast target
    ("ipv6_truncated", eth6(_udp[:20])),
    ("ipv6_bad_length", eth6(_udp[:4] + struct.pack("!H", 100) + _udp[6:])),                # payload length > frame
    ("ipv6_bad_version", eth6(b"\x40" + _udp[1:])),
    ("ipv6_bad_source", eth6(bytes(IPv6(src="ff02::1", dst=LAN6) / UDP(sport=1, dport=9)))),
    ("ipv6_bad_source", eth6(bytes(IPv6(src=LAN6, dst=SERVER) / UDP(sport=1, dport=9)))),  # our own address
    ("ipv6_bad_ext_headers", eth6(bytes(with_ext(9, UDP(sport=1, dport=9))))),             # over the limit of 8
    ("ipv6_bad_ext_headers", eth6(bytes(IPv6(src=CLIENT, dst=LAN6) / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() /
                                        UDP(sport=1, dport=9)))),                          # Hop-by-Hop not first
    ("ipv6_multicast", eth6(bytes(IPv6(src=CLIENT, dst="ff02::1:ff00:99") / UDP(sport=1, dport=9)),
                            dst=mmac("ff02::1:ff00:99"))),                                 # a group we are not in
    ("ipv6_multicast", eth6(bytes(IPv6(src=CLIENT, dst="ff0e::1") / UDP(sport=1, dport=9)), dst=mmac("ff0e::1"))),
]
MALFORMED_AT = 10.0

if __name__ == "__main__":
    t = Trace(HERE)
    for _, iface, at, frame in sorted(STEPS, key=lambda s: s[2]):
        t.add(iface, T0 + at, frame)
    for i, (_, frame) in enumerate(MALFORMED):
        t.add("lan", T0 + MALFORMED_AT + i * 0.01, Raw(frame))
    t.write()

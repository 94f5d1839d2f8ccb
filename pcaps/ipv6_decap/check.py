"""Semantic checks of IPv6 tunnel decapsulation (vsrouter as a TUN real server's tunnel endpoint).

RFC 2473 / Linux ip6tnl, RFC 4213 / sit: a tunnel packet addressed to one of the router's own
addresses is decapsulated and the inner datagram handled as if it had arrived on the interface:
here routed toward the VIPs (their routes point at the real server), so its hop limit (or TTL) drops
by one and nothing else changes. IPv6 in IPv6 (next header 41), IPv4 in IPv6 (4) and IPv6 in IPv4
(protocol 41). One level only (ipip_nested); an inner packet that does not parse is dropped
(ipip_truncated); a tunnel packet to another host is ordinary traffic, routed unchanged.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read, ttl_decremented  # noqa: E402
from scapy.all import ARP, IP, IPv6, Ether, IPerror6, ICMPv6TimeExceeded  # noqa: E402
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6ND_NS, in6_chksum  # noqa: E402

gen = load_gen(HERE)


def hop_decremented(p6):
    """The bytes of IPv6 datagram `p6` (a Scapy packet) with its hop limit lowered by one."""
    b = bytearray(bytes(p6))
    b[7] -= 1
    return bytes(b)


def icmp6_ok(p):
    """The ICMPv6 checksum of `p` is right."""
    ip = p[IPv6]
    icmp = bytes(ip.payload)
    zeroed = icmp[:2] + b"\0\0" + icmp[4:]
    return in6_chksum(58, ip, zeroed) == int.from_bytes(icmp[2:4], "big")


def check(out):
    ok = Checker()
    up, srv = read(out, "up"), read(out, "srv")
    T = gen.T0

    def dad(p, target):
        return (ICMPv6ND_NS in p and p[IPv6].src == "::" and p[ICMPv6ND_NS].tgt == target and p[IPv6].hlim == 255
                and icmp6_ok(p))

    ok.frames("up", up, [
        (0.0, "DAD probe for fe80::ff:fe00:1", lambda p: dad(p, "fe80::ff:fe00:1")),
        (0.0, "DAD probe for 2001:db8:1::5", lambda p: dad(p, gen.ME6)),
        (2.0, "NA for 2001:db8:1::5 to the director (R, S, O)",
         lambda p: ICMPv6ND_NA in p and p[ICMPv6ND_NA].tgt == gen.ME6 and p[ICMPv6ND_NA].R == 1
         and p[ICMPv6ND_NA].S == 1 and p[ICMPv6ND_NA].O == 1 and p[IPv6].dst == gen.DIR6
         and p[Ether].dst == gen.DIR_MAC and icmp6_ok(p)),
        (2.29, "ARP reply to the director", lambda p: ARP in p and p[ARP].op == 2 and p[ARP].pdst == gen.DIR4),
        # E7: the error quotes the inner datagram (not the tunnel packet), from our address toward the
        # client, through the default route (the director).
        (2.7, "E7: ICMPv6 time exceeded about the inner datagram",
         lambda p: ICMPv6TimeExceeded in p and p[IPv6].src == gen.ME6 and p[IPv6].dst == gen.CLIENT6
         and p[Ether].dst == gen.DIR_MAC and bytes(p[IPerror6]) == bytes(IPv6(bytes(gen.HLIM1))) and icmp6_ok(p)),
    ], T)

    def to_real(p):
        return p[Ether].src == gen.R_SRV and p[Ether].dst == gen.REAL_MAC

    syn6, dgram6 = IPv6(bytes(gen.SYN6)), IPv6(bytes(gen.DGRAM6))
    e6 = gen.UP[8][1][IPv6]  # E6, the tunnel to the real server itself, as sent
    ok.frames("srv", srv, [
        (0.0, "DAD probe for fe80::ff:fe00:2", lambda p: dad(p, "fe80::ff:fe00:2")),
        (0.0, "DAD probe for 2001:db8:2::1", lambda p: dad(p, "2001:db8:2::1")),
        # a forwarded packet prompts the solicitation: from the link-local address (ndisc_send_ns)
        (2.1, "NS for the real server", lambda p: ICMPv6ND_NS in p and p[ICMPv6ND_NS].tgt == gen.REAL6
         and p[IPv6].src == "fe80::ff:fe00:2" and p[IPv6].dst == "ff02::1:ff00:11" and icmp6_ok(p)),
        (2.15, "E1: the inner SYN, hop limit 63 -> 62, traffic class kept, nothing else changed",
         lambda p: to_real(p) and bytes(p[IPv6]) == hop_decremented(syn6) and p[IPv6].tc == 0xb8),
        (2.2, "ARP request for the real's IPv4 address", lambda p: ARP in p and p[ARP].pdst == gen.REAL4),
        (2.25, "E2: the inner IPv4 datagram, TTL 63 -> 62",
         lambda p: to_real(p) and IP in p and bytes(p[IP]) == ttl_decremented(IP(bytes(gen.DGRAM4)))),
        (2.3, "E3: IPv6 from inside IPv4, hop limit 63 -> 62",
         lambda p: to_real(p) and bytes(p[IPv6]) == hop_decremented(dgram6)),
        (2.6, "E6: a tunnel to another host, routed whole (outer hop limit 63 -> 62)",
         lambda p: to_real(p) and p[IPv6].nh == 41 and bytes(p[IPv6]) == hop_decremented(IPv6(bytes(e6)))),
    ], T)

    L = Listing(out)
    ok(L.drops == {"ipip_nested": 1, "ipip_truncated": 1, "ttl_exceeded": 1, "total": 3}, f"drops {L.drops}")
    ok(L.events["forwarded"] == 1 and L.events["forwarded6"] == 3, f"1 IPv4 and 3 IPv6 forwarded: {L.events}")
    ok(all(st == "preferred" for st in L.addresses6.values()) and len(L.addresses6) == 4,
       f"four preferred addresses: {L.addresses6}")
    ok(L.neigh6.get((gen.REAL6, "srv"), ("", ""))[0] == gen.REAL_MAC and L.neigh6.get((gen.DIR6, "up"), ("", ""))[0]
       == gen.DIR_MAC, f"the real and the director in the neighbour cache: {L.neigh6}")
    return ok.n

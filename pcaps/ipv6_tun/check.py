"""Semantic checks on the IPv6 TUN case's output, written from the rules, not from the output.
gen.py's steps are the inputs. Used by tests/golden.py.

ip_vs_tunnel_xmit_v6 (an IPv6 outer header) and ip_vs_tunnel_xmit (an IPv4 one) wrap the datagram
after __ip_vs_get_out_rt{,_v6} decremented its TTL or hop limit: the outer header's hop limit or
TTL is the inner one after the decrement; its traffic class or TOS is INET_ECN_encapsulate of the
inner (DSCP and ECN copied, CE made ECT(0)); an IPv6 outer header has flow label 0 and next header
41 (IPv6 inside) or 4 (IPv4 inside); an IPv4 outer header over IPv6 has DF clear (IPv6 has no DF).
The tunnel's MTU is the route's less the outer header (40 or 20 bytes); the inner family's rule
applies (ensure_mtu_is_adequate): IPv6 too big -> Packet Too Big (RFC 4443 §3.2) with the tunnel's
MTU; IPv4 with DF -> ICMP 3/4 with it (RFC 1191); IPv4 without DF is fragmented: vsrouter cuts the
inner datagram (RFC 791) and sends each fragment in its own tunnel packet (docs/ipv6.md: the kernel
fragments the outer IPv6 datagram instead; the endpoint reassembles the same datagram). A tunnel
MTU below the minimum (1280 for an IPv6 outer header) is a silent drop. Errors come from the VIP.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import (MIN_MTU, Steps, NA_O, NA_R, NA_S, OWN_HLIM, Checker, Listing, dad_ns, head,  # noqa: E402
                   hop_decremented, ipv4_checksum_ok, l4_checksum_ok, load_gen, mac, na, read, ttl_decremented, v6)
from scapy.all import ARP, ICMP, IP, IPv6, Ether  # noqa: E402

g = load_gen(HERE)


S = Steps(g)
frame_of, T, in_v6 = S.frame, S.at, S.v6


def in_v4(step):
    return frame_of(step)[IP]


def ecn_encap(tos):
    return (tos & ~3) | 2 if tos & 3 == 3 else tos


def tc_of(b):
    """The traffic class of an IPv6 header (bits 4..11)."""
    return ((b[0] & 0x0F) << 4) | (b[1] >> 4)


def in6(p, eth_dst, inner):
    """An IPv6 tunnel packet from lan's address to the endpoint whose MAC is eth_dst: next header 4
    or 41 by the inner version, hop limit and traffic class from the inner header, flow label 0."""
    ip = v6(p)
    v4 = inner[0] >> 4 == 4
    hops, tos = (inner[8], inner[1]) if v4 else (inner[7], tc_of(inner))
    return (head(p, g.LAN6, g.E6, hops, 4 if v4 else 41, g.R_LAN, eth_dst) and tc_of(ip) == ecn_encap(tos)
            and ip[1] & 0x0F == 0 and ip[2:4] == b"\0\0" and ip[40:] == inner)


def in4(p, proto, inner, df):
    """An IPv4 tunnel packet from 10.0.1.1 to 10.0.1.32 (E4's MAC): TTL and TOS from the inner
    header, DF as given, no options, a valid header checksum."""
    b = bytes(p)
    o = p[IP]
    v4 = inner[0] >> 4 == 4
    hops, tos = (inner[8], inner[1]) if v4 else (inner[7], tc_of(inner))
    return (b[0:6] == mac(g.E4_MAC) and b[6:12] == mac(g.R_LAN) and b[12:14] == b"\x08\x00" and o.ihl == 5
            and o.src == g.LAN4 and o.dst == g.E4 and o.proto == proto and o.ttl == hops and o.tos == ecn_encap(tos)
            and bool(o.flags.DF) == df and not o.flags.MF and o.frag == 0 and ipv4_checksum_ok(p)
            and bytes(o)[20:o.len] == inner and len(b) == 14 + o.len)


def ptb(p, mtu, quoted):
    """RFC 4443 §3.2 from the VIP to C6: type 2 code 0, the MTU, as much of the datagram as fits."""
    icmp = v6(p)[40:]
    return (head(p, g.VIP6, g.C6, OWN_HLIM, 58, g.R_WAN, g.C6_MAC) and icmp[0] == 2 and icmp[1] == 0
            and int.from_bytes(icmp[4:8], "big") == mtu and icmp[8:] == quoted[: MIN_MTU - 48])


def frag_needed(p, mtu, step):
    """RFC 1191 from the VIP to C4: 3/4 with the next-hop MTU, quoting the datagram with its TTL one
    less (as IPVS quotes it), cut at a 576-byte error (RFC 1812 §4.3.2.3)."""
    e = p[IP]
    q = bytes(e[ICMP])[8:]
    return (p[Ether].dst == g.C4_MAC and p[Ether].src == g.R_WAN and e.src == g.VIP4 and e.dst == g.C4
            and e[ICMP].type == 3 and e[ICMP].code == 4 and e[ICMP].nexthopmtu == mtu and e.len == 576
            and q == ttl_decremented(in_v4(step))[: len(q)] and ipv4_checksum_ok(p))


def check(out):
    ok = Checker()
    wan, lan, slim = read(out, "wan"), read(out, "lan"), read(out, "slim")
    for name, frames in (("wan", wan), ("lan", lan), ("slim", slim)):
        for i, p in enumerate(frames):
            ok(ARP in p or (IP in p and ipv4_checksum_ok(p)) or (IPv6 in p and l4_checksum_ok(p)),
               f"{name} #{i + 1}: a checksum is wrong ({p.summary()})")

    def arp_reply(p, ip, to_ip, to_mac, itf_mac):
        return ARP in p and p[ARP].op == 2 and p[ARP].psrc == ip and p[ARP].hwsrc == itf_mac and \
            p[ARP].pdst == to_ip and p[ARP].hwdst == to_mac and p[Ether].dst == to_mac

    wan_want = [
        (0.0, "DAD probe for wan's link-local address", lambda p: dad_ns(p, g.R_WAN, "fe80::ff:fe00:1")),
        (0.0, "DAD probe for 2001:db8::1", lambda p: dad_ns(p, g.R_WAN, g.WAN6)),
        (T("ns_vip6"), "NA (R,S,O) for the IPv6 VIP to C6",
         lambda p: na(p, g.R_WAN, g.VIP6, g.C6, g.C6_MAC, NA_R | NA_S | NA_O)),
        (T("arp_vip4"), "ARP reply for the IPv4 VIP to C4",
         lambda p: arp_reply(p, g.VIP4, g.C4, g.C4_MAC, g.R_WAN)),
        (T("big6_b"), "Packet Too Big, MTU 1500 - 40, quoting the datagram with its hop limit one less",
         lambda p: ptb(p, 1460, hop_decremented(in_v6("big6_b")))),
        (T("big6_a"), "Packet Too Big, MTU 1500 - 20 (an IPv4 tunnel)",
         lambda p: ptb(p, 1480, hop_decremented(in_v6("big6_a")))),
        (T("big4_df"), "ICMP 3/4 next-hop MTU 1460 (an IPv6 tunnel)", lambda p: frag_needed(p, 1460, "big4_df")),
        (T("udp_big_df"), "ICMP 3/4 next-hop MTU 1460 for the UDP datagram with DF",
         lambda p: frag_needed(p, 1460, "udp_big_df")),
        (T("hlim1"), "Time Exceeded 3/0 from the VIP, quoting the datagram as received",
         lambda p: head(p, g.VIP6, g.C6, OWN_HLIM, 58, g.R_WAN, g.C6_MAC) and v6(p)[40] == 3
         and v6(p)[41] == 0 and v6(p)[48:] == in_v6("hlim1")),
    ]
    ok.frames("wan", wan, wan_want, g.T0)

    udp = ttl_decremented(in_v4("udp_big"))  # the inner datagram as the fragments must rebuild it

    def fragment(p, first):
        """One inner fragment of udp_big in its IPv6 tunnel packet: RFC 791 cut at (1460-20) & ~7."""
        ip = v6(p)
        f = IP(ip[40:])
        data = bytes(f)[20:f.len]
        want = udp[20:20 + 1440] if first else udp[20 + 1440:]
        return (in6(p, g.E6_MAC, ip[40:]) and f.id == 4 and f.ttl == 63 and not f.flags.DF
                and bool(f.flags.MF) == first and f.frag * 8 == (0 if first else 1440) and data == want
                and f.len == (1460 if first else 40))

    lan_want = [
        (0.0, "DAD probe for lan's link-local address", lambda p: dad_ns(p, g.R_LAN, "fe80::ff:fe00:2")),
        (0.0, "DAD probe for 2001:db8:1::1", lambda p: dad_ns(p, g.R_LAN, g.LAN6)),
        (T("ns_e6"), "NA (R,S,O) for 2001:db8:1::1 to E6", lambda p: na(p, g.R_LAN, g.LAN6, g.E6, g.E6_MAC,
                                                                          NA_R | NA_S | NA_O)),
        (T("arp_e4"), "ARP reply for 10.0.1.1 to E4", lambda p: arp_reply(p, g.LAN4, g.E4, g.E4_MAC, g.R_LAN)),
        (T("syn6_a"), "C6's SYN in IPv4 (protocol 41) to 10.0.1.32, DF clear",
         lambda p: in4(p, 41, hop_decremented(in_v6("syn6_a")), df=False)),
        (T("syn6_b"), "C6's second SYN in IPv6 to 2001:db8:1::31, its CE carried out as ECT(0)",
         lambda p: in6(p, g.E6_MAC, hop_decremented(in_v6("syn6_b"))) and tc_of(v6(p)) == 0x2A),
        (T("syn4_a"), "C4's SYN in IPv6 (next header 4) to 2001:db8:1::31",
         lambda p: in6(p, g.E6_MAC, ttl_decremented(in_v4("syn4_a")))),
        (T("syn4_b"), "C4's second SYN by IPIP to 10.0.1.32, DF copied",
         lambda p: in4(p, 4, ttl_decremented(in_v4("syn4_b")), df=True)),
        (T("udp_big"), "the first fragment (1460 bytes) in its tunnel packet", lambda p: fragment(p, True)),
        (T("udp_big"), "the second fragment (40 bytes) in its tunnel packet", lambda p: fragment(p, False)),
        (T("udp_small"), "a small UDP datagram in one tunnel packet",
         lambda p: in6(p, g.E6_MAC, ttl_decremented(in_v4("udp_small")))),
    ]
    ok.frames("lan", lan, lan_want, g.T0)

    slim_want = [
        (0.0, "DAD probe for slim's link-local address", lambda p: dad_ns(p, g.R_SLIM, "fe80::ff:fe00:3")),
        (0.0, "DAD probe for 2001:db8:2::1", lambda p: dad_ns(p, g.R_SLIM, g.SLIM6)),
        (T("ns_es"), "NA (R,S,O) for 2001:db8:2::1 to ES", lambda p: na(p, g.R_SLIM, g.SLIM6, g.ES, g.ES_MAC,
                                                                         NA_R | NA_S | NA_O)),
        # nothing for syn81: the tunnel's MTU (1260) is below 1280
    ]
    ok.frames("slim", slim, slim_want, g.T0)

    listing = Listing(out)
    want_drops = {"nd_not_for_us": 1, "frag_needed": 4, "ttl_exceeded": 1, "tunnel_mtu": 1}
    drops = {k: v for k, v in listing.drops.items() if v and k != "total"}
    ok(drops == want_drops, f"drops: {listing.drops}")
    ok(listing.events["fragments_sent"] == 2, f"fragments sent: {listing.events}")
    # The IPv4 services: every datagram counted in before its transmission (the refused ones too);
    # a frag-needed error counted out, as the kernel's LOCAL_OUT hook counts it (ip_vs_out_icmp).
    ok(listing.stats("10.0.0.80:80") == [2, 3, 1, 40 + 40 + 1480, 576], f"TCP 10.0.0.80:80 {listing.services}")
    ok(listing.reals[("TCP", "10.0.0.80:80", f"[{g.E6}]:80")] == [1, 2, 1, 40 + 1480, 576], f"{listing.reals}")
    ok(listing.reals[("TCP", "10.0.0.80:80", f"{g.E4}:80")] == [1, 1, 0, 40, 0], f"{listing.reals}")
    ok(listing.stats("10.0.0.80:53") == [3, 3, 1, 1480 + 1480 + 100, 576], f"UDP 10.0.0.80:53 {listing.services}")
    # The IPv6 service: the errors the director sent about its TUN connections' datagrams (two
    # Packet Too Big, one Time Exceeded) are counted out too, as the kernel's LOCAL_OUT hook finds
    # a DR/TUN connection by the quote reversed (ip_vs_out_icmp_v6, ip_vs_conn_out_get; a NAT
    # connection is not found: pcaps/ipv6_services). An error quotes as much as fits in 1280 bytes
    # (40 + 8 + 1232); the Time Exceeded quotes the 60-byte SYN.
    ok(listing.stats(f"TCP [{g.VIP6}]:80") == [3, 5, 3, 3 * 60 + 1480 + 1490, 1280 + 1280 + 108],
       f"TCP [{g.VIP6}]:80 {listing.services}")
    ok(listing.reals[("TCP", f"[{g.VIP6}]:80", f"{g.E4}:80")] == [2, 3, 2, 60 + 1490 + 60, 1280 + 108],
       f"{listing.reals}")
    ok(listing.reals[("TCP", f"[{g.VIP6}]:80", f"[{g.E6}]:80")] == [1, 2, 1, 60 + 1480, 1280], f"{listing.reals}")
    ok(listing.stats(f"TCP [{g.VIP6}]:81") == [1, 1, 0, 60, 0], "the silent tunnel_mtu drop sends nothing")
    # -Lnc: a real of the other family in ipvsadm's form; rr alternates within each service.
    conns = {(c[0], c[3], c[4], c[5]) for c in listing.conns}
    vip6 = f"[{g.VIP6}]"
    want_conns = {
        ("TCP", f"[{g.C6}]:40001", f"{vip6}:80", f"{g.E4}:80"),
        ("TCP", f"[{g.C6}]:40002", f"{vip6}:80", f"[{g.E6}]:80"),
        ("TCP", f"[{g.C6}]:40005", f"{vip6}:80", f"{g.E4}:80"),  # made before the hop limit check
        ("TCP", f"[{g.C6}]:40006", f"{vip6}:81", f"[{g.ES}]:81"),  # made before the MTU check
        ("TCP", f"{g.C4}:40003", f"{g.VIP4}:80", f"[{g.E6}]:80"),
        ("TCP", f"{g.C4}:40004", f"{g.VIP4}:80", f"{g.E4}:80"),
        ("UDP", f"{g.C4}:50001", f"{g.VIP4}:53", f"[{g.E6}]:53"),
        ("UDP", f"{g.C4}:50002", f"{g.VIP4}:53", f"[{g.E6}]:53"),
        ("UDP", f"{g.C4}:50003", f"{g.VIP4}:53", f"[{g.E6}]:53"),
    }
    ok(conns == want_conns, f"connection entries: {sorted(conns)}")
    return ok.n

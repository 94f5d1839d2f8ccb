"""Semantic checks on the IPv6 services case's output, written from the rules (ip_vs_xmit.c
ip_vs_nat_xmit_v6 / ip_vs_dr_xmit_v6: the hop limit decremented, NAT rewrites the destination
address and port and the transport checksum, DR changes nothing but the MAC; replies of NAT reals
leave from the VIP; ip_vs_sched_persist: one template per client /64; RFC 4861 for the VIP's
Neighbour Advertisements; RFC 4443 for the errors, from the VIP the datagram was sent to;
ip_vs_in_icmp_v6 / ip_vs_out_icmp_v6 for errors about a connection: to the real by its method,
NAT translating the outer address and the quote, ip_vs_nat_icmp_v6), not from the output. gen.py's steps are the inputs. Used by tests/golden.py."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import (MIN_MTU, Steps, NA_O, NA_R, NA_S, OWN_HLIM, Checker, Listing, dad_ns, head,  # noqa: E402
                   hop_decremented, l4_checksum_ok, load_gen, mac, na, read, v6)
from scapy.all import TCP, UDP, ICMPv6DestUnreach, ICMPv6PacketTooBig, IPv6  # noqa: E402

g = load_gen(HERE)








S = Steps(g)
frame_of, T, in_v6 = S.frame, S.at, S.v6


def rewritten(step, src=None, sport=None, dst=None, dport=None):
    """The step's datagram as the director forwards it: hop limit one less, the given address and
    port replaced, the transport checksum computed anew over the new pseudo-header (RFC 8200 §8.1)."""
    p = IPv6(in_v6(step))
    p.hlim -= 1
    if src:
        p.src = src
    if dst:
        p.dst = dst
    l4 = p[TCP] if TCP in p else p[UDP]
    if sport:
        l4.sport = sport
    if dport:
        l4.dport = dport
    del l4.chksum
    return bytes(IPv6(bytes(p)))




def sent(p, eth_src, eth_dst, datagram):
    b = bytes(p)
    return b[0:6] == mac(eth_dst) and b[6:12] == mac(eth_src) and b[12:14] == b"\x86\xdd" and v6(p) == datagram \
        and len(b) == 14 + len(datagram)










def icmp_error(p, typ, code, quoted):
    """RFC 4443: from the VIP the datagram was sent to, to client 1, the whole datagram quoted."""
    icmp = v6(p)[40:]
    return (head(p, g.VIP, g.C1, OWN_HLIM, 58, g.R_WAN, g.C1_MAC) and icmp[0] == typ and icmp[1] == code
            and icmp[4:8] == bytes(4) and icmp[8:] == quoted[: MIN_MTU - 48])


def translated_error(outer_src, outer_dst, icmp, quote, **quote_changes):
    """An ICMPv6 error as ip_vs_nat_icmp_v6 forwards it: hop limit one less (64 -> 63), the given
    outer addresses, the quote with the given fields changed and its TCP checksum computed anew
    (the quote here is whole, so updating it equals computing it), the ICMPv6 checksum computed
    over the new pseudo-header."""
    q = IPv6(bytes(quote))
    for k, v in quote_changes.items():
        if k in ("src", "dst"):
            setattr(q, k, v)
        else:
            setattr(q[TCP], k, v)
    del q[TCP].chksum
    return bytes(IPv6(src=outer_src, dst=outer_dst, hlim=63) / icmp / IPv6(bytes(q)))


def rst(p, step):
    """RFC 9293 §3.10.7.1 (CLOSED), a SYN: <SEQ=0><ACK=SEG.SEQ+1><RST,ACK> from the VIP and port asked."""
    req = in_v6(step)
    t = v6(p)[40:]
    return (head(p, g.VIP, g.C1, OWN_HLIM, 6, g.R_WAN, g.C1_MAC) and len(t) == 20 and t[0:2] == req[42:44]
            and t[2:4] == req[40:42] and int.from_bytes(t[4:8], "big") == 0
            and int.from_bytes(t[8:12], "big") == g.ISN + 1 and t[13] == 0x14)


def check(out):
    ok = Checker()
    wan, lan = read(out, "wan"), read(out, "lan")
    for name, frames in (("wan", wan), ("lan", lan)):
        for i, p in enumerate(frames):
            ok(IPv6 in p and l4_checksum_ok(p), f"{name} #{i + 1}: not IPv6 or a checksum wrong ({p.summary()})")

    wan_want = [
        (0.0, "DAD probe for wan's link-local address", lambda p: dad_ns(p, g.R_WAN, "fe80::ff:fe00:1")),
        (0.0, "DAD probe for 2001:db8::1", lambda p: dad_ns(p, g.R_WAN, g.WAN6)),
        (T("ns_vip_c1"), "NA (R,S,O) for the VIP to client 1",
         lambda p: na(p, g.R_WAN, g.VIP, g.C1, g.C1_MAC, NA_R | NA_S | NA_O)),
        (T("ns_vip_c2"), "NA (R,S,O) for the VIP to client 2",
         lambda p: na(p, g.R_WAN, g.VIP, g.C2, g.C2_MAC, NA_R | NA_S | NA_O)),
        (T("synack80_c1"), "the NAT real's SYN-ACK, from the VIP port 80",
         lambda p: sent(p, g.R_WAN, g.C1_MAC, rewritten("synack80_c1", src=g.VIP, sport=80))),
        (T("dns_reply_c1"), "the NAT real's UDP answer, from the VIP port 53",
         lambda p: sent(p, g.R_WAN, g.C1_MAC, rewritten("dns_reply_c1", src=g.VIP, sport=53))),
        (T("hlim1_c1"), "Time Exceeded 3/0 from the VIP, quoting the datagram as received",
         lambda p: icmp_error(p, 3, 0, in_v6("hlim1_c1"))),
        (T("syn81_c1"), "RST+ACK from the VIP port 81", lambda p: rst(p, "syn81_c1")),
        (T("udp54_c1"), "port unreachable 1/4 from the VIP", lambda p: icmp_error(p, 1, 4, in_v6("udp54_c1"))),
        (T("unreach_out_c1"), "the NAT real's address unreachable, from the VIP, quoting c1's request to the VIP port 80",
         lambda p: sent(p, g.R_WAN, g.C1_MAC, translated_error(g.VIP, g.C1, ICMPv6DestUnreach(code=3), g.QUOTE_REQ,
                                                               dst=g.VIP, dport=80))),
    ]
    ok.frames("wan", wan, wan_want, g.T0)

    lan_want = [
        (0.0, "DAD probe for lan's link-local address", lambda p: dad_ns(p, g.R_LAN, "fe80::ff:fe00:2")),
        (0.0, "DAD probe for 2001:db8:1::1", lambda p: dad_ns(p, g.R_LAN, g.LAN6)),
    ]
    for i, (a, m) in enumerate(((g.NAT1, g.NAT1_MAC), (g.NAT2, g.NAT2_MAC), (g.DR1, g.DR1_MAC), (g.DR2, g.DR2_MAC))):
        lan_want.append((T(f"ns_real{i}"), f"NA (R,S,O) for 2001:db8:1::1 to {a}",
                         lambda p, a=a, m=m: na(p, g.R_LAN, g.LAN6, a, m, NA_R | NA_S | NA_O)))
    lan_want += [
        # rr starts with the newest real of the list: ::12 (the last added)
        (T("syn80_c1"), "c1's SYN by NAT to 2001:db8:1::12 port 8080",
         lambda p: sent(p, g.R_LAN, g.NAT2_MAC, rewritten("syn80_c1", dst=g.NAT2, dport=8080))),
        (T("ack80_c1"), "c1's data to the same real",
         lambda p: sent(p, g.R_LAN, g.NAT2_MAC, rewritten("ack80_c1", dst=g.NAT2, dport=8080))),
        (T("syn80_c2"), "c2's SYN to rr's next real, 2001:db8:1::11",
         lambda p: sent(p, g.R_LAN, g.NAT1_MAC, rewritten("syn80_c2", dst=g.NAT1, dport=8080))),
        (T("syn443_c1"), "c1's SYN by DR to 2001:db8:1::22's MAC, only the hop limit changed",
         lambda p: sent(p, g.R_LAN, g.DR2_MAC, hop_decremented(in_v6("syn443_c1")))),
        (T("syn443_c2"), "c2's SYN by DR to 2001:db8:1::21's MAC",
         lambda p: sent(p, g.R_LAN, g.DR1_MAC, hop_decremented(in_v6("syn443_c2")))),
        (T("dns_c1"), "c1's query by NAT to 2001:db8:1::12 port 5353",
         lambda p: sent(p, g.R_LAN, g.NAT2_MAC, rewritten("dns_c1", dst=g.NAT2, dport=5353))),
        (T("dns_c2"), "c2's query to the same real: its /64 has a persistence template",
         lambda p: sent(p, g.R_LAN, g.NAT2_MAC, rewritten("dns_c2", dst=g.NAT2, dport=5353))),
        (T("ptb_in_c1"), "c1's Packet Too Big to the NAT real, quoting its reply from 2001:db8:1::12 port 8080",
         lambda p: sent(p, g.R_LAN, g.NAT2_MAC, translated_error(g.C1, g.NAT2, ICMPv6PacketTooBig(mtu=1280),
                                                                 g.QUOTE_REPLY, src=g.NAT2, sport=8080))),
        (T("ptb_in_dr_c1"), "c1's Packet Too Big about a DR reply, to that real's MAC, only the hop limit changed",
         lambda p: sent(p, g.R_LAN, g.DR2_MAC, hop_decremented(in_v6("ptb_in_dr_c1")))),
    ]
    ok.frames("lan", lan, lan_want, g.T0)

    listing = Listing(out)
    want_drops = {"nd_not_for_us": 1, "ttl_exceeded": 1, "local_no_service": 2, "icmp_bad_checksum": 1,
                  "icmp_local_unhandled": 1}
    drops = {k: v for k, v in listing.drops.items() if v and k != "total"}
    ok(drops == want_drops, f"drops: {listing.drops}")
    ok(listing.drops.get("total") == sum(want_drops.values()), f"total drops: {listing.drops.get('total')}")
    # Port 80's counters: in, the four client datagrams and c1's Packet Too Big (40 + 8 + 60); out,
    # the SYN-ACK and the real's translated error (40 + 8 + 64). The Time Exceeded the director
    # sent about c1's datagram counts nowhere: the kernel's LOCAL_OUT hook looks the quote up
    # reversed, as a reply from the VIP (ip_vs_out_icmp_v6, ip_vs_conn_out_get), which finds DR and
    # TUN connections only (pcaps/ipv6_tun counts its errors). The error with a bad checksum counts
    # nowhere either.
    ok(listing.stats(f"TCP [{g.VIP}]:80") == [3, 5, 2, 60 + 65 + 60 + 60 + 108, 60 + 112],
       f"TCP [{g.VIP}]:80 {listing.services}")
    # -Lnc: ipvsadm's IPv6 form, [address]:port (ipvsadm.c addrport_to_anyname); the UDP template
    # keys the client's /64 (2001:db8::) with port 0.
    conns = {(c[0], c[3], c[4], c[5]) for c in listing.conns}
    vip = f"[{g.VIP}]"
    want_conns = {
        ("TCP", f"[{g.C1}]:40001", f"{vip}:80", f"[{g.NAT2}]:8080"),
        ("TCP", f"[{g.C2}]:40002", f"{vip}:80", f"[{g.NAT1}]:8080"),
        ("TCP", f"[{g.C1}]:40003", f"{vip}:443", f"[{g.DR2}]:443"),
        ("TCP", f"[{g.C2}]:40004", f"{vip}:443", f"[{g.DR1}]:443"),
        ("TCP", f"[{g.C1}]:40005", f"{vip}:80", f"[{g.NAT2}]:8080"),  # rr wraps; created before the hop limit check
        ("UDP", f"[{g.C1}]:50001", f"{vip}:53", f"[{g.NAT2}]:5353"),
        ("UDP", f"[{g.C2}]:50002", f"{vip}:53", f"[{g.NAT2}]:5353"),
        ("UDP", "[2001:db8::]:0", f"{vip}:53", f"[{g.NAT2}]:5353"),
    }
    ok(conns == want_conns, f"connection entries: {sorted(conns)}")
    return ok.n

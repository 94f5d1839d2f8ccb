"""Semantic checks of the TUN ICMP relay (ip_vs_in_icmp, tunnel case; ip_vs_xmit.c ip_vs_tunnel_xmit), from the rules.

An ICMP error addressed to the router about one of its IPIP packets (the quote is our tunnel packet
10.0.0.1 -> real, protocol 4; its payload the client's datagram) is relayed to the client about the
client's own datagram, from the VIP (icmp_send picks the quoted datagram's destination when the
error arrived for a local address):
  frag needed, client's DF set -> 3/4 with MTU = min(reported, egress MTU 1400) - 20
  frag needed, client's DF clear -> nothing (the client does not do PMTUD)
  other types (3/1, 11/0)       -> the same type and code, the rest of the header copied (0 here)
Each relayed error counts as OutPkts of the connection, OutBytes = the quoted client datagram.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read  # noqa: E402
from scapy.all import ARP, ICMP, IP, Ether, IPerror  # noqa: E402

gen = load_gen(HERE)
EGRESS_MTU = 1400


def check(out):
    ok = Checker()
    lan, wan = read(out, "lan"), read(out, "wan")
    # wan: the ARP reply and the three tunnelled datagrams; nothing is sent back toward the reals.
    ok(len(wan) == 4 and ARP in wan[0] and all(p[IP].proto == 4 for p in wan[1:]),
       f"wan: ARP reply + 3 IPIP packets, got {[p.summary() for p in wan]}")
    # lan: the ARP reply, then one error for E1, E2, E4, E5 (none for E3, E6, E7).
    ok(len(lan) == 5 and ARP in lan[0], f"lan: ARP reply + 4 relayed errors, got {[p.summary() for p in lan]}")
    t_of = {"E1": 2.0, "E2": 2.1, "E4": 2.3, "E5": 2.4}
    for p, name in zip(lan[1:], ["E1", "E2", "E4", "E5"]):
        typ, code, mtu, f = gen.RELAYED[name]
        fi = Ether(bytes(f))[IP]
        ok(abs(float(p.time) - (gen.T0 + t_of[name])) < 1e-6, f"{name}: relayed at once")
        ok(p[Ether].dst == gen.CLIENT_MAC and p[Ether].src == gen.R_LAN, f"{name}: to the client's MAC")
        ok(p[IP].src == gen.VIP and p[IP].dst == gen.CLIENT, f"{name}: from the VIP to the client, got {p[IP].src}")
        ok(p[ICMP].type == typ and p[ICMP].code == code, f"{name}: type/code {p[ICMP].type}/{p[ICMP].code}, want {typ}/{code}")
        if typ == 3 and code == 4:
            ok(p[ICMP].nexthopmtu == mtu, f"{name}: next-hop MTU {p[ICMP].nexthopmtu}, want {mtu}")
        else:
            ok(bytes(p[ICMP])[4:8] == b"\0\0\0\0", f"{name}: rest of header copied (0)")
        q = p[IPerror]
        ok(q.src == gen.CLIENT and q.dst == gen.VIP and q.id == fi.id and q.proto == fi.proto,
           f"{name}: quotes the client's own datagram, not the tunnel packet")
        # The client's datagram as it was inside the tunnel packet: TTL-1, otherwise unchanged.
        tun = {id(gen.F1): gen.T1, id(gen.F3): gen.T3}[id(f)]
        ok(bytes(q) == bytes(tun.payload), f"{name}: quote = the inner datagram of the tunnel packet")
        ok(q.ttl == fi.ttl - 1, f"{name}: quoted TTL is the tunnelled one")
    # The MTU rule from E1/E2's reports: min(reported, egress MTU) - 20.
    ok(min(1300, EGRESS_MTU) - 20 == gen.RELAYED["E1"][2] and min(1480, EGRESS_MTU) - 20 == gen.RELAYED["E2"][2],
       "MTU arithmetic of gen.RELAYED")

    L = Listing(out)
    f1, f2, f3 = (Ether(bytes(f))[IP].len for f in (gen.F1, gen.F2, gen.F3))
    # UDP: 2 conns (F1, F2), 2 packets in; 3 errors relayed about F1 (E1, E2, E5), each counted
    # out twice, as the kernel does: once with the quoted datagram's length (ip_vs_in_icmp, "account
    # it"), once as the error itself (20 + 8 + F1) passing LOCAL_OUT (ip_vs_out_icmp). TCP: F3 in,
    # E4 out twice. The kernel-differential suite shows these numbers from Linux 6.1.
    err = lambda f: 20 + 8 + f  # noqa: E731
    ok(L.stats("192.168.1.100:53") == [2, 2, 6, f1 + f2, 3 * (f1 + err(f1))],
       f"UDP service stats {L.stats('192.168.1.100:53')}")
    ok(L.stats("192.168.1.100:80") == [1, 1, 2, f3, f3 + err(f3)], f"TCP service stats {L.stats('192.168.1.100:80')}")
    ok(L.drops == {"icmp_bad_checksum": 1, "icmp_local_unhandled": 1, "total": 2}, f"drops {L.drops}")
    ok(L.events["icmp_errors_sent"] == 4 and L.events["forwarded"] == 3, "4 errors sent, 3 datagrams tunnelled")
    return ok.n

"""Semantic checks of IPIP decapsulation (vsrouter as a TUN real server's tunnel endpoint).

RFC 2003 / Linux ipip: an IPIP datagram addressed to one of the router's own addresses is
decapsulated, and the inner datagram is handled as if it had arrived on the interface: here routed
(192.168.1.100/32 via the real server), so its TTL drops by one and nothing else changes. One level
only: IPIP inside decapsulated IPIP is dropped (ipip_nested); a payload that is not a whole IPv4
datagram is dropped (ipip_truncated). IPIP to another host is ordinary traffic, routed unchanged.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read, ttl_decremented  # noqa: E402
from scapy.all import ARP, ICMP, IP, Ether, IPerror  # noqa: E402

gen = load_gen(HERE)


def check(out):
    ok = Checker()
    up, srv = read(out, "up"), read(out, "srv")
    built = lambda p: IP(bytes(p))  # noqa: E731  (gen's layers, with lengths and checksums filled in)

    # srv: ARP request for the real, SYN, datagram, datagram (via 172.16.1.1), the transit IPIP.
    ok(len(srv) == 5, f"srv: expected 5 frames, got {[p.summary() for p in srv]}")
    ok(ARP in srv[0] and srv[0][ARP].op == 1 and srv[0][ARP].pdst == gen.REAL and srv[0][ARP].psrc == "172.16.1.1"
       and abs(float(srv[0].time) - (gen.T0 + 1.0)) < 1e-6, "decapsulated SYN: ARP request for the real server")
    for p, want, t, what in [(srv[1], gen.SYN, 1.1, "D1 SYN"), (srv[2], gen.DGRAM, 2.0, "D2 UDP"),
                             (srv[3], gen.VIA_SRV, 2.1, "D3 via 172.16.1.1")]:
        w = built(want)
        ok(p[Ether].src == gen.R_SRV and p[Ether].dst == gen.REAL_MAC, f"{what}: to the real server's MAC")
        ok(p[IP].proto != 4 and p[IP].src == gen.CLIENT and p[IP].dst == gen.VIP, f"{what}: the inner datagram, client -> VIP")
        ok(bytes(p[IP]) == ttl_decremented(w), f"{what}: inner datagram unchanged except TTL-1 and checksum")
        ok(p[IP].ttl == w.ttl - 1 and p[IP].tos == w.tos, f"{what}: TTL {w.ttl} -> {p[IP].ttl}, tos kept")
        ok(abs(float(p.time) - (gen.T0 + t)) < 1e-6, f"{what}: sent at {t} s")
    # D8: IPIP addressed to the real server passes through as an ordinary datagram.
    d8 = built(gen.UP[8][1][IP])
    ok(srv[4][IP].proto == 4 and srv[4][IP].dst == gen.REAL and bytes(srv[4][IP]) == ttl_decremented(d8),
       "D8: IPIP to another host is routed, not decapsulated")

    # up: the ARP reply to the director, and the time-exceeded error about D9's inner datagram.
    ok(len(up) == 2 and ARP in up[0] and up[0][ARP].op == 2, f"up: ARP reply + 1 ICMP error, got {[p.summary() for p in up]}")
    e = up[1]
    ttl1 = built(gen.TTL1)
    ok(e[IP].src == "10.0.0.5" and e[IP].dst == gen.CLIENT and e[ICMP].type == 11 and e[ICMP].code == 0,
       "D9: ICMP time exceeded to the client, from the router's address toward it")
    ok(e[Ether].dst == gen.DIR_MAC, "D9: sent via the default route (the director)")
    ok(bytes(e[IPerror]) == bytes(ttl1), "D9: quotes the inner datagram (not the tunnel packet)")

    L = Listing(out)
    # D4 nested; D5, D6, D7 not IPv4; D9 TTL.
    ok(L.drops == {"ipip_nested": 1, "ipip_truncated": 3, "ttl_exceeded": 1, "total": 5}, f"drops {L.drops}")
    ok(L.events["forwarded"] == 4 and L.events["connections_in_table"] == 0, "4 forwarded, no IPVS connection")
    return ok.n

"""Semantic checks of the TUN case, from the rules (ip_vs_proto_tcp.c, ip_vs_tunnel_xmit), not from the output.

The outer IPIP header of every tunnelled packet: protocol 4, source = the router's address toward
the real (10.0.0.1, wan), destination = the real, TTL = the inner TTL after its decrement, DF copied
from the inner header, TOS = inner DSCP and ECN except CE (3) -> ECT(0) (2), a valid checksum, and
total length = inner length + 20. The inner datagram is the client's, byte for byte, except TTL-1
and its header checksum. Counts and times are derived in the comments from gen.py's steps.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, inet_checksum, load_gen, read, ttl_decremented  # noqa: E402
from scapy.all import ARP, IP, Ether  # noqa: E402

gen = load_gen(HERE)
# gen.py's frames as they are on the wire (built: lengths and checksums filled in).
LAN = [(off, Ether(bytes(f))) for off, f in gen.LAN]

R_WAN, GW, GW_MAC, T0 = gen.R_WAN, gen.GW, gen.GW_MAC, gen.T0
REAL1, REAL2 = "172.16.1.11", "172.16.1.12"


def ecn_encap(tos):
    # INET_ECN_encapsulate(inner, inner): DSCP copied; ECN copied, except CE becomes ECT(0).
    return (tos & ~3) | 2 if tos & 3 == 3 else tos


def check(out):
    ok = Checker()
    lan, wan = read(out, "lan"), read(out, "wan")
    inputs = [f for _, f in LAN]
    # Nothing goes back to the client through the router (DSR); wan carries one ARP request and one
    # IPIP packet per client packet (13).
    ok(len(lan) == 0, f"lan: expected no frames, got {len(lan)}")
    ok(len(wan) == 1 + len(inputs), f"wan: expected {1 + len(inputs)} frames, got {len(wan)}")

    arp = wan[0]
    ok(ARP in arp and arp[ARP].op == 1 and arp[ARP].pdst == GW and arp[ARP].psrc == "10.0.0.1"
       and arp[Ether].dst == "ff:ff:ff:ff:ff:ff" and abs(float(arp.time) - (T0 + 1.0)) < 1e-6,
       "the first SYN triggers an ARP request for the gateway (the next hop toward the reals)")

    tunnelled = wan[1:]
    real_of = {}
    for i, (off, cin) in enumerate(LAN):
        p = tunnelled[i]
        o = p[IP]
        ci = cin[IP]
        name = f"packet {i + 1} ({cin.summary()})"
        # The SYN waited for the ARP reply (1.2 s); every other packet leaves when it arrives.
        want_t = T0 + (1.2 if i == 0 else off)
        ok(abs(float(p.time) - want_t) < 1e-6, f"{name}: sent at {float(p.time) - T0:.6f}, expected {want_t - T0}")
        ok(p[Ether].src == R_WAN and p[Ether].dst == GW_MAC, f"{name}: Ethernet router wan -> gateway")
        ok(o.version == 4 and o.ihl == 5 and o.proto == 4, f"{name}: outer IPv4, no options, protocol 4 (IPIP)")
        ok(o.src == "10.0.0.1" and o.dst in (REAL1, REAL2), f"{name}: outer 10.0.0.1 -> a real, got {o.src} -> {o.dst}")
        ok(o.ttl == ci.ttl - 1, f"{name}: outer TTL {o.ttl} == inner TTL after decrement {ci.ttl - 1}")
        ok(bool(o.flags.DF) == bool(ci.flags.DF) and not o.flags.MF and o.frag == 0, f"{name}: DF copied from inner")
        ok(o.tos == ecn_encap(ci.tos), f"{name}: outer tos {o.tos:#04x}, expected {ecn_encap(ci.tos):#04x} from inner {ci.tos:#04x}")
        ok(o.len == ci.len + 20 and len(bytes(o)) == o.len, f"{name}: outer length = inner + 20")
        ok(inet_checksum(bytes(o)[:20]) == 0, f"{name}: outer header checksum valid")
        ok(bytes(o)[20:] == ttl_decremented(ci), f"{name}: inner datagram unchanged except TTL-1 and its checksum")
        key = (ci.proto, ci.sport)
        real_of.setdefault(key, set()).add(o.dst)

    # The DSCP/ECN rule over the tos values gen.py chose: 0xb8 (EF), 0x03 (CE), 0x8b (AF41+CE), 0x01, 0x02.
    tos_pairs = {(f[IP].tos, tunnelled[i][IP].tos) for i, (_, f) in enumerate(LAN)}
    ok({(0xb8, 0xb8), (0x03, 0x02), (0x8b, 0x8a), (0x01, 0x01), (0x02, 0x02), (0, 0)} == tos_pairs,
       f"tos mapping {sorted(tos_pairs)}")

    # Scheduling: every packet of a connection goes to one real. rr starts at the real added last
    # (the kernel adds each dest at the head of the list): A -> .12, then B -> .11. The UDP service
    # has its own rr: flow 5353 -> .12 (both datagrams), flow 5354 -> .11.
    ok(real_of[(6, gen.A)] == {REAL2}, f"connection A stays on one real: {real_of[(6, gen.A)]}")
    ok(real_of[(6, gen.B)] == {REAL1}, f"connection B goes to the next real: {real_of[(6, gen.B)]}")
    ok(real_of[(17, 5353)] == {REAL2}, "both datagrams of UDP flow 5353 go to the same real")
    ok(real_of[(17, 5354)] == {REAL1}, "a new UDP flow is scheduled to the next real")

    L = Listing(out)
    # Stats (ip_vs_est.c, ip_vs_ctl.c): every client packet counts in InPkts, bytes = the IP datagram as received
    # (before encapsulation); OutPkts stay 0 for TUN. Conns: 2 TCP (A, B), 2 UDP flows.
    def total(pred):
        fs = [f[IP] for _, f in LAN if pred(f[IP])]
        return len(fs), sum(f.len for f in fs)
    tcp_n, tcp_b = total(lambda ip: ip.proto == 6)
    ok(L.services.get(("TCP", "192.168.1.100:80")) == [2, tcp_n, 0, tcp_b, 0], f"TCP service stats {L.services}")
    a_n, a_b = total(lambda ip: ip.proto == 6 and ip.sport == gen.A)
    b_n, b_b = total(lambda ip: ip.proto == 6 and ip.sport == gen.B)
    ok(L.reals.get(("TCP", "192.168.1.100:80", REAL2 + ":80")) == [1, a_n, 0, a_b, 0], "real .12:80 has connection A")
    ok(L.reals.get(("TCP", "192.168.1.100:80", REAL1 + ":80")) == [1, b_n, 0, b_b, 0], "real .11:80 has connection B")
    udp_n, udp_b = total(lambda ip: ip.proto == 17)
    ok(L.services.get(("UDP", "192.168.1.100:53")) == [2, udp_n, 0, udp_b, 0], "UDP service stats")

    # Expiry (args: --advance 27.9 after the last record at 5.2 s, so the replay ends at 33.1 s):
    # UDP flows expire 20 s after their last datagram (25.1 s, 25.2 s), A 30 s (tcpfin) after its
    # last ACK (3.1 + 30 = 33.1 s, the end of the replay). B is ESTABLISHED (900 s from 4.1 s):
    # 904.1 - 33.1 = 871 s = 14:31 at the listing.
    ok(L.events["connections_in_table"] == 1, "only connection B is left")
    ok(L.conns == [["TCP", "14:31", "ESTABLISHED", "192.168.1.2:40001", "192.168.1.100:80", "172.16.1.11:80"]],
       f"-Lnc shows B only: {L.conns}")
    ok(L.drops == {"total": 0}, f"nothing dropped: {L.drops}")
    ok(L.events["forwarded"] == len(inputs) and L.events["arp_requests_sent"] == 1, "13 forwarded, 1 ARP request")
    return ok.n

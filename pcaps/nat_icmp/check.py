"""Semantic checks of the NAT ICMP case, from the IPVS rules (ip_vs_xmit.c ip_vs_nat_xmit, ip_vs_core.c ip_vs_in_icmp "ICMP errors related to
NAT conns", ip_vs_conn.c, ipvsadm.c print_service_entry), not from the output: which frame leaves where, the translated outer and
quoted addresses and ports, TTL-1, checksums (outer IPv4, ICMP, quoted IPv4, and the quoted TCP/UDP
checksum, which vsrouter also keeps right), the drops, the stats and the -Lnc rows."""
import os
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, inet_checksum, ipv4_checksum_ok, load_gen, mmss_left, read, rel  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether  # noqa: E402

g = load_gen(HERE)
END = 5.065  # the last record; no --advance


class Quote:
    """The datagram quoted in an ICMP error, parsed by hand (it may be cut after 8 bytes of L4)."""

    def __init__(self, pkt):
        self.raw = bytes(pkt[ICMP].payload)
        r = self.raw
        self.ihl = (r[0] & 15) * 4
        self.proto = r[9]
        self.src = socket.inet_ntoa(r[12:16])
        self.dst = socket.inet_ntoa(r[16:20])
        self.sport, self.dport = struct.unpack("!HH", r[self.ihl:self.ihl + 4])
        self.header_ok = inet_checksum(r[:self.ihl]) == 0
        off = self.ihl + (16 if self.proto == 6 else 6)
        self.l4_sum = struct.unpack("!H", r[off:off + 2])[0] if len(r) >= off + 2 else None


def icmp_ok(p):
    return inet_checksum(bytes(p[ICMP])) == 0


def check(out):
    ok = Checker()
    wan, lan = read(out, "wan"), read(out, "lan")
    in_wan = {rel(p, g.T0): p for p in read(os.path.join(HERE, "in"), "wan")}
    in_lan = {rel(p, g.T0): p for p in read(os.path.join(HERE, "in"), "lan")}

    def frame(p, src_mac, dst_mac, src, dst, ttl):
        return (IP in p and p[Ether].src == src_mac and p[Ether].dst == dst_mac and p[IP].src == src
                and p[IP].dst == dst and p[IP].ttl == ttl and ipv4_checksum_ok(p))

    def dnat(p, src_in, real, rport, mac):
        i = in_wan[src_in]
        L = TCP if TCP in i else UDP
        return (frame(p, g.R_LAN, mac, g.CLIENT, real, i[IP].ttl - 1) and L in p and p[L].sport == i[L].sport
                and p[L].dport == rport and bytes(p[L].payload) == bytes(i[L].payload) and p[IP].len == i[IP].len)

    def snat(p, src_in, vport):
        i = in_lan[src_in]
        L = TCP if TCP in i else UDP
        return (frame(p, g.R_WAN, g.GW_MAC, g.VIP, g.CLIENT, i[IP].ttl - 1) and L in p and p[L].sport == vport
                and p[L].dport == i[L].dport and bytes(p[L].payload) == bytes(i[L].payload)
                and p[IP].len == i[IP].len)

    def same_icmp_body(p, i, skip):
        """Type, code, rest-of-header and the quote equal the input's, except the byte ranges in `skip`
        (offsets into the quote) that the translation rewrites."""
        a, b = bytes(p[ICMP]), bytes(i[ICMP])
        if len(a) != len(b) or a[:2] != b[:2] or a[4:8] != b[4:8]:
            return False
        qa, qb = bytearray(a[8:]), bytearray(b[8:])
        for lo, hi in skip:
            qa[lo:hi] = qb[lo:hi] = b"\0" * (hi - lo)
        return qa == qb

    # Quote offsets rewritten by a translation: IPv4 checksum 10-12, source 12-16 or destination
    # 16-20, the port at 20-22 (source) or 22-24 (destination), the TCP (36-38) or UDP (26-28)
    # checksum when quoted.
    IN_SKIP_TCP = [(10, 12), (12, 16), (20, 22), (36, 38)]
    IN_SKIP_UDP = [(10, 12), (12, 16), (20, 22), (26, 28)]
    OUT_SKIP_TCP = [(10, 12), (16, 20), (22, 24), (36, 38)]
    OUT_SKIP_UDP = [(10, 12), (16, 20), (22, 24), (26, 28)]

    # ---- wan: what leaves toward the client side ----
    ok(len(wan) == 8, f"wan: {len(wan)} frames, expected 8")
    ok(ARP in wan[0] and wan[0][ARP].op == 2 and wan[0][ARP].psrc == g.VIP and wan[0][ARP].pdst == g.GW
       and wan[0][ARP].hwsrc == g.R_WAN and rel(wan[0], g.T0) == 0.5, "GW's who-has VIP answered")
    ok(snat(wan[1], 1.01, 80) and rel(wan[1], g.T0) == 1.01, "SYN-ACK SNATed from VIP:80")

    # t=1.04 IGW's frag-needed about client -> T:8080 (8-byte TCP quote): ip_vs_out_icmp, outer
    # source := VIP, quoted destination := VIP:80; ICMP checksum recomputed; counted out.
    p, i = wan[2], in_lan[1.04]
    q = Quote(p)
    ok(rel(p, g.T0) == 1.04 and frame(p, g.R_WAN, g.GW_MAC, g.VIP, g.CLIENT, 63) and ICMP in p and p[ICMP].type == 3
       and p[ICMP].code == 4 and p[ICMP].nexthopmtu == 1280 and icmp_ok(p), "frag needed from IGW leaves from the VIP")
    ok(q.src == g.CLIENT and q.dst == g.VIP and q.sport == 40001 and q.dport == 80 and q.header_ok
       and len(q.raw) == 28, "its quote reads client:40001 -> VIP:80, with a valid quoted IPv4 checksum")
    ok(same_icmp_body(p, i, OUT_SKIP_TCP), "nothing else in the ICMP message changed")
    ok(p[IP].len == i[IP].len == 56, "56-byte error (20 + 8 + 28)")

    ok(snat(wan[3], 1.06, 80) and rel(wan[3], g.T0) == 1.06 and wan[3][IP].flags.DF, "1440-byte reply SNATed, DF kept")
    ok(snat(wan[4], 2.01, 53) and rel(wan[4], g.T0) == 2.01, "DNS answer SNATed from VIP:53")
    ok(snat(wan[5], 2.02, 53) and rel(wan[5], g.T0) == 2.02, "duplicate answer SNATed from VIP:53")

    # t=3.5 U's port unreachable about client:50002 -> U:5353 (whole 61-byte quote).
    p, i = wan[6], in_lan[3.5]
    q = Quote(p)
    ok(rel(p, g.T0) == 3.5 and frame(p, g.R_WAN, g.GW_MAC, g.VIP, g.CLIENT, 63) and p[ICMP].type == 3
       and p[ICMP].code == 3 and icmp_ok(p), "U's port unreachable leaves from the VIP")
    ok(q.src == g.CLIENT and q.dst == g.VIP and q.sport == 50002 and q.dport == 53 and q.header_ok,
       "its quote reads client:50002 -> VIP:53")
    # IPVS leaves the quoted UDP checksum stale; vsrouter updates it (fwd/nat.hpp): with the quote
    # translated back, it is again the checksum the client put on its query.
    ok(q.l4_sum == in_wan[3.0][UDP].chksum, "quoted UDP checksum is the client's original one")
    ok(same_icmp_body(p, i, OUT_SKIP_UDP) and p[IP].len == 89, "rest of the message unchanged (89 bytes)")

    # t=5.065 an error about no connection, toward the client: plain forwarding, nothing translated.
    p, i = wan[7], in_lan[5.065]
    ok(rel(p, g.T0) == 5.065 and frame(p, g.R_WAN, g.GW_MAC, g.U, g.CLIENT, 63) and bytes(p[ICMP]) == bytes(i[ICMP]),
       "error about no connection forwarded unchanged (TTL-1)")

    # ---- lan: what leaves toward the reals ----
    ok(len(lan) == 9, f"lan: {len(lan)} frames, expected 9")
    ok(ARP in lan[0] and lan[0][ARP].op == 2 and lan[0][ARP].pdst == g.U, "U's who-has answered")
    ok(ARP in lan[1] and lan[1][ARP].op == 2 and lan[1][ARP].pdst == g.IGW, "IGW's who-has answered")
    ok(dnat(lan[2], 1.0, g.T, g.T_PORT, g.IGW_MAC) and rel(lan[2], g.T0) == 1.0, "SYN DNATed to T:8080 through IGW")
    ok(dnat(lan[3], 1.02, g.T, g.T_PORT, g.IGW_MAC), "ACK DNATed")
    ok(dnat(lan[4], 1.03, g.T, g.T_PORT, g.IGW_MAC) and lan[4][IP].flags.DF, "1440-byte segment DNATed")

    # t=1.07 GW's frag-needed to the VIP about VIP:80 -> client (548-byte quote): ip_vs_in_icmp,
    # outer destination := T, quoted source := T:8080; routed to T through IGW, TTL-1; counted in.
    p, i = lan[5], in_wan[1.07]
    q = Quote(p)
    ok(rel(p, g.T0) == 1.07 and frame(p, g.R_LAN, g.IGW_MAC, g.GW, g.T, 63) and p[ICMP].type == 3 and p[ICMP].code == 4
       and p[ICMP].nexthopmtu == 1400 and icmp_ok(p), "GW's frag needed goes on to T")
    ok(q.src == g.T and q.dst == g.CLIENT and q.sport == g.T_PORT and q.dport == 40001 and q.header_ok,
       "its quote reads T:8080 -> client:40001")
    ok(q.l4_sum == in_lan[1.06][TCP].chksum, "quoted TCP checksum is T's original one again")
    ok(same_icmp_body(p, i, IN_SKIP_TCP) and p[IP].len == 576, "rest of the message unchanged (576 bytes)")

    ok(dnat(lan[6], 2.0, g.U, g.U_PORT, g.U_MAC), "query 50001 DNATed to U:5353")

    # t=2.9 the client's port unreachable about VIP:53 -> client:50001 (the duplicate answer).
    p, i = lan[7], in_wan[2.9]
    q = Quote(p)
    ok(rel(p, g.T0) == 2.9 and frame(p, g.R_LAN, g.U_MAC, g.CLIENT, g.U, 62) and p[ICMP].type == 3 and p[ICMP].code == 3
       and icmp_ok(p), "client's port unreachable goes on to U")
    ok(q.src == g.U and q.dst == g.CLIENT and q.sport == g.U_PORT and q.dport == 50001 and q.header_ok,
       "its quote reads U:5353 -> client:50001")
    ok(q.l4_sum == in_lan[2.02][UDP].chksum, "quoted UDP checksum is U's original one again")
    ok(same_icmp_body(p, i, IN_SKIP_UDP) and p[IP].len == 120, "rest of the message unchanged (120 bytes)")

    ok(dnat(lan[8], 3.0, g.U, g.U_PORT, g.U_MAC), "query 50002 DNATed to U:5353")
    # Nothing else left: the two bad-checksum errors (t=4.0, 4.1) and the error to the VIP about no
    # connection (t=5.0) produced no frame.

    # ---- ipvsadm -Ln --stats (bytes are whole IPv4 datagrams) ----
    # TCP, T: 1 conn. in : SYN 40 + ACK 40 + segment 1440 + GW's error 576 = 4 pkts, 2096 B
    #                 out: SYN-ACK 40 + IGW's error 56 + reply 1440       = 3 pkts, 1536 B
    # UDP, U: 2 conns. in : query 61 + client's error 120 + query 61      = 3 pkts, 242 B
    #                  out: answer 92 + duplicate 92 + U's error 89        = 3 pkts, 273 B
    # Errors with a bad checksum are dropped before being counted.
    L = Listing(out)
    ok(L.stats("TCP 203.0.113.100:80") == [1, 4, 3, 2096, 1536], f"TCP service {L.services}")
    ok(L.stats(f"{g.T}:{g.T_PORT}") == [1, 4, 3, 2096, 1536], f"T {L.reals}")
    ok(L.stats("UDP 203.0.113.100:53") == [2, 3, 3, 242, 273], f"UDP service {L.services}")
    ok(L.stats(f"{g.U}:{g.U_PORT}") == [2, 3, 3, 242, 273], f"U {L.reals}")
    ok(L.drops == {"icmp_bad_checksum": 2, "icmp_local_unhandled": 1, "total": 3}, f"drops {L.drops}")
    ok(L.events["icmp_errors_sent"] == 0, "the router itself sends no ICMP error")

    # ---- ipvsadm -Lnc at t=5.065 ----
    # ICMP errors do not re-arm (nor change state): each entry runs from its last TCP/UDP packet.
    #   TCP 40001 ES, last 1.06 -> 901.06: 895.995 s left (14:55; a re-arm at 1.07 would show 14:56)
    #   UDP 50001, last 2.02 -> 302.02: 296.955 s (04:56; re-armed at 2.9 it would be 04:57)
    #   UDP 50002, last 3.0 -> 303.0: 297.935 s (04:57; re-armed at 3.5 it would be 04:58)
    want_rows = [
        ["TCP", mmss_left(1.06 + 900, END), "ESTABLISHED", f"{g.CLIENT}:40001", f"{g.VIP}:80", f"{g.T}:{g.T_PORT}"],
        ["UDP", mmss_left(2.02 + 300, END), "UDP", f"{g.CLIENT}:50001", f"{g.VIP}:53", f"{g.U}:{g.U_PORT}"],
        ["UDP", mmss_left(3.0 + 300, END), "UDP", f"{g.CLIENT}:50002", f"{g.VIP}:53", f"{g.U}:{g.U_PORT}"],
    ]
    ok(L.conns == want_rows, f"-Lnc rows {L.conns}, expected {want_rows}")
    return ok.n

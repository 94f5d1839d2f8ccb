"""Semantic checks of the NAT TCP case, from the IPVS rules (ip_vs_conn.c, ip_vs_core.c, ipvsadm.c print_service_entry), not from the
output. Every input frame is mapped to what must leave (DNAT toward the scheduled real, SNAT back
from the VIP, TTL-1, MACs), then list.txt is checked: the ipvsadm -Ln --stats numbers worked out by
hand below, and the -Lnc rows from the timeouts and the replay's end time."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, ipv4_checksum_ok, load_gen, mmss_left, read, rel  # noqa: E402
from scapy.all import ARP, IP, TCP, Ether  # noqa: E402

g = load_gen(HERE)

# rr over the list B, A (each real added at the head, in file order A, B): SYNs in time order.
REAL_OF = {40001: g.B, 40002: g.A, 40003: g.B, 40004: g.A, 40005: g.B, 40006: g.A}
MAC_OF = {g.A: g.A_MAC, g.B: g.B_MAC}
NO_CONN_PORT = 40009
# Frames that waited for ARP leave when the reply arrives (gen.py: t=1.01 for B). A's entry,
# learned at t=2.0, expired at 62 s; used again at t=70 it still carries the SYN at once while it
# is re-confirmed (neigh.hpp: Linux's STALE/DELAY/PROBE), and A's reply at t=70.01 (gen.py wrote
# it for a broadcast request) confirms it before any probe is due (t=75).
ARP_WAIT = {(40001, 1.0): 1.01}
# The replay ends at the last record (t=71) + --advance 50.1 = t=121.1, which is also the moment
# 40001's TIME_WAIT entry expires (last packet t=1.10 + 120 s): see the report about replay's clock.
END = 71.0 + 50.1
TIMEOUT = {"ESTABLISHED": 900, "SYN_RECV": 60, "FIN_WAIT": 120, "TIME_WAIT": 120, "CLOSE": 10,
           "CLOSE_WAIT": 60, "LAST_ACK": 30}


def check(out):
    ok = Checker()
    wan, lan = read(out, "wan"), read(out, "lan")
    in_wan, in_lan = read(os.path.join(HERE, "in"), "wan"), read(os.path.join(HERE, "in"), "lan")

    # ---- Build what must leave each interface, from the inputs and the rules ----
    want_wan, want_lan = [], []  # (time, description, predicate)
    for p in in_wan:
        t = rel(p, g.T0)
        if ARP in p:
            want_wan.append((t, "ARP reply for the VIP", lambda q: ARP in q and q[ARP].op == 2
                             and q[ARP].psrc == g.VIP and q[ARP].hwsrc == g.R_WAN and q[ARP].pdst == g.CLIENT
                             and q[Ether].src == g.R_WAN and q[Ether].dst == g.CLIENT_MAC))
            continue
        cport = p[TCP].sport
        if cport == NO_CONN_PORT:
            # A non-SYN with no connection is not IPVS's: the router has no TCP listener on the VIP
            # and answers as the kernel's tcp_v4_send_reset: RST, seq = the ACK's ack, no ACK flag,
            # window 0, DF, IP ID 0, TTL 64.
            want_wan.append((t, "TCP RST from the VIP for the stray ACK", lambda q, p=p: TCP in q
                             and q[IP].src == g.VIP and q[IP].dst == g.CLIENT and q[TCP].flags == "R"
                             and q[TCP].sport == g.VPORT and q[TCP].dport == NO_CONN_PORT
                             and q[TCP].seq == p[TCP].ack and q[TCP].ack == 0 and q[TCP].window == 0
                             and q[IP].flags == "DF" and q[IP].id == 0 and q[IP].ttl == 64
                             and q[Ether].dst == g.CLIENT_MAC and q[Ether].src == g.R_WAN
                             and ipv4_checksum_ok(q)))
            continue
        real = REAL_OF[cport]
        when = ARP_WAIT.get((cport, t), t)

        def dnat(q, p=p, real=real):
            # client -> real: daddr and dport rewritten (DNAT), TTL-1, everything else untouched.
            return (TCP in q and q[Ether].src == g.R_LAN and q[Ether].dst == MAC_OF[real]
                    and q[IP].src == g.CLIENT and q[IP].dst == real and q[IP].ttl == p[IP].ttl - 1
                    and q[IP].id == p[IP].id and q[IP].len == p[IP].len
                    and q[TCP].sport == p[TCP].sport and q[TCP].dport == g.RPORT
                    and q[TCP].flags == p[TCP].flags and q[TCP].seq == p[TCP].seq and q[TCP].ack == p[TCP].ack
                    and bytes(q[TCP].payload) == bytes(p[TCP].payload) and ipv4_checksum_ok(q))
        want_lan.append((when, f"{cport} {p[TCP].flags} DNATed to {real}:{g.RPORT}", dnat))
    for p in in_lan:
        t = rel(p, g.T0)
        if ARP in p:
            if p[ARP].op == 1:  # A asks for its gateway: answered
                want_lan.append((t, "ARP reply to A", lambda q: ARP in q and q[ARP].op == 2
                                 and q[ARP].psrc == g.LAN_IP and q[ARP].hwsrc == g.R_LAN and q[ARP].pdst == g.A
                                 and q[Ether].dst == g.A_MAC))
            continue  # replies to our requests produce no frame of their own
        cport = p[TCP].dport
        ok(REAL_OF[cport] == p[IP].src, f"gen.py: real {p[IP].src} answers for {cport}")

        def snat(q, p=p):
            # real -> client reply: saddr and sport become the VIP's (SNAT), TTL-1.
            return (TCP in q and q[Ether].src == g.R_WAN and q[Ether].dst == g.CLIENT_MAC
                    and q[IP].src == g.VIP and q[IP].dst == g.CLIENT and q[IP].ttl == p[IP].ttl - 1
                    and q[IP].id == p[IP].id and q[IP].len == p[IP].len
                    and q[TCP].sport == g.VPORT and q[TCP].dport == p[TCP].dport
                    and q[TCP].flags == p[TCP].flags and q[TCP].seq == p[TCP].seq and q[TCP].ack == p[TCP].ack
                    and bytes(q[TCP].payload) == bytes(p[TCP].payload) and ipv4_checksum_ok(q))
        want_wan.append((t, f"{cport} {p[TCP].flags} from {p[IP].src} SNATed to the VIP", snat))
    # ARP requests the router sends for reals it must reach: B at t=1.0 (first SYN) only.
    for t, who in ((1.0, g.B),):
        want_lan.append((t, f"ARP who-has {who}", lambda q, who=who: ARP in q and q[ARP].op == 1
                         and q[ARP].pdst == who and q[ARP].psrc == g.LAN_IP and q[Ether].dst == "ff:ff:ff:ff:ff:ff"))

    ok.frames("wan", wan, want_wan, g.T0)  # sorted stably: same-time frames keep their causal order
    ok.frames("lan", lan, want_lan, g.T0)

    # ---- ipvsadm -Ln --stats ----
    # Every TCP segment here is 20 (IP) + 20 (TCP) = 40 bytes, plus payload: the request (18 B)
    # makes a 58-byte datagram and the response (32 B) a 72-byte one. Bytes are whole datagrams.
    # B (10.1.0.12): conns 40001, 40003, 40005 = 3
    #   in : 40001 S A PA A A FA (6) + 40003 S A R (3) + 40005 S A A (3) = 12 pkts,
    #        12*40 + 18 = 498 bytes
    #   out: 40001 SA PA FA A (4) + 40003 SA (1) + 40005 SA FA (2) = 7 pkts, 7*40 + 32 = 312 bytes
    # A (10.1.0.11): conns 40002, 40004, 40006 = 3
    #   in : 40002 S A PA A (4) + 40004 S A FA (3) + 40006 S S (2) = 9 pkts, 9*40 + 18 = 378 bytes
    #   out: 40002 SA PA (2) + 40004 SA A (2) = 4 pkts, 4*40 + 32 = 192 bytes
    # The stray ACK (40009) is not IPVS traffic: not counted.
    # Service = A + B: 6 conns, 21 in, 11 out, 876 in bytes, 504 out bytes.
    L = Listing(out)
    ok(L.stats(f"{g.VIP}:{g.VPORT}") == [6, 21, 11, 876, 504], f"service stats {L.stats(f'{g.VIP}:{g.VPORT}')}")
    ok(L.stats(f"{g.A}:{g.RPORT}") == [3, 9, 4, 378, 192], f"A stats {L.stats(f'{g.A}:{g.RPORT}')}")
    ok(L.stats(f"{g.B}:{g.RPORT}") == [3, 12, 7, 498, 312], f"B stats {L.stats(f'{g.B}:{g.RPORT}')}")
    ok(L.drops == {"local_no_service": 1, "total": 1}, f"drops {L.drops}")
    ok(L.events["icmp_errors_sent"] == 0 and L.events["tcp_resets_sent"] == 1 and L.events["arp_requests_sent"] == 1 and L.events["arp_replies_sent"] == 2,
       f"events {L.events}")

    # ---- ipvsadm -Lnc at t=121.1 ----
    # last packet and state of each connection (ip_vs_proto_tcp.c tables: NAT conns use INPUT/OUTPUT):
    #   40001 FA out (ES->FW), A in (FW), FA in (FW->TW), A out (TW) at 1.10: expires 121.10 -> gone
    #   40002 ES, last packet 3.05: expires 903.05
    #   40003 R in (ES->CL) at 6.03: expires 16.03 -> gone
    #   40004 FA in (ES->CW), A out (CW) at 8.04: expires 68.04 -> gone
    #   40005 FA out (ES->FW), A in (FW) at 10.04: expires 130.04
    #   40006 S in (NO->SR) at 70, S again (SR) at 71: expires 131.0
    remaining = [(40002, "ESTABLISHED", 3.05), (40005, "FIN_WAIT", 10.04), (40006, "SYN_RECV", 71.0)]
    want_rows = [["TCP", mmss_left(last + TIMEOUT[st], END), st, f"{g.CLIENT}:{cp}", f"{g.VIP}:{g.VPORT}",
                  f"{REAL_OF[cp]}:{g.RPORT}"] for cp, st, last in remaining]
    ok(L.conns == want_rows, f"-Lnc rows {L.conns}, expected {want_rows}")
    ok(L.events["connections_in_table"] == 3, "3 connections left in the table")
    return ok.n

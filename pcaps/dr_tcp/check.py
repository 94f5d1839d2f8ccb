"""Semantic checks of the DR case, from the IPVS rules (ip_vs_xmit.c ip_vs_dr_xmit, ip_vs_proto_tcp.c INPUT_ONLY, ip_vs_core.c ip_vs_leave,
ipvsadm.c print_service_entry), not from the output: each client packet reaches the scheduled real's MAC with its datagram
unchanged but for TTL-1 and the header checksum; the quiesced service answers ICMP port
unreachable from the VIP; OutPkts stay 0; the --stats numbers worked out by hand below; the -Lnc
rows from the timeouts and the replay's end time."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, ipv4_checksum_ok, load_gen, mmss_left, read, rel  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPerror, TCPerror  # noqa: E402

g = load_gen(HERE)

# rr over D2, D1 (reals added at the head in file order D1, D2), by the time of each SYN.
REAL_OF = {("tcp", 41001): g.D2, ("tcp", 41002): g.D1, ("tcp", 41003): g.D2, ("tcp", 41004): g.D1,
           ("udp", 51001): g.D1}
# Packets that waited for ARP: arrival -> the real's ARP reply (gen.py). At t=100 D2's entry
# (from t=1.01) has expired but still carries the packet at once while it is re-confirmed
# (neigh.hpp); the reply at 100.01 confirms it before any probe is due.
WAIT = {1.0: 1.01, 2.0: 2.01}
END = 100.01 + 21.05  # last record + --advance = 121.06, the moment 41001's FIN_WAIT entry expires
TIMEOUT = {"ESTABLISHED": 900, "SYN_RECV": 60, "FIN_WAIT": 120, "UDP": 300}


def same_but_ttl(out_ip, in_ip):
    """The datagram is the input's byte for byte except the TTL (one less) and the header checksum."""
    a, b = bytearray(bytes(out_ip)), bytearray(bytes(in_ip))
    if len(a) != len(b) or a[8] != b[8] - 1:
        return False
    for buf in (a, b):
        buf[8] = 0
        buf[10:12] = b"\0\0"
    return a == b


def check(out):
    ok = Checker()
    wan, lan = read(out, "wan"), read(out, "lan")
    in_wan = read(os.path.join(HERE, "in"), "wan")

    # ---- wan: the ARP answer and the ICMP for the quiesced service; DR sends nothing else back ----
    ok(len(wan) == 2, f"wan: {len(wan)} frames, expected 2 (replies never pass the director)")
    ok(ARP in wan[0] and wan[0][ARP].op == 2 and wan[0][ARP].psrc == g.VIP and wan[0][ARP].hwsrc == g.R_WAN
       and wan[0][ARP].pdst == g.GW and wan[0][Ether].dst == g.GW_MAC and rel(wan[0], g.T0) == 0.5, "who-has VIP answered")
    p = wan[1]
    ok(rel(p, g.T0) == 4.0 and ICMP in p and p[ICMP].type == 3 and p[ICMP].code == 3 and p[IP].src == g.VIP
       and p[IP].dst == g.CLIENT and p[Ether].src == g.R_WAN and p[Ether].dst == g.GW_MAC and ipv4_checksum_ok(p),
       "SYN to the quiesced :443 answered with ICMP port unreachable from the VIP, via GW")
    ok(p[IPerror].src == g.CLIENT and p[IPerror].dst == g.VIP and p[TCPerror].sport == 41443
       and p[TCPerror].dport == 443, "the ICMP quotes the refused SYN")

    # ---- lan: every other client packet, to its real's MAC, datagram unchanged but TTL ----
    want = []  # (time, description, predicate)
    for i in in_wan:
        if ARP in i or (TCP in i and i[TCP].dport == 443):
            continue
        key = ("tcp", i[TCP].sport) if TCP in i else ("udp", i[UDP].sport)
        real = REAL_OF[key]
        t = rel(i, g.T0)
        if t in WAIT:
            want.append((t, f"ARP who-has {real}", lambda q, real=real: ARP in q and q[ARP].op == 1
                         and q[ARP].pdst == real and q[ARP].psrc == g.LAN_IP and q[Ether].src == g.R_LAN
                         and q[Ether].dst == "ff:ff:ff:ff:ff:ff"))

        def dr(q, i=i, real=real):
            return (IP in q and q[Ether].src == g.R_LAN and q[Ether].dst == g.MAC[real]
                    and q[IP].dst == g.VIP and same_but_ttl(q[IP], i[IP]) and ipv4_checksum_ok(q))
        want.append((WAIT.get(t, t), f"{key} at {t} to {real}'s MAC", dr))
    ok.frames("lan", lan, want, g.T0)

    # ---- ipvsadm -Ln --stats ----
    # TCP segments are 40 bytes, 58 with the 18-byte request; the DNS query is 61 bytes.
    # D2 10.2.0.22:80: 41001 (S A PA A FA A) + 41003 (S A FA) = 2 conns, 9 pkts, 8*40 + 58 = 378 B
    # D1 10.2.0.21:80: 41002 (S A PA) + 41004 (S) = 2 conns, 4 pkts, 3*40 + 58 = 178 B
    # TCP :80 = 4 conns, 13 pkts, 556 B. UDP :53 on D1: 1 conn, 2 pkts, 122 B.
    # :443: the SYN found no real: no connection, nothing counted (D3 all 0).
    # OutPkts/OutBytes are 0 everywhere: DR replies go straight to the client.
    L = Listing(out)
    ok(L.stats(f"TCP {g.VIP}:80") == [4, 13, 0, 556, 0], f"TCP :80 {L.services}")
    ok(L.stats(f"{g.D2}:80") == [2, 9, 0, 378, 0], f"D2 {L.reals}")
    ok(L.stats(f"{g.D1}:80") == [2, 4, 0, 178, 0], f"D1 {L.reals}")
    ok(L.stats(f"UDP {g.VIP}:53") == [1, 2, 0, 122, 0] and L.stats(f"{g.D1}:53") == [1, 2, 0, 122, 0],
       f"UDP :53 {L.services} {L.reals}")
    ok(L.stats(f"TCP {g.VIP}:443") == [0, 0, 0, 0, 0] and L.stats(f"{g.D3}:443") == [0, 0, 0, 0, 0],
       f"TCP :443 {L.services} {L.reals}")
    ok(L.drops == {"vs_no_real": 1, "total": 1}, f"drops {L.drops}")
    ok(L.events["icmp_errors_sent"] == 1, "one ICMP error (the port unreachable)")

    # ---- ipvsadm -Lnc at t=121.06 (INPUT_ONLY table) ----
    #   41001: S (NO->SR) A (SR->ES) PA A (ES) FA (ES->FW) A (FW) at 1.06 -> 121.06: gone at the end
    #   41002: S A PA, ESTABLISHED, last 2.03 -> 902.03
    #   51001: UDP, last 3.5 -> 303.5
    #   41003: S A, then FA at 100.0 (ES->FW) -> 220.0
    #   41004: S (SYN_RECV) at 6.0 -> 66.0: gone during the replay
    remaining = [("TCP", 41002, "ESTABLISHED", 2.03, "80"), ("TCP", 41003, "FIN_WAIT", 100.0, "80"),
                 ("UDP", 51001, "UDP", 3.5, "53")]
    want_rows = [[pro, mmss_left(last + TIMEOUT[st], END), st, f"{g.CLIENT}:{cp}", f"{g.VIP}:{port}",
                  f"{REAL_OF[(pro.lower(), cp)]}:{port}"] for pro, cp, st, last, port in remaining]
    ok(L.conns == want_rows, f"-Lnc rows {L.conns}, expected {want_rows}")
    ok(L.events["connections_in_table"] == 3, "3 connections left")
    return ok.n

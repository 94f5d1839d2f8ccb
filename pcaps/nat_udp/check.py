"""Semantic checks of the NAT UDP case, from the IPVS rules (ip_vs_conn.c, ip_vs_proto_udp.c, ip_vs_core.c, ipvsadm.c print_service_entry), not from the
output: each query DNATed to the real rr chose, each answer SNATed back from VIP:53, TTL-1, a valid
non-zero UDP checksum on every rewritten datagram (also those sent without one), ARP waits, the
--stats numbers worked out by hand below, and the -Lnc rows from the 300 s timer."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, ipv4_checksum_ok, load_gen, mmss_left, read, rel  # noqa: E402
from scapy.all import ARP, IP, UDP, Ether  # noqa: E402

g = load_gen(HERE)

# rr over the list R3, R2, R1, in the order the connections are created (first datagram of each).
REAL_OF = {(50001, 1.0): g.R3, (50002, 2.0): g.R2, (50003, 3.0): g.R1, (50004, 200.0): g.R3,
           (50001, 400.0): g.R2}
# gen.py sends ARP replies at 120.01, 200.01, 240.01, 400.01 (reals) and 120.03, 200.03, 400.03
# (client), written when an expired entry meant a new resolution. Now an expired entry keeps
# carrying datagrams at once while it is re-confirmed (neigh.hpp: Linux's STALE/DELAY/PROBE) and
# those replies confirm it before any probe is due (5 s later): no datagram waits, no who-has.
WAIT = {}
UDP_TIMEOUT = 300
END = 400.03 + 99.99  # last record + --advance = 500.02, the moment 50004's entry expires


def udp_checksum_good(q):
    """The UDP checksum is present (non-zero) and what Scapy computes."""
    c = q[UDP].chksum
    fresh = IP(bytes(q[IP]))
    del fresh[UDP].chksum
    return c != 0 and IP(bytes(fresh))[UDP].chksum == c


def check(out):
    ok = Checker()
    wan, lan = read(out, "wan"), read(out, "lan")
    in_wan, in_lan = read(os.path.join(HERE, "in"), "wan"), read(os.path.join(HERE, "in"), "lan")

    want_wan, want_lan = [], []  # (time, description, predicate)
    conn_real = {}  # client port -> real of its live connection, in time order of the inputs
    events = sorted([(rel(p, g.T0), "wan", p) for p in in_wan] + [(rel(p, g.T0), "lan", p) for p in in_lan],
                    key=lambda e: e[0])
    for t, iface, p in events:
        if ARP in p:
            if p[ARP].op == 1:  # a request for one of our addresses: answered from that interface
                mac = g.R_WAN if iface == "wan" else g.R_LAN
                (want_wan if iface == "wan" else want_lan).append(
                    (t, f"ARP reply to {p[ARP].psrc}", lambda q, p=p, mac=mac: ARP in q and q[ARP].op == 2
                     and q[ARP].psrc == p[ARP].pdst and q[ARP].hwsrc == mac and q[ARP].pdst == p[ARP].psrc
                     and q[Ether].dst == p[ARP].hwsrc))
            continue
        if iface == "wan":
            cport = p[UDP].sport
            if (cport, t) in REAL_OF:
                conn_real[cport] = REAL_OF[(cport, t)]
            real = conn_real[cport]
            if t in WAIT:  # the real's ARP entry had expired: a who-has first, on lan
                want_lan.append((t, f"ARP who-has {real}", lambda q, real=real: ARP in q and q[ARP].op == 1
                                 and q[ARP].pdst == real and q[ARP].psrc == g.LAN_IP
                                 and q[Ether].dst == "ff:ff:ff:ff:ff:ff"))

            def dnat(q, p=p, real=real):
                return (UDP in q and q[Ether].src == g.R_LAN and q[Ether].dst == g.MAC[real]
                        and q[IP].src == g.CLIENT and q[IP].dst == real and q[IP].ttl == p[IP].ttl - 1
                        and q[IP].id == p[IP].id and q[IP].len == p[IP].len
                        and q[UDP].sport == p[UDP].sport and q[UDP].dport == g.RPORT and q[UDP].len == p[UDP].len
                        and bytes(q[UDP].payload) == bytes(p[UDP].payload)
                        and ipv4_checksum_ok(q) and udp_checksum_good(q))
            want_lan.append((WAIT.get(t, t), f"{cport} query DNATed to {real}:{g.RPORT}", dnat))
        else:
            cport = p[UDP].dport
            ok(conn_real.get(cport) == p[IP].src, f"gen.py: {p[IP].src} answers {cport}'s connection")
            if t in WAIT:  # the client's ARP entry had expired: a who-has first, on wan
                want_wan.append((t, "ARP who-has the client", lambda q: ARP in q and q[ARP].op == 1
                                 and q[ARP].pdst == g.CLIENT and q[ARP].psrc == g.WAN_IP))

            def snat(q, p=p):
                return (UDP in q and q[Ether].src == g.R_WAN and q[Ether].dst == g.CLIENT_MAC
                        and q[IP].src == g.VIP and q[IP].dst == g.CLIENT and q[IP].ttl == p[IP].ttl - 1
                        and q[IP].id == p[IP].id and q[IP].len == p[IP].len
                        and q[UDP].sport == g.VPORT and q[UDP].dport == p[UDP].dport
                        and bytes(q[UDP].payload) == bytes(p[UDP].payload)
                        and ipv4_checksum_ok(q) and udp_checksum_good(q))
            want_wan.append((WAIT.get(t, t), f"answer to {cport} SNATed from the VIP", snat))

    ok.frames("wan", wan, want_wan, g.T0)
    ok.frames("lan", lan, want_lan, g.T0)

    # The datagrams sent without checksum, explicitly: they arrived with 0 and left with a valid one.
    zero_in = [p for p in in_wan + in_lan if UDP in p and p[UDP].chksum == 0]
    ok(len(zero_in) == 2, "gen.py: two datagrams without checksum (50002's query and answer)")
    q50002 = [q for q in lan if UDP in q and q[UDP].sport == 50002]
    a50002 = [q for q in wan if UDP in q and q[UDP].dport == 50002]
    ok(len(q50002) == 1 and udp_checksum_good(q50002[0]), "checksum-0 query leaves with a computed checksum")
    ok(len(a50002) == 1 and udp_checksum_good(a50002[0]), "checksum-0 answer leaves with a computed checksum")

    # ---- ipvsadm -Ln --stats ----
    # A query is 20 (IP) + 8 (UDP) + 33 (DNS) = 61 bytes; an answer 20 + 8 + 64 = 92 bytes.
    # R1 .21: 1 conn (50003); in: queries at 3, 120, 240 = 3 pkts, 183 B; out: answers at 3, 120 = 2, 184 B
    # R2 .22: 2 conns (50002, 50001 at t=400); in 2 = 122 B; out 2 = 184 B
    # R3 .23: 2 conns (50001 at t=1, 50004); in 2 = 122 B; out 2 = 184 B
    # Service: 5 conns, 7 in, 6 out, 427 B in, 552 B out.
    L = Listing(out)
    svc = f"{g.VIP}:{g.VPORT}"
    ok(L.stats(svc) == [5, 7, 6, 427, 552], f"service stats {L.stats(svc)}")
    ok(L.stats(f"{g.R1}:{g.RPORT}") == [1, 3, 2, 183, 184], f"R1 stats {L.stats(f'{g.R1}:{g.RPORT}')}")
    ok(L.stats(f"{g.R2}:{g.RPORT}") == [2, 2, 2, 122, 184], f"R2 stats {L.stats(f'{g.R2}:{g.RPORT}')}")
    ok(L.stats(f"{g.R3}:{g.RPORT}") == [2, 2, 2, 122, 184], f"R3 stats {L.stats(f'{g.R3}:{g.RPORT}')}")
    ok(L.drops == {"total": 0}, f"drops {L.drops}")

    # ---- ipvsadm -Lnc at t=500.02 ----
    # Each entry expires 300 s after its last datagram (either direction):
    #   50001 (R3) last 1.01 -> 301.01, gone; 50002 last 2.01 -> 302.01, gone;
    #   50004 last 200.02 -> 500.02 = END, gone (expired by --advance);
    #   50003 last 240.0 -> 540.0: 39.98 s left; without the re-arms it would have gone at 303.01;
    #   50001 (R2, new) last 400.02 -> 700.02: 200 s left.
    remaining = [(50001, g.R2, 400.02), (50003, g.R1, 240.0)]
    want_rows = [["UDP", mmss_left(last + UDP_TIMEOUT, END), "UDP", f"{g.CLIENT}:{cp}", f"{g.VIP}:{g.VPORT}",
                  f"{real}:{g.RPORT}"] for cp, real, last in remaining]
    ok(L.conns == want_rows, f"-Lnc rows {L.conns}, expected {want_rows}")
    ok(L.events["connections_in_table"] == 2, "2 connections left in the table")
    return ok.n

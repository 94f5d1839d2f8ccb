"""Semantic checks of the TUN path-MTU case (ip_vs_xmit.c common path step 3, ip_vs_tunnel_xmit), from the rules.

wan MTU 1000, IPIP adds 20 bytes, so the usable MTU through the tunnel is 980:
  FIT    (980 bytes, DF)  -> one IPIP datagram of exactly 1000 bytes.
  BIG_DF (981 bytes, DF)  -> ICMP 3/4 to the client, from the VIP (the address the packet was sent
                             to), next-hop MTU 980; it quotes the datagram after IPVS decremented
                             its TTL (decrement_ttl runs before the MTU check in __ip_vs_get_out_rt).
  BIG    (1400 bytes)     -> a 1420-byte outer datagram, fragmented: (1000-20) & ~7 = 976 data bytes
                             in the first fragment (996 bytes), 1400-976 = 424 in the second (444).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read, ttl_decremented  # noqa: E402
from scapy.all import ARP, ICMP, IP, Ether, IPerror  # noqa: E402

gen = load_gen(HERE)
FIT, BIG_DF, BIG = (Ether(bytes(f))[IP] for f in (gen.FIT, gen.BIG_DF, gen.BIG))
MTU = 1000


def check(out):
    ok = Checker()
    lan, wan = read(out, "lan"), read(out, "wan")
    # lan: the ARP reply for the VIP, the ICMP error. wan: the ARP reply to the gateway, FIT, two fragments.
    ok(len(lan) == 2 and ARP in lan[0], f"lan: ARP reply + 1 ICMP error, got {[p.summary() for p in lan]}")
    ok(len(wan) == 4 and ARP in wan[0], f"wan: ARP reply + 1 datagram + 2 fragments, got {[p.summary() for p in wan]}")

    f = wan[1]
    o = f[IP]
    ok(o.proto == 4 and o.src == "10.0.0.1" and o.dst == gen.REAL and o.len == MTU and len(bytes(o)) == MTU,
       "a 980-byte DF datagram fits exactly: one 1000-byte IPIP datagram")
    ok(o.flags.DF and not o.flags.MF and o.frag == 0 and o.ttl == FIT.ttl - 1, "outer DF copied, TTL = inner TTL - 1")
    ok(bytes(o)[20:] == ttl_decremented(FIT), "FIT: inner datagram = the client's, TTL-1")
    ok(f[Ether].dst == gen.GW_MAC and f[Ether].src == gen.R_WAN, "FIT: sent to the gateway's MAC")

    e = lan[1]
    ok(e[Ether].dst == gen.CLIENT_MAC and e[Ether].src == gen.R_LAN, "ICMP error sent to the client's MAC")
    ok(e[IP].src == gen.VIP and e[IP].dst == gen.CLIENT and e[IP].proto == 1, "ICMP error from the VIP to the client")
    ok(e[ICMP].type == 3 and e[ICMP].code == 4, "ICMP destination unreachable, fragmentation needed")
    ok(e[ICMP].nexthopmtu == MTU - 20, f"next-hop MTU = egress MTU - IPIP overhead = 980, got {e[ICMP].nexthopmtu}")
    ok(e[IP].tos == 0xC0 and e[IP].ttl == 64 and not e[IP].flags.DF, "ICMP error: precedence internetwork control, TTL 64")
    q = bytes(e[IPerror])
    # RFC 1812 §4.3.2.3: the whole error is at most 576 bytes: 20 + 8 + 548 quoted bytes.
    ok(e[IP].len == 576 and len(q) == 576 - 28, f"quote cut at a 576-byte error, got {e[IP].len}")
    ok(q == ttl_decremented(BIG_DF)[: len(q)], "the quote is the client's datagram with TTL-1 (as IPVS quotes it)")
    ok(e[IPerror].ttl == BIG_DF.ttl - 1 and e[IPerror].id == BIG_DF.id and e[IPerror].len == BIG_DF.len,
       "quoted header: the refused datagram")

    f1, f2 = wan[2][IP], wan[3][IP]
    ok(f1.proto == f2.proto == 4 and f1.src == f2.src == "10.0.0.1" and f1.dst == f2.dst == gen.REAL,
       "both fragments are of the IPIP datagram")
    ok(f1.id == f2.id and not f1.flags.DF and not f2.flags.DF, "same identification, no DF (inner had none)")
    ok(f1.len <= MTU and f2.len <= MTU, f"each fragment fits the MTU: {f1.len}, {f2.len}")
    ok(f1.flags.MF and f1.frag == 0 and not f2.flags.MF and f2.frag * 8 == f1.len - 20,
       "first fragment MF at offset 0, the last at the first's data length")
    ok((f1.len, f2.len) == (20 + 976, 20 + 424), f"fragment sizes (996, 444), got {(f1.len, f2.len)}")
    ok(f1.ttl == f2.ttl == BIG.ttl - 1, "fragments carry the outer TTL (inner TTL - 1)")
    whole = bytes(f1)[20:f1.len] + bytes(f2)[20:f2.len]
    ok(whole == ttl_decremented(BIG), "the fragments reassemble to outer payload = the inner datagram (TTL-1)")

    L = Listing(out)
    # Each datagram creates its connection and is counted in InPkts/InBytes before transmission,
    # the refused one too: 3 conns, 3 packets, 980 + 981 + 1400 = 3361 bytes. The frag-needed error
    # sent to the client (576 bytes) is counted out, as the kernel's LOCAL_OUT hook counts it
    # (ip_vs_out_icmp; the kernel-differential suite shows it).
    ok(L.stats("192.168.1.100:53") == [3, 3, 1, 3361, 576], f"service stats {L.services}")
    ok(L.stats("172.16.1.11:53") == [3, 3, 1, 3361, 576], "real stats")
    ok(L.drops == {"frag_needed": 1, "total": 1}, f"drops {L.drops}")
    ok(L.events["fragments_sent"] == 2 and L.events["icmp_errors_sent"] == 1, "2 fragments, 1 ICMP error")
    # UDP conns live 300 s from their datagram (1.0, 2.0, 3.0 s); the listing is at 3.0 s.
    ok([c[:2] + c[3:4] for c in L.conns] == [["UDP", "04:58", "192.168.1.2:5001"], ["UDP", "04:59", "192.168.1.2:5002"],
                                             ["UDP", "05:00", "192.168.1.2:5003"]], f"-Lnc {L.conns}")
    return ok.n

"""Semantic checks of the TUN path-MTU case (IPVS.md §4 common path step 3, §4.3), from the rules.

wan MTU 1000, IPIP adds 20 bytes, so the usable MTU through the tunnel is 980:
  FIT    (980 bytes, DF)  -> one IPIP datagram of exactly 1000 bytes.
  BIG_DF (981 bytes, DF)  -> ICMP 3/4 to the client, from the VIP (the address the packet was sent
                             to), next-hop MTU 980; it quotes the datagram after IPVS decremented
                             its TTL (decrement_ttl runs before the MTU check in __ip_vs_get_out_rt).
  BIG    (1400 bytes)     -> a 1420-byte outer datagram, fragmented: (1000-20) & ~7 = 976 data bytes
                             in the first fragment (996 bytes), 1400-976 = 424 in the second (444).
"""
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import read  # noqa: E402
from scapy.all import ARP, ICMP, IP, Ether, IPerror  # noqa: E402

spec = importlib.util.spec_from_file_location("tun_pmtu_gen", os.path.join(HERE, "gen.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)
FIT, BIG_DF, BIG = (Ether(bytes(f))[IP] for f in (gen.FIT, gen.BIG_DF, gen.BIG))
MTU = 1000


class Checker:
    def __init__(self):
        self.n = 0

    def __call__(self, cond, what):
        if not cond:
            raise AssertionError(what)
        self.n += 1


def csum(b):
    s = sum((b[i] << 8) + (b[i + 1] if i + 1 < len(b) else 0) for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def forwarded_inner(ip):
    """The client's datagram after IPVS's TTL decrement (header checksum recomputed)."""
    b = bytearray(bytes(ip)[: ip.len])
    b[8] -= 1
    b[10:12] = b"\0\0"
    b[10:12] = csum(bytes(b[: (b[0] & 15) * 4])).to_bytes(2, "big")
    return bytes(b)


def parse_list(out):
    svc, counters, drops, conns, section = {}, {}, {}, [], "stats"
    for line in open(os.path.join(out, "list.txt")):
        s = line.split()
        if not s:
            continue
        if s[0] in ("Interface", "Event") or s[:2] in (["Drop", "reason"], ["IPVS", "connection"]):
            section = s[0]
        elif section == "stats" and s[0] in ("TCP", "UDP", "->") and len(s) == 7:
            svc[s[1]] = [int(x) for x in s[2:7]]
        elif section == "Event":
            counters[s[0]] = int(s[1])
        elif section == "Drop":
            drops[s[0]] = int(s[1])
        elif section == "IPVS" and s[0] in ("TCP", "UDP", "IP"):
            conns.append(s)
    return svc, counters, drops, conns


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
    ok(bytes(o)[20:] == forwarded_inner(FIT), "FIT: inner datagram = the client's, TTL-1")
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
    ok(q == forwarded_inner(BIG_DF)[: len(q)], "the quote is the client's datagram with TTL-1 (as IPVS quotes it)")
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
    ok(whole == forwarded_inner(BIG), "the fragments reassemble to outer payload = the inner datagram (TTL-1)")

    svc, counters, drops, conns = parse_list(out)
    # Each datagram creates its connection and is counted in InPkts/InBytes before transmission,
    # the refused one too: 3 conns, 3 packets, 980 + 981 + 1400 = 3361 bytes.
    ok(svc["192.168.1.100:53"] == [3, 3, 0, 3361, 0], f"service stats {svc}")
    ok(svc["172.16.1.11:53"] == [3, 3, 0, 3361, 0], "real stats")
    ok(drops == {"frag_needed": 1, "total": 1}, f"drops {drops}")
    ok(counters["fragments_sent"] == 2 and counters["icmp_errors_sent"] == 1, "2 fragments, 1 ICMP error")
    # UDP conns live 300 s from their datagram (1.0, 2.0, 3.0 s); the listing is at 3.0 s.
    ok([c[:2] + c[3:4] for c in conns] == [["UDP", "04:58", "192.168.1.2:5001"], ["UDP", "04:59", "192.168.1.2:5002"],
                                           ["UDP", "05:00", "192.168.1.2:5003"]], f"-Lnc {conns}")
    return ok.n

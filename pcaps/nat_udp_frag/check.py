"""Semantic checks of the NAT UDP fragments case, from the kernel's rules (ip_fragment.c
ip_frag_queue/ip_frag_reasm/ip_expire, inet_fragment.c inet_frag_queue_insert, ip_vs_core.c
ip_vs_gather_frags, ip_output.c ip_do_fragment), not from the output: the reassembled datagram is
DNATed whole and cut to lan's MTU with the client's IP ID, its UDP checksum valid over the whole;
a datagram that fits leaves in one piece; overlap and timeout are counted drops; an expired
datagram whose first fragment came gets ICMP time exceeded (reassembly)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, inet_checksum, ipv4_checksum_ok, load_gen, read  # noqa: E402
from scapy.all import ARP, ICMP, IP, UDP, Ether, IPerror  # noqa: E402

g = load_gen(HERE)


def udp_ok(src, dst, udp_bytes):
    """The UDP checksum of a whole datagram's payload (pseudo-header included) verifies."""
    pseudo = bytes(map(int, src.split("."))) + bytes(map(int, dst.split("."))) + bytes([0, 17])
    pseudo += len(udp_bytes).to_bytes(2, "big")
    return inet_checksum(pseudo + udp_bytes) == 0 and udp_bytes[6:8] != b"\0\0"


def dnat_fragment(real, ipid, off, mf):
    def pred(q):
        return (IP in q and q[Ether].src == g.R_LAN and q[Ether].dst == g.MAC[real] and q[IP].src == g.CLIENT
                and q[IP].dst == real and q[IP].id == ipid and q[IP].ttl == 63 and q[IP].flags.DF == 0
                and q[IP].frag * 8 == off and bool(q[IP].flags.MF) == mf and q[IP].len <= g.LAN_MTU
                and ipv4_checksum_ok(q))
    return pred


def snat_answer(cport):
    def pred(q):
        return (UDP in q and q[Ether].dst == g.CLIENT_MAC and q[IP].src == g.VIP and q[IP].dst == g.CLIENT
                and q[UDP].sport == g.VPORT and q[UDP].dport == cport and ipv4_checksum_ok(q))
    return pred


def arp_reply(asker):
    return lambda q: ARP in q and q[ARP].op == 2 and q[ARP].pdst == asker


def time_exceeded(q):
    return (ICMP in q and q[IP].src == g.VIP and q[IP].dst == g.CLIENT and q[ICMP].type == 11
            and q[ICMP].code == 1 and IPerror in q and q[IPerror].id == 0x2005 and q[IPerror].frag == 0
            and q[IPerror].flags.MF == 1)


def check(out):
    ok = Checker()
    wan, lan = read(out, "wan"), read(out, "lan")

    # 3000 bytes = 20 + 2980: lan's MTU 1000 leaves 980, cut to 976 (122 * 8): 976, 976, 976, 52.
    big = [(1.002, f"50001 fragment at {o}", dnat_fragment(g.R2, 0x2001, o, o < 2928)) for o in (0, 976, 1952, 2928)]
    ok.frames("lan", lan, [(0.6, "ARP reply to R1", arp_reply(g.R1)), (0.7, "ARP reply to R2", arp_reply(g.R2))]
              + big + [
                  # 928 bytes fit lan's MTU, but they came as 532 + 416: they leave as they came, no
                  # fragment larger than the largest received (ip_do_fragment, frag_max_size).
                  (2.001, "50002 first fragment to R1", lambda q: IP in q and q[IP].dst == g.R1 and q[IP].flags.MF
                   and q[IP].frag == 0 and q[IP].len == 532 and q[UDP].dport == g.RPORT),
                  (2.001, "50002 last fragment to R1", lambda q: IP in q and q[IP].dst == g.R1 and not q[IP].flags.MF
                   and q[IP].frag == 64 and q[IP].len == 416)], g.T0)
    ok.frames("wan", wan, [(0.5, "ARP reply to the client", arp_reply(g.CLIENT)),
                           (1.01, "R2's answer SNATed", snat_answer(50001)),
                           (2.01, "R1's answer SNATed", snat_answer(50002)),
                           (35.0, "ICMP reassembly time exceeded for 50005", time_exceeded)], g.T0)

    # The four fragments on lan join to the DNATed datagram: client's payload, port 5353, checksum.
    frags = sorted((q for q in lan if IP in q and q[IP].dst == g.R2), key=lambda q: q[IP].frag)
    joined = b"".join(bytes(q[IP].payload)[:q[IP].len - 20] for q in frags)
    whole = IP(g.datagram(*g.BIG))
    ok(len(joined) == 2980, f"reassembled on the real: {len(joined)} bytes of UDP")
    ok(joined[2:4] == g.RPORT.to_bytes(2, "big") and joined[0:2] == (50001).to_bytes(2, "big"), "ports DNATed")
    ok(joined[8:] == bytes(whole[UDP].payload), "payload intact")
    ok(udp_ok(g.CLIENT, g.R2, joined), "UDP checksum valid over the reassembled datagram")

    L = Listing(out)
    svc = f"{g.VIP}:{g.VPORT}"
    ok(L.stats(svc) == [2, 2, 2, 3928, 120], f"service stats {L.stats(svc)}")
    ok(L.drops == {"frag_overlap": 2, "frag_timeout": 2, "total": 4}, f"drops {L.drops}")
    return ok.n

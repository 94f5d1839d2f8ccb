#!/usr/bin/python3
"""Inputs of the NAT UDP fragments case. Each step's comment says what vsrouter must do; check.py asserts it.

wan: 203.0.113.1/24 (02:00:00:00:00:01), VIP 203.0.113.100:53 (udp, rr); client 203.0.113.50 (02:00:00:00:cc:50)
lan: 10.1.0.1/24 (02:00:00:00:00:02), MTU 1000; NAT reals R1 = 10.1.0.21:5353, R2 = 10.1.0.22:5353
     (MACs 02:00:00:00:aa:21/22). The list is R2, R1 (newest first): rr hands out R2, R1.

As Linux does (ip_vs_core.c ip_vs_in -> ip_vs_gather_frags -> ip_defrag, net/ipv4/ip_fragment.c),
fragments to the VIP are reassembled before IPVS sees them; the whole datagram is scheduled and
DNATed, and cut again (ip_fragment) when it does not fit the egress MTU and DF is clear.

Times are seconds after T0:
  t=1     50001: a 3000-byte datagram in three fragments (1480, 1480, 20 bytes of data), in order:
          reassembled, DNATed to R2, sent on lan in four fragments (976, 976, 976, 52 bytes of data)
          with the client's IP ID; R2's answer (t=1.01, whole) is SNATed back.
  t=2     50002: a 928-byte datagram in two fragments sent last first: reassembled, DNATed to R1,
          and sent in two fragments again (532 and 416 bytes, as they came: no fragment larger
          than the largest received, ip_do_fragment with frag_max_size), though it fits lan's
          MTU; R1's answer at 2.01 SNATed back.
  t=3     50003: two overlapping fragments ([0, 64) and [32, 96)): the datagram is discarded
          (RFC 5722, inet_frag_queue_insert's IPFRAG_OVERLAP): frag_overlap counts both.
  t=4     50004: a last fragment whose first never comes: held until t=34, then dropped
          (frag_timeout); no ICMP, there is no first fragment to quote.
  t=5     50005: a first fragment whose rest never comes: dropped at t=35 (frag_timeout) and the
          client gets ICMP time exceeded, fragment reassembly time exceeded (11/1), from the VIP,
          quoting that first fragment (ip_expire).
`args`: --advance 40 ends the replay at t=45.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, IP, UDP, Ether, Raw  # noqa: E402

R_WAN, R_LAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
WAN_IP, LAN_IP = "203.0.113.1", "10.1.0.1"
VIP, VPORT = "203.0.113.100", 53
CLIENT, CLIENT_MAC = "203.0.113.50", "02:00:00:00:cc:50"
R1, R2 = "10.1.0.21", "10.1.0.22"
MAC = {R1: "02:00:00:00:aa:21", R2: "02:00:00:00:aa:22", CLIENT: CLIENT_MAC}
RPORT = 5353
LAN_MTU = 1000
BCAST = "ff:ff:ff:ff:ff:ff"
T0 = 1700000000.0

# (client port, IP ID, datagram length): the whole datagrams the client means to send.
BIG = (50001, 0x2001, 3000)
MID = (50002, 0x2002, 928)


def payload(n, seed):
    return bytes((seed + i * 7) & 0xff for i in range(n))


def datagram(cport, ipid, length):
    """The client's whole datagram (IP header + UDP with its checksum), as bytes."""
    return bytes(IP(src=CLIENT, dst=VIP, id=ipid, ttl=64) / UDP(sport=cport, dport=VPORT)
                 / Raw(payload(length - 28, cport)))


def cut(whole, pieces):
    """Fragments of `whole` (bytes): pieces = [(offset, length)] of its IP payload, in send order."""
    ip = IP(whole)
    data = whole[20:]
    out = []
    for off, n in pieces:
        mf = off + n < len(data)
        out.append(Ether(src=CLIENT_MAC, dst=R_WAN) / IP(src=ip.src, dst=ip.dst, id=ip.id, ttl=ip.ttl, proto=17,
                                                        flags="MF" if mf else 0, frag=off // 8)
                   / Raw(data[off:off + n]))
    return out


def answer(real, cport, n=60):
    return (Ether(src=MAC[real], dst=R_LAN) / IP(src=real, dst=CLIENT, id=0x3000 + cport % 100)
            / UDP(sport=RPORT, dport=cport) / Raw(payload(n - 28, 1)))


def build():
    t = Trace(HERE)
    w = lambda dt, p: t.add("wan", T0 + dt, p)  # noqa: E731
    ln = lambda dt, p: t.add("lan", T0 + dt, p)  # noqa: E731

    # The client and the reals resolve the router: answered, and their MACs learned (60 s).
    w(0.5, Ether(src=CLIENT_MAC, dst=BCAST) / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=VIP))
    for dt, r in ((0.6, R1), (0.7, R2)):
        ln(dt, Ether(src=MAC[r], dst=BCAST) / ARP(op=1, hwsrc=MAC[r], psrc=r, pdst=LAN_IP))

    for i, f in enumerate(cut(datagram(*BIG), [(0, 1480), (1480, 1480), (2960, 20)])):
        w(1.0 + i * 0.001, f)
    ln(1.01, answer(R2, BIG[0]))

    for i, f in enumerate(cut(datagram(*MID), [(512, 396), (0, 512)])):
        w(2.0 + i * 0.001, f)
    ln(2.01, answer(R1, MID[0]))

    bad = datagram(50003, 0x2003, 300)
    for i, f in enumerate(cut(bad, [(0, 64), (32, 64)])):
        w(3.0 + i * 0.001, f)

    w(4.0, cut(datagram(50004, 0x2004, 1600), [(1480, 100)])[0])
    w(5.0, cut(datagram(50005, 0x2005, 1600), [(0, 1480)])[0])
    t.write()


if __name__ == "__main__":
    build()

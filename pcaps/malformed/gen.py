#!/usr/bin/python3
"""Malformed frames, one per line of CASES: (expected drop reason, frame bytes).
check.py reads the same table, so the expectation and the input cannot drift apart."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

R, C = "02:00:00:00:00:01", "02:00:00:00:aa:02"
CLIENT, ROUTER, SERVER = "192.168.1.2", "192.168.1.10", "10.0.0.5"


def eth(payload, etype=0x0800, dst=R, src=C):
    return bytes(Ether(dst=dst, src=src, type=etype)) + payload


def ip(dst=SERVER, **kw):
    """A valid IPv4/UDP datagram as bytes (checksums filled by Scapy)."""
    return bytes(IP(src=kw.pop("src", CLIENT), dst=dst, **kw) / UDP(sport=1000, dport=7) / Raw(b"data"))


def patch(b, off, new):
    return b[:off] + new + b[off + len(new):]


def fix_ipsum(b):
    """Recompute the IPv4 header checksum of IPv4 bytes b (header length from IHL, at most len(b))."""
    hl = min((b[0] & 15) * 4, len(b))
    h = bytearray(b[:hl])
    h[10:12] = b"\0\0"
    s = sum(struct.unpack("!%dH" % (hl // 2), bytes(h[: hl // 2 * 2])))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    h[10:12] = struct.pack("!H", ~s & 0xFFFF)
    return bytes(h) + b[hl:]


good = ip()
CASES = [
    ("eth_truncated", b""),
    ("eth_truncated", bytes(10)),
    ("eth_too_long", eth(bytes(IP(src=CLIENT, dst=SERVER) / UDP(sport=1, dport=2) / Raw(bytes(9100))))),
    ("eth_too_long", eth(bytes(IP(src=CLIENT, dst=SERVER, len=65535) / Raw(bytes(65515))))),
    ("eth_not_for_us", eth(good, dst="02:00:00:00:99:99")),
    ("eth_src_invalid", eth(good, src="ff:ff:ff:ff:ff:ff")),
    ("eth_src_invalid", eth(good, src="01:00:5e:00:00:01")),
    ("ipv6_disabled", eth(bytes(40), etype=0x86DD)),                                # IPv6 on an interface without it
    ("ethertype_unsupported", eth(b"\x00\x01\x08\x00" + good, etype=0x8100)),       # 802.1Q tag
    ("ethertype_unsupported", eth(bytes(30), etype=0x88CC)),                        # LLDP
    ("arp_malformed", eth(bytes(ARP(op=1, hwsrc=C, psrc=CLIENT, pdst=ROUTER))[:20], etype=0x0806)),
    ("arp_malformed", eth(bytes(ARP(hwtype=6, op=1, hwsrc=C, psrc=CLIENT, pdst=ROUTER)), etype=0x0806)),
    ("arp_malformed", eth(bytes(ARP(op=1, hwsrc="01:00:5e:00:00:01", psrc=CLIENT, pdst=ROUTER)), etype=0x0806)),
    ("arp_malformed", eth(bytes(ARP(op=9, hwsrc=C, psrc=CLIENT, pdst=ROUTER)), etype=0x0806)),
    ("ipv4_truncated", eth(good[:10])),
    ("ipv4_truncated", eth(b"")),
    ("ipv4_bad_version", eth(fix_ipsum(patch(good, 0, b"\x65")))),
    ("ipv4_bad_ihl", eth(fix_ipsum(patch(good, 0, b"\x44")))),
    ("ipv4_bad_length", eth(fix_ipsum(patch(good, 0, b"\x4f")))),                   # IHL 60 > total length
    ("ipv4_bad_length", eth(fix_ipsum(patch(good, 2, struct.pack("!H", len(good) + 100))))),
    ("ipv4_bad_length", eth(fix_ipsum(patch(good, 2, struct.pack("!H", 12))))),
    ("ipv4_bad_checksum", eth(patch(good, 10, b"\xde\xad"))),
    ("ipv4_bad_source", eth(ip(src="224.0.0.9"))),
    ("ipv4_bad_source", eth(ip(src="0.0.0.0"))),
    ("ipv4_bad_source", eth(ip(src="127.0.0.1"))),
    ("ipv4_bad_destination", eth(ip(dst="127.0.0.1"))),
    ("ipv4_bad_destination", eth(ip(dst="0.0.0.0"))),
    ("ipv4_broadcast", eth(ip(dst="255.255.255.255"))),
    ("ipv4_broadcast", eth(ip(dst="192.168.1.255"))),
    ("ipv4_multicast", eth(ip(dst="224.0.0.5"))),
    # Broken transport headers are judged only in datagrams to us: in transit they are routed
    # (RFC 1812), as Linux's ip_forward does.
    ("tcp_truncated", eth(bytes(IP(src=CLIENT, dst=ROUTER, proto=6) / Raw(bytes(10))))),
    ("tcp_truncated", eth(bytes(IP(src=CLIENT, dst=ROUTER) / TCP(dataofs=3)))),
    ("tcp_truncated", eth(bytes(IP(src=CLIENT, dst=ROUTER) / TCP(dataofs=15)))),
    ("udp_truncated", eth(bytes(IP(src=CLIENT, dst=ROUTER, proto=17) / Raw(bytes(4))))),
    ("udp_truncated", eth(bytes(IP(src=CLIENT, dst=ROUTER) / UDP(len=100) / Raw(b"x")))),
    ("udp_truncated", eth(bytes(IP(src=CLIENT, dst=ROUTER) / UDP(len=4)))),
    ("icmp_truncated", eth(bytes(IP(src=CLIENT, dst=ROUTER, proto=1) / Raw(bytes(4))))),
    ("icmp_bad_checksum", eth(bytes(IP(src=CLIENT, dst=ROUTER) / ICMP(type=8, chksum=0x1234)))),
    ("icmp_local_unhandled", eth(bytes(IP(src=CLIENT, dst=ROUTER) / ICMP(type=0)))),
    # Fragments to us are reassembled (src/frag/): one without data, one past 65535 bytes.
    ("frag_malformed", eth(bytes(IP(src=CLIENT, dst=ROUTER, flags="MF", frag=1, proto=17)))),
    ("frag_oversize", eth(bytes(IP(src=CLIENT, dst=ROUTER, frag=8190, proto=17) / Raw(bytes(100))))),
]
# Still alive: a valid ping with Ethernet padding after the IPv4 datagram is answered.
ALIVE = eth(bytes(IP(src=CLIENT, dst=ROUTER) / ICMP(type=8, id=1, seq=1))) + b"\0" * 18

if __name__ == "__main__":
    t = Trace(HERE)
    for i, (_, frame) in enumerate(CASES):
        t.add("lan", 1700000000.0 + i * 0.01, Raw(frame))
    t.add("lan", 1700000001.0, Raw(ALIVE))
    # The router does not know the client's MAC yet: it asks, and the client answers.
    t.add("lan", 1700000001.1, Raw(eth(bytes(ARP(op=2, hwsrc=C, psrc=CLIENT, hwdst=R, pdst=ROUTER)), etype=0x0806)))
    t.write()

"""Shared helpers for the Scapy scripts that make replay fixtures (pcaps/<case>/gen.py).

Every frame gets an explicit timestamp so the fixtures are reproducible byte for byte.
Run scripts with /usr/bin/python3 (Debian's python3-scapy).
"""
import logging
import os

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # "inconsistent linktypes" on Raw frames
from scapy.all import Ether, wrpcap  # noqa: F401  (re-exported for gen.py scripts)


class Trace:
    """Collects (interface, time, frame) and writes in/<interface>.pcap per interface."""

    def __init__(self, case_dir):
        self.case_dir = case_dir
        self.frames = {}

    def add(self, iface, t, pkt):
        pkt.time = t
        self.frames.setdefault(iface, []).append(pkt)
        return pkt

    def write(self):
        d = os.path.join(self.case_dir, "in")
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
        for iface, pkts in self.frames.items():
            wrpcap(os.path.join(d, iface + ".pcap"), pkts, linktype=1)  # DLT_EN10MB


def read(out_dir, iface):
    """The frames vsrouter sent on `iface` in a replay output directory."""
    from scapy.all import rdpcap
    p = os.path.join(out_dir, iface + ".pcap")
    return list(rdpcap(p)) if os.path.getsize(p) > 24 else []


def ipv4_checksum_ok(pkt):
    """Recompute the IPv4 (and ICMP/TCP/UDP) checksums with Scapy and compare."""
    from scapy.all import IP, ICMP, TCP, UDP
    ip = pkt[IP]
    fresh = IP(bytes(ip))
    del fresh.chksum
    ok = IP(bytes(fresh)).chksum == ip.chksum
    for L in (ICMP, TCP, UDP):
        if L in ip and not ip.frag and ip.flags.MF == 0:
            layer = ip[L]
            if L is UDP and layer.chksum == 0:
                continue
            f2 = IP(bytes(ip))
            del f2[L].chksum
            ok = ok and IP(bytes(f2))[L].chksum == layer.chksum
    return ok

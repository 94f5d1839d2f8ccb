"""Every malformed frame in gen.py's table is counted under its expected drop reason, nothing
else is dropped, and the router still answers the valid ping that follows them."""
import collections
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import read  # noqa: E402
from scapy.all import ARP, ICMP, IP  # noqa: E402


def check(out):
    spec = importlib.util.spec_from_file_location("malformed_gen", os.path.join(HERE, "gen.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    want = collections.Counter(reason for reason, _ in gen.CASES)

    drops, in_drops = {}, False
    for line in open(os.path.join(out, "list.txt")):
        if line.startswith("Drop reason"):
            in_drops = True
            continue
        if in_drops and not line.strip():
            break  # the connection table follows
        if in_drops:
            name, n = line.split()
            drops[name] = int(n)
    total = drops.pop("total")
    n = 0
    for reason, count in sorted(want.items()):
        if drops.get(reason) != count:
            raise AssertionError(f"{reason}: expected {count} drops, counted {drops.get(reason, 0)}")
        n += 1
    extra = {k: v for k, v in drops.items() if k not in want}
    if extra:
        raise AssertionError(f"unexpected drops: {extra}")
    if total != len(gen.CASES):
        raise AssertionError(f"total drops {total} != {len(gen.CASES)} malformed frames")
    # Nothing is sent about the malformed frames. The padded ping that follows is answered: first
    # an ARP request for the client (its MAC is unknown), then the echo reply, 28 bytes of IPv4
    # (the Ethernet padding is not payload).
    lan = read(out, "lan")
    if read(out, "wan") or len(lan) != 2:
        raise AssertionError(f"expected 2 frames on lan and none on wan, got {len(lan)} and {len(read(out, 'wan'))}")
    if not (ARP in lan[0] and lan[0][ARP].op == 1 and lan[0][ARP].pdst == gen.CLIENT):
        raise AssertionError("first frame is not an ARP request for the client")
    if not (ICMP in lan[1] and lan[1][ICMP].type == 0 and lan[1][IP].len == 28):
        raise AssertionError("the padded ping after the corpus was not answered with a 28-byte echo reply")
    return n + 4

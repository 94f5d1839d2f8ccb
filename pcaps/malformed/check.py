"""Every malformed frame in gen.py's table is counted under its expected drop reason, nothing
else is dropped, and the router still answers the valid ping that follows them."""
import collections
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read  # noqa: E402
from scapy.all import ARP, ICMP, IP  # noqa: E402


def check(out):
    ok = Checker()
    gen = load_gen(HERE)
    want = collections.Counter(reason for reason, _ in gen.CASES)

    drops = dict(Listing(out).drops)
    total = drops.pop("total")
    for reason, count in sorted(want.items()):
        ok(drops.get(reason) == count, f"{reason}: expected {count} drops, counted {drops.get(reason, 0)}")
    extra = {k: v for k, v in drops.items() if k not in want}
    ok(not extra, f"unexpected drops: {extra}")
    ok(total == len(gen.CASES), f"total drops {total} != {len(gen.CASES)} malformed frames")
    # Nothing is sent about the malformed frames. The padded ping that follows is answered: first
    # an ARP request for the client (its MAC is unknown), then the echo reply, 28 bytes of IPv4
    # (the Ethernet padding is not payload).
    lan, wan = read(out, "lan"), read(out, "wan")
    ok(not wan and len(lan) == 2, f"expected 2 frames on lan and none on wan, got {len(lan)} and {len(wan)}")
    ok(ARP in lan[0] and lan[0][ARP].op == 1 and lan[0][ARP].pdst == gen.CLIENT,
       "first frame is not an ARP request for the client")
    ok(ICMP in lan[1] and lan[1][ICMP].type == 0 and lan[1][IP].len == 28,
       "the padded ping after the corpus was not answered with a 28-byte echo reply")
    return ok.n

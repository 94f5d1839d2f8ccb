"""Semantic checks of the PING_CHECK health case, from keepalived's rules (simnet.Rules: down at
retry + 1 failures in a row, up at rise successes; the next probe delay_loop after an answer or a
verdict, delay_before_retry after a failure that leaves the checker up), not from the output. The
echo requests each checker must send are worked out from gen.py's timeline of which real answers
ping, then compared with what left on lan, with the "Health events" and the health listing of
list.txt (inhibit_on_failure: D2 down but listed, weight 0), and with where each client SYN was
sent (rr among the reals with weight > 0)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read, rel, ttl_decremented  # noqa: E402
from simnet import event_lines, rr_choice  # noqa: E402
from health_case import D, check_sent, expected_probes, probe_sent, service  # noqa: E402
from scapy.all import ICMP, IP, TCP  # noqa: E402

g = load_gen(HERE)
ECHO = {g.D1: g.D1_ECHO, g.D2: g.D2_ECHO}
MAC = {g.D1: g.D1_MAC, g.D2: g.D2_MAC}
SERVICE = f"({service(g)})"
INHIBIT = {g.D1: False, g.D2: True}


def probes_of(real):
    """The echo requests `real`'s checker must send: the first at t=0 (warmup 0) leaves once ARP
    is answered (D later); each is answered D after it leaves while the real answers ping, and
    otherwise fails at connect_timeout (no retransmission: one echo request per probe)."""
    def outcome(begin):
        sent = probe_sent(begin)
        if ECHO[real](sent):
            return sent, round(sent + D, 6), "ok"
        return sent, round(sent + g.CONNECT_TIMEOUT, 6), "timeout"
    return expected_probes(g, outcome)


def check(out):
    ok = Checker()
    lan = read(out, "lan")
    listing = Listing(out)
    expect = {r: probes_of(r) for r in (g.D1, g.D2)}

    # ---- The rules' consequences for this timeline (so a change of gen.py is noticed) ----
    d1 = [p["transition"] for p in expect[g.D1] if p["transition"]]
    d2 = [p["transition"] for p in expect[g.D2] if p["transition"]]
    ok(d1 == ["down", "up"] and d2 == ["down"], f"transitions: D1 {d1}, D2 {d2}")
    down1 = next(p for p in expect[g.D1] if p["transition"] == "down")
    up1 = next(p for p in expect[g.D1] if p["transition"] == "up")
    down2 = next(p for p in expect[g.D2] if p["transition"] == "down")
    ok(down1["fail_run"] == g.RETRY + 1 and down2["fail_run"] == g.RETRY + 1, "down at retry + 1 failures")
    ok(up1["ok_run"] == g.RISE, "up at rise successes")

    # ---- Every frame from our lan address is an echo request the rules ask for ----
    ours = [p for p in lan if IP in p and p[IP].src == g.LAN_IP]
    ok(all(ICMP in p and p[ICMP].type == 8 for p in ours), "we send nothing on lan from 10.2.0.1 but echo requests")
    check_sent(ok, g, ours, expect, "echo requests")
    for real in (g.D1, g.D2):
        got = [p for p in ours if p[IP].dst == real]
        ok([p[ICMP].seq for p in got] == list(range(1, len(got) + 1)), f"{real}: echo sequence numbers count up from 1")
        for p in got:
            ok(p.src == g.R_LAN and p.dst == MAC[real] and p[IP].flags == "DF" and p[IP].ttl == 64
               and len(bytes(p[ICMP].payload)) == 16, f"echo request form: {p.summary()}")
    ok(len({p[ICMP].id for p in ours}) == len(ours), "every probe has its own echo identifier")

    # ---- Health events and the listing (D2 inhibited: still a real of the service, weight 0) ----
    want = []
    for r in (g.D1, g.D2):
        want += event_lines(f"PING_CHECK {r} of real {r}:{g.VPORT} {SERVICE}", f"real {r}:{g.VPORT} {SERVICE}",
                            expect[r], inhibit=INHIBIT[r])
    want.sort(key=lambda e: e[0])
    ok(listing.health_events == want, f"Health events {listing.health_events}, rules say {want}")
    h1 = listing.health[("TCP", f"{g.VIP}:{g.VPORT}", f"{g.D1}:{g.VPORT}")]
    h2 = listing.health[("TCP", f"{g.VIP}:{g.VPORT}", f"{g.D2}:{g.VPORT}")]
    ok(h1["state"] == "alive" and h1["up"] == 1 and " 2 transitions," in h1["checkers"][0], f"D1 listed {h1}")
    ok(h2["state"] == "inhibit" and h2["up"] == 0 and h2["checkers"][0].startswith(f"PING_CHECK {g.D2} down")
       and " 1 transitions," in h2["checkers"][0], f"D2 listed {h2}")
    ok(listing.stats(f"{g.D2}:{g.VPORT}") is not None and listing.stats(f"{g.D1}:{g.VPORT}") is not None,
       "both reals are in the ipvsadm listing at the end (D2 inhibited, not removed)")

    # ---- Client SYNs: rr over the list D2, D1 among the reals with weight > 0 ----
    forwarded = {p[TCP].sport: p for p in lan if IP in p and p[IP].src == g.CLIENT}
    ok(len(forwarded) == len(g.SYNS), "every client SYN is forwarded to a real")
    in_wan = {p[TCP].sport: p for p in read(os.path.join(HERE, "in"), "wan") if TCP in p}
    last = None
    for at, cport in g.SYNS:
        q = forwarded[cport]
        alive = [r for r, down, up in ((g.D1, down1["done"], up1["done"]), (g.D2, down2["done"], g.END + 1))
                 if not down <= at < up]
        real = rr_choice(alive, [g.D2, g.D1], last)
        # DR: the datagram leaves as it came but TTL-1, to the chosen real's MAC.
        ok(rel(q, g.T0) == at and q.dst == MAC[real] and q.src == g.R_LAN
           and bytes(q[IP]) == ttl_decremented(in_wan[cport][IP]),
           f"{cport} at t={at} (alive: {alive}): DR to {real}, got {q.summary()} to {q.dst}")
        last = real
    return ok.n

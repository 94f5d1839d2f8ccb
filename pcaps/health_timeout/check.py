"""Semantic checks of the silent-real health case, from keepalived's rules (simnet.Rules) and the
neighbour cache's (src/neigh.hpp, as Linux's: REACHABLE 60 s, then used while re-confirmed,
then released; a fresh resolution gives up after 3 requests 1 s apart), not from the output.
Each probe of S is worked out from gen.py's timeline: answered while S is there; once it is gone,
a timeout if its SYN can leave (S's ARP entry still known) and no_neighbour if S's address must
be resolved again and cannot be (3 s, sooner than connect_timeout). Then compared with what left
on lan (SYNs, retransmissions, ARP requests, to the microsecond), the Health events, the listing,
and the absence of any ICMP error: a probe that cannot be delivered is the router's own and is
reported to its checker, not to the wire."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read, rel  # noqa: E402
from simnet import BCAST, rr_choice  # noqa: E402
from health_case import D, expected_probes, health_events, probe_sent, service  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP  # noqa: E402

g = load_gen(HERE)
# src/neigh.hpp NeighParams.
REACHABLE, DELAY_FIRST_PROBE, RETRANS, MAX_PROBES = 60.0, 5.0, 1.0, 3
# TCP's retransmission of an unanswered SYN: 1 s, then doubling (RFC 6298 §2.1, §5.5).
RTO = [1.0, 2.0, 4.0, 8.0]


class Neigh:
    """S's ARP entry, by the neighbour cache's rules; records the ARP requests it makes."""

    def __init__(self, learned):
        self.until, self.release, self.requests = learned + REACHABLE, None, [(0.0, BCAST)]

    def use(self, t):
        """A frame to S at t: True if it leaves to S's MAC, False if S must be resolved anew."""
        if t < self.until:
            return True
        if self.release is None:  # expired: still used, re-confirmed by unicast requests
            first = round(t + DELAY_FIRST_PROBE, 6)
            self.requests += [(round(first + i * RETRANS, 6), g.S_MAC) for i in range(MAX_PROBES)]
            self.release = round(first + MAX_PROBES * RETRANS, 6)
        if t < self.release:
            return True
        self.requests += [(round(t + i * RETRANS, 6), BCAST) for i in range(MAX_PROBES)]
        return False


def retransmissions(sent, deadline):
    """When an unanswered SYN sent at `sent` is on the wire until its probe's deadline."""
    times, t = [sent], sent
    for rto in RTO:
        t = round(t + rto, 6)
        if t >= deadline:
            return times
        times.append(t)


def probes_of(real):
    """The probes `real`'s checker must make; for S also its SYNs on the wire and its ARP requests."""
    neigh = Neigh(D)
    wire = []

    def outcome(begin):
        sent = probe_sent(begin)  # the first SYN waits for ARP
        if real == g.A or g.S_UP(sent):
            wire.append(sent)
            if real == g.S:
                neigh.use(sent)
            return sent, round(sent + D, 6), "ok"
        deadline = round(sent + g.CONNECT_TIMEOUT, 6)
        if neigh.use(sent):
            wire.extend(retransmissions(sent, deadline))
            return sent, deadline, "timeout"
        give_up = round(sent + MAX_PROBES * RETRANS, 6)
        return sent, min(give_up, deadline), "no_neighbour" if give_up < deadline else "timeout"
    return expected_probes(g, outcome), wire, neigh.requests


def check(out):
    ok = Checker()
    lan, wan = read(out, "lan"), read(out, "wan")
    listing = Listing(out)
    (pa, wire_a, _), (ps, wire_s, arp_s) = probes_of(g.A), probes_of(g.S)

    # ---- The rules' consequences for this timeline (so a change of gen.py is noticed) ----
    fails = [p for p in ps if p["reason"] != "ok"]
    ok(all(p["reason"] == "ok" for p in pa), "A's probes all succeed")
    ok({p["reason"] for p in fails} == {"timeout", "no_neighbour"}, f"S fails by {[p['reason'] for p in fails]}")
    ok(fails[1]["transition"] == "down" and fails[1]["reason"] == "timeout", "S is down at its 2nd timeout")
    ok(fails[-1]["reason"] == "no_neighbour" and fails[-1]["done"] < g.END, "S's last probe fails as no_neighbour")

    # ---- What left on lan from our address: the SYNs (and retransmissions) and their RSTs ----
    ours = [p for p in lan if IP in p and p[IP].src == g.LAN_IP]
    for real, wire in ((g.A, wire_a), (g.S, wire_s)):
        got = [rel(p, g.T0) for p in ours if p[IP].dst == real and p[TCP].flags == "S"]
        ok(got == sorted(wire), f"{real}: SYNs at {got}, rules say {sorted(wire)}")
    by_port = {}
    for p in ours:
        if p[TCP].flags == "S":
            by_port.setdefault(p[TCP].sport, set()).add(p[TCP].seq)
    ok(all(len(isns) == 1 for isns in by_port.values()), "a retransmitted SYN keeps its port and ISN")
    arps = [(rel(p, g.T0), p.dst) for p in lan if ARP in p and p[ARP].op == 1 and p[ARP].pdst == g.S]
    ok(arps == arp_s, f"ARP requests for S {arps}, rules say {arp_s}")
    ok(not any(ICMP in p for p in lan + wan), "no ICMP leaves: an unresolvable probe is not reported to the wire")
    ok(listing.events["icmp_errors_sent"] == 0, "icmp_errors_sent 0")
    # The SYN (and its retransmissions) waiting for the resolution that failed: dropped unresolved.
    last = fails[-1]
    queued = [t for t in retransmissions(last["sent"], round(last["sent"] + g.CONNECT_TIMEOUT, 6)) if t <= last["done"]]
    ok(listing.drops.get("arp_unresolved") == len(queued), f"arp_unresolved {listing.drops}, expected {len(queued)}")

    # ---- Health events and the listing ----
    want = health_events("TCP_CHECK", g, {g.A: pa, g.S: ps}, service(g))
    ok(listing.health_events == want, f"Health events {listing.health_events}, rules say {want}")
    hs = listing.health[("TCP", f"{g.VIP}:{g.VPORT}", f"{g.S}:{g.RPORT}")]
    run = len(fails)
    ok(hs["state"] == "failed" and hs["up"] == 0 and hs["checkers"][0].startswith(
        f"TCP_CHECK {g.S}:{g.RPORT} down {run} failed in a row, last no_neighbour "
        f"({MAX_PROBES * RETRANS:.3f} s), 1 transitions"), f"S listed {hs}")
    ok(listing.stats(f"{g.S}:{g.RPORT}") is None, "S is no longer in the ipvsadm listing")

    # ---- Client SYNs: rr over the list S, A (each added at the head) among the reals alive ----
    down = next(p["done"] for p in ps if p["transition"] == "down")
    forwarded = {p[TCP].sport: p for p in lan if IP in p and p[IP].src == g.CLIENT}
    chosen = None
    for at, cport in g.SYNS:
        real = rr_choice([g.A] if at >= down else [g.S, g.A], [g.S, g.A], chosen)
        ok(cport in forwarded and rel(forwarded[cport], g.T0) == at and forwarded[cport][IP].dst == real,
           f"{cport} at t={at}: to {real}")
        chosen = real
    return ok.n

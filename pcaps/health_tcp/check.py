"""Semantic checks of the TCP_CHECK health case, from keepalived's rules (simnet.Rules: down at
retry + 1 failures in a row, up at rise successes; the next probe delay_loop after an answer, or
delay_before_retry after a failure that leaves the checker up), not from the output. The probes
each checker must make are worked out from gen.py's timeline of the reals' ports, then compared
with what left on lan (time to the microsecond, form of each SYN, our RST after each handshake),
with the "Health events" of list.txt, and with where each client SYN was scheduled."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read, rel  # noqa: E402
from simnet import probe_frames, rr_choice  # noqa: E402
from health_case import (D, check_listed_alive, check_syns, expected_probes, health_events,  # noqa: E402
                         probe_sent, service)
from scapy.all import ARP, IP, TCP  # noqa: E402

g = load_gen(HERE)
PORT = {g.A: g.A_PORT, g.B: g.B_PORT}
MAC = {g.A: g.A_MAC, g.B: g.B_MAC}


def probes_of(real):
    """The probes `real`'s checker must make: the first at t=0 (warmup 0) leaves once ARP is
    answered (D later); each is answered D after it leaves: SYN-ACK (ok) or RST (refused)."""
    def outcome(begin):
        sent = probe_sent(begin)
        return sent, round(sent + D, 6), "ok" if PORT[real](sent) == "listen" else "refused"
    return expected_probes(g, outcome)


def check(out):
    ok = Checker()
    lan, wan = read(out, "lan"), read(out, "wan")
    listing = Listing(out)
    expect = {r: probes_of(r) for r in (g.A, g.B)}

    # ---- The rules' own consequences for this timeline (so a change of gen.py is noticed) ----
    b = expect[g.B]
    downs = [p for p in b if p["transition"] == "down"]
    ups = [p for p in b if p["transition"] == "up"]
    ok(len(downs) == 1 and len(ups) == 1, "B's checker goes down once and up once")
    fails = [p for p in b if p["reason"] != "ok"]
    ok(downs[0] is fails[1] and fails[0]["done"] > 2.9, f"B goes down at its 2nd refused probe in a row (retry {g.RETRY})")
    ok(round(fails[1]["begin"] - fails[0]["done"], 6) == g.DELAY_BEFORE_RETRY,
       "the first failure is retried after delay_before_retry")
    oks_after = [p for p in b if p["reason"] == "ok" and p["sent"] > 7.9]
    ok(ups[0] is oks_after[1], f"B comes back at its 2nd successful probe after 7.9 (rise {g.RISE})")
    ok(all(p["transition"] is None for p in expect[g.A]), "A never changes")

    # ---- The probes on lan: every frame from our lan address is a probe SYN or its RST ----
    ours = probe_frames(lan, g.LAN_IP)
    syns = check_syns(ok, g, ours, expect, MAC)
    in_lan = read(os.path.join(HERE, "in"), "lan")
    syn_acks = [p for p in in_lan if TCP in p and p[IP].dst == g.LAN_IP and p[TCP].flags == "SA"]
    rsts = [p for p in ours if p[TCP].flags == "R"]
    ok(len(rsts) == len(syn_acks) and len(ours) == len(syns) + len(rsts),
       f"{len(ours)} frames from {g.LAN_IP}: {len(syns)} SYNs, {len(rsts)} RSTs for {len(syn_acks)} SYN-ACKs")
    for sa, r in zip(syn_acks, rsts):
        # The handshake is the check; it is closed at once with a RST, seq = our ISN + 1 (= its ack).
        ok(rel(r, g.T0) == rel(sa, g.T0) and r[TCP].sport == sa[TCP].dport and r[IP].dst == sa[IP].src
           and r[TCP].seq == sa[TCP].ack, f"our RST answers the SYN-ACK at {rel(sa, g.T0)}")
    ok(not any(ARP in p and p[ARP].op == 2 for p in lan), "no ARP reply on lan (nobody asked)")

    # ---- Health events and the listing ----
    want = health_events("TCP_CHECK", g, expect, service(g))
    ok(listing.health_events == want, f"Health events {listing.health_events}, rules say {want}")
    check_listed_alive(ok, listing, "TCP_CHECK", g, expect)

    # ---- Client SYNs: scheduled among the reals alive at the time, rr over the list B, A ----
    down_at, up_at = downs[0]["done"], ups[0]["done"]
    forwarded = {p[TCP].sport: p for p in lan if IP in p and p[IP].src == g.CLIENT}
    ok(len(forwarded) == len(g.SYNS), "every client SYN is forwarded to a real")
    last = None
    for at, cport in g.SYNS:
        q = forwarded[cport]
        ok(rel(q, g.T0) == at and q[TCP].dport == g.RPORT, f"{cport} DNATed at once")
        # rr over the list B, A (each real added at the head), among the reals alive at the time.
        alive = [g.A] if down_at <= at < up_at else [g.A, g.B]
        want_real = rr_choice(alive, [g.B, g.A], last)
        ok(q[IP].dst == want_real, f"{cport} at t={at} (alive: {alive}): to {want_real}, not {q[IP].dst}")
        last = want_real
    conns = {c[3]: c for c in listing.conns}
    for at, cport in g.SYNS:
        ok(conns[f"{g.CLIENT}:{cport}"][5] == f"{forwarded[cport][IP].dst}:{g.RPORT}", f"{cport} listed to its real")
    ok(sum(1 for p in wan if TCP in p and p[TCP].flags == "SA") == len(g.SYNS), "every SYN-ACK SNATed to the client")
    return ok.n

"""Semantic checks of the HTTP_GET health case, from keepalived's rules (simnet.Rules with retry 0:
down at the first failure, up at rise successes in a row; check_http.c: the request template, a
status outside 200-299 fails as status, a body whose MD5 differs from the url's digest as digest),
not from the output. The probes each checker must make are worked out from gen.py's timeline of
the reals' answers, then compared with what left on lan (time to the microsecond, the request
byte for byte, our RST closing each connection) and with the "Health events" of list.txt."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read, rel  # noqa: E402
from simnet import probe_frames  # noqa: E402
from health_case import (D, check_listed_alive, check_syns, check_ups_and_downs,  # noqa: E402
                         expected_probes, health_events, http_request, probe_sent, service)
from scapy.all import ARP, IP, TCP  # noqa: E402

g = load_gen(HERE)
ANSWER = {g.A: g.A_ANSWER, g.B: g.B_ANSWER}
MAC = {g.A: g.A_MAC, g.B: g.B_MAC}
DELAY_BEFORE_RETRY = 3.0  # keepalived's HTTP_GET default; never used with retry 0


def probes_of(real):
    """The probes `real`'s checker must make: the first at t=0 (warmup 0) leaves once ARP is
    answered (D later); SYN-ACK D after the SYN, our request at once, the response (with FIN) D
    later: the verdict. The answer is the one the real gives when the request arrives."""
    def outcome(begin):
        sent = probe_sent(begin)
        status, body = ANSWER[real](round(sent + D, 6))
        reason = "status" if not 200 <= status <= 299 else "digest" if body != g.HEALTHY else "ok"
        return sent, round(sent + 2 * D, 6), reason
    return expected_probes(g, outcome, delay_before_retry=DELAY_BEFORE_RETRY)


def check(out):
    ok = Checker()
    lan, wan = read(out, "lan"), read(out, "wan")
    listing = Listing(out)
    expect = {r: probes_of(r) for r in (g.A, g.B)}

    # ---- The rules' own consequences for this timeline (so a change of gen.py is noticed) ----
    check_ups_and_downs(ok, g, expect, ["digest", "status"],
                        "B goes down by its digest, comes back, goes down by its status, comes back")

    # ---- The probes on lan: SYN, the request with the handshake's ACK, our RST at the close ----
    ours = probe_frames(lan, g.LAN_IP)
    in_lan = read(os.path.join(HERE, "in"), "lan")
    syns = check_syns(ok, g, ours, expect, MAC)
    reqs = {p[TCP].sport: p for p in ours if p[TCP].flags == "PA"}
    rsts = {p[TCP].sport: p for p in ours if p[TCP].flags == "R"}
    syn_acks = [p for p in in_lan if TCP in p and p[TCP].flags == "SA"]
    responses = {p[TCP].dport: p for p in in_lan if TCP in p and p[TCP].flags == "FPA"}
    ok(len(syn_acks) == len(reqs) == len(responses) == len(rsts) and len(ours) == len(syns) + len(reqs) + len(rsts),
       f"{len(ours)} frames from {g.LAN_IP}: {len(syns)} SYNs, {len(reqs)} requests, {len(rsts)} RSTs "
       f"for {len(syn_acks)} SYN-ACKs and {len(responses)} responses")
    for sa in syn_acks:
        port, real = sa[TCP].dport, sa[IP].src
        q = reqs.get(port)
        # The request leaves with the handshake's ACK: seq = our ISN + 1, ack = the real's ISN + 1.
        ok(q is not None and rel(q, g.T0) == rel(sa, g.T0) and q[IP].dst == real and q[TCP].seq == sa[TCP].ack
           and q[TCP].ack == sa[TCP].seq + 1 and bytes(q[TCP].payload) == http_request(g, real),
           f"the request answers the SYN-ACK of {real} at {rel(sa, g.T0)}: {q and bytes(q[TCP].payload)}")
        resp, r = responses.get(port), rsts.get(port)
        # Every probe connection ends with our RST when the response (and its FIN) is in, from the
        # end of what we sent.
        ok(resp is not None and r is not None and rel(r, g.T0) == rel(resp, g.T0) and r[IP].dst == real
           and r[TCP].seq == q[TCP].seq + len(http_request(g, real)) == resp[TCP].ack and r[TCP].ack == 0,
           f"our RST closes the connection of port {port} to {real}")
    ok({p[TCP].sport for p in syns} == set(rsts), "every probe connection ends with our RST")
    ok(not any(ARP in p and p[ARP].op == 2 for p in lan) and len(wan) == 0, "no ARP reply on lan, nothing on wan")

    # ---- Health events and the listing ----
    want = health_events("HTTP_GET", g, expect, service(g))
    ok(listing.health_events == want, f"Health events {listing.health_events}, rules say {want}")
    check_listed_alive(ok, listing, "HTTP_GET", g, expect)
    for real in (g.A, g.B):
        failures = {p["reason"] for p in expect[real] if p["reason"] != "ok"}
        ok(failures == ({"digest", "status"} if real == g.B else set()), f"{real}: fails by {failures}")
    return ok.n

"""Semantic checks of the UDP_CHECK and DNS_CHECK health case, from keepalived's rules
(simnet.Rules; check_udp.c: with require_reply a reply must come and match the pattern, an ICMP
error fails as unreachable; check_dns.c: a response with the query's ID passes with RCODE 0 and
fails with any other), not from the output. The probes each checker must make are worked out
from gen.py's timeline of the reals, then compared with what left on lan (time to the
microsecond, one datagram a probe and its form: the payload, the DNS query), with the "Health
events" of list.txt (the service's quorum included) and with the listing."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read  # noqa: E402
from simnet import probe_frames, with_quorum  # noqa: E402
from health_case import (D, check_listed_alive, check_sent, expected_probes, health_events, probe_sent,  # noqa: E402
                         service)
from scapy.all import ARP, DNS, ICMP, IP, UDP  # noqa: E402

g = load_gen(HERE)
MAC = {g.U: g.U_MAC, g.N: g.N_MAC}
SERVICE = service(g, "udp")
TYPE = {g.U: "UDP_CHECK", g.N: "DNS_CHECK"}


def probes_of(real):
    """The probes `real`'s checker must make: the first at t=0 (warmup 0) leaves once ARP is
    answered (D later); each datagram is answered D after it leaves: U's echo (ok: it starts
    with the required bytes) or an ICMP port unreachable (unreachable); N's response, RCODE 0
    (ok) or SERVFAIL (rcode)."""
    def outcome(begin):
        sent = probe_sent(begin)
        if real == g.U:
            reason = "ok" if g.U_PORT(sent) == "echo" else "unreachable"
        else:
            reason = "ok" if g.N_RCODE(sent) == 0 else "rcode"
        return sent, round(sent + D, 6), reason
    if real == g.U:  # delay_before_retry (1 s, keepalived's UDP_CHECK default) is never used with retry 0
        return expected_probes(g, outcome, retry=g.U_RETRY, delay_before_retry=1.0)
    return expected_probes(g, outcome, retry=g.N_RETRY, delay_before_retry=g.N_DELAY_BEFORE_RETRY)


def check(out):
    ok = Checker()
    lan, wan = read(out, "lan"), read(out, "wan")
    listing = Listing(out)
    expect = {r: probes_of(r) for r in (g.U, g.N)}

    # ---- The rules' own consequences for this timeline (so a change of gen.py is noticed) ----
    u, n = expect[g.U], expect[g.N]
    ok([(p["reason"], p["fail_run"]) for p in u if p["transition"] == "down"] == [("unreachable", 1)],
       f"U goes down once, at its first unreachable (retry {g.U_RETRY})")
    n_fails = [p for p in n if p["reason"] != "ok"]
    ok(n_fails[0]["transition"] is None and n_fails[1]["transition"] == "down"
       and round(n_fails[1]["begin"] - n_fails[0]["done"], 6) == g.N_DELAY_BEFORE_RETRY,
       "N's first rcode is retried after delay_before_retry, the second takes it down")
    for real, probes in expect.items():
        ups = [p for p in probes if p["transition"] == "up"]
        ok(len(ups) == 1 and ups[0]["ok_run"] == g.RISE, f"{real} comes back once, at {g.RISE} good probes")
        ok(sum(1 for p in probes if p["transition"]) == 2, f"{real} changes twice: down, then up")

    # ---- The probes on lan: one datagram each, nothing else from our address ----
    ours = probe_frames(lan, g.LAN_IP)
    ok(all(UDP in p for p in ours), "every frame from our address is a UDP probe")
    check_sent(ok, g, ours, expect, "probes (one datagram each, never resent)")
    for p in ours:
        ok(p[UDP].dport == g.RPORT and p[IP].flags == "DF" and p[IP].ttl == 64 and 32768 <= p[UDP].sport <= 60999
           and p.src == g.R_LAN and p.dst == MAC[p[IP].dst], f"probe form: {p.summary()}")
    ok(len({p[UDP].sport for p in ours}) == len(ours), "every probe has its own source port")
    ok(all(bytes(p[UDP].payload) == g.PAYLOAD for p in ours if p[IP].dst == g.U), "U's probes carry the payload")
    ids = []
    for p in (p for p in ours if p[IP].dst == g.N):
        q = DNS(bytes(p[UDP].payload))
        ids.append(q.id)
        # check_dns.c: a standard query (RD set), one question, class IN.
        ok(q.qr == 0 and q.opcode == 0 and q.rd == 1 and q.qdcount == 1 and q.ancount == q.nscount == 0
           and q.qd.qname == (g.DNS_NAME + ".").encode() and q.qd.qtype == 1 and q.qd.qclass == 1,
           f"N's query: {q.summary()}")
    ok(len(set(ids)) == len(ids), "every query has its own ID")
    in_lan = read(os.path.join(HERE, "in"), "lan")
    unreach = [p for p in in_lan if ICMP in p]
    ok(len(unreach) == sum(1 for p in u if p["reason"] == "unreachable"), "one port unreachable a failed probe of U")
    ok(not any(ARP in p and p[ARP].op == 2 for p in lan) and len(wan) == 0, "no ARP reply on lan, nothing on wan")
    ok(listing.events["icmp_errors_sent"] == 0, "icmp_errors_sent 0")

    # ---- Health events (with the quorum: lost while neither real is alive) and the listing ----
    want = with_quorum(SERVICE, health_events(TYPE, g, expect, SERVICE), [f"{r}:{g.RPORT}" for r in (g.U, g.N)])
    ok(any("quorum lost" in t for _, t in want), "the timeline loses the quorum for a while")
    ok(listing.health_events == want, f"Health events {listing.health_events}, rules say {want}")
    check_listed_alive(ok, listing, TYPE, g, expect, proto="UDP")
    return ok.n

"""What the health-check golden cases (pcaps/health_*) have in common, so that each case's gen.py
and check.py hold only its own scenario (its reals, their timeline, what it asserts of them).

For gen.py: the topology every case shares (the router's MACs and addresses, the VIP, the
client, T0), the client SYNs a case sends to the VIP, an HTTP server's answers as a function of
time, and converge() (build the inputs with simnet and say how many rounds it took). A gen.py
imports these names, so its check.py reads them from the loaded module as its own (g.LAN_IP, ...);
a case on another subnet sets its own LAN_IP after the import.

For check.py: keepalived's rules as the cases apply them (expected_probes() builds simnet.Rules
from the case's settings; probe_sent() is when a probe leaves), the times and form of the probes'
SYNs (Linux connect()'s), the HTTP request keepalived sends, and the "Health events" and health
listing of reals with one checker each. A check.py passes what it has worked out as `expected`,
{real: its probes (simnet.expect_probes)}, and `g`, its gen.py loaded (vsfix.load_gen).

Run with /usr/bin/python3 (Debian's python3-scapy), from a case's gen.py or check.py.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsfix import rel  # noqa: E402
from simnet import DELAY_US, Rules, event_lines, expect_probes, http_response  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

# ---- The topology (each gen.py's docstring tells it too) ----
R_WAN, R_LAN = "02:00:00:00:00:01", "02:00:00:00:00:02"  # the router's MACs on wan and lan
WAN_IP, LAN_IP = "203.0.113.1", "10.1.0.1"  # the router's addresses (a DR case's lan: its own)
VIP = "203.0.113.100"
CLIENT, CLIENT_MAC = "203.0.113.50", "02:00:00:00:cc:50"
T0 = 1700000000.0  # the replay's start (Unix seconds); a case's times are seconds after it

D = DELAY_US / 1e6  # a host answers D seconds after the frame it answers (simnet.DELAY_US)


# ---------------------------------------------------------------------------------------------
# gen.py
# ---------------------------------------------------------------------------------------------

def add_client_syns(trace, syns, vport):
    """The client's SYNs to VIP:vport on wan, syns = [(seconds after T0, client port)]: the i-th
    (from 0) with IP ID i + 1 and ISN 1000 * (i + 1)."""
    for i, (at, cport) in enumerate(syns):
        trace.add("wan", T0 + at, Ether(src=CLIENT_MAC, dst=R_WAN) / IP(src=CLIENT, dst=VIP, id=i + 1) /
                  TCP(sport=cport, dport=vport, flags="S", seq=1000 * (i + 1), window=64240))
    return trace


def http_answers(answer):
    """An HTTP server's respond(request, t) (Host.stream, tls_server): the response for
    answer(t) -> (status, body), whatever the request."""
    def respond(request, t):
        status, body = answer(t)
        return http_response(status, body)
    return respond


def converge(net, trace):
    """Write the case's inputs: simnet's replay of `trace` (the case's own frames) with the
    hosts of `net` answering, until a fixed point."""
    rounds = net.converge(trace)
    print(f"simnet: converged in {rounds} rounds")


# ---------------------------------------------------------------------------------------------
# check.py
# ---------------------------------------------------------------------------------------------

def service(g, proto="tcp"):
    """The virtual service as the Health events name it: "tcp 203.0.113.100:80"."""
    return f"{proto} {g.VIP}:{g.VPORT}"


def probe_sent(begin):
    """When a probe begun at `begin` leaves: the first (at t=0, warmup 0) once the router's ARP
    request for the real is answered (D later), any other at once (the entry is known)."""
    return round(begin + (D if begin == 0 else 0), 6)


def expected_probes(g, outcome, retry=None, delay_before_retry=None):
    """The probes of a checker with the case's settings (gen.py's RETRY, RISE, DELAY_LOOP,
    DELAY_BEFORE_RETRY unless given), from t=0 to the case's END (simnet.expect_probes)."""
    retry = g.RETRY if retry is None else retry
    delay_before_retry = g.DELAY_BEFORE_RETRY if delay_before_retry is None else delay_before_retry
    return expect_probes(Rules(retry + 1, g.RISE, g.DELAY_LOOP, delay_before_retry), 0.0, outcome, g.END)


def check_sent(ok, g, frames, expected, what="probes"):
    """Each real's probe `frames` (one a probe) leave when the rules say: expected = {real: probes}."""
    for real, probes in expected.items():
        got = [rel(p, g.T0) for p in frames if p[IP].dst == real]
        want = [w["sent"] for w in probes]
        ok(got == want, f"{real}: {what} sent at {got}, rules say {want}")


def check_syns(ok, g, ours, expected, mac):
    """The SYNs among `ours` (the frames from LAN_IP: probe_frames) are the TCP probes the rules
    ask for (expected = {real: probes}: one SYN a probe, when it leaves) and Linux connect()'s, to
    RPORT, from R_LAN to the real's MAC (mac: {real: MAC}), each from its own port. Returns them."""
    syns = [p for p in ours if p[TCP].flags == "S"]
    check_sent(ok, g, syns, expected)
    for p in syns:
        # Linux's connect(): MSS option, DF, IP ID 0, TTL 64, from an ephemeral port.
        ok(p[TCP].dport == g.RPORT and dict(p[TCP].options).get("MSS") == 1460 and p[IP].flags == "DF"
           and p[IP].id == 0 and p[IP].ttl == 64 and 32768 <= p[TCP].sport <= 60999
           and p.src == g.R_LAN and p.dst == mac[p[IP].dst], f"probe form: {p.summary()}")
    ok(len({p[TCP].sport for p in syns}) == len(syns), "every probe has its own source port")
    return syns


def http_request(g, real):
    """keepalived's http_request() for a url (gen.py's PATH) without virtualhost: Host is the
    checked address."""
    return f"GET {g.PATH} HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: {real}:{g.RPORT}\r\n\r\n".encode()


def check_ups_and_downs(ok, g, expected, reasons, story):
    """With retry 0, real B goes down by each of `reasons` in turn (at its first failure) and
    comes back after each (at RISE good probes in a row); real A never changes."""
    downs = [p for p in expected[g.B] if p["transition"] == "down"]
    ups = [p for p in expected[g.B] if p["transition"] == "up"]
    ok([p["reason"] for p in downs] == reasons and len(ups) == len(reasons), story)
    ok(all(p["fail_run"] == 1 for p in downs), f"retry {g.RETRY}: down at the first failure")
    ok(all(p["ok_run"] == g.RISE for p in ups), f"up at the {g.RISE}nd good probe in a row")
    ok(all(p["transition"] is None and p["reason"] == "ok" for p in expected[g.A]), "A never changes")


def health_events(kind, g, expected, svc):
    """The Health events of one-checker reals (expected = {real: probes}), in time order; the
    checker is `kind` ("TCP_CHECK", ...; or {real: kind}) on the real's RPORT; svc: service(g)."""
    lines = [event_lines(f"{_kind(kind, r)} {r}:{g.RPORT} of real {r}:{g.RPORT} ({svc})",
                         f"real {r}:{g.RPORT} ({svc})", probes) for r, probes in expected.items()]
    return sorted(sum(lines, []), key=lambda e: e[0])


def check_listed_alive(ok, listing, kind, g, expected, proto="TCP"):
    """Each real (expected = {real: probes}) is listed alive at the end, its `kind` checker (or
    {real: kind}) up after as many transitions as the rules give."""
    for real, probes in expected.items():
        h = listing.health[(proto, f"{g.VIP}:{g.VPORT}", f"{real}:{g.RPORT}")]
        n = sum(1 for p in probes if p["transition"])
        checker = h["checkers"][0]
        ok(h["state"] == "alive" and h["up"] == 1 and checker.startswith(f"{_kind(kind, real)} {real}:{g.RPORT} up")
           and f", {n} transitions," in checker, f"{real}: listed {h}, expected alive with {n} transitions")


def _kind(kind, real):
    return kind[real] if isinstance(kind, dict) else kind

"""Semantic checks of the SSL_GET health case, from keepalived's rules (simnet.Rules with retry 0:
down at the first failure, up at rise successes in a row; check_ssl.c: HTTP_GET's request and
judgement over TLS, a failed handshake fails the probe, here as tls; a status outside the url's
fails as status), not from the output. The probes each checker must make are worked out from
gen.py's timeline of the reals' TLS servers and answers, then compared with what left on lan
(time to the microsecond; the ClientHello with the handshake's ACK; the client's Finished with
the request, which the real's TLS server, run again on what our side sent, decrypts to
keepalived's request byte for byte; our RST closing each connection) and with the "Health events"
of list.txt."""
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
TLS = {g.A: g.A_TLS, g.B: g.B_TLS}
ANSWER = {g.A: g.A_ANSWER, g.B: g.B_ANSWER}
MAC = {g.A: g.A_MAC, g.B: g.B_MAC}
DELAY_BEFORE_RETRY = 3.0  # keepalived's SSL_GET default; never used with retry 0
ALERT = bytes.fromhex("15030300020228")  # TLS alert record: fatal (2), handshake_failure (40)
CCS = bytes.fromhex("140303000101")  # TLS 1.3's compatibility ChangeCipherSpec (RFC 8446 §D.4)
# ClientHello extensions (RFC 8446 §4.2; RFC 5077): SNI, session ticket, pre-shared key,
# supported versions, key share.
SERVER_NAME, SESSION_TICKET, PRE_SHARED_KEY, SUPPORTED_VERSIONS, KEY_SHARE = 0, 35, 41, 43, 51


def probes_of(real):
    """The probes `real`'s checker must make: the first at t=0 (warmup 0) leaves once ARP is
    answered (D later); SYN-ACK D after the SYN, our ClientHello at once, the server's flight D
    later. Without a certificate that flight is an alert: the verdict (tls). Otherwise our
    Finished and the request leave at once, and the response (with FIN) D later is the verdict.
    The answer is the one the real gives when the request arrives."""
    def outcome(begin):
        sent = probe_sent(begin)
        if TLS[real](round(sent + D, 6)) != "ok":
            return sent, round(sent + 2 * D, 6), "tls"
        status, body = ANSWER[real](round(sent + 2 * D, 6))
        want = 200 if real == g.A else None  # A: status_code 200; B: 200-299 and the digest
        bad = not 200 <= status <= 299 if want is None else status != want
        reason = "status" if bad else "digest" if real == g.B and body != g.HEALTHY else "ok"
        return sent, round(sent + 3 * D, 6), reason
    return expected_probes(g, outcome, delay_before_retry=DELAY_BEFORE_RETRY)


def client_hello(record):
    """(random, [extension types]) of a TLS record holding one whole ClientHello; None if not."""
    if len(record) < 9 or record[0] != 22 or record[1] != 3 or record[5] != 1:
        return None
    if int.from_bytes(record[3:5], "big") != len(record) - 5:
        return None
    b, i = record[9:], 2  # after the legacy version
    rnd = b[i:i + 32]
    i += 32
    i += 1 + b[i]  # session id
    i += 2 + int.from_bytes(b[i:i + 2], "big")  # cipher suites
    i += 1 + b[i]  # compression methods
    end = i + 2 + int.from_bytes(b[i:i + 2], "big")
    i += 2
    types = []
    while i < end:
        types.append(int.from_bytes(b[i:i + 2], "big"))
        i += 4 + int.from_bytes(b[i + 2:i + 4], "big")
    return (rnd, types) if i == end == len(b) else None


def record_types(data):
    """The content types of the TLS records that make up `data` exactly; None if they do not."""
    types, i = [], 0
    while i + 5 <= len(data):
        types.append(data[i])
        i += 5 + int.from_bytes(data[i + 3:i + 5], "big")
    return types if i == len(data) else None


def check(out):
    ok = Checker()
    lan, wan = read(out, "lan"), read(out, "wan")
    listing = Listing(out)
    expect = {r: probes_of(r) for r in (g.A, g.B)}

    # ---- The rules' own consequences for this timeline (so a change of gen.py is noticed) ----
    check_ups_and_downs(ok, g, expect, ["status", "tls"],
                        "B goes down by its status, comes back, goes down by its TLS handshake, comes back")

    # ---- The probes on lan: SYN, ClientHello, Finished and request, our RST at the close ----
    ours = probe_frames(lan, g.LAN_IP)
    in_lan = read(os.path.join(HERE, "in"), "lan")
    syns = check_syns(ok, g, ours, expect, MAC)
    randoms = set()
    reasons = {r: [] for r in (g.A, g.B)}
    for syn in syns:
        port, real, t = syn[TCP].sport, syn[IP].dst, rel(syn, g.T0)
        sent = [p for p in ours if p[TCP].sport == port and p[TCP].flags == "PA"]
        rst = [p for p in ours if p[TCP].sport == port and p[TCP].flags == "R"]
        theirs = [p for p in in_lan if TCP in p and p[TCP].dport == port]
        sa = theirs[0] if theirs and theirs[0][TCP].flags == "SA" else None
        ok(sa is not None and rel(sa, g.T0) == round(t + D, 6), f"the SYN-ACK of port {port}")
        ch = sent[0] if sent else None
        # The ClientHello leaves with the handshake's ACK: seq = our ISN + 1, ack = the real's ISN + 1.
        ok(ch is not None and rel(ch, g.T0) == rel(sa, g.T0) and ch[TCP].seq == syn[TCP].seq + 1
           and ch[TCP].ack == sa[TCP].seq + 1, f"port {port}: the ClientHello answers the SYN-ACK")
        hello = client_hello(bytes(ch[TCP].payload))
        # No SNI (no virtualhost), no ticket asked for, no session resumed (docs/health-checks.md).
        ok(hello is not None and SUPPORTED_VERSIONS in hello[1] and KEY_SHARE in hello[1]
           and not {SERVER_NAME, SESSION_TICKET, PRE_SHARED_KEY} & set(hello[1]),
           f"port {port}: a full-handshake ClientHello without SNI, extensions {hello and hello[1]}")
        randoms.add(hello[0])
        # The real's TLS server, run again on what our side sent: the flights in the input are
        # its answers (so in/ is what gen.py makes), and it decrypts our request.
        conv = g.server(TLS[real], ANSWER[real])((g.LAN_IP, port, syn[TCP].seq), t)
        flights = [p for p in theirs[1:] if bytes(p[TCP].payload) or "F" in str(p[TCP].flags)]
        replies = b"".join(conv.data(bytes(p[TCP].payload), rel(p, g.T0))[0] for p in sent)
        ok(replies == b"".join(bytes(p[TCP].payload) for p in flights),
           f"port {port}: the real's flights in the input are its TLS server's answers")
        last = flights[-1]
        if bytes(flights[0][TCP].payload) == ALERT:
            # No certificate: the alert and FIN answer the ClientHello; no Finished, no request.
            ok(len(flights) == 1 and len(sent) == 1 and flights[0][TCP].flags == "FPA"
               and rel(flights[0], g.T0) == round(rel(ch, g.T0) + D, 6), f"port {port}: the alert ends the handshake")
            reasons[real].append("tls")
        else:
            fin = sent[1] if len(sent) == 2 else None
            types = record_types(bytes(fin[TCP].payload)[len(CCS):]) if fin else None
            # TLS 1.3: ChangeCipherSpec, then only encrypted records (Finished, the request).
            ok(fin is not None and rel(fin, g.T0) == rel(flights[0], g.T0)
               and fin[TCP].seq == ch[TCP].seq + len(ch[TCP].payload)
               and fin[TCP].ack == flights[0][TCP].seq + len(flights[0][TCP].payload)
               and bytes(fin[TCP].payload).startswith(CCS) and types and set(types) == {23},
               f"port {port}: our Finished and the request answer the server's flight")
            ok(conv.request == http_request(g, real), f"port {port}: the request inside TLS is {conv.request!r}")
            ok(b"GET" not in bytes(fin[TCP].payload), f"port {port}: the request is not in the clear")
            ok(len(flights) == 2 and last[TCP].flags == "FPA" and rel(last, g.T0) == round(rel(fin, g.T0) + D, 6),
               f"port {port}: the response and FIN answer the request")
            reasons[real].append("handshake")
        # Every probe connection ends with our RST when the verdict is in, from the end of what
        # we sent.
        ok(len(rst) == 1 and rel(rst[0], g.T0) == rel(last, g.T0)
           and rst[0][TCP].seq == sent[-1][TCP].seq + len(sent[-1][TCP].payload) == last[TCP].ack
           and rst[0][TCP].ack == 0, f"our RST closes the connection of port {port} to {real}")
    ok(len(randoms) == len(syns), "every ClientHello has its own random: no handshake is made twice")
    for real in (g.A, g.B):
        ok(reasons[real] == ["tls" if p["reason"] == "tls" else "handshake" for p in expect[real]],
           f"{real}: the handshakes fail exactly when the rules say tls: {reasons[real]}")
    ok(len(ours) == sum(len([p for p in ours if p[TCP].sport == s[TCP].sport]) for s in syns)
       and not any(ARP in p and p[ARP].op == 2 for p in lan) and len(wan) == 0,
       "nothing else from the router: no ARP reply on lan, nothing on wan")

    # ---- Health events and the listing ----
    want = health_events("SSL_GET", g, expect, service(g))
    ok(listing.health_events == want, f"Health events {listing.health_events}, rules say {want}")
    check_listed_alive(ok, listing, "SSL_GET", g, expect)
    for real in (g.A, g.B):
        failures = {p["reason"] for p in expect[real] if p["reason"] != "ok"}
        ok(failures == ({"status", "tls"} if real == g.B else set()), f"{real}: fails by {failures}")
    return ok.n

"""Simulated hosts that answer what vsrouter sends: inputs for golden cases with health checks.

A health checker's probes are frames vsrouter sends, and the answers must be in the input pcaps,
after the probes, with the ports and sequence numbers the probes used (drawn from the engine's
seeded PRNG). Nobody can write those by hand, so the case's gen.py describes the hosts instead and
Net.converge() finds the inputs by iterating the replay:

    inputs = the case's own frames (Trace: clients, ...)
    repeat: replay the inputs; let the hosts answer every frame vsrouter sent, each answer DELAY
            after the frame it answers; inputs = the case's frames + those answers
    until the answers are the ones the replay was run with (a fixed point).

The answers are recomputed from each round's whole output, not accumulated: an answer changes
what vsrouter does after it, so a later frame of the previous round (and the answer made for it)
may no longer exist. Since the replay is deterministic and an answer comes DELAY after its frame,
the part of the output that stays the same grows every round; at the fixed point every answer in
the input answers a frame in the output, and nothing in the output is left unanswered that a
host would answer.

The replay ends at a fixed time END (args: --start T0 --advance END - last input): answers due
at or after END are left out, as they would come after the listing is taken.

Hosts: Host(iface, ip, mac) answers ARP for its address, ICMP echo, and TCP per port, each as a
function of time (phases). A listening TCP port may also answer the data after the handshake
(Host.stream: an HTTP server that closes after its response), or hold a conversation of several
flights (Host.session, e.g. tls_server(): a TLS server, Python's ssl over memory BIOs), and a UDP
port its datagrams (Host.udp: an answer, silence, or an ICMP port unreachable). Other protocols
slot in with Host.serve(proto, handler): handler(host, frame, t) returns the answers (Scapy IP
datagrams).

A TLS server draws random bytes (server random, ECDHE key, signature nonce, session IDs). So that
its answers are the same from one round (and one run of gen.py) to the next, tls_server()
replaces OpenSSL's random bytes in this process with a hash DRBG that each flight reseeds from
the connection and everything the client sent on it: a flight is a function of the conversation.

Run with /usr/bin/python3 (Debian's python3-scapy), from a case's gen.py.
"""
import ctypes
import ctypes.util
import hashlib
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsfix import Trace, read  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

UNREACHABLE = "unreachable"  # Host.udp: answer with an ICMP port unreachable
DELAY_US = 200  # a host answers 200 µs after the frame arrived (one fixed wire + stack delay)
BCAST = "ff:ff:ff:ff:ff:ff"
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def phases(first, *changes):
    """A state as a function of time (seconds after T0): phases("listen", 2.9, "closed", 7.9,
    "listen") is "listen" before 2.9, "closed" from 2.9, "listen" again from 7.9."""
    steps = list(zip(changes[0::2], changes[1::2]))

    def at(t):
        state = first
        for when, s in steps:
            if t >= when:
                state = s
        return state
    return at


def always(value):
    return lambda t: value


def isn(*key):
    """A host's initial sequence number: a function of what it answers (never a counter), so an
    answer stays the same from one round to the next."""
    return zlib.crc32(repr(key).encode())


class Host:
    """A machine on one of the router's links.

    up(t): whether it answers anything at all (ARP included): False models a host that is gone.
    TCP ports: tcp(port, state(t)) with state "listen" (SYN -> SYN-ACK; the segments after it need
    no answer: our probes end with a RST), "closed" (RST, as RFC 9293 §3.10.7.1) or "silent"
    (nothing, as behind a dropping firewall). A port never declared is silent, so that a client
    host does not reset the SYN-ACKs the reals send it through the router.
    ICMP echo: echo(on(t)). Anything else: serve(proto, handler)."""

    def __init__(self, iface, ip, mac, up=always(True)):
        self.iface, self.ip, self.mac, self.up = iface, ip, mac, up
        self.ports, self.streams, self.udp_ports = {}, {}, {}
        # port -> open_; (peer ip, peer port, port) -> [conversation, rcv_nxt, snd_nxt, mss, closed]
        self.sessions, self.conns = {}, {}
        self.echo_on = always(False)
        self.handlers = {6: Host._tcp, 1: Host._icmp, 17: Host._udp}  # IP protocol -> handler

    def tcp(self, port, state):
        self.ports[port] = state
        return self

    def stream(self, port, respond):
        """Data on a listening TCP `port`: respond(request bytes, t) -> the response bytes, sent in
        one segment with the ACK of the request and a FIN (seq = the port's ISN + 1), as a Linux
        server that writes an HTTP/1.0 response and closes. The response must fit one MSS."""
        self.streams[port] = respond
        return self

    def session(self, port, open_):
        """A conversation on a listening TCP `port`: at each SYN, open_((peer ip, peer port, peer
        ISN), t) -> an object whose data(new bytes, t) -> (reply bytes, close) answers the client's
        data in order. The reply leaves in MSS-sized segments with the ACK of the data (PSH on the
        last), and with a FIN when `close` (a server that writes and closes); no reply: a bare
        ACK. Data already taken (a retransmission) is only acknowledged; data after a gap and data
        after our FIN get nothing (the gap cannot happen here: the client sends in order)."""
        self.sessions[port] = open_
        return self

    def udp(self, port, respond):
        """Datagrams to UDP `port`: respond(payload, t) -> the answer's payload, None (silence) or
        UNREACHABLE (an ICMP port unreachable, as Linux sends for a port nobody has open)."""
        self.udp_ports[port] = respond
        return self

    def echo(self, on):
        self.echo_on = on
        return self

    def serve(self, proto, handler):
        """handler(host, frame, t) -> [IP datagram, ...] for IP protocol `proto` (17: UDP, ...)."""
        self.handlers[proto] = handler
        return self

    def answer(self, f, t):
        """The frames this host sends in answer to frame f (sent by the router at t seconds)."""
        if not self.up(t) or f[Ether].dst not in (self.mac, BCAST):
            return []
        if ARP in f:
            a = f[ARP]
            if a.op != 1 or a.pdst != self.ip:
                return []
            return [Ether(src=self.mac, dst=f[Ether].src) /
                    ARP(op=2, hwsrc=self.mac, psrc=self.ip, hwdst=a.hwsrc, pdst=a.psrc)]
        if IP not in f or f[IP].dst != self.ip or f[Ether].dst != self.mac:
            return []
        handler = self.handlers.get(f[IP].proto)
        return [Ether(src=self.mac, dst=f[Ether].src) / d for d in (handler(self, f, t) if handler else [])]

    def _reply_ip(self, f, proto):
        # Linux's own segments and echo replies: DF, IP ID 0 for an atomic datagram, TTL 64.
        return IP(src=self.ip, dst=f[IP].src, flags="DF", id=0, ttl=64, proto=proto)

    def _tcp(self, f, t):
        s = f[TCP]
        state = self.ports.get(s.dport, always("silent"))(t)
        flags = str(s.flags)
        if "R" in flags or state == "silent":
            return []
        if state == "listen":
            data = bytes(s.payload)
            if flags != "S" and s.dport in self.sessions:
                return self._session(f, t)
            if flags != "S" and data and s.dport in self.streams:
                # The data of a connection we accepted: our ISN is the one given to its SYN (seq - 1).
                resp = self.streams[s.dport](data, t)
                seg = TCP(sport=s.dport, dport=s.sport, flags="FPA", seq=isn(f[IP].src, s.sport, s.seq - 1) + 1,
                          ack=s.seq + len(data), window=64128)
                return [self._reply_ip(f, 6) / seg / Raw(resp)]
            if flags != "S":
                return []
            syn_ack = TCP(sport=s.dport, dport=s.sport, flags="SA", seq=isn(f[IP].src, s.sport, s.seq),
                          ack=s.seq + 1, window=65160, options=[("MSS", 1460)])
            if s.dport in self.sessions:
                conv = self.sessions[s.dport]((f[IP].src, s.sport, s.seq), t)
                mss = dict(s.options).get("MSS", 536)  # RFC 9293 §3.7.1: 536 when the SYN says nothing
                self.conns[(f[IP].src, s.sport, s.dport)] = [conv, s.seq + 1, syn_ack.seq + 1, mss, False]
            return [self._reply_ip(f, 6) / syn_ack]
        # closed (RFC 9293 §3.10.7.1): an ACK is answered <SEQ=SEG.ACK><CTL=RST>, anything else
        # <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN and FIN counting one each.
        if "A" in flags:
            rst = TCP(sport=s.dport, dport=s.sport, flags="R", seq=s.ack, window=0)
        else:
            seg_len = len(bytes(s.payload)) + ("S" in flags) + ("F" in flags)
            rst = TCP(sport=s.dport, dport=s.sport, flags="RA", seq=0, ack=s.seq + seg_len, window=0)
        return [self._reply_ip(f, 6) / rst]

    def _session(self, f, t):
        """A segment on a connection of Host.session() (see there). One without data (a bare ACK,
        a FIN) gets nothing: our probes end with a RST."""
        s = f[TCP]
        c = self.conns.get((f[IP].src, s.sport, s.dport))
        if c is None:
            return []
        conv, rcv_nxt, snd_nxt, mss, closed = c
        data = bytes(s.payload)
        if not data or closed:
            return []
        old = (rcv_nxt - s.seq) % 2**32
        if old > 2**31:  # a gap: data beyond what we expect
            return []
        fresh = data[old:]
        if not fresh:  # a retransmission of what we took: our ACK again
            return [self._reply_ip(f, 6) / TCP(sport=s.dport, dport=s.sport, flags="A", seq=snd_nxt,
                                               ack=rcv_nxt % 2**32, window=64128)]
        reply, close = conv.data(fresh, t)
        rcv_nxt = (rcv_nxt + len(fresh)) % 2**32
        chunks = [reply[i:i + mss] for i in range(0, len(reply), mss)] or [b""]
        out = []
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            flags = ("F" if last and close else "") + ("P" if last and chunk else "") + "A"
            seg = TCP(sport=s.dport, dport=s.sport, flags=flags, seq=snd_nxt, ack=rcv_nxt, window=64128)
            out.append(self._reply_ip(f, 6) / seg / Raw(chunk) if chunk else self._reply_ip(f, 6) / seg)
            snd_nxt = (snd_nxt + len(chunk)) % 2**32
        c[1:] = [rcv_nxt, (snd_nxt + close) % 2**32, mss, close]
        return out

    def _udp(self, f, t):
        u = f[UDP]
        respond = self.udp_ports.get(u.dport)
        answer = respond(bytes(u.payload), t) if respond else None
        if answer is None:
            return []
        if answer is UNREACHABLE:
            # icmp_send(): TOS 0xc0, no DF; the quote is the datagram (up to 576 bytes in all).
            quote = bytes(f[IP])[:576 - 28]
            return [IP(src=self.ip, dst=f[IP].src, tos=0xC0, id=0, ttl=64, proto=1) / ICMP(type=3, code=3) / Raw(quote)]
        return [self._reply_ip(f, 17) / UDP(sport=u.dport, dport=u.sport) / Raw(answer)]

    def _icmp(self, f, t):
        i = f[ICMP]
        if i.type != 8 or not self.echo_on(t):
            return []
        return [self._reply_ip(f, 1) / ICMP(type=0, id=i.id, seq=i.seq) / Raw(bytes(i.payload))]


class Net:
    """The hosts of one case and the replay that they answer.

    case_dir: the case (its vsrouter.toml; in/ and args are written there).
    t0, end: the case's T0 (Unix seconds; the replay starts there) and when it ends (seconds after
    T0). vsrouter: the binary; default $VSROUTER, else build/vsrouter of this repository."""

    def __init__(self, case_dir, t0, end, vsrouter=None):
        self.case_dir, self.t0, self.end = case_dir, t0, end
        self.vsrouter = vsrouter or os.environ.get("VSROUTER") or os.path.join(ROOT, "build", "vsrouter")
        if not os.access(self.vsrouter, os.X_OK):
            sys.exit(f"simnet: no vsrouter binary at {self.vsrouter} (build it, or set VSROUTER)")
        self.hosts = []
        self.files = {}

    def input_file(self, name, text):
        """Another input of the replay, written into in/ with the pcaps every round (scripts.txt:
        MISC_CHECK exits, "<time in µs> <checker index> <status>" lines)."""
        self.files[name] = text
        return self

    def host(self, iface, ip, mac, up=always(True)):
        h = Host(iface, ip, mac, up)
        self.hosts.append(h)
        return h

    def _us(self, seconds_after_t0):
        return round((self.t0 + seconds_after_t0) * 1000000)

    def answers(self, out_dir):
        """[(iface, time in µs, frame)]: every host's answers to the frames in a replay's output."""
        end_us = self._us(self.end)
        got = []
        for iface in sorted({h.iface for h in self.hosts}):
            for f in read(out_dir, iface):
                at = round(f.time * 1000000)
                t = at / 1000000 - self.t0
                for h in self.hosts:
                    if h.iface == iface and at + DELAY_US < end_us:
                        got += [(iface, at + DELAY_US, a) for a in h.answer(f, t)]
        return got

    def _write(self, trace, answers, case_dir):
        """The case's frames and the answers, in time order per interface, into case_dir/in/."""
        t = Trace(case_dir)
        rows = [(round(p.time * 1000000), iface, p) for iface, ps in trace.frames.items() for p in ps]
        rows += [(at, iface, p) for iface, at, p in answers]
        for at, iface, p in sorted(rows, key=lambda r: r[0]):  # stable: the case's frames first at a tie
            t.add(iface, at / 1000000, p)
        t.write()
        for name, text in sorted(self.files.items()):
            with open(os.path.join(case_dir, "in", name), "w") as f:
                f.write(text)
        last = max((r[0] for r in rows), default=self._us(0))  # no frames yet: the clock starts at T0
        return ["--start", f"{self.t0:.0f}", "--advance", f"{(self._us(self.end) - last) / 1000000:.6f}"]

    def converge(self, trace, max_rounds=100):
        """Finds the fixed point, writes in/ and args into the case; returns the number of rounds."""
        work = tempfile.mkdtemp(prefix="simnet-")
        try:
            shutil.copy(os.path.join(self.case_dir, "vsrouter.toml"), work)
            answers = []
            for n in range(1, max_rounds + 1):
                args = self._write(trace, answers, work)
                out = os.path.join(work, "out")
                shutil.rmtree(out, ignore_errors=True)
                cmd = [self.vsrouter, "replay", "-c", os.path.join(work, "vsrouter.toml"), "--in",
                       os.path.join(work, "in"), "--out", out] + args
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    sys.exit(f"simnet: {' '.join(cmd)} exited {r.returncode}\n{r.stderr}")
                fresh = self.answers(out)
                key = [(i, at, bytes(p)) for i, at, p in fresh]
                if key == [(i, at, bytes(p)) for i, at, p in answers]:
                    self._write(trace, answers, self.case_dir)
                    with open(os.path.join(self.case_dir, "args"), "w") as f:
                        f.write(" ".join(args) + "\n")
                    return n
                answers = fresh
            sys.exit(f"simnet: the hosts' answers did not converge in {max_rounds} rounds")
        finally:
            shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# keepalived's rules, for the semantic checks (check.py): what a checker must decide and when it
# must probe, worked out from the probes' outcomes alone (src/check/health.hpp's header).
# ---------------------------------------------------------------------------------------------

class Rules:
    """One checker: down after `fall` failures in a row (retry + 1), up after `rise` successes in
    a row; a checker that never succeeded goes down at its first failure (keepalived, non-alpha
    mode); alpha starts down. After a probe the next one starts delay_loop later, except after a
    failure that leaves the checker up: delay_before_retry (keepalived's retry)."""

    def __init__(self, fall, rise, delay_loop, delay_before_retry, alpha=False):
        self.fall, self.rise = fall, rise
        self.delay_loop, self.delay_before_retry = delay_loop, delay_before_retry
        self.up, self.succeeded_once, self.ok_run, self.fail_run = not alpha, False, 0, 0

    def result(self, ok):
        """A probe's outcome -> (transition "up", "down" or None, seconds until the next probe)."""
        if ok:
            self.fail_run, self.ok_run, self.succeeded_once = 0, self.ok_run + 1, True
            if not self.up and self.ok_run >= self.rise:
                self.up = True
                return "up", self.delay_loop
            return None, self.delay_loop
        self.ok_run, self.fail_run = 0, self.fail_run + 1
        if self.up and self.fail_run >= (self.fall if self.succeeded_once else 1):
            self.up = False
            return "down", self.delay_loop
        return None, self.delay_before_retry if self.up else self.delay_loop


def expect_probes(rules, start, outcome, end):
    """The probes a checker must make from `start` to `end` (seconds after T0), by its rules.

    outcome(begin) -> (sent, done, reason): a probe begun at `begin` leaves at `sent` (later when
    it waits for ARP) and is decided at `done` with reason "ok" or a failure's name.
    Returns [{begin, sent, done, reason, transition, fail_run, ok_run}] for the probes begun before
    end; the last may be decided after it (then it is not judged: transition None)."""
    probes, begin = [], start
    while begin < end:
        sent, done, reason = outcome(begin)
        p = dict(begin=begin, sent=sent, done=done, reason=reason, transition=None)
        probes.append(p)
        if done >= end:
            break
        p["transition"], wait = rules.result(reason == "ok")
        p["fail_run"], p["ok_run"] = rules.fail_run, rules.ok_run
        begin = round(done + wait, 6)
    return probes


def event_lines(checker, real, probes, inhibit=False, weight=1):
    """The "Health events" lines [(seconds, text)] a one-checker real's probes must give
    (health.cpp's event_text): at each transition the checker's line, then the real's.
    checker: "TCP_CHECK 10.1.0.12:8080 of real 10.1.0.12:8080 (tcp 203.0.113.100:80)";
    real: "real 10.1.0.12:8080 (tcp 203.0.113.100:80)"."""
    lines = []
    for p in probes:
        if p["transition"] == "down":
            runs = f"{p['fail_run']} failure{'s' if p['fail_run'] != 1 else ''} in a row"
            gone = "failed, weight 0 (inhibit_on_failure)" if inhibit else "failed, removed"
            lines += [(p["done"], f"{checker}: down ({p['reason']}, {runs})"), (p["done"], f"{real}: {gone}")]
        elif p["transition"] == "up":
            runs = f"{p['ok_run']} success{'es' if p['ok_run'] != 1 else ''} in a row"
            back = f"alive, weight {weight}" if inhibit else "alive, added"
            lines += [(p["done"], f"{checker}: up ({runs})"), (p["done"], f"{real}: {back}")]
    return lines


def with_quorum(service, lines, reals, quorum=1):
    """The Health events `lines` (event_lines of each real, merged in time order) with the
    service's quorum events (health.cpp's update_service, hysteresis 0, every real weight 1):
    lost when the alive reals' weight falls below `quorum`, regained when it reaches it again.
    service: "udp 203.0.113.100:53"; reals: ["10.1.0.21:53", ...] (all alive at the start)."""
    alive, up, out = set(reals), len(reals) >= quorum, []
    for t, text in lines:
        out.append((t, text))
        for r in reals:
            if text == f"real {r} ({service}): failed, removed":
                alive.discard(r)
            elif text == f"real {r} ({service}): alive, added":
                alive.add(r)
        if up != (len(alive) >= quorum and len(alive) > 0):
            up = not up
            out.append((t, f"{service}: quorum {'regained' if up else 'lost'} (alive weight {len(alive)}, "
                           f"quorum {quorum}, hysteresis 0)"))
    return out


def http_response(status, body, reason=None):
    """An HTTP/1.0 response as a small server writes it: status line, Content-Type,
    Content-Length, the blank line, the body (bytes)."""
    reason = reason or {200: "OK", 503: "Service Unavailable"}[status]
    head = f"HTTP/1.0 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


# ---------------------------------------------------------------------------------------------
# A TLS server for Host.session(): Python's ssl (OpenSSL) over memory BIOs, made deterministic.
# ---------------------------------------------------------------------------------------------

class _Drbg:
    """OpenSSL's random bytes in this process (RAND_set_rand_method, the method vsrouter's own
    TLS client uses: src/check/tls.cpp): block i = SHA-256(seed || i), the seed set by reseed()."""

    def __init__(self):
        crypto = ctypes.CDLL(ctypes.util.find_library("crypto"))  # the libcrypto _ssl has loaded
        bytes_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_ubyte), ctypes.c_int)
        seed_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
        add_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_double)
        status_fn = ctypes.CFUNCTYPE(ctypes.c_int)

        class Method(ctypes.Structure):  # struct rand_meth_st
            _fields_ = [("seed", seed_fn), ("bytes", bytes_fn), ("cleanup", ctypes.c_void_p), ("add", add_fn),
                        ("pseudorand", bytes_fn), ("status", status_fn)]
        self.seed, self.counter, self.pool = b"", 0, b""
        self.fns = (seed_fn(lambda buf, n: 1), bytes_fn(self._bytes), add_fn(lambda buf, n, e: 1), status_fn(lambda: 1))
        self.method = Method(self.fns[0], self.fns[1], None, self.fns[2], self.fns[1], self.fns[3])
        crypto.RAND_set_rand_method.argtypes = [ctypes.c_void_p]
        crypto.RAND_set_rand_method(ctypes.byref(self.method))
        self.reseed(b"probe")
        a = ssl.RAND_bytes(16)
        self.reseed(b"probe")
        if ssl.RAND_bytes(16) != a:
            sys.exit("simnet: cannot take over OpenSSL's random bytes (is _ssl linked to another libcrypto?)")

    def reseed(self, seed):
        self.seed, self.counter, self.pool = seed, 0, b""

    def _bytes(self, buf, num):
        while len(self.pool) < num:
            self.pool += hashlib.sha256(self.seed + self.counter.to_bytes(8, "little")).digest()
            self.counter += 1
        ctypes.memmove(buf, self.pool[:num], num)
        self.pool = self.pool[num:]
        return 1


_drbg = None


def _tls_context(certfile, keyfile):
    """A TLS server context (Python's defaults: TLS 1.2 and 1.3) with the certificate and key (PEM
    files; None: none). Session tickets are stateful (OP_NO_TICKET: in TLS 1.3 OpenSSL then sends
    a session ID as the ticket): a stateless ticket holds the session's time, which would change
    the answers from one run to the next. A new context for every connection: a context's session
    cache would make a session ID drawn again (the same conversation, the next round) collide with
    the last round's, and OpenSSL would draw another. Without a certificate, OpenSSL answers every
    ClientHello with a fatal handshake_failure alert ("no shared cipher"), as a server whose key is
    missing."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.options |= ssl.OP_NO_TICKET
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    return ctx


class _TlsConversation:
    """One connection of tls_server(): the handshake, then the request, the response, our
    close_notify and the close. A failed handshake: OpenSSL's alert, and the close. `request`
    holds the decrypted bytes the client sent (a check.py may run a conversation again on the
    bytes our side sent, and read it)."""

    def __init__(self, peer, certificate, respond):
        self.peer, self.certificate, self.respond = peer, certificate, respond
        self.seen, self.request = b"", b""
        self.inb, self.outb, self.tls = ssl.MemoryBIO(), ssl.MemoryBIO(), None

    def data(self, fresh, t):
        self.seen += fresh
        # Everything random in this flight follows from the connection and what the client sent.
        _drbg.reseed(hashlib.sha256(repr(self.peer).encode() + b"\0" + self.seen).digest())
        if self.tls is None:
            self.tls = _tls_context(*self.certificate(t)).wrap_bio(self.inb, self.outb, server_side=True)
        self.inb.write(fresh)
        close = False
        try:
            self.tls.do_handshake()
            while True:
                self.request += self.tls.read(16384)
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass
        except ssl.SSLError:
            close = True  # the alert is in outb
        if not close and self.request:
            response = self.respond(self.request, t)
            if response is not None:
                self.tls.write(response)
                try:
                    self.tls.unwrap()  # close_notify; the client's is not awaited
                except ssl.SSLWantReadError:
                    pass
                close = True
        return self.outb.read(), close


NO_CERTIFICATE = (None, None)  # tls_server: a server without its certificate and key


def tls_server(certificate, respond):
    """Host.session()'s open_ for a TLS server that answers one request and closes.
    certificate(t) -> (certfile, keyfile), PEM files, of a connection whose first bytes (the
    ClientHello) arrive at t; NO_CERTIFICATE: OpenSSL's handshake_failure alert, and the close.
    respond(request, t) -> the response bytes once `request` (the decrypted bytes so far) is
    whole, else None. The server writes the response, then its close_notify, and closes.
    The first call takes over OpenSSL's random bytes in this process (_Drbg)."""
    global _drbg
    if _drbg is None:
        _drbg = _Drbg()
    return lambda peer, t: _TlsConversation(peer, certificate, respond)


def http_request_done(request):
    """Whether an HTTP request without a body is whole (its header has ended)."""
    return b"\r\n\r\n" in request


def probe_frames(frames, src):
    """The frames a health checker sent from `src` (the router's address on the link)."""
    return [p for p in frames if IP in p and p[IP].src == src]


def rr_choice(alive, order, last):
    """Where rr sends a new connection: the real after `last` (the one it chose last; ip_vs_rr.c
    keeps its place in the list across changes) among `alive` (weight > 0), in list `order`."""
    if not alive:
        return None
    i = order.index(last) + 1 if last in order else 0
    return next(order[(i + k) % len(order)] for k in range(len(order)) if order[(i + k) % len(order)] in alive)

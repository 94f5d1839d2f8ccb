"""The scenarios of the kernel-differential suite: one description per case, from which both
directors are configured (ipvsadm command lines: ipvsadm in the VM, vsadm for vsrouter) and fed.

A scenario's steps: ("send", iface, frame), ("wait", seconds), ("cmd", "ipvsadm args") and
("list", "ipvsadm args") (a listing compared at that point). `views` are listed at the end.
`deviations` maps a compared view's key prefix (e.g. "frames wan") to the entry of
docs/services.md that documents why vsrouter differs there.
"""
from topo import VIP, from_client, real

DEFAULT_VIEWS = ["-Ln", "-Ln --stats", "-Lnc"]


class Scenario:
    def __init__(self, name, doc, setup, steps, views=None, vips=(VIP,), mtu=None, sysctl=None, router=None,
                 deviations=None, real_answers=True):
        self.name = name
        self.doc = doc
        self.setup = list(setup)
        self.steps = list(steps)
        self.views = list(DEFAULT_VIEWS if views is None else views)
        self.vips = list(vips)
        self.mtu = dict(mtu or {})
        self.sysctl = dict(sysctl or {})
        self.router = dict(router or {})
        self.deviations = dict(deviations or {})
        self.real_answers = real_answers


def reals(svc, n, method, weights=None, port=80):
    """`-a` lines for reals 1..n of service `svc` ("-t VIP:80")."""
    out = []
    for i in range(1, n + 1):
        w = 1 if weights is None else weights[i - 1]
        out.append(f"-a {svc} -r {real(i)[0]}:{port} {method} -w {w}")
    return out


def tcp_conn(c, sport, data=b"GET / HTTP/1.0\r\n\r\n", close="client"):
    """A whole TCP connection of client c, as steps: handshake, one request, a close."""
    s = [("send", "wan", from_client(c, sport=sport, flags="S"))]
    s.append(("send", "wan", from_client(c, sport=sport, flags="A")))
    if data:
        s.append(("send", "wan", from_client(c, sport=sport, flags="PA", data=data)))
    if close == "client":
        s.append(("send", "wan", from_client(c, sport=sport, flags="FA", seq_off=len(data))))
    elif close == "rst":
        s.append(("send", "wan", from_client(c, sport=sport, flags="R", seq_off=len(data))))
    return s


SVC = f"-t {VIP}:80"
SCENARIOS = []


def scenario(*a, **k):
    SCENARIOS.append(Scenario(*a, **k))


scenario("nat_rr_http", "NAT, rr over 3 reals: 6 whole connections (handshake, request, client close)",
         [f"-A {SVC} -s rr"] + reals(SVC, 3, "-m"),
         [st for i in range(6) for st in tcp_conn(1, 41000 + i)])

scenario("dr_rr_syn_ack", "DR, rr over 3 reals: SYN then ACK for 6 connections",
         [f"-A {SVC} -s rr"] + reals(SVC, 3, "-g"),
         [st for i in range(6) for st in tcp_conn(1, 42000 + i, data=b"", close=None)])


def select(names):
    if not names:
        return SCENARIOS
    by = {s.name: s for s in SCENARIOS}
    missing = [n for n in names if n not in by]
    if missing:
        raise SystemExit(f"no scenario {' '.join(missing)}; have: {' '.join(by)}")
    return [by[n] for n in names]

scenario("stray_tcp", "segments no connection or service takes: a bare ACK, a FIN, no flags, a SYN to an "
         "unserved port of the VIP and of the router, a RST and a SYN+RST: the kernel's stack answers RSTs "
         "(and nothing to a RST)",
         [f"-A {SVC} -s rr"] + reals(SVC, 2, "-m"),
         [("send", "wan", from_client(1, sport=43001, flags="A")),
          ("send", "wan", from_client(1, sport=43002, flags="FA")),
          ("send", "wan", from_client(1, sport=43003, flags="")),
          ("send", "wan", from_client(1, sport=43004, flags="S", dport=81)),
          ("send", "wan", from_client(1, sport=43005, flags="S", dport=22, dst="203.0.113.1")),
          ("send", "wan", from_client(1, sport=43006, flags="R")),
          ("send", "wan", from_client(1, sport=43007, flags="SR")),
          ("send", "wan", from_client(1, sport=43008, flags="PA", data=b"hello"))])

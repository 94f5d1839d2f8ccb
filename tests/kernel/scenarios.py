"""The scenarios of the kernel-differential suite: one description per case, from which both
directors are configured (ipvsadm command lines: ipvsadm in the VM, vsadm for vsrouter) and fed.

A scenario's steps: ("send", iface, frame), ("wait", seconds), ("cmd", "ipvsadm args") and
("list", "ipvsadm args") (a listing compared at that point). `views` are listed at the end.
`deviations` maps a compared view's key prefix (e.g. "frames wan") to the entry of
docs/services.md that documents why vsrouter differs there.
"""
import os
import tomllib

from topo import INTERFACES, VIP, from_client, real

DEFAULT_VIEWS = ["-Ln", "-Ln --stats", "-Lnc"]


class Scenario:
    def __init__(self, name, doc, setup, steps, views=None, vips=(VIP,), interfaces=None, routes=(), sysctl=None,
                 router=None, deviations=None, real_answers=True, hosts=None):
        self.name = name
        self.doc = doc
        self.setup = list(setup)
        self.steps = list(steps)
        self.views = list(DEFAULT_VIEWS if views is None else views)
        self.vips = list(vips)
        self.interfaces = [dict(i) for i in (interfaces or INTERFACES)]
        self.routes = list(routes)
        self.hosts = hosts  # {ip: (iface, mac, answers)}; None: topo's clients and reals
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


# ---------------------------------------------------------------- the golden cases
# Each pcaps/<case>/ as a scenario: its vsrouter.toml is the description (interfaces, routes,
# timeouts; its services become the ipvsadm lines both directors get), its in/ frames are sent in
# their recorded order with the gaps shortened to at most GOLDEN_GAP (both directors run on wall
# time, so they see the same compressed clock; expiry is covered by the timeout scenarios).
GOLDEN_GAP = 0.12
PCAPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pcaps")
METHOD_FLAG = {"nat": "-m", "dr": "-g", "tun": "-i"}
PROTO_FLAG = {"tcp": "-t", "udp": "-u"}


def ipvsadm_lines(cfg):
    """The ipvsadm command lines that configure what a vsrouter.toml's services say."""
    lines = []
    t = cfg.get("timeouts")
    if t:
        lines.append(f"--set {t.get('tcp', 900)} {t.get('tcpfin', 120)} {t.get('udp', 300)}")
    for s in cfg.get("services", []):
        svc = f"{PROTO_FLAG[s['protocol']]} {s['address']}"
        line = f"-A {svc} -s {s.get('scheduler', 'wlc')}"
        if s.get("persistence"):
            line += f" -p {s['persistence']}"
        if s.get("netmask"):
            line += f" -M {s['netmask']}"
        flags = [f for f in s.get("flags", []) if f != "ops"]
        if flags:
            line += " -b " + ",".join(flags)
        if "ops" in s.get("flags", []):
            line += " -o"
        lines.append(line)
        port = s["address"].rsplit(":", 1)[1]
        for r in s.get("reals", []):
            addr = r["address"] if ":" in r["address"] else f"{r['address']}:{port}"
            line = f"-a {svc} -r {addr} {METHOD_FLAG[r.get('method', 'dr')]} -w {r.get('weight', 1)}"
            if r.get("upper"):
                line += f" -x {r['upper']}"
            if r.get("lower"):
                line += f" -y {r['lower']}"
            lines.append(line)
    return lines


def golden(case, **extra):
    import glob

    from scapy.all import ARP, IP, Ether, rdpcap
    d = os.path.join(PCAPS, case)
    with open(os.path.join(d, "vsrouter.toml"), "rb") as f:
        cfg = tomllib.load(f)
    interfaces = [{k: i[k] for k in ("name", "mac", "addresses", "mtu") if k in i} for i in cfg["interfaces"]]
    frames = []
    hosts = {}
    for path in glob.glob(os.path.join(d, "in", "*.pcap")):
        iface = os.path.basename(path)[:-5]
        for seq, p in enumerate(rdpcap(path)):
            frames.append((float(p.time), iface, seq, bytes(p)))
            try:
                e = Ether(bytes(p))
                src = e[ARP].psrc if ARP in e else e[IP].src if IP in e else None
            except Exception:  # the malformed case's frames
                continue
            if src and src not in hosts:
                hosts[src] = (iface, e.src, False)
    frames.sort(key=lambda r: (r[0], r[1], r[2]))
    steps, last = [], None
    for t, iface, _, raw in frames:
        if last is not None and t - last > 0.04:
            steps.append(("wait", min(t - last, GOLDEN_GAP) - 0.04))
        steps.append(("send", iface, raw))
        last = t
    # The table's capacity only where the case is about it (the kernel's table has no capacity, and
    # -Ln's header shows vsrouter's: docs/services.md "Table size").
    router = {k: v for k, v in cfg.get("router", {}).items() if k not in ("seed", "max_connections")}
    vips = sorted({s["address"].rsplit(":", 1)[0] for s in cfg.get("services", [])})
    return Scenario(f"golden_{case}", f"pcaps/{case}: its inputs through both directors", ipvsadm_lines(cfg), steps,
                    vips=vips, interfaces=interfaces,
                    routes=[(r["to"], r["via"]) for r in cfg.get("routes", [])],
                    **{"router": router, "hosts": hosts, **extra})


GOLDEN = sorted(c for c in os.listdir(PCAPS) if os.path.isfile(os.path.join(PCAPS, c, "vsrouter.toml")))
GOLDEN_EXTRA = {
    "table_full": dict(router={"max_connections": 3}),
}
for _case in GOLDEN:
    SCENARIOS.append(golden(_case, **GOLDEN_EXTRA.get(_case, {})))

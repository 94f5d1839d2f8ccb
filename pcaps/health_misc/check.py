"""Semantic checks of the MISC_CHECK health case, from keepalived's rules (check_misc.c with
misc_dynamic: exit 0 passes, 1 fails, 2..255 pass and set the real's weight to status - 2;
simnet.Rules with MISC_CHECK's retry 0 and rise 1; ip_vs_wrr.c for the weights' effect), not from
the output. Each probe of checker 0 is worked out from the rules (it starts delay_loop after the
previous verdict) and must see exactly one exit of in/scripts.txt before its misc_timeout; the
weights those exits set are then read where they show: the client SYNs each real gets. Also the
"Health events" and the listing, and that a MISC_CHECK sends no frame."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read, rel  # noqa: E402
from simnet import event_lines  # noqa: E402
from health_case import D, expected_probes, service  # noqa: E402
from scapy.all import ARP, IP, TCP  # noqa: E402

g = load_gen(HERE)
SERVICE = f"({service(g)})"


def script_exits():
    """in/scripts.txt as [(seconds after T0, checker, status)]."""
    rows = [line.split() for line in open(os.path.join(HERE, "in", "scripts.txt"))]
    return [(round(int(ts) / 1e6 - g.T0, 6), int(c), int(s)) for ts, c, s in rows]


def passes(status):
    return status == 0 or 2 <= status <= 255  # misc_dynamic


def probes_and_weights():
    """The probes checker 0 makes by the rules, each decided by the one exit in its time, and
    M's weight from then on: [(from, weight)], None while M is out of the service."""
    exits = script_exits()

    def outcome(begin):
        mine = [(at, s) for at, c, s in exits if c == g.CHECKER and begin < at < begin + g.MISC_TIMEOUT]
        assert len(mine) == 1, f"the probe begun at {begin} sees {len(mine)} exits, not 1"
        at, s = mine[0]
        return begin, at, "ok" if passes(s) else "script"
    probes = expected_probes(g, outcome, delay_before_retry=1.0)  # never used with retry 0
    weight, up, weights = g.WEIGHT, True, [(0.0, g.WEIGHT)]
    status = {at: s for at, _, s in exits}
    for p in probes:
        s = status[p["done"]]
        if passes(s) and s >= 2:
            weight = s - 2
        up = {"down": False, "up": True}.get(p["transition"], up)
        weights.append((p["done"], weight if up else None))
    return probes, weights


def check(out):
    ok = Checker()
    lan, wan = read(out, "lan"), read(out, "wan")
    listing = Listing(out)
    probes, weights = probes_and_weights()

    # ---- The rules' consequences for scripts.txt (so a change of gen.py is noticed) ----
    ok([p["begin"] for p in probes] == [s for s, _, _ in g.exits()], f"probes begin at {[p['begin'] for p in probes]}")
    ok(all(c == g.CHECKER for _, c, _ in script_exits()) and len(script_exits()) == len(probes),
       "every exit in scripts.txt is one probe's")
    ok([p["transition"] for p in probes] == [None, None, "down", "up"], "M goes down at exit 1 and up at exit 2 (rise 1)")
    ok([w for _, w in weights] == [1, 2, 10, None, 0], f"M's weight over time: {weights}")

    # ---- No frame of the checker: lan has only the ARP requests and the forwarded SYNs ----
    syns = {p[TCP].sport: p for p in lan if IP in p and p[IP].src == g.CLIENT}
    ok(all(ARP in p and p[ARP].op == 1 for p in lan if not (IP in p and p[IP].src == g.CLIENT)),
       "a MISC_CHECK sends no frame")
    ok(len(syns) == len(g.SYNS), "every client SYN is forwarded to a real")
    seen = set()
    for at, c in g.SYNS:
        # DNATed at once; the first SYN to each real waits for its ARP reply (DELAY_US).
        real = syns[c][IP].dst
        ok(rel(syns[c], g.T0) == round(at + (0 if real in seen else D), 6) and syns[c][TCP].dport == g.RPORT,
           f"{c} at {at} DNATed to {real} at {rel(syns[c], g.T0)}")
        seen.add(real)
    ok(len(wan) == 0, "nothing on wan: the reals do not answer")

    # ---- The weights, as wrr applies them: within a window of fixed weights (M w, A 1) every
    # w + 1 new connections in a row give M w of them and A one (ip_vs_wrr.c's cycle); a real
    # that is out of the service or has weight 0 gets none. ----
    bounds = weights + [(g.END, None)]
    for (start, w), (stop, _) in zip(bounds, bounds[1:]):
        inside = [c for at, c in g.SYNS if start <= at < stop]
        to_m = sum(1 for c in inside if syns[c][IP].dst == g.M)
        want = 0 if not w else len(inside) // (w + 1) * w
        ok(to_m == want and len(inside) - to_m == len(inside) - want,
           f"from {start} (M weight {w}): {to_m} of {len(inside)} SYNs to M, expected {want}")
        if w:
            ok(len(inside) % (w + 1) == 0, f"the window from {start} holds whole wrr cycles")

    # ---- Health events and the listing ----
    want = event_lines(f"MISC_CHECK {g.PROGRAM} of real {g.M}:{g.RPORT} {SERVICE}", f"real {g.M}:{g.RPORT} {SERVICE}",
                       probes)
    ok(listing.health_events == want, f"Health events {listing.health_events}, rules say {want}")
    h = listing.health[("TCP", f"{g.VIP}:{g.VPORT}", f"{g.M}:{g.RPORT}")]
    last = probes[-1]
    ok(h["state"] == "alive" and h["up"] == 1 and h["checkers"][0].startswith(f"MISC_CHECK {g.PROGRAM} ")
       and f" up 1 ok in a row, last ok ({last['done'] - last['begin']:.3f} s), 2 transitions," in " " + h["checkers"][0],
       f"M listed {h}")
    ok(("TCP", f"{g.VIP}:{g.VPORT}", f"{g.A}:{g.RPORT}") not in listing.health, "A has no checker: not in the health table")
    return ok.n

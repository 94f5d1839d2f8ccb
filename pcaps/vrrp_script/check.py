"""Semantic checks of the vrrp_script case, from keepalived's rules (docs/vrrp.md, "Scripts";
keepalived/vrrp/vrrp_scheduler.c and vrrp_track.c), not from the output. The script's verdicts are
worked out from gen.py's exits by keepalived's counter, the priority from the verdicts and the
weight, and the instance from the priority and the peer's adverts by the model of
pcaps/_lib/vrrp_case.py; then compared with the adverts and gratuitous ARPs that left on wan (time
to the microsecond, each advert's priority), with list.txt's VRRP events, instance and script."""
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read  # noqa: E402
from vrrp_case import Instance, advert_ok, frames_any_order, garp_ok, run, vrrp_event  # noqa: E402

g = load_gen(HERE)


def script_model():
    """Each run's end (an exit, or its timeout) through keepalived's counter: successes climb to
    rise + fall - 1, failures fall to 0; up on reaching rise, down on falling below it; before the
    first end there is no verdict, and that end decides either way. Returns the verdict changes
    [(t, up, status, timed_out)] and the counts (runs, failures, timeouts, last status)."""
    ends = []
    runs = 0
    for k in range(int(math.floor(g.END / g.INTERVAL)) + 1):
        start = k * g.INTERVAL
        runs += 1
        st = g.EXITS[k] if k < len(g.EXITS) else None
        if st is not None:
            ends.append((round(start + g.EXIT_AFTER, 6), st == 0, st, False))
        elif start + g.TIMEOUT <= g.END:
            ends.append((round(start + g.TIMEOUT, 6), False, -1, True))
    result, up, known, changes = g.RISE - 1, False, False, []
    top = g.RISE + g.FALL - 1
    for t, success, st, timed_out in sorted(ends):
        was = (known, up)
        if success:
            result = min(top, result + 1) if result + 1 < g.RISE else top
            up = up or result >= g.RISE
        else:
            if result > g.RISE:
                result -= 1
            else:
                if result == g.RISE or not known:
                    up = False
                result = 0
        known = True
        if (known, up) != was:
            changes.append((t, up, st, timed_out))
    failures = sum(1 for e in ends if not e[1])
    timeouts = sum(1 for e in ends if e[3])
    return changes, (runs, failures, timeouts, sorted(ends)[-1][2])


def check(out):
    ok = Checker()
    wan = read(out, "wan")
    listing = Listing(out)
    changes, (runs, failures, timeouts, last) = script_model()

    # ---- The rules' own consequences for this timeline (so a change of gen.py is noticed) ----
    ok([(t, up) for t, up, _, _ in changes] == [(0.05, True), (5.05, False), (8.05, True)],
       f"chk: up at its first exit, down after two failures, up after two successes: {changes}")
    low = g.PRIORITY + g.WEIGHT
    prios = [(t, g.PRIORITY if up else low) for t, up, _, _ in changes]
    vi = Instance("VI_1", g.PRIORITY, g.ADVERT_INT, g.GARP_REPEAT, g.GARP_DELAY, g.WAN_IP)
    run([vi], [(at, vi, g.PEER_PRIORITY, g.PEER) for at in g.PEER_ADVERTS], g.END,
        [(t, vi, p) for t, p in prios])
    ok([e[:4] for e in vi.events] == [(0.0, "INIT", "BACKUP", "start"), (3.40625, "BACKUP", "MASTER", "master_down"),
                                      (6.5, "MASTER", "BACKUP", "higher_priority"),
                                      (10.90625, "BACKUP", "MASTER", "master_down")],
       f"the model: master at 3.40625, backup to P (100 > 92) at 6.5, master at 10.90625 (its timer moved"
       f" by the Skew_Time of 152 instead of 92 at 8.05): {vi.events}")

    # ---- wan: adverts with the priority of their moment, the GARP bursts; nothing else ----
    want = []
    for at in vi.adverts:
        p = vi.priority_at(at)
        want.append((at, f"advert, priority {p}",
                     lambda f, p=p: advert_ok(f, g.R_WAN, g.WAN_IP, g.VRID, p, g.ADVERT_INT, [g.VIP])))
    for at in vi.garps:
        for _ in range(g.GARP_REPEAT):
            want.append((at, f"gratuitous ARP for {g.VIP}", lambda f: garp_ok(f, g.R_WAN, g.VIP)))
    frames_any_order(ok, "wan", wan, want, g.T0)
    ok(sorted({vi.priority_at(a) for a in vi.adverts}) == [low, g.PRIORITY], "adverts at both priorities")

    # ---- The listing: events (each verdict change before what it causes), instance, script ----
    want_events = [vrrp_event(vi.name, e, vi.priority_at(e[0])) for e in vi.events]
    for t, up, st, timed_out in changes:
        how = "timed out" if timed_out else f"exited {st}"
        want_events.append((t, f"VRRP script chk: {'up' if up else 'down'} ({how})"))
    want_events.sort(key=lambda e: e[0])
    ok(listing.vrrp_events == want_events, f"VRRP events {listing.vrrp_events}, rules say {want_events}")
    inst = listing.vrrp.get("VI_1")
    ok(inst is not None and (inst["state"], inst["priority"]) == (vi.state, vi.priority),
       f"VI_1 listed {inst}, the model ends {vi.state} at {vi.priority}")
    next_advert = round(vi.advert_at - g.END, 6)
    detail = (f"multicast {g.WAN_IP}, {len(vi.adverts)} adverts sent, {len(g.PEER_ADVERTS)} received, "
              f"master 2 times, next advert in {next_advert:.3f} s")
    ok(inst["detail"] == detail, f"VI_1: {inst['detail']!r}, expected {detail!r}")
    sc = listing.vrrp_scripts.get("chk")
    want_sc = {"status": "GOOD" if changes[-1][1] else "BAD", "interval": g.INTERVAL, "runs": runs,
               "failures": failures, "timeouts": timeouts, "last": last}
    ok(sc == want_sc, f"chk listed {sc}, expected {want_sc}")
    ok(timeouts == 1 and runs == 13, "run 10 timed out; runs at 0 .. 12")
    ok(listing.drops.get("total") == 0, f"no drop: P's adverts below our priority are taken, not refused: {listing.drops}")
    return ok.n

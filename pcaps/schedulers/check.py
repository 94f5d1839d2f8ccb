"""Semantic checks of the schedulers case: the real chosen for EVERY new connection of every
service, predicted by tests/sched_model.py (Python models of the 14 schedulers written from the Linux
6.12 sources, with the per-real active/inactive counters and OVERLOAD kept as the packets go),
and compared with the forwarded SYN's destination in the output. Nothing is taken from vsrouter.

  1. The model replays in/wan.pcap against vsrouter.toml (the reals, weights, thresholds and flags
     are read from the config) and must give exactly the choices in EXPECT below, the table
     reviewed by hand (the notes say why each choice is what it is). A change of the model, the
     config or the inputs that moves any choice fails here.
  2. Every output frame, in order, with its time: the ARP replies; for each client TCP packet of
     a connection, the DNAT to the predicted real (daddr, real port 8080, the real's MAC, TTL-1,
     seq/ack/flags unchanged, checksums); for each SYN that finds no real, ICMP port unreachable
     from the VIP (ip_vs_leave).
  3. list.txt: ipvsadm -Ln --stats for every service and real (Conns = the connections the model
     gave it; InPkts/InBytes = the client packets of those; no replies), the drop and event
     counters, and every -Lnc row (state, real and remaining time) at the end of the replay.

Run as a script (`/usr/bin/python3 check.py`) to print the model's decisions, with each real's
counters before each choice.
"""
import os
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))
from vsfix import Checker, Listing, ipv4_checksum_ok, load_gen, mmss_left, read, rel  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP, Ether, IPerror, TCPerror  # noqa: E402
import sched_model as model  # noqa: E402  (tests/sched_model.py)

g = load_gen(HERE)
with open(os.path.join(HERE, "vsrouter.toml"), "rb") as f:
    CFG = tomllib.load(f)

# The choice for each SYN of each service in time order, by real name (A..E = 10.1.0.11..15,
# "-" = no real: ICMP port unreachable), phase 1 | phase 2. Lists are newest first; "x/w" is
# (overhead) per weight; conn n of a service is its n-th SYN. Reviewed by hand against the model's
# log (`/usr/bin/python3 check.py` prints each real's counters before each choice).
EXPECT = {
    # D(1) C(0) B(2, upper 2) A(1): C never (weight 0). #5 makes B's total 2: OVERLOAD, skipped by
    # #6 and #8. #2 (B, reset at 1.03) expires at 11.03: total 1, 4 < 6 clears it, so phase 2
    # visits B again (#10 sets it again). The cursor carries over: #9 starts after A (#8).
    "rr": "D B A D B A D A | D B A D",
    # D(0) C(2) B(3) A(4) added one by one: cw stays 1, so the first pass is C B A; then cw
    # restarts at mw 4: A | B A (cw 3) | C B A (cw 2) | C B A (cw 1) | A | B A | C B ...
    "wrr": "C B A A B A C B A C B A A B | A C B",
    # E D C(0) B A, weights ignored but 0: the least (active << 8) + inactive, first on ties.
    # #5: E has a reset conn only (overhead 1) against 256 for D B A; phase 2: all the resets
    # expired, everyone at 512, E first.
    "lc": "E D B A E D B A E D E | E D B",
    # D(0) C(2) B(3, upper 4) A(1), least overhead/weight, D never (weight 0). #8: C 513/2 vs
    # B 768/3 (513*3 = 1539 > 768*2 = 1536: B), then A 1/1 wins. B is OVERLOAD from #9 (4 conns).
    "wlc": "C B A B C C B A B C A C | C A C",
    # C(2) B(4) A(1), least (active + 1)/weight, inactive ignored: #1 B (1/4), #2 C (1/2 ties
    # 2/4, C first), #8 A (C 3/2, then B 5/4, then A 1/1).
    "sed": "B C B B C C B A B B C | B B",
    # D(2) C(0) B(3) A(1): the first idle real in list order (#1-#3, #9 after A's reset),
    # otherwise the least (active + 1)/weight, first on ties (#5, #6: D 2/2 vs B 3/3).
    "nq": "D B A B D D B B A D B | D B",
    # B(5, upper 3) C(3) A(2): the heaviest not OVERLOAD. B is OVERLOAD from #3; #2 (reset)
    # expires at 14.03 (total 2, 8 < 9 clears), so phase 2 starts on B, which #7 overloads again.
    "fo": "B B B C C C | B C",
    # C(3) B(2) A(1): the heaviest with active <= weight. C takes 4 (active 0..3), #1's reset
    # gives it #6, B takes 3, A 2, then none fits (#11-#13). Phase 2 resets #9 (A): one more A.
    "ovf": "C C C C B C B B A A - - - | A -",
    # C(2) B(3, upper 2) A(1), one cache entry (the VIP). C until busy (#4: active 3 > 2 and A
    # idle, 0 < 1/2): wlc gives B. B stays cached while OVERLOAD (from #5; a cache hit does not
    # look at the flag) until busy (#8: 4 > 3): wlc skips B, A (0/1 beats C 768/2). A is then not
    # busy although 2-3 > 1, since no real is under half its weight. #11: C's 3 conns reset, so
    # C (0 active) is under half: A busy, wlc gives C (3/2 beats A 768/1).
    "lblc": "C C C B B B B A A A C C | C C",
    # Same reals; the entry's set grows instead: {C}, then {B C} at #4, {A B C} at #6 (set_min
    # is C 768/2, busy; wlc skips OVERLOAD B: A). From then set_min over {A B C} (B skipped):
    # #7 A 256/1 vs C 768/2, #8 C (A 512/1 > C 768/2), #9 A, #10 C, never busy.
    "lblcr": "C C C B B A A C A C C C | C C",
    # C B A(upper 3), weights 1: hash_32(203.0.113.100, 8) is one of A's buckets. Every conn
    # of the service hashes the same (the key is the VIP); no fallback, so no real while A is
    # OVERLOAD (#4, #5). #2's expiry at 16.03 clears it: one more A in phase 2.
    "dh": "A A A - - | A -",
    # The same reals behind 203.0.113.101: another bucket, B's. Still one real for all.
    "dh2": "B B B | B",
    # E(3, upper 2) D(1) C(0) B(2) A(1), no flags: by client address. .10 E, .11 D, .12 B,
    # .13 A, .16 C's bucket (weight 0 still owns buckets; no fallback: none), .14 E (now
    # OVERLOAD), .18 E's bucket: none, .12 and .11 again: the same reals. Phase 2: #1 (.10, reset)
    # expired, E clear: .19 E, then .10 E again: OVERLOAD, none.
    "sh": "E D B A - E - B D | E -",
    # sh-port + sh-fallback, client .20, ports 31000..31011: first probes B A E D B A E E C B E E;
    # E is OVERLOAD from 31006 and C has weight 0, so 31007, 31008, 31010 and 31011 take the
    # next probe ((offset + 2 * ih) & 255): B, D, D, D. Phase 2 (#3 reset and expired): 31015 and
    # 31016 both probe E: E, then fallback B.
    "sh-port": "B A E D B A E B D B D D | E B",
    # mh, same reals, by client address over the 4093-slot Maglev table (C added with weight 0:
    # last_weight 0, no slot). E OVERLOAD from #5 (.15): .16 lands on E: none (no fallback).
    # Phase 2 (#3 .14 reset and expired): .17 E, .15 E again: none.
    "mh": "A D E B E B - A D | E -",
    # mh-port + mh-fallback, client .21, ports 31000..31011: first slots D B B D E B E D E A D E;
    # OVERLOAD E (from 31006) makes 31008 and 31011 fall back (offset fed into the hash): A, A.
    # Phase 2 (#5 reset and expired): 31020 E, 31021 E -> fallback D.
    "mh-port": "D B B D E B E D A A D A | E D",
    # E(1, upper 2) D(0) C(2) B(3) A(1): r1, r2 below total + 1 (TWOS_DRAWS), walked over the
    # eligible reals; the second pick wins only if strictly less loaded per weight. #1: r (3, 0):
    # E for r2, C for r1, both idle: C. E is OVERLOAD from #6 (total 7 -> 6, ceil 8 -> 7).
    "twos": "C A E C C E A B C B B C | A C A",
}
# get_random_u32_below(total + 1) twice per twos decision, from splitmix64 seeded with
# router.seed = 7 (the generator is used by twos only, so the other services do not move it).
TWOS_DRAWS = [(3, 0), (7, 4), (3, 1), (3, 2), (1, 3), (0, 7), (6, 6), (6, 3), (6, 2), (4, 5), (4, 0),
              (2, 2), (6, 6), (0, 2), (6, 2)]
NAME = g.NAMES
ADDR = {v: k for k, v in NAME.items()}
SERVICE_KEY = {(vip, port): key for key, vip, port, *_ in g.SERVICES}


def tcp_event(p):
    f = str(p[TCP].flags)
    return "rst" if "R" in f else "syn" if "S" in f else "ack"


def predict():
    """Run the model over the inputs: the director model, and per input frame what must happen."""
    D = model.Director(CFG)
    for s in D.services:
        s.key = SERVICE_KEY[(s.vip, s.port)]
    log, per_wan = [], []
    for p in read(os.path.join(HERE, "in"), "wan"):
        t = rel(p, g.T0)
        if ARP in p:
            per_wan.append((t, p, "arp", None))
            continue
        svc = D.service(p[IP].dst, p[TCP].dport)
        D.expire(t)
        before = [repr(d) for d in svc.dests]
        ev = tcp_event(p)
        outcome, d = D.packet(t, p[IP].src, p[TCP].sport, p[IP].dst, p[TCP].dport, ev, p[IP].len)
        per_wan.append((t, p, outcome, d))
        if ev == "syn":
            log.append((t, svc.key, p[IP].src, p[TCP].sport, " ".join(before), NAME[d.addr] if d else "-"))
    return D, per_wan, log


def choices(log):
    """{service key: "X Y Z | U V"} from the model's log (the phase separator at t >= 30)."""
    out = {}
    for t, key, _, _, _, who in log:
        seq = out.setdefault(key, [[], []])
        seq[t >= g.PHASES[1]].append(who)
    return {k: " ".join(a) + " | " + " ".join(b) for k, (a, b) in out.items()}


def check(out):
    ok = Checker()
    D, per_wan, log = predict()

    # ---- 1. the model gives the reviewed choices ----
    got = choices(log)
    ok(set(got) == set(EXPECT), f"services with connections {sorted(got)}")
    for key in EXPECT:
        ok(got[key] == EXPECT[key], f"{key}: model chooses {got[key]!r}, EXPECT says {EXPECT[key]!r}")
    # The model expires a conn before a packet at the same instant; make sure that never matters.
    times = [t for t, *_ in per_wan]
    ok(all(abs(dl - t) > 1e-3 for dl in D.deadlines for t in times), "a conn timer ends on a packet's time")
    twos = next(s for s in D.services if s.key == "twos").sched
    ok(twos.draws == TWOS_DRAWS, f"twos draws {twos.draws}")

    # ---- 2. every frame ----
    wan, lan = read(out, "wan"), read(out, "lan")
    want_wan, want_lan = [], []
    for t, p, outcome, d in per_wan:
        if outcome == "arp":
            cl = p[ARP].psrc
            want_wan.append((t, f"ARP reply to {cl}", lambda q, cl=cl, p=p: ARP in q and q[ARP].op == 2
                             and q[ARP].psrc == p[ARP].pdst and q[ARP].hwsrc == g.R_WAN and q[ARP].pdst == cl
                             and q[Ether].src == g.R_WAN and q[Ether].dst == g.CLIENT_MAC[cl]))
            continue
        key = SERVICE_KEY[(p[IP].dst, p[TCP].dport)]
        what = f"{key} {p[IP].src}:{p[TCP].sport} {p[TCP].flags}"
        if outcome == "fwd":
            def dnat(q, p=p, d=d):
                return (TCP in q and q[Ether].src == g.R_LAN and q[Ether].dst == g.REALS[d.addr]
                        and q[IP].src == p[IP].src and q[IP].dst == d.addr and q[IP].ttl == p[IP].ttl - 1
                        and q[IP].id == p[IP].id and q[IP].len == p[IP].len
                        and q[TCP].sport == p[TCP].sport and q[TCP].dport == g.RPORT
                        and q[TCP].flags == p[TCP].flags and q[TCP].seq == p[TCP].seq
                        and q[TCP].ack == p[TCP].ack and ipv4_checksum_ok(q))
            want_lan.append((t, f"{what} DNATed to {NAME[d.addr]} {d.addr}:{g.RPORT}", dnat))
        elif outcome == "nodest":
            def unreach(q, p=p):
                return (ICMP in q and q[Ether].src == g.R_WAN and q[Ether].dst == g.CLIENT_MAC[p[IP].src]
                        and q[IP].src == p[IP].dst and q[IP].dst == p[IP].src
                        and q[ICMP].type == 3 and q[ICMP].code == 3
                        and q[IPerror].src == p[IP].src and q[IPerror].dst == p[IP].dst
                        and q[TCPerror].sport == p[TCP].sport and q[TCPerror].dport == p[TCP].dport
                        and ipv4_checksum_ok(q))
            want_wan.append((t, f"{what}: no real, ICMP port unreachable from {p[IP].dst}", unreach))
        else:
            ok(False, f"gen.py: {what} belongs to no connection")
    for p in read(os.path.join(HERE, "in"), "lan"):
        real = p[ARP].psrc
        want_lan.append((rel(p, g.T0), f"ARP reply to {real}", lambda q, real=real: ARP in q and q[ARP].op == 2
                         and q[ARP].psrc == g.LAN_IP and q[ARP].hwsrc == g.R_LAN and q[ARP].pdst == real
                         and q[Ether].dst == g.REALS[real]))
    ok.frames("wan", wan, want_wan, g.T0)
    ok.frames("lan", lan, want_lan, g.T0)

    # ---- 3. list.txt ----
    L = Listing(out)
    end = max(t for t, *_ in per_wan)  # no --advance: the replay ends at the last record
    D.expire(end)
    for s in D.services:
        name = f"TCP {s.vip}:{s.port}"
        pk = sum(d.inpkts for d in s.dests)
        by = sum(d.inbytes for d in s.dests)
        ok(L.services.get(("TCP", f"{s.vip}:{s.port}")) == [s.conns, pk, 0, by, 0],
           f"{name} stats {L.services.get(('TCP', f'{s.vip}:{s.port}'))}, expected {[s.conns, pk, 0, by, 0]}")
        for d in s.dests:
            row = L.reals.get(("TCP", f"{s.vip}:{s.port}", f"{d.addr}:{d.port}"))
            ok(row == [d.conns, d.inpkts, 0, d.inbytes, 0],
               f"{s.key} real {NAME[d.addr]} stats {row}, expected {[d.conns, d.inpkts, 0, d.inbytes, 0]}")
    nodest = sum(1 for *_, o, _ in per_wan if o == "nodest")
    fwd = sum(1 for *_, o, _ in per_wan if o == "fwd")
    ok(L.drops == {"vs_no_real": nodest, "total": nodest}, f"drops {L.drops}, expected {nodest} vs_no_real")
    ok(L.events["icmp_errors_sent"] == nodest and L.events["forwarded"] == fwd
       and L.events["arp_replies_sent"] == len(g.REALS) + len(g.CLIENTS_ALL) and L.events["arp_requests_sent"] == 0,
       f"events {L.events}")
    ok(L.events["connections_in_table"] == len(D.conns), f"{L.events['connections_in_table']} connections, "
       f"expected {len(D.conns)}")

    def ipkey(a):
        return tuple(int(x) for x in a.split("."))
    rows = sorted(D.conns.items(), key=lambda kv: (ipkey(kv[0][0]), kv[0][1], ipkey(kv[0][2]), kv[0][3]))
    want = [["TCP", mmss_left(c["deadline"], end), c["state"], f"{ca}:{cp}", f"{va}:{vp}",
             f"{c['dest'].addr}:{c['dest'].port}"] for (ca, cp, va, vp), c in rows]
    ok(L.conns == want, "-Lnc rows differ: " + "; ".join(
        f"got {a} want {b}" for a, b in zip(L.conns, want) if a != b)[:2000])
    return ok.n


if __name__ == "__main__":
    D, per_wan, log = predict()
    cur = None
    for t, key, src, sport, before, who in log:
        if key != cur:
            print(f"== {key}")
            cur = key
        print(f"  {t:7.2f} {src}:{sport:<5} [{before}] -> {who}")
    for k, v in choices(log).items():
        print(f'    "{k}": "{v}",')

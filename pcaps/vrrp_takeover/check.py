"""Semantic checks of the VRRP takeover case, from RFC 3768 / RFC 5798 and keepalived's rules
(docs/vrrp.md), not from the output. The backup's timer, the takeover, the adverts, the gratuitous
ARPs and the yield are worked out by a small model of the rules from gen.py's adverts, then
compared with what left on wan and lan (time to the microsecond, each advert's bytes, the GARPs'
form), with the "VRRP events" and the instance's line of list.txt, and with the drops."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, inet_checksum, load_gen, read, ttl_decremented  # noqa: E402
from vrrp_case import Instance, advert_ok, garp_ok, run, vrrp_event  # noqa: E402
from scapy.all import ARP, IP, TCP, Ether  # noqa: E402

g = load_gen(HERE)


def model():
    """VI_1 driven by the peer's accepted adverts (the refused ones change nothing)."""
    vi = Instance("VI_1", g.PRIORITY, g.ADVERT_INT, g.GARP_REPEAT, g.GARP_DELAY, g.WAN_IP)
    run([vi], [(at, vi, prio, g.PEER) for at, prio in g.PEER_ADVERTS], g.END)
    return vi


def check(out):
    ok = Checker()
    wan, lan = read(out, "wan"), read(out, "lan")
    listing = Listing(out)
    vi = model()

    # ---- The rules' own consequences for this timeline (so a change of gen.py is noticed) ----
    mdi = 3 * g.ADVERT_INT + (256 - g.PRIORITY) / 256
    ok(mdi == 3.609375, "Master_Down_Interval of priority 100, advert_int 1: 3 + 156/256 = 3.609375 s")
    last_before = max(at for at, p in g.PEER_ADVERTS if at < 7)
    takeover = round(last_before + mdi, 6)
    ok([e[:4] for e in vi.events] == [(0.0, "INIT", "BACKUP", "start"), (takeover, "BACKUP", "MASTER", "master_down"),
                                      (13.3, "MASTER", "BACKUP", "higher_priority")],
       f"the model: backup, master at {takeover} (no advert since {last_before}), backup at 13.3 {vi.events}")
    backup_refused = [at for at, _, _, _ in g.REFUSED if at < takeover]
    ok(backup_refused and all(last_before < at for at in backup_refused),
       "refused adverts come after the last advert before the takeover (had one been taken, it would move)")
    ok(all(vi.state_at(at) == "MASTER" for at, _, _, _ in g.REFUSED if at > takeover),
       "the others reach a master (priority 200: had one been taken, we would have yielded)")
    ok(vi.adverts == [takeover, round(takeover + 1, 6), round(takeover + 2, 6), 10.5, 11.5, 12.5, 13.3],
       f"adverts at the takeover, every second, at once for the priority 0 at 10.5, then every second, and one"
       f" when yielding at 13.3 (higher_prio_send_advert): {vi.adverts}")
    ok(vi.garps == [takeover, round(takeover + g.GARP_DELAY, 6)], f"GARP bursts at {vi.garps}")

    def master_at(t):
        return vi.state_at(t) == "MASTER"

    # ---- wan: adverts, GARPs, and the ARP answers while master; nothing else ----
    want = []
    for at in vi.adverts:
        want.append((at, f"advert, priority {g.PRIORITY}",
                     lambda p: advert_ok(p, g.R_WAN, g.WAN_IP, g.VRID, g.PRIORITY, g.ADVERT_INT, [g.VIP])))
    for at in vi.garps:
        for _ in range(g.GARP_REPEAT):
            want.append((at, f"gratuitous ARP for {g.VIP}", lambda p: garp_ok(p, g.R_WAN, g.VIP)))
    for at in g.ARP_ASKS:
        if master_at(at):
            want.append((at, "ARP reply: the VIP is at our wan MAC",
                         lambda p: ARP in p and p[ARP].op == 2 and p[ARP].psrc == g.VIP and p[ARP].hwsrc == g.R_WAN
                         and p[ARP].pdst == g.CLIENT and p[ARP].hwdst == g.CLIENT_MAC and p[Ether].dst == g.CLIENT_MAC
                         and p[Ether].src == g.R_WAN))
    ok.frames("wan", wan, want, g.T0)
    answered = [at for at in g.ARP_ASKS if master_at(at)]
    ok(answered == [9.0], f"ARP for the VIP answered only while master: {answered}")

    # ---- lan: the SYNs sent while master reach R (DR), the others are dropped ----
    in_wan = read(os.path.join(HERE, "in"), "wan")
    syn_in = {p[TCP].sport: p for p in in_wan if TCP in p}
    want = []
    for at, cport in g.SYNS:
        if not master_at(at):
            continue
        want.append((at, f"who-has {g.REAL}", lambda p: ARP in p and p[ARP].op == 1 and p[ARP].pdst == g.REAL
                     and p[ARP].psrc == g.LAN_IP and p[ARP].hwsrc == g.R_LAN and p[Ether].dst == g.BCAST))
        want.append((round(at + g.REAL_ARP_ANSWER, 6), f"SYN {cport} to R, unchanged but TTL (DR)",
                     lambda p, q=syn_in[cport]: IP in p and p[Ether].dst == g.REAL_MAC and p[Ether].src == g.R_LAN
                     and bytes(p[IP]) == ttl_decremented(q[IP])))
    ok.frames("lan", lan, want, g.T0)

    # ---- drops: the backup's silence, and each refused advert with its reason ----
    backup_asks = sum(1 for at in g.ARP_ASKS if not master_at(at)) + sum(1 for at, _ in g.SYNS if not master_at(at))
    ok(backup_asks == 4, "two ARP requests and two SYNs reach a backup")
    ok(listing.drops.get("vrrp_backup") == backup_asks, f"vrrp_backup drops: {listing.drops.get('vrrp_backup')}")
    for reason in sorted({r for _, _, r, _ in g.REFUSED}):
        n = sum(1 for _, _, r, _ in g.REFUSED if r == reason)
        ok(listing.drops.get(reason) == n, f"{reason}: {listing.drops.get(reason)} drops, expected {n}")
    ok(listing.drops.get("total") == backup_asks + len(g.REFUSED), f"no other drop: {listing.drops}")
    # The refused adverts are valid but for the one field each breaks.
    for at, what, _, kw in g.REFUSED:
        b = g.advert_bytes(**{k: v for k, v in kw.items() if k != "ttl"})
        ok((inet_checksum(b) != 0) == kw.get("bad_checksum", False), f"refused advert at {at} ({what}): checksum")

    # ---- The listing: VRRP events, the instance's state and counters ----
    want_events = [vrrp_event(vi.name, e, g.PRIORITY) for e in vi.events]
    ok(listing.vrrp_events == want_events, f"VRRP events {listing.vrrp_events}, rules say {want_events}")
    inst = listing.vrrp.get("VI_1")
    ok(inst is not None and (inst["state"], inst["vrid"], inst["priority"], inst["version"], inst["interface"],
                             inst["addresses"]) == ("BACKUP", g.VRID, g.PRIORITY, g.VERSION, "wan", [g.VIP]),
       f"VI_1 listed {inst}")
    down_in = round(max(at for at, _ in g.PEER_ADVERTS) + mdi - g.END, 6)
    detail = (f"multicast {g.WAN_IP}, {len(vi.adverts)} adverts sent, {len(g.PEER_ADVERTS)} received, "
              f"master 1 times, master down in {down_in:.3f} s")
    ok(inst["detail"] == detail, f"VI_1: {inst['detail']!r}, expected {detail!r}")

    # ---- The one connection: the SYN forwarded while master ----
    fwd = [cport for at, cport in g.SYNS if master_at(at)]
    ok([c[3] for c in listing.conns] == [f"{g.CLIENT}:{p}" for p in fwd], f"connections {listing.conns}")
    ok(all(c[5] == f"{g.REAL}:{g.VPORT}" and c[2] == "SYN_RECV" for c in listing.conns), "to R, SYN_RECV")
    return ok.n

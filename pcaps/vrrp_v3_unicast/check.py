"""Semantic checks of the VRRP version 3 unicast case, from RFC 5798 and keepalived's rules
(docs/vrrp.md), not from the output. VI_1 is driven by a model of the rules (pcaps/_lib/vrrp_case.py)
from gen.py's adverts: preemption of a lower priority, the interval learnt from the master it
follows, Skew_Time after a priority 0. What left on wan (time to the microsecond, each advert's
bytes with the version 3 pseudo-header checksum, unicast to the peer from the VMAC, the GARPs and
ARP answers from the VMAC, only while master) is compared with it, and so are the "VRRP events",
the instance's line and the drops."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, inet_checksum, load_gen, read  # noqa: E402
from vrrp_case import Instance, advert_v3_ok, frames_any_order, garp_ok, pseudo_header, run, vrrp_event  # noqa: E402
from scapy.all import ARP, IP, Ether  # noqa: E402

g = load_gen(HERE)


def model():
    vi = Instance("VI_1", g.PRIORITY, g.ADVERT_INT, g.GARP_REPEAT, g.GARP_DELAY, g.WAN_IP, version=3)
    run([vi], [(at, vi, prio, g.PEER, g.PEER_CS / 100) for at, prio, _ in g.PEER_ADVERTS], g.END)
    return vi


def check(out):
    ok = Checker()
    wan, lan = read(out, "wan"), read(out, "lan")
    listing = Listing(out)
    vi = model()

    # ---- The rules' own consequences for this timeline (so a change of gen.py is noticed) ----
    ok(g.ADVERT_CS == round(g.ADVERT_INT * 100), "advert_int 0.5 s: 50 centiseconds in our adverts")
    first = round(3 * g.ADVERT_INT + (256 - g.PRIORITY) * g.ADVERT_INT / 256, 6)
    ok(first == 1.609375, "version 3, our own interval until a master is followed: 1.5 + 56 * 0.5 / 256 = 1.609375")
    ok(all(p < g.PRIORITY for at, p, _ in g.PEER_ADVERTS if at < first),
       "P's adverts before then are of a lower priority: discarded, the timer is not restarted (preemption)")
    resign = [at for at, p, _ in g.PEER_ADVERTS if p == 0]
    skew = (256 - g.PRIORITY) * (g.PEER_CS / 100) / 256
    ok(skew == 0.21875, "Skew_Time with the learnt Master_Adver_Interval (1 s): 56/256 = 0.21875")
    second = round(resign[0] + skew, 6)
    ok([e[:4] for e in vi.events] == [(0.0, "INIT", "BACKUP", "start"), (first, "BACKUP", "MASTER", "master_down"),
                                      (7.0, "MASTER", "BACKUP", "higher_priority"),
                                      (second, "BACKUP", "MASTER", "master_down")],
       f"the model: master at {first}, backup at 7.0, master at {second} after the priority 0: {vi.events}")
    ok(vi.garps == [first, round(first + g.GARP_DELAY, 6), second, round(second + g.GARP_DELAY, 6)]
       and vi.garps[1] < 7.0, f"GARP bursts at {vi.garps} (the first master's second burst before it yields)")
    # The advert at 7.0 carries the version 3 checksum without the pseudo-header; it is taken all the same.
    in_wan = read(os.path.join(HERE, "in"), "wan")
    peer_v3 = [p for p in in_wan if IP in p and p[IP].src == g.PEER and bytes(p[IP].payload)[0] == 0x31]
    forms = [inet_checksum(pseudo_header(g.PEER, g.WAN_IP, len(bytes(p[IP].payload))) + bytes(p[IP].payload)) == 0
             for p in peer_v3]
    ok(forms == [pseudo for _, _, pseudo in g.PEER_ADVERTS], "P's checksums: with the pseudo-header but at 7.0")

    def master_at(t):
        return vi.state_at(t) == "MASTER"

    # ---- wan: P's ARP answered; adverts to P from the VMAC; GARPs and ARP answers from the VMAC ----
    want = [(g.PEER_ARP, f"ARP reply: {g.WAN_IP} at our interface MAC",
             lambda p: ARP in p and p[ARP].op == 2 and p[ARP].psrc == g.WAN_IP and p[ARP].hwsrc == g.R_WAN
             and p[ARP].pdst == g.PEER and p[Ether].dst == g.PEER_MAC and p[Ether].src == g.R_WAN)]
    for at in vi.adverts:
        want.append((at, "advert to P", lambda p: advert_v3_ok(p, g.VMAC, g.PEER_MAC, g.WAN_IP, g.PEER, g.VRID,
                                                               g.PRIORITY, g.ADVERT_CS, [g.VADDR])))
    for at in vi.garps:
        for _ in range(g.GARP_REPEAT):
            want.append((at, f"gratuitous ARP for {g.VADDR} from the VMAC", lambda p: garp_ok(p, g.VMAC, g.VADDR)))
    for at in g.ARP_ASKS:
        if master_at(at):
            want.append((at, "ARP reply: the address is at the VMAC",
                         lambda p: ARP in p and p[ARP].op == 2 and p[ARP].psrc == g.VADDR and p[ARP].hwsrc == g.VMAC
                         and p[ARP].pdst == g.CLIENT and p[Ether].dst == g.CLIENT_MAC and p[Ether].src == g.VMAC))
    frames_any_order(ok, "wan", wan, want, g.T0)
    ok([at for at in g.ARP_ASKS if master_at(at)] == [3.0, 9.5], "the address answered only while master")
    ok(lan == [], "nothing on lan")
    gaps = [round(b - a, 6) for a, b in zip(vi.adverts, vi.adverts[1:]) if a >= first and b < 7.0]
    ok(gaps and set(gaps) == {g.ADVERT_INT}, f"adverts every {g.ADVERT_INT} s while master: {gaps}")

    # ---- Drops ----
    backup_asks = sum(1 for at in g.ARP_ASKS if not master_at(at))
    want_drops = {"vrrp_backup": backup_asks}
    for _, _, reason in g.REFUSED:
        want_drops[reason] = want_drops.get(reason, 0) + 1
    want_drops["total"] = sum(want_drops.values())
    ok(listing.drops == want_drops, f"drops {listing.drops}, expected {want_drops}")

    # ---- The listing ----
    want_events = [vrrp_event(vi.name, e, g.PRIORITY) for e in vi.events]
    ok(listing.vrrp_events == want_events, f"VRRP events {listing.vrrp_events}, rules say {want_events}")
    inst = listing.vrrp.get("VI_1")
    ok(inst is not None and (inst["state"], inst["vrid"], inst["priority"], inst["version"], inst["interface"],
                             inst["addresses"]) == ("MASTER", g.VRID, g.PRIORITY, 3, "wan", [g.VADDR]),
       f"VI_1 listed {inst}")
    next_in = vi.advert_at - g.END  # the model's next advert, after the end
    detail = (f"unicast {g.WAN_IP}, {len(vi.adverts)} adverts sent, {len(g.PEER_ADVERTS)} received, "
              f"master 2 times, next advert in {next_in:.3f} s")
    ok(inst["detail"] == detail, f"VI_1: {inst['detail']!r}, expected {detail!r}")
    return ok.n

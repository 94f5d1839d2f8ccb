"""Semantic checks of the VRRP sync group case, from RFC 3768 / RFC 5798 and keepalived's rules
(docs/vrrp.md; keepalived vrrp.c vrrp_state_master_rx for a lower priority's advert), not from the
output. The two instances are driven by a model of the rules (pcaps/_lib/vrrp_case.py) from
gen.py's adverts; what left on wan and lan (time to the microsecond, each advert's bytes, the
GARPs' form, the answers for the gateway address and the NAT of the real's reply, only while
master) is compared with it, and so are the "VRRP events", the instances' lines and the drops."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Checker, Listing, load_gen, read  # noqa: E402
from vrrp_case import TRANSITIONS, Instance, advert_ok, frames_any_order, garp_ok, run, sync, vrrp_event  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP, Ether  # noqa: E402

g = load_gen(HERE)


def model():
    vis = {name: Instance(name, g.PRIORITY, g.ADVERT_INT, g.GARP_REPEAT, g.GARP_DELAY, ip, g.GARP_LOWER_REPEAT,
                          g.GARP_LOWER_DELAY) for name, (_, _, _, ip, _) in g.INSTANCES.items()}
    sync(*vis.values())
    run(list(vis.values()), [(at, vis[inst], prio, src) for at, inst, prio, src, _ in g.ADVERTS], g.END)
    return vis


def check(out):
    ok = Checker()
    out_frames = {"wan": read(out, "wan"), "lan": read(out, "lan")}
    listing = Listing(out)
    vis = model()
    wan_vi, lan_vi = vis["VI_WAN"], vis["VI_LAN"]

    # ---- The rules' own consequences for this timeline (so a change of gen.py is noticed) ----
    mdi = 3 * g.ADVERT_INT + (256 - g.PRIORITY) / 256
    takeover = round(max(t for t in g.P_TIMES if t < 5) + mdi, 6)
    ok(takeover == 5.909375, f"no advert from P after 2.3: Master_Down_Interval 3.609375 later, {takeover}")
    back = min(t for t in g.P_TIMES if t > takeover)
    for vi, first_cause in ((wan_vi, "start"), (lan_vi, "sync_group")):
        # Both timers fire at the takeover: VI_WAN's first (config order) finds VI_LAN not yet
        # wanting master and waits; VI_LAN's finds VI_WAN wanting it and takes the group over.
        own = "master_down" if vi is lan_vi else "sync_group"
        yield_cause = "higher_priority" if vi is wan_vi else "sync_group"
        want = [(0.0, "INIT", "BACKUP", first_cause), (takeover, "BACKUP", "MASTER", own),
                (back, "MASTER", "BACKUP", yield_cause)]
        ok([e[:4] for e in vi.events] == want, f"{vi.name} moves with its group: {vi.events}")
    q_at = [at for at, _, prio, _, _ in g.ADVERTS if prio < g.PRIORITY]
    ok(len(q_at) == 1 and wan_vi.state_at(q_at[0]) == "MASTER", "Q's lower priority advert reaches a master")
    q = q_at[0]
    on_old_timer = [round(takeover + k * g.ADVERT_INT, 6) for k in range(1, 20)]
    ok(q in wan_vi.adverts and round(q + g.ADVERT_INT, 6) in wan_vi.adverts
       and min(t for t in on_old_timer if t > q) not in wan_vi.adverts,
       "VI_WAN answers Q at once and restarts its advert timer")
    lower = [q, round(q + g.GARP_LOWER_DELAY, 6)]
    ok(wan_vi.garps_lower == lower and lan_vi.garps_lower == lower and lower[1] < back,
       f"after Q's advert: GARP bursts at {lower} (at once and garp_lower_prio_delay later), from both members")
    ok(wan_vi.garps == lan_vi.garps == [takeover, round(takeover + g.GARP_DELAY, 6)],
       "the takeover's two GARP bursts, on each interface")

    def master_at(t):
        return lan_vi.state_at(t) == "MASTER"

    # ---- Each interface: its instance's adverts and GARPs, and the answers while master ----
    in_lan = read(os.path.join(HERE, "in"), "lan")
    in_wan = read(os.path.join(HERE, "in"), "wan")
    want = {"wan": [], "lan": []}
    for name, vi in vis.items():
        iface, vrid, addrs, ip, mac = g.INSTANCES[name]
        for at in vi.adverts:
            want[iface].append((at, f"{name} advert",
                                lambda p, mac=mac, ip=ip, vrid=vrid, addrs=addrs:
                                advert_ok(p, mac, ip, vrid, g.PRIORITY, g.ADVERT_INT, addrs)))
        bursts = [(at, g.GARP_REPEAT, "") for at in vi.garps] + [(at, g.GARP_LOWER_REPEAT, " (lower priority heard)")
                                                                 for at in vi.garps_lower]
        for at, n, why in bursts:
            for _ in range(n):
                for a in addrs:
                    want[iface].append((at, f"{name} gratuitous ARP for {a}{why}",
                                        lambda p, mac=mac, a=a: garp_ok(p, mac, a)))
    # The gateway address: ARP and ping answered while master, with our lan MAC.
    for at in g.GW_ARPS:
        if master_at(at):
            want["lan"].append((at, f"ARP reply: {g.GW} is at our lan MAC",
                                lambda p: ARP in p and p[ARP].op == 2 and p[ARP].psrc == g.GW and p[ARP].hwsrc == g.R_LAN
                                and p[ARP].pdst == g.A and p[Ether].dst == g.A_MAC and p[Ether].src == g.R_LAN))
    pings = {p[ICMP].seq: p for p in in_lan if ICMP in p}
    for i, at in enumerate(g.GW_PINGS):
        if master_at(at):
            want["lan"].append((at, f"echo reply from {g.GW}",
                                lambda p, q=pings[i + 1]: ICMP in p and p[ICMP].type == 0 and p[IP].src == g.GW
                                and p[IP].dst == g.A and p[ICMP].id == q[ICMP].id and p[ICMP].seq == q[ICMP].seq
                                and bytes(p[ICMP].payload) == bytes(q[ICMP].payload) and p[Ether].dst == g.A_MAC))
    for at in g.VIP_ARPS:
        if master_at(at):
            want["wan"].append((at, "ARP reply: the VIP is at our wan MAC",
                                lambda p: ARP in p and p[ARP].op == 2 and p[ARP].psrc == g.VIP and p[ARP].hwsrc == g.R_WAN
                                and p[ARP].pdst == g.CLIENT and p[Ether].dst == g.CLIENT_MAC))
    # NAT: the client's SYN to A while master (DNAT), A's SYN-ACK through its gateway (SNAT).
    syn_in = {p[TCP].sport: p for p in in_wan if TCP in p}
    for at, cport in g.SYNS:
        if master_at(at):
            want["lan"].append((at, f"SYN {cport} DNATed to A",
                                lambda p, q=syn_in[cport]: TCP in p and p[IP].src == g.CLIENT and p[IP].dst == g.A
                                and p[TCP].dport == g.RPORT and p[TCP].sport == q[TCP].sport and p[TCP].seq == q[TCP].seq
                                and p[IP].ttl == q[IP].ttl - 1 and p[Ether].dst == g.A_MAC and p[Ether].src == g.R_LAN))
    for at, cport in g.SYN_ACKS:
        ok(master_at(at), f"A's SYN-ACK at {at} reaches a master")
        want["wan"].append((at, f"A's SYN-ACK SNATed to {g.VIP}:{g.VPORT}",
                            lambda p, c=cport: TCP in p and p[TCP].flags == "SA" and p[IP].src == g.VIP
                            and p[TCP].sport == g.VPORT and p[IP].dst == g.CLIENT and p[TCP].dport == c
                            and p[IP].ttl == 63 and p[Ether].dst == g.CLIENT_MAC and p[Ether].src == g.R_WAN))
    for iface in ("wan", "lan"):
        frames_any_order(ok, iface, out_frames[iface], want[iface], g.T0)

    # ---- Drops: everything sent to the addresses while backup ----
    backup = ([at for at in g.GW_ARPS + g.GW_PINGS + g.VIP_ARPS if not master_at(at)] +
              [at for at, _ in g.SYNS if not master_at(at)])
    ok(len(backup) == 6, f"six frames reach a backup: {backup}")
    ok(listing.drops.get("vrrp_backup") == len(backup), f"vrrp_backup drops: {listing.drops.get('vrrp_backup')}")
    ok(listing.drops.get("total") == len(backup), f"no other drop: {listing.drops}")

    # ---- The listing: VRRP events in order, the instances' states and counters ----
    names = list(vis)
    events = [(vi.events[n], names.index(vi.name)) for vi, n in TRANSITIONS]
    want_events = [vrrp_event(names[k], e, g.PRIORITY) for e, k in events]
    ok(listing.vrrp_events == want_events, f"VRRP events {listing.vrrp_events}, rules say {want_events}")
    for name, vi in vis.items():
        iface, vrid, addrs, ip, _ = g.INSTANCES[name]
        inst = listing.vrrp.get(name)
        ok(inst is not None and (inst["state"], inst["vrid"], inst["priority"], inst["version"], inst["interface"],
                                 inst["addresses"]) == ("BACKUP", vrid, g.PRIORITY, 2, iface, addrs),
           f"{name} listed {inst}")
        received = sum(1 for _, i, _, _, _ in g.ADVERTS if i == name)
        down_in = round(max(g.P_TIMES) + mdi - g.END, 6)
        detail = (f"multicast {ip}, {len(vi.adverts)} adverts sent, {received} received, master 1 times, "
                  f"master down in {down_in:.3f} s")
        ok(inst["detail"] == detail, f"{name}: {inst['detail']!r}, expected {detail!r}")

    # ---- The connection made while master ----
    fwd = [cport for at, cport in g.SYNS if master_at(at)]
    ok([c[3] for c in listing.conns] == [f"{g.CLIENT}:{p}" for p in fwd], f"connections {listing.conns}")
    ok(all(c[5] == f"{g.A}:{g.RPORT}" for c in listing.conns), "to A")
    return ok.n

#!/usr/bin/python3
"""Inputs of the VRRP takeover case: adverts in, state changes and gratuitous ARPs out. check.py
asserts what vsrouter must do, from RFC 3768 / RFC 5798 and keepalived's rules (docs/vrrp.md).

wan: 203.0.113.1/24 (02:00:00:00:00:01); VIP 203.0.113.100:80 (rr), one DR real
     R = 10.1.0.11 (02:00:00:00:aa:11) on lan 10.1.0.1/24 (02:00:00:00:00:02).
     VRRP VI_1 on wan: VRID 51, version 2, advert_int 1, priority 100, no authentication,
     virtual_ipaddress the VIP; garp_master_repeat 5 and garp_master_delay 5 (the defaults).
     The peer director P = 203.0.113.2 (02:00:00:00:00:f2), priority 150, sends its adverts to
     224.0.0.18 (01:00:5e:00:00:12), TTL 255. The client C = 203.0.113.50 (02:00:00:00:cc:50).

Times are seconds after T0 (the replay's --start). Master_Down_Interval = 3 * 1 + (256 - 100) / 256
= 3.609375 s; Skew_Time 0.609375 s.
  t=0        VI_1 starts: INIT -> BACKUP (start); its Master_Down timer: 3.609375.
  0.2 .. 4.2 P's adverts (priority 150) every second: each restarts the timer; we send nothing.
  2.5, 2.6   C asks who has the VIP, then SYNs to VIP:80: a backup neither answers nor forwards
             (two vrrp_backup drops).
  5.0, 5.1, 5.2  refused adverts from P, all priority 150 (taken, each would restart the timer):
             a bad checksum (vrrp_bad_checksum), IP TTL 254 (vrrp_bad_ttl), VRID 52 (vrrp_other_vrid).
  7.809375   4.2 + 3.609375: no advert since: BACKUP -> MASTER (master_down). One advert at once,
             5 gratuitous ARPs for the VIP at once and 5 more at 12.809375; adverts every second.
  9.0, 9.1   C asks for the VIP: answered with our wan MAC; C's SYN goes to R (DR: who-has R on lan,
             R's answer at 9.101, the SYN leaves then, TTL one less).
  10.5       P sends a priority 0 advert (it resigns): a master answers with an advert at once and
             restarts its advert timer (RFC 5798 §6.4.3): adverts at 11.5, 12.5.
  11.0, 11.1 refused adverts, priority 200 (taken, they would make us yield): authentication PASS
             (ours has none), advert interval 2 (ours is 1): both vrrp_mismatch.
  13.3       P's advert, priority 150 > 100: MASTER -> BACKUP at once (higher_priority 203.0.113.2);
             our adverts stop. P's adverts go on at 14.3, 15.3 (the timer: 15.3 + 3.609375).
  15.5, 15.6 C asks for the VIP and SYNs again: dropped (vrrp_backup), as before the takeover.
The replay ends at t=16 (args: --start T0 --advance 0.4 after the last frame at 15.6).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
import vrrp_case  # noqa: E402
from scapy.all import ARP, IP, TCP, Ether  # noqa: E402

T0 = 1700000000.0
END = 16.0
R_WAN, R_LAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
WAN_IP, LAN_IP = "203.0.113.1", "10.1.0.1"
VIP, VPORT = "203.0.113.100", 80
REAL, REAL_MAC = "10.1.0.11", "02:00:00:00:aa:11"
CLIENT, CLIENT_MAC = "203.0.113.50", "02:00:00:00:cc:50"
PEER, PEER_MAC = "203.0.113.2", "02:00:00:00:00:f2"
BCAST = "ff:ff:ff:ff:ff:ff"
GROUP, GROUP_MAC = "224.0.0.18", "01:00:5e:00:00:12"

# VI_1 (vsrouter.toml) and the keepalived defaults it keeps.
VRID, PRIORITY, ADVERT_INT, VERSION = 51, 100, 1, 2
GARP_REPEAT, GARP_DELAY = 5, 5.0
PEER_PRIORITY = 150

# P's adverts: (time, priority); the refused ones: (time, what, drop reason, advert keywords).
PEER_ADVERTS = [(0.2, 150), (1.2, 150), (2.2, 150), (3.2, 150), (4.2, 150), (10.5, 0), (13.3, 150), (14.3, 150),
                (15.3, 150)]
REFUSED = [
    (5.0, "bad checksum", "vrrp_bad_checksum", dict(priority=150, bad_checksum=True)),
    (5.1, "IP TTL 254", "vrrp_bad_ttl", dict(priority=150, ttl=254)),
    (5.2, "VRID 52", "vrrp_other_vrid", dict(priority=150, vrid=52)),
    (11.0, "authentication PASS", "vrrp_mismatch", dict(priority=200, auth_type=1, auth=b"secret")),
    (11.1, "advert interval 2", "vrrp_mismatch", dict(priority=200, adv=2)),
]
ARP_ASKS = [2.5, 9.0, 15.5]                  # C: who has the VIP?
SYNS = [(2.6, 40001), (9.1, 40002), (15.6, 40003)]  # C's SYNs to VIP:80
REAL_ARP_ANSWER = 0.001                      # R answers our who-has this long after it


def advert_bytes(vrid=VRID, priority=PEER_PRIORITY, addrs=(VIP,), **kw):
    """P's advert (VRRP version 2), a field broken on demand (kw: vrrp_case.advert_bytes')."""
    return vrrp_case.advert_bytes(vrid, priority, addrs, **kw)


def advert(vrid=VRID, priority=PEER_PRIORITY, ttl=255, **kw):
    return vrrp_case.advert(PEER, PEER_MAC, vrid, priority, (VIP,), ttl=ttl, **kw)


def build():
    t = Trace(HERE)
    w = lambda dt, p: t.add("wan", T0 + dt, p)  # noqa: E731
    ln = lambda dt, p: t.add("lan", T0 + dt, p)  # noqa: E731
    frames = []
    for at, prio in PEER_ADVERTS:
        frames.append((at, "wan", advert(priority=prio)))
    for at, _, _, kw in REFUSED:
        frames.append((at, "wan", advert(**kw)))
    for at in ARP_ASKS:
        frames.append((at, "wan", Ether(src=CLIENT_MAC, dst=BCAST) / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=VIP)))
    for i, (at, cport) in enumerate(SYNS):
        frames.append((at, "wan", Ether(src=CLIENT_MAC, dst=R_WAN) / IP(src=CLIENT, dst=VIP, id=i + 1) /
                       TCP(sport=cport, dport=VPORT, flags="S", seq=1000 * (i + 1), window=64240)))
    # R answers the who-has we send for it when C's SYN is forwarded (the one at 9.1).
    frames.append((9.1 + REAL_ARP_ANSWER, "lan", Ether(src=REAL_MAC, dst=R_LAN) /
                   ARP(op=2, hwsrc=REAL_MAC, psrc=REAL, hwdst=R_LAN, pdst=LAN_IP)))
    for at, iface, p in sorted(frames, key=lambda f: f[0]):
        (w if iface == "wan" else ln)(at, p)
    t.write()
    last = max(f[0] for f in frames)
    with open(os.path.join(HERE, "args"), "w") as f:
        f.write(f"--start {int(T0)} --advance {END - last:.6f}\n")


if __name__ == "__main__":
    build()

#!/usr/bin/python3
"""Inputs of the VRRP version 3 unicast case: preemption, learning the master's interval, Skew_Time
after a resignation. check.py asserts what vsrouter must do, from RFC 5798 and keepalived's rules
(docs/vrrp.md).

wan: 203.0.113.1/24 (02:00:00:00:00:01). VRRP VI_1 on wan: VRID 60, version 3, advert_int 0.5 s
     (50 centiseconds), priority 200, use_vmac (00:00:5e:00:01:3c), unicast_peer 203.0.113.2,
     virtual_ipaddress 203.0.113.100 (no service's VIP: a router address while master),
     garp_master_repeat 5, garp_master_delay 5 (the defaults).
     The peer P = 203.0.113.2 (02:00:00:00:00:f2) sends version 3 adverts by unicast to
     203.0.113.1, Max Adver Int 1 s (100 cs), checksum over the IPv4 pseudo-header (keepalived's)
     unless said. S = 203.0.113.9 (02:00:00:00:00:f9) is no peer of ours. The client
     C = 203.0.113.50 (02:00:00:00:cc:50).
lan: 10.1.0.1/24: nothing happens there.

Times are seconds after T0 (the replay's --start). Version 3: Skew_Time = (256 - 200) *
Master_Adver_Interval / 256, Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time; until a
master is followed, Master_Adver_Interval is ours (0.5 s): 0.109375 and 1.609375 s.
  t=0        VI_1 starts: INIT -> BACKUP (start); Master_Down timer 1.609375.
  0.1        P asks who has 203.0.113.1: answered (P's MAC learnt, for our unicast adverts).
  0.2, 1.2   P's adverts, priority 100 < 200: discarded (we preempt): the timer runs on.
  0.5        C asks for 203.0.113.100: a backup does not answer (vrrp_backup).
  1.609375   BACKUP -> MASTER (master_down): an advert at once to P (to P's MAC, from the VMAC),
             5 GARPs from the VMAC, 5 more at 6.609375, adverts every 0.5 s.
  3.0        C asks for 203.0.113.100: answered with the VMAC.
  3.5        S's advert (priority 250): refused, no unicast_peer of ours (vrrp_foreign_peer).
  3.6        P's version 2 advert (priority 250): refused (vrrp_mismatch).
  7.0        P's advert, priority 250, its checksum without the pseudo-header (accepted: either form):
             MASTER -> BACKUP (higher_priority 203.0.113.2); Master_Adver_Interval learnt: 1 s, so
             Skew_Time 0.21875 and Master_Down_Interval 3.21875.
  8.0        P's advert, priority 250: the timer restarts (11.21875).
  8.5        P resigns (priority 0): master after Skew_Time, at 8.71875 (master_down): an advert,
             5 GARPs, 5 more at 13.71875, adverts every 0.5 s (ours: 50 cs).
  9.5        C asks for 203.0.113.100: answered with the VMAC.
The replay ends at t=14 (args: --start T0 --advance 4.5 after the last frame at 9.5).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from vrrp_case import advert, advert_v3  # noqa: E402
from scapy.all import ARP, IP, Ether  # noqa: E402

T0 = 1700000000.0
END = 14.0
R_WAN = "02:00:00:00:00:01"
WAN_IP = "203.0.113.1"
VADDR = "203.0.113.100"
CLIENT, CLIENT_MAC = "203.0.113.50", "02:00:00:00:cc:50"
PEER, PEER_MAC = "203.0.113.2", "02:00:00:00:00:f2"
STRANGER, STRANGER_MAC = "203.0.113.9", "02:00:00:00:00:f9"
BCAST = "ff:ff:ff:ff:ff:ff"

# VI_1 (vsrouter.toml) and the keepalived defaults it keeps.
VRID, PRIORITY, ADVERT_INT, ADVERT_CS = 60, 200, 0.5, 50
VMAC = "00:00:5e:00:01:3c"  # 00:00:5e:00:01:VRID (RFC 5798 §7.3)
GARP_REPEAT, GARP_DELAY = 5, 5.0
PEER_CS = 100  # P's Max Adver Int

# P's accepted adverts: (time, priority, checksum with the pseudo-header).
PEER_ADVERTS = [(0.2, 100, True), (1.2, 100, True), (7.0, 250, False), (8.0, 250, True), (8.5, 0, True)]
# The refused ones: (time, what, drop reason).
REFUSED = [(3.5, "from S, no unicast_peer", "vrrp_foreign_peer"), (3.6, "version 2 from P", "vrrp_mismatch")]
ARP_ASKS = [0.5, 3.0, 9.5]  # C: who has 203.0.113.100?
PEER_ARP = 0.1              # P: who has 203.0.113.1?


def build():
    t = Trace(HERE)
    frames = [(PEER_ARP, Ether(src=PEER_MAC, dst=BCAST) / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER, pdst=WAN_IP))]
    for at, prio, pseudo in PEER_ADVERTS:
        frames.append((at, advert_v3(PEER, PEER_MAC, WAN_IP, R_WAN, VRID, prio, [VADDR], PEER_CS, pseudo)))
    frames.append((3.5, advert_v3(STRANGER, STRANGER_MAC, WAN_IP, R_WAN, VRID, 250, [VADDR], PEER_CS)))
    v2 = advert(PEER, PEER_MAC, VRID, 250, [VADDR])
    v2[Ether].dst, v2[IP].dst = R_WAN, WAN_IP  # unicast, like the others (its checksum has no pseudo-header)
    frames.append((3.6, v2))
    for at in ARP_ASKS:
        frames.append((at, Ether(src=CLIENT_MAC, dst=BCAST) / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=VADDR)))
    for at, p in sorted(frames, key=lambda f: f[0]):
        t.add("wan", T0 + at, p)
    t.write()
    last = max(f[0] for f in frames)
    with open(os.path.join(HERE, "args"), "w") as f:
        f.write(f"--start {int(T0)} --advance {END - last:.6f}\n")


if __name__ == "__main__":
    build()

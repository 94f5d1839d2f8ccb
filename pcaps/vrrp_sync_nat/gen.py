#!/usr/bin/python3
"""Inputs of the VRRP sync group case (a NAT director pair): adverts in, state changes, adverts and
gratuitous ARPs out on both interfaces. check.py asserts what vsrouter must do, from RFC 3768 /
RFC 5798 and keepalived's rules (docs/vrrp.md; keepalived vrrp.c vrrp_state_master_rx for a
lower priority's advert).

wan: 203.0.113.1/24 (02:00:00:00:00:01); VIP 203.0.113.100:80 (rr), one NAT real
     A = 10.1.0.11:8080 (02:00:00:00:aa:11), whose default gateway is 10.1.0.254.
lan: 10.1.0.1/24 (02:00:00:00:00:02).
VRRP, version 2, advert_int 1, priority 100, garp_master_repeat 5, garp_master_delay 5 (defaults;
     garp_lower_prio_repeat and garp_lower_prio_delay default to them):
     VI_WAN on wan, VRID 51, the VIP; VI_LAN on lan, VRID 52, the gateway 10.1.0.254; both in the
     sync group DIRECTOR.
The peer director P (priority 150 on both): 203.0.113.2 (02:00:00:00:00:f2) on wan,
     10.1.0.2 (02:00:00:00:01:f2) on lan. Q = 203.0.113.3 (02:00:00:00:00:f3): a third director
     of priority 50 on wan that became master without hearing us (a split brain).
The client C = 203.0.113.50 (02:00:00:00:cc:50).

Times are seconds after T0 (the replay's --start). Master_Down_Interval = 3 + 156/256 = 3.609375 s.
  t=0        both instances start: INIT -> BACKUP (VI_WAN: start; VI_LAN follows it: sync_group).
  0.3 .. 2.3 P's adverts on wan (VRID 51) and lan (VRID 52) every second; we send nothing.
  1.0, 1.2   A asks who has its gateway 10.1.0.254, then pings it: a backup neither answers
             (vrrp_backup, twice).
  1.5        C's SYN to VIP:80: dropped (vrrp_backup).
  5.909375   2.3 + 3.609375, P is gone: VI_WAN BACKUP -> MASTER (master_down), VI_LAN with it
             (sync_group). Each: an advert at once on its interface, 5 GARPs of its address at once
             and 5 again at 10.909375, then an advert every second.
  7.0, 7.2   A asks for 10.1.0.254: answered with our lan MAC (A's MAC learned); A's ping of it:
             answered.
  7.4, 7.5   C asks for the VIP: answered; C's SYN (40002): DNATed to A:8080.
  7.6        A's SYN-ACK to C through its gateway (to our lan MAC): SNATed to VIP:80, to C.
  9.0        Q's advert on wan, priority 50 < 100 while VI_WAN is master: VI_WAN answers with an
             advert at once and restarts its advert timer (10.0, 11.0, ...); VI_WAN sends 5 GARPs of
             the VIP at once and 5 at 14.0, and VI_LAN, its sync group's other member, 5 of
             10.1.0.254 at once and 5 at 14.0. Nobody changes state.
  10.909375  the takeover's second GARP bursts (garp_master_delay), with VI_LAN's advert due then:
             the lower priority's bursts run on their own timers (as keepalived's), not instead.
  17.0       P is back: its adverts (priority 150) on wan and lan (then 18.0): VI_WAN sends one
             advert of its own (higher_prio_send_advert) and goes MASTER -> BACKUP
             (higher_priority 203.0.113.2), VI_LAN with it (sync_group); our adverts stop on both
             interfaces (VI_WAN's last periodic one at 16.0, VI_LAN's at 16.909375).
  18.2, 18.3 A asks for 10.1.0.254 and pings it: dropped (vrrp_backup).
  18.5       C's SYN (40003): dropped (vrrp_backup).
The replay ends at t=19 (args: --start T0 --advance 0.5 after the last frame at 18.5).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from vrrp_case import advert  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP, Ether, Raw  # noqa: E402

T0 = 1700000000.0
END = 19.0
R_WAN, R_LAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
WAN_IP, LAN_IP = "203.0.113.1", "10.1.0.1"
VIP, VPORT = "203.0.113.100", 80
GW = "10.1.0.254"
A, A_MAC, RPORT = "10.1.0.11", "02:00:00:00:aa:11", 8080
CLIENT, CLIENT_MAC = "203.0.113.50", "02:00:00:00:cc:50"
P_WAN, P_WAN_MAC = "203.0.113.2", "02:00:00:00:00:f2"
P_LAN, P_LAN_MAC = "10.1.0.2", "02:00:00:00:01:f2"
Q, Q_MAC = "203.0.113.3", "02:00:00:00:00:f3"
BCAST = "ff:ff:ff:ff:ff:ff"

# The instances (vsrouter.toml), in config order: name -> (interface, VRID, addresses, our address, MAC).
INSTANCES = {"VI_WAN": ("wan", 51, [VIP], WAN_IP, R_WAN), "VI_LAN": ("lan", 52, [GW], LAN_IP, R_LAN)}
PRIORITY, ADVERT_INT, GARP_REPEAT, GARP_DELAY = 100, 1, 5, 5.0
GARP_LOWER_REPEAT, GARP_LOWER_DELAY = GARP_REPEAT, GARP_DELAY  # keepalived's defaults

# Adverts in: (time, instance they reach, priority, source, source MAC).
P_TIMES = [0.3, 1.3, 2.3, 17.0, 18.0]
ADVERTS = ([(t, "VI_WAN", 150, P_WAN, P_WAN_MAC) for t in P_TIMES] + [(t, "VI_LAN", 150, P_LAN, P_LAN_MAC) for t in P_TIMES]
           + [(9.0, "VI_WAN", 50, Q, Q_MAC)])
GW_ARPS = [1.0, 7.0, 18.2]    # A: who has 10.1.0.254?
GW_PINGS = [1.2, 7.2, 18.3]   # A pings 10.1.0.254
VIP_ARPS = [7.4]              # C: who has the VIP?
SYNS = [(1.5, 40001), (7.5, 40002), (18.5, 40003)]
SYN_ACKS = [(7.6, 40002)]     # A's answer, through its gateway


def build():
    t = Trace(HERE)
    frames = []
    for at, inst, prio, src, mac in ADVERTS:
        iface, vrid, addrs, _, _ = INSTANCES[inst]
        frames.append((at, iface, advert(src, mac, vrid, prio, addrs)))
    for at in GW_ARPS:
        frames.append((at, "lan", Ether(src=A_MAC, dst=BCAST) / ARP(op=1, hwsrc=A_MAC, psrc=A, pdst=GW)))
    for i, at in enumerate(GW_PINGS):
        # Always to our lan MAC: while we are backup, as from a stale ARP entry of A's.
        frames.append((at, "lan", Ether(src=A_MAC, dst=R_LAN) / IP(src=A, dst=GW, id=100 + i) /
                       ICMP(type=8, id=7, seq=i + 1) / Raw(b"gateway?")))
    for at in VIP_ARPS:
        frames.append((at, "wan", Ether(src=CLIENT_MAC, dst=BCAST) / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=VIP)))
    for i, (at, cport) in enumerate(SYNS):
        frames.append((at, "wan", Ether(src=CLIENT_MAC, dst=R_WAN) / IP(src=CLIENT, dst=VIP, id=i + 1) /
                       TCP(sport=cport, dport=VPORT, flags="S", seq=1000 * (i + 1), window=64240)))
    for at, cport in SYN_ACKS:
        i = [c for _, c in SYNS].index(cport)
        frames.append((at, "lan", Ether(src=A_MAC, dst=R_LAN) / IP(src=A, dst=CLIENT, id=500 + i) /
                       TCP(sport=RPORT, dport=cport, flags="SA", seq=9000, ack=1000 * (i + 1) + 1, window=65160)))
    for at, iface, p in sorted(frames, key=lambda f: f[0]):
        t.add(iface, T0 + at, p)
    t.write()
    last = max(f[0] for f in frames)
    with open(os.path.join(HERE, "args"), "w") as f:
        f.write(f"--start {int(T0)} --advance {END - last:.6f}\n")


if __name__ == "__main__":
    build()

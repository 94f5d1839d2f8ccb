#!/usr/bin/python3
"""Inputs of the schedulers case: a stream of new TCP connections to one service per IPVS
scheduler, so that every choice each scheduler makes is visible in the output (NAT: the forwarded
SYN's destination address is the chosen real). check.py predicts every choice with the Python
models of tests/sched_model.py (written from the kernel sources, not from vsrouter) and compares.

wan: 203.0.113.1/24 (02:00:00:00:00:01). VIP 203.0.113.100, one TCP port per service (7001..7016);
     a second VIP 203.0.113.101 for the second dh service. Clients 203.0.113.10..29
     (02:00:00:00:cc:<octet>) each ask for the VIP by ARP first, so the router knows their MAC
     when a SYN finds no real (ICMP port unreachable).
lan: 10.1.0.1/24 (02:00:00:00:00:02). NAT reals A..E = 10.1.0.11..15:8080 (02:00:00:00:aa:1<n>),
     each asks for its gateway by ARP first, so the router knows every real's MAC: no frame waits.

Every real is added in vsrouter.toml order at the HEAD of its service's list (ip_vs_ctl.c ip_vs_add_dest: list_add, newest first): the
kernel's list, and every "first in list" tie-break, is the reverse of the file order.

The client side only (no server replies): a SYN opens a connection (NONE -> SYN_RECV, counted
active), an ACK makes it ESTABLISHED (still active), an RST then closes it (ESTABLISHED -> CLOSE,
counted inactive; expires 10 s later, which unbinds it and may clear OVERLOAD). These are the
INPUT rows of the TCP table (ip_vs_proto_tcp.c), which is what the counters lc, wlc, sed, nq, ovf, lblc,
lblcr and twos read follow. The reals never answer: the director does not need them to.

Timeline: phase 1, service k's steps from t = 1 + 0.5 k (10 ms apart, all of phase 1 before
t = 9.5); phase 2 from t = 30 + 0.5 k, when every connection closed by an RST in phase 1 has
expired (t <= 19.5) and the SYN_RECV/ESTABLISHED ones are still there (60 s / 900 s).

Scripts: "S3" is connection 3's SYN, "A3" its ACK, "R3" its RST. Connection n of a service comes
from client CLIENTS[(n - 1) % len] with source port PORT_BASE + 100 k + n, unless the service's
`who` map names the client (and port) explicitly (sh and mh hash the client; see their notes).

dh, lblc and lblcr key on the packet's DESTINATION address. For a service (not fwmark) that is
always its one VIP, so: dh hashes the same bucket for every connection of a service (one real per
VIP, nothing else: it shows as "always the same real, and no real at all when that one is
unavailable", and a second dh service on another VIP lands on another bucket/real); lblc/lblcr
keep ONE cache entry (the VIP) shared by all clients, so they stick to a real until it is "busy"
(more active connections than its weight while some real is under half its weight), then
re-pick by weighted least-connection (lblcr grows the entry's set instead of replacing it).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, IP, TCP, Ether  # noqa: E402

R_WAN, R_LAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
WAN_IP, LAN_IP = "203.0.113.1", "10.1.0.1"
VIP, VIP2 = "203.0.113.100", "203.0.113.101"
RPORT = 8080
REALS = {f"10.1.0.{n}": f"02:00:00:00:aa:{n}" for n in range(11, 16)}  # A..E
NAMES = {f"10.1.0.{11 + i}": "ABCDE"[i] for i in range(5)}
CLIENTS_ALL = [f"203.0.113.{n}" for n in range(10, 30)]
CLIENT_MAC = {c: "02:00:00:00:cc:%02d" % int(c.split(".")[3]) for c in CLIENTS_ALL}
CLIENTS = CLIENTS_ALL[:6]  # the default rotation: 203.0.113.10..15
PORT_BASE = 20000
BCAST = "ff:ff:ff:ff:ff:ff"
T0 = 1700000000.0
PHASES = (1.0, 30.0)   # start of phase 1 and phase 2
BLOCK = 0.5            # seconds per service and phase
STEP = 0.01            # seconds between two steps


def c(octet):
    return f"203.0.113.{octet}"


# (key, vip, port, phase-1 script, phase-2 script, who). The reals, weights and thresholds are in
# vsrouter.toml (check.py reads them from there); the notes give the list order (newest first).
SERVICES = [
    # rr, list D(1) C(0) B(2, upper 2) A(1): C never (weight 0); B overloaded from its 2nd conn
    # (total >= 2) until one of its conns expires; conn 2 (B) is reset, so it expires at ~11 s.
    ("rr", VIP, 7001, "S1 S2 A2 R2 S3 S4 S5 S6 S7 S8", "S9 A9 S10 S11 S12", {}),
    # wrr, list D(0) C(2) B(3) A(4), added one by one (cw stays 1 until the first wrap).
    ("wrr", VIP, 7002, "S1 S2 S3 S4 S5 S6 S7 S8 S9 S10 S11 S12 S13 S14", "S15 S16 S17", {}),
    # lc, list E(5) D(1) C(0) B(3) A(1): weights other than 0 do not matter.
    ("lc", VIP, 7003, "S1 S2 S3 A1 R1 S4 S5 A2 R2 S6 S7 S8 A5 R5 S9 S10 S11", "S12 S13 S14", {}),
    # wlc, list D(0) C(2) B(3, upper 4) A(1).
    ("wlc", VIP, 7004, "S1 S2 S3 S4 A1 R1 S5 S6 S7 A3 R3 S8 S9 S10 S11 S12", "S13 S14 S15", {}),
    # sed, list C(2) B(4) A(1): (active + 1) / weight, inactive ignored.
    ("sed", VIP, 7005, "S1 S2 S3 S4 A2 R2 S5 S6 S7 S8 A4 R4 S9 S10 S11", "S12 S13", {}),
    # nq, list D(2) C(0) B(3) A(1): an idle real first, in list order.
    ("nq", VIP, 7006, "S1 S2 S3 S4 S5 A1 R1 S6 S7 S8 A3 R3 S9 S10 S11", "S12 S13", {}),
    # fo, list B(5, upper 3) C(3) A(2): B until OVERLOAD, then C; B back in phase 2.
    ("fo", VIP, 7007, "S1 S2 A2 R2 S3 S4 S5 S6", "S7 S8", {}),
    # ovf, list C(3) B(2) A(1): the heaviest whose active count does not exceed its weight.
    ("ovf", VIP, 7008, "S1 S2 S3 S4 S5 A1 R1 S6 S7 S8 S9 S10 S11 S12 S13", "A9 R9 S14 S15", {}),
    # lblc, list C(2) B(3, upper 2) A(1); one cache entry (the VIP).
    ("lblc", VIP, 7009, "S1 S2 S3 S4 S5 S6 S7 S8 S9 S10 A1 R1 A2 R2 A3 R3 S11 S12", "S13 S14", {}),
    # lblcr, same reals; the entry's set grows.
    ("lblcr", VIP, 7010, "S1 S2 S3 S4 S5 S6 S7 S8 S9 S10 A1 R1 A2 R2 A3 R3 S11 S12", "S13 S14", {}),
    # dh on VIP, list C B A (weights 1, A upper 3): hash_32(VIP) picks A; no fallback.
    ("dh", VIP, 7011, "S1 S2 A2 R2 S3 S4 S5", "S6 S7", {}),
    # dh on VIP2, same reals: hash_32(VIP2) picks another bucket (B).
    ("dh2", VIP2, 7011, "S1 S2 S3", "S4", {}),
    # sh, list E(3, upper 2) D(1) C(0) B(2) A(1); the source address is the key.
    ("sh", VIP, 7012, "S1 S2 S3 S4 S5 S6 S7 S8 S9 A1 R1", "S10 S11",
     {1: (c(10), None), 2: (c(11), None), 3: (c(12), None), 4: (c(13), None), 5: (c(16), None),
      6: (c(14), None), 7: (c(18), None), 8: (c(12), None), 9: (c(11), None),
      10: (c(19), None), 11: (c(10), None)}),
    # sh with sh-port and sh-fallback: one client, many source ports.
    ("sh-port", VIP, 7013, "S1 S2 S3 S4 S5 S6 S7 S8 S9 S10 S11 S12 A3 R3", "S13 S14",
     {**{n: (c(20), 31000 + n - 1) for n in range(1, 13)}, 13: (c(20), 31015), 14: (c(20), 31016)}),
    # mh, same reals as sh (C added with weight 0: no slot).
    ("mh", VIP, 7014, "S1 S2 S3 S4 S5 S6 S7 S8 S9 A3 R3", "S10 S11",
     {1: (c(10), None), 2: (c(11), None), 3: (c(14), None), 4: (c(20), None), 5: (c(15), None),
      6: (c(24), None), 7: (c(16), None), 8: (c(28), None), 9: (c(11), None),
      10: (c(17), None), 11: (c(15), None)}),
    # mh with mh-port and mh-fallback: one client, many source ports.
    ("mh-port", VIP, 7015, "S1 S2 S3 S4 S5 S6 S7 S8 S9 S10 S11 S12 A5 R5", "S13 S14",
     {**{n: (c(21), 31000 + n - 1) for n in range(1, 13)}, 13: (c(21), 31020), 14: (c(21), 31021)}),
    # twos, list E(1, upper 2) D(0) C(2) B(3) A(1): two random candidates, the less loaded wins.
    ("twos", VIP, 7016, "S1 S2 S3 S4 A1 R1 S5 S6 S7 A2 R2 S8 S9 S10 S11 S12", "S13 A13 S14 S15", {}),
]


def connections():
    """Every step of every service in time order: (t, key, vip, vport, conn no, client, cport,
    event). Deterministic; check.py rebuilds its expectations from in/wan.pcap, not from this."""
    steps = []
    for k, (key, vip, port, p1, p2, who) in enumerate(SERVICES):
        for phase, script in enumerate((p1, p2)):
            t = PHASES[phase] + BLOCK * k
            for tok in script.split():
                ev, n = {"S": "syn", "A": "ack", "R": "rst"}[tok[0]], int(tok[1:])
                client, cport = who.get(n, (CLIENTS[(n - 1) % len(CLIENTS)], None))
                cport = cport or PORT_BASE + 100 * k + n
                steps.append((round(t, 6), key, vip, port, n, client, cport, ev))
                t += STEP
            assert t <= PHASES[phase] + BLOCK * (k + 1), f"{key}: too many steps"
    return sorted(steps, key=lambda s: s[0])


FLAGS = {"syn": "S", "ack": "A", "rst": "R"}


def build():
    t = Trace(HERE)
    ids = {}
    seqs = {}
    # t=0.1.. every real asks for its gateway: answered, and the router learns its MAC.
    for i, (real, mac) in enumerate(REALS.items()):
        t.add("lan", T0 + 0.1 + 0.01 * i, Ether(src=mac, dst=BCAST) / ARP(op=1, hwsrc=mac, psrc=real, pdst=LAN_IP))
    # t=0.3.. every client asks for the VIP: answered from the wan MAC; its MAC is learned.
    for i, cl in enumerate(CLIENTS_ALL):
        t.add("wan", T0 + 0.3 + 0.01 * i,
              Ether(src=CLIENT_MAC[cl], dst=BCAST) / ARP(op=1, hwsrc=CLIENT_MAC[cl], psrc=cl, pdst=VIP))
    for (when, key, vip, port, n, client, cport, ev) in connections():
        ids[client] = ids.get(client, 0) + 1
        isn = seqs.setdefault((client, cport), 1000 * (cport % 1000) + 1)
        seq, ack = (isn, 0) if ev == "syn" else (isn + 1, 5001 if ev == "ack" else 0)
        p = Ether(src=CLIENT_MAC[client], dst=R_WAN) / IP(src=client, dst=vip, id=ids[client]) / TCP(
            sport=cport, dport=port, flags=FLAGS[ev], seq=seq, ack=ack, window=64240)
        t.add("wan", T0 + when, p)
    t.write()


if __name__ == "__main__":
    build()

#!/usr/bin/python3
"""Inputs of the TUN case: a whole TCP connection and two UDP flows through IPIP tunnels.

lan: 192.168.1.1/24 (02:00:00:00:00:01), VIP 192.168.1.100; client 192.168.1.2 (02:00:00:00:aa:02)
wan: 10.0.0.1/24 (02:00:00:00:00:02); gateway 10.0.0.254 (02:00:00:00:cc:fe) for 172.16.0.0/16,
     where the TUN reals 172.16.1.11 and 172.16.1.12 live.
Only client -> VIP packets exist: the reals answer the client directly (DSR), so no reply passes
the router and the connection sees only INPUT_ONLY transitions (ip_vs_proto_tcp.c).

Each step's comment says what vsrouter must do; check.py asserts it from these rules.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, IP, TCP, UDP, Ether, Raw  # noqa: E402

R_LAN, R_WAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
CLIENT, CLIENT_MAC = "192.168.1.2", "02:00:00:00:aa:02"
GW, GW_MAC = "10.0.0.254", "02:00:00:00:cc:fe"
VIP = "192.168.1.100"
T0 = 1700000000.0


def c2v(t, ident, l4, tos=0, df=True, ttl=64):
    """A client -> VIP datagram on lan."""
    return t, Ether(src=CLIENT_MAC, dst=R_LAN) / IP(src=CLIENT, dst=VIP, id=ident, tos=tos, ttl=ttl,
                                                   flags="DF" if df else 0) / l4


A, B = 40000, 40001  # client ports of TCP connections A and B
# (time offset, frame): client frames on lan, in time order. The tos/df/ttl of each packet are
# chosen to exercise one rule of the outer IPIP header (ip_vs_xmit.c ip_vs_tunnel_xmit).
LAN = [
    # A1 SYN: a new connection, rr picks a real. Its next hop 10.0.0.254 is unknown: ARP request on
    #    wan, the encapsulated SYN waits for the reply.
    c2v(1.0, 101, TCP(sport=A, dport=80, flags="S", seq=1000)),
    # A2 ACK, DSCP EF (tos 0xb8): outer tos 0xb8 (DSCP copied, not-ECT stays not-ECT).
    c2v(2.0, 102, TCP(sport=A, dport=80, flags="A", seq=1001, ack=5001), tos=0xb8),
    # A3 data with ECN CE (tos 0x03): outer tos 0x02 (CE is never copied out: ECT(0), RFC 6040).
    c2v(2.1, 103, TCP(sport=A, dport=80, flags="PA", seq=1001, ack=5001) / Raw(b"GET / HTTP/1.0\r\n\r\n"), tos=0x03),
    # A4 data with DSCP AF41 and CE (tos 0x8b): outer tos 0x8a.
    c2v(2.2, 104, TCP(sport=A, dport=80, flags="PA", seq=1019, ack=5001) / Raw(b"more"), tos=0x8b),
    # A5 ACK with ECT(1) (tos 0x01), no DF, TTL 30: outer tos 0x01, outer DF clear, outer TTL 29.
    c2v(2.3, 105, TCP(sport=A, dport=80, flags="A", seq=1023, ack=6001), tos=0x01, df=False, ttl=30),
    # A6 ACK with ECT(0) (tos 0x02): outer tos 0x02.
    c2v(2.4, 106, TCP(sport=A, dport=80, flags="A", seq=1023, ack=7001), tos=0x02),
    # A7 FIN+ACK from the client: ESTABLISHED -> FIN_WAIT (INPUT_ONLY table), timeout tcpfin = 30 s.
    c2v(3.0, 107, TCP(sport=A, dport=80, flags="FA", seq=1023, ack=7001)),
    # A8 last ACK: FIN_WAIT stays, re-armed: A expires at 3.1 + 30 = 33.1 s (args: --advance 27.9
    #    runs the clock from the last record, 5.2 s, to exactly 33.1 s).
    c2v(3.1, 108, TCP(sport=A, dport=80, flags="A", seq=1024, ack=7002)),
    # B1 SYN: rr moves on, so B goes to the other real. B2 ACK: ESTABLISHED, 900 s; B outlives the replay.
    c2v(4.0, 201, TCP(sport=B, dport=80, flags="S", seq=3000)),
    c2v(4.1, 202, TCP(sport=B, dport=80, flags="A", seq=3001, ack=9001)),
    # U1, U2: one UDP flow (5353 -> 53). U1 is scheduled (rr of the UDP service: its first real);
    #    U2 belongs to the same connection and goes to the same real. U3 (a new source port) is a
    #    new connection: rr gives it the other real. UDP timeout 20 s: expiry at 25.1 and 25.2 s.
    c2v(5.0, 301, UDP(sport=5353, dport=53) / Raw(b"query-1")),
    c2v(5.1, 302, UDP(sport=5353, dport=53) / Raw(b"query-2")),
    c2v(5.2, 303, UDP(sport=5354, dport=53) / Raw(b"query-3")),
]
# The gateway answers the ARP request sent at 1.0 s; the waiting SYN leaves at 1.2 s.
WAN = [(1.2, Ether(src=GW_MAC, dst=R_WAN) / ARP(op=2, hwsrc=GW_MAC, psrc=GW, hwdst=R_WAN, pdst="10.0.0.1"))]

if __name__ == "__main__":
    t = Trace(HERE)
    for off, f in LAN:
        t.add("lan", T0 + off, f)
    for off, f in WAN:
        t.add("wan", T0 + off, f)
    t.write()

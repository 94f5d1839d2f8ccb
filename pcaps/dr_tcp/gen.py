#!/usr/bin/python3
"""Inputs of the DR case. Each step's comment says what vsrouter must do; check.py asserts it.

wan: 203.0.113.1/24 (02:00:00:00:00:01), VIP 203.0.113.100 (tcp 80, udp 53, tcp 443). The client
     198.51.100.7 is behind the upstream router GW = 203.0.113.254 (02:00:00:00:fe:01), the
     default route.
lan: 10.2.0.1/24 (02:00:00:00:00:02). DR reals D1 = 10.2.0.21 (02:00:00:00:dd:21) and
     D2 = 10.2.0.22 (02:00:00:00:dd:22) hold the VIP on lo and reply through their own gateway:
     only client -> VIP packets ever reach us. D3 = 10.2.0.23 (weight 0) serves :443 alone.
DR (ip_vs_xmit.c ip_vs_dr_xmit): the datagram is not changed except TTL-1 (and the IPv4 checksum); the frame
goes to the real's MAC. NOOUTPUT connections use the INPUT_ONLY state table (ip_vs_proto_tcp.c), in
which a client FIN moves ESTABLISHED to FIN_WAIT.

Times are seconds after T0. Connections (client port -> real; rr over the list D2, D1):
  41001 -> D2  t=1     SYN while D2's MAC is unknown (ARP), ACK, request, ACKs, FIN: FIN_WAIT;
                       last packet 1.06, expires 121.06 = the end of --advance
  41002 -> D1  t=2     SYN (ARP for D1 first), ACK, request: ESTABLISHED
  udp 51001 -> D1:53  t=3, 3.5  two queries: UDP, expires 303.5
  41443 -> :443 t=4    SYN to a service whose only real has weight 0: ICMP port unreachable from
                       the VIP (vs_no_real)
  41003 -> D2  t=5     SYN, ACK; at t=100 the client's FIN (D2's ARP entry has expired: used at once, re-confirmed):
                       FIN_WAIT, expires 220.0
  41004 -> D1  t=6     a SYN nobody completes: SYN_RECV, expires 66.0 during the replay
The last record is at t=100.01; args `--advance 21.05` ends the replay at t=121.06.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, DNS, DNSQR, IP, TCP, UDP, Ether, Raw  # noqa: E402

R_WAN, R_LAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
WAN_IP, LAN_IP = "203.0.113.1", "10.2.0.1"
VIP = "203.0.113.100"
CLIENT = "198.51.100.7"
GW, GW_MAC = "203.0.113.254", "02:00:00:00:fe:01"
D1, D2, D3 = "10.2.0.21", "10.2.0.22", "10.2.0.23"
MAC = {D1: "02:00:00:00:dd:21", D2: "02:00:00:00:dd:22", D3: "02:00:00:00:dd:23"}
BCAST = "ff:ff:ff:ff:ff:ff"
T0 = 1700000000.0
REQUEST = b"GET / HTTP/1.0\r\n\r\n"  # 18 bytes: a 58-byte datagram
RESPONSE_LEN = 1000                  # what the real sent the client directly (we never see it)

_ids = {"n": 0}


def from_client(sport, dport, flags, seq, ack=0, data=b""):
    _ids["n"] += 1
    p = Ether(src=GW_MAC, dst=R_WAN) / IP(src=CLIENT, dst=VIP, ttl=63, id=_ids["n"]) / TCP(
        sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=64240)
    return p / Raw(data) if data else p


def arp_reply(real):
    return Ether(src=MAC[real], dst=R_LAN) / ARP(op=2, hwsrc=MAC[real], psrc=real, hwdst=R_LAN, pdst=LAN_IP)


def build():
    t = Trace(HERE)
    w = lambda dt, p: t.add("wan", T0 + dt, p)  # noqa: E731
    ln = lambda dt, p: t.add("lan", T0 + dt, p)  # noqa: E731

    # t=0.5 the upstream router asks for the VIP: answered, GW's MAC learned.
    w(0.5, Ether(src=GW_MAC, dst=BCAST) / ARP(op=1, hwsrc=GW_MAC, psrc=GW, pdst=VIP))

    # ---- 41001 -> D2 ----
    c, s = 1000, 5000
    w(1.0, from_client(41001, 80, "S", c))         # NONE -> SYN_RECV; who-has 10.2.0.22, SYN waits
    ln(1.01, arp_reply(D2))                        # the SYN leaves to D2's MAC, TTL 62
    w(1.02, from_client(41001, 80, "A", c + 1, s + 1))                  # SYN_RECV -> ESTABLISHED
    w(1.03, from_client(41001, 80, "PA", c + 1, s + 1, REQUEST))        # ESTABLISHED
    w(1.04, from_client(41001, 80, "A", c + 1 + len(REQUEST), s + 1 + RESPONSE_LEN))
    w(1.05, from_client(41001, 80, "FA", c + 1 + len(REQUEST), s + 1 + RESPONSE_LEN))  # -> FIN_WAIT
    w(1.06, from_client(41001, 80, "A", c + 2 + len(REQUEST), s + 2 + RESPONSE_LEN))   # FIN_WAIT, 120 s

    # ---- 41002 -> D1 ----
    c, s = 2000, 6000
    w(2.0, from_client(41002, 80, "S", c))
    ln(2.01, arp_reply(D1))
    w(2.02, from_client(41002, 80, "A", c + 1, s + 1))
    w(2.03, from_client(41002, 80, "PA", c + 1, s + 1, REQUEST))  # ESTABLISHED, 900 s -> 902.03

    # ---- UDP 51001 -> D1:53: two queries (the second re-arms the 300 s timer: 303.5) ----
    for dt, qid in ((3.0, 0x3001), (3.5, 0x3002)):
        _ids["n"] += 1
        w(dt, Ether(src=GW_MAC, dst=R_WAN) / IP(src=CLIENT, dst=VIP, ttl=63, id=_ids["n"]) / UDP(
            sport=51001, dport=53) / DNS(id=qid, rd=1, qd=DNSQR(qname="www.example.com")))

    # ---- 41443 -> :443, whose only real is quiesced: ICMP port unreachable from the VIP ----
    w(4.0, from_client(41443, 443, "S", 4430))

    # ---- 41003 -> D2: handshake now, the client's FIN much later ----
    c, s = 3000, 7000
    w(5.0, from_client(41003, 80, "S", c))
    w(5.01, from_client(41003, 80, "A", c + 1, s + 1))
    w(100.0, from_client(41003, 80, "FA", c + 1, s + 1))  # -> FIN_WAIT; D2's entry (1.01) expired
    ln(100.01, arp_reply(D2))

    # ---- 41004 -> D1: a lone SYN ----
    w(6.0, from_client(41004, 80, "S", 8000))
    t.write()


if __name__ == "__main__":
    build()

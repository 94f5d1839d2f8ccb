#!/usr/bin/python3
"""Inputs of the NAT TCP case. Each step's comment says what vsrouter must do; check.py asserts it.

wan: 203.0.113.1/24 (02:00:00:00:00:01), VIP 203.0.113.100:80 (rr); client 203.0.113.50 (02:00:00:00:cc:50)
lan: 10.1.0.1/24 (02:00:00:00:00:02); NAT reals A = 10.1.0.11:8080 (02:00:00:00:aa:11) and
     B = 10.1.0.12:8080 (02:00:00:00:aa:12), default gateway 10.1.0.1.
Reals are added in file order (A, then B), each at the head of the list: the list is B, A and rr
hands out B, A, B, A, ... (ip_vs_ctl.c ip_vs_add_dest: list_add, newest first, ip_vs_rr.c).

Times are seconds after T0. Connections (client port -> real, by rr order of their SYNs):
  40001 -> B  t=1     full life: server closes first (FIN_WAIT), then TIME_WAIT; expires at t=121.1
  40002 -> A  t=3     data both ways, stays ESTABLISHED
  40003 -> B  t=6     ended by a client RST (CLOSE, 10 s)
  40004 -> A  t=8     client closes first (CLOSE_WAIT, 60 s), the real never sends its FIN
  40005 -> B  t=10    server FIN, client ACK: FIN_WAIT
  40006 -> A  t=70,71 SYN (and its retransmission) the real does not answer: SYN_RECV
  40009       t=5     a bare ACK to the VIP with no connection: not scheduled; the router answers
                      a TCP RST from the VIP, seq = the ACK's ack (tcp_v4_send_reset;
                      local_no_service, tcp_resets_sent)
The last record is at t=71; args `--advance 50.1` ends the replay at t=121.1.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, IP, TCP, Ether, Raw  # noqa: E402

R_WAN, R_LAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
WAN_IP, LAN_IP = "203.0.113.1", "10.1.0.1"
VIP, VPORT = "203.0.113.100", 80
CLIENT, CLIENT_MAC = "203.0.113.50", "02:00:00:00:cc:50"
A, A_MAC = "10.1.0.11", "02:00:00:00:aa:11"
B, B_MAC = "10.1.0.12", "02:00:00:00:aa:12"
RPORT = 8080
BCAST = "ff:ff:ff:ff:ff:ff"
T0 = 1700000000.0

REQUEST = b"GET / HTTP/1.0\r\n\r\n"                  # 18 bytes: a 58-byte datagram
RESPONSE = b"HTTP/1.0 200 OK\r\n\r\nhello, world\n"  # 32 bytes: a 72-byte datagram

_ids = {}


def ipid(host):
    _ids[host] = _ids.get(host, 0) + 1
    return _ids[host]


def from_client(cport, flags, seq, ack=0, data=b""):
    p = Ether(src=CLIENT_MAC, dst=R_WAN) / IP(src=CLIENT, dst=VIP, id=ipid(CLIENT)) / TCP(
        sport=cport, dport=VPORT, flags=flags, seq=seq, ack=ack, window=64240)
    return p / Raw(data) if data else p


def from_real(real, mac, cport, flags, seq, ack=0, data=b""):
    p = Ether(src=mac, dst=R_LAN) / IP(src=real, dst=CLIENT, id=ipid(real)) / TCP(
        sport=RPORT, dport=cport, flags=flags, seq=seq, ack=ack, window=65160)
    return p / Raw(data) if data else p


def build():
    t = Trace(HERE)
    w = lambda dt, p: t.add("wan", T0 + dt, p)  # noqa: E731
    ln = lambda dt, p: t.add("lan", T0 + dt, p)  # noqa: E731

    # t=0.5 the client asks for the VIP: answered from the wan MAC; the client's MAC is learned.
    w(0.5, Ether(src=CLIENT_MAC, dst=BCAST) / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=VIP))

    # --- 40001 -> B, whose MAC is not known yet ---
    c, s = 1000, 5000
    # t=1.0 SYN: scheduled to B (head of the list); ARP who-has 10.1.0.12 on lan, the SYN waits.
    w(1.0, from_client(40001, "S", c))
    # t=1.01 B answers the ARP: the SYN leaves to 10.1.0.12:8080 (DNAT), TTL 63.
    ln(1.01, Ether(src=B_MAC, dst=R_LAN) / ARP(op=2, hwsrc=B_MAC, psrc=B, hwdst=R_LAN, pdst=LAN_IP))
    # t=1.02 SYN-ACK from B: leaves on wan from VIP:80 (SNAT); state SYN_RECV (OUTPUT syn).
    ln(1.02, from_real(B, B_MAC, 40001, "SA", s, c + 1))
    # t=1.03 ACK: ESTABLISHED (INPUT ack from SYN_RECV).
    w(1.03, from_client(40001, "A", c + 1, s + 1))
    # t=1.04 request, t=1.05 response, t=1.06 client ACKs it: ESTABLISHED.
    w(1.04, from_client(40001, "PA", c + 1, s + 1, REQUEST))
    ln(1.05, from_real(B, B_MAC, 40001, "PA", s + 1, c + 1 + len(REQUEST), RESPONSE))
    w(1.06, from_client(40001, "A", c + 1 + len(REQUEST), s + 1 + len(RESPONSE)))
    # t=1.07 the server closes: FIN out, ESTABLISHED -> FIN_WAIT (OUTPUT fin).
    ln(1.07, from_real(B, B_MAC, 40001, "FA", s + 1 + len(RESPONSE), c + 1 + len(REQUEST)))
    # t=1.08 client ACKs the FIN: FIN_WAIT stays (INPUT ack).
    w(1.08, from_client(40001, "A", c + 1 + len(REQUEST), s + 2 + len(RESPONSE)))
    # t=1.09 client FIN: FIN_WAIT -> TIME_WAIT (INPUT fin), 120 s.
    w(1.09, from_client(40001, "FA", c + 1 + len(REQUEST), s + 2 + len(RESPONSE)))
    # t=1.10 the server's last ACK: TIME_WAIT stays (OUTPUT ack) and the timer restarts: 121.10.
    ln(1.10, from_real(B, B_MAC, 40001, "A", s + 2 + len(RESPONSE), c + 2 + len(REQUEST)))

    # t=2.0 A asks for its gateway: the router answers and learns A's MAC (RFC 826 merge).
    ln(2.0, Ether(src=A_MAC, dst=BCAST) / ARP(op=1, hwsrc=A_MAC, psrc=A, pdst=LAN_IP))

    # --- 40002 -> A (next in rr order), MAC already known: no ARP, forwarded at once ---
    c, s = 2000, 6000
    w(3.0, from_client(40002, "S", c))
    ln(3.01, from_real(A, A_MAC, 40002, "SA", s, c + 1))
    w(3.02, from_client(40002, "A", c + 1, s + 1))
    w(3.03, from_client(40002, "PA", c + 1, s + 1, REQUEST))
    ln(3.04, from_real(A, A_MAC, 40002, "PA", s + 1, c + 1 + len(REQUEST), RESPONSE))
    # t=3.05 last packet: ESTABLISHED, 900 s -> expires at t=903.05.
    w(3.05, from_client(40002, "A", c + 1 + len(REQUEST), s + 1 + len(RESPONSE)))

    # t=5.0 an ACK with no connection: only a SYN may open one (sloppy_tcp=0), so IPVS passes it
    # to the local stack: ICMP port unreachable from the VIP, dropped as local_no_service.
    w(5.0, from_client(40009, "A", 9000, 9999))

    # --- 40003 -> B: handshake, then the client resets: ESTABLISHED -> CLOSE (INPUT rst), 10 s ---
    c, s = 3000, 7000
    w(6.0, from_client(40003, "S", c))
    ln(6.01, from_real(B, B_MAC, 40003, "SA", s, c + 1))
    w(6.02, from_client(40003, "A", c + 1, s + 1))
    w(6.03, from_client(40003, "R", c + 1))  # forwarded to B; expires at t=16.03

    # --- 40004 -> A: the client closes first: ESTABLISHED -> CLOSE_WAIT (INPUT fin), 60 s ---
    c, s = 4000, 8000
    w(8.0, from_client(40004, "S", c))
    ln(8.01, from_real(A, A_MAC, 40004, "SA", s, c + 1))
    w(8.02, from_client(40004, "A", c + 1, s + 1))
    w(8.03, from_client(40004, "FA", c + 1, s + 1))
    # t=8.04 A ACKs the FIN: CLOSE_WAIT stays (OUTPUT ack); expires at t=68.04.
    ln(8.04, from_real(A, A_MAC, 40004, "A", s + 1, c + 2))

    # --- 40005 -> B: the server closes, the client ACKs: FIN_WAIT, 120 s -> t=130.04 ---
    c, s = 5000, 9000
    w(10.0, from_client(40005, "S", c))
    ln(10.01, from_real(B, B_MAC, 40005, "SA", s, c + 1))
    w(10.02, from_client(40005, "A", c + 1, s + 1))
    ln(10.03, from_real(B, B_MAC, 40005, "FA", s + 1, c + 1))
    w(10.04, from_client(40005, "A", c + 1, s + 2))

    # --- 40006 -> A at t=70: A's ARP entry (learned at t=2, 60 s) has expired: the SYN still
    # goes to A's MAC at once while the entry is re-confirmed; A's reply at 70.01 confirms it ---
    c = 6000
    w(70.0, from_client(40006, "S", c))
    ln(70.01, Ether(src=A_MAC, dst=R_LAN) / ARP(op=2, hwsrc=A_MAC, psrc=A, hwdst=R_LAN, pdst=LAN_IP))
    # t=71 the client retransmits its SYN: same connection (no new Conns), SYN_RECV re-armed: t=131.
    w(71.0, from_client(40006, "S", c))
    t.write()


if __name__ == "__main__":
    build()

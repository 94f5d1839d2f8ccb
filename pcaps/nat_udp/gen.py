#!/usr/bin/python3
"""Inputs of the NAT UDP case. Each step's comment says what vsrouter must do; check.py asserts it.

wan: 203.0.113.1/24 (02:00:00:00:00:01), VIP 203.0.113.100:53 (udp, rr); client 203.0.113.50 (02:00:00:00:cc:50)
lan: 10.1.0.1/24 (02:00:00:00:00:02); NAT reals R1 = 10.1.0.21:5353, R2 = 10.1.0.22:5353,
     R3 = 10.1.0.23:5353 (MACs 02:00:00:00:aa:21/22/23), default gateway 10.1.0.1.
Reals are added in file order R1, R2, R3, each at the head of the list: the list is R3, R2, R1 and
rr hands out R3, R2, R1, R3, R2 (ip_vs_ctl.c ip_vs_add_dest: list_add, newest first, ip_vs_rr.c). Every UDP datagram can open a connection and
every datagram, either way, re-arms its timer to 300 s (ip_vs_conn.c, ip_vs_proto_udp.c). The router's ARP entries
live 60 s; an expired entry still carries the later exchanges at once while it is re-confirmed
(the replies written here, once answers to broadcast requests, now confirm it).

Times are seconds after T0. Flows (client port -> real):
  50001 -> R3  t=1       query/response; expires at 301.01 (during the replay)
  50002 -> R2  t=2       query and response both WITHOUT UDP checksum (0): each must leave with a
                         correct computed checksum; expires at 302.01
  50003 -> R1  t=3,120,240 query/response at 3 and 120, a query at 240: re-armed each time, so it
                         is still there at the end (expires 540.0) although its first exchange was
                         more than 300 s before the end
  50004 -> R3  t=200     query/response; expires at 500.02 = the end of --advance
  50001 -> R2  t=400     the same client port again, long after its first entry expired: a new
                         connection, scheduled afresh (the next real in rr order)
The last record is at t=400.03; args `--advance 99.99` ends the replay at t=500.02.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, DNS, DNSQR, DNSRR, IP, UDP, Ether  # noqa: E402

R_WAN, R_LAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
WAN_IP, LAN_IP = "203.0.113.1", "10.1.0.1"
VIP, VPORT = "203.0.113.100", 53
CLIENT, CLIENT_MAC = "203.0.113.50", "02:00:00:00:cc:50"
R1, R2, R3 = "10.1.0.21", "10.1.0.22", "10.1.0.23"
MAC = {R1: "02:00:00:00:aa:21", R2: "02:00:00:00:aa:22", R3: "02:00:00:00:aa:23", CLIENT: CLIENT_MAC}
RPORT = 5353
BCAST = "ff:ff:ff:ff:ff:ff"
T0 = 1700000000.0
NAME = "www.example.com"


def query(qid):
    return bytes(DNS(id=qid, rd=1, qd=DNSQR(qname=NAME)))  # 33 bytes: a 61-byte datagram


def answer(qid):
    return bytes(DNS(id=qid, qr=1, aa=1, rd=1, qd=DNSQR(qname=NAME),
                     an=DNSRR(rrname=NAME, ttl=300, rdata="192.0.2.80")))  # 64 bytes: a 92-byte datagram


_ids = {}


def ipid(host):
    _ids[host] = _ids.get(host, 0) + 1
    return _ids[host]


def from_client(cport, data, chksum=None):
    u = UDP(sport=cport, dport=VPORT) if chksum is None else UDP(sport=cport, dport=VPORT, chksum=chksum)
    return Ether(src=CLIENT_MAC, dst=R_WAN) / IP(src=CLIENT, dst=VIP, id=ipid(CLIENT)) / u / data


def from_real(real, cport, data, chksum=None):
    u = UDP(sport=RPORT, dport=cport) if chksum is None else UDP(sport=RPORT, dport=cport, chksum=chksum)
    return Ether(src=MAC[real], dst=R_LAN) / IP(src=real, dst=CLIENT, id=ipid(real)) / u / data


def arp_reply(host, router_ip, router_mac):
    """`host` answers the router's who-has."""
    return Ether(src=MAC[host], dst=router_mac) / ARP(op=2, hwsrc=MAC[host], psrc=host, hwdst=router_mac,
                                                        pdst=router_ip)


def build():
    t = Trace(HERE)
    w = lambda dt, p: t.add("wan", T0 + dt, p)  # noqa: E731
    ln = lambda dt, p: t.add("lan", T0 + dt, p)  # noqa: E731

    # t=0.5 the client asks for the VIP, t=0.6..0.8 each real asks for its gateway: all answered,
    # and the router learns each asker's MAC (valid 60 s).
    w(0.5, Ether(src=CLIENT_MAC, dst=BCAST) / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst=VIP))
    for dt, r in ((0.6, R1), (0.7, R2), (0.8, R3)):
        ln(dt, Ether(src=MAC[r], dst=BCAST) / ARP(op=1, hwsrc=MAC[r], psrc=r, pdst=LAN_IP))

    # 50001 -> R3: DNAT to 10.1.0.23:5353, the answer SNATed back from VIP:53.
    w(1.0, from_client(50001, query(0x1001)))
    ln(1.01, from_real(R3, 50001, answer(0x1001)))

    # 50002 -> R2: no checksum either way (0 = none, RFC 768). IPVS computes a full checksum
    # when it rewrites such a datagram (ip_vs_xmit.c ip_vs_nat_xmit, ip_vs_core.c ip_vs_in_icmp), so both leave with a valid non-zero one.
    w(2.0, from_client(50002, query(0x1002), chksum=0))
    ln(2.01, from_real(R2, 50002, answer(0x1002), chksum=0))

    # 50003 -> R1: first exchange.
    w(3.0, from_client(50003, query(0x1003)))
    ln(3.01, from_real(R1, 50003, answer(0x1003)))

    # t=120: 50003 again (timer re-armed to 420.0). R1's ARP entry expired at 60.6: who-has
    # 10.1.0.21, the query waits for the reply at 120.01.
    w(120.0, from_client(50003, query(0x1004)))
    ln(120.01, arp_reply(R1, LAN_IP, R_LAN))
    # t=120.02 the answer (re-armed to 420.02); the client's entry expired at 60.5: who-has
    # 203.0.113.50 on wan, the answer waits for the client's reply at 120.03.
    ln(120.02, from_real(R1, 50003, answer(0x1004)))
    w(120.03, arp_reply(CLIENT, WAN_IP, R_WAN))

    # t=200: 50004 -> R3 (R3's entry expired at 60.8; the client's, learned at 120.03, at 180.03).
    w(200.0, from_client(50004, query(0x1005)))
    ln(200.01, arp_reply(R3, LAN_IP, R_LAN))
    ln(200.02, from_real(R3, 50004, answer(0x1005)))  # re-armed: expires at 500.02
    w(200.03, arp_reply(CLIENT, WAN_IP, R_WAN))

    # t=240: 50003 once more, a query only (R1's entry from 120.01 expired at 180.01): expires 540.0.
    w(240.0, from_client(50003, query(0x1006)))
    ln(240.01, arp_reply(R1, LAN_IP, R_LAN))

    # t=400: 50001 again. Its entry expired at 301.01, so this is a new connection: rr goes on
    # from R3 (50004) to R2. Both next hops are resolved again.
    w(400.0, from_client(50001, query(0x1007)))
    ln(400.01, arp_reply(R2, LAN_IP, R_LAN))
    ln(400.02, from_real(R2, 50001, answer(0x1007)))  # expires at 700.02
    w(400.03, arp_reply(CLIENT, WAN_IP, R_WAN))
    t.write()


if __name__ == "__main__":
    build()

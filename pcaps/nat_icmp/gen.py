#!/usr/bin/python3
"""Inputs of the NAT ICMP case. Each step's comment says what vsrouter must do; check.py asserts it.

wan: 203.0.113.1/24 (02:00:00:00:00:01), VIP 203.0.113.100 (tcp 80, udp 53). The client
     198.51.100.7 is behind the upstream router GW = 203.0.113.254 (02:00:00:00:fe:01).
lan: 10.1.0.1/24 (02:00:00:00:00:02). Real U = 10.1.0.11:5353 (udp, on-link, 02:00:00:00:aa:11);
     real T = 10.9.0.11:8080 (tcp) behind the inside router IGW = 10.1.0.254 (02:00:00:00:fe:02).

IPVS translates ICMP errors (types 3, 4, 11) that quote a packet of a NAT connection
(ip_vs_in_icmp / ip_vs_out_icmp, ip_vs_xmit.c ip_vs_nat_xmit, ip_vs_core.c ip_vs_in_icmp):
  - to the VIP, quoting a reply VIP:vport -> client: outer destination, quoted source address and
    quoted source port become the real's; sent to the real (TTL-1); counted as InPkts/InBytes;
  - toward the client, quoting a request client -> real:dport: outer source, quoted destination
    address and quoted destination port become the VIP's; counted as OutPkts/OutBytes.
  The ICMP checksum is checked first (bad: dropped) and recomputed. No state change, no re-arm
  (the kernel releases the connection with __ip_vs_conn_put, which leaves the timer alone).
Errors about no connection are the router's: to the VIP (a local address) it is not an echo
request, so icmp_local_unhandled; toward a client it is simply forwarded.

Times are seconds after T0. The last record is at t=5.065 and there is no --advance.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, DNS, DNSQR, DNSRR, ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

R_WAN, R_LAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
WAN_IP, LAN_IP = "203.0.113.1", "10.1.0.1"
VIP = "203.0.113.100"
CLIENT = "198.51.100.7"
GW, GW_MAC = "203.0.113.254", "02:00:00:00:fe:01"
IGW, IGW_MAC = "10.1.0.254", "02:00:00:00:fe:02"
U, U_MAC, U_PORT = "10.1.0.11", "02:00:00:00:aa:11", 5353
T, T_PORT = "10.9.0.11", 8080
BCAST = "ff:ff:ff:ff:ff:ff"
T0 = 1700000000.0
NAME = "www.example.com"
BIG = bytes(range(256)) * 5 + bytes(120)  # 1400 bytes of TCP data: 1440-byte datagrams (DF)


def query(qid):
    return bytes(DNS(id=qid, rd=1, qd=DNSQR(qname=NAME)))  # 33 bytes: a 61-byte datagram


def answer(qid):
    return bytes(DNS(id=qid, qr=1, aa=1, rd=1, qd=DNSQR(qname=NAME),
                     an=DNSRR(rrname=NAME, ttl=300, rdata="192.0.2.80")))  # 64 bytes: 92-byte datagram


def quote(ip_packet, limit):
    """The first `limit` bytes of a datagram, as an ICMP error quotes it (checksums as sent)."""
    return bytes(ip_packet)[:limit]


def via_gw(ip):  # client traffic arrives from the upstream router (TTL already 63)
    return Ether(src=GW_MAC, dst=R_WAN) / ip


def via_igw(ip):  # traffic from T arrives from the inside router
    return Ether(src=IGW_MAC, dst=R_LAN) / ip


def from_u(ip):
    return Ether(src=U_MAC, dst=R_LAN) / ip


def icmp_err(src, dst, typ, code, quoted, ttl=64, ipid=1, chksum=None, mtu=0):
    icmp = ICMP(type=typ, code=code, nexthopmtu=mtu) if chksum is None else ICMP(
        type=typ, code=code, nexthopmtu=mtu, chksum=chksum)
    return IP(src=src, dst=dst, ttl=ttl, id=ipid) / icmp / Raw(quoted)


def build():
    tr = Trace(HERE)
    w = lambda dt, p: tr.add("wan", T0 + dt, p)  # noqa: E731
    ln = lambda dt, p: tr.add("lan", T0 + dt, p)  # noqa: E731

    # Neighbours announce themselves by asking for our addresses (answered, MACs learned).
    w(0.5, Ether(src=GW_MAC, dst=BCAST) / ARP(op=1, hwsrc=GW_MAC, psrc=GW, pdst=VIP))
    ln(0.6, Ether(src=U_MAC, dst=BCAST) / ARP(op=1, hwsrc=U_MAC, psrc=U, pdst=LAN_IP))
    ln(0.7, Ether(src=IGW_MAC, dst=BCAST) / ARP(op=1, hwsrc=IGW_MAC, psrc=IGW, pdst=LAN_IP))

    # ---- TCP 40001 -> T (via IGW) ----
    c, s = 1000, 5000
    tcp = lambda flags, seq, ack, data=b"", ipid=1, df=False: IP(  # noqa: E731
        src=CLIENT, dst=VIP, ttl=63, id=ipid, flags="DF" if df else 0) / TCP(
        sport=40001, dport=80, flags=flags, seq=seq, ack=ack, window=64240) / Raw(data)
    w(1.0, via_gw(IP(src=CLIENT, dst=VIP, ttl=63, id=1) / TCP(sport=40001, dport=80, flags="S", seq=c)))
    ln(1.01, via_igw(IP(src=T, dst=CLIENT, ttl=63, id=1) / TCP(sport=T_PORT, dport=40001, flags="SA", seq=s,
                                                               ack=c + 1)))
    w(1.02, via_gw(IP(src=CLIENT, dst=VIP, ttl=63, id=2) / TCP(sport=40001, dport=80, flags="A", seq=c + 1,
                                                               ack=s + 1)))
    # t=1.03 a full-size segment with DF: DNATed to T:8080 through IGW (1440 bytes fit MTU 1500).
    data_in = tcp("PA", c + 1, s + 1, BIG, ipid=3, df=True)
    w(1.03, via_gw(data_in))
    # t=1.04 IGW's link toward T has MTU 1280: it sends "fragmentation needed" to the client,
    # quoting the datagram as it got it (DNATed, TTL 62) with 8 bytes of TCP (RFC 792 minimum).
    # -> leaves on wan from the VIP, quoting client -> VIP:80 (outer src, quoted dst and dport).
    as_igw_got = IP(src=CLIENT, dst=T, ttl=62, id=3, flags="DF") / TCP(
        sport=40001, dport=T_PORT, flags="PA", seq=c + 1, ack=s + 1, window=64240) / Raw(BIG)
    ln(1.04, via_igw(icmp_err(IGW, CLIENT, 3, 4, quote(as_igw_got, 28), mtu=1280)))
    # t=1.06 T's own full-size reply, SNATed from VIP:80 (1440 bytes, DF).
    ln(1.06, via_igw(IP(src=T, dst=CLIENT, ttl=63, id=2, flags="DF") / TCP(
        sport=T_PORT, dport=40001, flags="PA", seq=s + 1, ack=c + 1 + len(BIG), window=65160) / Raw(BIG)))
    # t=1.07 GW's link to the client has MTU 1400: "fragmentation needed" to the reply's source, the
    # VIP, quoting the reply as GW got it (from VIP:80, TTL 62) up to 576 bytes (548 quoted).
    # -> DNATed to T through IGW: outer dst T, quoted src T and quoted sport 8080.
    as_gw_got = IP(src=VIP, dst=CLIENT, ttl=62, id=2, flags="DF") / TCP(
        sport=80, dport=40001, flags="PA", seq=s + 1, ack=c + 1 + len(BIG), window=65160) / Raw(BIG)
    w(1.07, Ether(src=GW_MAC, dst=R_WAN) / icmp_err(GW, VIP, 3, 4, quote(as_gw_got, 548), mtu=1400))

    # ---- UDP 50001 -> U ----
    w(2.0, via_gw(IP(src=CLIENT, dst=VIP, ttl=63, id=4) / UDP(sport=50001, dport=53) / query(0x2001)))
    ln(2.01, from_u(IP(src=U, dst=CLIENT, id=1) / UDP(sport=U_PORT, dport=50001) / answer(0x2001)))
    # t=2.02 a duplicate answer: SNATed like the first one.
    ln(2.02, from_u(IP(src=U, dst=CLIENT, id=2) / UDP(sport=U_PORT, dport=50001) / answer(0x2001)))
    # t=2.9 the client has closed its socket: port unreachable to the VIP about the duplicate (as
    # it got it: from VIP:53, TTL 62), quoting all 92 bytes. -> to U: outer dst U, quoted src
    # U, quoted sport 5353.
    dup_as_client_got = IP(src=VIP, dst=CLIENT, ttl=62, id=2) / UDP(sport=53, dport=50001) / answer(0x2001)
    w(2.9, via_gw(icmp_err(CLIENT, VIP, 3, 3, quote(dup_as_client_got, 576), ttl=63, ipid=5)))

    # ---- UDP 50002 -> U, whose resolver is not listening any more ----
    q2 = IP(src=CLIENT, dst=VIP, ttl=63, id=6) / UDP(sport=50002, dport=53) / query(0x2002)
    w(3.0, via_gw(q2))
    # t=3.5 U: port unreachable about the query it got (DNATed, TTL 62), quoting all 61 bytes.
    # -> leaves on wan from the VIP, quoting client -> VIP:53.
    q2_as_u_got = IP(src=CLIENT, dst=U, ttl=62, id=6) / UDP(sport=50002, dport=U_PORT) / query(0x2002)
    ln(3.5, from_u(icmp_err(U, CLIENT, 3, 3, quote(q2_as_u_got, 576), ipid=3)))

    # ---- Bad ICMP checksums about known connections: dropped (icmp_bad_checksum), not counted ----
    good = icmp_err(CLIENT, VIP, 3, 3, quote(dup_as_client_got, 576), ttl=63, ipid=7)
    bad = good.copy()
    bad[ICMP].chksum = IP(bytes(good))[ICMP].chksum ^ 0x5a5a
    w(4.0, via_gw(bad))
    good = icmp_err(U, CLIENT, 3, 3, quote(q2_as_u_got, 576), ipid=4)
    bad = good.copy()
    bad[ICMP].chksum = IP(bytes(good))[ICMP].chksum ^ 0x0101
    ln(4.1, from_u(bad))

    # ---- Errors about no connection: the router's business ----
    # t=5.0 to the VIP about VIP:53 -> client:59999 (no such connection): icmp_local_unhandled.
    stray = IP(src=VIP, dst=CLIENT, ttl=62, id=99) / UDP(sport=53, dport=59999) / answer(0x2003)
    w(5.0, via_gw(icmp_err(CLIENT, VIP, 3, 3, quote(stray, 576), ttl=63, ipid=8)))
    # t=5.065 from U about client:59998 -> U:5353 (no such connection): forwarded unchanged (TTL-1).
    stray = IP(src=CLIENT, dst=U, ttl=62, id=98) / UDP(sport=59998, dport=U_PORT) / query(0x2004)
    ln(5.065, from_u(icmp_err(U, CLIENT, 3, 3, quote(stray, 576), ipid=5)))
    tr.write()


if __name__ == "__main__":
    build()

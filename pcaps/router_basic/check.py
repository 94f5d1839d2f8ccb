"""Semantic checks on the router case's output, written from the protocol rules (not from the
output): each assertion is one must-show behaviour of the foundation. Used by tests/golden.py."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "_lib"))
from vsfix import Checker, ipv4_checksum_ok, read  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, IPerror, UDPerror, TCPerror  # noqa: E402,F401

R_LAN, R_WAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
CLIENT, CLIENT_MAC = "192.168.1.2", "02:00:00:00:aa:02"
SERVER, SERVER_MAC = "10.0.0.5", "02:00:00:00:bb:05"
T0 = 1700000000.0


def check(out):
    ok = Checker()
    lan, wan = read(out, "lan"), read(out, "wan")
    ok(len(lan) == 11, f"lan: expected 11 frames, got {len(lan)}")
    ok(len(wan) == 10, f"wan: expected 10 frames, got {len(wan)}")

    def arp_reply(p, ip):
        return (ARP in p and p[ARP].op == 2 and p[ARP].psrc == ip and p[ARP].hwsrc == R_LAN
                and p[ARP].pdst == CLIENT and p[ARP].hwdst == CLIENT_MAC and p[Ether].dst == CLIENT_MAC
                and p[Ether].src == R_LAN)

    ok(arp_reply(lan[0], "192.168.1.10"), "ARP who-has router address answered")
    ok(arp_reply(lan[1], "192.168.1.100"), "ARP who-has VIP answered on the VIP's interface")

    def echo_reply(p, src, seq, payload):
        return (IP in p and p[IP].src == src and p[IP].dst == CLIENT and ICMP in p and p[ICMP].type == 0
                and p[ICMP].id == 0x77 and p[ICMP].seq == seq and bytes(p[ICMP].payload) == payload
                and p[Ether].dst == CLIENT_MAC and p[Ether].src == R_LAN and ipv4_checksum_ok(p))

    ok(echo_reply(lan[2], "192.168.1.100", 1, b"vip-ping"), "ping to the VIP answered")
    ok(echo_reply(lan[3], "192.168.1.10", 2, b"lan-ping"), "ping to the lan address answered")
    ok(echo_reply(lan[4], "10.0.0.1", 3, b"wan-ping"), "ping to the wan address answered")

    # Between subnets: an ARP exchange, then TTL-1, valid checksum, resolved MACs.
    ok(ARP in wan[0] and wan[0][ARP].op == 1 and wan[0][ARP].pdst == SERVER and wan[0][ARP].psrc == "10.0.0.1"
       and wan[0][Ether].dst == "ff:ff:ff:ff:ff:ff" and wan[0][ARP].hwsrc == R_WAN, "ARP request for the next hop")
    f = wan[1]
    ok(UDP in f and f[IP].src == CLIENT and f[IP].dst == SERVER and f[IP].ttl == 63 and ipv4_checksum_ok(f)
       and f[Ether].src == R_WAN and f[Ether].dst == SERVER_MAC and bytes(f[UDP].payload) == b"hello",
       "lan->wan packet forwarded with TTL-1, good checksums and resolved MACs")
    ok(abs(float(f.time) - (T0 + 3.5)) < 1e-6, "queued packet leaves when the ARP reply arrives")
    b = lan[5]
    ok(UDP in b and b[IP].src == SERVER and b[IP].ttl == 63 and b[Ether].dst == CLIENT_MAC and ipv4_checksum_ok(b),
       "wan->lan packet forwarded to the learned client MAC")

    def icmp_err(p, typ, code, about_dst):
        return (ICMP in p and p[IP].src == "192.168.1.10" and p[IP].dst == CLIENT and p[ICMP].type == typ
                and p[ICMP].code == code and IPerror in p and p[IPerror].src == CLIENT
                and p[IPerror].dst == about_dst and ipv4_checksum_ok(p) and p[Ether].dst == CLIENT_MAC)

    ok(icmp_err(lan[6], 11, 0, SERVER) and TCPerror in lan[6] and lan[6][TCPerror].sport == 40001,
       "TTL 1 gives ICMP time exceeded quoting the packet")
    ok(icmp_err(lan[7], 3, 0, "8.8.8.8"), "no route gives ICMP net unreachable")
    ok(icmp_err(lan[8], 3, 4, SERVER) and lan[8][ICMP].nexthopmtu == 1000,
       "DF over the egress MTU gives ICMP fragmentation needed with the next-hop MTU")
    ok(icmp_err(lan[9], 3, 3, "192.168.1.10"), "UDP to the router gives ICMP port unreachable")
    ok(icmp_err(lan[10], 3, 1, "172.16.1.1") and abs(float(lan[10].time) - (T0 + 8.0)) < 1e-6,
       "unanswered ARP gives ICMP host unreachable after 3 requests")

    o = wan[2]
    ok(o[IP].ihl == 7 and o[IP].ttl == 63 and o[IP].options and o[IP].options[0].option == 7
       and ipv4_checksum_ok(o), "packet with IP options forwarded with its options")
    ok(wan[3][IP].id == 9 and wan[3][IP].flags.MF and wan[3][IP].frag == 0 and wan[3][IP].ttl == 63
       and wan[4][IP].frag == 2 and not wan[4][IP].flags.MF and ipv4_checksum_ok(wan[3]) and ipv4_checksum_ok(wan[4]),
       "fragments forwarded as they came (reassembled first: the router has a service, ip_vs_out_hook)")
    f1, f2 = wan[5], wan[6]
    ok(len(f1[IP]) <= 1000 and len(f2[IP]) <= 1000 and f1[IP].flags.MF and not f2[IP].flags.MF
       and f1[IP].frag == 0 and f2[IP].frag * 8 == len(f1[IP]) - 20 and f1[IP].id == f2[IP].id == 11,
       "1200-byte packet without DF split into fragments that fit MTU 1000")
    whole = bytes(f1[IP].payload) + bytes(f2[IP].payload)
    ok(UDP(whole).dport == 7 and bytes(UDP(whole).payload) == b"F" * 1172, "fragments reassemble to the original")
    ok(ipv4_checksum_ok(f1) and ipv4_checksum_ok(f2), "fragment header checksums")
    probes = [p for p in wan[7:] if ARP in p and p[ARP].pdst == "10.0.0.254"]
    ok([round(float(p.time) - T0, 6) for p in probes] == [5.0, 6.0, 7.0], "ARP requests rate-limited to 1/s, 3 tries")
    return ok.n

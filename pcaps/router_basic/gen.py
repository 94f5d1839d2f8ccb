#!/usr/bin/python3
"""Inputs of the router case. Each step's comment says what vsrouter must do (check.py asserts it).

lan: 192.168.1.10/24 (02:00:00:00:00:01), VIP 192.168.1.100; client 192.168.1.2 (02:00:00:00:aa:02)
wan: 10.0.0.1/24 (02:00:00:00:00:02), MTU 1000; server 10.0.0.5 (02:00:00:00:bb:05);
     10.0.0.254 is the (silent) next hop for 172.16.0.0/16.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "_lib"))
from vsfix import Trace  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPOption_RR, Raw  # noqa: E402

R_LAN, R_WAN = "02:00:00:00:00:01", "02:00:00:00:00:02"
CLIENT, CLIENT_MAC = "192.168.1.2", "02:00:00:00:aa:02"
SERVER, SERVER_MAC = "10.0.0.5", "02:00:00:00:bb:05"
BCAST = "ff:ff:ff:ff:ff:ff"
T0 = 1700000000.0

t = Trace(os.path.dirname(os.path.abspath(__file__)))
c2r = lambda: Ether(src=CLIENT_MAC, dst=R_LAN)  # noqa: E731

# 1. who-has the router's lan address -> ARP reply from 02:..:01
t.add("lan", T0 + 1.0, Ether(src=CLIENT_MAC, dst=BCAST) / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst="192.168.1.10"))
# 2. who-has the VIP -> ARP reply from 02:..:01
t.add("lan", T0 + 1.1, Ether(src=CLIENT_MAC, dst=BCAST) / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT, pdst="192.168.1.100"))
# 3. who-has the VIP asked on wan (VIP is not on wan's subnet) -> no answer (arp_not_for_us)
t.add("wan", T0 + 1.2, Ether(src=SERVER_MAC, dst=BCAST) / ARP(op=1, hwsrc=SERVER_MAC, psrc=SERVER, pdst="192.168.1.100"))
# 4. ping the VIP -> echo reply from the VIP
t.add("lan", T0 + 2.0, c2r() / IP(src=CLIENT, dst="192.168.1.100", id=1) / ICMP(type=8, id=0x77, seq=1) / Raw(b"vip-ping"))
# 5. ping the router's lan address -> echo reply
t.add("lan", T0 + 2.1, c2r() / IP(src=CLIENT, dst="192.168.1.10", id=2) / ICMP(type=8, id=0x77, seq=2) / Raw(b"lan-ping"))
# 6. ping the router's wan address from lan -> echo reply from 10.0.0.1, sent on lan
t.add("lan", T0 + 2.2, c2r() / IP(src=CLIENT, dst="10.0.0.1", id=3) / ICMP(type=8, id=0x77, seq=3) / Raw(b"wan-ping"))
# 7. UDP lan -> wan host: ARP request on wan, packet waits ...
t.add("lan", T0 + 3.0, c2r() / IP(src=CLIENT, dst=SERVER, ttl=64, id=4) / UDP(sport=40000, dport=7) / Raw(b"hello"))
# 8. ... until the reply: then it leaves wan with TTL 63, router MAC as source, server MAC as destination
t.add("wan", T0 + 3.5, Ether(src=SERVER_MAC, dst=R_WAN) / ARP(op=2, hwsrc=SERVER_MAC, psrc=SERVER, hwdst=R_WAN, pdst="10.0.0.1"))
# 9. the answer comes back and is forwarded to the client (its MAC learned in step 1)
t.add("wan", T0 + 3.6, Ether(src=SERVER_MAC, dst=R_WAN) / IP(src=SERVER, dst=CLIENT, ttl=64, id=5) / UDP(sport=7, dport=40000) / Raw(b"hello"))
# 10. TTL 1 -> ICMP time exceeded from 192.168.1.10, quoting the packet
t.add("lan", T0 + 4.0, c2r() / IP(src=CLIENT, dst=SERVER, ttl=1, id=6) / TCP(sport=40001, dport=80, flags="S", seq=1000))
# 11. no route -> ICMP net unreachable
t.add("lan", T0 + 4.1, c2r() / IP(src=CLIENT, dst="8.8.8.8", id=7) / UDP(sport=40002, dport=53) / Raw(b"q"))
# 12. IP options are routed (RFC 1812), not dropped: forwarded with the Record Route option filled
#     with our outgoing address (ip_forward_options), TTL 63
t.add("lan", T0 + 4.2, c2r() / IP(src=CLIENT, dst=SERVER, id=8, options=[IPOption_RR(routers=["0.0.0.0"])]) / UDP(sport=40003, dport=7) / Raw(b"opts"))
# 13. a first fragment (MF) and a later one: the router has a virtual service, so, as the kernel's
#     ip_vs_out_hook, it reassembles them (held until complete) and sends them on as they came
t.add("lan", T0 + 4.3, c2r() / IP(src=CLIENT, dst=SERVER, id=9, flags="MF", frag=0, proto=17) / Raw(b"A" * 16))
t.add("lan", T0 + 4.31, c2r() / IP(src=CLIENT, dst=SERVER, id=9, flags=0, frag=2, proto=17) / Raw(b"B" * 8))
# 14. 1200 bytes to the MTU-1000 wan, DF set -> ICMP fragmentation needed, next-hop MTU 1000
t.add("lan", T0 + 4.4, c2r() / IP(src=CLIENT, dst=SERVER, id=10, flags="DF") / UDP(sport=40004, dport=7) / Raw(b"D" * 1172))
# 15. the same without DF -> two fragments of at most 1000 bytes on wan
t.add("lan", T0 + 4.5, c2r() / IP(src=CLIENT, dst=SERVER, id=11) / UDP(sport=40005, dport=7) / Raw(b"F" * 1172))
# 16. UDP to the router's own address: nothing listens -> ICMP port unreachable from 192.168.1.10
t.add("lan", T0 + 4.6, c2r() / IP(src=CLIENT, dst="192.168.1.10", id=12) / UDP(sport=40006, dport=53) / Raw(b"q"))
# 17. via a silent next hop (172.16/16 via 10.0.0.254): ARP request at once and after 1 s and 2 s,
#     then at 3 s the packet is dropped and the client gets ICMP host unreachable
t.add("lan", T0 + 5.0, c2r() / IP(src=CLIENT, dst="172.16.1.1", id=13) / UDP(sport=40007, dport=7) / Raw(b"lost"))
# 18. an ICMP error from the client about something: never answered with an error, even with TTL 1
t.add("lan", T0 + 5.1, c2r() / IP(src=CLIENT, dst=SERVER, ttl=1, id=14) / ICMP(type=3, code=3) / IP(src=SERVER, dst=CLIENT) / UDP(sport=1, dport=2))
t.write()

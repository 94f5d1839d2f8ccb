#!/usr/bin/python3
"""Inputs of the UDP_CHECK and DNS_CHECK health case: the hosts' answers come from simnet
(pcaps/_lib/simnet.py), which replays the case until they agree with the probes vsrouter sends.
check.py asserts what vsrouter must do, from keepalived's rules (check_udp.c, check_dns.c).

wan: 203.0.113.1/24 (02:00:00:00:00:01), VIP 203.0.113.100:53 (udp, rr): no client traffic.
lan: 10.1.0.1/24 (02:00:00:00:00:02); NAT reals
     U = 10.1.0.21:53 (02:00:00:00:aa:21): UDP_CHECK with a payload ("vsrouter check") and
         require_reply = the hex of "vsr": a reply must come and start with it. retry 0.
     N = 10.1.0.22:53 (02:00:00:00:aa:22): DNS_CHECK, dns_type A, dns_name example.test: a
         response with the query's ID and RCODE 0 passes. retry 1, delay_before_retry 0.5.
     Both: delay_loop 1, connect_timeout 1, rise 2, warmup 0 (the first probes leave at t=0).

Times are seconds after T0; every answer comes 200 µs after what it answers (simnet.DELAY_US).
  U         echoes every datagram, except from 3.9 to 6.9, when its port is closed: an ICMP port
            unreachable (the host is up) -> unreachable: ~4 down at once (retry 0), ~5, ~6 fail;
            ~7 ok, ~8 ok: up (rise 2).
  N         answers the query (one A record) with RCODE 0, except from 2.9 to 5.9: SERVFAIL
            (RCODE 2, no record) -> rcode: ~3 fails (retried 0.5 s later), ~3.5 fails: down;
            ~4.5, ~5.5 fail; ~6.5 ok, ~7.5 ok: up.
The replay ends at t=10 (args, written by simnet: --start T0 --advance up to t=10).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from simnet import UNREACHABLE, Net, phases  # noqa: E402
# The topology all health cases share (pcaps/_lib/health_case.py); check.py reads it as g.*.
from health_case import LAN_IP, R_LAN, T0, VIP, converge  # noqa: E402,F401
from scapy.all import DNS, DNSRR  # noqa: E402

VPORT = 53
U, U_MAC = "10.1.0.21", "02:00:00:00:aa:21"
N, N_MAC = "10.1.0.22", "02:00:00:00:aa:22"
RPORT = 53
END = 10.0

PAYLOAD = b"vsrouter check"  # UDP_CHECK's payload (vsrouter.toml: its hex)
REPLY_PREFIX = b"vsr"  # require_reply (its hex)
DNS_NAME, DNS_ANSWER = "example.test", "10.1.0.80"
DELAY_LOOP, CONNECT_TIMEOUT, RISE = 1.0, 1.0, 2
U_RETRY, N_RETRY, N_DELAY_BEFORE_RETRY = 0, 1, 0.5

U_PORT = phases("echo", 3.9, "closed", 6.9, "echo")
N_RCODE = phases(0, 2.9, 2, 5.9, 0)


def echo(payload, t):
    return payload if U_PORT(t) == "echo" else UNREACHABLE


def dns_server(payload, t):
    """A name server: the query's ID, question and RD; one A record when RCODE is 0."""
    q = DNS(payload)
    rcode = N_RCODE(t)
    an = DNSRR(rrname=q.qd.qname, type="A", rclass="IN", ttl=300, rdata=DNS_ANSWER) if rcode == 0 else None
    return bytes(DNS(id=q.id, qr=1, opcode=0, aa=1, rd=q.rd, ra=0, rcode=rcode, qd=q.qd, an=an))


def network():
    net = Net(HERE, T0, END)
    net.host("lan", U, U_MAC).udp(RPORT, echo)
    net.host("lan", N, N_MAC).udp(RPORT, dns_server)
    return net


def build():
    converge(network(), Trace(HERE))


if __name__ == "__main__":
    build()

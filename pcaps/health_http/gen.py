#!/usr/bin/python3
"""Inputs of the HTTP_GET health case: the hosts' answers come from simnet (pcaps/_lib/simnet.py),
which replays the case until they agree with the probes vsrouter sends. check.py asserts what
vsrouter must do, from keepalived's rules (check_http.c).

wan: 203.0.113.1/24 (02:00:00:00:00:01), VIP 203.0.113.100:80 (rr): no client traffic.
lan: 10.1.0.1/24 (02:00:00:00:00:02); NAT reals A = 10.1.0.11:8080 (02:00:00:00:aa:11) and
     B = 10.1.0.12:8080 (02:00:00:00:aa:12). Each real has one HTTP_GET on /health with the MD5
     digest of the healthy body: delay_loop 1, connect_timeout 1, retry 0 (down at the first
     failure), rise 2, warmup 0 (the first probes leave at t=0, the replay's --start).

Each real is a Linux HTTP server: it accepts the connection (SYN-ACK), and answers the request
(which our side sends with the handshake's ACK) with one segment: ACK, the whole HTTP/1.0
response and FIN. Our side then judges the response and resets the connection.
Times are seconds after T0; every answer comes 200 µs after what it answers (simnet.DELAY_US),
so a probe takes 400 µs (SYN -> SYN-ACK -> request -> response) and the checks drift by that much
a round: a probe starts delay_loop after the previous one's verdict.
  t=0       the router ARPs for A and B, answered; the first probes: 200 "healthy", ok.
  A         healthy throughout: a good probe about every second.
  B         by the time the request arrives:
              before 2.9     200 with the healthy body                     ok
              2.9 .. 5.9     200 with another body                         digest: ~3 down, ~4, ~5 fail
              5.9 .. 8.9     healthy                                       ~6 ok, ~7 ok: up (rise 2), ~8 ok
              8.9 .. 10.9    503 (with the healthy body)                   status: ~9 down, ~10 fails
              from 10.9      healthy                                       ~11 ok, ~12 ok: up, ~13 ok
The replay ends at t=14 (args, written by simnet: --start T0 --advance up to t=14).
"""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from simnet import Net, always, phases  # noqa: E402
# The topology all health cases share (pcaps/_lib/health_case.py); check.py reads it as g.*.
from health_case import LAN_IP, R_LAN, T0, VIP, converge, http_answers  # noqa: E402,F401

VPORT = 80
A, A_MAC = "10.1.0.11", "02:00:00:00:aa:11"
B, B_MAC = "10.1.0.12", "02:00:00:00:aa:12"
RPORT = 8080
PATH = "/health"
END = 14.0

HEALTHY = b"healthy\n"
CHANGED = b"degraded: disk full\n"
DIGEST = hashlib.md5(HEALTHY).hexdigest()  # the url's digest in vsrouter.toml
DELAY_LOOP, CONNECT_TIMEOUT, RETRY, RISE = 1.0, 1.0, 0, 2

# What each real answers to GET /health, as a function of time: (status, body).
A_ANSWER = always((200, HEALTHY))
B_ANSWER = phases((200, HEALTHY), 2.9, (200, CHANGED), 5.9, (200, HEALTHY), 8.9, (503, HEALTHY), 10.9, (200, HEALTHY))


def network():
    net = Net(HERE, T0, END)
    net.host("lan", A, A_MAC).tcp(RPORT, always("listen")).stream(RPORT, http_answers(A_ANSWER))
    net.host("lan", B, B_MAC).tcp(RPORT, always("listen")).stream(RPORT, http_answers(B_ANSWER))
    return net


def build():
    converge(network(), Trace(HERE))


if __name__ == "__main__":
    build()

#!/usr/bin/python3
"""Inputs of the TCP_CHECK health case: the hosts' answers come from simnet (pcaps/_lib/simnet.py),
which replays the case until they agree with the probes vsrouter sends. check.py asserts what
vsrouter must do, from keepalived's rules.

wan: 203.0.113.1/24 (02:00:00:00:00:01), VIP 203.0.113.100:80 (rr); client 203.0.113.50 (02:00:00:00:cc:50)
lan: 10.1.0.1/24 (02:00:00:00:00:02); NAT reals A = 10.1.0.11:8080 (02:00:00:00:aa:11) and
     B = 10.1.0.12:8080 (02:00:00:00:aa:12), default gateway 10.1.0.1. Each real has one
     TCP_CHECK: delay_loop 1, connect_timeout 1, retry 1 (down at the 2nd failure in a row),
     delay_before_retry 1, rise 2, warmup 0 (the first probes leave at t=0, the replay's --start).

Times are seconds after T0. Every probe is answered 200 µs after it leaves (simnet.DELAY_US), so
the checks drift by 200 µs a round: a probe leaves delay_loop after the previous one's answer.
  t=0       the router ARPs for A and B, answered; each real's first SYN, answered SYN-ACK: ok
            (our RST closes each handshake)
  A         listens throughout: a successful probe about every second.
  B         listens until t=2.9, refuses (RST) from 2.9 to 7.9, listens again from 7.9:
              ~3.0 refused (1st failure: retried after delay_before_retry), ~4.0 refused: down,
              B leaves the service; ~5, ~6, ~7 refused; ~8.0 ok, ~9.0 ok: up (rise 2), B is back.
  client    SYNs to the VIP at 1.5, 2.5 (A and B up: rr over both), 4.5, 5.5, 6.5 (B down: all
            to A), 9.5, 10.5 (B back: rr over both again). The reals answer SYN-ACK (through us,
            SNATed); the client never completes them: SYN_RECV.
The replay ends at t=11 (args, written by simnet: --start T0 --advance up to t=11).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from simnet import Net, always, phases  # noqa: E402
# The topology all health cases share (pcaps/_lib/health_case.py); check.py reads it as g.*.
from health_case import CLIENT, CLIENT_MAC, LAN_IP, R_LAN, T0, VIP, add_client_syns, converge  # noqa: E402,F401

VPORT = 80
A, A_MAC = "10.1.0.11", "02:00:00:00:aa:11"
B, B_MAC = "10.1.0.12", "02:00:00:00:aa:12"
RPORT = 8080
END = 11.0

# The reals' port as a function of time (simnet.phases), and the checkers' settings (vsrouter.toml).
A_PORT = always("listen")
B_PORT = phases("listen", 2.9, "closed", 7.9, "listen")
DELAY_LOOP, CONNECT_TIMEOUT, RETRY, DELAY_BEFORE_RETRY, RISE = 1.0, 1.0, 1, 1.0, 2

# Client SYNs: (time, client port).
SYNS = [(1.5, 40001), (2.5, 40002), (4.5, 40003), (5.5, 40004), (6.5, 40005), (9.5, 40006), (10.5, 40007)]


def network():
    net = Net(HERE, T0, END)
    net.host("wan", CLIENT, CLIENT_MAC)
    net.host("lan", A, A_MAC).tcp(RPORT, A_PORT)
    net.host("lan", B, B_MAC).tcp(RPORT, B_PORT)
    return net


def build():
    converge(network(), add_client_syns(Trace(HERE), SYNS, VPORT))


if __name__ == "__main__":
    build()

#!/usr/bin/python3
"""Inputs of the PING_CHECK health case (direct routing): the hosts' answers come from simnet
(pcaps/_lib/simnet.py), which replays the case until they agree with the probes vsrouter sends.
check.py asserts what vsrouter must do, from keepalived's rules.

wan: 203.0.113.1/24 (02:00:00:00:00:01), VIP 203.0.113.100:80 (rr); client 203.0.113.50 (02:00:00:00:cc:50)
lan: 10.2.0.1/24 (02:00:00:00:00:02); DR reals D1 = 10.2.0.21:80 (02:00:00:00:dd:21) and
     D2 = 10.2.0.22:80 (02:00:00:00:dd:22, inhibit_on_failure). They hold the VIP themselves and
     answer clients through their own gateway: only client -> VIP frames reach us, and the reals
     answer us nothing but ARP and echo replies. Each real has one PING_CHECK: delay_loop 1,
     connect_timeout 0.5, retry 1 (down at the 2nd failure in a row), delay_before_retry 1,
     rise 2, warmup 0 (the first echo requests leave at t=0, the replay's --start).

Times are seconds after T0. An echo request is answered 200 µs after it leaves (simnet.DELAY_US)
while the real answers ping; otherwise it fails at connect_timeout (timeout).
  t=0       the router ARPs for D1 and D2, answered; each real's first echo request, answered.
  D1        answers ping until 2.9 and from 7.9: ~3.0 no reply (timeout at ~3.5, retried at
            ~4.5), ~4.5 no reply: down at ~5.0, D1 leaves the service; ~6.0, ~7.5 no reply;
            ~9.0 and ~10.0 answered: up (rise 2), D1 is added back.
  D2        answers ping until 10.9: ~11.0 no reply (retried at ~12.5), ~12.5 no reply: down at
            ~13.0; inhibit_on_failure: D2 stays with weight 0, listed "inhibit" at the end.
  client    SYNs to the VIP at 1.5, 2.5 (both up), 5.5, 6.5 (D1 removed: all to D2), 10.5, 11.5,
            12.5 (both up), 13.3, 13.6 (D2 at weight 0: all to D1). DR: each leaves unchanged but
            TTL-1, to the real's MAC. Nobody completes them: SYN_RECV.
The replay ends at t=14 (args, written by simnet: --start T0 --advance up to t=14).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from simnet import Net, phases  # noqa: E402
# The topology all health cases share (pcaps/_lib/health_case.py); check.py reads it as g.*.
from health_case import CLIENT, CLIENT_MAC, R_LAN, T0, VIP, add_client_syns, converge  # noqa: E402,F401

LAN_IP = "10.2.0.1"  # this case's lan (the DR reals' subnet), not health_case's 10.1.0.1
VPORT = 80
D1, D1_MAC = "10.2.0.21", "02:00:00:00:dd:21"
D2, D2_MAC = "10.2.0.22", "02:00:00:00:dd:22"
END = 14.0

# Whether each real answers ping, as a function of time; the checkers' settings (vsrouter.toml).
D1_ECHO = phases(True, 2.9, False, 7.9, True)
D2_ECHO = phases(True, 10.9, False)
DELAY_LOOP, CONNECT_TIMEOUT, RETRY, DELAY_BEFORE_RETRY, RISE = 1.0, 0.5, 1, 1.0, 2

# Client SYNs: (time, client port).
SYNS = [(1.5, 41001), (2.5, 41002), (5.5, 41003), (6.5, 41004), (10.5, 41005), (11.5, 41006), (12.5, 41007),
        (13.3, 41008), (13.6, 41009)]


def network():
    net = Net(HERE, T0, END)
    net.host("wan", CLIENT, CLIENT_MAC)
    net.host("lan", D1, D1_MAC).echo(D1_ECHO)
    net.host("lan", D2, D2_MAC).echo(D2_ECHO)
    return net


def build():
    converge(network(), add_client_syns(Trace(HERE), SYNS, VPORT))


if __name__ == "__main__":
    build()

#!/usr/bin/python3
"""Inputs of the MISC_CHECK health case: the program's exits (in/scripts.txt) and client SYNs that
show the weights it sets; the reals' ARP answers come from simnet (pcaps/_lib/simnet.py), which
replays the case until they agree with what vsrouter sends. check.py asserts what vsrouter must
do, from keepalived's rules (check_misc.c with misc_dynamic, ip_vs_wrr.c), not from the output.

wan: 203.0.113.1/24 (02:00:00:00:00:01), VIP 203.0.113.100:80 (wrr); client 203.0.113.50 (02:00:00:00:cc:50)
lan: 10.1.0.1/24 (02:00:00:00:00:02); NAT reals M = 10.1.0.31:8080 (02:00:00:00:aa:31), weight 1,
     with one MISC_CHECK (checker 0: misc_dynamic, delay_loop 2, misc_timeout 1, warmup 0, and
     keepalived's MISC_CHECK defaults: retry 0, rise 1), and A = 10.1.0.11:8080
     (02:00:00:00:aa:11), weight 1, not checked. The reals never answer the SYNs (SYN_RECV is
     not needed to see where a SYN went).

A replay runs no program: its exits are scripts.txt's lines, each EXIT_AFTER after its probe
started and before misc_timeout; a probe starts delay_loop after the previous exit (its verdict).
Times are seconds after T0.
  t=0    probe 1            exits 4 at 0.3: passes, M's weight 2 (status - 2)
  2.3    probe 2            exits 12 at 2.6: passes, weight 10
  4.6    probe 3            exits 1 at 4.9: fails (script); retry 0: down, M leaves the service
  6.9    probe 4            exits 2 at 7.2: passes with weight 0; rise 1: up, M is back, weight 0
  client SYNs: 3 while M has weight 2 (wrr over 2 + 1: M twice, A once), 11 while it has
         weight 10 (M 10 times, A once), 2 while M is down and 2 after it is back with weight 0
         (all to A).
The replay ends at t=9, before probe 5 starts (args, written by simnet).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from simnet import Net  # noqa: E402
# The topology all health cases share (pcaps/_lib/health_case.py); check.py reads it as g.*.
from health_case import CLIENT, CLIENT_MAC, T0, VIP, add_client_syns, converge  # noqa: E402,F401

VPORT = 80
M, M_MAC = "10.1.0.31", "02:00:00:00:aa:31"
A, A_MAC = "10.1.0.11", "02:00:00:00:aa:11"
RPORT = 8080
PROGRAM = "/usr/local/bin/check-load"
CHECKER = 0  # the MISC_CHECK's index: the first checker of the config
END = 9.0

DELAY_LOOP, MISC_TIMEOUT, RETRY, RISE, WEIGHT = 2.0, 1.0, 0, 1, 1
EXIT_AFTER = 0.3  # how long the program runs
STATUSES = [4, 12, 1, 2]


def exits():
    """[(probe start, exit time, status)]: each probe starts delay_loop after the previous exit."""
    out, start = [], 0.0
    for status in STATUSES:
        out.append((start, round(start + EXIT_AFTER, 6), status))
        start = round(start + EXIT_AFTER + DELAY_LOOP, 6)
    return out


# Client SYNs: (time, client port), 3 in the weight-2 window, 11 in the weight-10 window, 2 while M is
# down, 2 with M at weight 0.
SYN_TIMES = [1.0, 1.5, 2.0] + [round(2.8 + 0.1 * i, 6) for i in range(11)] + [5.5, 6.5, 7.5, 8.5]
SYNS = [(at, 44001 + i) for i, at in enumerate(SYN_TIMES)]


def scripts_txt():
    return "".join(f"{round((T0 + at) * 1000000)} {CHECKER} {status}\n" for _, at, status in exits())


def network():
    net = Net(HERE, T0, END)
    net.host("wan", CLIENT, CLIENT_MAC)
    net.host("lan", M, M_MAC)
    net.host("lan", A, A_MAC)
    return net.input_file("scripts.txt", scripts_txt())


def build():
    converge(network(), add_client_syns(Trace(HERE), SYNS, VPORT))


if __name__ == "__main__":
    build()

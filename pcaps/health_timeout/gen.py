#!/usr/bin/python3
"""Inputs of the silent-real health case: the hosts' answers come from simnet
(pcaps/_lib/simnet.py), which replays the case until they agree with the probes vsrouter sends.
check.py asserts what vsrouter must do, from keepalived's rules and the neighbour cache's.

wan: 203.0.113.1/24 (02:00:00:00:00:01), VIP 203.0.113.100:80 (rr); client 203.0.113.50 (02:00:00:00:cc:50)
lan: 10.1.0.1/24 (02:00:00:00:00:02); NAT reals A = 10.1.0.11:8080 (02:00:00:00:aa:11), always
     there, and S = 10.1.0.13:8080 (02:00:00:00:aa:13), which is gone from t=25: it answers
     nothing at all, ARP included. Each real has one TCP_CHECK: delay_loop 10, connect_timeout 4,
     retry 1 (down at the 2nd failure in a row), delay_before_retry 3, rise 1, warmup 0.
Neighbour cache (src/neigh.hpp): an entry is reachable 60 s after the ARP reply that taught it;
used after that it still carries frames to the MAC it knows and is re-confirmed by unicast
requests from 5 s after that use, 1 s apart, 3 in all, then released; a resolution from scratch
sends 3 broadcast requests 1 s apart and gives up 1 s after the last.

Times are seconds after T0; every answer comes 200 µs after what it answers (simnet.DELAY_US).
  t=0        ARP for A and S, answered (both entries reachable until ~60); first SYNs: SYN-ACK, ok.
  ~10, ~20   both probes ok. t=25 S is gone.
  ~30        S's SYN (retransmitted at +1 s and +3 s, the RTO doubling) unanswered: timeout at
             +4 (1st failure), retried 3 s later (~37): timeout again at ~41: S down, removed.
  ~51        S's probe times out (S's entry is still reachable: the SYN leaves to S's MAC).
  ~60        A's entry has expired: still used for A's probe, re-confirmed by a unicast request
             5 s later (~65), which A answers.
  ~65        S's entry has expired: the SYN still leaves to S's MAC while S is re-confirmed from
             ~70 (unicast ARP, unanswered); timeout at ~69; the entry is released at ~73.
  ~79        S's probe starts a resolution from scratch: broadcast ARP at ~79, ~80, ~81, no
             answer: at ~82 the probe fails with no_neighbour (before its timeout, ~83); the SYN
             waiting for it is dropped with no ICMP error (the router sent it to itself).
  client     SYNs at 5, 15 (both up: rr, S first), 45 and 55 (S down: to A).
The replay ends at t=90 (args, written by simnet: --start T0 --advance up to t=90).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from simnet import Net, always, phases  # noqa: E402
# The topology all health cases share (pcaps/_lib/health_case.py); check.py reads it as g.*.
from health_case import CLIENT, CLIENT_MAC, LAN_IP, T0, VIP, add_client_syns, converge  # noqa: E402,F401

VPORT = 80
A, A_MAC = "10.1.0.11", "02:00:00:00:aa:11"
S, S_MAC = "10.1.0.13", "02:00:00:00:aa:13"
RPORT = 8080
END = 90.0

S_UP = phases(True, 25.0, False)  # S answers anything (ARP included) only before t=25
DELAY_LOOP, CONNECT_TIMEOUT, RETRY, DELAY_BEFORE_RETRY, RISE = 10.0, 4.0, 1, 3.0, 1

# Client SYNs: (time, client port).
SYNS = [(5.0, 42001), (15.0, 42002), (45.0, 42003), (55.0, 42004)]


def network():
    net = Net(HERE, T0, END)
    net.host("wan", CLIENT, CLIENT_MAC)
    net.host("lan", A, A_MAC).tcp(RPORT, always("listen"))
    net.host("lan", S, S_MAC, up=S_UP).tcp(RPORT, always("listen"))
    return net


def build():
    converge(network(), add_client_syns(Trace(HERE), SYNS, VPORT))


if __name__ == "__main__":
    build()

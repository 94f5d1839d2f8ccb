#!/usr/bin/python3
"""Inputs of the vrrp_script case: the script's exits (in/scripts.txt, as `vsrouter run --capture`
records them) and a peer's adverts. check.py works out what vsrouter must do from keepalived's
rules (docs/vrrp.md, "Scripts").

wan: 203.0.113.1/24 (02:00:00:00:00:01). VRRP VI_1 on wan: VRID 51, version 2, advert_int 1,
     priority 152, the VIP 203.0.113.100; it tracks vrrp_script chk (interval 1, weight -60,
     rise 2, fall 2; timeout: the interval). The peer P = 203.0.113.2 (02:00:00:00:00:f2) has
     priority 100 and is silent until the director's priority falls below it.
Priorities whose Skew_Time is a whole number of microseconds ((256 - p) / 256 s: p a multiple of
4 away from 256): 152 and 92 (= 152 - 60), and P's 100.

Times are seconds after T0. The script runs at 0, 1, 2, ... (each run when VRRP starts and every
interval after); run k exits at k + 0.05 with EXITS[k], except run 10, which never exits: its
timeout (1 s) stops it at 11.0, a failure.
  0.05       first exit 0: chk up (one success is enough at the start), priority 152.
  3.40625    no master heard for Master_Down_Interval (3 + 104/256): MASTER, adverts at 152.
  4.05 5.05  two failures (fall 2): chk down at 5.05, priority 92; the adverts say 92.
  6.5        P (100) advertises: higher than 92: one advert of ours, then BACKUP.
  7.5        P's advert restarts the Master_Down timer (100 >= 92): 7.5 + 3 + 164/256.
  7.05 8.05  two successes (rise 2): chk up at 8.05, priority 152; keepalived moves the
             backup's timer by the change of Skew_Time: 11.140625 - 0.234375 = 10.90625.
  8.5 .. 10.5  P's adverts (100 < 152): discarded, as a preempting backup does.
  10.90625   MASTER again (master_down).
  11.0       run 10 stopped at its timeout: a failure, but one (fall 2): chk stays up.
The replay ends at 12.5 (args: --advance 1.45 after the last record, run 11's exit at 11.05).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
import vrrp_case  # noqa: E402

T0 = 1700000000.0
END = 12.5
R_WAN, WAN_IP = "02:00:00:00:00:01", "203.0.113.1"
VIP = "203.0.113.100"
PEER, PEER_MAC = "203.0.113.2", "02:00:00:00:00:f2"

VRID, PRIORITY, ADVERT_INT, VERSION = 51, 152, 1, 2
GARP_REPEAT, GARP_DELAY = 5, 5.0
WEIGHT, RISE, FALL, INTERVAL, TIMEOUT = -60, 2, 2, 1.0, 1.0
SCRIPT_ID = 2147483648 + 0  # a vrrp_script's id in scripts.txt: 2^31 + its index
PEER_PRIORITY = 100
PEER_ADVERTS = [6.5, 7.5, 8.5, 9.5, 10.5]
EXIT_AFTER = 0.05
# Run k's exit status; None: it never exits (stopped at its timeout).
EXITS = [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, None, 0]


def scripts_txt():
    return "".join(f"{round((T0 + k + EXIT_AFTER) * 1000000)} {SCRIPT_ID} {st}\n"
                   for k, st in enumerate(EXITS) if st is not None)


def last_record():
    """The replay's last record: a frame or a script's exit (its clock then runs `--advance` on)."""
    return max(max(PEER_ADVERTS), max(k + EXIT_AFTER for k, st in enumerate(EXITS) if st is not None))


def build():
    t = Trace(HERE)
    for at in PEER_ADVERTS:
        t.add("wan", T0 + at, vrrp_case.advert(PEER, PEER_MAC, VRID, PEER_PRIORITY, (VIP,)))
    t.write()
    with open(os.path.join(HERE, "in", "scripts.txt"), "w") as f:
        f.write(scripts_txt())
    with open(os.path.join(HERE, "args"), "w") as f:
        f.write(f"--start {int(T0)} --advance {END - last_record():.6f}\n")


if __name__ == "__main__":
    build()

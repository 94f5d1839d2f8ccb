#!/usr/bin/python3
"""Long-lived TCP connections through a VIP, for the scale-out e2e (tests/e2e/scale.sh).

flows.py VIP PORT COUNT DIR: opens COUNT connections to VIP:PORT (each from its own port), then
sends one line on every connection every 0.2 s. The server (a real) answers each line with
"NAME LINE". The script records, per connection, the real that answered first and every line
answered since; a reset, an end of stream or an answer from another real is counted. It writes
DIR/flows-ready when every connection has had its first answer, and DIR/flows-status (JSON) every
second. When DIR/flows-stop appears it sends a last line on each connection, waits up to 20 s for
every answer, writes the final status and exits 0 (the caller judges the numbers)."""
import json
import os
import selectors
import socket
import sys
import time

vip, port, count, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sel = selectors.DefaultSelector()
conns = []
for i in range(count):
    s = socket.create_connection((vip, port), timeout=10)
    s.setblocking(False)
    c = {"i": i, "sock": s, "buf": b"", "real": None, "sent": 0, "answered": 0, "dead": None, "moved": 0,
         "last": ""}
    conns.append(c)
    sel.register(s, selectors.EVENT_READ, c)


def send(c, text):
    if c["dead"]:
        return
    try:
        c["sock"].sendall(f"{c['i']} {text}\n".encode())
        c["sent"] += 1
    except OSError as e:
        c["dead"] = f"send: {e.__class__.__name__} {e}"


def poll(timeout):
    for key, _ in sel.select(timeout):
        c = key.data
        try:
            d = c["sock"].recv(65536)
        except OSError as e:
            c["dead"] = f"recv: {e.__class__.__name__} {e}"
            sel.unregister(c["sock"])
            continue
        if not d:
            c["dead"] = "end of stream"
            sel.unregister(c["sock"])
            continue
        c["buf"] += d
        while b"\n" in c["buf"]:
            line, c["buf"] = c["buf"].split(b"\n", 1)
            name = line.split(b" ", 1)[0].decode()
            if c["real"] is None:
                c["real"] = name
            elif name != c["real"]:
                c["moved"] += 1
            c["answered"] += 1
            c["last"] = line.decode()


def status(final=False):
    reals = {}
    for c in conns:
        reals[c["real"]] = reals.get(c["real"], 0) + 1
    st = {"connections": count, "reals": reals, "dead": [c["i"] for c in conns if c["dead"]],
          "why": sorted({c["dead"] for c in conns if c["dead"]}), "moved": sum(c["moved"] for c in conns),
          "unanswered": [c["i"] for c in conns if c["answered"] < c["sent"]], "final": final,
          "lines": sum(c["answered"] for c in conns)}
    tmp = os.path.join(out, "flows-status.tmp")
    with open(tmp, "w") as f:
        json.dump(st, f)
    os.replace(tmp, os.path.join(out, "flows-status"))
    return st


for c in conns:
    send(c, "hello")
deadline = time.time() + 20
while time.time() < deadline and any(c["answered"] == 0 and not c["dead"] for c in conns):
    poll(0.1)
status()
open(os.path.join(out, "flows-ready"), "w").close()
next_round = next_status = time.time()
while not os.path.exists(os.path.join(out, "flows-stop")):
    now = time.time()
    if now >= next_round:
        for c in conns:
            send(c, "ping")
        next_round = now + 0.2
    if now >= next_status:
        status()
        next_status = now + 1
    poll(0.05)
for c in conns:
    send(c, "final")
deadline = time.time() + 20
while time.time() < deadline and any(c["answered"] < c["sent"] and not c["dead"] for c in conns):
    poll(0.1)
status(final=True)

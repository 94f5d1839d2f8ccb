#!/usr/bin/env python3
"""vsrouter run under a Type=notify unit, without systemd (docs/operations.md).

The test plays systemd's part: it binds the AF_UNIX datagram socket named by NOTIFY_SOCKET and
reads what the daemon sends (sd_notify(3)): READY=1 with STATUS= once it runs, RELOADING=1 then
READY=1 around a SIGHUP reload (a good config, then a bad one that is refused), SIGUSR2's successor
failing on the bad file (the daemon serves on), then taking over (MAINPID= names it), STOPPING=1 on
SIGTERM. With JOURNAL_STREAM naming its stderr (systemd.exec(5)), every log line starts with its
sd-daemon(3) priority; without it, the lines keep their "vsrouter: LEVEL: " form.

The daemon runs in a fresh network namespace (unshare -n), where it creates its TAP: root only.
Usage: notify.py VSROUTER. Exit 77 (skip) without root, unless CI=true (then a failure).
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

CONFIG = """
[[interfaces]]
name = "lan"
tap = "vsnotify0"
mac = "02:00:00:00:0e:01"
addresses = ["10.0.0.1/24"]

[[services]]
protocol = "tcp"
address = "10.0.0.100:80"
scheduler = "rr"
  [[services.reals]]
  address = "10.0.0.11:80"
"""


def fail(msg):
    print(f"[notify] FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def require_root():
    if os.geteuid() == 0 and os.path.exists("/dev/net/tun"):
        return
    if os.environ.get("CI") == "true":
        fail("needs root and /dev/net/tun, and CI must run it")
    print("SKIPPED: the notify test needs root (a TAP device in a network namespace)", file=sys.stderr)
    sys.exit(77)


class Daemon:
    def __init__(self, vsrouter, work, name, journal):
        self.work = work
        self.cfg = os.path.join(work, "vsrouter.toml")
        self.sock_path = os.path.join(work, f"{name}.notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.log_path = os.path.join(work, f"{name}.stderr")
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, NOTIFY_SOCKET=self.sock_path)
        env.pop("JOURNAL_STREAM", None)
        if journal:
            st = os.fstat(self.log.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        self.proc = subprocess.Popen(
            ["unshare", "-n", vsrouter, "run", "-c", self.cfg, "--control", os.path.join(work, f"{name}.ctl"),
             "--log-level", "info"],
            env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        self.seen = []

    def expect(self, *assignments, timeout=10.0):
        """Reads datagrams until one holds every assignment; returns its lines."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                fail(f"no datagram with {assignments} (exit {self.proc.poll()}); got {self.seen}; "
                     f"stderr: {self.stderr()!r}")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            self.seen.append(data)
            lines = data.split("\n")
            if all(any(line == a or (a.endswith("=") and line.startswith(a)) for line in lines)
                   for a in assignments):
                return lines

    def stderr(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.expect("STOPPING=1")
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("did not stop within 10 s of SIGTERM")
        if rc != 0:
            fail(f"exit status {rc} after SIGTERM; stderr: {self.stderr()!r}")
        self.sock.close()
        self.log.close()


def status_of(lines):
    return next(line[len("STATUS="):] for line in lines if line.startswith("STATUS="))


def main():
    if len(sys.argv) != 2:
        print("usage: notify.py VSROUTER", file=sys.stderr)
        sys.exit(2)
    vsrouter = os.path.abspath(sys.argv[1])
    require_root()
    with tempfile.TemporaryDirectory(prefix="vsrouter-notify.") as work:
        with open(os.path.join(work, "vsrouter.toml"), "w") as f:
            f.write(CONFIG)

        # --- under "systemd": notifications, and priorities on the journal stream -----------------
        d = Daemon(vsrouter, work, "journal", journal=True)
        try:
            st = status_of(d.expect("READY=1", "STATUS="))
            if st != "1 interfaces, 1 services, 0 connections":
                fail(f"STATUS= at start: {st!r}")
            print(f"[notify] READY=1, STATUS={st}")

            with open(d.cfg, "a") as f:  # one more real: a good reload
                f.write('  [[services.reals]]\n  address = "10.0.0.12:80"\n')
            d.proc.send_signal(signal.SIGHUP)
            d.expect("RELOADING=1", "MONOTONIC_USEC=")
            st = status_of(d.expect("READY=1", "STATUS="))
            if st != "1 interfaces, 1 services, 0 connections":
                fail(f"STATUS= after a reload: {st!r}")
            print("[notify] SIGHUP: RELOADING=1, then READY=1")

            with open(d.cfg, "a") as f:  # a bad file: refused, the running config stays
                f.write("wieght = 3\n")
            d.proc.send_signal(signal.SIGHUP)
            d.expect("RELOADING=1")
            st = status_of(d.expect("READY=1", "STATUS="))
            if "reload refused" not in st:
                fail(f"STATUS= after a refused reload does not say so: {st!r}")
            print(f"[notify] refused reload: READY=1, STATUS={st}")

            # SIGUSR2: the daemon starts its successor (docs/handover.md), which takes over; the
            # old one names it the main process (MAINPID=) and exits 0. The successor inherited
            # NOTIFY_SOCKET: its own READY=1 comes to the same socket.
            # First with the bad file still there: the successor cannot start, the daemon serves on.
            d.proc.send_signal(signal.SIGUSR2)
            deadline = time.monotonic() + 10
            while "without taking over; serving on" not in d.stderr() and time.monotonic() < deadline:
                time.sleep(0.05)
            if "without taking over; serving on" not in d.stderr() or d.proc.poll() is not None:
                fail(f"SIGUSR2 with a bad config file: the daemon did not say it serves on: {d.stderr()!r}")
            print("[notify] SIGUSR2 with a bad file: the successor exited, the daemon serves on")
            with open(d.cfg, "w") as f:
                f.write(CONFIG)
            n0 = len(d.seen)
            d.proc.send_signal(signal.SIGUSR2)
            lines = d.expect("MAINPID=")
            succ = int(next(line for line in lines if line.startswith("MAINPID="))[len("MAINPID="):])
            if succ == d.proc.pid:
                fail("MAINPID= names the old process")
            try:
                rc = d.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                fail("the old process still runs 10 s after it named its successor")
            if rc != 0:
                fail(f"the old process exited with {rc} after the handover")
            if not any("READY=1" in x.split("\n") for x in d.seen[n0:]):
                d.proc = subprocess.Popen(["sleep", "30"])  # expect() needs a live process to wait on
                d.expect("READY=1")
                d.proc.kill()
            print(f"[notify] SIGUSR2: MAINPID={succ} (the successor), the old process exited 0")
            os.kill(succ, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while os.path.exists(f"/proc/{succ}") and time.monotonic() < deadline:
                time.sleep(0.05)
            if os.path.exists(f"/proc/{succ}"):
                fail("the successor did not stop within 10 s of SIGTERM")
        finally:
            if d.proc.poll() is None:
                d.stop()
        err = d.stderr()
        lines = err.splitlines()
        if not lines or not all(line[:3] in ("<3>", "<4>", "<6>", "<7>") for line in lines):
            fail(f"log lines on the journal stream without a priority prefix: {err!r}")
        for want in ("<6>info: interface lan on TAP vsnotify0", "<6>info: reloaded ",
                     "<4>warn: reload refused, running config kept: ", "<6>info: stopped"):
            if not any(line.startswith(want) for line in lines):
                fail(f"no line starting {want!r} in: {err!r}")
        print(f"[notify] journal stream: {len(lines)} lines, each with its priority")

        # --- by hand: no JOURNAL_STREAM, today's format -----------------------------------------
        with open(os.path.join(work, "vsrouter.toml"), "w") as f:
            f.write(CONFIG)
        d = Daemon(vsrouter, work, "plain", journal=False)
        try:
            d.expect("READY=1")
        finally:
            if d.proc.poll() is None:
                d.stop()
        lines = d.stderr().splitlines()
        if not lines or not all(line.startswith("vsrouter: ") for line in lines):
            fail(f"plain stderr lines changed: {lines!r}")
        print("[notify] plain stderr: 'vsrouter: LEVEL: ' lines")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()

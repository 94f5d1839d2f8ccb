#!/usr/bin/env python3
"""vsadm's own behaviour, without vsrouter (no root, no TAP).

  -h/--help   answered by vsadm itself: exit 0, the usage on stdout, even with no daemon at all
              (ctl_test HelpIsTheSharedUsageText pins that the daemon prints the same bytes).
  -R          one request per line (protocol.hpp kRestoreLine); vsadm stops where the daemon says
              ipvsadm would have exited (kRestoreStop) and goes on otherwise, as ipvsadm 1.31's
              restore_table() does (see ctl_test RestoreStopsWhereIpvsadmExits for the source).
              A stand-in daemon answers here, so this pins vsadm's side only.

Usage: vsadm_cli.py VSADM
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading

VSADM = sys.argv[1]
TRYHELP = "Try `vsadm -h' or 'vsadm --help' for more information.\n"
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def run(args, stdin=""):
    return subprocess.run([VSADM] + args, input=stdin, capture_output=True, text=True, timeout=30)


# --- -h / --help with no daemon ---------------------------------------------------------------
nowhere = ["--control", "/nonexistent/vsrouter.sock"]
h = run(nowhere + ["-h"])
check(h.returncode == 0, f"-h exit {h.returncode}: {h.stderr}")
check(h.stdout.startswith("ipvsadm v1.31 ") and "\nUsage:\n  vsadm -A|E virtual-service" in h.stdout,
      "-h prints the usage")
check(h.stderr == "", f"-h stderr: {h.stderr!r}")
for args in (["--help"], ["-h", "-L"]):
    o = run(nowhere + args)
    check(o.returncode == 0 and o.stdout == h.stdout, f"{args} prints the same usage")
o = run(nowhere + ["-L"])
check(o.returncode == 2 and "Is vsrouter running?" in o.stderr, "-L without a daemon says why")


# --- -R against a stand-in daemon -------------------------------------------------------------
def answer(words):
    """(exit code, stdout, stderr) as the daemon's execute_restore_line() would answer."""
    stop = 0x100
    if words[0].startswith("#"):
        return 255 | stop, "", TRYHELP
    if "--bogus" in words:
        return 255, "", "--bogus: unknown option\n"
    if words[0] == "-A" and "dup" in words:
        return 255, "", "Service already exists\n"
    if words[0] == "-A" and "-w" in words:
        return 2 | stop, "", "Illegal 'weight' option with the 'add-service' command\n"
    return 0, "", ""


requests = []


def serve(srv):
    while True:
        try:
            c, _ = srv.accept()
        except OSError:
            return
        with c:
            c.settimeout(10)
            buf = b""
            while True:
                d = c.recv(65536)
                if not d:
                    break
                buf += d
            n = struct.unpack(">I", buf[:4])[0]
            args = [a.decode() for a in buf[4:4 + n].split(b"\0")[:-1]]
            requests.append(args)
            code, out, err = answer(args[1:]) if args[0] == "--vsadm-restore-line" else (99, "", "bad\n")
            c.sendall(struct.pack(">II", code, len(out)) + out.encode() + struct.pack(">I", len(err)) + err.encode())


with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "ctl.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    threading.Thread(target=serve, args=(srv,), daemon=True).start()
    ctl = ["--control", path]

    # A popt error and a kernel error: printed, the restore goes on; a `#` line ends it (255).
    requests.clear()
    o = run(ctl + ["-R"], "ipvsadm -A -t 10.0.0.5:80\n-L --bogus\n\n-A -t dup\n# ipvsadm.rules\n-A -t 10.0.0.6:80\n")
    check(o.returncode == 255, f"# line: exit {o.returncode}")
    check(o.stderr == "--bogus: unknown option\nService already exists\n" + TRYHELP, f"# line: stderr {o.stderr!r}")
    check([r[1:] for r in requests] == [["-A", "-t", "10.0.0.5:80"], ["-L", "--bogus"], ["-A", "-t", "dup"],
                                        ["#", "ipvsadm.rules"]], f"# line: requests {requests}")

    # A kernel error on the last line: 255, not a stop, every line sent.
    requests.clear()
    o = run(ctl + ["-R"], "-A -t 10.0.0.5:80\n-A -t dup")
    check(o.returncode == 255 and len(requests) == 2, f"kernel error last: exit {o.returncode}, {requests}")

    # A usage error stops with 2.
    requests.clear()
    o = run(ctl + ["-R"], "-A -t 10.0.0.5:80 -w 1\n-A -t 10.0.0.6:80\n")
    check(o.returncode == 2 and len(requests) == 1, f"usage error: exit {o.returncode}, {requests}")

    # All good: 0.
    requests.clear()
    o = run(ctl + ["-R"], "-A -t 10.0.0.5:80\n\n   \n-A -t 10.0.0.6:80\n")
    check(o.returncode == 0 and len(requests) == 2, f"good input: exit {o.returncode}, {requests}")
    srv.close()

print(f"{0 if failures else 1} passed, {failures} failed")
sys.exit(1 if failures else 0)

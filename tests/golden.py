#!/usr/bin/python3
"""Golden replay test for one case directory pcaps/<case>/.

A case holds:
  vsrouter.toml    the config
  gen.py           the Scapy script that wrote in/ (kept so the inputs can be re-made and read)
  in/<iface>.pcap  the input frames
  expected/        <iface>.pcap for every interface, and list.txt (stdout of --list) if present
  args             optional extra replay arguments, e.g. "--advance 5"
  check.py         optional semantic checks on the output (check(out_dir) raising AssertionError)

The case passes when the replay output equals expected/ byte for byte, a second replay gives the
same bytes (determinism), every IPv4 frame vsrouter sent has valid checksums as Scapy computes them
(IPv4 header; TCP/UDP/ICMP of unfragmented datagrams; the inner datagram of IPIP; the quoted IPv4
header of ICMP errors), and check.py (if any) accepts the output. On a mismatch it prints both
sides decoded with Scapy, record by record. With --update it writes the output into expected/
(review the printed trace before committing: this is how fixtures are minted).
"""
import argparse
import filecmp
import importlib.util
import os
import shutil
import subprocess
import sys


def replay(vsrouter, case, out, extra):
    cmd = [vsrouter, "replay", "-c", os.path.join(case, "vsrouter.toml"), "--in", os.path.join(case, "in"),
           "--out", out, "--list", "--list-conns"] + extra
    shutil.rmtree(out, ignore_errors=True)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {r.returncode}\n{r.stderr}")
    with open(os.path.join(out, "list.txt"), "w") as f:
        f.write(r.stdout)
    return cmd


def decode(path):
    from scapy.all import rdpcap  # imported lazily: only needed to explain a failure
    try:
        return [f"{p.time:.6f} {p.summary()}  [{bytes(p).hex()}]" for p in rdpcap(path)]
    except Exception as e:  # an empty or broken file still gets a readable line
        return [f"<cannot decode {path}: {e}>"]


def checksum_problems(out_dir):
    """Every IPv4 frame in the output pcaps, checked with Scapy's own checksum code."""
    from scapy.all import ICMP, IP, TCP, UDP, IPerror, rdpcap

    def ip_ok(ip):
        fresh = IP(bytes(ip)[: ip.ihl * 4])
        want = fresh.chksum
        del fresh.chksum
        return IP(bytes(fresh)).chksum == want

    def l4_ok(ip):
        if ip.frag or ip.flags.MF or ip.len > len(bytes(ip)):
            return True  # fragments (and cut quotes) carry no checkable transport checksum
        for L in (TCP, UDP, ICMP):
            if ip.haslayer(L) and ip.getlayer(L).underlayer is ip:
                layer = ip[L]
                if L is UDP and layer.chksum == 0:
                    return True
                copy = IP(bytes(ip))
                del copy[L].chksum
                return IP(bytes(copy))[L].chksum == layer.chksum
        return True

    problems = []
    for name in sorted(os.listdir(out_dir)):
        if not name.endswith(".pcap") or os.path.getsize(os.path.join(out_dir, name)) <= 24:
            continue
        for i, p in enumerate(rdpcap(os.path.join(out_dir, name))):
            if IP not in p:
                continue
            ip = p[IP]
            what = f"{name} #{i + 1} {p.summary()}"
            if not ip_ok(ip):
                problems.append(f"{what}: bad IPv4 header checksum")
            elif not l4_ok(ip):
                problems.append(f"{what}: bad transport checksum")
            if ip.proto == 4 and not ip.frag and isinstance(ip.payload, IP):
                inner = ip.payload
                if not ip_ok(inner) or not l4_ok(inner):
                    problems.append(f"{what}: bad checksum in the IPIP inner datagram")
            if IPerror in p and len(bytes(p[IPerror])) >= 20:
                q = p[IPerror]
                fresh = IP(bytes(q)[: q.ihl * 4])
                want = fresh.chksum
                del fresh.chksum
                if IP(bytes(fresh)).chksum != want:
                    problems.append(f"{what}: bad IPv4 checksum in the quoted datagram")
    return problems


def explain(name, want, got):
    print(f"--- {name}: expected vs actual")
    if name.endswith(".txt"):
        import difflib
        with open(want) as a, open(got) as b:
            sys.stdout.writelines(difflib.unified_diff(a.readlines(), b.readlines(), "expected", "actual"))
        return
    w, g = decode(want), decode(got)
    for i in range(max(len(w), len(g))):
        a = w[i] if i < len(w) else "<missing>"
        b = g[i] if i < len(g) else "<missing>"
        mark = "  " if a == b else "!!"
        print(f"{mark} #{i + 1}\n   expected {a}\n   actual   {b}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vsrouter", required=True)
    ap.add_argument("--case", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--update", action="store_true")
    a = ap.parse_args()

    case = os.path.abspath(a.case)
    name = os.path.basename(case)
    extra = []
    if os.path.exists(os.path.join(case, "args")):
        extra = open(os.path.join(case, "args")).read().split()
    out = os.path.join(a.work, name, "out")
    out2 = os.path.join(a.work, name, "out2")
    cmd = replay(a.vsrouter, case, out, extra)
    expected = os.path.join(case, "expected")

    if a.update:
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(out, expected)
        print(f"updated {expected}; review it with: {' '.join(cmd)} --trace")
        return 0

    failed = False
    want_files = sorted(os.listdir(expected)) if os.path.isdir(expected) else []
    got_files = sorted(os.listdir(out))
    if want_files != got_files:
        print(f"FAIL: output files {got_files} != expected {want_files}")
        failed = True
    for f in want_files:
        if f in got_files and not filecmp.cmp(os.path.join(expected, f), os.path.join(out, f), shallow=False):
            print(f"FAIL: {f} differs from expected")
            explain(f, os.path.join(expected, f), os.path.join(out, f))
            failed = True

    replay(a.vsrouter, case, out2, extra)
    for f in got_files:
        if not filecmp.cmp(os.path.join(out, f), os.path.join(out2, f), shallow=False):
            print(f"FAIL: {f} differs between two identical replays (not deterministic)")
            failed = True

    problems = checksum_problems(out)
    if problems:
        print("FAIL: checksums (Scapy):")
        for p in problems:
            print("  " + p)
        failed = True

    check = os.path.join(case, "check.py")
    if os.path.exists(check):
        spec = importlib.util.spec_from_file_location(f"check_{name}", check)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        try:
            n = mod.check(out)
            print(f"check.py: {n} semantic checks passed")
        except AssertionError as e:
            print(f"FAIL: check.py: {e}")
            failed = True

    if failed:
        print(f"replay command: {' '.join(cmd)} --trace")
        return 1
    print(f"ok: {name} ({len(want_files)} files identical, deterministic)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

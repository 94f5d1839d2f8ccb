#!/usr/bin/python3
"""Kernel-differential suite: the same scenario through Linux IPVS and through vsrouter.

usage: kdiff.py --vsrouter BIN --vsadm BIN [--cache DIR] [--out DIR] [SCENARIO...]

Run inside a network namespace of its own (kdiff.sh makes one and removes it). Boots the kernel
VM once; for each scenario (scenarios.py), both directors start clean with the same interfaces,
get the same ipvsadm command lines and the same client frames at the same pace (while simulated
hosts answer ARP and NAT reals answer what reaches them), and then list their tables. Compared:

  frames <iface>   every frame each director sent on that interface, in order, after the
                   normaliser: ARP left out (neighbour resolution is each stack's own timing),
                   IPv4 identification and header checksum zeroed (the kernel's ip_select_ident
                   is a hash with a secret); everything else byte for byte
  cmd N            each ipvsadm/vsadm command: exit status, stdout and stderr, exact bytes
  list ARGS        each listing, exact text; in -c listings the expire column is masked and the
                   entries sorted (the kernel prints in hash order, with wall-clock expiry)

Each scenario prints `same`, or `deviation` naming its entry in docs/services.md when every
difference is in a view the scenario documents, or `DIFFERENT` with both sides (and fails).
"""
import argparse
import difflib
import os
import re
import socket
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logging  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
import director  # noqa: E402
import scenarios  # noqa: E402
import topo  # noqa: E402
import vm as vmmod  # noqa: E402

PACKET_OUTGOING = 4
SEND_GAP = 0.04  # seconds between two scripted frames: a TCG guest answers well within it
SETTLE = 0.6     # after the last step, for the last answers
QUIET = 4        # seconds no entry may expire in while both sides list (the listings take ~1 s under TCG)
STATS_FOLD = 2.3  # the kernel folds per-CPU counters into -L --stats every 2 s (ip_vs_est.c)


class Wire:
    """One TAP of a director: a thread records what the director sends and lets the simulated
    hosts answer; `send` injects a frame."""

    def __init__(self, iface, tap, hosts):
        self.iface = iface
        # The host side may send frames as long as the scenario's (the malformed case has some
        # past 9014 bytes); the directors' own MTUs are set inside them.
        subprocess.run(["ip", "link", "set", "dev", tap, "mtu", "65521"], check=True)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
        self.sock.bind((tap, 0))
        self.sock.settimeout(0.05)
        self.hosts = hosts
        self.frames = []
        self.stop = False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop:
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == PACKET_OUTGOING:  # what we sent ourselves
                continue
            self.frames.append(data)
            with self.lock:
                replies = self.hosts.answer(self.iface, data)
            for r in replies:
                self.sock.send(bytes(r))

    def send(self, frame):
        frame = bytes(frame)
        if len(frame) < 15:  # AF_PACKET refuses frames without a byte past the Ethernet header
            return
        self.sock.send(frame)

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def expiring_soon(d):
    """Seconds until the soonest expiry in d's connection table (a large number if none)."""
    rc, out, _ = d.cmd("-Lnc")
    soon = 1e9
    for line in out.decode(errors="replace").splitlines():
        m = _EXPIRE.match(line)
        if m:
            mm, ss = line.split()[1].split(":")
            soon = min(soon, int(mm) * 60 + int(ss))
    return soon


def quiet_moment(d):
    """Waits (on the kernel's side) until no entry expires within the next QUIET seconds; returns
    the time waited, which the other side then waits too."""
    waited = 0.0
    for _ in range(8):
        soon = expiring_soon(d)
        if soon >= QUIET:
            break
        time.sleep(soon + 1.2)
        waited += soon + 1.2
    return waited


def run_side(d, sc, result, sync, shared, steps=None):
    """Runs scenario `sc` on director `d` (with `steps` instead of the scenario's, if given); fills
    result with the records to compare."""
    rec = []
    try:
        d.start(sc)
        hosts = topo.Hosts(real_answers=sc.real_answers, table=sc.hosts)
        wires = {i["name"]: Wire(i["name"], d.taps[i["name"]], hosts) for i in sc.interfaces}
        for line in sc.setup:
            rc, out, err = d.cmd(line)
            if rc != 0:
                rec.append((f"setup `{line}`", f"exit {rc}\n{out.decode()}{err.decode()}"))
        # The two sides keep step: the kernel's commands go through the VM's control channel and
        # take longer, so both start sending together and meet again before every command or
        # listing (otherwise the kernel's side lags, and timers that expire near a listing differ).
        sync.wait()
        n = 0
        for step in sc.steps if steps is None else steps:
            kind = step[0]
            if kind in ("cmd", "list"):
                sync.wait()
            if kind == "send":
                wires[step[1]].send(step[2])
                time.sleep(SEND_GAP)
            elif kind == "wait":
                time.sleep(step[1])
            elif kind in ("cmd", "list"):
                n += 1
                if kind == "list" and "--stats" in step[1]:
                    time.sleep(STATS_FOLD)
                rc, out, err = d.cmd(step[1])
                text = out.decode(errors="replace")
                if kind == "list":
                    text = normalise_listing(step[1], text)
                rec.append((f"{kind} {n} `{step[1]}`", f"exit {rc}\n{text}{err.decode(errors='replace')}"))
        time.sleep(SETTLE)
        if any("--stats" in v for v in sc.views):
            time.sleep(STATS_FOLD)
        # Both directors list at a moment when no entry is about to expire (an entry expiring
        # between the two listings would differ by a few milliseconds of pace): the kernel's side
        # looks, both wait the same.
        sync.wait()
        if d.name == "kernel":
            shared["delay"] = quiet_moment(d)
        sync.wait()
        time.sleep(shared["delay"] if d.name != "kernel" else 0)
        for v in sc.views:
            rc, out, err = d.cmd(v)
            rec.append((f"list `{v}`",
                        f"exit {rc}\n{normalise_listing(v, out.decode(errors='replace'))}{err.decode(errors='replace')}"))
        for i, w in wires.items():
            w.close()
            rec.append((f"frames {i}", [normalise_frame(f) for f in w.frames]))
    except Exception:
        result["error"] = traceback.format_exc()
        sync.abort()  # the other side must not wait for this one
    finally:
        d.stop()
    result["records"] = rec


def normalise_frame(frame):
    """Bytes to compare, or None for a frame left out (ARP, IPv6 ND and MLD)."""
    b = bytearray(frame)
    if len(b) < 14:
        return bytes(b)
    etype = int.from_bytes(b[12:14], "big")
    if etype == 0x0806:
        return None
    # IPv6: Neighbour Discovery (133-137) and MLD (130-132, 143; behind a Hop-by-Hop header with
    # the router alert) are each stack's own timing, as ARP is.
    if etype == 0x86DD and len(b) >= 55:
        if b[20] == 0 or (b[20] == 58 and (130 <= b[54] <= 137 or b[54] == 143)):
            return None
        # The flow label of what a stack sends itself: Linux's auto_flowlabels is a keyed hash of
        # the flow (ip6_make_flowlabel); vsrouter sends 0.
        b[15] &= 0xF0
        b[16:18] = b"\0\0"
    if etype == 0x0800 and len(b) >= 34:
        b[18:20] = b"\0\0"
        b[24:26] = b"\0\0"  # (of IPIP, the outer header: the inner one is the client's)
    return bytes(b)


_EXPIRE = re.compile(r"^(\w+ +)\d\d:\d\d(.*)$")


def normalise_listing(args, text):
    if os.environ.get("KDIFF_RAW"):  # debugging: the listings as printed
        return text
    if "-c" not in args.split() and "--connection" not in args and not re.search(r"-L\w*c", args):
        return text
    lines = text.splitlines()
    head = [ln for ln in lines if not _EXPIRE.match(ln)]
    body = sorted(_EXPIRE.sub(r"\1--:--\2", ln) for ln in lines if _EXPIRE.match(ln))
    return "\n".join(head + body) + ("\n" if text.endswith("\n") else "")


def decode(frame):
    from scapy.all import Ether
    return Ether(frame).summary() + "  " + frame.hex()


def differences(kr, vr, frame_mask=None, text_mask=None):
    """[(view key, unified diff)] between the kernel's and vsrouter's records."""
    diffs = []
    for key in list(dict.fromkeys(list(kr) + list(vr))):
        a, b = kr.get(key), vr.get(key)
        if key.startswith("frames"):
            a = [f for f in (a or []) if f is not None]
            b = [f for f in (b or []) if f is not None]
            if frame_mask:
                a, b = [frame_mask(f) for f in a], [frame_mask(f) for f in b]
            if a != b:
                da = [decode(f) for f in a]
                db = [decode(f) for f in b]
                diffs.append((key, "\n".join(difflib.unified_diff(da, db, "kernel", "vsrouter", lineterm="", n=2))))
        else:
            a, b = a or "<none>\n", b or "<none>\n"
            if text_mask:
                a, b = text_mask(a), text_mask(b)
            if a != b:
                diffs.append((key, "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), "kernel", "vsrouter",
                                                                  lineterm=""))))
    return diffs


def compare(sc, k, v):
    """(verdict, text): same; deviation, when the differences vanish under the masks of the
    scenario's documented deviations (or lie only in views a deviation covers whole); DIFFERENT."""
    kr, vr = dict(k["records"]), dict(v["records"])
    raw = differences(kr, vr)
    if not raw:
        return "same", ""
    text = "\n".join(f"--- {key}\n{d}" for key, d in raw)
    devs = list(sc.deviations.values())

    def remaining(ds):
        def frame_mask(f):
            for d in ds:
                f = d.frame(f) if d.frame else f
            return f

        def text_mask(t):
            for d in ds:
                t = d.text(t) if d.text else t
            return t

        left = differences(kr, vr, frame_mask, text_mask) if ds else raw
        return [(key, d) for key, d in left if not any(key.startswith(p) for dv in ds for p in dv.whole)]

    left = remaining(devs)
    if left:
        return "DIFFERENT", "\n".join(f"--- {key}\n{d}" for key, d in left)
    # Name only the deviations this run needed (without one of them, something would differ).
    needed = [d for d in devs if remaining([x for x in devs if x is not d])]
    where = dict.fromkeys(d.where for d in needed)
    return "deviation", "; ".join(w + ": " + "; ".join(d.doc for d in needed if d.where == w) for w in where) + \
        "\n" + text


def run_pair(kd, vd, sc, ksteps=None, vsteps=None):
    """Runs scenario `sc` on both directors in step: (kernel result, vsrouter result)."""
    kres, vres = {}, {}
    sync, shared = threading.Barrier(2, timeout=600), {"delay": 0.0}
    th = [threading.Thread(target=run_side, args=(kd, sc, kres, sync, shared, ksteps)),
          threading.Thread(target=run_side, args=(vd, sc, vres, sync, shared, vsteps))]
    for x in th:
        x.start()
    for x in th:
        x.join()
    return kres, vres


# ---------------------------------------------------------------- connection sync (scenarios.SyncScenario)
SYNC_GROUP, SYNC_PORT = "224.0.0.81", 8848
SYNC_BACKUP_SETTLE = 0.5  # after the last injected message (the kernel's backup thread reads it at once)


def is_sync_frame(f):
    return (f is not None and len(f) >= 42 and f[12:14] == b"\x08\x00" and f[23] == 17 and
            socket.inet_ntoa(f[30:34]) == SYNC_GROUP and int.from_bytes(f[36:38], "big") == SYNC_PORT)


def sync_frame_text(f):
    """(envelope, [entries]) of one sync datagram, as text: the Ethernet, IPv4 and UDP headers
    and the message's header, lengths as whether they agree (messages group entries by each
    master's flush timing), the IPv4 identification and checksum zeroed by normalise_frame, the UDP
    source port as whether it is set (the kernel's socket has an ephemeral one, vsrouter's 8848);
    then each entry of a version 1 message, field by field."""
    import struct
    ihl = (f[14] & 15) * 4
    udp = 14 + ihl
    ip_len = int.from_bytes(f[16:18], "big")
    ulen = int.from_bytes(f[udp + 4:udp + 6], "big")
    msg = f[udp + 8:udp + ulen]
    if len(msg) < 8:
        return f"short message {msg.hex()}", []

    def csum_ok():
        from scapy.all import UDP, Ether
        e = Ether(f)
        got = e[UDP].chksum
        del e[UDP].chksum
        return got == 0 or Ether(bytes(e))[UDP].chksum == got

    reserved, syncid, size, count, version, spare = struct.unpack(">BBHBBH", msg[:8])
    env = (f"eth {f[0:6].hex(':')} <- {f[6:12].hex(':')}; ipv4 ihl {ihl} tos {f[15]} "
           f"length {'= frame' if ip_len == len(f) - 14 else ip_len} frag {f[20:22].hex()} ttl {f[22]} "
           f"{socket.inet_ntoa(f[26:30])} -> {socket.inet_ntoa(f[30:34])}; udp port "
           f"{'0' if f[udp:udp + 2] == bytes(2) else 'set'} -> {int.from_bytes(f[udp + 2:udp + 4], 'big')} "
           f"length {'= datagram' if ulen == ip_len - ihl else ulen} checksum {'right' if csum_ok() else 'WRONG'}; "
           f"sync reserved {reserved} syncid {syncid} size {'= payload' if size == len(msg) else size} "
           f"version {version} spare {spare}")
    entries, off = [], 8
    if version != 1 or reserved != 0:
        return env, [f"(version {version}, reserved {reserved}: {msg.hex()})"]
    for _ in range(count):
        if off + 36 > len(msg):
            entries.append(f"(truncated at {off}: {msg[off:].hex()})")
            break
        (typ, proto, ver_size, flags, state, cport, vport, dport, fwmark, timeout, caddr, vaddr,
         daddr) = struct.unpack(">BBHIHHHHII4s4s4s", msg[off:off + 36])
        esize = ver_size & 0xfff
        entries.append(f"type {typ} proto {proto} ver {ver_size >> 12} size {esize} flags {flags:#06x} state {state} "
                       f"{socket.inet_ntoa(caddr)}:{cport} {socket.inet_ntoa(vaddr)}:{vport} "
                       f"{socket.inet_ntoa(daddr)}:{dport} fwmark {fwmark} timeout {timeout} "
                       f"options {msg[off + 36:off + esize].hex() or '-'}")
        off += (esize + 3) & ~3
    if off != len(msg):
        entries.append(f"({len(msg) - off} bytes after the last entry)")
    return env, entries


def is_igmp(f):
    return f is not None and len(f) >= 34 and f[12:14] == b"\x08\x00" and f[23] == 2


def as_peer(f):
    """A master's sync frame as the backup gets it: from the peer director (scenarios.SYNC_PEER),
    checksums recomputed; the message itself unchanged."""
    from scapy.all import IP, UDP, Ether
    e = Ether(f)
    e.src, e[IP].src = scenarios.SYNC_PEER
    del e[IP].chksum
    del e[UDP].chksum
    return bytes(e)


def run_sync(kd, vd, sc):
    """A sync scenario: both directors as masters in step, then both as backups, each fed the other
    master's messages; the records of both phases, each backup's listings also set against the
    other's master (docs/kernel-differential.md, "Connection sync")."""
    mk, mv = run_pair(kd, vd, sc.phase("master"))
    if "error" in mk or "error" in mv:
        return mk, mv
    side_records = {}
    sent = {}
    for name, res in (("kernel", mk), ("vsrouter", mv)):
        recs = []
        for key, val in res["records"]:
            if key == f"frames {sc.sync_iface}":
                sent[name] = [f for f in val if is_sync_frame(f)]
                recs.append((key + " [master]", [f for f in val if not is_sync_frame(f)]))
                texts = [sync_frame_text(f) for f in sent[name]]
                recs.append(("sync messages [master]", "".join(sorted({e + "\n" for e, _ in texts}))))
                recs.append(("sync entries [master]", "".join(x + "\n" for _, es in texts for x in es)))
            else:
                recs.append((key + " [master]", val))
        side_records[name] = recs
    # Each backup: the other master's messages, its listings (set against that master's below),
    # then the takeover traffic.
    steps = {name: [("send", sc.sync_iface, as_peer(f)) for f in sent.get(name, [])] + [("wait", SYNC_BACKUP_SETTLE)] +
             [("list", v) for v in sc.views] + sc.takeover for name in ("kernel", "vsrouter")}
    bk, bv = run_pair(kd, vd, sc.phase("backup"), ksteps=steps["vsrouter"], vsteps=steps["kernel"])
    if "error" in bk or "error" in bv:
        return bk, bv
    for name, res in (("kernel", bk), ("vsrouter", bv)):
        for key, val in res["records"]:
            if key.startswith("frames"):
                # IGMP membership reports (the kernel's backup socket joins the group) apart: a
                # documented deviation (scenarios.SYNC_IGMP), the other frames compared as usual.
                igmp = [f for f in val if is_igmp(f)]
                side_records[name].append((key + " [backup]", [f for f in val if not is_igmp(f)]))
                side_records[name].append(("igmp " + key.split()[1] + " [backup]",
                                           "".join(decode(f) + "\n" for f in igmp)))
            else:
                side_records[name].append((key + " [backup]", val))
    # The must-show: a master's messages make the same entries in the other's backup.
    # (the master's final listing `list \`V\``; the backup's before the takeover, `list N \`V\``)
    listing = {(side, phase): {re.sub(r"^list \d+ ", "list ", k): v for k, v in res["records"]
                               if phase == "master" or re.match(r"^list \d+ ", k)}
               for side, phase, res in (("kernel", "master", mk), ("vsrouter", "master", mv),
                                        ("kernel", "backup", bk), ("vsrouter", "backup", bv))}
    for v in sc.views:
        key = f"list `{v}`"
        side_records["kernel"].append((f"{key} [kernel master -> vsrouter backup]", listing["kernel", "master"][key]))
        side_records["vsrouter"].append((f"{key} [kernel master -> vsrouter backup]",
                                         listing["vsrouter", "backup"][key]))
        side_records["kernel"].append((f"{key} [vsrouter master -> kernel backup]", listing["kernel", "backup"][key]))
        side_records["vsrouter"].append((f"{key} [vsrouter master -> kernel backup]",
                                         listing["vsrouter", "master"][key]))
    return ({"records": side_records["kernel"], "sync_frames": sent.get("kernel", [])},
            {"records": side_records["vsrouter"], "sync_frames": sent.get("vsrouter", [])})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vsrouter", required=True)
    ap.add_argument("--vsadm", required=True)
    ap.add_argument("--cache", default=os.environ.get("VS_KERNEL_CACHE", "/var/cache/vsrouter-kernel"))
    ap.add_argument("--out", default=None, help="write each scenario's records here")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    chosen = scenarios.select(a.names)
    # Three NICs a side: a scenario uses the first ones it names (a third only for pcaps/ipv6_tun's
    # slim link); the others stay down.
    ktaps = ["vk-0", "vk-1", "vk-2"]
    vtaps = ["vv-0", "vv-1", "vv-2"]
    t0 = time.monotonic()
    vm = vmmod.VM(a.cache, [(f"n{k}", tap, f"02:00:00:00:ff:0{k}") for k, tap in enumerate(ktaps)])
    print(f"kernel VM up in {vm.boot_seconds:.1f} s ({' '.join(vm.accel)}): "
          f"{vm.check('uname -r').strip()}, {vm.check('ipvsadm --version').strip()}", flush=True)
    failed, texts = [], {}
    try:
        have = vm.check("grep -o 'ip_vs_[a-z]*' /proc/modules | sort -u | tr '\\n' ' '")
        print(f"kernel schedulers: {have.replace('ip_vs_', '').strip()}", flush=True)
        kd = director.KernelDirector(vm, ktaps)
        vd = director.VsrouterDirector(a.vsrouter, a.vsadm, vtaps)
        for sc in chosen:
            t = time.monotonic()
            kres, vres = run_sync(kd, vd, sc) if isinstance(sc, scenarios.SyncScenario) else run_pair(kd, vd, sc)
            if "error" in kres or "error" in vres:
                verdict, text = "ERROR", kres.get("error", "") + vres.get("error", "")
            else:
                verdict, text = compare(sc, kres, vres)
            nframes = sum(len([f for f in r if f is not None]) for key, r in kres.get("records", [])
                          if key.startswith("frames"))
            line = f"{sc.name}: {verdict}"
            if verdict == "deviation":
                line += f" ({text.splitlines()[0]})"
                text = "\n".join(text.splitlines()[1:])
            print(f"{line}  [{nframes} kernel frames, {len(kres.get('records', [])) - 2} listings/commands, "
                  f"{time.monotonic() - t:.1f} s]", flush=True)
            if verdict != "same":
                print(text, flush=True)
            if verdict in ("DIFFERENT", "ERROR"):
                failed.append(sc.name)
                texts[sc.name] = text
            if a.out:
                os.makedirs(a.out, exist_ok=True)
                with open(os.path.join(a.out, sc.name + ".txt"), "w") as f:
                    f.write(f"{verdict}\n{text}\n")
                for side, res in (("kernel", kres), ("vsrouter", vres)):
                    with open(os.path.join(a.out, f"{sc.name}.{side}.txt"), "w") as f:
                        for key, r in res.get("records", []):
                            f.write(f"=== {key}\n")
                            f.write("".join(decode(x) + "\n" for x in r if x is not None) if key.startswith("frames")
                                    else r)
                    if res.get("sync_frames"):  # a master's sync datagrams (IPv4 id and checksum zeroed)
                        from scapy.all import Ether, wrpcap
                        wrpcap(os.path.join(a.out, f"{sc.name}.{side}.sync.pcap"), [Ether(x) for x in res["sync_frames"]])
    finally:
        vm.close()
    print(f"{len(chosen) - len(failed)} of {len(chosen)} scenarios same or documented "
          f"({time.monotonic() - t0:.0f} s)", flush=True)
    if failed:
        # again at the end, where a log's tail shows it
        for name in failed:
            print(f"=== {name}\n{texts[name]}")
        print("DIFFERENT: " + " ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The two directors the suite drives the same way: kernel IPVS in the VM, and vsrouter.

Both get the same interfaces (names, MACs, addresses; see topo.py), the same ipvsadm command lines
(ipvsadm in the VM, vsadm on this host) and the same frames on their TAPs; `cmd` returns what the
tool printed and its exit status, exact bytes.
"""
import os
import shlex
import signal
import subprocess
import tempfile
import time

import topo

_VM_RESET = """
ipvsadm -C
for m in $(awk '$1 ~ /^ip_vs_/ {print $1}' /proc/modules); do rmmod "$m"; done
rmmod ip_vs || exit 3
for m in $(grep '/ipvs/' /etc/modules.load); do insmod "/lib/modules/$m" || exit 4; done
for i in wan lan; do ip addr flush dev $i; ip link set $i mtu 1500; done
ip neigh flush dev wan; ip neigh flush dev lan
ip route flush table main 2>/dev/null
ip link set lo up
"""


class KernelDirector:
    """Debian's kernel (ip_vs, Debian's ipvsadm) in the VM; `vm` is a booted vm.VM."""
    name = "kernel"

    def __init__(self, vm, taps):
        self.vm = vm
        self.taps = taps  # {iface: tap}

    def start(self, scenario):
        self.vm.check(_VM_RESET)
        lines = []
        for iface in topo.IFACES:
            for a in topo.ADDRESSES[iface]:
                lines.append(f"ip addr add {a} dev {iface}")
        for vip in scenario.vips:
            lines.append(f"ip addr add {vip}/32 dev wan")
        lines += [f"ip link set {iface} mtu {mtu}" for iface, mtu in scenario.mtu.items()]
        lines += [f"sysctl -qw {k}={v}" for k, v in scenario.sysctl.items()]
        self.vm.check("set -e\n" + "\n".join(lines))

    def cmd(self, args):
        rc, out, err = self.vm.run("ipvsadm " + args)
        return rc, out, err

    def stop(self):
        pass


class VsrouterDirector:
    """vsrouter run on its own TAPs, driven with vsadm over its control socket."""
    name = "vsrouter"

    def __init__(self, vsrouter, vsadm, taps):
        self.vsrouter = vsrouter
        self.vsadm = vsadm
        self.taps = taps
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="vsk-vsrouter.")

    def config(self, scenario):
        out = ["[router]", "max_connections = 4096"]  # the kernel's -Ln header says its table size
        for key, value in scenario.router.items():
            out.append(f"{key} = {value}")
        for iface in topo.IFACES:
            out += ["", "[[interfaces]]", f'name = "{iface}"', f'tap = "{self.taps[iface]}"',
                    f'mac = "{topo.MACS[iface]}"',
                    "addresses = [" + ", ".join(f'"{a}"' for a in topo.ADDRESSES[iface]) + "]"]
            if iface in scenario.mtu:
                out.append(f"mtu = {scenario.mtu[iface]}")
        return "\n".join(out) + "\n"

    def start(self, scenario):
        cfg = os.path.join(self.dir, "vsrouter.toml")
        with open(cfg, "w") as f:
            f.write(self.config(scenario))
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.log = os.path.join(self.dir, "vsrouter.log")
        self.proc = subprocess.Popen([self.vsrouter, "run", "-c", cfg, "--control", self.sock, "--no-offload",
                                      "--log-level", "info"], stdout=open(self.log, "wb"),
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vsrouter exited: {open(self.log).read()}")
            if b"vsrouter: running" in open(self.log, "rb").read():
                return
            time.sleep(0.02)
        raise RuntimeError(f"vsrouter did not start: {open(self.log).read()}")

    def cmd(self, args):
        env = dict(os.environ, VSROUTER_CONTROL=self.sock)
        r = subprocess.run([self.vsadm] + shlex.split(args), capture_output=True, env=env, timeout=30)
        return r.returncode, r.stdout, r.stderr

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

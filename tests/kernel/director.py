"""The two directors the suite drives the same way: kernel IPVS in the VM, and vsrouter.

Both get the same interfaces (names, MACs, addresses; see topo.py), the same ipvsadm command lines
(ipvsadm in the VM, vsadm on this host) and the same frames on their TAPs; `cmd` returns what the
tool printed and its exit status, exact bytes.
"""
import ipaddress
import os
import shlex
import signal
import subprocess
import tempfile
import time

_VM_RESET = """
ipvsadm --stop-daemon master 2>/dev/null; ipvsadm --stop-daemon backup 2>/dev/null
ipvsadm -C
for m in $(awk '$1 ~ /^ip_vs_/ {print $1}' /proc/modules); do rmmod "$m"; done
rmmod ip_vs || exit 3
for m in $(grep '/ipvs/' /etc/modules.load); do insmod "/lib/modules/$m" || exit 4; done
for i in $(ls /sys/class/net); do
  [ "$i" = lo ] && continue
  ip addr flush dev "$i"; ip link set dev "$i" down; ip link set dev "$i" mtu 1500
  sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" 2>/dev/null
done
ip -6 route flush table main 2>/dev/null
ip addr flush dev lo; ip addr add 127.0.0.1/8 dev lo
ip route flush table main 2>/dev/null
# tunl0 (the ipip module's fallback device) takes IPIP addressed to the VM, as vsrouter decapsulates
ip link set dev tunl0 up
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0
"""


class KernelDirector:
    """Debian's kernel (ip_vs, Debian's ipvsadm) in the VM; `vm` is a booted vm.VM."""
    name = "kernel"

    def __init__(self, vm, taps):
        self.vm = vm
        self.slot_taps = taps  # the VM's NICs n0, n1 ... and their TAPs, in order

    def start(self, scenario):
        self.vm.check(_VM_RESET)
        # The VM's NICs take the scenario's names, MACs and addresses (renamed back to nK first).
        lines = []
        for k in range(len(self.slot_taps)):
            lines.append(f"cur=$(for d in /sys/class/net/*; do [ $(cat $d/ifindex) = $(cat /tmp/nic{k}) ] && "
                         f"echo ${{d##*/}}; done; true); [ $cur = n{k} ] || ip link set dev $cur name n{k}")
        self.taps = {}
        six = {}  # an IPv6 interface: its prefixes (an IPv6 VIP goes on the interface it is on)
        for k, i in enumerate(scenario.interfaces):
            name = i["name"]
            self.taps[name] = self.slot_taps[k]
            lines += [f"ip link set dev n{k} name {name}", f"ip link set dev {name} address {i['mac']}",
                      f"ip link set dev {name} mtu {i.get('mtu', 1500)}",
                      f"sysctl -qw net.ipv4.conf.{name}.send_redirects=0",
                      f"sysctl -qw net.ipv4.conf.{name}.rp_filter=0"]
            if any(":" in a for a in i["addresses"]):
                six[name] = [ipaddress.ip_network(a, strict=False) for a in i["addresses"] if ":" in a]
                lines += [f"sysctl -qw net.ipv6.conf.{name}.{k}" for k in
                          ("accept_dad=0", "accept_ra=0", "autoconf=0", "forwarding=1", "disable_ipv6=0")]
            lines += [f"ip link set dev {name} up"]
            lines += [f"ip addr add {a} dev {name}" for a in i["addresses"]]  # IPv6: accept_dad=0, no DAD
        for vip in scenario.vips:
            if ":" not in vip:
                lines.append(f"ip addr add {vip}/32 dev lo")
                continue
            # Linux answers a Neighbour Solicitation only for an address of the interface it came
            # in on (ndisc_recv_ns): an IPv6 VIP goes on its link's NIC, where vsrouter answers for it.
            a = ipaddress.ip_address(vip.strip("[]"))
            name = next(n for n, nets in six.items() if any(a in net for net in nets))
            lines.append(f"ip addr add {a}/128 dev {name}")
        lines += [f"ip route add {to} via {via}" for to, via in scenario.routes]
        lines += [f"sysctl -qw {k}={v}" for k, v in scenario.sysctl.items()]
        lines += [f"sysctl -qw net.ipv4.vs.{k}={v}" for k, v in scenario.ipvs_sysctl.items()]
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
        self.slot_taps = taps
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="vsk-vsrouter.")

    def config(self, scenario):
        # max_connections 4096: the kernel's -Ln header says its table size (size=4096)
        router = {"max_connections": 4096, **scenario.router}
        out = ["[router]"] + [f"{k} = {v}" for k, v in router.items()]
        self.taps = {}
        for k, i in enumerate(scenario.interfaces):
            self.taps[i["name"]] = self.slot_taps[k]
            out += ["", "[[interfaces]]", f'name = "{i["name"]}"', f'tap = "{self.slot_taps[k]}"', f'mac = "{i["mac"]}"',
                    "addresses = [" + ", ".join(f'"{a}"' for a in i["addresses"]) + "]"]
            if "mtu" in i:
                out.append(f"mtu = {i['mtu']}")
        if scenario.ipvs_sysctl:
            out += ["", "[ipvs]"] + [f"{k} = {'true' if v else 'false'}" for k, v in scenario.ipvs_sysctl.items()]
        for to, via in scenario.routes:
            out += ["", "[[routes]]", f'to = "{to}"', f'via = "{via}"']
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

"""The kernel director: Debian's kernel with ip_vs in a QEMU VM whose NICs are TAP devices.

Run inside a network namespace of the suite's own (kdiff.sh makes one): the TAPs are created
there, so nothing but the suite's frames reaches the VM. `VM.run(script)` runs a shell script in
the guest (guest/init serves a virtio-serial port) and returns (exit status, stdout, stderr) as
exact bytes. KVM is used where /dev/kvm is real hardware virtualisation, TCG (software) otherwise.
"""
import base64
import os
import socket
import subprocess
import tempfile
import time


def accel():
    choice = os.environ.get("VS_KERNEL_ACCEL", "auto")
    if choice == "auto":
        # kvm_pvm (a paravirtual hypervisor of nested clouds) is a /dev/kvm QEMU cannot boot
        # Debian's kernel on; only a /dev/kvm without it is real VMX/SVM.
        choice = "kvm" if os.path.exists("/dev/kvm") and not os.path.isdir("/sys/module/kvm_pvm") else "tcg"
    if choice == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    if choice == "tcg":
        return ["-accel", "tcg,thread=single", "-cpu", "max"]
    raise SystemExit(f"VS_KERNEL_ACCEL={choice}: kvm, tcg or auto")


class VM:
    def __init__(self, cache, nics, memory_mb=256):
        """nics: [(name, tap, mac)]; the guest names each NIC after `name`."""
        self.dir = tempfile.mkdtemp(prefix="vsk-vm.")
        self.sock_path = os.path.join(self.dir, "ctl.sock")
        self.console = os.path.join(self.dir, "console.log")
        self.accel = accel()
        args = ["qemu-system-x86_64", "-name", "vsk-director", *self.accel, "-m", str(memory_mb), "-smp", "1",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-kernel", os.path.join(cache, "vmlinuz"), "-initrd", os.path.join(cache, "initrd.img"),
                "-serial", f"file:{self.console}",
                "-device", "virtio-serial-pci,id=vser0",
                "-chardev", f"socket,id=ctl,path={self.sock_path},server=on,wait=off",
                "-device", "virtserialport,bus=vser0.0,chardev=ctl,name=vsk.ctl"]
        spec = []
        for i, (name, tap, mac) in enumerate(nics):
            subprocess.run(["ip", "tuntap", "add", "mode", "tap", "name", tap], check=True)
            subprocess.run(["ip", "link", "set", tap, "up"], check=True)
            # vnet_hdr=off: plain frames both ways, no offloads (what a capture shows).
            args += ["-netdev", f"tap,id=n{i},ifname={tap},script=no,downscript=no,vnet_hdr=off",
                     "-device", f"virtio-net-pci,netdev=n{i},mac={mac},addr=0x{16 + i:x}"]
            spec.append(f"{name}@{mac}")
        args += ["-append", "console=ttyS0 rdinit=/init quiet loglevel=3 panic=-1 "
                 f"vsk.nics={','.join(spec)}"]
        self.taps = [tap for _, tap, _ in nics]
        t0 = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "qemu.err"), "wb"))
        self.sock = None
        try:
            rc, _, _ = self.run("true", timeout=120)
        except (TimeoutError, OSError) as e:
            self.close()
            raise SystemExit(f"the kernel VM did not start ({e}); console:\n{self.console_text()}")
        if rc != 0:
            self.close()
            raise SystemExit("the kernel VM's control channel failed")
        self.boot_seconds = time.monotonic() - t0

    def console_text(self):
        try:
            with open(self.console, errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return "(no console log)"

    def _connect(self, deadline):
        while self.sock is None:
            if self.proc.poll() is not None:
                raise OSError(f"QEMU exited with status {self.proc.returncode}: "
                              f"{open(os.path.join(self.dir, 'qemu.err')).read()[-2000:]}")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.sock_path)
                self.sock = s
                self.buf = b""
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.monotonic() > deadline:
                    raise TimeoutError("no control socket")
                time.sleep(0.05)

    def run(self, script, timeout=60):
        """Runs a shell script in the guest: (exit status, stdout bytes, stderr bytes)."""
        if isinstance(script, str):
            script = script.encode()
        deadline = time.monotonic() + timeout
        self._connect(deadline)
        rid = os.urandom(4).hex()
        self.sock.sendall(rid.encode() + b" " + base64.b64encode(script) + b"\n")
        marker = f"VSK {rid} ".encode()
        head = None
        while True:
            if head is None:
                i = self.buf.find(marker)
                j = self.buf.find(b"\n", i) if i >= 0 else -1
                if j >= 0:
                    head = [int(x) for x in self.buf[i:j].split()[2:5]]
                    self.buf = self.buf[j + 1:]
            if head is not None and len(self.buf) >= head[1] + head[2]:
                rc, n_out, n_err = head
                out, err = self.buf[:n_out], self.buf[n_out:n_out + n_err]
                self.buf = self.buf[n_out + n_err:]
                return rc, out, err
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the VM did not answer in {timeout} s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise OSError("QEMU closed the control channel")
            self.buf += chunk

    def check(self, script, timeout=60):
        rc, out, err = self.run(script, timeout)
        if rc != 0:
            raise RuntimeError(f"in the VM, exit {rc}:\n{script}\n{err.decode(errors='replace')}")
        return out.decode()

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for tap in self.taps:
            subprocess.run(["ip", "link", "del", tap], stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", self.dir])

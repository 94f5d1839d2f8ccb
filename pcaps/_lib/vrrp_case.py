"""What the VRRP golden cases (pcaps/vrrp_*) share. For gen.py: advert(), a peer's VRRP version 2
advertisement (with a field broken on demand). For check.py: a model of the rules
(RFC 3768 / RFC 5798 and keepalived's vrrp_instance, docs/vrrp.md) that works out from a case's
input adverts when each instance changes state, sends an advert and sends its gratuitous ARPs;
the form of an advert and of a gratuitous ARP; and the "VRRP events" line of a transition.

The model is written from the rules, not from vsrouter's code:
  - Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time, Skew_Time = (256 - priority) / 256 s
    (version 2); a backup's timer restarts at each advert of a priority >= its own (or any, without
    preemption), and is Skew_Time after a priority 0 advert; when it fires the instance is master,
    unless another member of its sync group still hears its master: then it waits a whole
    Master_Down_Interval again, wanting master (keepalived's vrrp_sync_can_goto_master).
  - Becoming master: an advert at once, garp_master_repeat gratuitous ARPs of each address at once and
    as many again garp_master_delay later; then an advert every advert_int.
  - A master hearing a higher priority (or the same from a higher address) sends one advert of its
    own (higher_prio_send_advert, on by default in vsrouter) and is backup at once; a
    priority 0: an advert at once and the advert timer restarted; a lower priority (a master that
    did not hear us): an advert at once, the advert timer restarted, and garp_lower_prio_repeat
    gratuitous ARPs of each address at once and again garp_lower_prio_delay later, for the instance
    and for every other member of its sync group (keepalived vrrp.c, vrrp_state_master_rx).
  - A sync group's members follow the one that changed (cause sync_group), doing what that state
    does (a new master: its advert and GARPs).
  - A weighted tracker (a vrrp_script) moving the priority: later adverts carry the new one, and a
    backup's Master_Down timer moves by as much as its Skew_Time changed (keepalived's
    vrrp_set_effective_priority).
Timers due at the moment a frame arrives fire before it (the replay runs timers up to each frame);
instances due at the same moment go in config order.

Run with /usr/bin/python3 (Debian's python3-scapy).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsfix import inet_checksum  # noqa: E402
from scapy.all import ARP, IP, Ether, Raw  # noqa: E402

GROUP, GROUP_MAC, BCAST = "224.0.0.18", "01:00:5e:00:00:12", "ff:ff:ff:ff:ff:ff"
TRANSITIONS = []  # every model event in the order the rules make them: (instance, index in its events)


# ---------------------------------------------------------------------------------------------
# gen.py
# ---------------------------------------------------------------------------------------------

def advert_bytes(vrid, priority, addrs, adv=1, auth_type=0, auth=b"", bad_checksum=False):
    """A VRRP version 2 advertisement (RFC 3768 §5.1): the checksum over the message alone."""
    b = bytearray([0x21, vrid, priority, len(addrs), auth_type, adv, 0, 0])
    for a in addrs:
        b += bytes(int(x) for x in a.split("."))
    b += auth.ljust(8, b"\0")[:8]
    c = inet_checksum(bytes(b))
    b[6:8] = ((c ^ 0x5A5A) if bad_checksum else c).to_bytes(2, "big")
    return bytes(b)


def advert(src, src_mac, vrid, priority, addrs, ttl=255, **kw):
    """A peer's advert to 224.0.0.18 (01:00:5e:00:00:12), TOS 0xc0 as keepalived's; kw: advert_bytes'."""
    return (Ether(src=src_mac, dst=GROUP_MAC) / IP(src=src, dst=GROUP, ttl=ttl, proto=112, tos=0xC0) /
            Raw(advert_bytes(vrid, priority, addrs, **kw)))


def pseudo_header(src, dst, length):
    """The IPv4 pseudo-header of a version 3 checksum (RFC 5798 §5.2.8, as keepalived): source,
    destination, zero, protocol 112, the VRRP length."""
    return (bytes(int(x) for x in src.split(".")) + bytes(int(x) for x in dst.split(".")) +
            bytes([0, 112]) + length.to_bytes(2, "big"))


def advert_bytes_v3(vrid, priority, addrs, interval_cs, src, dst, pseudo=True):
    """A VRRP version 3 advertisement (RFC 5798 §5.1): Max Adver Int in centiseconds, no
    authentication; the checksum with the IPv4 pseudo-header (keepalived's), or without it
    (pseudo=False: some vendors', keepalived's v3_checksum_as_v2)."""
    b = bytearray([0x31, vrid, priority, len(addrs)]) + (interval_cs & 0x0FFF).to_bytes(2, "big") + bytes(2)
    for a in addrs:
        b += bytes(int(x) for x in a.split("."))
    c = inet_checksum((pseudo_header(src, dst, len(b)) if pseudo else b"") + bytes(b))
    b[6:8] = c.to_bytes(2, "big")
    return bytes(b)


def advert_v3(src, src_mac, dst, dst_mac, vrid, priority, addrs, interval_cs, pseudo=True):
    """A peer's version 3 advert to `dst` (224.0.0.18 or a unicast peer), TTL 255, TOS 0xc0."""
    return (Ether(src=src_mac, dst=dst_mac) / IP(src=src, dst=dst, ttl=255, proto=112, tos=0xC0) /
            Raw(advert_bytes_v3(vrid, priority, addrs, interval_cs, src, dst, pseudo)))


# ---------------------------------------------------------------------------------------------
# check.py
# ---------------------------------------------------------------------------------------------


def r6(x):
    return round(x, 6)


class Instance:
    """One [[vrrp_instances]] table as the rules drive it. Records events [(t, from, to, cause,
    peer)], adverts [t], garps [t] (a burst of `garp_repeat` per address, or `lower_repeat` for the
    bursts after a lower priority's advert: garps_lower [t])."""

    def __init__(self, name, priority, advert_int, garp_repeat, garp_delay, ip, lower_repeat=None, lower_delay=None,
                 version=2):
        self.name, self.priority, self.advert_int, self.ip = name, priority, advert_int, ip
        self.garp_repeat, self.garp_delay = garp_repeat, garp_delay
        self.lower_repeat = garp_repeat if lower_repeat is None else lower_repeat
        self.lower_delay = garp_delay if lower_delay is None else lower_delay
        self.version = version
        self.master_int = advert_int  # Master_Adver_Interval: version 3 learns it from the master's adverts
        self.state = "INIT"
        self.events, self.adverts, self.garps, self.garps_lower = [], [], [], []
        self.down_at = self.advert_at = self.garp_at = None
        self.want_master = False
        self.higher_prio_send_advert = True
        self.lower_at = []  # the second bursts due after lower priority adverts
        self.group = [self]
        self.priorities = [(0.0, priority)]  # (t, priority): set_priority's changes

    @property
    def skew(self):
        """Skew_Time: (256 - priority) / 256 s in version 2 (RFC 3768 §6.1), times
        Master_Adver_Interval in version 3 (RFC 5798 §6.1)."""
        return (256 - self.priority) * (1 if self.version == 2 else self.master_int) / 256

    @property
    def mdi(self):
        """Master_Down_Interval: 3 * Master_Adver_Interval + Skew_Time."""
        return 3 * self.master_int + self.skew

    def state_at(self, t):
        """The state at time t (after whatever happened at t)."""
        s = "INIT"
        for at, _, to, _, _ in self.events:
            if at <= t:
                s = to
        return s

    def _become(self, t, to, cause, peer=None):
        frm, self.state = self.state, to
        self.events.append((r6(t), frm, to, cause, peer))
        TRANSITIONS.append((self, len(self.events) - 1))  # a group's followers come after it
        for m in self.group:
            if m is not self and m.state != to:
                if to == "MASTER":
                    m.become_master(t, "sync_group")
                else:
                    m.become_backup(t, "sync_group")

    def become_master(self, t, cause):
        self.down_at = None
        self.want_master = False
        self.adverts.append(r6(t))
        self.advert_at = r6(t + self.advert_int)
        self.garps.append(r6(t))
        self.garp_at = r6(t + self.garp_delay) if self.garp_delay else None
        self._become(t, "MASTER", cause)

    def become_backup(self, t, cause, peer=None):
        self.advert_at = self.garp_at = None
        self.lower_at = []
        self.down_at = r6(t + self.mdi)
        self.want_master = False
        self._become(t, "BACKUP", cause, peer)

    def start(self, t):
        self.become_backup(t, "start")

    def set_priority(self, t, prio):
        """A weighted tracker moved the priority at t (timers up to t have fired)."""
        before = self.mdi
        self.priority = prio
        self.priorities.append((r6(t), prio))
        if self.state == "BACKUP" and self.down_at is not None:
            self.down_at = r6(self.down_at + self.mdi - before)

    def priority_at(self, t):
        """The priority at time t (after whatever changed at t)."""
        p = self.priorities[0][1]
        for at, q in self.priorities:
            if at <= t:
                p = q
        return p

    def due(self):
        return min([x for x in (self.down_at, self.advert_at, self.garp_at) if x is not None] + self.lower_at,
                   default=None)

    def fire(self, now):
        if self.down_at is not None and self.down_at <= now:
            if all(m is self or m.state == "MASTER" or m.want_master for m in self.group):
                self.become_master(self.down_at, "master_down")
            else:
                self.want_master = True
                self.down_at = r6(self.down_at + self.mdi)
        if self.advert_at is not None and self.advert_at <= now:
            self.adverts.append(self.advert_at)
            self.advert_at = r6(self.advert_at + self.advert_int)
        if self.garp_at is not None and self.garp_at <= now:
            self.garps.append(self.garp_at)
            self.garp_at = None
        for at in [x for x in self.lower_at if x <= now]:
            self.garps_lower.append(at)
            self.lower_at.remove(at)

    def advert_in(self, t, prio, src, interval=None):
        """An accepted advert of priority `prio` from `src` at t (timers up to t have fired);
        `interval` its advert interval (version 3: learnt from a master that is followed)."""
        if self.state == "BACKUP":
            if prio == 0:
                self.down_at = r6(t + self.skew)
            elif prio >= self.priority:
                if self.version == 3 and interval is not None:
                    self.master_int = interval
                self.down_at = r6(t + self.mdi)
                self.want_master = False
            # else: a lower priority while we may preempt: discarded
        elif self.state == "MASTER":
            if prio == 0:
                self.adverts.append(r6(t))
                self.advert_at = r6(t + self.advert_int)
            elif prio > self.priority or (prio == self.priority and _ip(src) > _ip(self.ip)):
                if self.version == 3 and interval is not None:
                    self.master_int = interval
                if self.higher_prio_send_advert:
                    self.adverts.append(r6(t))
                self.become_backup(t, "higher_priority", src)
            else:
                self.adverts.append(r6(t))
                self.advert_at = r6(t + self.advert_int)
                for m in self.group:
                    if m.state == "MASTER" and m.lower_repeat:
                        m.garps_lower.append(r6(t))
                        if m.lower_delay:
                            m.lower_at.append(r6(t + m.lower_delay))


def _ip(a):
    return tuple(int(x) for x in a.split("."))


def sync(*instances):
    """Put instances in one sync group."""
    for i in instances:
        i.group = list(instances)


def run(instances, adverts, end, priorities=()):
    """Drive `instances` (config order) from t=0 (their start) to `end` with `adverts`:
    [(t, instance, priority, source)] or [(t, instance, priority, source, interval)], the accepted
    ones only; `priorities`: [(t, instance, new priority)], a weighted tracker's changes."""
    for i in instances:
        if i.state == "INIT":
            i.start(0.0)

    def run_to(t):
        while True:
            due = [d for d in (i.due() for i in instances) if d is not None and d <= t]
            if not due:
                return
            now = min(due)
            for i in instances:
                i.fire(now)

    steps = [(a[0], "advert", a) for a in adverts] + [(c[0], "priority", c) for c in priorities]
    for t, kind, a in sorted(steps, key=lambda x: x[0]):
        run_to(t)
        if kind == "advert":
            a[1].advert_in(t, a[2], a[3], *a[4:])
        else:
            a[1].set_priority(t, a[2])
    run_to(end)


def vrrp_event(name, e, priority):
    """The "VRRP events" entry of list.txt for model event e: (t, "VRRP VI: A -> B (cause, priority N)")."""
    at, frm, to, cause, peer = e
    why = f"{cause} {peer}" if peer else cause
    return (at, f"VRRP {name}: {frm} -> {to} ({why}, priority {priority})")


def advert_ok(p, src_mac, src_ip, vrid, priority, advert_int, addrs):
    """p is a VRRP version 2 advertisement as RFC 3768 §5 and keepalived send it: to 224.0.0.18
    (01:00:5e:00:00:12) from our MAC and address, IP protocol 112, TTL 255, TOS 0xc0 (keepalived's),
    type 1, our VRID, priority, address count, no authentication, advert_int in seconds, our
    addresses, 8 zero bytes of authentication data, a checksum that holds over the message."""
    if IP not in p or p[Ether].dst != GROUP_MAC or p[Ether].src != src_mac:
        return False
    ip = p[IP]
    v = bytes(ip.payload)
    want_len = 8 + 4 * len(addrs) + 8
    head_ok = (ip.proto == 112 and ip.ttl == 255 and ip.dst == GROUP and ip.src == src_ip and ip.tos == 0xC0
               and ip.len == 20 + want_len and ip.frag == 0 and len(v) == want_len)
    if not head_ok:
        return False
    listed = [".".join(str(b) for b in v[8 + 4 * k: 12 + 4 * k]) for k in range(len(addrs))]
    return (v[0] == 0x21 and v[1] == vrid and v[2] == priority and v[3] == len(addrs) and v[4] == 0
            and v[5] == advert_int and listed == list(addrs) and v[-8:] == bytes(8) and inet_checksum(v) == 0)


def advert_v3_ok(p, src_mac, dst_mac, src_ip, dst_ip, vrid, priority, interval_cs, addrs):
    """p is a VRRP version 3 advertisement (RFC 5798 §5): from `src_mac` (the virtual router MAC
    with use_vmac, RFC 5798 §7.3) and our address to dst_ip/dst_mac, IP protocol 112, TTL 255,
    TOS 0xc0, type 1, our VRID, priority and address count, Max Adver Int in centiseconds, our
    addresses, a checksum that holds over the IPv4 pseudo-header and the message."""
    if IP not in p or p[Ether].dst != dst_mac or p[Ether].src != src_mac:
        return False
    ip = p[IP]
    v = bytes(ip.payload)
    want_len = 8 + 4 * len(addrs)
    if not (ip.proto == 112 and ip.ttl == 255 and ip.dst == dst_ip and ip.src == src_ip and ip.tos == 0xC0
            and ip.len == 20 + want_len and ip.frag == 0 and len(v) == want_len):
        return False
    listed = [".".join(str(b) for b in v[8 + 4 * k: 12 + 4 * k]) for k in range(len(addrs))]
    return (v[0] == 0x31 and v[1] == vrid and v[2] == priority and v[3] == len(addrs)
            and int.from_bytes(v[4:6], "big") == interval_cs and listed == list(addrs)
            and inet_checksum(pseudo_header(src_ip, dst_ip, len(v)) + v) == 0)


def garp_ok(p, mac, addr):
    """p is a gratuitous ARP as keepalived sends it: a broadcast ARP request from `mac` whose
    sender and target address are both `addr`, sender hardware address `mac`."""
    return (ARP in p and p[Ether].dst == BCAST and p[Ether].src == mac and p[ARP].op == 1 and p[ARP].hwsrc == mac
            and p[ARP].psrc == addr and p[ARP].pdst == addr and p[ARP].hwtype == 1 and p[ARP].ptype == 0x0800)


def frames_any_order(ok, name, got, want, t0):
    """Checker.frames, but frames due at the same moment may leave in any order: timers due
    together (an advert and a burst of GARPs) are independent in keepalived, so the rules give no
    order among them. Checks the count, then each frame's time (to the microsecond) and that the
    frames of each moment satisfy that moment's predicates one to one (greedy: the predicates of
    one moment describe different frames)."""
    want = sorted(want, key=lambda w: w[0])
    ok(len(got) == len(want), f"{name}: {len(got)} frames sent, expected {len(want)}")
    i = 0
    while i < len(want):
        t = want[i][0]
        slot = [w for w in want if w[0] == t]
        frames = got[i: i + len(slot)]
        for k, p in enumerate(frames):
            at = round(float(p.time) - t0, 6)
            ok(abs(at - t) < 1e-6, f"{name} #{i + k + 1} sent at {at}, expected {t}")
        left = list(slot)
        for k, p in enumerate(frames):
            hit = next((w for w in left if w[2](p)), None)
            ok(hit is not None, f"{name} #{i + k + 1} at {t}: none of {sorted({w[1] for w in left})}, got {p.summary()}")
            left.remove(hit)
        i += len(slot)

"""Independent Python decision models of the 14 IPVS schedulers, and of the per-real connection
counters they read, for the schedulers case (check.py). Nothing here comes from vsrouter's C++:
each function is transcribed from the Linux 6.12 source (net/netfilter/ipvs/ip_vs_<name>.c,
drivers/char/random.c) and the kernel's ip_vs_ctl.c, ip_vs_conn.c and ip_vs_core.c; the dh/sh/mh table fills and hashes are
tests/sched_model.py's (imported as is).

Choices that follow the project rather than the Debian 6.12.117 tree (docs/schedulers.md):
  * ip_vs_dest_conn_overhead is the classic (activeconns << 8) + inactconns (include/net/ip_vs.h ip_vs_dest_conn_overhead), not
    the 2026 stable backport's (activeconns << 8) + totalconns;
  * OVERLOAD is set/cleared by the classic ip_vs_bind_dest/ip_vs_unbind_dest rules (ip_vs_conn.c ip_vs_bind_dest/ip_vs_unbind_dest);
  * twos draws from splitmix64 seeded with router.seed (src/base/rng.hpp's contract: next_u32 is
    the top half of next_u64), reduced with the kernel's __get_random_u32_below.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))
import sched_model as hm  # noqa: E402  (tests/sched_model.py: hash_32, DH, SH, MH)

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF


def s32(x):
    """A C int (32-bit two's complement) from any Python integer."""
    x &= M32
    return x - (1 << 32) if x & 0x80000000 else x


# ---- destinations and their counters -------------------------------------------------------

class Real(hm.Dest):
    """struct ip_vs_dest: hm.Dest (addr, port, weight, last_weight, overload) plus the counters."""

    def __init__(self, ident, addr, port, weight, upper=0, lower=0):
        super().__init__(ident, addr, port, weight)
        self.upper, self.lower = upper, lower
        self.active = 0     # activeconns
        self.inact = 0      # inactconns (classic)
        self.conns = 0      # the --stats Conns column
        self.inpkts = 0
        self.inbytes = 0

    def __repr__(self):
        return f"{self.addr}(w{self.weight} a{self.active} i{self.inact}{' OVL' if self.overload else ''})"


def conn_overhead(d):
    # include/net/ip_vs.h, classic: (activeconns << 8) + inactconns, an int
    return s32((d.active << 8) + d.inact)


def bind(d):
    """ip_vs_bind_dest (classic): a new conn inherits INACTIVE, so inactconns++; then OVERLOAD is
    set when u_threshold != 0 and activeconns + inactconns >= u_threshold."""
    d.inact += 1
    d.conns += 1
    if d.upper and d.active + d.inact >= d.upper:
        d.overload = True


def unbind(d, active):
    """ip_vs_unbind_dest (classic): decrement the conn's counter, then maybe clear OVERLOAD."""
    if active:
        d.active -= 1
    else:
        d.inact -= 1
    total = d.active + d.inact
    if d.lower:
        if total < d.lower:
            d.overload = False
    elif d.upper:
        if total * 4 < d.upper * 3:
            d.overload = False
    else:
        d.overload = False


def eligible(d):
    return not d.overload and d.weight > 0


# ---- rr (ip_vs_rr.c) -------------------------------------------------------------------------

class RR:
    """sched_data is a list position: None = the list head. No add_dest hook."""

    def __init__(self):
        self.cursor = None

    def add(self, dests):
        pass

    def schedule(self, dests, flow, now):
        if self.cursor is None:
            order = dests  # one pass from the head (p == &svc->destinations: no second pass)
        else:
            i = dests.index(self.cursor)
            order = dests[i + 1:] + dests[:i + 1]  # after the cursor to the end, then up to it
        for d in order:
            if not d.overload and d.weight > 0:
                self.cursor = d
                return d
        return None


# ---- wrr (ip_vs_wrr.c, 6.12) -----------------------------------------------------------------

class WRR:
    HEAD = None

    def __init__(self):
        # ip_vs_wrr_init_svc on the empty service (ipvsadm -A before any -a): di 1, mw 0, cw 0
        self.cl, self.di, self.mw, self.cw = None, 1, 0, 0

    @staticmethod
    def _gcd_weight(dests):
        g = 0
        for d in dests:
            if d.weight > 0:
                g = hm._gcd(d.weight, g) if g > 0 else d.weight
        return g if g else 1

    def add(self, dests):  # ip_vs_wrr_dest_changed
        self.cl = self.HEAD
        self.di = self._gcd_weight(dests)
        self.mw = max([0] + [d.weight for d in dests]) - (self.di - 1)
        if self.cw > self.mw or not self.cw:
            self.cw = self.mw
        elif self.di > 1:
            self.cw = (self.cw // self.di) * self.di + 1

    def schedule(self, dests, flow, now):
        dest = self.cl
        if self.mw == 0:
            return None
        last, stop = dest, None
        last_pass = restarted = False
        while True:
            start = 0 if dest is self.HEAD else dests.index(dest) + 1
            for d in dests[start:]:          # list_for_each_entry_continue
                if not d.overload and d.weight >= self.cw:
                    self.cl = d
                    return d
                if d is stop:
                    self.cl = d
                    return None
            dest = self.HEAD                 # the loop leaves dest at the list head
            self.cw -= self.di
            if self.cw <= 0:
                self.cw = self.mw
                if last_pass or last is self.HEAD:
                    self.cl = dest
                    return None
                restarted = True
            last_pass = self.cw <= self.di
            if last_pass and restarted and last is not self.HEAD:
                stop = last


# ---- lc, wlc, sed, nq, fo, ovf ---------------------------------------------------------------

class Stateless:
    def add(self, dests):
        pass


class LC(Stateless):
    def schedule(self, dests, flow, now):
        least, loh = None, 0
        for d in dests:
            if d.overload or d.weight == 0:
                continue
            doh = conn_overhead(d) & M32  # unsigned int loh, doh
            if least is None or doh < loh:
                least, loh = d, doh
        return least


def weighted_least(dests, overhead):
    """The two stages of ip_vs_wlc_schedule / ip_vs_sed_schedule / __ip_vs_lblc(r)_schedule."""
    i = 0
    while i < len(dests) and not (not dests[i].overload and dests[i].weight > 0):
        i += 1
    if i == len(dests):
        return None
    least = dests[i]
    loh = overhead(least)
    for d in dests[i + 1:]:
        if d.overload:
            continue
        doh = overhead(d)
        if loh * d.weight > doh * least.weight:  # (__s64) products: exact in Python
            least, loh = d, doh
    return least


def sed_overhead(d):
    return d.active + 1


class WLC(Stateless):
    def schedule(self, dests, flow, now):
        return weighted_least(dests, conn_overhead)


class SED(Stateless):
    def schedule(self, dests, flow, now):
        return weighted_least(dests, sed_overhead)


class NQ(Stateless):
    def schedule(self, dests, flow, now):
        least, loh = None, 0
        for d in dests:
            if d.overload or not d.weight:
                continue
            doh = d.active + 1
            if d.active == 0:
                return d
            if least is None or loh * d.weight > doh * least.weight:
                least, loh = d, doh
        return least


class FO(Stateless):
    def schedule(self, dests, flow, now):
        best, hw = None, 0
        for d in dests:
            if not d.overload and d.weight > hw:
                best, hw = d, d.weight
        return best


class OVF(Stateless):
    def schedule(self, dests, flow, now):
        h, hw = None, 0
        for d in dests:
            w = d.weight
            if d.overload or d.active > w or w == 0:
                continue
            if h is None or w > hw:
                h, hw = d, w
        return h


# ---- lblc, lblcr (keyed by the packet's destination address) ---------------------------------

def lblc_busy(d, dests):
    """is_overloaded() of ip_vs_lblc.c / ip_vs_lblcr.c (not the OVERLOAD flag)."""
    if d.active > d.weight:
        return any(x.active * 2 < x.weight for x in dests)
    return False


class LBLC(Stateless):
    """The 24 h expiry and the GC never act within this case (a few seconds long)."""

    def __init__(self):
        self.cache = {}  # daddr -> dest

    def schedule(self, dests, flow, now):
        d = self.cache.get(flow["dst"])
        if d is not None and d.weight > 0 and not lblc_busy(d, dests):  # OVERLOAD not checked
            return d
        d = weighted_least(dests, conn_overhead)
        if d is None:
            return None
        self.cache[flow["dst"]] = d  # ip_vs_lblc_new: kept, or deleted and made again
        return d


class LBLCR(Stateless):
    def __init__(self):
        self.cache = {}  # daddr -> [set members, newest first]

    @staticmethod
    def set_min(members):
        i = 0
        while i < len(members) and not (not members[i].overload and members[i].weight > 0):
            i += 1
        if i == len(members):
            return None
        least = members[i]
        loh = conn_overhead(least)
        for d in members[i + 1:]:
            if d.overload:
                continue
            doh = conn_overhead(d)
            if loh * d.weight > doh * least.weight:
                least, loh = d, doh
        return least

    def schedule(self, dests, flow, now):
        members = self.cache.get(flow["dst"])
        if members is not None:
            d = self.set_min(members)
            # |set| > 1 and now > lastmod + 24 h: never within this case
            if d is not None and not lblc_busy(d, dests):
                return d
            d = weighted_least(dests, conn_overhead)
            if d is None:
                return None
            if d not in members:
                members.insert(0, d)  # list_add_rcu: the new member first
            return d
        d = weighted_least(dests, conn_overhead)
        if d is None:
            return None
        self.cache[flow["dst"]] = [d]
        return d


# ---- dh, sh, mh: tests/sched_model.py's tables and lookups -----------------------------------

class Table:
    def __init__(self, cls, flags):
        self.t = cls()
        self.flags = set(flags)

    def add(self, dests):       # dh, sh and mh all rebuild on add_dest
        self.t.reassign(dests)

    def schedule(self, dests, flow, now):
        return self.t.schedule(flow, self.flags)


# ---- twos (ip_vs_twos.c) with the engine's generator -----------------------------------------

class SplitMix64:
    def __init__(self, seed):
        self.s = seed & M64

    def next_u64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def next_u32(self):
        return self.next_u64() >> 32

    def below(self, ceil):
        """__get_random_u32_below(ceil), drivers/char/random.c."""
        rand = self.next_u32()
        if not ceil:
            return rand
        mult = ceil * rand
        if (mult & M32) < ceil:
            bound = ((1 << 32) - ceil) % ceil  # -ceil % ceil in u32
            while (mult & M32) < bound:
                mult = ceil * self.next_u32()
        return mult >> 32


class TWOS(Stateless):
    def __init__(self, rng):
        self.rng = rng
        self.draws = []  # (r1, r2) per call, for the report

    def schedule(self, dests, flow, now):
        choice1 = choice2 = None
        total = 0
        for d in dests:
            if not d.overload and d.weight > 0:
                total += d.weight
                choice1 = d
        if choice1 is None:
            return None
        total += 1
        r1 = s32(self.rng.below(total & M32))
        r2 = s32(self.rng.below(total & M32))
        self.draws.append((r1, r2))
        w1 = w2 = -1
        oh1 = oh2 = 0
        for d in dests:
            if d.overload or d.weight <= 0:
                continue
            r1 -= d.weight
            r2 -= d.weight
            if r1 <= 0 and w1 == -1:
                choice1, w1, oh1 = d, d.weight, conn_overhead(d)
            if r2 <= 0 and w2 == -1:
                choice2, w2, oh2 = d, d.weight, conn_overhead(d)
            if w1 != -1 and w2 != -1:
                break
        if choice2 is not None and s32(w2 * oh1) > s32(w1 * oh2):
            choice1 = choice2
        return choice1


# ---- services and the connection stream ------------------------------------------------------

# ip_vs_proto_tcp.c, INPUT table (client -> director packets of a NAT conn), the rows we use;
# active states: ESTABLISHED, SYN_SENT, SYN_RECV, SYNACK.
TCP_INPUT = {
    ("syn", "NONE"): "SYN_RECV", ("ack", "SYN_RECV"): "ESTABLISHED",
    ("ack", "ESTABLISHED"): "ESTABLISHED", ("rst", "ESTABLISHED"): "CLOSE",
    ("rst", "SYN_RECV"): "SYN_RECV",
}
ACTIVE = {"ESTABLISHED", "SYN_SENT", "SYN_RECV", "SYNACK"}
TIMEOUT = {"SYN_RECV": 60, "ESTABLISHED": 900, "CLOSE": 10}


class Service:
    def __init__(self, sc, rng):
        self.proto = sc["protocol"]
        vip, port = sc["address"].split(":")
        self.vip, self.port = vip, int(port)
        self.name = sc.get("scheduler", "wlc")
        flags = sc.get("flags", [])
        self.sched = {
            "rr": RR, "wrr": WRR, "lc": LC, "wlc": WLC, "sed": SED, "nq": NQ, "fo": FO,
            "ovf": OVF, "lblc": LBLC, "lblcr": LBLCR,
            "dh": lambda: Table(hm.DH, flags), "sh": lambda: Table(hm.SH, flags),
            "mh": lambda: Table(hm.MH, flags), "twos": lambda: TWOS(rng),
        }[self.name]()
        self.dests = []  # newest first
        self.conns = 0
        for i, r in enumerate(sc.get("reals", [])):
            addr, _, rport = r["address"].partition(":")
            d = Real(i, addr, int(rport) if rport else self.port, r.get("weight", 1),
                     r.get("upper", 0), r.get("lower", 0))
            self.dests.insert(0, d)   # __ip_vs_update_dest: list_add_rcu at the head
            self.sched.add(self.dests)

    def dest(self, addr):
        return next(d for d in self.dests if d.addr == addr)


class Director:
    """Services from vsrouter.toml, and the TCP connections made by the client packets fed to
    packet(); keeps every real's counters as the kernel would. Only what this case uses: NAT
    reals, TCP, client-side packets (SYN, ACK, RST), no persistence, no deletions."""

    def __init__(self, cfg):
        self.rng = SplitMix64(cfg.get("router", {}).get("seed", 1))  # the director's one generator
        self.services = [Service(sc, self.rng) for sc in cfg.get("services", [])]
        self.conns = {}  # (caddr, cport, vip, vport) -> conn dict
        self.deadlines = []  # every timer ever set, to check that none falls on a packet's time

    def service(self, vip, vport):
        return next((s for s in self.services if s.vip == vip and s.port == vport), None)

    def expire(self, now):
        """Conn timers that ran out at or before `now`, in deadline order (none tie here)."""
        for key, c in sorted(self.conns.items(), key=lambda kv: kv[1]["deadline"]):
            if c["deadline"] <= now:
                unbind(c["dest"], c["state"] in ACTIVE)
                del self.conns[key]

    def packet(self, now, caddr, cport, vip, vport, event, length):
        """One client packet (event syn/ack/rst). Returns ("fwd", dest), ("nodest", None) or
        ("stray", None) (no conn and not a SYN: passed to the local stack)."""
        self.expire(now)
        key = (caddr, cport, vip, vport)
        c = self.conns.get(key)
        if c is None:
            if event != "syn":
                return "stray", None
            svc = self.service(vip, vport)
            flow = {"src": caddr, "dst": vip, "sport": cport, "proto": 6}
            d = svc.sched.schedule(svc.dests, flow, now)
            if d is None:
                return "nodest", None
            bind(d)
            svc.conns += 1
            c = self.conns[key] = {"dest": d, "state": "NONE", "svc": svc, "deadline": None}
        d = c["dest"]
        old = c["state"]
        new = TCP_INPUT[(event, old)]
        if old not in ACTIVE and new in ACTIVE:       # NONE counts as inactive
            d.inact -= 1
            d.active += 1
        elif old in ACTIVE and new not in ACTIVE:
            d.active -= 1
            d.inact += 1
        c["state"] = new
        c["deadline"] = now + TIMEOUT[new]
        self.deadlines.append(c["deadline"])
        c["last"] = now
        d.inpkts += 1
        d.inbytes += length
        return "fwd", d

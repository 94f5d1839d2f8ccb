"""Shared helpers for the golden cases pcaps/<case>/.

For the Scapy scripts that make the replay fixtures (gen.py): Trace. Every frame gets an explicit
timestamp so the fixtures are reproducible byte for byte.

For the semantic checks (check.py, run by tests/golden.py): load_gen, Checker, read, the time
helpers (rel, us, mmss, mmss_left), the checksum helpers (ipv4_checksum_ok, inet_checksum,
ttl_decremented), the IPv6 frame helpers (sn, mmac, ns_from for gen.py too; v6, head,
l4_checksum_ok, hop_decremented, dad_ns, na), Steps (gen.py's steps by name) and Listing, the
parsed list.txt. What a case expects (reals, times, counts and
the reasoning behind them) stays in its own check.py.

Run scripts with /usr/bin/python3 (Debian's python3-scapy).
"""
import logging
import os

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # "inconsistent linktypes" on Raw frames
from scapy.all import Ether, wrpcap  # noqa: F401  (re-exported for gen.py scripts)


class Trace:
    """Collects (interface, time, frame) and writes in/<interface>.pcap per interface."""

    def __init__(self, case_dir):
        self.case_dir = case_dir
        self.frames = {}

    def add(self, iface, t, pkt):
        pkt.time = t
        self.frames.setdefault(iface, []).append(pkt)
        return pkt

    def write(self):
        d = os.path.join(self.case_dir, "in")
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
        for iface, pkts in self.frames.items():
            wrpcap(os.path.join(d, iface + ".pcap"), pkts, linktype=1)  # DLT_EN10MB


def read(out_dir, iface):
    """The frames vsrouter sent on `iface` in a replay output directory."""
    from scapy.all import rdpcap
    p = os.path.join(out_dir, iface + ".pcap")
    return list(rdpcap(p)) if os.path.getsize(p) > 24 else []


def ipv4_checksum_ok(pkt):
    """Recompute the IPv4 (and ICMP/TCP/UDP) checksums with Scapy and compare."""
    from scapy.all import IP, ICMP, TCP, UDP
    ip = pkt[IP]
    fresh = IP(bytes(ip))
    del fresh.chksum
    ok = IP(bytes(fresh)).chksum == ip.chksum
    for L in (ICMP, TCP, UDP):
        if L in ip and not ip.frag and ip.flags.MF == 0:
            layer = ip[L]
            if L is UDP and layer.chksum == 0:
                continue
            f2 = IP(bytes(ip))
            del f2[L].chksum
            ok = ok and IP(bytes(f2))[L].chksum == layer.chksum
    return ok


# ---------------------------------------------------------------------------------------------
# Helpers for the semantic checks (pcaps/<case>/check.py, run by tests/golden.py)
# ---------------------------------------------------------------------------------------------

def load_gen(case_dir):
    """Import pcaps/<case>/gen.py as a module, so check.py can use its constants and frames.

    gen.py writes the pcaps only when run as a script, so importing it has no side effect."""
    import importlib.util
    name = os.path.basename(os.path.normpath(case_dir)) + "_gen"
    spec = importlib.util.spec_from_file_location(name, os.path.join(case_dir, "gen.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


class Checker:
    """Counts assertions: ok(cond, what) raises AssertionError(what) when cond is false, and
    otherwise adds one to ok.n, the number check() returns ("N semantic checks passed")."""

    def __init__(self):
        self.n = 0

    def __call__(self, cond, what):
        if not cond:
            raise AssertionError(what)
        self.n += 1

    def frames(self, name, got, want, t0):
        """The frames sent on one interface are exactly `want`, in time order.

        got:  the frames read from the output (read(out_dir, name)).
        want: (seconds after t0, description, predicate(frame) -> bool) per expected frame, in any
              order; sorted here by time, stably, so frames due at the same moment keep the order in
              which they were listed (their causal order).
        Checks the number of frames, then each frame's time (to the microsecond) and predicate:
        1 + 2 * len(want) checks."""
        want = sorted(want, key=lambda w: w[0])
        self(len(got) == len(want), f"{name}: {len(got)} frames sent, expected {len(want)}")
        for i, (t, what, pred) in enumerate(want):
            self(abs(rel(got[i], t0) - t) < 1e-6, f"{name} #{i + 1} ({what}) sent at {rel(got[i], t0)}, expected {t}")
            self(pred(got[i]), f"{name} #{i + 1}: expected {what}, got {got[i].summary()}")


# ---- time ----

US = 1000000  # microseconds a second: replay's clock and the connection timers count in µs


def rel(pkt, t0):
    """A frame's timestamp in seconds after t0 (gen.py's T0), rounded to the microsecond."""
    return round(float(pkt.time) - t0, 6)


def us(seconds):
    """Seconds (float) -> whole microseconds, rounded (so 1.06 + 900 gives 901060000 exactly)."""
    return int(round(seconds * US))


def mmss(micros):
    """A timer's remaining time as ipvsadm -Lnc prints it: mm:ss, the seconds truncated
    (as jiffies_delta_to_msecs() / 1000)."""
    s = micros // US
    return f"{s // 60:02d}:{s % 60:02d}"


def mmss_left(deadline, now):
    """The -Lnc "expire" column of an entry expiring at `deadline`, listed at `now` (seconds)."""
    return mmss(us(deadline) - us(now))


# ---- checksums and forwarding ----

def inet_checksum(b):
    """The Internet checksum (RFC 1071) of bytes b: 0 when b already holds a valid checksum."""
    if len(b) % 2:
        b = bytes(b) + b"\0"
    s = sum((b[i] << 8) + b[i + 1] for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ttl_decremented(ip):
    """The IPv4 datagram `ip` (a Scapy IP layer) as a router forwards it: its first ip.len bytes,
    TTL one less, header checksum recomputed, everything else byte for byte the same."""
    b = bytearray(bytes(ip)[: ip.len])
    b[8] -= 1
    b[10:12] = b"\0\0"
    b[10:12] = inet_checksum(bytes(b[: (b[0] & 15) * 4])).to_bytes(2, "big")
    return bytes(b)


# ---- IPv6 frames (the IPv6 cases' gen.py and check.py) ----

ND_HLIM, OWN_HLIM = 255, 64  # RFC 4861 §6.1.1/§7.1: ND from the link; Linux's default hop limit
MIN_MTU = 1280  # RFC 8200 §5; an ICMPv6 error is at most this long (RFC 4443 §2.4(c))
NA_R, NA_S, NA_O = 0x80, 0x40, 0x20


def sn(addr):
    """The solicited-node group of addr (RFC 4291 §2.7.1): ff02::1:ff and its low 24 bits."""
    import ipaddress
    low = int(ipaddress.IPv6Address(addr)) & 0xFFFFFF
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("ff02::1:ff00:0")) | low))


def mmac(group):
    """The Ethernet address of an IPv6 group (RFC 2464 §7)."""
    import ipaddress
    b = ipaddress.IPv6Address(group).packed
    return "33:33:" + ":".join(f"{x:02x}" for x in b[12:])


def ns_from(src, src_mac, target):
    """A multicast Neighbour Solicitation with the sender's link-layer address (RFC 4861 §7.2.2),
    for gen.py scripts: a host resolving `target`."""
    from scapy.all import ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6
    return (Ether(src=src_mac, dst=mmac(sn(target))) / IPv6(src=src, dst=sn(target), hlim=255) /
            ICMPv6ND_NS(tgt=target) / ICMPv6NDOptSrcLLAddr(lladdr=src_mac))


class Steps:
    """A gen.py's STEPS, (name, interface, seconds after T0, frame), by name, for check.py: the
    frame, its time and the IPv6 datagram it carries."""

    def __init__(self, gen):
        self.by_name = {name: (at, frame) for name, _, at, frame in gen.STEPS}

    def frame(self, name):
        return self.by_name[name][1]

    def at(self, name):
        return self.by_name[name][0]

    def v6(self, name):
        return v6(self.frame(name))


def a6(s):
    import ipaddress
    return ipaddress.IPv6Address(s).packed


def mac(s):
    return bytes.fromhex(s.replace(":", ""))


def v6(p):
    """The IPv6 datagram a frame carries (its payload length long)."""
    from scapy.all import IPv6
    b = bytes(p[IPv6])
    return b[: 40 + int.from_bytes(b[4:6], "big")]


def hop_decremented(b):
    """The datagram as a router forwards it: hop limit one less, every other byte the same (RFC 8200 §3:
    no header checksum, the upper-layer checksum does not cover the hop limit)."""
    return b[:7] + bytes([b[7] - 1]) + b[8:]


def l4_checksum_ok(p):
    """Recompute the ICMPv6 / TCP / UDP checksum of an emitted frame with Scapy (RFC 8200 §8.1
    pseudo-header) and compare with the one sent."""
    from scapy.all import IPv6
    from scapy.layers.inet6 import in6_chksum
    b = v6(p)
    nh, up = b[6], bytearray(b[40:])
    off = {58: 2, 6: 16, 17: 6}.get(nh)
    if off is None:
        return True
    got = int.from_bytes(up[off: off + 2], "big")
    up[off: off + 2] = b"\0\0"
    want = in6_chksum(nh, IPv6(b[:40]), bytes(up))
    if nh == 17 and want == 0:
        want = 0xFFFF
    return got == want


def head(p, src, dst, hlim, nh, eth_src, eth_dst):
    """The Ethernet and fixed IPv6 header: addresses, hop limit, next header, version 6, and a
    payload length that is the frame's (nothing cut, no padding counted)."""
    b = bytes(p)
    ip = b[14:]
    return (b[0:6] == mac(eth_dst) and b[6:12] == mac(eth_src) and b[12:14] == b"\x86\xdd"
            and ip[0] >> 4 == 6 and ip[8:24] == a6(src) and ip[24:40] == a6(dst) and ip[7] == hlim and ip[6] == nh
            and 40 + int.from_bytes(ip[4:6], "big") == len(ip))


def dad_ns(p, itf_mac, target):
    """RFC 4862 §5.4.2: from ::, to the target's solicited-node group, hop limit 255, no options
    (RFC 4861 §7.1.1: a probe from :: carries no source link-layer option)."""
    icmp = v6(p)[40:]
    return (head(p, "::", sn(target), ND_HLIM, 58, itf_mac, mmac(sn(target))) and len(icmp) == 24
            and icmp[0] == 135 and icmp[1] == 0 and icmp[4:8] == bytes(4) and icmp[8:24] == a6(target))


def na(p, itf_mac, target, dst, dst_mac, flags):
    """RFC 4861 §7.2.4 / §4.4: from the target (an address of the interface), hop limit 255,
    flags as given and the reserved bits zero, the target and our target link-layer option."""
    icmp = v6(p)[40:]
    return (head(p, target, dst, ND_HLIM, 58, itf_mac, dst_mac) and len(icmp) == 32 and icmp[0] == 136
            and icmp[1] == 0 and icmp[4] == flags and icmp[5:8] == bytes(3) and icmp[8:24] == a6(target)
            and icmp[24:26] == b"\x02\x01" and icmp[26:32] == mac(itf_mac))


# ---- list.txt ----

class Listing:
    """list.txt, the replay's `--list --list-conns` output, parsed. Its tables, in order:

      ipvsadm -Ln --stats   services:   {(proto, "vip:port"): [conns, inpkts, outpkts, inbytes, outbytes]}
                            reals:      {(proto, "vip:port", "rip:port"): [the same five numbers]}
      Interface             interfaces: {name: [rxframes, rxbytes, txframes, txbytes]}
      Event                 events:     {name: count}
      Drop reason           drops:      {reason: packets}, "total" included
      Health (checkers)     health:     {(proto, "vip:port", "rip:port"): {"state": alive|failed|inhibit,
                                         "up": checkers up, "of": checkers, "checkers": [their lines]}}
      Health events         health_events: [(seconds after the replay's start, "text after 'health: '")]
      Instance (VRRP)       vrrp:       {name: {"state", "vrid", "priority", "version", "interface",
                                         "addresses": [...], "detail": "the '->' line after '->'"}}
      Script (VRRP)         vrrp_scripts: {name: {"status", "interval", "runs", "failures", "timeouts",
                                           "last"}}
      VRRP events           vrrp_events: [(seconds after the replay's start, "text after 'vrrp: '")]
      IPv6 address          addresses6: {(interface, "addr/len"): tentative|preferred|duplicate}
      Neighbour (IPv6)      neigh6:     {(addr, interface): (mac or "-", state)}
      ipvsadm -Lnc          conns:      [[pro, expire, state, source, virtual, destination], ...]

    A line that fits none of these raises AssertionError, so a change of format fails loudly
    instead of leaving a table empty."""

    def __init__(self, out_dir):
        self.services, self.reals, self.interfaces = {}, {}, {}
        self.events, self.drops, self.conns = {}, {}, []
        self.health, self.health_events = {}, []
        self.vrrp, self.vrrp_events, self.vrrp_scripts = {}, [], {}
        self.addresses6, self.neigh6 = {}, {}
        section, service, instance = "stats", None, None
        for line in open(os.path.join(out_dir, "list.txt")).read().splitlines():
            s = line.split()
            if not s or line.startswith(("IP Virtual Server", "Prot LocalAddress", "  -> RemoteAddress",
                                         "IPVS connection entries")):
                continue
            if s[0] == "Prot" and s[-1] == "Checkers":
                section = "health"
            elif line == "Health events":
                section = "health_events"
            elif section == "health" and s[0] == "->":
                self.health[service]["checkers"].append(" ".join(s[1:]))
            elif section == "health" and len(s) == 8 and s[4:] == [s[4], "of", s[6], "up"]:
                service = (s[0], s[1], s[2])
                self.health[service] = {"state": s[3], "up": int(s[4]), "of": int(s[6]), "checkers": []}
            elif section == "health_events" and len(s) > 2 and s[1] == "health:":
                self.health_events.append((float(s[0]), line.split(" health: ", 1)[1]))
            elif s[:2] == ["Instance", "State"]:
                section = "vrrp"
            elif s[:2] == ["Script", "Status"]:
                section = "vrrp_scripts"
            elif section == "vrrp_scripts" and len(s) == 7:
                self.vrrp_scripts[s[0]] = {"status": s[1], "interval": float(s[2]), "runs": int(s[3]),
                                           "failures": int(s[4]), "timeouts": int(s[5]), "last": int(s[6])}
            elif line == "VRRP events":
                section = "vrrp_events"
            elif section == "vrrp" and s[0] == "->" and instance:
                self.vrrp[instance]["detail"] = " ".join(s[1:])
            elif section == "vrrp" and len(s) >= 7:
                instance = s[0]
                self.vrrp[instance] = {"state": s[1], "vrid": int(s[2]), "priority": int(s[3]), "version": int(s[4]),
                                       "interface": s[5], "addresses": s[6:], "detail": None}
            elif section == "vrrp_events" and len(s) > 2 and s[1] == "vrrp:":
                self.vrrp_events.append((float(s[0]), line.split(" vrrp: ", 1)[1]))
            elif s[:3] == ["Interface", "IPv6", "address"]:
                section = "addresses6"
            elif s[:2] == ["Neighbour", "Interface"]:
                section = "neigh6"
            elif section == "addresses6" and len(s) == 3:
                self.addresses6[(s[0], s[1])] = s[2]
            elif section == "neigh6" and len(s) == 4:
                self.neigh6[(s[0], s[1])] = (s[2], s[3])
            elif line.startswith("Interface "):
                section = "interfaces"
            elif line.startswith("Event "):
                section = "events"
            elif line.startswith("Drop reason"):
                section = "drops"
            elif line.startswith("pro expire"):
                section = "conns"
            elif section == "stats" and s[0] != "->" and len(s) == 7:
                service = (s[0], s[1])
                self.services[service] = [int(x) for x in s[2:]]
            elif section == "stats" and s[0] == "->" and len(s) == 7 and service:
                self.reals[service + (s[1],)] = [int(x) for x in s[2:]]
            elif section == "interfaces" and len(s) == 5:
                self.interfaces[s[0]] = [int(x) for x in s[1:]]
            elif section in ("events", "drops") and len(s) == 2:
                getattr(self, section)[s[0]] = int(s[1])
            elif section == "conns":
                self.conns.append(s)
            else:
                raise AssertionError(f"list.txt: cannot read {line!r} (in the {section} table)")

    def stats(self, name):
        """The five --stats numbers of one row: name "PROTO vip:port" is that service; a bare
        "addr:port" is the one service or real with that address. None when there is no such row;
        AssertionError when a bare address names more than one row."""
        if " " in name:
            return self.services.get(tuple(name.split(" ", 1)))
        rows = [v for (_, a), v in self.services.items() if a == name]
        rows += [v for (_, _, a), v in self.reals.items() if a == name]
        if len(rows) > 1:
            raise AssertionError(f"list.txt: {name} names {len(rows)} rows; say which protocol or service")
        return rows[0] if rows else None

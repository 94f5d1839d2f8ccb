"""The one topology every scenario uses, and the simulated hosts around the director.

  clients 203.0.113.50.. (02:00:00:00:cc:NN) --- wan 203.0.113.1/24 (02:00:00:00:00:01), VIPs on wan
                                                 [director]
  reals 10.1.0.11.. (02:00:00:00:aa:NN)       --- lan 10.1.0.1/24 (02:00:00:00:00:02)

NAT reals route their replies through the director (10.1.0.1); the simulated hosts answer ARP for
their own addresses, and the reals answer what reaches them (see Host.answer), so a scenario
scripts only the clients' side and the replies follow whatever real the director picked.
"""
import zlib

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,  # noqa: F401
                       IPv6, Raw)

IFACES = ("wan", "lan")
MACS = {"wan": "02:00:00:00:00:01", "lan": "02:00:00:00:00:02"}
ADDRESSES = {"wan": ["203.0.113.1/24"], "lan": ["10.1.0.1/24"]}
# A scenario's interfaces: [{"name", "mac", "addresses", "mtu"}]; the VM has two NICs.
INTERFACES = [{"name": i, "mac": MACS[i], "addresses": ADDRESSES[i]} for i in IFACES]
ROUTER = {"wan": "203.0.113.1", "lan": "10.1.0.1"}
VIP = "203.0.113.100"


def client(n):
    """Client n (1..): (ip, mac) on wan."""
    return f"203.0.113.{49 + n}", f"02:00:00:00:cc:{49 + n:02x}"


def real(n):
    """Real n (1..): (ip, mac) on lan."""
    return f"10.1.0.{10 + n}", f"02:00:00:00:aa:{10 + n:02x}"


def isn(ip, port, server=False):
    """The initial sequence number of a connection of the client (ip, port), for the client or for
    the server side: fixed, so a client's ACK can be scripted before it is known which real answers."""
    return zlib.crc32(f"{ip}:{port}:{'s' if server else 'c'}".encode()) & 0x7fffffff


class Hosts:
    """The simulated hosts on each interface: answer ARP and IPv6 Neighbour Solicitations; NAT reals
    answer TCP and UDP (IPv4)."""

    def __init__(self, clients=40, reals=8, real_answers=True, table=None):
        """table: {ip: (iface, mac, answers)} instead of the default clients and reals."""
        self.by_ip = dict(table or {})
        if table is None:
            for n in range(1, clients + 1):
                ip, mac = client(n)
                self.by_ip[ip] = ("wan", mac, False)
            for n in range(1, reals + 1):
                ip, mac = real(n)
                self.by_ip[ip] = ("lan", mac, real_answers)
        self.sent = {}  # (real ip, real port, peer ip, peer port) -> next seq of the real

    def answer(self, iface, frame):
        """The frames the hosts send in reply to one frame the director sent on `iface`."""
        if len(frame) < 14:
            return []
        eth = Ether(frame)
        if ARP in eth and eth[ARP].op == 1:
            a = eth[ARP]
            h = self.by_ip.get(a.pdst)
            if h and h[0] == iface and a.psrc != a.pdst:
                return [Ether(src=h[1], dst=eth.src) /
                        ARP(op=2, hwsrc=h[1], psrc=a.pdst, hwdst=a.hwsrc, pdst=a.psrc)]
            return []
        if IPv6 in eth and ICMPv6ND_NS in eth:
            # A solicitation for a host's IPv6 address: its solicited Neighbour Advertisement.
            ns = eth[ICMPv6ND_NS]
            h = self.by_ip.get(ns.tgt)
            src = eth[IPv6].src
            if h and h[0] == iface and src != "::":
                return [Ether(src=h[1], dst=eth.src) / IPv6(src=ns.tgt, dst=src, hlim=255) /
                        ICMPv6ND_NA(tgt=ns.tgt, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=h[1])]
            return []
        if IP not in eth:
            return []
        ip = eth[IP]
        h = self.by_ip.get(ip.dst)
        # Only a real that received the datagram itself (its MAC and its address: NAT) answers;
        # DR and TUN replies would go to the client directly, past the director.
        if not h or h[0] != iface or not h[2] or eth.dst != h[1] or ip.frag or ip.flags.MF:
            return []
        reply = Ether(src=h[1], dst=eth.src) / IP(src=ip.dst, dst=ip.src, id=0)
        if TCP in ip:
            t = ip[TCP]
            key = (ip.dst, t.dport, ip.src, t.sport)
            flags = str(t.flags)
            data = bytes(t.payload)
            if "R" in flags:
                return []
            if "S" in flags:
                self.sent[key] = isn(ip.src, t.sport, True) + 1
                return [reply / TCP(sport=t.dport, dport=t.sport, flags="SA", seq=isn(ip.src, t.sport, True),
                                    ack=t.seq + 1, window=8192)]
            seq = self.sent.get(key)
            if seq is None:
                return [reply / TCP(sport=t.dport, dport=t.sport, flags="R", seq=t.ack)]
            out = []
            ack = t.seq + len(data) + (1 if "F" in flags else 0)
            if data:
                body = f"{ip.dst}:{t.dport} {data[:20].decode(errors='replace')}\n".encode()
                out.append(reply / TCP(sport=t.dport, dport=t.sport, flags="PA", seq=seq, ack=ack, window=8192) /
                           Raw(body))
                seq += len(body)
            if "F" in flags:
                out.append(reply.copy() / TCP(sport=t.dport, dport=t.sport, flags="FA", seq=seq, ack=ack,
                                              window=8192))
                seq += 1
            self.sent[key] = seq
            return out
        if UDP in ip:
            u = ip[UDP]
            return [reply / UDP(sport=u.dport, dport=u.sport) / Raw(f"{ip.dst}:".encode() + bytes(u.payload))]
        if ICMP in ip and ip[ICMP].type == 8:
            return [reply / ICMP(type=0, id=ip[ICMP].id, seq=ip[ICMP].seq) / ip[ICMP].payload]
        return []


def from_client(n, proto="tcp", sport=40000, dport=80, flags="S", data=b"", dst=None, seq_off=0, ack_off=0,
                ip_flags=0, ipid=1):
    """A frame from client n to the director's wan MAC. TCP: seq is the client's ISN (+1 past the
    SYN, + seq_off); with A in the flags, ack acknowledges the server's SYN-ACK (+ ack_off)."""
    ip, mac = client(n)
    base = Ether(src=mac, dst=MACS["wan"]) / IP(src=ip, dst=dst or VIP, id=ipid, flags=ip_flags)
    if proto == "tcp":
        seq = isn(ip, sport) + (0 if "S" in flags else 1) + seq_off
        ack = isn(ip, sport, True) + 1 + ack_off if "A" in flags else 0
        pkt = base / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=8192)
    elif proto == "udp":
        pkt = base / UDP(sport=sport, dport=dport)
    else:
        pkt = base / ICMP(type=8, id=sport, seq=1)
    if data:
        pkt = pkt / Raw(data)
    return pkt

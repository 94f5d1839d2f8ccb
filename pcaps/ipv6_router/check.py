"""Semantic checks on the IPv6 router case's output, written from the protocol rules (RFC 4861
Neighbour Discovery, RFC 4862 DAD, RFC 4443 ICMPv6, RFC 8200 forwarding, RFC 9293 resets), not
from the output. gen.py's steps are the inputs; the frames each must cause are listed here with the
rule behind them. Used by tests/golden.py."""
import collections
import ipaddress
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import (MIN_MTU, NA_O, NA_R, NA_S, ND_HLIM, OWN_HLIM, Checker, Listing, a6, dad_ns, head,  # noqa: E402
                   hop_decremented, ipv4_checksum_ok, l4_checksum_ok, load_gen, mac, na, read, sn, v6)
from scapy.all import ARP, ICMP, IP, IPv6, Ether  # noqa: E402

g = load_gen(HERE)

# What each step's frame is dropped as (a step not listed is answered, forwarded or consumed).
DROPPED = {
    "ns_tentative": "nd_not_for_us",              # RFC 4862 §5.4.3: resolution of a tentative address, ignored
    "echo_tentative": "ipv6_bad_destination",     # RFC 4862 §5.4: a tentative address is not ours yet
    "dad_conflict": "nd_duplicate_address",       # RFC 4862 §5.4.3: another node's probe: ours is a duplicate
    "hlim1": "ttl_exceeded",                      # RFC 8200 §3
    "err_hlim1": "ttl_exceeded",
    "noroute": "no_route",
    "too_big": "frag_needed",                     # RFC 8200 §5: routers do not fragment
    "scope": "ipv6_scope",                        # RFC 4291 §2.5.6
    "udp_local": "local_no_service",
    "syn_local": "local_no_service",
    "ack_local": "local_no_service",
    "nh_unknown": "local_no_service",
    "nh_unknown_ext": "local_no_service",
    "udp_mcast": "local_no_service",
    "ext8": "local_no_service",
    "lost1": "arp_unresolved",                    # the neighbour-unresolved drop (ARP's and ND's)
    "lost2": "arp_unresolved",
    "na_unsolicited": "nd_unsolicited",           # RFC 4861 §7.2.5: no entry, discarded
    "na_claims_ours": "nd_duplicate_address",     # RFC 4862 §5.4.4 (2): the address stays
    "na_claims_ours_src": "ipv6_bad_source",      # from our own (preferred) address
    "ns_dmz_dup": "nd_not_for_us",                # a duplicate address is never ours (RFC 4862 §5.4.5)
    "echo_dmz_dup": "ipv6_bad_destination",
}


# ---- bytes ----







def in_v6(step):
    """The IPv6 datagram of one of gen.py's steps, as it was sent to the router."""
    return v6(frame_of(step))


def frame_of(step):
    return next(f for name, _, _, f in g.STEPS if name == step)


def at_of(step):
    return next(at for name, _, at, _ in g.STEPS if name == step)










# ---- what the router sends ----



def resolve_ns(p, itf_mac, src, target):
    """RFC 4861 §7.2.2: to the target's solicited-node group, from an address of the outgoing
    interface, hop limit 255, with our source link-layer address option."""
    icmp = v6(p)[40:]
    return (head(p, src, sn(target), ND_HLIM, 58, itf_mac, g.mmac(sn(target))) and len(icmp) == 32
            and icmp[0] == 135 and icmp[1] == 0 and icmp[4:8] == bytes(4) and icmp[8:24] == a6(target)
            and icmp[24:26] == b"\x01\x01" and icmp[26:32] == mac(itf_mac))




def echo_reply(p, step, src):
    """RFC 4443 §4.2: type 129, the request's identifier, sequence number and data, to its source,
    from the address asked (from ours toward the sender for a group), hop limit 64."""
    req = in_v6(step)
    icmp = v6(p)[40:]
    return (head(p, src, str(ipaddress.IPv6Address(req[8:24])), OWN_HLIM, 58, g.R_LAN, g.CLIENT_MAC)
            and icmp[0] == 129 and icmp[1] == 0 and icmp[4:] == req[44:])


def forwarded(p, step, eth_src, eth_dst):
    """The step's datagram, hop limit one less, nothing else changed, between the given MACs."""
    b = bytes(p)
    return b[0:6] == mac(eth_dst) and b[6:12] == mac(eth_src) and v6(p) == hop_decremented(in_v6(step)) \
        and len(b) == 14 + len(in_v6(step))


def icmp_error(p, typ, code, rest, src, dst, quoted, eth_dst=g.CLIENT_MAC):
    """RFC 4443 §2.4, §3: type, code, the 32-bit field (MTU, pointer or 0), as much of the offending
    datagram as fits in 1280 bytes, hop limit 64, from `src` to the offending datagram's source."""
    icmp = v6(p)[40:]
    return (head(p, src, dst, OWN_HLIM, 58, g.R_LAN, eth_dst) and icmp[0] == typ and icmp[1] == code
            and int.from_bytes(icmp[4:8], "big") == rest and icmp[8:] == quoted[: MIN_MTU - 48]
            and len(v6(p)) == min(MIN_MTU, 48 + len(quoted)))


def tcp_reset(p, step, seq, ack, flags):
    """RFC 9293 §3.10.7.1 (CLOSED): to a segment without ACK <SEQ=0><ACK=SEG.SEQ+SEG.LEN><RST,ACK>, to
    one with ACK <SEQ=SEG.ACK><RST>; from the address and port asked, hop limit 64, no data."""
    req = in_v6(step)
    t = v6(p)[40:]
    return (head(p, g.LAN6, g.CLIENT, OWN_HLIM, 6, g.R_LAN, g.CLIENT_MAC) and len(t) == 20
            and t[0:2] == req[42:44] and t[2:4] == req[40:42] and int.from_bytes(t[4:8], "big") == seq
            and int.from_bytes(t[8:12], "big") == ack and t[12] == 0x50 and t[13] == flags)


def parse_ipv6_listing(out):
    """list.txt as vsfix.Listing reads it, with its IPv6 tables: {(interface, address/len): state}
    and {(address, interface): (mac, state)}."""
    rest = Listing(out)
    return rest, rest.addresses6, rest.neigh6


def check(out):
    ok = Checker()
    lan, wan, dmz = read(out, "lan"), read(out, "wan"), read(out, "dmz")

    # ---- every IPv6 frame sent: valid upper-layer checksum, our MAC, never from an address that
    # is not ours yet (tentative before 1 s) or never will be (dmz's duplicate) -------------------
    for name, frames, own in (("lan", lan, g.R_LAN), ("wan", wan, g.R_WAN), ("dmz", dmz, g.R_DMZ)):
        for i, p in enumerate(frames):
            ok(p[Ether].src == own, f"{name} #{i + 1}: source MAC {p[Ether].src}, not the interface's")
            if IPv6 not in p:
                continue
            ok(l4_checksum_ok(p), f"{name} #{i + 1}: ICMPv6/TCP/UDP checksum wrong ({p.summary()})")
            src = str(ipaddress.IPv6Address(v6(p)[8:24]))
            ok(src != g.DMZ6, f"{name} #{i + 1}: sent from the duplicate address {g.DMZ6}")
            if float(p.time) - g.T0 < 1.0:
                ok(src == "::", f"{name} #{i + 1}: sent from {src} while it was tentative")

    # ---- lan --------------------------------------------------------------------------------
    T = at_of
    fwd_back = hop_decremented(in_v6("fwd_back"))
    lan_want = [
        (0.0, "DAD probe for fe80::ff:fe00:1", lambda p: dad_ns(p, g.R_LAN, g.LAN_LL)),
        (0.0, "DAD probe for 2001:db8:1::1", lambda p: dad_ns(p, g.R_LAN, g.LAN6)),
        (T("ns_global"), "solicited NA (R,S,O) for 2001:db8:1::1 to the client's SLLA",
         lambda p: na(p, g.R_LAN, g.LAN6, g.CLIENT, g.CLIENT_MAC, NA_R | NA_S | NA_O)),
        (T("ns_ll"), "solicited NA (R,S,O) for the link-local address, to fe80::2",
         lambda p: na(p, g.R_LAN, g.LAN_LL, g.CLIENT_LL, g.CLIENT_MAC, NA_R | NA_S | NA_O)),
        (T("echo_global"), "echo reply from 2001:db8:1::1", lambda p: echo_reply(p, "echo_global", g.LAN6)),
        (T("echo_ll"), "echo reply from fe80::ff:fe00:1 to fe80::2", lambda p: echo_reply(p, "echo_ll", g.LAN_LL)),
        (T("echo_wan"), "echo reply from the wan address, on lan", lambda p: echo_reply(p, "echo_wan", g.WAN6)),
        (T("echo_mcast"), "echo reply to an all-nodes ping, from 2001:db8:1::1",
         lambda p: echo_reply(p, "echo_mcast", g.LAN6)),
        (T("arp4"), "ARP reply for 192.168.1.10 (dual stack)",
         lambda p: ARP in p and p[ARP].op == 2 and p[ARP].psrc == g.LAN4 and p[ARP].hwsrc == g.R_LAN
         and p[ARP].pdst == g.CLIENT4 and p[Ether].dst == g.CLIENT_MAC),
        (T("echo4"), "IPv4 echo reply",
         lambda p: ICMP in p and p[ICMP].type == 0 and p[IP].src == g.LAN4 and p[IP].dst == g.CLIENT4
         and bytes(p[ICMP].payload) == b"v4-ping" and ipv4_checksum_ok(p)),
        (T("fwd_back"), "server->client forwarded at once to the learnt MAC, hop limit 63",
         lambda p: forwarded(p, "fwd_back", g.R_LAN, g.CLIENT_MAC) and v6(p)[7] == 63),
        (T("hlim1"), "Time Exceeded 3/0 quoting the datagram as received",
         lambda p: icmp_error(p, 3, 0, 0, g.LAN6, g.CLIENT, in_v6("hlim1"))),
        (T("noroute"), "Destination Unreachable 1/0 (no route)",
         lambda p: icmp_error(p, 1, 0, 0, g.LAN6, g.CLIENT, in_v6("noroute"))),
        (T("too_big"), "Packet Too Big, MTU 1400, 1232 bytes quoted (1280 in all)",
         lambda p: icmp_error(p, 2, 0, g.MTU_WAN, g.LAN6, g.CLIENT, in_v6("too_big"))
         and len(in_v6("too_big")) == 1450 and len(v6(p)) == MIN_MTU),
        (T("scope"), "Destination Unreachable 1/2 (beyond scope) from fe80::ff:fe00:1 to fe80::2",
         lambda p: icmp_error(p, 1, 2, 0, g.LAN_LL, g.CLIENT_LL, in_v6("scope"))),
        (T("udp_local"), "port unreachable 1/4 from the address asked",
         lambda p: icmp_error(p, 1, 4, 0, g.LAN6, g.CLIENT, in_v6("udp_local"))),
        (T("syn_local"), "RST+ACK, seq 0, ack ISN+1", lambda p: tcp_reset(p, "syn_local", 0, 1001, 0x14)),
        (T("ack_local"), "RST, seq = the segment's ack", lambda p: tcp_reset(p, "ack_local", 5555, 0, 0x04)),
        (T("nh_unknown"), "Parameter Problem 4/1, pointer 6",
         lambda p: icmp_error(p, 4, 1, 6, g.LAN6, g.CLIENT, in_v6("nh_unknown"))),
        (T("nh_unknown_ext"), "Parameter Problem 4/1, pointer 40 (the Destination Options' Next Header)",
         lambda p: icmp_error(p, 4, 1, 40, g.LAN6, g.CLIENT, in_v6("nh_unknown_ext"))),
        (T("ext8"), "port unreachable behind 8 extension headers",
         lambda p: icmp_error(p, 1, 4, 0, g.LAN6, g.CLIENT, in_v6("ext8"))),
        # RFC 4861 §7.3.3 / §7.2.2: MAX_MULTICAST_SOLICIT (3) solicitations RETRANS_TIMER (1 s) apart,
        # then each waiting datagram's sender gets address unreachable (RFC 4443 §3.1 code 3). The
        # quote is the datagram as it waited, hop limit already decremented (as Linux's queue holds it).
        (T("lost1") + 3, "address unreachable 1/3 for the first waiting datagram",
         lambda p: icmp_error(p, 1, 3, 0, g.LAN6, g.CLIENT, hop_decremented(in_v6("lost1")))),
        (T("lost1") + 3, "address unreachable 1/3 for the second waiting datagram",
         lambda p: icmp_error(p, 1, 3, 0, g.LAN6, g.CLIENT, hop_decremented(in_v6("lost2")))),
    ]
    ok.frames("lan", lan, lan_want, g.T0)
    ok(fwd_back[7] == 63, "fwd_back: the input's hop limit is 64")

    # ---- wan --------------------------------------------------------------------------------
    wan_want = [
        (0.0, "DAD probe for fe80::ff:fe00:2", lambda p: dad_ns(p, g.R_WAN, g.WAN_LL)),
        (0.0, "DAD probe for 2001:db8:2::1", lambda p: dad_ns(p, g.R_WAN, g.WAN6)),
        # for a forwarded datagram the source is the link-local address (RFC 4861 §7.2.2 lets it be
        # any address of the interface; Linux's ndisc_solicit takes the prompting packet's source
        # only when it is an address of the interface, else ndisc_send_ns the link-local one)
        (T("fwd1"), "NS for the server from wan's link-local address",
         lambda p: resolve_ns(p, g.R_WAN, g.WAN_LL, g.SERVER)),
        # the queued datagrams leave, in order, when the NA comes (RFC 4861 §7.2.5)
        (T("na_server"), "first waiting datagram, hop limit 64 -> 63, to the server's MAC",
         lambda p: forwarded(p, "fwd1", g.R_WAN, g.SERVER_MAC) and v6(p)[7] == 63),
        (T("na_server"), "second waiting datagram, hop limit 17 -> 16",
         lambda p: forwarded(p, "fwd2", g.R_WAN, g.SERVER_MAC) and v6(p)[7] == 16),
        (T("routed"), "NS for the static route's next hop 2001:db8:2::fe, from the link-local address",
         lambda p: resolve_ns(p, g.R_WAN, g.WAN_LL, g.GW)),
        (T("na_gw"), "the SYN for 2001:db8:9::9 to the gateway's MAC, hop limit 63",
         lambda p: forwarded(p, "routed", g.R_WAN, g.GW_MAC) and v6(p)[7] == 63),
        # a link-local target: from the link-local address (RFC 4861 §7.2.2, any address of the interface)
        (T("lost1"), "NS 1 for the silent link-local next hop fe80::dead",
         lambda p: resolve_ns(p, g.R_WAN, g.WAN_LL, g.SILENT)),
        (T("dad_probe_ours"), "a DAD probe for our wan address answered: NA to all-nodes, R and O, not S",
         lambda p: na(p, g.R_WAN, g.WAN6, g.ALL_NODES, g.mmac(g.ALL_NODES), NA_R | NA_O)),
        (T("lost1") + 1, "NS 2 for fe80::dead", lambda p: resolve_ns(p, g.R_WAN, g.WAN_LL, g.SILENT)),
        (T("lost1") + 2, "NS 3 for fe80::dead", lambda p: resolve_ns(p, g.R_WAN, g.WAN_LL, g.SILENT)),
    ]
    ok.frames("wan", wan, wan_want, g.T0)

    # ---- dmz: its global address lost DAD; its link-local address works -----------------------
    dmz_want = [
        (0.0, "DAD probe for fe80::ff:fe00:3", lambda p: dad_ns(p, g.R_DMZ, g.DMZ_LL)),
        (0.0, "DAD probe for 2001:db8:3::1", lambda p: dad_ns(p, g.R_DMZ, g.DMZ6)),
        (T("ns_dmz_ll"), "solicited NA for fe80::ff:fe00:3 to fe80::99",
         lambda p: na(p, g.R_DMZ, g.DMZ_LL, g.HOST_LL, g.HOST_MAC, NA_R | NA_S | NA_O)),
    ]
    ok.frames("dmz", dmz, dmz_want, g.T0)
    ok(T("dad_conflict") < 1.0, "the DAD conflict comes while the probe's second runs")

    # ---- list.txt -----------------------------------------------------------------------------
    listing, addrs, neigh = parse_ipv6_listing(out)
    want = collections.Counter(DROPPED.values())
    want.update(reason for reason, _ in g.MALFORMED)
    drops = dict(listing.drops)
    total = drops.pop("total")
    for reason, count in sorted(want.items()):
        ok(drops.get(reason) == count, f"{reason}: expected {count} drops, counted {drops.get(reason, 0)}")
    extra = {k: v for k, v in drops.items() if k not in want}
    ok(not extra, f"unexpected drops: {extra}")
    ok(total == sum(want.values()), f"total drops {total} != {sum(want.values())}")

    ev = listing.events
    n_dad = 6
    want_events = {
        "echo_replies_sent": 5,           # 4 IPv6 + 1 IPv4
        "arp_replies_sent": 1,
        "arp_requests_sent": 0,
        "forwarded": 0,                   # IPv4
        "forwarded6": 6,                  # fwd1, fwd2, fwd_back, routed, lost1, lost2 (queued counts)
        "icmp_errors_sent": 10,           # 3/0, 1/0, 2, 1/2, 1/4, 4/1, 4/1, 1/4 (ext8), 1/3 x 2
        "icmp_errors_rate_limited": 0,
        "tcp_resets_sent": 2,
        "nd_solicits_sent": n_dad + 1 + 1 + 3,
        "nd_adverts_sent": 4,             # ns_global, ns_ll, dad_probe_ours, ns_dmz_ll
        "dad_failures": 1,                # dmz's global address only (na_claims_ours came after DAD)
    }
    for k, v in want_events.items():
        ok(ev.get(k) == v, f"event {k}: expected {v}, listed {ev.get(k)}")
    for name, frames in (("lan", lan), ("wan", wan), ("dmz", dmz)):
        ok(listing.interfaces[name][2] == len(frames), f"{name}: TxFrames {listing.interfaces[name][2]} != {len(frames)}")

    ok(addrs == {("lan", g.LAN_LL + "/64"): "preferred", ("lan", g.LAN6 + "/64"): "preferred",
                 ("wan", g.WAN_LL + "/64"): "preferred", ("wan", g.WAN6 + "/64"): "preferred",
                 ("dmz", g.DMZ_LL + "/64"): "preferred", ("dmz", g.DMZ6 + "/64"): "duplicate"},
       f"IPv6 addresses and their states: {addrs}")
    # Neighbours: the ones resolved by solicited NAs are REACHABLE (RFC 4861 §7.2.5); the ones learnt
    # from an NS's source link-layer option are there with their MAC (RFC 4861 §7.2.3 would have them
    # STALE); the silent next hop is gone; nothing was learnt from an unsolicited NA, from a DAD
    # probe, from a claim of our address, or from an NS for a tentative or duplicate address.
    ok(neigh.get((g.SERVER, "wan")) == (g.SERVER_MAC, "REACHABLE"), f"server entry: {neigh.get((g.SERVER, 'wan'))}")
    ok(neigh.get((g.GW, "wan")) == (g.GW_MAC, "REACHABLE"), f"gateway entry: {neigh.get((g.GW, 'wan'))}")
    learnt = {(g.CLIENT, "lan"): g.CLIENT_MAC, (g.CLIENT_LL, "lan"): g.CLIENT_MAC, (g.HOST_LL, "dmz"): g.HOST_MAC}
    for k, m in learnt.items():
        ok(k in neigh and neigh[k][0] == m, f"neighbour {k} learnt from its NS: {neigh.get(k)}")
    ok(set(neigh) == {(g.SERVER, "wan"), (g.GW, "wan")} | set(learnt), f"unexpected neighbours: {sorted(neigh)}")
    return ok.n

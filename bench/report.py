#!/usr/bin/env python3
"""bench/report.py RESULTS.tsv [ENGINE.json]: the tables of bench/run, in Markdown.

RESULTS.tsv has one "row<TAB>metric<TAB>value" per line (bench/run writes it); ENGINE.json is
Google Benchmark's JSON output of build-bench/engine_bench. Ratios are to the bare copier
of the same run with the same offloads: rows without IFF_VNET_HDR ("wire", "*-plain") to the
bare copier ("wire"), the others (offloads on) to the copier with offloads ("wire-vnet").
Missing values print as "n/a". Connection sync gets two tables of its own after the engine table:
the master's cost per connection (new/nat/*/sync against .../nosync) and a backup's apply rate
(sync/apply/*).
"""
import json
import sys

LABELS = {
    "direct": "kernel only: veth pair, no forwarder",
    "wire": "bare TAP copier (tapwire.c)",
    "wire-vnet": "bare copier + IFF_VNET_HDR/TSO",
    "nat": "vsrouter NAT (offloads)",
    "dr": "vsrouter DR (offloads)",
    "tun": "vsrouter TUN (offloads; + userspace decap)",
    "nat-plain": "vsrouter NAT --no-offload",
    "dr-plain": "vsrouter DR --no-offload",
    "kernel": "kernel nftables DNAT (veth)",
}
ORDER = ["wire", "wire-vnet", "nat", "dr", "tun", "nat-plain", "dr-plain", "kernel", "direct"]
PLAIN = {"wire", "nat-plain", "dr-plain"}  # no IFF_VNET_HDR: compared with the plain copier


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def sync_tables(eng):
    """Connection sync: the master's cost per new connection (new/nat/*/sync against nosync) and
    a backup's apply rate (sync/apply/*), from the medians of engine_bench's repetitions."""
    med = {}
    for b in eng.get("benchmarks", []):
        name = b["name"].split("/min_time")[0].split("/iterations")[0].split("/repeats")[0]
        if b.get("aggregate_name") == "median":
            med[name] = b
    out = []
    hs = [n for n in med if n.startswith("new/") and n.endswith("/sync")]
    if hs:
        out.append("| connection sync, master (4 packets per connection) | ns per connection | ns per packet "
                   "| Mconn/s per core | sync messages per connection | entries per connection "
                   "| the same without sync: ns per connection | sync's cost per connection |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for n in hs:
            b, base = med[n], med.get(n[: -len("/sync")] + "/nosync")
            ips = b.get("items_per_second")
            if not ips:
                continue
            ns = 4e9 / ips
            if base and base.get("items_per_second"):
                ns0 = 4e9 / base["items_per_second"]
                cmp = ("%.0f" % ns0, "%+.0f ns (%+.1f %%)" % (ns - ns0, 100 * (ns - ns0) / ns0))
            else:
                cmp = ("n/a", "n/a")
            out.append("| %s | %.0f | %.0f | %.3f | %.4f | %.3f | %s | %s |" % (
                n, ns, 1e9 / ips, ips / 4e6, b.get("msgs/conn", 0), b.get("entries/conn", 0), cmp[0], cmp[1]))
        out.append("")
    ap = [n for n in med if n.startswith("sync/apply/")]
    if ap:
        out.append("| connection sync, backup | M entries applied per second per core | ns per entry "
                   "| messages | created | updated | table at the end | allocations |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for n in ap:
            b = med[n]
            ips = b.get("items_per_second")
            if not ips:
                continue
            out.append("| %s | %.2f | %.0f | %d | %d | %d | %d | %d |" % (
                n, ips / 1e6, 1e9 / ips, b.get("msgs", 0), b.get("created", 0), b.get("updated", 0),
                b.get("table", 0), b.get("allocs", 0)))
        out.append("")
    return out


def main():
    res = {}
    for line in open(sys.argv[1]):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 3:
            res.setdefault(parts[0], {})[parts[1]] = parts[2]
    out = []
    run = res.get("run", {})
    out.append("Machine: %s" % run.get("machine", "?"))
    out.append("Run: %s, vsrouter %s, %s s in all" % (run.get("when", "?"), run.get("commit", "?"), run.get("seconds", "?")))
    out.append("Load average: %s" % run.get("load", "?"))
    out.append("Processes using >= 10 %% of a CPU (other than this run's, if any): %s" % run.get("busy", "?"))
    out.append("")

    rows = [r for r in ORDER if r in res]
    if rows:
        direct = res.get("direct", {})

        def cell(row, metric, fmt):
            v = num(res[row].get(metric))
            return fmt % v if v is not None else "n/a"

        def ratio(row, metric):
            base = res.get("wire" if row in PLAIN else "wire-vnet", {})
            v, b = num(res[row].get(metric)), num(base.get(metric))
            return "%.2f" % (v / b) if v is not None and b else "n/a"

        def added(row, metric):
            v, d = num(res[row].get(metric)), num(direct.get(metric))
            if row == "direct" or v is None or d is None:
                return "n/a" if row != "direct" else "0"
            return "%+.0f" % (v - d)

        if "wire" not in res and "wire-vnet" not in res:
            out.append("NO COPIER ROWS (wire and wire-vnet not run: --only, or no build-bench/tools/tapwire after --no-build): no ratios in this run.")
        out.append("×copier: to the bare copier with the same offloads (rows without IFF_VNET_HDR to "
                   "tapwire, the others to tapwire -v).")
        w, wv = num(res.get("wire", {}).get("tcp_gbps")), num(res.get("wire-vnet", {}).get("tcp_gbps"))
        if w and wv:
            out.append("IFF_VNET_HDR/TSO moves the copier's TCP ceiling from %.2f to %.2f Gbit/s (x%.2f)." % (w, wv, wv / w))
        out.append("")
        out.append("| path | TCP Gbit/s | ×copier | UDP 64 B kpps | ×copier | HTTP conn/s | ×copier "
                   "| RTT p50 µs | RTT p99 µs | added p50 µs | added p99 µs |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                LABELS.get(r, r),
                cell(r, "tcp_gbps", "%.2f"), ratio(r, "tcp_gbps"),
                cell(r, "udp_kpps", "%.0f"), ratio(r, "udp_kpps"),
                cell(r, "http_cps", "%.0f"), ratio(r, "http_cps"),
                cell(r, "rtt_p50_us", "%.0f"), cell(r, "rtt_p99_us", "%.0f"),
                added(r, "rtt_p50_us"), added(r, "rtt_p99_us")))
        out.append("")
        notes = []
        for r in rows:
            d = res[r].get("tx_dropped")
            v = res[r].get("vs_drops")
            if d not in (None, "", "0") or v:
                notes.append("%s: %s frames dropped at the client's/server's interface (TX dropped)%s" % (
                    LABELS.get(r, r), d or "0", "; vsrouter counters: " + v if v else ""))
        if notes:
            out.append("Drops during the row's tests (all four measurements):")
            out.append("")
            out.extend("- " + n for n in notes)
            out.append("")

    if len(sys.argv) > 2:
        try:
            eng = json.load(open(sys.argv[2]))
        except (OSError, ValueError):
            eng = None
        if eng:
            out.append("| engine alone, from memory | Mpps per core (median of 3) | spread (cv) | ns per packet "
                       "| frames sent per packet | allocations while handling the packets | live connections |")
            out.append("|---|---:|---:|---:|---:|---:|---:|")
            mem, cv = None, {}
            for b in eng.get("benchmarks", []):
                name = b["name"].split("/min_time")[0].split("/iterations")[0]
                if b.get("aggregate_name") == "cv":
                    cv[name] = b.get("Mpps", 0)
            for b in eng.get("benchmarks", []):
                name = b["name"].split("/min_time")[0].split("/iterations")[0]
                if name.startswith("memory/"):
                    mem = b
                    continue
                if name.startswith("sync/"):
                    continue  # the sync table below
                if b.get("aggregate_name") != "median":
                    continue
                ips = b.get("items_per_second")
                if not ips:
                    continue
                out.append("| %s | %.2f | %s | %.0f | %.3f | %d | %d |" % (
                    name, ips / 1e6, "%.0f %%" % (100 * cv[name]) if name in cv else "n/a", 1e9 / ips,
                    b.get("tx/pkt", 0), b.get("allocs", 0), b.get("live_conns", 0)))
            out.append("")
            out.extend(sync_tables(eng))
            if mem:
                out.append("Engine memory (memory/nat/1M): %.0f ESTABLISHED connections; engine at start "
                           "%.1f MB, with them %.1f MB; %.0f bytes per connection (sizeof(Conn) = %d)." % (
                               mem["conns"], mem["engine_at_start_MB"], mem["engine_1M_MB"], mem["bytes/conn"],
                               mem["sizeof_Conn"]))
                out.append("")

    m = res.get("memory")
    if m:
        c, r0, r1 = num(m.get("conns")), num(m.get("rss_start_bytes")), num(m.get("rss_bytes"))
        if c and r0 and r1:
            out.append("Daemon memory: vsrouter (NAT, max_connections 1048576) RSS %.1f MB at start, %.1f MB with "
                       "%d concurrent UDP connections in its table: %.0f bytes per connection." % (
                           r0 / 1e6, r1 / 1e6, c, (r1 - r0) / c))
        else:
            out.append("Daemon memory: not measured (%s)" % m)
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()

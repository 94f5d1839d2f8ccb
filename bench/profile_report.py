#!/usr/bin/env python3
"""bench/profile_report.py CALLGRIND_OUT PACKETS [TOP]: a callgrind profile of engine_bench
--profile, per packet and per function.

callgrind attributes the code of an inlined function to the (file, function) pair it was
inlined into, so one function shows up once per file its code comes from; this script adds up
their self costs, so each function is counted once. "self" is the cost of a function's own instructions,
"incl" includes what it calls. With --cache-sim=yes, the DLmr/DLmw columns are simulated
last-level misses (reads/writes) per packet, with the cache model given on the command line.
"""
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$")


def strip_args(fn):
    # "vs::Engine::handle_ipv4(unsigned int, ...) const" -> "vs::Engine::handle_ipv4"
    fn = re.sub(r"\s*\[[^\]]*\]$", "", fn).strip()
    depth, cut = 0, None
    for i in range(len(fn) - 1, -1, -1):
        c = fn[i]
        if c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
            if depth == 0:
                cut = i
                break
    name = fn[:cut] if cut else fn
    return name.replace("(anonymous namespace)::", "")


def table(path, inclusive, events):
    # Self costs of one function's file entries are disjoint (per source line): they add up.
    # Inclusive costs are the function's own in each entry (calls belong to the function, not to
    # a file): the largest entry is the function's.
    out = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", "--inclusive=" + ("yes" if inclusive else "no"),
                          "--show=" + ",".join(events), path], capture_output=True, text=True, check=True).stdout
    agg, total = {}, None
    ncols = len(events)
    for line in out.splitlines():
        # Columns: "N (p%)" or "." per event, then "file:function".
        parts = line.split()
        if not parts or not re.match(r"^[\d,.]+$", parts[0]):
            continue
        vals = []
        m = re.match(r"^\s*" + r"\s+".join([r"([\d,]+(?:\s+\(\s*[\d.]+%\))?|\.)"] * ncols) + r"\s+(.*)$", line)
        if not m:
            continue
        for k in range(ncols):
            v = m.group(k + 1).split()[0]
            vals.append(0 if v == "." else int(v.replace(",", "")))
        rest = m.group(ncols + 1)
        if rest.startswith("PROGRAM TOTALS"):
            total = vals
            continue
        fn = rest.split(":", 1)[1] if ":" in rest else rest
        key = strip_args(fn)
        a = agg.setdefault(key, [0] * ncols)
        for k in range(ncols):
            a[k] = max(a[k], vals[k]) if inclusive else a[k] + vals[k]
    return total, agg


def by_file(path, packets):
    out = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", "--inclusive=no", "--show=Ir", path],
                         capture_output=True, text=True, check=True).stdout
    agg = {}
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S[^:]*):(.*)$", line)
        if not m or m.group(2).startswith("PROGRAM"):
            continue
        f = re.sub(r"^.*/(src|bench|bits|include)/", "", m.group(2))
        agg[f] = agg.get(f, 0) + int(m.group(1).replace(",", ""))
    return agg


def main():
    path, packets = sys.argv[1], int(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    head = subprocess.run(["callgrind_annotate", "--threshold=100", path], capture_output=True, text=True).stdout
    events = ["Ir"]
    if re.search(r"^Events recorded:.*DLmr", head, re.M):
        events = ["Ir", "DLmr", "DLmw"]
    total, self_ = table(path, False, events)
    _, incl = table(path, True, events)
    hidden = ("run_packets", "main", "__libc_start", "(below main)", "0x0")
    per = lambda v: v / packets
    print("%.0f instructions per packet in all" % per(total[0]), end="")
    if len(events) > 1:
        print(", %.2f simulated last-level read misses and %.2f write misses per packet" % (per(total[1]), per(total[2])))
    else:
        print()
    print()
    hdr = "| function | self Ir/pkt | incl Ir/pkt | incl % |" + ("".join(" self %s/pkt |" % e for e in events[1:]))
    print(hdr)
    print("|---|---:|---:|---:|" + "---:|" * (len(events) - 1))
    rows = sorted(self_.items(), key=lambda kv: -kv[1][0])[:top]
    if len(events) > 1:  # add the functions that miss most even if they execute little
        by_miss = sorted(self_.items(), key=lambda kv: -(kv[1][1] + kv[1][2]))[:6]
        rows += [kv for kv in by_miss if kv not in rows]
    for name, v in rows:
        if any(h in name for h in hidden):
            continue
        inc = incl.get(name, v)
        line = "| `%s` | %.1f | %.1f | %.1f |" % (name, per(v[0]), per(inc[0]), 100.0 * inc[0] / total[0])
        for k in range(1, len(events)):
            line += " %.2f |" % per(v[k])
        print(line)
    print()
    print("| source file (self instructions, inlined code counted where it is written) | Ir/pkt |")
    print("|---|---:|")
    for f, v in sorted(by_file(path, packets).items(), key=lambda kv: -kv[1])[:12]:
        print("| `%s` | %.1f |" % (f, v / packets))


if __name__ == "__main__":
    main()

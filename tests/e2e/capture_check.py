#!/usr/bin/python3
"""capture_check.py CAPTURE.pcapng REPLAYED.pcap MAC: a `vsrouter run --capture` file against the
replay of that capture. The capture is pcapng whose epb_flags say each frame's direction (read here
without Scapy's help, which ignores them): the outbound frames are exactly those with vsrouter's
source MAC, and they must be the replay's output, byte for byte."""
import struct, sys
from scapy.all import rdpcap
def pcapng_frames(path):
    b = open(path, "rb").read()
    assert b[:4] == b"\x0a\x0d\x0d\x0a" and b[8:12] == b"\x4d\x3c\x2b\x1a", "not a little-endian pcapng"
    at, out = 0, []
    while at < len(b):
        typ, ln = struct.unpack_from("<II", b, at)
        if typ == 6:  # Enhanced Packet Block: the epb_flags option (code 2) holds the direction
            cap = struct.unpack_from("<I", b, at + 20)[0]
            data = b[at + 28 : at + 28 + cap]
            o, d = at + 28 + (cap + 3) // 4 * 4, 0
            while o < at + ln - 4:
                code, olen = struct.unpack_from("<HH", b, o)
                if code == 0:
                    break
                if code == 2:
                    d = struct.unpack_from("<I", b, o + 4)[0] & 3
                o += 4 + (olen + 3) // 4 * 4
            out.append((d, data))
        at += ln
    return out
frames = pcapng_frames(sys.argv[1])
mac = bytes.fromhex(sys.argv[3].replace(":", ""))
wrong = [i + 1 for i, (d, f) in enumerate(frames) if d not in (1, 2) or (d == 2) != (f[6:12] == mac)]
if wrong:
    sys.exit(f"{len(wrong)} frames whose direction flag disagrees with their source MAC, first {wrong[0]}")
live = [f for d, f in frames if d == 2]
replayed = [bytes(p) for p in rdpcap(sys.argv[2])]
if live != replayed:
    n = next((i for i, (a, b) in enumerate(zip(live, replayed)) if a != b), min(len(live), len(replayed)))
    sys.exit(f"live sent {len(live)} frames, replay {len(replayed)}; first difference at frame {n + 1}")
print(f"[e2e] capture replayed: the same {len(live)} frames, byte for byte; {len(frames) - len(live)} inbound",
      file=sys.stderr)

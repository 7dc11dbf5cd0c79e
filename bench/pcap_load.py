#!/usr/bin/env python3
"""How long -P takes to start, against the size of the trace, nm vs tcpreplay in one run.

For traces of 1k, 10k, 100k and 1M 60-byte frames (classic pcap; --pcapng adds the same
in pcapng), median of --runs:
  nm first packet: `nm pkt-gen tx -i null -P FILE -n 1`, from the command's start until it
      exits after sending its first packet (interpreter start-up included);
  nm plan ready: in this process, reading the file and filling the C plan
      (packets.load_pcap + make_plan);
  tcpreplay: `tcpreplay -i nma --limit=1 FILE` on a veth pair (root), streaming the file;
      and with --preload-pcap (-K), which reads the whole file before sending, as nm does;
  dpkt: reading every packet with dpkt's pcap reader (what nm did before; no root needed);
  former nm: the former make_plan's offsets (`sum(len(f) for f in frames[:i])`, quadratic),
      up to 20k packets (100k never finished).
Ratios: nm's first packet over tcpreplay's (below 1: nm starts sooner); nm's plan over
dpkt's reading and the former code's over nm's plan (both in this process).
Run: sudo .venv/bin/python bench/pcap_load.py [--runs 5] [--sizes 1000,10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

NM = [os.path.join(os.path.dirname(sys.executable), "nm")]
if not os.path.exists(NM[0]):
    NM = [sys.executable, "-m", "nmtools"]

FRAME = bytes.fromhex("ffffffffffff020000000001080045000000") + bytes(42)


def write_pcap(path: str, n: int, pcapng: bool = False) -> None:
    """n distinct 60-byte frames (the last bytes count them), 1 us apart."""
    with open(path, "wb") as f:
        if pcapng:
            f.write(struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28))
            f.write(struct.pack("<IIHHII", 1, 20, 1, 0, 0, 20))
        else:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        chunk = []
        for i in range(n):
            fr = FRAME[:56] + struct.pack("<I", i)
            if pcapng:
                chunk.append(struct.pack("<IIIIIII", 6, 92, 0, 0, i, 60, 60) + fr)
                chunk.append(struct.pack("<I", 92))
            else:
                chunk.append(struct.pack("<IIII", i // 1_000_000, i % 1_000_000, 60, 60) + fr)
            if len(chunk) >= 65536:
                f.write(b"".join(chunk))
                chunk.clear()
        f.write(b"".join(chunk))


def timed(cmd: list[str], timeout: float = 300) -> float:
    t = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    dt = time.monotonic() - t
    if r.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {r.stderr.strip()[-300:]}")
    return dt


def nm_first_packet(path: str) -> float:
    return timed([*NM, "pkt-gen", "tx", "-i", "null", "-P", path, "-n", "1", "--json"])


def nm_plan_ready(path: str) -> float:
    from nmtools.pktgen import Config, Function, packets
    from nmtools.pktgen.parse import default_endpoints

    src, dst = default_endpoints(False)
    cfg = Config(port="null", function=Function.TX, pcap=path)
    t = time.monotonic()
    trace = packets.load_pcap(path)
    packets.make_plan(cfg, src, dst, "00:00:00:00:00:00", 1, 0.0, 1, 512, trace=trace)
    return time.monotonic() - t


def dpkt_read(path: str) -> float:
    import dpkt

    t = time.monotonic()
    with open(path, "rb") as f:
        head = f.read(4)
        f.seek(0)
        r = dpkt.pcapng.Reader(f) if head == b"\x0a\x0d\x0d\x0a" else dpkt.pcap.Reader(f)
        frames = [bytes(b) for _, b in r]
    assert frames
    return time.monotonic() - t


def former_offsets(path: str) -> float:
    import dpkt

    t = time.monotonic()
    with open(path, "rb") as f:
        frames = [bytes(b) for _, b in dpkt.pcap.Reader(f)]
    offs = [sum(len(f) for f in frames[:i]) for i in range(len(frames))]
    assert len(offs) == len(frames)
    return time.monotonic() - t


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def fmt(x: float | None) -> str:
    return "-" if x is None or x != x else f"{x:.3f}"


def ratio(a: float | None, b: float | None) -> str:
    return "-" if not a or not b or a != a or b != b else f"{a / b:.2f}x"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="1000,10000,100000,1000000")
    ap.add_argument("--pcapng", action="store_true", help="also time pcapng files")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    veth = None
    if os.geteuid() == 0 and shutil.which("tcpreplay"):
        from netns import VethPair

        veth = VethPair()
    else:
        print("not root or no tcpreplay: tcpreplay columns skipped (dpkt shown)")
    kinds = [False, True] if args.pcapng else [False]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for ng in kinds:
            for n in sizes:
                path = os.path.join(tmp, f"t{n}.{'pcapng' if ng else 'pcap'}")
                write_pcap(path, n, ng)
                res: dict[str, list[float]] = {}
                for _ in range(args.runs):  # interleaved, so load changes hit all alike
                    res.setdefault("nm", []).append(nm_first_packet(path))
                    res.setdefault("plan", []).append(nm_plan_ready(path))
                    if veth is not None and not ng:
                        pre = ["ip", "netns", "exec", veth.a, "tcpreplay", "-q", "-i", "nma"]
                        res.setdefault("tcpreplay", []).append(timed([*pre, "--limit=1", path]))
                        res.setdefault("tcpreplay -K", []).append(
                            timed([*pre, "--preload-pcap", "--limit=1", path])
                        )
                    res.setdefault("dpkt", []).append(dpkt_read(path))
                    if n <= 20_000 and not ng:
                        res.setdefault("former", []).append(former_offsets(path))
                m = {k: median(v) for k, v in res.items()}
                rows.append((("pcapng" if ng else "pcap"), n, m))
                print(
                    f"{'pcapng' if ng else 'pcap':6} {n:>8}: "
                    + "  ".join(f"{k} {fmt(v)}" for k, v in m.items()),
                    flush=True,
                )
    print()
    head = (
        f"{'file':6} {'packets':>8} {'nm 1st pkt':>10} {'nm plan':>8} {'tcpreplay':>9} "
        f"{'tcprpl -K':>9} {'dpkt':>7} {'former':>8}  {'nm/tcprpl':>9} {'nm/-K':>7} "
        f"{'plan/dpkt':>9} {'former/plan':>11}"
    )
    print(f"seconds, median of {args.runs} runs")
    print(head)
    for kind, n, m in rows:
        print(
            f"{kind:6} {n:>8} {fmt(m.get('nm')):>10} {fmt(m.get('plan')):>8} "
            f"{fmt(m.get('tcpreplay')):>9} {fmt(m.get('tcpreplay -K')):>9} "
            f"{fmt(m.get('dpkt')):>7} {fmt(m.get('former')):>8}  "
            f"{ratio(m.get('nm'), m.get('tcpreplay')):>9} "
            f"{ratio(m.get('nm'), m.get('tcpreplay -K')):>7} "
            f"{ratio(m.get('plan'), m.get('dpkt')):>9} "
            f"{ratio(m.get('former'), m.get('plan')):>11}"
        )
    if veth is not None:
        veth.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What `nm` costs when it is binutils' nm: our console script vs /usr/bin/nm, same run.

    .venv/bin/python bench/handover.py [--runs 20] [--nm .venv/bin/nm] [--file /bin/true]

Build systems call `nm` thousands of times, so the hand-over must cost nothing next to
binutils' own run. Each case is run --runs times, the cases interleaved (so a busy machine
slows them alike), and the median wall time is printed with its ratio to binutils:

    nm -D FILE via nmtools     the console script decides from argv, then execs binutils
    nm -D FILE (binutils)      /usr/bin/nm directly
    python -c pass             this interpreter's own start-up (site included), the floor
    python -S -c pass          ... without site
    nm --help, nm pkt-gen --help, nm info null   our own commands, for scale
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _time(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t
    if r.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)}: exit status {r.returncode}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="runs of each case (default 20)")
    ap.add_argument("--nm", default=str(Path(sys.executable).parent / "nm"), help="our script")
    ap.add_argument("--binutils", default=shutil.which("nm", path="/usr/bin") or "/usr/bin/nm")
    ap.add_argument("--file", default="/bin/true", help="what nm -D lists (default /bin/true)")
    args = ap.parse_args()
    if not os.access(args.nm, os.X_OK):
        raise SystemExit(f"{args.nm}: not found (pip install . into this venv first)")
    if not os.access(args.binutils, os.X_OK):
        raise SystemExit(f"{args.binutils}: not found (apt-get install binutils)")
    py = sys.executable
    cases = {
        "nm -D FILE via nmtools": [args.nm, "-D", args.file],
        "nm -D FILE (binutils)": [args.binutils, "-D", args.file],
        "python -c pass": [py, "-c", "pass"],
        "python -S -c pass": [py, "-S", "-c", "pass"],
        "nm --help": [args.nm, "--help"],
        "nm pkt-gen --help": [args.nm, "pkt-gen", "--help"],
        "nm info null": [args.nm, "info", "null"],
    }
    for cmd in cases.values():  # warm the page cache
        _time(cmd)
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.runs):
        for name, cmd in cases.items():
            times[name].append(_time(cmd))
    ref = statistics.median(times["nm -D FILE (binutils)"])
    print(f"{args.runs} runs each, interleaved; median wall time; ratio to binutils nm -D")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:<26} {med * 1e3:7.1f} ms  {med / ref:5.2f}x")
    ours = statistics.median(times["nm -D FILE via nmtools"])
    print(f"hand-over: {ours / ref:.2f}x binutils ({(ours - ref) * 1e3:.1f} ms added per call)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

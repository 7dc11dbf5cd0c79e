#!/usr/bin/env python3
"""Mpps through a pipe between two processes: 60-byte frames, batch 1 / 32 / 256, and
`nm pkt-gen tx` into `nm pkt-gen rx`.

Each point is the median of several runs (the machine is shared and noisy). Goal: >= 100
Mpps at batch 256. To compare installs (before/after a change), give each one's Python with
--with; their runs are interleaved, so a load that comes and goes hits them alike.

Run: python bench/pipe.py [--runs 5] [--packets 20000000] [--with /other/venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time

FRAME = bytes(range(60))
CPUS = sorted(os.sched_getaffinity(0))


def _pin(cpu: int) -> None:
    """One process per CPU (both on one CPU measures the scheduler, not the pipe)."""
    if len(CPUS) > 1:
        os.sched_setaffinity(0, {CPUS[cpu % len(CPUS)]})


def _rx(name: str, count: int, batch: int, ready, out) -> None:  # noqa: ANN001
    from nmtools import open_port
    from nmtools.loops import run_rx

    _pin(1)
    with open_port(name) as p:
        ready.set()
        snap = run_rx(p, count=count, batch=batch)
    out.put((snap.pkts, snap.seconds))


def one_run(count: int, batch: int) -> float:
    """Mpps of one library run (tx here, rx in a child) with this interpreter's nmtools."""
    from nmtools import open_port
    from nmtools.loops import run_tx

    name = f"netmap:bench{os.getpid()}"
    ctx = mp.get_context("fork")
    ready, out = ctx.Event(), ctx.Queue()
    rx = ctx.Process(target=_rx, args=(name + "}1", count, batch, ready, out))
    rx.start()
    ready.wait(10)
    _pin(0)
    with open_port(name + "{1") as p:
        tx = run_tx(p, FRAME, count=count, batch=batch)
    pkts, secs = out.get(timeout=120)
    rx.join()
    if pkts != count or tx.pkts != count:
        raise SystemExit(f"lost packets: sent {tx.pkts}, received {pkts}, wanted {count}")
    return pkts / secs / 1e6


def library_run(python: str, count: int, batch: int) -> float:
    code = f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); import pipe; "
    code += f"print(pipe.one_run({count}, {batch}))"
    r = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=300)
    if r.returncode:
        raise SystemExit(r.stderr.strip().splitlines()[-1])
    return float(r.stdout)


def pktgen_run(python: str, count: int) -> float:
    """Mpps of `nm pkt-gen tx` into `nm pkt-gen rx` (the receiver's own figure)."""
    nm = os.path.join(os.path.dirname(python), "nm")
    env = dict(os.environ, NMTOOLS_SHM_DIR=tempfile.mkdtemp(prefix="nmt-bench-"))
    name = f"netmap:pg{os.getpid()}"
    rx = subprocess.Popen(
        ["taskset", "-c", str(CPUS[-1]), nm, "pkt-gen", "rx", "-i", name + "}1", "-n",
         str(count), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    while not [f for f in os.listdir(env["NMTOOLS_SHM_DIR"]) if "fifo" not in f]:
        time.sleep(0.01)
    subprocess.run(
        ["taskset", "-c", str(CPUS[0]), nm, "pkt-gen", "tx", "-i", name + "{1", "-n",
         str(count), "--json"],
        capture_output=True, check=True, env=env, timeout=300,
    )  # fmt: skip
    out, _ = rx.communicate(timeout=300)
    os.rmdir(env["NMTOOLS_SHM_DIR"])
    s = json.loads(out.strip().splitlines()[-1])
    if s["pkts"] != count:
        raise SystemExit(f"pkt-gen lost packets: received {s['pkts']} of {count}")
    return s["pps"] / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--packets", type=int, default=20_000_000)
    ap.add_argument("--with", dest="others", action="append", default=[], metavar="PYTHON")
    args = ap.parse_args()
    pythons = [sys.executable, *args.others]
    print(f"pipe between two processes, 60-byte frames, median of {args.runs} runs")
    for i, py in enumerate(pythons):
        print(f"  [{i}] {py}")
    print(f"{'what':>14} {'nmtools':>8} {'Mpps':>8} {'ratio':>6}   runs")
    points: list[tuple[str, object]] = [
        (f"batch {b}", (lambda py, b=b: library_run(py, args.packets // (10 if b == 1 else 1), b)))
        for b in (1, 32, 256)
    ]
    points.append(("pkt-gen tx>rx", lambda py: pktgen_run(py, args.packets * 5)))
    for label, fn in points:
        rates: list[list[float]] = [[] for _ in pythons]
        for _ in range(args.runs):
            for i, py in enumerate(pythons):
                rates[i].append(fn(py))  # type: ignore[operator]
        base = statistics.median(rates[0])
        for i, r in enumerate(rates):
            med = statistics.median(r)
            print(
                f"{label if i == 0 else '':>14} {f'[{i}]':>8} {med:8.1f} {med / base:6.2f}   "
                + " ".join(f"{x:.1f}" for x in r)
            )


if __name__ == "__main__":
    main()

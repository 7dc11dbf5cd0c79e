#!/usr/bin/env python3
"""Mpps through a pipe between two processes: 60-byte frames, batch 1 / 32 / 256.

Each point is the median of several runs (the machine is shared and noisy). Goal: >= 100
Mpps at batch 256. Run: python bench/pipe.py [--runs 5] [--packets 20000000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics

from nmtools import open_port
from nmtools.loops import run_rx, run_tx

FRAME = bytes(range(60))


CPUS = sorted(os.sched_getaffinity(0))


def _pin(cpu: int) -> None:
    """One process per CPU (both on one CPU measures the scheduler, not the pipe)."""
    if len(CPUS) > 1:
        os.sched_setaffinity(0, {CPUS[cpu % len(CPUS)]})


def _rx(name: str, count: int, batch: int, ready: mp.Event, out: mp.Queue) -> None:
    _pin(1)
    with open_port(name) as p:
        ready.set()
        snap = run_rx(p, count=count, batch=batch)
    out.put((snap.pkts, snap.seconds))


def one_run(count: int, batch: int) -> float:
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--packets", type=int, default=20_000_000)
    args = ap.parse_args()
    print(f"pipe between two processes, 60-byte frames, median of {args.runs} runs")
    print(f"{'batch':>6} {'Mpps':>8}   runs")
    for batch in (1, 32, 256):
        n = args.packets // 10 if batch == 1 else args.packets
        rates = [one_run(n, batch) for _ in range(args.runs)]
        print(
            f"{batch:>6} {statistics.median(rates):8.1f}   " + " ".join(f"{r:.1f}" for r in rates)
        )


if __name__ == "__main__":
    main()

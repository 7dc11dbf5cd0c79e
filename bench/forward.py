#!/usr/bin/env python3
"""Forwarding between two interfaces: nm (shared UMEM, separate UMEMs, AF_PACKET) vs the kernel.

Three namespaces: S (sender, `sa`) -> veth -> F (`fa` ... `fb`) -> veth -> R (`rb`).
nm pkt-gen floods from `sa` over AF_XDP; F forwards fa -> fb with one of:
  nm zc     two AF_XDP ports opened together (one UMEM): buffers swapped, no copy
  nm copy   two AF_XDP ports opened one by one (two UMEMs): every frame copied
  nm pkt    two AF_PACKET ports: copied
  bridge    the kernel's Linux bridge (br0 with fa and fb)
  tc        the kernel's tc mirred redirect fa ingress -> fb egress
Each number is Mpps counted by R's kernel (rx_packets of rb), median of --runs, the modes
interleaved in every run. That is capped by the sender, which shares the machine; so a
second table times the forwarder alone: --drain frames are queued on fa first (the
forwarder waits), then forwarded. Needs root.
Run: sudo .venv/bin/python bench/forward.py [--runs 5] [--seconds 2]
"""

from __future__ import annotations

import argparse
import atexit
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import sh  # noqa: E402
from pktgen import nm_tx_cmd  # noqa: E402

FWD = """
import sys, threading
from nmtools import open_port, open_ports
from nmtools.loops import LoopStats, run_forward
how, drain = sys.argv[1], int(sys.argv[2])
fa = "netmap:fa@conf:rx_slots=32768" if drain else "netmap:fa"
if how == "zc":
    a, b = open_ports([fa, "netmap:fb"], admode="xdp")
elif how == "copy":
    a, b = open_port(fa, admode="xdp"), open_port("netmap:fb", admode="xdp")
else:
    a, b = open_ports(["netmap:fa", "netmap:fb"], admode="packet")
st = LoopStats()
print("ready", flush=True)
if drain:  # frames wait in fa's rings until "go": then the forwarder runs alone
    sys.stdin.readline()
    r = run_forward(a, b, count=drain, stats=st, idle=2)
else:
    t = threading.Thread(target=lambda: (sys.stdin.readline(), st.cancel()), daemon=True)
    t.start()
    r = run_forward(a, b, stats=st)
print(r.stats.pkts, r.zerocopy, r.copied, r.stats.pps, flush=True)
"""


class Chain:
    def __init__(self) -> None:
        tag = f"nmf{os.getpid()}"
        self.s, self.f, self.r = tag + "s", tag + "f", tag + "r"
        atexit.register(self.close)
        for ns in (self.s, self.f, self.r):
            sh("ip", "netns", "add", ns)
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        sh(
            "ip",
            "-n",
            self.s,
            "link",
            "add",
            "sa",
            "type",
            "veth",
            "peer",
            "name",
            "fa",
            "netns",
            self.f,
        )
        sh(
            "ip",
            "-n",
            self.f,
            "link",
            "add",
            "fb",
            "type",
            "veth",
            "peer",
            "name",
            "rb",
            "netns",
            self.r,
        )
        for ns, dev in ((self.s, "sa"), (self.f, "fa"), (self.f, "fb"), (self.r, "rb")):
            sh("ip", "-n", ns, "link", "set", dev, "up")

    def rx_packets(self) -> int:
        return int(
            sh("ip", "netns", "exec", self.r, "cat", "/sys/class/net/rb/statistics/rx_packets")
        )

    def popen(self, ns: str, *cmd: str, cpu: int | None = None) -> subprocess.Popen[str]:
        pre = ["ip", "netns", "exec", ns] + (["taskset", "-c", str(cpu)] if cpu is not None else [])
        return subprocess.Popen(
            [*pre, *cmd],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def flood(self, size: int, secs: float) -> float:
        """Mpps that reached rb while nm pkt-gen sent from sa for secs seconds."""
        k0 = self.rx_packets()
        tx = self.popen(self.s, *nm_tx_cmd(size, secs, "xdp", "netmap:sa"), cpu=0)
        _, err = tx.communicate(timeout=secs + 60)
        if tx.returncode:
            raise SystemExit(f"pkt-gen tx failed: {err.strip()[-300:]}")
        time.sleep(0.2)  # what is still in flight
        return (self.rx_packets() - k0) / secs / 1e6

    def drain(self, how: str, size: int, n: int) -> float:
        """Mpps of the forwarder alone: n frames queued on fa first, then forwarded."""
        fwd = self.popen(self.f, sys.executable, "-c", FWD, how, str(n), cpu=1)
        assert fwd.stdout is not None and fwd.stdin is not None
        if fwd.stdout.readline().strip() != "ready":
            raise SystemExit(f"forwarder failed: {fwd.stderr.read().strip()[-300:]}")
        cmd = nm_tx_cmd(size, 0, "xdp", "netmap:sa")
        t = cmd.index("-t")
        cmd[t : t + 2] = ["-n", str(n)]
        tx = self.popen(self.s, *cmd, cpu=0)
        _, err = tx.communicate(timeout=60)
        if tx.returncode:
            raise SystemExit(f"pkt-gen tx failed: {err.strip()[-300:]}")
        time.sleep(0.3)
        out, err = fwd.communicate("go\n", timeout=60)
        if fwd.returncode:
            raise SystemExit(f"forwarder failed: {err.strip()[-300:]}")
        pkts, zc, copied, pps = out.split()
        if int(pkts) != n:
            raise SystemExit(f"forwarder {how}: {pkts} of {n} frames were queued and moved")
        return float(pps) / 1e6

    def nm(self, how: str, size: int, secs: float) -> float:
        fwd = self.popen(self.f, sys.executable, "-c", FWD, how, "0", cpu=1)
        assert fwd.stdout is not None and fwd.stdin is not None
        if fwd.stdout.readline().strip() != "ready":
            raise SystemExit(f"forwarder failed: {fwd.stderr.read().strip()[-300:]}")
        try:
            return self.flood(size, secs)
        finally:
            out, err = fwd.communicate("stop\n", timeout=30)
            if fwd.returncode:
                raise SystemExit(f"forwarder failed: {err.strip()[-300:]}")
            pkts, zc, copied, _ = out.split()
            if (how == "zc") != (zc == "True") or (how == "zc" and copied != "0"):
                raise SystemExit(f"forwarder {how}: zerocopy={zc} copied={copied}")

    def kernel(self, how: str, size: int, secs: float) -> float:
        ns = ("ip", "netns", "exec", self.f)
        if how == "bridge":
            sh(*ns, "ip", "link", "add", "br0", "type", "bridge")
            sh(*ns, "ip", "link", "set", "fa", "master", "br0")
            sh(*ns, "ip", "link", "set", "fb", "master", "br0")
            sh(*ns, "ip", "link", "set", "br0", "up")
        else:
            sh(*ns, "tc", "qdisc", "add", "dev", "fa", "ingress")
            sh(
                *ns,
                "tc",
                "filter",
                "add",
                "dev",
                "fa",
                "parent",
                "ffff:",
                "protocol",
                "all",
                "u32",
                "match",
                "u32",
                "0",
                "0",
                "action",
                "mirred",
                "egress",
                "redirect",
                "dev",
                "fb",
            )
        try:
            time.sleep(0.2)
            return self.flood(size, secs)
        finally:
            if how == "bridge":
                sh(*ns, "ip", "link", "del", "br0")
            else:
                sh(*ns, "tc", "qdisc", "del", "dev", "fa", "ingress")

    def close(self) -> None:
        for ns in (self.s, self.f, self.r):
            sh("ip", "netns", "del", ns, check=False)


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def interleaved(
    modes: tuple[str, ...], n: int, measure: Callable[[str], float]
) -> dict[str, list[float]]:
    """n rounds of every mode, so a slow minute of this shared machine hits all alike."""
    runs: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(n):
        for m in modes:
            runs[m].append(measure(m))
    return runs


def print_runs(runs: dict[str, list[float]]) -> None:
    for m, xs in runs.items():
        print(f"      {m:>8} runs: " + " ".join(f"{x:.3f}" for x in xs))


def flood(c: Chain, mode: str, size: int, secs: float) -> float:
    if mode.startswith("nm"):
        return c.nm({"nm zc": "zc", "nm copy": "copy", "nm pkt": "packet"}[mode], size, secs)
    return c.kernel(mode, size, secs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--drain", type=int, default=16000, help="frames queued per drain run")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (namespaces, veth, XDP)")
    c = Chain()
    modes = ("nm zc", "nm copy", "nm pkt", "bridge", "tc")
    print(
        f"forwarding fa -> fb, Mpps reaching rb, median of {args.runs} runs of "
        f"{args.seconds:g} s (sender: nm pkt-gen over AF_XDP)"
    )
    print(
        f"{'frame':>5} "
        + " ".join(f"{m:>8}" for m in modes)
        + f" {'zc/copy':>8} {'zc/bridge':>9} {'zc/tc':>6}"
    )
    try:
        for size in (60, 1514):
            runs = interleaved(modes, args.runs, lambda m, s=size: flood(c, m, s, args.seconds))
            r = {m: med(x) for m, x in runs.items()}
            print(
                f"{size:>5} "
                + " ".join(f"{r[m]:>8.3f}" for m in modes)
                + f" {r['nm zc'] / r['nm copy']:>7.2f}x {r['nm zc'] / r['bridge']:>8.2f}x"
                + f" {r['nm zc'] / r['tc']:>5.2f}x"
            )
            print_runs(runs)
        hows = ("zc", "copy", "packet")
        print(
            f"\nthe forwarder alone: {args.drain} frames queued on fa, then forwarded to fb "
            f"(Mpps over the forwarder's own time, median of {args.runs})"
        )
        print(f"{'frame':>5} " + " ".join(f"{'nm ' + h:>9}" for h in hows) + f" {'zc/copy':>8}")
        for size in (60, 1514):
            d = interleaved(hows, args.runs, lambda h, s=size: c.drain(h, s, args.drain))
            m = {h: med(x) for h, x in d.items()}
            print(
                f"{size:>5} "
                + " ".join(f"{m[h]:>9.3f}" for h in hows)
                + f" {m['zc'] / m['copy']:>7.2f}x"
            )
            print_runs(d)
    finally:
        c.close()


if __name__ == "__main__":
    main()

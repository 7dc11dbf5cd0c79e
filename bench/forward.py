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
interleaved in every run. Needs root.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import sh  # noqa: E402
from pktgen import nm_tx_cmd  # noqa: E402

FWD = """
import sys, threading
from nmtools import open_port, open_ports
from nmtools.loops import LoopStats, run_forward
how = sys.argv[1]
if how == "zc":
    a, b = open_ports(["netmap:fa", "netmap:fb"], admode="xdp")
elif how == "copy":
    a, b = open_port("netmap:fa", admode="xdp"), open_port("netmap:fb", admode="xdp")
else:
    a, b = open_ports(["netmap:fa", "netmap:fb"], admode="packet")
st = LoopStats()
t = threading.Thread(target=lambda: (sys.stdin.readline(), st.cancel()), daemon=True)
t.start()
print("ready", flush=True)
r = run_forward(a, b, stats=st)
print(r.stats.pkts, r.zerocopy, r.copied, flush=True)
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

    def nm(self, how: str, size: int, secs: float) -> float:
        fwd = self.popen(self.f, sys.executable, "-c", FWD, how, cpu=1)
        assert fwd.stdout is not None and fwd.stdin is not None
        if fwd.stdout.readline().strip() != "ready":
            raise SystemExit(f"forwarder failed: {fwd.stderr.read().strip()[-300:]}")
        try:
            return self.flood(size, secs)
        finally:
            out, err = fwd.communicate("stop\n", timeout=30)
            if fwd.returncode:
                raise SystemExit(f"forwarder failed: {err.strip()[-300:]}")
            pkts, zc, copied = out.split()
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
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
            runs: dict[str, list[float]] = {m: [] for m in modes}
            for _ in range(args.runs):
                for m in modes:
                    if m.startswith("nm"):
                        how = {"nm zc": "zc", "nm copy": "copy", "nm pkt": "packet"}[m]
                        runs[m].append(c.nm(how, size, args.seconds))
                    else:
                        runs[m].append(c.kernel(m, size, args.seconds))
            r = {m: med(x) for m, x in runs.items()}
            print(
                f"{size:>5} "
                + " ".join(f"{r[m]:>8.3f}" for m in modes)
                + f" {r['nm zc'] / r['nm copy']:>7.2f}x {r['nm zc'] / r['bridge']:>8.2f}x"
                + f" {r['nm zc'] / r['tc']:>5.2f}x"
            )
            for m in modes:
                print(f"      {m:>8} runs: " + " ".join(f"{x:.3f}" for x in runs[m]))
    finally:
        c.close()


if __name__ == "__main__":
    main()

"""Namespaces and veth pairs for benchmarks (removed on exit, also on Ctrl-C)."""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys


def sh(*cmd: str, check: bool = True) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=check).stdout


class VethPair:
    """Namespaces A and B joined by veth nma <-> nmb (IPv6 off, 198.18.0.1/.2)."""

    def __init__(self, queues: int = 1, mtu: int = 1500) -> None:
        tag = f"nmb{os.getpid()}"
        self.a, self.b = tag + "a", tag + "b"
        atexit.register(self.close)
        for ns in (self.a, self.b):
            sh("ip", "netns", "add", ns)
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        q = ("numtxqueues", str(queues), "numrxqueues", str(queues))
        sh(
            "ip",
            "-n",
            self.a,
            "link",
            "add",
            "nma",
            *q,
            "type",
            "veth",
            "peer",
            "name",
            "nmb",
            *q,
            "netns",
            self.b,
        )
        for ns, dev, addr in ((self.a, "nma", "198.18.0.1/24"), (self.b, "nmb", "198.18.0.2/24")):
            sh("ip", "-n", ns, "link", "set", dev, "mtu", str(mtu))
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")

    def counter(self, ns: str, dev: str, name: str = "rx_packets") -> int:
        return int(sh("ip", "netns", "exec", ns, "cat", f"/sys/class/net/{dev}/statistics/{name}"))

    def popen(self, ns: str, *cmd: str, cpu: int | None = None) -> subprocess.Popen[str]:
        pre = ["ip", "netns", "exec", ns] + (["taskset", "-c", str(cpu)] if cpu is not None else [])
        return subprocess.Popen(
            [*pre, *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def python(
        self, ns: str, code: str, *args: str, cpu: int | None = None
    ) -> subprocess.Popen[str]:
        return self.popen(ns, sys.executable, "-c", code, *args, cpu=cpu)

    def close(self) -> None:
        for ns in (self.a, self.b):
            sh("ip", "netns", "del", ns, check=False)


def last_json(p: subprocess.Popen[str], timeout: float = 120) -> dict:
    out, err = p.communicate(timeout=timeout)
    if p.returncode != 0:
        raise SystemExit(f"worker failed: {err.strip()}")
    return json.loads(out.strip().splitlines()[-1])

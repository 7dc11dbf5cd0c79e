"""Shared fixtures: private shared-memory dirs, root-only tests, network namespaces, tools.

System tools the tests run (tcpdump, ping, ...) are asked for with `need_tool` (or the
`tools` marker): a missing one skips the test with the Debian package to install, except
under CI (the environment variable CI set), where it is a failure: CI must run every test.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

#: Tool -> the Debian package that has it (README lists them next to the test command).
TOOL_PACKAGES: dict[str, str] = {
    "bash": "bash",
    "capinfos": "wireshark-common",
    "editcap": "wireshark-common",
    "mergecap": "wireshark-common",
    "sudo": "sudo",
    "ethtool": "ethtool",
    "fish": "fish",
    "ip": "iproute2",
    "man": "man-db",
    "mandoc": "mandoc",
    "nm": "binutils",
    "ping": "iputils-ping",
    "setpriv": "util-linux",
    "sh": "dash",
    "sysctl": "procps",
    "taskset": "util-linux",
    "tcpdump": "tcpdump",
    "tcpreplay": "tcpreplay",
    "trafgen": "netsniff-ng",
    "tshark": "tshark",
    "zsh": "zsh",
}


SANITIZER_VARS = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")


def foreign_env() -> dict[str, str]:
    """The environment for other programs (tshark, editcap, ...): without the sanitizer
    runtime a sanitized build of ours runs with (README, Development), which some of them
    hang under."""
    return {k: v for k, v in os.environ.items() if k not in SANITIZER_VARS}


def need_tool(name: str, package: str | None = None, *, found: str | None = None) -> str:
    """The path of tool `name` (`found` if the caller looked it up itself). Missing: skip
    ("needs NAME (apt-get install PACKAGE)"), or fail when $CI is set."""
    path = found or shutil.which(name)
    if path is not None:
        return path
    pkg = package or TOOL_PACKAGES.get(name, name)
    why = f"needs {name} (apt-get install {pkg})"
    if os.environ.get("CI"):
        pytest.fail(f"{why}: CI is set, and under CI every tool must be installed", False)
    pytest.skip(why)


@pytest.fixture(name="need_tool")
def _need_tool_fixture() -> Callable[..., str]:
    """`need_tool("tcpdump")` inside a test: see the function of that name."""
    return need_tool


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "tools(*names): the system tools a test runs (skipped without them, failed under CI)",
    )


def pytest_runtest_setup(item):
    for mark in item.iter_markers(name="tools"):
        for name in mark.args:
            need_tool(name)


def pytest_sessionstart(session):
    """Remove what an earlier run left because its interpreter died before any teardown
    (kill -9, a crash): namespaces `nmt<pid>x<n>` of a pid that is gone, and their
    processes. Namespaces of a run still going are left alone."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for name in re.findall(r"^(nmt(\d+)x\d+)\b", listing, re.M):
        ns, pid = name[0], int(name[1])
        if os.path.exists(f"/proc/{pid}"):
            continue
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        for p in pids.stdout.split():
            try:
                os.kill(int(p), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def pytest_collection_modifyitems(config, items):
    """Tests marked `root` skip, with the reason shown, when not run as root."""
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(
        reason="needs root (network namespaces, veth, AF_PACKET): run the suite as root"
    )
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _neutral_cwd(tmp_path_factory, monkeypatch):
    """Run (and start subprocesses) outside the source tree, so `python -c` and `-m` import
    the installed nmtools, not the uncompiled sources."""
    monkeypatch.chdir(tmp_path_factory.getbasetemp())


@pytest.fixture
def shm(tmp_path, monkeypatch):
    """A private directory for pipes (inherited by child processes); must end empty."""
    d = tmp_path / "shm"
    d.mkdir()
    monkeypatch.setenv("NMTOOLS_SHM_DIR", str(d))
    yield d


# ---- network namespaces ------------------------------------------------------------------


_ns_counter = itertools.count()


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=60)


@dataclass
class Netns:
    """Namespaces and veth pairs a test made; `close()` removes all of them."""

    made: list[str] = field(default_factory=list)
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def namespace(self) -> str:
        need_tool("ip")
        need_tool("sysctl")
        name = f"nmt{os.getpid()}x{next(_ns_counter)}"
        sh("ip", "netns", "add", name)
        self.made.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        # no IPv6 chatter (router solicitations, MLD) on the test links
        sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        return name

    def veth(
        self, queues: int = 1, mtu: int = 1500, a: str = "nma", b: str = "nmb"
    ) -> tuple[str, str]:
        """Two fresh namespaces joined by veth a <-> b (198.18.0.1/24, 198.18.0.2/24)."""
        na, nb = self.namespace(), self.namespace()
        q = ("numtxqueues", str(queues), "numrxqueues", str(queues))
        sh("ip", "-n", na, "link", "add", a, *q, "type", "veth", "peer", "name", b, *q, "netns", nb)
        for ns, dev, addr in ((na, a, "198.18.0.1/24"), (nb, b, "198.18.0.2/24")):
            sh("ip", "-n", ns, "link", "set", dev, "mtu", str(mtu))
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        return na, nb

    def link(self, na: str, nb: str, a: str, b: str, queues: int = 1) -> None:
        """A veth pair a (in namespace na) <-> b (in nb), up, without addresses."""
        q = ("numtxqueues", str(queues), "numrxqueues", str(queues))
        sh("ip", "-n", na, "link", "add", a, *q, "type", "veth", "peer", "name", b, *q, "netns", nb)
        sh("ip", "-n", na, "link", "set", a, "up")
        sh("ip", "-n", nb, "link", "set", b, "up")

    def python(
        self, ns: str, code: str, *args: str, user: str | None = None, cpu: int | None = None
    ) -> subprocess.Popen[str]:
        """Run `code` with this Python inside namespace `ns` (optionally as `user`)."""
        cmd = ["ip", "netns", "exec", ns]
        if cpu is not None:
            need_tool("taskset")
            cmd += ["taskset", "-c", str(cpu)]
        if user is not None:
            need_tool("setpriv")
            cmd += [
                "setpriv",
                f"--reuid={user}",
                f"--regid={user}",
                "--clear-groups",
            ]  # numeric ids
        cmd += [sys.executable, "-c", code, *args]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def run_json(self, ns: str, code: str, *args: str, timeout: float = 120, **kw: object):
        p = self.python(ns, code, *args, **kw)  # type: ignore[arg-type]
        out, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, err
        return json.loads(out.strip().splitlines()[-1])

    def sh(self, ns: str, *cmd: str) -> str:
        """Run `cmd` in namespace `ns` (a missing tool skips or, under CI, fails the test)."""
        need_tool(cmd[0])
        return sh("ip", "netns", "exec", ns, *cmd).stdout

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        for name in reversed(self.made):
            sh("ip", "netns", "del", name, check=False)
        self.made.clear()


@pytest.fixture
def netns():
    """Factory for namespaces and veth pairs; everything is removed, also on failure."""
    n = Netns()
    try:
        yield n
    finally:
        n.close()


def nm_cmd() -> list[str]:
    """The installed `nm` console script when there is one, else `python -m nmtools`."""
    script = os.path.join(os.path.dirname(sys.executable), "nm")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "nmtools"]


@dataclass
class NmRunner:
    """Runs `nm ...` as separate processes (optionally inside a namespace); reaps them all."""

    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def start(self, *args: str, ns: str | None = None) -> subprocess.Popen[str]:
        pre = ["ip", "netns", "exec", ns] if ns else []
        p = subprocess.Popen(
            [*pre, *nm_cmd(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.procs.append(p)
        return p

    def run(
        self, *args: str, ns: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        p = self.start(*args, ns=ns)
        out, err = p.communicate(timeout=timeout)
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)

    @staticmethod
    def summary(out: str) -> dict:
        """The `"type": "summary"` object of --json output."""
        for line in reversed(out.strip().splitlines()):
            d = json.loads(line)
            if d.get("type") == "summary":
                return d
        raise AssertionError(f"no summary in {out!r}")

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)


@pytest.fixture
def nm():
    r = NmRunner()
    try:
        yield r
    finally:
        r.close()

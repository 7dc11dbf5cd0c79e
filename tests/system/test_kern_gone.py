"""An interface deleted under a running loop ends it at once, with one true line.

The kernel unbinds the sockets of an interface it unregisters and then says nothing more
(poll() on an unbound AF_XDP socket never returns), so each backend must notice it: every
loop (tx, rx, ping, pong, forwarding), both backends, one thread or one a queue. An
interface that is only down is not gone: tx says it is down, rx waits for it.
"""

from __future__ import annotations

import subprocess
import time

import pytest

pytestmark = pytest.mark.root

GONE = "nma: the interface has gone away"
DEADLINE = 5.0  # seconds from `ip link del` to the exit: a hang check, not a speed test


def started(p: subprocess.Popen[str]) -> list[str]:
    """stderr lines up to pkt-gen's 'interface is ...' line (logged once the port is open)."""
    assert p.stderr is not None
    lines = []
    for line in p.stderr:
        lines.append(line)
        if "interface is netmap:" in line:
            return lines
    raise AssertionError(f"pkt-gen ended before it started: {''.join(lines)}")


def finish(p: subprocess.Popen[str], t_del: float, head: list[str]) -> tuple[str, str]:
    """Wait (bounded) for p; its stdout and whole stderr. Pipes are read after the exit
    (pkt-gen prints a few lines a second, far below a pipe's capacity)."""
    try:
        p.wait(DEADLINE)
    except subprocess.TimeoutExpired as e:
        p.kill()
        p.wait(10)
        raise AssertionError(f"still running {DEADLINE} s after the interface was deleted") from e
    took = time.monotonic() - t_del
    assert took < DEADLINE, took
    assert p.stdout is not None and p.stderr is not None
    return p.stdout.read(), "".join(head) + p.stderr.read()


def errors(err: str) -> list[str]:
    """The lines `nm` itself printed as errors (not the per-second reports)."""
    return [x for x in err.splitlines() if x.startswith("nm:") or "Traceback" in x]


def delete_while_running(netns, nm, na: str, args: list[str], *how: str) -> tuple[int, str, str]:
    """Run pkt-gen on nma, then `ip link <how>` (default: del nma) under it."""
    p = nm.start("pkt-gen", *args, "-i", "netmap:nma", "-w", "0", ns=na)
    head = started(p)
    time.sleep(0.5)  # the workers are in their loops
    assert p.poll() is None, "".join(head) + (p.stderr.read() if p.stderr else "")
    netns.sh(na, "ip", "link", *(how or ("del", "nma")))
    t_del = time.monotonic()
    out, err = finish(p, t_del, head)
    return p.returncode, out, err


CASES = [
    # (function, admode, threads, repetitions): rx hung in 3 of 3 runs over AF_XDP and 3 of 6
    # over AF_PACKET, so it is repeated
    ("rx", "xdp", 1, 3),
    ("rx", "packet", 1, 3),
    ("rx", "xdp", 2, 1),
    ("rx", "packet", 2, 1),
    ("tx", "xdp", 1, 1),
    ("tx", "packet", 1, 1),
    ("tx", "xdp", 2, 1),
    ("tx", "packet", 2, 1),
    ("ping", "xdp", 1, 1),
    ("ping", "packet", 1, 1),
    ("pong", "xdp", 1, 1),
    ("pong", "packet", 1, 1),
]


@pytest.mark.parametrize("function, admode, threads, reps", CASES)
def test_deleted_interface_ends_the_run(netns, nm, function, admode, threads, reps):
    na, nb = netns.veth(queues=2)
    for rep in range(reps):
        if rep:
            netns.link(na, nb, "nma", "nmb", queues=2)
        args = [function, "--admode", admode, "-p", str(threads)]
        if function == "tx":
            args += ["-R", "200kpps"]  # a steady stream, whatever the machine's load
        rc, out, err = delete_while_running(netns, nm, na, args)
        assert rc == 1, (rc, err)
        lines = errors(err)
        assert len(lines) == 1 and lines[0].startswith(f"nm: {GONE} ("), err
        assert "is down" not in err and "Traceback" not in err


@pytest.mark.parametrize("function, admode", [("rx", "xdp"), ("rx", "packet"), ("tx", "xdp")])
def test_interface_moved_to_another_namespace_is_gone_too(netns, nm, function, admode):
    na, nb = netns.veth()
    rc, _, err = delete_while_running(netns, nm, na, [function, "--admode", admode],
                                      "set", "nma", "netns", nb)  # fmt: skip
    assert rc == 1 and errors(err)[0].startswith(f"nm: {GONE} ("), err
    assert len(errors(err)) == 1


def test_down_is_not_gone(netns, nm):
    """A down interface that still exists: rx keeps waiting for it, tx says it is down."""
    na, _ = netns.veth()
    for admode in ("xdp", "packet"):
        rx = nm.start("pkt-gen", "rx", "--admode", admode, "-i", "netmap:nma", "-w", "0", ns=na)
        head = started(rx)
        time.sleep(0.5)
        netns.sh(na, "ip", "link", "set", "nma", "down")
        time.sleep(1.0)  # it used to fail at once ("port reported an error") or stay
        assert rx.poll() is None, "".join(head) + (rx.stderr.read() if rx.stderr else "")
        netns.sh(na, "ip", "link", "set", "nma", "up")
        rx.terminate()
        _, err = finish(rx, time.monotonic(), head)
        assert errors(err) == [], err

        args = ["tx", "--admode", admode, "-R", "100kpps", "-i", "netmap:nma", "-w", "0"]
        tx = nm.start("pkt-gen", *args, ns=na)
        head = started(tx)
        time.sleep(0.5)
        netns.sh(na, "ip", "link", "set", "nma", "down")
        _, err = finish(tx, time.monotonic(), head)
        assert tx.returncode == 1
        assert errors(err) == ["nm: nma: interface is down (bring it up: ip link set nma up)"]
        netns.sh(na, "ip", "link", "set", "nma", "up")


FWD = """
import sys
from nmtools import open_ports
from nmtools.errors import NmError
from nmtools.loops import run_forward
pa, pb = open_ports(["netmap:fa", "netmap:fb"], admode=sys.argv[1])
print(pa.backend, pb.backend, flush=True)
try:
    run_forward(pa, pb)
except NmError as e:
    print("error", e, flush=True)
"""


@pytest.mark.parametrize("admode", ["xdp", "packet"])
def test_deleted_source_ends_forwarding(netns, admode):
    s, f, r = netns.namespace(), netns.namespace(), netns.namespace()
    netns.link(s, f, "sa", "fa")
    netns.link(f, r, "fb", "rb")
    p = netns.python(f, FWD, admode)
    assert p.stdout is not None
    assert p.stdout.readline().split() == [admode, admode], p.stderr.read() if p.stderr else ""
    time.sleep(0.3)
    netns.sh(f, "ip", "link", "del", "fa")
    t_del = time.monotonic()
    out, err = finish(p, t_del, [])
    assert p.returncode == 0, err
    assert out.startswith("error fa: the interface has gone away ("), out

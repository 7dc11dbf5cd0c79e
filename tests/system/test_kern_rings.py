"""One thread a queue on a 2-queue AF_XDP port: each owns its queue alone, every frame counted once.

Two workers on one port share the port's UMEM, owner table and epoll set; if one touched the
other's rings (a flush or a wait over the whole port, a fill-ring refill, a kick) frames would
be sent twice, lost or miscounted. The sender numbers its frames (txseq: one flow a thread),
the receiver checks the numbers (rxseq), and the receiving kernel counts per queue (veth's
rx_queue_N_xdp_redirect, or rx_packets for the stack): all must agree exactly.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

pytestmark = pytest.mark.root

N = 40000


def queue_counts(netns, ns: str, dev: str) -> list[int]:
    """Frames the kernel's XDP program redirected to a socket, per rx queue of a veth."""
    text = netns.sh(ns, "ethtool", "-S", dev)
    found = re.findall(r"rx_queue_(\d+)_xdp_redirect: (\d+)", text)
    return [int(v) for _, v in sorted(found, key=lambda kv: int(kv[0]))]


def rx_packets(netns, ns: str, dev: str) -> int:
    return int(netns.sh(ns, "cat", f"/sys/class/net/{dev}/statistics/rx_packets"))


def receiver(nm, ns: str, admode: str, threads: int) -> subprocess.Popen[str]:
    """rxseq until N frames; returns once its workers run (its first interval line)."""
    p = nm.start(
        "pkt-gen", "rxseq", "-i", "netmap:nmb", "--admode", admode, "-p", str(threads),
        "-n", str(N), "--json", "-T", "100", "-w", "0", ns=ns,
    )  # fmt: skip
    assert p.stdout is not None
    line = p.stdout.readline()
    assert line, p.stderr.read() if p.stderr else ""
    return p


def summary(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        d = json.loads(line)
        if d.get("type") == "summary":
            return d
    raise AssertionError(f"no summary in {text[-500:]!r}")


def send(nm, ns: str, admode: str, *extra: str) -> dict:
    tx = nm.run(
        "pkt-gen", "txseq", "-i", "netmap:nma", "--admode", admode, "-p", "2", "-n", str(N),
        "-R", "200kpps", "--json", "-w", "0", *extra, ns=ns,
    )  # fmt: skip
    assert tx.returncode == 0, tx.stderr
    return summary(tx.stdout)


def received(rx: subprocess.Popen[str]) -> dict:
    try:
        rx.wait(30)
    except subprocess.TimeoutExpired:
        rx.kill()
        rx.wait(10)
    assert rx.stdout is not None and rx.stderr is not None
    out, err = rx.stdout.read(), rx.stderr.read()
    assert rx.returncode == 0, err
    return summary(out)


def exact(r: dict) -> None:
    """rxseq found every number of every flow once, in order."""
    assert r["pkts"] == N
    seq = {k: r[k] for k in ("lost", "out_of_order", "dup", "seq_too_high", "seq_too_low")}
    assert seq == dict.fromkeys(seq, 0), seq


def two_queues(netns) -> tuple[str, str]:
    """nma (2 queues) <-> nmb (2 queues), no addresses: nothing but our frames crosses."""
    na, nb = netns.namespace(), netns.namespace()
    netns.link(na, nb, "nma", "nmb", queues=2)
    return na, nb


@pytest.mark.parametrize("run", range(3))
def test_xdp_two_threads_to_xdp_two_threads(netns, nm, run):
    """tx -p 2 and rx -p 2 over AF_XDP: each sending thread fills its queue, each receiving
    thread empties its own (veth: the peer's tx queue N is rx queue N)."""
    na, nb = two_queues(netns)
    rx = receiver(nm, nb, "xdp", 2)
    before = queue_counts(netns, nb, "nmb")
    t = send(nm, na, "xdp")
    r = received(rx)
    after = queue_counts(netns, nb, "nmb")
    assert t["pkts"] == N and t["settings"]["backend"] == "xdp"
    assert r["settings"]["backend"] == "xdp" and r["settings"]["threads"] == 2
    exact(r)
    assert [a - b for a, b in zip(after, before, strict=True)] == [N // 2, N // 2]


def test_xdp_two_threads_to_the_kernel(netns, nm):
    """tx -p 2 over AF_XDP into one AF_PACKET receiver: the kernel counts exactly N."""
    na, nb = two_queues(netns)
    rx = receiver(nm, nb, "packet", 1)
    before = rx_packets(netns, nb, "nmb")
    t = send(nm, na, "xdp")
    r = received(rx)
    assert t["pkts"] == N and t["settings"]["threads"] == 2
    exact(r)
    assert rx_packets(netns, nb, "nmb") - before == N


def test_spread_sender_to_xdp_two_threads(netns, nm):
    """rx -p 2 over AF_XDP fed by AF_PACKET threads on CPUs 0 and 1 (a socket with qdisc
    bypass sends on queue CPU % queues), so both queues carry half."""
    if not {0, 1} <= os.sched_getaffinity(0):
        pytest.skip("needs CPUs 0 and 1 to spread the sender over two queues")
    na, nb = two_queues(netns)
    rx = receiver(nm, nb, "xdp", 2)
    before = queue_counts(netns, nb, "nmb")
    t = send(nm, na, "packet", "-a", "0")
    r = received(rx)
    after = queue_counts(netns, nb, "nmb")
    assert t["pkts"] == N and t["settings"]["backend"] == "packet"
    exact(r)
    assert [a - b for a, b in zip(after, before, strict=True)] == [N // 2, N // 2]


TWO_RINGS = """
import json, os, sys, threading
from nmtools import open_port
from nmtools.loops import run_tx
counts = [int(c) for c in sys.argv[1:]]
frame = bytes.fromhex("ffffffffffff020000000001" "88b5") + bytes(46)  # local experimental type
with open_port("netmap:nma", admode="xdp") as p:
    assert p.num_tx_rings == len(counts), p.num_tx_rings
    sent, errs = [0] * len(counts), []

    def work(i):
        try:
            if len(os.sched_getaffinity(0)) > 1:  # both at once: one CPU each
                os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[i % 2]})
            sent[i] = run_tx(p, frame, counts[i], batch=64, ring=i).pkts
        except Exception as e:
            errs.append(repr(e))

    ts = [threading.Thread(target=work, args=(i,)) for i in range(len(counts))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
print(json.dumps({"sent": sent, "errors": errs}))
"""


@pytest.mark.parametrize("run", range(2))
def test_a_thread_that_finishes_leaves_the_other_ring_alone(netns, nm, run):
    """Two library threads on rings 0 and 1 of one AF_XDP port; ring 0's ends first and
    flushes: it must flush ring 0 only, not post ring 1's slots as its owner does."""
    na, nb = two_queues(netns)
    before = rx_packets(netns, nb, "nmb")
    # ring 1 sends for about a second (at ~1 Mpps) while ring 0's thread flushes
    got = netns.run_json(na, TWO_RINGS, "2000", "1000000", timeout=30)
    assert got == {"sent": [2000, 1000000], "errors": []}
    assert rx_packets(netns, nb, "nmb") - before == 1002000

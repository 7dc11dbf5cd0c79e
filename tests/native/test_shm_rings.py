"""Pipes with several rings: a thread that owns ring i sleeps on ring i's doorbell alone."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time

import pytest

from nmtools import _bindings as B
from nmtools import open_port
from nmtools.loops import LoopStats, _raw

NM = os.path.join(os.path.dirname(sys.executable), "nm")


def _send_on_ring(port, ring: int, count: int) -> int:
    """count 60-byte frames on tx ring `ring` only (pkt-gen's loop, one ring)."""
    st = LoopStats()
    g, _keep = _raw(bytes(60), count, 64)
    B.check(B.lib.nmt_gen_tx(port.handle, ring, g, st.run), port.handle)
    return st.snapshot().pkts


def test_a_ring_sleeps_through_another_rings_traffic(shm):
    """Two threads wait, one per rx ring; frames on ring 1 wake ring 1's thread and leave
    ring 0's asleep until its timeout (one doorbell per end made both wake, or let one
    eat the other's wake-up)."""
    with open_port("netmap:wk{1@conf:rings=2") as m, open_port("netmap:wk}1") as s:
        assert s.num_rx_rings == 2
        woke: dict[int, tuple[int, float]] = {}

        def wait(ring: int) -> None:
            t0 = time.monotonic()
            rc = B.lib.nmt_ring_wait(s.handle, ring, B.lib.NMT_WAIT_RX, 2000)
            woke[ring] = (rc, time.monotonic() - t0)

        threads = [threading.Thread(target=wait, args=(r,)) for r in (0, 1)]
        for t in threads:
            t.start()
        time.sleep(0.3)  # both asleep
        assert _send_on_ring(m, 1, 1) == 1
        for t in threads:
            t.join(10)
        assert woke[1][0] == 1 and woke[1][1] < 1.5, woke
        assert woke[0][0] == 0 and woke[0][1] >= 1.9, woke  # timed out: nothing for ring 0


def test_one_rings_owner_does_not_eat_another_rings_wake_up(shm):
    """The owner of ring 1 has armed its wait; a frame arrives on ring 1 and rings its
    doorbell; the owner of ring 0 finishes a wait of its own (and drains its doorbell)
    before ring 1's owner polls. Ring 1's wake-up must still be there."""
    with open_port("netmap:eat{1@conf:rings=2") as m, open_port("netmap:eat}1") as s:
        h, rx = s.handle, B.lib.NMT_WAIT_RX
        assert B.lib.nmt_ring_arm(h, 1, rx) == 0  # armed: nothing there yet
        assert _send_on_ring(m, 1, 1) == 1  # rings ring 1's doorbell
        assert B.lib.nmt_ring_arm(h, 0, rx) == 0
        B.lib.nmt_ring_disarm(h, 0, rx)  # ring 0's owner is done waiting
        p = select.poll()
        p.register(h.fd, select.POLLIN)  # the whole port: any ring's doorbell
        assert p.poll(0), "ring 1's wake-up was eaten by ring 0's owner"
        B.lib.nmt_ring_disarm(h, 1, rx)
        assert not p.poll(0)


RECV = """
import sys, time
from nmtools import open_port
with open_port(sys.argv[1]) as p:
    print("ready", flush=True)
    t0 = time.monotonic()
    frames = p.recv(timeout=5)
    print(len(frames), round(time.monotonic() - t0, 3), flush=True)
"""


def test_a_whole_port_wait_wakes_for_any_ring(shm):
    """p->fd of a 2-ring end is an epoll set over both doorbells: a frame on ring 1 alone
    wakes a reader sleeping on the whole port."""
    with open_port("netmap:ep{1@conf:rings=2") as m:
        r = subprocess.Popen(
            [sys.executable, "-c", RECV, "netmap:ep}1"], stdout=subprocess.PIPE, text=True
        )
        try:
            assert r.stdout is not None and r.stdout.readline().strip() == "ready"
            time.sleep(0.3)
            assert _send_on_ring(m, 1, 1) == 1
            n, secs = r.stdout.readline().split()
            assert n == "1" and float(secs) < 2.5, (n, secs)  # a missed wake-up sleeps 5 s
            assert r.wait(10) == 0
        finally:
            r.kill()
            r.wait()
    assert os.listdir(shm) == []


def _wait_region(shm) -> None:
    t = time.monotonic() + 10
    while not [f for f in os.listdir(shm) if "fifo" not in f]:
        assert time.monotonic() < t, "the receiver never opened"
        time.sleep(0.02)


@pytest.mark.parametrize(("rx_end", "tx_end"), [("}", "{"), ("{", "}")])
def test_two_threads_two_rings_exact_counts(shm, nm, rx_end, tx_end):
    """pkt-gen -p 2 into pkt-gen -p 2 through a 2-ring pipe, each thread on its own ring:
    the receiver starts first and sleeps, so every batch needs its own ring's wake-up."""
    n = 300_000
    for run in range(3):
        name = f"netmap:tp{run}"
        rx = nm.start(
            "pkt-gen",
            "rx",
            "-i",
            f"{name}{rx_end}1@conf:rings=2",
            "-p",
            "2",
            "-n",
            str(n),
            "--json",
            "-T",
            "50",
        )
        _wait_region(shm)
        time.sleep(0.3)  # both receiver threads asleep on their doorbells
        tx = nm.run(
            "pkt-gen",
            "tx",
            "-i",
            f"{name}{tx_end}1",
            "-p",
            "2",
            "-n",
            str(n),
            "-R",
            "2Mpps",
            "--json",
        )
        assert tx.returncode == 0, tx.stderr
        out, err = rx.communicate(timeout=60)
        assert rx.returncode == 0, err
        t, r = nm.summary(tx.stdout), nm.summary(out)
        assert t["pkts"] == r["pkts"] == n
        per_thread = [0, 0]  # what each receiving thread (ring) had counted by its last report
        for line in out.splitlines():
            d = json.loads(line)
            for i, th in enumerate(d.get("threads", []) if d["type"] == "interval" else []):
                per_thread[i] = max(per_thread[i], th["total"]["pkts"])
        assert all(per_thread), per_thread
        assert os.listdir(shm) == []


def test_each_ring_has_its_own_doorbells(shm):
    with open_port("netmap:db{1@conf:rings=3"):
        fifos = sorted(f.split(".fifo")[1] for f in os.listdir(shm) if ".fifo" in f)
        assert fifos == ["0.0", "0.1", "0.2", "1.0", "1.1", "1.2"]

"""Pipes in shared memory, moved through by real processes."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from nmtools import list_pipes, open_port
from nmtools.errors import PortBusy
from nmtools.loops import run_pattern_rx, run_pattern_tx

CTX = mp.get_context("fork")


def _pattern_rx(name: str, count: int, ready, out) -> None:
    with open_port(name) as p:
        ready.set()
        r = run_pattern_rx(p, count, seed=7, minlen=60, maxlen=2100, idle=10)
    out.put((r.good, r.bad, r.foreign, r.first_error))


def test_ten_million_mixed_frames_between_processes(shm):
    """10 M frames of 60..2100 bytes (some span two slots) arrive in order, byte-exact."""
    count = 10_000_000
    ready, out = CTX.Event(), CTX.Queue()
    rx = CTX.Process(target=_pattern_rx, args=("netmap:big}1", count, ready, out))
    rx.start()
    try:
        assert ready.wait(10)
        with open_port("netmap:big{1") as p:
            tx = run_pattern_tx(p, count, seed=7, minlen=60, maxlen=2100)
        good, bad, foreign, err = out.get(timeout=300)
    finally:
        rx.join(30)
        if rx.is_alive():
            rx.kill()
    assert tx.pkts == count
    assert (good, bad, foreign, err) == (count, 0, 0, "")
    assert os.listdir(shm) == []


def test_pattern_rx_detects_a_wrong_stream(shm):
    """The checker is not blind: frames of another seed are all reported bad."""
    with open_port("netmap:chk{1") as a, open_port("netmap:chk}1") as b:
        run_pattern_tx(a, 100, seed=1)
        r = run_pattern_rx(b, 100, seed=2, idle=1)
    assert r.good == 0 and r.bad == 100
    assert r.first_error.startswith("frame 0:")


def test_either_end_may_open_first_and_frames_flow_both_ways(shm):
    with open_port("netmap:x}a") as s, open_port("netmap:x{a") as m:
        assert m.send([b"\x01" * 60, b"\x02" * 1514]) == 2
        assert s.recv() == [b"\x01" * 60, b"\x02" * 1514]
        assert s.send([b"\x03" * 4000]) == 1  # spans two 2048-byte slots
        assert m.recv() == [b"\x03" * 4000]
        assert m.mem_id == s.mem_id  # one region: zero copy between them
    assert os.listdir(shm) == []


def test_region_is_private_to_the_user(shm):
    with open_port("netmap:perm{1"):
        for f in os.listdir(shm):
            mode = stat.S_IMODE(os.stat(shm / f).st_mode)
            assert mode == 0o600, (f, oct(mode))


def test_same_end_twice_is_busy(shm):
    with open_port("netmap:busy{1"):
        with pytest.raises(PortBusy, match="already open"):
            open_port("netmap:busy{1")


def test_conf_sets_geometry_and_mismatch_is_refused(shm):
    with open_port("netmap:geo{1@conf:rings=2,slots=256") as m:
        assert (m.num_tx_rings, m.num_rx_rings, m.num_tx_slots) == (2, 2, 256)
        with open_port("netmap:geo}1") as s:  # no @conf: takes what exists
            assert s.num_rx_rings == 2 and s.num_rx_slots == 256
            assert m.send([b"a" * 60] * 10) == 10
            assert len(s.recv()) == 10
        with pytest.raises(OSError, match="exists with 2 ring pairs, not 4"):
            open_port("netmap:geo}1@conf:rings=4")


def test_tx_only_and_rx_only_ends(shm):
    with open_port("netmap:dir{1/T") as m, open_port("netmap:dir}1/R") as s:
        assert (m.num_tx_rings, m.num_rx_rings) == (1, 0)
        assert (s.num_tx_rings, s.num_rx_rings) == (0, 1)
        m.send([b"z" * 64])
        assert s.recv() == [b"z" * 64]


HOLD = """
import sys, time
from nmtools import open_port
p = open_port(sys.argv[1])
print("open", flush=True)
time.sleep(600)
"""


def _hold(name: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, name], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    return proc


def test_kill_9_both_ends_leaves_nothing_after_next_open(shm):
    procs = [_hold("netmap:dead{1"), _hold("netmap:dead}1")]
    try:
        assert len(os.listdir(shm)) == 3  # region + two doorbell FIFOs
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait(10)
    finally:
        for p in procs:
            p.kill()
    assert len(os.listdir(shm)) == 3  # the dead cannot clean up
    with open_port("netmap:dead{1") as m:  # a fresh pipe, not the dead one's
        assert m.num_tx_rings == 1
    assert os.listdir(shm) == []


def test_kill_9_both_ends_leaves_nothing_after_listing(shm):
    procs = [_hold("netmap:gone{7"), _hold("netmap:gone}7")]
    listed = [p.name for p in list_pipes()]
    assert listed == ["netmap:gone{7"]
    for p in procs:
        p.kill()
        p.wait(10)
    assert list_pipes() == []
    assert os.listdir(shm) == []


def test_one_end_killed_the_other_keeps_working(shm):
    proc = _hold("netmap:half}1")
    with open_port("netmap:half{1") as m:
        proc.kill()
        proc.wait(10)
        with open_port("netmap:half}1") as s:  # the dead end's slot is reclaimed
            m.send([b"q" * 60])
            assert s.recv() == [b"q" * 60]
    assert os.listdir(shm) == []


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


READER = """
import sys
from nmtools import open_port
with open_port(sys.argv[1]) as p:
    print("ready", flush=True)
    frames = p.recv(timeout=30)
    print(len(frames), frames[0][:3].decode(), flush=True)
"""


def test_blocked_reader_sleeps_and_wakes(shm):
    with open_port("netmap:sleep{1") as m:
        r = subprocess.Popen(
            [sys.executable, "-c", READER, "netmap:sleep}1"], stdout=subprocess.PIPE, text=True
        )
        try:
            assert r.stdout is not None and r.stdout.readline().strip() == "ready"
            time.sleep(0.3)  # let it settle into its wait
            before = _cpu_ticks(r.pid)
            time.sleep(1.5)
            used = _cpu_ticks(r.pid) - before
            assert used <= 5, f"idle reader used {used} ticks in 1.5 s"
            t0 = time.monotonic()
            m.send([b"hey" + bytes(57)])
            assert r.stdout.readline().split() == ["1", "hey"]
            assert time.monotonic() - t0 < 1.0
            assert r.wait(10) == 0
        finally:
            r.kill()


def test_null_port_swallows_everything_and_returns_nothing():
    with open_port("null") as n:
        assert n.backend == "null"
        assert n.send([b"x" * 60] * 5000) == 5000
        assert n.recv(timeout=0.05) == []

"""nmtools.runner: real C loops on pipes and null in threads, sampled rows, Ctrl-C, errors."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time

import pytest

from nmtools import open_port, runner
from nmtools.errors import NmError, UsageError
from nmtools.loops import LoopStats, run_rx, run_tx
from nmtools.ports.workers import open_for_workers, ring_of
from nmtools.views import JsonReporter, PlainReporter

FRAME = bytes(range(60))


class TxWorker(runner.Worker):
    def __init__(self, idx: int, port, count: int, label: str = "") -> None:
        super().__init__(idx)
        self.port, self.count, self.label = port, count, label
        self.stats = LoopStats()
        self.st = self.stats.c

    def loop(self) -> None:
        run_tx(self.port, FRAME, self.count, 64, stats=self.stats)


class RxWorker(TxWorker):
    def loop(self) -> None:
        run_rx(self.port, self.count, 64, stats=self.stats)


class FailingWorker(runner.Worker):
    def __init__(self, idx: int, message: str) -> None:
        super().__init__(idx)
        self.message = message
        self.st = LoopStats().c

    def loop(self) -> None:
        raise NmError(self.message)


def test_two_labelled_workers_over_a_pipe_are_sampled_as_rows(shm):
    """A sender and a receiver on the two ends of a pipe: every packet sent arrives, and the
    JSON intervals carry one row a worker, named by its label, summing to the total."""
    n = 2_000_000
    with open_port("netmap:run{1") as a, open_port("netmap:run}1") as b:
        ws = [TxWorker(0, a, n, "A>B"), RxWorker(1, b, n, "B<A")]
        out = io.StringIO()
        rep = JsonReporter(out, io.StringIO())
        rep.start({"tool": "test"})
        for w in ws:
            w.start()
        try:
            interrupted = runner.supervise(ws, rep, 0.01)
        finally:
            runner.stop(ws)
    assert not interrupted and runner.errors(ws) == []
    assert [int(w.st.pkts) for w in ws] == [n, n]
    recs = [json.loads(line) for line in out.getvalue().splitlines()]
    ivs = [r for r in recs if r["type"] == "interval"]
    assert ivs, "a 2 M packet run reports at least one 10 ms interval"
    for r in ivs:
        assert [t["label"] for t in r["threads"]] == ["A>B", "B<A"]
        assert sum(t["pkts"] for t in r["threads"]) == r["pkts"]


def test_ctrl_c_cancels_every_worker_and_the_counters_stay(shm):
    """SIGINT while two endless loops run on null: supervise returns True, both loops have
    returned, and what they counted is still readable for the summary."""
    with open_port("null") as p:
        ws = [TxWorker(i, p, 0) for i in range(2)]
        rep = PlainReporter(io.StringIO(), io.StringIO())
        rep.start({})
        for w in ws:
            w.start()
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        t0 = time.monotonic()
        try:
            interrupted = runner.supervise(ws, rep, 0.05)
        finally:
            timer.cancel()
            runner.stop(ws)
    assert interrupted and time.monotonic() - t0 < 10
    assert all(w.finished.is_set() and not w.thread.is_alive() for w in ws)
    assert all(int(w.st.pkts) > 0 for w in ws)
    assert runner.first_error(ws) is None


def test_every_workers_error_is_collected_in_order():
    ws = [FailingWorker(0, "first broke"), FailingWorker(1, "second broke")]
    for w in ws:
        w.start()
    runner.supervise(ws, PlainReporter(io.StringIO(), io.StringIO()), 0.05)
    assert [str(e) for e in runner.errors(ws)] == ["first broke", "second broke"]
    assert str(runner.first_error(ws)) == "first broke"


def test_a_worker_pinned_to_a_cpu_runs_there():
    cpu = sorted(os.sched_getaffinity(0))[-1]
    seen: list[set[int]] = []

    class Probe(runner.Worker):
        def loop(self) -> None:
            seen.append(os.sched_getaffinity(0))

    (w,) = [Probe(0, runner.cpus_for(cpu, None, 1)[0])]
    w.start()
    w.thread.join(5)
    assert seen == [{cpu}] and w.error is None


def test_cpus_for_refuses_a_cpu_this_process_may_not_use():
    allowed = sorted(os.sched_getaffinity(0))
    with pytest.raises(UsageError) as e:
        runner.cpus_for(max(allowed) + 1, None, 1)
    assert str(e.value) == (
        f"-a {max(allowed) + 1} -p 1: CPU {max(allowed) + 1} is not available "
        f"(this process may use {runner.cpulist(allowed)})"
    )
    assert runner.cpus_for(None, None, 3) == [None, None, None]
    assert runner.cpulist([0, 1, 2, 3, 6, 8, 9]) == "0-3,6,8-9"


def test_wait_link_on_a_name_without_an_interface_returns_at_once():
    t0 = time.monotonic()
    runner.wait_link("nm-no-such-if0", 5)
    assert time.monotonic() - t0 < 1


def test_workers_get_a_ring_each_of_a_pipe_with_enough_rings(shm):
    ports = open_for_workers("netmap:wk{1@conf:rings=2", 2, "tx", who="-f tx")
    try:
        assert len(ports) == 1 and ports[0].num_tx_rings == 2
        assert [ring_of(ports, i, 2)[1] for i in range(2)] == [0, 1]
    finally:
        for p in ports:
            p.close()


def test_workers_refused_where_a_pipe_has_too_few_rings(shm):
    with pytest.raises(UsageError) as e:
        open_for_workers("netmap:wk{2", 3, "rx", who="-f rx")
    assert str(e.value) == (
        "-p 3: netmap:wk{2 has 1 rx ring(s), one per thread is needed "
        "(ask a pipe for more with @conf:rings=N)"
    )
    assert list(shm.iterdir()) == []  # the port it opened to look is closed again


def test_a_transmit_only_port_is_refused_for_receiving(shm):
    with pytest.raises(UsageError) as e:
        open_for_workers("netmap:wk{3/T", 1, "rx", who="-f rx")
    assert (
        str(e.value) == "-f rx needs rx rings, and netmap:wk{3/T is transmit-only (/T): drop the /T"
    )

"""Worker threads for every tool: C loops pinned to CPUs, Ctrl-C as cancel, sampled rows, errors.

A tool subclasses `Worker` (one C loop on one ring or port pair: `loop()` calls it, `st` is
the `struct nmt_stats` it publishes), builds its workers, and hands them to `supervise`,
which starts nothing itself: the tool starts them (`Worker.start`) when its reporter has
started, then `supervise` reports a `Sample` every interval until every loop has returned.
Ctrl-C (and SIGTERM, which the command line turns into Ctrl-C) cancels every loop at its
next batch; the loops' counters stay readable, so the final summary still comes.
`first_error` says how a run ended; `stop` makes sure no thread outlives the run.

The C loops release the GIL (cffi does for every call), so one Python thread per loop
costs nothing per packet: Python only reads counters, every interval.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from nmtools.errors import UsageError
from nmtools.stats import Sample
from nmtools.views import Reporter


class Worker:
    """One C loop in a thread. Subclasses implement `loop` (call the C function, raise its
    error) and set `st` to the `struct nmt_stats` cdata it publishes its counters in."""

    label: str = ""  # the row's name in the live view and JSON ("A>B", "port 3" ...)

    def __init__(self, idx: int, cpu: int | None = None, name: str = "nm-worker") -> None:
        self.idx = idx
        self.cpu = cpu
        self.st: Any = None
        self.error: BaseException | None = None
        # set when the C loop has returned; Thread.is_alive() is not trusted for this, as a
        # join() interrupted by Ctrl-C can leave it saying False while the thread still runs
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._body, name=f"{name}-{idx}", daemon=True)

    def loop(self) -> None:
        raise NotImplementedError

    def _body(self) -> None:
        try:
            if self.cpu is not None:
                os.sched_setaffinity(0, {self.cpu})  # this thread only
            self.loop()
        except BaseException as e:  # reported by the supervising thread
            self.error = e
        finally:
            self.finished.set()

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        if self.st is not None:
            self.st.cancel = 1

    def lines(self) -> list[str]:
        """Text the loop produced since the last call (pkt-gen -X's packet dumps, say)."""
        return []

    def sample(self, t: float) -> Sample:
        st = self.st
        return Sample(
            t,
            int(st.pkts),
            int(st.bytes),
            int(st.events),
            int(st.drops),
            int(st.errors),
            label=self.label,
        )


def sample_all(workers: Sequence[Worker], **kwargs: Any) -> Sample:
    """Every worker's counters now, as rows of one total `Sample` (`kwargs`: its extras)."""
    t = time.monotonic()
    return Sample.total(t, [w.sample(t) for w in workers], **kwargs)


def supervise(
    workers: Sequence[Worker],
    rep: Reporter,
    interval: float,
    sample: Callable[[], Sample] | None = None,
    tick: Callable[[], None] | None = None,
) -> bool:
    """Report `sample()` every `interval` seconds until every worker's loop has returned.

    `tick` runs about every 10 ms (a tool's watch on its ports, a shared packet count).
    Ctrl-C cancels every worker and waits for them. Returns True if it was interrupted.
    """
    take = sample or (lambda: sample_all(workers))
    interval = max(interval, 0.01)
    interrupted = False
    next_t = time.monotonic() + interval
    while not all(w.finished.is_set() for w in workers):
        try:
            for w in workers:
                w.finished.wait(max(0.0, min(0.01, next_t - time.monotonic())))
            if tick is not None:
                tick()
            _echo_lines(workers, rep)
            if time.monotonic() >= next_t:
                rep.update(take())
                next_t += interval
        except KeyboardInterrupt:
            interrupted = True
            cancel(workers)
    _echo_lines(workers, rep)
    return interrupted


def _echo_lines(workers: Sequence[Worker], rep: Reporter) -> None:
    for w in workers:
        for line in w.lines():
            rep.echo(line)


def cancel(workers: Sequence[Worker]) -> None:
    for w in workers:
        w.cancel()


def errors(workers: Sequence[Worker]) -> list[BaseException]:
    """Every worker's error, in worker order (Ctrl-C included)."""
    return [w.error for w in workers if w.error is not None]


def first_error(workers: Sequence[Worker]) -> BaseException | None:
    """The first worker error that is not Ctrl-C (which the summary reports as such)."""
    return next(
        (
            w.error
            for w in workers
            if w.error is not None and not isinstance(w.error, KeyboardInterrupt)
        ),
        None,
    )


def stop(workers: Sequence[Worker], timeout: float = 5.0) -> None:
    """Cancel every loop and wait (up to `timeout` each) for its thread to end."""
    cancel(workers)
    for w in workers:
        if w.thread.is_alive():
            w.thread.join(timeout)


def cpus_for(affinity: int | None, span: int | None, threads: int) -> list[int | None]:
    """-a A [-c C]: thread i on CPU A + i (wrapping over C CPUs from A when -c is given).

    pkt-gen pins to CPU (A + i) % C with C = 1 by default, so `-a 3` alone lands on CPU 0;
    here `-a 3` means CPU 3.
    """
    if affinity is None:
        return [None] * threads
    allowed = sorted(os.sched_getaffinity(0))
    width = span or threads
    cpus = [affinity + (i % width) for i in range(threads)]
    bad = sorted({c for c in cpus if c not in allowed})
    if bad:
        raise UsageError(
            f"-a {affinity}{f' -c {span}' if span else ''} -p {threads}: "
            f"CPU {', '.join(map(str, bad))} is not available (this process may use "
            f"{cpulist(allowed)})"
        )
    return list(cpus)


def cpulist(cpus: Sequence[int]) -> str:
    """Sorted CPU numbers as the kernel writes them: ``0-3,6``."""
    out, start = [], None
    for i, c in enumerate(cpus):
        if start is None:
            start = c
        if i + 1 == len(cpus) or cpus[i + 1] != c + 1:
            out.append(str(start) if start == c else f"{start}-{c}")
            start = None
    return ",".join(out)


def wait_link(ifname: str, seconds: float) -> None:
    """-w: wait up to `seconds` for the interface's carrier (returns at once when it is up,
    or when the interface has no carrier file to read)."""
    if not ifname or seconds <= 0:
        return
    path = f"/sys/class/net/{ifname}/carrier"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                if f.read().strip() == "1":
                    return
        except OSError:
            return
        time.sleep(0.05)

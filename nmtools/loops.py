"""Python entry points to the C loops: they run with the GIL released.

Call them from a worker thread (or a process) and read `LoopStats.snapshot()` from another;
`cancel()` stops a loop at its next batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nmtools import _bindings as B
from nmtools.ports.port import Port


@dataclass(frozen=True)
class Snapshot:
    pkts: int
    bytes: int
    events: int
    drops: int
    errors: int
    t_start_ns: int
    t_end_ns: int

    @property
    def seconds(self) -> float:
        return max(0, self.t_end_ns - self.t_start_ns) / 1e9

    @property
    def pps(self) -> float:
        return self.pkts / self.seconds if self.seconds > 0 else 0.0


class LoopStats:
    """The counters one C loop publishes (a `struct nmt_run`; `c` is its basic counters)."""

    def __init__(self) -> None:
        self.run: Any = B.ffi.new("struct nmt_run *")
        self.c: Any = B.ffi.addressof(self.run[0], "st")

    def cancel(self) -> None:
        self.c.cancel = 1

    @property
    def done(self) -> bool:
        return bool(self.c.done)

    def snapshot(self) -> Snapshot:
        c = self.c
        return Snapshot(
            int(c.pkts),
            int(c.bytes),
            int(c.events),
            int(c.drops),
            int(c.errors),
            int(c.t_start_ns),
            int(c.t_end_ns),
        )


def _raw(frame: bytes, count: int, batch: int) -> tuple[Any, list[Any]]:
    """A generator plan that sends `frame` as it is (pkt-gen's loop, nothing varied)."""
    g = B.ffi.new("struct nmt_gen *")
    keep = [
        B.ffi.new("uint8_t[]", frame),
        B.ffi.new("uint32_t[]", [0]),
        B.ffi.new("uint32_t[]", [len(frame)]),
    ]
    g.tpl, g.tpl_off, g.tpl_len, g.ntpl = keep[0], keep[1], keep[2], 1
    g.l3_off = g.l4_off = g.mark_off = -1
    g.flows, g.count, g.burst = 1, count, batch
    return g, keep


def run_tx(
    port: Port,
    frame: bytes,
    count: int = 0,
    batch: int = 512,
    ring: int = -1,
    stats: LoopStats | None = None,
) -> Snapshot:
    """Send `count` copies of `frame` (0: until cancelled) on `ring` (-1: all rings)."""
    st = stats or LoopStats()
    h = port.handle
    g, _keep = _raw(frame, count, batch)
    B.check(B.lib.nmt_gen_tx(h, ring, g, st.run), h)
    return st.snapshot()


def run_rx(
    port: Port,
    count: int = 0,
    batch: int = 512,
    ring: int = -1,
    stats: LoopStats | None = None,
) -> Snapshot:
    """Receive until `count` packets (0: until cancelled) on `ring` (-1: all rings)."""
    st = stats or LoopStats()
    h = port.handle
    g, _keep = _raw(bytes(64), count, batch)
    B.check(B.lib.nmt_gen_rx(h, ring, g, st.run), h)
    return st.snapshot()


def run_pattern_tx(
    port: Port,
    count: int,
    seed: int = 1,
    minlen: int = 60,
    maxlen: int = 1514,
    batch: int = 256,
    stats: LoopStats | None = None,
) -> Snapshot:
    """Send `count` self-checking frames (length and bytes follow from seed and number)."""
    st = stats or LoopStats()
    h = port.handle
    B.check(B.lib.nmt_pattern_tx(h, count, seed, minlen, maxlen, batch, st.c), h)
    return st.snapshot()


@dataclass(frozen=True)
class PatternResult:
    stats: Snapshot
    first_error: str  # empty when every frame was right

    @property
    def good(self) -> int:
        return self.stats.pkts

    @property
    def bad(self) -> int:
        return self.stats.errors

    @property
    def foreign(self) -> int:
        """Frames of other ethertypes that were skipped."""
        return self.stats.drops


def run_pattern_rx(
    port: Port,
    count: int,
    seed: int = 1,
    minlen: int = 60,
    maxlen: int = 1514,
    idle: float = 2.0,
    stats: LoopStats | None = None,
) -> PatternResult:
    """Receive and check `count` pattern frames; gives up after `idle` seconds of silence."""
    st = stats or LoopStats()
    h = port.handle
    B.check(B.lib.nmt_pattern_rx(h, count, seed, minlen, maxlen, int(idle * 1000), st.c), h)
    return PatternResult(st.snapshot(), B.cstr(h.errmsg))


@dataclass(frozen=True)
class ForwardResult:
    stats: Snapshot  # pkts/bytes forwarded; drops: frames too long for the destination
    zerocopy: bool  # buffers were swapped, not copied
    copied: int  # slots copied (0 when zerocopy)


def run_forward(
    src: Port,
    dst: Port,
    count: int = 0,
    burst: int = 1024,
    zerocopy: bool = True,
    idle: float = 0.0,
    stats: LoopStats | None = None,
) -> ForwardResult:
    """Forward frames from `src`'s rx rings to `dst`'s tx rings, as netmap's bridge does.

    Buffers are swapped when the ports share memory (equal `mem_id`, e.g. AF_XDP ports
    opened together with `open_ports`) and `zerocopy` is on; otherwise frames are copied.
    Stops after `count` frames (0: no limit), `idle` seconds without one after the first
    (0: never), or `stats.cancel()`.
    """
    st = stats or LoopStats()
    copied = B.ffi.new("uint64_t *")
    h, hd = src._h(), dst._h()  # ValueError when closed
    zc = zerocopy and bool(B.lib.nmt_fwd_zerocopy(h, hd))
    rc = B.lib.nmt_fwd_run(h, hd, count, burst, int(zerocopy), int(idle * 1000), st.c, copied)
    B.check(rc, h)
    return ForwardResult(st.snapshot(), zc, int(copied[0]))

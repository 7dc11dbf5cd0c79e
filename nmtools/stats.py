"""Statistics as data and arithmetic, shared by every tool; no output here (see `nmtools.views`).

A tool reads its cumulative counters every report interval into a `Sample`; a `Meter` turns
successive samples into `Interval`s (pkt-gen's rates: integer pps, bps with or without
framing, average batch, the -A window); a `Summary` holds a run's totals and the rates
derived from them. `percentile` and `latency_extra` read latency histograms.

Counters a tool may add in `Sample.extra` / `Summary.extra` (all optional, all cumulative):

- sequence checking (rxseq): ``lost``, ``out_of_order``, ``dup``, ``seq_too_high``,
  ``seq_too_low``;
- latency (ping): ``rtt_count``, ``rtt_min_ns``, ``rtt_avg_ns``, ``rtt_max_ns``,
  ``rtt_p50_ns``, ``rtt_p90_ns``, ``rtt_p99_ns``, ``rtt_p999_ns`` and, in a summary,
  ``rtt_hist`` (a list of ``(upper_bound_ns, count)`` buckets; `latency_extra` fills the
  rest from it);
- pacing (tx with a rate): ``gap_err_p50_ns``, ``gap_err_p99_ns``;
- the interface a sender used, in a summary: ``link`` (its name), ``link_carrier`` (False
  when it had no carrier), ``link_tx_packets`` and ``link_tx_dropped`` (what its own
  counters rose by during the run: carried, and dropped by the kernel). ``pkts`` counts what
  the port accepted; the link's counters say what became of it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FRAMING_BITS = 192  # preamble (8) + CRC (4) + inter-frame gap (12) bytes, pkt-gen -B
STATS_WIN = 15  # pkt-gen -A: samples in the sliding pps window
MIN_USEC = 10_000  # pkt-gen skips report intervals shorter than this

SEQ_KEYS = ("lost", "out_of_order", "dup", "seq_too_high", "seq_too_low")
# (name shown, quantile, key suffix in `extra`: "rtt_p50_ns" ...)
QUANTILES = (
    ("p50", 0.5, "p50"),
    ("p90", 0.9, "p90"),
    ("p99", 0.99, "p99"),
    ("p99.9", 0.999, "p999"),
)
RTT_KEYS = tuple(f"rtt_{k}_ns" for _, _, k in QUANTILES)


# ---- latency histograms --------------------------------------------------------------------


def percentile(buckets: Iterable[tuple[float, int]], q: float) -> float:
    """Upper bound of the bucket holding the `q`-quantile (0 <= q <= 1) of a histogram.

    `buckets` are ``(upper_bound_ns, count)`` pairs (any order; an overflow bucket may have
    an infinite bound). The q-quantile is the ceil(q * total)-th smallest value (at least the
    first). An empty histogram gives nan.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} is not in [0, 1]")
    bs = sorted((float(ub), int(c)) for ub, c in buckets)
    total = sum(c for _, c in bs)
    if total <= 0:
        return math.nan
    rank = max(1, math.ceil(round(q * total, 9)))
    seen = 0
    for ub, c in bs:
        seen += c
        if seen >= rank:
            return ub
    return bs[-1][0]  # not reached: rank <= total


def latency_extra(buckets: Sequence[tuple[float, int]], prefix: str = "rtt") -> dict[str, Any]:
    """``{prefix}_count`` and ``{prefix}_p50_ns`` .. ``{prefix}_p999_ns`` from a histogram."""
    out: dict[str, Any] = {f"{prefix}_count": sum(int(c) for _, c in buckets)}
    for _, q, k in QUANTILES:
        out[f"{prefix}_{k}_ns"] = percentile(buckets, q)
    return out


# ---- samples and interval rates ------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One reading of cumulative counters at time `t` (``time.monotonic()`` seconds).

    `threads` holds the same reading per worker (the totals are this object's own fields),
    each row named by its `label` when it has one;
    `extra` holds further cumulative counters (see the module docstring); `min_space` is what
    pkt-gen prints as ``min_space`` (None: 0).
    """

    t: float
    pkts: int = 0
    bytes: int = 0
    events: int = 0
    drops: int = 0
    errors: int = 0
    threads: tuple[Sample, ...] = ()
    extra: Mapping[str, int] = field(default_factory=dict)
    min_space: int | None = None
    label: str = ""  # a row's name (a bridge's direction, a switch's port); "" for "thread i"

    @classmethod
    def total(
        cls,
        t: float,
        threads: Sequence[Sample],
        extra: Mapping[str, int] | None = None,
        min_space: int | None = None,
    ) -> Sample:
        """The sum of per-thread samples, keeping them as `threads`."""
        return cls(
            t,
            sum(s.pkts for s in threads),
            sum(s.bytes for s in threads),
            sum(s.events for s in threads),
            sum(s.drops for s in threads),
            sum(s.errors for s in threads),
            tuple(threads),
            dict(extra or {}),
            min_space,
        )


@dataclass(frozen=True)
class Interval:
    """What changed between two samples, and the rates pkt-gen derives from it."""

    t: float  # seconds since the meter's start, at the end of the interval
    usec: int
    pkts: int
    bytes: int
    events: int
    drops: int
    errors: int
    pps: int  # pkt-gen: (dpkts * 10^6 + usec/2) / usec, integer
    bps: float  # 10^6 * (dbytes * 8 + dpkts * framing) / usec
    bps_l2: float  # without framing
    bps_l1: float  # with 24 bytes of framing a packet, whatever -B says
    avg_batch: float  # dpkts / devents (0 without events)
    min_space: int
    pps_avg: float  # pkt-gen -A: over the non-zero pps of the last STATS_WIN intervals
    pps_std: float
    sample: Sample  # the cumulative reading the interval ends at
    threads: tuple[Interval, ...] = ()

    @property
    def seconds(self) -> float:
        return self.usec / 1e6


class Meter:
    """Turns successive `Sample`s into `Interval`s.

    The first interval runs from `t0` (default: now) with all counters at zero. As in pkt-gen,
    a sample less than `min_usec` after the previous one is skipped (`update` returns None and
    the next interval starts from the older sample). `framing` adds 192 bits a packet to `bps`
    (pkt-gen -B). The -A window holds the pps of the last 15 intervals; avg and std (population)
    are taken over its non-zero entries.
    """

    def __init__(
        self, framing: bool = False, t0: float | None = None, min_usec: int = MIN_USEC
    ) -> None:
        self.framing = framing
        self.min_usec = min_usec
        self.reset(t0)

    def reset(self, t0: float | None = None) -> None:
        self.t0 = time.monotonic() if t0 is None else t0
        self.prev = Sample(self.t0)
        self.window: deque[int] = deque(maxlen=STATS_WIN)
        self.last: Interval | None = None

    def avg_std(self) -> tuple[float, float]:
        nz = [p for p in self.window if p]
        if not nz:
            return 0.0, 0.0
        avg = sum(nz) / len(nz)
        return avg, math.sqrt(sum((p - avg) ** 2 for p in nz) / len(nz))

    def _delta(self, prev: Sample, cur: Sample, usec: int, t: float) -> Interval:
        dp = cur.pkts - prev.pkts
        db = cur.bytes - prev.bytes
        de = cur.events - prev.events
        l2 = 1e6 * (db * 8) / usec
        l1 = 1e6 * (db * 8 + dp * FRAMING_BITS) / usec
        return Interval(
            t=t,
            usec=usec,
            pkts=dp,
            bytes=db,
            events=de,
            drops=cur.drops - prev.drops,
            errors=cur.errors - prev.errors,
            pps=(dp * 1_000_000 + usec // 2) // usec,
            bps=l1 if self.framing else l2,
            bps_l2=l2,
            bps_l1=l1,
            avg_batch=dp / de if de > 0 else 0.0,
            min_space=cur.min_space or 0,
            pps_avg=0.0,
            pps_std=0.0,
            sample=cur,
        )

    def update(self, sample: Sample) -> Interval | None:
        prev = self.prev
        usec = int(round((sample.t - prev.t) * 1e6))
        if usec < max(1, self.min_usec):
            return None
        t = sample.t - self.t0
        threads = tuple(
            self._delta(prev.threads[i] if i < len(prev.threads) else Sample(prev.t), th, usec, t)
            for i, th in enumerate(sample.threads)
        )
        iv = self._delta(prev, sample, usec, t)
        self.window.append(iv.pps)
        avg, std = self.avg_std()
        iv = dataclasses.replace(iv, pps_avg=avg, pps_std=std, threads=threads)
        self.prev = sample
        self.last = iv
        return iv


# ---- the final summary ---------------------------------------------------------------------


@dataclass
class Summary:
    """Totals at the end of a run; `format_summary` prints them in pkt-gen's words.

    `kind` is the verb pkt-gen starts with: "Sent" (tx, txseq, ping) or "Received".
    `pps` is pkt-gen's speed, pkts / seconds. `rate` is the rate a paced run achieved,
    compared with `requested_pps`: N packets sent on a schedule span N - 1 intervals from the
    first to the last, so perfect pacing reads +0.00%; `seconds` runs from the first packet's
    time to the last's. `achieved_pps` overrides it (a tool with several paced streams sums
    theirs); nan there, or fewer than 2 packets, means no rate can be measured. `extra`
    carries what some functions add (see the module docstring); `settings` what the run was
    asked to do (port, admode, seed, function, ...), shown in the JSON summary.
    """

    kind: str
    pkts: int
    bytes: int
    events: int
    seconds: float
    framing: bool = False
    normalize: bool = True
    requested_pps: float | None = None
    achieved_pps: float | None = None
    drops: int = 0
    errors: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def _div(self) -> float:
        return self.seconds if self.seconds > 0 else 1e-6  # as pkt-gen

    @property
    def pps(self) -> float:
        return self.pkts / self._div

    @property
    def rate(self) -> float | None:
        """The achieved rate over the packets' intervals (None: not measurable)."""
        if self.achieved_pps is not None:
            return None if math.isnan(self.achieved_pps) else self.achieved_pps
        if self.pkts < 2 or self.seconds <= 0:
            return None
        return (self.pkts - 1) / self.seconds

    @property
    def rate_error(self) -> float | None:
        """(achieved - requested) / requested, when both are known."""
        rate = self.rate
        if not self.requested_pps or rate is None:
            return None
        return (rate - self.requested_pps) / self.requested_pps

    @property
    def bps(self) -> float:
        return 8.0 * self.bytes / self._div

    @property
    def bps_raw(self) -> float:
        return (8.0 * self.bytes + self.pkts * (FRAMING_BITS if self.framing else 0)) / self._div

    @property
    def bps_l1(self) -> float:
        return (8.0 * self.bytes + self.pkts * FRAMING_BITS) / self._div

    @property
    def bytes_each(self) -> int:
        return self.bytes // self.pkts if self.pkts else 0

    @property
    def avg_batch(self) -> float:
        return self.pkts / self.events if self.events else 0.0


def pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0

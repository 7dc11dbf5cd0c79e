"""Statistics presentation shared by every tool: samples, rates, reporters, the final summary.

A tool reads its cumulative counters every report interval into a `Sample` and hands it to
a reporter; the reporter turns successive samples into interval rates (`Meter`) and shows
them one of three ways:

- `PlainReporter` (stderr is not a TTY): pkt-gen's periodic line, byte for byte after the
  `[line]` tag, e.g. ``749.057310 main_thread [0] 6.728 Mpps (6.735 Mpkts 3.229 Gbps in
  1001031 usec) 512.00 avg_batch 0 min_space``;
- `LiveReporter` (a terminal): a rich `Live` view with per-thread rows and totals;
- `JsonReporter` (``--json``): one JSON object per line on stdout (schema ``nmtools.stats/1``).

All three end with `finish(summary)`: the plain and live ones print pkt-gen's final text on
stdout (`format_summary`), the JSON one a ``"type": "summary"`` object.

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
import enum
import json as _json
import math
import sys
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from nmtools.errors import printable
from nmtools.units import format_ns, norm

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

SCHEMA = "nmtools.stats/1"

FRAMING_BITS = 192  # preamble (8) + CRC (4) + inter-frame gap (12) bytes, pkt-gen -B
STATS_WIN = 15  # pkt-gen -A: samples in the sliding pps window
MIN_USEC = 10_000  # pkt-gen skips report intervals shorter than this
LOG_LINE = 0  # the "[%d]" of pkt-gen's log prefix: its C source line there, meaningless here
PERIODIC_FUNC = "main_thread"  # the function name pkt-gen's periodic line carries

SEQ_KEYS = ("lost", "out_of_order", "dup", "seq_too_high", "seq_too_low")
# (name shown, quantile, key suffix in `extra`: "rtt_p50_ns" ...)
QUANTILES = (
    ("p50", 0.5, "p50"),
    ("p90", 0.9, "p90"),
    ("p99", 0.99, "p99"),
    ("p99.9", 0.999, "p999"),
)
_RTT_KEYS = tuple(f"rtt_{k}_ns" for _, _, k in QUANTILES)


def log_prefix(func: str = "main", line: int = LOG_LINE, now: float | None = None) -> str:
    """pkt-gen's `D()` prefix: ``"%03d.%06d %s [%d] "`` (wall clock seconds mod 1000, usec)."""
    t = time.time() if now is None else now
    usec_total = int(round(t * 1e6))
    sec, usec = divmod(usec_total, 1_000_000)
    return f"{sec % 1000:03d}.{usec:06d} {func} [{line}] "


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

    `threads` holds the same reading per worker (the totals are this object's own fields);
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


def format_interval(iv: Interval, normalize: bool = True, avg_std: bool = False) -> str:
    """pkt-gen's periodic message (what follows the ``[line] `` of the prefix)."""
    n = normalize
    avgstd = f"[avg/std {norm(iv.pps_avg, n)}/{norm(iv.pps_std, n)} pps]" if avg_std else ""
    return (
        f"{norm(iv.pps, n)}pps {avgstd}({norm(iv.pkts, n)}pkts {norm(iv.bps, n)}bps "
        f"in {iv.usec} usec) {iv.avg_batch:.2f} avg_batch {iv.min_space} min_space"
    )


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


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def _extra_lines(s: Summary) -> list[str]:
    n = s.normalize
    x = s.extra
    lines = []
    if s.requested_pps:
        req = s.requested_pps
        rate, err = s.rate, s.rate_error
        if rate is None or err is None:
            sent = f"{s.pkts} packet{'' if s.pkts == 1 else 's'} {s.kind.lower()}"
            line = f"Rate: requested {norm(req, n)}pps; {sent}, too few to measure a rate"
        else:
            pct = err * 100 if abs(err) >= 0.00005 else 0.0  # no "-0.00%" for on time
            line = f"Rate: requested {norm(req, n)}pps, achieved {norm(rate, n)}pps ({pct:+.2f}%)"
        if s.pkts and ("gap_err_p50_ns" in x or "gap_err_p99_ns" in x):
            line += (
                f", gap error p50 {format_ns(x.get('gap_err_p50_ns', math.nan))}"
                f" p99 {format_ns(x.get('gap_err_p99_ns', math.nan))}"
            )
        lines.append(line)
    if any(k in x for k in SEQ_KEYS):
        lost = int(x.get("lost", 0))
        lines.append(
            f"Sequence: {s.pkts} received, {lost} lost ({_pct(lost, s.pkts + lost):.2f}%), "
            f"{x.get('out_of_order', 0)} out of order, {x.get('dup', 0)} duplicated, "
            f"{x.get('seq_too_high', 0)} too high, {x.get('seq_too_low', 0)} too low"
        )
    if "rtt_min_ns" in x or "rtt_hist" in x:
        lat = dict(x)
        if "rtt_hist" in x and not all(k in x for k in _RTT_KEYS):
            lat = {**latency_extra(x["rtt_hist"]), **x}

        def ns(key: str) -> str:
            v = lat.get(key)
            return "-" if v is None or v != v else f"{v:.0f}"

        count = lat.get("rtt_count", s.pkts)
        pcts = " ".join(f"{name} {ns(f'rtt_{k}_ns')}" for name, _, k in QUANTILES)
        lines.append(
            f"RTT over {count} packets: min {ns('rtt_min_ns')} avg {ns('rtt_avg_ns')} "
            f"max {ns('rtt_max_ns')} ns; {pcts} ns"
        )
    errs = [f"{s.drops} dropped, {s.errors} errors"] if s.drops or s.errors else []
    if x.get("link_tx_dropped"):
        why = " (no carrier)" if x.get("link_carrier") is False else ""
        errs.append(f"{x['link_tx_dropped']} dropped by {x.get('link', 'the interface')}{why}")
    if errs:
        lines.append("Errors: " + "; ".join(errs))
    return lines


def format_summary(s: Summary) -> str:
    """pkt-gen's final text (two lines, or ``Sent nothing.``), then ours; no final newline."""
    n = s.normalize
    if s.pkts == 0:
        lines = [f"{s.kind} nothing."]
    else:
        lines = [
            f"{s.kind} {s.pkts} packets {s.bytes} bytes {s.events} events "
            f"{s.bytes_each} bytes each in {s.seconds:.2f} seconds.",
            f"Speed: {norm(s.pps, n)}pps Bandwidth: {norm(s.bps, n)}bps "
            f"(raw {norm(s.bps_raw, n)}bps). Average batch: {s.avg_batch:.2f} pkts",
        ]
    return "\n".join(lines + _extra_lines(s))


# ---- JSON ------------------------------------------------------------------------------------


def jsonable(obj: Any) -> Any:
    """Plain JSON values: enums by value, dataclasses as dicts, non-finite floats as null."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, enum.Enum):
        return jsonable(obj.value)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset, deque)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj).hex()
    return str(obj)


def _counters(x: Sample | Interval) -> dict[str, int]:
    return {
        "pkts": x.pkts,
        "bytes": x.bytes,
        "events": x.events,
        "drops": x.drops,
        "errors": x.errors,
    }


def _merge(rec: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`rec`, then the extra counters whose names it does not use."""
    return {**rec, **{k: v for k, v in extra.items() if k not in rec}}


def _interval_fields(iv: Interval) -> dict[str, Any]:
    return {
        **_counters(iv),
        "pps": iv.pps,
        "bps": iv.bps,
        "bps_l2": iv.bps_l2,
        "bps_l1": iv.bps_l1,
        "avg_batch": iv.avg_batch,
        "total": _counters(iv.sample),
    }


def interval_record(iv: Interval, avg_std: bool = False) -> dict[str, Any]:
    """The ``"type": "interval"`` object (extra counters merged in; ours win on a clash)."""
    rec: dict[str, Any] = {
        "schema": SCHEMA,
        "type": "interval",
        "t": iv.t,
        "interval_s": iv.seconds,
        **_interval_fields(iv),
        "min_space": iv.min_space,
    }
    if avg_std:
        rec["pps_avg"] = iv.pps_avg
        rec["pps_std"] = iv.pps_std
    rec["threads"] = [{"thread": i, **_interval_fields(th)} for i, th in enumerate(iv.threads)]
    return jsonable(_merge(rec, iv.sample.extra))


def summary_record(s: Summary) -> dict[str, Any]:
    """The ``"type": "summary"`` object: every Summary field and derived rate."""
    rec: dict[str, Any] = {
        "schema": SCHEMA,
        "type": "summary",
        "kind": s.kind,
        "pkts": s.pkts,
        "bytes": s.bytes,
        "events": s.events,
        "drops": s.drops,
        "errors": s.errors,
        "seconds": s.seconds,
        "bytes_each": s.bytes_each,
        "pps": s.pps,
        "bps": s.bps,
        "bps_raw": s.bps_raw,
        "bps_l1": s.bps_l1,
        "avg_batch": s.avg_batch,
        "framing": s.framing,
        "normalize": s.normalize,
        "requested_pps": s.requested_pps,
        "achieved_pps": s.rate,
        "rate_error": s.rate_error,
        "settings": s.settings,
    }
    extra = dict(s.extra)
    if "rtt_hist" in extra:
        extra = {**latency_extra(extra["rtt_hist"]), **extra}
    return jsonable(_merge(rec, extra))


# ---- reporters -----------------------------------------------------------------------------


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Reporter:
    """What every tool calls: `start` once, `update` every interval, `finish` once.

    `log` writes a diagnostic line (stderr, with pkt-gen's prefix), `echo` a line pkt-gen
    prints on stdout ("Sending on ..."); each reporter routes them so that its own output
    stays intact (JSON keeps stdout for JSON). `close` releases the display without a
    summary (after an error); using the reporter as a context manager calls it.
    """

    def __init__(
        self,
        stream: IO[str] | None = None,
        err: IO[str] | None = None,
        *,
        framing: bool = False,
        normalize: bool = True,
        avg_std: bool = False,
    ) -> None:
        self._stream = stream
        self._err = err
        self.framing = framing
        self.normalize = normalize
        self.avg_std = avg_std
        self.meter = Meter(framing)
        self.info: dict[str, Any] = {}

    @property
    def stream(self) -> IO[str]:
        return self._stream if self._stream is not None else sys.stdout

    @property
    def err(self) -> IO[str]:
        return self._err if self._err is not None else sys.stderr

    @staticmethod
    def _write(stream: IO[str], text: str) -> None:
        stream.write(text + "\n")
        stream.flush()

    def start(self, info: Mapping[str, Any], *, t0: float | None = None) -> None:
        """Begin: `info` describes the run (function, port, admode, seed, rate, ...); `t0` is
        the monotonic time counters were zero (default: now)."""
        self.info = dict(info)
        self.meter.reset(t0)

    def update(self, sample: Sample) -> Interval | None:
        return self.meter.update(sample)

    def finish(self, summary: Summary) -> None:
        raise NotImplementedError

    def log(self, msg: str, func: str = "main") -> None:
        self._write(self.err, log_prefix(func) + printable(msg))

    def echo(self, msg: str) -> None:
        self._write(self.stream, printable(msg))

    def close(self) -> None:
        pass

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PlainReporter(Reporter):
    """pkt-gen's output: periodic lines on stderr, the summary text on stdout.

    The line is ``<sec mod 1000>.<usec> main_thread [0] <pkt-gen's message>``; the number in
    brackets is pkt-gen's C source line, which means nothing here, so it is always 0.
    """

    def __init__(self, *args: Any, func: str = PERIODIC_FUNC, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.func = func

    def update(self, sample: Sample) -> Interval | None:
        iv = super().update(sample)
        if iv is not None:
            msg = format_interval(iv, self.normalize, self.avg_std)
            self._write(self.err, log_prefix(self.func) + msg)
        return iv

    def finish(self, summary: Summary) -> None:
        self._write(self.stream, format_summary(summary))


class JsonReporter(Reporter):
    """One JSON object a line on stdout: ``start``, one ``interval`` per update, ``summary``.

    `echo` lines go to stderr so that stdout stays JSON only.
    """

    def _emit(self, rec: Mapping[str, Any]) -> None:
        self._write(self.stream, _json.dumps(rec, allow_nan=False))

    def start(self, info: Mapping[str, Any], *, t0: float | None = None) -> None:
        super().start(info, t0=t0)
        self._emit(jsonable({**info, "schema": SCHEMA, "type": "start", "t": 0.0}))

    def update(self, sample: Sample) -> Interval | None:
        iv = super().update(sample)
        if iv is not None:
            self._emit(interval_record(iv, self.avg_std))
        return iv

    def finish(self, summary: Summary) -> None:
        self._emit(summary_record(summary))

    def echo(self, msg: str) -> None:
        self._write(self.err, printable(msg))


# ---- the live view ---------------------------------------------------------------------------

_HEADER_KEYS = ("port", "admode", "seed", "rate")


def _rate_text(value: Any, normalize: bool) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{norm(value, normalize)}pps"
    if dataclasses.is_dataclass(value) and getattr(value, "text", ""):
        return str(value.text)  # nmtools.pktgen.config.Rate
    return str(value)


def _count(n: int) -> str:
    return f"{n:,}"


class LiveReporter(Reporter):
    """A rich `Live` view on `console` (default: a Console on stderr), refreshed by `update`.

    Shows a header (tool, function, port, adapter mode, seed, requested rate), a table with
    one row per thread (when there are several) and a total row, sequence counters and
    latency percentiles when the sample's `extra` has them, and the elapsed time. Columns drop out
    on narrow terminals. `finish` leaves the last frame on screen and prints the summary
    text on `stream` (stdout).
    """

    def __init__(
        self, console: Console | None = None, stream: IO[str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(stream, **kwargs)
        if console is None:
            from rich.console import Console

            console = Console(stderr=True)
        self.console = console
        self._live: Live | None = None

    # -- rendering

    def _header(self) -> RenderableType:
        from rich.text import Text

        info = self.info
        head = Text()
        title = " ".join(str(jsonable(info[k])) for k in ("tool", "function") if k in info)
        head.append(title or "nm", style="bold")
        for key in _HEADER_KEYS:
            if info.get(key) is not None:
                value = info[key]
                shown = _rate_text(value, self.normalize) if key == "rate" else jsonable(value)
                head.append(f"  {key} ", style="dim")
                head.append(str(shown))
        return head

    def _table(self, iv: Interval) -> RenderableType:
        from rich import box
        from rich.table import Table

        cols = self._columns()
        n = self.normalize
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
        table.add_column("thread", no_wrap=True)
        for c in cols:
            table.add_column(c, justify="right", no_wrap=True)

        def row(label: str, x: Interval, style: str | None = None) -> None:
            cells = {
                "pps": f"{norm(x.pps, n)}",
                "bps": f"{norm(x.bps, n)}",
                "pkts": _count(x.sample.pkts),
                "drops": _count(x.sample.drops),
                "errors": _count(x.sample.errors),
            }
            table.add_row(label, *(cells[c] for c in cols), style=style)

        if len(iv.threads) > 1:
            for i, th in enumerate(iv.threads):
                row(str(i), th)
        row("total", iv, style="bold")
        return table

    def _lines(self, iv: Interval) -> list[str]:
        x = iv.sample.extra
        out = []
        if self.avg_std:
            n = self.normalize
            out.append(f"avg/std {norm(iv.pps_avg, n)}pps / {norm(iv.pps_std, n)}pps")
        if "drops" not in self._columns() and (iv.sample.drops or iv.sample.errors):
            out.append(f"drops {_count(iv.sample.drops)}  errors {_count(iv.sample.errors)}")
        if any(k in x for k in SEQ_KEYS):
            lost = int(x.get("lost", 0))
            pct = _pct(lost, iv.sample.pkts + lost)
            out.append(
                f"lost {_count(lost)} ({pct:.2f}%)  reordered {_count(x.get('out_of_order', 0))}"
                f"  dup {_count(x.get('dup', 0))}  too high {_count(x.get('seq_too_high', 0))}"
                f"  too low {_count(x.get('seq_too_low', 0))}"
            )
        if any(k in x for k in (*_RTT_KEYS, "rtt_max_ns")):
            parts = [
                f"{name} {format_ns(x[f'rtt_{k}_ns'])}"
                for name, _, k in QUANTILES
                if f"rtt_{k}_ns" in x
            ]
            if "rtt_max_ns" in x:
                parts.append(f"max {format_ns(x['rtt_max_ns'])}")
            out.append("RTT " + "  ".join(parts))
        return out

    def _columns(self) -> tuple[str, ...]:
        """Columns after "thread", fewer on narrow terminals."""
        width = self.console.width
        if width < 48:
            return ("pps", "pkts")
        if width < 64:
            return ("pps", "bps", "pkts")
        return ("pps", "bps", "pkts", "drops", "errors")

    def render(self) -> RenderableType:
        """The current frame."""
        from rich.console import Group
        from rich.text import Text

        parts: list[RenderableType] = [self._header()]
        iv = self.meter.last
        if iv is None:
            parts.append(Text("waiting for the first report...", style="dim"))
        else:
            parts.append(self._table(iv))
            parts.extend(Text(line) for line in self._lines(iv))
            parts.append(Text(f"elapsed {iv.t:.1f} s", style="dim"))
        return Group(*parts)

    # -- the reporter interface

    def start(self, info: Mapping[str, Any], *, t0: float | None = None) -> None:
        from rich.live import Live

        super().start(info, t0=t0)
        self.close()
        self._live = Live(
            self.render(),
            console=self.console,
            auto_refresh=False,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start(refresh=True)

    def update(self, sample: Sample) -> Interval | None:
        iv = super().update(sample)
        if iv is not None and self._live is not None:
            self._live.update(self.render(), refresh=True)
        return iv

    def finish(self, summary: Summary) -> None:
        self.close()  # the last frame stays on screen
        self._write(self.stream, format_summary(summary))

    def close(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def log(self, msg: str, func: str = "main") -> None:
        from rich.text import Text

        self.console.print(Text(log_prefix(func) + printable(msg)), soft_wrap=True)

    def echo(self, msg: str) -> None:
        from rich.text import Text

        if _isatty(self.stream):
            self.console.print(Text(printable(msg)), soft_wrap=True)  # above the live view
        else:
            self._write(self.stream, printable(msg))


def make_reporter(
    json: bool = False,
    console: Console | None = None,
    stream: IO[str] | None = None,
    err: IO[str] | None = None,
    *,
    framing: bool = False,
    normalize: bool = True,
    avg_std: bool = False,
) -> Reporter:
    """JSON lines if `json`; else a live view if `console` (default: stderr) is a capable
    terminal; else pkt-gen's plain lines (on `err`, summary on `stream`)."""
    kw: dict[str, Any] = {"framing": framing, "normalize": normalize, "avg_std": avg_std}
    if json:
        return JsonReporter(stream, err, **kw)
    if console is None:
        from rich.console import Console

        console = Console(stderr=True)
    if console.is_terminal and not console.is_dumb_terminal:
        return LiveReporter(console, stream, **kw)
    return PlainReporter(stream, err, **kw)


__all__ = [
    "FRAMING_BITS",
    "SCHEMA",
    "STATS_WIN",
    "Interval",
    "JsonReporter",
    "LiveReporter",
    "Meter",
    "PlainReporter",
    "Reporter",
    "Sample",
    "Summary",
    "format_interval",
    "format_ns",
    "format_summary",
    "interval_record",
    "jsonable",
    "latency_extra",
    "log_prefix",
    "make_reporter",
    "norm",
    "percentile",
    "summary_record",
]

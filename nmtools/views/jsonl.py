"""``--json``: one JSON object a line (schema ``nmtools.stats/1``): start, intervals, summary."""

from __future__ import annotations

import dataclasses
import enum
import json as _json
import math
from collections import deque
from collections.abc import Mapping
from typing import Any

from nmtools.errors import printable
from nmtools.stats import Interval, Sample, Summary, latency_extra
from nmtools.views.base import Reporter

SCHEMA = "nmtools.stats/1"


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


def _row(i: int, th: Interval) -> dict[str, Any]:
    label = {"label": th.sample.label} if th.sample.label else {}
    return {"thread": i, **label, **_interval_fields(th)}


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
    rec["threads"] = [_row(i, th) for i, th in enumerate(iv.threads)]
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

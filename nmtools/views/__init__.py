"""How a tool's statistics are shown: every view takes `nmtools.stats` samples and summaries.

- `PlainReporter` (stderr is not a TTY): pkt-gen's periodic line, byte for byte after the
  `[line]` tag, e.g. ``749.057310 main_thread [0] 6.728 Mpps (6.735 Mpkts 3.229 Gbps in
  1001031 usec) 512.00 avg_batch 0 min_space``;
- `LiveReporter` (a terminal): a rich `Live` view with per-thread rows and totals;
- `JsonReporter` (``--json``): one JSON object per line on stdout (schema ``nmtools.stats/1``).

All three end with `finish(summary)`: the plain and live ones print pkt-gen's final text on
stdout (`format_summary`), the JSON one a ``"type": "summary"`` object. `make_reporter`
picks one the way every command does.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from nmtools.views.base import Reporter
from nmtools.views.jsonl import SCHEMA, JsonReporter, interval_record, jsonable, summary_record
from nmtools.views.live import LiveReporter
from nmtools.views.plain import PlainReporter
from nmtools.views.text import format_interval, format_summary, log_prefix

if TYPE_CHECKING:
    from rich.console import Console


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
    "SCHEMA",
    "JsonReporter",
    "LiveReporter",
    "PlainReporter",
    "Reporter",
    "format_interval",
    "format_summary",
    "interval_record",
    "jsonable",
    "log_prefix",
    "make_reporter",
    "summary_record",
]

"""The rich live view for a terminal: header, per-thread rows and totals, extra counters."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

from nmtools.errors import printable
from nmtools.stats import QUANTILES, RTT_KEYS, SEQ_KEYS, Interval, Sample, Summary, pct
from nmtools.units import format_ns, norm
from nmtools.views.base import Reporter, isatty
from nmtools.views.jsonl import jsonable
from nmtools.views.text import format_summary, log_prefix

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

_HEADER_KEYS = ("port", "admode", "seed", "rate")


def _rate_text(value: Any, normalize: bool) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{norm(value, normalize)}pps"
    if dataclasses.is_dataclass(value) and getattr(value, "text", ""):
        return str(value.text)  # nmtools.units.Rate
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
                row(th.sample.label or str(i), th)
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
            lost_pct = pct(lost, iv.sample.pkts + lost)
            out.append(
                f"lost {_count(lost)} ({lost_pct:.2f}%)"
                f"  reordered {_count(x.get('out_of_order', 0))}"
                f"  dup {_count(x.get('dup', 0))}  too high {_count(x.get('seq_too_high', 0))}"
                f"  too low {_count(x.get('seq_too_low', 0))}"
            )
        if any(k in x for k in (*RTT_KEYS, "rtt_max_ns")):
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

        if isatty(self.stream):
            self.console.print(Text(printable(msg)), soft_wrap=True)  # above the live view
        else:
            self._write(self.stream, printable(msg))

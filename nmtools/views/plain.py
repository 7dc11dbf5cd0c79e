"""pkt-gen's plain output, for a stderr that is not a terminal."""

from __future__ import annotations

from typing import Any

from nmtools.stats import Interval, Sample, Summary
from nmtools.views.base import Reporter
from nmtools.views.text import PERIODIC_FUNC, format_interval, format_summary, log_prefix


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

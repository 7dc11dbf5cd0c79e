"""The reporter interface every tool drives: `start`, `update` per interval, `finish`."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import IO, Any

from nmtools.errors import printable
from nmtools.stats import Interval, Meter, Sample, Summary
from nmtools.views.text import log_prefix


def isatty(stream: Any) -> bool:
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

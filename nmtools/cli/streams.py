"""stdout and stderr that turn a failed write into one OutputError, never a traceback.

`> /dev/full` (ENOSPC), `| head -1` (EPIPE), a closed descriptor (`>&-`): whatever prints,
the reporters of nmtools.views, click.echo or rich, a failed write or flush raises
:class:`~nmtools.errors.OutputError`, which the CLI prints as one line. Once it has, it calls
`silence()`: the broken descriptors then point at /dev/null, so what is still buffered (and
Python's own flush at exit) goes nowhere instead of failing again ("Exception ignored ...
BrokenPipeError"). Not before: click probes streams with writes whose errors it swallows.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Any

from nmtools.errors import OutputError


def _to_devnull(fd: int) -> None:
    try:
        null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


class GuardedText(io.TextIOWrapper):
    """A TextIOWrapper (so click and rich treat it as the real stream) whose errors are ours."""

    what = "output"
    broken = False

    def _broken(self, e: OSError) -> OutputError:
        self.broken = True
        if isinstance(e, OutputError):
            return e
        reason = e.strerror or os.strerror(e.errno or errno.EIO)
        return OutputError(f"cannot write {self.what}: {reason}", e.errno or errno.EIO)

    def write(self, s: str) -> int:
        if isinstance(s, str) and not s:  # nothing to write is no error (click probes with "")
            return 0
        try:
            return super().write(s)
        except OSError as e:
            raise self._broken(e) from None

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as e:
            raise self._broken(e) from None


class ClosedText(io.TextIOBase):
    """Stands in for a stream whose descriptor was closed when we started (`>&-`)."""

    def __init__(self, what: str, name: str) -> None:
        super().__init__()
        self.what = what
        self.name = name

    def write(self, s: str) -> int:
        if not s:
            return 0
        raise OutputError(f"cannot write {self.what}: {self.name} is closed", errno.EBADF)

    def isatty(self) -> bool:
        return False


def _guard(stream: Any, what: str, name: str) -> Any:
    if stream is None:
        return ClosedText(what, name)
    if type(stream) is not io.TextIOWrapper:
        return stream  # already replaced by someone (a test runner, a GuardedText)
    try:
        stream.flush()
    except OSError:
        pass
    settings: dict[str, Any] = {
        "encoding": stream.encoding,
        "errors": stream.errors,
        "line_buffering": stream.line_buffering,
        "write_through": stream.write_through,
    }
    guarded = GuardedText(stream.detach(), **settings)
    guarded.what = what
    return guarded


def silence() -> None:
    """After an output error was reported: broken streams write to /dev/null from now on."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, GuardedText) and stream.broken:
            try:
                _to_devnull(stream.fileno())
            except (OSError, ValueError):
                pass


def install() -> None:
    """Guard sys.stdout and sys.stderr (once; later calls change nothing)."""
    sys.stdout = _guard(sys.stdout, "output", "standard output")
    sys.stderr = _guard(sys.stderr, "error messages", "standard error")

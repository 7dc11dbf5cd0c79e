"""stdout and stderr that turn a failed write into one OutputError, never a traceback.

`> /dev/full` (ENOSPC), `| head -1` (EPIPE), a closed descriptor (`>&-`): whatever prints,
the reporters of nmtools.ui, click.echo or rich, the first failed write or flush raises
:class:`~nmtools.errors.OutputError`, which the CLI prints as one line. The broken
descriptor is then pointed at /dev/null, so what is still buffered (and Python's own flush
at exit) goes nowhere instead of failing again ("Exception ignored ... BrokenPipeError").
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

    def _broken(self, e: OSError) -> OutputError:
        if isinstance(e, OutputError):
            return e
        try:
            _to_devnull(self.fileno())
        except (OSError, ValueError):
            pass
        reason = e.strerror or os.strerror(e.errno or errno.EIO)
        return OutputError(f"cannot write {self.what}: {reason}", e.errno or errno.EIO)

    def write(self, s: str) -> int:
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

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def write(self, s: str) -> int:
        if not s:
            return 0
        raise OutputError(f"cannot write {self.what}: {self.what} is closed", errno.EBADF)

    def isatty(self) -> bool:
        return False


def _guard(stream: Any, what: str) -> Any:
    if stream is None:
        return ClosedText(what)
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


def install() -> None:
    """Guard sys.stdout and sys.stderr (once; later calls change nothing)."""
    sys.stdout = _guard(sys.stdout, "output")
    sys.stderr = _guard(sys.stderr, "error messages")

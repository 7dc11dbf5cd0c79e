"""The exceptions nmtools raises. Every one is an OSError with an errno and a one-line message."""

from __future__ import annotations

import errno

__all__ = [
    "NetmapUnavailable",
    "NmError",
    "NmPermissionError",
    "NoSuchPort",
    "NotSupported",
    "OutputError",
    "PortBusy",
    "PortSpecError",
    "UsageError",
    "error_for",
    "printable",
]


def printable(text: str) -> str:
    """`text` safe to show on a terminal, in one line: what is not printable is escaped.

    Control characters (ESC, newline, DEL ...), format characters (bidi overrides) and other
    unprintable code points become ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``, as repr()
    writes them; a byte that was not UTF-8 (a surrogate escape, as Python decodes
    ``sys.argv``) is shown as the byte, ``\\xff``. Everything else is kept, backslashes
    included, so ordinary names read as typed.
    """
    if text.isprintable():
        return text
    out = []
    for c in text:
        n = ord(c)
        if c.isprintable():
            out.append(c)
        elif 0xDC80 <= n <= 0xDCFF:  # surrogateescape: the undecodable byte n - 0xDC00
            out.append(f"\\x{n - 0xDC00:02x}")
        elif n < 0x100:
            out.append(f"\\x{n:02x}")
        elif n < 0x10000:
            out.append(f"\\u{n:04x}")
        else:
            out.append(f"\\U{n:08x}")
    return "".join(out)


class NmError(OSError):
    """Base class: what went wrong, in one line that also says what would be right."""

    def __init__(self, message: str, errno_: int = 0) -> None:
        super().__init__(errno_, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class PortSpecError(NmError, ValueError):
    """A port name that does not follow the netmap grammar.

    `message` is libnetmap's text where libnetmap has one; `hint`, when not empty, says what
    would be right (tools print both, the parser's ``str()`` is the message alone).
    """

    def __init__(self, message: str, errno_: int = errno.EINVAL, hint: str = "") -> None:
        super().__init__(message, errno_)
        self.hint = hint


class UsageError(NmError, ValueError):
    """Settings that cannot work together (exit status 2, like a bad option)."""

    def __init__(self, message: str, errno_: int = errno.EINVAL) -> None:
        super().__init__(message, errno_)


class OutputError(NmError):
    """Our own output cannot be written (a full disk, a closed pipe: `| head -1`)."""


class NetmapUnavailable(NmError):
    """Something needs the netmap kernel module, which is not loaded."""


class PortBusy(NmError):
    """The port (or this end of a pipe) is already open elsewhere."""


class NmPermissionError(NmError, PermissionError):
    """Not allowed: usually missing root or CAP_NET_RAW / CAP_NET_ADMIN."""


class NoSuchPort(NmError):
    """No interface or port by that name."""


class NotSupported(NmError):
    """A valid request this backend cannot do (says what would work instead)."""

    def __init__(self, message: str, errno_: int = errno.EOPNOTSUPP) -> None:
        super().__init__(message, errno_)


_BY_ERRNO: dict[int, type[NmError]] = {
    errno.EBUSY: PortBusy,
    errno.EPERM: NmPermissionError,
    errno.EACCES: NmPermissionError,
    errno.ENXIO: NoSuchPort,
    errno.ENODEV: NoSuchPort,
    errno.EOPNOTSUPP: NotSupported,
}


def error_for(code: int, message: str) -> NmError:
    """The NmError subclass that matches errno `code`."""
    cls = _BY_ERRNO.get(code, NmError)
    if cls is NotSupported:
        return NotSupported(message, code)
    return cls(message, code)


class OptionError(NmError, ValueError):
    """A command-line option value that does not parse (errno EINVAL).

    The message is one line: the option and its value, what is wrong, and what would be right.
    """

    def __init__(self, message: str, errno_: int = errno.EINVAL) -> None:
        super().__init__(message, errno_)

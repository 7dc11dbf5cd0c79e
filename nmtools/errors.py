"""The exceptions nmtools raises. Every one is an OSError with an errno and a one-line message."""

from __future__ import annotations

import errno


class NmError(OSError):
    """Base class: what went wrong, in one line that also says what would be right."""

    def __init__(self, message: str, errno_: int = 0) -> None:
        super().__init__(errno_, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class PortSpecError(NmError, ValueError):
    """A port name that does not follow the netmap grammar."""

    def __init__(self, message: str, errno_: int = errno.EINVAL) -> None:
        super().__init__(message, errno_)


class UsageError(NmError, ValueError):
    """Settings that cannot work together (exit status 2, like a bad option)."""

    def __init__(self, message: str, errno_: int = errno.EINVAL) -> None:
        super().__init__(message, errno_)


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

"""The only importer of the compiled module: typed wrappers and errno -> exception."""

from __future__ import annotations

import os
from typing import Any

from nmtools._native import ffi, lib  # type: ignore[import-not-found]
from nmtools.errors import NmError, error_for

__all__ = ["ffi", "lib", "check", "new_port", "cstr"]


def cstr(value: Any) -> str:
    """A C char array or char * as str."""
    if value == ffi.NULL:
        return ""
    return ffi.string(value).decode("utf-8", "replace")  # type: ignore[no-any-return]


def check(rc: int, port: Any = None) -> int:
    """Raise the matching NmError when a C call returned -1; else return rc."""
    if rc >= 0:
        return rc
    code = ffi.errno
    msg = cstr(port.errmsg) if port is not None and port != ffi.NULL else ""
    raise error_for(code, msg or os.strerror(code))


def new_port() -> Any:
    """A fresh, unopened port handle, freed when garbage collected."""
    p = lib.nmt_port_new()
    if p == ffi.NULL:
        raise NmError("out of memory", 12)
    return ffi.gc(p, lib.nmt_port_free)

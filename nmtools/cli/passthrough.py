"""`nm` is also binutils' symbol lister: hand foreign command lines to it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

BINUTILS_HINT = "apt-get install binutils"


def _is_ours(path: Path) -> bool:
    """Our own console script (any venv): a Python script that imports nmtools."""
    try:
        with open(path, "rb") as f:
            head = f.read(2048)
    except OSError:
        return True
    return head.startswith(b"#!") and b"nmtools" in head


def find_binutils_nm(argv0: str | None = None) -> Path | None:
    """The first `nm` on PATH that is not nmtools."""
    me = Path(argv0 or sys.argv[0]).resolve() if (argv0 or sys.argv[0]) else None
    for d in os.environ.get("PATH", "").split(os.pathsep):
        cand = Path(d or ".") / "nm"
        if not (cand.is_file() and os.access(cand, os.X_OK)):
            continue
        if me is not None and cand.resolve() == me:
            continue
        if _is_ours(cand):
            continue
        return cand
    return None


def is_ours(argv: list[str], commands: set[str], global_opts: set[str]) -> bool:
    """Whether this command line is for nmtools (else it is for binutils nm)."""
    if not argv:
        return True
    first = argv[0]
    if first in commands:
        return True
    opt = first.split("=", 1)[0]
    return opt in global_opts


def hand_over(argv: list[str]) -> None:
    """exec binutils nm with argv (never returns), or exit 127 with one line."""
    target = find_binutils_nm()
    if target is None:
        print(
            f"nm: '{argv[0]}' is not an nmtools command, and no binutils nm is on PATH to "
            f"hand it to ({BINUTILS_HINT}); run 'nm --help' for nmtools",
            file=sys.stderr,
        )
        sys.exit(127)
    os.execv(str(target), [str(target), *argv])

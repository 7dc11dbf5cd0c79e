"""`nm` is also binutils' symbol lister: hand foreign command lines to it, at no cost.

This module is the console script's entry point. Build systems run `nm` thousands of times,
so the hand-over is decided from argv with nothing but `os` and `sys`: no click, no C
extension, no rich or dpkt (tests/cli/test_handover.py checks both the imports and that the
constants below match the click tree). Only a command line for nmtools goes on to
`nmtools.cli.app`.
"""

from __future__ import annotations

import os
import sys

BINUTILS_HINT = "apt-get install binutils"

#: Every first word that is ours: the commands of the click tree in nmtools.cli.app,
#: including the tools not in this release yet (they say so instead of handing over).
COMMANDS = frozenset(
    {"bridge", "capture", "completion", "help", "info", "pkt-gen", "replay", "vale"}
)

#: The root command's options (-h/--help from its context settings, --version, --traceback).
GLOBAL_OPTS = frozenset({"-h", "--help", "--version", "--traceback"})


def _is_ours(path: str) -> bool:
    """Our own console script (any venv): a Python script that imports nmtools."""
    try:
        with open(path, "rb") as f:
            head = f.read(2048)
    except OSError:
        return True
    return head.startswith(b"#!") and b"nmtools" in head


def find_binutils_nm(argv0: str | None = None) -> str | None:
    """The first `nm` on PATH that is not nmtools."""
    arg = argv0 or sys.argv[0]
    me = os.path.realpath(arg) if arg else None
    for d in os.environ.get("PATH", "").split(os.pathsep):
        cand = os.path.join(d or ".", "nm")
        if not (os.path.isfile(cand) and os.access(cand, os.X_OK)):
            continue
        if me is not None and os.path.realpath(cand) == me:
            continue
        if _is_ours(cand):
            continue
        return cand
    return None


def is_ours(
    argv: list[str],
    commands: frozenset[str] | set[str] = COMMANDS,
    global_opts: frozenset[str] | set[str] = GLOBAL_OPTS,
) -> bool:
    """Whether this command line is for nmtools (else it is for binutils nm)."""
    if not argv:
        return True
    first = argv[0]
    if first in commands:
        return True
    return first.split("=", 1)[0] in global_opts


def hand_over(argv: list[str]) -> None:
    """exec binutils nm with argv (never returns), or exit 127 with one line."""
    target = find_binutils_nm()
    if target is None:
        from nmtools.errors import printable

        print(
            f"nm: '{printable(argv[0])}' is not an nmtools command, and no binutils nm is on "
            f"PATH to hand it to ({BINUTILS_HINT}); run 'nm --help' for nmtools",
            file=sys.stderr,
        )
        sys.exit(127)
    os.execv(target, [target, *argv])


def main() -> None:
    """The `nm` and `nmtools` console scripts; only `nm` stands in for binutils."""
    argv = sys.argv[1:]
    if os.path.basename(sys.argv[0]) != "nmtools" and not is_ours(argv):
        hand_over(argv)
    from nmtools.cli.app import run

    sys.exit(run(argv))

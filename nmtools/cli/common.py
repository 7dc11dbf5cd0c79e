"""Shared click pieces: options every port-opening command takes, error reporting.

Imported by `nm --help`: nothing here may import the C extension, rich or dpkt.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from nmtools.errors import NmError, OutputError, printable

F = TypeVar("F", bound=Callable[..., Any])

#: nmtools.ports.admode.ADMODES, without importing the ports (a test checks they agree).
ADMODES = ("auto", "native", "xdp", "packet")

admode_option = click.option(
    "--admode",
    type=click.Choice(ADMODES, case_sensitive=False),
    default=None,
    envvar="NMTOOLS_ADMODE",
    show_envvar=True,
    help="How NIC ports are reached: auto (best available), native (netmap module), "
    "xdp (AF_XDP) or packet (AF_PACKET).",
)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def printable_line(message: str) -> str:
    """A message as one terminal-safe line: control characters and newlines escaped."""
    return printable(message)


def say(message: str) -> None:
    """One line on stderr, ``nm: ...``, escaped (a name may hold an ESC).

    A stderr that cannot be written to is not an error of its own: the exit status still
    tells.
    """
    try:
        click.echo(f"nm: {printable_line(message)}", err=True)
    except (OSError, ValueError):
        pass


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr (see `say`), then exit `code`."""
    say(message)
    sys.exit(code)


def reports_errors(func: F) -> F:
    """Turn NmError (and Ctrl-C) into one line and an exit status; --traceback shows all.

    Usage errors (ValueError kinds: bad names, bad option values) exit 2, an output that
    cannot be written exits 1 like any other failure.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        debug = bool(ctx.find_root().params.get("traceback"))
        try:
            return func(*args, **kwargs)
        except OutputError as e:
            if debug:
                raise
            from nmtools.cli import streams

            streams.silence()
            fail(str(e), 1)
        except NmError as e:
            if debug:
                raise
            fail(str(e), 2 if isinstance(e, ValueError) else 1)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]

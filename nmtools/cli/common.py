"""Shared click pieces: options every port-opening command takes, error reporting."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from nmtools.errors import NmError
from nmtools.ports.admode import ADMODES

F = TypeVar("F", bound=Callable[..., Any])

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


def fail(message: str, code: int = 1) -> None:
    """One line on stderr, then exit non-zero."""
    click.echo(f"nm: {message}", err=True)
    sys.exit(code)


def reports_errors(func: F) -> F:
    """Turn NmError (and Ctrl-C) into one line and an exit status; --traceback shows all."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        debug = bool(ctx.find_root().params.get("traceback"))
        try:
            return func(*args, **kwargs)
        except NmError as e:
            if debug:
                raise
            fail(str(e), 2 if isinstance(e, ValueError) else 1)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]

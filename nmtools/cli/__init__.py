"""The `nm` command: thin click commands over the library.

Importing this package is cheap (the console script's hand-over to binutils' nm depends on
it): the click tree is `nmtools.cli.app`, loaded on first use of `cli`.
"""

from __future__ import annotations

from nmtools.cli.passthrough import COMMANDS, GLOBAL_OPTS, main

__all__ = ["COMMANDS", "GLOBAL_OPTS", "cli", "main"]


def __getattr__(name: str) -> object:  # no typing import: it would cost the hand-over
    if name == "cli":
        from nmtools.cli.app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

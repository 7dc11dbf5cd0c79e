"""The `nm` command: thin click commands over the library."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

import click

from nmtools import __version__
from nmtools.cli.info import info
from nmtools.cli.passthrough import hand_over, is_ours
from nmtools.cli.pktgen import pktgen


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="nm is also binutils' symbol lister: a command line that does not start with an "
    "nmtools command or option (nm -D libc.so.6, nm foo.o) is handed to the next nm on PATH.",
)
@click.version_option(__version__, prog_name="nmtools")
@click.option("--traceback", is_flag=True, help="Show the Python stack on errors (bug reports).")
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """nmtools: netmap's pkt-gen, bridge, vale-ctl and nmreplay on any Linux box.

    Ports are netmap names: netmap:eth0, eth0-1 (one queue), netmap:NAME{1 and
    netmap:NAME}1 (the two ends of a pipe), null.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


cli.add_command(info)
cli.add_command(pktgen)


def _global_opts() -> set[str]:
    """The root command's option names (--help, -h, --version, --traceback ...)."""
    ctx = click.Context(cli, **cli.context_settings)
    return {o for p in cli.get_params(ctx) for o in (*p.opts, *p.secondary_opts)}


GLOBAL_OPTS = _global_opts()


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (kill, timeout(1), CI runners) stops a run like Ctrl-C: cleanly, with a summary."""
    raise KeyboardInterrupt


def main() -> None:
    argv = sys.argv[1:]
    signal.signal(signal.SIGTERM, _terminate)
    # only `nm` stands in for binutils; `nmtools` reports its own usage errors
    if os.path.basename(sys.argv[0]) != "nmtools" and not is_ours(
        argv, set(cli.commands), GLOBAL_OPTS
    ):
        hand_over(argv)
    cli.main(args=argv, prog_name="nm")

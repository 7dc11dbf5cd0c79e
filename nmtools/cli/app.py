"""The `nm` click tree and the process around it: lazy commands, one-line errors, exit codes.

Commands are loaded when used (`LazyGroup`): `nm --help` and `nm pkt-gen --help` import
click and the command's module, never the C extension, rich or dpkt, which the command
bodies import when they run.
"""

from __future__ import annotations

import importlib
import signal
import sys
from types import FrameType

import click

from nmtools.cli.common import fail, say
from nmtools.errors import NmError, OutputError

#: Commands loaded on first use: name -> "module:attribute".
LAZY_COMMANDS = {
    "completion": "nmtools.cli.completion:completion",
    "help": "nmtools.cli.meta:help_command",
    "info": "nmtools.cli.info:info",
    "pkt-gen": "nmtools.cli.pktgen:pktgen",
}

#: netmap's tools still to come: reserved, so `nm bridge` never reaches binutils' nm.
COMING = {
    "bridge": "netmap's bridge",
    "capture": "packet capture",
    "replay": "netmap's nmreplay",
    "vale": "netmap's VALE switch and vale-ctl",
}


class LazyGroup(click.Group):
    """A group whose commands are imported the first time they are asked for."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, _, attr = self.lazy[cmd_name].partition(":")
            cmd = getattr(importlib.import_module(module), attr)
            if not isinstance(cmd, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            self.add_command(cmd, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    lazy=LAZY_COMMANDS,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="nm is also binutils' symbol lister: a command line that does not start with an "
    "nmtools command or option (nm -D libc.so.6, nm foo.o) is handed to the next nm on PATH. "
    "nm help COMMAND shows a command's help; source <(nm completion bash) completes nm "
    "in bash (also zsh, fish).",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, param, value: _version(ctx, value),
    help="Show the version and exit.",
)
@click.option("--traceback", is_flag=True, help="Show the Python stack on errors (bug reports).")
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """nmtools: netmap's pkt-gen, bridge, vale-ctl and nmreplay on any Linux box.

    Ports are netmap names: netmap:eth0, eth0-1 (one queue), netmap:NAME{1 and
    netmap:NAME}1 (the two ends of a pipe), null.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def _version(ctx: click.Context, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from nmtools import __version__

    click.echo(f"nmtools, version {__version__}")
    ctx.exit()


def coming_message(name: str) -> str:
    """What `nm NAME` says for a tool still to come."""
    return (
        f"'{name}' is not in this release yet (coming: {COMING[name]}); see nm --help "
        f"(for the symbols of a file named {name}: nm ./{name})"
    )


def _coming(name: str) -> click.Command:
    @click.command(
        name,
        hidden=True,
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    def not_yet() -> None:
        fail(coming_message(name), 2)

    return not_yet


for _name in COMING:
    cli.add_command(_coming(_name))


def root_options() -> set[str]:
    """The root command's option names (--help, -h, --version, --traceback ...): what
    nmtools.cli.passthrough.GLOBAL_OPTS must list."""
    ctx = click.Context(cli, **cli.context_settings)
    return {o for p in cli.get_params(ctx) for o in (*p.opts, *p.secondary_opts)}


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (kill, timeout(1), CI runners) stops a run like Ctrl-C: cleanly, with a summary."""
    raise KeyboardInterrupt


def _usage_line(e: click.ClickException) -> str:
    """A click usage error in one line: what was wrong, and where the help is."""
    message = " ".join(e.format_message().split()).rstrip(".")  # click's lists span lines
    ctx = getattr(e, "ctx", None)
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return f"{message}{where}"


def _root_words(argv: list[str]) -> list[str]:
    """The words before the command: the root options."""
    words = []
    for w in argv:
        if not w.startswith("-"):
            break
        words.append(w)
    return words


def run(argv: list[str]) -> int:
    """The process: guarded output, SIGTERM as Ctrl-C, then `invoke`; the exit status."""
    from nmtools.cli import streams

    streams.install()
    signal.signal(signal.SIGTERM, _terminate)
    return invoke(argv)


def invoke(argv: list[str]) -> int:
    """Run the click tree on argv; the exit status. Every error is one line on stderr."""
    from nmtools.cli import streams

    debug = "--traceback" in _root_words(argv)
    try:
        try:
            with cli.make_context("nm", list(argv)) as ctx:
                cli.invoke(ctx)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:  # a usage error has no stack worth showing
        say(_usage_line(e))
        return e.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort):
        say("interrupted")
        return 130
    except OutputError as e:
        if debug:
            raise
        streams.silence()
        say(str(e))
        return 1
    except NmError as e:  # an option value refused while click parsed it (cli.params)
        if debug:
            raise
        say(str(e))
        return 2 if isinstance(e, ValueError) else 1
    return 0

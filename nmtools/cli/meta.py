"""nm help [COMMAND...]: the help of nm or of one of its commands."""

from __future__ import annotations

import click

from nmtools.cli.app import COMING, coming_message
from nmtools.cli.common import fail


@click.command("help", hidden=True)
@click.argument("names", nargs=-1, metavar="[COMMAND]...")
@click.pass_context
def help_command(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Show the help of nm, or of COMMAND (nm help pkt-gen is nm pkt-gen --help)."""
    root = ctx.find_root()
    cmd: click.Command = root.command
    cur = root
    for name in names:
        if not isinstance(cmd, click.Group):
            fail(f"help: '{cur.command_path}' has no subcommands (see nm help)", 2)
        sub = cmd.get_command(cur, name)
        if cur is root and name in COMING:
            fail(coming_message(name), 2)
        if sub is None or (sub.hidden and name not in ("help", "completion")):
            shown = ", ".join(c for c in cmd.list_commands(cur) if _visible(cmd, cur, c))
            fail(f"help: no command '{name}' (commands: {shown}); see nm --help", 2)
        cur = click.Context(sub, info_name=name, parent=cur, **sub.context_settings)
        cmd = sub
    click.echo(cmd.get_help(cur))


def _visible(group: click.Group, ctx: click.Context, name: str) -> bool:
    sub = group.get_command(ctx, name)
    return sub is not None and not sub.hidden

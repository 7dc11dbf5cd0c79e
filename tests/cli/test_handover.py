"""`nm` as binutils' nm: the hand-over costs nothing, and our own names never leave us.

The imports are read from the real console script run under ``python -X importtime``: what a
command line imports before it is handed over (or before help is printed) is what it costs.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest

BIN = Path(sys.executable).parent
NM = BIN / "nm"
RESERVED = ("bridge", "vale", "replay", "capture")
HEAVY = ("click", "rich", "dpkt")
C_EXTENSION = ("_cffi_backend", "nmtools._native", "nmtools._bindings")

needs_script = pytest.mark.skipif(not NM.exists(), reason="needs the installed nm script")


def imported(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules the nm script imports for this command line (before any exec)."""
    r = subprocess.run(
        [sys.executable, "-X", "importtime", str(NM), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    mods = set()
    for line in r.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                mods.add(name)
    return mods


def bare_python() -> set[str]:
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return {ln.rsplit("|", 1)[1].strip() for ln in r.stderr.splitlines() if "|" in ln}


@pytest.fixture
def fake_binutils(tmp_path):
    """A `nm` first on PATH that records how it was called (so a hand-over is visible)."""
    d = tmp_path / "binutils"
    d.mkdir()
    marker = tmp_path / "handed-over"
    script = d / "nm"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {marker}\nexit 3\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, PATH=f"{d}{os.pathsep}{os.environ.get('PATH', '')}")
    return env, marker


def run_nm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NM), *args], capture_output=True, text=True, timeout=60, env=env)


# -- the hand-over -----------------------------------------------------------------------


@needs_script
def test_hand_over_execs_binutils_with_argv_and_its_status(fake_binutils):
    env, marker = fake_binutils
    r = run_nm("-D", "libfoo.so", env=env)
    assert r.returncode == 3, r.stderr
    assert marker.read_text().split("\n")[:2] == ["-D", "libfoo.so"]


@needs_script
def test_hand_over_imports_no_click_rich_or_dpkt():
    mods = imported("-D", "/bin/true")
    assert "nmtools.cli.passthrough" in mods
    assert not [m for m in mods if m.split(".")[0] in HEAVY]


@needs_script
def test_hand_over_imports_only_the_passthrough():
    extra = imported("-D", "/bin/true") - bare_python()
    ours = {"nmtools", "nmtools.errors", "nmtools.cli", "nmtools.cli.passthrough"}
    assert extra <= ours | {"errno", "__future__"}, sorted(extra - ours)


@needs_script
def test_nm_script_is_not_pip_s_wrapper():
    """pip's console-script wrapper imports `re` first: as much as Python's start-up."""
    head = NM.read_text()[:2048]
    assert "nmtools.cli.passthrough" in head
    assert "import re" not in head


# -- help without the library ------------------------------------------------------------


@needs_script
@pytest.mark.parametrize(
    "args",
    [("--help",), (), ("pkt-gen", "--help"), ("info", "--help"), ("help", "pkt-gen")],
)
def test_help_imports_neither_rich_nor_dpkt(args):
    mods = imported(*args)
    assert "click" in mods
    assert not [m for m in mods if m.split(".")[0] in ("rich", "dpkt")]


@needs_script
@pytest.mark.parametrize("args", [("--help",), ("pkt-gen", "--help"), ("completion", "bash")])
def test_help_does_not_load_the_c_extension(args):
    mods = imported(*args)
    assert not [m for m in mods if m in C_EXTENSION]


# -- the constants the hand-over decides with --------------------------------------------


def test_command_names_and_root_options_match_the_click_tree():
    from nmtools.cli import COMMANDS, GLOBAL_OPTS, cli
    from nmtools.cli.app import root_options

    ctx = click.Context(cli, info_name="nm")
    assert set(cli.list_commands(ctx)) == set(COMMANDS)
    assert root_options() == set(GLOBAL_OPTS)
    assert all(cli.get_command(ctx, name) is not None for name in COMMANDS)


def test_cli_constants_match_the_library():
    from nmtools.cli.common import ADMODES
    from nmtools.cli.pktgen import FUNCTIONS
    from nmtools.pktgen import Function
    from nmtools.ports.admode import ADMODES as LIBRARY_ADMODES

    assert tuple(ADMODES) == tuple(LIBRARY_ADMODES)
    assert FUNCTIONS == [f.value for f in Function]


# -- our names are ours ------------------------------------------------------------------


@needs_script
@pytest.mark.parametrize("name", RESERVED)
@pytest.mark.parametrize("extra", [(), ("-i", "eth0", "--whatever"), ("--help",)])
def test_tools_to_come_say_so_and_never_hand_over(name, extra, fake_binutils):
    env, marker = fake_binutils
    r = run_nm(name, *extra, env=env)
    assert not marker.exists(), f"nm {name} was handed to binutils"
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith(f"nm: '{name}' is not in this release yet (coming: ")
    assert "nm --help" in lines[0] and r.stdout == ""


@needs_script
def test_help_command_is_ours_and_shows_the_help(fake_binutils):
    env, marker = fake_binutils
    assert run_nm("help", env=env).stdout == run_nm("--help", env=env).stdout
    top = run_nm("help", "pkt-gen", env=env)
    assert top.returncode == 0, top.stderr
    assert top.stdout == run_nm("pkt-gen", "--help", env=env).stdout
    assert "Usage: nm pkt-gen" in top.stdout
    assert not marker.exists()


@needs_script
@pytest.mark.parametrize(
    "args, needle",
    [
        (("help", "nosuch"), "no command 'nosuch' (commands: info, pkt-gen)"),
        (("help", "bridge"), "'bridge' is not in this release yet"),
        (("help", "info", "more"), "'nm info' has no subcommands"),
    ],
)
def test_help_of_what_does_not_exist_is_one_line(args, needle, fake_binutils):
    env, marker = fake_binutils
    r = run_nm(*args, env=env)
    assert r.returncode == 2 and not marker.exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr


def test_root_help_names_the_help_and_completion_commands():
    from click.testing import CliRunner

    from nmtools.cli import cli

    out = CliRunner().invoke(cli, ["--help"]).output
    assert "nm help COMMAND" in out and "nm completion bash" in out

"""Shell completions and man pages must follow the click tree.

When a test here fails after a CLI change: run `python completions/generate.py` for the
completions, and document the new command or option in man/ (see the docstring of
completions/generate.py for which page documents which command).
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATE = ROOT / "completions" / "generate.py"
MAN = ROOT / "man"
ADMODES = {"auto", "native", "xdp", "packet"}


def _load_generate():
    spec = importlib.util.spec_from_file_location("nmtools_completions_generate", GENERATE)
    assert spec is not None and spec.loader is not None, GENERATE
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


gen = _load_generate()
TREE = gen.tree()
COMMANDS = TREE.walk()
needs_bash = pytest.mark.tools("bash")


# -- completions -------------------------------------------------------------------------


@pytest.mark.parametrize("shell", gen.SHELLS)
def test_completion_file_is_up_to_date(shell):
    path = ROOT / "completions" / gen.FILES[shell]
    fix = "run `python completions/generate.py` and commit the result"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: {fix}"
    committed = path.read_text()
    expected = gen.render(shell)
    if committed != expected:
        diff = difflib.unified_diff(
            committed.splitlines(),
            expected.splitlines(),
            f"{path.name} (committed)",
            f"{path.name} (from the CLI)",
            lineterm="",
        )
        shown = "\n".join(list(diff)[:40])
        pytest.fail(f"{path.relative_to(ROOT)} does not match the CLI: {fix}\n{shown}")


@pytest.mark.parametrize("shell", gen.SHELLS)
def test_completion_is_static_and_deterministic(shell):
    text = gen.render(shell)
    assert text == gen.render(shell)
    assert gen.HEADER in "\n".join(text.splitlines()[:3])
    # completion never calls back into Python (no click dynamic completion, no `nm ...`)
    assert "_COMPLETE" not in text
    run = re.compile(r"(?:^|[;&|(`]|\$\()\s*(?:python3?|nm|nmtools)\b(?!-)")
    code = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    assert not [ln for ln in code if run.search(ln)]
    for name in ("nm", "nmtools"):
        assert name in text


def test_check_mode_passes_on_committed_files():
    r = subprocess.run(
        [sys.executable, str(GENERATE), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env_with_package(),
    )
    assert r.returncode == 0, r.stdout + r.stderr


def _env_with_package() -> dict[str, str]:
    """The environment of this test run, with the nmtools it imports reachable."""
    import nmtools

    env = dict(os.environ)
    pkg_parent = str(Path(nmtools.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    return env


def test_root_options_are_the_hand_over_options():
    """The hand-over decides nmtools vs binutils with GLOBAL_OPTS and COMMANDS; completion
    uses the click tree (hidden commands, the tools still to come, are reserved but not
    offered)."""
    from nmtools.cli import COMMANDS, GLOBAL_OPTS, cli

    assert set(TREE.option_names) == set(GLOBAL_OPTS), (
        "nmtools.cli.GLOBAL_OPTS must list exactly the root options, or `nm --new-opt` is "
        "handed to binutils while the completions offer it"
    )
    ctx = click.Context(cli, info_name="nm")
    visible = {n for n in cli.list_commands(ctx) if not cli.get_command(ctx, n).hidden}
    assert {c.name for c in TREE.subcommands} == visible
    assert visible <= set(COMMANDS)


# -- exercising bash completion ----------------------------------------------------------


def bash_complete(script: Path, line: list[str], cwd: Path) -> list[str]:
    """COMPREPLY after _nm for the words `line` (the last one is being completed)."""
    words = " ".join(shlex.quote(w) for w in line)
    prog = (
        f"source {shlex.quote(str(script))} || exit 99\n"
        f"COMP_WORDS=({words})\n"
        f"COMP_CWORD={len(line) - 1}\n"
        f"COMP_LINE={shlex.quote(' '.join(line))}\n"
        "COMP_POINT=${#COMP_LINE}\n"
        "_nm nm || exit 98\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    r = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", prog],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0 and not r.stderr, (line, r.returncode, r.stderr)
    return [w for w in r.stdout.split("\n") if w]


@pytest.fixture
def workdir(tmp_path):
    d = tmp_path / "work"
    d.mkdir()
    for name in ("foo.o", "foo.c", "conf.yaml"):
        (d / name).write_text("")
    (d / "subdir").mkdir()
    return d


@needs_bash
def test_bash_script_loads_and_registers_both_names():
    script = ROOT / "completions" / "nm.bash"
    r = subprocess.run(
        [
            "bash",
            "--norc",
            "--noprofile",
            "-c",
            f"source {shlex.quote(str(script))}; complete -p nm nmtools",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    assert "complete -F _nm nm" in r.stdout
    assert "complete -F _nm nmtools" in r.stdout


@needs_bash
def test_bash_completes_commands_options_and_choices(workdir):
    script = ROOT / "completions" / "nm.bash"
    info = next(c for c in COMMANDS if c.path == ("nm", "info"))
    assert bash_complete(script, ["nm", "in"], workdir) == ["info"]
    assert bash_complete(script, ["nm", "info", "--ad"], workdir) == ["--admode"]
    assert set(bash_complete(script, ["nm", "info", "--admode", ""], workdir)) == ADMODES
    assert bash_complete(script, ["nm", "info", "--admode", "p"], workdir) == ["packet"]
    # --admode=<TAB>: bash splits the word at '='
    assert set(bash_complete(script, ["nm", "info", "--admode", "=", ""], workdir)) == ADMODES
    assert set(bash_complete(script, ["nm", "info", "--admode", "="], workdir)) == ADMODES
    assert set(bash_complete(script, ["nm", "info", "-"], workdir)) == set(info.option_names)
    assert set(bash_complete(script, ["nm", "-"], workdir)) == set(TREE.option_names)
    # after the option's value, options again; a port name is free text
    assert "--json" in bash_complete(script, ["nm", "info", "--admode", "xdp", "--"], workdir)
    assert bash_complete(script, ["nm", "info", "--admode", "xdp", ""], workdir) == []
    assert bash_complete(script, ["nm", "--traceback", "in"], workdir) == ["info"]


@needs_bash
def test_bash_hands_foreign_command_lines_to_file_completion(workdir):
    script = ROOT / "completions" / "nm.bash"
    got = bash_complete(script, ["nm", "-D", "foo"], workdir)
    assert sorted(got) == ["foo.c", "foo.o"], got
    assert not [w for w in bash_complete(script, ["nm", "-D", ""], workdir) if w.startswith("-")]
    assert sorted(bash_complete(script, ["nm", "foo."], workdir)) == ["foo.c", "foo.o"]
    assert "foo.o" in bash_complete(script, ["nm", "foo.o", ""], workdir)
    # the first word: commands and object files alike
    first = bash_complete(script, ["nm", ""], workdir)
    assert "info" in first and "foo.o" in first
    # but after a root option only commands
    assert "foo.o" not in bash_complete(script, ["nm", "--traceback", ""], workdir)


# A tree with what later commands will have: nested groups, short options with values,
# counts, --x/--no-x pairs, file and directory options, choice and variadic arguments.
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--traceback", is_flag=True)
def fake() -> None:
    """A fake nm."""


@fake.group("vale")
@click.option("-v", "--verbose", count=True, help="More output.")
def fake_vale(verbose: int) -> None:
    """Software switches."""


@fake_vale.command("attach")
@click.option("-c", "--config", type=click.Path(dir_okay=False), help="A file.")
@click.option("-d", "--dir", "directory", type=click.Path(file_okay=False), help="A dir.")
@click.option("--mode", type=click.Choice(["fast", "slow"]), help="How [fast].")
@click.option("-n", "--count", type=int, help="How many.")
@click.option("--pair", nargs=2, type=str, help="Two words.")
@click.option("--x/--no-x", default=False, help="It's x.")
@click.option("--secret", hidden=True)
@click.argument("kind", type=click.Choice(["nic", "host"]))
@click.argument("files", nargs=-1, type=click.Path())
def fake_attach(**kw: object) -> None:
    """Attach."""


@fake_vale.command("list")
def fake_list() -> None:
    """List."""


@fake.command("pkt-gen")
@click.option("-i", "--interface", help="The port.")
@click.option("-f", "--function", type=click.Choice(["tx", "rx"]), multiple=True)
@click.argument("ends", nargs=2)
@click.argument("speed", type=click.Choice(["slow", "fast"]), required=False)
def fake_pktgen(**kw: object) -> None:
    """Generate."""


@pytest.fixture
def fake_scripts(tmp_path):
    out = {}
    for shell in gen.SHELLS:
        path = tmp_path / gen.FILES[shell]
        path.write_text(gen.render(shell, fake))
        out[shell] = path
    return out


@needs_bash
def test_bash_walks_nested_groups_generically(fake_scripts, workdir):
    s = fake_scripts["bash"]
    assert bash_complete(s, ["nm", "v"], workdir) == ["vale"]
    assert bash_complete(s, ["nm", "vale", ""], workdir) == ["attach", "list"]
    assert set(bash_complete(s, ["nm", "vale", "-"], workdir)) == {
        "-v",
        "--verbose",
        "-h",
        "--help",
    }
    assert bash_complete(s, ["nm", "vale", "-v", "-v", "at"], workdir) == ["attach"]
    attach = ["nm", "vale", "attach"]
    opts = set(bash_complete(s, [*attach, "-"], workdir))
    assert {"-c", "--config", "--x", "--no-x", "--pair", "-h"} <= opts
    assert "--secret" not in opts and "--verbose" not in opts
    assert bash_complete(s, [*attach, "--mode", ""], workdir) == ["fast", "slow"]
    assert bash_complete(s, [*attach, "-c", "conf"], workdir) == ["conf.yaml"]
    assert bash_complete(s, [*attach, "--config", "=", "conf"], workdir) == ["conf.yaml"]
    assert bash_complete(s, [*attach, "-d", ""], workdir) == ["subdir"]
    # values are skipped when counting positionals: --pair takes two words
    assert bash_complete(s, [*attach, "-n", "3", "--pair", "a", "b", ""], workdir) == [
        "nic",
        "host",
    ]
    assert bash_complete(s, [*attach, "--pair", "a", ""], workdir) == []
    assert bash_complete(s, [*attach, "nic", "conf"], workdir) == ["conf.yaml"]
    assert bash_complete(s, [*attach, "--", "-"], workdir) == []
    assert bash_complete(s, ["nm", "pkt-gen", "-f", ""], workdir) == ["tx", "rx"]
    assert bash_complete(s, ["nm", "pkt-gen", "-i", "eth0", "-f", "t"], workdir) == ["tx"]
    assert bash_complete(s, ["nm", "pkt-gen", "-i", "eth0", ""], workdir) == []
    assert bash_complete(s, ["nm", "pkt-gen", "a", "-f", "tx", ""], workdir) == []
    assert bash_complete(s, ["nm", "pkt-gen", "a", "-f", "tx", "b", ""], workdir) == [
        "slow",
        "fast",
    ]
    assert bash_complete(s, ["nm", "-D", "conf"], workdir) == ["conf.yaml"]


@pytest.mark.parametrize("shell", gen.SHELLS)
def test_scripts_parse(shell, fake_scripts, need_tool):
    exe = need_tool({"bash": "bash", "zsh": "zsh", "fish": "fish"}[shell])
    for path in (ROOT / "completions" / gen.FILES[shell], fake_scripts[shell]):
        r = subprocess.run([exe, "-n", str(path)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and not r.stderr, (path, r.stderr)


def fish_complete(script: Path, line: str, tmp_path: Path) -> list[str]:
    """What fish offers for `line`, with only `script` as the completions of nm."""
    comp = tmp_path / "fish-completions"
    comp.mkdir(exist_ok=True)
    shutil.copy(script, comp / "nm.fish")
    (comp / "nmtools.fish").write_text(script.read_text())
    bindir = tmp_path / "bin"  # fish loads completions only for commands it can find
    bindir.mkdir(exist_ok=True)
    for name in ("nm", "nmtools"):
        (bindir / name).write_text("#!/bin/sh\n")
        (bindir / name).chmod(0o755)
    env = {
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    cmd = f"set fish_complete_path {shlex.quote(str(comp))}; complete -C {shlex.quote(line)}"
    r = subprocess.run(
        ["fish", "-c", cmd], capture_output=True, text=True, timeout=30, env=env, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    return [ln.split("\t", 1)[0] for ln in r.stdout.splitlines()]


@pytest.mark.tools("fish")
def test_fish_completes(tmp_path, fake_scripts):
    s = ROOT / "completions" / "nm.fish"
    assert "info" in fish_complete(s, "nm in", tmp_path)
    assert fish_complete(s, "nm info --ad", tmp_path) == ["--admode"]
    assert set(fish_complete(s, "nm info --admode ", tmp_path)) == ADMODES
    assert set(fish_complete(s, "nmtools info --admode ", tmp_path)) == ADMODES
    assert fish_complete(s, "nm info ", tmp_path) == []
    f = fake_scripts["fish"]
    assert set(fish_complete(f, "nm vale ", tmp_path)) == {"attach", "list"}
    assert set(fish_complete(f, "nm vale attach --mode ", tmp_path)) == {"fast", "slow"}
    assert "--no-x" in fish_complete(f, "nm vale attach --", tmp_path)


# -- man pages -----------------------------------------------------------------------------

_MACRO = re.compile(r"^[A-Z][a-z][a-z]?$")  # a callable mdoc macro (Ar, Ns, Op, Oc ...)
_DELIM = {"|", ",", ".", ";", ":", "(", ")", "[", "]", "?", "!"}


def _mdoc_words(line: str) -> list[str]:
    try:
        return shlex.split(line[1:], posix=True)
    except ValueError:
        return line[1:].split()


def mdoc_flags(text: str, it_only: bool = False) -> set[str]:
    """Option names written as mdoc flags: `Fl -admode` is --admode, `Fl h` is -h.

    With it_only, only the flags of `.It Fl ...` lines (option lists)."""
    flags: set[str] = set()
    for line in text.splitlines():
        if not line.startswith(".") or line.startswith('.\\"'):
            continue
        if it_only and not line.startswith(".It Fl "):
            continue
        words = _mdoc_words(line)
        in_fl = False
        for w in words:
            if w == "Fl":
                in_fl = True
            elif _MACRO.match(w):
                in_fl = False
            elif in_fl and w not in _DELIM:
                flags.add("-" + w)
    return flags


def page_of(path: tuple[str, ...]) -> Path:
    """nm.8 for the root; nm-C.8 for a top-level command C and everything under it."""
    return MAN / ("nm.8" if len(path) == 1 else f"nm-{path[1]}.8")


def test_every_command_has_a_page():
    missing = [
        f"`{' '.join(c.path)}` needs {page_of(c.path).relative_to(ROOT)}"
        for c in COMMANDS
        if not page_of(c.path).exists()
    ]
    assert not missing, "; ".join(missing)


def test_every_option_is_in_its_page():
    missing = []
    for c in COMMANDS:
        page = page_of(c.path)
        if not page.exists():
            continue  # reported by test_every_command_has_a_page
        flags = mdoc_flags(page.read_text())
        for name in c.option_names:
            if name not in flags:
                fl = "Fl " + name[1:]
                missing.append(
                    f"{page.relative_to(ROOT)} does not document {name} of "
                    f"`{' '.join(c.path)}` (write it as `{fl}`)"
                )
    assert not missing, "\n".join(missing)


def test_option_lists_name_only_real_options():
    """`.It Fl X` entries must be options of a command the page documents."""
    stale = []
    for page in sorted(MAN.glob("nm*.8")):
        cmds = [c for c in COMMANDS if page_of(c.path) == page]
        real = {n for c in cmds for n in c.option_names}
        for flag in sorted(mdoc_flags(page.read_text(), it_only=True) - real):
            stale.append(f"{page.relative_to(ROOT)} documents {flag}, which no command has")
    assert not stale, "\n".join(stale)


def test_every_command_is_listed():
    nm8 = (MAN / "nm.8").read_text()
    missing = []
    for c in TREE.subcommands:
        if not re.search(rf"^\.It Cm {re.escape(c.name)}(\s|$)", nm8, re.M):
            missing.append(f"man/nm.8 COMMANDS has no `.It Cm {c.name}` entry")
        if not re.search(rf"^\.Xr nm-{re.escape(c.name)} 8", nm8, re.M):
            missing.append(f"man/nm.8 does not refer to `.Xr nm-{c.name} 8`")
    for c in COMMANDS:
        if len(c.path) < 3:
            continue
        page = page_of(c.path)
        if page.exists() and not re.search(rf"\bCm {re.escape(c.name)}\b", page.read_text()):
            missing.append(f"{page.relative_to(ROOT)} does not describe `{' '.join(c.path)}`")
    assert not missing, "\n".join(missing)


def test_no_page_for_a_command_that_does_not_exist():
    pages = {p.name for p in MAN.glob("nm-*.8")}
    expected = {f"nm-{c.name}.8" for c in TREE.subcommands}
    assert pages <= expected, f"man pages without a command: {sorted(pages - expected)}"


def test_mdoc_flags_reader():
    text = ".It Fl -admode Ar mode\n.It Fl h , Fl -help\n.Op Fl h | -help\nFl -nope\n.Fl x\n"
    assert mdoc_flags(text) == {"--admode", "-h", "--help", "-x"}
    assert mdoc_flags(text, it_only=True) == {"--admode", "-h", "--help"}


@pytest.mark.parametrize("page", sorted(p.name for p in MAN.glob("nm*.8")))
def test_man_page_lints_clean(page, need_tool):
    mandoc = need_tool("mandoc")
    r = subprocess.run(
        [mandoc, "-T", "lint", "-W", "warning", str(MAN / page)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    problems = [ln for ln in (r.stdout + r.stderr).splitlines() if "mandoc.db" not in ln]
    assert not problems, "\n".join(problems)

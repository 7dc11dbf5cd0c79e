"""What `pip install .` puts where a user finds it: man pages for man(1), completions from
`nm completion SHELL` (the same text as completions/, which generate.py writes)."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NM = [str(BIN / "nm")] if (BIN / "nm").exists() else [sys.executable, "-m", "nmtools"]
PAGES = sorted(p.name for p in (ROOT / "man").glob("*.8"))
FILES = {"bash": "nm.bash", "zsh": "_nm", "fish": "nm.fish"}


def installed_pages() -> dict[str, Path]:
    """The man pages the installed distribution recorded (its RECORD), by file name."""
    dist = importlib.metadata.distribution("nmtools")
    out = {}
    for f in dist.files or ():
        parts = Path(f).parts
        if len(parts) >= 3 and parts[-3:-1] == ("man", "man8"):
            out[parts[-1]] = Path(str(dist.locate_file(f))).resolve()
    return out


@pytest.mark.parametrize("page", PAGES)
def test_every_man_page_is_installed(page):
    pages = installed_pages()
    assert page in pages, f"{page} is not installed (pyproject.toml data-files)"
    path = pages[page]
    assert path.parent.parts[-3:] == ("share", "man", "man8"), path
    assert path.read_bytes() == (ROOT / "man" / page).read_bytes(), "reinstall: pip install ."


def test_man_finds_the_pages_from_path(need_tool):
    """man-db maps <prefix>/bin on PATH to <prefix>/share/man: no MANPATH needed."""
    man = need_tool("man", "man-db")
    pages = installed_pages()
    if not pages:
        pytest.fail("no man pages installed")
    prefix_bin = next(iter(pages.values())).parents[3] / "bin"
    env = {k: v for k, v in os.environ.items() if k != "MANPATH"}
    env["PATH"] = f"{prefix_bin}{os.pathsep}/usr/bin{os.pathsep}/bin"
    for page, want in (("nm-pkt-gen", "nm-pkt-gen.8"), ("nm-info", "nm-info.8")):
        r = subprocess.run([man, "-w", page], capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        assert Path(r.stdout.strip()).resolve() == pages[want]
    r = subprocess.run([man, "-w", "8", "nm"], capture_output=True, text=True, env=env, timeout=60)
    assert Path(r.stdout.strip()).resolve() == pages["nm.8"]  # nm(1) is binutils'


@pytest.mark.parametrize("shell", sorted(FILES))
def test_nm_completion_prints_the_committed_script(shell):
    r = subprocess.run([*NM, "completion", shell], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (ROOT / "completions" / FILES[shell]).read_text()


def test_nm_completion_bash_can_be_sourced(need_tool):
    bash = need_tool("bash")
    nm = " ".join(NM)
    r = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", f"source <({nm} completion bash) && complete -p nm"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and "_nm" in r.stdout and r.stderr == "", (r.stdout, r.stderr)


def test_nm_completion_of_an_unknown_shell_is_one_line():
    r = subprocess.run([*NM, "completion", "tcsh"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in r.stderr

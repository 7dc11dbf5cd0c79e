"""The README as a new user meets it: every command in it runs as written after the quick
start's two set-up commands.

The README's fenced blocks are read in order:

- ```sh blocks are shell commands, run as one script per block;
- ```console blocks show a session: lines starting with ``$ `` are run, the rest is output;
- ```python blocks are run with the venv's Python.

A block runs as the user who would type it: blocks with ``sudo`` (or a Python block whose
first line says ``# as root``) as root, the others without any capability (root's uid, so
the venv stays readable, but no CAP_NET_RAW, CAP_NET_ADMIN or CAP_DAC_OVERRIDE), inside a network
namespace the test makes (so the veth pair the README creates is the test's), in a fresh
directory that holds ``.venv`` (the venv under test), with that venv's ``bin`` first on PATH,
as ``. .venv/bin/activate`` in the quick start leaves it. A block fails the test when any command in
it fails (``set -e -o pipefail``, and ``wait`` fails when a background job did), or when it
prints a Python traceback or an ``nm:`` error line. The README marks the blocks that take
minutes (benchmarks, the sanitizer build) with ``<!-- not run: REASON -->`` before them; they
are not run here, and `test_not_run_blocks` lists them with their reasons. A block preceded by an
HTML comment ``<!-- not run: REASON -->`` is skipped, and the reason is shown.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SANITIZER_VARS

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
VENV = Path(sys.prefix)
# what every shell block runs under: the first failing command ends it, and `wait` (which
# the README uses after `cmd &`) reports a background job's failure
PRELUDE = """set -eo pipefail
wait() { local rc=0 j; for j in $(jobs -p); do builtin wait "$j" || rc=$?; done; return $rc; }
"""
NO_CAPS = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs"]

pytestmark = [pytest.mark.root, pytest.mark.tools("sudo", "setpriv", "ip")]


@dataclass
class Block:
    lang: str
    code: str
    line: int  # where it starts in README.md
    section: str  # the "## ..." heading it is under
    skip: str  # the reason of a preceding <!-- not run: ... -->, or ""

    @property
    def commands(self) -> str:
        """The block as a script."""
        if self.lang != "console":
            return self.code
        return "\n".join(ln[2:] for ln in self.code.splitlines() if ln.startswith("$ "))

    @property
    def as_root(self) -> bool:
        if self.lang == "python":
            return self.code.lstrip().startswith("# as root")
        return re.search(r"(^|[\s;&|(])sudo\s", self.commands) is not None

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.section}, {self.lang})"


def blocks() -> list[Block]:
    out: list[Block] = []
    section, skip = "", ""
    lines = README.read_text().splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("## "):
            section = ln[3:].strip()
        m = re.match(r"<!-- not run: (.+) -->", ln.strip())
        if m:
            skip = m.group(1)
        fence = re.match(r"```(\w+)\s*$", ln)
        if fence:
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            lang = fence.group(1)
            if lang in ("sh", "console", "python"):
                out.append(Block(lang, "\n".join(body) + "\n", start, section, skip))
            skip = ""
        i += 1
    return out


ALL = blocks()
QUICK = [b for b in ALL if b.section == "Quick start"]
TOUR = [b for b in ALL if b.section != "Quick start" and not b.skip]
NOT_RUN = [b for b in ALL if b.skip]


def test_quick_start_is_two_commands_and_ci_runs_the_second():
    commands = [c for b in QUICK for c in b.commands.strip().splitlines() if c.strip()]
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci, "the README's test command is what .ci/run runs"
    assert "pip install" in commands[0] and "nm pkt-gen" in commands[0]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A namespace and a directory as a new user's, after the quick start."""
    home = tmp_path_factory.mktemp("readme")
    (home / ".venv").symlink_to(VENV)
    (home / "shm").mkdir()
    ns = f"nmt{os.getpid()}readme"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
    try:
        yield ns, home
    finally:
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        for p in pids.stdout.split():
            subprocess.run(["kill", "-9", p], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for f in (home / "shm").iterdir():
            f.unlink()


def _run(block: Block, ns: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "VIRTUAL_ENV": str(VENV),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NMTOOLS_SHM_DIR": str(home / "shm"),
        # a sanitized build (README, Development) needs its runtime in every nm it starts
        **{k: v for k, v in os.environ.items() if k in SANITIZER_VARS},
    }
    if block.lang == "python":
        cmd = [str(VENV / "bin" / "python"), "-c", block.code]
    else:
        prelude = PRELUDE
        if any(k in os.environ for k in SANITIZER_VARS):
            # sudo drops LD_PRELOAD; a sanitized build's nm needs it under sudo too
            keep = " ".join(f'{k}="${k}"' for k in SANITIZER_VARS if k in os.environ)
            prelude += f'sudo() {{ command sudo {keep} "$@"; }}\n'
        cmd = ["bash", "--norc", "--noprofile", "-c", prelude + block.commands]
    user = [] if block.as_root else NO_CAPS
    return subprocess.run(
        ["ip", "netns", "exec", ns, *user, *cmd],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("block", TOUR, ids=[f"line{b.line}" for b in TOUR])
def test_readme_block_runs_as_written(block, world):
    ns, home = world
    r = _run(block, ns, home)
    out = r.stdout + r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("nm: ")]
    assert r.returncode == 0, f"{block} exited {r.returncode}:\n{block.commands}\n{out[-3000:]}"
    assert "Traceback" not in out, f"{block}:\n{out[-3000:]}"
    assert not errors, f"{block} printed errors:\n{block.commands}\n{out[-3000:]}"


def test_not_run_blocks():
    """Only what takes minutes is left out, each with its reason (shown with -v)."""
    for b in NOT_RUN:
        assert len(b.skip) > 10 and "minutes" in b.skip, b
        print(f"not run: {b}: {b.skip}")
    assert len(NOT_RUN) <= 2, [str(b) for b in NOT_RUN]


def test_tools_the_readme_uses_are_here():
    """What the README runs beyond nm, python and ip must exist for the blocks above."""
    for tool in ("sudo", "bash"):
        assert shutil.which(tool), tool

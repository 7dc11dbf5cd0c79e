"""Output that cannot be written (`> /dev/full`, `| head -1`, `>&-`) is one line, exit 1.

Never a traceback, never Python's "Exception ignored ... BrokenPipeError" at exit, never a
silent exit: also when the failing write is the final summary, and with --json.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
NM = [str(BIN / "nm")] if (BIN / "nm").exists() else [sys.executable, "-m", "nmtools"]
FULL = "nm: cannot write output: No space left on device"
PIPE = "nm: cannot write output: Broken pipe"


def check(r: subprocess.CompletedProcess[str] | tuple[int, str], line: str) -> None:
    code, err = (r.returncode, r.stderr) if isinstance(r, subprocess.CompletedProcess) else r
    assert "Traceback" not in err and "Exception ignored" not in err, err
    ours = [ln for ln in err.splitlines() if ln.startswith("nm:")]
    assert ours == [line], err
    assert err.rstrip("\n").splitlines()[-1] == line, err
    assert code == 1, (code, err)


@pytest.fixture
def shm(tmp_path, monkeypatch):
    monkeypatch.setenv("NMTOOLS_SHM_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["pkt-gen", "tx", "-i", "null", "-n", "1000"],
        ["pkt-gen", "tx", "-i", "null", "-n", "1000", "--json"],
        ["pkt-gen", "rx", "-i", "null", "-n", "10", "--json"],
        ["info", "null"],
        ["info", "--json", "null"],
        ["info"],
        ["--help"],
        ["pkt-gen", "--help"],
        ["completion", "bash"],
    ],
)
def test_full_disk_is_one_line(args, shm):
    with open("/dev/full", "w") as full:
        r = subprocess.run([*NM, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    check((r.returncode, r.stderr), FULL)


def _closed_pipe_run(args: list[str]) -> tuple[int, str]:
    """Run with stdout a pipe nobody reads (the reader is gone before the first write)."""
    rfd, wfd = os.pipe()
    os.close(rfd)
    try:
        p = subprocess.Popen([*NM, *args], stdout=wfd, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(wfd)
    _, err = p.communicate(timeout=60)
    return p.returncode, err


@pytest.mark.parametrize("json", [[], ["--json"]])
def test_closed_pipe_at_start_is_one_line(json, shm):
    check(_closed_pipe_run(["pkt-gen", "tx", "-i", "null", "-n", "1000", *json]), PIPE)


@pytest.mark.parametrize("json, head", [([], 2), (["--json", "-T", "60000"], 1)])
def test_closed_pipe_at_the_final_summary_is_one_line(json, head, shm):
    """The start lines go through, the reader leaves, the summary at the end fails."""
    p = subprocess.Popen(
        [*NM, "pkt-gen", "tx", "-i", "null", "-R", "2000", "-t", "1", *json],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None and p.stderr is not None
    try:
        first = [p.stdout.readline() for _ in range(head)]
        assert all(first), first
        p.stdout.close()  # like head(1) leaving: the summary has nowhere to go
        err = p.stderr.read()
        p.wait(60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check((p.returncode, err), PIPE)


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs sh")
def test_head_in_a_shell_pipeline(shm):
    nm = " ".join(NM)
    r = subprocess.run(
        ["sh", "-c", f"{nm} pkt-gen tx -i null -R 2000 -t 0.5 | head -1 >/dev/null"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    check((1, r.stderr), PIPE)  # sh reports head's status; the line is ours


def test_closed_stdout_is_one_line(shm):
    nm = " ".join(NM)
    r = subprocess.run(
        ["sh", "-c", f"exec {nm} pkt-gen tx -i null -n 10 >&-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    check(r, "nm: cannot write output: standard output is closed")


def test_broken_stderr_still_gives_the_status(shm):
    """Nothing can be said when stderr itself is broken: the exit status still tells."""
    with open("/dev/full", "w") as full:
        r = subprocess.run(
            [*NM, "info", "netmap:bad@"], stdout=subprocess.PIPE, stderr=full, timeout=60
        )
    assert r.returncode == 2

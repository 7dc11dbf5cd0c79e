"""need_tool and the `tools` marker (tests/conftest.py): a missing system tool skips with
the package to install, and fails under CI, where every test must run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

TESTS = """
import pytest

def test_call(need_tool):
    need_tool("nmt-no-such-tool", "nmt-pkg")

@pytest.mark.tools("nmt-no-such-tool")
def test_marker():
    pass

def test_package_defaults_to_the_name(need_tool):
    need_tool("nmt-no-such-tool")

def test_netns_sh_checks_the_tool():
    from conftest import Netns
    Netns().sh("nowhere", "nmt-no-such-tool", "-c", "1")

def test_present(need_tool):
    assert need_tool("sh").endswith("/sh")
"""


def counts(out: str) -> dict[str, int]:
    last = out.strip().splitlines()[-1]
    return {w.rstrip("s"): int(n) for n, w in re.findall(r"(\d+) (\w+)", last) if w != "in"}


def run_pytest(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    d = tmp_path / ("ci" if ci else "dev")
    d.mkdir()
    shutil.copy(CONFTEST, d / "conftest.py")
    (d / "test_t.py").write_text(TESTS)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider", str(d)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=d,
        env=env,
    )


def test_missing_tool_skips_with_the_package(tmp_path):
    r = run_pytest(tmp_path, ci=False)
    assert counts(r.stdout) == {"passed": 1, "skipped": 4}, r.stdout + r.stderr
    assert r.stdout.count("needs nmt-no-such-tool (apt-get install nmt-pkg)") == 1, r.stdout
    assert "SKIPPED [3] conftest.py" in r.stdout  # pytest folds the three identical reasons
    assert "needs nmt-no-such-tool (apt-get install nmt-no-such-tool)" in r.stdout
    assert "CalledProcessError" not in r.stdout


def test_missing_tool_fails_under_ci(tmp_path):
    r = run_pytest(tmp_path, ci=True)
    # the marker fails in setup (an error), the calls in the tests (failures)
    assert counts(r.stdout) == {"passed": 1, "failed": 3, "error": 1}, r.stdout + r.stderr
    assert "under CI every tool must be installed" in r.stdout

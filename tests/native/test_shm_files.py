"""Pipe files against another user: links and files planted where pipes will be made.

Real users: root runs nmtools, uid 65534 (another user) plants symbolic links, files, FIFOs
and directories first. Nothing outside may be created, overwritten or removed, the other
user's files stay as they were, and a squatter can make root's pipes neither fail silently
nor go somewhere it controls. The system places (/dev/shm, /run) are staged in a fresh
directory (NMTOOLS_SHM_BASE, NMTOOLS_RUN_BASE) with their real owners and modes, so a test
never touches the machine's own.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from nmtools import list_pipes, open_port
from nmtools.errors import NmError

pytestmark = pytest.mark.root

OTHER = 65534  # nobody: the other user
NM = os.path.join(os.path.dirname(sys.executable), "nm")


def as_user(uid: int, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *cmd],
        capture_output=True,
        text=True,
        timeout=60,
    )


def other(*cmd: str) -> None:
    r = as_user(OTHER, *cmd)
    assert r.returncode == 0, r.stderr


@dataclass
class Stage:
    base: Path
    shm: Path  # like /dev/shm: root's, 1777
    run: Path  # like /run: root's, 0755
    outside: Path  # a directory of the other user's (where planted links point)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "NMTOOLS_SHM_DIR"}
        env.update({"NMTOOLS_SHM_BASE": str(self.shm), "NMTOOLS_RUN_BASE": str(self.run)})
        env.update(extra)
        return env

    def snapshot(self) -> dict[str, tuple]:
        """Every entry outside root's places, with what would show a change (directories
        change times when root makes and removes its own files in them)."""
        out = {}
        for p in sorted(self.base.rglob("*")):
            if self.run in p.parents or p == self.run:
                continue
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                out[str(p)] = (st.st_mode, st.st_uid)
                continue
            data = b""
            if stat.S_ISREG(st.st_mode):
                data = p.read_bytes()
            elif stat.S_ISLNK(st.st_mode):
                data = os.readlink(p).encode()
            out[str(p)] = (st.st_mode, st.st_uid, st.st_size, st.st_mtime_ns, data)
        return out


@pytest.fixture
def stage(monkeypatch):
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed (util-linux)")
    base = Path(tempfile.mkdtemp(prefix="nmt-stage-", dir="/dev/shm"))
    os.chmod(base, 0o755)
    s = Stage(base, base / "shm", base / "run", base / "outside")
    s.shm.mkdir(mode=0o1777)
    os.chmod(s.shm, 0o1777)
    s.run.mkdir(mode=0o755)
    s.outside.mkdir(mode=0o755)
    os.chown(s.outside, OTHER, OTHER)
    monkeypatch.delenv("NMTOOLS_SHM_DIR", raising=False)
    monkeypatch.setenv("NMTOOLS_SHM_BASE", str(s.shm))
    monkeypatch.setenv("NMTOOLS_RUN_BASE", str(s.run))
    try:
        yield s
    finally:
        shutil.rmtree(base)


def nm_info(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NM, "info", *args], capture_output=True, text=True, env=env, timeout=60)


def one_line_naming(r: subprocess.CompletedProcess[str], *words: str) -> None:
    assert r.returncode != 0, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in lines[0], lines[0]


def frames_flow(a: str, b: str) -> None:
    with open_port(a) as m, open_port(b) as s:
        assert m.send([b"\x42" * 60]) == 1
        assert s.recv() == [b"\x42" * 60]


# ---- a directory given by NMTOOLS_SHM_DIR that others can write (like /tmp) ------------


def test_planted_symlink_is_not_followed(stage):
    """The issue's attack: a link where the region will be made; root's open neither
    creates the target nor writes a file it points to, and says who planted it."""
    env = stage.env(NMTOOLS_SHM_DIR=str(stage.shm))
    victim = stage.base / "rootfile"
    victim.write_bytes(b"precious")
    other("ln", "-s", str(stage.outside / "made-by-root"), str(stage.shm / "nmt-0-pipe-syml@1"))
    other("ln", "-s", str(victim), str(stage.shm / "nmt-0-pipe-syml@2"))
    before = stage.snapshot()
    for pid in ("1", "2"):
        one_line_naming(nm_info(env, f"netmap:syml{{{pid}"), "uid 65534", "not followed")
    assert not (stage.outside / "made-by-root").exists()
    assert victim.read_bytes() == b"precious"
    assert stage.snapshot() == before


def test_planted_file_blocks_with_its_owner_named_and_is_never_removed(stage):
    env = stage.env(NMTOOLS_SHM_DIR=str(stage.shm))
    name = stage.shm / "nmt-0-pipe-sq@1"
    other("sh", "-c", f"echo mine > {name}; chmod 666 {name}")
    before = stage.snapshot()
    one_line_naming(nm_info(env, "netmap:sq{1"), "uid 65534")
    listing = nm_info(env)  # lists (and reaps) pipes: must leave it alone
    assert listing.returncode == 0, listing.stderr
    assert stage.snapshot() == before


def test_planted_doorbells_are_not_removed_or_followed(stage):
    env = stage.env(NMTOOLS_SHM_DIR=str(stage.shm))
    for tail in (".fifo0", ".fifo1", ".fifo0.0", ".fifo1.0"):  # this and the old layout
        other(
            "ln", "-s", str(stage.outside / f"x{tail}"), str(stage.shm / f"nmt-0-pipe-ff@1{tail}")
        )
    before = stage.snapshot()
    one_line_naming(nm_info(env, "netmap:ff{1"), "uid 65534")
    assert stage.snapshot() == before
    assert [p.name for p in stage.outside.iterdir()] == []
    assert [p.name for p in stage.shm.iterdir() if "fifo" not in p.name] == []


def test_a_hard_link_to_a_file_of_ours_is_refused(stage, monkeypatch):
    """A second name for one of root's files (made by root here: the other user cannot,
    fs.protected_hardlinks) is not taken as a region."""
    monkeypatch.setenv("NMTOOLS_SHM_DIR", str(stage.shm))
    target = stage.shm / "rootfile"
    target.write_bytes(b"x" * 4096)
    target.chmod(0o600)
    os.link(target, stage.shm / "nmt-0-pipe-hl@1")
    with pytest.raises(NmError, match="hard links"):
        open_port("netmap:hl{1")
    assert target.read_bytes() == b"x" * 4096


# ---- the default place: a directory of the user's own --------------------------------


def test_pipes_live_in_a_private_directory(stage):
    with open_port("netmap:pv{1") as m:
        d = stage.shm / "nmt-0"
        st = os.lstat(d)
        assert stat.S_ISDIR(st.st_mode) and st.st_uid == 0
        assert stat.S_IMODE(st.st_mode) == 0o700
        assert m.mem_id == f"shm:{d}/nmt-0-pipe-pv@1"
        assert stat.S_IMODE(os.stat(d / "nmt-0-pipe-pv@1").st_mode) == 0o600
        other("sh", "-c", f"touch {d}/x 2>/dev/null; ls {d} 2>/dev/null; true")
    assert os.listdir(stage.shm / "nmt-0") == []


@pytest.mark.parametrize("how", ["dir", "symlink", "file"])
def test_a_squatted_directory_does_not_block_roots_pipes(stage, how):
    """The other user takes /dev/shm/nmt-0 first (and fills it with links): root's pipes go
    to a place only root can make (/run/nmtools), and work."""
    squat = stage.shm / "nmt-0"
    if how == "dir":
        other("mkdir", "-m", "777", str(squat))
        other("ln", "-s", str(stage.outside / "t"), str(squat / "nmt-0-pipe-sq@1"))
    elif how == "symlink":
        other("ln", "-s", str(stage.outside), str(squat))
    else:
        other("touch", str(squat))
    before = stage.snapshot()
    frames_flow("netmap:sq{1", "netmap:sq}1")
    assert stage.snapshot() == before
    assert os.listdir(stage.run / "nmtools") == []
    assert stat.S_IMODE(os.lstat(stage.run / "nmtools").st_mode) == 0o700


def test_once_squatted_the_fallback_stays_so_both_ends_meet(stage):
    """The squatter leaves between the opens of the two ends: they still meet."""
    other("mkdir", str(stage.shm / "nmt-0"))
    with open_port("netmap:st{1") as m:
        other("rmdir", str(stage.shm / "nmt-0"))
        with open_port("netmap:st}1") as s:
            assert m.send([b"s" * 60]) == 1
            assert s.recv() == [b"s" * 60]
        assert [p.name for p in list_pipes()] == ["netmap:st{1"]


def test_with_no_fallback_the_squatter_is_named(stage):
    env = stage.env(NMTOOLS_RUN_BASE=str(stage.shm))  # others can write it: no fallback
    other("mkdir", str(stage.shm / "nmt-0"))
    one_line_naming(nm_info(env, "netmap:nf{1"), "uid 65534", "NMTOOLS_SHM_DIR")
    assert os.listdir(stage.shm / "nmt-0") == []


SELF = """
import sys
from nmtools import open_port
with open_port("netmap:u{1") as m, open_port("netmap:u}1") as s:
    m.send([b"u" * 60])
    assert s.recv() == [b"u" * 60]
    print(m.mem_id)
"""


def test_another_users_squat_does_not_block_a_user(stage):
    """A user (65534) whose name another user (65533) took first uses their login runtime
    directory (/run/user/65534) instead."""
    runtime = stage.run / "user" / str(OTHER)
    runtime.mkdir(parents=True)
    os.chown(runtime, OTHER, OTHER)
    runtime.chmod(0o700)
    r = as_user(65533, "mkdir", "-m", "777", str(stage.shm / f"nmt-{OTHER}"))
    assert r.returncode == 0, r.stderr
    env = stage.env()
    r = subprocess.run(
        ["setpriv", f"--reuid={OTHER}", f"--regid={OTHER}", "--clear-groups"]
        + [sys.executable, "-c", SELF],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"shm:{runtime}/nmtools/nmt-{OTHER}-pipe-u@1"
    assert os.listdir(stage.shm / f"nmt-{OTHER}") == []

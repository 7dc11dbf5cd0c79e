"""The `nm` command as a user runs it: a real process, real exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def nm_exe() -> list[str]:
    """The installed console script when there is one, else `python -m nmtools`."""
    script = BIN / "nm"
    return [str(script)] if script.exists() else [sys.executable, "-m", "nmtools"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*nm_exe(), *args], capture_output=True, text=True, timeout=60, env=env)


def assert_one_line_error(r: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("nm: ")
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_bare_nm_shows_help_with_commands_and_hand_over():
    r = run()
    assert r.returncode == 0
    assert "info" in r.stdout and "binutils" in r.stdout
    assert run("--help").stdout == r.stdout


def test_version():
    r = run("--version")
    assert r.returncode == 0 and "nmtools" in r.stdout


def test_foreign_command_line_goes_to_binutils_nm(need_tool):
    from nmtools.cli.passthrough import find_binutils_nm

    binutils = need_tool("nm", "binutils", found=find_binutils_nm(str(BIN / "nm")))
    lib = next(
        p
        for p in (
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/lib/aarch64-linux-gnu/libc.so.6",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
        )
        if Path(p).exists()
    )
    ours = run("-D", lib)
    theirs = subprocess.run([binutils, "-D", lib], capture_output=True, text=True)
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == theirs.stdout and "GLIBC" in ours.stdout
    bad = run("--defined-only", "/nonexistent.o")
    ref = subprocess.run(
        [binutils, "--defined-only", "/nonexistent.o"], capture_output=True, text=True
    )
    assert bad.returncode == ref.returncode != 0


def test_foreign_command_line_without_binutils_says_so(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no nm anywhere
    cmd = [sys.executable, "-m", "nmtools", "-D", "x.so"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert_one_line_error(r, 127, "binutils")


def test_info_null_and_json():
    r = run("info", "null")
    assert r.returncode == 0, r.stderr
    assert "backend    null" in r.stdout
    d = json.loads(run("info", "--json", "null").stdout)
    assert d["backend"] == "null" and d["tx_slots"] == 1024


def test_info_pipe_json_and_nothing_left(tmp_path):
    env = dict(os.environ, NMTOOLS_SHM_DIR=str(tmp_path))
    r = run("info", "--json", "netmap:cli{3@conf:rings=2,slots=512", env=env)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["backend"], d["tx_rings"], d["rx_slots"], d["admode"]) == ("pipe", 2, 512, "-")
    assert d["mem_id"].startswith("shm:" + str(tmp_path))
    assert os.listdir(tmp_path) == []
    listing = run("info", env=env)
    assert listing.returncode == 0 and listing.stdout.strip() == "no pipes"


@pytest.mark.parametrize(
    "name, needle",
    [
        ("netmap:eth0@", "invalid empty mem_id"),
        ("netmap:eth0-5000", "out of range"),
        ("netmapX:eth0", "no identifier allowed"),
        ("netmap:eth0@conf:ring=4", "unknown key: 'ring'"),
        ("netmap:p{a.b", "invalid pipe name"),
    ],
)
def test_bad_port_names_are_one_line_usage_errors(name, needle):
    assert_one_line_error(run("info", name), 2, name, needle)


def test_unknown_interface():
    assert_one_line_error(
        run("info", "--admode", "packet", "nmtnosuch0"), 1, "nmtnosuch0", "no such interface"
    )


def test_native_admode_without_module():
    if Path("/dev/netmap").exists():
        pytest.skip("this machine has the netmap module")
    r = run("info", "--admode", "native", "eth0")
    assert_one_line_error(r, 1, "netmap kernel module not loaded (/dev/netmap missing)")


def test_admode_env_is_validated():
    env = dict(os.environ, NMTOOLS_ADMODE="bogus")
    r = run("info", "null", env=env)
    assert r.returncode == 2 and "bogus" in r.stderr and "Traceback" not in r.stderr


def test_host_rings_and_vale_say_what_would_work():
    assert_one_line_error(
        run("info", "--admode", "packet", "netmap:lo^"), 1, "host-stack", "netmap:lo"
    )
    assert_one_line_error(run("info", "vale0:a"), 1, "pipe")


def test_traceback_flag_shows_the_stack():
    r = run("--traceback", "info", "netmap:eth0@")
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_python_api_and_cli_agree_on_pipe_listing(tmp_path):
    env = dict(os.environ, NMTOOLS_SHM_DIR=str(tmp_path))
    hold = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from nmtools import open_port; p=open_port('netmap:ls{1');"
            "print('ok', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert hold.stdout is not None and hold.stdout.readline().strip() == "ok"
        r = run("info", env=env)
        assert r.returncode == 0 and "netmap:ls{1" in r.stdout and f"pid {hold.pid}" in r.stdout
    finally:
        hold.kill()
        hold.wait()
    assert run("info", env=env).stdout.strip() == "no pipes"
    assert os.listdir(tmp_path) == []


def test_the_nmtools_name_never_hands_over():
    script = BIN / "nmtools"
    if not script.exists():
        pytest.skip("needs the installed nmtools console script")
    r = subprocess.run([str(script), "-D", "x.so"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "No such option" in r.stderr


@pytest.mark.parametrize(
    "args, needle",
    [
        (["rx", "-i", "null/T"], "-f rx needs rx rings, and null/T is transmit-only (/T)"),
        (["tx", "-i", "null/R"], "-f tx needs tx rings, and null/R is receive-only (/R)"),
        (["ping", "-i", "null/R"], "-f ping needs tx and rx rings"),
    ],
)
def test_one_way_port_without_the_rings_a_function_needs(args, needle, shm):
    assert_one_line_error(run("pkt-gen", *args), 2, needle)

"""Fuzz: nm pkt-gen option values, in-process (nmtools.cli.app.invoke) and as processes.

Every command line must end within a timeout with exit status 0, 1 or 2, no traceback,
no exception escaping the CLI, and when it fails, one `nm: ...` line with nothing that can
drive a terminal; pipes in a private NMTOOLS_SHM_DIR are gone afterwards. Each case is bounded
(-n and -t are added unless the case fuzzes them) and runs against null or a pipe.
Hypothesis runs derandomized (the same cases every run) and keeps no database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nmtools.cli.app import invoke

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TIMEOUT = 20.0
BIN = Path(sys.executable).parent
NM = [str(BIN / "nm")] if (BIN / "nm").exists() else [sys.executable, "-m", "nmtools"]

NASTY = ["", " ", "\x1b[2J", "\udcff", "\x00", "\n", "-", "--", "0", "-0", "1e999", "nan"]
NASTY += ["inf", "-inf", "0x10", "1_000", "١", "9" * 50, "-" + "9" * 50, "1.5", "1e-400"]
small = st.integers(0, 100).map(str)
integers = st.one_of(
    small,
    small,
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["0", "1", "63", "64", "65", "65535", "65536", str(2**32), str(2**64)]),
    st.sampled_from(NASTY),
)
rates = st.one_of(
    st.builds(
        lambda n, unit: f"{n}{unit}",
        st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), integers),
        st.sampled_from(["", "pps", "kpps", "Mpps", "Gpps", "Tpps", "bps", "Gbps", "Tbpsl1", "x"]),
    ),
    st.sampled_from(NASTY),
)
durations = st.one_of(
    st.builds(
        lambda n, unit: f"{n}{unit}",
        st.one_of(st.floats(0, 1e30).map(lambda f: f"{f:f}"), integers),
        st.sampled_from(["", "us", "ms", "s", "m", "h", "min", "d"]),
    ),
    st.sampled_from(NASTY),
)
sizes = st.one_of(
    integers,
    st.builds(lambda a, b: f"{a}-{b}", integers, integers),
    st.sampled_from(["60-1514", "16", "65535", "15", "1514-60"]),
)
mixes = st.one_of(
    st.lists(st.tuples(integers, integers), min_size=1, max_size=4).map(
        lambda p: ",".join(f"{s}:{w}" for s, w in p)
    ),
    st.sampled_from(["simple", "60:99999999999", "60:7,590:99999999999", "60", "60:", ":1"]),
    st.sampled_from(NASTY),
)
addrs = st.one_of(
    st.sampled_from(
        [
            "198.18.0.1",
            "198.18.0.1-198.18.0.9:1-9",
            "198.18.0.0/24:80",
            "[2001:db8::1]:80",
            "2001:db8::/64",
            "198.18.0.1:" + "9" * 5000,
            "10.0.0.300",
            "1.2.3.4-1.2.3.5-1.2.3.6",
        ]
    ),
    st.text(st.sampled_from("0123456789.:-/[]abcdef%@"), max_size=30),
    st.sampled_from(NASTY),
)
macs = st.one_of(
    st.sampled_from(["02:00:00:00:00:01", "0200.0000.0001", "020000000001", "zz:zz"]),
    st.sampled_from(NASTY),
)

VALUED: dict[str, Any] = {
    "-n": integers,
    "-b": integers,
    "-p": integers,
    "-a": integers,
    "-c": integers,
    "-T": integers,
    "-F": integers,
    "-M": integers,
    "--vlan": integers,
    "--seed": integers,
    "--flows": integers,
    "-o": integers,
    "-w": st.one_of(st.floats(allow_nan=True).map(repr), integers),
    "-R": rates,
    "-t": durations,
    "-l": sizes,
    "--mix": mixes,
    "-s": addrs,
    "-d": addrs,
    "-S": macs,
    "-D": macs,
    "-C": st.one_of(st.lists(integers, max_size=5).map(",".join), st.sampled_from(NASTY)),
    "--admode": st.sampled_from(["auto", "packet", "xdp", "native", "PACKET", "", "bogus"]),
}
FLAGS = ["-4", "-6", "-z", "-Z", "-N", "-A", "-B", "-W", "-v", "--imix", "--json"]
FUNCTIONS = ["tx", "txseq", "rx", "rxseq", "ping", "pong"]
PORTS = ["null", "null/T", "netmap:fz{1", "netmap:fz}1@conf:rings=2", "null@conf:slots=8"]


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    func = draw(st.sampled_from(FUNCTIONS))
    argv = ["pkt-gen", func, "-i", draw(st.sampled_from(PORTS))]
    chosen = draw(st.lists(st.sampled_from(sorted(VALUED)), max_size=4, unique=True))
    for opt in chosen:
        argv += [opt, draw(VALUED[opt])]
    argv += draw(st.lists(st.sampled_from(FLAGS), max_size=3, unique=True))
    if "-l" in chosen and draw(st.booleans()):
        argv += ["-l", draw(sizes)]  # pkt-gen's -l given twice
    # every case ends: a count and a duration, unless the case is about them
    if "-n" not in chosen:
        argv += ["-n", "300"]
    if "-t" not in chosen:
        argv += ["-t", "0.05"]
    if "-T" not in chosen:
        argv += ["-T", "10"]
    return argv


@pytest.fixture
def shm(tmp_path, monkeypatch):
    d = tmp_path / "shm"
    d.mkdir()
    monkeypatch.setenv("NMTOOLS_SHM_DIR", str(d))
    monkeypatch.delenv("NMTOOLS_ADMODE", raising=False)
    return d


def within(seconds: float, argv: list[str]) -> int:
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            box["rc"] = invoke(argv)
        except BaseException as e:  # an exception out of the CLI is a failure
            box["error"] = e

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        pytest.fail(f"nm {' '.join(map(repr, argv))} hung for {seconds} s")
    if "error" in box:
        raise AssertionError(f"nm {argv!r} raised {box['error']!r}") from box["error"]
    return int(box["rc"])


def check(argv: list[str], rc: int, out: str, err: str) -> None:
    assert rc in (0, 1, 2), (argv, rc, err)
    assert "Traceback" not in out + err, (argv, err)
    ours = [ln for ln in err.splitlines() if ln.startswith("nm:")]
    if rc:
        assert len(ours) == 1 and err.rstrip("\n").splitlines()[-1] == ours[0], (argv, err)
        assert ours[0].isprintable(), (argv, ours[0])
    else:
        assert not ours, (argv, err)


@FUZZ
@given(command_lines())
def test_pktgen_option_values(shm, capsys, argv):
    rc = within(TIMEOUT, argv)
    out, err = capsys.readouterr()
    check(argv, rc, out, err)
    assert os.listdir(shm) == [], argv


# -- a handful as real processes: argv bytes, the signal handler, the guarded streams ------

PROCESS_CASES = [
    [b"pkt-gen", b"tx", b"-i", b"null", b"-n", b"18446744073709551616"],
    [b"pkt-gen", b"tx", b"-i", b"null", b"-R", b"1e30", b"-n", b"3"],
    [b"pkt-gen", b"tx", b"-i", b"null", b"--mix", b"60:99999999999", b"-n", b"1000"],
    [b"pkt-gen", b"tx", b"-i", b"netmap:\xff{1", b"-n", b"1"],
    [b"pkt-gen", b"tx", b"-i", b"null", b"-s", b"\x1b[2J\xff", b"-n", b"1"],
    [b"pkt-gen", b"txseq", b"-i", b"null", b"-t", b"99999999999999999999", b"-n", b"100"],
    [b"pkt-gen", b"rx", b"-i", b"null@conf:rings=999"],
    [b"pkt-gen", b"tx", b"-i", b"null", b"-R", b"0.001", b"-t", b"0.3", b"--json"],
    [b"pkt-gen", b"tx", b"-i", b"null", b"-l", b"60-1514", b"-F", b"63", b"-n", b"1000"],
    [b"pkt-gen", b"-i", b"does-not-exist"],
]


@pytest.mark.parametrize("argv", PROCESS_CASES, ids=lambda a: b" ".join(a).decode(errors="replace"))
def test_pktgen_as_a_process(shm, argv):
    r = subprocess.run([*NM, *argv], capture_output=True, timeout=TIMEOUT)
    out = r.stdout.decode(errors="replace")
    err = r.stderr.decode(errors="replace")
    check([a.decode(errors="replace") for a in argv], r.returncode, out, err)
    assert os.listdir(shm) == []

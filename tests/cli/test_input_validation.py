"""Bad input to nm: one line that says what was wrong and what would be right, exit 2.

Issue 8's cases: values whose C field would overflow (a traceback before), empty values that
were taken for the option left out, @conf values a port cannot honour (silently changed
before), names that are not UTF-8 text (a traceback), control characters echoed raw, and
the '-' rule of netmap names. Most cases run in-process through nmtools.cli.app.invoke (the
same code as the process, without its signal handler); a few run the real script.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nmtools.cli.app import invoke

BIN = Path(sys.executable).parent
NM = [str(BIN / "nm")] if (BIN / "nm").exists() else [sys.executable, "-m", "nmtools"]
U64 = 2**64


@pytest.fixture(autouse=True)
def shm(tmp_path, monkeypatch):
    d = tmp_path / "shm"
    d.mkdir()
    monkeypatch.setenv("NMTOOLS_SHM_DIR", str(d))
    yield d
    assert os.listdir(d) == []


def one_line(capsys, argv: list[str], code: int = 2) -> str:
    rc = invoke(argv)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert rc == code, (argv, rc, out, err)
    assert len(lines) == 1 and lines[0].startswith("nm: "), (argv, err)
    assert "Traceback" not in err and lines[0].isprintable(), (argv, err)
    return lines[0]


TX = ["pkt-gen", "tx", "-i", "null", "-n", "10"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        # C fields that overflowed: OverflowError tracebacks before
        (["-n", str(U64)], f"{U64} is not in the range 0<=x<={U64 - 1}"),
        (["-b", str(2**32)], "0<=x<=65536"),
        (["--seed", "-1"], f"0<=x<={U64 - 1}"),
        (["--seed", str(U64)], f"0<=x<={U64 - 1}"),
        (["-p", "65"], "1<=x<=64"),
        (["-p", "9" * 30], "1<=x<=64"),
        (["-a", "65536"], "0<=x<=65535"),
        (["-c", "9" * 30], "0<=x<=65536"),
        (["-T", str(2**64)], "10<=x<=3600000"),
        (["-M", "65536"], "0<=x<=65535"),
        (["-o", "-1"], "0<=x<=2147483647"),
        (["-o", str(2**64)], "0<=x<=2147483647"),
        (["--vlan", "4096"], "0<=x<=4095"),
        (["--flows", "65537"], "1<=x<=65536"),
        (["-F", "64"], "1<=x<=63"),
        (["-w", "nan"], "not a number of seconds (0 to 3600)"),
        (["-w", "inf"], "0<=x<=3600"),
        (["-w", "1e400"], "0<=x<=3600"),
        # empty values: taken for the option left out before
        (["-R", ""], "-R '': not a rate"),
        (["-s", ""], "-s '': empty value"),
        (["-d", ""], "-d '': empty value"),
        (["-S", ""], "-S '': not a MAC address"),
        (["-D", ""], "-D '': not a MAC address"),
        (["-t", ""], "-t '': not a duration"),
        (["--mix", ""], "--mix '': empty mix"),
        (["-P", ""], "-P '': empty file name"),
        (["-C", ""], "-C '': expected tx_slots"),
        (["-l", ""], "-l '': not a frame size"),
        # rates and durations that cannot be paced or counted
        (["-R", "1e30"], "-R 1e30: faster than nmtools can pace (rates are 0.001 pps to 10 Gpps"),
        (["-R", "1e-30"], "slower than nmtools can pace"),
        (["-R", "inf"], "not a rate"),
        (["-R", "nan"], "not a rate"),
        (["-R", "-5"], "cannot be negative"),
        (["-t", "9" * 40], "out of range (a duration is 1us to 365 days"),
        (["-t", "0.00000001"], "out of range"),
        (["--mix", "60:7,590:99999999999"], "the weights add up to 100000000006; at most 65536"),
    ],
)
def test_bad_option_values(capsys, extra, needle):
    line = one_line(capsys, [*TX, *extra])
    assert needle in line, line


def test_the_issue_s_mix_runs_as_the_size_it_is(capsys):
    """--mix 60:99999999999 grew memory until the OOM killer: one size is weight 1."""
    assert invoke([*TX, "--mix", "60:99999999999", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"mix": [[60, 1]]' in out


@pytest.mark.parametrize(
    ("port", "needle"),
    [
        ("null@conf:rings=999", "@conf rings=999: out of range (rings is 1..64"),
        ("null@conf:tx_rings=65", "out of range (tx_rings is 1..64"),
        ("null@conf:slots=1", "out of range (slots is 2..65536"),
        ("null@conf:rx_slots=65537", "out of range (rx_slots is 2..65536"),
        ("null@conf:rings=abc", "@conf rings=abc: not a number (rings is 1..64"),
        ("null@conf:rings=-1", "not a number"),
        ("null@conf:slots=", "@conf slots=: empty value"),
        ("null@conf:host_rings=1", "host rings need the netmap kernel module"),
        ("netmap:v{1@conf:rings=65", "out of range (rings is 1..64"),
        ("netmap:v{1@conf:slots=3", "out of range (slots is 4..32768"),
        ("netmap:v{1@conf:slots=32769", "out of range (slots is 4..32768"),
        ("netmap:v{1@conf:tx_rings=2,rx_rings=3", "a pipe has as many tx as rx rings"),
        ("netmap:v{1@conf:tx_slots=64,rx_slots=128", "a pipe has as many tx as rx slots"),
        ("netmap:v}1@conf:host_tx_rings=1", "host rings need the netmap kernel module"),
        ("lo@conf:rings=4", "an interface's rings are its queues, set with ethtool -L lo"),
        ("lo@conf:tx_rings=2", "netmap:lo-N for queue N"),
        ("lo@conf:rx_slots=70000", "out of range (rx_slots is 2..65536"),
        ("lo@conf:host_rings=1", "host rings need the netmap kernel module"),
    ],
)
def test_conf_a_port_cannot_honour_is_refused(capsys, port, needle):
    # a value out of range is a usage error (2); a key no backend here honours, 1
    refused = "host rings" in needle or "queues" in needle or "queue N" in needle
    line = one_line(capsys, ["info", "--admode", "packet", port], code=1 if refused else 2)
    assert line.startswith(f"nm: {port}: ") and needle in line, line


@pytest.mark.parametrize(
    ("port", "rings", "slots"),
    [
        ("null@conf:rings=64,slots=2", 64, 2),
        ("null@conf:rings=0,slots=0", 1, 1024),  # 0: the default, as in netmap
        ("netmap:ok{1@conf:rings=3,slots=4", 3, 4),
        ("netmap:ok{2@conf:tx_rings=2,slots=32768", 2, 32768),
    ],
)
def test_conf_in_range_is_honoured(capsys, port, rings, slots):
    import json

    assert invoke(["info", "--json", port]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["tx_rings"], d["rx_rings"], d["tx_slots"], d["rx_slots"]) == (
        rings,
        rings,
        slots,
        slots,
    )


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("does-not-exist", "does-not-exist: got 'n' while expecting a number; in netmap names"),
        ("does-not-exist", "so a name cannot contain '-' (as in netmap): rename the interface"),
        ("does-not-exist", "ip link set dev does-not-exist name does_not_exist"),
        ("my-nic/T", "ip link set dev my-nic name my_nic, and open my_nic"),
        ("netmap:p{1-x", "(the pipe is p{1)"),
    ],
)
def test_a_dash_in_a_name_says_why(capsys, name, needle):
    line = one_line(capsys, ["pkt-gen", "-i", name])
    assert needle in line, line


@pytest.mark.parametrize(
    "name",
    ["netmap:\udcff{1", "\udcff\udcfe", "a\udc80", "netmap:x{1@conf:rings=\udcff"],
)
def test_names_that_are_not_utf8_are_one_line(capsys, name):
    line = one_line(capsys, ["info", name])
    assert "is not UTF-8 text (port names are UTF-8)" in line
    assert "\\x" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["info", "netmap:a\x1b[2Jb{1@"],
        ["info", "\x1b]0;pwned\x07"],
        ["info", "--admode", "packet", "lo\x1b[31m"],
        ["pkt-gen", "-i", "null", "-s", "\x1b[2J"],
        ["pkt-gen", "-i", "null", "-n", "\x1b[2J"],
        ["pkt-gen", "-i", "null", "-l", "\x1b"],
        ["pkt-gen", "-i", "null", "-f", "\x1b"],
        ["pkt-gen", "-i", "a\x1bb-x"],
        ["help", "\x1b[2J"],
    ],
)
def test_control_characters_are_never_echoed_raw(capsys, argv):
    rc = invoke(argv)
    out, err = capsys.readouterr()
    assert rc in (1, 2) and out == ""
    assert "\x1b" not in err and "\x07" not in err, err
    assert "\\x1b" in err, err
    assert len(err.strip().splitlines()) == 1


# -- the real script: argv as the kernel hands it over -----------------------------------


def run(*args: str | bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NM, *args], capture_output=True, text=True, timeout=60, errors="surrogateescape"
    )


@pytest.mark.parametrize(
    "args",
    [
        (b"info", b"netmap:\xff{1"),
        (b"pkt-gen", b"tx", b"-i", b"\xc3\x28-0", b"-n", b"1"),
        (b"pkt-gen", b"tx", b"-i", b"null", b"-s", b"10.0.0.\xff"),
    ],
)
def test_bytes_that_are_not_utf8_in_argv(args):
    r = run(*args)  # type: ignore[arg-type]
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.isprintable() or r.stderr.endswith("\n")
    assert "\\x" in r.stderr


@pytest.mark.parametrize(
    "extra",
    [["-n", str(U64)], ["-b", str(2**32)], ["--seed", "-1"], ["-R", ""], ["-R", "1e30"]],
)
def test_the_script_refuses_in_one_line(extra):
    r = run(*TX, *extra)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["completion"], "Missing argument '{bash|zsh|fish}'. Choose from: bash, zsh, fish"),
        (["pkt-gen"], "Missing option '-i' / '--interface' (see 'nm pkt-gen --help')"),
        (["info", "a", "b"], "Got unexpected extra argument (b) (see 'nm info --help')"),
        (["pkt-gen", "-i", "x", "-f", "bogus"], "'bogus' is not one of 'tx', 'rx'"),
        (["--traceback", "pkt-gen", "--bogus"], "No such option '--bogus'"),
    ],
)
def test_click_usage_errors_are_one_line(capsys, argv, needle):
    """click prints Usage:, Try ... and Error: on three lines, a list of choices on more."""
    line = one_line(capsys, argv)
    assert needle in line, line


@pytest.mark.root
@pytest.mark.parametrize(
    ("admode", "conf", "want"),
    [
        ("packet", "tx_slots=100,rx_slots=200", (100, 200)),
        ("xdp", "tx_slots=100,rx_slots=3000", (128, 4096)),  # AF_XDP rings: powers of two
    ],
)
def test_conf_slots_are_honoured_on_interfaces(netns, nm, admode, conf, want):
    import json

    na, _ = netns.veth()
    r = nm.run("info", "--json", "--admode", admode, f"nma@conf:{conf}", ns=na)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["backend"], d["tx_slots"], d["rx_slots"]) == (admode, *want)

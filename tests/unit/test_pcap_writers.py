"""nmtools.pcap reads what other programs write: editcap, tshark, tcpdump, mergecap.

The source is a nanosecond pcap built byte by byte (tshark reads it as built: see
test_pcap.py); each tool rewrites it in its own way, and the reader must give back the same
packets and times (to the microsecond where the tool's format keeps no more).
"""

from __future__ import annotations

import subprocess

import pytest

from nmtools import pcap
from tests.conftest import foreign_env

from .test_pcap import FRAMES, TS_NS, classic, us

TOOLS = ("editcap", "tshark", "tcpdump", "mergecap")
pytestmark = pytest.mark.tools(*TOOLS)

SECOND = [f[::-1][: max(14, len(f) // 2)] for f in FRAMES[:3]]
SECOND_TS = [t + 777 for t in TS_NS[:3]]


def run(*cmd: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=foreign_env())
    assert r.returncode == 0, (cmd, r.stderr)


@pytest.fixture
def source(tmp_path):
    src = tmp_path / "src.pcap"
    src.write_bytes(classic(nano=True))
    return str(src)


# (output name, command given source and output, timestamps kept to the ns)
WRITERS = [
    ("editcap.pcap", lambda s, o: ["editcap", "-F", "pcap", s, o], False),
    ("editcap-ns.pcap", lambda s, o: ["editcap", "-F", "nsecpcap", s, o], True),
    ("editcap.pcapng", lambda s, o: ["editcap", "-F", "pcapng", s, o], True),
    ("tshark.pcapng", lambda s, o: ["tshark", "-r", s, "-F", "pcapng", "-w", o], True),
    ("tshark.pcap", lambda s, o: ["tshark", "-r", s, "-F", "pcap", "-w", o], False),
    ("tcpdump.pcap", lambda s, o: ["tcpdump", "-Z", "root", "-r", s, "-w", o], False),
    (
        "tcpdump-ns.pcap",
        lambda s, o: [
            "tcpdump",
            "-Z",
            "root",
            "--time-stamp-precision=nano",
            "-r",
            s,
            "-w",
            o,
        ],
        True,
    ),
]


@pytest.mark.parametrize("name, cmd, nano", WRITERS, ids=[w[0] for w in WRITERS])
def test_files_other_tools_wrote_read_back_identical(tmp_path, source, name, cmd, nano):
    out = str(tmp_path / name)
    run(*cmd(source, out))
    tr = pcap.read(out)
    assert tr.format == ("pcapng" if name.endswith("pcapng") else "pcap-ns" if nano else "pcap")
    assert tr.packets() == FRAMES
    assert list(tr.timestamps()) == (TS_NS if nano else us(TS_NS))
    assert list(tr.origlens) == [len(f) for f in FRAMES]
    tr.check_sendable()


def test_mergecap_two_interfaces_interleaved_by_time(tmp_path, source):
    """mergecap -I none keeps one interface a file: packets name interfaces 0 and 1."""
    other = tmp_path / "other.pcap"
    other.write_bytes(classic(frames=SECOND, ts=SECOND_TS, nano=True))
    out = str(tmp_path / "merged.pcapng")
    run("mergecap", "-I", "none", "-F", "pcapng", "-w", out, source, str(other))
    tr = pcap.read(out)
    want = sorted(
        [*zip(TS_NS, FRAMES, strict=True), *zip(SECOND_TS, SECOND, strict=True)],
        key=lambda x: x[0],
    )
    assert list(zip(tr.timestamps(), tr.packets(), strict=True)) == want


def test_concatenated_pcapng_files_are_sections(tmp_path, source):
    a, b = str(tmp_path / "a.pcapng"), str(tmp_path / "b.pcapng")
    run("editcap", "-F", "pcapng", source, a)
    other = tmp_path / "other.pcap"
    other.write_bytes(classic(frames=SECOND, ts=SECOND_TS, nano=True))
    run("tshark", "-r", str(other), "-F", "pcapng", "-w", b)
    both = tmp_path / "both.pcapng"
    both.write_bytes((tmp_path / "a.pcapng").read_bytes() + (tmp_path / "b.pcapng").read_bytes())
    tr = pcap.read(str(both))
    assert tr.packets() == FRAMES + SECOND
    assert list(tr.timestamps()) == TS_NS + SECOND_TS


def test_snapped_capture_is_refused_for_sending(tmp_path, source):
    """editcap -s 32 cuts every packet: they read, but cannot be sent as captured."""
    out = str(tmp_path / "snap.pcap")
    run("editcap", "-F", "pcap", "-s", "32", source, out)
    tr = pcap.read(out)
    assert list(tr.caplens) == [min(32, len(f)) for f in FRAMES]
    with pytest.raises(pcap.PcapError, match="packet 1 at byte 24: only 32 of its 60 bytes"):
        tr.check_sendable()

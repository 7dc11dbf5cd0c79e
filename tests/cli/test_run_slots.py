"""A frame that needs more slots than a tx ring holds is refused at start, in one line that
says what would fit (it spun a core at 0 pps forever)."""

from __future__ import annotations

import os
import struct

import pytest

from tests.unit.test_pcap import pcap_header


@pytest.mark.parametrize(
    "port, args, needle",
    [
        (
            "null",
            ["-M", "1", "-l", "2000"],
            "-l 2000: a 2000-byte frame takes 2000 slots of 1 byte, and a tx ring of null "
            "holds 1023 at once (1024 slots); use a larger -M (2 to 2048) or more slots "
            "(@conf:slots=2048 in the port name)",
        ),
        ("null", ["-M", "1", "-l", "1024"], "takes 1024 slots of 1 byte"),
        (
            "null@conf:slots=4",
            ["-l", "9000"],
            "-l 9000: a 9000-byte frame takes 5 slots of 2048 bytes, and a tx ring of "
            "null@conf:slots=4 holds 3 at once (4 slots); use more slots (@conf:slots=8",
        ),
        (
            "null@conf:slots=8",
            ["-F", "63", "-l", "1000"],
            "takes 63 slots of 16 bytes, and a tx ring of null@conf:slots=8 holds 7 at once "
            "(8 slots); use fewer -F (at most 7) or more slots (@conf:slots=64",
        ),
        ("null@conf:slots=4", ["--mix", "60:1,9000:1"], "the mix: a 9000-byte frame takes 5"),
    ],
)
def test_frames_a_ring_cannot_hold_are_refused(nm, port, args, needle):
    r = nm.run("pkt-gen", "tx", "-i", port, "-n", "3", *args, timeout=30)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr


def test_a_huge_packet_in_a_trace_is_refused(nm, tmp_path):
    path = tmp_path / "big.pcap"
    frame = b"\xff" * 6 + b"\x02" + bytes(5) + b"\x88\xb5" + bytes(3_000_000 - 14)
    path.write_bytes(pcap_header() + struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame)
    r = nm.run("pkt-gen", "tx", "-i", "null", "-n", "1", "-P", str(path), timeout=30)
    assert r.returncode == 2
    assert r.stderr.strip() == (
        f"nm: -P {path}: its longest packet (3000000 bytes) takes 1465 slots of 2048 bytes, "
        "and a tx ring of null holds 1023 at once (1024 slots); use more slots "
        "(@conf:slots=2048 in the port name)"
    )


@pytest.mark.parametrize(
    "port, args, length",
    [
        ("null@conf:slots=4", ["-l", "6000"], 6000),  # 3 slots: just fits
        ("null", ["-M", "1", "-l", "1023"], 1023),
        ("null@conf:slots=8", ["-F", "7", "-l", "1000"], 1000),
    ],
)
def test_frames_that_just_fit_are_sent(nm, port, args, length):
    r = nm.run("pkt-gen", "tx", "-i", port, "-n", "5", *args, "--json", timeout=30)
    assert r.returncode == 0, r.stderr
    s = nm.summary(r.stdout)
    assert s["pkts"] == 5 and s["bytes"] == 5 * length


def test_ping_frames_longer_than_a_buffer_are_refused(nm, shm):
    """ping writes each request in one slot: a 5000-byte one overran its 2048-byte buffer."""
    r = nm.run("pkt-gen", "ping", "-i", "netmap:pl{1", "-n", "3", "-l", "5000", timeout=30)
    assert r.returncode == 2
    assert "does not fit in one 2048-byte buffer" in r.stderr and "-l 2048 or less" in r.stderr
    assert os.listdir(shm) == []

"""nm pkt-gen tx -P: every valid trace is sent as it is; a damaged one is refused in one line
that names the record; the file is read once however many threads send it."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import pytest

from tests.unit.test_pcap import FRAMES, classic, epb, idb, pcap_header, pcap_record, shb, spb

RECEIVER = (
    "import sys, json\n"
    "from nmtools import open_port\n"
    "n = int(sys.argv[2])\n"
    "with open_port(sys.argv[1]) as p:\n"
    "    print('ready', flush=True); out = []\n"
    "    while len(out) < n: out += p.recv(timeout=10)\n"
    "    print(json.dumps([f.hex() for f in out]))"
)


def receive(name: str, n: int) -> subprocess.Popen[str]:
    p = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, name, str(n)], stdout=subprocess.PIPE, text=True
    )
    assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    return p


def received(p: subprocess.Popen[str]) -> list[bytes]:
    out, _ = p.communicate(timeout=30)
    return [bytes.fromhex(h) for h in json.loads(out)]


SENDABLE = FRAMES[:6]  # 60..1514 bytes


@pytest.mark.parametrize(
    "name, data",
    [
        ("be.pcap", classic(SENDABLE, list(range(6)), order=">", nano=True)),
        (
            "be.pcapng",
            shb(">") + idb(">") + b"".join(epb(">", 0, i, f) for i, f in enumerate(SENDABLE)),
        ),
        ("spb.pcapng", shb("<") + idb("<") + b"".join(spb("<", f) for f in SENDABLE)),
        (
            "sections.pcapng",
            shb(">")
            + idb(">")
            + epb(">", 0, 1, SENDABLE[0])
            + shb("<")
            + idb("<", tsresol=9)
            + b"".join(epb("<", 0, i, f) for i, f in enumerate(SENDABLE[1:])),
        ),
    ],
)
def test_every_valid_format_is_sent_as_it_is(nm, shm, tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    rx = receive("netmap:pf}1", 9)
    tx = nm.run("pkt-gen", "tx", "-i", "netmap:pf{1", "-n", "9", "-P", str(path))
    assert tx.returncode == 0, tx.stderr
    assert received(rx) == [SENDABLE[k % 6] for k in range(9)]
    assert os.listdir(shm) == []


def records(frames, origs=None) -> bytes:
    out = pcap_header()
    for i, f in enumerate(frames):
        out += pcap_record("<", i * 1000, f, False, None if origs is None else origs[i])
    return out


@pytest.mark.parametrize(
    "data, needle",
    [
        # the last record is cut short by the end of the file (was sent 40 bytes long)
        (
            records(SENDABLE[:3])[:-22],
            "packet 3 at byte 177: the record says 62 bytes were captured, the file ends after 40",
        ),
        # an empty record (was sent as an empty frame)
        (records([SENDABLE[0], b"", SENDABLE[1]]), "packet 2 at byte 100: an empty record"),
        (
            records([SENDABLE[0], SENDABLE[1][:10]]),
            "packet 2 at byte 100: 10 bytes, shorter than an Ethernet header",
        ),
        # snapped by the capture (was sent 96 bytes long, its IP header saying 1500)
        (
            records([SENDABLE[0], SENDABLE[5][:96]], [60, 1514]),
            "packet 2 at byte 100: only 96 of its 1514 bytes",
        ),
        (
            classic(SENDABLE, list(range(6)), linktype=113),
            "link type 113 (Linux cooked (SLL, tcpdump -i any))",
        ),
        # a big-endian pcapng with a damaged block (was refused with an empty reason "()")
        (
            (shb(">") + idb(">") + epb(">", 0, 1, SENDABLE[0]))[:-6],
            "block 3 at byte 48: the block says 92 bytes, the file ends after 86",
        ),
        (shb() + idb(), "the file has no packets"),
        (b"", "the file is empty"),
    ],
)
def test_damaged_traces_are_refused_in_one_line(nm, shm, tmp_path, data, needle):
    path = tmp_path / "bad.pcap"
    path.write_bytes(data)
    r = nm.run("pkt-gen", "tx", "-i", "netmap:pb{1", "-n", "10", "-P", str(path))
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"nm: -P {path}: "), r.stderr
    assert needle in lines[0], lines[0]
    assert os.listdir(shm) == []


def test_a_fifo_is_refused_not_waited_on(nm, shm, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = nm.run("pkt-gen", "tx", "-i", "null", "-n", "1", "-P", str(fifo), timeout=20)
    assert r.returncode != 0 and "not a regular file" in r.stderr


def test_threads_share_one_reading_of_the_file(nm, shm, tmp_path):
    """-p 2 on a 2-ring pipe: each thread cycles through every packet of the file."""
    path = tmp_path / "t.pcap"
    path.write_bytes(classic(SENDABLE, list(range(6))))
    rx = nm.start(
        "pkt-gen", "rx", "-i", "netmap:pt}1@conf:rings=2", "-p", "2", "-n", "12000", "--json"
    )
    from tests.cli.test_pktgen_pipe import wait_ready

    wait_ready(shm)
    tx = nm.run(
        "pkt-gen", "tx", "-i", "netmap:pt{1", "-p", "2", "-n", "12000", "-P", str(path), "--json"
    )
    assert tx.returncode == 0, tx.stderr
    r = nm.summary(rx.communicate(timeout=60)[0])
    t = nm.summary(tx.stdout)
    assert t["pkts"] == r["pkts"] == 12000
    assert t["bytes"] == r["bytes"] == 2000 * sum(len(f) for f in SENDABLE)


def test_a_large_trace_is_read_in_linear_time(nm, shm, tmp_path):
    """200 000 packets start sending (and -n 1 ends) in seconds, not minutes: the former
    reader was quadratic (20 000 packets took 8.9 s). Not a speed benchmark: bench/ has
    the curve; this only catches a return of the quadratic."""
    n = 200_000
    path = tmp_path / "big.pcap"
    rec = struct.pack("<IIII", 1, 2, 60, 60) + SENDABLE[0]
    path.write_bytes(pcap_header() + rec * n)
    r = nm.run("pkt-gen", "tx", "-i", "null", "-n", "1", "-P", str(path), "--json", timeout=60)
    assert r.returncode == 0, r.stderr
    assert nm.summary(r.stdout)["pkts"] == 1

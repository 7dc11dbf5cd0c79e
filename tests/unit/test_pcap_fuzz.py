"""Fuzzing nmtools.pcap: damaged files give a Trace within bounds or one PcapError line,
never another exception, and never a hang."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nmtools import pcap
from nmtools.pcap import PcapError

from .test_pcap import FRAMES, TS_NS, classic, epb, idb, opb, pcapng, shb, spb

SEEDS = [
    classic(),
    classic(order=">", nano=True),
    pcapng("<"),
    pcapng(">"),
    shb(">") + idb(">", snaplen=100) + b"".join(spb(">", f) for f in FRAMES),
    shb() + idb(tsresol=0x85) + idb(linktype=113) + opb("<", 0, 3, FRAMES[0]),
    shb() + idb() + epb("<", 0, 1, FRAMES[1]) + shb(">") + idb(">") + epb(">", 0, 2, FRAMES[2]),
]

edits = st.lists(
    st.tuples(
        st.sampled_from(["flip", "cut", "insert", "word"]),
        st.integers(min_value=0, max_value=1 << 16),
        st.integers(min_value=0, max_value=0xFFFFFFFF),
    ),
    min_size=1,
    max_size=6,
)


def mutate(data: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    b = bytearray(data)
    for op, pos, val in ops:
        if not b:
            break
        i = pos % len(b)
        if op == "flip":
            b[i] ^= 1 << (val % 8)
        elif op == "cut":
            del b[i:]
        elif op == "insert":
            b[i:i] = val.to_bytes(4, "little")[: 1 + val % 4]
        else:  # overwrite a 32-bit word: lengths, types, interface ids
            b[i : i + 4] = val.to_bytes(4, "little" if val & 1 else "big")
    return bytes(b)


@settings(
    max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.sampled_from(range(len(SEEDS))), ops=edits)
def test_damaged_files_are_read_within_bounds_or_refused_in_one_line(tmp_path, seed, ops):
    data = mutate(SEEDS[seed], ops)
    path = tmp_path / "f.pcap"
    path.write_bytes(data)
    try:
        tr = pcap.read(str(path), linktypes=None)
    except PcapError as e:
        assert str(e) and "\n" not in str(e)
        return
    n = len(tr)
    if tr.format == "pcapng":  # the fast path for runs of packet blocks reads as the slow one
        slow = pcap._walk_pcapng(data, len(data), None, True)
        assert (slow[0], slow[1], slow[2], slow[3]) == (
            tr.offsets,
            tr.caplens,
            tr.origlens,
            tr.timestamps(),
        )
    assert len(tr.caplens) == len(tr.origlens) == len(tr.timestamps()) == n
    for off, cap in zip(tr.offsets, tr.caplens, strict=True):
        assert 0 < off <= len(data) and off + cap <= len(data)
    try:
        tr.check_sendable()
    except PcapError as e:
        assert str(e).startswith("packet ") and "\n" not in str(e)
    tr.close()


def test_seeds_are_valid(tmp_path):
    for i, data in enumerate(SEEDS):
        p = tmp_path / f"{i}.pcap"
        p.write_bytes(data)
        assert len(pcap.read(str(p), linktypes=None)) > 0
    assert TS_NS

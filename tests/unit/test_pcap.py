"""nmtools.pcap: every format case built byte by byte, checked against tshark's reading.

Each valid file is also read by tshark (an independent reader): both must see the same
packets, lengths and timestamps. Each invalid file must be refused with one line that names
the record (packet number counted from 1, byte offset) and what is wrong.
"""

from __future__ import annotations

import errno
import json
import shutil
import struct
import subprocess
from decimal import Decimal

import pytest

from nmtools import pcap
from nmtools.pcap import PcapError
from tests.conftest import foreign_env

TSHARK = shutil.which("tshark")
CAPINFOS = shutil.which("capinfos")
needs_capinfos = pytest.mark.tools("capinfos")


@pytest.mark.tools("tshark")
def test_tshark_is_here():
    """The reads below compare with tshark where it is installed; CI must have it."""
    assert TSHARK


def frame(n: int, size: int) -> bytes:
    """An Ethernet frame of `size` bytes, different for every n."""
    head = bytes([2, 0, 0, 0, 0, n & 0xFF]) + bytes([2, 0, 0, 0, 1, n & 0xFF]) + b"\x88\xb5"
    body = bytes((n * 7 + i) & 0xFF for i in range(max(0, size - 14)))
    return (head + body)[:size]


FRAMES = [frame(i, s) for i, s in enumerate([60, 61, 62, 63, 64, 1514, 14, 99, 1000])]
TS_NS = [1_700_000_000_123_456_789 + i * 1_000_001_001 for i in range(len(FRAMES))]


# ---- classic pcap, by hand -------------------------------------------------------------------


def pcap_header(order: str = "<", nano: bool = False, linktype: int = 1, snaplen=65535) -> bytes:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    return struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(order: str, ts_ns: int, data: bytes, nano: bool, orig: int | None = None) -> bytes:
    sec, ns = divmod(ts_ns, 1_000_000_000)
    frac = ns if nano else ns // 1000
    orig = len(data) if orig is None else orig
    return struct.pack(order + "IIII", sec, frac, len(data), orig) + data


def classic(frames=FRAMES, ts=TS_NS, order="<", nano=False, linktype=1) -> bytes:
    out = pcap_header(order, nano, linktype)
    for t, f in zip(ts, frames, strict=True):
        out += pcap_record(order, t, f, nano)
    return out


# ---- pcapng, by hand -----------------------------------------------------------------------


def pad4(b: bytes) -> bytes:
    return b + bytes(-len(b) % 4)


def block(order: str, btype: int, body: bytes) -> bytes:
    body = pad4(body)
    n = len(body) + 12
    return struct.pack(order + "II", btype, n) + body + struct.pack(order + "I", n)


def option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + pad4(value)


def shb(order: str = "<", options: bytes = b"", major: int = 1) -> bytes:
    body = struct.pack(order + "IHHq", 0x1A2B3C4D, major, 0, -1) + options
    return block(order, 0x0A0D0D0A, body)


def idb(order="<", linktype=1, snaplen=0, tsresol: int | None = None, tsoffset: int | None = None):
    opts = b""
    if tsresol is not None:
        opts += option(order, 9, bytes([tsresol]))
    if tsoffset is not None:
        opts += option(order, 14, struct.pack(order + "q", tsoffset))
    if opts:
        opts += struct.pack(order + "HH", 0, 0)
    return block(order, 1, struct.pack(order + "HHI", linktype, 0, snaplen) + opts)


def epb(order: str, iface: int, units: int, data: bytes, orig: int | None = None) -> bytes:
    orig = len(data) if orig is None else orig
    body = struct.pack(order + "IIIII", iface, units >> 32, units & 0xFFFFFFFF, len(data), orig)
    return block(order, 6, body + data)


def opb(order: str, iface: int, units: int, data: bytes) -> bytes:
    body = struct.pack(
        order + "HHIIII", iface, 0, units >> 32, units & 0xFFFFFFFF, len(data), len(data)
    )
    return block(order, 2, body + data)


def spb(order: str, data: bytes, orig: int | None = None) -> bytes:
    orig = len(data) if orig is None else orig
    return block(order, 3, struct.pack(order + "I", orig) + data)


def pcapng(order: str = "<", frames=FRAMES, ts=TS_NS) -> bytes:
    out = shb(order) + idb(order)
    for t, f in zip(ts, frames, strict=True):
        out += epb(order, 0, t // 1000, f)
    return out


# ---- helpers -------------------------------------------------------------------------------


def write(tmp_path, data: bytes, name: str = "t.pcap") -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def view(tr: pcap.Trace) -> list[tuple[int, int, int, bytes]]:
    ts = tr.timestamps()
    return [(ts[i], tr.caplens[i], tr.origlens[i], tr.packet(i)) for i in range(len(tr))]


def tshark_view(path: str) -> list[tuple[int, int, int, bytes]]:
    """(time ns or -1, captured, on the wire, bytes) of every packet, as tshark reads them."""
    r = subprocess.run(
        [TSHARK, "-r", path, "-T", "json", "-x"],
        capture_output=True,
        text=True,
        timeout=60,
        env=foreign_env(),
    )
    assert r.returncode == 0, r.stderr
    out = []
    for p in json.loads(r.stdout or "[]"):
        layers = p["_source"]["layers"]
        fr = layers["frame"]
        if not fr["frame.protocols"].startswith("eth"):
            continue  # tshark shows other records (custom blocks ...) as frames too
        epoch = fr.get("frame.time_epoch")  # none for simple packet blocks
        ns = int(Decimal(epoch) * 1_000_000_000) if epoch is not None else -1
        raw = bytes.fromhex(layers["frame_raw"][0]) if "frame_raw" in layers else b""
        out.append((ns, int(fr["frame.cap_len"]), int(fr["frame.len"]), raw))
    return out


def wiretap_refuses(path: str) -> bool:
    """Whether Wireshark's file library finds the file damaged (capinfos starts fast)."""
    r = subprocess.run(
        [CAPINFOS, "-c", path], capture_output=True, text=True, timeout=60, env=foreign_env()
    )
    return r.returncode != 0


def refused(path: str, **kw) -> str:
    with pytest.raises(PcapError) as info:
        pcap.read(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg and msg
    assert info.value.errno == errno.EINVAL
    return msg


def us(ts: list[int]) -> list[int]:
    return [t // 1000 * 1000 for t in ts]


# ---- valid files -----------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_classic_both_orders_and_resolutions(tmp_path, order, nano):
    path = write(tmp_path, classic(order=order, nano=nano))
    tr = pcap.read(path)
    assert tr.format == ("pcap-ns" if nano else "pcap") and tr.linktype == 1
    want_ts = TS_NS if nano else us(TS_NS)
    assert view(tr) == [(t, len(f), len(f), f) for t, f in zip(want_ts, FRAMES, strict=True)]
    assert tr.offsets.typecode == "Q" and tr.caplens.typecode == "I"
    assert tr.timestamps().typecode == "q"
    if TSHARK:
        assert tshark_view(path) == view(tr)


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_enhanced_blocks_both_orders(tmp_path, order):
    path = write(tmp_path, pcapng(order), "t.pcapng")
    tr = pcap.read(path)
    assert tr.format == "pcapng"
    assert view(tr) == [(t, len(f), len(f), f) for t, f in zip(us(TS_NS), FRAMES, strict=True)]
    if TSHARK:
        assert tshark_view(path) == view(tr)


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_simple_blocks(tmp_path, order):
    """SPBs: no timestamp, no interface id; the snap length of interface 0 cuts them."""
    data = shb(order) + idb(order, snaplen=0)
    data += b"".join(spb(order, f) for f in FRAMES)
    path = write(tmp_path, data, "s.pcapng")
    tr = pcap.read(path)
    assert tr.packets() == FRAMES
    assert list(tr.caplens) == list(tr.origlens) == [len(f) for f in FRAMES]
    assert tr.untimed == len(FRAMES)
    if TSHARK:
        assert [(c, o, b) for _, c, o, b in tshark_view(path)] == [
            (c, o, b) for _, c, o, b in view(tr)
        ]
    # snap length 64: a 1514-byte packet holds 64 bytes and says it was cut
    cut = shb(order) + idb(order, snaplen=64) + spb(order, FRAMES[5][:64], orig=1514)
    tr = pcap.read(write(tmp_path, cut, "cut.pcapng"))
    assert (tr.caplens[0], tr.origlens[0], tr.packet(0)) == (64, 1514, FRAMES[5][:64])
    with pytest.raises(PcapError, match=r"packet 1 at byte 48: only 64 of its 1514 bytes"):
        tr.check_sendable()


def test_pcapng_obsolete_packet_blocks(tmp_path):
    for order in "<>":
        data = shb(order) + idb(order) + idb(order)
        data += b"".join(
            opb(order, i % 2, t // 1000, f)
            for i, (t, f) in enumerate(zip(TS_NS, FRAMES, strict=True))
        )
        path = write(tmp_path, data, f"o{order == '<'}.pcapng")
        tr = pcap.read(path)
        assert tr.packets() == FRAMES and list(tr.timestamps()) == us(TS_NS)
        if TSHARK:
            assert tshark_view(path) == view(tr)


@pytest.mark.parametrize(
    "tsresol, tsoffset, unit_ns",
    [
        (9, None, 1),  # nanoseconds
        (3, None, 1_000_000),  # milliseconds
        (0x80 | 20, None, None),  # 2^-20 s
        (6, 1000, 1000),  # microseconds, plus 1000 s
    ],
)
def test_pcapng_interface_resolution_and_offset(tmp_path, tsresol, tsoffset, unit_ns):
    order = "<"
    units = [1_000_000 + 12_345 * i for i in range(len(FRAMES))]
    data = shb(order) + idb(order, tsresol=tsresol, tsoffset=tsoffset)
    data += b"".join(epb(order, 0, u, f) for u, f in zip(units, FRAMES, strict=True))
    path = write(tmp_path, data, "r.pcapng")
    tr = pcap.read(path)
    if unit_ns is None:
        want = [u * 1_000_000_000 // (1 << 20) for u in units]
    else:
        want = [u * unit_ns + (tsoffset or 0) * 1_000_000_000 for u in units]
    assert list(tr.timestamps()) == want
    if TSHARK:
        # tshark prints 9 decimals: binary fractions round there
        theirs = tshark_view(path)
        assert all(abs(a[0] - b) <= 1 for a, b in zip(theirs, want, strict=True))
        assert [x[1:] for x in theirs] == [x[1:] for x in view(tr)]


def test_pcapng_several_sections_in_both_orders_and_unknown_blocks(tmp_path):
    """Concatenated files are sections: each has its byte order and interfaces. Blocks
    we do not use (name resolution, statistics, custom, decryption secrets) are skipped."""
    a, b = FRAMES[:4], FRAMES[4:]
    ta, tb = TS_NS[:4], TS_NS[4:]
    data = shb("<") + idb("<", tsresol=9)
    data += block("<", 4, struct.pack("<HH", 0, 0))  # name resolution, empty
    data += b"".join(epb("<", 0, t, f) for t, f in zip(ta, a, strict=True))
    data += block("<", 5, struct.pack("<III", 0, 0, 0))  # interface statistics
    data += block("<", 0x00000BAD, struct.pack("<I", 32473) + b"custom")
    data += shb(">") + idb(">", linktype=1) + idb(">", tsresol=9)
    data += b"".join(epb(">", 1, t, f) for t, f in zip(tb, b, strict=True))
    data += block(">", 0x0000000A, struct.pack(">II", 0x544C534B, 0))  # DSB, empty
    path = write(tmp_path, data, "multi.pcapng")
    tr = pcap.read(path)
    assert view(tr) == [(t, len(f), len(f), f) for t, f in zip(TS_NS, FRAMES, strict=True)]
    if TSHARK:
        assert tshark_view(path) == view(tr)


def test_options_in_the_section_header_are_skipped(tmp_path):
    opts = option("<", 2, b"x86_64 test") + option("<", 4, b"byte by byte") + b"\0\0\0\0"
    data = shb("<", options=opts) + idb("<") + epb("<", 0, 5, FRAMES[0])
    assert pcap.read(write(tmp_path, data, "o.pcapng")).packets() == [FRAMES[0]]


def test_a_file_without_packets_reads_as_empty(tmp_path):
    assert len(pcap.read(write(tmp_path, pcap_header()))) == 0
    assert len(pcap.read(write(tmp_path, shb() + idb(), "e.pcapng"))) == 0


def test_non_ethernet_interfaces_without_packets_do_no_harm(tmp_path):
    data = shb() + idb(linktype=113) + idb() + epb("<", 1, 7, FRAMES[0])
    assert pcap.read(write(tmp_path, data, "x.pcapng")).packets() == [FRAMES[0]]


def test_any_link_type_when_asked(tmp_path):
    tr = pcap.read(write(tmp_path, classic(linktype=113)), linktypes=None)
    assert tr.linktype == 113 and len(tr) == len(FRAMES)
    loop = shb() + idb(linktype=0) + epb("<", 0, 1, FRAMES[0])
    assert pcap.read(write(tmp_path, loop, "l.pcapng"), linktypes=None).linktype == 0


def test_arrays_are_what_c_takes(tmp_path):
    tr = pcap.read(write(tmp_path, classic()))
    assert list(pcap.offsets32(tr)) == list(tr.offsets)
    assert tr.max_caplen == 1514 and tr.total_bytes == sum(map(len, FRAMES))
    # each offset points at the packet in the file itself: no copy was made
    raw = (tmp_path / "t.pcap").read_bytes()
    assert all(raw[o : o + c] == f for o, c, f in zip(tr.offsets, tr.caplens, FRAMES, strict=True))


# ---- refused files ---------------------------------------------------------------------------


def good_classic() -> bytes:
    return classic(frames=FRAMES[:3], ts=TS_NS[:3])


REC = [24, 24 + 16 + 60, 24 + 16 + 60 + 16 + 61]  # where the records of good_classic start


CLASSIC_REFUSALS = [
    # (tshark guesses among many formats: it is no judge of what is not a pcap at all)
    (b"", "the file is empty", False),
    (b"\xd4\xc3\xb2", "not a pcap or pcapng file (magic 0xd4c3b2)", False),
    (b"\xd4\xc3\xb2\xa1\x02\x00", "file header is cut short (6 of 24 bytes)", True),
    (b"hello world, this is text\n", "not a pcap or pcapng file (magic 0x68656c6c)", True),
    (b"\x1f\x8b\x08\x00" + bytes(40), "compressed (gzip): gunzip it first", False),
    (b"\x34\xcd\xb2\xa1" + bytes(20), "modified (Kuznetsov) pcap", False),
    (
        struct.pack("<IHHiIII", 0xA1B2C3D4, 3, 0, 0, 0, 65535, 1),
        "pcap version 3.0",
        False,
    ),
    # the last record's data runs past the end
    (good_classic()[:-10], f"packet 3 at byte {REC[2]}: the record says 62 bytes", True),
    # a record header cut short
    (
        good_classic() + b"\x01\x02\x03",
        f"packet 4 at byte {REC[2] + 16 + 62}: the record header is cut short (3 of 16",
        True,
    ),
    # a caplen far beyond the file
    (
        good_classic()[: REC[1] + 8]
        + struct.pack("<I", 0x7FFFFFFF)
        + good_classic()[REC[1] + 12 :],
        f"packet 2 at byte {REC[1]}: the record says 2147483647 bytes",
        True,
    ),
    (
        classic(linktype=113),
        "link type 113 (Linux cooked (SLL, tcpdump -i any)); only link type 1 (Ethernet)",
        False,
    ),
    (classic(linktype=101, order=">"), "link type 101 (raw IP)", False),
]


@pytest.mark.parametrize("data, needle, tshark_too", CLASSIC_REFUSALS)
def test_classic_refusals(tmp_path, data, needle, tshark_too):
    assert needle in refused(write(tmp_path, data))


def ng_parts(order: str = "<") -> list[bytes]:
    return [shb(order), idb(order), epb(order, 0, 1, FRAMES[0]), epb(order, 0, 2, FRAMES[1])]


def ng(parts: list[bytes]) -> bytes:
    return b"".join(parts)


def at(parts: list[bytes], k: int) -> int:
    return sum(map(len, parts[:k]))


def patch(b: bytes, off: int, fmt: str, value: int) -> bytes:
    return b[:off] + struct.pack(fmt, value) + b[off + struct.calcsize(fmt) :]


def ng_refusals() -> list[tuple[bytes, str, bool]]:
    p = ng_parts()
    e3 = at(p, 2)  # first EPB
    e4 = at(p, 3)
    full = ng(p)
    big = ng_parts(">")
    cases = [
        (full[: e4 + 20], f"block 4 at byte {e4}: the block says", True),
        (full[: e4 + 7], f"block 4 at byte {e4}: the block header is cut short (7 of 12", True),
        (patch(full, e3 + 4, "<I", 13), f"block 3 at byte {e3}: block length 13", True),
        (patch(full, e3 + 4, "<I", 8), f"block 3 at byte {e3}: block length 8", True),
        (patch(full, e3 + 4, "<I", 0), f"block 3 at byte {e3}: block length 0", True),
        (
            patch(full, e4 - 4, "<I", 96),
            f"block 3 at byte {e3}: the block's length is {len(p[2])} at its start and 96",
            True,
        ),
        # the interface a packet names does not exist
        (patch(full, e3 + 8, "<I", 1), f"block 3 at byte {e3}: packet 1 names interface 1", True),
        # captured length beyond its block
        (
            patch(full, e4 + 20, "<I", 200),
            f"block 4 at byte {e4}: packet 2 says 200 bytes were captured, its block holds 64",
            True,
        ),
        (
            ng([shb(), spb("<", FRAMES[0])]),
            "block 2 at byte 28: packet 1: a simple packet block needs interface 0",
            True,
        ),
        (
            ng([shb(), idb(), spb("<", FRAMES[0][:40], orig=60)]),
            "block 3 at byte 48: packet 1 is 60 bytes long, its block holds 40",
            True,
        ),
        (
            ng([idb(), epb("<", 0, 1, FRAMES[0])]),
            "not a pcap or pcapng file (magic 0x01000000)",
            True,
        ),
        (ng([shb(major=2), idb()]), "block 1 at byte 0: pcapng version 2.0", True),
        (
            patch(full, 8, "<I", 0x11223344),
            "block 1 at byte 0: not a pcapng section header (byte-order magic 0x44332211)",
            True,
        ),
        (full[:20], "block 1 at byte 0: the section header is cut short (20 of 28", False),
        (
            ng([shb(), idb(linktype=113), epb("<", 0, 1, FRAMES[0])]),
            "packet 1 at byte 48: link type 113",
            False,
        ),
        (
            ng(
                [
                    shb(),
                    idb(),
                    idb(linktype=228),
                    epb("<", 0, 1, FRAMES[0]),
                    epb("<", 1, 1, FRAMES[1]),
                ]
            ),
            f"packet 2 at byte {68 + len(epb('<', 0, 1, FRAMES[0]))}: link type 228 (raw IPv4)",
            False,
        ),
        # an option longer than its block
        (
            ng(
                [
                    shb(),
                    block("<", 1, struct.pack("<HHI", 1, 0, 0) + struct.pack("<HH", 9, 40)),
                    epb("<", 0, 1, FRAMES[0]),
                ]
            ),
            "block 2 at byte 28: option 9 of 40 bytes runs past the end of its block",
            False,
        ),
        # the big-endian file's errors are found too (the former reader said "()")
        (ng(big)[: at(big, 3) + 20], f"block 4 at byte {at(big, 3)}: the block says", True),
    ]
    return cases


@pytest.mark.parametrize("data, needle, tshark_too", ng_refusals())
def test_pcapng_refusals(tmp_path, data, needle, tshark_too):
    assert needle in refused(write(tmp_path, data, "bad.pcapng"))


@needs_capinfos
def test_wireshark_finds_damaged_what_we_refuse_as_damaged(tmp_path):
    """Where the file itself is broken (not merely unsendable), Wireshark says so too."""
    cases = [c for c in CLASSIC_REFUSALS + ng_refusals() if c[2]]
    assert len(cases) > 15
    for i, (data, needle, _) in enumerate(cases):
        assert wiretap_refuses(write(tmp_path, data, f"{i}.pcap")), needle


def test_mixed_link_types_are_refused_even_when_both_are_allowed(tmp_path):
    data = ng(
        [shb(), idb(), idb(linktype=113), epb("<", 0, 1, FRAMES[0]), epb("<", 1, 1, FRAMES[1])]
    )
    msg = refused(write(tmp_path, data, "m.pcapng"), linktypes=(1, 113))
    assert "packet 2 at byte" in msg and "after packets of link type 1 (Ethernet)" in msg


@pytest.mark.parametrize(
    "frames, origs, needle",
    [
        (
            [FRAMES[0], b"", FRAMES[1]],
            None,
            "packet 2 at byte 100: an empty record (0 bytes captured)",
        ),
        (
            [FRAMES[0], FRAMES[0][:13]],
            None,
            "packet 2 at byte 100: 13 bytes, shorter than an Ethernet header",
        ),
        (
            [FRAMES[0], FRAMES[5][:96]],
            [60, 1514],
            "packet 2 at byte 100: only 96 of its 1514 bytes were captured",
        ),
    ],
)
def test_unsendable_packets_are_named(tmp_path, frames, origs, needle):
    data = pcap_header()
    for i, f in enumerate(frames):
        data += pcap_record("<", TS_NS[i], f, False, None if origs is None else origs[i])
    tr = pcap.read(write(tmp_path, data))  # the file itself is valid
    with pytest.raises(PcapError) as info:
        tr.check_sendable()
    assert needle in str(info.value)


def test_pcapng_error_positions_for_sendability(tmp_path):
    parts = [shb(), idb(), epb("<", 0, 1, FRAMES[0]), block("<", 5, bytes(12)), epb("<", 0, 2, b"")]
    tr = pcap.read(write(tmp_path, ng(parts), "z.pcapng"))
    with pytest.raises(PcapError, match=f"packet 2 at byte {at(parts, 4)}: an empty record"):
        tr.check_sendable()


def test_fifos_and_directories_are_refused_without_waiting(tmp_path):
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "not a regular file" in refused(str(fifo))
    with pytest.raises(Exception) as info:  # noqa: PT011
        pcap.read(str(tmp_path))
    assert "not a regular file" in str(info.value)
    with pytest.raises(OSError, match="No such file"):
        pcap.read(str(tmp_path / "missing"))

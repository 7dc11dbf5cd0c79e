"""pcap and pcapng files: one validated reader for every tool that sends a trace.

`read(path)` maps the file once (mmap) and walks it once, producing the packets as arrays
(where each one starts in the file, how many bytes were captured, how long it was on the
wire, when it was captured) instead of a Python object per packet, so that a C loop can be
handed the file's bytes and these arrays as they are (`ffi.from_buffer`).

Formats read:

- classic pcap: microsecond (``a1b2c3d4``) and nanosecond (``a1b23c4d``) magic, either
  byte order;
- pcapng: every section with its own byte order; interfaces (IDB) with their link type,
  snap length, ``if_tsresol`` and ``if_tsoffset``; enhanced (EPB), simple (SPB) and
  obsolete (OPB) packet blocks; other blocks (name resolution, statistics, custom ...)
  are skipped; several sections one after another (concatenated files).

Anything else is refused with one line naming the record (its number, counting packets
from 1 as tshark does, and its byte offset) and what is wrong with it. Records are
validated as read: lengths within their record or block and within the file, block
lengths repeated at the end of the block, interfaces that exist.
"""

from __future__ import annotations

import errno
import mmap
import os
import stat
import struct
from array import array
from collections.abc import Collection
from dataclasses import dataclass, field
from operator import lt
from typing import Any

from nmtools.errors import NmError

LINKTYPE_ETHERNET = 1
# what people capture by mistake, named so a refusal says what the file holds
LINKTYPE_NAMES = {
    0: "BSD loopback",
    1: "Ethernet",
    101: "raw IP",
    105: "802.11",
    113: "Linux cooked (SLL, tcpdump -i any)",
    127: "802.11 radiotap",
    228: "raw IPv4",
    229: "raw IPv6",
    276: "Linux cooked v2 (SLL2, tcpdump -i any)",
}
ETHER_HEADER = 14

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1000, "pcap"),
    b"\xa1\xb2\xc3\xd4": (">", 1000, "pcap"),
    b"\x4d\x3c\xb2\xa1": ("<", 1, "pcap-ns"),
    b"\xa1\xb2\x3c\x4d": (">", 1, "pcap-ns"),
}
_PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
_SHB = 0x0A0D0D0A
_BOM = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}
# pcapng block types
_IDB, _OPB, _SPB, _EPB = 1, 2, 3, 6
_BLOCK_NAMES = {
    _IDB: "interface description",
    _OPB: "packet (obsolete)",
    _SPB: "simple packet",
    _EPB: "enhanced packet",
    _SHB: "section header",
}
_OPT_TSRESOL, _OPT_TSOFFSET = 9, 14


class PcapError(NmError):
    """A file that is not a readable trace: says where (packet, byte) and why."""

    def __init__(self, message: str, errno_: int = errno.EINVAL) -> None:
        super().__init__(message, errno_)


def linktype_name(lt_: int) -> str:
    name = LINKTYPE_NAMES.get(lt_)
    return f"link type {lt_} ({name})" if name else f"link type {lt_}"


@dataclass(eq=False)
class Trace:
    """The packets of one file, as arrays indexed by packet number (from 0).

    `data` is the file's bytes (a read-only mmap): packet i is
    ``data[offsets[i] : offsets[i] + caplens[i]]``. `offsets` is an ``array('Q')``,
    `caplens` and `origlens` ``array('I')``; `timestamps()` gives nanoseconds since the epoch
    as an ``array('q')`` (pcapng simple packet blocks carry none: they get the time of the
    packet before them, or 0; `untimed` counts them).
    """

    path: str
    format: str  # "pcap", "pcap-ns" or "pcapng"
    linktype: int
    data: Any
    offsets: array[int]
    caplens: array[int]
    origlens: array[int]
    untimed: int = 0
    _ts: array[int] | None = None
    _ts_fields: tuple[str, int] | None = None  # classic pcap: (byte order, ns per unit)
    _headers: array[int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.offsets)

    def packet(self, i: int) -> bytes:
        off = self.offsets[i]
        return bytes(self.data[off : off + self.caplens[i]])

    def packets(self) -> list[bytes]:
        """Every packet as bytes (for tests and small files: this is a copy of each)."""
        return [self.packet(i) for i in range(len(self))]

    @property
    def max_caplen(self) -> int:
        return max(self.caplens) if self.caplens else 0

    @property
    def total_bytes(self) -> int:
        return sum(self.caplens)

    def timestamps(self) -> array[int]:
        """Capture times in nanoseconds since the epoch (computed on first use)."""
        if self._ts is None:
            assert self._ts_fields is not None
            order, unit = self._ts_fields
            two = struct.Struct(order + "II").unpack_from
            ts: array[int] = array("q")
            add = ts.append
            data = self.data
            for off in self.offsets:
                sec, frac = two(data, off - 16)
                add(sec * 1_000_000_000 + frac * unit)
            self._ts = ts
        return self._ts

    def where(self, i: int) -> str:
        """``packet N at byte B`` for packet i (B: where its record or block starts)."""
        return f"packet {i + 1} at byte {self.header_offset(i)}"

    def header_offset(self, i: int) -> int:
        if self.format != "pcapng":
            return self.offsets[i] - 16
        if self._headers is None:  # only on the way to an error message: walk again
            self._headers = _walk_pcapng(self.data, len(self.data), None, True)[5]
        return self._headers[i]

    def check_sendable(self, min_len: int = ETHER_HEADER) -> None:
        """Refuse packets that cannot be sent as they were captured: empty, shorter than
        an Ethernet header, or cut short by the capture's snap length."""
        caps = self.caplens
        if not caps:
            return
        if min(caps) < min_len:
            i = next(k for k, c in enumerate(caps) if c < min_len)
            what = (
                "an empty record (0 bytes captured)"
                if caps[i] == 0
                else f"{caps[i]} bytes, shorter than an Ethernet header ({min_len} bytes)"
            )
            raise PcapError(f"{self.where(i)}: {what}; every packet must be a whole frame")
        if any(map(lt, caps, self.origlens)):
            i = next(k for k, c in enumerate(caps) if c < self.origlens[k])
            raise PcapError(
                f"{self.where(i)}: only {caps[i]} of its {self.origlens[i]} bytes were "
                "captured (a snap length cut it); a cut packet cannot be sent as it was: "
                "capture whole packets (tcpdump -s 0)"
            )

    def close(self) -> None:
        """Unmap the file (fails while a C buffer made from `data` is still alive)."""
        if isinstance(self.data, mmap.mmap):
            self.data.close()


def read(path: str, linktypes: Collection[int] | None = (LINKTYPE_ETHERNET,)) -> Trace:
    """Read a pcap or pcapng file; raises PcapError (or NmError for I/O) with one line.

    `linktypes`: the link types a packet may have (None: any); a packet of another one is
    refused with its link type named.
    """
    data = _map(path)
    size = len(data)
    head = bytes(data[:4])
    if head == _PCAPNG_SHB:
        offs, caps, origs, ts, lt_, _, untimed = _walk_pcapng(data, size, linktypes)
        return Trace(path, "pcapng", lt_, data, offs, caps, origs, untimed, _ts=ts)
    magic = _PCAP_MAGICS.get(head)
    if magic is None:
        raise PcapError(_not_a_trace(head, size))
    order, unit, fmt = magic
    if size < 24:
        raise PcapError(f"the file header is cut short ({size} of 24 bytes)")
    major, minor, _, _, _, network = struct.unpack_from(order + "HHiIII", data, 4)
    if major != 2:
        raise PcapError(f"pcap version {major}.{minor} (only 2.x is read)")
    lt_ = network & 0xFFFF
    offs, caps, origs, end = _walk_pcap(data, size, order)
    if end != size:
        if end < size:
            raise PcapError(
                f"packet {len(offs) + 1} at byte {end}: the record header is cut short "
                f"({size - end} of 16 bytes; the file was truncated)"
            )
        i = len(offs) - 1
        have = size - offs[i]
        raise PcapError(
            f"packet {i + 1} at byte {offs[i] - 16}: the record says {caps[i]} bytes were "
            f"captured, the file ends after {have} (the file was truncated)"
        )
    if offs and linktypes is not None and lt_ not in linktypes:
        raise PcapError(f"{linktype_name(lt_)}; {_want(linktypes)}")
    return Trace(path, fmt, lt_, data, offs, caps, origs, _ts_fields=(order, unit))


def _want(linktypes: Collection[int]) -> str:
    names = ", ".join(linktype_name(x) for x in sorted(linktypes))
    return f"only {names} captures can be sent"


def _not_a_trace(head: bytes, size: int) -> str:
    if size == 0:
        return "the file is empty (not a pcap or pcapng file)"
    if head[:2] == b"\x1f\x8b":
        return "the file is compressed (gzip): gunzip it first"
    if head in (b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34"):
        return "a modified (Kuznetsov) pcap: convert it with editcap -F pcap"
    return f"not a pcap or pcapng file (magic 0x{head.hex()})"


def _map(path: str) -> Any:
    """The file's bytes, mapped read-only; a FIFO or device is refused, not waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise NmError(f"{e.strerror}", e.errno or errno.EIO) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise PcapError("not a regular file (a trace must be a file that can be mapped)")
        if st.st_size == 0:
            raise PcapError("the file is empty (not a pcap or pcapng file)")
        try:
            return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:
            raise PcapError(f"cannot map the file: {e}") from None
    finally:
        os.close(fd)


def _walk_pcap(data: Any, size: int, order: str) -> tuple[array, array, array, int]:
    """Follow the records from byte 24: (data offsets, caplens, origlens, where it stopped).

    It stops at the end of the file, or beyond it when the last record claims more bytes
    than are left (the caller tells the two apart)."""
    offs: array[int] = array("Q")
    caps: array[int] = array("I")
    origs: array[int] = array("I")
    add_off, add_cap, add_orig = offs.append, caps.append, origs.append
    rec = struct.Struct(order + "II").unpack_from
    off = 24
    last = size - 16
    while off <= last:
        cap, orig = rec(data, off + 8)
        off += 16
        add_off(off)
        add_cap(cap)
        add_orig(orig)
        off += cap
    return offs, caps, origs, off


class _Iface:
    __slots__ = ("linktype", "snaplen", "mul", "div", "offset_ns")

    def __init__(self, linktype: int, snaplen: int) -> None:
        self.linktype, self.snaplen = linktype, snaplen
        self.mul, self.div, self.offset_ns = 1000, 1, 0  # default: microseconds


def _tsresol(code: int) -> tuple[int, int]:
    """if_tsresol as (mul, div): units * mul // div = nanoseconds."""
    exp = code & 0x7F
    if code & 0x80:  # a power of two
        return 1_000_000_000, 1 << exp
    if exp <= 9:
        return 10 ** (9 - exp), 1
    return 1, 10 ** (exp - 9)


def _bad(block: int, at: int, why: str) -> PcapError:
    return PcapError(f"block {block} at byte {at}: {why}")


def _walk_pcapng(
    data: Any, size: int, linktypes: Collection[int] | None, headers: bool = False
) -> tuple[array, array, array, array, int, array, int]:
    """Walk every block: (data offsets, caplens, origlens, timestamps, link type, block
    offsets of the packets (only when `headers`), packets without a timestamp)."""
    offs: array[int] = array("Q")
    caps: array[int] = array("I")
    origs: array[int] = array("I")
    ts: array[int] = array("q")
    hdrs: array[int] = array("Q")
    adds = (offs.append, caps.append, origs.append, ts.append)
    add_off, add_cap, add_orig, add_ts = adds
    order = "<"
    u32 = struct.Struct(order + "I").unpack_from
    two = struct.Struct(order + "II").unpack_from
    epb = struct.Struct(order + "IIIII").unpack_from
    ifaces: list[_Iface] = []
    used_lt = -1
    last_ts = 0
    untimed = 0
    block = 0
    off = 0
    while off < size:
        if ifaces and not headers:
            # the common case at full speed: a run of well-formed enhanced packet blocks on
            # interfaces of the link type already seen; anything else (including every
            # error) goes through the checks below, which say what is wrong
            off, block, last_ts = _epb_run(
                data, size, off, block, order, ifaces, used_lt, last_ts, adds
            )
            if off >= size:
                break
        block += 1
        if size - off < 12:
            raise _bad(block, off, f"the block header is cut short ({size - off} of 12 bytes)")
        # the section header's type reads the same in both byte orders
        btype, blen = two(data, off)
        if btype == _SHB:
            if size - off < 28:
                raise _bad(
                    block, off, f"the section header is cut short ({size - off} of 28 bytes)"
                )
            bom = bytes(data[off + 8 : off + 12])
            if bom not in _BOM:
                raise _bad(
                    block, off, f"not a pcapng section header (byte-order magic 0x{bom.hex()})"
                )
            order = _BOM[bom]
            u32 = struct.Struct(order + "I").unpack_from
            two = struct.Struct(order + "II").unpack_from
            epb = struct.Struct(order + "IIIII").unpack_from
            (blen,) = u32(data, off + 4)
            major, minor = struct.unpack_from(order + "HH", data, off + 12)
            if major != 1:
                raise _bad(block, off, f"pcapng version {major}.{minor} (only 1.x is read)")
            if blen < 28:
                raise _bad(block, off, f"section header length {blen} (at least 28)")
            ifaces = []
        elif block == 1:
            raise _bad(block, off, "the file does not start with a section header")
        if blen < 12 or blen % 4:
            raise _bad(block, off, f"block length {blen} (at least 12 and a multiple of 4)")
        if blen > size - off:
            raise _bad(
                block,
                off,
                f"the block says {blen} bytes, the file ends after {size - off} "
                "(the file was truncated)",
            )
        (trail,) = u32(data, off + blen - 4)
        if trail != blen:
            raise _bad(
                block, off, f"the block's length is {blen} at its start and {trail} at its end"
            )
        if btype == _EPB or btype == _OPB:
            if blen < 32:
                raise _bad(block, off, f"{_BLOCK_NAMES[btype]} block of {blen} bytes (at least 32)")
            iface, th, tl, cap, orig = epb(data, off + 8)
            if btype == _OPB:  # a 16-bit interface id, then a 16-bit drop count
                iface = iface & 0xFFFF if order == "<" else iface >> 16
            if iface >= len(ifaces):
                raise _bad(
                    block,
                    off,
                    f"packet {len(offs) + 1} names interface {iface}, the section has "
                    f"{len(ifaces)} (no interface description block for it)",
                )
            if cap > blen - 32:
                raise _bad(
                    block,
                    off,
                    f"packet {len(offs) + 1} says {cap} bytes were captured, its block "
                    f"holds {blen - 32}",
                )
            ifc = ifaces[iface]
            if ifc.linktype != used_lt:
                used_lt = _check_linktype(used_lt, ifc.linktype, len(offs), off, linktypes)
            last_ts = ((th << 32) | tl) * ifc.mul // ifc.div + ifc.offset_ns
            try:
                add_ts(last_ts)
            except OverflowError:
                raise _bad(
                    block,
                    off,
                    f"packet {len(offs) + 1}: its timestamp is out of range (before 1678 or "
                    "after 2262 once in nanoseconds)",
                ) from None
            add_off(off + 28)
            add_cap(cap)
            add_orig(orig)
            if headers:
                hdrs.append(off)
        elif btype == _SPB:
            if blen < 16:
                raise _bad(block, off, f"simple packet block of {blen} bytes (at least 16)")
            if not ifaces:
                raise _bad(
                    block,
                    off,
                    f"packet {len(offs) + 1}: a simple packet block needs interface 0, "
                    "the section has none",
                )
            (orig,) = u32(data, off + 8)
            ifc = ifaces[0]
            cap = orig if not ifc.snaplen or orig <= ifc.snaplen else ifc.snaplen
            if cap > blen - 16:
                raise _bad(
                    block,
                    off,
                    f"packet {len(offs) + 1} is {cap} bytes long, its block holds {blen - 16}",
                )
            if ifc.linktype != used_lt:
                used_lt = _check_linktype(used_lt, ifc.linktype, len(offs), off, linktypes)
            add_off(off + 12)
            add_cap(cap)
            add_orig(orig)
            add_ts(last_ts)
            untimed += 1
            if headers:
                hdrs.append(off)
        elif btype == _IDB:
            if blen < 20:
                raise _bad(block, off, f"interface description block of {blen} bytes (at least 20)")
            lt_, _, snaplen = struct.unpack_from(order + "HHI", data, off + 8)
            ifc = _Iface(lt_, snaplen)
            _idb_options(data, off + 16, off + blen - 4, order, ifc, block, off)
            ifaces.append(ifc)
        off += blen
    lt_ = used_lt if used_lt >= 0 else LINKTYPE_ETHERNET  # (no packets: any will do)
    return offs, caps, origs, ts, lt_, hdrs, untimed


def _epb_run(
    data: Any,
    size: int,
    off: int,
    block: int,
    order: str,
    ifaces: list[_Iface],
    used_lt: int,
    ts: int,
    adds: tuple[Any, Any, Any, Any],
) -> tuple[int, int, int]:
    """Enhanced packet blocks from `off` while they are well-formed: (where the run
    stopped, blocks read, the last timestamp)."""
    head = struct.Struct(order + "7I").unpack_from
    u32 = struct.Struct(order + "I").unpack_from
    ok = [(f.mul, f.div, f.offset_ns) if f.linktype == used_lt else None for f in ifaces]
    nif = len(ok)
    add_off, add_cap, add_orig, add_ts = adds
    last = size - 32
    try:
        while off <= last:
            btype, blen, iface, th, tl, cap, orig = head(data, off)
            if btype != _EPB or iface >= nif or cap > blen - 32 or blen & 3:
                break
            if u32(data, off + blen - 4)[0] != blen:  # struct.error past the end
                break
            tsr = ok[iface]
            if tsr is None:
                break
            ts = ((th << 32) | tl) * tsr[0] // tsr[1] + tsr[2]
            add_ts(ts)  # first: OverflowError leaves the arrays as they were
            add_off(off + 28)
            add_cap(cap)
            add_orig(orig)
            off += blen
            block += 1
    except (struct.error, OverflowError):
        pass
    return off, block, ts


def _check_linktype(used: int, lt_: int, n: int, at: int, linktypes: Collection[int] | None) -> int:
    """The link type of packet n (at byte `at`) after packets of `used` (-1: none yet)."""
    if linktypes is not None and lt_ not in linktypes:
        raise PcapError(f"packet {n + 1} at byte {at}: {linktype_name(lt_)}; {_want(linktypes)}")
    if used >= 0:
        raise PcapError(
            f"packet {n + 1} at byte {at}: {linktype_name(lt_)} after packets of "
            f"{linktype_name(used)}; one link type a file, please"
        )
    return lt_


def _idb_options(
    data: Any, off: int, end: int, order: str, ifc: _Iface, block: int, at: int
) -> None:
    """if_tsresol and if_tsoffset, checked to fit in the block; other options skipped."""
    hdr = struct.Struct(order + "HH").unpack_from
    while off + 4 <= end:
        code, length = hdr(data, off)
        if code == 0:  # opt_endofopt
            return
        if off + 4 + length > end:
            raise _bad(block, at, f"option {code} of {length} bytes runs past the end of its block")
        if code == _OPT_TSRESOL:
            if length != 1:
                raise _bad(block, at, f"if_tsresol of {length} bytes (1)")
            res = data[off + 4]
            if (res & 0x80 and res & 0x7F > 63) or (not res & 0x80 and res > 19):
                raise _bad(block, at, f"if_tsresol {res:#x} is not a usable resolution")
            ifc.mul, ifc.div = _tsresol(res)
        elif code == _OPT_TSOFFSET:
            if length != 8:
                raise _bad(block, at, f"if_tsoffset of {length} bytes (8)")
            (secs,) = struct.unpack_from(order + "q", data, off + 4)
            ifc.offset_ns = secs * 1_000_000_000
        off += 4 + (length + 3) // 4 * 4


def offsets32(trace: Trace) -> array[int]:
    """The packets' offsets as ``array('I')`` for C loops that take 32-bit offsets."""
    try:
        return array("I", trace.offsets)
    except OverflowError:
        raise PcapError(
            "packets beyond the first 4 GiB of the file cannot be sent yet; cut the file "
            "(editcap -r FILE OUT 1-N)"
        ) from None


__all__ = [
    "LINKTYPE_ETHERNET",
    "PcapError",
    "Trace",
    "linktype_name",
    "offsets32",
    "read",
]

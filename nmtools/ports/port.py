"""open_port(): from a netmap port name to an open Port (rings in C)."""

from __future__ import annotations

import atexit
import errno
import os
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from nmtools import _bindings as B
from nmtools.errors import (
    NetmapUnavailable,
    NmError,
    NotSupported,
    PortSpecError,
    error_for,
    printable,
)
from nmtools.ports import admode as admode_mod
from nmtools.ports.pipes import pipe_path
from nmtools.ports.spec import Mode, PortSpec, parse_port

NULL_NAMES = ("null", "netmap:null")
XDP_RX_SLOTS = 8192
MAX_FRAME = 65535

# What @conf may ask of each kind of port (the C backends' limits: NMT_MAX_RINGS rings,
# private rings of 2..65536 slots, pipes of 4..PIPE_MAX_SLOTS); 0 means the default.
MAX_RINGS = 64
SLOTS = {"null": (2, 65536), "pipe": (4, 32768), "nic": (2, 65536)}
_HOST_KEYS = ("host_rings", "host_tx_rings", "host_rx_rings")
_RING_KEYS = ("rings", "tx_rings", "rx_rings")
_SLOT_KEYS = ("slots", "tx_slots", "rx_slots")


@dataclass(frozen=True)
class Request:
    """What a port name resolved to, before anything is opened."""

    kind: int
    admode: str  # "-" when the name alone decides (pipes, null)
    ifname: str = ""
    pipe_id: str = ""
    pipe_end: int = 0
    path: str = ""
    queue: int = -1
    flags: int = 0
    tx_rings: int = 0
    rx_rings: int = 0
    tx_slots: int = 0
    rx_slots: int = 0
    auto: bool = False  # the adapter mode was chosen, not forced (a failed AF_XDP falls back)
    fanout: int = 0  # AF_PACKET receive: share the traffic with this fanout group
    mode: int = 0  # backend-specific open mode (AF_XDP: NMT_XDP_* in xdp.c)


def _open_flags(spec: PortSpec) -> int:
    flags = 0
    if spec.tx_only:
        flags |= B.lib.NMT_OPEN_TX_ONLY
    if spec.rx_only:
        flags |= B.lib.NMT_OPEN_RX_ONLY
    return flags


def _conf_numbers(spec: PortSpec, name: str, kind: str) -> dict[str, int]:
    """The @conf keys given, as numbers this kind of port honours; anything else is refused.

    libnetmap reads values with atoi() and keeps what the kernel ignores: here a value is a
    decimal number in range, or the name is refused with the range that would be right.
    """
    lo, hi = SLOTS[kind]
    ranges = {**dict.fromkeys(_RING_KEYS, (1, MAX_RINGS)), **dict.fromkeys(_SLOT_KEYS, (lo, hi))}
    out: dict[str, int] = {}
    for key, raw in spec.conf:
        if key in _HOST_KEYS:
            raise NetmapUnavailable(
                f"{name}: @conf {key}: host rings need the netmap kernel module (/dev/netmap "
                "missing); drop the key",
                errno.ENOENT,
            )
        if kind == "nic" and key in _RING_KEYS:
            raise NotSupported(
                f"{name}: @conf {key}: an interface's rings are its queues, set with "
                f"ethtool -L {spec.name}; open netmap:{spec.name} for all of them or "
                f"netmap:{spec.name}-N for queue N"
            )
        a, b = ranges[key]
        what = f"{name}: @conf {key}={raw}"
        right = f"{key} is {a}..{b}, or 0 for the default"
        value = raw.strip()
        if not value:
            raise PortSpecError(f"{what}: empty value ({right}; or leave {key} out)")
        if not (value.isdecimal() and value.isascii()):
            raise PortSpecError(f"{what}: not a number ({right})")
        n = int(value) if len(value) <= 9 else b + 1  # more digits are out of range anyway
        if n and not a <= n <= b:
            raise PortSpecError(f"{what}: out of range ({right})")
        out[key] = n
    return out


def _geometry(spec: PortSpec, name: str, kind: str) -> dict[str, int]:
    """tx/rx rings and slots for the C request (0: the backend's default)."""
    conf = _conf_numbers(spec, name, kind)
    geo = {}
    for generic, pair in (("rings", ("tx_rings", "rx_rings")), ("slots", ("tx_slots", "rx_slots"))):
        for key in pair:
            geo[key] = conf.get(key, conf.get(generic, 0))
    if kind == "pipe":
        # the two ends of a pipe are one ring set: end A's tx rings are end B's rx rings
        for what, (tx, rx) in (
            ("rings", ("tx_rings", "rx_rings")),
            ("slots", ("tx_slots", "rx_slots")),
        ):
            if geo[tx] and geo[rx] and geo[tx] != geo[rx]:
                raise PortSpecError(
                    f"{name}: @conf {tx}={geo[tx]} and {rx}={geo[rx]}: a pipe has as many tx "
                    f"as rx {what}; give {what}=N"
                )
            geo[tx] = geo[rx] = geo[tx] or geo[rx]
    return geo


def _refuse_unsupported(spec: PortSpec, carrier: str, instead: str) -> None:
    """Netmap features this carrier cannot provide: one line that says what would work."""
    where = f"{spec.text}: "
    if spec.is_monitor:
        raise NotSupported(
            where + "monitor ports (/t /r /z) need the netmap kernel module (/dev/netmap "
            f"missing); {instead}"
        )
    if "x" in spec.flags:
        raise NotSupported(
            where + f"exclusive binding (/x) needs the netmap kernel module; drop /x ({instead})"
        )
    if spec.mem_id is not None or spec.share is not None or spec.extmem is not None:
        raise NotSupported(
            where + f"memory options (@N, @share, @extmem) are not supported by {carrier}; "
            "drop them"
        )
    if spec.is_host:
        raise NetmapUnavailable(
            where + "host-stack rings (^, *) need the netmap kernel module (/dev/netmap "
            f"missing); {instead}",
            errno.ENOENT,
        )


def resolve(
    name: str, admode: str | None = None, direction: str | None = None
) -> tuple[PortSpec | None, Request]:
    """Parse `name` and decide what carries it. Raises PortSpecError / NmError.

    `direction` ("tx", "rx", "fwd" for ports that forward to one another, or None for both)
    lets `auto` pick the faster NIC backend. Messages start with the name, end with what
    would be right where there is something to say, and show control characters escaped.
    """
    try:
        return _resolve(name, admode, direction)
    except NmError as e:
        if e.message.isprintable():
            raise
        raise type(e)(printable(e.message), e.errno) from None


def _resolve(
    name: str, admode: str | None, direction: str | None
) -> tuple[PortSpec | None, Request]:
    if name in NULL_NAMES:
        return None, Request(kind=B.lib.NMT_KIND_NULL, admode="-")
    try:
        spec = parse_port(name)
    except PortSpecError as e:
        shown = printable(name)
        message = e.message if e.message.startswith(shown) else f"{shown}: {e.message}"
        if e.hint:
            message += f"; {e.hint}"
        raise PortSpecError(message, e.errno) from None
    for carries, request in _BACKENDS:
        if carries(spec):
            return spec, request(spec, name, admode, direction)
    raise AssertionError("the NIC row carries every name")  # not reached


def _vale_request(spec: PortSpec, name: str, admode: str | None, direction: str | None) -> Request:
    raise NotSupported(
        f"{name}: VALE switches are not available in this release yet; "
        "connect two programs with a pipe instead (netmap:NAME{1 and netmap:NAME}1)"
    )


def _null_request(spec: PortSpec, name: str, admode: str | None, direction: str | None) -> Request:
    _refuse_unsupported(spec, "the null port", "open plain null")
    if spec.mode != Mode.ALL_NIC:
        raise NotSupported(f"{name}: the null port has no rings to choose; open plain null")
    return Request(
        kind=B.lib.NMT_KIND_NULL,
        admode="-",
        flags=_open_flags(spec),
        **_geometry(spec, name, "null"),
    )


def _pipe_request(spec: PortSpec, name: str, admode: str | None, direction: str | None) -> Request:
    whole = f"{spec.subsys}:{spec.name}{spec.pipe_end}{spec.pipe_id}"
    if spec.is_host:
        raise PortSpecError(f"{name}: pipes have no host rings; open {whole}")
    _refuse_unsupported(spec, "pipes (they live in shared memory)", f"open {whole}")
    if spec.mode == Mode.ONE_NIC:
        raise NotSupported(
            f"{name}: choosing one ring of a pipe is not supported yet; open the "
            f"whole end ({whole})"
        )
    assert spec.pipe_id is not None
    return Request(
        kind=B.lib.NMT_KIND_PIPE,
        admode="-",
        ifname=spec.name,
        pipe_id=spec.pipe_id,
        pipe_end=0 if spec.pipe_end == "{" else 1,
        path=str(pipe_path(spec.name, spec.pipe_id)),
        flags=_open_flags(spec),
        **_geometry(spec, name, "pipe"),
    )


def _nic_request(spec: PortSpec, name: str, admode: str | None, direction: str | None) -> Request:
    """A NIC, reached as admode decides: AF_XDP or AF_PACKET."""
    if spec.tx_only and direction is None:
        direction = "tx"
    mode = admode_mod.resolve(admode, direction)
    carrier = "AF_XDP" if mode == "xdp" else "AF_PACKET"
    _refuse_unsupported(
        spec, carrier, f"open netmap:{spec.name} (all queues) or netmap:{spec.name}-N"
    )
    geo = _geometry(spec, name, "nic")
    rx_slots = geo["rx_slots"]
    if mode == "xdp" and not rx_slots:
        # the kernel buffers only as many frames as the fill ring has slots
        rx_slots = XDP_RX_SLOTS
    flags = _open_flags(spec)
    # A NIC port used one way gets only those rings: a sender then loads no XDP program,
    # so the interface's incoming traffic keeps flowing to the host stack.
    if direction == "tx" and not spec.rx_only:
        flags |= B.lib.NMT_OPEN_TX_ONLY
    elif direction == "rx" and not spec.tx_only:
        flags |= B.lib.NMT_OPEN_RX_ONLY
    return Request(
        kind=B.lib.NMT_KIND_XDP if mode == "xdp" else B.lib.NMT_KIND_PACKET,
        admode=mode,
        ifname=spec.name,
        queue=spec.ring if spec.mode == Mode.ONE_NIC and spec.ring is not None else -1,
        flags=flags,
        tx_slots=geo["tx_slots"],
        rx_slots=rx_slots,
        auto=admode_mod.requested(admode) == "auto",
    )


# What carries a parsed name, first match wins: each row says which names it takes and
# turns one into the Request the C side opens (nmt_port_open's table of backends, port.c).
# A new port kind is a row here (and its row there).
_BACKENDS: tuple[
    tuple[
        Callable[[PortSpec], bool],
        Callable[[PortSpec, str, str | None, str | None], Request],
    ],
    ...,
] = (
    (lambda spec: spec.is_vale, _vale_request),
    (lambda spec: spec.name == "null" and not spec.is_pipe, _null_request),
    (lambda spec: spec.is_pipe, _pipe_request),
    (lambda spec: True, _nic_request),
)


_OPEN: weakref.WeakSet[Port] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Ports left open at exit are closed, so pipes are cleaned up as after close()."""
    for port in list(_OPEN):
        port.close()


class Port:
    """An open port: rings in C, counts and identity in Python.

    Use as a context manager. `handle` is what the C loops take.
    """

    def __init__(self, name: str, spec: PortSpec | None, req: Request, handle: Any) -> None:
        self.name = name
        self.spec = spec
        self.request = req
        self.handle = handle
        self.admode = req.admode
        self.admode_note = ""  # why auto settled for less than it wanted, if it did
        _OPEN.add(self)

    # ---- identity and geometry -------------------------------------------------
    def _h(self) -> Any:
        if self.handle is None:
            raise ValueError(f"{self.name}: port is closed")
        return self.handle

    @property
    def closed(self) -> bool:
        return self.handle is None

    @property
    def backend(self) -> str:
        return B.cstr(self._h().backend)

    @property
    def num_tx_rings(self) -> int:
        return int(self._h().num_tx_rings)

    @property
    def num_rx_rings(self) -> int:
        return int(self._h().num_rx_rings)

    @property
    def num_tx_slots(self) -> int:
        return int(self._h().num_tx_slots)

    @property
    def num_rx_slots(self) -> int:
        return int(self._h().num_rx_slots)

    @property
    def buf_size(self) -> int:
        return int(self._h().buf_size)

    @property
    def num_bufs(self) -> int:
        return int(self._h().num_bufs)

    @property
    def memsize(self) -> int:
        return int(self._h().memsize)

    @property
    def mem_id(self) -> str:
        """Ports with the same mem_id share buffers: forwarding between them is zero copy."""
        return B.cstr(self._h().mem_id)

    @property
    def ifname(self) -> str:
        return B.cstr(self._h().ifname)

    @property
    def mtu(self) -> int | None:
        mtu = int(self._h().mtu)
        return mtu or None

    @property
    def max_frame(self) -> int:
        """Longest frame this port carries (MTU + Ethernet header on interfaces)."""
        mtu = self.mtu
        return mtu + 14 if mtu else MAX_FRAME

    @property
    def mac(self) -> str | None:
        h = self._h()
        if not h.has_mac:
            return None
        return ":".join(f"{h.mac[i]:02x}" for i in range(6))

    @property
    def queue(self) -> int | None:
        q = int(self._h().queue)
        return None if q < 0 else q

    @property
    def num_queues(self) -> int:
        return int(self._h().num_queues)

    @property
    def detail(self) -> str:
        return B.cstr(self._h().detail)

    def fileno(self) -> int:
        """A descriptor to poll(); call `arm()` before and `disarm()` after sleeping on it."""
        return int(self._h().fd)

    def info(self) -> dict[str, Any]:
        """Everything `nm info` shows, as plain data."""
        return {
            "port": self.name,
            "spec": str(self.spec) if self.spec else self.name,
            "backend": self.backend,
            "admode": self.admode,
            "admode_note": self.admode_note or None,
            "ifname": self.ifname or None,
            "queue": self.queue,
            "num_queues": self.num_queues or None,
            "tx_rings": self.num_tx_rings,
            "rx_rings": self.num_rx_rings,
            "tx_slots": self.num_tx_slots,
            "rx_slots": self.num_rx_slots,
            "buf_size": self.buf_size,
            "num_bufs": self.num_bufs,
            "memsize": self.memsize,
            "mem_id": self.mem_id,
            "mtu": self.mtu,
            "mac": self.mac,
            "detail": self.detail or None,
        }

    # ---- waiting ---------------------------------------------------------------
    def arm(self, rx: bool = True, tx: bool = False) -> bool:
        """Prepare to sleep on fileno(); True means ready now (do not sleep)."""
        h = self._h()
        return bool(B.check(B.lib.nmt_port_arm(h, _events(rx, tx)), h))

    def disarm(self, rx: bool = True, tx: bool = False) -> None:
        B.lib.nmt_port_disarm(self._h(), _events(rx, tx))

    def wait(self, rx: bool = True, tx: bool = False, timeout: float | None = None) -> bool:
        """Sleep until rx may have frames / tx may have room. False on timeout."""
        h = self._h()
        ms = -1 if timeout is None else max(0, int(timeout * 1000))
        return bool(B.check(B.lib.nmt_port_wait(h, _events(rx, tx), ms), h))

    # ---- slow path -------------------------------------------------------------
    def send(self, frames: Iterable[bytes], timeout: float = 1.0) -> int:
        """Copy frames into the tx rings and sync; returns how many the port accepted.

        For scripts and tests; the C loops are the fast path.
        """
        h = self._h()
        frames = [bytes(f) for f in frames]
        if not frames:
            return 0
        limit = self.max_frame
        for i, f in enumerate(frames):
            if len(f) > limit:
                raise error_for(
                    errno.EMSGSIZE,
                    f"{self.name}: frame {i} is {len(f)} bytes, longer than the port allows "
                    f"({limit} bytes: MTU {self.mtu} + 14)"
                    if self.mtu
                    else f"{self.name}: frame {i} is {len(f)} bytes (at most {limit})",
                )
        data = b"".join(frames)
        lens = B.ffi.new("uint32_t[]", [len(f) for f in frames])
        buf = B.ffi.from_buffer(data)
        ms = max(0, int(timeout * 1000))
        return B.check(B.lib.nmt_port_send(h, buf, lens, len(frames), ms), h)

    def recv(self, max_frames: int = 256, timeout: float | None = 1.0) -> list[bytes]:
        """Up to max_frames received frames; waits up to timeout for the first one."""
        h = self._h()
        cap = max_frames * MAX_FRAME if max_frames < 64 else max_frames * 2048 + MAX_FRAME
        out = B.ffi.new("uint8_t[]", cap)
        lens = B.ffi.new("uint32_t[]", max_frames)
        ms = -1 if timeout is None else max(0, int(timeout * 1000))
        n = B.check(B.lib.nmt_port_recv(h, out, cap, lens, max_frames, ms), h)
        frames, off = [], 0
        raw = B.ffi.buffer(out, cap)
        for i in range(n):
            frames.append(bytes(raw[off : off + lens[i]]))
            off += lens[i]
        return frames

    def flush(self, timeout: float = 1.0) -> None:
        """Wait until every queued frame was accepted by the port."""
        h = self._h()
        B.check(B.lib.nmt_port_flush(h, max(0, int(timeout * 1000))), h)

    # ---- lifetime --------------------------------------------------------------
    def close(self) -> None:
        if self.handle is not None:
            B.lib.nmt_port_close(self.handle)
            self.handle = None

    def __enter__(self) -> Port:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.backend}"
        return f"<Port {self.name} {state}>"


def _events(rx: bool, tx: bool) -> int:
    return (B.lib.NMT_WAIT_RX if rx else 0) | (B.lib.NMT_WAIT_TX if tx else 0)


def open_port(
    name: str, *, admode: str | None = None, direction: str | None = None, fanout: int = 0
) -> Port:
    """Open a port by its netmap name (`netmap:eth0`, `eth0-1`, `netmap:p{1`, `null` ...).

    `admode` forces how a NIC is reached (auto, native, xdp, packet; default
    $NMTOOLS_ADMODE or auto); `direction` ("tx" or "rx") tells auto what the port is for.
    `fanout` (AF_PACKET): ports opened with the same group number share the interface's
    received traffic, each flow going to one of them.
    """
    spec, req = resolve(name, admode, direction)
    if fanout:
        req = replace(req, fanout=fanout)
    return _open_all([name], [spec], [req])[0]


def open_ports(
    names: Sequence[str], *, admode: str | None = None, direction: str | None = "fwd"
) -> list[Port]:
    """Open several ports at once (the two sides of a bridge, say).

    AF_XDP ports among them share one UMEM where the kernel allows it: they get the same
    `mem_id`, and a frame received on one goes out on another by swapping buffer indexes,
    without a copy. With the default `direction="fwd"` (ports that forward to one another)
    `auto` reaches NICs over AF_XDP; "tx", "rx" or None choose as `open_port` does. Other
    ports open as `open_port` opens them. All or none are opened.
    """
    resolved = [resolve(name, admode, direction) for name in names]
    return _open_all(list(names), [spec for spec, _ in resolved], [req for _, req in resolved])


def _open_all(names: list[str], specs: list[PortSpec | None], reqs: list[Request]) -> list[Port]:
    """Open them all, or none. In auto mode a port that cannot have AF_XDP here (kernel,
    permissions, a program of someone else's) falls back to AF_PACKET, and its admode_note
    says why."""
    reqs = list(reqs)
    notes = [""] * len(names)
    while True:
        try:
            ports = _open_group(names, specs, reqs)
        except _GroupError as e:
            req = reqs[e.index]
            if not (req.auto and req.kind == B.lib.NMT_KIND_XDP):
                raise e.error from None
            reqs[e.index] = replace(
                req, kind=B.lib.NMT_KIND_PACKET, admode="packet", rx_slots=0, mode=0
            )
            notes[e.index] = f"AF_XDP unavailable: {e.error}"
            continue
        for port, note in zip(ports, notes, strict=True):
            port.admode_note = note
        return ports


class _GroupError(Exception):
    def __init__(self, index: int, error: NmError) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


def _fill_request(creq: Any, name: str, req: Request) -> None:
    creq.kind = req.kind
    creq.ifname = req.ifname.encode()[:63]
    creq.pipe_id = req.pipe_id.encode()[:63]
    creq.pipe_end = req.pipe_end
    if len(req.path.encode()) > 255:
        raise PortSpecError(f"{name}: shared-memory path too long: {req.path}")
    creq.path = req.path.encode()
    creq.queue = req.queue
    creq.flags = req.flags
    creq.tx_rings, creq.rx_rings = req.tx_rings, req.rx_rings
    creq.tx_slots, creq.rx_slots = req.tx_slots, req.rx_slots
    creq.fanout = req.fanout if req.kind == B.lib.NMT_KIND_PACKET else 0
    creq.mode = req.mode


def _open_group(names: list[str], specs: list[PortSpec | None], reqs: list[Request]) -> list[Port]:
    n = len(names)
    handles = [B.new_port() for _ in range(n)]
    creqs = B.ffi.new("struct nmt_open_req[]", n)
    for i in range(n):
        _fill_request(creqs[i], names[i], reqs[i])
        handles[i].name = names[i].encode()[:127]
    failed = B.ffi.new("int *")
    if B.lib.nmt_port_open_group(B.ffi.new("struct nmt_port *[]", handles), creqs, n, failed) < 0:
        code = B.ffi.errno
        i = max(0, failed[0])
        msg = B.cstr(handles[i].errmsg) or os.strerror(code)
        raise _GroupError(i, error_for(code, printable(msg)))
    return [Port(names[i], specs[i], reqs[i], handles[i]) for i in range(n)]

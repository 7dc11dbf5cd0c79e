"""Adapter mode: how a NIC port is reached (netmap module, AF_XDP or AF_PACKET)."""

from __future__ import annotations

import errno
import os

from nmtools.errors import NetmapUnavailable, NmError, NotSupported

ADMODES = ("auto", "native", "xdp", "packet")
ENV = "NMTOOLS_ADMODE"
NETMAP_DEV = "/dev/netmap"


def netmap_available() -> bool:
    return os.path.exists(NETMAP_DEV)


def requested(admode: str | None = None) -> str:
    """The mode asked for: the argument, else $NMTOOLS_ADMODE, else auto."""
    mode = (admode or os.environ.get(ENV) or "auto").strip().lower()
    if mode not in ADMODES:
        src = "--admode" if admode else ENV
        raise NmError(
            f"{src}: unknown adapter mode '{mode}' (use one of: {', '.join(ADMODES)})",
            errno.EINVAL,
        )
    return mode


def resolve(admode: str | None = None, direction: str | None = None) -> str:
    """The backend that carries a NIC port: 'native', 'xdp' or 'packet'.

    `auto` picks per direction what is fastest on a stock kernel (measured on veth, see
    bench/pktgen.py): AF_XDP for a port that only sends (`direction="tx"` or `/T`), whose
    copy-free tx ring beats every AF_PACKET path; AF_PACKET for ports that receive, where a
    TPACKET_V3 ring is the better sink (AF_XDP receive on veth pays an extra copy in the
    kernel); AF_XDP again for ports that forward to one another (`direction="fwd"`, what
    `open_ports` asks for), which share one UMEM and forward faster than AF_PACKET does
    (bench/forward.py); and AF_XDP for latency (`direction="rtt"`: pkt-gen ping and pong),
    where a frame is seen as soon as it lands in the socket's ring, while a TPACKET_V3 ring
    hands over its frames when a block fills or its retire timer fires (about 1 ms on
    veth, which then bounds every RTT measured).
    """
    mode = requested(admode)
    if mode == "native" or (mode == "auto" and netmap_available()):
        if not netmap_available():
            raise NetmapUnavailable(
                "netmap kernel module not loaded (/dev/netmap missing); "
                "use --admode auto, xdp or packet on a stock kernel",
                errno.ENOENT,
            )
        if mode == "native":
            raise NotSupported(
                "the native netmap backend is not part of this release; "
                "use --admode xdp or packet meanwhile"
            )
    if mode == "auto":
        return "xdp" if direction in ("tx", "fwd", "rtt") else "packet"
    return mode

"""Parsers for pkt-gen's own option values: ``-l``/``--imix``/``--mix`` and ``-s``/``-d``;
the ones every tool shares (``-R``, ``-t``, ``-S``/``-D``, ``--cpus``) live in
:mod:`nmtools.units` and are re-exported here.

Every parser takes the text as the user typed it and either returns a value from
:mod:`nmtools.pktgen.config` or raises :class:`OptionError`, whose message is one line naming
the option and its value, what is wrong, and what would be right::

    -R 10xpps: unknown unit 'xpps' (use pps, kpps, Mpps, Gpps, bps, kbps, Mbps, Gbps; ...)

Values are shown shell-quoted when they need it (``-R '10 xpps'``), so they can be pasted back;
a value with control characters is shown in bash's ``$'...'`` quoting (``-s $'\\x1b[2J'``), so
printing it cannot drive the terminal.

Deviations from pkt-gen, on purpose:

* ``-s``/``-d``: ``ip1-ip2:port1-port2`` means addresses ip1..ip2 *and* ports port1..port2
  (pkt-gen silently drops the port range); CIDR prefixes are accepted; bad addresses are
  errors instead of garbage; a range half without a port takes the other half's port.
* ``-l``: given twice, sizes are random in [min, max] *inclusive* (pkt-gen: [min, max), and
  a division by zero when both are equal); ``-l 60-1514`` is accepted too.
* ``-R``: units (``10Mpps``, ``10Gbps``, ``10Gbpsl1``) besides a plain number of pps; rates
  nmtools cannot pace are refused: at most :data:`MAX_PPS` (10 Gpps, 67 times 100GbE's line
  rate at 64 bytes) and :data:`MAX_BPS` (10 Tbps), at least :data:`MIN_PPS` (one packet in
  1000 s) and :data:`MIN_BPS` (1 bps).
* ``-t``: :data:`MIN_DURATION` (1 us) to :data:`MAX_DURATION` (365 days).
* ``--mix``: weights are reduced by their greatest common divisor (``60:70,1514:10`` is
  ``60:7,1514:1``), and their sum may be at most :data:`MAX_MIX_WEIGHT` (65536): the
  generator draws sizes from a table of that many entries.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from nmtools.errors import OptionError
from nmtools.pktgen.config import DEFAULT_SIZE, Endpoint, Sizes
from nmtools.units import (
    MAX_BPS,
    MAX_DIGITS,
    MAX_DURATION,
    MAX_PPS,
    MIN_BPS,
    MIN_DURATION,
    MIN_PPS,
    format_rate,
    parse_cpus,
    parse_duration,
    parse_mac,
    parse_rate,
)
from nmtools.units import clip as _clip
from nmtools.units import option_error as _error
from nmtools.units import whole as _whole

__all__ = [
    "DEFAULT_DST",
    "DEFAULT_DST6",
    "DEFAULT_PORT",
    "DEFAULT_SIZE",
    "DEFAULT_SRC",
    "DEFAULT_SRC6",
    "IMIX_SIMPLE",
    "MAX_BPS",
    "MAX_DURATION",
    "MAX_MIX_WEIGHT",
    "MAX_PPS",
    "MAX_SIZE",
    "MIN_BPS",
    "MIN_DURATION",
    "MIN_PPS",
    "MIN_SIZE",
    "OptionError",
    "default_endpoints",
    "format_endpoint",
    "format_rate",
    "parse_cpus",
    "parse_duration",
    "parse_endpoint",
    "parse_mac",
    "parse_rate",
    "parse_sizes",
]


# ---------------------------------------------------------------------------------------------
# -l / --imix: frame sizes

MIN_SIZE = 16
MAX_SIZE = 65535

#: The simple IMIX, 7:4:1 frames of 64, 594 and 1518 bytes on the wire: 60, 590, 1514 without
#: the CRC, the convention of every size here.
IMIX_SIMPLE: tuple[tuple[int, int], ...] = ((60, 7), (590, 4), (1514, 1))

_SIZE_RANGE = f"{MIN_SIZE}..{MAX_SIZE} bytes (without CRC)"
_SIZES_HINT = "expected bytes without CRC: 60, a range 60-1514, or -l given twice"

#: The most a --mix's weights may add up to (after dividing by their gcd).
MAX_MIX_WEIGHT = 65536


def _size(option: str, value: str, piece: str, whole: bool) -> int:
    piece = piece.strip()
    if not piece.isdecimal() or not piece.isascii():
        what = "not a frame size" if whole else f"'{piece}' is not a frame size"
        raise _error(option, value, f"{what} ({_SIZES_HINT})")
    n = _whole(piece)
    if not MIN_SIZE <= n <= MAX_SIZE:
        what = "frame size" if whole else f"frame size {_clip(piece)}"
        raise _error(option, value, f"{what} must be {_SIZE_RANGE}")
    return n


def _parse_mix(text: str, option: str) -> tuple[tuple[int, int], ...]:
    hint = "expected simple, or size:weight pairs without CRC, e.g. 60:7,590:4,1514:1"
    mix: list[tuple[int, int]] = []
    seen: set[int] = set()
    if not text.strip():
        raise _error(option, text, f"empty mix ({hint})")
    for item in text.split(","):
        size_text, colon, weight_text = item.partition(":")
        if not size_text.strip().isdecimal() or not size_text.strip().isascii():
            raise _error(option, text, f"'{_clip(item.strip())}' is not size:weight ({hint})")
        size = _whole(size_text.strip())
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise _error(
                option, text, f"frame size {_clip(size_text.strip())} must be {_SIZE_RANGE}"
            )
        if size in seen:
            raise _error(option, text, f"size {size} is given twice (give each size once)")
        seen.add(size)
        weight = 1
        if colon:
            w = weight_text.strip()
            if not w.isdecimal() or not w.isascii() or _whole(w) == 0:
                raise _error(
                    option,
                    text,
                    f"weight '{_clip(w)}' of size {size} must be a whole number > 0",
                )
            weight = _whole(w)
            if weight >= 10**MAX_DIGITS:
                raise _error(
                    option,
                    text,
                    f"weight '{_clip(w)}' of size {size} is out of range (the weights may add "
                    f"up to {MAX_MIX_WEIGHT}, after dividing them by their common factor)",
                )
        mix.append((size, weight))
    g = math.gcd(*(w for _, w in mix))
    mix = [(size, w // g) for size, w in mix]
    total = sum(w for _, w in mix)
    if total > MAX_MIX_WEIGHT:
        raise _error(
            option,
            text,
            f"the weights add up to {total}"
            f"{f' (divided by their common factor {g})' if g > 1 else ''}; at most "
            f"{MAX_MIX_WEIGHT} (use smaller weights in the same ratio, e.g. 60:7,590:4,1514:1)",
        )
    return tuple(mix)


def parse_sizes(
    values: Sequence[str],
    imix: bool | str | None = False,
    *,
    option: str = "-l",
    imix_option: str = "--imix",
) -> Sizes:
    """pkt-gen's ``-l`` (given 0, 1 or 2 times) and ``--imix``: the frame sizes to send.

    Sizes are frame lengths **without the 4-byte CRC**, as in pkt-gen: ``-l 60`` is the
    64-byte minimum Ethernet frame. Each size must be 16..65535.

    * no ``-l``: 60 bytes;
    * ``-l 60``: fixed size;
    * ``-l 60-1514``: random in [60, 1514], both ends included (either order);
    * ``-l 1514 -l 60`` (pkt-gen's form; its second value is the minimum): random in
      [60, 1514], both ends included, values in either order; equal values mean a fixed size;
    * ``imix=True`` or ``"simple"``: the simple IMIX, 7:4:1 frames of 60, 590 and 1514 bytes
      (64, 594 and 1518 with the CRC), see :data:`IMIX_SIMPLE`;
    * ``imix="60:7,590:4,1514:1"``: a weighted mix of ``size:weight`` pairs (sizes without
      CRC, as given; a size without ``:weight`` has weight 1); each size at most once; the
      weights are divided by their gcd and must then add up to at most
      :data:`MAX_MIX_WEIGHT`.

    ``-l`` together with ``--imix`` is an error. ``option`` and ``imix_option`` name the
    options in error messages.
    """
    if imix is not None and imix is not False:
        if values:
            raise OptionError(
                f"{option} and {imix_option} cannot be combined ({imix_option} sets the sizes; "
                f"drop one of them)"
            )
        simple = imix is True or str(imix).strip().lower() == "simple"
        mix = IMIX_SIMPLE if simple else _parse_mix(str(imix), imix_option)
        sizes = [s for s, _ in mix]
        return Sizes(min=min(sizes), max=max(sizes), mix=mix)
    if len(values) == 0:
        return Sizes(min=DEFAULT_SIZE, max=DEFAULT_SIZE)
    if len(values) > 2:
        raise OptionError(
            f"{option} given {len(values)} times (give one size, a range like "
            f"{option} 60-1514, or {option} twice)"
        )
    if len(values) == 1:
        value = values[0]
        low, dash, high = value.partition("-")
        if not dash:
            n = _size(option, value, value, whole=True)
            return Sizes(min=n, max=n)
        a = _size(option, value, low, whole=False)
        b = _size(option, value, high, whole=False)
        return Sizes(min=min(a, b), max=max(a, b))
    for value in values:
        if "-" in value:
            raise _error(
                option,
                value,
                f"a range cannot be combined with a second {option} (give {option} 60-1514, "
                f"or {option} 1514 {option} 60)",
            )
    a, b = (_size(option, v, v, whole=True) for v in values)
    return Sizes(min=min(a, b), max=max(a, b))


# ---------------------------------------------------------------------------------------------
# -s / -d: address and port ranges

DEFAULT_PORT = 1234

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_FORM4 = "expected ip[:port][-ip[:port]], e.g. 198.18.0.1-198.18.0.100:1234-1240"
_FORM6 = "expected [ip6][:port][-[ip6][:port]], e.g. [2001:db8::1]-[2001:db8::ff]:1234-1240"
_GROUP_RE = re.compile(r"[0-9]+@")


def _v4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def _v6(text: str) -> int:
    return int(ipaddress.IPv6Address(text))


DEFAULT_SRC = Endpoint(_v4("10.0.0.1"), _v4("10.0.0.1"), 1234, 1234, False, "10.0.0.1:1234")
DEFAULT_DST = Endpoint(_v4("10.1.0.1"), _v4("10.1.0.1"), 1234, 1234, False, "10.1.0.1:1234")
DEFAULT_SRC6 = Endpoint(_v6("fd00::1"), _v6("fd00::1"), 1234, 1234, True, "[fd00::1]:1234")
DEFAULT_DST6 = Endpoint(_v6("fd01::1"), _v6("fd01::1"), 1234, 1234, True, "[fd01::1]:1234")


def default_endpoints(ipv6: bool) -> tuple[Endpoint, Endpoint]:
    """(source, destination) when ``-s``/``-d`` are not given.

    IPv4: pkt-gen's 10.0.0.1:1234 and 10.1.0.1:1234. IPv6: pkt-gen has none (its IPv4
    defaults become ``::``); we use the unique-local fd00::1 and fd01::1, port 1234.
    """
    return (DEFAULT_SRC6, DEFAULT_DST6) if ipv6 else (DEFAULT_SRC, DEFAULT_DST)


@dataclass
class _Half:
    """One side of a ``-``: an address (or a prefix) with an optional port, or a bare port."""

    text: str
    first: int | None = None  # None: a bare port (the end of a port range)
    last: int | None = None  # != first for a prefix
    prefix: bool = False
    port: int | None = None


class _EndpointParser:
    def __init__(self, text: str, ipv6: bool, option: str) -> None:
        self.text = text
        self.ipv6 = ipv6
        self.option = option
        self.form = _FORM6 if ipv6 else _FORM4

    def fail(self, what: str, form: bool = True) -> OptionError:
        return _error(self.option, self.text, f"{what} ({self.form})" if form else what)

    def subject(self, piece: str) -> str:
        """``'piece' is `` to start a message about a piece; nothing when it is the whole value."""
        return "" if piece == self.text.strip() else f"'{piece}' is "

    def port(self, digits: str, where: str) -> int:
        digits = digits.strip()
        if not digits:
            raise self.fail(f"empty port after ':' in '{where}'")
        if not digits.isdecimal() or not digits.isascii():
            raise self.fail(f"{self.subject(digits)}not a port number")
        n = _whole(digits)
        if n > 65535:
            raise self.fail(
                f"port {_clip(digits)} is out of range (ports are 0..65535)", form=False
            )
        return n

    def address(self, addr: str, plen: str | None, where: str) -> tuple[int, int]:
        """The first and last address of ``addr`` (``/plen`` makes it a prefix)."""
        family = "IPv6" if self.ipv6 else "IPv4"
        try:
            if "%" in addr:
                raise ValueError(addr)
            ip: _IPAddress = ipaddress.ip_address(addr)
        except ValueError:
            what = f"{self.subject(addr)}not an {family} address" if addr else "missing address"
            raise self.fail(what) from None
        if ip.version == 4 and self.ipv6:
            raise self.fail(
                "IPv4 address given with -6 (give IPv6 addresses, e.g. [2001:db8::1]:1234, "
                "or drop -6)",
                form=False,
            )
        if ip.version == 6 and not self.ipv6:
            raise self.fail("IPv6 address given without -6 (add -6 to send IPv6)", form=False)
        if plen is None:
            return int(ip), int(ip)
        bits = ip.max_prefixlen
        if not plen.isdecimal() or not plen.isascii() or _whole(plen) > bits:
            raise self.fail(f"prefix length '/{plen}' in '{where}' must be 0..{bits}", form=False)
        net = ipaddress.ip_network(f"{addr}/{_whole(plen)}", strict=False)
        first, last = int(net.network_address), int(net.broadcast_address)
        if ip.version == 4 and net.prefixlen < 31:
            return first + 1, last - 1  # the host addresses (RFC 3021: /31, /32 are all hosts)
        if ip.version == 6 and net.prefixlen < 127:
            return first + 1, last  # all but the subnet-router anycast address
        return first, last

    def half(self, part: str) -> _Half:
        text = part.strip()
        if not text:
            raise self.fail("empty address or port around '-'")
        body = _GROUP_RE.sub("", text, count=1)  # pkt-gen's IPv6 "group@": accepted, ignored
        if body.isdecimal() and body.isascii():
            return _Half(text, port=self.port(body, text))
        port: str | None = None
        plen: str | None = None
        if body.startswith("["):
            addr, bracket, rest = body[1:].partition("]")
            if not bracket:
                raise self.fail(f"missing ']' in '{text}'")
            addr, slash, inner_plen = addr.partition("/")
            if slash:
                plen = inner_plen
            if rest.startswith("/"):
                if plen is not None:
                    raise self.fail(f"two prefix lengths in '{text}'")
                plen, colon, port_text = rest[1:].partition(":")
                port = port_text if colon else None
            elif rest.startswith(":"):
                port = rest[1:]
            elif rest:
                raise self.fail(f"unexpected '{rest}' after ']' in '{text}'")
        elif body.count(":") >= 2:  # a bare IPv6 address: a port needs brackets
            addr, slash, rest = body.partition("/")
            if slash:
                plen, colon, port = rest.partition(":")
                if not colon:
                    port = None
        else:
            addr_plen, colon, port_text = body.partition(":")
            port = port_text if colon else None
            addr, slash, plen_text = addr_plen.partition("/")
            plen = plen_text if slash else None
        first, last = self.address(addr.strip(), None if plen is None else plen.strip(), text)
        return _Half(
            text,
            first,
            last,
            prefix=plen is not None,
            port=None if port is None else self.port(port, text),
        )

    def parse(self, default_port: int) -> tuple[int, int, int, int]:
        parts = [self.half(p) for p in self.text.split("-")]
        if len(parts) > 3:
            raise self.fail("too many '-'")
        start = parts[0]
        if start.first is None or start.last is None:
            raise self.fail(f"'{start.text}' is a port, not an address: the address comes first")
        if len(parts) == 1:
            port = default_port if start.port is None else start.port
            return start.first, start.last, port, port
        end = parts[1]
        if len(parts) == 2 and end.first is None:  # ip[/len]:port1-port2
            if start.port is None or end.port is None:
                form = "[ip6]:port1-port2: ports after an IPv6 address need brackets"
                raise self.fail(
                    f"'{end.text}' after '-' is a port, but '{start.text}' has no start port "
                    f"({form if self.ipv6 else 'ip:port1-port2'})",
                    form=False,
                )
            return start.first, start.last, start.port, end.port
        for h in parts[:2]:
            if h.prefix:
                raise self.fail(f"a prefix ('{h.text}') cannot be one end of a range")
        if end.first is None:
            raise self.fail(f"'{end.text}' is a port where an address is expected")
        if len(parts) == 2:  # ip[:port]-ip[:port]; a half without a port takes the other's
            p1 = start.port if start.port is not None else end.port
            p2 = end.port if end.port is not None else start.port
            if p1 is None or p2 is None:
                p1 = p2 = default_port
            return start.first, end.first, p1, p2
        last = parts[2]  # ip1-ip2:port1-port2
        if (
            last.first is not None
            or last.port is None
            or start.port is not None
            or end.port is None
        ):
            raise self.fail(
                "ambiguous: give the ports once after the addresses (ip1-ip2:port1-port2) or "
                "with each address (ip1:port1-ip2:port2)",
                form=False,
            )
        return start.first, end.first, end.port, last.port


def parse_endpoint(
    text: str, *, ipv6: bool, default_port: int = DEFAULT_PORT, option: str = ""
) -> Endpoint:
    """pkt-gen's ``-s``/``-d``: an address range and a UDP port range.

    IPv4 forms (every range is inclusive; a start greater than its end is swapped, as
    pkt-gen does)::

        10.0.0.1                      one address, port ``default_port``
        10.0.0.1:80                   one address, one port
        10.0.0.1:80-90                one address, ports 80..90
        10.0.0.1:80-10.0.0.9:90       pkt-gen's form: addresses .1-.9, ports 80..90
        10.0.0.1-10.0.0.9:80-90       the same (pkt-gen gets this one wrong: no port range)
        10.0.0.1-10.0.0.9             addresses .1-.9, port ``default_port``
        10.0.0.1-10.0.0.9:80          a half without a port takes the other half's port:
        10.0.0.1:80-10.0.0.9          ... so both of these are ports 80..80
        198.19.0.0/24[:80[-90]]       a prefix: the hosts .1-.254 (for /31 and /32, RFC 3021:
                                      every address); host bits of the address are ignored

    IPv6: the same with brackets around addresses that carry a port (``[2001:db8::1]:80``,
    ``[2001:db8::1]-[2001:db8::ff]:80-90``, ``[2001:db8::1]:80-[2001:db8::ff]:90``); bare
    addresses take no port (``2001:db8::1-2001:db8::ff``); prefixes ``2001:db8::/120`` (every
    address but the all-zero subnet-router anycast one, unless /127 or /128), also with a port:
    ``[2001:db8::/120]:80`` or ``2001:db8::/120:80``. The generator varies only the low 32
    bits, so both ends must share the upper 96 bits. pkt-gen's ``group@`` prefix
    (``7@[2001:db8::1]:1234``) is accepted and ignored: nmtools counts through the whole
    low 32 bits.

    Ports are 0..65535. IPv4 text with ``ipv6=True`` and IPv6 text without it are errors that
    say so. ``option`` (``-s`` or ``-d``) names the option in error messages.
    """
    parser = _EndpointParser(text, ipv6, option)
    if not text.strip():
        raise parser.fail("empty value")
    ip1, ip2, p1, p2 = parser.parse(default_port)
    ip1, ip2 = min(ip1, ip2), max(ip1, ip2)
    p1, p2 = min(p1, p2), max(p1, p2)
    if ipv6 and ip1 >> 32 != ip2 >> 32:
        raise parser.fail(
            "IPv6 ranges may span at most 2^32 addresses (the upper 96 bits must be equal; "
            "for a prefix use /96 or longer)",
            form=False,
        )
    return Endpoint(ip1, ip2, p1, p2, ipv6, text)


def format_endpoint(endpoint: Endpoint) -> str:
    """The canonical text of an endpoint, which :func:`parse_endpoint` reads back.

    ``10.0.0.1:1234``, ``10.0.0.1-10.0.0.9:80-90``, ``[2001:db8::1]-[2001:db8::ff]:80``.
    """
    cls = ipaddress.IPv6Address if endpoint.ipv6 else ipaddress.IPv4Address
    ips = [str(cls(endpoint.ip_start))]
    if endpoint.ip_end != endpoint.ip_start:
        ips.append(str(cls(endpoint.ip_end)))
    if endpoint.ipv6:
        ips = [f"[{ip}]" for ip in ips]
    ports = str(endpoint.port_start)
    if endpoint.port_end != endpoint.port_start:
        ports += f"-{endpoint.port_end}"
    return "-".join(ips) + ":" + ports

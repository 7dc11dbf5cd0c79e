"""Parsers for pkt-gen's option values: ``-R``, ``-l``/``--imix``, ``-s``/``-d``, ``-S``/``-D``,
``-t``, ``--cpus``; and pkt-gen's unit normalisation for printing rates.

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

import errno
import ipaddress
import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from nmtools.errors import NmError, printable
from nmtools.pktgen.config import Endpoint, Rate, Sizes
from nmtools.units import norm

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


class OptionError(NmError, ValueError):
    """A command-line option value that does not parse (errno EINVAL).

    The message is one line: the option and its value, what is wrong, and what would be right.
    """

    def __init__(self, message: str, errno_: int = errno.EINVAL) -> None:
        super().__init__(message, errno_)


def _show(option: str, value: str) -> str:
    """``-R 10xpps``: the option and its value as typed, quoted only where a shell needs it
    (``$'...'`` with escapes when it holds control characters). A value of thousands of
    characters is cut after 80, so the message stays a line one can read."""
    if len(value) > 100:
        value = value[:80] + "..."
    if value.isprintable():
        shown = shlex.quote(value)
    else:
        body = printable(value).replace("'", "\\'")
        shown = f"$'{body}'"
    return f"{option} {shown}" if option else shown


_MAX_DIGITS = 20  # longer numbers are out of every range here (and int() of 4300 digits fails)


def _whole(digits: str) -> int:
    """int() of ASCII decimal digits; a number of more than 20 digits comes back as 10**20."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


def _clip(text: str, limit: int = 24) -> str:
    """A piece of a value for a message: long pieces are cut (the whole value is shown too)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _error(option: str, value: str, what: str) -> OptionError:
    return OptionError(f"{_show(option, value)}: {what}")


# ---------------------------------------------------------------------------------------------
# -R: rates

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_RATE_RE = re.compile(rf"\s*({_NUMBER})\s*(.*?)\s*")
_PREFIXES = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}  # decimal: 1k = 1000
_UNIT_HINT = "use pps, kpps, Mpps, Gpps, bps, kbps, Mbps, Gbps; add l1 to count Ethernet framing"

#: The fastest rates -R takes: 10 Gpps (67 times 100GbE's 148.8 Mpps at 64 bytes) and 10 Tbps.
MAX_PPS = 10e9
MAX_BPS = 10e12
#: The slowest: one packet in 1000 s, and 1 bps (one 1514-byte frame in about 3.4 hours).
MIN_PPS = 1e-3
MIN_BPS = 1.0
_RATE_RANGE = "rates are 0.001 pps to 10 Gpps, or 1 bps to 10 Tbps; 0 or no -R for no limit"
_RATE_HINT = "expected a number of packets/s or a number with a unit, e.g. 10000, 1.5Mpps, 10Gbps"


def _rate_unit(number: str, unit: str, shown: str) -> tuple[int, str] | str:
    """(power of 1000, "pps" or "bps") for a unit without ``l1``; or a reason it is wrong.

    ``shown`` is the unit as typed, with ``l1`` if any, for messages.
    """
    if unit == "":
        return 0, "pps"
    prefix, body = "", unit
    if unit[0].lower() in "kmgt":
        prefix, body = unit[0].lower(), unit[1:]
        if not body:
            return f"missing unit after '{unit}' (write {number}{unit}pps or {number}{unit}bps)"
    low = body.lower()
    if low == "pps":
        return _PREFIXES[prefix], "pps"
    if low in ("bit", "bits", "bit/s", "bits/s"):
        return _PREFIXES[prefix], "bps"
    if low in ("b", "bps", "b/s"):
        if body[0] == "b":
            return _PREFIXES[prefix], "bps"
        bits = unit[: len(unit) - len(body)] + "b" + body[1:]
        return (
            f"'{unit}' would be bytes per second; rates are in bits ({bits}, 8 times the "
            f"bytes) or packets (pps)"
        )
    return f"unknown unit '{shown}' ({_UNIT_HINT})"


def parse_rate(text: str, *, option: str = "-R") -> Rate | None:
    """pkt-gen's ``-R``: a packet or bit rate; None for ``0`` (no limit, as in pkt-gen).

    Grammar: ``NUMBER [UNIT] [l1]``, optional spaces between number and unit.

    * A plain number is packets per second (``-R 10000``); fractions and exponents are fine
      (``1.5Mpps``, ``1e6``).
    * Packet units: ``pps``, ``kpps``, ``Mpps``, ``Gpps``, ``Tpps`` (any case: ``mpps`` is
      mega, a milli-packet rate makes no sense).
    * Bit units: ``bps``, ``kbps``, ``Mbps``, ``Gbps``, ``Tbps``, also ``b``, ``b/s``,
      ``bit``, ``bits``, ``bit/s``, ``bits/s`` (``10Mbit``, ``1Gb/s``). Prefixes are decimal
      (1k = 1000) and of any case (pkt-gen prints ``Kbps``). A capital ``B`` (``MBps``,
      ``MB/s``) would mean bytes and is refused.
    * The suffix ``l1`` (TRex style: ``10Gbpsl1``; a space before it is fine) counts the 24 bytes of
      Ethernet framing (preamble, IFG, CRC) per frame; it applies to bit rates only.
    * ``0`` with any unit means unlimited and returns None (as in pkt-gen); negative rates
      are errors, and so are rates nmtools cannot pace: above :data:`MAX_PPS` /
      :data:`MAX_BPS`, below :data:`MIN_PPS` / :data:`MIN_BPS` (``1e-400`` is such a rate,
      not 0).

    :attr:`Rate.value` is in the base unit (packets/s or bits/s); :attr:`Rate.text` is ``text``.
    """
    m = _RATE_RE.fullmatch(text)
    if not m:
        raise _error(option, text, f"not a rate ({_RATE_HINT}, 10Gbpsl1)")
    number, unit = m.groups()
    shown, l1 = unit, False
    if unit[-2:].lower() == "l1":
        l1, unit = True, unit[:-2].rstrip()
    parsed = _rate_unit(number, unit, shown)
    if isinstance(parsed, str):
        raise _error(option, text, parsed)
    power, base = parsed
    if l1 and base != "bps":
        raise _error(
            option,
            text,
            "l1 (count Ethernet framing) only applies to bit rates, e.g. 10Gbpsl1; "
            "a packet rate is the same on the wire",
        )
    exact = Decimal(number).scaleb(3 * power)
    if exact == 0:
        return None
    if exact < 0:
        raise _error(option, text, f"a rate cannot be negative ({_RATE_RANGE})")
    low, high = (MIN_PPS, MAX_PPS) if base == "pps" else (MIN_BPS, MAX_BPS)
    if exact > Decimal(str(high)):
        raise _error(option, text, f"faster than nmtools can pace ({_RATE_RANGE})")
    if exact < Decimal(str(low)):
        raise _error(option, text, f"slower than nmtools can pace ({_RATE_RANGE})")
    value = float(exact)
    assert math.isfinite(value) and value > 0
    return Rate(value=value, unit=base, l1=l1, text=text)


def format_rate(value: float, unit: str, normalize: bool = True) -> str:
    """pkt-gen's unit normalisation (``ctrs.h: norm()``) followed by ``unit``.

    Normalised: divide by 1000 while the value is >= 1000, over the prefixes "", K, M, G, T,
    and print ``"%.3f %s"`` with the prefix glued to the unit: ``14.880 Mpps``, ``512.000 pps``.
    Not normalised (pkt-gen ``-N``): ``"%.0f"`` and no prefix: ``14880000 pps``.
    """
    return norm(value, normalize) + unit


# ---------------------------------------------------------------------------------------------
# -l / --imix: frame sizes

MIN_SIZE = 16
MAX_SIZE = 65535
DEFAULT_SIZE = 60

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
            if weight >= 10**_MAX_DIGITS:
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


# ---------------------------------------------------------------------------------------------
# -S / -D: MAC addresses

_MAC_SEP_RE = re.compile(
    r"[0-9A-Fa-f]{1,2}(?P<sep>[:-])(?:[0-9A-Fa-f]{1,2}(?P=sep)){4}[0-9A-Fa-f]{1,2}"
)
_MAC_DOT_RE = re.compile(r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}")
_MAC_BARE_RE = re.compile(r"[0-9A-Fa-f]{12}")


def parse_mac(text: str, option: str) -> str:
    """A MAC address for ``-S``/``-D``, normalised to lowercase ``aa:bb:cc:dd:ee:ff``.

    Accepts ``:`` or ``-`` separators with one or two hex digits a byte (``ether_aton`` takes
    ``2:0:0:0:0:1`` too), Cisco's ``aabb.ccdd.eeff`` and twelve bare hex digits.
    """
    value = text.strip()
    if _MAC_SEP_RE.fullmatch(value):
        octets = [int(b, 16) for b in re.split(r"[:-]", value)]
    elif _MAC_DOT_RE.fullmatch(value) or _MAC_BARE_RE.fullmatch(value):
        digits = value.replace(".", "")
        octets = [int(digits[i : i + 2], 16) for i in range(0, 12, 2)]
    else:
        raise _error(
            option, text, "not a MAC address (expected six hex bytes like 02:00:00:00:00:01)"
        )
    return ":".join(f"{b:02x}" for b in octets)


# ---------------------------------------------------------------------------------------------
# -t: durations

_DURATION_UNITS = {
    "us": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
}
_DURATION_PART_RE = re.compile(
    r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(us|ms|min|s|m|h)", re.IGNORECASE | re.ASCII
)
_DURATION_HINT = "expected seconds, or numbers with units: 10, 1.5s, 500ms, 2m, 1h, 1m30s"

#: -t runs from 1 us (its smallest unit; the C loop counts nanoseconds, and less than one
#: would mean no limit) to a year (the nanoseconds of 584 years fill its 64 bits).
MIN_DURATION = 1e-6
MAX_DURATION = 365 * 86400.0
_DURATION_RANGE = "a duration is 1us to 365 days (8760h); leave -t out for no time limit"


def parse_duration(text: str, *, option: str = "-t") -> float:
    """``-t``/``--duration`` in seconds, :data:`MIN_DURATION` to :data:`MAX_DURATION`.

    A plain number is seconds (``10``, ``1.5``); otherwise one or more number+unit parts,
    added up: ``10s``, ``500ms``, ``250us``, ``2m`` (or ``2min``), ``1h``, ``1m30s``.
    Units are case-insensitive.
    """
    value = text.strip()
    seconds: float | None = None
    if re.fullmatch(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+", value):
        seconds = float(value)
    else:
        pos, total, parts = 0, 0.0, 0
        while pos < len(value):
            m = _DURATION_PART_RE.match(value, pos)
            if not m:
                raise _error(option, text, f"not a duration ({_DURATION_HINT})")
            total += float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]
            pos, parts = m.end(), parts + 1
        if not parts:
            raise _error(option, text, f"not a duration ({_DURATION_HINT})")
        seconds = total
    if not seconds > 0:
        raise _error(option, text, f"a duration must be > 0 ({_DURATION_RANGE})")
    if not MIN_DURATION <= seconds <= MAX_DURATION:  # also false for inf
        raise _error(option, text, f"out of range ({_DURATION_RANGE})")
    return seconds


# ---------------------------------------------------------------------------------------------
# --cpus: CPU lists

MAX_CPU = 65535


def parse_cpus(text: str, *, option: str = "--cpus") -> list[int]:
    """A CPU list like ``2-4,7`` (Linux cpulist syntax, no strides): sorted, without repeats.

    Only parsed: whether the CPUs exist or are allowed is checked where they are used.
    """
    hint = "expected CPU numbers and ranges, e.g. 2-4,7"
    cpus: set[int] = set()
    for item in text.split(","):
        item = item.strip()
        low, dash, high = item.partition("-")
        ends = [low.strip(), high.strip()] if dash else [low.strip()]
        if not all(e.isdecimal() and e.isascii() for e in ends):
            what = "empty CPU list" if not text.strip() else f"'{item}' is not a CPU or a range"
            raise _error(option, text, f"{what} ({hint})")
        a, b = _whole(ends[0]), _whole(ends[-1])
        if b > MAX_CPU:
            raise _error(option, text, f"CPU {_clip(ends[-1])} is out of range (0..{MAX_CPU})")
        if a > b:
            raise _error(option, text, f"range '{item}' runs backwards (write {b}-{a})")
        cpus.update(range(a, b + 1))
    return sorted(cpus)

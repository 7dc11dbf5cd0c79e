"""Units every tool shares: numbers as pkt-gen prints them, and the parsers of rates,
durations, MAC addresses and CPU lists as the user types them.

Every parser takes the text as typed and returns a value or raises
:class:`nmtools.errors.OptionError`, whose message is one line naming the option and its
value, what is wrong, and what would be right::

    -R 10xpps: unknown unit 'xpps' (use pps, kpps, Mpps, Gpps, bps, kbps, Mbps, Gbps; ...)

Values are shown shell-quoted when they need it (``-R '10 xpps'``), so they can be pasted
back; a value with control characters is shown in bash's ``$'...'`` quoting, so printing it
cannot drive the terminal. `nmtools.cli.params` wraps them as click parameter types.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass
from decimal import Decimal

from nmtools.errors import OptionError, printable

_PREFIXES = ("", "K", "M", "G", "T")


def norm(value: float, normalize: bool = True) -> str:
    """pkt-gen's `norm()`: ``"14.880 M"`` (then the caller appends ``pps``), or ``"14880000 "``.

    Normalising divides by 1000 while the value is >= 1000, over the prefixes "" K M G T, and
    prints ``%.3f``; without it the value prints as ``%.0f`` with an empty prefix.
    """
    if not normalize:
        return f"{value:.0f} "
    i = 0
    while value >= 1000 and i < len(_PREFIXES) - 1:
        value /= 1000
        i += 1
    return f"{value:.3f} {_PREFIXES[i]}"


def format_ns(ns: float) -> str:
    """A duration for people: ``120 ns``, ``3.1 us``, ``12.0 ms``, ``1.50 s``."""
    if ns != ns:  # nan
        return "-"
    if math.isinf(ns):
        return "inf"
    a = abs(ns)
    if a < 1e3:
        return f"{ns:.0f} ns"
    if a < 1e6:
        return f"{ns / 1e3:.1f} us"
    if a < 1e9:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e9:.2f} s"


@dataclass(frozen=True)
class Rate:
    """A target rate: packets per second, or bits per second (then pps depends on size)."""

    value: float  # > 0
    unit: str  # "pps" or "bps"
    l1: bool = False  # bps counts Ethernet framing (preamble, IFG, CRC: 24 bytes a frame)
    text: str = ""

    def pps_for(self, frame_len: float) -> float:
        if self.unit == "pps":
            return self.value
        bits = (frame_len + (24 if self.l1 else 0)) * 8
        return self.value / bits


def show_value(option: str, value: str) -> str:
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


MAX_DIGITS = 20  # longer numbers are out of every range here (and int() of 4300 digits fails)


def whole(digits: str) -> int:
    """int() of ASCII decimal digits; a number of more than 20 digits comes back as 10**20."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= MAX_DIGITS else 10**MAX_DIGITS


def clip(text: str, limit: int = 24) -> str:
    """A piece of a value for a message: long pieces are cut (the whole value is shown too)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def option_error(option: str, value: str, what: str) -> OptionError:
    return OptionError(f"{show_value(option, value)}: {what}")


# ---------------------------------------------------------------------------------------------
# -R: rates

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_RATE_RE = re.compile(rf"\s*({_NUMBER})\s*(.*?)\s*")
_RATE_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}  # decimal: 1k = 1000
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
        return _RATE_POWERS[prefix], "pps"
    if low in ("bit", "bits", "bit/s", "bits/s"):
        return _RATE_POWERS[prefix], "bps"
    if low in ("b", "bps", "b/s"):
        if body[0] == "b":
            return _RATE_POWERS[prefix], "bps"
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
        raise option_error(option, text, f"not a rate ({_RATE_HINT}, 10Gbpsl1)")
    number, unit = m.groups()
    shown, l1 = unit, False
    if unit[-2:].lower() == "l1":
        l1, unit = True, unit[:-2].rstrip()
    parsed = _rate_unit(number, unit, shown)
    if isinstance(parsed, str):
        raise option_error(option, text, parsed)
    power, base = parsed
    if l1 and base != "bps":
        raise option_error(
            option,
            text,
            "l1 (count Ethernet framing) only applies to bit rates, e.g. 10Gbpsl1; "
            "a packet rate is the same on the wire",
        )
    exact = Decimal(number).scaleb(3 * power)
    if exact == 0:
        return None
    if exact < 0:
        raise option_error(option, text, f"a rate cannot be negative ({_RATE_RANGE})")
    low, high = (MIN_PPS, MAX_PPS) if base == "pps" else (MIN_BPS, MAX_BPS)
    if exact > Decimal(str(high)):
        raise option_error(option, text, f"faster than nmtools can pace ({_RATE_RANGE})")
    if exact < Decimal(str(low)):
        raise option_error(option, text, f"slower than nmtools can pace ({_RATE_RANGE})")
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
        raise option_error(
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
                raise option_error(option, text, f"not a duration ({_DURATION_HINT})")
            total += float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]
            pos, parts = m.end(), parts + 1
        if not parts:
            raise option_error(option, text, f"not a duration ({_DURATION_HINT})")
        seconds = total
    if not seconds > 0:
        raise option_error(option, text, f"a duration must be > 0 ({_DURATION_RANGE})")
    if not MIN_DURATION <= seconds <= MAX_DURATION:  # also false for inf
        raise option_error(option, text, f"out of range ({_DURATION_RANGE})")
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
            raise option_error(option, text, f"{what} ({hint})")
        a, b = whole(ends[0]), whole(ends[-1])
        if b > MAX_CPU:
            raise option_error(option, text, f"CPU {clip(ends[-1])} is out of range (0..{MAX_CPU})")
        if a > b:
            raise option_error(option, text, f"range '{item}' runs backwards (write {b}-{a})")
        cpus.update(range(a, b + 1))
    return sorted(cpus)

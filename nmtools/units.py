"""Units: numbers as pkt-gen prints them (and, as they move here, the parsers of rates, sizes
and durations every tool shares)."""

from __future__ import annotations

import math

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

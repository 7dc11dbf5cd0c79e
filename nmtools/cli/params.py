"""click parameter types for the units every command shares (nmtools.units).

A value that does not parse raises `nmtools.errors.OptionError` (not click's BadParameter),
so that every command refuses it in the same one line, ``nm: -R 10xpps: unknown unit ...``,
with exit status 2, as the library would. The option's first name is the one shown.
Imported by `nm --help`: nothing here may import the C extension, rich or dpkt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from nmtools import units


class _UnitType(click.ParamType):
    """Text parsed by one of `nmtools.units`' parsers, which takes `option=`."""

    parse: Callable[..., Any]

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):  # a default, or a value a caller already parsed
            return value
        option = param.opts[0] if param is not None and param.opts else ""
        return type(self).parse(value, option=option)


class RateType(_UnitType):
    """-R: ``10000``, ``10kpps``, ``1.5Mpps``, ``200Mbps``, ``1Gbpsl1`` -> `units.Rate`
    (None for 0: no limit)."""

    name = "rate"
    parse = staticmethod(units.parse_rate)


class DurationType(_UnitType):
    """-t: ``10``, ``1.5s``, ``500ms``, ``2m``, ``1m30s`` -> seconds."""

    name = "duration"
    parse = staticmethod(units.parse_duration)


class MacType(_UnitType):
    """-S / -D: a MAC address in any common spelling -> ``aa:bb:cc:dd:ee:ff``."""

    name = "mac"
    parse = staticmethod(units.parse_mac)


class CpuListType(_UnitType):
    """A CPU list, ``2-4,7`` -> sorted CPU numbers."""

    name = "cpulist"
    parse = staticmethod(units.parse_cpus)


RATE = RateType()
DURATION = DurationType()
MAC = MacType()
CPULIST = CpuListType()

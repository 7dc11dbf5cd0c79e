"""Ports by netmap name: the grammar (pure Python) and opening them (C rings)."""

from nmtools.ports.pipes import PipeInfo, list_pipes
from nmtools.ports.port import Port, open_port, open_ports, resolve
from nmtools.ports.spec import Mode, PortSpec, parse_port

__all__ = [
    "Mode",
    "PipeInfo",
    "Port",
    "PortSpec",
    "list_pipes",
    "open_port",
    "open_ports",
    "parse_port",
    "resolve",
]

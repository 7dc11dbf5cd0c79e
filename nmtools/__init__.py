"""nmtools: netmap's user-space tools as one Python toolkit with C hot loops.

>>> import nmtools
>>> with nmtools.open_port("netmap:demo{1") as a, nmtools.open_port("netmap:demo}1") as b:
...     a.send([b"\\xff" * 60])
...     b.recv()
"""

from nmtools.errors import NmError, PortSpecError

__version__ = "0.1.0"

# The ports (and with them the C extension) load on first use, so that `nm`'s hand-over to
# binutils and `nm --help` never pay for them (bench/handover.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from nmtools.ports import PortSpec, list_pipes, open_port, open_ports, parse_port

_LAZY = ("PortSpec", "list_pipes", "open_port", "open_ports", "parse_port")


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import nmtools.ports

        return getattr(nmtools.ports, name)
    raise AttributeError(f"module 'nmtools' has no attribute {name!r}")


__all__ = [
    "NmError",
    "PortSpec",
    "PortSpecError",
    "__version__",
    "list_pipes",
    "open_port",
    "open_ports",
    "parse_port",
]

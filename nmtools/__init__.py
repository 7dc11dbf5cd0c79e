"""nmtools: netmap's user-space tools as one Python toolkit with C hot loops.

>>> import nmtools
>>> with nmtools.open_port("netmap:demo{1") as a, nmtools.open_port("netmap:demo}1") as b:
...     a.send([b"\\xff" * 60])
...     b.recv()
"""

from nmtools.errors import NmError, PortSpecError
from nmtools.ports import PortSpec, list_pipes, open_port, open_ports, parse_port

__version__ = "0.1.0"

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

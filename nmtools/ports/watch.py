"""What a running tool watches on its port: the pipe's other end, the interface, the link.

Every tool that runs workers on a port wants the same three things said once: that a pipe
end waits for its peer (and when the peer comes), that the interface went away (which ends
the run with that line, not the loop's "down"), and what the link did with what was sent
(its own tx counters, and drops when it had no carrier).
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Sequence
from typing import Any

from nmtools import _bindings as B
from nmtools.errors import NmError, NoSuchPort
from nmtools.ports.port import Port
from nmtools.runner import Worker
from nmtools.views import Reporter


def _ifindex(name: str) -> int:
    """The interface's index in this process's network namespace (0: there is none)."""
    try:
        return socket.if_nametoindex(name)
    except (OSError, ValueError, UnicodeError):
        return 0


def _sysfs(ifname: str, leaf: str) -> int | None:
    try:
        with open(f"/sys/class/net/{ifname}/{leaf}") as f:
            return int(f.read().strip())
    except (OSError, ValueError):  # gone, down (carrier: EINVAL), or not a number
        return None


class PortWatch:
    """What a run keeps an eye on while its workers run.

    - The other end of a pipe: a pipe end with no peer moves nothing, so say once that it
      waits (and name the other end), and once more when the peer opens.
    - The interface: deleted (or replaced) while running, the run ends with that one line.
    - The link (tx): with no carrier the kernel drops what the port accepted; the
      interface's tx_dropped and tx_packets counters, read from sysfs when sysfs shows this
      namespace's interface (its ifindex matches), say what was carried.
    """

    PERIOD = 0.2  # seconds between looks

    def __init__(self, port: Port, *, sends: bool, tool: str = "nm") -> None:
        self.port = port
        self.tool = tool
        self.peer = ""
        self.peer_path = ""
        self.peer_end = 0
        self.peer_open: bool | None = None
        req, spec = port.request, port.spec
        if req.kind == B.lib.NMT_KIND_PIPE and spec is not None:
            other = "}" if req.pipe_end == 0 else "{"
            self.peer = f"{spec.subsys}:{spec.name}{other}{spec.pipe_id}"
            self.peer_path, self.peer_end = req.path, 1 - req.pipe_end
            self.peer_open = self._peer_alive()
        self.ifname = port.ifname if port.backend in ("xdp", "packet") else ""
        self.ifindex = int(port.handle.ifindex) if self.ifname else 0
        # watched only when this namespace's view of the name is the port's interface
        self.watch_if = bool(self.ifindex) and _ifindex(self.ifname) == self.ifindex
        self.sysfs = self.watch_if and _sysfs(self.ifname, "ifindex") == self.ifindex
        self.link0: tuple[int | None, int | None] | None = None
        self.carrier: bool | None = None
        self.sends = sends
        self.error: NmError | None = None
        self._next = 0.0

    def _peer_alive(self) -> bool | None:
        info = B.ffi.new("struct nmt_pipe_info *")
        err = B.ffi.new("char[]", 320)
        if B.lib.nmt_pipe_probe(self.peer_path.encode(), info, 0, err, 320) < 0:
            return None
        return bool(info.alive[self.peer_end])

    def start_info(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.peer:
            out.update(peer=self.peer, peer_open=self.peer_open)
        return out

    def begin(self, rep: Reporter) -> None:
        """Just before the workers start: the link counters, and what the user must know."""
        if self.peer and self.peer_open is False:
            rep.log(
                f"waiting for the other end of the pipe: nothing moves until {self.peer} is opened"
            )
        if self.sysfs and self.sends:
            self.link0 = self._link()
            carrier = _sysfs(self.ifname, "carrier")
            self.carrier = None if carrier is None else carrier == 1
            if self.carrier is False:
                rep.log(
                    f"{self.ifname} has no carrier (is its peer or cable down?): the kernel "
                    "drops what is sent, and the summary counts it"
                )

    def _link(self) -> tuple[int | None, int | None]:
        return (
            _sysfs(self.ifname, "statistics/tx_packets"),
            _sysfs(self.ifname, "statistics/tx_dropped"),
        )

    def tick(self, rep: Reporter, workers: Sequence[Worker]) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.PERIOD
        if self.peer and self.peer_open is False and self._peer_alive():
            self.peer_open = True
            rep.log(f"the other end of the pipe, {self.peer}, is open")
        if self.watch_if and self.error is None and self.gone():
            self.error = self._gone_error()
            for w in workers:
                w.cancel()

    def gone(self) -> bool:
        return bool(self.watch_if) and _ifindex(self.ifname) != self.ifindex

    def _gone_error(self) -> NmError:
        return NoSuchPort(
            f"{self.ifname}: the interface has gone away (deleted while {self.tool} ran)",
            errno.ENODEV,
        )

    def explain(self, error: BaseException | None) -> BaseException | None:
        """The one true line for how the run ended: a loop's error on an interface that
        was deleted meanwhile is that deletion (the loop may have seen only "down")."""
        if self.error is not None:
            return self.error
        if error is not None and self.gone():
            return self._gone_error()
        return error

    def link_extra(self) -> dict[str, Any]:
        """What the interface counted while the workers sent (summary extras)."""
        if self.link0 is None or self.gone():
            return {}
        now = self._link()
        out: dict[str, Any] = {"link": self.ifname, "link_carrier": self.carrier}
        carrier = _sysfs(self.ifname, "carrier")
        if carrier is not None and carrier != 1:
            out["link_carrier"] = False
        for key, a, b in (
            ("link_tx_packets", self.link0[0], now[0]),
            ("link_tx_dropped", self.link0[1], now[1]),
        ):
            if a is not None and b is not None:
                out[key] = max(0, b - a)
        return out

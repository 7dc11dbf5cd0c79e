"""Ports for N worker threads: one port whose rings the threads share, or a socket a thread.

A NIC reached over AF_XDP has one socket a queue, so N threads need N queues; with fewer,
`auto` falls back to AF_PACKET (and says why in `admode_note`), where threads that send get
a socket each and threads that receive share the traffic through a fanout group (the
kernel keeps each flow on one socket). Pipes and the other shared-memory ports have the
rings they were made with. This is every tool's policy, so that `-p N` means the same to
pkt-gen, bridge and replay.
"""

from __future__ import annotations

import os

from nmtools.errors import UsageError, printable
from nmtools.ports.port import Port, open_port

# what each use needs of the port: rings that send, receive, or both (ping/pong)
DIRECTIONS = ("tx", "rx", "rtt")


def open_for_workers(
    name: str, threads: int, direction: str, *, admode: str | None = None, who: str = ""
) -> list[Port]:
    """Open `name` for `threads` workers that use it in `direction` ("tx", "rx", "rtt").

    Returns one port (worker i uses ring i; all rings when there is one worker) or one
    port a worker (each uses ring 0). `who` names the caller in refusals ("-f tx").
    Everything opened is closed again when this raises.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r} is not one of {DIRECTIONS}")
    sends = direction in ("tx", "rtt")
    first = open_port(name, admode=admode, direction=direction)
    ports = [first]
    try:
        rings = first.num_tx_rings if sends else first.num_rx_rings
        if direction == "rtt":
            rings = min(first.num_tx_rings, first.num_rx_rings)
        need = {"rtt": "tx and rx", "tx": "tx", "rx": "rx"}[direction]
        if rings == 0:
            only = "transmit-only (/T)" if first.num_rx_rings == 0 else "receive-only (/R)"
            raise UsageError(
                f"{who} needs {need} rings, and {printable(name)} is "
                f"{only}: drop the /{'T' if first.num_rx_rings == 0 else 'R'}"
            )
        if threads > rings and first.backend == "xdp":
            if not first.request.auto:
                raise UsageError(
                    f"-p {threads}: {name} has {rings} queue(s) for AF_XDP, one a "
                    "thread is needed (use --admode packet, or fewer threads)"
                )
            first.close()
            ports.clear()
            first = open_port(name, admode="packet", direction=direction)
            first.admode_note = (
                f"AF_XDP has {rings} queue(s) here, -p {threads} needs a socket a thread"
            )
            ports.append(first)
        if threads <= rings:
            return ports
        if first.backend == "packet" and direction == "tx":
            for _ in range(threads - 1):
                ports.append(open_port(name, admode="packet", direction=direction))
        elif first.backend == "packet" and direction == "rx":
            group = os.getpid() % 0xFFFF + 1  # one group per process: no one else's sockets
            first.close()
            ports.clear()
            for _ in range(threads):
                ports.append(open_port(name, admode="packet", direction=direction, fanout=group))
        else:
            hint = " (ask a pipe for more with @conf:rings=N)" if first.backend == "pipe" else ""
            raise UsageError(
                f"-p {threads}: {name} has {rings} {need} ring(s), one per thread is needed{hint}"
            )
        return ports
    except BaseException:
        for p in ports:
            p.close()
        raise


def ring_of(ports: list[Port], worker: int, threads: int) -> tuple[Port, int]:
    """The port and ring worker `worker` uses (ring -1: all of them, for a lone worker)."""
    if len(ports) > 1:
        return ports[worker], 0
    return ports[0], (-1 if threads == 1 else worker)

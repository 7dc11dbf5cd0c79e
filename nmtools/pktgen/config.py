"""pkt-gen settings: one frozen dataclass the CLI fills and the library runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from nmtools.units import Rate


class Function(str, Enum):
    TX = "tx"
    RX = "rx"
    PING = "ping"
    PONG = "pong"
    TXSEQ = "txseq"
    RXSEQ = "rxseq"

    @property
    def sends(self) -> bool:
        return self in (Function.TX, Function.TXSEQ, Function.PING)


@dataclass(frozen=True)
class Endpoint:
    """One side of the generated flows: an address range and a UDP port range.

    Addresses are ints (IPv4: 32 bits, IPv6: 128 bits); ranges are inclusive.
    """

    ip_start: int
    ip_end: int
    port_start: int = 1234
    port_end: int = 1234
    ipv6: bool = False
    text: str = ""  # as the user wrote it (printed at start-up)

    @property
    def count(self) -> int:
        return (self.ip_end - self.ip_start + 1) * (self.port_end - self.port_start + 1)


MARK_LEN = 16  # seq (4), seconds (4), nanoseconds (4), flow (2), magic "nm" (2)
DEFAULT_SIZE = 60  # pkt-gen's frame size without CRC


def header_len(ipv6: bool, vlan: bool) -> int:
    """Ethernet (+ 802.1Q) + IPv4 or IPv6 + UDP header bytes."""
    return 14 + (4 if vlan else 0) + (40 if ipv6 else 20) + 8


def least_frame(function: Function, ipv6: bool, vlan: bool) -> int:
    """Shortest frame these settings allow (headers, plus the mark for seq/ping)."""
    need = header_len(ipv6, vlan)
    if function in (Function.TXSEQ, Function.RXSEQ, Function.PING, Function.PONG):
        need += MARK_LEN
    return max(need, 16)


@dataclass(frozen=True)
class Sizes:
    """Frame sizes (without CRC): fixed, random in [min, max], or a weighted mix (IMIX)."""

    min: int = 60
    max: int = 60
    mix: tuple[tuple[int, int], ...] = ()  # (size, weight) pairs, when not empty

    @property
    def fixed(self) -> bool:
        return not self.mix and self.min == self.max

    @property
    def largest(self) -> int:
        return max(s for s, _ in self.mix) if self.mix else self.max

    @classmethod
    def default(cls, function: Function, ipv6: bool = False, vlan: bool = False) -> Sizes:
        """pkt-gen's 60 bytes, or the least these headers (and the mark) need."""
        n = max(DEFAULT_SIZE, least_frame(function, ipv6, vlan))
        return cls(n, n)


@dataclass(frozen=True)
class Config:
    port: str
    function: Function = Function.RX
    count: int = 0  # packets (transactions for ping/pong); 0 = no limit
    duration: float = 0.0  # seconds; 0 = no limit
    sizes: Sizes = field(default_factory=Sizes)
    burst: int = 0  # 0: the function's default (512, or 1 for ping/pong)
    ipv6: bool = False
    src: Endpoint | None = None  # None: pkt-gen's defaults (10.0.0.1:1234 / 10.1.0.1:1234)
    dst: Endpoint | None = None
    src_mac: str | None = None  # None: the port's own MAC, else 00:00:00:00:00:00
    dst_mac: str = "ff:ff:ff:ff:ff:ff"
    random_src: bool = False  # -z
    random_dst: bool = False  # -Z
    vlan: int | None = None
    pcap: str | None = None  # -P: every packet of the file is a template, cycled
    rate: Rate | None = None
    threads: int = 1
    affinity: int | None = None  # -a: first CPU; thread i on a + i
    cpus: int = 0  # -c: how many CPUs the affinity rotates over (0: all)
    report_ms: int = 1000
    wait_link: float | None = None  # -w; None: 2 s on NICs, 0 on pipes/null
    wait_forever: bool = True  # rx: False with -W (stop after 1 s without packets)
    frags: int = 1  # -F
    frag_size: int = 0  # -M; 0 = buffer size
    dump: bool = False  # -X
    normalize: bool = True  # not -N
    avg_std: bool = False  # -A
    framing: bool = False  # -B: count 24 bytes of Ethernet framing per packet
    seed: int | None = None  # None: drawn at start and printed
    json: bool = False
    admode: str | None = None
    flows: int = 1  # txseq/rxseq: number of flows carrying their own sequence
    verbose: int = 0  # -v: print the port's details at start-up

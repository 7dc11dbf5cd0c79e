"""pkt-gen's command line as a `Config`: the option values click parsed, checked together.

`Options` holds exactly what the command's options are, typed (rates, durations and MACs
already parsed by `nmtools.cli.params`); `Options.config()` applies pkt-gen's rules: -o
bits, options that exclude each other, -C as @conf:, frame sizes and their default, the
address ranges. Pure Python: the command builds its Config before the C core is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from nmtools.errors import OptionError
from nmtools.pktgen import parse as P
from nmtools.pktgen.config import Config, Function, Sizes
from nmtools.units import Rate

# pkt-gen -o bits that still mean something here
O_DUMP, O_RANDOM_SRC, O_RANDOM_DST, O_PPS_STATS = 64, 512, 1024, 2048
O_UNSUPPORTED = {32: "indirect buffers (-I)", 256: "rubbish mode (-r)"}


def conf_suffix(text: str) -> str:
    """pkt-gen -C tx_slots[,rx_slots[,tx_rings[,rx_rings]]] as an @conf: option."""
    keys = ("tx_slots", "rx_slots", "tx_rings", "rx_rings")
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > 4 or not all(p.isdigit() for p in parts):
        shown = text if text.isprintable() and text else repr(text)
        raise OptionError(
            f"-C {shown}: expected tx_slots[,rx_slots[,tx_rings[,rx_rings]]] (numbers)"
        )
    vals = dict(zip(keys[: len(parts)], parts, strict=True))
    if len(parts) == 1:
        vals["rx_slots"] = parts[0]
    if len(parts) == 3:
        vals["rx_rings"] = parts[2]
    return "@conf:" + ",".join(f"{k}={v}" for k, v in vals.items() if v != "0")


@dataclass(frozen=True)
class Options:
    """`nm pkt-gen`'s options by their parameter names (see nmtools.cli.pktgen)."""

    port: str
    func: str | None = None
    function: str | None = None
    count: int = 0
    duration: float | None = None
    lengths: tuple[str, ...] = ()
    imix: bool = False
    mix: str | None = None
    burst: int = 0
    ipv4: bool = False
    ipv6: bool = False
    src: str | None = None
    dst: str | None = None
    src_mac: str | None = None
    dst_mac: str | None = None
    random_src: bool = False
    random_dst: bool = False
    vlan: int | None = None
    pcap: str | None = None
    rate: Rate | None = None
    threads: int = 1
    affinity: int | None = None
    cpus: int = 0
    report_ms: int = 1000
    wait_link: float | None = None
    exit_idle: bool = False
    frags: int = 1
    frag_size: int = 0
    no_normalize: bool = False
    avg_std: bool = False
    framing: bool = False
    conf: str | None = None
    options: int = 0
    dump: bool = False
    verbose: int = 0
    seed: int | None = None
    flows: int = 1
    as_json: bool = False
    admode: str | None = None

    def config(self) -> Config:
        """The Config these options ask for, or an OptionError naming what is wrong."""
        opts = self.options
        for bit, what in O_UNSUPPORTED.items():
            if opts & bit:
                raise OptionError(f"-o {opts}: {what} is not supported by nmtools")
        if self.func and self.function and self.func != self.function:
            raise OptionError(f"function given twice: '{self.func}' and -f {self.function}")
        fn = Function(self.func or self.function or "rx")
        ipv6 = self.ipv6
        if ipv6 and self.ipv4:
            raise OptionError("-4 and -6 together: choose one")
        port = self.port
        # an option given with an empty value is an error, never the option left out
        if self.conf is not None:
            port += conf_suffix(self.conf)
        if self.imix and self.mix is not None:
            raise OptionError("--imix and --mix together: choose one")
        if self.pcap is not None and not self.pcap.strip():
            raise OptionError("-P '': empty file name (give a pcap or pcapng file)")
        mix = self.mix is not None
        imix: bool | str = self.mix if self.mix is not None else self.imix
        sizes = P.parse_sizes(list(self.lengths), imix, imix_option="--mix" if mix else "--imix")
        if not self.lengths and not imix:
            sizes = Sizes.default(fn, ipv6, self.vlan is not None)
        src = P.parse_endpoint(self.src, ipv6=ipv6, option="-s") if self.src is not None else None
        dst = P.parse_endpoint(self.dst, ipv6=ipv6, option="-d") if self.dst is not None else None
        return Config(
            port=port,
            function=fn,
            count=self.count,
            duration=self.duration or 0.0,
            sizes=sizes,
            burst=self.burst,
            ipv6=ipv6,
            src=src,
            dst=dst,
            src_mac=self.src_mac,
            dst_mac=self.dst_mac or "ff:ff:ff:ff:ff:ff",
            random_src=self.random_src or bool(opts & O_RANDOM_SRC),
            random_dst=self.random_dst or bool(opts & O_RANDOM_DST),
            vlan=self.vlan,
            pcap=self.pcap,
            rate=self.rate,
            threads=self.threads,
            affinity=self.affinity,
            cpus=self.cpus,
            report_ms=self.report_ms,
            wait_link=self.wait_link,
            wait_forever=not self.exit_idle,
            frags=self.frags,
            frag_size=self.frag_size,
            normalize=not self.no_normalize,
            avg_std=self.avg_std or bool(opts & O_PPS_STATS),
            framing=self.framing,
            seed=self.seed,
            json=self.as_json,
            admode=self.admode,
            flows=self.flows,
            dump=self.dump or bool(opts & O_DUMP),
            verbose=self.verbose,
        )

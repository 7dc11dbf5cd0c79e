"""nm pkt-gen: netmap's pkt-gen options; nmtools.pktgen.options turns them into a Config.

`nm pkt-gen --help` loads this module: the library (C extension, dpkt) is imported by the
command body, when it runs.
"""

from __future__ import annotations

from typing import Any

import click

from nmtools.cli.common import admode_option, reports_errors
from nmtools.cli.params import DURATION, MAC, RATE

#: The values of nmtools.pktgen.Function (a test checks they agree).
FUNCTIONS = ["tx", "rx", "ping", "pong", "txseq", "rxseq"]

# Bounds of the integer options: what the C fields hold and what makes sense, so that a value
# out of range is refused with the range instead of overflowing (a traceback) on the way in.
U64 = 2**64 - 1
MAX_THREADS = 64  # NMT_MAX_RINGS: a port has at most 64 rings, a thread takes one
MAX_BURST = 65536  # the longest ring
MAX_CPU = 65535
MAX_REPORT_MS = 3_600_000  # an hour
MAX_WAIT_S = 3600.0


class _Seconds(click.FloatRange):
    """A number of seconds in [0, max]: also refuses nan (which compares false to both ends)."""

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        v = super().convert(value, param, ctx)
        if v != v:
            self.fail(f"{value!r} is not a number of seconds (0 to {self.max:g})", param, ctx)
        return float(v)


@click.command("pkt-gen", context_settings={"show_default": False})
@click.argument("func", required=False, type=click.Choice(FUNCTIONS), metavar="[FUNCTION]")
@click.option(
    "-i",
    "--interface",
    "port",
    required=True,
    metavar="PORT",
    help="Port name: netmap:eth0, eth0-1, netmap:p{1, null ...",
)
@click.option(
    "-f",
    "--function",
    "function",
    type=click.Choice(FUNCTIONS),
    help="tx, rx (default), ping, pong, txseq or rxseq.",
)
@click.option(
    "-n",
    "--count",
    type=click.IntRange(0, U64),
    default=0,
    help="Packets to send or receive (ping/pong: transactions); 0 = no limit.",
)
@click.option(
    "-t", "--duration", type=DURATION, metavar="TIME", help="Stop after this long (10, 500ms, 2m)."
)
@click.option(
    "-l",
    "--length",
    "lengths",
    multiple=True,
    metavar="BYTES",
    help="Frame size without CRC (60); 60-1514 or given twice: random per packet.",
)
@click.option("--imix", is_flag=True, help="Sizes from the simple IMIX: 7:4:1 of 60/590/1514.")
@click.option(
    "--mix", metavar="SIZE:WEIGHT,...", help="Sizes (without CRC) in your own mix: 60:7,590:4."
)
@click.option(
    "-b",
    "--burst",
    type=click.IntRange(0, MAX_BURST),
    default=0,
    help="Packets per ring operation (512; 1 for ping/pong).",
)
@click.option("-4", "ipv4", is_flag=True, help="IPv4 (the default).")
@click.option("-6", "ipv6", is_flag=True, help="IPv6.")
@click.option(
    "-s",
    "--src",
    metavar="IP[:PORT][-IP[:PORT]]",
    help="Source addresses and UDP ports: 198.18.0.1-198.18.0.100:1234-1240, CIDR.",
)
@click.option(
    "-d", "--dst", metavar="IP[:PORT][-IP[:PORT]]", help="Destination addresses and UDP ports."
)
@click.option("-S", "--src-mac", type=MAC, metavar="MAC", help="Source MAC (the port's own).")
@click.option(
    "-D", "--dst-mac", type=MAC, metavar="MAC", help="Destination MAC (ff:ff:ff:ff:ff:ff)."
)
@click.option("-z", "random_src", is_flag=True, help="Random source address and port.")
@click.option("-Z", "random_dst", is_flag=True, help="Random destination address and port.")
@click.option("--vlan", type=click.IntRange(0, 4095), help="Add an 802.1Q tag with this VLAN ID.")
@click.option(
    "-P",
    "--pcap",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Send the packets of this pcap/pcapng file, cycling through all of them.",
)
@click.option(
    "-R",
    "--rate",
    type=RATE,
    metavar="RATE",
    help="Rate: 10000 (pps), 10kpps, 1.5Mpps, 200Mbps, 1Gbpsl1 (with framing).",
)
@click.option(
    "-p",
    "--threads",
    type=click.IntRange(1, MAX_THREADS),
    default=1,
    help="Threads, one ring each.",
)
@click.option("-a", "--affinity", type=click.IntRange(0, MAX_CPU), help="Pin thread i to CPU a+i.")
@click.option(
    "-c",
    "--cpus",
    type=click.IntRange(0, MAX_CPU + 1),
    default=0,
    help="CPUs the pinning rotates over (0 = all).",
)
@click.option(
    "-T",
    "--report-ms",
    type=click.IntRange(10, MAX_REPORT_MS),
    default=1000,
    help="Report interval in ms.",
)
@click.option(
    "-w",
    "--wait-link",
    type=_Seconds(0, MAX_WAIT_S),
    default=None,
    help="Wait up to this many seconds for the link (2 on NICs).",
)
@click.option(
    "-W",
    "exit_idle",
    is_flag=True,
    help="rx: stop after 1 s without packets once traffic has started.",
)
@click.option(
    "-F",
    "--frags",
    type=click.IntRange(1, 63),
    default=1,
    help="Send each packet in this many slots.",
)
@click.option(
    "-M",
    "--frag-size",
    type=click.IntRange(0, 65535),
    default=0,
    help="Largest fragment (slot) size in bytes.",
)
@click.option("-N", "no_normalize", is_flag=True, help="Do not scale numbers (K, M, G).")
@click.option("-A", "avg_std", is_flag=True, help="Add the average and deviation of pps.")
@click.option(
    "-B", "framing", is_flag=True, help="Count 24 bytes of Ethernet framing per packet in bps."
)
@click.option(
    "-C",
    "conf",
    metavar="TXS[,RXS[,TXR[,RXR]]]",
    help="Ring geometry (deprecated: use @conf: in the port name).",
)
@click.option(
    "-o",
    "options",
    type=click.IntRange(0, 2**31 - 1),
    default=0,
    help="pkt-gen option bits (64 dump, 512 -z, 1024 -Z, 2048 -A).",
)
@click.option("-X", "dump", is_flag=True, help="Hexdump every packet (first 128 bytes).")
@click.option("-v", "verbose", count=True, help="More start-up detail.")
@click.option(
    "--seed",
    type=click.IntRange(0, U64),
    help="Random seed (printed, so a run can be repeated).",
)
@click.option(
    "--flows",
    type=click.IntRange(1, 65536),
    default=1,
    help="txseq: flows, each with its own sequence numbers.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines: intervals and a summary.")
@admode_option
@reports_errors
def pktgen(**params: Any) -> None:
    """Generate or sink traffic, as netmap's pkt-gen.

    FUNCTION (or -f) is tx, rx, ping, pong, txseq or rxseq, e.g. nm pkt-gen tx -i PORT.
    """
    from nmtools.pktgen import run
    from nmtools.pktgen.options import Options

    result = run(Options(**params).config())
    if result.summary.settings.get("interrupted"):
        raise SystemExit(130)

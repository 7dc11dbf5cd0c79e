"""pkt-gen: traffic generator and sink (tx, rx, ping, pong, txseq, rxseq) on any port."""

from nmtools.pktgen.config import Config, Endpoint, Function, Rate, Sizes
from nmtools.pktgen.run import Result, run

__all__ = ["Config", "Endpoint", "Function", "Rate", "Result", "Sizes", "run"]

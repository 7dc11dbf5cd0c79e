"""ping/pong across a veth pair: auto picks what measures latency (AF_XDP), falls back to
AF_PACKET as before, and pong's time runs from its first packet."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.root

HOLD = """
import sys, time
from nmtools import open_port
p = open_port(sys.argv[1], admode="xdp")
print("open", p.detail, flush=True)
time.sleep(600)
"""


def test_ping_pong_in_auto_measure_microseconds_not_the_block_timer(netns, nm):
    """auto gave TPACKET_V3 rings, whose ~1 ms block-retire timer was every RTT's p50; a
    behaviour check with a wide margin (AF_XDP measures tens of us here), not a benchmark."""
    na, nb = netns.veth()
    pong = nm.start("pkt-gen", "pong", "-i", "netmap:nmb", "-w", "0", "-n", "400", "--json", ns=nb)
    time.sleep(1.0)
    ping = nm.run(
        "pkt-gen", "ping", "-i", "netmap:nma", "-w", "0", "-n", "400", "-R", "1000", "--json", ns=na
    )
    assert ping.returncode == 0, ping.stderr
    out, err = pong.communicate(timeout=60)
    assert pong.returncode == 0, err
    s, p = nm.summary(ping.stdout), nm.summary(out)
    assert s["settings"]["backend"] == "xdp" and p["settings"]["backend"] == "xdp"
    assert s["rtt_count"] == 400 and p["pkts"] == 400
    assert s["rtt_p50_ns"] < 400_000, s  # the block timer made it ~1 000 000


def test_auto_still_falls_back_to_af_packet_for_latency(netns, nm):
    """Another process's XDP program holds nma: auto ping opens AF_PACKET and says why."""
    na, _ = netns.veth()
    holder = netns.python(na, HOLD, "netmap:nma")
    assert holder.stdout is not None and holder.stdout.readline().startswith("open")
    r = nm.run("pkt-gen", "ping", "-i", "netmap:nma", "-w", "0", "-n", "1", ns=na)
    assert r.returncode == 0, r.stderr
    assert "backend packet, admode packet" in r.stderr and "AF_XDP unavailable" in r.stderr
    holder.kill()


def test_pong_time_runs_from_its_first_packet(netns, nm):
    na, nb = netns.veth()
    pong = nm.start("pkt-gen", "pong", "-i", "netmap:nmb", "-w", "0", "-n", "100", "--json", ns=nb)
    time.sleep(2.0)  # idle before the first ping: not part of pong's time
    ping = nm.run(
        "pkt-gen", "ping", "-i", "netmap:nma", "-w", "0", "-n", "100", "-R", "500", "--json", ns=na
    )
    assert ping.returncode == 0, ping.stderr
    out, err = pong.communicate(timeout=60)
    assert pong.returncode == 0, err
    p, s = nm.summary(out), nm.summary(ping.stdout)
    assert p["pkts"] == 100
    assert p["seconds"] < s["seconds"] + 0.5, (p["seconds"], s["seconds"])

"""run_forward (fwd.c) between pipes: buffers swapped when the ports share memory, else copied."""

from __future__ import annotations

import threading

import pytest

from nmtools import open_port, open_ports
from nmtools.errors import NmError
from nmtools.loops import LoopStats, run_forward, run_pattern_rx, run_pattern_tx

N = 200_000


def _forward_and_check(src_tx: str, fwd_src: str, fwd_dst: str, dst_rx: str):
    """pattern tx on src_tx -> forward fwd_src -> fwd_dst -> pattern check on dst_rx."""
    names = list(dict.fromkeys([src_tx, fwd_src, fwd_dst, dst_rx]))  # one port per name
    ports = open_ports(names)
    by_name = dict(zip(names, ports, strict=True))
    out: dict[str, object] = {}
    try:
        checker = threading.Thread(
            target=lambda: out.update(
                rx=run_pattern_rx(by_name[dst_rx], N, seed=3, minlen=60, maxlen=2100, idle=10)
            )
        )
        fwd = threading.Thread(
            target=lambda: out.update(
                fwd=run_forward(by_name[fwd_src], by_name[fwd_dst], count=N, burst=64)
            )
        )
        checker.start()
        fwd.start()
        tx = run_pattern_tx(by_name[src_tx], N, seed=3, minlen=60, maxlen=2100)
        fwd.join(60)
        checker.join(60)
        assert not fwd.is_alive() and not checker.is_alive()
    finally:
        for p in ports:
            p.close()
    return tx, out["fwd"], out["rx"]


def test_between_two_pipes_frames_are_copied(shm):
    tx, fwd, rx = _forward_and_check("netmap:a{1", "netmap:a}1", "netmap:b{1", "netmap:b}1")
    assert tx.pkts == N
    assert (rx.good, rx.bad, rx.first_error) == (N, 0, "")
    assert not fwd.zerocopy
    assert fwd.stats.pkts == N and fwd.stats.drops == 0
    assert fwd.copied > N  # frames over 2048 bytes take two slots, each copied


def test_back_into_the_same_pipe_buffers_are_swapped(shm):
    # s{1 sends, s}1 turns the frames round (same shared memory), s{1 checks them
    tx, fwd, rx = _forward_and_check("netmap:s{1", "netmap:s}1", "netmap:s}1", "netmap:s{1")
    assert tx.pkts == N
    assert (rx.good, rx.bad, rx.first_error) == (N, 0, "")
    assert fwd.zerocopy and fwd.copied == 0
    assert fwd.stats.pkts == N


def test_forward_stops_when_cancelled_and_needs_rx_and_tx_rings(shm):
    with open_port("netmap:c{1") as a, open_port("netmap:c}1") as b:
        st = LoopStats()
        t = threading.Timer(0.3, st.cancel)
        t.start()
        r = run_forward(b, a, stats=st)  # nothing arrives: stops on cancel
        t.join()
        assert r.stats.pkts == 0
        with pytest.raises(NmError, match="forwarding needs rx rings"):
            run_forward(open_port("null/T"), a)

"""gen.c's loops called through the bindings: frames that can never fit, pacing at any rate,
the packets a paced run owes, pong's time span.

Each loop runs in a thread with a watchdog that cancels it: a loop that spins or stalls
fails its test instead of hanging the suite.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from nmtools import _bindings as B
from nmtools import open_port
from nmtools.pktgen.config import Config, Endpoint, Function, Sizes
from nmtools.pktgen.packets import make_plan

SRC = Endpoint(0xC6120001, 0xC6120001, 1234, 1234)  # 198.18.0.1
DST = Endpoint(0xC6120002, 0xC6120002, 1234, 1234)


def plan(
    function: Function = Function.TX,
    size: int = 60,
    count: int = 0,
    pps: float = 0.0,
    duration: float = 0.0,
    frag_size: int = 0,
    burst: int = 512,
) -> Any:
    cfg = Config(port="null", function=function, sizes=Sizes(size, size), duration=duration)
    return make_plan(cfg, SRC, DST, "02:00:00:00:00:01", 1, pps, count, burst, frag_size=frag_size)


def raw_plan(frame: bytes, count: int = 0, frag_size: int = 0) -> tuple[Any, list[Any]]:
    """A struct nmt_gen that sends `frame` as it is (as -P does), built here without Python's
    planning so that only the C loop stands between the frame and the ring."""
    g = B.ffi.new("struct nmt_gen *")
    keep = [B.ffi.new("uint8_t[]", frame), B.ffi.new("uint32_t[]", [0])]
    keep.append(B.ffi.new("uint32_t[]", [len(frame)]))
    g.tpl, g.tpl_off, g.tpl_len, g.ntpl = keep[0], keep[1], keep[2], 1
    g.l3_off = g.l4_off = g.mark_off = -1
    g.flows, g.count, g.burst, g.frag_size = 1, count, 512, frag_size
    return g, keep


def run_loop(fn: Any, port: Any, pl: Any, ring: int | None = -1, limit: float = 5.0):
    """(rc, struct nmt_run, errmsg, seconds) of fn on port with plan `pl` (a Plan, or a
    (struct, buffers) pair: what keeps the template alive); cancelled after `limit` s."""
    g = pl.gen if hasattr(pl, "gen") else pl[0]
    run = B.ffi.new("struct nmt_run *")
    out: dict[str, int] = {}
    args = (port.handle, g, run) if ring is None else (port.handle, ring, g, run)
    t = threading.Thread(target=lambda: out.update(rc=fn(*args)))
    t0 = time.monotonic()
    t.start()
    t.join(limit)
    if t.is_alive():
        run.st.cancel = 1
        t.join(10)
    assert not t.is_alive(), "the loop ignored cancel"
    return out["rc"], run, B.cstr(port.handle.errmsg), time.monotonic() - t0


# ---- frames that can never fit --------------------------------------------------------------


@pytest.mark.parametrize(
    "port, size, frag, what",
    [
        ("null", 2000, 1, "-i null -M 1 -l 2000"),
        ("null", 1024, 1, "-M 1 -l 1024: 1024 slots, the ring holds 1023"),
        ("null@conf:slots=4", 9000, 0, "slots=4 -l 9000: 5 buffers, 3 usable slots"),
        ("null@conf:slots=8", 1000, 16, "slots=8 -F 63 -l 1000: 63 fragments of 16 bytes"),
    ],
)
def test_a_frame_longer_than_the_ring_is_refused_not_spun_on(port, size, frag, what):
    with open_port(port) as p:
        rc, run, err, secs = run_loop(B.lib.nmt_gen_tx, p, plan(size=size, frag_size=frag))
    assert rc == -1, (what, int(run.st.pkts))
    assert "slots" in err and "\n" not in err, err
    assert run.st.pkts == 0 and run.st.done == 1
    assert secs < 2, what


def test_a_3_mb_frame_from_a_file_is_refused():
    with open_port("null") as p:
        rc, run, err, _ = run_loop(B.lib.nmt_gen_tx, p, raw_plan(bytes(3 << 20), count=1))
    assert rc == -1 and "3145728-byte frame" in err, err


def test_a_frame_of_exactly_the_usable_slots_goes():
    """4 slots, one always empty: a frame of 3 buffers fits, and 1000 of them go."""
    with open_port("null@conf:slots=4") as p:
        assert p.buf_size == 2048
        rc, run, err, _ = run_loop(B.lib.nmt_gen_tx, p, plan(size=6000, count=1000))
    assert rc == 0, err
    assert (run.st.pkts, run.st.bytes) == (1000, 6_000_000)


def test_ping_refuses_a_frame_longer_than_a_buffer():
    with open_port("null") as p:
        rc, _, err, _ = run_loop(
            B.lib.nmt_gen_ping, p, plan(Function.PING, size=4000, count=1), ring=None
        )
    assert rc == -1 and "4000" in err and "\n" not in err, err


# ---- pacing at any rate ---------------------------------------------------------------------


@pytest.mark.parametrize("pps", [1e30, 1e300, 5e18, 1.8446744073709552e19])
def test_absurdly_high_rates_send_everything(pps):
    """-R 1e30 sent one packet and then nothing (float -> integer overflow in the pacing)."""
    with open_port("null") as p:
        rc, run, err, _ = run_loop(B.lib.nmt_gen_tx, p, plan(count=100_000, pps=pps))
    assert rc == 0, err
    assert run.st.pkts == 100_000


@pytest.mark.parametrize("pps", [1e-30, 5e-324, 1e-9])
def test_absurdly_low_rates_send_the_first_packet_and_end_on_time(pps):
    """The packet due at 0 goes; the next is due in eons: the run ends with -t."""
    with open_port("null") as p:
        rc, run, err, secs = run_loop(B.lib.nmt_gen_tx, p, plan(pps=pps, duration=0.2))
    assert rc == 0, err
    assert run.st.pkts == 1
    assert secs < 2


def test_an_absurdly_low_rate_without_an_end_stops_on_cancel():
    with open_port("null") as p:
        rc, run, err, secs = run_loop(B.lib.nmt_gen_tx, p, plan(pps=1e-30), limit=0.3)
    assert rc == 0, err
    assert run.st.pkts == 1
    assert secs < 2  # the sleep towards the second packet noticed the cancel


# ---- what a paced run owes ------------------------------------------------------------------


@pytest.mark.parametrize(
    "pps, duration, count, want, least_s",
    [
        (1, 0.3, 0, 1, 0.3),  # -t 0.3 -R 1pps: the packet due at 0 goes
        (1, 0, 1, 1, 0),  # -n 1 -R 1pps
        (10, 0, 10, 10, 0.9),  # -n 10 -R 10pps: the last one due at 0.9 s
        (10, 1, 0, 10, 1.0),  # -t 1 -R 10pps: due at 0, 0.1 .. 0.9 s
        (7, 1, 0, 7, 1.0),
        (3, 0.5, 0, 2, 0.5),  # due at 0 and 0.333 s; the next at 0.667 s is past the end
    ],
)
def test_paced_runs_send_the_packets_due_before_the_end(pps, duration, count, want, least_s):
    with open_port("null") as p:
        g = plan(count=count, pps=pps, duration=duration, burst=1)
        rc, run, err, secs = run_loop(B.lib.nmt_gen_tx, p, g, limit=10)
    assert rc == 0, err
    assert run.st.pkts == want
    span = (run.st.t_end_ns - run.st.t_start_ns) / 1e9
    assert span >= least_s * 0.999  # never early
    assert secs < least_s + 3


# ---- pong's time span -----------------------------------------------------------------------


def test_pong_times_its_run_from_the_first_packet_to_the_last(shm):
    frame = bytes.fromhex("020000000002020000000001") + b"\x08\x00" + bytes(50)
    with open_port("netmap:pg{1") as a, open_port("netmap:pg}1") as b:
        run = B.ffi.new("struct nmt_run *")
        out: dict[str, int] = {}
        pl = plan(Function.PONG)
        g = pl.gen
        t = threading.Thread(target=lambda: out.update(rc=B.lib.nmt_gen_pong(b.handle, g, run)))
        t.start()
        try:
            time.sleep(0.3)
            first = B.lib.nmt_clock_ns()
            assert a.send([frame]) == 1
            assert len(a.recv(1, timeout=5)) == 1
            time.sleep(0.2)
            assert a.send([frame]) == 1
            assert len(a.recv(1, timeout=5)) == 1
            last = B.lib.nmt_clock_ns()
            time.sleep(0.3)
        finally:
            run.st.cancel = 1
            t.join(10)
    assert out["rc"] == 0
    assert run.st.pkts == 2
    assert first <= run.st.t_start_ns <= last
    assert run.st.t_start_ns <= run.st.t_end_ns <= last
    assert (run.st.t_end_ns - run.st.t_start_ns) / 1e9 >= 0.2


def test_pong_without_packets_spans_nothing():
    with open_port("null") as p:
        rc, run, err, _ = run_loop(B.lib.nmt_gen_pong, p, plan(Function.PONG), None, 0.2)
    assert rc == 0, err
    assert run.st.pkts == 0 and run.st.t_start_ns == run.st.t_end_ns > 0


def test_pong_returns_a_frame_of_several_slots_whole(shm):
    """A 3000-byte frame spans two 2048-byte slots: the reply is all of it, MACs swapped
    (it used to be the last slot alone)."""
    body = bytes(range(256)) * 12
    frame = (bytes.fromhex("020000000002020000000001") + b"\x88\xb5" + body)[:3000]
    with open_port("netmap:pm{1") as a, open_port("netmap:pm}1") as b:
        pl = plan(Function.PONG)
        out: dict[str, Any] = {}
        r = B.ffi.new("struct nmt_run *")
        t = threading.Thread(target=lambda: out.update(rc=B.lib.nmt_gen_pong(b.handle, pl.gen, r)))
        t.start()
        try:
            assert a.send([frame]) == 1
            got = a.recv(1, timeout=5)
        finally:
            r.st.cancel = 1
            t.join(10)
    assert out["rc"] == 0
    assert [len(f) for f in got] == [3000]
    assert got[0][:12] == frame[6:12] + frame[:6] and got[0][12:] == frame[12:]
    assert (r.st.pkts, r.st.bytes) == (1, 3000)

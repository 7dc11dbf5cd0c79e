"""A peer that breaks the pipe protocol: a process of the same user maps a live pipe's region
and scribbles on it while real pkt-gen and library loops run on the ends.

The victim must never crash, never count more than was really sent, and must end with one
line that says the other end broke the protocol. Buffer contents are the peer's to write
(data, not a breach): scribbling there or on the header changes nothing that is counted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

# Knows the region layout of pipe version 3 (pipe.c, shm.h) only to attack it.
HOSTILE = r"""
import mmap, os, random, struct, sys, time
path, mode, secs, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
fd = os.open(path, os.O_RDWR)
size = os.fstat(fd).st_size
m = mmap.mmap(fd, size)
(magic, ver, ready, nrings, nslots, bsz, nbufs,
 chans, _, slots, bufs, _) = struct.unpack_from("<QIIIIIIQQQQQ", m, 0)
assert ver == 3, ver
rnd = random.Random(seed)
MOD = nslots * 32768
chan = chans             # channel {->}, ring 0: prod at +0, cons at +64, swapped at +76
def slot(j): return slots + j * 8
def ctr(c): return c | ((~c & 0xffffffff) << 32)
def get(off): return struct.unpack_from("<Q", m, off)[0] & 0xffffffff
end, n = time.monotonic() + secs, 0
print("go", flush=True)
while time.monotonic() < end:
    j = rnd.randrange(nslots)
    if mode == "buf":                     # a buffer index far out of the region
        struct.pack_into("<I", m, slot(j), 4000000)
    elif mode == "len":                   # a length no buffer has
        struct.pack_into("<H", m, slot(j) + 4, 65535)
    elif mode == "flags":
        struct.pack_into("<H", m, slot(j) + 6, 0xFFFF)
    elif mode == "more":                  # every slot continues a frame: it never ends
        for k in range(nslots):
            struct.pack_into("<H", m, slot(k) + 6, 0x20)
        n += 1
        break
    elif mode == "prod32":                # a raw value over prod
        struct.pack_into("<I", m, chan, rnd.getrandbits(32))
    elif mode == "prodback":              # a well-formed prod that moved back
        struct.pack_into("<Q", m, chan, ctr((get(chan) - 5) % MOD))
    elif mode == "prodfwd":               # a well-formed prod a few slots ahead
        struct.pack_into("<Q", m, chan, ctr((get(chan) + 3) % MOD))
        n += 1
        break
    elif mode == "cons32":
        struct.pack_into("<I", m, chan + 64, rnd.getrandbits(32))
    elif mode == "consfwd":               # gives back slots never sent
        struct.pack_into("<Q", m, chan + 64, ctr((get(chan) + 7) % MOD))
    elif mode == "swapbuf":               # as the receiver: gives back 10 slots, one wild
        c = get(chan + 64)
        struct.pack_into("<I", m, slot((c + 5) % nslots), 4000000)
        struct.pack_into("<I", m, chan + 76, (c + 10) % MOD)
        struct.pack_into("<Q", m, chan + 64, ctr((c + 10) % MOD))
        n += 1
        break
    elif mode == "random":                # any byte of the ring metadata
        m[rnd.randrange(bufs)] = rnd.getrandbits(8)
    elif mode == "hdr":                   # the header: geometry and offsets
        struct.pack_into("<IIIIQQQQQ", m, 16, 64, 99999, 1, 7, 1, 2, 3, 4, 5)
    elif mode == "bufs":                  # packet data
        m[bufs + rnd.randrange(size - bufs)] = rnd.getrandbits(8)
    n += 1
    if mode not in ("random", "bufs"):
        time.sleep(0.0005)
print("scribbles", n, flush=True)
"""

# An end through the library: counts what its loop really moved, says how it ended. It stops
# after `secs` (a sender whose receiver broke waits for room until then).
VICTIM = r"""
import json, sys, threading, time
from nmtools import open_port
from nmtools.errors import NmError
from nmtools.loops import LoopStats, run_forward, run_rx, run_tx
name, what, count, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
st, err, got = LoopStats(), "", 0
with open_port(name) as p:
    print("ready", flush=True)
    timer = threading.Timer(secs, st.cancel)
    timer.daemon = True
    timer.start()
    end = time.monotonic() + secs
    try:
        if what == "rx":
            run_rx(p, count=count, batch=64, stats=st)
        elif what == "tx":
            run_tx(p, bytes(60), count=count, batch=64, stats=st)
        elif what == "hold":  # an end that takes nothing
            sys.stdin.read()
        elif what == "tx2":  # count frames, wait for a line, then 10 more
            run_tx(p, bytes(60), count=count, batch=64, stats=st)
            print(json.dumps({"pkts": st.snapshot().pkts}), flush=True)
            sys.stdin.readline()
            run_tx(p, bytes(60), count=10, batch=64, stats=LoopStats())
        elif what == "fwd":  # netmap bridge's loop, the pipe end as its source
            with open_port("null") as sink:
                got = run_forward(p, sink, count=count, idle=secs, stats=st).stats.pkts
        else:  # Port.recv, frames copied out by the slow path
            while time.monotonic() < end:
                got += len(p.recv(max_frames=64, timeout=0.2))
    except NmError as e:
        err = str(e)
print(json.dumps({"pkts": got or st.snapshot().pkts, "error": err}), flush=True)
"""


NM = os.path.join(os.path.dirname(sys.executable), "nm")


def wait_ready(shm, timeout: float = 10) -> None:
    """Until the first end has made the pipe's region."""
    t = time.monotonic() + timeout
    while time.monotonic() < t:
        if [f for f in os.listdir(shm) if "fifo" not in f]:
            return
        time.sleep(0.02)
    raise AssertionError("the first end never opened")


def _nm(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([NM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _py(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _summary(out: str) -> dict:
    for line in reversed(out.strip().splitlines()):
        d = json.loads(line)
        if d.get("type") == "summary":
            return d
    raise AssertionError(f"no summary in {out[-500:]!r}")


def _last_total(out: str) -> int:
    """Packets counted by the last report of a run that ended without a summary."""
    totals = [json.loads(x)["total"]["pkts"] for x in out.splitlines() if '"interval"' in x]
    return totals[-1] if totals else 0


def _one_breach_line(proc: subprocess.Popen[str], err: str) -> None:
    """Exit 1 (not a signal), and stderr's one error line says the protocol was broken."""
    assert proc.returncode == 1, (proc.returncode, err[-2000:])
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if "nm:" in x or "broke" in x]
    assert len(lines) == 1, err
    assert "the other end broke the pipe protocol" in lines[0]


class Run:
    """Processes of one test; all are killed at the end, also on failure."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def add(self, p: subprocess.Popen[str]) -> subprocess.Popen[str]:
        self.procs.append(p)
        return p

    def hostile(self, shm, name: str, mode: str, secs: float, seed: int = 1):
        path = shm / f"nmt-{os.geteuid()}-pipe-{name}@1"
        h = self.add(_py(HOSTILE, str(path), mode, str(secs), str(seed)))
        assert h.stdout is not None and h.stdout.readline().strip() == "go", h.stderr
        return h

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(10)


@pytest.fixture
def run():
    r = Run()
    try:
        yield r
    finally:
        r.close()


def _ready(p: subprocess.Popen[str]) -> None:
    """The child's "ready" line, read a byte at a time from the pipe itself: readline()
    would buffer what follows it (a fast child's result line), which communicate(), reading
    the pipe and not that buffer, would then never see."""
    assert p.stdout is not None
    line = b""
    while not line.endswith(b"\n"):
        c = os.read(p.stdout.fileno(), 1)
        if not c:
            break
        line += c
    assert line.decode().strip() == "ready", p.stderr


def _stop(p: subprocess.Popen[str], timeout: float = 20) -> tuple[str, str]:
    """SIGINT (the run then prints its summary), then its output."""
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    return p.communicate(timeout=timeout)


# ---- pkt-gen on the victim's end: one line, never a crash -------------------------------


@pytest.mark.parametrize(
    ("func", "extra", "sender", "mode"),
    [
        ("rx", (), "tx", "buf"),
        ("rx", ("-X", "-R", "20000"), "tx", "len"),  # -X reads the buffers it prints
        ("rxseq", (), "txseq", "prod32"),  # rxseq reads every frame's mark
        ("rx", (), "tx", "flags"),
    ],
)
def test_pktgen_receiver_survives_a_scribbling_peer(shm, run, func, extra, sender, mode):
    rx = run.add(_nm("pkt-gen", func, "-i", "netmap:hr}1", "--json", "-T", "100", *extra))
    wait_ready(shm)
    rate = extra[extra.index("-R") + 1] if "-R" in extra else "2Mpps"
    tx = run.add(_nm("pkt-gen", sender, "-i", "netmap:hr{1", "-R", rate, "--json", "-T", "100"))
    time.sleep(0.4)
    run.hostile(shm, "hr", mode, 1.0)
    out, err = rx.communicate(timeout=30)
    _one_breach_line(rx, err)
    tout, terr = _stop(tx)
    assert tx.returncode in (0, 130), terr
    assert _last_total(out) <= _summary(tout)["pkts"]
    assert "Traceback" not in terr


def test_pktgen_sender_survives_a_scribbling_peer(shm, run):
    rx = run.add(_nm("pkt-gen", "rx", "-i", "netmap:ht}1", "--json", "-W"))
    wait_ready(shm)
    tx = run.add(_nm("pkt-gen", "tx", "-i", "netmap:ht{1", "-R", "2Mpps", "--json", "-T", "100"))
    time.sleep(0.4)
    run.hostile(shm, "ht", "cons32", 1.0)
    tout, terr = tx.communicate(timeout=30)
    _one_breach_line(tx, terr)
    out, err = _stop(rx)
    assert rx.returncode in (0, 130), err
    assert _summary(out)["pkts"] <= _last_total(tout) + 200_000  # the last 100 ms
    assert os.listdir(shm) == []


def test_pktgen_sender_checks_the_buffers_it_gets_back(shm, run):
    """A receiver that swaps buffers hands others back; one out of range breaks the pipe
    (txseq, which writes every frame, would write there)."""
    holder = run.add(_py(VICTIM, "netmap:hb}1", "hold", "0", "30"))
    _ready(holder)
    tx = run.add(_nm("pkt-gen", "txseq", "-i", "netmap:hb{1", "--json", "-T", "100"))
    time.sleep(0.5)  # the ring is full: the sender waits for slots back
    run.hostile(shm, "hb", "swapbuf", 1.0).wait(10)
    tout, terr = tx.communicate(timeout=30)
    _one_breach_line(tx, terr)
    assert "buffer 4000000 given back" in terr


# ---- library victims: what they count is at most what was sent --------------------------


def _result(p: subprocess.Popen[str]) -> dict:
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err  # no signal, no traceback
    res = json.loads(out.strip().splitlines()[-1])
    assert "\n" not in res["error"]
    return res


BREACH = "the other end broke the pipe protocol"


@pytest.mark.parametrize(
    ("what", "mode"),
    [
        ("rx", "prodback"),  # was counted as a lap: 1.9 G received for 0.8 G sent
        ("rx", "prod32"),
        ("rx", "random"),
        ("recv", "len"),  # Port.recv copied 65535 bytes from past the region
        ("recv", "buf"),
    ],
)
def test_receiver_counts_at_most_what_was_sent(shm, run, what, mode):
    rx = run.add(_py(VICTIM, "netmap:hv}1", what, "0", "1.0"))
    _ready(rx)
    tx = run.add(_py(VICTIM, "netmap:hv{1", "tx", "0", "1.0"))
    _ready(tx)
    time.sleep(0.3)
    run.hostile(shm, "hv", mode, 0.4, seed=len(mode)).wait(20)
    got, sent = _result(rx), _result(tx)
    if mode == "random":  # either end may be the first to see it
        assert BREACH in got["error"] + sent["error"], (got, sent)
    else:
        assert BREACH in got["error"], got
    assert 0 < got["pkts"] <= sent["pkts"], (got, sent)


def test_a_wellformed_forged_prod_is_a_sender_and_the_sender_notices(shm, run):
    """A peer that writes a valid prod 3 slots ahead has published those slots (their stale
    contents): the receiver counts those 3 (not a lap more), and the real sender, finding
    slots given back that it never sent, stops with one line at its next sync."""
    rx = run.add(_py(VICTIM, "netmap:hf}1", "rx", "0", "1.5"))
    _ready(rx)
    tx = run.add(_py(VICTIM, "netmap:hf{1", "tx2", "1000", "30"))
    _ready(tx)
    assert tx.stdout is not None and json.loads(tx.stdout.readline())["pkts"] == 1000
    time.sleep(0.3)  # all taken and given back
    run.hostile(shm, "hf", "prodfwd", 0.1).wait(10)
    got = _result(rx)
    assert got == {"pkts": 1003, "error": ""}
    out, err = tx.communicate("more\n", timeout=30)
    assert BREACH in json.loads(out.strip().splitlines()[-1])["error"], err


@pytest.mark.parametrize("mode", ["consfwd", "cons32"])
def test_sender_counts_at_most_what_it_sent(shm, run, mode):
    rx = run.add(_py(VICTIM, "netmap:hs}1", "rx", "0", "1.0"))
    _ready(rx)
    tx = run.add(_py(VICTIM, "netmap:hs{1", "tx", "0", "1.0"))
    _ready(tx)
    time.sleep(0.3)
    run.hostile(shm, "hs", mode, 0.4, seed=7).wait(20)
    got, sent = _result(rx), _result(tx)
    assert BREACH in sent["error"], sent
    assert got["pkts"] <= sent["pkts"], (got, sent)


def test_recv_says_when_a_frame_can_never_end(shm, run):
    """Every slot of a full ring flagged NS_MOREFRAG (a valid flag) is one frame longer than
    the ring: Port.recv says so instead of waiting for its end forever."""
    tx = run.add(_py(VICTIM, "netmap:hm{1", "tx", "5000", "30"))
    _ready(tx)
    time.sleep(0.3)  # the ring is full; nobody reads yet
    run.hostile(shm, "hm", "more", 1.0).wait(10)
    rx = run.add(_py(VICTIM, "netmap:hm}1", "recv", "0", "3"))
    _ready(rx)
    got = _result(rx)
    assert got["pkts"] == 0
    assert "is full of one unfinished frame (1023 slots, each NS_MOREFRAG)" in got["error"]


def test_forward_says_when_a_frame_can_never_end(shm, run):
    """The same never-ending frame stops run_forward with one line instead of a wait."""
    tx = run.add(_py(VICTIM, "netmap:hf{1", "tx", "5000", "30"))
    _ready(tx)
    time.sleep(0.3)
    run.hostile(shm, "hf", "more", 1.0).wait(10)
    fwd = run.add(_py(VICTIM, "netmap:hf}1", "fwd", "0", "3"))
    _ready(fwd)
    got = _result(fwd)
    assert got["pkts"] == 0
    assert "fills the whole rx ring and never ends" in got["error"], got


# ---- scribbles on what is not trusted anyway: counts stay exact -------------------------


@pytest.mark.parametrize("mode", ["hdr", "bufs"])
def test_header_and_buffer_scribbles_change_no_count(shm, run, mode):
    n = 2_000_000
    rx = run.add(_nm("pkt-gen", "rx", "-i", "netmap:hx}1", "-n", str(n), "--json"))
    wait_ready(shm)
    tx = run.add(_nm("pkt-gen", "tx", "-i", "netmap:hx{1", "-n", str(n), "-R", "2Mpps", "--json"))
    time.sleep(0.3)
    run.hostile(shm, "hx", mode, 0.5)
    tout, terr = tx.communicate(timeout=30)
    out, err = rx.communicate(timeout=30)
    assert tx.returncode == 0 and rx.returncode == 0, (terr, err)
    assert _summary(tout)["pkts"] == _summary(out)["pkts"] == n
    assert os.listdir(shm) == []

"""AF_PACKET ports on veth pairs in namespaces the tests make: real frames through the kernel."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.root

RX = """
import json, sys
from nmtools import open_port
from nmtools.loops import run_pattern_rx
name, count, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open_port(name, admode="packet") as p:
    print("ready", flush=True)
    r = run_pattern_rx(p, count, seed=11, minlen=lo, maxlen=hi, idle=3)
print(json.dumps({"good": r.good, "bad": r.bad, "foreign": r.foreign, "err": r.first_error}))
"""

TX = """
import json, sys
from nmtools import open_port
from nmtools.loops import run_pattern_tx
name, count, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open_port(name, admode="packet") as p:
    s = run_pattern_tx(p, count, seed=11, minlen=lo, maxlen=hi, batch=64)
print(json.dumps({"sent": s.pkts, "backend": p.backend if not p.closed else "closed"}))
"""


def rx_counter(netns, ns: str, dev: str) -> int:
    return int(netns.sh(ns, "cat", f"/sys/class/net/{dev}/statistics/rx_packets"))


def move(netns, src_ns, src, dst_ns, dst, count, lo=60, hi=1514, rx_name=None, tx_cpu=None):
    rx = netns.python(dst_ns, RX, rx_name or f"netmap:{dst}", str(count), str(lo), str(hi))
    assert rx.stdout is not None and rx.stdout.readline().strip() == "ready", rx.stderr.read()
    tx = netns.run_json(src_ns, TX, f"netmap:{src}", str(count), str(lo), str(hi), cpu=tx_cpu)
    out, err = rx.communicate(timeout=120)
    assert rx.returncode == 0, err
    import json

    return tx, json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("direction", ["a->b", "b->a"])
def test_frames_arrive_byte_exact(netns, direction):
    na, nb = netns.veth()
    pairs = {"a->b": (na, "nma", nb, "nmb"), "b->a": (nb, "nmb", na, "nma")}
    src_ns, src, dst_ns, dst = pairs[direction]
    before = rx_counter(netns, dst_ns, dst)
    tx, rx = move(netns, src_ns, src, dst_ns, dst, 20000)
    assert tx["sent"] == 20000
    assert rx == {"good": 20000, "bad": 0, "foreign": 0, "err": ""}
    # the kernel saw them too
    assert rx_counter(netns, dst_ns, dst) - before >= 20000


def test_jumbo_frames_span_slots(netns):
    """With MTU 9000, frames up to 9014 bytes cross as several 2048-byte slots."""
    na, nb = netns.veth(mtu=9000)
    tx, rx = move(netns, na, "nma", nb, "nmb", 3000, lo=1000, hi=9014)
    assert tx["sent"] == 3000
    assert rx == {"good": 3000, "bad": 0, "foreign": 0, "err": ""}


SEND_BIG = """
import sys
from nmtools import open_port
with open_port("netmap:nma", admode="packet") as p:
    p.send([bytes(1515)])
"""


def test_frame_longer_than_mtu_is_refused(netns):
    na, _ = netns.veth()
    p = netns.python(na, SEND_BIG)
    out, err = p.communicate(timeout=60)
    assert p.returncode != 0
    assert "1515 bytes, longer than the port allows (1514 bytes: MTU 1500 + 14)" in err


INFO = """
import json
from nmtools import open_port
with open_port("netmap:nma/T", admode="packet") as t, open_port("netmap:nma/R") as r:
    print(json.dumps([t.info(), r.info()]))
"""


def test_tx_only_and_rx_only(netns):
    na, _ = netns.veth()
    t, r = netns.run_json(na, INFO)
    assert (t["tx_rings"], t["rx_rings"]) == (1, 0)
    assert (r["tx_rings"], r["rx_rings"]) == (0, 1)
    assert t["backend"] == r["backend"] == "packet"
    assert t["admode"] == "packet" and t["mtu"] == 1500
    assert t["mac"] and t["mac"] != "00:00:00:00:00:00"


def test_unprivileged_user_gets_one_line(netns):
    na, _ = netns.veth()
    p = netns.python(na, "from nmtools.cli import main; main()", "info", "netmap:nma", user="65534")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert "permission denied" in lines[0] and "CAP_NET_RAW" in lines[0]


def test_unknown_interface_in_namespace(netns):
    na = netns.namespace()
    p = netns.python(na, "from nmtools.cli import main; main()", "info", "netmap:nosuch9")
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1 and "nosuch9: no such interface" in err


QUEUES = """
import json
from nmtools import open_port
from nmtools.loops import run_pattern_rx
with open_port("netmap:nmb-0") as q0, open_port("netmap:nmb-1") as q1, \\
        open_port("netmap:nmb") as qa:
    print("ready", flush=True)
    rq = {0: q0, 1: q1}
    want = int(__import__("sys").argv[1])
    r = run_pattern_rx(rq[want], 2000, seed=11, minlen=60, maxlen=1514, idle=3)
    ra = run_pattern_rx(qa, 2000, seed=11, minlen=60, maxlen=1514, idle=1)
    other = len(rq[1 - want].recv(max_frames=4096, timeout=0.5))
    print(json.dumps({"want": r.good, "all": ra.good, "other": other,
                      "queues": q1.num_queues, "queue": q1.queue}))
"""


@pytest.mark.parametrize("cpu", [0, 1])
def test_one_queue_of_a_multi_queue_veth(netns, cpu):
    """eth-N binds one queue: a sender on CPU c uses veth queue c (qdisc bypass picks
    CPU % queues), so only port -c sees its frames, while the all-queue port sees all."""
    import json
    import os

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs to steer frames to two queues")
    na, nb = netns.veth(queues=2)
    rx = netns.python(nb, QUEUES, str(cpu))
    assert rx.stdout is not None and rx.stdout.readline().strip() == "ready", rx.stderr.read()
    tx = netns.run_json(na, TX, "netmap:nma", "2000", "60", "1514", cpu=cpu)
    out, err = rx.communicate(timeout=60)
    assert rx.returncode == 0, err
    got = json.loads(out.strip().splitlines()[-1])
    assert tx["sent"] == 2000
    assert got == {"want": 2000, "all": 2000, "other": 0, "queues": 2, "queue": 1}


def test_queue_out_of_range(netns):
    na, _ = netns.veth(queues=2)
    p = netns.python(na, "from nmtools.cli import main; main()", "info", "netmap:nma-2")
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1 and "queue 2 does not exist" in err, err

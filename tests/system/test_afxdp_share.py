"""AF_XDP ports opened together share one UMEM, so frames are forwarded without a copy.

Topology (three namespaces the test makes): sender `sa` -> `fa` | forwarder | `fb` -> `rb`
receiver. The forwarder moves frames from fa's rx rings to fb's tx rings.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.root

N = 20000

FWD = """
import json, sys
from dataclasses import replace
from nmtools import open_port, open_ports
from nmtools.loops import run_forward
from nmtools.ports.port import _open_group, resolve
a, b, how, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if how == "together":
    pa, pb = open_ports([a, b], admode="xdp")
elif how == "per-socket":
    # what a kernel without XDP_SHARED_UMEM across devices (< 5.10) gets: every socket
    # registers the same arena (mode NMT_XDP_UMEM_PER_SOCKET)
    specs, reqs = zip(*(resolve(n, "xdp") for n in (a, b)))
    pa, pb = _open_group([a, b], list(specs), [replace(r, mode=0x10) for r in reqs])
else:
    pa, pb = open_port(a, admode="xdp"), open_port(b, admode="xdp")
print(json.dumps({"mem": [pa.mem_id, pb.mem_id], "detail": [pa.detail, pb.detail]}), flush=True)
r = run_forward(pa, pb, count=count, idle=5)
print(json.dumps({"pkts": r.stats.pkts, "drops": r.stats.drops, "zerocopy": r.zerocopy,
                  "copied": r.copied}))
"""

RX = """
import json, sys
from nmtools import open_port
from nmtools.loops import run_pattern_rx
with open_port(sys.argv[1], admode=sys.argv[2]) as p:
    print("ready", flush=True)
    r = run_pattern_rx(p, int(sys.argv[3]), seed=9, minlen=60, maxlen=1514, idle=5)
    print(json.dumps({"good": r.good, "bad": r.bad, "err": r.first_error}))
"""

TX = """
import json, sys
from nmtools import open_port
from nmtools.loops import run_pattern_tx
with open_port(sys.argv[1], admode="xdp") as p:
    s = run_pattern_tx(p, int(sys.argv[2]), seed=9, minlen=60, maxlen=1514, batch=64)
    print(json.dumps({"sent": s.pkts}))
"""


def chain(netns, queues: int = 1) -> tuple[str, str, str]:
    s, f, r = netns.namespace(), netns.namespace(), netns.namespace()
    netns.link(s, f, "sa", "fa", queues)
    netns.link(f, r, "fb", "rb", queues)
    return s, f, r


GROUP_ERROR = """
import json, sys
from nmtools import open_ports
from nmtools.errors import NmError
try:
    open_ports(sys.argv[1:], admode="xdp")
except NmError as e:
    print(json.dumps({"err": str(e), "type": type(e).__name__}))
"""


def group_error(netns, ns: str, *names: str) -> dict:
    """The error open_ports(names) raises in namespace ns."""
    return netns.run_json(ns, GROUP_ERROR, *names)


def ready(proc) -> str:
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    return line


@pytest.mark.parametrize("how", ["together", "per-socket", "separate"])
def test_forward_between_two_xdp_ports(netns, how):
    s, f, r = chain(netns)
    big = "@conf:rx_slots=32768"  # room for the whole burst: Ethernet has no flow control
    rx = netns.python(r, RX, f"netmap:rb{big}", "xdp", str(N))
    assert ready(rx).strip() == "ready"
    fwd = netns.python(f, FWD, f"netmap:fa{big}", "netmap:fb", how, str(N))
    opened = json.loads(ready(fwd))
    tx = netns.run_json(s, TX, "netmap:sa", str(N))
    fout, ferr = fwd.communicate(timeout=60)
    assert fwd.returncode == 0, ferr
    rout, rerr = rx.communicate(timeout=60)
    assert rx.returncode == 0, rerr
    moved = json.loads(fout.strip().splitlines()[-1])
    got = json.loads(rout.strip().splitlines()[-1])

    assert tx["sent"] == N
    assert got == {"good": N, "bad": 0, "err": ""}  # every byte of every frame, in order
    assert moved["pkts"] == N and moved["drops"] == 0
    mem_a, mem_b = opened["mem"]
    if how == "together":
        assert mem_a == mem_b
        assert all("UMEM shared with 1 other port" in d for d in opened["detail"])
        assert moved["zerocopy"] and moved["copied"] == 0
    elif how == "per-socket":
        assert mem_a == mem_b
        assert all(
            "UMEM registered per socket, buffers shared with 1 other port" in d
            for d in opened["detail"]
        )
        assert moved["zerocopy"] and moved["copied"] == 0
    else:
        assert mem_a != mem_b
        assert not any("UMEM" in d for d in opened["detail"])
        assert not moved["zerocopy"] and moved["copied"] == N


def test_group_open_fails_whole_and_leaves_nothing(netns):
    s, f, r = chain(netns)
    out = group_error(netns, f, "netmap:fa", "netmap:nosuch0")
    assert out["type"] == "NoSuchPort" and "nosuch0" in out["err"]
    assert " xdp" not in netns.sh(f, "ip", "-o", "link", "show", "fa")  # fa was closed again


def test_group_of_pipe_and_xdp_ports(netns, shm):
    s, f, r = chain(netns)
    code = """
import json
from nmtools import open_ports
ports = open_ports(["netmap:fa", "netmap:grp{1", "netmap:fb", "netmap:grp}1"], admode="xdp")
print(json.dumps([[p.backend, p.mem_id] for p in ports]))
"""
    (ba, ma), (bp0, mp0), (bb, mb), (bp1, mp1) = netns.run_json(f, code)
    assert (ba, bp0, bb, bp1) == ("xdp", "pipe", "xdp", "pipe")
    assert ma == mb and mp0 == mp1 and ma != mp0


def test_a_port_outlives_the_one_that_registered_the_umem(netns):
    s, f, r = chain(netns)
    code = """
import json, sys
from nmtools import open_ports
from nmtools.loops import run_pattern_tx
a, b = open_ports(["netmap:fa", "netmap:fb"], admode="xdp")
a.close()  # its socket registered the UMEM; b's shares it
s = run_pattern_tx(b, int(sys.argv[1]), seed=9, minlen=60, maxlen=1514, batch=64)
print(json.dumps({"sent": s.pkts}))
"""
    rx = netns.python(r, RX, "netmap:rb@conf:rx_slots=32768", "packet", "5000")
    assert ready(rx).strip() == "ready"
    assert netns.run_json(f, code, "5000") == {"sent": 5000}
    out, err = rx.communicate(timeout=60)
    assert rx.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"good": 5000, "bad": 0, "err": ""}


def test_a_taken_queue_fails_the_group_and_leaves_nothing(netns):
    s, f, r = chain(netns)
    holder = netns.python(
        f,
        "import time; from nmtools import open_port\n"
        "p = open_port('netmap:fb/T', admode='xdp'); print('ready', flush=True); "
        "time.sleep(120)",
    )
    assert ready(holder).strip() == "ready"
    out = group_error(netns, f, "netmap:fa", "netmap:fb")
    assert out["type"] == "PortBusy", out
    assert "fb" in out["err"] and "queue is taken" in out["err"]
    assert " xdp" not in netns.sh(f, "ip", "-o", "link", "show", "fa")  # fa's program went too


def test_two_receiving_ports_on_one_interface_are_refused_clearly(netns):
    s, f, r = chain(netns)
    out = group_error(netns, f, "netmap:fa", "netmap:fa/R")
    assert out["type"] == "PortBusy" and "open it once" in out["err"], out
    assert " xdp" not in netns.sh(f, "ip", "-o", "link", "show", "fa")


BRIDGE = """
import json, sys, threading
from nmtools import open_ports
from nmtools.loops import LoopStats, run_forward
a, b = open_ports(["netmap:fa", "netmap:fb"], admode="xdp")
stats, res = (LoopStats(), LoopStats()), {}
threads = [
    threading.Thread(target=lambda: res.update(ab=run_forward(a, b, stats=stats[0]))),
    threading.Thread(target=lambda: res.update(ba=run_forward(b, a, stats=stats[1]))),
]
for t in threads:
    t.start()
print("ready", flush=True)
sys.stdin.readline()
for s in stats:
    s.cancel()
for t in threads:
    t.join()
print(json.dumps({k: [r.stats.pkts, r.zerocopy, r.copied] for k, r in res.items()}))
"""


def test_the_kernel_pings_through_a_zero_copy_forwarder_both_ways(netns):
    s, f, r = chain(netns)
    netns.sh(s, "ip", "addr", "add", "198.18.0.1/24", "dev", "sa")
    netns.sh(r, "ip", "addr", "add", "198.18.0.2/24", "dev", "rb")
    cmd = ["ip", "netns", "exec", f, sys.executable, "-c", BRIDGE]
    fwd = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    netns.procs.append(fwd)
    assert ready(fwd).strip() == "ready"
    ping = subprocess.run(
        ["ip", "netns", "exec", s, "ping", "-c", "5", "-i", "0.2", "-W", "2", "198.18.0.2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    out, err = fwd.communicate("stop\n", timeout=30)
    assert fwd.returncode == 0, err
    assert ping.returncode == 0 and " 0% packet loss" in ping.stdout, ping.stdout
    moved = json.loads(out.strip().splitlines()[-1])
    # ARP request + 5 echo requests one way, ARP reply + 5 replies the other (and maybe a
    # later ARP probe): every one swapped, none copied
    assert moved["ab"][0] >= 6 and moved["ba"][0] >= 6, moved
    assert moved["ab"][1:] == [True, 0] and moved["ba"][1:] == [True, 0]


def test_frames_too_long_for_the_destination_are_dropped_and_counted(netns, shm):
    s, f, r = chain(netns)
    code = """
import json
from nmtools import open_ports
from nmtools.loops import run_forward
a, b, x = open_ports(["netmap:big{1", "netmap:big}1", "netmap:fb"], admode="xdp")
# AF_XDP buffers hold 2048 - 256 bytes: 1800-byte frames cannot go out on fb
assert x.buf_size == 1792, x.buf_size
a.send([bytes(1800), bytes(100)] * 10)
res = run_forward(b, x, count=20)
x.flush()
print(json.dumps([res.stats.pkts, res.stats.drops, res.zerocopy]))
"""
    k0 = int(netns.sh(r, "cat", "/sys/class/net/rb/statistics/rx_packets"))
    assert netns.run_json(f, code) == [10, 10, False]  # a pipe's memory is not the UMEM
    time_left = 50
    while int(netns.sh(r, "cat", "/sys/class/net/rb/statistics/rx_packets")) - k0 < 10:
        time_left -= 1
        assert time_left, "the 10 short frames did not arrive"
        time.sleep(0.1)


def test_auto_reaches_ports_opened_together_over_xdp(netns, monkeypatch):
    monkeypatch.delenv("NMTOOLS_ADMODE", raising=False)
    s, f, r = chain(netns)
    code = """
import json
from nmtools import open_ports
a, b = open_ports(["netmap:fa", "netmap:fb"])  # forwarding: one shared UMEM
print(json.dumps([[p.admode, p.backend, p.mem_id] for p in (a, b)]))
"""
    (ma, ba, ida), (mb, bb, idb) = netns.run_json(f, code)
    assert (ma, ba, mb, bb) == ("xdp", "xdp", "xdp", "xdp") and ida == idb
    # a port opened alone for receiving still gets the better sink
    single = """
import json
from nmtools import open_ports
(p,) = open_ports(["netmap:fa"], direction="rx")
print(json.dumps(p.admode))
"""
    assert netns.run_json(f, single) == "packet"


def test_forward_between_multi_queue_ports_one_umem_for_all_sockets(netns, nm):
    s, f, r = chain(netns, queues=2)
    code = """
import json, sys
from nmtools import open_ports
from nmtools.loops import run_forward
a, b = open_ports(["netmap:fa", "netmap:fb"])
print(json.dumps([a.detail, b.detail]), flush=True)
res = run_forward(a, b, count=int(sys.argv[1]), idle=5)
print(json.dumps([res.stats.pkts, res.zerocopy, res.copied]))
"""
    # 50 kpps: the forwarder's 8192 rx slots a socket hold ~160 ms of traffic, so a loaded
    # machine that deschedules it for a while still loses nothing (veth has no flow control)
    fwd = netns.python(f, code, "50000")
    details = json.loads(ready(fwd))
    # two queues a port, four sockets, one UMEM
    assert all("queues 0-1, UMEM shared with 1 other port" in d for d in details), details
    k0 = int(netns.sh(r, "cat", "/sys/class/net/rb/statistics/rx_packets"))
    tx = nm.run(
        "pkt-gen",
        "tx",
        "-i",
        "netmap:sa",
        "-p",
        "2",
        "-n",
        "50000",
        "-R",
        "50kpps",
        "-w",
        "0",
        "--json",
        ns=s,
    )
    assert tx.returncode == 0, tx.stderr
    out, err = fwd.communicate(timeout=60)
    assert fwd.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == [50000, True, 0]
    assert int(netns.sh(r, "cat", "/sys/class/net/rb/statistics/rx_packets")) - k0 == 50000

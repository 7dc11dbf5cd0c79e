"""AF_XDP ports on veth pairs in namespaces the tests make."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

pytestmark = pytest.mark.root

RX = """
import json, sys
from nmtools import open_port
from nmtools.loops import run_pattern_rx
name, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open_port(name, admode=mode) as p:
    print("ready", flush=True)
    r = run_pattern_rx(p, count, seed=5, minlen=60, maxlen=1514, idle=3)
    print(json.dumps({"good": r.good, "bad": r.bad, "foreign": r.foreign, "err": r.first_error,
                      "backend": p.backend}))
"""

TX = """
import json, sys
from nmtools import open_port
from nmtools.loops import run_pattern_tx
name, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open_port(name, admode=mode) as p:
    s = run_pattern_tx(p, count, seed=5, minlen=60, maxlen=1514, batch=64)
    print(json.dumps({"sent": s.pkts, "backend": p.backend, "detail": p.detail}))
"""


def xdp_attached(netns, ns: str, dev: str) -> bool:
    return " xdp" in netns.sh(ns, "ip", "-o", "link", "show", dev)


@pytest.mark.parametrize("tx_mode, rx_mode", [("xdp", "xdp"), ("xdp", "packet"), ("packet", "xdp")])
@pytest.mark.parametrize("reverse", [False, True])
def test_frames_arrive_byte_exact(netns, tx_mode, rx_mode, reverse):
    na, nb = netns.veth()
    (sns, sdev), (dns, ddev) = ((nb, "nmb"), (na, "nma")) if reverse else ((na, "nma"), (nb, "nmb"))
    # A checker that compares every byte is slower than a sender that only copies, and
    # Ethernet has no flow control: AF_XDP buffers as many frames as its fill ring has
    # slots, so give the receiver room for the whole burst (AF_PACKET has 32 MiB anyway).
    rx = netns.python(dns, RX, f"netmap:{ddev}@conf:rx_slots=32768", rx_mode, "20000")
    assert rx.stdout is not None and rx.stdout.readline().strip() == "ready", rx.stderr.read()
    tx = netns.run_json(sns, TX, f"netmap:{sdev}", tx_mode, "20000")
    out, err = rx.communicate(timeout=60)
    assert rx.returncode == 0, err
    got = json.loads(out.strip().splitlines()[-1])
    assert tx["sent"] == 20000 and tx["backend"] == tx_mode
    assert got == {"good": 20000, "bad": 0, "foreign": 0, "err": "", "backend": rx_mode}
    assert not xdp_attached(netns, dns, ddev)  # closed: the program went with the port


def test_pkt_gen_exact_counts_and_auto_picks_xdp_for_sending(netns, nm):
    na, nb = netns.veth()
    rx = nm.start("pkt-gen", "rx", "-i", "netmap:nmb", "-n", "100000", "--json", "-w", "0", ns=nb)
    time.sleep(1.0)
    tx = nm.run(
        "pkt-gen",
        "tx",
        "-i",
        "netmap:nma",
        "-n",
        "100000",
        "-R",
        "400kpps",
        "--json",
        "-w",
        "0",
        ns=na,
    )
    assert tx.returncode == 0, tx.stderr
    out, err = rx.communicate(timeout=60)
    t, r = nm.summary(tx.stdout), nm.summary(out)
    assert t["settings"]["admode"] == "xdp" and t["settings"]["backend"] == "xdp"
    assert r["settings"]["admode"] == "packet"  # the better sink here
    assert t["pkts"] == r["pkts"] == 100000


def test_one_queue_and_two_threads(netns, nm):
    na, nb = netns.veth(queues=2)
    # queue 1 -> queue 1: a port on the peer's queue 0 sees none of it (AF_PACKET there:
    # one XDP program an interface, so one process receives over AF_XDP)
    q0 = nm.start(
        "pkt-gen",
        "rx",
        "-i",
        "netmap:nmb-0",
        "--admode",
        "packet",
        "-W",
        "--json",
        "-w",
        "0",
        "-t",
        "6",
        ns=nb,
    )
    q1 = nm.start(
        "pkt-gen",
        "rx",
        "-i",
        "netmap:nmb-1",
        "--admode",
        "xdp",
        "-n",
        "5000",
        "--json",
        "-w",
        "0",
        ns=nb,
    )
    time.sleep(1.5)
    tx = nm.run(
        "pkt-gen",
        "tx",
        "-i",
        "netmap:nma-1",
        "--admode",
        "xdp",
        "-n",
        "5000",
        "-R",
        "100kpps",
        "-w",
        "0",
        ns=na,
    )
    assert tx.returncode == 0, tx.stderr
    out1, err1 = q1.communicate(timeout=60)
    assert q1.returncode == 0, err1
    assert nm.summary(out1)["pkts"] == 5000
    q0.send_signal(signal.SIGINT)
    out0, _ = q0.communicate(timeout=60)
    assert nm.summary(out0)["pkts"] == 0
    # -p 2: one thread a queue, both counted
    rx = nm.start("pkt-gen", "rx", "-i", "netmap:nmb", "-n", "40000", "--json", "-w", "0", ns=nb)
    time.sleep(1.0)
    tx = nm.run(
        "pkt-gen",
        "tx",
        "-i",
        "netmap:nma",
        "--admode",
        "xdp",
        "-p",
        "2",
        "-n",
        "40000",
        "-R",
        "200kpps",
        "--json",
        "-w",
        "0",
        ns=na,
    )
    assert tx.returncode == 0, tx.stderr
    t = nm.summary(tx.stdout)
    assert t["pkts"] == 40000 and t["settings"]["threads"] == 2
    assert nm.summary(rx.communicate(timeout=60)[0])["pkts"] == 40000


HOLD = """
import sys, time
from nmtools import open_port
p = open_port(sys.argv[1], admode="xdp")
print("open", p.detail, flush=True)
time.sleep(600)
"""


def ping_answered(netns, ns: str, addr: str, wait: float) -> bool:
    """Does `addr` answer one echo within `wait` seconds?"""
    r = subprocess.run(
        ["ip", "netns", "exec", ns, "ping", "-c", "1", "-W", str(wait), addr],
        capture_output=True,
        text=True,
        timeout=wait + 30,
    )
    return r.returncode == 0


def test_kill_9_leaves_no_program_and_traffic_flows_again(netns):
    na, nb = netns.veth()
    holder = netns.python(nb, HOLD, "netmap:nmb")
    assert holder.stdout is not None and holder.stdout.readline().startswith("open")
    assert xdp_attached(netns, nb, "nmb")
    # while the program holds the interface, its socket takes the frames (ARP too): the
    # stack does not answer, so the ping below can fail
    assert not ping_answered(netns, na, "198.18.0.2", 1)
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    # the kernel detaches the program as the last descriptor of its link goes; on a busy
    # machine that may take a while after the process is reaped
    deadline = time.monotonic() + 20
    while xdp_attached(netns, nb, "nmb") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not xdp_attached(netns, nb, "nmb")
    # the kernel stack answers again: the first echo also waits for ARP (and, loaded, for
    # the scheduler), so it may take a few tries; then it answers every one
    deadline = time.monotonic() + 20
    while not ping_answered(netns, na, "198.18.0.2", 2):
        assert time.monotonic() < deadline, netns.sh(nb, "ip", "-s", "link", "show", "nmb")
    out = netns.sh(na, "ping", "-c", "3", "-i", "0.2", "-W", "5", "198.18.0.2")
    assert "3 received" in out, out


def test_conflicting_program_is_named_and_left_alone(netns):
    na, nb = netns.veth()
    holder = netns.python(nb, HOLD, "netmap:nmb")
    assert holder.stdout is not None and holder.stdout.readline().startswith("open")
    p = netns.python(
        nb, "from nmtools.cli import main; main()", "info", "--admode", "xdp", "netmap:nmb"
    )
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert "XDP program" in lines[0] and "nmb" in lines[0], lines[0]
    assert xdp_attached(netns, nb, "nmb")  # theirs is still there
    assert holder.poll() is None


def test_info_shows_xdp_details(netns):
    na, _ = netns.veth(queues=2)
    p = netns.python(
        na,
        "from nmtools.cli import main; main()",
        "info",
        "--json",
        "--admode",
        "xdp",
        "netmap:nma",
    )
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    d = json.loads(out)
    assert d["backend"] == "xdp" and d["num_queues"] == 2 and d["tx_rings"] == 2
    assert "XDP native" in d["detail"] or "XDP generic" in d["detail"]
    assert "copy" in d["detail"]


def test_tx_only_port_loads_no_program(netns):
    na, _ = netns.veth()
    holder = netns.python(na, HOLD, "netmap:nma/T")
    assert holder.stdout is not None and "tx only" in holder.stdout.readline()
    assert not xdp_attached(netns, na, "nma")
    holder.kill()
    holder.wait(10)
    assert os.path.exists("/proc/self")


def test_pkt_gen_tx_leaves_the_host_stack_its_traffic(netns, nm):
    """A sender over AF_XDP loads no XDP program: the interface still answers ping."""
    na, nb = netns.veth()
    tx = nm.start(
        "pkt-gen",
        "tx",
        "-i",
        "netmap:nma",
        "-t",
        "3",
        "-R",
        "50kpps",
        "-w",
        "0",
        "-d",
        "198.18.9.9",
        ns=na,
    )
    time.sleep(1.0)
    assert not xdp_attached(netns, na, "nma")
    assert " 0% packet loss" in netns.sh(nb, "ping", "-c", "2", "-W", "2", "198.18.0.1")
    out, err = tx.communicate(timeout=30)
    assert tx.returncode == 0, err
    assert "backend xdp" in err


def test_more_threads_than_queues(netns, nm):
    """AF_XDP has a socket a queue: auto sends with -p 2 on one queue over AF_PACKET (and says
    why); forced xdp is a usage error."""
    na, nb = netns.veth()
    rx = nm.start("pkt-gen", "rx", "-i", "netmap:nmb", "-n", "20000", "--json", "-w", "0", ns=nb)
    time.sleep(1.0)
    tx = nm.run(
        "pkt-gen",
        "tx",
        "-i",
        "netmap:nma",
        "-p",
        "2",
        "-n",
        "20000",
        "-R",
        "100kpps",
        "--json",
        "-w",
        "0",
        ns=na,
    )
    assert tx.returncode == 0, tx.stderr
    t = nm.summary(tx.stdout)
    assert t["settings"]["backend"] == "packet" and t["pkts"] == 20000
    assert nm.summary(rx.communicate(timeout=60)[0])["pkts"] == 20000
    bad = nm.run(
        "pkt-gen", "tx", "-i", "netmap:nma", "-p", "2", "-n", "10", "--admode", "xdp", ns=na
    )
    assert bad.returncode == 2 and "1 queue(s) for AF_XDP" in bad.stderr

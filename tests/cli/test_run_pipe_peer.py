"""A pipe end with no peer says once that it waits for the other end, naming it (it printed
0 pps forever without a hint), and once more when the other end opens."""

from __future__ import annotations

import io
import json
import os
import time

from nmtools import views
from nmtools.pktgen import Config, Function, run

from .test_pktgen_pipe import wait_ready


def test_rx_without_a_peer_says_what_it_waits_for(nm, shm):
    rx = nm.start("pkt-gen", "rx", "-i", "netmap:wt}3", "-n", "20")
    wait_ready(shm)
    time.sleep(2.3)  # two report intervals with nothing
    tx = nm.run("pkt-gen", "tx", "-i", "netmap:wt{3", "-n", "20", "-R", "20pps")
    assert tx.returncode == 0, tx.stderr
    out, err = rx.communicate(timeout=30)
    assert rx.returncode == 0, err
    waiting = [x for x in err.splitlines() if "waiting for the other end" in x]
    assert len(waiting) == 1, err
    assert waiting[0].endswith(
        "main [0] waiting for the other end of the pipe: nothing moves until netmap:wt{3 is opened"
    )
    opened = [x for x in err.splitlines() if "the other end of the pipe, netmap:wt{3, is open" in x]
    assert len(opened) == 1, err
    assert "Received 20 packets" in out
    # the sender found its peer there: no such line
    assert "waiting for the other end" not in tx.stderr
    assert os.listdir(shm) == []


def test_json_start_record_names_the_peer(nm, shm):
    r = nm.run("pkt-gen", "tx", "-i", "netmap:js{2", "-t", "0.3", "--json")
    assert r.returncode == 0, r.stderr
    start = json.loads(r.stdout.splitlines()[0])
    assert start["type"] == "start"
    assert start["peer"] == "netmap:js}2" and start["peer_open"] is False
    assert "waiting for the other end of the pipe: nothing moves until netmap:js}2" in r.stderr
    rx = nm.start("pkt-gen", "rx", "-i", "netmap:js}2", "-n", "5", "--json")
    wait_ready(shm)
    tx = nm.run("pkt-gen", "tx", "-i", "netmap:js{2", "-n", "5", "--json")
    start = json.loads(tx.stdout.splitlines()[0])
    assert start["peer"] == "netmap:js}2" and start["peer_open"] is True
    assert "waiting" not in tx.stderr
    rx.communicate(timeout=30)


def test_other_ports_have_no_peer_fields(nm):
    r = nm.run("pkt-gen", "tx", "-i", "null", "-n", "1", "--json")
    start = json.loads(r.stdout.splitlines()[0])
    assert "peer" not in start and "waiting" not in r.stderr


def test_the_library_reporter_gets_the_line(shm):
    out, err = io.StringIO(), io.StringIO()
    rep = views.PlainReporter(out, err)
    cfg = Config(port="netmap:lib{1", function=Function.RX, duration=0.4)
    res = run(cfg, reporter=rep)
    assert res.pkts == 0
    assert "waiting for the other end of the pipe: nothing moves until netmap:lib}1" in (
        err.getvalue()
    )
    assert os.listdir(shm) == []

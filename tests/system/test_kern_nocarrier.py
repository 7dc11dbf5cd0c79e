"""tx on an interface without carrier (a veth whose peer is down): the kernel drops every
frame, and the port says so: its tx_dropped counters agree with the interface's."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.root

N = 10000

SEND = """
import json, sys
from nmtools import open_port
from nmtools.loops import run_tx
frame = bytes.fromhex("ffffffffffff020000000001" "88b5") + bytes(46)  # local experimental type
with open_port(sys.argv[1], admode=sys.argv[2]) as p:
    s = run_tx(p, frame, int(sys.argv[3]), batch=64)
    h = p.handle
    drops = [int(h.tx_dropped[i]) for i in range(p.num_tx_rings)]
    print(json.dumps({"sent": s.pkts, "dropped": drops, "backend": p.backend}))
"""


def counter(netns, ns: str, dev: str, name: str) -> int:
    return int(netns.sh(ns, "cat", f"/sys/class/net/{dev}/statistics/{name}"))


@pytest.mark.parametrize("admode, queues", [("packet", 1), ("xdp", 1), ("xdp", 2)])
def test_no_carrier_every_frame_is_a_counted_drop(netns, admode, queues):
    na, nb = netns.namespace(), netns.namespace()
    netns.link(na, nb, "nma", "nmb", queues=queues)
    netns.sh(nb, "ip", "link", "set", "nmb", "down")  # nma: up, NO-CARRIER
    assert "NO-CARRIER" in netns.sh(na, "ip", "link", "show", "nma")
    before = counter(netns, na, "nma", "tx_dropped")
    # AF_PACKET retried each dropped frame forever (0 pps, tx_dropped racing up): the
    # timeout is the hang check
    r = netns.run_json(na, SEND, "netmap:nma", admode, str(N), timeout=60)
    dropped = counter(netns, na, "nma", "tx_dropped") - before
    assert r["backend"] == admode and r["sent"] == N
    assert dropped == N and sum(r["dropped"]) == N, (dropped, r)
    assert counter(netns, na, "nma", "tx_packets") == 0


@pytest.mark.parametrize("admode", ["packet", "xdp"])
def test_with_carrier_nothing_is_dropped(netns, admode):
    na, nb = netns.namespace(), netns.namespace()
    netns.link(na, nb, "nma", "nmb")
    before = counter(netns, nb, "nmb", "rx_packets")
    r = netns.run_json(na, SEND, "netmap:nma", admode, "500", timeout=60)
    assert r["sent"] == 500 and r["dropped"] == [0]
    assert counter(netns, nb, "nmb", "rx_packets") - before == 500

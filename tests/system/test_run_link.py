"""What happens to the link while pkt-gen runs: the interface deleted (the run ends with one
true line after its summary), the peer down (what the kernel dropped is counted)."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.root

MODES = ["xdp", "packet"]


def counter(netns, ns: str, dev: str, name: str) -> int:
    return int(netns.sh(ns, "cat", f"/sys/class/net/{dev}/statistics/{name}"))


def summary_lines(out: str, verb: str) -> list[str]:
    lines = out.strip().splitlines()
    head = [i for i, x in enumerate(lines) if x.startswith(f"{verb} ")]
    assert head, out
    return lines[head[-1] :]


@pytest.mark.parametrize("mode", MODES)
def test_deleting_the_interface_ends_both_ends_with_their_summary(netns, nm, mode):
    """rx kept printing 0 pps until SIGTERM; tx said "interface is down (bring it up)" for an
    interface that no longer exists; neither printed a summary."""
    na, nb = netns.veth()
    rx = nm.start("pkt-gen", "rx", "-i", "netmap:nma", "--admode", mode, "-w", "0", ns=na)
    time.sleep(1.0)
    tx = nm.start(
        "pkt-gen", "tx", "-i", "netmap:nmb", "--admode", mode, "-w", "0", "-R", "20kpps", ns=nb
    )
    time.sleep(1.5)
    netns.sh(na, "ip", "link", "del", "nma")  # takes its peer nmb with it
    for p, dev, verb in ((rx, "nma", "Received"), (tx, "nmb", "Sent")):
        out, err = p.communicate(timeout=30)
        assert p.returncode == 1, (dev, out, err)
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == (
            f"nm: {dev}: the interface has gone away (deleted while pkt-gen ran)"
        ), err
        lines = summary_lines(out, verb)
        assert int(lines[0].split()[1]) > 1000, out  # what was done before
        assert lines[1].startswith("Speed: ")


@pytest.mark.parametrize("mode", MODES)
def test_json_summary_comes_before_the_error_line(netns, nm, mode):
    na, _ = netns.veth()
    tx = nm.start(
        "pkt-gen",
        "tx",
        "-i",
        "netmap:nma",
        "--admode",
        mode,
        "-w",
        "0",
        "-R",
        "5kpps",
        "--json",
        ns=na,
    )
    time.sleep(1.2)
    netns.sh(na, "ip", "link", "del", "nma")
    out, err = tx.communicate(timeout=30)
    assert tx.returncode == 1
    assert nm.summary(out)["pkts"] > 1000
    assert err.strip().splitlines()[-1] == (
        "nm: nma: the interface has gone away (deleted while pkt-gen ran)"
    )


@pytest.mark.parametrize("mode", MODES)
def test_tx_without_carrier_reports_what_the_kernel_dropped(netns, nm, mode):
    """The peer down: every packet was reported sent while tx_dropped rose by as many."""
    na, nb = netns.veth()
    netns.sh(nb, "ip", "link", "set", "nmb", "down")
    before = counter(netns, na, "nma", "tx_dropped")
    r = nm.run(
        "pkt-gen",
        "tx",
        "-i",
        "netmap:nma",
        "--admode",
        mode,
        "-w",
        "0.3",
        "-n",
        "1000",
        "--json",
        ns=na,
    )
    after = counter(netns, na, "nma", "tx_dropped")
    assert r.returncode == 0, r.stderr
    assert "nma has no carrier (is its peer or cable down?)" in r.stderr
    s = nm.summary(r.stdout)
    assert s["link"] == "nma" and s["link_carrier"] is False
    assert s["link_tx_dropped"] == after - before > 0  # the kernel's own count
    if mode == "packet":
        return  # AF_PACKET's tx ring gets back what the kernel dropped, and sends it again
    assert s["pkts"] == 1000 == s["link_tx_dropped"]  # accepted by the port, all dropped
    plain = nm.run(
        "pkt-gen", "tx", "-i", "netmap:nma", "--admode", mode, "-w", "0", "-n", "200", ns=na
    )
    last = plain.stdout.strip().splitlines()[-1]
    assert last.startswith("Errors: ") and last.endswith(" dropped by nma (no carrier)"), last


@pytest.mark.parametrize("mode", MODES)
def test_tx_with_carrier_counts_what_the_link_carried(netns, nm, mode):
    na, nb = netns.veth()
    got0 = counter(netns, nb, "nmb", "rx_packets")
    r = nm.run(
        "pkt-gen",
        "tx",
        "-i",
        "netmap:nma",
        "--admode",
        mode,
        "-w",
        "0",
        "-n",
        "5000",
        "--json",
        ns=na,
    )
    assert r.returncode == 0, r.stderr
    s = nm.summary(r.stdout)
    got = counter(netns, nb, "nmb", "rx_packets") - got0
    assert s["pkts"] == 5000 and got >= 5000
    assert s["link_tx_dropped"] == 0 and s["link_tx_packets"] >= 5000
    assert s["link_carrier"] is True
    assert "carrier" not in r.stderr
    text = nm.run(
        "pkt-gen", "tx", "-i", "netmap:nma", "--admode", mode, "-w", "0", "-n", "9", ns=na
    )
    assert "Errors" not in text.stdout
    assert json.dumps(s)  # plain JSON values


LIBRARY = """
import json, subprocess, sys, threading, time
from nmtools.errors import NmError
from nmtools.pktgen import Config, Function, Rate, run
from nmtools import views
def delete():
    time.sleep(1.0)
    subprocess.run(["ip", "link", "del", "nma"], check=True)
threading.Thread(target=delete).start()
cfg = Config(port="netmap:nma", function=Function.TX, admode=sys.argv[1], wait_link=0,
             rate=Rate(5000, "pps"))
try:
    run(cfg, reporter=views.JsonReporter(open("/dev/null", "w")))
except NmError as e:
    print(json.dumps({"error": str(e), "pkts": e.result.pkts, "kind": e.result.summary.kind}))
"""


@pytest.mark.parametrize("mode", MODES)
def test_the_library_raises_with_the_result_of_what_was_done(netns, mode):
    na, _ = netns.veth()
    d = netns.run_json(na, LIBRARY, mode, timeout=60)
    assert d["error"] == "nma: the interface has gone away (deleted while pkt-gen ran)"
    assert d["kind"] == "Sent" and d["pkts"] > 1000

"""nm pkt-gen through veth pairs in namespaces; tcpdump decodes and checks what we sent."""

from __future__ import annotations

import json
import time

import dpkt
import pytest

pytestmark = [
    pytest.mark.root,
    pytest.mark.tools("tcpdump"),
]


def capture(netns, ns: str, dev: str, count: int, path) -> object:
    """Start tcpdump writing `count` frames of `dev` to `path`; returns once it listens."""
    p = netns.python(
        ns,
        "import subprocess, sys\n"
        "p = subprocess.Popen(['tcpdump', '-i', sys.argv[1], '-c', sys.argv[2], '-w', sys.argv[3],"
        " '-U', '-s', '0'], stderr=subprocess.PIPE, text=True)\n"
        "for line in p.stderr:\n"
        "    print(line.strip(), flush=True)\n"
        "p.wait(); sys.exit(p.returncode)",
        dev,
        str(count),
        str(path),
    )
    assert p.stdout is not None
    for line in p.stdout:  # "listening on nmb, link-type EN10MB ..."
        if "listening on" in line:
            return p
    raise AssertionError("tcpdump did not start: " + (p.stderr.read() if p.stderr else ""))


def decode(netns, ns: str, path) -> list[str]:
    out = netns.sh(ns, "tcpdump", "-r", str(path), "-nn", "-vv", "-e")
    return [x for x in out.splitlines() if x and not x.startswith(" ")]


def checked(netns, ns, path, count: int) -> str:
    text = netns.sh(ns, "tcpdump", "-r", str(path), "-nn", "-vv", "-e")
    assert "bad" not in text.lower() and "incorrect" not in text.lower(), text[:2000]
    with open(path, "rb") as f:
        frames = [bytes(b) for _, b in dpkt.pcap.Reader(f)]
    assert len(frames) == count
    assert text.count("udp sum ok") == count, text[:2000]  # tcpdump checked every one
    return text


def send(nm, ns, *args: str):
    r = nm.run("pkt-gen", "tx", "-i", "netmap:nma", "-w", "0", *args, ns=ns)
    assert r.returncode == 0, r.stderr
    return r


def test_tx_rx_exact_counts_over_veth(netns, nm):
    na, nb = netns.veth()
    rx = nm.start("pkt-gen", "rx", "-i", "netmap:nmb", "-n", "200000", "--json", ns=nb)
    time.sleep(1.0)
    tx = nm.run(
        "pkt-gen", "tx", "-i", "netmap:nma", "-n", "200000", "-R", "300kpps", "--json", ns=na
    )
    assert tx.returncode == 0, tx.stderr
    out, err = rx.communicate(timeout=60)
    assert rx.returncode == 0, err
    assert nm.summary(tx.stdout)["pkts"] == nm.summary(out)["pkts"] == 200000
    assert nm.summary(tx.stdout)["settings"]["admode"] in ("auto", "packet", "xdp")


@pytest.mark.parametrize(
    "args, count, needles",
    [
        # port ranges that wrap several times (pkt-gen's UDP checksum goes wrong here)
        (
            ["-s", "198.18.0.1-198.18.0.2:40000-40002", "-d", "198.19.0.1:50000-50001"],
            40,
            ["198.18.0.2.40002 > 198.19.0.1.50001"],
        ),
        # random sizes: lengths and checksums right for every size
        (["-l", "60-1514", "-s", "198.18.0.1", "-d", "198.18.0.2"], 100, ["length"]),
        # IPv6 with ranges
        (
            [
                "-6",
                "-l",
                "62-300",
                "-s",
                "[2001:db8::1]-[2001:db8::3]:40000-40001",
                "-d",
                "[2001:db8::10]:50000",
            ],
            60,
            ["2001:db8::3.40001 > 2001:db8::10.50000"],
        ),
        # VLAN tag
        (["--vlan", "7", "-s", "198.18.0.1", "-d", "198.18.0.2", "-l", "100"], 20, ["vlan 7"]),
        # the form users write: 100 addresses x 7 ports
        (
            ["-s", "198.18.0.1-198.18.0.100:1234-1240", "-d", "198.18.1.1"],
            701,
            ["198.18.0.100.1240 > ", "198.18.0.1.1234 > "],
        ),
    ],
)
def test_tcpdump_finds_valid_packets(netns, nm, tmp_path, args, count, needles):
    na, nb = netns.veth()
    cap = capture(netns, nb, "nmb", count, tmp_path / "c.pcap")
    send(nm, na, "-n", str(count), *args)
    cap.wait(30)
    text = checked(netns, nb, tmp_path / "c.pcap", count)
    for n in needles:
        assert n in text, (n, text[:3000])


def test_pcap_templates_on_the_wire(netns, nm, tmp_path):
    na, nb = netns.veth()
    frames = []
    for i in range(3):
        udp = dpkt.udp.UDP(sport=40000 + i, dport=9, data=bytes([i]) * (20 + i * 100))
        udp.ulen = 8 + len(udp.data)
        ip = dpkt.ip.IP(src=bytes([198, 18, 0, 1]), dst=bytes([198, 18, 0, 2]), p=17, data=udp)
        eth = dpkt.ethernet.Ethernet(src=b"\x02\0\0\0\0\x01", dst=b"\x02\0\0\0\0\x02", data=ip)
        frames.append(bytes(eth))
    src = tmp_path / "in.pcap"
    with open(src, "wb") as f:
        w = dpkt.pcap.Writer(f)
        for fr in frames:
            w.writepkt(fr)
    cap = capture(netns, nb, "nmb", 9, tmp_path / "out.pcap")
    send(nm, na, "-n", "9", "-P", str(src))
    cap.wait(30)
    checked(netns, nb, tmp_path / "out.pcap", 9)
    with open(tmp_path / "out.pcap", "rb") as f:
        got = [bytes(b) for _, b in dpkt.pcap.Reader(f)]
    assert got == [frames[k % 3] for k in range(9)]


def test_ping_pong_across_veth(netns, nm):
    na, nb = netns.veth()
    pong = nm.start("pkt-gen", "pong", "-i", "netmap:nmb", "-n", "500", "--json", ns=nb)
    time.sleep(1.0)
    ping = nm.run("pkt-gen", "ping", "-i", "netmap:nma", "-n", "500", "--json", "-w", "0", ns=na)
    assert ping.returncode == 0, ping.stderr
    s = nm.summary(ping.stdout)
    assert s["rtt_count"] == 500
    assert 0 < s["rtt_min_ns"] <= s["rtt_p50_ns"] <= s["rtt_p99_ns"] <= s["rtt_max_ns"]
    assert s["rtt_p50_ns"] < 20_000_000
    pong.communicate(timeout=30)


def test_packet_longer_than_mtu_is_refused_before_sending(netns, nm):
    na, nb = netns.veth()
    before = int(netns.sh(nb, "cat", "/sys/class/net/nmb/statistics/rx_packets"))
    r = nm.run("pkt-gen", "tx", "-i", "netmap:nma", "-n", "10", "-l", "1515", ns=na)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "1515 bytes are longer than netmap:nma allows" in lines[0]
    assert int(netns.sh(nb, "cat", "/sys/class/net/nmb/statistics/rx_packets")) == before


def test_unknown_interface(netns, nm):
    na = netns.namespace()
    r = nm.run("pkt-gen", "tx", "-i", "netmap:nosuch0", "-n", "1", ns=na)
    assert r.returncode == 1
    assert r.stderr.strip() == (
        "nm: nosuch0: no such interface (see `ip link` for the interfaces of this network "
        "namespace)"
    )


def test_rx_threads_share_the_link_by_fanout(netns, nm):
    """-p 2 on an AF_PACKET sink: two sockets in a fanout group, flows spread, none lost."""
    na, nb = netns.veth()
    rx = nm.start(
        "pkt-gen",
        "rx",
        "-i",
        "netmap:nmb",
        "--admode",
        "packet",
        "-p",
        "2",
        "-n",
        "60000",
        "--json",
        "-w",
        "0",
        "-T",
        "50",
        ns=nb,
    )
    time.sleep(1.5)
    tx = nm.run(
        "pkt-gen",
        "tx",
        "-i",
        "netmap:nma",
        "-n",
        "60000",
        "-R",
        "200kpps",
        "-s",
        "198.18.0.1:1000-1099",
        "-d",
        "198.18.0.2",
        "--json",
        "-w",
        "0",
        ns=na,
    )
    assert tx.returncode == 0, tx.stderr
    out, err = rx.communicate(timeout=60)
    assert rx.returncode == 0, err
    s = nm.summary(out)
    assert s["pkts"] == 60000 and s["settings"]["threads"] == 2
    lines = [json.loads(x) for x in out.splitlines()]
    per_thread = [0, 0]
    for x in lines:
        for t in x.get("threads", []) if x.get("type") == "interval" else []:
            per_thread[t["thread"]] = max(per_thread[t["thread"]], t["total"]["pkts"])
    assert min(per_thread) > 0, per_thread  # both threads got flows

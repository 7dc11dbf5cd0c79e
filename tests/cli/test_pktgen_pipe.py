"""nm pkt-gen between separate processes over pipes: counts, sequence checks, ping/pong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import dpkt


def wait_ready(shm, n: int = 1, timeout: float = 10) -> None:
    """Until a pipe region exists (the receiver has opened its end)."""
    t = time.monotonic() + timeout
    while time.monotonic() < t:
        if len([f for f in os.listdir(shm) if "fifo" not in f]) >= n:
            return
        time.sleep(0.02)
    raise AssertionError("receiver never opened its end")


def test_rx_counts_exactly_what_tx_sent(nm, shm):
    rx = nm.start("pkt-gen", "rx", "-i", "netmap:cnt}1", "-n", "1234567", "--json")
    wait_ready(shm)
    tx = nm.run("pkt-gen", "tx", "-i", "netmap:cnt{1", "-n", "1234567", "-l", "64-1518", "--json")
    assert tx.returncode == 0, tx.stderr
    out, err = rx.communicate(timeout=60)
    assert rx.returncode == 0, err
    t, r = nm.summary(tx.stdout), nm.summary(out)
    assert t["pkts"] == r["pkts"] == 1234567
    assert t["bytes"] == r["bytes"]
    assert 64 * 1234567 < r["bytes"] < 1518 * 1234567
    assert os.listdir(shm) == []


def test_plain_output_is_pkt_gen_shaped(nm, shm):
    rx = nm.start("pkt-gen", "-f", "rx", "-i", "netmap:txt}1", "-n", "100000")
    wait_ready(shm)
    tx = nm.run("pkt-gen", "-f", "tx", "-i", "netmap:txt{1", "-n", "100000", "-l", "1000")
    out, _ = rx.communicate(timeout=60)
    lines = tx.stdout.strip().splitlines()
    assert "Sending on netmap:txt{1: 1 queues, 1 threads" in lines[0]
    assert "10.0.0.1:1234 -> 10.1.0.1:1234 (00:00:00:00:00:00 -> ff:ff:ff:ff:ff:ff)" in lines[1]
    assert lines[-2].startswith("Sent 100000 packets 100000000 bytes ")
    assert " 1000 bytes each in " in lines[-2]
    assert lines[-1].startswith("Speed: ") and "Average batch:" in lines[-1]
    assert "admode -" in tx.stderr and "seed " in tx.stderr
    assert out.strip().splitlines()[-2].startswith("Received 100000 packets 100000000 bytes")


def test_rate_10000_for_3_seconds(nm, shm):
    rx = nm.start("pkt-gen", "rx", "-i", "netmap:rate}1", "-W", "--json")
    wait_ready(shm)
    tx = nm.run("pkt-gen", "tx", "-i", "netmap:rate{1", "-R", "10000", "-t", "3", "--json")
    assert tx.returncode == 0, tx.stderr
    out, _ = rx.communicate(timeout=60)
    t, r = nm.summary(tx.stdout), nm.summary(out)
    assert 29700 <= t["pkts"] <= 30300, t["pkts"]
    assert r["pkts"] == t["pkts"]
    assert t["requested_pps"] == 10000
    assert abs(t["rate_error"]) < 0.01
    assert t["gap_err_p99_ns"] > 0


def test_rate_per_second_is_within_one_percent(nm, shm):
    """Every whole second of a paced run carries the target within 1 %."""
    rx = nm.start("pkt-gen", "rx", "-i", "netmap:sec}1", "-W", "--json", "-T", "1000")
    wait_ready(shm)
    tx = nm.run(
        "pkt-gen", "tx", "-i", "netmap:sec{1", "-R", "50kpps", "-t", "4", "--json", "-T", "1000"
    )
    out, _ = rx.communicate(timeout=60)
    intervals = [json.loads(x) for x in tx.stdout.splitlines()]
    full = [d for d in intervals if d["type"] == "interval" and 0.99 < d["interval_s"] < 1.01]
    assert len(full) >= 3
    for d in full[:3]:
        assert abs(d["pps"] - 50000) / 50000 < 0.01, d


FORWARDER = """
import sys
from nmtools import open_port
# txseq -> (drop one in 100, swap one in 50 with the next, duplicate each 70th) -> rxseq
n = 0
held = None
with open_port(sys.argv[1]) as a, open_port(sys.argv[2]) as b:
    print("ready", flush=True)
    while n < 10000:
        out = []
        for f in a.recv(timeout=10):
            n += 1
            if n % 100 == 10:
                continue
            if held is not None:
                out += [f, held]
                held = None
                continue
            if n % 50 == 25:
                held = f
                continue
            out.append(f)
            if n % 70 == 0:
                out.append(f)
        b.send(out)
"""


def test_rxseq_counts_injected_loss_reorder_and_duplicates(nm, shm):
    rx = nm.start("pkt-gen", "rxseq", "-i", "netmap:out}1", "-W", "--json")
    wait_ready(shm)
    fwd = subprocess.Popen(
        [sys.executable, "-c", FORWARDER, "netmap:in}1", "netmap:out{1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    nm.procs.append(fwd)  # type: ignore[arg-type]
    assert fwd.stdout is not None and fwd.stdout.readline().strip() == "ready"
    tx = nm.run("pkt-gen", "txseq", "-i", "netmap:in{1", "-n", "10000", "-R", "200kpps")
    assert tx.returncode == 0, tx.stderr
    assert fwd.wait(30) == 0
    r = nm.summary(rx.communicate(timeout=60)[0])
    dropped = 100  # n % 100 == 10 (none at the tail, where no receiver could see it)
    swapped = 200  # n % 50 == 25 goes after n + 1
    dups = len([k for k in range(1, 10001) if k % 70 == 0 and k % 100 != 10])
    assert r["pkts"] == 10000 - dropped + dups
    assert r["lost"] == dropped
    assert r["dup"] == dups
    assert r["out_of_order"] == swapped
    assert r["seq_too_high"] == dropped + swapped


def test_ping_pong_over_a_pipe(nm, shm):
    pong = nm.start("pkt-gen", "pong", "-i", "netmap:pp}1", "-n", "2000", "--json")
    wait_ready(shm)
    ping = nm.run("pkt-gen", "ping", "-i", "netmap:pp{1", "-n", "2000", "--json")
    assert ping.returncode == 0, ping.stderr
    p = nm.summary(ping.stdout)
    assert p["pkts"] == 2000 and p["rtt_count"] == 2000
    assert 0 < p["rtt_min_ns"] <= p["rtt_p50_ns"] <= p["rtt_p99_ns"] <= p["rtt_max_ns"]
    assert p["rtt_p50_ns"] < 5_000_000  # a pipe answers in microseconds, not milliseconds
    assert sum(c for _, c in p["rtt_hist"]) == 2000
    assert nm.summary(pong.communicate(timeout=30)[0])["pkts"] == 2000


def test_ipv6_ping_pong(nm, shm):
    pong = nm.start("pkt-gen", "pong", "-i", "netmap:p6}1", "-n", "100", "-6", "--json")
    wait_ready(shm)
    ping = nm.run(
        "pkt-gen",
        "ping",
        "-i",
        "netmap:p6{1",
        "-n",
        "100",
        "-6",
        "-l",
        "100",
        "-s",
        "2001:db8::1",
        "-d",
        "2001:db8::2",
        "--json",
    )
    assert ping.returncode == 0, ping.stderr
    assert nm.summary(ping.stdout)["rtt_count"] == 100
    pong.communicate(timeout=30)


def test_pcap_templates_are_all_cycled(nm, shm, tmp_path):
    frames = [
        bytes([i]) * 6 + b"\x02\0\0\0\0\x01\x88\xb5" + bytes([i]) * (50 + i) for i in range(5)
    ]
    for name, writer in (("t.pcap", dpkt.pcap.Writer), ("t.pcapng", dpkt.pcapng.Writer)):
        path = tmp_path / name
        with open(path, "wb") as f:
            w = writer(f)
            for fr in frames:
                w.writepkt(fr)
        got = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys,json; from nmtools import open_port\n"
                "with open_port('netmap:pc}1') as p:\n"
                "    print('ready', flush=True); out=[]\n"
                "    while len(out) < 12: out += p.recv(timeout=10)\n"
                "    print(json.dumps([f.hex() for f in out]))",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert got.stdout is not None and got.stdout.readline().strip() == "ready"
        tx = nm.run("pkt-gen", "tx", "-i", "netmap:pc{1", "-n", "12", "-P", str(path))
        assert tx.returncode == 0, tx.stderr
        out = json.loads(got.communicate(timeout=30)[0])
        assert [bytes.fromhex(h) for h in out] == [frames[k % 5] for k in range(12)]


def test_bad_inputs_are_one_line_errors(nm, shm, tmp_path):
    bad = tmp_path / "trunc.pcap"
    bad.write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00")
    cases = [
        (["-R", "10xpps"], "unknown unit"),
        (["-s", "10.0.0.300"], "not an IPv4 address"),
        (["-l", "70000"], "16..65535"),
        (["-l", "30"], "too short for IPv4/UDP (at least 42 bytes)"),
        (["-6", "-l", "60"], "too short for IPv6/UDP (at least 62 bytes)"),
        (["-a", "4096"], "CPU 4096 is not available"),
        (["--imix", "--mix", "60:1"], "choose one"),
        (["--mix", "60:x"], "--mix"),
        (["-P", str(bad)], "not a readable pcap"),
        (["-P", str(tmp_path / "missing.pcap")], "No such file"),
        (["-p", "2"], "1 tx ring(s)"),
    ]
    for extra, needle in cases:
        r = nm.run("pkt-gen", "tx", "-i", "netmap:bad{1", "-n", "10", *extra)
        assert r.returncode != 0, extra
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], (extra, r.stderr)
        assert "Traceback" not in r.stderr
    assert os.listdir(shm) == []


def test_threads_on_a_multi_ring_pipe(nm, shm):
    rx = nm.start(
        "pkt-gen", "rx", "-i", "netmap:mr}1@conf:rings=2", "-p", "2", "-n", "400000", "--json"
    )
    wait_ready(shm)
    tx = nm.run("pkt-gen", "tx", "-i", "netmap:mr{1", "-p", "2", "-n", "400000", "--json")
    assert tx.returncode == 0, tx.stderr
    r = nm.summary(rx.communicate(timeout=60)[0])
    assert nm.summary(tx.stdout)["pkts"] == r["pkts"] == 400000


def test_ctrl_c_stops_cleanly_with_the_final_summary(nm, shm):
    import signal

    rx = nm.start("pkt-gen", "rx", "-i", "netmap:cc}1")
    wait_ready(shm)
    tx = nm.start("pkt-gen", "tx", "-i", "netmap:cc{1", "-R", "1Mpps")
    time.sleep(1.5)
    tx.send_signal(signal.SIGINT)
    tout, terr = tx.communicate(timeout=20)
    time.sleep(0.3)
    rx.send_signal(signal.SIGINT)
    rout, rerr = rx.communicate(timeout=20)
    assert tx.returncode == rx.returncode == 130
    assert "Traceback" not in terr + rerr
    sent = [x for x in tout.splitlines() if x.startswith("Sent ")]
    got = [x for x in rout.splitlines() if x.startswith("Received ")]
    assert sent and got, (tout, rout)
    n_sent, n_got = int(sent[0].split()[1]), int(got[0].split()[1])
    assert n_sent > 500_000 and n_sent == n_got  # what the port accepted arrived
    assert os.listdir(shm) == []


def test_sigterm_stops_like_ctrl_c(nm, shm):
    import signal

    rx = nm.start("pkt-gen", "rx", "-i", "netmap:term}1")
    wait_ready(shm)
    time.sleep(0.5)
    rx.send_signal(signal.SIGTERM)
    out, err = rx.communicate(timeout=20)
    assert rx.returncode == 130 and "Traceback" not in err
    assert "Received nothing." in out
    assert os.listdir(shm) == []


def test_txseq_with_a_pcap_is_a_usage_error(nm, shm):
    r = nm.run("pkt-gen", "txseq", "-i", "netmap:u{1", "-P", "/etc/hostname")
    assert r.returncode == 2 and "-P only works with -f tx" in r.stderr


def test_ipv6_default_size_fits_the_headers(nm, shm):
    r = nm.run("pkt-gen", "tx", "-i", "null", "-6", "-n", "10", "--json")
    assert r.returncode == 0, r.stderr
    assert nm.summary(r.stdout)["bytes_each"] == 62


def test_imix_mixes_sizes(nm, shm):
    r = nm.run("pkt-gen", "tx", "-i", "null", "--imix", "-n", "120000", "--seed", "3", "--json")
    s = nm.summary(r.stdout)
    mean = (7 * 60 + 4 * 590 + 1514) / 12
    assert abs(s["bytes"] / s["pkts"] - mean) / mean < 0.02


def test_dump_prints_each_packet(nm, shm):
    r = nm.run("pkt-gen", "tx", "-i", "null", "-n", "3", "-X", "-l", "64")
    assert r.returncode == 0, r.stderr
    heads = [x for x in r.stdout.splitlines() if x.startswith("ring 0 cur")]
    assert len(heads) == 3 and "len    64]" in heads[0]
    assert "    0: ff ff ff ff ff ff" in r.stdout
    assert "   48: " in r.stdout


def test_verbose_shows_the_port(nm, shm):
    r = nm.run("pkt-gen", "tx", "-i", "null", "-n", "1", "-v")
    assert "tx_slots   1024" in r.stderr and "backend    null" in r.stderr


def test_fragments_span_slots_and_count_once(nm, shm):
    """-F 4: every 1000-byte packet goes out as 4 slots (NS_MOREFRAG) and is counted once."""
    rx = nm.start("pkt-gen", "rx", "-i", "netmap:fr}1", "-n", "1000", "--json")
    wait_ready(shm)
    tx = nm.run(
        "pkt-gen", "tx", "-i", "netmap:fr{1", "-n", "1000", "-l", "1000", "-F", "4", "--json"
    )
    assert tx.returncode == 0, tx.stderr
    r = nm.summary(rx.communicate(timeout=60)[0])
    t = nm.summary(tx.stdout)
    assert t["pkts"] == r["pkts"] == 1000
    assert t["bytes"] == r["bytes"] == 1_000_000


def test_frames_larger_than_a_buffer_are_split(nm, shm):
    """A 9000-byte frame needs five 2048-byte buffers; -M 512 cuts them smaller still."""
    got = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import json; from nmtools import open_port\n"
            "with open_port('netmap:big}2') as p:\n"
            "    print('ready', flush=True); out=[]\n"
            "    while len(out) < 6: out += p.recv(timeout=10)\n"
            "    print(json.dumps([len(f) for f in out]))",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert got.stdout is not None and got.stdout.readline().strip() == "ready"
    for extra in ([], ["-M", "512"]):
        tx = nm.run("pkt-gen", "tx", "-i", "netmap:big{2", "-n", "3", "-l", "9000", *extra)
        assert tx.returncode == 0, tx.stderr
    assert json.loads(got.communicate(timeout=30)[0]) == [9000] * 6

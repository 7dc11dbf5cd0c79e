"""Every frame pkt-gen makes, checked by tcpdump -vvv, over every option that changes a frame.

The matrix: size mode (fixed, -l A -l B, -l A-B, IMIX, --mix, -F multi-slot at a fixed size and
over a range) x address mode (fixed, ranges that wrap, random -z/-Z) x IPv4/IPv6 x VLAN or
not, plus -P and txseq with varying sizes, over AF_XDP and AF_PACKET (a veth pair between two
namespaces, tcpdump capturing on the peer) and over a pipe (the library receives, dpkt writes
the pcap, tcpdump reads it). Rings of 64 slots make every buffer carry several frames of
different sizes (a stale byte past an earlier, shorter frame broke a third of the checksums),
and one case sends 3000 frames at full speed through the default rings of the veth ports (the
pipe's rings are the receiver's 64).

Each configuration is one pkt-gen run with its own destination MAC, so one capture holds them
all; one process runs them all through the CLI (its start-up would otherwise dominate). Per
configuration: the exact frame count, every frame `[udp sum ok]` with no complaint from
tcpdump, IP and UDP lengths that add up to the frame's, the lengths the size mode allows (and,
where there are few, every one of them), the address tuples the mode allows (ranges: each
tuple as often as cycling gives), and for txseq consecutive sequence marks.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path

import dpkt
import pytest

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="install tcpdump")

N = 200  # frames a configuration: every one of a 64-slot ring's buffers is used 3 times
BIG = 3000  # the capture, through the default rings
MAC_PREFIX = "02:6e:6d:00"  # "nm": the filter keeps only our frames
FILTER = "ether[0:4] = 0x026e6d00"
# tcpdump on a busy 2-core VM loses frames that come faster (the one unpaced case is small)
PACE = ["-R", "30kpps"]


def mac(i: int) -> str:
    return f"{MAC_PREFIX}:{i >> 8:02x}:{i & 0xFF:02x}"


def _ep(ip0: str, ip1: str, p0: int, p1: int) -> tuple[list[str], list[int]]:
    a, b = int(ip_address(ip0)), int(ip_address(ip1))
    return [str(ip_address(x)) for x in range(a, b + 1)], list(range(p0, p1 + 1))


# address modes: (-s, -d, extra options); the source range crosses an octet boundary
ADDR = {
    4: {
        "fixed": ("198.18.0.1:1234", "198.18.0.2:5678", []),
        "range": ("198.18.0.254-198.18.1.1:1000-1002", "198.19.0.1-198.19.0.2:2000-2001", []),
        "random": ("198.18.0.254-198.18.1.1:1000-1002", "198.19.0.1:2000", ["-z", "-Z"]),
    },
    6: {
        "fixed": ("[2001:db8::1]:1234", "[2001:db8::2]:5678", []),
        "range": (
            "[2001:db8::fffe]-[2001:db8::1:1]:1000-1002",
            "[2001:db8:1::1]-[2001:db8:1::2]:2000-2001",
            [],
        ),
        "random": (
            "[2001:db8::fffe]-[2001:db8::1:1]:1000-1002",
            "[2001:db8:1::1]:2000",
            ["-z", "-Z"],
        ),
    },
}
RANGES = {
    4: (_ep("198.18.0.254", "198.18.1.1", 1000, 1002), _ep("198.19.0.1", "198.19.0.2", 2000, 2001)),
    6: (
        _ep("2001:db8::fffe", "2001:db8::1:1", 1000, 1002),
        _ep("2001:db8:1::1", "2001:db8:1::2", 2000, 2001),
    ),
}


@dataclass
class Case:
    """One pkt-gen run and what its frames must look like."""

    idx: int
    args: list[str]
    count: int
    ipv: int = 4
    vlan: bool = False
    lengths: frozenset[int] = frozenset()  # allowed lengths
    every: bool = False  # each allowed length must appear
    addr: str = "fixed"
    txseq: bool = False
    frames: list[bytes] = field(default_factory=list)  # -P: frame k is frames[k % len]

    @property
    def l3(self) -> int:
        return 18 if self.vlan else 14

    @property
    def header(self) -> int:
        return self.l3 + (40 if self.ipv == 6 else 20) + 8

    def __str__(self) -> str:
        return " ".join(self.args)


def size_modes(base: int, ipv: int) -> dict[str, tuple[list[str], frozenset[int], bool]]:
    """(options, allowed lengths, all must appear) of each size mode; base: header bytes."""
    modes = {
        "fixed": (["-l", "333"], frozenset({333}), True),
        # pkt-gen's form of a range: -l A -l B draws from [A, B]
        "two": (["-l", "1000", "-l", str(base + 1)], frozenset(range(base + 1, 1001)), False),
        "range": (["-l", f"{base}-1514"], frozenset(range(base, 1515)), False),
        "mix": (
            ["--mix", f"{base + 1}:3,601:2,1514:1"],
            frozenset({base + 1, 601, 1514}),
            True,
        ),
        "frags-fixed": (["-F", "2", "-l", "1001"], frozenset({1001}), True),
        "frags-range": (["-F", "3", "-l", f"{base}-1514"], frozenset(range(base, 1515)), False),
    }
    if ipv == 4:  # IMIX's 60-byte frames are too short for IPv6 (the CLI says so)
        modes["imix"] = (["--imix"], frozenset({60, 590, 1514}), True)
    return modes


def pcap_frames(first_idx: int) -> list[bytes]:
    """-P input: IPv4, IPv6, with and without VLAN, odd and even lengths, 60 to 1514 bytes."""
    out = []
    shapes = [(4, False, 18), (6, False, 3), (4, True, 555), (6, True, 1000), (4, False, 1472)]
    for k, (ipv, vlan, paylen) in enumerate(shapes):
        udp = dpkt.udp.UDP(
            sport=3000 + k, dport=4000, data=bytes((k * 7 + j) & 0xFF for j in range(paylen))
        )
        udp.ulen = 8 + paylen
        if ipv == 4:
            ip = dpkt.ip.IP(src=bytes([198, 18, 0, 1]), dst=bytes([198, 18, 0, 2]), p=17, data=udp)
            etype = 0x0800
        else:
            ip = dpkt.ip6.IP6(
                src=ip_address("2001:db8::1").packed,
                dst=ip_address("2001:db8::2").packed,
                nxt=17,
                hlim=64,
                data=udp,
                plen=udp.ulen,
            )
            etype = 0x86DD
        eth = bytes.fromhex(mac(first_idx).replace(":", "")) + bytes.fromhex("020000000001")
        if vlan:
            eth += b"\x81\x00" + (7).to_bytes(2, "big")
        out.append(eth + etype.to_bytes(2, "big") + bytes(ip))
    return out


def build_cases(port: str, admode: list[str], tmp: Path) -> list[Case]:
    cases: list[Case] = []

    def add(args: list[str], count: int = N, **kw: object) -> Case:
        c = Case(len(cases) + 1, [], count, **kw)  # type: ignore[arg-type]
        c.args = [*args, "-i", port, *admode, "-w", "0", "-n", str(count)]
        c.args += ["--seed", str(c.idx), "-D", mac(c.idx), *PACE]
        cases.append(c)
        return c

    for ipv in (4, 6):
        for vlan in (False, True):
            base = 14 + (4 if vlan else 0) + (40 if ipv == 6 else 20) + 8
            fam = ["-6"] if ipv == 6 else []
            tag = ["--vlan", "7"] if vlan else []
            for sopt, lengths, every in size_modes(base, ipv).values():
                for addr, (s, d, extra) in ADDR[ipv].items():
                    add(
                        ["tx", *fam, *tag, *sopt, "-s", s, "-d", d, *extra],
                        ipv=ipv,
                        vlan=vlan,
                        lengths=lengths,
                        every=every,
                        addr=addr,
                    )
            # txseq with varying sizes: the mark is in every frame, its checksum with it
            m = base + 16
            for sopt, lengths, every in (
                (["-l", f"{m}-1514"], frozenset(range(m, 1515)), False),
                (["-l", str(m + 1), "-l", "999"], frozenset(range(m + 1, 1000)), False),
                (["-F", "3", "-l", f"{m}-1514"], frozenset(range(m, 1515)), False),
            ):
                s, d, _ = ADDR[ipv]["range"]
                add(
                    ["txseq", *fam, *tag, *sopt, "-s", s, "-d", d],
                    ipv=ipv,
                    vlan=vlan,
                    lengths=lengths,
                    every=every,
                    addr="range",
                    txseq=True,
                )
    # -P: the file's frames, in order, unchanged
    idx = len(cases) + 1
    frames = pcap_frames(idx)
    path = tmp / f"in{idx}.pcap"
    with open(path, "wb") as f:
        w = dpkt.pcap.Writer(f, snaplen=65535)
        for fr in frames:
            w.writepkt(fr)
    c = add(["tx", "-P", str(path)], lengths=frozenset(map(len, frames)), every=True)
    c.frames = frames
    # the run (-l 60 -l 1000 with address ranges), unpaced, through the default rings
    add(
        ["tx", "-l", "60", "-l", "1000", "-s", ADDR[4]["range"][0], "-d", ADDR[4]["range"][1]],
        count=BIG,
        lengths=frozenset(range(60, 1001)),
        addr="range",
    )
    big = cases[-1].args
    big[big.index("-i") + 1] = port.split("@")[0]
    del big[-len(PACE) :]  # at full speed
    return cases


# ---- running and reading --------------------------------------------------------------------

DRIVER = r"""
import contextlib, io, json, sys
from nmtools.cli import cli

for argv in json.load(open(sys.argv[1])):
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main(args=["pkt-gen", *argv], prog_name="nm", standalone_mode=False)
        rc = 0
    except SystemExit as e:
        rc = e.code
    print(json.dumps({"rc": rc, "argv": argv, "err": err.getvalue()[-500:]}), flush=True)
"""


def drive(cases: list[Case], tmp: Path, start) -> None:  # noqa: ANN001
    """Run every case's pkt-gen in one process (`start(code, path)` makes it); all must pass."""
    path = tmp / "cases.json"
    path.write_text(json.dumps([c.args for c in cases]))
    p = start(DRIVER, str(path))
    out, err = p.communicate(timeout=240)
    assert p.returncode == 0, err[-3000:]
    failed = [json.loads(x) for x in out.splitlines() if json.loads(x)["rc"] != 0]
    assert not failed, failed[:3]


def tcpdump_records(path: Path) -> list[str]:
    """tcpdump -vvv's text of each frame: a line that starts with a time stamp, and the lines
    after it (however a payload dissector prints them) up to the next one."""
    r = subprocess.run(
        ["tcpdump", "-nn", "-vvv", "-e", "-r", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    recs: list[str] = []
    for line in r.stdout.splitlines():
        if STAMP.match(line) or not recs:
            recs.append(line)
        else:
            recs[-1] += " " + line.strip()
    return recs


STAMP = re.compile(r"\d\d:\d\d:\d\d\.\d{6} ")
TUPLE = re.compile(r" (\S+)\.(\d+) > (\S+)\.(\d+): \[udp sum ok\]")
UDP_LEN = re.compile(r"\[udp sum ok\] UDP, length (\d+)")
DST = re.compile(r"^\S+ \S+ > (\S+), ")
FRAME_LEN = re.compile(r", length (\d+): ")
IP4_LEN = re.compile(r"proto UDP \(17\), length (\d+)\)")
IP6_LEN = re.compile(r"payload length: (\d+)\)")


def check_capture(cases: list[Case], path: Path) -> None:
    recs = tcpdump_records(path)
    with open(path, "rb") as f:
        raw = [bytes(b) for _, b in dpkt.pcap.Reader(f)]
    assert len(recs) == len(raw), (len(recs), len(raw))
    by_mac = {mac(c.idx): c for c in cases}
    seen: dict[int, list[tuple[str, bytes]]] = {c.idx: [] for c in cases}
    for rec, fr in zip(recs, raw, strict=True):
        m = DST.match(rec)
        assert m and m.group(1) in by_mac, rec
        seen[by_mac[m.group(1)].idx].append((rec, fr))
    problems = []
    for c in cases:
        got = seen[c.idx]
        why = case_problems(c, got)
        if why:
            problems.append(f"{c}: {len(got)} frames: {why}")
    assert not problems, "\n".join(problems[:20]) + f"\n({len(problems)} of {len(cases)} cases)"


def case_problems(c: Case, got: list[tuple[str, bytes]]) -> str:
    if len(got) != c.count:
        return f"expected {c.count} frames"
    bad = [rec for rec, _ in got if not good_record(rec)]
    if bad:
        return f"{len(bad)} bad, e.g. {bad[0]}"
    lens = Counter(len(fr) for _, fr in got)
    if not set(lens) <= c.lengths:
        return f"lengths {sorted(set(lens) - c.lengths)[:5]} not allowed"
    if c.every and set(lens) != c.lengths:
        return f"lengths {sorted(c.lengths - set(lens))} never seen"
    if not c.every and len(lens) < c.count // 4:
        return f"only {len(lens)} distinct lengths"
    if c.frames:
        want = [c.frames[k % len(c.frames)] for k in range(c.count)]
        if [fr for _, fr in got] != want:
            return "the file's frames were not sent as they are, in order"
        return ""
    for rec, fr in got:
        if (c.vlan and " vlan 7, " not in rec) or (not c.vlan and "vlan" in rec):
            return f"VLAN tag wrong: {rec}"
        ipm = (IP6_LEN if c.ipv == 6 else IP4_LEN).search(rec)
        assert ipm, rec
        ip_len = int(ipm.group(1)) + (40 if c.ipv == 6 else 0)
        um = UDP_LEN.search(rec)  # random ports: tcpdump may read the payload as a protocol
        assert um or c.addr == "random", rec
        if c.l3 + ip_len != len(fr) or (
            um and ip_len - int(um.group(1)) - 8 != (40 if c.ipv == 6 else 20)
        ):
            return f"lengths do not add up to {len(fr)}: {rec}"
    why = addr_problems(c, [TUPLE.search(rec).groups()[:4] for rec, _ in got])  # type: ignore[union-attr]
    if why or not c.txseq:
        return why
    for k, (_, fr) in enumerate(got):
        mark = fr[c.header : c.header + 16]
        if int.from_bytes(mark[:4], "big") != k or mark[14:] != b"nm":
            return f"frame {k}: sequence mark {mark.hex()}"
    return ""


def good_record(rec: str) -> bool:
    """tcpdump verified the UDP checksum and had nothing to say about the headers (what it
    prints after the checksum is its reading of the payload as whatever protocol the port
    suggests: random ports make it try many)."""
    head, ok, _ = rec.partition("[udp sum ok]")
    # "bad cksum", "bad length", "bad-len" ..., but not an IPv6 address with "bad" in it
    return bool(ok) and not re.search(r"\bbad[ -]|truncated|\[\||invalid", head, re.I)


def addr_problems(c: Case, tuples: list[tuple[str, ...]]) -> str:
    if c.addr == "fixed":
        s, d, _ = ADDR[c.ipv]["fixed"]
        want = (*_split(s), *_split(d))
        others = {t for t in tuples if t != want}
        return f"addresses {sorted(others)[:3]} (expected only {want})" if others else ""
    (sips, sports), (dips, dports) = RANGES[c.ipv]
    if c.addr == "range":
        full = Counter(tuples)
        expect = {
            (a, str(p), b, str(q)) for a in sips for p in sports for b in dips for q in dports
        }
        if set(full) != expect:
            missing, extra = sorted(expect - set(full)), sorted(set(full) - expect)
            return f"address tuples: missing {missing[:3]}, extra {extra[:3]}"
        lo = c.count // len(expect)
        if not all(lo <= n <= lo + 1 for n in full.values()):
            return f"uneven cycling over the ranges: {sorted(full.values())[:3]}..."
        return ""
    # random: the source within its ranges (all of them seen), the destination anywhere
    srcs = {(a, p) for a, p, _, _ in tuples}
    expect_src = {(a, str(p)) for a in sips for p in sports}
    if srcs != expect_src:
        return f"random sources outside or missing: {sorted(srcs ^ expect_src)[:3]}"
    if len({(b, q) for _, _, b, q in tuples}) < c.count // 2:
        return "random destinations repeat too often"
    return ""


def _split(ep: str) -> tuple[str, str]:
    host, port = ep.rsplit(":", 1)
    return str(ip_address(host.strip("[]"))), port


# ---- the three port kinds -------------------------------------------------------------------


def capture(netns, ns: str, dev: str, path: Path) -> subprocess.Popen[str]:
    """tcpdump writing our frames on `dev` to `path`; returns once it listens."""
    p = subprocess.Popen(
        ["ip", "netns", "exec", ns, "tcpdump", "-i", dev, "-w", str(path), "-U"]
        + ["--immediate-mode", "-B", "32768", "-s", "2048", FILTER],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    netns.procs.append(p)  # killed by the fixture if the test fails before stop()
    assert p.stderr is not None
    for line in p.stderr:  # "listening on nmb, link-type EN10MB ..."
        if "listening on" in line:
            return p
    raise AssertionError("tcpdump did not start")


def stop(p: subprocess.Popen[str], path: Path) -> str:
    """Once the capture file stops growing, stop tcpdump (it flushes); its statistics."""
    size, still = -1, time.monotonic()
    while time.monotonic() - still < 0.5:
        now = path.stat().st_size if path.exists() else 0
        if now != size:
            size, still = now, time.monotonic()
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    return err


@pytest.mark.root
@pytest.mark.parametrize("admode", ["xdp", "packet"])
def test_every_frame_over_veth(netns, tmp_path, admode):
    na, nb = netns.veth()
    cases = build_cases("netmap:nma@conf:slots=64", ["--admode", admode], tmp_path)
    cap = capture(netns, nb, "nmb", tmp_path / "c.pcap")
    drive(cases, tmp_path, lambda code, arg: netns.python(na, code, arg))
    stats = stop(cap, tmp_path / "c.pcap")
    assert "\n0 packets dropped by kernel" in stats, stats
    check_capture(cases, tmp_path / "c.pcap")


def test_every_frame_over_a_pipe(shm, tmp_path):
    from nmtools import open_port

    cases = build_cases("netmap:fr{1", [], tmp_path)
    total = sum(c.count for c in cases)
    frames: list[bytes] = []
    done = threading.Event()
    with open_port("netmap:fr}1@conf:slots=64") as rx:

        def receive() -> None:
            last = time.monotonic()
            while len(frames) < total and time.monotonic() - last < 10:
                got = rx.recv(256, timeout=0.2)
                if got:
                    frames.extend(got)
                    last = time.monotonic()
                elif done.is_set() and time.monotonic() - last > 1:
                    break

        t = threading.Thread(target=receive)
        t.start()
        try:
            drive(
                cases,
                tmp_path,
                lambda code, arg: subprocess.Popen(
                    [sys.executable, "-c", code, arg],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        finally:
            done.set()
            t.join(30)
    path = tmp_path / "pipe.pcap"
    with open(path, "wb") as f:
        w = dpkt.pcap.Writer(f, snaplen=65535)  # the default 1500 would hide longer frames
        for fr in frames:
            w.writepkt(fr)
    assert len(frames) == total
    check_capture(cases, path)

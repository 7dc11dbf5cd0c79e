#!/usr/bin/env python3
"""nm pkt-gen against its peers on a veth pair, and over a pipe. Needs root for veth.

Same run, same veth pair in namespaces, median of --runs:
  tx: nm pkt-gen tx, trafgen (netsniff-ng), tcpreplay --topspeed, Scapy sendp. Each number
      is what the peer's kernel counted as received (rx_packets of the other veth end) per
      second: what crossed, not what a tool says it queued.
  rx: nm pkt-gen rx while nm pkt-gen tx floods the link; loss is against the kernel's count.
  pipe: nm pkt-gen tx -> nm pkt-gen rx between two processes (no root needed).
Scapy is optional (pip install scapy); tools that are missing are shown as "-".
Run: sudo .venv/bin/python bench/pktgen.py [--runs 5] [--seconds 2] [--pipe-only]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import VethPair, sh  # noqa: E402

NM = [os.path.join(os.path.dirname(sys.executable), "nm")]
if not os.path.exists(NM[0]):
    NM = [sys.executable, "-m", "nmtools"]

SCAPY = """
import sys, time
from scapy.all import Ether, Raw, sendp, conf
size, n = int(sys.argv[1]), int(sys.argv[2])
pkt = Ether(bytes.fromhex(sys.argv[3]))
pkts = [pkt] * n
s = conf.L2socket(iface="nma")
t = time.monotonic(); sendp(pkts, socket=s, verbose=0); print(time.monotonic() - t)
"""


def summary(out: str) -> dict:
    for line in reversed(out.strip().splitlines()):
        d = json.loads(line)
        if d.get("type") == "summary":
            return d
    raise SystemExit(f"no summary in nm output: {out[-500:]}")


def delivered(v: VethPair, secs: float, *cmd: str, cpu: int = 0) -> float:
    """Run cmd in namespace A; Mpps the kernel of B received during it."""
    before = v.counter(v.b, "nmb")
    p = v.popen(v.a, *cmd, cpu=cpu)
    out, err = p.communicate(timeout=secs + 60)
    if p.returncode not in (0, 124):
        raise SystemExit(f"{cmd[0]} failed: {err.strip()[-300:]}")
    return (v.counter(v.b, "nmb") - before) / secs / 1e6


def nm_tx_cmd(size: int, secs: float, admode: str = "auto", port: str = "netmap:nma") -> list[str]:
    """nm pkt-gen sending the bench frame for `secs` seconds."""
    return [
        *NM,
        "pkt-gen",
        "tx",
        "-i",
        port,
        "-l",
        str(size),
        "-S",
        SRC_MAC,
        "-t",
        str(secs),
        "-w",
        "0",
        "--json",
        "--admode",
        admode,
    ]


def nm_tx(v: VethPair, size: int, secs: float, admode: str = "auto") -> float:
    return delivered(v, secs, *nm_tx_cmd(size, secs, admode))


def trafgen(v: VethPair, size: int, secs: float, cfg: str) -> float:
    return delivered(
        v,
        secs,
        "timeout",
        "-s",
        "INT",
        str(secs),
        "trafgen",
        "-i",
        cfg,
        "-o",
        "nma",
        "-P",
        "1",
        "-C",
    )


def tcpreplay(v: VethPair, size: int, secs: float, pcap: str) -> float:
    return delivered(
        v,
        secs,
        "tcpreplay",
        "-q",
        "-i",
        "nma",
        "--topspeed",
        "--loop=0",
        f"--duration={int(secs)}",
        pcap,
    )


def scapy_tx(v: VethPair, size: int, n: int) -> float:
    before = v.counter(v.b, "nmb")
    p = v.python(v.a, SCAPY, str(size), str(n), the_frame(size).hex(), cpu=0)
    out, err = p.communicate(timeout=600)
    if p.returncode:
        raise SystemExit(f"scapy failed: {err.strip()[-300:]}")
    return (v.counter(v.b, "nmb") - before) / float(out.strip()) / 1e6


def nm_rx(v: VethPair, size: int, secs: float, admode: str = "auto") -> tuple[float, float]:
    """nm rx (this admode) while nm tx (auto) floods: Mpps delivered to user space, loss."""
    rx = v.popen(
        v.b,
        *NM,
        "pkt-gen",
        "rx",
        "-i",
        "netmap:nmb",
        "-w",
        "0",
        "-t",
        str(secs + 2),
        "--json",
        "--admode",
        admode,
        cpu=1,
    )
    assert rx.stdout is not None
    rx.stdout.readline()  # the "start" record: the sink is listening
    k0 = v.counter(v.b, "nmb")
    tx = v.popen(v.a, *nm_tx_cmd(size, secs), cpu=0)
    tx.communicate(timeout=secs + 60)
    kernel = v.counter(v.b, "nmb") - k0
    out, _ = rx.communicate(timeout=secs + 60)
    s = summary(out)
    return s["pkts"] / secs / 1e6, (1 - s["pkts"] / kernel) if kernel else 0.0


SRC_MAC = "02:00:00:00:00:01"


def the_frame(size: int) -> bytes:
    """pkt-gen's default UDP frame (10.0.0.1 -> 10.1.0.1), which every tool sends."""
    from nmtools.pktgen.packets import build_udp_frame
    from nmtools.pktgen.parse import default_endpoints

    src, dst = default_endpoints(False)
    return build_udp_frame(size, src, dst, SRC_MAC, "ff:ff:ff:ff:ff:ff", None, False)


def write_inputs(size: int, d: str) -> tuple[str, str]:
    frame = the_frame(size)
    cfg = os.path.join(d, f"t{size}.cfg")
    with open(cfg, "w") as f:
        f.write("{ " + ", ".join(f"0x{b:02x}" for b in frame) + " }\n")
    import dpkt

    pcap = os.path.join(d, f"t{size}.pcap")
    with open(pcap, "wb") as f:
        w = dpkt.pcap.Writer(f)
        for _ in range(1000):
            w.writepkt(frame)
    return cfg, pcap


def pipe_rate(n: int) -> float:
    env = dict(os.environ, NMTOOLS_SHM_DIR=tempfile.mkdtemp())
    name = f"netmap:bench{os.getpid()}"
    cpus = sorted(os.sched_getaffinity(0))
    pin = ["taskset", "-c", str(cpus[-1])] if len(cpus) > 1 and shutil.which("taskset") else []
    rx = subprocess.Popen(
        [*pin, *NM, "pkt-gen", "rx", "-i", name + "}1", "-n", str(n), "--json"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    time.sleep(0.8)
    pin0 = ["taskset", "-c", str(cpus[0])] if pin else []
    subprocess.run(
        [*pin0, *NM, "pkt-gen", "tx", "-i", name + "{1", "-n", str(n), "--json"],
        stdout=subprocess.PIPE,
        check=True,
        env=env,
    )
    out, _ = rx.communicate(timeout=120)
    return summary(out)["pps"] / 1e6


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def fmt(x: float) -> str:
    return "-" if x != x else f"{x:.3f}"


def ratio(a: float, b: float) -> str:
    return "-" if a != a or b != b or b == 0 else f"{a / b:.2f}x"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--scapy-packets", type=int, default=20000)
    ap.add_argument("--pipe-only", action="store_true")
    args = ap.parse_args()

    rates = [pipe_rate(100_000_000) for _ in range(args.runs)]
    print(
        f"pipe, 60-byte frames, nm pkt-gen tx -> rx: {med(rates):.1f} Mpps "
        f"(runs: {' '.join(f'{r:.1f}' for r in rates)})"
    )
    if args.pipe_only:
        return
    if os.geteuid() != 0:
        raise SystemExit("the veth part needs root")
    have = {t: shutil.which(t) is not None for t in ("trafgen", "tcpreplay")}
    try:
        import scapy  # noqa: F401

        have["scapy"] = True
    except ImportError:
        have["scapy"] = False
    v = VethPair()
    d = tempfile.mkdtemp()
    print(
        f"\nveth pair in namespaces: Mpps delivered to the peer, median of {args.runs} runs "
        f"of {args.seconds:g} s (Scapy: {args.scapy_packets} packets)"
    )
    modes = ("auto", "xdp", "packet")
    tx_rows, rx_rows = [], []
    try:
        for size in (60, 1514):
            cfg, pcap = write_inputs(size, d)
            # interleaved, so a slow minute of this shared machine hits every tool alike
            runs: dict[str, list[float]] = {k: [] for k in (*modes, "trafgen", "tcpreplay")}
            for _ in range(args.runs):
                for m in modes:
                    runs[m].append(nm_tx(v, size, args.seconds, m))
                if have["trafgen"]:
                    runs["trafgen"].append(trafgen(v, size, args.seconds, cfg))
                if have["tcpreplay"]:
                    runs["tcpreplay"].append(tcpreplay(v, size, args.seconds, pcap))
            m_ = {k: med(x) for k, x in runs.items()}
            m_["scapy"] = (
                med([scapy_tx(v, size, args.scapy_packets) for _ in range(min(args.runs, 3))])
                if have["scapy"]
                else float("nan")
            )
            tx_rows.append((size, m_))
            rx: dict[str, list[tuple[float, float]]] = {m: [] for m in modes}
            for _ in range(args.runs):
                for m in modes:
                    rx[m].append(nm_rx(v, size, args.seconds, m))
            rx_rows.append(
                (size, {m: (med([a for a, _ in x]), med([b for _, b in x])) for m, x in rx.items()})
            )
        print(
            f"{'frame':>5} {'nm auto':>8} {'nm xdp':>7} {'nm pkt':>7} {'trafgen':>8} "
            f"{'tcpreplay':>9} {'scapy':>7} {'xdp/trafgen':>11} {'xdp/pkt':>8} "
            f"{'auto/best':>9} {'nm/scapy':>9}"
        )
        for size, m_ in tx_rows:
            best = max(m_["xdp"], m_["packet"])
            print(
                f"{size:>5} {fmt(m_['auto']):>8} {fmt(m_['xdp']):>7} {fmt(m_['packet']):>7} "
                f"{fmt(m_['trafgen']):>8} {fmt(m_['tcpreplay']):>9} {fmt(m_['scapy']):>7} "
                f"{ratio(m_['xdp'], m_['trafgen']):>11} {ratio(m_['xdp'], m_['packet']):>8} "
                f"{ratio(m_['auto'], best):>9} {ratio(m_['auto'], m_['scapy']):>9}"
            )
        print(
            "\nnm rx while nm tx floods the link: Mpps received (loss against the kernel's count)"
        )
        print(f"{'frame':>5} " + " ".join(f"{'rx ' + m:>20}" for m in modes))
        for size, r in rx_rows:
            print(f"{size:>5} " + " ".join(f"{fmt(r[m][0]):>11} ({r[m][1]:>6.2%})" for m in modes))
    finally:
        v.close()
        sh("rm", "-rf", d)


if __name__ == "__main__":
    main()

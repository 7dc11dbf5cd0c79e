#!/usr/bin/env python3
"""AF_PACKET on a veth pair: nm tx vs trafgen, nm rx sink vs netsniff-ng. Needs root.

Same run, same veth, median of --runs. "tx" is what the peer's kernel counted as received
(rx_packets on the other veth end) per second: what really crossed, not what was queued.
"rx" is what the sink delivered to user space per second while a sender floods the link,
and its loss against the kernel's own count. Run: sudo python bench/afpacket.py
"""

from __future__ import annotations

import argparse
import shutil
import statistics

from netns import VethPair, last_json

NM_TX = """
import json, sys, threading, time
from nmtools import open_port
from nmtools.loops import LoopStats, run_tx
size, secs = int(sys.argv[1]), float(sys.argv[2])
with open_port("netmap:nma", admode="packet") as p:
    st = LoopStats()
    t = threading.Thread(target=run_tx, args=(p, bytes([0xff] * 6 + [2, 0, 0, 0, 0, 1, 0x88, 0xb5])
                         + bytes(size - 14)), kwargs={"batch": 512, "stats": st})
    t.start(); time.sleep(secs); st.cancel(); t.join()
print(json.dumps({"pkts": st.snapshot().pkts}))
"""

NM_RX = """
import json, sys, threading, time
from nmtools import open_port
from nmtools.loops import LoopStats, run_rx
secs = float(sys.argv[1])
with open_port("netmap:nmb", admode="packet") as p:
    st = LoopStats()
    t = threading.Thread(target=run_rx, args=(p,), kwargs={"batch": 512, "stats": st})
    t.start(); print("ready", flush=True); time.sleep(secs); st.cancel(); t.join()
print(json.dumps({"pkts": st.snapshot().pkts}))
"""


def trafgen_conf(size: int) -> str:
    body = ", ".join(
        ["0xff"] * 6 + ["0x02", "0", "0", "0", "0", "0x01", "0x88", "0xb5"] + ["0"] * (size - 14)
    )
    return "{ " + body + " }\n"


def tx_nm(v: VethPair, size: int, secs: float) -> float:
    before = v.counter(v.b, "nmb")
    last_json(v.python(v.a, NM_TX, str(size), str(secs), cpu=0))
    return (v.counter(v.b, "nmb") - before) / secs


def tx_trafgen(v: VethPair, size: int, secs: float, conf: str) -> float:
    before = v.counter(v.b, "nmb")
    p = v.popen(
        v.a,
        "timeout",
        "-s",
        "INT",
        str(secs),
        "trafgen",
        "-i",
        conf,
        "-o",
        "nma",
        "-P",
        "1",
        "-C",
        cpu=0,
    )
    p.communicate(timeout=secs + 30)
    return (v.counter(v.b, "nmb") - before) / secs


def rx_nm(v: VethPair, size: int, secs: float, conf: str) -> tuple[float, float]:
    rx = v.python(v.b, NM_RX, str(secs + 0.5), cpu=1)
    assert rx.stdout is not None and rx.stdout.readline().strip() == "ready"
    k0 = v.counter(v.b, "nmb")
    gen = v.popen(
        v.a,
        "timeout",
        "-s",
        "INT",
        str(secs),
        "trafgen",
        "-i",
        conf,
        "-o",
        "nma",
        "-P",
        "1",
        "-C",
        cpu=0,
    )
    gen.communicate(timeout=secs + 30)
    got = last_json(rx)["pkts"]
    kernel = v.counter(v.b, "nmb") - k0
    return got / secs, 1 - got / kernel if kernel else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    if not shutil.which("trafgen"):
        raise SystemExit("trafgen not found: apt-get install netsniff-ng")
    v = VethPair()
    import tempfile

    print(f"veth pair in namespaces, median of {args.runs} runs of {args.seconds:g} s")
    print(
        f"{'frame':>6} {'nm tx Mpps':>11} {'trafgen':>9} {'ratio':>6} "
        f"{'nm rx Mpps':>11} {'rx loss':>8}"
    )
    try:
        for size in (60, 1514):
            with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
                f.write(trafgen_conf(size))
            ours = [tx_nm(v, size, args.seconds) for _ in range(args.runs)]
            theirs = [tx_trafgen(v, size, args.seconds, f.name) for _ in range(args.runs)]
            rx = [rx_nm(v, size, args.seconds, f.name) for _ in range(args.runs)]
            o, t = statistics.median(ours) / 1e6, statistics.median(theirs) / 1e6
            r = statistics.median(x[0] for x in rx) / 1e6
            loss = statistics.median(x[1] for x in rx)
            print(f"{size:>6} {o:>11.3f} {t:>9.3f} {o / t:>6.2f} {r:>11.3f} {loss:>8.2%}")
    finally:
        v.close()


if __name__ == "__main__":
    main()

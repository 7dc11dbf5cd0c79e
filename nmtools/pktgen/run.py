"""nmtools.pktgen.run(): open the port, start C workers in threads, report, summarise."""

from __future__ import annotations

import errno
import math
import os
import secrets
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from nmtools import _bindings as B
from nmtools import runner, stats, views
from nmtools.errors import NmError, UsageError
from nmtools.pktgen import packets
from nmtools.pktgen.config import Config, Endpoint, Function
from nmtools.pktgen.parse import default_endpoints
from nmtools.ports import Port
from nmtools.ports.watch import PortWatch
from nmtools.ports.workers import open_for_workers, ring_of


@dataclass(frozen=True)
class Result:
    """What a run did: the summary pkt-gen would print, as data."""

    summary: stats.Summary
    seed: int
    admode: str
    backend: str

    @property
    def pkts(self) -> int:
        return self.summary.pkts

    @property
    def pps(self) -> float:
        return self.summary.pps

    def text(self) -> str:
        return views.format_summary(self.summary)


def hexdump(data: bytes) -> list[str]:
    """pkt-gen's -X rows: offset, 16 bytes in hex, the printable ones as text."""
    out = []
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        out.append(f"{off:5d}: {' '.join(f'{b:02x}' for b in chunk):<47}  {text}")
    return out


class Worker(runner.Worker):
    """One pkt-gen C loop on one ring (all of them: -1), in a thread."""

    def __init__(
        self, idx: int, port: Port, ring: int, plan: packets.Plan, cfg: Config, cpu: int | None
    ) -> None:
        super().__init__(idx, cpu)
        self.port, self.ring, self.plan, self.cfg = port, ring, plan, cfg
        self.run: Any = B.ffi.new("struct nmt_run *")
        self.st = B.ffi.addressof(self.run[0], "st")
        self.dump: Any = None
        self.dump_read = 0
        if cfg.dump:
            self.dump = B.ffi.new("struct nmt_dump *")
            self.run.dump = self.dump

    def loop(self) -> None:
        h, g, r, f = self.port.handle, self.plan.gen, self.run, self.cfg.function
        if f in (Function.TX, Function.TXSEQ):
            rc = B.lib.nmt_gen_tx(h, self.ring, g, r)
        elif f in (Function.RX, Function.RXSEQ):
            rc = B.lib.nmt_gen_rx(h, self.ring, g, r)
        elif f == Function.PING:
            rc = B.lib.nmt_gen_ping(h, g, r)
        else:
            rc = B.lib.nmt_gen_pong(h, g, r)
        B.check(rc, h)

    def lines(self) -> list[str]:
        """-X: the packets the C loop copied since the last call, as pkt-gen prints them."""
        if self.dump is None:
            return []
        n = B.lib.NMT_DUMP_ENTRIES
        widx = int(self.dump.widx)
        lines: list[str] = []
        if widx - self.dump_read > n:
            lines.append(f"... {widx - self.dump_read - n} packets not shown (-X keeps {n})")
            self.dump_read = widx - n
        while self.dump_read < widx:
            e = self.dump.e[self.dump_read % n]
            if int(e.seq) != self.dump_read + 1:  # overwritten meanwhile
                self.dump_read += 1
                continue
            data = bytes(B.ffi.buffer(e.data, min(int(e.len), B.lib.NMT_DUMP_BYTES)))
            lines.append(
                f"ring {int(e.ring)} cur {int(e.slot):5d} [buf {int(e.buf_idx):6d} flags "
                f"0x{int(e.flags):04x} len {int(e.len):5d}]"
            )
            lines += hexdump(data)
            self.dump_read += 1
        return lines


def _hist_buckets(h: Any) -> list[tuple[float, int]]:
    return [
        (float(B.lib.nmt_hist_upper(i)), int(h.b[i]))
        for i in range(B.lib.NMT_HIST_BUCKETS)
        if h.b[i]
    ]


def _check_threads(cfg: Config) -> None:
    """Before any port is opened: what no port could change."""
    if cfg.function in (Function.PING, Function.PONG) and cfg.threads > 1:
        raise UsageError(f"-f {cfg.function.value} runs one thread, not -p {cfg.threads}")


def _check_settings(cfg: Config, port: Port) -> None:
    if cfg.pcap and cfg.function != Function.TX:
        raise UsageError(
            f"-P only works with -f tx (the file's packets are sent as they are; "
            f"{cfg.function.value} needs its own frames)"
        )
    if cfg.function == Function.TXSEQ and cfg.threads * cfg.flows > packets.MAX_FLOWS:
        raise UsageError(
            f"-p {cfg.threads} x --flows {cfg.flows}: at most {packets.MAX_FLOWS} flows in all"
        )
    if cfg.pcap or not cfg.function.sends:
        return
    shortest = packets.min_frame(cfg)
    smallest = min(s for s, _ in cfg.sizes.mix) if cfg.sizes.mix else cfg.sizes.min
    if smallest < shortest:
        marked = cfg.function in (Function.TXSEQ, Function.PING)
        what = ("IPv6" if cfg.ipv6 else "IPv4") + (" + VLAN" if cfg.vlan is not None else "")
        need = f"too short for {what}/UDP{' and the 16-byte sequence mark' if marked else ''}"
        if cfg.sizes.mix:
            fixed = ",".join(f"{max(sz, shortest)}:{w}" for sz, w in cfg.sizes.mix)
            raise UsageError(
                f"the mix's {smallest}-byte frames are {need} (at least {shortest} bytes); "
                f"use --mix {fixed}"
            )
        raise UsageError(f"-l {smallest}: {need} (at least {shortest} bytes)")


def _check_mtu(plan: packets.Plan, port: Port, vlan: bool) -> None:
    limit = port.max_frame + (4 if vlan else 0)
    if port.mtu and plan.max_len > limit:
        raise NmError(
            f"packets of {plan.max_len} bytes are longer than {port.name} allows "
            f"({limit} bytes: MTU {port.mtu} + 14{' + 4 for the VLAN tag' if vlan else ''}); "
            f"use a smaller -l or raise the MTU",
            errno.EMSGSIZE,
        )


def run(cfg: Config, reporter: views.Reporter | None = None) -> Result:
    """Run pkt-gen with these settings; returns when done (count, duration, Ctrl-C).

    When a worker fails (or the interface goes away), the reporter still gets the summary
    of what was done, then the NmError is raised with that Result as its `result`.
    """
    seed = cfg.seed if cfg.seed is not None else secrets.randbits(32)
    if cfg.src is None or cfg.dst is None:
        ds, dd = default_endpoints(cfg.ipv6)
        cfg = replace(cfg, src=cfg.src or ds, dst=cfg.dst or dd)
    assert cfg.src is not None and cfg.dst is not None
    rep = reporter or views.make_reporter(
        json=cfg.json, framing=cfg.framing, normalize=cfg.normalize, avg_std=cfg.avg_std
    )
    # the file is read (and refused) before any port is opened; every worker shares it
    trace = packets.load_pcap(cfg.pcap) if cfg.pcap and cfg.function == Function.TX else None
    _check_threads(cfg)
    direction = "tx" if cfg.function.sends else "rx"
    if cfg.function in (Function.PING, Function.PONG):
        direction = "rtt"  # auto: what measures latency best (AF_XDP), see admode
    ports = open_for_workers(
        cfg.port, cfg.threads, direction, admode=cfg.admode, who=f"-f {cfg.function.value}"
    )
    workers: list[Worker] = []
    try:
        port = ports[0]
        _check_settings(cfg, port)
        src_mac = cfg.src_mac or port.mac or "00:00:00:00:00:00"
        burst = cfg.burst or (1 if cfg.function in (Function.PING, Function.PONG) else 512)
        total_pps = (
            cfg.rate.pps_for(cfg.sizes.largest if cfg.sizes.fixed else _mean_size(cfg))
            if cfg.rate
            else 0.0
        )
        per_pps = total_pps / cfg.threads if total_pps else 0.0
        if per_pps:  # >= ~1000 batches a second keeps the rate smooth within every second
            burst = max(1, min(burst, int(per_pps / 1000)))
        cpus = runner.cpus_for(cfg.affinity, cfg.cpus, cfg.threads)
        frag = _frag_size(cfg, port, trace.max_caplen if trace else cfg.sizes.largest)
        for i in range(cfg.threads):
            count = cfg.count // cfg.threads + (1 if i < cfg.count % cfg.threads else 0)
            if cfg.count and not count:
                continue
            if _shared_count(cfg):
                count = 0  # receivers cannot choose their share: the total stops them all
            plan = packets.make_plan(
                cfg,
                cfg.src,
                cfg.dst,
                src_mac,
                seed + i,
                per_pps,
                count,
                burst,
                flow_base=i * cfg.flows,
                frag_size=frag,
                trace=trace,
            )
            if i == 0 and cfg.function.sends:
                _check_mtu(plan, port, cfg.vlan is not None)
                _check_slots(cfg, port, plan.max_len, frag)
            wport, ring = ring_of(ports, i, cfg.threads)
            workers.append(Worker(i, wport, ring, plan, cfg, cpus[i]))
        watch = PortWatch(port, sends=cfg.function.sends, tool="pkt-gen")
        info = _start_info(cfg, port, seed, src_mac, total_pps, burst)
        info.update(watch.start_info())
        lines = info.pop("lines")
        if not cfg.json:
            rep.log(
                f"interface is {cfg.port}: backend {port.backend}, admode {port.admode}, "
                f"seed {seed}" + (f" ({port.admode_note})" if port.admode_note else "")
            )
            for line in lines:
                rep.echo(line)
            if cfg.verbose:
                for k, v in port.info().items():
                    rep.log(f"{k:<10} {v}")
        nic = port.backend in ("xdp", "packet")
        wait = cfg.wait_link if cfg.wait_link is not None else (2.0 if nic else 0.0)
        if nic:
            runner.wait_link(port.ifname, wait)
        watch.begin(rep)
        t0 = time.monotonic()
        rep.start(info, t0=t0)
        for w in workers:
            w.start()

        def tick() -> None:
            if _shared_count(cfg) and sum(int(w.st.pkts) for w in workers) >= cfg.count:
                runner.cancel(workers)
            watch.tick(rep, workers)

        interval = max(cfg.report_ms, 10) / 1000
        interrupted = runner.supervise(workers, rep, interval, lambda: _sample(workers), tick)
        error = watch.explain(runner.first_error(workers))
        # what was done is summarised also when a worker failed; then its one line ends it
        summary = _summary(cfg, workers, seed, port, total_pps, time.monotonic() - t0)
        summary.extra.update(watch.link_extra())
        summary.settings["interrupted"] = interrupted
        rep.finish(summary)
        result = Result(summary, seed, port.admode, port.backend)
        if error is not None:
            if isinstance(error, NmError):
                error.result = result  # type: ignore[attr-defined]
            raise error
        return result
    finally:
        runner.stop(workers)
        for p in ports:
            p.close()


def _mean_size(cfg: Config) -> float:
    if cfg.sizes.mix:
        tot = sum(w for _, w in cfg.sizes.mix)
        return sum(s * w for s, w in cfg.sizes.mix) / tot
    return (cfg.sizes.min + cfg.sizes.max) / 2


def _frag_size(cfg: Config, port: Port, largest: int) -> int:
    """-M, or the fragment -F cuts the largest frame into (0: one buffer a slot)."""
    if cfg.frag_size:
        return min(cfg.frag_size, port.buf_size)
    if cfg.frags > 1:
        return max(1, -(-largest // cfg.frags))
    return 0


def _check_slots(cfg: Config, port: Port, largest: int, frag: int) -> None:
    """A frame needs slots of at most `frag` bytes (one buffer); one that needs more than
    a tx ring can hold at once could never be queued: refuse it here, saying what fits."""
    buf = port.buf_size
    what = (
        f"-P {cfg.pcap}: its longest packet ({largest} bytes)"
        if cfg.pcap
        else f"{_size_option(cfg)}: a {largest}-byte frame"
    )
    if cfg.function in (Function.PING, Function.PONG):
        if largest > buf:
            raise UsageError(
                f"{what} does not fit in one {buf}-byte buffer of {cfg.port}, and "
                f"{cfg.function.value} sends each frame in one slot; use -l {buf} or less"
            )
        return
    piece = min(frag or buf, buf)
    need = -(-largest // piece)
    room = port.num_tx_slots - 1  # a ring of N slots holds N - 1 frames' worth at once
    if need <= room:
        return
    fixes = []
    if room > 0 and -(-largest // buf) <= room:  # whole buffers would fit
        if cfg.frag_size and piece < buf:
            fixes.append(f"a larger -M ({-(-largest // room)} to {buf})")
        if cfg.frags > 1:
            fixes.append(f"fewer -F (at most {room})")
    slots = 1 << need.bit_length()  # a power of two that holds `need`
    fixes.append(f"more slots (@conf:slots={slots} in the port name)")
    raise UsageError(
        f"{what} takes {need} slots of {piece} byte{'s' if piece > 1 else ''}, and a tx "
        f"ring of {cfg.port} holds {room} at once ({port.num_tx_slots} slots); use {_or(fixes)}"
    )


def _size_option(cfg: Config) -> str:
    if cfg.sizes.mix:
        return "the mix"
    return f"-l {cfg.sizes.min}" + (f"-{cfg.sizes.max}" if cfg.sizes.max != cfg.sizes.min else "")


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _shared_count(cfg: Config) -> bool:
    """-n on several receiving threads counts in total (the kernel, not us, spreads flows)."""
    return bool(cfg.count) and cfg.threads > 1 and not cfg.function.sends


def _sample(workers: list[Worker]) -> stats.Sample:
    extra: dict[str, int] = {}
    if workers and workers[0].cfg.function == Function.RXSEQ:
        for w in workers:
            q = w.run.seq
            for k, v in (
                ("lost", q.dropped),
                ("out_of_order", q.out_of_order),
                ("dup", q.dup),
                ("seq_too_high", q.seq_too_high),
                ("seq_too_low", q.seq_too_low),
            ):
                extra[k] = extra.get(k, 0) + int(v)
    min_space = None
    if workers and not workers[0].cfg.function.sends:
        min_space = sum(int(w.run.min_space) for w in workers if int(w.run.min_space) != 0xFFFFFFFF)
    return runner.sample_all(workers, extra=extra, min_space=min_space)


def _start_info(
    cfg: Config, port: Port, seed: int, src_mac: str, pps: float, burst: int
) -> dict[str, Any]:
    assert cfg.src is not None and cfg.dst is not None
    verb = {
        Function.TX: "Sending on",
        Function.TXSEQ: "Sending on",
        Function.RX: "Receiving from",
        Function.RXSEQ: "Receiving from",
    }.get(cfg.function, "Working on")
    rings = port.num_tx_rings if cfg.function.sends else port.num_rx_rings
    lines = [
        f"{verb} {cfg.port}: {rings} queues, {cfg.threads} threads and "
        f"{cfg.cpus or len(os.sched_getaffinity(0))} cpus."
    ]
    if cfg.function.sends and not cfg.pcap:
        lines.append(packets.describe_flow(cfg.src, cfg.dst, src_mac, cfg.dst_mac))
    return {
        "function": cfg.function.value,
        "port": cfg.port,
        "admode": port.admode,
        "backend": port.backend,
        "seed": seed,
        "threads": cfg.threads,
        "burst": burst,
        "rate_pps": pps or None,
        "rate": cfg.rate.text if cfg.rate else None,
        "count": cfg.count or None,
        "duration": cfg.duration or None,
        "sizes": asdict(cfg.sizes),
        "lines": lines,
    }


def _summary(
    cfg: Config, workers: list[Worker], seed: int, port: Port, pps: float, wall: float
) -> stats.Summary:
    starts = [int(w.run.st.t_start_ns) for w in workers if w.run.st.pkts]
    ends = [int(w.run.st.t_end_ns) for w in workers if w.run.st.pkts]
    seconds = (max(ends) - min(starts)) / 1e9 if starts else wall
    s = _sample(workers)
    extra: dict[str, Any] = dict(s.extra)
    if cfg.function == Function.PING:
        buckets: dict[float, int] = {}
        for w in workers:
            for ub, c in _hist_buckets(w.run.lat):
                buckets[ub] = buckets.get(ub, 0) + c
        hist = sorted(buckets.items())
        lat = workers[0].run.lat
        extra.update(rtt_count=int(lat.count), sent=int(workers[0].run.sent))
        if lat.count:
            extra.update(stats.latency_extra(hist))
            extra.update(
                rtt_count=int(lat.count),
                rtt_min_ns=int(lat.min),
                rtt_max_ns=int(lat.max),
                rtt_avg_ns=int(lat.sum) / int(lat.count),
                rtt_hist=hist,
                sent=int(workers[0].run.sent),
            )
    if pps and cfg.function.sends and s.pkts:  # no lateness to tell when nothing was paced
        gaps: dict[float, int] = {}
        for w in workers:
            for ub, c in _hist_buckets(w.run.gap):
                gaps[ub] = gaps.get(ub, 0) + c
        g = sorted(gaps.items())
        if g:
            extra["gap_err_p50_ns"] = stats.percentile(g, 0.5)
            extra["gap_err_p99_ns"] = stats.percentile(g, 0.99)
    kind = "Sent" if cfg.function in (Function.TX, Function.TXSEQ) else "Received"
    if cfg.function in (Function.PING, Function.PONG):
        kind = "Received"
    settings = {
        "port": cfg.port,
        "function": cfg.function.value,
        "admode": port.admode,
        "backend": port.backend,
        "seed": seed,
        "threads": cfg.threads,
        "count": cfg.count or None,
        "duration": cfg.duration or None,
        "rate": cfg.rate.text if cfg.rate else None,
        "src": _ep(cfg.src),
        "dst": _ep(cfg.dst),
        "sizes": asdict(cfg.sizes),
    }
    return stats.Summary(
        kind,
        s.pkts,
        s.bytes,
        s.events,
        seconds,
        framing=cfg.framing,
        normalize=cfg.normalize,
        requested_pps=(pps or None) if cfg.function.sends else None,
        achieved_pps=_achieved(workers) if pps and cfg.function.sends else None,
        drops=s.drops,
        errors=s.errors,
        extra=extra,
        settings=settings,
    )


def _achieved(workers: list[Worker]) -> float:
    """Several paced streams: the sum of each one's rate over its own packets' intervals
    (n - 1 intervals from its first packet to its last handed over: a -t run's loop sleeps
    on to the end of -t after it); nan when a stream that sent has too few packets to tell."""
    total = 0.0
    for w in workers:
        st = w.run.st
        n = int(st.pkts)
        span = (int(st.t_last_ns or st.t_end_ns) - int(st.t_start_ns)) / 1e9
        if n == 0:
            continue
        if n < 2 or span <= 0:
            return math.nan
        total += (n - 1) / span
    return total if total else math.nan


def _ep(ep: Endpoint | None) -> str | None:
    return ep.text if ep else None

"""nmtools.pktgen.run(): open the port, start C workers in threads, report, summarise."""

from __future__ import annotations

import errno
import math
import os
import secrets
import socket
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from nmtools import _bindings as B
from nmtools import stats, views
from nmtools.errors import NmError, NoSuchPort, UsageError, printable
from nmtools.pktgen import packets
from nmtools.pktgen.config import Config, Endpoint, Function
from nmtools.pktgen.parse import default_endpoints
from nmtools.ports import Port, open_port


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


class Worker:
    """One C loop on one ring, in a thread (cffi releases the GIL for the call)."""

    def __init__(
        self, idx: int, port: Port, ring: int, plan: packets.Plan, cfg: Config, cpu: int | None
    ) -> None:
        self.idx, self.port, self.ring, self.plan, self.cfg, self.cpu = (
            idx,
            port,
            ring,
            plan,
            cfg,
            cpu,
        )
        self.run: Any = B.ffi.new("struct nmt_run *")
        self.dump: Any = None
        self.dump_read = 0
        if cfg.dump:
            self.dump = B.ffi.new("struct nmt_dump *")
            self.run.dump = self.dump
        self.error: BaseException | None = None
        # set when the C loop has returned; Thread.is_alive() is not trusted for this, as a
        # join() interrupted by Ctrl-C can leave it saying False while the thread still runs
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._body, name=f"nm-worker-{idx}", daemon=True)

    def _body(self) -> None:
        try:
            if self.cpu is not None:
                os.sched_setaffinity(0, {self.cpu})  # this thread only
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
        except BaseException as e:  # reported by the main thread
            self.error = e
        finally:
            self.finished.set()

    def cancel(self) -> None:
        self.run.st.cancel = 1

    def dump_lines(self) -> list[str]:
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

    def sample(self, t: float) -> stats.Sample:
        st = self.run.st
        return stats.Sample(
            t, int(st.pkts), int(st.bytes), int(st.events), int(st.drops), int(st.errors)
        )


def _hist_buckets(h: Any) -> list[tuple[float, int]]:
    return [
        (float(B.lib.nmt_hist_upper(i)), int(h.b[i]))
        for i in range(B.lib.NMT_HIST_BUCKETS)
        if h.b[i]
    ]


def _cpus_for(cfg: Config) -> list[int | None]:
    """-a A [-c C]: thread i on CPU A + i (wrapping over C CPUs from A when -c is given).

    pkt-gen pins to CPU (A + i) % C with C = 1 by default, so `-a 3` alone lands on CPU 0;
    here `-a 3` means CPU 3.
    """
    if cfg.affinity is None:
        return [None] * cfg.threads
    allowed = sorted(os.sched_getaffinity(0))
    span = cfg.cpus or cfg.threads
    cpus = [cfg.affinity + (i % span) for i in range(cfg.threads)]
    bad = sorted({c for c in cpus if c not in allowed})
    if bad:
        raise UsageError(
            f"-a {cfg.affinity}{f' -c {cfg.cpus}' if cfg.cpus else ''} -p {cfg.threads}: "
            f"CPU {', '.join(map(str, bad))} is not available (this process may use "
            f"{_cpulist(allowed)})"
        )
    return list(cpus)


def _cpulist(cpus: list[int]) -> str:
    out, start = [], None
    for i, c in enumerate(cpus):
        if start is None:
            start = c
        if i + 1 == len(cpus) or cpus[i + 1] != c + 1:
            out.append(str(start) if start == c else f"{start}-{c}")
            start = None
    return ",".join(out)


def _check_settings(cfg: Config, port: Port) -> None:
    if cfg.function in (Function.PING, Function.PONG) and cfg.threads > 1:
        raise UsageError(f"-f {cfg.function.value} runs one thread, not -p {cfg.threads}")
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


def _wait_link(port: Port, seconds: float) -> None:
    """-w: wait up to `seconds` for the carrier (returns at once when it is up)."""
    if not port.ifname or seconds <= 0:
        return
    path = f"/sys/class/net/{port.ifname}/carrier"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                if f.read().strip() == "1":
                    return
        except OSError:
            return
        time.sleep(0.05)


def _open_ports(cfg: Config) -> list[Port]:
    """One port shared by the threads (one ring each), or one port per thread (AF_PACKET tx)."""
    direction = {
        Function.TX: "tx",
        Function.TXSEQ: "tx",
        Function.RX: "rx",
        Function.RXSEQ: "rx",
        Function.PING: "rtt",  # auto: what measures latency best (AF_XDP), see admode
        Function.PONG: "rtt",
    }.get(cfg.function)
    first = open_port(cfg.port, admode=cfg.admode, direction=direction)
    ports = [first]
    try:
        rings = first.num_tx_rings if cfg.function.sends else first.num_rx_rings
        if cfg.function in (Function.PING, Function.PONG):
            rings = min(first.num_tx_rings, first.num_rx_rings)
        if rings == 0:
            need = (
                "tx and rx"
                if cfg.function in (Function.PING, Function.PONG)
                else ("tx" if cfg.function.sends else "rx")
            )
            only = "transmit-only (/T)" if first.num_rx_rings == 0 else "receive-only (/R)"
            raise UsageError(
                f"-f {cfg.function.value} needs {need} rings, and {printable(cfg.port)} is "
                f"{only}: drop the /{'T' if first.num_rx_rings == 0 else 'R'}"
            )
        if cfg.threads > rings and first.backend == "xdp":
            # an AF_XDP socket a queue: more threads than queues need AF_PACKET sockets
            if first.request.auto:
                first.close()
                ports.clear()
                first = open_port(cfg.port, admode="packet", direction=direction)
                first.admode_note = (
                    f"AF_XDP has {rings} queue(s) here, -p {cfg.threads} needs a socket a thread"
                )
                ports.append(first)
            else:
                raise UsageError(
                    f"-p {cfg.threads}: {cfg.port} has {rings} queue(s) for AF_XDP, one a "
                    "thread is needed (use --admode packet, or fewer threads)"
                )
        if cfg.threads > rings:
            if first.backend == "packet" and cfg.function.sends:
                for _ in range(cfg.threads - 1):
                    ports.append(open_port(cfg.port, admode="packet", direction=direction))
            elif first.backend == "packet" and direction == "rx":
                # one socket a thread, the kernel spreading flows over them (fanout)
                group = os.getpid() % 0xFFFF + 1
                first.close()
                ports.clear()
                for _ in range(cfg.threads):
                    ports.append(
                        open_port(cfg.port, admode="packet", direction=direction, fanout=group)
                    )
            else:
                kind = "tx" if cfg.function.sends else "rx"
                hint = {
                    "pipe": " (ask a pipe for more with @conf:rings=N)",
                }.get(first.backend, "")
                raise UsageError(
                    f"-p {cfg.threads}: {cfg.port} has {rings} {kind} ring(s), one "
                    f"per thread is needed{hint}"
                )
        return ports
    except BaseException:
        for p in ports:
            p.close()
        raise


def _ifindex(name: str) -> int:
    """The interface's index in this process's network namespace (0: there is none)."""
    try:
        return socket.if_nametoindex(name)
    except (OSError, ValueError, UnicodeError):
        return 0


def _sysfs(ifname: str, leaf: str) -> int | None:
    try:
        with open(f"/sys/class/net/{ifname}/{leaf}") as f:
            return int(f.read().strip())
    except (OSError, ValueError):  # gone, down (carrier: EINVAL), or not a number
        return None


class _Watch:
    """What run() keeps an eye on while the workers run.

    - The other end of a pipe: a pipe end with no peer moves nothing, so say once that it
      waits (and name the other end), and once more when the peer opens.
    - The interface: deleted (or replaced) while running, the run ends with that one line.
    - The link (tx): with no carrier the kernel drops what the port accepted; the
      interface's tx_dropped and tx_packets counters, read from sysfs when sysfs shows this
      namespace's interface (its ifindex matches), say what was carried.
    """

    PERIOD = 0.2  # seconds between looks

    def __init__(self, cfg: Config, port: Port) -> None:
        self.port = port
        self.peer = ""
        self.peer_path = ""
        self.peer_end = 0
        self.peer_open: bool | None = None
        req, spec = port.request, port.spec
        if req.kind == B.lib.NMT_KIND_PIPE and spec is not None:
            other = "}" if req.pipe_end == 0 else "{"
            self.peer = f"{spec.subsys}:{spec.name}{other}{spec.pipe_id}"
            self.peer_path, self.peer_end = req.path, 1 - req.pipe_end
            self.peer_open = self._peer_alive()
        self.ifname = port.ifname if port.backend in ("xdp", "packet") else ""
        self.ifindex = int(port.handle.ifindex) if self.ifname else 0
        # watched only when this namespace's view of the name is the port's interface
        self.watch_if = bool(self.ifindex) and _ifindex(self.ifname) == self.ifindex
        self.sysfs = self.watch_if and _sysfs(self.ifname, "ifindex") == self.ifindex
        self.link0: tuple[int | None, int | None] | None = None
        self.carrier: bool | None = None
        self.sends = cfg.function.sends
        self.error: NmError | None = None
        self._next = 0.0

    def _peer_alive(self) -> bool | None:
        info = B.ffi.new("struct nmt_pipe_info *")
        err = B.ffi.new("char[]", 320)
        if B.lib.nmt_pipe_probe(self.peer_path.encode(), info, 0, err, 320) < 0:
            return None
        return bool(info.alive[self.peer_end])

    def start_info(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.peer:
            out.update(peer=self.peer, peer_open=self.peer_open)
        return out

    def begin(self, rep: views.Reporter) -> None:
        """Just before the workers start: the link counters, and what the user must know."""
        if self.peer and self.peer_open is False:
            rep.log(
                f"waiting for the other end of the pipe: nothing moves until {self.peer} is opened"
            )
        if self.sysfs and self.sends:
            self.link0 = self._link()
            carrier = _sysfs(self.ifname, "carrier")
            self.carrier = None if carrier is None else carrier == 1
            if self.carrier is False:
                rep.log(
                    f"{self.ifname} has no carrier (is its peer or cable down?): the kernel "
                    "drops what is sent, and the summary counts it"
                )

    def _link(self) -> tuple[int | None, int | None]:
        return (
            _sysfs(self.ifname, "statistics/tx_packets"),
            _sysfs(self.ifname, "statistics/tx_dropped"),
        )

    def tick(self, rep: views.Reporter, workers: list[Worker]) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.PERIOD
        if self.peer and self.peer_open is False and self._peer_alive():
            self.peer_open = True
            rep.log(f"the other end of the pipe, {self.peer}, is open")
        if self.watch_if and self.error is None and self.gone():
            self.error = self._gone_error()
            for w in workers:
                w.cancel()

    def gone(self) -> bool:
        return bool(self.watch_if) and _ifindex(self.ifname) != self.ifindex

    def _gone_error(self) -> NmError:
        return NoSuchPort(
            f"{self.ifname}: the interface has gone away (deleted while pkt-gen ran)",
            errno.ENODEV,
        )

    def explain(self, error: BaseException | None) -> BaseException | None:
        """The one true line for how the run ended: a loop's error on an interface that
        was deleted meanwhile is that deletion (the loop may have seen only "down")."""
        if self.error is not None:
            return self.error
        if error is not None and self.gone():
            return self._gone_error()
        return error

    def link_extra(self) -> dict[str, Any]:
        """What the interface counted while the workers sent (summary extras)."""
        if self.link0 is None or self.gone():
            return {}
        now = self._link()
        out: dict[str, Any] = {"link": self.ifname, "link_carrier": self.carrier}
        carrier = _sysfs(self.ifname, "carrier")
        if carrier is not None and carrier != 1:
            out["link_carrier"] = False
        for key, a, b in (
            ("link_tx_packets", self.link0[0], now[0]),
            ("link_tx_dropped", self.link0[1], now[1]),
        ):
            if a is not None and b is not None:
                out[key] = max(0, b - a)
        return out


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
    ports = _open_ports(cfg)
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
        cpus = _cpus_for(cfg)
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
            wport = ports[i] if len(ports) > 1 else port
            ring = 0 if len(ports) > 1 else i
            if cfg.threads == 1:
                ring = -1  # all rings
            workers.append(Worker(i, wport, ring, plan, cfg, cpus[i]))
        watch = _Watch(cfg, port)
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
            _wait_link(port, wait)
        watch.begin(rep)
        t0 = time.monotonic()
        rep.start(info, t0=t0)
        for w in workers:
            w.thread.start()
        interrupted = _supervise(cfg, workers, rep, watch)
        errors = [w.error for w in workers if w.error is not None]
        error = next((e for e in errors if not isinstance(e, KeyboardInterrupt)), None)
        error = watch.explain(error)
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
        for w in workers:
            w.cancel()
        for w in workers:
            if w.thread.is_alive():
                w.thread.join(5)
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


def _supervise(cfg: Config, workers: list[Worker], rep: views.Reporter, watch: _Watch) -> bool:
    """Report every -T ms until the workers end; Ctrl-C cancels them. True if interrupted."""
    interval = max(cfg.report_ms, 10) / 1000
    interrupted = False
    next_t = time.monotonic() + interval
    while not all(w.finished.is_set() for w in workers):
        try:
            for w in workers:
                w.finished.wait(max(0.0, min(0.01, next_t - time.monotonic())))
            if _shared_count(cfg) and sum(int(w.run.st.pkts) for w in workers) >= cfg.count:
                for w in workers:
                    w.cancel()
            for w in workers:
                for line in w.dump_lines():
                    rep.echo(line)
            watch.tick(rep, workers)
            if time.monotonic() >= next_t:
                rep.update(_sample(workers))
                next_t += interval
        except KeyboardInterrupt:
            interrupted = True
            for w in workers:
                w.cancel()
    for w in workers:
        for line in w.dump_lines():
            rep.echo(line)
    return interrupted


def _sample(workers: list[Worker]) -> stats.Sample:
    t = time.monotonic()
    threads = [w.sample(t) for w in workers]
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
    return stats.Sample.total(t, threads, extra, min_space)


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

"""Frame templates (built once with dpkt, or a pcap file's packets) and the generator plan
handed to C."""

from __future__ import annotations

import errno
import ipaddress
import struct
from dataclasses import dataclass, field
from typing import Any

import dpkt

from nmtools import _bindings as B
from nmtools import pcap
from nmtools.errors import NmError
from nmtools.pktgen.config import MARK_LEN, Config, Endpoint, Function, header_len, least_frame

PAYLOAD_TEXT = b"nmtools pkt-gen payload\n"
MAX_FLOWS = 65536


def mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


def min_frame(cfg: Config) -> int:
    """Shortest frame the settings allow (headers, plus the mark for seq/ping)."""
    return least_frame(cfg.function, cfg.ipv6, cfg.vlan is not None)


def _payload(n: int, marked: bool) -> bytes:
    body = (PAYLOAD_TEXT * (n // len(PAYLOAD_TEXT) + 1))[:n]
    if marked:  # the mark's bytes are zero in the template: the C side fills them in
        body = bytes(min(MARK_LEN, n)) + body[MARK_LEN:]
    return body


def build_udp_frame(
    length: int,
    src: Endpoint,
    dst: Endpoint,
    src_mac: str,
    dst_mac: str,
    vlan: int | None,
    marked: bool,
) -> bytes:
    """One Ethernet/[802.1Q]/IPv4|IPv6/UDP frame of `length` bytes (no CRC), checksums set."""
    ipv6 = src.ipv6
    hdr = header_len(ipv6, vlan is not None)
    udp = dpkt.udp.UDP(
        sport=src.port_start, dport=dst.port_start, data=_payload(length - hdr, marked)
    )
    udp.ulen = 8 + len(udp.data)
    if ipv6:
        ip: Any = dpkt.ip6.IP6(
            src=ipaddress.IPv6Address(src.ip_start).packed,
            dst=ipaddress.IPv6Address(dst.ip_start).packed,
            nxt=17,
            hlim=64,
            data=udp,
            plen=udp.ulen,
        )
        etype = 0x86DD
    else:
        ip = dpkt.ip.IP(
            src=ipaddress.IPv4Address(src.ip_start).packed,
            dst=ipaddress.IPv4Address(dst.ip_start).packed,
            p=17,
            ttl=64,
            tos=0x10,
            df=1,
            data=udp,
        )
        etype = 0x0800
    eth = mac_bytes(dst_mac) + mac_bytes(src_mac)
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, vlan & 0x0FFF)
    frame = eth + struct.pack("!H", etype) + bytes(ip)
    assert len(frame) == length, (len(frame), length)
    return frame


def load_pcap(path: str) -> pcap.Trace:
    """-P: the packets of a pcap or pcapng file (Ethernet), mapped once and shared by every
    worker; refused in one line when a packet cannot be sent as it was captured."""
    try:
        trace = pcap.read(path, linktypes=(pcap.LINKTYPE_ETHERNET,))
    except pcap.PcapError as e:
        raise NmError(f"-P {path}: not a readable pcap/pcapng file: {e}", e.errno) from None
    except NmError as e:  # cannot open it
        raise NmError(f"-P {path}: {e}", e.errno or errno.EIO) from None
    if not len(trace):
        raise NmError(f"-P {path}: the file has no packets", errno.EINVAL)
    try:
        trace.check_sendable()
    except pcap.PcapError as e:
        raise NmError(f"-P {path}: {e}", e.errno) from None
    return trace


@dataclass
class Plan:
    """The generator settings as the C loops take them (keeps its buffers alive)."""

    gen: Any
    ntpl: int
    max_len: int
    mark_off: int
    l3_off: int
    keep: list[Any] = field(default_factory=list)


def _low32(v: int) -> int:
    return v & 0xFFFFFFFF


def layout(cfg: Config) -> tuple[int, int, int]:
    """(l3_off, l4_off, mark_off) of generated frames for these settings."""
    l3 = 14 + (4 if cfg.vlan is not None else 0)
    l4 = l3 + (40 if cfg.ipv6 else 20)
    return l3, l4, l4 + 8


def make_plan(
    cfg: Config,
    src: Endpoint,
    dst: Endpoint,
    src_mac: str,
    seed: int,
    pps: float,
    count: int,
    burst: int,
    flow_base: int = 0,
    frag_size: int = 0,
    trace: pcap.Trace | None = None,
) -> Plan:
    """Fill a `struct nmt_gen` for one worker. With -P, `trace` is the file as
    `load_pcap` read it (read here when not given): workers share it."""
    g = B.ffi.new("struct nmt_gen *")
    keep: list[Any] = []
    l3, l4, mark = layout(cfg)
    marked = cfg.function in (Function.TXSEQ, Function.RXSEQ, Function.PING, Function.PONG)
    if cfg.pcap:
        # the file's own bytes, where they are: one mapping for every worker, no copy
        trace = trace if trace is not None else load_pcap(cfg.pcap)
        try:
            offs32 = pcap.offsets32(trace)
        except pcap.PcapError as e:
            raise NmError(f"-P {cfg.pcap}: {e}", e.errno) from None
        tpl = B.ffi.from_buffer("uint8_t[]", trace.data)
        offs = B.ffi.from_buffer("uint32_t[]", offs32)
        lens = B.ffi.from_buffer("uint32_t[]", trace.caplens)
        keep += [trace, offs32, tpl, offs, lens]
        ntpl, max_len = len(trace), trace.max_caplen
        g.l3_off = g.l4_off = -1
        g.mark_off = -1
    else:
        if not cfg.function.sends:  # receivers only need to know where the mark is
            frame = bytes(max(64, mark + MARK_LEN))
        else:
            frame = build_udp_frame(
                cfg.sizes.largest, src, dst, src_mac, cfg.dst_mac, cfg.vlan, marked
            )
        g.l3_off, g.l4_off, g.ipv6 = l3, l4, int(cfg.ipv6)
        g.mark_off = mark if marked else -1
        tpl = B.ffi.new("uint8_t[]", frame)
        offs = B.ffi.new("uint32_t[]", [0])
        lens = B.ffi.new("uint32_t[]", [len(frame)])
        keep += [tpl, offs, lens]
        ntpl, max_len = 1, len(frame)
    g.tpl, g.tpl_off, g.tpl_len, g.ntpl = tpl, offs, lens, ntpl
    g.src_ip0, g.src_ip1 = _low32(src.ip_start), _low32(src.ip_end)
    g.dst_ip0, g.dst_ip1 = _low32(dst.ip_start), _low32(dst.ip_end)
    g.src_port0, g.src_port1 = src.port_start, src.port_end
    g.dst_port0, g.dst_port1 = dst.port_start, dst.port_end
    g.rand_src, g.rand_dst = int(cfg.random_src), int(cfg.random_dst)
    if not cfg.pcap and not cfg.sizes.fixed:
        if cfg.sizes.mix:
            table = [s for s, w in cfg.sizes.mix for _ in range(w)]
        else:
            table = list(range(cfg.sizes.min, cfg.sizes.max + 1))
        tab = B.ffi.new("uint16_t[]", table)
        keep.append(tab)
        g.len_table, g.len_n = tab, len(table)
    flows = 1
    if cfg.function == Function.TXSEQ:
        flows = max(1, min(cfg.flows, MAX_FLOWS))
    g.flows, g.flow_base = flows, flow_base
    g.pps = pps
    g.count = count
    g.duration_ns = int(cfg.duration * 1e9)
    g.burst = burst
    g.frag_size = frag_size
    g.seed = seed
    g.idle_stop_ms = 0 if cfg.wait_forever else 1000
    g.reply_timeout_ms = 1000
    return Plan(g, ntpl, max_len, g.mark_off, g.l3_off, keep)


def describe_flow(src: Endpoint, dst: Endpoint, src_mac: str, dst_mac: str) -> str:
    """pkt-gen's second start-up line: `10.0.0.1 -> 10.1.0.1 (mac -> mac)`."""
    return f"{src.text} -> {dst.text} ({src_mac} -> {dst_mac})"

"""pkt-gen's words: its log prefix, its periodic line and its final summary, as strings."""

from __future__ import annotations

import math
import time

from nmtools.stats import QUANTILES, RTT_KEYS, SEQ_KEYS, Interval, Summary, latency_extra, pct
from nmtools.units import format_ns, norm

LOG_LINE = 0  # the "[%d]" of pkt-gen's log prefix: its C source line there, meaningless here
PERIODIC_FUNC = "main_thread"  # the function name pkt-gen's periodic line carries


def log_prefix(func: str = "main", line: int = LOG_LINE, now: float | None = None) -> str:
    """pkt-gen's `D()` prefix: ``"%03d.%06d %s [%d] "`` (wall clock seconds mod 1000, usec)."""
    t = time.time() if now is None else now
    usec_total = int(round(t * 1e6))
    sec, usec = divmod(usec_total, 1_000_000)
    return f"{sec % 1000:03d}.{usec:06d} {func} [{line}] "


def format_interval(iv: Interval, normalize: bool = True, avg_std: bool = False) -> str:
    """pkt-gen's periodic message (what follows the ``[line] `` of the prefix)."""
    n = normalize
    avgstd = f"[avg/std {norm(iv.pps_avg, n)}/{norm(iv.pps_std, n)} pps]" if avg_std else ""
    return (
        f"{norm(iv.pps, n)}pps {avgstd}({norm(iv.pkts, n)}pkts {norm(iv.bps, n)}bps "
        f"in {iv.usec} usec) {iv.avg_batch:.2f} avg_batch {iv.min_space} min_space"
    )


def _extra_lines(s: Summary) -> list[str]:
    n = s.normalize
    x = s.extra
    lines = []
    if s.requested_pps:
        req = s.requested_pps
        rate, err = s.rate, s.rate_error
        if rate is None or err is None:
            sent = f"{s.pkts} packet{'' if s.pkts == 1 else 's'} {s.kind.lower()}"
            line = f"Rate: requested {norm(req, n)}pps; {sent}, too few to measure a rate"
        else:
            err_pct = err * 100 if abs(err) >= 0.00005 else 0.0  # no "-0.00%" for on time
            line = (
                f"Rate: requested {norm(req, n)}pps, achieved {norm(rate, n)}pps ({err_pct:+.2f}%)"
            )
        if s.pkts and ("gap_err_p50_ns" in x or "gap_err_p99_ns" in x):
            line += (
                f", gap error p50 {format_ns(x.get('gap_err_p50_ns', math.nan))}"
                f" p99 {format_ns(x.get('gap_err_p99_ns', math.nan))}"
            )
        lines.append(line)
    if any(k in x for k in SEQ_KEYS):
        lost = int(x.get("lost", 0))
        lines.append(
            f"Sequence: {s.pkts} received, {lost} lost ({pct(lost, s.pkts + lost):.2f}%), "
            f"{x.get('out_of_order', 0)} out of order, {x.get('dup', 0)} duplicated, "
            f"{x.get('seq_too_high', 0)} too high, {x.get('seq_too_low', 0)} too low"
        )
    if "rtt_min_ns" in x or "rtt_hist" in x:
        lat = dict(x)
        if "rtt_hist" in x and not all(k in x for k in RTT_KEYS):
            lat = {**latency_extra(x["rtt_hist"]), **x}

        def ns(key: str) -> str:
            v = lat.get(key)
            return "-" if v is None or v != v else f"{v:.0f}"

        count = lat.get("rtt_count", s.pkts)
        pcts = " ".join(f"{name} {ns(f'rtt_{k}_ns')}" for name, _, k in QUANTILES)
        lines.append(
            f"RTT over {count} packets: min {ns('rtt_min_ns')} avg {ns('rtt_avg_ns')} "
            f"max {ns('rtt_max_ns')} ns; {pcts} ns"
        )
    errs = [f"{s.drops} dropped, {s.errors} errors"] if s.drops or s.errors else []
    if x.get("link_tx_dropped"):
        why = " (no carrier)" if x.get("link_carrier") is False else ""
        errs.append(f"{x['link_tx_dropped']} dropped by {x.get('link', 'the interface')}{why}")
    if errs:
        lines.append("Errors: " + "; ".join(errs))
    return lines


def format_summary(s: Summary) -> str:
    """pkt-gen's final text (two lines, or ``Sent nothing.``), then ours; no final newline."""
    n = s.normalize
    if s.pkts == 0:
        lines = [f"{s.kind} nothing."]
    else:
        lines = [
            f"{s.kind} {s.pkts} packets {s.bytes} bytes {s.events} events "
            f"{s.bytes_each} bytes each in {s.seconds:.2f} seconds.",
            f"Speed: {norm(s.pps, n)}pps Bandwidth: {norm(s.bps, n)}bps "
            f"(raw {norm(s.bps_raw, n)}bps). Average batch: {s.avg_batch:.2f} pkts",
        ]
    return "\n".join(lines + _extra_lines(s))

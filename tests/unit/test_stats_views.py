"""nmtools.stats and nmtools.views: pkt-gen's numbers and lines (reference 0.2, 1.7.2,
1.7.3), JSON lines, live view."""

from __future__ import annotations

import enum
import io
import json
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from nmtools.stats import Meter, Sample, Summary, latency_extra, percentile
from nmtools.units import format_ns, norm
from nmtools.views import (
    SCHEMA,
    JsonReporter,
    LiveReporter,
    PlainReporter,
    format_interval,
    format_summary,
    log_prefix,
    make_reporter,
    summary_record,
)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PREFIX = re.compile(r"^\d{3}\.\d{6} main_thread \[0\] ")


# ---- 0.2 normalisation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalize", "text"),
    [
        (14_880_000, True, "14.880 Mpps"),
        (512, True, "512.000 pps"),
        (0, True, "0.000 pps"),
        (999.9996, True, "1000.000 pps"),  # < 1000 before rounding: no prefix (as in C)
        (1000, True, "1.000 Kpps"),
        (907_878, True, "907.878 Kpps"),
        (6.867e9, True, "6.867 Gpps"),
        (2.5e12, True, "2.500 Tpps"),
        (3e16, True, "30000.000 Tpps"),  # T is the last prefix
        (14_880_000, False, "14880000 pps"),
        (512.4, False, "512 pps"),
    ],
)
def test_norm(value, normalize, text):
    assert norm(value, normalize) + "pps" == text


@given(st.floats(min_value=0, max_value=1e14))
def test_norm_reads_back(value):
    num, prefix = norm(value).split(" ")
    scale = 1000 ** ("", "K", "M", "G", "T").index(prefix)
    assert float(num) < 1000 or prefix == "T" or float(num) == 1000.0
    assert math.isclose(float(num) * scale, value, rel_tol=1e-3, abs_tol=5e-4)


def test_format_ns():
    assert format_ns(120) == "120 ns"
    assert format_ns(3100) == "3.1 us"
    assert format_ns(12e6) == "12.0 ms"
    assert format_ns(1.5e9) == "1.50 s"
    assert format_ns(math.nan) == "-"


def test_log_prefix():
    assert log_prefix("main", now=1234.5) == "234.500000 main [0] "
    assert log_prefix("main_thread", now=1_700_000_007.000123) == "007.000123 main_thread [0] "


# ---- 1.7.3 final summary ---------------------------------------------------------------------


def test_summary_reference_example():
    # issue log in reference 1.7.3 (framing on: raw > Bandwidth by 192 bits a packet); the
    # three rates pin the run's length to a narrow window around 58.93006 s
    s = Summary("Received", 511, 715400, 489, 58.930065, framing=True)
    assert format_summary(s) == (
        "Received 511 packets 715400 bytes 489 events 1400 bytes each in 58.93 seconds.\n"
        "Speed: 8.671 pps Bandwidth: 97.119 Kbps (raw 98.783 Kbps). Average batch: 1.04 pkts"
    )


def test_summary_without_framing_raw_equals_bandwidth():
    s = Summary("Sent", 14_307_000, 858_420_000, 66_721, 1.0)
    assert format_summary(s) == (
        "Sent 14307000 packets 858420000 bytes 66721 events 60 bytes each in 1.00 seconds.\n"
        "Speed: 14.307 Mpps Bandwidth: 6.867 Gbps (raw 6.867 Gbps). Average batch: 214.43 pkts"
    )


def test_summary_not_normalized():
    s = Summary("Sent", 1000, 60000, 10, 2.0, normalize=False)
    assert format_summary(s).splitlines()[1] == (
        "Speed: 500 pps Bandwidth: 240000 bps (raw 240000 bps). Average batch: 100.00 pkts"
    )


@pytest.mark.parametrize("kind", ["Sent", "Received"])
def test_summary_nothing(kind):
    assert format_summary(Summary(kind, 0, 0, 0, 3.0)) == f"{kind} nothing."


def test_summary_zero_seconds_and_events():
    text = format_summary(Summary("Sent", 1, 60, 0, 0.0))
    assert text.splitlines()[0].endswith("in 0.00 seconds.")
    assert text.endswith("Average batch: 0.00 pkts")


def test_summary_rate_line():
    s = Summary(
        "Sent",
        99_980,
        5_998_800,
        1000,
        10.0,
        requested_pps=10_000,
        extra={"gap_err_p50_ns": 120, "gap_err_p99_ns": 3100},
    )
    lines = format_summary(s).splitlines()
    assert lines[0].startswith("Sent 99980 packets")
    assert lines[2] == (
        "Rate: requested 10.000 Kpps, achieved 9.998 Kpps (-0.02%), gap error p50 120 ns p99 3.1 us"
    )
    s.extra = {}
    s.achieved_pps = 10_001
    assert format_summary(s).splitlines()[2] == (
        "Rate: requested 10.000 Kpps, achieved 10.001 Kpps (+0.01%)"
    )


def test_perfect_pacing_reads_zero_error():
    """-n 10 -R 10pps: 10 packets, the last 0.9 s after the first (was "+11.11%")."""
    s = Summary("Sent", 10, 600, 10, 0.9, requested_pps=10)
    assert format_summary(s).splitlines()[2] == (
        "Rate: requested 10.000 pps, achieved 10.000 pps (+0.00%)"
    )
    # pkt-gen's own Speed line keeps pkt-gen's definition (packets / seconds)
    assert format_summary(s).splitlines()[1].startswith("Speed: 11.111 pps")
    rec = summary_record(s)
    assert rec["achieved_pps"] == pytest.approx(10.0) and rec["rate_error"] == pytest.approx(0)
    late = Summary("Sent", 10, 600, 10, 0.90001, requested_pps=10)  # 10 us late at the end
    assert "(+0.00%)" in format_summary(late)


@pytest.mark.parametrize("pkts", [0, 1])
def test_no_rate_claim_below_two_packets(pkts):
    """-n 1 -R 1pps said "+12768030.75%"; -t 0.3 -R 1pps a gap error for nothing sent."""
    s = Summary(
        "Sent",
        pkts,
        60 * pkts,
        pkts,
        7e-6 if pkts else 0.3,
        requested_pps=1,
        extra={"gap_err_p50_ns": 90, "gap_err_p99_ns": 90} if pkts else {},
    )
    rate = format_summary(s).splitlines()[-1]
    assert rate.startswith(
        f"Rate: requested 1.000 pps; {pkts} packet{'s' if pkts != 1 else ''} sent, "
        "too few to measure a rate"
    )
    assert "achieved" not in rate and "%" not in rate
    rec = summary_record(s)
    assert rec["achieved_pps"] is None and rec["rate_error"] is None
    # a gap error is shown only for packets that were paced
    s0 = Summary("Sent", 0, 0, 0, 0.3, requested_pps=1, extra={"gap_err_p50_ns": 90})
    assert "gap error" not in format_summary(s0)


def test_streams_too_short_to_measure_make_no_claim():
    s = Summary("Sent", 3, 180, 3, 1.0, requested_pps=2, achieved_pps=math.nan)
    assert "too few to measure a rate" in format_summary(s)
    assert summary_record(s)["rate_error"] is None
    s.achieved_pps = 1.9  # several streams: their rates summed by the tool
    assert "achieved 1.900 pps (-5.00%)" in format_summary(s)


def test_summary_sequence_line():
    s = Summary(
        "Received",
        990,
        59400,
        990,
        1.0,
        extra={"lost": 10, "out_of_order": 3, "dup": 2, "seq_too_high": 1, "seq_too_low": 0},
    )
    assert format_summary(s).splitlines()[2] == (
        "Sequence: 990 received, 10 lost (1.00%), 3 out of order, 2 duplicated, "
        "1 too high, 0 too low"
    )


def test_summary_rtt_line_from_histogram():
    hist = [(1000, 50), (2000, 40), (4000, 9), (8000, 1)]
    s = Summary(
        "Sent",
        100,
        6000,
        100,
        1.0,
        extra={"rtt_hist": hist, "rtt_min_ns": 800, "rtt_avg_ns": 1500, "rtt_max_ns": 7900},
    )
    assert format_summary(s).splitlines()[2] == (
        "RTT over 100 packets: min 800 avg 1500 max 7900 ns; "
        "p50 1000 p90 2000 p99 4000 p99.9 8000 ns"
    )


def test_summary_extra_lines_do_not_touch_pktgen_lines():
    plain = Summary("Sent", 10, 600, 1, 1.0)
    rich_ = Summary("Sent", 10, 600, 1, 1.0, requested_pps=10, drops=1, extra={"lost": 0})
    assert format_summary(rich_).splitlines()[:2] == format_summary(plain).splitlines()
    assert format_summary(rich_).splitlines()[-1] == "Errors: 1 dropped, 0 errors"


# ---- Meter -----------------------------------------------------------------------------------


def test_meter_deltas():
    m = Meter(t0=100.0)
    a = m.update(Sample(101.0, pkts=1000, bytes=60_000, events=10, drops=1, min_space=7))
    assert (a.pkts, a.bytes, a.events, a.drops, a.usec) == (1000, 60_000, 10, 1, 1_000_000)
    assert (a.pps, a.bps, a.avg_batch, a.min_space, a.t) == (1000, 480_000.0, 100.0, 7, 1.0)
    b = m.update(Sample(103.0, pkts=1003, bytes=60_180, events=10, drops=1))
    assert (b.pkts, b.events, b.drops, b.min_space) == (3, 0, 0, 0)
    assert b.pps == 2  # (3 * 10^6 + usec/2) / usec, integer: 1.5 rounds up
    assert b.avg_batch == 0.0
    assert b.bps == pytest.approx(720.0)
    assert b.sample.pkts == 1003 and b.t == 3.0


def test_meter_framing():
    m = Meter(framing=True, t0=0.0)
    iv = m.update(Sample(1.0, pkts=10, bytes=600, events=1))
    assert iv.bps == 10 * (600 * 8 // 10 + 192)
    assert iv.bps_l1 == iv.bps and iv.bps_l2 == 4800.0
    assert Meter(t0=0.0).update(Sample(1.0, pkts=10, bytes=600)).bps == 4800.0


def test_meter_skips_short_intervals():
    m = Meter(t0=0.0)
    assert m.update(Sample(0.005, pkts=5)) is None  # < 10 ms: pkt-gen skips it
    iv = m.update(Sample(0.5, pkts=50))
    assert iv.pkts == 50 and iv.usec == 500_000


def test_meter_threads():
    m = Meter(t0=0.0)
    th = [Sample(1.0, 10, 600, 1), Sample(1.0, 20, 1200, 2, errors=1)]
    iv = m.update(Sample.total(1.0, th))
    assert (iv.pkts, iv.bytes, iv.events, iv.errors) == (30, 1800, 3, 1)
    assert [t.pkts for t in iv.threads] == [10, 20]
    th = [Sample(2.0, 15, 900, 2), Sample(2.0, 40, 2400, 3, errors=1)]
    iv = m.update(Sample.total(2.0, th))
    assert [t.pkts for t in iv.threads] == [5, 20]
    assert [t.pps for t in iv.threads] == [5, 20]
    assert [t.errors for t in iv.threads] == [0, 0]


def test_meter_avg_std_window():
    m = Meter(t0=0.0)
    total = 0
    for i, pps in enumerate([100, 0, 300], start=1):
        total += pps
        iv = m.update(Sample(float(i), pkts=total))
    assert (iv.pps_avg, iv.pps_std) == (200.0, 100.0)  # zeros do not count
    for i in range(4, 4 + 15):  # the window keeps the last 15 intervals
        total += 50
        iv = m.update(Sample(float(i), pkts=total))
    assert (iv.pps_avg, iv.pps_std) == (50.0, 0.0)
    for i in range(19, 19 + 15):
        iv = m.update(Sample(float(i), pkts=total))
    assert (iv.pps_avg, iv.pps_std) == (0.0, 0.0)  # all zero: 0, not a division by zero


# ---- 1.7.2 periodic line ---------------------------------------------------------------------


def _plain(**kw):
    out, err = io.StringIO(), io.StringIO()
    return PlainReporter(out, err, **kw), out, err


def test_periodic_line_reference_example():
    r, out, err = _plain()
    r.start({}, t0=0.0)
    r.update(Sample(1.001002, pkts=14_895_000, bytes=14_895_000 * 60, events=29_093))
    line = err.getvalue()
    assert line.endswith("\n") and line.count("\n") == 1
    assert PREFIX.match(line)
    assert PREFIX.sub("", line) == (
        "14.880 Mpps (14.895 Mpkts 7.142 Gbps in 1001002 usec) 511.98 avg_batch 0 min_space\n"
    )
    assert out.getvalue() == ""


def test_periodic_line_idle():
    r, _, err = _plain()
    r.start({}, t0=0.0)
    r.update(Sample(1.000545, min_space=0))
    assert PREFIX.sub("", err.getvalue()) == (
        "0.000 pps (0.000 pkts 0.000 bps in 1000545 usec) 0.00 avg_batch 0 min_space\n"
    )


def test_periodic_line_avg_std_and_unnormalized():
    r, _, err = _plain(avg_std=True, normalize=False)
    r.start({}, t0=0.0)
    r.update(Sample(1.0, pkts=1000, bytes=60_000, events=2, min_space=99999))
    r.update(Sample(2.0, pkts=4000, bytes=240_000, events=4, min_space=99999))
    lines = [PREFIX.sub("", x) for x in err.getvalue().splitlines()]
    # norm() leaves a space where the prefix would go, hence pkt-gen's two spaces before pps
    assert lines == [
        "1000 pps [avg/std 1000 /0  pps](1000 pkts 480000 bps in 1000000 usec) "
        "500.00 avg_batch 99999 min_space",
        "3000 pps [avg/std 2000 /1000  pps](3000 pkts 1440000 bps in 1000000 usec) "
        "1500.00 avg_batch 99999 min_space",
    ]


def test_format_interval_avg_std_normalized():
    m = Meter(t0=0.0)
    m.update(Sample(1.0, pkts=14_860_000))
    iv = m.update(Sample(2.0, pkts=14_860_000 + 14_880_000))
    assert format_interval(iv, avg_std=True).startswith(
        "14.880 Mpps [avg/std 14.870 M/10.000 K pps](14.880 Mpkts "
    )


def test_plain_summary_on_stdout_and_log_on_stderr():
    r, out, err = _plain()
    r.start({"port": "pipe{1"}, t0=0.0)
    r.log("Ready...")
    r.echo("Sending on pipe{1: 1 queues, 1 threads and 1 cpus.")
    r.finish(Summary("Sent", 0, 0, 0, 1.0))
    assert re.fullmatch(r"\d{3}\.\d{6} main \[0\] Ready\.\.\.\n", err.getvalue())
    assert out.getvalue() == "Sending on pipe{1: 1 queues, 1 threads and 1 cpus.\nSent nothing.\n"


# ---- latency histograms ----------------------------------------------------------------------


def test_percentile_known_histogram():
    hist = [(1000, 50), (2000, 40), (4000, 9), (8000, 1)]
    assert percentile(hist, 0.5) == 1000
    assert percentile(hist, 0.51) == 2000
    assert percentile(hist, 0.9) == 2000
    assert percentile(hist, 0.99) == 4000
    assert percentile(hist, 0.999) == 8000
    assert percentile(hist, 1.0) == 8000
    assert percentile(hist, 0.0) == 1000
    assert percentile(list(reversed(hist)), 0.9) == 2000  # order does not matter


def test_percentile_edges():
    assert percentile([(100, 999), (200, 1)], 0.999) == 100  # no float round-up past the rank
    assert percentile([(100, 0), (200, 3), (math.inf, 1)], 0.0) == 200  # empty buckets skipped
    assert percentile([(100, 1), (math.inf, 1)], 1.0) == math.inf
    assert math.isnan(percentile([], 0.5))
    assert math.isnan(percentile([(100, 0)], 0.5))
    with pytest.raises(ValueError):
        percentile([(100, 1)], 99)


def test_latency_extra():
    x = latency_extra([(1000, 50), (2000, 40), (4000, 9), (8000, 1)])
    assert x == {
        "rtt_count": 100,
        "rtt_p50_ns": 1000,
        "rtt_p90_ns": 2000,
        "rtt_p99_ns": 4000,
        "rtt_p999_ns": 8000,
    }
    assert "gap_p99_ns" in latency_extra([(1, 1)], prefix="gap")


# ---- JSON lines ------------------------------------------------------------------------------


class _Fn(str, enum.Enum):
    TX = "tx"


def _no_strings_for_numbers(obj, path=""):
    """Every counter/rate field is a number (strings only where text is expected)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            _no_strings_for_numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _no_strings_for_numbers(v, f"{path}[{i}]")
    elif isinstance(obj, str):
        assert path.split(".")[-1] in {"schema", "type", "kind", "port", "function", "admode"}, path


def test_json_lines():
    out, err = io.StringIO(), io.StringIO()
    r = JsonReporter(out, err, avg_std=True)
    r.start({"port": "pipe{1", "function": _Fn.TX, "seed": 7, "rate": None}, t0=10.0)
    r.echo("Sending on pipe{1")
    th = [Sample(11.0, 10, 600, 1), Sample(11.0, 20, 1200, 2)]
    r.update(Sample.total(11.0, th, extra={"lost": 2, "pkts": -1}))
    r.update(Sample(11.001, 40, 2400, 4))  # too short: no line
    r.finish(
        Summary(
            "Sent",
            30,
            1800,
            3,
            1.0,
            requested_pps=40,
            extra={"rtt_hist": [(1000, 30)], "jitter": math.nan},
            settings={"port": "pipe{1", "admode": "native", "function": _Fn.TX, "seed": 7},
        )
    )
    assert "Sending on pipe{1" in err.getvalue()
    recs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["type"] for r in recs] == ["start", "interval", "summary"]
    assert all(r["schema"] == SCHEMA == "nmtools.stats/1" for r in recs)
    for rec in recs:
        _no_strings_for_numbers(rec)

    start, iv, summ = recs
    assert start == {
        "port": "pipe{1",
        "function": "tx",
        "seed": 7,
        "rate": None,
        "schema": SCHEMA,
        "type": "start",
        "t": 0.0,
    }
    assert iv["t"] == pytest.approx(1.0) and iv["interval_s"] == pytest.approx(1.0)
    assert (iv["pkts"], iv["bytes"], iv["events"], iv["drops"], iv["errors"]) == (30, 1800, 3, 0, 0)
    assert iv["pps"] == 30 and iv["bps"] == pytest.approx(14400.0)
    assert iv["bps_l1"] == pytest.approx(14400.0 + 30 * 192)
    assert iv["avg_batch"] == 10.0 and iv["pps_avg"] == 30.0 and iv["pps_std"] == 0.0
    assert iv["lost"] == 2  # extra merged; our own "pkts" wins
    assert [t["pkts"] for t in iv["threads"]] == [10, 20]
    assert iv["total"]["pkts"] == 30

    assert summ["kind"] == "Sent" and summ["pkts"] == 30 and summ["seconds"] == 1.0
    assert summ["pps"] == 30.0 and summ["requested_pps"] == 40
    # 30 packets in 1 s are 29 intervals: 29 pps achieved of 40 (was 30/1, one too many)
    assert summ["rate_error"] == pytest.approx(-0.275)
    assert summ["bytes_each"] == 60 and summ["avg_batch"] == 10.0
    assert summ["framing"] is False and summ["normalize"] is True
    assert summ["settings"] == {"port": "pipe{1", "admode": "native", "function": "tx", "seed": 7}
    assert summ["rtt_p99_ns"] == 1000 and summ["rtt_hist"] == [[1000, 30]]
    assert summ["jitter"] is None  # nan is not JSON


# ---- live view -------------------------------------------------------------------------------

INFO = {
    "tool": "pkt-gen",
    "function": "rxseq",
    "port": "pipe{1",
    "admode": "native",
    "seed": 42,
    "rate": 10_000.0,
}


def _live(width: int = 80):
    console = Console(file=io.StringIO(), force_terminal=True, width=width)
    out = io.StringIO()
    return LiveReporter(console, out), console, out


def _feed(r):
    r.start(INFO, t0=0.0)
    th = [Sample(1.0, 7_000_000, 420_000_000, 14_000, drops=3), Sample(1.0, 7_880_000)]
    extra = {"lost": 5, "out_of_order": 1, "rtt_p50_ns": 5100, "rtt_p99_ns": 9000}
    r.update(Sample.total(1.0, th, extra={**extra, "rtt_max_ns": 40_000}))


def test_live_renders_numbers():
    r, console, out = _live()
    _feed(r)
    r.finish(Summary("Received", 14_880_000, 420_000_000, 14_000, 1.0))
    text = ANSI.sub("", console.file.getvalue())
    for s in ("pkt-gen rxseq", "pipe{1", "native", "seed", "42", "10.000 Kpps"):
        assert s in text
    for s in ("total", "14.880 M", "7.000 M", "7.880 M", "14,880,000", "3.360 G"):
        assert s in text
    assert "lost 5 (0.00%)" in text and "reordered 1" in text
    assert "p50 5.1 us" in text and "p99 9.0 us" in text and "max 40.0 us" in text
    assert "elapsed 1.0 s" in text
    assert out.getvalue().startswith("Received 14880000 packets 420000000 bytes 14000 events")


@pytest.mark.parametrize("width", [30, 40, 50, 60])
def test_live_narrow_terminal(width):
    r, console, _ = _live(width)
    _feed(r)
    r.close()
    lines = ANSI.sub("", console.file.getvalue()).splitlines()
    assert "14.880 M" in "\n".join(lines)
    assert max(len(line) for line in lines) <= width
    if width < 64:
        assert "drops 3  errors 0" in "\n".join(lines)  # the column went, the count stays


def test_live_before_first_update_and_close_twice():
    r, console, out = _live()
    r.start({}, t0=0.0)
    r.log("Ready...")
    r.close()
    r.close()
    r.finish(Summary("Sent", 0, 0, 0, 1.0))
    text = ANSI.sub("", console.file.getvalue())
    assert "waiting for the first report" in text and "Ready..." in text
    assert out.getvalue() == "Sent nothing.\n"


# ---- make_reporter ---------------------------------------------------------------------------


def test_make_reporter_picks():
    tty = Console(file=io.StringIO(), force_terminal=True)
    pipe = Console(file=io.StringIO(), force_terminal=False)
    assert isinstance(make_reporter(json=True, console=tty), JsonReporter)
    assert isinstance(make_reporter(console=tty), LiveReporter)
    r = make_reporter(console=pipe, framing=True, avg_std=True, normalize=False)
    assert isinstance(r, PlainReporter)
    assert r.framing and r.avg_std and not r.normalize and r.meter.framing

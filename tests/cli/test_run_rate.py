"""nm pkt-gen -R: the achieved rate is measured over the packets' intervals, so perfect
pacing reads 0 %, and no rate or gap error is claimed where there is nothing to measure."""

from __future__ import annotations

import re

import pytest


def test_perfect_pacing_reads_zero_error(nm):
    """10 packets at 10 pps span 0.9 s: 9 intervals of 0.1 s (was "+11.11%")."""
    r = nm.run("pkt-gen", "tx", "-i", "null", "-n", "10", "-R", "10pps", "--json")
    assert r.returncode == 0, r.stderr
    s = nm.summary(r.stdout)
    assert s["pkts"] == 10 and s["requested_pps"] == 10
    assert abs(s["rate_error"]) < 0.005, s  # pacing jitter only
    assert s["achieved_pps"] == pytest.approx(10, rel=0.005)


def test_threads_sum_their_own_rates(nm):
    r = nm.run(
        "pkt-gen", "tx", "-i", "null@conf:rings=2", "-p", "2", "-n", "12", "-R", "12pps", "--json"
    )
    assert r.returncode == 0, r.stderr
    s = nm.summary(r.stdout)
    assert s["pkts"] == 12 and abs(s["rate_error"]) < 0.005, s


def test_plain_text_rate_line(nm):
    r = nm.run("pkt-gen", "tx", "-i", "null", "-n", "5", "-R", "20pps")
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip().splitlines()[-1]
    m = re.match(r"Rate: requested 20\.000 pps, achieved ([\d.]+) pps \(([-+][\d.]+)%\)", line)
    assert m, line
    assert abs(float(m.group(1)) - 20) < 0.1 and abs(float(m.group(2))) < 0.5, line


def test_one_packet_makes_no_rate_claim(nm):
    """-n 1 -R 1pps said "+12768030.75%"."""
    r = nm.run("pkt-gen", "tx", "-i", "null", "-n", "1", "-R", "1pps")
    assert r.returncode == 0, r.stderr
    rate = r.stdout.strip().splitlines()[-1]
    assert rate.startswith("Rate: requested 1.000 pps; 1 packet sent, too few to measure a rate")
    assert "%" not in rate
    j = nm.summary(nm.run("pkt-gen", "tx", "-i", "null", "-n", "1", "-R", "1pps", "--json").stdout)
    assert j["rate_error"] is None and j["achieved_pps"] is None


def test_a_run_too_short_for_its_rate_claims_no_gap_error(nm):
    """-t 0.3 -R 1pps: whatever was sent, no rate error and no gap error for unpaced time."""
    r = nm.run("pkt-gen", "tx", "-i", "null", "-t", "0.3", "-R", "1pps")
    assert r.returncode == 0, r.stderr
    assert "too few to measure a rate" in r.stdout
    if "Sent nothing." in r.stdout:
        assert "gap error" not in r.stdout


def test_the_packet_due_at_the_start_goes(nm):
    r = nm.run("pkt-gen", "tx", "-i", "null", "-t", "0.3", "-R", "1pps", "--json")
    assert r.returncode == 0, r.stderr
    assert nm.summary(r.stdout)["pkts"] == 1


def test_a_timed_run_is_measured_to_its_last_packet(nm):
    """-t 1 -R 10pps sends 10 packets, the last due at 0.9 s; the loop then sleeps to the end
    of -t, which is not part of the rate (it read -10.00%)."""
    r = nm.run("pkt-gen", "tx", "-i", "null", "-t", "1", "-R", "10pps", "--json")
    assert r.returncode == 0, r.stderr
    s = nm.summary(r.stdout)
    assert s["pkts"] == 10 and abs(s["rate_error"]) < 0.005, s


def test_a_receiver_claims_no_rate(nm):
    """-R paces senders; rx -R printed a Rate line (achieved 2.6 pps, -99.74%)."""
    r = nm.run("pkt-gen", "rx", "-i", "null", "-R", "1000", "-t", "0.3", "--json")
    assert r.returncode == 0, r.stderr
    s = nm.summary(r.stdout)
    assert s["requested_pps"] is None and s["rate_error"] is None, s

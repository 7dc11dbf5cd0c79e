"""Test vectors for nmtools.pktgen.parse (pkt-gen option values, reference 0.2, 1.2, 1.5.2)."""

from __future__ import annotations

import errno
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmtools.errors import NmError
from nmtools.pktgen.config import Endpoint, Rate, Sizes
from nmtools.pktgen.parse import (
    DEFAULT_DST,
    DEFAULT_DST6,
    DEFAULT_SRC,
    DEFAULT_SRC6,
    IMIX_SIMPLE,
    OptionError,
    default_endpoints,
    format_endpoint,
    format_rate,
    parse_cpus,
    parse_duration,
    parse_endpoint,
    parse_mac,
    parse_rate,
    parse_sizes,
)


def ip(text: str) -> int:
    return int(ipaddress.ip_address(text))


def raises(func, *args, **kwargs) -> str:
    """The message of the OptionError that func(*args, **kwargs) raises (checked for shape)."""
    with pytest.raises(OptionError) as info:
        func(*args, **kwargs)
    err = info.value
    assert isinstance(err, NmError)
    assert isinstance(err, ValueError)
    assert err.errno == errno.EINVAL
    message = str(err)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------------------------------------
# -s / -d, IPv4

V4 = [
    # text, first address, last address, first port, last port
    ("10.0.0.1", "10.0.0.1", "10.0.0.1", 1234, 1234),
    ("10.0.0.1:80", "10.0.0.1", "10.0.0.1", 80, 80),
    ("10.0.0.1:0", "10.0.0.1", "10.0.0.1", 0, 0),
    ("10.0.0.1:65535", "10.0.0.1", "10.0.0.1", 65535, 65535),
    ("10.0.0.1:80-90", "10.0.0.1", "10.0.0.1", 80, 90),
    ("10.0.0.1:90-80", "10.0.0.1", "10.0.0.1", 80, 90),
    # pkt-gen's form
    ("10.0.0.1:1234-10.0.0.100:1240", "10.0.0.1", "10.0.0.100", 1234, 1240),
    # the pkt-gen trap (reference 1.8 #6): pkt-gen gives ports 1234..1234 here; we do not
    ("198.18.0.1-198.18.0.100:1234-1240", "198.18.0.1", "198.18.0.100", 1234, 1240),
    ("10.0.0.1-10.0.0.9", "10.0.0.1", "10.0.0.9", 1234, 1234),
    # a half without a port takes the other half's port
    ("10.0.0.1-10.0.0.9:80", "10.0.0.1", "10.0.0.9", 80, 80),
    ("10.0.0.1:80-10.0.0.9", "10.0.0.1", "10.0.0.9", 80, 80),
    # start > end is swapped, for addresses and ports independently
    ("10.0.0.9-10.0.0.1", "10.0.0.1", "10.0.0.9", 1234, 1234),
    ("10.0.0.9:90-10.0.0.1:80", "10.0.0.1", "10.0.0.9", 80, 90),
    ("10.0.0.9:80-10.0.0.1:90", "10.0.0.1", "10.0.0.9", 80, 90),
    ("10.0.0.9-10.0.0.1:90-80", "10.0.0.1", "10.0.0.9", 80, 90),
    # CIDR
    ("198.19.0.0/24", "198.19.0.1", "198.19.0.254", 1234, 1234),
    ("198.19.0.0/24:80", "198.19.0.1", "198.19.0.254", 80, 80),
    ("198.19.0.0/24:80-90", "198.19.0.1", "198.19.0.254", 80, 90),
    ("198.19.0.77/24", "198.19.0.1", "198.19.0.254", 1234, 1234),  # host bits ignored
    ("198.18.0.0/15", "198.18.0.1", "198.19.255.254", 1234, 1234),
    ("10.0.0.0/30", "10.0.0.1", "10.0.0.2", 1234, 1234),
    ("10.0.0.0/31", "10.0.0.0", "10.0.0.1", 1234, 1234),  # RFC 3021
    ("10.0.0.5/32", "10.0.0.5", "10.0.0.5", 1234, 1234),
    ("10.0.0.5/32:7", "10.0.0.5", "10.0.0.5", 7, 7),
    ("0.0.0.0/0", "0.0.0.1", "255.255.255.254", 1234, 1234),
    # extras: brackets, surrounding blanks, pkt-gen's group prefix
    ("[10.0.0.1]:80", "10.0.0.1", "10.0.0.1", 80, 80),
    ("  10.0.0.1:80 ", "10.0.0.1", "10.0.0.1", 80, 80),
    ("7@10.0.0.1:80", "10.0.0.1", "10.0.0.1", 80, 80),
]


@pytest.mark.parametrize(("text", "first", "last", "p1", "p2"), V4)
def test_endpoint_v4(text, first, last, p1, p2):
    ep = parse_endpoint(text, ipv6=False, option="-s")
    assert ep == Endpoint(ip(first), ip(last), p1, p2, False, text)


def test_endpoint_trap_count():
    ep = parse_endpoint("198.18.0.1-198.18.0.100:1234-1240", ipv6=False)
    assert ep.count == 100 * 7
    assert ep.text == "198.18.0.1-198.18.0.100:1234-1240"


def test_endpoint_cidr_24_count():
    assert parse_endpoint("198.19.0.0/24", ipv6=False).count == 254


@pytest.mark.parametrize(
    ("text", "p1", "p2"),
    [("10.0.0.1", 9, 9), ("10.0.0.1-10.0.0.2", 9, 9), ("10.0.0.0/24", 9, 9), ("10.0.0.1:5", 5, 5)],
)
def test_endpoint_default_port(text, p1, p2):
    ep = parse_endpoint(text, ipv6=False, default_port=9)
    assert (ep.port_start, ep.port_end) == (p1, p2)


# ---------------------------------------------------------------------------------------------
# -s / -d, IPv6

V6 = [
    ("2001:db8::1", "2001:db8::1", "2001:db8::1", 1234, 1234),
    ("[2001:db8::1]", "2001:db8::1", "2001:db8::1", 1234, 1234),
    ("[2001:db8::1]:80", "2001:db8::1", "2001:db8::1", 80, 80),
    ("[2001:db8::1]:80-90", "2001:db8::1", "2001:db8::1", 80, 90),
    ("[2001:db8::1]-[2001:db8::ff]:1000-1010", "2001:db8::1", "2001:db8::ff", 1000, 1010),
    ("[2001:db8::1]:1000-[2001:db8::ff]:1010", "2001:db8::1", "2001:db8::ff", 1000, 1010),
    ("[2001:db8::ff]:1010-[2001:db8::1]:1000", "2001:db8::1", "2001:db8::ff", 1000, 1010),
    ("[2001:db8::1]:80-[2001:db8::ff]", "2001:db8::1", "2001:db8::ff", 80, 80),
    ("[2001:db8::1]-[2001:db8::ff]:80", "2001:db8::1", "2001:db8::ff", 80, 80),
    ("2001:db8::1-2001:db8::ff", "2001:db8::1", "2001:db8::ff", 1234, 1234),
    ("2001:db8::ff-2001:db8::1", "2001:db8::1", "2001:db8::ff", 1234, 1234),
    ("2001:db8::1-[2001:db8::ff]:80", "2001:db8::1", "2001:db8::ff", 80, 80),
    # pkt-gen's group@ prefix is accepted and ignored
    ("7@[2001:db8::1]:1234", "2001:db8::1", "2001:db8::1", 1234, 1234),
    ("7@[2001:db8::1]:1234-7@[2001:db8::ff]:1240", "2001:db8::1", "2001:db8::ff", 1234, 1240),
    ("3@2001:db8::1", "2001:db8::1", "2001:db8::1", 1234, 1234),
    # CIDR: all but the subnet-router anycast address, unless /127 or /128
    ("2001:db8::/120", "2001:db8::1", "2001:db8::ff", 1234, 1234),
    ("2001:db8::/120:80", "2001:db8::1", "2001:db8::ff", 80, 80),
    ("[2001:db8::/120]:80-90", "2001:db8::1", "2001:db8::ff", 80, 90),
    ("[2001:db8::]/120:80-90", "2001:db8::1", "2001:db8::ff", 80, 90),
    ("2001:db8::/96", "2001:db8::1", "2001:db8::ffff:ffff", 1234, 1234),
    ("2001:db8::/127", "2001:db8::", "2001:db8::1", 1234, 1234),
    ("2001:db8::5/128", "2001:db8::5", "2001:db8::5", 1234, 1234),
    ("::ffff:10.0.0.1", "::ffff:10.0.0.1", "::ffff:10.0.0.1", 1234, 1234),  # mapped: IPv6
    ("[::1]:7", "::1", "::1", 7, 7),
]


@pytest.mark.parametrize(("text", "first", "last", "p1", "p2"), V6)
def test_endpoint_v6(text, first, last, p1, p2):
    ep = parse_endpoint(text, ipv6=True, option="-d")
    assert ep == Endpoint(ip(first), ip(last), p1, p2, True, text)


# ---------------------------------------------------------------------------------------------
# -s / -d, errors

FORM4 = "(expected ip[:port][-ip[:port]], e.g. 198.18.0.1-198.18.0.100:1234-1240)"

ENDPOINT_ERRORS = [
    # text, ipv6, substrings of the message (after the "-s TEXT: " prefix is checked)
    ("10.0.0.300", False, ["not an IPv4 address " + FORM4]),
    ("10.0.0.1-10.0.0.300", False, ["'10.0.0.300' is not an IPv4 address", FORM4]),
    ("10.0.0", False, ["not an IPv4 address"]),
    ("010.0.0.1", False, ["not an IPv4 address"]),
    ("host.example", False, ["not an IPv4 address"]),
    ("10.0.0.1", True, ["IPv4 address given with -6", "drop -6"]),
    ("10.0.0.1:80-10.0.0.2:90", True, ["IPv4 address given with -6"]),
    ("[2001:db8::1]-10.0.0.1", True, ["IPv4 address given with -6"]),
    ("2001:db8::1", False, ["IPv6 address given without -6", "add -6"]),
    ("[2001:db8::1]:80", False, ["add -6"]),
    ("2001:db8::/120", False, ["add -6"]),
    ("2001:db8::zz", True, ["not an IPv6 address", "[2001:db8::1]-[2001:db8::ff]:1234-1240"]),
    ("fe80::1%eth0", True, ["not an IPv6 address"]),
    ("10.0.0.1:70000", False, ["port 70000 is out of range", "0..65535"]),
    ("10.0.0.1:80-70000", False, ["port 70000 is out of range"]),
    ("10.0.0.1:http", False, ["'http' is not a port number"]),
    ("10.0.0.1:", False, ["empty port"]),
    ("10.0.0.1:-5", False, ["empty port"]),
    (":80", False, ["missing address"]),
    ("", False, ["empty value"]),
    ("   ", False, ["empty value"]),
    ("10.0.0.1-", False, ["empty address or port around '-'"]),
    ("-10.0.0.1", False, ["empty address or port around '-'"]),
    ("1234-1240", False, ["'1234' is a port, not an address"]),
    ("1234", False, ["'1234' is a port, not an address"]),
    ("10.0.0.1-80", False, ["'80' after '-' is a port", "ip:port1-port2"]),
    ("2001:db8::1:80-90", True, ["ports after an IPv6 address need brackets"]),
    ("10.0.0.1:1-10.0.0.2:3-4", False, ["ambiguous", "ip1-ip2:port1-port2"]),
    ("10.0.0.1-10.0.0.2-10.0.0.3", False, ["ambiguous"]),
    ("10.0.0.1-10.0.0.2:3-4-5", False, ["too many '-'"]),
    ("10.0.0.1:80-90-10.0.0.2", False, ["'90' is a port where an address is expected"]),
    ("10.0.0.0/24-10.0.1.0/24", False, ["a prefix ('10.0.0.0/24') cannot be one end"]),
    ("10.0.0.1-10.0.1.0/24", False, ["cannot be one end of a range"]),
    ("10.0.0.0/33", False, ["prefix length '/33'", "0..32"]),
    ("10.0.0.0/x", False, ["prefix length '/x'"]),
    ("2001:db8::/129", True, ["0..128"]),
    ("[2001:db8::1", True, ["missing ']'"]),
    ("[2001:db8::1]x", True, ["unexpected 'x' after ']'"]),
    ("[2001:db8::/64]/64", True, ["two prefix lengths"]),
    ("2001:db8::/64", True, ["at most 2^32 addresses", "upper 96 bits must be equal"]),
    ("2001:db8::1-2001:db8:0:0:1::1", True, ["upper 96 bits must be equal"]),
]


@pytest.mark.parametrize(("text", "ipv6", "parts"), ENDPOINT_ERRORS)
def test_endpoint_errors(text, ipv6, parts):
    message = raises(parse_endpoint, text, ipv6=ipv6, option="-s")
    assert message.startswith("-s ")
    for part in parts:
        assert part in message


def test_endpoint_error_exact():
    assert raises(parse_endpoint, "10.0.0.300", ipv6=False, option="-s") == (
        "-s 10.0.0.300: not an IPv4 address " + FORM4
    )
    assert raises(parse_endpoint, "10.0.0.1", ipv6=True, option="-d").startswith(
        "-d 10.0.0.1: IPv4 address given with -6"
    )
    # a value a shell would mangle is shown quoted
    assert raises(parse_endpoint, "[::1", ipv6=True, option="-d").startswith("-d '[::1': ")
    # without option, the message starts with the value
    assert raises(parse_endpoint, "1.2.3", ipv6=False).startswith("1.2.3: not an IPv4 address")


def test_ipv6_range_limit_is_low_32_bits():
    ep = parse_endpoint("2001:db8::-2001:db8::ffff:ffff", ipv6=True)
    assert ep.ip_end - ep.ip_start == 2**32 - 1
    raises(parse_endpoint, "2001:db8::ffff:ffff-2001:db8::1:0:0", ipv6=True)


def test_defaults():
    assert DEFAULT_SRC == Endpoint(
        ip("10.0.0.1"), ip("10.0.0.1"), 1234, 1234, False, DEFAULT_SRC.text
    )
    assert DEFAULT_DST == Endpoint(
        ip("10.1.0.1"), ip("10.1.0.1"), 1234, 1234, False, DEFAULT_DST.text
    )
    assert (DEFAULT_SRC6.ip_start, DEFAULT_DST6.ip_start) == (ip("fd00::1"), ip("fd01::1"))
    assert DEFAULT_SRC6.ipv6 and DEFAULT_DST6.ipv6
    assert default_endpoints(False) == (DEFAULT_SRC, DEFAULT_DST)
    assert default_endpoints(True) == (DEFAULT_SRC6, DEFAULT_DST6)
    for ep in (DEFAULT_SRC, DEFAULT_DST, DEFAULT_SRC6, DEFAULT_DST6):
        assert parse_endpoint(ep.text, ipv6=ep.ipv6) == ep


@pytest.mark.parametrize(
    ("text", "ipv6", "canonical"),
    [
        ("10.0.0.1", False, "10.0.0.1:1234"),
        ("10.0.0.1:80-90", False, "10.0.0.1:80-90"),
        ("10.0.0.9:90-10.0.0.1:80", False, "10.0.0.1-10.0.0.9:80-90"),
        ("198.19.0.0/24:80", False, "198.19.0.1-198.19.0.254:80"),
        ("2001:db8::1", True, "[2001:db8::1]:1234"),
        ("2001:db8::/120", True, "[2001:db8::1]-[2001:db8::ff]:1234"),
    ],
)
def test_format_endpoint(text, ipv6, canonical):
    assert format_endpoint(parse_endpoint(text, ipv6=ipv6)) == canonical


ports = st.integers(0, 65535)
v4s = st.integers(0, 2**32 - 1)


def v4(n: int) -> str:
    return str(ipaddress.IPv4Address(n))


@given(v4s, v4s, ports, ports)
def test_v4_ranges_round_trip(a, b, p, q):
    expected = (min(a, b), max(a, b), min(p, q), max(p, q))
    for text in (
        f"{v4(a)}:{p}-{v4(b)}:{q}",  # pkt-gen's form
        f"{v4(a)}-{v4(b)}:{p}-{q}",  # the form users write
    ):
        ep = parse_endpoint(text, ipv6=False)
        assert (ep.ip_start, ep.ip_end, ep.port_start, ep.port_end) == expected
        assert ep.text == text
        assert parse_endpoint(format_endpoint(ep), ipv6=False) == Endpoint(
            *expected, False, format_endpoint(ep)
        )


@given(st.integers(0, 32), v4s)
def test_v4_cidr(plen, a):
    ep = parse_endpoint(f"{v4(a)}/{plen}", ipv6=False)
    net = ipaddress.IPv4Network(f"{v4(a)}/{plen}", strict=False)
    first, last = int(net.network_address), int(net.broadcast_address)
    if plen < 31:  # the host addresses; RFC 3021: /31 (and /32) are all hosts
        first, last = first + 1, last - 1
    assert (ep.ip_start, ep.ip_end) == (first, last)
    assert ep.count == (2 ** (32 - plen) - 2 if plen < 31 else 2 ** (32 - plen))


@given(
    st.integers(0, 2**96 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), ports, ports
)
def test_v6_ranges_round_trip(high, a, b, p, q):
    x, y = (high << 32) | a, (high << 32) | b
    sx, sy = str(ipaddress.IPv6Address(x)), str(ipaddress.IPv6Address(y))
    expected = (min(x, y), max(x, y), min(p, q), max(p, q))
    for text in (f"[{sx}]:{p}-[{sy}]:{q}", f"[{sx}]-[{sy}]:{p}-{q}"):
        ep = parse_endpoint(text, ipv6=True)
        assert (ep.ip_start, ep.ip_end, ep.port_start, ep.port_end) == expected
        assert parse_endpoint(format_endpoint(ep), ipv6=True).ip_end == ep.ip_end
    ep = parse_endpoint(f"{sx}-{sy}", ipv6=True)
    assert (ep.ip_start, ep.ip_end, ep.port_start) == (*expected[:2], 1234)


# ---------------------------------------------------------------------------------------------
# -R

RATES = [
    # text, value, unit, l1
    ("10000", 10000, "pps", False),
    ("1", 1, "pps", False),
    ("0.5", 0.5, "pps", False),
    ("1e6", 1e6, "pps", False),
    ("10pps", 10, "pps", False),
    ("10kpps", 10e3, "pps", False),
    ("10Kpps", 10e3, "pps", False),
    ("1.5Mpps", 1.5e6, "pps", False),
    ("1.5mpps", 1.5e6, "pps", False),
    ("14.88Mpps", 14.88e6, "pps", False),
    ("2Gpps", 2e9, "pps", False),
    ("0.005Tpps", 5e9, "pps", False),
    ("10Gpps", 10e9, "pps", False),
    ("10Tbps", 10e12, "bps", False),
    ("0.001", 1e-3, "pps", False),
    ("1bps", 1, "bps", False),
    ("10 Mpps", 10e6, "pps", False),
    ("3PPS", 3, "pps", False),
    ("100bps", 100, "bps", False),
    ("100kbps", 100e3, "bps", False),
    ("100Kbps", 100e3, "bps", False),
    ("100Mbps", 100e6, "bps", False),
    ("100mbps", 100e6, "bps", False),
    ("10Gbps", 10e9, "bps", False),
    ("2.5Gbps", 2.5e9, "bps", False),
    ("1Tbps", 1e12, "bps", False),
    ("10Mbit", 10e6, "bps", False),
    ("10Mbits", 10e6, "bps", False),
    ("10Mbit/s", 10e6, "bps", False),
    ("10MBit/s", 10e6, "bps", False),
    ("10kbit", 10e3, "bps", False),
    ("10bit/s", 10, "bps", False),
    ("1Gb/s", 1e9, "bps", False),
    ("100Mb", 100e6, "bps", False),
    ("10Gbpsl1", 10e9, "bps", True),
    ("1gbpsL1", 1e9, "bps", True),
    ("1Gbps l1", 1e9, "bps", True),
    ("100Mbitl1", 100e6, "bps", True),
]


@pytest.mark.parametrize(("text", "value", "unit", "l1"), RATES)
def test_rate(text, value, unit, l1):
    assert parse_rate(text) == Rate(value=value, unit=unit, l1=l1, text=text)


@pytest.mark.parametrize("text", ["0", "0pps", "0.0", "0Gbps", "0kpps", "0e3"])
def test_rate_zero_is_unlimited(text):
    assert parse_rate(text) is None


def test_rate_l1_pps_for():
    assert parse_rate("10Gbpsl1").pps_for(60) == pytest.approx(10e9 / (84 * 8))
    assert parse_rate("10Gbps").pps_for(60) == pytest.approx(10e9 / (60 * 8))


RATE_ERRORS = [
    ("10xpps", ["-R 10xpps: unknown unit 'xpps'", "Mpps", "Gbps", "add l1"]),
    ("10 xpps", ["-R '10 xpps': unknown unit 'xpps'"]),
    ("10%", ["unknown unit '%'"]),
    ("10Gbps-l1", ["unknown unit 'Gbps-l1'"]),
    ("10M", ["missing unit after 'M'", "10Mpps or 10Mbps"]),
    ("10k", ["missing unit after 'k'"]),
    ("1MBps", ["bytes per second", "Mbps"]),
    ("1MB/s", ["bytes per second"]),
    ("1GBPS", ["bytes per second"]),
    ("1B", ["bytes per second"]),
    ("10Mppsl1", ["l1", "only applies to bit rates"]),
    ("10l1", ["only applies to bit rates"]),
    # refused since issue 8: negative, and what cannot be paced (they overflowed the pacing)
    ("-5", ["cannot be negative", "0 or no -R for no limit"]),
    ("-1Mpps", ["cannot be negative"]),
    ("1e400", ["faster than nmtools can pace", "10 Gpps", "10 Tbps"]),
    ("1e30", ["-R 1e30: faster than nmtools can pace (rates are 0.001 pps to 10 Gpps"]),
    ("1Tpps", ["faster than nmtools can pace"]),
    ("10.1Gpps", ["faster"]),
    ("10.1Tbps", ["faster"]),
    ("1e-400", ["slower than nmtools can pace"]),
    ("0.0009", ["slower", "0.001 pps"]),
    ("0.5bps", ["slower", "1 bps"]),
    ("inf", ["not a rate"]),
    ("nan", ["not a rate"]),
    ("abc", ["not a rate", "1.5Mpps"]),
    ("", ["-R '': not a rate"]),
    ("Mpps", ["not a rate"]),
    ("inf", ["not a rate"]),
    ("nan", ["not a rate"]),
    ("1.2.3", ["unknown unit '.3'"]),
]


@pytest.mark.parametrize(("text", "parts"), RATE_ERRORS)
def test_rate_errors(text, parts):
    message = raises(parse_rate, text)
    for part in parts:
        assert part in message


def test_rate_error_option_name():
    assert raises(parse_rate, "x", option="--pps").startswith("--pps x: ")


# ---------------------------------------------------------------------------------------------
# pkt-gen's unit normalisation


@pytest.mark.parametrize(
    ("value", "unit", "normalize", "expected"),
    [
        (14880000, "pps", True, "14.880 Mpps"),
        (512, "pps", True, "512.000 pps"),
        (14880000, "pps", False, "14880000 pps"),
        (512, "pps", False, "512 pps"),
        (0, "pps", True, "0.000 pps"),
        (999, "pps", True, "999.000 pps"),
        (1000, "pps", True, "1.000 Kpps"),
        (999999.9999, "pps", True, "1000.000 Kpps"),  # as pkt-gen: no carry after rounding
        (10e9, "bps", True, "10.000 Gbps"),
        (112000, "bps", True, "112.000 Kbps"),
        (6867000000, "bps", True, "6.867 Gbps"),
        (6867000000, "bps", False, "6867000000 bps"),
        (1.5e12, "bps", True, "1.500 Tbps"),
        (2e15, "bps", True, "2000.000 Tbps"),  # T is the largest prefix
        (1234.5678, "pkts", True, "1.235 Kpkts"),
        (14880000.6, "pps", False, "14880001 pps"),
    ],
)
def test_format_rate(value, unit, normalize, expected):
    assert format_rate(value, unit, normalize=normalize) == expected


@given(st.floats(1, 1e10), st.sampled_from(["pps", "bps"]))
def test_format_rate_reads_back(value, unit):
    for normalize in (True, False):
        rate = parse_rate(format_rate(value, unit, normalize))
        assert rate is not None and rate.unit == unit
        assert rate.value == pytest.approx(value, rel=1e-3, abs=1)


# ---------------------------------------------------------------------------------------------
# -l / --imix

SIZES = [
    ((), False, Sizes(60, 60)),
    (["60"], False, Sizes(60, 60)),
    (["1514"], False, Sizes(1514, 1514)),
    (["16"], False, Sizes(16, 16)),
    (["65535"], False, Sizes(65535, 65535)),
    ([" 128 "], False, Sizes(128, 128)),
    (["64-1518"], False, Sizes(64, 1518)),
    (["1518-64"], False, Sizes(64, 1518)),
    (["64 - 1518"], False, Sizes(64, 1518)),
    (["100-100"], False, Sizes(100, 100)),
    (["1514", "60"], False, Sizes(60, 1514)),  # pkt-gen: the second value is the minimum
    (["60", "1514"], False, Sizes(60, 1514)),  # any order
    (("60", "60"), False, Sizes(60, 60)),  # pkt-gen divides by zero here
    ((), None, Sizes(60, 60)),
    ((), True, Sizes(60, 1514, ((60, 7), (590, 4), (1514, 1)))),
    ((), "simple", Sizes(60, 1514, ((60, 7), (590, 4), (1514, 1)))),  # the CLI's bare --imix
    ((), "Simple", Sizes(60, 1514, ((60, 7), (590, 4), (1514, 1)))),
    ((), "64:7,594:4,1518:1", Sizes(64, 1518, ((64, 7), (594, 4), (1518, 1)))),
    ((), " 64 : 7 , 1518 : 1 ", Sizes(64, 1518, ((64, 7), (1518, 1)))),
    ((), "1000", Sizes(1000, 1000, ((1000, 1),))),
    ((), "1000,60:3", Sizes(60, 1000, ((1000, 1), (60, 3)))),
]


@pytest.mark.parametrize(("values", "imix", "expected"), SIZES)
def test_sizes(values, imix, expected):
    assert parse_sizes(values, imix) == expected


def test_imix_simple():
    assert IMIX_SIMPLE == ((60, 7), (590, 4), (1514, 1))
    sizes = parse_sizes([], imix=True)
    assert not sizes.fixed and sizes.largest == 1514
    # 64/594/1518 bytes with the CRC
    assert [s + 4 for s, _ in sizes.mix] == [64, 594, 1518]


SIZE_ERRORS = [
    (["70000"], False, ["-l 70000: frame size must be 16..65535 bytes (without CRC)"]),
    (["15"], False, ["-l 15: frame size must be 16..65535 bytes (without CRC)"]),
    (["0"], False, ["16..65535"]),
    (["60", "70000"], False, ["-l 70000: frame size must be"]),
    (["64-70000"], False, ["-l 64-70000: frame size 70000 must be 16..65535"]),
    (["abc"], False, ["-l abc: not a frame size", "60-1514"]),  # sizes without CRC
    (["-5"], False, ["'' is not a frame size"]),
    (["64-"], False, ["'' is not a frame size"]),
    (["1.5"], False, ["not a frame size"]),
    (["60", "x"], False, ["-l x: not a frame size"]),
    (["64-128", "60"], False, ["-l 64-128: a range cannot be combined with a second -l"]),
    (["1", "2", "3"], False, ["-l given 3 times"]),
    (["60"], True, ["-l and --imix cannot be combined"]),
    (["60"], "60:1", ["cannot be combined"]),
    (["60"], "simple", ["cannot be combined"]),
    ([], "complex", ["'complex' is not size:weight", "expected simple, or size:weight"]),
    ([], "", ["--imix '': empty mix", "60:7,590:4,1514:1"]),
    ([], "64:0", ["weight '0' of size 64 must be a whole number > 0"]),
    ([], "64:x", ["weight 'x'"]),
    ([], "64:", ["weight ''"]),
    ([], "64:1,64:2", ["size 64 is given twice"]),
    ([], "x:1", ["'x:1' is not size:weight"]),
    ([], "64:1,,128:1", ["'' is not size:weight"]),
    ([], "8:1", ["frame size 8 must be 16..65535"]),
    ([], "70000:1", ["frame size 70000"]),
]


@pytest.mark.parametrize(("values", "imix", "parts"), SIZE_ERRORS)
def test_size_errors(values, imix, parts):
    message = raises(parse_sizes, values, imix)
    for part in parts:
        assert part in message


@given(st.integers(16, 65535), st.integers(16, 65535))
def test_size_ranges(a, b):
    expected = Sizes(min(a, b), max(a, b))
    assert parse_sizes([f"{a}-{b}"]) == expected
    assert parse_sizes([str(a), str(b)]) == expected


# ---------------------------------------------------------------------------------------------
# -S / -D


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("02:00:00:00:00:01", "02:00:00:00:00:01"),
        ("AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff"),
        ("aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee:ff"),
        ("aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff"),
        ("AABB.CCDD.EEFF", "aa:bb:cc:dd:ee:ff"),
        ("aabbccddeeff", "aa:bb:cc:dd:ee:ff"),
        ("2:0:0:0:0:1", "02:00:00:00:00:01"),  # as ether_aton
        ("ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff"),
        (" 00:11:22:33:44:55 ", "00:11:22:33:44:55"),
    ],
)
def test_mac(text, expected):
    assert parse_mac(text, "-D") == expected


@pytest.mark.parametrize(
    "text",
    [
        "01:02",
        "",
        "01:02:03:04:05",
        "01:02:03:04:05:06:07",
        "01:02:03:04:05:0g",
        "001:02:03:04:05:06",
        "01:02-03:04:05:06",  # mixed separators
        "aabb.ccdd.eef",
        "aabbccddeef",
        "aa bb cc dd ee ff",
    ],
)
def test_mac_errors(text):
    message = raises(parse_mac, text, "-D")
    assert message.endswith(": not a MAC address (expected six hex bytes like 02:00:00:00:00:01)")


def test_mac_error_exact():
    assert raises(parse_mac, "01:02", "-D") == (
        "-D 01:02: not a MAC address (expected six hex bytes like 02:00:00:00:00:01)"
    )
    assert raises(parse_mac, "x", "-S").startswith("-S x: ")


@given(st.binary(min_size=6, max_size=6), st.sampled_from([":", "-", ".", ""]), st.booleans())
def test_mac_forms(octets, sep, upper):
    hexes = octets.hex()
    if sep == ".":
        text = ".".join(hexes[i : i + 4] for i in range(0, 12, 4))
    else:
        text = sep.join(hexes[i : i + 2] for i in range(0, 12, 2))
    if upper:
        text = text.upper()
    assert parse_mac(text, "-S") == ":".join(f"{b:02x}" for b in octets)


# ---------------------------------------------------------------------------------------------
# -t


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10", 10),
        ("1.5", 1.5),
        (".5", 0.5),
        ("10s", 10),
        ("10S", 10),
        ("1.5s", 1.5),
        ("500ms", 0.5),
        ("250us", 250e-6),
        ("2m", 120),
        ("2min", 120),
        ("1h", 3600),
        ("1m30s", 90),
        ("1h 30m", 5400),
        (" 10 s ", 10),
    ],
)
def test_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("0", "must be > 0"),
        ("0s", "must be > 0"),
        ("0m0s", "must be > 0"),
        ("-1", "not a duration"),
        ("", "not a duration"),
        ("x", "not a duration"),
        ("10x", "not a duration"),
        ("1h30", "not a duration"),
        ("s", "not a duration"),
        ("1.2.3", "not a duration"),
        ("10d", "not a duration"),
    ],
)
def test_duration_errors(text, part):
    message = raises(parse_duration, text)
    assert message.startswith("-t ")
    assert part in message


def test_duration_error_text():
    assert raises(parse_duration, "10x", option="--duration") == (
        "--duration 10x: not a duration (expected seconds, or numbers with units: "
        "10, 1.5s, 500ms, 2m, 1h, 1m30s)"
    )


# ---------------------------------------------------------------------------------------------
# --cpus


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", [0]),
        ("2-4,7", [2, 3, 4, 7]),
        ("7,2-4,3", [2, 3, 4, 7]),
        (" 1 , 3 - 4 ", [1, 3, 4]),
        ("5-5", [5]),
        ("1,1,1", [1]),
    ],
)
def test_cpus(text, expected):
    assert parse_cpus(text) == expected


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("", "empty CPU list"),
        ("a", "'a' is not a CPU or a range"),
        ("1,,2", "'' is not a CPU or a range"),
        ("-1", "'-1' is not a CPU"),
        ("1-", "'1-' is not a CPU"),
        ("4-2", "runs backwards (write 2-4)"),
        ("0-99999999", "out of range"),
        ("0-8:2", "not a CPU or a range"),
    ],
)
def test_cpus_errors(text, part):
    message = raises(parse_cpus, text)
    assert message.startswith("--cpus ")
    assert part in message


@given(st.sets(st.integers(0, 300), min_size=1))
def test_cpus_round_trip(cpus):
    assert parse_cpus(",".join(map(str, cpus))) == sorted(cpus)


def test_option_error_is_nm_error():
    err = OptionError("x: bad")
    assert isinstance(err, NmError) and isinstance(err, ValueError) and isinstance(err, OSError)
    assert err.errno == errno.EINVAL and str(err) == "x: bad"


# ---------------------------------------------------------------------------------------------
# issue 8: values that overflowed, ran away or were silently misread


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("99999999999999999999999999999999", "out of range (a duration is 1us to 365 days"),
        ("8761h", "out of range"),
        ("0.0000001", "out of range"),  # 100 ns: int(ns) in C would be 0, i.e. no limit
        ("0.1us", "out of range"),
        ("9" * 5000, "out of range"),
    ],
)
def test_duration_range(text, part):
    assert part in raises(parse_duration, text)


def test_duration_ends_are_accepted():
    assert parse_duration("1us") == pytest.approx(1e-6)
    assert parse_duration("8760h") == 365 * 86400


def test_mix_weights_are_divided_by_their_gcd():
    assert parse_sizes([], "60:70,1514:10").mix == ((60, 7), (1514, 1))
    assert parse_sizes([], "60:65536").mix == ((60, 1),)
    assert parse_sizes([], "60:60000,590:40000").mix == ((60, 3), (590, 2))
    # the case: one size, a weight of 10^11 (a table expanded weight by weight)
    assert parse_sizes([], "60:99999999999").mix == ((60, 1),)


@pytest.mark.parametrize(
    ("mix", "part"),
    [
        ("60:7,590:99999999999", "the weights add up to 100000000006; at most 65536 (use"),
        ("60:65535,590:2", "add up to 65537"),
        ("60:2,590:131072", "add up to 65537 (divided by their common factor 2)"),
        ("60:" + "9" * 5000, "weight '999999999999999999999...' of size 60 is out of range"),
        ("60:" + "9" * 5000 + ",590:" + "8" * 5000, "of size 60 is out of range"),
    ],
)
def test_mix_total_weight_is_capped(mix, part):
    message = raises(parse_sizes, [], mix, imix_option="--mix")
    assert message.startswith("--mix ") and part in message
    assert len(message) < 400  # a 5000-digit weight is not echoed in full... twice


def test_mix_cap_counts_after_the_gcd():
    assert sum(w for _, w in parse_sizes([], "60:131072,590:131072").mix) == 2


@pytest.mark.parametrize(
    ("func", "args", "part"),
    [
        (parse_sizes, (["9" * 5000],), "frame size must be 16..65535"),
        (parse_sizes, (["60-" + "9" * 5000],), "frame size 999999999999999999999... must"),
        (parse_sizes, ([], "9" * 5000 + ":1"), "frame size 99999999999"),
        (parse_cpus, ("0-" + "9" * 5000,), "out of range"),
    ],
)
def test_numbers_of_thousands_of_digits_are_out_of_range_not_a_crash(func, args, part):
    assert part in raises(func, *args)


def test_endpoint_with_a_huge_port_or_prefix():
    assert "out of range" in raises(parse_endpoint, "10.0.0.1:" + "9" * 5000, ipv6=False)
    assert "must be 0..32" in raises(parse_endpoint, "10.0.0.0/" + "9" * 5000, ipv6=False)


@pytest.mark.parametrize("value", ["\x1b[2J", "a\nb", "x\x07", "\u202eevil"])
def test_values_with_control_characters_are_shown_escaped(value):
    message = raises(parse_endpoint, value, ipv6=False, option="-s")
    assert message.isprintable(), message
    assert message.startswith("-s $'")

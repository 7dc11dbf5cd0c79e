"""pkt-gen's options as a typed Options -> Config, and the shared unit parameter types."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from nmtools.cli.params import CPULIST, DURATION, MAC, RATE
from nmtools.errors import OptionError
from nmtools.pktgen.config import Function, Sizes
from nmtools.pktgen.options import Options, conf_suffix
from nmtools.units import Rate


@pytest.mark.parametrize(
    ("func", "ipv6", "vlan", "size"),
    [
        ("tx", False, None, 60),  # pkt-gen's 60 bytes: more than 42 of headers
        ("txseq", False, None, 60),  # 42 + 16 of mark = 58
        ("txseq", False, 7, 62),  # + 4 of VLAN tag
        ("ping", True, None, 78),  # 14 + 40 + 8 + 16
        ("rx", True, 3, 66),
    ],
)
def test_default_size_is_60_or_what_the_headers_need(func, ipv6, vlan, size):
    cfg = Options(port="null", func=func, ipv6=ipv6, vlan=vlan).config()
    assert cfg.sizes == Sizes(size, size) == Sizes.default(Function(func), ipv6, vlan is not None)


def test_options_apply_pkt_gen_rules():
    cfg = Options(port="null", function="tx", options=64 | 512 | 2048, conf="1024,512,2").config()
    assert cfg.dump and cfg.random_src and not cfg.random_dst and cfg.avg_std
    assert cfg.port == "null@conf:tx_slots=1024,rx_slots=512,tx_rings=2,rx_rings=2"
    assert cfg.dst_mac == "ff:ff:ff:ff:ff:ff" and cfg.duration == 0.0 and cfg.wait_forever
    assert conf_suffix("256") == "@conf:tx_slots=256,rx_slots=256"


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        ({"options": 32}, "-o 32: indirect buffers (-I) is not supported by nmtools"),
        ({"func": "tx", "function": "rx"}, "function given twice: 'tx' and -f rx"),
        ({"ipv4": True, "ipv6": True}, "-4 and -6 together: choose one"),
        ({"imix": True, "mix": "60:1"}, "--imix and --mix together: choose one"),
        ({"pcap": " "}, "-P '': empty file name (give a pcap or pcapng file)"),
    ],
)
def test_options_that_exclude_each_other_are_one_line(opts, message):
    with pytest.raises(OptionError) as e:
        Options(port="null", **opts).config()
    assert str(e.value) == message


def _probe(option: str, kind: click.ParamType):
    @click.command()
    @click.option(option, "value", type=kind)
    def cmd(value):
        click.echo(repr(value))

    return cmd


@pytest.mark.parametrize(
    ("option", "kind", "text", "value"),
    [
        ("-R", RATE, "10kpps", Rate(10000.0, "pps", False, "10kpps")),
        ("-R", RATE, "0", None),
        ("-t", DURATION, "1m30s", 90.0),
        ("-S", MAC, "0200.0000.0001", "02:00:00:00:00:01"),
        ("--cpus", CPULIST, "4,2-3", [2, 3, 4]),
    ],
)
def test_unit_types_parse_as_the_library_does(option, kind, text, value):
    r = CliRunner().invoke(_probe(option, kind), [option, text])
    assert r.exit_code == 0 and r.output.strip() == repr(value)


def test_a_refused_unit_raises_the_librarys_one_line_error_naming_the_option():
    r = CliRunner().invoke(_probe("-R", RATE), ["-R", "10xpps"])
    assert isinstance(r.exception, OptionError)
    assert str(r.exception).startswith("-R 10xpps: unknown unit 'xpps' (use pps, kpps")

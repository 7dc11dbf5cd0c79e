"""Test vectors for nmtools.ports.spec (netmap port-name grammar, reference section 2)."""

from __future__ import annotations

import dataclasses
import errno
from typing import Any

import pytest

from nmtools.errors import PortSpecError
from nmtools.ports.spec import (
    CONF_KEYS,
    FLAG_BITS,
    Mode,
    PortSpec,
    parse_port,
)


def _check(spec: PortSpec, **expected: Any) -> None:
    for attr, value in expected.items():
        got = getattr(spec, attr)
        if callable(got):
            got = got()
        assert got == value, f"{attr}: {got!r} != {value!r}"


# ---------------------------------------------------------------------------------------------
# Table 2.4: valid examples


@dataclasses.dataclass(frozen=True)
class V:
    text: str
    nr_name: str
    mode: Mode = Mode.ALL_NIC
    ring: int | None = None
    flags: str = ""
    nr_flags: int = 0
    mem_id: int | None = None
    conf: tuple[tuple[str, int], ...] = ()
    pipe: tuple[str | None, str | None] = (None, None)
    subsys: str = "netmap"
    name: str = "eth0"


VALID = [
    V("netmap:eth0", "eth0"),
    V("netmap:eth0^", "eth0", Mode.SW),
    V("netmap:eth0^1", "eth0", Mode.ONE_SW, 1),
    V("netmap:eth0*", "eth0", Mode.NIC_SW),
    V("netmap:eth0-3", "eth0", Mode.ONE_NIC, 3),
    V("netmap:eth0-3/R", "eth0", Mode.ONE_NIC, 3, "R", 0x2000),
    V("netmap:eth0/T", "eth0", flags="T", nr_flags=0x4000),
    V("netmap:eth0/x", "eth0", flags="x", nr_flags=0x800),
    V("netmap:eth0/rt", "eth0", flags="tr", nr_flags=0x300),
    V("netmap:eth0/z", "eth0", flags="z", nr_flags=0x400),
    V("netmap:em0.123", "em0.123", name="em0.123"),
    V("vale0:a", "vale0:a", subsys="vale0", name="a"),
    V("vale:a", "vale:a", subsys="vale", name="a"),
    V(
        "valeA_1:p2@conf:rings=4,slots=2048",
        "valeA_1:p2",
        conf=(("tx_rings", 4), ("rx_rings", 4), ("tx_slots", 2048), ("rx_slots", 2048)),
        subsys="valeA_1",
        name="p2",
    ),
    V("vale0:0@share=netmap:vi0", "vale0:0", subsys="vale0", name="0"),
    V("vale0:0@2", "vale0:0", mem_id=2, subsys="vale0", name="0"),
    V("netmap:pipe{1", "pipe{1", pipe=("{", "1"), name="pipe"),
    V("netmap:pipe}1", "pipe}1", pipe=("}", "1"), name="pipe"),
    V("vale2:x{3", "vale2:x{3", pipe=("{", "3"), subsys="vale2", name="x"),
    V("netmap:eth0{a_b-0", "eth0{a_b", Mode.ONE_NIC, 0, pipe=("{", "a_b")),
    V(
        "netmap:eth0@conf:host-rings=4",
        "eth0",
        conf=(("host_tx_rings", 4), ("host_rx_rings", 4)),
    ),
    V("netmap:x@extmem:file=/dev/hugepages/x,buf-num=100000", "x", name="x"),
    V("netmap:eth0/x@2/R", "eth0", flags="xR", nr_flags=0x2800, mem_id=2),
    V("netmap:eth0^/R", "eth0", Mode.SW, flags="R", nr_flags=0x2000),
    V("netmap:eth0^@2", "eth0", Mode.SW, mem_id=2),
    V("netmap:vale0:1", "vale0:1", subsys="vale0", name="1"),
    V("netmap:eth0@2@conf:rings=2", "eth0", mem_id=2, conf=(("tx_rings", 2), ("rx_rings", 2))),
    V("netmap:eth0@conf:tx-rings=2,rings=4", "eth0", conf=(("tx_rings", 2), ("rx_rings", 4))),
    V("netmap:eth0@conf:rings=abc", "eth0", conf=(("tx_rings", 0), ("rx_rings", 0))),
    V("netmap:eth0@conf:rings=", "eth0"),
    V("netmap:eth0/xx", "eth0", flags="x", nr_flags=0x800),
    # accepted by the parser (2.5): '+' and '#' are not separators
    V("netmap:eth0+", "eth0+", name="eth0+"),
    V("netmap:eth0#", "eth0#", name="eth0#"),
]


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
@pytest.mark.parametrize("v", VALID, ids=[v.text for v in VALID])
def test_valid_examples(strict: bool, v: V) -> None:
    spec = parse_port(v.text, strict=strict)
    _check(
        spec,
        subsys=v.subsys,
        name=v.name,
        nr_name=v.nr_name,
        mode=v.mode,
        ring=v.ring,
        flags=v.flags,
        nr_flags=v.nr_flags,
        mem_id=v.mem_id,
        ring_config=dict(v.conf),
        pipe_end=v.pipe[0],
        pipe_id=v.pipe[1],
        text=v.text,
    )
    assert spec.is_pipe == (v.pipe[0] is not None)
    assert spec.is_vale == v.subsys.startswith("vale")
    # canonical text parses back to the same thing
    assert parse_port(str(spec), strict=True) == spec


def test_valid_example_option_values() -> None:
    spec = parse_port("valeA_1:p2@conf:rings=4,slots=2048", strict=True)
    assert spec.conf == (("rings", "4"), ("slots", "2048"))
    assert spec.share is None and spec.extmem is None and spec.offset is None

    spec = parse_port("vale0:0@share=netmap:vi0", strict=True)
    assert spec.share == "netmap:vi0"
    assert spec.mem_id is None

    spec = parse_port("netmap:x@extmem:file=/dev/hugepages/x,buf-num=100000", strict=True)
    assert spec.extmem == (("file", "/dev/hugepages/x"), ("buf_num", "100000"))
    assert spec.conf == ()

    spec = parse_port("netmap:eth0@conf:host-rings=4", strict=True)
    assert spec.conf == (("host_rings", "4"),)

    spec = parse_port("netmap:eth0@conf:rings=", strict=True)
    assert spec.conf == (("rings", ""),)
    assert str(spec) == "netmap:eth0@conf:rings="


# ---------------------------------------------------------------------------------------------
# Table 2.5: errors raised by the parser, identical in strict and lenient mode
LONG = "a" * 64
ERRORS = [
    ("netmap", "netmap: missing ':'"),
    ("vale0", "vale0: missing ':'"),
    ("netmapX:eth0", "netmapX:eth0: no identifier allowed between 'netmap' and ':'"),
    ("vale-1:x", "vale-1:x: invalid identifier '-1'"),
    ("netmap:", "netmap:: invalid empty port name"),
    ("netmap:-1", "netmap:-1: invalid empty port name"),
    ("netmap:eth0{", "netmap:eth0{: invalid empty pipe name"),
    ("netmap:eth0{a.b", "netmap:eth0{a.b: invalid pipe name 'a.b'"),
    ("vale0:a{b}c", "vale0:a{b}c: invalid pipe name 'b}c'"),
    ("netmap:a}b{c", "netmap:a}b{c: invalid pipe name 'b{c'"),
    ("netmap:" + LONG, f"name '{LONG}' too long"),
    ("netmap:eth0^x", "unexpected character: 'x'"),
    ("netmap:eth0-", "unexpected end of request"),
    ("netmap:eth0-a", "got 'a' while expecting a number"),
    ("netmap:eth0-5000", "'5000' out of range [0, 4095)"),
    ("netmap:eth0*-1", "unexpected character: '-'"),
    ("netmap:eth0-1-2", "unexpected character: '-'"),
    ("netmap:eth0/", "unexpected end of request"),
    ("netmap:eth0/q", "unrecognized flag: 'q'"),
    ("netmap:eth0@", "invalid empty mem_id"),
    ("netmap:eth0@0", "invalid mem_id: '0'"),
    ("netmap:eth0@1@2", "invalid setting of mem_id to 2 (already set to 1)"),
    ("netmap:eth0@foo", "unknown option: 'foo'"),
    ("netmap:eth0@conf", "syntax error: missing body after 'conf'"),
    ("netmap:eth0@conf=4", "syntax error: '=' not valid after 'conf'"),
    ("netmap:eth0@share=", "missing value for option 'share'"),
    ("netmap:eth0@conf:ring=4", "unknown key: 'ring'"),
    ("netmap:eth0@conf:rings", "option 'conf': missing '=value' for key 'rings'"),
    (
        "netmap:eth0@conf:rings=1,rings=2",
        "option 'conf': duplicate key 'rings', already set to '1'",
    ),
    ("netmap:eth0@extmem:if_num=2", "option 'extmem': mandatory key 'file' not assigned"),
    ("netmap:eth0@@conf:rings=1", "invalid empty option"),
    ("netmap:eth0@2-1", "unexpected character: '-'"),
    ("netmap:eth0@share=eth0", "eth0: invalid request, prefix unknown or missing"),
]


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
@pytest.mark.parametrize(("text", "message"), ERRORS, ids=[e[0][:40] for e in ERRORS])
def test_error_rows(strict: bool, text: str, message: str) -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port(text, strict=strict)
    assert str(e.value) == message
    assert e.value.errno == errno.EINVAL
    assert isinstance(e.value, ValueError)


def test_no_prefix_strict() -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port("eth0", strict=True)
    assert str(e.value) == "eth0: invalid request, prefix unknown or missing"
    assert e.value.errno == errno.EINVAL


@pytest.mark.parametrize("strict", [True, False])
def test_offset_disabled(strict: bool) -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port("netmap:eth0@offset=64", strict=strict)
    assert str(e.value) == "option 'offset' is not supported"
    assert e.value.errno == errno.EOPNOTSUPP


def test_offset_enabled() -> None:
    spec = parse_port("netmap:eth0@offset=64", enabled_options=frozenset({"offset"}))
    assert spec.offset == (("initial", "64"),)
    assert str(spec) == "netmap:eth0@offset:initial=64"
    spec = parse_port("netmap:eth0@offset:initial=8,bits=3", enabled_options=frozenset({"offset"}))
    assert spec.offset == (("initial", "8"), ("bits", "3"))
    with pytest.raises(PortSpecError) as e:
        parse_port("netmap:eth0@offset:bits=3", enabled_options=frozenset({"offset"}))
    assert str(e.value) == "option 'offset': mandatory key 'initial' not assigned"
    assert e.value.errno == errno.EINVAL


# ---------------------------------------------------------------------------------------------
# Lenient (pkt-gen style) bare names


@pytest.mark.parametrize(
    ("text", "name", "mode", "ring", "flags", "pipe_end", "pipe_id", "canonical"),
    [
        ("eth0", "eth0", Mode.ALL_NIC, None, "", None, None, "netmap:eth0"),
        ("eth0-2", "eth0", Mode.ONE_NIC, 2, "", None, None, "netmap:eth0-2"),
        ("eth0/T", "eth0", Mode.ALL_NIC, None, "T", None, None, "netmap:eth0/T"),
        ("foo{1", "foo", Mode.ALL_NIC, None, "", "{", "1", "netmap:foo{1"),
        ("foo}1", "foo", Mode.ALL_NIC, None, "", "}", "1", "netmap:foo}1"),
        ("null", "null", Mode.ALL_NIC, None, "", None, None, "netmap:null"),
        ("eth0^/R", "eth0", Mode.SW, None, "R", None, None, "netmap:eth0^/R"),
        ("eth0^0", "eth0", Mode.ONE_SW, 0, "", None, None, "netmap:eth0^0"),
        ("eth0*@3", "eth0", Mode.NIC_SW, None, "", None, None, "netmap:eth0*@3"),
        ("Vale0:a", "Vale0:a", Mode.ALL_NIC, None, "", None, None, "netmap:Vale0:a"),
    ],
)
def test_bare_names(
    text: str,
    name: str,
    mode: Mode,
    ring: int | None,
    flags: str,
    pipe_end: str | None,
    pipe_id: str | None,
    canonical: str,
) -> None:
    spec = parse_port(text)
    _check(
        spec,
        subsys="netmap",
        name=name,
        mode=mode,
        ring=ring,
        flags=flags,
        pipe_end=pipe_end,
        pipe_id=pipe_id,
        text=text,
    )
    assert str(spec) == canonical
    assert parse_port(canonical, strict=True) == spec
    with pytest.raises(PortSpecError) as e:
        parse_port(text, strict=True)
    assert str(e.value) == f"{text}: invalid request, prefix unknown or missing"


def test_bare_error_messages_quote_effective_name() -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port("eth0{")
    assert str(e.value) == "netmap:eth0{: invalid empty pipe name"
    with pytest.raises(PortSpecError) as e:
        parse_port("eth0-x")
    assert str(e.value) == "got 'x' while expecting a number"


def test_empty_string() -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port("")
    assert str(e.value) == "invalid empty port name"
    assert e.value.errno == errno.EINVAL
    with pytest.raises(PortSpecError) as e:
        parse_port("", strict=True)
    assert str(e.value) == ": invalid request, prefix unknown or missing"


def test_whitespace_is_kept() -> None:
    spec = parse_port(" eth0")
    assert spec.name == " eth0"
    assert spec.nr_name == " eth0"
    assert str(spec) == "netmap: eth0"
    spec = parse_port("netmap:eth0 ", strict=True)
    assert spec.name == "eth0 "
    with pytest.raises(PortSpecError) as e:
        parse_port(" eth0", strict=True)
    assert str(e.value) == " eth0: invalid request, prefix unknown or missing"
    with pytest.raises(PortSpecError) as e:
        parse_port(" netmap:eth0", strict=True)
    assert str(e.value) == " netmap:eth0: invalid request, prefix unknown or missing"


def test_nul_rejected() -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port("netmap:eth\x000")
    assert str(e.value) == "'netmap:eth\\x000': NUL character in port name"


def test_type_error() -> None:
    with pytest.raises(TypeError):
        parse_port(b"netmap:eth0")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize(
    ("text", "mode", "ring"),
    [
        ("netmap:eth0-0", Mode.ONE_NIC, 0),
        ("netmap:eth0-4094", Mode.ONE_NIC, 4094),
        ("netmap:eth0-0004", Mode.ONE_NIC, 4),
        ("netmap:eth0^0", Mode.ONE_SW, 0),
        ("netmap:eth0^4094", Mode.ONE_SW, 4094),
    ],
)
def test_ring_ids(text: str, mode: Mode, ring: int) -> None:
    spec = parse_port(text, strict=True)
    assert (spec.mode, spec.ring) == (mode, ring)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("netmap:eth0-4095", "'4095' out of range [0, 4095)"),
        ("netmap:eth0^4095", "'4095' out of range [0, 4095)"),
        ("netmap:eth0-99999", "'99999' out of range [0, 4095)"),
        ("netmap:eth0-00004095", "'00004095' out of range [0, 4095)"),
        ("netmap:eth0-1x", "unexpected character: 'x'"),
        ("netmap:eth0^1^", "unexpected character: '^'"),
        ("netmap:eth0*5", "unexpected character: '5'"),
        ("netmap:eth0-\u0661", "got '\u0661' while expecting a number"),  # Arabic-Indic one
        ("netmap:eth0-/R", "got '/' while expecting a number"),
        ("netmap:eth0@2x", "unexpected character: 'x'"),
        ("netmap:eth0@2^", "unexpected character: '^'"),
        ("netmap:eth0@00", "invalid mem_id: '00'"),
        ("netmap:eth0@65536", "invalid mem_id: '65536'"),
        ("netmap:eth0@2@02@3", "invalid setting of mem_id to 3 (already set to 2)"),
        ("netmap:eth0-1@", "invalid empty mem_id"),
    ],
)
def test_number_errors(text: str, message: str) -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port(text, strict=True)
    assert str(e.value) == message
    assert e.value.errno == errno.EINVAL


def test_huge_numbers_do_not_crash() -> None:
    digits = "9" * 5000
    with pytest.raises(PortSpecError) as e:
        parse_port(f"netmap:eth0-{digits}")
    assert str(e.value) == f"'{digits}' out of range [0, 4095)"
    with pytest.raises(PortSpecError) as e:
        parse_port(f"netmap:eth0@{digits}")
    assert str(e.value) == f"invalid mem_id: '{digits}'"
    zeros = "0" * 5000 + "7"
    assert parse_port(f"netmap:eth0-{zeros}").ring == 7
    assert parse_port(f"netmap:eth0@{zeros}").mem_id == 7
    spec = parse_port(f"netmap:eth0@conf:rings={digits}")
    assert spec.ring_config() == {"tx_rings": 0xFFFF, "rx_rings": 0xFFFF}


def test_mem_id() -> None:
    assert parse_port("netmap:eth0@65535").mem_id == 65535
    assert parse_port("netmap:eth0@1@1").mem_id == 1
    spec = parse_port("netmap:eth0@01")
    assert spec.mem_id == 1
    assert str(spec) == "netmap:eth0@1"


# ---------------------------------------------------------------------------------------------
# Flags


def test_flags_canonical_order_and_bits() -> None:
    spec = parse_port("netmap:eth0/TRrtzx", strict=True)
    assert spec.flags == "xztrRT"
    assert spec.nr_flags == 0x800 | 0x400 | 0x100 | 0x200 | 0x2000 | 0x4000
    assert str(spec) == "netmap:eth0/xztrRT"
    spec = parse_port("netmap:eth0/x/R", strict=True)
    assert spec.flags == "xR"
    assert FLAG_BITS == {"x": 0x800, "z": 0x400, "t": 0x100, "r": 0x200, "R": 0x2000, "T": 0x4000}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("netmap:eth0//R", "unrecognized flag: '/'"),
        ("netmap:eth0/@2", "unrecognized flag: '@'"),
        ("netmap:eth0/x-1", "unrecognized flag: '-'"),
        ("netmap:eth0/x^", "unrecognized flag: '^'"),
        ("netmap:eth0/x/", "unexpected end of request"),
    ],
)
def test_flag_errors(text: str, message: str) -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port(text, strict=True)
    assert str(e.value) == message


@pytest.mark.parametrize(
    ("text", "is_host", "is_monitor", "tx_only", "rx_only"),
    [
        ("netmap:eth0", False, False, False, False),
        ("netmap:eth0^", True, False, False, False),
        ("netmap:eth0^2", True, False, False, False),
        ("netmap:eth0*", True, False, False, False),
        ("netmap:eth0-2", False, False, False, False),
        ("netmap:eth0/t", False, True, False, False),
        ("netmap:eth0/r", False, True, False, False),
        ("netmap:eth0/z", False, True, False, False),
        ("netmap:eth0/x", False, False, False, False),
        ("netmap:eth0/T", False, False, True, False),
        ("netmap:eth0/R", False, False, False, True),
    ],
)
def test_properties(
    text: str, is_host: bool, is_monitor: bool, tx_only: bool, rx_only: bool
) -> None:
    spec = parse_port(text, strict=True)
    assert (spec.is_host, spec.is_monitor, spec.tx_only, spec.rx_only) == (
        is_host,
        is_monitor,
        tx_only,
        rx_only,
    )


def test_mode_values() -> None:
    assert [(m.name, m.value) for m in Mode] == [
        ("ALL_NIC", 1),
        ("SW", 2),
        ("NIC_SW", 3),
        ("ONE_NIC", 4),
        ("ONE_SW", 8),
    ]


# ---------------------------------------------------------------------------------------------
# Names: VALE, pipes, lengths, unicode


def test_vale_forms() -> None:
    spec = parse_port("vale:a", strict=True)
    assert (spec.subsys, spec.name, spec.nr_name, str(spec)) == ("vale", "a", "vale:a", "vale:a")
    spec = parse_port("vale0:a:b")
    assert (spec.subsys, spec.name, spec.nr_name) == ("vale0", "a:b", "vale0:a:b")
    assert parse_port("netmap:vale0:a:b") == spec
    spec = parse_port("netmap:vale0:1{2-1", strict=True)
    assert (spec.subsys, spec.name, spec.pipe_end, spec.pipe_id, spec.ring) == (
        "vale0",
        "1",
        "{",
        "2",
        1,
    )
    assert spec.nr_name == "vale0:1{2"
    assert str(spec) == "vale0:1{2-1"


def test_netmap_vale_prefix_canonicalises() -> None:
    spec = parse_port("netmap:vale0:1", strict=True)
    assert str(spec) == "vale0:1"
    assert spec == parse_port("vale0:1", strict=True)
    assert spec.text == "netmap:vale0:1"


def test_netmap_vale_without_colon_stays_netmap() -> None:
    spec = parse_port("netmap:vale0", strict=True)
    assert (spec.subsys, spec.name, spec.nr_name, spec.is_vale) == (
        "netmap",
        "vale0",
        "vale0",
        False,
    )
    assert str(spec) == "netmap:vale0"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("netmap:vale.x:1", "netmap:vale.x:1: invalid identifier '.x'"),
        ("netmap:vale0:", "netmap:vale0:: invalid empty port name"),
        ("vale0:", "vale0:: invalid empty port name"),
        ("vale0:-1", "vale0:-1: invalid empty port name"),
        ("vale0:{1", "vale0:{1: invalid empty port name"),
        ("netmap:{1", "netmap:{1: invalid empty port name"),
        ("netmap:eth0{-1", "netmap:eth0{-1: invalid empty pipe name"),
        ("vale0-1", "vale0-1: missing ':'"),
        ("vale", "vale: missing ':'"),
        ("netmapfoo", "netmapfoo: missing ':'"),
        ("netmap-1:x", "netmap-1:x: no identifier allowed between 'netmap' and ':'"),
        ("vale\u00e9:x", "vale\u00e9:x: invalid identifier '\u00e9'"),
        ("netmap:eth0{\u00e9", "netmap:eth0{\u00e9: invalid pipe name '\u00e9'"),
        (
            "vale0:" + "p" * 16,
            f"vale name 'vale0:{'p' * 16}' too long "
            "(switch and port names are at most 15 characters)",
        ),
        (
            "vale" + "a" * 12 + ":p",
            f"vale name 'vale{'a' * 12}:p' too long "
            "(switch and port names are at most 15 characters)",
        ),
        (
            "netmap:vale0:" + "p" * 16,
            f"vale name 'vale0:{'p' * 16}' too long "
            "(switch and port names are at most 15 characters)",
        ),
    ],
)
def test_name_errors(text: str, message: str) -> None:
    for strict in (True, False):
        with pytest.raises(PortSpecError) as e:
            parse_port(text, strict=strict)
        assert str(e.value) == message
        assert e.value.errno == errno.EINVAL


def test_vale_length_limits() -> None:
    spec = parse_port("vale0:" + "p" * 15, strict=True)
    assert spec.name == "p" * 15
    spec = parse_port("vale" + "a" * 11 + ":p{" + "b" * 40, strict=True)
    assert spec.subsys == "vale" + "a" * 11
    assert len(spec.nr_name) == 58


def test_nr_name_length_limit() -> None:
    name = "a" * 63
    assert parse_port("netmap:" + name, strict=True).nr_name == name
    assert parse_port(name).nr_name == name
    pipe = "eth0{" + "b" * 58
    assert parse_port("netmap:" + pipe).nr_name == pipe
    with pytest.raises(PortSpecError) as e:
        parse_port("netmap:" + pipe + "c-1")
    assert str(e.value) == f"name '{pipe}c' too long"


def test_unicode_names_and_byte_lengths() -> None:
    spec = parse_port("netmap:\u00e9th0-1", strict=True)
    assert (spec.name, spec.nr_name, spec.ring) == ("\u00e9th0", "\u00e9th0", 1)
    ok = "\u00e9" * 31 + "a"  # 63 UTF-8 bytes
    assert parse_port("netmap:" + ok).name == ok
    too_long = "\u00e9" * 32  # 64 UTF-8 bytes, 32 characters
    with pytest.raises(PortSpecError) as e:
        parse_port("netmap:" + too_long)
    assert str(e.value) == f"name '{too_long}' too long"
    with pytest.raises(PortSpecError) as e:
        parse_port("vale0:" + "\u00e9" * 8)  # 16 bytes
    assert str(e.value).startswith("vale name 'vale0:")


def test_pipe_split_on_first_bracket_and_separators() -> None:
    spec = parse_port("netmap:eth0}x_Y9/z@conf:rings=2", strict=True)
    assert (spec.name, spec.pipe_end, spec.pipe_id, spec.flags) == ("eth0", "}", "x_Y9", "z")
    assert spec.nr_name == "eth0}x_Y9"
    assert spec.ring_config() == {"tx_rings": 2, "rx_rings": 2}


def test_colon_and_dots_in_netmap_name() -> None:
    spec = parse_port("netmap:eth0:1.5", strict=True)
    assert (spec.subsys, spec.name) == ("netmap", "eth0:1.5")


# ---------------------------------------------------------------------------------------------
# Options


@pytest.mark.parametrize(
    ("conf", "expected"),
    [
        ("rings=4", {"tx_rings": 4, "rx_rings": 4}),
        ("rings=4,tx-rings=2", {"tx_rings": 2, "rx_rings": 4}),
        ("rx_rings=3,rings=1", {"tx_rings": 1, "rx_rings": 3}),
        ("slots=1024,rx-slots=512", {"tx_slots": 1024, "rx_slots": 512}),
        ("host-rings=2,host_tx_rings=1", {"host_tx_rings": 1, "host_rx_rings": 2}),
        ("tx_slots=7", {"tx_slots": 7}),
        ("rings=12abc", {"tx_rings": 12, "rx_rings": 12}),
        ("rings= 7", {"tx_rings": 7, "rx_rings": 7}),
        ("rings=+5", {"tx_rings": 5, "rx_rings": 5}),
        ("rings=-1", {"tx_rings": 0xFFFF, "rx_rings": 0xFFFF}),
        ("rings=65537", {"tx_rings": 1, "rx_rings": 1}),
        ("slots=-1", {"tx_slots": 0xFFFFFFFF, "rx_slots": 0xFFFFFFFF}),
        ("rings=4,tx_rings=", {"tx_rings": 4, "rx_rings": 4}),
        ("tx_rings=,rx_rings=", {}),
        ("rings=x=y", {"tx_rings": 0, "rx_rings": 0}),
    ],
)
def test_ring_config(conf: str, expected: dict[str, int]) -> None:
    spec = parse_port(f"netmap:eth0@conf:{conf}", strict=True)
    assert spec.ring_config() == expected


def test_ring_config_all_keys() -> None:
    text = "vale0:p@conf:" + ",".join(f"{k}={i + 1}" for i, k in enumerate(CONF_KEYS))
    spec = parse_port(text, strict=True)
    assert spec.ring_config() == {
        "tx_rings": 4,
        "rx_rings": 5,
        "host_tx_rings": 6,
        "host_rx_rings": 7,
        "tx_slots": 8,
        "rx_slots": 9,
    }


def test_repeated_options_merge() -> None:
    spec = parse_port("netmap:eth0@conf:rings=1@conf:slots=2", strict=True)
    assert spec.conf == (("rings", "1"), ("slots", "2"))
    assert str(spec) == "netmap:eth0@conf:rings=1,slots=2"
    with pytest.raises(PortSpecError) as e:
        parse_port("netmap:eth0@conf:rings=1@conf:rings=2")
    assert str(e.value) == "option 'conf': duplicate key 'rings', already set to '1'"
    with pytest.raises(PortSpecError) as e:
        parse_port("netmap:eth0@share=netmap:a@share=netmap:b")
    assert str(e.value) == "option 'share': duplicate key 'port', already set to 'netmap:a'"
    spec = parse_port("netmap:eth0@extmem:if_num=2@extmem=/f")
    assert spec.extmem == (("if_num", "2"), ("file", "/f"))


def test_share_forms() -> None:
    a = parse_port("netmap:eth0@share=vale0:p-1", strict=True)
    b = parse_port("netmap:eth0@share:port=vale0:p-1", strict=True)
    assert a == b
    assert a.share == "vale0:p-1"
    assert str(a) == "netmap:eth0@share=vale0:p-1"
    spec = parse_port("vale0:0@2@share=netmap:vi0")  # conflict only detectable with /dev/netmap
    assert (spec.mem_id, spec.share) == (2, "netmap:vi0")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("netmap:eth0@share=vale0", "vale0: missing ':'"),
        ("netmap:eth0@share=netmap:", "netmap:: invalid empty port name"),
        ("netmap:eth0@share=netmap:x-z", "got 'z' while expecting a number"),
        ("netmap:eth0@share", "syntax error: missing body after 'share'"),
        ("netmap:eth0@share@conf:rings=1", "syntax error: missing body after 'share'"),
        ("netmap:eth0@share:port=", "option 'share': mandatory key 'port' not assigned"),
        ("netmap:eth0@extmem:file=", "option 'extmem': mandatory key 'file' not assigned"),
        ("netmap:eth0@extmem=", "missing value for option 'extmem'"),
        ("netmap:eth0@conf:", "unknown key: ''"),
        ("netmap:eth0@conf:rings=1,", "unknown key: ''"),
        ("netmap:eth0@conf:tx-ringz=1", "unknown key: 'tx-ringz'"),
        ("netmap:eth0@conf:host-rings", "option 'conf': missing '=value' for key 'host_rings'"),
        ("netmap:eth0@conf:rings,slots=1", "option 'conf': missing '=value' for key 'rings'"),
        (
            "netmap:eth0@conf:host-rings=1,host_rings=2",
            "option 'conf': duplicate key 'host_rings', already set to '1'",
        ),
        (
            "netmap:eth0@conf:rings=,rings=2",
            "option 'conf': duplicate key 'rings', already set to ''",
        ),
        ("netmap:eth0@=4", "invalid empty option"),
        ("netmap:eth0@:rings=4", "invalid empty option"),
        ("netmap:eth0@Conf:rings=4", "unknown option: 'Conf'"),
        ("netmap:eth0@conf:rings=1@2", "unknown option: '2'"),
        ("netmap:eth0@conf:rings=1@", "invalid empty option"),
    ],
)
def test_option_errors(text: str, message: str) -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port(text, strict=True)
    assert str(e.value) == message
    assert e.value.errno == errno.EINVAL


def test_default_key_then_more_keys() -> None:
    spec = parse_port("netmap:x@extmem=/dev/hugepages/x,buf-num=10,if_size=1024", strict=True)
    assert spec.extmem == (("file", "/dev/hugepages/x"), ("buf_num", "10"), ("if_size", "1024"))
    assert str(spec) == "netmap:x@extmem:file=/dev/hugepages/x,buf_num=10,if_size=1024"


def test_option_values_keep_colons_and_equals() -> None:
    spec = parse_port("netmap:x@extmem:file=/a:b=c", strict=True)
    assert spec.extmem == (("file", "/a:b=c"),)


# ---------------------------------------------------------------------------------------------
# str(), equality, immutability


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("netmap:eth0-3/R@2@conf:rings=4", "netmap:eth0-3/R@2@conf:rings=4"),
        ("netmap:eth0/Tx", "netmap:eth0/xT"),
        ("netmap:eth0/x@2/R", "netmap:eth0/xR@2"),
        ("eth0-0003", "netmap:eth0-3"),
        ("netmap:eth0@conf:tx-rings=2,rings=4", "netmap:eth0@conf:tx_rings=2,rings=4"),
        ("netmap:eth0@conf:rings=1@share=netmap:a", "netmap:eth0@share=netmap:a@conf:rings=1"),
        ("vale0:p{x/rt@7", "vale0:p{x/tr@7"),
    ],
)
def test_canonical_str(text: str, canonical: str) -> None:
    spec = parse_port(text)
    assert str(spec) == canonical
    assert parse_port(canonical, strict=True) == spec
    assert str(parse_port(canonical)) == canonical


def test_text_not_compared_and_frozen() -> None:
    a = parse_port("eth0")
    b = parse_port("netmap:eth0", strict=True)
    assert a == b
    assert (a.text, b.text) == ("eth0", "netmap:eth0")
    assert hash(a) == hash(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "eth1"  # type: ignore[misc]


def test_direct_construction() -> None:
    spec = PortSpec(
        subsys="vale1",
        name="p",
        pipe_end="}",
        pipe_id="q",
        mode=Mode.ONE_NIC,
        ring=0,
        flags="zR",
        mem_id=3,
        conf=(("slots", "64"),),
    )
    assert str(spec) == "vale1:p}q-0/zR@3@conf:slots=64"
    assert spec.nr_name == "vale1:p}q"
    assert spec.nr_flags == 0x2400
    assert parse_port(str(spec), strict=True) == spec


# ---------------------------------------------------------------------------------------------
# issue 8: names that are not text, control characters, the '-' rule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("netmap:\udcff{1", "netmap:\\xff{1: byte 0xff is not UTF-8 text (port names are UTF-8)"),
        ("\udcc3(", "\\xc3(: byte 0xc3 is not UTF-8 text (port names are UTF-8)"),
        ("eth\ud800", "eth\\ud800: lone surrogate U+D800 is not text (port names are UTF-8)"),
    ],
)
def test_names_that_are_not_text(text: str, message: str) -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port(text)
    assert str(e.value) == message
    with pytest.raises(PortSpecError) as e:
        parse_port("netmap:" + text.removeprefix("netmap:"), strict=True)
    assert str(e.value).endswith(message.split(": ", 1)[1]) and str(e.value).isprintable()


@pytest.mark.parametrize(
    "text",
    [
        "netmap:a\x1b[2Jb{",
        "netmap:x/\x1b",
        "vale\x1b:x",
        "netmap:x@conf:\x1b=1",
        "netmap:e\x9b{1-a",
    ],
)
def test_messages_show_control_characters_escaped(text: str) -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port(text)
    assert str(e.value).isprintable() and e.value.hint.isprintable(), repr(str(e.value))
    assert "\\x1b" in str(e.value) + e.value.hint or "\\x9b" in str(e.value) + e.value.hint


def test_control_characters_stay_in_valid_names() -> None:
    """Linux allows them in interface names: parsing keeps the name, only messages escape."""
    assert parse_port("a\x1bb").name == "a\x1bb"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("does-not-exist", "ip link set dev does-not-exist name does_not_exist, and open"),
        ("netmap:my-nic/T", "ip link set dev my-nic name my_nic, and open my_nic"),
        ("my-nic-2@conf:slots=8", "ip link set dev my-nic-2 name my_nic_2"),
        ("netmap:p{1-x", "(the pipe is p{1)"),
        ("vale0:a-b", "so a name cannot contain '-'"),
    ],
)
def test_dash_followed_by_a_letter_has_a_hint(text: str, hint: str) -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port(text)
    assert str(e.value).startswith("got '")  # libnetmap's message, unchanged
    assert "in netmap names '-' starts a ring number" in e.value.hint
    assert hint in e.value.hint, e.value.hint


@pytest.mark.parametrize("text", ["eth0-", "eth0-1-2", "eth0^x", "eth0/q"])
def test_other_register_errors_have_no_hint(text: str) -> None:
    with pytest.raises(PortSpecError) as e:
        parse_port(text)
    assert e.value.hint == ""

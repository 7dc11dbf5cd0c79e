"""Fuzz: port names, from the grammar's own characters to bytes that are not text.

parse_port, resolve (every adapter mode; nothing is opened for NIC names) and opening what
needs no interface (null, pipes in a private NMTOOLS_SHM_DIR) must end, within a timeout,
in a port or an NmError whose message is one printable line: never another exception, a
hang, or a file left behind. Hypothesis runs derandomized (the same cases every run) and
keeps no database.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nmtools import _bindings as B
from nmtools.errors import NmError
from nmtools.ports import open_port, parse_port, resolve

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=1000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OPEN_FUZZ = settings(FUZZ, max_examples=400)
TIMEOUT = 10.0

NASTY = ["\x1b", "\x1b[2J", "\x00", "\n", "\x7f", "\u202e", "\udcff", "\udc80", "\ud800", "é"]
NASTY += ["Ƕ", "\U0001f600", " ", "\t", "%", "..", "/", "9" * 30, "-1", "4095", "65536"]
PIECES = [
    "netmap:",
    "vale",
    "vale0:",
    "null",
    "lo",
    "{",
    "}",
    "-",
    "*",
    "^",
    "/",
    "@",
    "x",
    "R",
    "T",
    "z",
    "0",
    "1",
    "@conf:",
    "rings=",
    "slots=",
    "tx_rings=",
    "rx_slots=",
    "host_rings=",
    ",",
    "=",
    "@share=",
    "@extmem:file=",
    "@offset:",
    ":",
    "a",
    "_",
]
CHARS = st.characters(codec=None, max_codepoint=0x10FFFF)

names = st.one_of(
    st.lists(st.sampled_from(PIECES + NASTY), max_size=12).map("".join),
    st.text(CHARS, max_size=40),
    st.builds(
        lambda a, b, c: f"netmap:{a}{{{b}{c}",
        st.text(st.sampled_from("ab_\x1bé-Ƕ"), min_size=1, max_size=6),
        st.text(st.sampled_from("01_z"), min_size=1, max_size=4),
        st.lists(st.sampled_from(PIECES + NASTY), max_size=6).map("".join),
    ),
)


def within(seconds: float, func: Callable[[], Any]) -> Any:
    """func() in a thread; a hang fails the test (the thread is left behind, daemonic)."""
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            box["value"] = func()
        except BaseException as e:  # checked by the caller
            box["error"] = e

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        pytest.fail(f"hung for {seconds} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def check_error(e: NmError) -> None:
    text = str(e)
    assert text and text.isprintable(), repr(text)
    assert "\n" not in text


@FUZZ
@given(names, st.booleans())
def test_parse_port_is_a_spec_or_one_printable_line(name, strict):
    try:
        spec = parse_port(name, strict=strict)
    except NmError as e:
        check_error(e)
        assert e.hint.isprintable()  # type: ignore[attr-defined]
        return
    again = parse_port(str(spec), strict=True)
    assert again == spec


@FUZZ
@given(
    names,
    st.sampled_from([None, "auto", "xdp", "packet", "native"]),
    st.sampled_from([None, "tx", "rx", "fwd"]),
)
def test_resolve_is_a_request_or_one_printable_line(name, admode, direction):
    try:
        _, req = resolve(name, admode, direction)
    except NmError as e:
        check_error(e)
        return
    for n in (req.tx_rings, req.rx_rings):
        assert 0 <= n <= 64
    for n in (req.tx_slots, req.rx_slots):
        assert 0 <= n <= 65536
    assert len(req.ifname.encode()) < 64 and len(req.path.encode()) < 4096


@pytest.fixture
def shm(tmp_path, monkeypatch):
    d = tmp_path / "shm"
    d.mkdir()
    monkeypatch.setenv("NMTOOLS_SHM_DIR", str(d))
    return d


def _small(req: Any) -> bool:
    """Geometry worth allocating in a test (64 rings of 65536 slots is 16 GiB of buffers)."""
    return max(req.tx_rings, req.rx_rings, 1) * max(req.tx_slots, req.rx_slots, 1024) <= 8192


CONF_KEYS = ["rings", "slots", "tx_rings", "rx_rings", "tx_slots", "rx_slots", "host_rings"]
conf_values = st.one_of(
    st.integers(0, 70).map(str),
    st.sampled_from(["", "abc", "-1", " 2", "+3", "9" * 30, "\x1b", "\udcff", "4\x00"]),
)
confs = st.lists(st.tuples(st.sampled_from(CONF_KEYS), conf_values), max_size=3).map(
    lambda kv: "@conf:" + ",".join(f"{k}={v}" for k, v in kv) if kv else ""
)
open_names = st.one_of(
    st.builds(
        lambda base, end, pid, extra, conf: f"netmap:{base}{end}{pid}{extra}{conf}",
        st.text(st.sampled_from("ab_\x1bé%.Ƕ -\udcff\u202e/"), min_size=1, max_size=8),
        st.sampled_from("{}"),
        st.text(st.sampled_from("01_zZ9"), min_size=1, max_size=4),
        st.sampled_from(["", "/T", "/R", "/x", "-0", "-1", "^", "*", "@1", "/RT"]),
        confs,
    ),
    st.builds(lambda extra, conf: "null" + extra + conf, st.sampled_from(["", "/T", "-0"]), confs),
    names,
)


@OPEN_FUZZ
@given(open_names)
def test_opening_null_and_pipes_ends_and_leaves_nothing(shm, name):
    try:
        _, req = resolve(name, "packet", None)
    except NmError as e:
        check_error(e)
        return
    if req.kind not in (B.lib.NMT_KIND_NULL, B.lib.NMT_KIND_PIPE) or not _small(req):
        return

    def open_and_close() -> None:
        try:
            with open_port(name, admode="packet") as p:
                p.info()
        except NmError as e:
            check_error(e)

    within(TIMEOUT, open_and_close)
    assert os.listdir(shm) == []

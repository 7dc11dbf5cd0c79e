"""Pipe file names: every parent name has its own file, and the listing gives it back."""

from __future__ import annotations

import os

from hypothesis import example, given, settings
from hypothesis import strategies as st

from nmtools import list_pipes, open_port
from nmtools.ports import pipes

# any code point, surrogates included; at most 63 bytes, as the port name grammar allows
NAMES = st.text(min_size=1, max_size=40).filter(
    lambda t: len(t.encode("utf-8", "surrogatepass")) <= 63
)
SETTINGS = settings(max_examples=300)


@SETTINGS
@given(NAMES, NAMES)
@example("nrlǶ", "nrl\x1f6")  # U+01F6 was written %1F6, as \x1f followed by 6
@example("a%41", "aA")
@example("\udcc3\udca9", "é")  # lone surrogates are not the UTF-8 bytes they stand for
def test_distinct_names_have_distinct_files(a, b):
    if a != b:
        assert pipes._escape(a) != pipes._escape(b)
    # and the longest fits a file name (255 bytes) with the prefix and the doorbell tail
    assert len(f"nmt-4294967295-pipe-{pipes._escape(a)}@1{pipes.FIFO_TAIL}") <= 255


@SETTINGS
@given(NAMES)
@example("nrlǶ")
@example("%")
def test_names_come_back_from_their_files(name):
    escaped = pipes._escape(name)
    assert pipes._unescape(escaped) == name
    assert all(c.isascii() and (c.isalnum() or c in "_.-%") for c in escaped)


@given(st.text(alphabet="%0123456789ABCDEFabcdefg_.-xyz\u00e9", max_size=12))
def test_only_names_the_encoding_makes_are_decoded(text):
    """A file someone else named is not taken for a pipe of another name."""
    name = pipes._unescape(text)
    assert name is None or pipes._escape(name) == text


def test_pipe_path_is_the_escaped_name(shm):
    assert pipes.pipe_path("nrlǶ", "1") == shm / f"nmt-{os.geteuid()}-pipe-nrl%C7%B6@1"


def test_the_two_colliding_names_are_two_pipes(shm):
    with open_port("netmap:nrlǶ{1") as a, open_port("netmap:nrl\x1f6{1") as b:
        assert a.mem_id != b.mem_id
        assert sorted(p.name for p in list_pipes()) == ["netmap:nrl\x1f6{1", "netmap:nrlǶ{1"]
        assert len([f for f in os.listdir(shm) if "fifo" not in f]) == 2
    assert os.listdir(shm) == []

"""Property test: random valid port specs parse, and str() gives text that parses back equal."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nmtools.ports.spec import CONF_KEYS, FLAG_BITS, OPTION_KEYS, Mode, PortSpec, parse_port

IDENT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
NAME_CHARS = st.characters(
    blacklist_characters="-*^/@{}\x00", blacklist_categories=("Cs",), max_codepoint=0x2FF
)
VALUE_CHARS = st.characters(
    blacklist_characters="@,\x00", blacklist_categories=("Cs",), max_codepoint=0x2FF
)
ENABLED = frozenset({"offset"})


def _nbytes(text: str) -> int:
    return len(text.encode())


@dataclass
class Built:
    text: str
    subsys: str
    name: str
    pipe_end: str | None
    pipe_id: str | None
    mode: Mode
    ring: int | None
    flags: str
    mem_id: int | None
    conf: tuple[tuple[str, str], ...]
    share: str | None
    extmem: tuple[tuple[str, str], ...] | None
    offset: tuple[tuple[str, str], ...] | None


@st.composite
def header(draw: st.DrawFn) -> tuple[str, str, str, str | None, str | None]:
    """(text, subsys, name, pipe_end, pipe_id)"""
    kind = draw(st.sampled_from(["netmap", "vale", "netmap-vale"]))
    if kind == "netmap":
        name = draw(st.text(NAME_CHARS, min_size=1, max_size=20))
        assume(not (name.startswith("vale") and ":" in name))
        subsys = "netmap"
    else:
        subsys = "vale" + draw(st.text(st.sampled_from(IDENT), max_size=11))
        name = draw(st.text(NAME_CHARS, min_size=1, max_size=15))
        assume(_nbytes(name) <= 15)
    pipe_end = draw(st.sampled_from([None, "{", "}"]))
    pipe_id = None
    if pipe_end is not None:
        pipe_id = draw(st.text(st.sampled_from(IDENT), min_size=1, max_size=12))
    pipe = f"{pipe_end}{pipe_id}" if pipe_end else ""
    nr_name = (f"{subsys}:" if subsys != "netmap" else "") + name + pipe
    assume(_nbytes(nr_name) <= 63)
    prefix = {"netmap": "netmap:", "vale": f"{subsys}:", "netmap-vale": f"netmap:{subsys}:"}[kind]
    return prefix + name + pipe, subsys, name, pipe_end, pipe_id


@st.composite
def mode_part(draw: st.DrawFn) -> tuple[str, Mode, int | None]:
    mode = draw(st.sampled_from(list(Mode)))
    if mode in (Mode.ONE_NIC, Mode.ONE_SW):
        ring = draw(st.integers(0, 4094))
        zeros = "0" * draw(st.integers(0, 2))
        sep = "-" if mode is Mode.ONE_NIC else "^"
        return f"{sep}{zeros}{ring}", mode, ring
    return {Mode.ALL_NIC: "", Mode.SW: "^", Mode.NIC_SW: "*"}[mode], mode, None


@st.composite
def flags_memid(draw: st.DrawFn) -> tuple[str, str, int | None]:
    mem_id = draw(st.none() | st.integers(1, 65535))
    groups = draw(
        st.lists(st.text(st.sampled_from(list(FLAG_BITS)), min_size=1, max_size=4), max_size=3)
    )
    items = [f"/{g}" for g in groups]
    if mem_id is not None:
        for _ in range(draw(st.integers(1, 2))):
            pos = draw(st.integers(0, len(items)))
            items.insert(pos, f"@{mem_id}")
    used = "".join(groups)
    flags = "".join(c for c in "xztrRT" if c in used)
    return "".join(items), flags, mem_id


def _keyed(
    draw: st.DrawFn, keys: tuple[str, ...], mandatory: str | None, values: st.SearchStrategy[str]
) -> list[tuple[str, str, str]]:
    """[(normalised key, spelled key, value)], mandatory key first if any."""
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=4))
    if mandatory is not None:
        chosen = [mandatory] + [k for k in chosen if k != mandatory]
    out = []
    for key in chosen:
        spelled = key.replace("_", "-") if draw(st.booleans()) else key
        value = draw(values.filter(bool) if key == mandatory else values)
        out.append((key, spelled, value))
    return out


def _option_text(
    draw: st.DrawFn, name: str, pairs: list[tuple[str, str, str]], default_key: str | None
) -> str:
    if default_key is not None and pairs and pairs[0][0] == default_key and draw(st.booleans()):
        rest = "".join(f",{s}={v}" for _, s, v in pairs[1:])
        return f"@{name}={pairs[0][2]}{rest}"
    return f"@{name}:" + ",".join(f"{s}={v}" for _, s, v in pairs)


share_values = st.one_of(
    st.text(st.sampled_from(IDENT + ".:+#"), min_size=1, max_size=10)
    .map(lambda n: "netmap:" + n)
    .filter(lambda v: not v.startswith("netmap:vale")),
    st.tuples(
        st.text(st.sampled_from(IDENT), max_size=4),
        st.text(st.sampled_from(IDENT), min_size=1, max_size=8),
    ).map(lambda t: f"vale{t[0]}:{t[1]}"),
)


@st.composite
def options_part(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    chunks: list[str] = []
    result: dict[str, object] = {"conf": (), "share": None, "extmem": None, "offset": None}
    if draw(st.booleans()):
        share = draw(share_values)
        chunks.append(_option_text(draw, "share", [("port", "port", share)], "port"))
        result["share"] = share
    if draw(st.booleans()):
        pairs = _keyed(
            draw,
            CONF_KEYS,
            None,
            st.text(VALUE_CHARS, max_size=6) | st.integers(-5, 70000).map(str),
        )
        if pairs:
            chunks.append(_option_text(draw, "conf", pairs, None))
            result["conf"] = tuple((k, v) for k, _, v in pairs)
    for name, default in (("extmem", "file"), ("offset", "initial")):
        if draw(st.booleans()):
            pairs = _keyed(draw, OPTION_KEYS[name], default, st.text(VALUE_CHARS, max_size=8))
            chunks.append(_option_text(draw, name, pairs, default))
            result[name] = tuple((k, v) for k, _, v in pairs)
    order = draw(st.permutations(range(len(chunks))))
    return "".join(chunks[i] for i in order), result


@st.composite
def built_specs(draw: st.DrawFn) -> Built:
    text, subsys, name, pipe_end, pipe_id = draw(header())
    mtext, mode, ring = draw(mode_part())
    ftext, flags, mem_id = draw(flags_memid())
    otext, opts = draw(options_part())
    return Built(
        text=text + mtext + ftext + otext,
        subsys=subsys,
        name=name,
        pipe_end=pipe_end,
        pipe_id=pipe_id,
        mode=mode,
        ring=ring,
        flags=flags,
        mem_id=mem_id,
        conf=opts["conf"],
        share=opts["share"],
        extmem=opts["extmem"],  # type: ignore[arg-type]
        offset=opts["offset"],  # type: ignore[arg-type]
    )


def _expected(b: Built) -> PortSpec:
    return PortSpec(
        subsys=b.subsys,
        name=b.name,
        pipe_end=b.pipe_end,
        pipe_id=b.pipe_id,
        mode=b.mode,
        ring=b.ring,
        flags=b.flags,
        mem_id=b.mem_id,
        conf=b.conf,
        share=b.share,
        extmem=b.extmem,
        offset=b.offset,
    )


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(built_specs())
def test_roundtrip(b: Built) -> None:
    spec = parse_port(b.text, strict=True, enabled_options=ENABLED)
    assert spec == _expected(b)
    assert spec.text == b.text
    canonical = str(spec)
    again = parse_port(canonical, strict=True, enabled_options=ENABLED)
    assert again == spec
    assert str(parse_port(canonical, enabled_options=ENABLED)) == canonical
    assert again.nr_name == spec.nr_name
    assert again.nr_flags == spec.nr_flags
    assert again.ring_config() == spec.ring_config()


@settings(max_examples=150, deadline=None)
@given(
    st.text(NAME_CHARS, min_size=1, max_size=20).filter(
        lambda n: not n.startswith(("netmap", "vale")) and _nbytes(n) <= 63
    ),
    mode_part(),
    flags_memid(),
)
def test_bare_names_roundtrip(
    name: str, mode: tuple[str, Mode, int | None], fm: tuple[str, str, int | None]
) -> None:
    text = name + mode[0] + fm[0]
    spec = parse_port(text)
    assert spec == parse_port("netmap:" + text, strict=True)
    assert (spec.subsys, spec.name, spec.mode, spec.ring, spec.flags, spec.mem_id) == (
        "netmap",
        name,
        mode[1],
        mode[2],
        fm[1],
        fm[2],
    )
    assert str(spec).startswith("netmap:")
    assert parse_port(str(spec), strict=True) == spec
    assert str(parse_port(str(spec))) == str(spec)

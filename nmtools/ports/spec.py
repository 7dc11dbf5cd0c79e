"""Parser for netmap port names (libnetmap ``nmport_parse`` grammar).

A port specification names a netmap port together with the way it is bound::

    portspec    ::= subsys ':' vpname [mode] [flags-memid]* [options]
    subsys      ::= "netmap"            -- "netmap:" is stripped from the kernel name (nr_name)
                  | "vale" ident         -- ident = [A-Za-z0-9_]* (may be empty); kept in nr_name
    vpname      ::= base [('{' | '}') pipeid]
                                         -- ends at the first char of "-*^/@" or at the end;
                                         -- the first '{' (master) or '}' (slave) splits
    pipeid      ::= [A-Za-z0-9_]+
    mode        ::= '^' [N]              -- SW (all host rings) / ONE_SW (host ring N)
                  | '*'                  -- NIC_SW (hw + host rings)
                  | '-' N                -- ONE_NIC (hw ring pair N)
                  | (nothing)            -- ALL_NIC
    N           ::= decimal, 0 <= N < 4095
    flags-memid ::= '/' flag+ | '@' memid   -- in any order and number
    flag        ::= x (EXCLUSIVE) | z (ZCOPY_MON) | t (MONITOR_TX) | r (MONITOR_RX)
                  | R (RX_RINGS_ONLY) | T (TX_RINGS_ONLY)          -- repeats allowed
    memid       ::= decimal in 1..65535     -- repeating the same value is allowed
    options     ::= ('@' option)+           -- start at the first '@' not followed by a digit
    option      ::= name '=' value [',' key '=' value]*   -- value for the default key
                  | name ':' key '=' value (',' key '=' value)*

Options: ``share`` (default key ``port``, mandatory), ``conf`` (no default key; keys in
:data:`CONF_KEYS`), ``extmem`` (default/mandatory key ``file``; ``if_num``, ``if_size``,
``ring_num``, ``ring_size``, ``buf_num``, ``buf_size``) and ``offset`` (default/mandatory key
``initial``; ``bits``; disabled unless enabled explicitly).  Values run to the next ``@`` or
``,``; ``-`` in key names is read as ``_``.  Repeating an option merges its keys (a key given
twice is a duplicate).  An empty key value means "unset".

nr_name (the name sent to the kernel) is ``base{pipe`` for ``netmap:`` and the whole
``valeX:base{pipe`` for VALE; it must be 1..63 bytes long.

Errors are raised as :class:`~nmtools.errors.PortSpecError` with libnetmap's message texts.
Messages of the header stage (subsystem, port and pipe names) are prefixed by the whole spec
and ``": "``; messages of the mode, flag and option stages are not.

This module only parses: checks that need ``/dev/netmap`` (the memory id of an ``@share``
port, opening an ``@extmem`` file, registering the port) are done by whoever opens the port.
"""

from __future__ import annotations

import enum
import errno
import string
from dataclasses import dataclass, field

from nmtools.errors import PortSpecError, printable

__all__ = [
    "CONF_KEYS",
    "FLAG_BITS",
    "FLAG_ORDER",
    "IFNAMSIZ",
    "NETMAP_REQ_IFNAMSIZ",
    "NETMAP_RING_MASK",
    "OPTION_KEYS",
    "Mode",
    "PortSpec",
    "parse_port",
]


class Mode(enum.Enum):
    """Register mode (``nr_mode``); the values are netmap's ``NR_REG_*`` numbers."""

    ALL_NIC = 1
    SW = 2
    NIC_SW = 3
    ONE_NIC = 4
    ONE_SW = 8


#: Flag characters and the ``nr_flags`` bit each one sets.
FLAG_BITS: dict[str, int] = {
    "x": 0x800,  # NR_EXCLUSIVE
    "z": 0x400,  # NR_ZCOPY_MON
    "t": 0x100,  # NR_MONITOR_TX
    "r": 0x200,  # NR_MONITOR_RX
    "R": 0x2000,  # NR_RX_RINGS_ONLY
    "T": 0x4000,  # NR_TX_RINGS_ONLY
}
#: Canonical order of the flag characters in :attr:`PortSpec.flags`.
FLAG_ORDER = "xztrRT"

#: Keys accepted by the ``@conf`` option.
CONF_KEYS: tuple[str, ...] = (
    "rings",
    "host_rings",
    "slots",
    "tx_rings",
    "rx_rings",
    "host_tx_rings",
    "host_rx_rings",
    "tx_slots",
    "rx_slots",
)

#: Keys accepted by each option.
OPTION_KEYS: dict[str, tuple[str, ...]] = {
    "share": ("port",),
    "conf": CONF_KEYS,
    "extmem": ("file", "if_num", "if_size", "ring_num", "ring_size", "buf_num", "buf_size"),
    "offset": ("initial", "bits"),
}

NETMAP_RING_MASK = 0x0FFF  # ring ids must be < 4095
NETMAP_REQ_IFNAMSIZ = 64  # size of nr_name, NUL included
IFNAMSIZ = 16  # VALE switch and port names, NUL included
_MAX_MEM_ID = 0xFFFF  # nr_mem_id is a u16

_MODE_SEPARATORS = frozenset("-*^/@")
_DIGITS = frozenset("0123456789")
_IDENT_CHARS = frozenset(string.ascii_letters + string.digits + "_")
_C_SPACE = " \t\n\v\f\r"


@dataclass(frozen=True)
class _OptionDef:
    keys: tuple[str, ...]
    default_key: str | None
    mandatory: tuple[str, ...]
    enabled_by_default: bool = True


_OPTIONS: dict[str, _OptionDef] = {
    "share": _OptionDef(OPTION_KEYS["share"], "port", ("port",)),
    "conf": _OptionDef(OPTION_KEYS["conf"], None, ()),
    "extmem": _OptionDef(OPTION_KEYS["extmem"], "file", ("file",)),
    "offset": _OptionDef(OPTION_KEYS["offset"], "initial", ("initial",), enabled_by_default=False),
}

# (generic key, specific keys, field mask) for PortSpec.ring_config()
_CONF_GROUPS: tuple[tuple[str, tuple[str, str], int], ...] = (
    ("rings", ("tx_rings", "rx_rings"), 0xFFFF),
    ("slots", ("tx_slots", "rx_slots"), 0xFFFFFFFF),
    ("host_rings", ("host_tx_rings", "host_rx_rings"), 0xFFFF),
)

KeyValues = tuple[tuple[str, str], ...]


def _is_ident(text: str) -> bool:
    """True if text is made only of ASCII ``[A-Za-z0-9_]`` (the empty string included)."""
    return all(c in _IDENT_CHARS for c in text)


def _atoi(text: str) -> int:
    """C ``atoi`` (as glibc's ``strtol``): leading space, sign, digits; garbage gives 0."""
    i, n = 0, len(text)
    while i < n and text[i] in _C_SPACE:
        i += 1
    negative = False
    if i < n and text[i] in "+-":
        negative = text[i] == "-"
        i += 1
    j = i
    while j < n and text[j] in _DIGITS:
        j += 1
    digits = text[i:j].lstrip("0")
    if not digits:
        return 0
    if len(digits) > 19:  # saturate like strtol (and avoid huge int conversions)
        return -(2**63) if negative else 2**63 - 1
    value = -int(digits) if negative else int(digits)
    return max(-(2**63), min(2**63 - 1, value))


def _nbytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class PortSpec:
    """A parsed port specification.  ``str(spec)`` gives canonical text that parses back
    (also with ``strict=True``) to an equal object."""

    subsys: str
    name: str
    pipe_end: str | None = None
    pipe_id: str | None = None
    mode: Mode = Mode.ALL_NIC
    ring: int | None = None
    flags: str = ""
    mem_id: int | None = None
    conf: KeyValues = ()
    share: str | None = None
    extmem: KeyValues | None = None
    offset: KeyValues | None = None
    text: str = field(default="", compare=False)

    # -- derived values ------------------------------------------------------------------
    @property
    def is_vale(self) -> bool:
        return self.subsys.startswith("vale")

    @property
    def is_pipe(self) -> bool:
        return self.pipe_end is not None

    @property
    def is_host(self) -> bool:
        return self.mode in (Mode.SW, Mode.ONE_SW, Mode.NIC_SW)

    @property
    def tx_only(self) -> bool:
        return "T" in self.flags

    @property
    def rx_only(self) -> bool:
        return "R" in self.flags

    @property
    def is_monitor(self) -> bool:
        return any(c in self.flags for c in "trz")

    @property
    def pipe_suffix(self) -> str:
        """``{id`` / ``}id`` or the empty string."""
        if self.pipe_end is None:
            return ""
        return f"{self.pipe_end}{self.pipe_id or ''}"

    @property
    def nr_name(self) -> str:
        """The name libnetmap puts in ``nmreq_header.nr_name``."""
        if self.is_vale:
            return f"{self.subsys}:{self.name}{self.pipe_suffix}"
        return f"{self.name}{self.pipe_suffix}"

    @property
    def nr_flags(self) -> int:
        value = 0
        for c in self.flags:
            value |= FLAG_BITS[c]
        return value

    @property
    def mode_suffix(self) -> str:
        """The mode part of the canonical text (``""``, ``^``, ``^N``, ``*``, ``-N``)."""
        if self.mode is Mode.SW:
            return "^"
        if self.mode is Mode.ONE_SW:
            return f"^{self.ring}"
        if self.mode is Mode.NIC_SW:
            return "*"
        if self.mode is Mode.ONE_NIC:
            return f"-{self.ring}"
        return ""

    def ring_config(self) -> dict[str, int]:
        """Effective ring/slot counts requested with ``@conf``.

        Keys (only those that are set): ``tx_rings``, ``rx_rings``, ``tx_slots``,
        ``rx_slots``, ``host_tx_rings``, ``host_rx_rings``.  Generic keys (``rings``,
        ``slots``, ``host_rings``) are applied first and specific keys override them, whatever
        the order in the text.  Values are converted as libnetmap does (``atoi``, then stored
        in the u16 ring / u32 slot fields of ``nmreq_register``): ``"abc"`` gives 0,
        ``"-1"`` gives 65535 rings; an empty value means "unset".
        """
        given = {k: v for k, v in self.conf if v != ""}
        result: dict[str, int] = {}
        for generic, specifics, mask in _CONF_GROUPS:
            for key in specifics:
                raw = given.get(key, given.get(generic))
                if raw is not None:
                    result[key] = _atoi(raw) & mask
        return result

    def __str__(self) -> str:
        parts = [f"{self.subsys}:{self.name}", self.pipe_suffix, self.mode_suffix]
        if self.flags:
            parts.append(f"/{self.flags}")
        if self.mem_id is not None:
            parts.append(f"@{self.mem_id}")
        if self.share is not None:
            parts.append(f"@share={self.share}")
        for opt, pairs in (
            ("conf", self.conf or None),
            ("extmem", self.extmem),
            ("offset", self.offset),
        ):
            if pairs:
                parts.append(f"@{opt}:" + ",".join(f"{k}={v}" for k, v in pairs))
        return "".join(parts)


# -- header stage (subsystem, port name, pipe) ----------------------------------------------


@dataclass
class _Header:
    subsys: str
    name: str
    pipe_end: str | None
    pipe_id: str | None
    rest: str


def _decode_header(spec: str) -> _Header:
    def fail(message: str) -> PortSpecError:
        return PortSpecError(f"{spec}: {message}")

    if spec.startswith("netmap"):
        prefix, is_vale = "netmap", False
    elif spec.startswith("vale"):
        prefix, is_vale = "vale", True
    else:
        raise fail("invalid request, prefix unknown or missing")
    colon = spec.find(":", len(prefix))
    if colon < 0:
        raise fail("missing ':'")
    ident = spec[len(prefix) : colon]
    if not is_vale and ident:
        raise fail("no identifier allowed between 'netmap' and ':'")
    if not _is_ident(ident):
        raise fail(f"invalid identifier '{ident}'")

    start = end = colon + 1
    while end < len(spec) and spec[end] not in _MODE_SEPARATORS:
        end += 1
    vpname = spec[start:end]
    if not vpname:
        raise fail("invalid empty port name")
    base, pipe_end, pipe_id = vpname, None, None
    for i, c in enumerate(vpname):
        if c in "{}":
            base, pipe_end, pipe_id = vpname[:i], c, vpname[i + 1 :]
            break
    if pipe_id is not None:
        if not pipe_id:
            raise fail("invalid empty pipe name")
        if not _is_ident(pipe_id):
            raise fail(f"invalid pipe name '{pipe_id}'")
    if not base:
        raise fail("invalid empty port name")

    nr_name = spec[:end] if is_vale else vpname
    if _nbytes(nr_name) >= NETMAP_REQ_IFNAMSIZ:
        raise PortSpecError(f"name '{nr_name}' too long")

    subsys = spec[:colon] if is_vale else "netmap"
    if not is_vale and base.startswith("vale") and ":" in base:
        # "netmap:vale0:1": the kernel sees nr_name "vale0:1", i.e. a VALE port.
        vcolon = base.index(":")
        vident = base[4:vcolon]
        if not _is_ident(vident):
            raise fail(f"invalid identifier '{vident}'")
        subsys, base, is_vale = base[:vcolon], base[vcolon + 1 :], True
        if not base:
            raise fail("invalid empty port name")
    if is_vale and (_nbytes(subsys) >= IFNAMSIZ or _nbytes(base) >= IFNAMSIZ):
        raise PortSpecError(
            f"vale name '{subsys}:{base}' too long "
            f"(switch and port names are at most {IFNAMSIZ - 1} characters)"
        )
    return _Header(subsys, base, pipe_end, pipe_id, spec[end:])


# -- register stage (mode, flags, mem_id) ---------------------------------------------------


def _parse_ring(rest: str, i: int) -> tuple[int, int]:
    """Parse the decimal ring id starting at rest[i] (a digit); return (ring, next index)."""
    j = i
    while j < len(rest) and rest[j] in _DIGITS:
        j += 1
    digits = rest[i:j]
    stripped = digits.lstrip("0") or "0"
    if len(stripped) > 4 or int(stripped) >= NETMAP_RING_MASK:
        raise PortSpecError(f"'{digits}' out of range [0, {NETMAP_RING_MASK})")
    return int(stripped), j


@dataclass
class _Register:
    mode: Mode
    ring: int | None
    flags: str
    mem_id: int | None
    options_at: int  # index of the '@' starting the options, or len(rest)


def _decode_register(rest: str) -> _Register:
    n = len(rest)
    i = 0
    mode, ring = Mode.ALL_NIC, None
    if i < n and rest[i] == "^":
        i += 1
        if i < n and rest[i] in _DIGITS:
            mode = Mode.ONE_SW
            ring, i = _parse_ring(rest, i)
        else:
            mode = Mode.SW
    elif i < n and rest[i] == "*":
        mode = Mode.NIC_SW
        i += 1
    elif i < n and rest[i] == "-":
        i += 1
        if i >= n:
            raise PortSpecError("unexpected end of request")
        if rest[i] not in _DIGITS:
            raise PortSpecError(f"got '{rest[i]}' while expecting a number")
        mode = Mode.ONE_NIC
        ring, i = _parse_ring(rest, i)

    flags: set[str] = set()
    mem_id: int | None = None
    while i < n:
        c = rest[i]
        if c == "/":
            i += 1
            if i >= n:
                raise PortSpecError("unexpected end of request")
            first = True
            while i < n and (first or rest[i] not in "/@"):
                if rest[i] not in FLAG_BITS:
                    raise PortSpecError(f"unrecognized flag: '{rest[i]}'")
                flags.add(rest[i])
                first = False
                i += 1
        elif c == "@":
            if i + 1 >= n:
                raise PortSpecError("invalid empty mem_id")
            if rest[i + 1] not in _DIGITS:
                break  # the options start here
            j = i + 1
            while j < n and rest[j] in _DIGITS:
                j += 1
            digits = rest[i + 1 : j]
            stripped = digits.lstrip("0")
            if not stripped or len(stripped) > 5 or int(stripped) > _MAX_MEM_ID:
                raise PortSpecError(f"invalid mem_id: '{digits}'")
            value = int(stripped)
            if mem_id is not None and mem_id != value:
                raise PortSpecError(
                    f"invalid setting of mem_id to {value} (already set to {mem_id})"
                )
            mem_id = value
            i = j
        else:
            raise PortSpecError(f"unexpected character: '{c}'")
    canonical_flags = "".join(c for c in FLAG_ORDER if c in flags)
    return _Register(mode, ring, canonical_flags, mem_id, i)


# -- option stage ---------------------------------------------------------------------------


def _set_key(option: str, pairs: list[tuple[str, str]], key: str, value: str) -> None:
    for k, v in pairs:
        if k == key:
            raise PortSpecError(f"option '{option}': duplicate key '{key}', already set to '{v}'")
    pairs.append((key, value))


def _scan(text: str, i: int, stops: str) -> int:
    while i < len(text) and text[i] not in stops:
        i += 1
    return i


def _decode_options(rest: str, i: int, enabled: frozenset[str]) -> dict[str, list[tuple[str, str]]]:
    """Parse ``('@' option)+`` starting at rest[i] == '@'; return option -> [(key, value)]."""
    n = len(rest)
    options: dict[str, list[tuple[str, str]]] = {}
    while i < n:
        i += 1  # skip '@'
        j = _scan(rest, i, "=:@")
        name = rest[i:j]
        if not name:
            raise PortSpecError("invalid empty option")
        odef = _OPTIONS.get(name)
        if odef is None:
            raise PortSpecError(f"unknown option: '{name}'")
        if not odef.enabled_by_default and name not in enabled:
            raise PortSpecError(f"option '{name}' is not supported", errno_=errno.EOPNOTSUPP)
        if j >= n or rest[j] == "@":
            raise PortSpecError(f"syntax error: missing body after '{name}'")
        pairs = options.setdefault(name, [])
        i = j + 1
        if rest[j] == "=":
            if odef.default_key is None:
                raise PortSpecError(f"syntax error: '=' not valid after '{name}'")
            j = _scan(rest, i, "@,")
            if j == i:
                raise PortSpecError(f"missing value for option '{name}'")
            _set_key(name, pairs, odef.default_key, rest[i:j])
            i = j
            if i >= n or rest[i] == "@":
                continue
            i += 1  # ',' : more key=value pairs follow
        while True:
            j = _scan(rest, i, "=,@")
            raw_key = rest[i:j]
            key = raw_key.replace("-", "_")
            if key not in odef.keys:
                raise PortSpecError(f"unknown key: '{raw_key}'")
            if j >= n or rest[j] != "=":
                raise PortSpecError(f"option '{name}': missing '=value' for key '{key}'")
            i = j + 1
            j = _scan(rest, i, "@,")
            _set_key(name, pairs, key, rest[i:j])
            i = j
            if i < n and rest[i] == ",":
                i += 1
                continue
            break
    for name, pairs in options.items():
        values = dict(pairs)
        for key in _OPTIONS[name].mandatory:
            if not values.get(key):
                raise PortSpecError(f"option '{name}': mandatory key '{key}' not assigned")
    return options


# -- entry point ----------------------------------------------------------------------------


def parse_port(
    text: str, *, strict: bool = False, enabled_options: frozenset[str] = frozenset()
) -> PortSpec:
    """Parse a netmap port specification.

    ``strict=True`` follows libnetmap: the text must start with ``netmap`` or ``vale``
    (``eth0`` gives ``eth0: invalid request, prefix unknown or missing``).

    ``strict=False`` (the default, what the tools use) first does what pkt-gen does: a text
    that starts with neither ``netmap`` nor ``vale`` gets ``netmap:`` prepended, so ``eth0``,
    ``eth0-1``, ``foo{1`` and ``null`` are NIC / pipe names.  Unlike pkt-gen, any text
    starting with ``netmap`` is left alone, so ``netmap`` still gives ``netmap: missing ':'``
    and ``netmapX:eth0`` the "no identifier allowed" error instead of naming an interface.
    Header-stage error messages then quote the text with the ``netmap:`` added.  The empty
    string gives ``invalid empty port name``.

    Other decisions where the reference is silent:

    * ``netmap:`` followed by ``valeX:port`` is the VALE port ``valeX:port`` (the kernel sees
      that nr_name); it gets the VALE checks and ``str()`` gives ``valeX:port``.
      ``netmap:vale0`` (no ``:``) stays a netmap name (the kernel rejects it).
    * VALE switch and port names longer than 15 bytes give ``vale name '...' too long (...)``
      in both modes (libnetmap leaves that to the kernel, which fails with EINVAL).
    * An empty pipe id (``eth0{``, ``eth0{-1``) gives ``invalid empty pipe name``; an empty
      name before the pipe (``netmap:{1``) gives ``invalid empty port name``.
    * Lengths are counted in UTF-8 bytes; a NUL character is rejected; whitespace is kept
      as part of the name.
    * ``/`` must be followed by at least one flag; ``eth0/x/R`` is accepted.
    * ``mem_id`` must be 1..65535 (``invalid mem_id: '...'`` otherwise).
    * A repeated option merges its keys: ``@conf:rings=1@conf:slots=2`` is one ``conf``
      and ``@conf:rings=1@conf:rings=2`` a duplicate key.
    * ``@share=VALUE``: VALUE must itself parse as a strict port name (errors are those of
      that parse).  Resolving its mem_id needs ``/dev/netmap`` and is not done here.
    * Names are text: a byte that was not UTF-8 (``sys.argv`` holds it as a surrogate escape)
      or a lone surrogate is an error (``not UTF-8 text``), as it could not reach the
      kernel or a file name.  Messages show control characters escaped (``\\x1b``), so
      printing one cannot drive the terminal.
    * A ``-`` followed by a letter (``does-not-exist``) keeps libnetmap's message and gets
      :attr:`~nmtools.errors.PortSpecError.hint`: in netmap names ``-`` starts a ring
      number, so an interface name cannot contain one.
    """
    if not isinstance(text, str):
        raise TypeError(f"port name must be a str, not {type(text).__name__}")
    try:
        return _parse_port(text, strict, enabled_options)
    except PortSpecError as e:
        if e.message.isprintable() and e.hint.isprintable():
            raise
        raise PortSpecError(printable(e.message), e.errno, printable(e.hint)) from None


def _not_text(text: str) -> str | None:
    """Why `text` cannot be encoded as UTF-8 (None when it can)."""
    for c in text:
        n = ord(c)
        if 0xDC80 <= n <= 0xDCFF:
            return f"byte 0x{n - 0xDC00:02x} is not UTF-8 text (port names are UTF-8)"
        if 0xD800 <= n <= 0xDFFF:
            return f"lone surrogate U+{n:04X} is not text (port names are UTF-8)"
    return None


def _dash_hint(header: _Header) -> str:
    """What to say when a '-' in a name is followed by something other than a ring number."""
    rest = header.rest
    if len(rest) < 2 or rest[0] != "-" or rest[1] in _DIGITS:
        return ""
    end = 0
    while end < len(rest) and rest[end] not in "*^/@":
        end += 1
    typed = header.name + rest[:end]
    rule = (
        "in netmap names '-' starts a ring number (eth0-1 is queue 1 of eth0), so a name "
        "cannot contain '-'"
    )
    if header.pipe_end is not None:
        return f"{rule} (the pipe is {header.name}{header.pipe_end}{header.pipe_id})"
    if header.subsys.startswith("vale"):
        return rule
    fixed = typed.replace("-", "_")
    if "{" in typed or "}" in typed:  # a pipe whose name has a '-'
        return f"{rule}: the pipe could be netmap:{fixed}"
    return (
        f"{rule} (as in netmap): rename the interface, e.g. ip link set dev {typed} "
        f"name {fixed}, and open {fixed}"
    )


def _parse_port(text: str, strict: bool, enabled_options: frozenset[str]) -> PortSpec:
    if "\x00" in text:
        raise PortSpecError(f"{text!r}: NUL character in port name")
    why = _not_text(text)
    if why is not None:
        raise PortSpecError(f"{printable(text)}: {why}")
    spec = text
    if not strict:
        if not text:
            raise PortSpecError("invalid empty port name")
        if not text.startswith(("netmap", "vale")):
            spec = "netmap:" + text
    header = _decode_header(spec)
    try:
        reg = _decode_register(header.rest)
    except PortSpecError as e:
        hint = _dash_hint(header)
        if not hint:
            raise
        raise PortSpecError(e.message, e.errno, hint) from None
    options = _decode_options(header.rest, reg.options_at, enabled_options)

    share: str | None = None
    if "share" in options:
        share = dict(options["share"])["port"]
        parse_port(share, strict=True)
    extmem = tuple(options["extmem"]) if "extmem" in options else None
    offset = tuple(options["offset"]) if "offset" in options else None
    return PortSpec(
        subsys=header.subsys,
        name=header.name,
        pipe_end=header.pipe_end,
        pipe_id=header.pipe_id,
        mode=reg.mode,
        ring=reg.ring,
        flags=reg.flags,
        mem_id=reg.mem_id,
        conf=tuple(options.get("conf", ())),
        share=share,
        extmem=extmem,
        offset=offset,
        text=text,
    )

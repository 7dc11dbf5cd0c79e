"""ARCHITECTURE.md is the map of the code: every module it names exists, and every module
that exists is on it (so moving or adding a file without updating the map fails here)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "nmtools"
MAP = (ROOT / "ARCHITECTURE.md").read_text()

# `ports/workers.py`, `pace.{c,h}`, `shm.c`: what the page names in backquotes
NAMED = re.compile(r"`([\w/]+)\.(\{c,h\}|py|c|h)`")


def _named() -> set[str]:
    out = set()
    for stem, ext in NAMED.findall(MAP):
        for e in ("c", "h") if ext == "{c,h}" else (ext,):
            out.add(f"{stem}.{e}")
    return out


def _exists(name: str) -> bool:
    """A name relative to nmtools/, nmtools/native/ or nmtools/<subpackage>/."""
    return any(p.is_file() for p in (PKG / name, PKG / "native" / name)) or any(
        (d / name).is_file() for d in PKG.iterdir() if d.is_dir()
    )


def test_every_module_the_map_names_exists():
    missing = sorted(n for n in _named() if not _exists(n))
    assert not missing, f"ARCHITECTURE.md names files that do not exist: {missing}"


def test_every_module_is_on_the_map():
    named = _named()
    leaves = {n.rsplit("/", 1)[-1] for n in named}
    unmapped = []
    for f in sorted(PKG.rglob("*")):
        if f.suffix not in (".py", ".c", ".h") or f.name == "__main__.py" or "bin" in f.parts:
            continue
        rel = f.relative_to(PKG).as_posix()
        if f.name == "__init__.py":
            continue  # a package is mapped through its modules
        short = rel.split("/", 1)[1] if rel.startswith("native/") else rel
        if rel not in named and short not in named and f.name not in leaves:
            unmapped.append(rel)
    assert not unmapped, f"modules missing from ARCHITECTURE.md: {unmapped}"

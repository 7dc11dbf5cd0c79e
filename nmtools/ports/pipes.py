"""Where pipes live in shared memory, and listing (and reaping) them."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from nmtools._bindings import ffi, lib

SHM_ENV = "NMTOOLS_SHM_DIR"
_SAFE = re.compile(r"[A-Za-z0-9_.\-]")


def shm_dir() -> Path:
    return Path(os.environ.get(SHM_ENV) or "/dev/shm")


def _escape(text: str) -> str:
    return "".join(c if _SAFE.fullmatch(c) else f"%{ord(c):02X}" for c in text)


def _unescape(text: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), text)


def _prefix() -> str:
    return f"nmt-{os.geteuid()}-pipe-"


def pipe_path(parent: str, pipe_id: str) -> Path:
    """The shared-memory file of pipe `pipe_id` of `parent` (both ends use it)."""
    return shm_dir() / f"{_prefix()}{_escape(parent)}@{pipe_id}"


@dataclass(frozen=True)
class PipeInfo:
    name: str  # "netmap:parent{id"
    path: str
    rings: int
    slots: int
    buf_size: int
    size: int
    pids: tuple[int, int]  # master, slave; 0 = closed
    alive: tuple[bool, bool]


def list_pipes(reap: bool = True) -> list[PipeInfo]:
    """The pipes of this user. With reap, pipes whose ends are all gone are removed."""
    out: list[PipeInfo] = []
    base = shm_dir()
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return out
    for fname in names:
        if not fname.startswith(_prefix()) or ".fifo" in fname:
            continue
        parent, _, pid = fname[len(_prefix()) :].rpartition("@")
        info = ffi.new("struct nmt_pipe_info *")
        err = ffi.new("char[]", 320)
        path = str(base / fname)
        if lib.nmt_pipe_probe(path.encode(), info, 1 if reap else 0, err, 320) < 0:
            continue
        alive = (bool(info.alive[0]), bool(info.alive[1]))
        if reap and not any(alive):
            continue
        out.append(
            PipeInfo(
                name=f"netmap:{_unescape(parent)}{{{pid}",
                path=path,
                rings=info.rings,
                slots=info.slots,
                buf_size=info.buf_size,
                size=info.size,
                pids=(info.pid[0], info.pid[1]),
                alive=alive,
            )
        )
        del err
    return out

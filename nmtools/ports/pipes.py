"""Where pipes live in shared memory, and listing (and reaping) them.

Each user's pipes are in a directory of their own that no other user can make, fill, swap
or empty, so nobody can plant a link or a file where a pipe will be made, nor block it:

- ``$NMTOOLS_SHM_DIR`` when set, as given;
- else ``/dev/shm/nmt-<euid>`` (memory, not disk), made mode 0700 on first use and checked
  (a directory, not a link, owned by the user, writable by nobody else) every time;
- if another user took that name first, a fallback that only the user (or root) can create:
  ``/run/nmtools`` for root, ``/run/user/<uid>/nmtools`` for others (their login runtime
  directory). Once a fallback exists it is used from then on, whatever happens to the
  squatter's directory, so both ends of a pipe find the same place;
- with no fallback, one line that names the squatter.

Tests move the two system places with ``NMTOOLS_SHM_BASE`` (default ``/dev/shm``) and
``NMTOOLS_RUN_BASE`` (default ``/run``), so that they can stage another user's squatting
without touching the machine's own directories.

File names encode the pipe's parent name (any text) injectively: the bytes of its UTF-8
form, with every byte outside ``[A-Za-z0-9_.-]`` as ``%XX``.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from nmtools._bindings import ffi, lib
from nmtools.errors import NmError, NmPermissionError, PortSpecError

SHM_ENV = "NMTOOLS_SHM_DIR"
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_HEX = "0123456789ABCDEF"
FIFO_TAIL = ".fifo1.63"  # the longest doorbell suffix the C side appends (pipe.c)
PATH_MAX_BYTES = 255  # struct nmt_open_req.path


def _escape(text: str) -> str:
    """Injective: distinct texts give distinct names (surrogates kept, not merged)."""
    return "".join(
        chr(b) if b in _SAFE else f"%{b:02X}" for b in text.encode("utf-8", "surrogatepass")
    )


def _unescape(name: str) -> str | None:
    """The text _escape made `name` from, or None if _escape makes no such name."""
    out = bytearray()
    i = 0
    while i < len(name):
        c = name[i]
        if c == "%":
            hx = name[i + 1 : i + 3]
            if len(hx) != 2 or any(h not in _HEX for h in hx):
                return None
            out.append(int(hx, 16))
            i += 3
        elif ord(c) < 128 and ord(c) in _SAFE:
            out.append(ord(c))
            i += 1
        else:
            return None
    try:
        text = out.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None
    return text if _escape(text) == name else None


def _prefix() -> str:
    return f"nmt-{os.geteuid()}-pipe-"


def _owner(path: Path) -> str:
    try:
        return f"uid {os.lstat(path).st_uid}"
    except OSError:
        return "someone else"


def _own_dir(path: Path, create: bool) -> str:
    """'' when `path` is a directory of ours that nobody else can write (made 0700 if
    `create`), else why it is not."""
    if create:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError as e:
            return f"{path}: cannot make it: {e.strerror}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return f"{path} does not exist"
    except OSError:
        return f"{path} is not a directory of yours but a file or link of {_owner(path)}"
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            return f"{path} belongs to uid {st.st_uid}"
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.fchmod(fd, 0o700)  # ours: nobody else may list or write it
    finally:
        os.close(fd)
    return ""


def _fallback() -> Path | None:
    """A place only this user (or root) can create: the parent is theirs or root's and
    writable by nobody else."""
    euid = os.geteuid()
    run = Path(os.environ.get("NMTOOLS_RUN_BASE") or "/run")
    parent = run if euid == 0 else run / "user" / str(euid)
    try:
        st = os.stat(parent)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid not in (0, euid) or st.st_mode & 0o022:
        return None
    return parent / "nmtools"


def shm_dir(create: bool = True) -> Path:
    """The directory of this user's pipes (made when `create`). Raises NmError (one line)
    when there is none that is safe."""
    env = os.environ.get(SHM_ENV)
    if env:
        return Path(env)
    fb = _fallback()
    if fb is not None and not _own_dir(fb, create=False):
        return fb  # squatted once: stay here
    main = Path(os.environ.get("NMTOOLS_SHM_BASE") or "/dev/shm") / f"nmt-{os.geteuid()}"
    why = _own_dir(main, create)
    if not why:
        return main
    if fb is not None and create and not _own_dir(fb, create=True):
        return fb
    if not create and not os.path.lexists(main):
        raise NmError(f"{main} does not exist (no pipes yet)", errno.ENOENT)
    raise NmPermissionError(
        f"pipes cannot be made: {why}, not you (uid {os.geteuid()}); ask its owner to "
        f"remove it, or set {SHM_ENV} to a directory of your own",
        errno.EACCES,
    )


def pipe_path(parent: str, pipe_id: str) -> Path:
    """The shared-memory file of pipe `pipe_id` of `parent` (both ends use it)."""
    path = shm_dir() / f"{_prefix()}{_escape(parent)}@{pipe_id}"
    if len(os.fsencode(path)) + len(FIFO_TAIL) > PATH_MAX_BYTES:
        raise PortSpecError(
            f"{path}: too long for a pipe's file (at most {PATH_MAX_BYTES - len(FIFO_TAIL)} "
            f"bytes); use a shorter name or {SHM_ENV}"
        )
    return path


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


def _parse(fname: str) -> tuple[str, str] | None:
    """(parent, pipe id) of one of our pipe files, or None."""
    if not fname.startswith(_prefix()) or ".fifo" in fname:
        return None
    escaped, at, pid = fname[len(_prefix()) :].rpartition("@")
    parent = _unescape(escaped) if at else None
    if parent is None or not pid:
        return None
    return parent, pid


def list_pipes(reap: bool = True) -> list[PipeInfo]:
    """The pipes of this user. With reap, pipes whose ends are all gone are removed.
    Only files of this user's, checked as pipe.c checks them, are looked into or removed."""
    out: list[PipeInfo] = []
    try:
        base = shm_dir(create=False)
        names = sorted(os.listdir(base))
    except OSError:
        return out
    for fname in names:
        parsed = _parse(fname)
        if parsed is None:
            continue
        info = ffi.new("struct nmt_pipe_info *")
        err = ffi.new("char[]", 320)
        path = str(base / fname)
        if lib.nmt_pipe_probe(os.fsencode(path), info, 1 if reap else 0, err, 320) < 0:
            continue
        alive = (bool(info.alive[0]), bool(info.alive[1]))
        if reap and not any(alive):
            continue
        out.append(
            PipeInfo(
                name=f"netmap:{parsed[0]}{{{parsed[1]}",
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

"""cffi build script: compiles nmtools/native/*.c into nmtools._native (API mode).

Run by setuptools through ``cffi_modules`` at ``pip install``; needs only gcc and the
Python headers.
"""

from __future__ import annotations

import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
SOURCES = [
    "port.c",
    "null.c",
    "shm.c",
    "pipe.c",
    "packet.c",
    "xdp.c",
    "pattern.c",
    "pace.c",
    "gen.c",
    "fwd.c",
]

ffibuilder = FFI()
ffibuilder.cdef((HERE / "nmt_cdef.h").read_text())

_extra = ["-O2", "-Wall", "-Wextra", "-std=gnu11", "-fvisibility=hidden"]
if os.environ.get("NMTOOLS_WERROR") == "1":
    _extra.append("-Werror")

ffibuilder.set_source(
    "nmtools._native",
    '#include "nmt.h"\n#include "gen.h"',
    sources=[str(Path("nmtools/native") / s) for s in SOURCES],
    include_dirs=["nmtools/native"],
    extra_compile_args=_extra,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)

#!/usr/bin/env python3
"""Write the shell completions for `nm` (bash, zsh, fish) from the click command tree.

    python completions/generate.py           # (re)write nm.bash, _nm and nm.fish
    python completions/generate.py --check   # exit 1, with a one-line summary, if stale

Run it after changing any command, option, choice or argument under `nmtools.cli`;
tests/cli/test_docs_drift.py fails until the committed files match what this writes.

The scripts themselves are rendered by nmtools.cli.completion, which `nm completion SHELL`
uses too, so an installed nm prints what this writes.

Man pages (checked by the same test): the root command is documented in ``man/nm.8``,
which lists every top-level command; each top-level command ``C`` has ``man/nm-C.8``.  A
nested command (``nm vale attach``) is documented in its top-level group's page
(``man/nm-vale.8``), not in a page of its own.  Every option name of a command (each long
and short form) must appear in its page as an mdoc flag: ``Fl -admode``, ``Fl h``.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _import_cli() -> None:
    """Describe the source tree this script lives in, not whatever nmtools is installed."""
    sys.path.insert(0, str(ROOT))
    try:
        import nmtools.cli.app  # noqa: F401
    except ImportError as e:  # the C extension is not built in place: use the installed one
        sys.path.remove(str(ROOT))
        for name in [m for m in sys.modules if m == "nmtools" or m.startswith("nmtools.")]:
            del sys.modules[name]
        import nmtools.cli.app  # noqa: F401

        print(
            f"generate.py: {e}; describing the installed nmtools ({nmtools.cli.__file__})",
            file=sys.stderr,
        )


_EXPORTS = ("SHELLS", "FILES", "HEADER", "PROG", "ALIASES", "tree", "render")


def __getattr__(name: str) -> Any:
    """SHELLS, FILES, HEADER, tree(), render() ... of nmtools.cli.completion, imported on
    first use (as a script, main() has pointed the import at the source tree first)."""
    if name in _EXPORTS:
        from nmtools.cli import completion

        return getattr(completion, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is out of date"
    )
    args = ap.parse_args(argv)
    _import_cli()
    from nmtools.cli.completion import FILES, SHELLS, render

    stale = []
    for shell in SHELLS:
        path = HERE / FILES[shell]
        new = render(shell)
        old = path.read_text() if path.exists() else None
        if old == new:
            continue
        if args.check:
            if old is None:
                stale.append(f"{FILES[shell]} (missing)")
            else:
                diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), n=0))
                plus = sum(1 for d in diff if d.startswith("+") and not d.startswith("+++"))
                minus = sum(1 for d in diff if d.startswith("-") and not d.startswith("---"))
                stale.append(f"{FILES[shell]} (+{plus} -{minus} lines)")
        else:
            path.write_text(new)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(
            "completions out of date: " + ", ".join(stale) + "; run python completions/generate.py"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

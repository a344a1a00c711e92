"""What the commands share: the errors, output paths, and outputs that need an optional library."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import graphviz

from chainrule import viz


class UsageError(Exception):
    """A bad argument: printed as one line, exit status 2."""


def out_dir(path: str) -> Path:
    """Create the output folder (and parents); an existing file there is a UsageError."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {path}: exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def output_path(out: str | None, fmt: str | None, default_stem: str) -> tuple[Path, str]:
    """The file and format for ``--out``/``--format``; they must agree when both are given."""
    if out is None:
        fmt = fmt or "svg"
        return Path(f"{default_stem}.{fmt}"), fmt
    path = Path(out)
    suffix = path.suffix.lstrip(".").lower()
    if fmt is None:
        if suffix not in ("svg", "png", "pdf", "dot"):
            raise UsageError(f"--out {out}: name a .svg, .png, .pdf or .dot file, or give --format")
        return path, suffix
    if suffix and suffix != fmt:
        raise UsageError(f"--out {out} does not match --format {fmt}")
    return (path if suffix else path.with_suffix(f".{fmt}")), fmt


class Failure(Exception):
    """The command ran and could not finish (a result that overflowed, a diverged run): exit 1."""


PLOT_NOTE = "it needs matplotlib, the plot extra (pip install chainrule[plot])"
DOT_NOTE = ("Graphviz's dot is not installed (install Graphviz, e.g. sudo apt-get install graphviz "
            "or brew install graphviz)")


def optional(path: Path, write: Callable[[], Path]) -> Path | None:
    """``write()`` a file that needs an optional library; without it, one line says what adds it."""
    try:
        return write()
    except viz.GraphvizNotFound:
        print(f"skipped {path.name}: {DOT_NOTE}")
    except ImportError:  # viz's plots import matplotlib only when they draw
        print(f"skipped {path.name}: {PLOT_NOTE}")
    return None


def render_or_source(picture: graphviz.Digraph, path: Path) -> Path:
    """Render ``picture`` to ``path``; without Graphviz's dot, write its DOT source beside it and say so."""
    try:
        return viz.render(picture, path)
    except viz.GraphvizNotFound:
        source = viz.save_source(picture, path.with_suffix(".dot"))
        print(f"skipped {path.name}: {DOT_NOTE}; wrote {source.name}")
        return source

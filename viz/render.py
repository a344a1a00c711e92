"""Running Graphviz: every ``dot`` run under a time limit, with fallbacks that say so.

A :class:`Graph` is a ``graphviz.Digraph`` (inline in Jupyter: :mod:`viz.notebook` shows a
graph too wide for a cell at full size, with a note) whose rendering runs ``dot``
itself, under :data:`TIME_LIMIT` seconds. A view may attach simpler versions of itself
(``graph.fallbacks``: edge labels as external labels, no edge labels, collapsed to neurons);
when ``dot`` takes longer than the limit the next one is tried, and each carries a note on
the picture saying what was left out and why. When none fits, a small picture says so and
how to get the full one. A missing ``dot`` raises :class:`GraphvizNotFound`, which says
how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import graphviz

from chainrule.files import write_atomic

from .checks import check_path
from .escape import dot_quote, record_text
from .notebook import graph_bundle

__all__ = ["Graph", "GraphvizNotFound", "RenderTimeout", "render", "save_source", "run_dot", "too_large",
           "TIME_LIMIT", "set_time_limit"]

TIME_LIMIT = 10.0  # seconds one dot run may take before the next fallback is tried


def set_time_limit(seconds: float) -> float:
    """Set how long one ``dot`` run may take, for every graph without its own ``time_limit``;
    returns the previous limit. (``viz.render`` is the function, so this module's
    ``TIME_LIMIT`` cannot be reached as ``viz.render.TIME_LIMIT``.)"""
    global TIME_LIMIT
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds < float("inf"):
        raise ValueError(f"set_time_limit: seconds must be a positive finite number, got {seconds!r}")
    previous, TIME_LIMIT = TIME_LIMIT, float(seconds)
    return previous

INSTALL = (
    "Graphviz's 'dot' program was not found on PATH, so the graph cannot be rendered. "
    "Install Graphviz (the program, not only the Python package): "
    "Debian/Ubuntu 'sudo apt-get install graphviz', macOS 'brew install graphviz', "
    "conda 'conda install -c conda-forge graphviz', Windows 'winget install graphviz' "
    "(then add its bin folder to PATH). The DOT source is still available as graph.source "
    "and can be written with graph.save(path) or viz.save_source(graph, path)."
)


class GraphvizNotFound(graphviz.ExecutableNotFound):
    """Graphviz's ``dot`` is missing; the message says how to install it."""

    def __init__(self) -> None:
        RuntimeError.__init__(self, INSTALL)


class RenderTimeout(RuntimeError):
    """``dot`` ran past its time limit."""


def run_dot(source: str, fmt: str, engine: str = "dot", time_limit: float | None = None) -> bytes:
    """``source`` laid out by Graphviz's ``engine`` as ``fmt``; RenderTimeout past ``time_limit``
    seconds (default :data:`TIME_LIMIT`), GraphvizNotFound when the program is missing, and
    graphviz's CalledProcessError (with dot's message) when dot fails."""
    limit = TIME_LIMIT if time_limit is None else time_limit
    exe = shutil.which(engine)
    if exe is None:
        raise GraphvizNotFound()
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True,
                              timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        raise RenderTimeout(f"Graphviz's {engine} took more than {limit:g} s to lay this graph out") from None
    if done.returncode != 0:
        raise graphviz.CalledProcessError(done.returncode, [exe, f"-T{fmt}"], output=done.stdout,
                                          stderr=done.stderr)
    return done.stdout


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose ``dot`` runs are time-limited, with fallbacks (see the module)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # (what is left out, a function building the simpler graph given the note it must
        # show), tried in order when dot runs past the time limit
        self.fallbacks: list[tuple[str, Callable[[str], graphviz.Digraph]]] = []
        self.time_limit: float | None = None
        self.rendered_note: str | None = None  # set when a fallback was drawn instead
        self.note: str | None = None  # what the picture itself says was left out (too_large)

    def pipe(self, format: str | None = None, renderer: str | None = None, formatter: str | None = None,
             neato_no_op=None, quiet: bool = False, *, engine: str | None = None,
             encoding: str | None = None):  # noqa: D102 - same contract as Digraph.pipe
        fmt = ":".join(x for x in (format or self.format, renderer, formatter) if x)
        data = self._laid_out(fmt, engine or self.engine)
        return data.decode(encoding) if encoding else data

    def _laid_out(self, fmt: str, engine: str) -> bytes:
        """This graph, or the first fallback that dot lays out within the time limit."""
        limit = self._limit()
        waited = ["the full picture"]
        try:
            data = run_dot(self.source, fmt, engine, limit)
            self.rendered_note = self.note
            return data
        except RenderTimeout:
            pass
        for why, build in self.fallbacks:
            note = f"{why}: dot took more than {limit:g} s to lay out {', then '.join(waited)}"
            try:
                data = run_dot(build(note).source, fmt, engine, limit)
            except RenderTimeout:
                waited.append(why)
                continue
            self.rendered_note = note
            return data
        note = (f"This graph could not be laid out within {limit:g} s ({', then '.join(waited)}). "
                f"Its DOT source is graph.source (viz.save_source writes it); viz.explain(root) "
                f"gives the chain rule as text.")
        self.rendered_note = note
        # a one-node picture: never slow, so it gets the default limit even under a tiny one
        label = dot_quote(record_text(note, 2000))
        source = f"digraph chainrule {{\n\tnote [id=note shape=box label={label}]\n}}\n"
        return run_dot(source, fmt, engine)

    def _limit(self) -> float:
        return TIME_LIMIT if self.time_limit is None else self.time_limit

    def _repr_mimebundle_(self, include=None, exclude=None, **_) -> dict[str, str]:
        """Jupyter's display: the SVG as is when it stays legible in a cell, else at full size
        with a note (see :mod:`viz.notebook`)."""
        svg = self.pipe(format="svg", encoding="utf-8")
        bundle = graph_bundle(svg, self.rendered_note)
        keep = set(bundle) if include is None else set(include)
        return {k: v for k, v in bundle.items() if k in keep and k not in set(exclude or ())}

    def render(self, filename=None, directory=None, view: bool = False, cleanup: bool = False,
               format: str | None = None, renderer: str | None = None, formatter: str | None = None,
               neato_no_op=None, quiet: bool = False, quiet_view: bool = False, *, outfile=None,
               engine: str | None = None, raise_if_result_exists: bool = False,
               overwrite_source: bool = False) -> str:  # noqa: D102 - as Digraph.render, time-limited
        if outfile is not None:
            out = Path(outfile)
            fmt = format or out.suffix.lstrip(".") or self.format
        else:
            fmt = format or self.format
            base = Path(directory or self.directory or "") / (filename or self.filename)
            out = Path(f"{base}.{fmt}")
        if raise_if_result_exists and out.exists():
            raise graphviz.FileExistsError(f"output file exists: {os.fspath(out)!r}")
        source_path = out.with_suffix("") if outfile is None else out.with_suffix(".gv")
        if not cleanup:
            write_atomic(source_path, self.source.encode("utf-8"))
        write_atomic(out, self.pipe(format=fmt, renderer=renderer, formatter=formatter, engine=engine))
        if view:
            graphviz.view(out, quiet=quiet_view)
        return os.fspath(out)


def too_large(note: str, format: str = "svg") -> Graph:
    """A one-box picture of ``note``: what a view draws instead of a graph too large to lay
    out in time, so it says so at once rather than after the time limit."""
    g = Graph(name="chainrule", format=format)
    lines = "\n".join(textwrap.wrap(note, 90))
    label = dot_quote(record_text(lines, 2000))
    g.body.append(f"\tnote [id=note shape=box fontname=Helvetica label={label}]\n")
    g.note = g.rendered_note = note
    return g


def _check_graph(graph: object, who: str) -> None:
    """A TypeError unless ``graph`` is a graphviz graph (what draw_dot and draw_graph return)."""
    if not isinstance(graph, (graphviz.Graph, graphviz.Digraph, graphviz.Source)):
        raise TypeError(f"{who}(graph, path): graph must be a graphviz graph such as draw_graph(...) "
                        f"returns, got {type(graph).__name__}")


def render(graph: graphviz.Digraph, path: str | Path) -> Path:
    """Lay ``graph`` out with ``dot`` and write ``path``; the format comes from its suffix.

    ``.dot``/``.gv`` write the source without running Graphviz; ``.svg``, ``.png``, ``.pdf``
    (any format dot knows) run it, under the time limit (a chainrule view falls back to a
    simpler picture that says so; any other graph raises RenderTimeout). Raises
    GraphvizNotFound when ``dot`` is missing. The file is written atomically.
    """
    _check_graph(graph, "render")
    path = check_path(path, "render")
    fmt = path.suffix.lstrip(".").lower()
    if not fmt:
        raise ValueError(f"render(): cannot tell the format of {str(path)!r}; give it a suffix like .svg")
    if fmt in ("dot", "gv"):
        return save_source(graph, path)
    if fmt not in graphviz.FORMATS:
        raise ValueError(f"render(): {fmt!r} is not a Graphviz output format (try svg, png, pdf)")
    data = graph.pipe(format=fmt) if isinstance(graph, Graph) else run_dot(graph.source, fmt, graph.engine)
    write_atomic(path, data)
    return path


def save_source(graph: graphviz.Digraph, path: str | Path) -> Path:
    """Write the DOT source of ``graph`` to ``path`` (needs no Graphviz install)."""
    _check_graph(graph, "save_source")
    path = check_path(path, "save_source")
    write_atomic(path, graph.source.encode("utf-8"))
    return path

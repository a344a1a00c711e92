"""Running Graphviz: a Digraph whose errors say how to install ``dot``, and file output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import graphviz

from .checks import check_path

__all__ = ["Graph", "GraphvizNotFound", "render", "save_source"]

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


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` (inline in Jupyter) whose rendering explains a missing ``dot``."""

    def pipe(self, *args, **kwargs):  # noqa: D102 - same contract as Digraph.pipe
        with _explained():
            return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):  # noqa: D102 - same contract as Digraph.render
        with _explained():
            return super().render(*args, **kwargs)


@contextmanager
def _explained() -> Iterator[None]:
    """Turn graphviz's bare "dot not found" into GraphvizNotFound, which says how to install it."""
    try:
        yield
    except GraphvizNotFound:
        raise
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFound() from None


def _check_graph(graph: object, who: str) -> None:
    """A TypeError unless ``graph`` is a graphviz graph (what draw_dot and draw_graph return)."""
    if not isinstance(graph, (graphviz.Graph, graphviz.Digraph, graphviz.Source)):
        raise TypeError(f"{who}(graph, path): graph must be a graphviz graph such as draw_graph(...) "
                        f"returns, got {type(graph).__name__}")


def render(graph: graphviz.Digraph, path: str | Path) -> Path:
    """Lay ``graph`` out with ``dot`` and write ``path``; the format comes from its suffix.

    ``.dot``/``.gv`` write the source without running Graphviz; ``.svg``, ``.png``, ``.pdf``
    (any format dot knows) run it. Raises GraphvizNotFound when ``dot`` is missing.
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
    with _explained():  # a plain graphviz.Digraph passed in does not explain itself
        data = graph.pipe(format=fmt)
    path.write_bytes(data)
    return path


def save_source(graph: graphviz.Digraph, path: str | Path) -> Path:
    """Write the DOT source of ``graph`` to ``path`` (needs no Graphviz install)."""
    _check_graph(graph, "save_source")
    path = check_path(path, "save_source")
    path.write_text(graph.source, encoding="utf-8")
    return path

"""DOT assembly shared by the graph views: node and edge text, attributes, clusters.

The views (:mod:`viz.graph`, :mod:`viz.collapse`) read a :class:`viz.trace.TracedGraph` and
turn it into DOT statements collected by a :class:`Builder`; :func:`emit` writes them in a
fixed order, nesting module clusters.
"""

from __future__ import annotations

import math
import textwrap

from .clusters import Cluster
from .escape import dot_quote, html_label, label_text, record_text
from .render import Graph
from .style import KINDS, NO_GRAD, contribution_colour, contribution_width, fmt
from .trace import Edge, TracedGraph, cluster_id, layer_cluster_id

__all__ = ["grad_line", "UNBALANCED_NOTE", "SUM_TOLERANCE", "note_line", "value_label", "node_attrs",
           "edge_attrs", "Builder", "emit", "new_graph"]

LABEL_FONT = 9  # points: 12 px at a picture's natural size
MAX_TERMS = 4  # a grad shown as a sum lists at most this many terms
SUM_TOLERANCE = 1e-9  # relative: how closely the edges' contributions must add up to a grad


def grad_line(t: TracedGraph, i: int, into: list[Edge], unbalanced: set[int]) -> str:
    """``grad g``, ``grad = c1 + c2 = g`` where paths meet, or ``no grad yet``.

    The sum is written only when the contributions on the edges here add up to the stored
    grad. They need not: a leaf's grad accumulates over several ``backward()`` calls while
    the edges show one pass, a sub-expression's value may also be used outside the graph
    drawn, and after ``.data`` changes (an optimizer step) lazy ops recompute their local
    derivatives while others keep those of build time. Then the line reads ``grad g (edges
    here: c1 + c2 = s)`` and ``i`` is added to ``unbalanced``.
    """
    if not t.has_grad:
        return "no grad yet"
    g = t.values[i].grad
    if not into:
        return f"grad {fmt(g)}"
    total = 0.0
    for e in into:  # in backward's order, so a graph differentiated once matches exactly
        total += e.contribution
    terms = " + ".join(fmt(e.contribution) for e in into[:MAX_TERMS])
    terms += f" + … ({len(into)} terms)" if len(into) > MAX_TERMS else ""
    if total == g or math.isclose(total, g, rel_tol=SUM_TOLERANCE):
        return f"grad {fmt(g)}" if len(into) == 1 else f"grad = {terms} = {fmt(g)}"
    if not math.isnan(total):  # nan: an undefined local derivative, shown on its edge already
        unbalanced.add(i)
    return f"grad {fmt(g)} (edges here: {terms if len(into) == 1 else f'{terms} = {fmt(total)}'})"


UNBALANCED_NOTE = ("a grad followed by (edges here: …) is not the sum of what its edges pass back: "
                   "it was accumulated over several backward() calls, the value is also used outside "
                   "this graph, or data changed after backward()")


NOTE_WIDTH = 100  # characters a line of a graph's note (its title) may take


def note_line(notes: list[str], limit: int = 2000) -> str:
    """The DOT statement putting ``notes`` above the graph, each broken into lines of at most
    :data:`NOTE_WIDTH` characters: on one line a note is as wide as the graph it explains."""
    lines = [line for note in notes for line in textwrap.wrap(note, NOTE_WIDTH) or [""]]
    return f"\tlabel={dot_quote(record_text(chr(10).join(lines), limit))} labelloc=t fontsize=12\n"


def value_label(title: str, rows: list[str], grad_row: str | None) -> str:
    """An HTML-like table: a bold title, then one row per line of text, then the grad row."""
    parts = [f'<TR><TD><B>{label_text(title)}</B></TD></TR>'] if title else []
    parts += [f"<TR><TD>{label_text(r)}</TD></TR>" for r in rows]
    if grad_row is not None:
        text = label_text(grad_row)
        if grad_row == "no grad yet":
            text = f'<FONT COLOR="{NO_GRAD}"><I>{text}</I></FONT>'
        parts.append(f"<TR><TD>{text}</TD></TR>")
    return html_label('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
                      + "".join(parts) + "</TABLE>")


def node_attrs(kind: str) -> str:
    """DOT attributes drawing a value node of ``kind``."""
    shape, style, fill, pen = KINDS[kind]
    attrs = f"shape={shape}"
    if style:
        attrs += f' style="{style}"'
    if fill:
        attrs += f' fillcolor="{fill}"'
    if pen != 1.0 and pen:
        attrs += f" penwidth={pen}"
    return attrs


def edge_attrs(contribution: float | None, big: float, label: str | None, where: str = "label") -> str:
    """Colour, width and dashes for a contribution (None before backward), and an optional label
    in attribute ``where`` (``label``, or ``xlabel``: placed after layout, which is faster)."""
    attrs = f'color="{contribution_colour(contribution)}" penwidth={contribution_width(contribution, big)}'
    if contribution is not None and contribution == 0:
        attrs += ' style="dashed"'
    if label:
        attrs += f' {where}={html_label(label_text(label))} fontsize={LABEL_FONT} fontcolor="#303030"'
    return attrs


class Builder:
    """Collects DOT statements: nodes per cluster, edges at the end, in a fixed order."""

    def __init__(self) -> None:
        self.nodes: dict[object, list[str]] = {}  # cluster key (None = top level) -> lines
        self.edges: list[str] = []

    def node(self, where: object, line: str) -> None:
        self.nodes.setdefault(where, []).append(line)

    def edge(self, line: str) -> None:
        self.edges.append(line)


def emit(g: Graph, b: Builder, t: TracedGraph, clusters: list[Cluster], mode: str) -> None:
    """Top-level nodes, then layer-call boxes holding neuron boxes (mode "c") or neuron
    nodes (mode "n", collapsed), then every edge.

    In the scalar view (mode "c") a layer's box is drawn only when the layer is called more
    than once, to tell the calls apart: the neuron boxes already name their layer, and a
    layer box keeps the inputs it reads outside it, below the layer, with their edges' labels
    stacked in a column far from the neurons (and it stacks the next layer above it).
    """
    g.body.extend(b.nodes.get(None, []))
    calls = t.layer_calls() if clusters else []
    if mode == "c":
        count: dict[str, int] = {}
        for call in calls:
            count[call.name] = count.get(call.name, 0) + 1
        calls = [call for call in calls if count[call.name] > 1]
    in_layer = {k: m for m, call in enumerate(calls) for k in call.clusters}
    for m, call in enumerate(calls):
        g.body.append(f"\tsubgraph {layer_cluster_id(m)} {{\n\t\tlabel={dot_quote(record_text(call.name))} "
                      f'style="rounded,dashed" margin=4 color="#9A9A9A" fontcolor="#606060"\n')
        for k in call.clusters:
            g.body.extend("\t" + line for line in _cluster_block(b, clusters, k, mode))
        g.body.append("\t}\n")
    for k in range(len(clusters)):
        if k not in in_layer:
            g.body.extend(_cluster_block(b, clusters, k, mode))
    g.body.extend(b.edges)


def _cluster_block(b: Builder, clusters: list[Cluster], k: int, mode: str) -> list[str]:
    lines = b.nodes.get((mode, k), [])
    if not lines or mode == "n":
        return lines
    return ([f"\tsubgraph {cluster_id(k)} {{\n\t\tlabel={dot_quote(record_text(clusters[k].name))} "
             f'style="rounded" margin=4 color="#6A9A4A" fontcolor="#3A6A1A"\n']
            + ["\t" + line for line in lines] + ["\t}\n"])


def new_graph(rankdir: str, fmt_: str) -> Graph:
    """An empty chainrule graph with the shared look.

    Compact by default, as a graph of a small network is already wider than a screen:
    nodes and clusters close together (``nodesep``, cluster margins), tight node margins,
    10 pt text in nodes and 9 pt on edges (12 px at natural size), cluster titles in the
    same face as the rest.
    """
    return Graph(name="chainrule", format=fmt_,
                 graph_attr={"rankdir": rankdir, "nodesep": "0.06", "ranksep": "0.2",
                             "fontname": "Helvetica", "fontsize": "11"},
                 node_attr={"fontname": "Helvetica", "fontsize": "10", "margin": "0.05,0.03"},
                 edge_attr={"fontname": "Helvetica", "arrowsize": "0.6"})

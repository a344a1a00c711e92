"""``draw_graph``: the chain rule drawn on the graph.

Value nodes show name, data and grad (as a sum where several paths meet); op nodes sit
between a value and its operands; each operand edge carries the local derivative and the
contribution passed back, coloured by sign and thickened by size. ``nn`` modules become
clusters, and a large graph collapses to one node per neuron call.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable

from chainrule.autograd import Value, topo_order

from .checks import check_count, check_flag, check_rankdir, check_root, check_text
from .clusters import candidate_outputs
from .collapse import neuron_view
from .drawing import (
    UNBALANCED_NOTE,
    Builder,
    edge_attrs,
    emit,
    grad_line,
    new_graph,
    node_attrs,
    note_line,
    value_label,
)
from .escape import dot_quote, printable, record_text
from .names import short_name
from .render import Graph, too_large
from .style import ZERO, fmt, wrap
from .trace import (
    Edge,
    TracedGraph,
    derivative_text,
    edge_id,
    neuron_id,
    node_id,
    op_id,
    result_edge_id,
    trace,
)

__all__ = ["draw_graph", "GraphTooLarge"]


NOTE_TEXT = 2000  # characters a graph's note may take (record_text clips other texts sooner)
MAX_USES = 12  # a value used more often gets its edges' labels beside them (dot is slow otherwise)
# edges into neurons in the collapsed view; past this their numbers are tooltips, as in
# draw_network: 256 two-line labels between two 16-neuron layers stack into a picture
# 7,500 pt tall
MAX_NEURON_LABELS = 60


class GraphTooLarge(UserWarning):
    """The graph was too large to draw scalar by scalar, so it was simplified."""


def view_names(t: TracedGraph, clustered: bool) -> list[str]:
    """Names as a view shows them: inside a module's box without the module's prefix (``w.1``)."""
    # a label's newlines are kept here: each view breaks its lines itself
    names = [printable(v.label) if v.label else n for v, n in zip(t.values, t.names)]
    if not clustered:
        return names
    home = {j: c.name for c in t.clusters for j in c.members}
    return [short_name(n, home.get(i)) for i, n in enumerate(names)]


def edge_text(t: TracedGraph, e: Edge, names: list[str], contribution: bool = True,
              digits: int = 4) -> str:
    """``∂out/∂c = rule = local`` in the operands' names, and ``upstream × local = contribution``."""
    local = fmt(e.local, digits)
    text = f"∂{names[e.node]}/∂{names[e.child]} = {derivative_text(t.rule(e, names), local)}"
    if contribution and e.contribution is not None:
        text += f"\n{fmt(e.upstream, digits)} × {local} = {fmt(e.contribution, digits)}"
    return text


def scalar_view(t: TracedGraph, b: Builder, where: Callable[[int], object], keep: Callable[[int], bool],
                source_id: Callable[[int], str], labels: str | None, names: list[str],
                unbalanced: set[int], grad_text: Callable[[int], str] | None = None,
                label_of: Callable[[Edge], str | None] | None = None, digits: int = 4,
                colours: bool = True) -> None:
    """Value and op nodes for every node ``keep`` accepts, and their operand edges.

    ``labels``: the DOT attribute edge labels go in (``label``; ``xlabel``, placed after
    layout, which dot does much faster when many edges leave one node) or None for none.
    ``names`` title the nodes; ``grad_text`` and ``label_of``, when given, replace the grad
    rows and edge labels (the step-through and practice pages lay out the texts they will
    show later); ``digits`` are the significant digits of the data rows; without
    ``colours`` no contribution is drawn on the edges.
    """
    big = t.largest() if colours else 0.0
    for i, v in enumerate(t.values):
        if not keep(i):
            continue
        kind = t.kinds[i]
        if kind == "constant":
            b.node(where(i), f'\t{node_id(i)} [id="{node_id(i)}" label={dot_quote(fmt(v.data))} '
                             f'fontcolor="#606060" fontsize=10 shape=plain]\n')
        else:
            grad = grad_text(i) if grad_text else wrap(grad_line(t, i, t.incoming(i), unbalanced))
            title = names[i] + (" (output)" if kind == "output" else "")
            label = value_label(title, [f"data {fmt(v.data, digits)}"], grad)
            b.node(where(i), f'\t{node_id(i)} [id="{node_id(i)}" label={label} {node_attrs(kind)}]\n')
        if v.is_leaf:
            continue
        edges = t.edges_of(i)
        dead = colours and t.has_grad and all(e.local == 0 for e in edges)
        fill = f' style=filled fillcolor="{ZERO}"' if dead else ""
        b.node(where(i), f'\t{op_id(i)} [id="{op_id(i)}" label={dot_quote(record_text(v._op))} '
                         f"shape=ellipse margin=0.02 width=0.3 height=0.2{fill}]\n")
        # The op sits in its value's column, beside it, not in a column of its own: with edge
        # labels dot gives every edge two ranks, so an op column costs its width, an empty
        # rank and two gaps per step of the chain, about a third of a graph's width.
        b.node(where(i), f"\t{{rank=same; {op_id(i)}; {node_id(i)}}}\n")
        up = v.grad if (colours and t.has_grad) else None
        b.edge(f'\t{op_id(i)} -> {node_id(i)} [id="{result_edge_id(i)}" {edge_attrs(up, big, None)}]\n')
        for e in edges:
            if not labels:
                label = None
            else:
                label = label_of(e) if label_of else wrap(edge_text(t, e, names, grad_text is None))
            shown = e.contribution if colours else None
            b.edge(f'\t{source_id(e.child)} -> {op_id(i)} [id="{edge_id(i, e.slot)}" '
                   f"{edge_attrs(shown, big, label, labels or 'label')}]\n")


def _check_params(params: Iterable[Value] | None) -> list[Value] | None:
    """``params`` as a list of Values, or a TypeError (a str or a lone Value is a common slip)."""
    if params is None:
        return None
    if isinstance(params, (str, Value)) or not isinstance(params, Iterable):
        raise TypeError(f"draw_graph(params=...): params must be an iterable of Values such as "
                        f"model.parameters(), or None; got {type(params).__name__}")
    out = list(params)
    for k, p in enumerate(out):
        if not isinstance(p, Value):
            raise TypeError(f"draw_graph(params=...): params[{k}] is a {type(p).__name__}, not a Value")
    return out


def draw_graph(
    root: Value,
    *,
    edge_labels: bool = True,
    clusters: bool = True,
    collapse: str | bool | None = None,
    max_nodes: int | None = 400,
    rankdir: str = "LR",
    params: Iterable[Value] | None = None,
    grads: bool | None = None,
    format: str = "svg",
) -> Graph:
    """The graph under ``root`` with the chain rule drawn on it (see docs/viz.md).

    ``edge_labels``: show ∂out/∂operand (rule and value) and the contribution on each edge.
    ``clusters``: group nodes made inside ``nn`` modules (found from labels).
    ``collapse``: ``'neuron'`` draws one node per neuron call, ``False`` never collapses,
    ``None`` collapses when the scalar view would exceed ``max_nodes`` nodes (value and op
    nodes), with a warning and a graph label saying so. ``params``: the parameters, if the
    label rule (a dotted name marks a parameter) does not fit. "backward not run" is read as
    ``root.grad == 0``: grads then show as "no grad yet" and edges carry no contributions.
    """
    check_root(root, "draw_graph")
    check_rankdir(rankdir, "draw_graph")
    check_flag(edge_labels, "edge_labels", "draw_graph")
    check_flag(clusters, "clusters", "draw_graph")
    check_flag(grads, "grads", "draw_graph", none=True)
    check_text(format, "format", "draw_graph")
    # `collapse == 0` would pass a plain `in (None, False, ...)` test, so compare by identity
    if not (collapse is None or collapse is False or (isinstance(collapse, str) and collapse == "neuron")):
        raise ValueError(f"draw_graph(collapse={collapse!r}): use None (automatic), 'neuron' or False")
    check_count(max_nodes, "max_nodes", "draw_graph", none=True)
    params = _check_params(params)
    if collapse is not False and max_nodes is not None:
        # a batch's graph: counting its neuron calls by label takes one pass, tracing it seconds
        calls = len(candidate_outputs(topo_order(root)))
        if calls > max_nodes:
            return _not_drawn(f"not drawn: {calls} neuron calls, so more than max_nodes={max_nodes} "
                              f"nodes even collapsed to one node per neuron call", format)
    t = trace(root, params=params, stored=True, grads=grads, strict=False)
    size = len(t.values) + sum(1 for v in t.values if not v.is_leaf)
    labels = "label" if edge_labels else None
    notes = []
    automatic = collapse is None and max_nodes is not None and size > max_nodes
    if automatic and not t.clusters:
        labels = None
        note = (f"{size} nodes (more than max_nodes={max_nodes}) and no nn modules to collapse: "
                f"edge labels left out")
        notes.append(note)
        warnings.warn(note, GraphTooLarge, stacklevel=2)
    elif automatic:
        collapse = "neuron"
    if collapse == "neuron" and not t.clusters:
        raise ValueError("draw_graph(collapse='neuron'): no nn module outputs found in this graph "
                         "(module outputs are labelled nodes whose name prefixes a parameter's label)")
    if collapse == "neuron" and max_nodes is not None:
        owner = t.owner()
        left = [v for i, v in enumerate(t.values) if i not in owner]
        collapsed = len(t.clusters) + len(left) + sum(1 for v in left if not v.is_leaf)
        if collapsed > max_nodes:
            return _not_drawn(f"not drawn: {size} nodes, and {collapsed} even collapsed to one node per "
                              f"neuron call (more than max_nodes={max_nodes})", format)
    if automatic and t.clusters:
        note = (f"collapsed to one node per neuron: the scalar view has {size} nodes "
                f"(more than max_nodes={max_nodes}); pass collapse=False to draw every scalar")
        notes.append(note)
        warnings.warn(note, GraphTooLarge, stacklevel=2)
    uses = max((len(t.incoming(i)) for i in range(len(t.values))), default=0)
    if labels == "label" and collapse != "neuron" and uses > MAX_USES:
        labels = "xlabel"
        notes.append(f"edge labels beside their edges: a value used {uses} times (more than {MAX_USES}) "
                     f"makes Graphviz slow to place labels on edges")
    collapse = collapse == "neuron"

    def draw(collapsed: bool, labels: str | None, more: list[str]) -> Graph:
        return _draw(t, rankdir, format, collapsed, clusters, labels, notes + more)

    g = draw(collapse, labels, [])
    # simpler pictures, tried in turn when dot runs past its time limit (viz.render.Graph)
    if labels == "label":
        g.fallbacks.append(("edge labels beside their edges", lambda note: draw(collapse, "xlabel", [note])))
    if labels:
        g.fallbacks.append(("edge labels left out", lambda note: draw(collapse, None, [note])))
    if not collapse and t.clusters:
        g.fallbacks.append(("collapsed to one node per neuron", lambda note: draw(True, None, [note])))
    return g


def _not_drawn(why: str, format: str) -> Graph:
    """The picture of a graph too large to draw even collapsed (thousands of neuron calls, a
    batch), with a GraphTooLarge warning: dot would run into its time limit, fallback after
    fallback, for a picture no one could read."""
    note = (f"{why}. viz.draw_network(model) draws the model the same size for any batch, with "
            f"∂loss/∂w summed over it; or draw one sample's graph, or pass max_nodes=None")
    warnings.warn(note, GraphTooLarge, stacklevel=3)
    return too_large(f"draw_graph: {note}.", format)


def _draw(t: TracedGraph, rankdir: str, format: str, collapsed: bool, clusters: bool,
          labels: str | None, notes: list[str]) -> Graph:
    """The scalar or collapsed view of ``t``; edge labels as ``labels`` (label, xlabel or None)."""
    g = new_graph(rankdir, format)
    b = Builder()
    unbalanced: set[int] = set()
    if collapsed:
        into = sum(len(c.inputs) for c in t.clusters)  # edges into neurons, one per neuron input
        tips = labels is not None and into > MAX_NEURON_LABELS
        if tips:
            notes = notes + [f"{into} edges into neurons (more than {MAX_NEURON_LABELS}): each one's "
                             f"weights, gradients and what it passes back are its tooltip (hover the edge)"]
        owner = neuron_view(t, b, None if tips else labels, unbalanced, tooltips=tips)
        scalar_view(t, b, lambda i: None, lambda i: i not in owner,
                    lambda j: neuron_id(owner[j]) if j in owner else node_id(j), labels, t.names,
                    unbalanced)
        emit(g, b, t, t.clusters, "n")
    else:
        owner = t.owner() if clusters else {}
        scalar_view(t, b, lambda i: ("c", owner[i]) if i in owner else None, lambda i: True,
                    node_id, labels, view_names(t, clusters), unbalanced)
        emit(g, b, t, t.clusters if clusters else [], "c")
    if unbalanced:
        notes = notes + [UNBALANCED_NOTE]
    if notes:
        # a graph attribute: dot reads it wherever it stands among the statements
        g.body.append(note_line(notes, NOTE_TEXT))
    return g


def stepper_graph(t: TracedGraph, rankdir: str, grad_text: Callable[[int], str],
                  label_of: Callable[[Edge], str | None] | None = None, digits: int = 4,
                  labels: bool = True) -> Graph:
    """The scalar view laid out for the step-through and practice pages: no contribution
    colours, grad rows (and, if given, edge labels) from the page's own texts. Its own edge
    labels are wrapped as draw_graph's (they never change); the grad rows are not, as the
    stepper's script rewrites each as one line."""
    owner = t.owner()
    g = new_graph(rankdir, "svg")
    b = Builder()
    names = view_names(t, True)
    scalar_view(t, b, lambda i: ("c", owner[i]) if i in owner else None, lambda i: True, node_id,
                "label" if labels else None,
                names, set(), grad_text, label_of or (lambda e: wrap(edge_text(t, e, names, False, digits))),
                digits, colours=False)
    emit(g, b, t, t.clusters, "c")
    return g

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
from .clusters import Cluster, find_clusters
from .collapse import neuron_view
from .escape import dot_quote, record_text
from .flow import derivative_text, rule_text
from .layout import (
    UNBALANCED_NOTE,
    Builder,
    Edge,
    Layout,
    analyse,
    edge_attrs,
    emit,
    grad_line,
    new_graph,
    node_attrs,
    value_label,
)
from .render import Graph
from .style import ZERO, fmt

__all__ = ["draw_graph", "GraphTooLarge"]


class GraphTooLarge(UserWarning):
    """The graph was too large to draw scalar by scalar, so it was simplified."""


def _edge_text(v: Value, e: Edge, flow_text: bool) -> str:
    rule = rule_text(v.rule.local[e.slot], {"p": fmt(v._p)} if v._p is not None else {})
    local = fmt(e.local)
    text = f"∂/∂{'ab'[e.slot]} = {derivative_text(rule, local)}"
    if flow_text and e.flow is not None:
        text += f"\n{fmt(v.grad)} × {local} = {fmt(e.flow)}"
    return text


def scalar_view(lay: Layout, b: Builder, where: Callable[[int], object], keep: Callable[[int], bool],
                node_id: Callable[[int], str], edge_labels: bool,
                grad_text: Callable[[int, list[Edge]], str] | None = None,
                clusters: list[Cluster] = (),
                edge_text: Callable[[Value, Edge], str | None] | None = None,
                digits: int = 4) -> None:
    """Value and op nodes for every node ``keep`` accepts, and their operand edges.

    Inside a module's box a parameter is titled by its name within the module (``w.1``).
    ``grad_text`` and ``edge_text``, when given, replace the grad rows and edge labels (the
    step-through and practice pages lay out the texts they will show later); ``digits``
    are the significant digits of the data rows.
    """
    home = {j: c.name + "." for c in clusters for j in c.members}
    short = lambda i: (lay.names[i][len(home[i]):] if i in home and lay.names[i].startswith(home[i])
                       and len(lay.names[i]) > len(home[i]) else lay.names[i])
    into = lay.incoming()
    by_node: dict[int, list[Edge]] = {}
    for e in lay.edges:
        by_node.setdefault(e.node, []).append(e)
    for i, v in enumerate(lay.nodes):
        if not keep(i):
            continue
        kind = lay.kinds[i]
        if kind == "constant":
            b.node(where(i), f'\tv{i} [id="v{i}" label={dot_quote(fmt(v.data))} fontcolor="#606060" '
                             f"fontsize=10 shape=plain]\n")
        else:
            grad = grad_text(i, into.get(i, [])) if grad_text else grad_line(lay, i, into.get(i, []))
            title = short(i) + (" (output)" if kind == "output" else "")
            label = value_label(title, [f"data {fmt(v.data, digits)}"], grad)
            b.node(where(i), f'\tv{i} [id="v{i}" label={label} {node_attrs(kind)}]\n')
        if v.is_leaf:
            continue
        dead = lay.has_grad and all(e.local == 0 for e in by_node.get(i, []))
        fill = f' style=filled fillcolor="{ZERO}"' if dead else ""
        b.node(where(i), f'\tv{i}op [id="v{i}op" label={dot_quote(record_text(v._op))} shape=ellipse '
                         f"margin=0.02 fontsize=11{fill}]\n")
        flow = v.grad if lay.has_grad else None
        b.edge(f'\tv{i}op -> v{i} [id="e{i}op" {edge_attrs(flow, lay.largest, None)}]\n')
        for e in by_node.get(i, []):
            if not edge_labels:
                label = None
            else:
                label = edge_text(v, e) if edge_text else _edge_text(v, e, grad_text is None)
            b.edge(f'\t{node_id(e.child)} -> v{i}op [id="e{i}_{e.slot}" '
                   f"{edge_attrs(e.flow, lay.largest, label)}]\n")


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
    ``root.grad == 0``: grads then show as "no grad yet" and edges carry no flow.
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
    nodes = topo_order(root)
    found = find_clusters(nodes)
    lay = analyse(root, params, grads, nodes, found)
    size = len(nodes) + sum(1 for v in nodes if not v.is_leaf)
    note = ""
    if collapse is None and max_nodes is not None and size > max_nodes:
        if found:
            collapse = "neuron"
            note = (f"collapsed to one node per neuron: the scalar view has {size} nodes "
                    f"(more than max_nodes={max_nodes}); pass collapse=False to draw every scalar")
        else:
            edge_labels = False
            note = (f"{size} nodes (more than max_nodes={max_nodes}) and no nn modules to collapse: "
                    f"edge labels left out")
        warnings.warn(note, GraphTooLarge, stacklevel=2)
    if collapse == "neuron" and not found:
        raise ValueError("draw_graph(collapse='neuron'): no nn module outputs found in this graph "
                         "(module outputs are labelled nodes whose name prefixes a parameter's label)")
    g = new_graph(rankdir, format)
    b = Builder()
    if collapse == "neuron":
        owner = neuron_view(lay, b, found, edge_labels)
        scalar_view(lay, b, lambda i: None, lambda i: i not in owner,
                    lambda j: f"n{owner[j]}" if j in owner else f"v{j}", edge_labels)
        emit(g, b, lay, found, "n")
    else:
        owner = {j: k for k, c in enumerate(found) for j in c.members} if clusters else {}
        scalar_view(lay, b, lambda i: ("c", owner[i]) if i in owner else None, lambda i: True,
                    lambda j: f"v{j}", edge_labels, clusters=found if clusters else [])
        emit(g, b, lay, found if clusters else [], "c")
    if lay.unbalanced:
        note = f"{note}\n{UNBALANCED_NOTE}" if note else UNBALANCED_NOTE
    if note:
        # a graph attribute: dot reads it wherever it stands among the statements
        g.body.append(f"\tlabel={dot_quote(record_text(note))} labelloc=t fontsize=12\n")
    return g


def stepper_graph(root: Value, rankdir: str, grad_text: Callable[[int], str],
                  edge_text: Callable[[Value, Edge], str | None] | None = None,
                  digits: int = 4) -> Graph:
    """The scalar view laid out for the step-through and practice pages: no flow colours,
    grad rows (and, if given, edge labels) from the page's own texts."""
    nodes = topo_order(root)
    found = find_clusters(nodes)
    lay = analyse(root, None, False, nodes, found)
    owner = {j: k for k, c in enumerate(found) for j in c.members}
    g = new_graph(rankdir, "svg")
    b = Builder()
    scalar_view(lay, b, lambda i: ("c", owner[i]) if i in owner else None, lambda i: True,
                lambda j: f"v{j}", True, lambda i, into: grad_text(i), found, edge_text, digits)
    emit(g, b, lay, found, "c")
    return g


"""``draw_graph``: the chain rule drawn on the graph.

Value nodes show name, data and grad (as a sum where several paths meet); op nodes sit
between a value and its operands; each operand edge carries the local derivative and the
contribution passed back, coloured by sign and thickened by size. ``nn`` modules become
clusters, and a large graph collapses to one node per neuron call.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from autograd import Value, topo_order

from .clusters import Cluster, find_clusters, layer_calls
from .dot import check_rankdir, check_root
from .escape import dot_quote, html_label, label_text, record_text
from .flow import node_names, rule_text
from .render import Graph
from .style import KINDS, NO_GRAD, ZERO, flow_colour, flow_width, fmt, kind_of, largest, looks_like_parameter

__all__ = ["draw_graph", "GraphTooLarge"]

MAX_TERMS = 4  # a grad shown as a sum lists at most this many terms


class GraphTooLarge(UserWarning):
    """The graph was too large to draw scalar by scalar, so it was simplified."""


@dataclass
class Edge:
    """Operand ``slot`` of node ``node`` is node ``child``; its local derivative and flow."""

    node: int
    slot: int
    child: int
    local: float
    flow: float | None  # contribution = local * node.grad, None before backward


@dataclass
class Layout:
    """What the builder needs to know about one graph, computed once."""

    root: Value
    nodes: list[Value]
    names: list[str]
    kinds: list[str]
    edges: list[Edge]
    has_grad: bool
    largest: float

    def incoming(self) -> dict[int, list[Edge]]:
        """For each node, the edges bringing it gradient, in the order backward adds them."""
        into: dict[int, list[Edge]] = {}
        for e in sorted(self.edges, key=lambda e: (-e.node, e.slot)):
            into.setdefault(e.child, []).append(e)
        return into


def analyse(root: Value, params: Iterable[Value] | None, has_grad: bool | None,
            nodes: list[Value], clusters: list[Cluster]) -> Layout:
    """Names, kinds and edges of the graph under ``root`` (``nodes`` in topological order).

    Parameters are ``params`` if given, else the leaves inside module clusters and leaves
    named as nn names parameters (``...w.<i>``, ``...b``); other leaves are inputs.
    """
    index = {v: i for i, v in enumerate(nodes)}
    if params is not None:
        pset = set(params)
    else:
        pset = {nodes[j] for c in clusters for j in c.params}
        pset.update(v for v in nodes if v.is_leaf and looks_like_parameter(v.label))
    if has_grad is None:
        # backward() always leaves a non-zero grad on its root, so zero means "not run".
        has_grad = root.grad != 0.0
    edges = []
    for i, v in enumerate(nodes):
        for slot, (child, local) in enumerate(zip(v._prev, v.local_grads())):
            edges.append(Edge(i, slot, index[child], local, local * v.grad if has_grad else None))
    kinds = [kind_of(v, root, pset) for v in nodes]
    return Layout(root, nodes, node_names(nodes, one_line=False), kinds, edges, has_grad,
                  largest(e.flow for e in edges))


def grad_line(layout: Layout, i: int, into: list[Edge]) -> str:
    """``grad g``, ``grad = c1 + c2 = g`` where paths meet, or ``no grad yet``."""
    if not layout.has_grad:
        return "no grad yet"
    g = layout.nodes[i].grad
    if len(into) < 2:
        return f"grad {fmt(g)}"
    terms = [fmt(e.flow) for e in into[:MAX_TERMS]]
    more = f" + … ({len(into)} terms)" if len(into) > MAX_TERMS else ""
    return f"grad = {' + '.join(terms)}{more} = {fmt(g)}"


def value_label(title: str, rows: list[str], kind: str, grad_row: str | None) -> str:
    """An HTML-like table: a bold title, then one row per line of text."""
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


class Builder:
    """Collects DOT statements: nodes per cluster, edges at the end, in a fixed order."""

    def __init__(self) -> None:
        self.nodes: dict[object, list[str]] = {}  # cluster key (None = top level) -> lines
        self.edges: list[str] = []

    def node(self, where: object, line: str) -> None:
        self.nodes.setdefault(where, []).append(line)

    def edge(self, line: str) -> None:
        self.edges.append(line)


def _edge_text(v: Value, e: Edge, flow_text: bool) -> str:
    rule = rule_text(v.rule.formula[e.slot], {"p": fmt(v._p)} if v._p is not None else {})
    local = fmt(e.local)
    text = f"∂/∂{'ab'[e.slot]} = {rule}" + ("" if rule == local else f" = {local}")
    if flow_text and e.flow is not None:
        text += f"\n{fmt(v.grad)} × {local} = {fmt(e.flow)}"
    return text


def _edge_attrs(flow: float | None, big: float, label: str | None) -> str:
    attrs = f'color="{flow_colour(flow)}" penwidth={flow_width(flow, big)}'
    if flow is not None and flow == 0:
        attrs += ' style="dashed"'
    if label:
        attrs += f' label={html_label(label_text(label))} fontsize=10 fontcolor="#303030"'
    return attrs


def scalar_view(lay: Layout, b: Builder, where: Callable[[int], object], keep: Callable[[int], bool],
                node_id: Callable[[int], str], edge_labels: bool,
                grad_text: Callable[[int, list[Edge]], str] | None = None,
                clusters: list[Cluster] = ()) -> None:
    """Value and op nodes for every node ``keep`` accepts, and their operand edges.

    Inside a module's box a parameter is titled by its name within the module (``w.1``).
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
            label = value_label(title, [f"data {fmt(v.data)}"], kind, grad)
            b.node(where(i), f'\tv{i} [id="v{i}" label={label} {node_attrs(kind)}]\n')
        if v.is_leaf:
            continue
        dead = lay.has_grad and all(e.local == 0 for e in by_node.get(i, []))
        fill = f' style=filled fillcolor="{ZERO}"' if dead else ""
        b.node(where(i), f'\tv{i}op [id="v{i}op" label={dot_quote(record_text(v._op))} shape=ellipse '
                         f"margin=0.02 fontsize=11{fill}]\n")
        flow = v.grad if lay.has_grad else None
        b.edge(f'\tv{i}op -> v{i} [id="e{i}op" {_edge_attrs(flow, lay.largest, None)}]\n')
        for e in by_node.get(i, []):
            label = _edge_text(v, e, grad_text is None) if edge_labels else None
            b.edge(f'\t{node_id(e.child)} -> v{i}op [id="e{i}_{e.slot}" '
                   f"{_edge_attrs(e.flow, lay.largest, label)}]\n")


def neuron_view(lay: Layout, b: Builder, clusters: list[Cluster], edge_labels: bool) -> None:
    """One node per module call; the rest of the graph drawn scalar by scalar."""
    owner = {j: k for k, c in enumerate(clusters) for j in c.members}
    index = {v: i for i, v in enumerate(lay.nodes)}
    node_id = lambda j: f"n{owner[j]}" if j in owner else f"v{j}"
    flows_to: dict[tuple[int, int], float] = {}   # (cluster, input) -> grad passed back
    weights: dict[tuple[int, int], list[int]] = {}  # (cluster, input) -> weight leaves
    for e in lay.edges:
        k = owner.get(e.node)
        if k is None or owner.get(e.child) == k:
            continue
        if e.flow is not None:
            flows_to[k, e.child] = flows_to.get((k, e.child), 0.0) + e.flow
        partner = lay.nodes[e.node]._prev[1 - e.slot] if len(lay.nodes[e.node]._prev) == 2 else None
        if partner is not None and lay.kinds[index[partner]] == "parameter":
            weights.setdefault((k, e.child), []).append(index[partner])
    wflows = [lay.nodes[w].grad for ws in weights.values() for w in ws] if lay.has_grad else []
    big = largest(wflows)
    into = lay.incoming()
    for k, c in enumerate(clusters):
        out = lay.nodes[c.output]
        rows = [f"data {fmt(out.data)}"]
        bias = [p for p in c.params if lay.nodes[p].label.endswith(".b")]
        if bias and lay.has_grad:
            rows.append(f"∂b {fmt(lay.nodes[bias[0]].grad)}")
        grad = grad_line(lay, c.output, [e for e in into.get(c.output, []) if e.node not in owner
                                         or owner[e.node] != k])
        b.node(("n", k), f'\tn{k} [id="n{k}" label={value_label(c.name, rows, "intermediate", grad)} '
                     f'shape=box style="rounded,filled" fillcolor="#EEF5E8" penwidth=1.5]\n')
        for j in c.inputs:
            ws = weights.get((k, j), [])
            flow = flows_to.get((k, j))
            wgrad = sum(lay.nodes[w].grad for w in ws) if (ws and lay.has_grad) else None
            lines = []
            for w in ws:
                short = lay.nodes[w].label[len(c.name) + 1:]
                lines.append(f"{short} = {fmt(lay.nodes[w].data)}"
                             + (f", ∂{short} = {fmt(lay.nodes[w].grad)}" if lay.has_grad else ""))
            if flow is not None:
                lines.append(f"passes back {fmt(flow)}")
            label = "\n".join(lines) if edge_labels and lines else None
            shown = wgrad if ws else flow
            b.edge(f'\t{node_id(j)} -> n{k} [id="e_n{k}_{j}" '
                   f"{_edge_attrs(shown, big if ws else lay.largest, label)}]\n")
    scalar_view(lay, b, lambda i: None, lambda i: i not in owner, node_id, edge_labels)


def _emit(g: Graph, b: Builder, lay: Layout, clusters: list[Cluster], mode: str) -> None:
    """Top-level nodes, then layer-call boxes holding neuron boxes (mode "c") or neuron
    nodes (mode "n", collapsed), then every edge."""
    g.body.extend(b.nodes.get(None, []))
    calls = layer_calls(lay.nodes, clusters)
    in_layer = {k: m for m, call in enumerate(calls) for k in call.clusters}
    for m, call in enumerate(calls):
        g.body.append(f"\tsubgraph cluster_L{m} {{\n\t\tlabel={dot_quote(record_text(call.name))} "
                      f'style="rounded,dashed" color="#9A9A9A" fontcolor="#606060"\n')
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
    return ([f"\tsubgraph cluster_{k} {{\n\t\tlabel={dot_quote(record_text(clusters[k].name))} "
             f'style="rounded" color="#6A9A4A" fontcolor="#3A6A1A"\n']
            + ["\t" + line for line in lines] + ["\t}\n"])


def draw_graph(
    root: Value,
    *,
    edge_labels: bool = True,
    clusters: bool = True,
    collapse: str | bool | None = None,
    max_nodes: int | None = 400,
    rankdir: str = "LR",
    params: Iterable[Value] | None = None,
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
    if collapse not in (None, False, "neuron", "none"):
        raise ValueError(f"draw_graph(collapse={collapse!r}): use None (automatic), 'neuron' or False")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw_graph(max_nodes={max_nodes!r}): a positive int or None")
    nodes = topo_order(root)
    found = find_clusters(nodes)
    lay = analyse(root, params, None, nodes, found)
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
    g = Graph(name="chainrule", format=format,
              graph_attr={"rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.35"},
              node_attr={"fontname": "Helvetica", "fontsize": "11"},
              edge_attr={"fontname": "Helvetica", "arrowsize": "0.6"})
    if note:
        g.body.append(f"\tlabel={dot_quote(record_text(note))} labelloc=t fontsize=12\n")
    b = Builder()
    if collapse == "neuron":
        neuron_view(lay, b, found, edge_labels)
        _emit(g, b, lay, found, "n")
    else:
        owner = {j: k for k, c in enumerate(found) for j in c.members} if clusters else {}
        scalar_view(lay, b, lambda i: ("c", owner[i]) if i in owner else None, lambda i: True,
                    lambda j: f"v{j}", edge_labels, clusters=found if clusters else [])
        _emit(g, b, lay, found if clusters else [], "c")
    return g


def stepper_graph(root: Value, rankdir: str, grad_text: Callable[[int], str]) -> tuple[Graph, Layout]:
    """The scalar view laid out for the step-through page: no flow colours, fixed grad text."""
    nodes = topo_order(root)
    found = find_clusters(nodes)
    lay = analyse(root, None, False, nodes, found)
    owner = {j: k for k, c in enumerate(found) for j in c.members}
    g = Graph(name="chainrule", format="svg", graph_attr={"rankdir": rankdir, "nodesep": "0.25"},
              node_attr={"fontname": "Helvetica", "fontsize": "11"},
              edge_attr={"fontname": "Helvetica", "arrowsize": "0.6"})
    b = Builder()
    scalar_view(lay, b, lambda i: ("c", owner[i]) if i in owner else None, lambda i: True,
                lambda j: f"v{j}", True, lambda i, into: grad_text(i), found)
    _emit(g, b, lay, found, "c")
    return g, lay


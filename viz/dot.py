"""``draw_dot``: the lecture's picture (a record per value, a node per op), made deterministic."""

from __future__ import annotations

from chainrule.autograd import Value, topo_order

from .checks import check_count, check_rankdir, check_root, check_text
from .escape import dot_quote, record_text
from .render import Graph, too_large
from .trace import node_id, op_id, trace

__all__ = ["draw_dot"]

def draw_dot(root: Value, format: str = "svg", rankdir: str = "LR", *, max_nodes: int | None = 400) -> Graph:
    """The graph that produced ``root`` as micrograd's lecture draws it.

    One record per value (``label | data | grad``, four decimals), one node per op, an edge
    per operand (``a + a`` gets two). Node ids are topological indices (``v0``, ``v0op``),
    so the same code gives byte-identical DOT source. Returns a ``graphviz.Digraph``:
    Jupyter shows it inline, ``.render()``/``.pipe()`` lay it out with ``dot``, ``.source``
    is the DOT text. A graph of more than ``max_nodes`` value and op nodes is not laid out
    (dot takes seconds to minutes, and a record per value is unreadable at that size): the
    picture is a note saying so and what to draw instead; ``max_nodes=None`` draws it anyway.
    """
    check_root(root, "draw_dot")
    check_rankdir(rankdir, "draw_dot")
    check_text(format, "format", "draw_dot")
    check_count(max_nodes, "max_nodes", "draw_dot", none=True)
    nodes = topo_order(root)  # counted before tracing, which costs seconds on a batch's graph
    size = len(nodes) + sum(1 for v in nodes if not v.is_leaf)
    if max_nodes is not None and size > max_nodes:
        return too_large(f"draw_dot: {size} value and op nodes, more than max_nodes={max_nodes}: not drawn "
                         f"(dot would take many seconds, and a record per value is unreadable at this "
                         f"size). viz.draw_graph(root) collapses a network to one node per neuron and "
                         f"viz.draw_network(model) draws the model; pass max_nodes=None to draw every "
                         f"value.", format)
    t = trace(root, stored=True, grads=False, strict=False)
    g = Graph(name="chainrule", format=format, graph_attr={"rankdir": rankdir})
    for i, v in enumerate(t.values):
        label = f"{{ {record_text(v.label)} | data {v.data:.4f} | grad {v.grad:.4f} }}"
        g.body.append(f"\t{node_id(i)} [label={dot_quote(label)} shape=record]\n")
        if not v.is_leaf:
            g.body.append(f"\t{op_id(i)} [label={dot_quote(record_text(v._op))}]\n")
            g.body.append(f"\t{op_id(i)} -> {node_id(i)}\n")
    for e in sorted(t.edges, key=lambda e: (e.node, e.slot)):
        g.body.append(f"\t{node_id(e.child)} -> {op_id(e.node)}\n")
    return g

"""The step-through page at neuron level: one frame per neuron call, for graphs too large to
step through scalar by scalar.

Each neuron call is one node (as in ``draw_graph(collapse='neuron')``); values outside
neurons (the inputs, the loss) stay scalar. A frame takes one unit in backward order, a
neuron or a scalar node, and adds what it passes back to each of the nodes it reads: for a
neuron, the sum of the contributions through its weights to each input, with its
parameters' gradients listed. The numbers come from the same traced graph as the scalar
frames, so the last frame shows the engine's grads.
"""

from __future__ import annotations

from .drawing import Builder, edge_attrs, emit, new_graph, value_label
from .graph import scalar_view, view_names
from .render import Graph
from .style import fmt
from .trace import TracedGraph, edge_id, neuron_edge_id, neuron_id, node_id, result_edge_id

__all__ = ["neuron_frames", "neuron_graph", "visible_id"]


def visible_id(t: TracedGraph, owner: dict[int, int], i: int) -> str | None:
    """The id of the node that shows value ``i``: its neuron's node for a neuron's output, its
    own node outside neurons, None for a value inside a neuron."""
    if i not in owner:
        return node_id(i)
    k = owner[i]
    return neuron_id(k) if t.clusters[k].output == i else None


def neuron_frames(t: TracedGraph) -> tuple[list[dict], dict[str, str]]:
    """The frames, and each shown node's widest grad text (to lay the page out with)."""
    owner = t.owner()
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    widest: dict[str, str] = {}
    out = []

    def add(target: str, amount: float) -> str:
        before = totals.get(target, 0.0)
        totals[target] = before + amount
        counts[target] = counts.get(target, 0) + 1
        text = f"{fmt(before)} + {fmt(amount)} = {fmt(totals[target])}" if counts[target] > 1 \
            else fmt(totals[target])
        if len(f"grad {text}") > len(widest.get(target, "")):
            widest[target] = f"grad {text}"
        return text

    first = True
    for i in t.backward_order():
        me = visible_id(t, owner, i)
        if me is None:
            continue
        name = t.names[i]
        lines = [f"{name}.grad = 1 (seed: d{name}/d{name})"] if first else []
        setting: dict[str, str] = {me: f"grad {fmt(t.grads[i])}"} if first else {}
        if first:
            widest[me] = f"grad {fmt(t.grads[i])}"
        first = False
        if i in owner:  # a neuron's output: everything the neuron passes back, summed per input
            c = t.clusters[owner[i]]
            members = set(c.members)
            title = f"neuron {c.name}: pass its grad {fmt(t.grads[i])} back through its weights"
            for p in c.params:
                lines.append(f"  {t.names[p]}.grad = {fmt(t.grads[p])}")
            passed: dict[int, float] = {}
            for m in sorted(members, reverse=True):
                for e in t.edges_of(m):
                    if e.child not in members:
                        passed[e.child] = passed.get(e.child, 0.0) + e.contribution
            edges = []
            for j in c.inputs:
                target = visible_id(t, owner, j)
                if target is None or j not in passed:
                    continue
                text = add(target, passed[j])
                lines.append(f"{t.names[j]}.grad += {fmt(passed[j])} (through {c.name}'s weights)")
                lines.append(f"  {t.names[j]}.grad = {text}")
                if not t.values[j].is_constant:
                    setting[target] = f"grad {text}"
                edges.append(neuron_edge_id(owner[i], j))
        else:
            v = t.values[i]
            if v.is_leaf:
                title = f"{name} is {'a constant' if v.is_constant else 'a leaf'}: its grad is final"
                lines.append(f"{name}.grad = {fmt(t.grads[i])}")
                edges = []
            else:
                title = f"{name} = {t.expression(i)}: pass {name}.grad = {fmt(t.grads[i])} back"
                edges = [result_edge_id(i)]
                for e in t.edges_of(i):
                    child = t.names[e.child]
                    target = visible_id(t, owner, e.child)
                    lines.append(f"∂{name}/∂{child} = {fmt(e.local)}")
                    lines.append(f"  {child}.grad += {fmt(e.upstream)} × {fmt(e.local)} = "
                                 f"{fmt(e.contribution)}")
                    edges.append(edge_id(i, e.slot))
                    if target is None:
                        continue
                    text = add(target, e.contribution)
                    lines.append(f"  {child}.grad = {text}")
                    if not t.values[e.child].is_constant:
                        setting[target] = f"grad {text}"
        out.append({"node": me, "title": title, "lines": lines, "edges": edges, "set": setting})
    return out, widest


def neuron_graph(t: TracedGraph, rankdir: str, grad_rows: dict[str, str]) -> Graph:
    """One node per neuron call, other values scalar; grad rows from ``grad_rows`` (by id)."""
    owner = t.owner()
    g = new_graph(rankdir, "svg")
    b = Builder()
    for k, c in enumerate(t.clusters):
        out = t.values[c.output]
        nid = neuron_id(k)
        label = value_label(c.name, [f"data {fmt(out.data)}"], grad_rows.get(nid, "grad ?"))
        b.node(("n", k), f'\t{nid} [id="{nid}" label={label} shape=box style="rounded,filled" '
                         f'fillcolor="#EEF5E8" penwidth=1.5]\n')
        for j in c.inputs:
            src = visible_id(t, owner, j) or node_id(j)
            b.edge(f'\t{src} -> {nid} [id="{neuron_edge_id(k, j)}" {edge_attrs(None, 0.0, None)}]\n')
    names = view_names(t, False)
    scalar_view(t, b, lambda i: None, lambda i: i not in owner,
                lambda j: visible_id(t, owner, j) or node_id(j), None, names, set(),
                lambda i: grad_rows.get(node_id(i), "grad ?"), colours=False)
    emit(g, b, t, t.clusters, "n")
    return g

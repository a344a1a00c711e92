"""The collapsed view: one node per neuron call, weights and their gradients on its edges."""

from __future__ import annotations

from .clusters import Cluster
from .layout import Builder, Layout, edge_attrs, grad_line, value_label
from .style import fmt, largest

__all__ = ["neuron_view"]


def neuron_view(lay: Layout, b: Builder, clusters: list[Cluster], edge_labels: bool) -> dict[int, int]:
    """One node per module call (``n<k>``) and the edges from its inputs.

    Returns the cluster of each node inside one; the caller draws the other nodes scalar by
    scalar, pointing edges from inside a module at the module's node.
    """
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
        user = lay.nodes[e.node]
        partner = user._prev[1 - e.slot] if user._op == "*" else None  # w * x: x's weight
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
        # an output relabelled by hand (out.label = "out") keeps the name it was given
        title = c.name if out.label in ("", c.name) else f"{c.name} ({out.label})"
        b.node(("n", k), f'\tn{k} [id="n{k}" label={value_label(title, rows, grad)} '
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
                   f"{edge_attrs(shown, big if ws else lay.largest, label)}]\n")
    return owner



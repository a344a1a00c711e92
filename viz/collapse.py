"""The collapsed view: one node per neuron call, weights and their gradients on its edges."""

from __future__ import annotations

from .drawing import Builder, edge_attrs, grad_line, value_label
from .escape import dot_quote, record_text
from .names import is_bias, short_name
from .style import fmt, largest
from .trace import TracedGraph, neuron_edge_id, neuron_id, node_id

__all__ = ["neuron_view"]


def neuron_view(t: TracedGraph, b: Builder, labels: str | None, unbalanced: set[int],
                tooltips: bool = False) -> dict[int, int]:
    """One node per module call (``n<k>``) and the edges from its inputs.

    ``labels``: the DOT attribute of the edge labels (``label``, ``xlabel``) or None for none;
    ``tooltips``: give each edge its label's text as a tooltip instead.
    Returns the cluster of each node inside one; the caller draws the other nodes scalar by
    scalar, pointing edges from inside a module at the module's node.
    """
    owner = t.owner()
    source = lambda j: neuron_id(owner[j]) if j in owner else node_id(j)  # noqa: E731
    passed: dict[tuple[int, int], float] = {}       # (cluster, input) -> contributions passed back
    weights: dict[tuple[int, int], list[int]] = {}  # (cluster, input) -> weight leaves
    for e in t.edges:
        k = owner.get(e.node)
        if k is None or owner.get(e.child) == k:
            continue
        if e.contribution is not None:
            passed[k, e.child] = passed.get((k, e.child), 0.0) + e.contribution
        if t.values[e.node]._op == "*":  # w * x: x's weight is the other operand
            partner = t.edges_of(e.node)[1 - e.slot].child
            if t.kinds[partner] == "parameter":
                weights.setdefault((k, e.child), []).append(partner)
    wgrads = [t.values[w].grad for ws in weights.values() for w in ws] if t.has_grad else []
    big = largest(wgrads)
    big_back = t.largest()
    for k, c in enumerate(t.clusters):
        out = t.values[c.output]
        rows = [f"data {fmt(out.data)}"]
        bias = [p for p in c.params if is_bias(t.values[p].label)]
        if bias and t.has_grad:
            rows.append(f"∂b {fmt(t.values[bias[0]].grad)}")
        grad = grad_line(t, c.output, [e for e in t.incoming(c.output) if owner.get(e.node) != k],
                         unbalanced)
        # an output relabelled by hand (out.label = "out") keeps the name it was given
        title = c.name if out.label in ("", c.name) else f"{c.name} ({out.label})"
        b.node(("n", k), f'\t{neuron_id(k)} [id="{neuron_id(k)}" label={value_label(title, rows, grad)} '
                         f'shape=box style="rounded,filled" fillcolor="#EEF5E8" penwidth=1.5]\n')
        for j in c.inputs:
            ws = weights.get((k, j), [])
            back = passed.get((k, j))
            wgrad = sum(t.values[w].grad for w in ws) if (ws and t.has_grad) else None
            lines = []
            for w in ws:
                short = short_name(t.values[w].label, c.name)
                lines.append(f"{short} = {fmt(t.values[w].data)}"
                             + (f", ∂{short} = {fmt(t.values[w].grad)}" if t.has_grad else ""))
            if back is not None:
                lines.append(f"passes back {fmt(back)}")
            label = "\n".join(lines) if labels and lines else None
            shown = wgrad if ws else back
            tip = f" tooltip={dot_quote(record_text('; '.join(lines)))}" if tooltips and lines else ""
            b.edge(f'\t{source(j)} -> {neuron_id(k)} [id="{neuron_edge_id(k, j)}" '
                   f"{edge_attrs(shown, big if ws else big_back, label, labels or 'label')}{tip}]\n")
    return owner

"""The chain rule as text: one line per edge, in the order ``backward()`` visits them."""

from __future__ import annotations

from autograd import Value

from .flow import derivative_text, operand_names, rule_text, trace
from .style import fmt

__all__ = ["explain"]


def explain(root: Value, digits: int = 6) -> str:
    """The backward pass of ``root`` as text, one line per edge, in backward order.

    Each line reads ``k. node = expression | ∂node/∂operand = rule = local | upstream ×
    local = contribution | operand.grad = running total``; where an operand is reached a
    second time the running total shows the sum (``before + contribution = total``). The
    pass is replayed from a fresh start (seed grad 1), so it needs no ``backward()`` first
    and leaves every ``.grad`` untouched. A last line lists the leaves' gradients.
    """
    t = trace(root)
    index = {v: i for i, v in enumerate(t.nodes)}
    n = lambda x: fmt(x, digits)
    r = index[root]
    lines = [f"backward from {t.names[r]} = {n(root.data)}: {t.names[r]}.grad = 1 (seed)"]
    for k, s in enumerate(t.steps, 1):
        node = t.nodes[s.node]
        words = operand_names(node, index, t.names)
        expr = rule_text(node.rule.math, words)
        rule = rule_text(s.formula, words)
        local = n(s.local)
        deriv = f"∂{t.names[s.node]}/∂{t.names[s.child]} = {derivative_text(rule, local)}"
        total = (f"{n(s.before)} + {n(s.contribution)} = {n(s.total)}" if s.count > 1
                 else n(s.total))
        lines.append(f"{k}. {t.names[s.node]} = {expr} | {deriv} | {n(s.upstream)} × {local} = "
                     f"{n(s.contribution)} | {t.names[s.child]}.grad = {total}")
    leaves = [i for i, v in enumerate(t.nodes) if v.is_leaf and not v.is_constant]
    lines.append("leaf grads: " + ", ".join(f"{t.names[i]} = {n(t.grads[i])}" for i in leaves))
    return "\n".join(lines)

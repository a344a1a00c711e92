"""The chain rule as text: one line per edge, in the order ``backward()`` visits them."""

from __future__ import annotations

import math

from chainrule.autograd import Value

from .checks import check_count, check_root
from .drawing import SUM_TOLERANCE
from .style import fmt
from .trace import derivative_text, trace

__all__ = ["explain"]


def explain(root: Value, digits: int = 6) -> str:
    """The backward pass of ``root`` as text, one line per edge, in backward order.

    Each line reads ``k. node = expression | ∂node/∂operand = rule = local | upstream ×
    local = contribution | operand.grad = running total``; where an operand is reached a
    second time the running total shows the sum (``before + contribution = total``). The
    pass is replayed from a fresh start (seed grad 1), so it needs no ``backward()`` first
    and leaves every ``.grad`` untouched. A last line lists the leaves' gradients; after
    ``backward()``, leaves whose stored ``.grad`` differs from the replay (accumulated over
    several passes, or computed before ``.data`` changed) are listed on one more line.
    Unlabelled values are named from where they sit (see :mod:`viz.names`).
    """
    check_root(root, "explain")
    check_count(digits, "digits", "explain")
    t = trace(root)
    n = lambda x: fmt(x, digits)  # noqa: E731 - one short local helper
    r = t.root
    lines = [f"backward from {t.names[r]} = {n(root.data)}: {t.names[r]}.grad = 1 (seed)"]
    for k, s in enumerate(t.edges, 1):
        local = n(s.local)
        deriv = f"∂{t.names[s.node]}/∂{t.names[s.child]} = {derivative_text(t.rule(s), local)}"
        total = (f"{n(s.before)} + {n(s.contribution)} = {n(s.total)}" if s.count > 1
                 else n(s.total))
        lines.append(f"{k}. {t.names[s.node]} = {t.expression(s.node)} | {deriv} | {n(s.upstream)} × "
                     f"{local} = {n(s.contribution)} | {t.names[s.child]}.grad = {total}")
    leaves = [i for i, v in enumerate(t.values) if v.is_leaf and not v.is_constant]
    lines.append("leaf grads: " + ", ".join(f"{t.names[i]} = {n(t.grads[i])}" for i in leaves))
    # The replay is one pass from the current data; the stored grads may be from elsewhere.
    # root.grad == 0 means backward() has not run, and then there is nothing to compare.
    differ = [i for i in leaves if root.grad != 0 and t.values[i].grad != t.grads[i]
              and not math.isclose(t.values[i].grad, t.grads[i], rel_tol=SUM_TOLERANCE)]
    if differ:
        lines.append("stored grads differ: " + ", ".join(f"{t.names[i]}.grad = {n(t.values[i].grad)}"
                                                         for i in differ)
                     + " (accumulated over several backward() calls, used outside this graph, "
                       "or data changed after backward())")
    return "\n".join(lines)

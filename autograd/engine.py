"""The backward pass: order the graph, then apply the chain rule from the output down.

The walk recurses a bounded number of levels (fast) and continues on an explicit stack
(unbounded), so a graph a million nodes deep works from any call depth, and the
interpreter's recursion limit is restored as the user set it, also when several threads
walk graphs at once.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Iterable, Sequence

from . import mode
from .value import Value, _const

__all__ = ["topo_order", "backward", "grad", "Outputs"]


RECURSION_DEPTH = 1000
"""Levels walked by recursion, under a temporarily raised limit, before an explicit stack
takes over. Recursion is about a third faster on wide graphs; the stack has no depth limit."""


_raise_lock = threading.Lock()
_walkers = 0  # topo_order calls running, in all threads
_user_limit = 0  # the recursion limit before the first of them raised it


def _enter() -> None:
    """Raise the recursion limit for the first walk; later overlapping walks share it (the
    limit is one number for the process, but each thread's depth is checked on its own)."""
    global _walkers, _user_limit
    with _raise_lock:
        if _walkers == 0:
            _user_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(_user_limit + RECURSION_DEPTH + 50)
        _walkers += 1


def _leave() -> None:
    """The last walk to finish restores the limit the user had set."""
    global _walkers
    with _raise_lock:
        _walkers -= 1
        if _walkers == 0:
            sys.setrecursionlimit(_user_limit)


def topo_order(*roots: Value) -> list[Value]:
    """Every node reachable from ``roots``, each one after all of its operands.

    Depth-first, operands in order, so the result is the same on every run. Works at any
    depth, from any call depth and from several threads at once; the recursion limit is
    restored when the last walk returns.
    """
    return _order(roots)[0]


def _order(roots: Iterable[Value]) -> tuple[list[Value], set[Value]]:
    """``topo_order``, and the set of the nodes it placed (the walk's own, not built again)."""
    order: list[Value] = []
    seen: set[Value] = set()
    _enter()
    try:
        for root in roots:
            if root not in seen:
                seen.add(root)
                _visit(root, seen, order, RECURSION_DEPTH)
    finally:
        _leave()
    return order, seen


def _visit(node: Value, seen: set[Value], order: list[Value], budget: int) -> None:
    """Place ``node``'s unseen operands (recursively), then ``node``."""
    a = node._a
    if a is not None:
        if not budget:
            _walk(node, seen, order)
            return
        if a not in seen:
            seen.add(a)
            _visit(a, seen, order, budget - 1)
        b = node._b
        if b is not None and b not in seen:
            seen.add(b)
            _visit(b, seen, order, budget - 1)
    order.append(node)


def _walk(root: Value, seen: set[Value], order: list[Value]) -> None:
    """``_visit`` with an explicit stack, for any depth.

    The stack is always a path down from ``root``: an operand that is seen but not on the
    path is finished, so a node is placed once both operands are seen.
    """
    stack = [root]
    while stack:
        node = stack[-1]
        a = node._a
        if a is not None:
            if a not in seen:
                seen.add(a)
                stack.append(a)
                continue
            b = node._b
            if b is not None and b not in seen:
                seen.add(b)
                stack.append(b)
                continue
        order.append(stack.pop())


def _where(node: Value) -> str:
    label = f" {node.label!r}" if node.label else ""
    return f"the {node._op!r} node{label} (data={node.data!r})"


def _context(node: Value, err: Exception) -> Exception:
    return type(err)(f"backward through {_where(node)}: {err}")


def _local(node: Value, create_graph: bool = False) -> tuple:
    """``node``'s local derivatives (as Values with ``create_graph``); errors name the node."""
    try:
        if not create_graph:
            return node.local_grads()
        if node._da is None and node._db is not None:
            raise TypeError(
                f"grad(create_graph=True) cannot differentiate through {_where(node)}: its "
                "_backward is a function on floats; define the op with autograd.define_op instead"
            )
        b = node._b
        return node._rule.local_grads(node._a, node._p if b is None else b, node)
    except (ArithmeticError, ValueError) as err:
        raise _context(node, err) from err


def _not_one_value(who: str, x: object) -> TypeError:
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, Value) for v in x):
        return TypeError(
            f"{who} needs one Value (a scalar loss), got a {'tuple' if isinstance(x, tuple) else 'list'} "
            f"of {len(x)} Values: "
            "combine them into one first, e.g. sum(outputs) or a loss from chainrule.nn, or use "
            "autograd.grad(outputs, inputs), which takes several outputs"
        )
    return TypeError(f"{who} needs a Value, got {type(x).__name__}")


def backward(root: Value) -> None:
    """Set ``node.grad`` = d(root)/d(node) for every node; leaves accumulate (see Value.backward).

    A node with a ``_backward`` function assigned (the lecture's way to write an op) has it
    called in its place in the order, once this node's grad is complete.
    """
    if not isinstance(root, Value):
        raise _not_one_value("backward()", root)
    order = topo_order(root)
    for node in order:
        if node._a is not None:
            node.grad = 0.0
    root.grad += 1.0
    if mode.is_anomaly_enabled():
        _checked_backward(order)
        return
    for node in reversed(order):
        a = node._a
        if a is None:
            continue
        g = node.grad
        da = node._da
        if da is None:
            fn = node._db
            if fn is not None:  # a _backward assigned by hand: it adds to the operands itself
                fn()
                continue
            local = _local(node)  # a lazy rule: derivatives now, from the table
            a.grad += local[0] * g
            if len(local) == 2:
                node._b.grad += local[1] * g
            continue
        a.grad += da * g
        db = node._db
        if db is not None:
            node._b.grad += db * g


def _checked_backward(order: list[Value]) -> None:
    """``backward``'s loop under ``detect_anomaly()``: stop at the first node that passes
    back a gradient that is not finite, naming it, its operands and the numbers."""
    for node in reversed(order):
        if node._a is None:
            continue
        operands = node._prev
        before = [v.grad for v in operands]
        if node._da is None and node._db is not None:
            node._db()
            locals_ = None
        else:
            locals_ = _local(node)
            for v, local in zip(operands, locals_):
                v.grad += local * node.grad
        for i, v in enumerate(operands):
            if not math.isfinite(v.grad) and math.isfinite(before[i]):
                how = (f"local derivative {locals_[i]!r} x upstream grad {node.grad!r}"
                       if locals_ is not None else "from its _backward")
                names = ", ".join(mode.describe(u) for u in operands)
                raise mode.AnomalyError(
                    f"detect_anomaly: backward through {_where(node)}, operands ({names}): the "
                    f"gradient passed to operand {i} is not finite ({how}); "
                    "the first backward step whose result is not finite"
                )


class Outputs(list):
    """A list of output Values (a layer's or an MLP's): a plain list, except that
    ``.backward()`` explains that backward needs one Value, as PyTorch does for a non-scalar."""

    def backward(self) -> None:
        """Refused: combine the outputs into one Value (a loss) first."""
        raise _not_one_value(".backward()", list(self))


Values = Value | Sequence[Value]


def _as_list(x: Values | Iterable[Value], what: str, who: str = "grad()") -> list[Value]:
    """One Value or several as a list; ``who`` (the calling function) names a non-Value item."""
    items = [x] if isinstance(x, Value) else list(x)
    for i, item in enumerate(items):
        if not isinstance(item, Value):
            raise TypeError(f"{who}: {what}[{i}] must be a Value, got {type(item).__name__}")
    return items


def grad(
    outputs: Values,
    inputs: Values,
    grad_outputs: Sequence[float] | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> Value | float | list:
    """d(outputs)/d(inputs), without reading or writing any ``.grad``.

    Several outputs are summed (each weighted by ``grad_outputs`` if given). Returns one
    gradient for a single input Value, else a list in the order of ``inputs``. An input the
    outputs were not computed from is an error, as in PyTorch, unless ``allow_unused=True``
    (then its gradient is 0, where PyTorch gives None). With ``create_graph=True`` the
    gradients are Values with their own graph, so they can be differentiated again
    (Hessians, third derivatives).
    """
    outs = _as_list(outputs, "outputs")
    ins = _as_list(inputs, "inputs")
    weights = [1.0] * len(outs) if grad_outputs is None else list(grad_outputs)
    if len(weights) != len(outs):
        raise ValueError(f"grad(): {len(outs)} outputs but {len(weights)} grad_outputs")
    order, reached = _order(outs)
    if not allow_unused:
        for i, x in enumerate(ins):
            if x not in reached:
                where = "the input" if isinstance(inputs, Value) else f"inputs[{i}]"
                raise ValueError(
                    f"grad(): {where} ({x!r}) was not used to compute the outputs; pass "
                    "allow_unused=True to get 0 for it"
                )
    keep = set(ins)
    grads: dict[Value, object] = {}
    for out, w in zip(outs, weights):
        grads[out] = grads.get(out, 0.0) + w
    checked = mode.is_anomaly_enabled()
    with mode.enable_grad() if create_graph else mode.no_grad():
        for node in reversed(order):
            a = node._a
            g = grads.get(node) if node in keep else grads.pop(node, None)
            if a is None or g is None:
                continue
            local = _local(node, create_graph)
            if checked:
                _check_local(node, local, g)
            grads[a] = grads.get(a, 0.0) + local[0] * g
            if len(local) == 2:
                grads[node._b] = grads.get(node._b, 0.0) + local[1] * g
    result = [grads.get(x, 0.0) for x in ins]
    if create_graph:
        result = [g if isinstance(g, Value) else _const(g) for g in result]
    return result[0] if isinstance(inputs, Value) else result


def _check_local(node: Value, local: tuple, g: object) -> None:
    """``grad``'s anomaly check: every contribution this node passes back is finite."""
    for i, d in enumerate(local):
        c = d * g
        c = c.data if isinstance(c, Value) else c
        if not math.isfinite(c):
            names = ", ".join(mode.describe(u) for u in node._prev)
            raise mode.AnomalyError(
                f"detect_anomaly: grad() through {_where(node)}, operands ({names}): the gradient "
                f"passed to operand {i} is not finite (local derivative {d!r} x upstream grad {g!r})"
            )

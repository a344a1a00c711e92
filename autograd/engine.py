"""The backward pass: order the graph, then apply the chain rule from the output down.

The walk recurses a bounded number of levels (fast) and continues on an explicit stack
(unbounded), so a graph a million nodes deep works from any call depth, and the
interpreter's recursion limit is restored as the user set it, also when several threads
walk graphs at once.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Sequence

from . import mode
from .value import Value, _const

__all__ = ["topo_order", "backward", "grad"]


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
    return order


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


def _context(node: Value, err: Exception) -> Exception:
    return type(err)(f"backward through the {node._op!r} node (data={node.data!r}): {err}")


def _local(node: Value, create_graph: bool = False) -> tuple:
    """``node``'s local derivatives (as Values with ``create_graph``); errors name the node."""
    try:
        if not create_graph:
            return node.local_grads()
        b = node._b
        return node._rule.local_grads(node._a, node._p if b is None else b, node)
    except (ArithmeticError, ValueError) as err:
        raise _context(node, err) from err


def backward(root: Value) -> None:
    """Set ``node.grad`` = d(root)/d(node) for every node; leaves accumulate (see Value.backward)."""
    if not isinstance(root, Value):
        raise TypeError(f"backward() needs a Value, got {type(root).__name__}")
    order = topo_order(root)
    for node in order:
        if node._a is not None:
            node.grad = 0.0
    root.grad += 1.0
    for node in reversed(order):
        a = node._a
        if a is None:
            continue
        g = node.grad
        da = node._da
        if da is None:  # a lazy rule: derivatives now, from the table
            local = _local(node)
            a.grad += local[0] * g
            if len(local) == 2:
                node._b.grad += local[1] * g
            continue
        a.grad += da * g
        db = node._db
        if db is not None:
            node._b.grad += db * g


Values = Value | Sequence[Value]


def _as_list(x: Values | Iterable[Value], what: str) -> list[Value]:
    items = [x] if isinstance(x, Value) else list(x)
    for i, item in enumerate(items):
        if not isinstance(item, Value):
            raise TypeError(f"grad(): {what}[{i}] must be a Value, got {type(item).__name__}")
    return items


def grad(
    outputs: Values,
    inputs: Values,
    grad_outputs: Sequence[float] | None = None,
    create_graph: bool = False,
) -> Value | float | list:
    """d(outputs)/d(inputs), without reading or writing any ``.grad``.

    Several outputs are summed (each weighted by ``grad_outputs`` if given). Returns one
    gradient for a single input Value, else a list in the order of ``inputs``; an input the
    outputs do not depend on gets 0. With ``create_graph=True`` the gradients are Values with
    their own graph, so they can be differentiated again (Hessians, third derivatives).
    """
    outs = _as_list(outputs, "outputs")
    ins = _as_list(inputs, "inputs")
    weights = [1.0] * len(outs) if grad_outputs is None else list(grad_outputs)
    if len(weights) != len(outs):
        raise ValueError(f"grad(): {len(outs)} outputs but {len(weights)} grad_outputs")
    keep = set(ins)
    grads: dict[Value, object] = {}
    for out, w in zip(outs, weights):
        grads[out] = grads.get(out, 0.0) + w
    with mode.enable_grad() if create_graph else mode.no_grad():
        for node in reversed(topo_order(*outs)):
            a = node._a
            g = grads.get(node) if node in keep else grads.pop(node, None)
            if a is None or g is None:
                continue
            local = _local(node, create_graph)
            grads[a] = grads.get(a, 0.0) + local[0] * g
            if len(local) == 2:
                grads[node._b] = grads.get(node._b, 0.0) + local[1] * g
    result = [grads.get(x, 0.0) for x in ins]
    if create_graph:
        result = [g if isinstance(g, Value) else _const(g) for g in result]
    return result[0] if isinstance(inputs, Value) else result

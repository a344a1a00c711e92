"""Forward mode: the directional derivative of outputs along a tangent, from the same local
derivatives ``backward()`` uses.

``jvp(outputs, inputs, tangents)`` walks the graph once, operands before users, carrying the
tangent ṫ(node) = Σ local(node, operand) · ṫ(operand) from the inputs up; each output's
tangent is its directional derivative Σ_j d(output)/d(input_j) · tangent_j. One forward pass
gives the derivative of every output along one direction; one reverse pass (``grad``) gives
the derivative of one output along every direction: which is why training, one loss and
many parameters, runs in reverse.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

from .engine import _as_list, topo_order
from .value import Value

__all__ = ["jvp", "forward_tangents"]


def forward_tangents(outputs: Value | Iterable[Value], inputs: Value | Iterable[Value],
                     tangent: float | Sequence[float]) -> dict[Value, float]:
    """The tangent d(node)/d(direction) of every node under ``outputs`` (see :func:`jvp`)."""
    outs = _as_list(outputs, "outputs", "jvp()")
    ins = _as_list(inputs, "inputs", "jvp()")
    along = [tangent] if isinstance(tangent, numbers.Real) else list(tangent)
    if len(along) != len(ins):
        raise ValueError(f"jvp(): {len(ins)} inputs but {len(along)} tangents")
    for i, t in enumerate(along):
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t):
            raise TypeError(f"jvp(): tangents[{i}] must be a finite real number, got {t!r}")
    seed: dict[Value, float] = {}
    for x, t in zip(ins, along):
        seed[x] = seed.get(x, 0.0) + float(t)  # an input given twice moves by both
    out: dict[Value, float] = {}
    for node in topo_order(*outs):
        if node in seed:
            out[node] = seed[node]  # an input is moved as told, whatever it is computed from
            continue
        operands = node._prev
        if not operands:
            out[node] = 0.0
            continue
        try:
            local = node.local_grads()
        except (ArithmeticError, ValueError) as err:
            raise type(err)(f"jvp(): local derivative of the {node._op!r} node "
                            f"{node.label or repr(node)}: {err}") from err
        total = 0.0
        for d, operand in zip(local, operands):
            total += d * out[operand]
        out[node] = total
    return out


def jvp(outputs: Value | Iterable[Value], inputs: Value | Iterable[Value],
        tangents: float | Sequence[float]) -> float | list[float]:
    """The directional derivative of each output along ``tangents``: Σ_j d(out)/d(inputs[j]) ·
    tangents[j], by forward mode (one tangent may be a number for one input). A single output
    Value gives a float, else a list in order. Reads and writes no ``.grad``; an output that
    does not depend on the inputs gets 0.
    """
    outs = _as_list(outputs, "outputs", "jvp()")
    along = forward_tangents(outs, inputs, tangents)
    result = [along[o] for o in outs]
    return result[0] if isinstance(outputs, Value) else result

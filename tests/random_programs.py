"""Random small graphs for property tests, and their float twin: an oracle that knows nothing of derivatives.

A program is inputs, then steps ``(op, i, j)`` that each read earlier values and make exactly
one node. ``build`` runs it on Values, ``run_floats`` on plain floats (optionally shifting one
value by ``h``, for central differences). Used by the practice, forward-mode and paths tests.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from chainrule.autograd import Value

UNARY = {
    "tanh": (lambda v: v.tanh(), math.tanh),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x))),
    "sin": (lambda v: v.sin(), math.sin),
    "neg": (lambda v: -v, lambda x: -x),
    "square": (lambda v: v ** 2, lambda x: x * x),
}
BINARY = {
    "+": (lambda a, b: a + b, lambda a, b: a + b),
    "-": (lambda a, b: a - b, lambda a, b: a - b),
    "*": (lambda a, b: a * b, lambda a, b: a * b),
    "/": (lambda a, b: a / b, lambda a, b: a / b),
}

SETTINGS = settings(derandomize=True, max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
"""The settings of every test over random programs (``settings(SETTINGS, max_examples=...)``)."""


@st.composite
def programs(draw):
    """Inputs, then steps (op, i, j) reading earlier values; every step makes exactly one node."""
    n_in = draw(st.integers(1, 3))
    inputs = draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=n_in, max_size=n_in))
    steps = []
    for k in range(draw(st.integers(1, 7))):
        have = n_in + k
        op = draw(st.sampled_from(sorted(UNARY) + sorted(BINARY)))
        i = draw(st.integers(0, have - 1))
        j = draw(st.integers(0, have - 1))  # may equal i: a + a, x * x
        steps.append((op, i, j))
    return inputs, steps


def run_floats(inputs, steps, bump=None, h=0.0):
    """The program on plain floats; ``bump``: the index of the value to shift by ``h``."""
    vals = []
    for k, x in enumerate(inputs):
        vals.append(x + (h if bump == k else 0.0))
    for op, i, j in steps:
        if op in UNARY:
            y = UNARY[op][1](vals[i])
        else:
            y = BINARY[op][1](vals[i], vals[j])
        vals.append(y + (h if bump == len(vals) else 0.0))
    return vals


def build(inputs, steps):
    """The program on Values labelled x0, x1, ...: every value, inputs first, the output last."""
    vals = [Value(x, label=f"x{k}") for k, x in enumerate(inputs)]
    for op, i, j in steps:
        vals.append(UNARY[op][0](vals[i]) if op in UNARY else BINARY[op][0](vals[i], vals[j]))
    return vals


def usable(inputs, steps) -> bool:
    """No division by a value near 0 (or exactly 0 on the way), nothing huge: central
    differences stay accurate."""
    try:
        vals = run_floats(inputs, steps)
    except ArithmeticError:  # a division by exactly 0, an overflow
        return False
    for op, _, j in steps:
        if op == "/" and abs(vals[j]) < 0.3:
            return False
    return all(abs(v) < 50 for v in vals)


def central(f, h=1e-6):
    """The central difference of ``f(h)`` at 0."""
    return (f(h) - f(-h)) / (2 * h)

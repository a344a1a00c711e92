"""The built-in exercises: small graphs from the curriculum, each built fresh by name.

``lesson(name)`` returns the output Value of a new graph (backward not run), ready for
:func:`viz.write_practice` or ``chainrule practice NAME``.
"""

from __future__ import annotations

from collections.abc import Callable

from chainrule.autograd import Value

__all__ = ["LESSONS", "lesson"]


def _neuron() -> Value:
    """The lecture's neuron: o = tanh(x1*w1 + x2*w2 + b), with the lecture's numbers."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1*w1 + x2*w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def _tutorial() -> Value:
    """The tutorial's 3-4-1 sigmoid network (seed 1, untrained) on its second row, [0, 1, 1]
    with target 1: the loss (y - output)**2."""
    from chainrule import nn

    X, y = nn.data.tutorial()
    model = nn.tutorial_network(seed=1)
    inputs = [Value(float(v), label=f"x{i}") for i, v in enumerate(X[1])]
    err = Value(float(y[1]), label="y") - model(inputs)
    err.label = "err"
    loss = err ** 2
    loss.label = "loss"
    return loss


def _twice() -> Value:
    """b = a + a: one value used twice, so its grad is the sum of two contributions."""
    a = Value(3.0, label="a")
    b = a + a
    b.label = "b"
    return b


def _diamond() -> Value:
    """x feeds two paths that meet again: out = tanh(x) * exp(x)."""
    x = Value(0.5, label="x")
    u = x.tanh()
    u.label = "u"
    v = x.exp()
    v.label = "v"
    out = u * v
    out.label = "out"
    return out


def _division() -> Value:
    """q = (a + b) / b: the quotient rule's two local derivatives, and b used twice."""
    a, b = Value(3.0, label="a"), Value(-2.0, label="b")
    s = a + b
    s.label = "s"
    q = s / b
    q.label = "q"
    return q


def _power() -> Value:
    """y = (x * w) ** 3 + x ** w: the power rule, and an exponent that is itself a variable."""
    x, w = Value(1.5, label="x"), Value(2.0, label="w")
    xw = x * w
    xw.label = "xw"
    cube = xw ** 3
    cube.label = "cube"
    pw = x ** w
    pw.label = "x**w"
    y = cube + pw
    y.label = "y"
    return y


LESSONS: dict[str, tuple[str, Callable[[], Value]]] = {
    "neuron": ("the lecture's neuron, tanh(x1*w1 + x2*w2 + b)", _neuron),
    "tutorial": ("the tutorial's 3-4-1 network on one sample, its squared error", _tutorial),
    "a+a": ("a value used twice: b = a + a", _twice),
    "diamond": ("two paths that meet: tanh(x) * exp(x)", _diamond),
    "division": ("a quotient: (a + b) / b", _division),
    "power": ("powers: (x*w)**3 + x**w", _power),
}
"""name -> (what it is, a function building its graph)."""


def lesson(name: str) -> Value:
    """A fresh graph of the built-in exercise ``name`` (one of :data:`LESSONS`)."""
    if not isinstance(name, str) or name not in LESSONS:
        raise ValueError(f"no built-in exercise named {name!r}; choose one of {', '.join(LESSONS)}")
    return LESSONS[name][1]()

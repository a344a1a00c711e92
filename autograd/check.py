"""``gradcheck``: the engine's gradient against central differences."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from .engine import grad
from .mode import no_grad
from .value import Value, _as_float

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """The analytic and numeric gradients disagree; the message is a per-input table."""


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float],
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
) -> bool:
    """Check ``f``'s gradient at ``inputs`` against (f(x+eps) - f(x-eps)) / (2 eps).

    ``f`` takes one Value per input and returns a Value. Returns True when every input
    satisfies |analytic - numeric| <= atol + rtol * |numeric|; otherwise raises
    GradcheckError with a table of both gradients for every input.
    """
    for name, tol, least in (("eps", eps, "> 0"), ("atol", atol, ">= 0"), ("rtol", rtol, ">= 0")):
        tol = _as_float(tol, f"gradcheck {name}")
        if not (0 < tol < math.inf or (least == ">= 0" and tol == 0)):
            raise ValueError(f"gradcheck: {name} must be a finite number {least}, got {tol!r}")
    xs = [_as_float(x.data if isinstance(x, Value) else x, f"gradcheck inputs[{i}]")
          for i, x in enumerate(inputs)]
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    analytic = grad(out, leaves, allow_unused=True)  # an input f ignores has gradient 0

    def at(i: int, x: float) -> float:
        args = [Value(x if j == i else v) for j, v in enumerate(xs)]
        with no_grad():
            return f(*args).data

    numeric = [(at(i, x + eps) - at(i, x - eps)) / (2 * eps) for i, x in enumerate(xs)]
    # "not <=" so that a NaN on either side counts as a mismatch
    bad = [not abs(a - n) <= atol + rtol * abs(n) for a, n in zip(analytic, numeric)]
    if any(bad):
        rows = [f"{'input':>5} {'value':>14} {'analytic':>16} {'numeric':>16} {'abs diff':>11}"]
        for i, (x, a, n, b) in enumerate(zip(xs, analytic, numeric, bad)):
            mark = "  <- mismatch" if b else ""
            rows.append(f"{i:>5} {x:>14.6g} {a:>16.9g} {n:>16.9g} {abs(a - n):>11.3g}{mark}")
        raise GradcheckError(
            f"gradient mismatch (eps={eps}, atol={atol}, rtol={rtol}):\n" + "\n".join(rows)
        )
    return True

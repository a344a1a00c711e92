"""The one table of operations: how each computes its output and its local derivatives.

Every op is a :class:`Rule`. ``forward`` maps floats to a float and raises a clear error
outside the op's domain. ``local`` returns the local derivatives d(out)/d(operand_i) and is
written in plain arithmetic, so it runs on floats (the fast path of ``backward``) and on
Values (``grad(..., create_graph=True)``, which is how higher-order gradients come for free).
``formula`` is the same rule as text, for the renderer's edge labels and ``viz.explain``.

The arguments of ``local`` are ``(a, b, out)``: the operands and the op's output. For an op
with one operand, ``b`` is the op's constant parameter (the exponent of ``x ** 3``, the slope
of ``leaky_relu``) or ``None``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Rule", "RULES", "CONST", "OpError"]


class OpError(ValueError):
    """An operation was applied outside its domain (log of 0, sqrt of -1, ...)."""


# Functions that work on a float (math) or on a Value (its method), so that a derivative
# rule such as ``cos(a)`` serves both the float fast path and create_graph.
def _exp(x: Any) -> Any:
    return math.exp(x) if type(x) is float else x.exp()


def _log(x: Any) -> Any:
    return _log_f(x) if type(x) is float else x.log()


def _exponent_log(a: Any) -> Any:
    if _data(a) < 0:
        raise OpError(
            f"a ** b with a = {_data(a)!r} < 0: the derivative with respect to b needs log(a), "
            "which is not real; write a ** NUMBER if the exponent is a constant"
        )
    return _log(a)


def _sin(x: Any) -> Any:
    return math.sin(x) if type(x) is float else x.sin()


def _cos(x: Any) -> Any:
    return math.cos(x) if type(x) is float else x.cos()


def _sigmoid(x: Any) -> Any:
    return _sigmoid_f(x) if type(x) is float else x.sigmoid()


def _data(x: Any) -> float:
    return x if type(x) is float else x.data


def _sign(x: Any) -> float:
    x = _data(x)
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


# Forward functions on floats, with errors that name the op and the operand.
def _fmt(x: float) -> str:
    return repr(float(x))


def _div_f(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError(f"division by zero in a / b: a = {_fmt(a)}, b = 0")
    return a / b


def _pow_f(a: float, p: float) -> float:
    if a == 0 and p < 0:
        raise ZeroDivisionError(f"0 ** {_fmt(p)}: zero cannot be raised to a negative power")
    if a < 0 and p != int(p):
        raise OpError(
            f"{_fmt(a)} ** {_fmt(p)}: a negative base to a non-integer power is not a real number"
        )
    try:
        return float(a**p)
    except OverflowError:
        raise OverflowError(f"{_fmt(a)} ** {_fmt(p)} overflows a float") from None


def _rpow_f(x: float, base: float) -> float:
    return _pow_f(base, x)


def _exp_f(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp({_fmt(x)}) overflows a float (largest argument is ~709.78)") from None


def _log_f(x: float) -> float:
    if x <= 0:
        raise OpError(f"log({_fmt(x)}): log needs a positive operand")
    return math.log(x)


def _sqrt_f(x: float) -> float:
    if x < 0:
        raise OpError(f"sqrt({_fmt(x)}): sqrt needs a non-negative operand")
    return math.sqrt(x)


def _sigmoid_f(x: float) -> float:
    # Two branches so that exp never overflows: finite for every finite x.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus_f(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), which never overflows.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _relu_f(x: float) -> float:
    return x if x > 0 else 0.0


def _leaky_relu_f(x: float, alpha: float) -> float:
    return x if x > 0 else alpha * x


@dataclass(frozen=True, slots=True)
class Rule:
    """One operation: its name, operand count, forward function and derivative rule.

    ``formula[i]`` states d(out)/d(operand_i) in words a learner reads on an edge, with
    operands named ``a`` and ``b``, the output ``out`` and a parameter ``p``.
    """

    name: str
    arity: int
    forward: Callable[..., float]
    local: Callable[[Any, Any, Any], tuple]
    formula: tuple[str, ...]
    math: str  # how the output is computed, e.g. "a * b"


def _rule(name: str, arity: int, forward, local, formula, mathtext) -> Rule:
    return Rule(name, arity, forward, local, tuple(formula), mathtext)


_TABLE = [
    # name, arity, forward, local derivatives (a, b, out), formula per operand, math
    _rule("+", 2, operator.add, lambda a, b, out: (1.0, 1.0), ("1", "1"), "a + b"),
    _rule("-", 2, operator.sub, lambda a, b, out: (1.0, -1.0), ("1", "-1"), "a - b"),
    _rule("*", 2, operator.mul, lambda a, b, out: (b, a), ("b", "a"), "a * b"),
    _rule("/", 2, _div_f, lambda a, b, out: (1.0 / b, -out / b), ("1/b", "-out/b"), "a / b"),
    _rule(
        "**", 2, _pow_f,
        # d/db needs log(a): defined for a > 0; 0 for a == 0 and b > 0 (the limit). For a < 0
        # it does not exist, and the error says so rather than returning NaN.
        lambda a, b, out: (b * a ** (b - 1), 0.0 if _data(a) == 0 else out * _exponent_log(a)),
        ("b * a**(b-1)", "out * log(a)"), "a ** b",
    ),
    _rule("neg", 1, lambda a: -a, lambda a, p, out: (-1.0,), ("-1",), "-a"),
    _rule(
        "pow", 1, _pow_f,
        # a ** 0 is the constant 1: its derivative is 0 even at a == 0, where 0 * 0 ** -1 fails.
        lambda a, p, out: (0.0 if p == 0 else p * a ** (p - 1),), ("p * a**(p-1)",), "a ** p",
    ),
    _rule(
        "rpow", 1, _rpow_f,
        # 0 ** a is 0 for every a > 0, so its slope is 0 (the limit of out * log(p)).
        lambda a, p, out: (0.0 if p == 0 else out * _log_f(p),), ("out * log(p)",), "p ** a",
    ),
    _rule("exp", 1, _exp_f, lambda a, p, out: (out,), ("out",), "exp(a)"),
    _rule("log", 1, _log_f, lambda a, p, out: (1.0 / a,), ("1/a",), "log(a)"),
    _rule("sqrt", 1, _sqrt_f, lambda a, p, out: (0.5 / out,), ("1/(2*out)",), "sqrt(a)"),
    _rule("tanh", 1, math.tanh, lambda a, p, out: (1.0 - out * out,), ("1 - out**2",), "tanh(a)"),
    _rule(
        "sigmoid", 1, _sigmoid_f, lambda a, p, out: (out * (1.0 - out),),
        ("out * (1 - out)",), "1 / (1 + exp(-a))",
    ),
    _rule(
        "relu", 1, _relu_f, lambda a, p, out: (1.0 if _data(a) > 0 else 0.0,),
        ("1 if a > 0 else 0",), "max(a, 0)",
    ),
    _rule(
        "leaky_relu", 1, _leaky_relu_f, lambda a, p, out: (1.0 if _data(a) > 0 else p,),
        ("1 if a > 0 else p",), "a if a > 0 else p * a",
    ),
    _rule("abs", 1, abs, lambda a, p, out: (_sign(a),), ("sign(a)",), "|a|"),
    _rule("sin", 1, math.sin, lambda a, p, out: (_cos(a),), ("cos(a)",), "sin(a)"),
    _rule("cos", 1, math.cos, lambda a, p, out: (-_sin(a),), ("-sin(a)",), "cos(a)"),
    _rule(
        "softplus", 1, _softplus_f, lambda a, p, out: (_sigmoid(a),),
        ("sigmoid(a)",), "log(1 + exp(a))",
    ),
]

RULES: dict[str, Rule] = {r.name: r for r in _TABLE}
"""Every op by name; a new op is one entry in ``_TABLE`` plus its method on Value."""

CONST = Rule("const", 0, float, lambda a, b, out: (), (), "constant")
"""Marks a leaf that Value made from a plain number, so the renderer can tell it apart."""

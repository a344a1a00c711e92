"""The functions on plain floats that the rule table names, with errors that name op and operand.

Python's own float semantics, except that nothing here returns a complex number or NaN for a
real input: a domain error raises ``OpError`` (a ValueError) or ZeroDivisionError, and an
overflowing ``exp`` or ``**`` raises OverflowError. ``sigmoid`` and ``softplus`` are computed
in forms that stay finite for every finite input.
"""

from __future__ import annotations

import math

__all__ = [
    "OpError", "exp", "log", "sqrt", "sigmoid", "softplus", "sign", "div", "power", "rpower",
    "exponent_log", "power_slope", "tanh", "sin", "cos",
]

tanh = math.tanh


class OpError(ValueError):
    """An operation was applied outside its domain (log of 0, sqrt of -1, ...)."""


def _fmt(x: float) -> str:
    return repr(float(x))


def div(a: float, b: float) -> float:
    """a / b; ZeroDivisionError naming both for b == 0."""
    if b == 0:
        raise ZeroDivisionError(f"division by zero in a / b: a = {_fmt(a)}, b = 0")
    return a / b


def power(a: float, p: float) -> float:
    """a ** p as a real number: errors for 0 to a negative power and a negative base to a fraction."""
    if a < 0 and not math.isfinite(p):
        raise OpError(f"{_fmt(a)} ** {_fmt(p)}: a negative base to a non-finite power is not a real number")
    if a == 0 and p < 0:
        raise ZeroDivisionError(f"0 ** {_fmt(p)}: zero cannot be raised to a negative power")
    if a < 0 and p != int(p):
        raise OpError(f"{_fmt(a)} ** {_fmt(p)}: a negative base to a non-integer power is not a real number")
    try:
        return float(a**p)
    except OverflowError:
        raise OverflowError(f"{_fmt(a)} ** {_fmt(p)} overflows a float") from None


def rpower(a: float, base: float) -> float:
    """base ** a (the op behind ``2 ** x``)."""
    return power(base, a)


def exp(x: float) -> float:
    """e ** x; OverflowError naming exp past x ~ 709.78."""
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp({_fmt(x)}) overflows a float (largest argument is ~709.78)") from None


def log(x: float) -> float:
    """Natural logarithm; OpError for x <= 0."""
    if x <= 0:
        raise OpError(f"log({_fmt(x)}): log needs a positive operand")
    return math.log(x)


def sqrt(x: float) -> float:
    """Square root; OpError for x < 0."""
    if x < 0:
        raise OpError(f"sqrt({_fmt(x)}): sqrt needs a non-negative operand")
    return math.sqrt(x)


def sin(x: float) -> float:
    """Sine (radians); OpError for an infinite operand, which has none."""
    if math.isinf(x):
        raise OpError(f"sin({_fmt(x)}): sin needs a finite operand")
    return math.sin(x)


def cos(x: float) -> float:
    """Cosine (radians); OpError for an infinite operand, which has none."""
    if math.isinf(x):
        raise OpError(f"cos({_fmt(x)}): cos needs a finite operand")
    return math.cos(x)


def sigmoid(x: float) -> float:
    """1 / (1 + e ** -x), in the branch where exp cannot overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def softplus(x: float) -> float:
    """log(1 + e ** x) = max(x, 0) + log(1 + e ** -|x|), which never overflows."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def sign(x: float) -> float:
    """1.0, -1.0 or 0.0."""
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def power_slope(a: float, e: float) -> float:
    """d(a ** e)/da = e * a ** (e - 1): 0 when e == 0 (a ** 0 is constant in a), and +-inf
    where the power overflows a float, as ``1 / a`` does (PyTorch gives the same); at a == 0
    with e < 1 it raises ZeroDivisionError, as ``1 / 0`` does."""
    if e == 0:
        return 0.0
    try:
        return e * a ** (e - 1)
    except OverflowError:
        odd = (e - 1) == int(e - 1) and int(e - 1) % 2 == 1
        return e * (-math.inf if a < 0 and odd else math.inf)


def exponent_log(a: float) -> float:
    """log(a) for the slope of a ** b in b: 0 at a == 0 (the limit), an error for a < 0."""
    if a < 0:
        raise OpError(
            f"a ** b with base {_fmt(a)} < 0: the derivative with respect to the exponent needs "
            f"log({_fmt(a)}), which is not real; write a ** NUMBER if the exponent is a constant"
        )
    return 0.0 if a == 0 else math.log(a)

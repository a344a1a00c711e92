"""The functions a rule's text calls, on numpy float arrays (``floats.py``'s twins).

Run under ``np.errstate(divide='raise', over='raise', invalid='raise')``: where ``floats.py``
raises for one number (log of 0, sqrt of -1, exp past ~709.78), these raise
FloatingPointError for the array, and the compiler then finds the element and raises the
engine's own message for it. ``sigmoid`` and ``softplus`` use the same overflow-free forms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["NAMES"]


def div(a: Any, b: Any) -> Any:
    """a / b (0 in b raises under the compiler's errstate)."""
    return a / b


def power(a: Any, p: Any) -> Any:
    """a ** p; a negative base to a fraction and 0 to a negative power raise under errstate."""
    return np.power(a, p)


def rpower(a: Any, base: Any) -> Any:
    """base ** a."""
    return np.power(base, a)


def sigmoid(x: Any) -> Any:
    """1 / (1 + e ** -x), computed from e ** -|x| so it never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(x: Any) -> Any:
    """log(1 + e ** x) = max(x, 0) + log(1 + e ** -|x|)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def power_slope(a: Any, e: Any) -> Any:
    """e * a ** (e - 1), 0 where e == 0 and +-inf where the power overflows (floats.power_slope)."""
    a, e = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(e, dtype=float))
    live = e != 0
    powered = np.zeros(a.shape)
    with np.errstate(over="ignore"):  # an overflowing slope is +-inf, as 1 / a gives
        np.power(a, e - 1, out=powered, where=live)
    return np.where(live, e * powered, 0.0)


def exponent_log(a: Any) -> Any:
    """log(a), 0 where a == 0 (the limit of out * log(a)); a negative a raises."""
    a = np.asarray(a, dtype=float)
    if (a < 0).any():
        raise FloatingPointError("invalid value encountered in exponent_log")
    return np.log(a, out=np.zeros_like(a), where=a > 0)


NAMES: dict[str, Any] = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh, "sin": np.sin, "cos": np.cos,
    "sign": np.sign, "abs": np.abs, "where": np.where, "sigmoid": sigmoid, "softplus": softplus,
    "div": div, "power": power, "rpower": rpower, "exponent_log": exponent_log,
    "power_slope": power_slope,
}
"""The names rule text may use, bound to numpy functions (plus ``where`` for ``x if c else y``)."""

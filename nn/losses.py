"""Loss functions: predictions (Values) and targets (numbers) in, one Value out.

Predictions come as a model returns them over a batch: one Value, a list of Values (one
output per sample), or a list of lists (several outputs per sample). Targets have the same
shape as numbers (a list, or a numpy array; an ``(n, 1)`` column counts as ``n`` samples).
A shape mismatch is a ValueError naming both shapes. Sums run left to right from the first
term, so the graph has no constant-0 node.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from chainrule.autograd import Value

__all__ = [
    "sum_of_squares", "mse", "binary_cross_entropy", "hinge", "softmax_cross_entropy",
    "softmax", "l2_penalty", "LOSSES",
]

Scalar = Value | float


def _is_sign(t: Scalar) -> bool:
    """t is -1 or +1, as |t| >= 1 and |t| <= 1: for a Value target (a compiled step's argument;
    == on Values is identity) these are comparisons that come out the same for either label,
    so compile() re-checks them on every call without recording again when labels change."""
    u = abs(t)
    return u >= 1.0 and u <= 1.0


def _total(terms: Iterable[Value]) -> Value:
    it = iter(terms)
    total = next(it)
    for t in it:
        total = total + t
    return total


def _is_scalar(x: Any) -> bool:
    return isinstance(x, Value) or (isinstance(x, numbers.Real) and not isinstance(x, bool))


def _flat(x: Any, what: str, where: str) -> tuple[list[Any], tuple[int, ...]]:
    """The elements of a scalar, a sequence, or a sequence of equal-length sequences, and its shape."""
    if _is_scalar(x):
        return [x], ()
    if isinstance(x, np.ndarray) and x.dtype != object:
        if x.dtype.kind not in "iuf":
            raise TypeError(f"{where}: {what} must hold real numbers, got dtype {x.dtype}")
        if x.ndim > 2:
            raise ValueError(f"{where}: {what} has shape {x.shape}; expected at most 2 dimensions")
        items, shape = x.ravel().tolist(), x.shape
    elif isinstance(x, (list, tuple, np.ndarray)):
        rows = list(x)
        if not rows:
            raise ValueError(f"{where}: {what} is empty")
        if all(_is_scalar(r) for r in rows):
            items, shape = rows, (len(rows),)
        else:
            items, widths = [], set()
            for i, r in enumerate(rows):
                if not isinstance(r, (list, tuple, np.ndarray)) or not all(_is_scalar(v) for v in r):
                    raise TypeError(f"{where}: {what}[{i}] is not a number, a Value or a list of them: {r!r}")
                items.extend(r)
                widths.add(len(r))
            if len(widths) != 1:
                raise ValueError(f"{where}: the rows of {what} have different lengths {sorted(widths)}")
            shape = (len(rows), widths.pop())
    else:
        kind = type(x).__name__
        raise TypeError(f"{where}: {what} must be a Value, a number or a list of them, got {kind}")
    for i, v in enumerate(items):
        if not _is_scalar(v):
            raise TypeError(f"{where}: {what} element {i} is {type(v).__name__}, not a number or a Value")
        if not isinstance(v, Value) and not math.isfinite(v):
            raise ValueError(f"{where}: {what} element {i} is {v!r}, not a finite number")
    if len(shape) == 2 and shape[1] == 1:
        shape = (shape[0],)
    return items, shape


def _pairs(pred: Any, target: Any, where: str) -> list[tuple[Scalar, float]]:
    ps, pshape = _flat(pred, "predictions", where)
    ts, tshape = _flat(target, "targets", where)
    if pshape != tshape:
        raise ValueError(f"{where}: predictions have shape {pshape} but targets have shape {tshape}")
    for i, t in enumerate(ts):
        if isinstance(t, Value) and not t.is_leaf:
            raise TypeError(f"{where}: targets must be numbers (or the leaf Values of a compiled step's "
                            f"arguments), element {i} is a computed Value")
    # A leaf Value target is an argument of autograd.compile's function: kept as a Value so the
    # replayed program reads each call's targets. Branches on it are Value comparisons (guarded).
    return [(p, t if isinstance(t, Value) else float(t)) for p, t in zip(ps, ts)]


def sum_of_squares(pred: Any, target: Any) -> Value:
    """sum of (pred - target) ** 2: the tutorial's loss."""
    return _total((p - t) ** 2 for p, t in _pairs(pred, target, "sum_of_squares"))


def mse(pred: Any, target: Any) -> Value:
    """Mean of (pred - target) ** 2 over every element."""
    pairs = _pairs(pred, target, "mse")
    return _total((p - t) ** 2 for p, t in pairs) / len(pairs)


def binary_cross_entropy(pred: Any, target: Any, from_logits: bool = False) -> Value:
    """Mean of -(t log p + (1 - t) log(1 - p)), targets t in [0, 1].

    With ``from_logits=True`` the predictions are logits z and each term is computed as
    ``softplus(z) - t*z``, exact for every z. A prediction that is the output of a sigmoid
    is treated the same way through its input z, because ``log(sigmoid(z))`` rounds to
    log(0) once |z| passes about 37; the gradient then reaches z without passing through
    the sigmoid node (its value is the same). Other probabilities use the logs directly; a
    term whose weight is 0 is left out, and an infinite loss (p = 0 for t > 0, p = 1 for
    t < 1) is a ValueError that names the sample.
    """
    where = "binary_cross_entropy"
    pairs = _pairs(pred, target, where)
    terms = []
    for i, (p, t) in enumerate(pairs):
        if not 0.0 <= t <= 1.0:
            shown = t.data if isinstance(t, Value) else t
            raise ValueError(f"{where}: target {i} is {shown!r}; targets must be in [0, 1]")
        if not isinstance(p, Value):
            p = Value(p)
        if from_logits or p._op == "sigmoid":
            z = p if from_logits else p._prev[0]
            # A Value target (compiled) always takes the full form: t * z is 0 when t is.
            terms.append(z.softplus() - t * z if isinstance(t, Value) or t else z.softplus())
            continue
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(f"{where}: prediction {i} is {p.data!r}, not a probability in [0, 1]")
        if isinstance(t, Value):
            # Both logs, whatever the label, so the compiled graph is the same for 0 and 1
            # (a p of exactly 0 or 1 is then a log error naming the sample).
            terms.append(-(t * p.log() + (1 - t) * (1 - p).log()))
            continue
        if (t > 0 and p.data == 0) or (t < 1 and p.data == 1):
            raise ValueError(
                f"{where}: prediction {i} is {p.data!r} with target {t!r}, an infinite loss; "
                "pass logits with from_logits=True"
            )
        term = None
        if t > 0:
            term = t * p.log()
        if t < 1:
            rest = (1 - t) * (1 - p).log()
            term = rest if term is None else term + rest
        terms.append(-term)
    return _total(terms) / len(terms)


def hinge(scores: Any, target: Any) -> Value:
    """Mean of relu(1 - t * score), targets t of -1 or +1: micrograd's max-margin loss."""
    where = "hinge"
    pairs = _pairs(scores, target, where)
    for i, (_, t) in enumerate(pairs):
        if not _is_sign(t):
            shown = t.data if isinstance(t, Value) else t
            raise ValueError(f"{where}: target {i} is {shown!r}; hinge needs labels -1 or +1 (try 2*y - 1)")
    return _total((1 - t * s).relu() for s, t in pairs) / len(pairs)


def _rows(logits: Any, where: str) -> list[list[Scalar]]:
    if isinstance(logits, (list, tuple, np.ndarray)) and len(logits) and all(map(_is_scalar, logits)):
        logits = [logits]
    items, shape = _flat(logits, "logits", where)
    if len(shape) != 2 or shape[1] < 2:
        raise ValueError(f"{where}: logits must hold at least 2 classes per sample, got shape {shape}")
    k = shape[1]
    return [items[i:i + k] for i in range(0, len(items), k)]


def _shifted(row: list[Scalar]) -> list[Value]:
    # z - max(z): the shift is a constant, so gradients are unchanged, and it keeps every
    # exp at most 1 however large the logits are.
    m = max(z.data if isinstance(z, Value) else z for z in row)
    return [z - m if isinstance(z, Value) else Value(z - m) for z in row]


def _cross_entropy(row: list[Scalar], c: int) -> Value:
    # -log softmax(z)[c] = log(sum exp(z - m)) - (z_c - m), all on shifted logits, so no
    # large m is added and taken away again (which would lose the small digits).
    s = _shifted(row)
    return _total(v.exp() for v in s).log() - s[c]


def softmax_cross_entropy(logits: Any, target: Any) -> Value:
    """Mean of -log softmax(z)[c] over samples: ``logits`` one row of K scores per sample
    (or one row for one sample), ``target`` the class index c of each (or one int)."""
    where = "softmax_cross_entropy"
    rows = _rows(logits, where)
    targets = [target] if not isinstance(target, (Sequence, np.ndarray)) else list(target)
    if len(targets) != len(rows):
        raise ValueError(f"{where}: {len(rows)} rows of logits but {len(targets)} targets")
    k = len(rows[0])
    for i, c in enumerate(targets):
        if isinstance(c, bool) or not isinstance(c, numbers.Integral) or not 0 <= c < k:
            raise ValueError(f"{where}: target {i} is {c!r}; expected a class index in 0..{k - 1}")
    return _total(_cross_entropy(row, int(c)) for row, c in zip(rows, targets)) / len(rows)


def softmax(logits: Sequence[Scalar]) -> list[Value]:
    """exp(z_k) / sum exp(z), computed with the largest z subtracted so it never overflows."""
    row = _rows(logits, "softmax")
    if len(row) != 1:
        raise ValueError("softmax: expected one row of logits")
    exps = [v.exp() for v in _shifted(row[0])]
    total = _total(exps)
    return [e / total for e in exps]


def l2_penalty(parameters: Sequence[Value]) -> Value:
    """sum of p * p: multiply by a small factor and add to a loss to keep weights small."""
    params = list(parameters)
    if not params:
        raise ValueError("l2_penalty: no parameters")
    return _total(p * p for p in params)


LOSSES = {
    "sum_of_squares": sum_of_squares,
    "mse": mse,
    "binary_cross_entropy": binary_cross_entropy,
    "hinge": hinge,
    "softmax_cross_entropy": softmax_cross_entropy,
}
"""The losses ``nn.fit`` accepts by name."""

"""Your own ops: ``define_op`` adds a row to the rule table, the way the built-in ops are made.

>>> from chainrule.autograd import Value, define_op
>>> cube = define_op("cube", "a ** 3", "3 * a**2")
>>> x = Value(2.0)
>>> y = cube(x)
>>> y.backward()
>>> y.data, x.grad
(8.0, 12.0)

The op is then in ``autograd.RULES``; ``backward``, ``grad`` (also with ``create_graph=True``
when the derivative is text or a function of Values), ``gradcheck`` and every picture work
with it. The derivative text is what the pictures print on the op's edges.
"""

from __future__ import annotations

import math as _math
from collections.abc import Callable, Sequence
from typing import Any

from .rules import BUILTIN, FLOAT_NAMES, LOCAL_NAMES, RULES, Rule
from .value import Value, _as_float, _const, _node

__all__ = ["define_op"]

_DEFINED_METHODS: set[str] = set()
"""Method names define_op added to Value, which a later definition may replace."""

Derivative = str | Callable[..., Any]


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"define_op: the name must be a Python identifier such as 'cube', got {name!r}")
    if name in BUILTIN:
        raise ValueError(f"define_op: {name!r} is a built-in op; choose another name")
    return name


def _text_function(text: str, args: str, names: dict[str, Any], what: str) -> Callable[..., Any]:
    try:
        # The text is the caller's own code, as a lambda would be.
        return eval(f"lambda {args}: ({text})", dict(names, math=_math))
    except SyntaxError as err:
        raise ValueError(f"define_op: {what} {text!r} is not a Python expression: {err.msg}") from None


def _shown(d: Derivative, name: str, letter: str) -> str:
    """The text an edge shows for a derivative given as a function."""
    if isinstance(d, str):
        return d
    fname = getattr(d, "__name__", "")
    return f"{fname}(...)" if fname.isidentifier() else f"∂{name}/∂{letter}"


def define_op(
    name: str,
    forward: str | Callable[..., float],
    local: Derivative | Sequence[Derivative],
    *,
    math: str | None = None,
    method: bool = False,
) -> Callable[..., Value]:
    """Add the op ``name`` to ``autograd.RULES`` and return a function applying it to Values.

    ``forward`` computes the output from the operands' floats: text over ``a`` (and ``b``)
    such as ``"a ** 3"``, or a function ``f(a)`` / ``f(a, b)``. ``local`` gives one local
    derivative d(out)/d(operand) per operand (a single one for a one-operand op): text over
    ``a``, ``b`` and ``out`` such as ``"3 * a**2"``, or a function ``d(a, out)`` /
    ``d(a, b, out)``. Text may call exp, log, sqrt, tanh, sigmoid, sin, cos, abs, sign and
    ``math``; in text written with operations that work on Values (``"3 * a**2"``,
    ``"cos(a)"``), ``grad(..., create_graph=True)`` differentiates it again.

    ``math`` is how pictures and ``explain`` write the output (default: the forward text, or
    ``name(a)``). With ``method=True`` the op is also a method, ``x.cube()``. Defining a name
    again replaces your earlier definition (re-running a notebook cell); built-in names are
    refused.
    """
    name = _check_name(name)
    if isinstance(local, str) or callable(local):
        derivatives = [local]
    elif isinstance(local, (list, tuple)):
        derivatives = list(local)
    else:
        raise TypeError(f"define_op {name!r}: local derivative 0 must be text or a function, "
                        f"or a list of one per operand; got {type(local).__name__}")
    arity = len(derivatives)
    if arity not in (1, 2):
        raise ValueError(f"define_op {name!r}: give one local derivative per operand (1 or 2), got {arity}")
    for i, d in enumerate(derivatives):
        if not (isinstance(d, str) or callable(d)):
            raise TypeError(f"define_op {name!r}: local derivative {i} must be text or a function, "
                            f"got {type(d).__name__}")
    args = "a, b" if arity == 2 else "a"
    if isinstance(forward, str):
        forward_fn = _text_function(forward, args, FLOAT_NAMES, "forward")
        shown_math = math or forward
    elif callable(forward):
        forward_fn = forward
        shown_math = math or f"{name}({args})"
    else:
        got = type(forward).__name__
        raise TypeError(f"define_op {name!r}: forward must be text or a function, got {got}")
    parts = [
        _text_function(d, f"a, {'b' if arity == 2 else 'p'}, out", LOCAL_NAMES, "local derivative")
        if isinstance(d, str) else _adapt(d, arity)
        for d in derivatives
    ]

    def local_grads(a: Any, b: Any, out: Any) -> tuple:
        return tuple(f(a, b, out) for f in parts)

    # ``out`` is text only when the whole op is: then the compiler can read it like a built-in.
    all_text = isinstance(forward, str) and all(isinstance(d, str) for d in derivatives)
    rule = Rule(
        name, arity, shown_math, forward if all_text else None,
        tuple(_shown(d, name, letter) for d, letter in zip(derivatives, "ab")),
        lazy=True, forward=forward_fn, local_grads=local_grads,
    )
    if method and hasattr(Value, name) and name not in _DEFINED_METHODS:
        raise ValueError(f"define_op {name!r}: Value already has an attribute {name!r}; use method=False")
    RULES[name] = rule
    apply = _applier(rule)
    if method:
        setattr(Value, name, apply)  # apply(self, ...) works as a method: self is the first operand
        _DEFINED_METHODS.add(name)
    return apply


def _adapt(d: Callable[..., Any], arity: int) -> Callable[[Any, Any, Any], Any]:
    """A derivative function of (a, out) or (a, b, out), called as (a, b_or_p, out)."""
    if arity == 2:
        return d
    return lambda a, _p, out: d(a, out)


def _applier(rule: Rule) -> Callable[..., Value]:
    name, arity = rule.name, rule.arity

    def apply(*operands: Any) -> Value:
        if len(operands) != arity:
            raise TypeError(f"{name}() takes {arity} operand(s), got {len(operands)}")
        vals = []
        for i, x in enumerate(operands):
            v = x if isinstance(x, Value) else _const(x)
            if v is None:
                raise TypeError(f"{name}(): operand {i} must be a Value or a number, got {type(x).__name__}")
            vals.append(v)
        try:
            out = rule.forward(*(v.data for v in vals))
        except (ArithmeticError, ValueError) as err:
            raise type(err)(f"{name}: {err}") from err
        out = _as_float(out, f"{name}(): the forward function's result")
        return _node(out, rule, vals[0], vals[1] if arity == 2 else None, None)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"{rule.math}: an op defined with define_op; d(out)/d(operand) = {', '.join(rule.local)}"
    return apply



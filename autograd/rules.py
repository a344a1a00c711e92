"""The one table of operations: what each computes and its local derivatives, written once.

Each row is plain Python text over the operands ``a`` and ``b``, the op's constant parameter
``p`` (the exponent of ``x ** 3``, the base of ``2 ** x``, the slope of ``leaky_relu``) and its
output ``out``. The text is the code, used three ways:

- ``Value``'s operators and methods are generated from ``value`` and ``formula`` (see
  ``methods.py``), so a node computes its output and its local derivatives d(out)/d(operand)
  as it is built, on floats, with no extra call;
- ``Rule.local(a, b, out)`` evaluates ``formula`` on floats or on Values: on Values it records
  a graph, which is how ``grad(..., create_graph=True)`` gives higher-order derivatives;
- the renderer prints ``formula`` on edges and ``viz.explain`` prints it per step.

A ``lazy`` rule's derivatives can fail where its output does not (the slope of ``sqrt`` at 0 is
infinite): they are evaluated only when ``backward()`` needs them, so the error arises there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import floats
from .floats import OpError

__all__ = ["Rule", "RULES", "CONST", "OpError", "FLOAT_NAMES"]

FLOAT_NAMES: dict[str, Any] = {
    name: getattr(floats, name) for name in floats.__all__ if name != "OpError"
} | {"abs": abs}
"""The functions a rule's text may call, on floats."""


def _data(x: Any) -> float:
    return x if type(x) is float else x.data


def _method(name: str, on_float: Callable[[float], float]) -> Callable[[Any], Any]:
    def f(x: Any) -> Any:
        return on_float(x) if type(x) is float else getattr(x, name)()

    return f


def _exponent_log(a: Any) -> Any:
    if type(a) is float or a.data <= 0:
        return floats.exponent_log(_data(a))  # 0 at a == 0 and the error for a < 0, as on floats
    return a.log()


# The same names for rule text evaluated on floats or Values (create_graph).
_ANY_NAMES: dict[str, Any] = {
    "exp": _method("exp", floats.exp),
    "log": _method("log", floats.log),
    "sin": _method("sin", math.sin),
    "cos": _method("cos", math.cos),
    "sigmoid": _method("sigmoid", floats.sigmoid),
    "sign": lambda x: floats.sign(_data(x)),
}


@dataclass(frozen=True, eq=False)
class Rule:
    """One operation. ``math`` is how a person writes the output; ``value`` computes it on
    floats (with domain checks); ``formula[i]`` is d(out)/d(operand i) as code.

    ``log_at_zero``: in this rule's formula ``log`` is 0 at 0, the limit of the whole term
    (``out * log(a)`` with ``out`` = 0 there), and names the base when it is negative.
    ``code``: what runs instead of ``formula`` where the shown formula needs a guard that
    changes no value the formula defines.
    """

    name: str
    arity: int
    math: str
    value: str
    formula: tuple[str, ...]
    lazy: bool = False
    log_at_zero: bool = False
    code: tuple[str, ...] | None = None
    forward: Callable[..., float] = field(init=False, repr=False)
    local: Callable[[Any, Any, Any], tuple] = field(init=False, repr=False)

    @property
    def runs(self) -> tuple[str, ...]:
        """The derivative text that is executed: ``code`` if given, else ``formula``."""
        return self.code or self.formula

    def __post_init__(self) -> None:
        second = "b" if self.arity == 2 else "p"
        args = "a" if self.arity == 1 and "p" not in self.value else f"a, {second}"
        forward = eval(f"lambda {args}: {self.value}", dict(FLOAT_NAMES))  # text from this table
        grads = "".join(f"{g}, " for g in self.runs)
        names = dict(_ANY_NAMES, log=_exponent_log) if self.log_at_zero else dict(_ANY_NAMES)
        local = eval(f"lambda a, {second}, out: ({grads})", names)
        object.__setattr__(self, "forward", forward)
        object.__setattr__(self, "local", local)


_TABLE = (
    #    name         operands  written          computed on floats       d(out)/d(a), d(out)/d(b)
    Rule("+",            2,     "a + b",         "a + b",                 ("1", "1")),
    Rule("-",            2,     "a - b",         "a - b",                 ("1", "-1")),
    Rule("*",            2,     "a * b",         "a * b",                 ("b", "a")),
    Rule("/",            2,     "a / b",         "div(a, b)",             ("1/b", "-out/b")),
    Rule("**",           2,     "a ** b",        "power(a, b)",           ("b * a**(b-1)", "out * log(a)"),
         lazy=True, log_at_zero=True),
    Rule("neg",          1,     "-a",            "-a",                    ("-1",)),
    # x ** 0 is the constant 1: slope 0 at x = 0 too, where p * 0**(p-1) is 0 * inf.
    Rule("pow",          1,     "a ** p",        "power(a, p)",           ("p * a**(p-1)",),
         lazy=True, code=("p * a**(p-1) if p else 0",)),
    Rule("rpow",         1,     "p ** a",        "rpower(a, p)",          ("out * log(p)",), lazy=True,
         log_at_zero=True),
    Rule("exp",          1,     "exp(a)",        "exp(a)",                ("out",)),
    Rule("log",          1,     "log(a)",        "log(a)",                ("1/a",)),
    Rule("sqrt",         1,     "sqrt(a)",       "sqrt(a)",               ("1/(2*out)",), lazy=True),
    Rule("tanh",         1,     "tanh(a)",       "tanh(a)",               ("1 - out**2",)),
    Rule("sigmoid",      1,     "1 / (1 + exp(-a))", "sigmoid(a)",        ("out * (1 - out)",)),
    Rule("relu",         1,     "max(a, 0)",     "a if a > 0 else 0.0",   ("1 if a > 0 else 0",)),
    Rule("leaky_relu",   1,     "a if a > 0 else p * a", "a if a > 0 else p * a", ("1 if a > 0 else p",)),
    Rule("abs",          1,     "|a|",           "abs(a)",                ("sign(a)",)),
    Rule("sin",          1,     "sin(a)",        "sin(a)",                ("cos(a)",)),
    Rule("cos",          1,     "cos(a)",        "cos(a)",                ("-sin(a)",)),
    Rule("softplus",     1,     "log(1 + exp(a))", "softplus(a)",         ("sigmoid(a)",)),
)

RULES: dict[str, Rule] = {r.name: r for r in _TABLE}
"""Every op by name. A new op is one row here plus, for a method name, one line in methods.py."""

CONST = Rule("const", 0, "a", "a", ())
"""Marks a leaf that an op made from a plain number (the 2 in ``2 * x``), for the renderer."""

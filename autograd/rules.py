"""The one table of operations: what each computes and its local derivatives, written once.

Each row is plain Python text over the operands ``a`` and ``b``, the op's constant parameter
``p`` (the exponent of ``x ** 3``, the base of ``2 ** x``, the slope of ``leaky_relu``) and its
output ``out``. The text is the code, used three ways:

- ``Value``'s operators and methods are generated from ``out`` and ``local`` (``methods.py``
  writes them into ``value.py``), so a node computes its output and its local derivatives
  d(out)/d(operand) as it is built, on floats, with no extra call;
- ``Rule.local_grads(a, b, out)`` evaluates ``local`` on floats or on Values: on Values it
  records a graph, which is how ``grad(..., create_graph=True)`` gives higher-order derivatives;
- the renderer prints ``local`` on edges and ``viz.explain`` prints it per step.

Students add rows of their own with ``define_op`` (``autograd/custom.py``).

A ``lazy`` rule's derivatives can fail where its output does not (the slope of ``sqrt`` at 0 is
infinite): they are evaluated only when ``backward()`` needs them, so the error arises there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import floats
from .floats import OpError

__all__ = ["Rule", "RULES", "BUILTIN", "CONST", "OpError", "FLOAT_NAMES", "LOCAL_NAMES", "by_hand"]

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


def _power_slope(a: Any, e: Any) -> Any:
    """e * a ** (e - 1) on Values (create_graph), recorded so it can be differentiated again;
    0 at e == 0 == a, where the slope is 0 (a ** 0 is constant) and a ** (e - 1) does not exist."""
    return 0.0 if _data(e) == 0 and a.data == 0 else e * a ** (e - 1)


LOCAL_NAMES: dict[str, Any] = {
    "exp": _method("exp", floats.exp),
    "log": _method("log", floats.log),
    "sin": _method("sin", floats.sin),
    "cos": _method("cos", floats.cos),
    "sigmoid": _method("sigmoid", floats.sigmoid),
    "tanh": _method("tanh", floats.tanh),
    "sqrt": _method("sqrt", floats.sqrt),
    "softplus": _method("softplus", floats.softplus),
    "abs": abs,
    "sign": lambda x: floats.sign(_data(x)),
    "power_slope": lambda a, e: floats.power_slope(a, e) if type(a) is float else _power_slope(a, e),
}
"""The functions a rule's ``local`` text may call: each works on floats and on Values."""


@dataclass(frozen=True, eq=False)
class Rule:
    """One operation: its output and its local derivatives, as text that is the code.

    ``math`` is how a person writes the output; ``out`` computes it on floats (with domain
    checks); ``local[i]`` is the local derivative d(out)/d(operand i), over ``a``, ``b``,
    ``p`` and ``out``. ``arity`` is the number of operands (1 or 2); ``param`` names the
    op's constant parameter ``p`` when it has one (the exponent of ``x ** 3``), so
    ``forward`` takes ``(a, b)``, ``(a, p)`` or ``(a)``.

    ``out`` is None for an op given as functions rather than text (``define_op`` with a
    function, a node built by hand): then ``forward`` and ``local_grads`` are given, and
    ``local`` is only what the pictures show.

    ``lazy``: the local derivatives can fail where the output does not (the slope of
    ``sqrt`` at 0 is infinite), so they are computed in ``backward()``, not as the node is
    built. ``log_at_zero``: in this rule's ``local`` text ``log`` is 0 at 0, the limit of the
    whole term (``out * log(a)`` with ``out`` = 0 there), and names the base when it is
    negative. ``guarded``: what runs instead of ``local`` where the shown text needs a guard
    that changes no value it defines.
    """

    name: str
    arity: int
    math: str
    out: str | None
    local: tuple[str, ...]
    param: str | None = None
    lazy: bool = False
    log_at_zero: bool = False
    guarded: tuple[str, ...] | None = None
    forward: Callable[..., float] = field(default=None, repr=False)  # type: ignore[assignment]
    local_grads: Callable[[Any, Any, Any], tuple] = field(default=None, repr=False)  # type: ignore[assignment]

    @property
    def local_code(self) -> tuple[str, ...]:
        """The local derivative text that runs: ``guarded`` if given, else ``local``."""
        return self.guarded or self.local

    @property
    def arguments(self) -> str:
        """``forward``'s parameters: ``"a, b"``, ``"a, p"`` or ``"a"``."""
        if self.arity == 2:
            return "a, b"
        return "a" if self.param is None else "a, p"

    def __post_init__(self) -> None:
        if self.arity not in (0, 1, 2) or len(self.local) != self.arity:
            n = len(self.local)
            raise ValueError(f"rule {self.name!r}: {self.arity} operands but {n} local derivatives")
        if self.arity == 2 and self.param is not None:
            raise ValueError(f"rule {self.name!r}: a two-operand op takes no parameter")
        # The text comes from this table (or from a user's define_op), never from data.
        if self.forward is None:
            forward = eval(f"lambda {self.arguments}: {self.out}", dict(FLOAT_NAMES))
            object.__setattr__(self, "forward", forward)
        if self.local_grads is None:
            second = "b" if self.arity == 2 else "p"
            names = dict(LOCAL_NAMES, log=_exponent_log) if self.log_at_zero else dict(LOCAL_NAMES)
            code = "".join(f"{g}, " for g in self.local_code)
            object.__setattr__(self, "local_grads", eval(f"lambda a, {second}, out: ({code})", names))


_TABLE = (
    #    name       operands written                 output on floats        d(out)/d(a), d(out)/d(b)
    Rule("+",          2, "a + b",                 "a + b",                ("1", "1")),
    Rule("-",          2, "a - b",                 "a - b",                ("1", "-1")),
    Rule("*",          2, "a * b",                 "a * b",                ("b", "a")),
    Rule("/",          2, "a / b",                 "div(a, b)",            ("1/b", "-out/b")),
    # a ** 0 is the constant 1 in a, so its slope is 0 at a = 0 too, where b * 0**(b-1) is 0 * inf.
    Rule("**",         2, "a ** b",                "power(a, b)",          ("b * a**(b-1)", "out * log(a)"),
         lazy=True, log_at_zero=True, guarded=("power_slope(a, b)", "out * log(a)")),
    Rule("neg",        1, "-a",                    "-a",                   ("-1",)),
    Rule("pow",        1, "a ** p",                "power(a, p)",          ("p * a**(p-1)",),
         param="exponent", lazy=True, guarded=("power_slope(a, p)",)),
    Rule("rpow",       1, "p ** a",                "rpower(a, p)",         ("out * log(p)",),
         param="base", lazy=True, log_at_zero=True),
    Rule("exp",        1, "exp(a)",                "exp(a)",               ("out",)),
    Rule("log",        1, "log(a)",                "log(a)",               ("1/a",)),
    Rule("sqrt",       1, "sqrt(a)",               "sqrt(a)",              ("1/(2*out)",), lazy=True),
    Rule("tanh",       1, "tanh(a)",               "tanh(a)",              ("1 - out**2",)),
    Rule("sigmoid",    1, "1 / (1 + exp(-a))",     "sigmoid(a)",           ("out * (1 - out)",)),
    Rule("relu",       1, "max(a, 0)",             "0.0 if a <= 0 else a", ("1 if a > 0 else 0",)),
    Rule("leaky_relu", 1, "a if a > 0 else p * a", "a if a > 0 else p * a", ("1 if a > 0 else p",),
         param="slope"),
    Rule("abs",        1, "|a|",                   "abs(a)",               ("sign(a)",)),
    Rule("sin",        1, "sin(a)",                "sin(a)",               ("cos(a)",)),
    Rule("cos",        1, "cos(a)",                "cos(a)",               ("-sin(a)",)),
    Rule("softplus",   1, "log(1 + exp(a))",       "softplus(a)",          ("sigmoid(a)",)),
)

RULES: dict[str, Rule] = {r.name: r for r in _TABLE}
"""Every op by name: the built-in rows above, then any op added with ``define_op``."""

BUILTIN: frozenset[str] = frozenset(RULES)
"""The names of the built-in rows, which ``define_op`` will not replace."""

CONST = Rule("const", 0, "a", "a", ())
"""Marks a leaf that an op made from a plain number (the 2 in ``2 * x``), for the renderer."""

_BY_HAND: dict[tuple[str, int], Rule] = {}


def by_hand(name: str, arity: int) -> Rule:
    """The row of an op known only by its name: a node built by hand, as the lecture does
    (``Value(8.0, (x,), 'cube')``), whose derivatives come from the ``_backward`` assigned to it.

    Not in ``RULES``. Its derivative text reads ``_backward``; without one, backward raises.
    """
    rule = _BY_HAND.get((name, arity))
    if rule is None:
        def forward(*_: Any) -> float:
            raise TypeError(f"the {name!r} op was built by hand: it has no forward to run")

        def local_grads(*_: Any) -> tuple:
            raise ValueError(
                f"the {name!r} node was built by hand and has no _backward: assign "
                "out._backward = a function that adds to its operands' .grad (as the lecture "
                "does), or define the op with autograd.define_op"
            )

        args = "a, b" if arity == 2 else "a"
        rule = Rule(name, arity, f"{name}({args})", None, ("_backward",) * arity, lazy=True,
                    forward=forward, local_grads=local_grads)
        _BY_HAND[(name, arity)] = rule
    return rule

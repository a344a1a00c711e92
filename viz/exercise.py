"""The backward pass as an exercise: the questions, their answers and the usual mistakes.

``exercise(root)`` turns the traced graph (:func:`viz.trace.trace`) into a list of
:class:`Item` in backward order: for each node, first its gradient (the sum of the
contributions that reach it), then the local derivative of each of its edges. Every
expected answer is a number the engine computed (``trace`` reads ``local_grads()`` and
replays ``backward``); the practice page (:mod:`viz.practice`) and ``chainrule practice``
both ask these items and check answers with :meth:`Item.check`, so the browser and the
terminal agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from chainrule.autograd import Value

from .checks import check_count, check_root
from .style import fmt
from .trace import TracedGraph, derivative_text, grouped, rule_text, trace

__all__ = ["ASK", "Item", "Exercise", "exercise", "parse_answer", "tolerance"]

ASK = ("both", "local", "grad")
MAX_DIGITS = 12


@dataclass(frozen=True)
class Item:
    """One step of the exercise: a local derivative (an edge) or a gradient (a node).

    ``asked`` is False for the kind the learner chose not to practise: the item is then
    shown, not asked. ``mistakes`` pairs a common wrong answer with the one line that says
    what went wrong; ``hint`` is the rule, ``answer`` the worked result.
    """

    kind: str                  # "local" or "grad"
    node: int                  # local: the node whose rule is differentiated; grad: the node asked
    slot: int | None           # local: the operand's position in node._prev
    child: int | None          # local: the operand's topo index
    asked: bool
    prompt: str
    hint: str
    answer: str
    expected: float
    tol: float
    mistakes: tuple[tuple[float, str], ...] = field(default=())

    def check(self, value: float) -> tuple[bool, str]:
        """(right?, one line): a diagnosis for a known mistake, else the rule to use."""
        if close(value, self.expected, self.tol):
            return True, "right"
        for wrong, why in self.mistakes:
            if close(value, wrong, self.tol):
                return False, why
        if self.expected != 0 and close(value, -self.expected, self.tol):
            return False, "the sign is wrong"
        return False, f"use {self.hint}"


@dataclass(frozen=True)
class Exercise:
    """The items of ``trace`` in the order they are asked, and how numbers are shown."""

    trace: TracedGraph
    ask: str
    digits: int
    items: list[Item]

    @property
    def questions(self) -> list[Item]:
        """The items the learner answers."""
        return [it for it in self.items if it.asked]

    def show(self, x: float) -> str:
        """A number as the exercise shows it: ``digits`` significant digits."""
        return fmt(x, self.digits)


def close(x: float, y: float, tol: float) -> bool:
    """``|x - y| <= tol``, with nan and inf equal only to themselves."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return x == y
    return abs(x - y) <= tol


def tolerance(expected: float, digits: int, scale: float = 0.0) -> float:
    """How far an answer may be from ``expected`` and still count as right.

    The learner works from numbers shown with ``digits`` significant digits and types
    rounded results, so errors of a few units in the last shown digit are honest: the
    tolerance is 3 such units relative to the answer (or to ``scale``, the size of the
    terms it is the sum of, when they nearly cancel), and never below one unit of the
    ``digits``-th decimal place, so an answer of 0 for 2e-9 counts.
    """
    unit = 10.0 ** (1 - digits)
    return max(3 * unit * max(abs(expected), scale), 10.0 ** -digits)


_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_ANSWER = re.compile(rf"\s*({_NUMBER})\s*(?:/\s*({_NUMBER})\s*)?")


def parse_answer(text: str) -> float:
    """A typed answer as a float: a decimal number or a fraction such as ``-3/4``.

    Raises ValueError naming the text for anything else (words, ``nan``, ``1/0``).
    """
    m = _ANSWER.fullmatch(text)
    if not m:
        raise ValueError(f"not a number: {text.strip()!r}")
    top = float(m.group(1))
    if m.group(2) is None:
        value = top
    else:
        bottom = float(m.group(2))
        if bottom == 0:
            raise ValueError(f"division by zero: {text.strip()!r}")
        value = top / bottom
    if not math.isfinite(value):
        raise ValueError(f"too large for a float: {text.strip()!r}")
    return value


# -- the usual mistakes, per rule ------------------------------------------------------------
# Each function gets the operands' and output's values and returns (wrong value, why) pairs
# for operand ``slot``; values that equal the right answer are dropped later.

Mistakes = Callable[[int, float, float, float, float], list[tuple[float, str]]]


def _plus(slot, a, b, p, out):
    mine, other = (a, b) if slot == 0 else (b, a)
    why = "a sum passes its grad through unchanged: ∂(a + b)/∂a = 1, whatever the operands' values"
    return [(mine, why), (other, why), (2.0, "each edge counts once: ∂(a + b)/∂a = 1; "
                                            "the edges of a + a add up in a.grad")]


def _minus(slot, a, b, p, out):
    if slot == 0:
        return [(-1.0, "only the subtracted operand gets -1: ∂(a - b)/∂a = 1")]
    return [(1.0, "the subtracted operand gets -1: ∂(a - b)/∂b = -1")]


def _times(slot, a, b, p, out):
    mine = a if slot == 0 else b
    return [(mine, "you multiplied by the input instead of the other operand: ∂(a * b)/∂a = b"),
            (out, "that is the product itself; ∂(a * b)/∂a is the other operand, b")]


def _divide(slot, a, b, p, out):
    if slot == 0:
        return [(b, "dividing by b scales by 1/b: ∂(a / b)/∂a = 1/b"),
                (-out / b, "that is ∂(a / b)/∂b; for a it is 1/b")]
    return [(out / b, "the sign: a / b falls as b grows, ∂(a / b)/∂b = -a/b**2 = -out/b"),
            (1 / b, "that is ∂(a / b)/∂a; for b it is -a/b**2 = -out/b"),
            (-1 / b ** 2, "you dropped the factor a: ∂(a / b)/∂b = -a/b**2")]


def _power_rule(x, n):
    tries = [(lambda: x ** (n - 1), "you dropped the factor: ∂(a ** p)/∂a = p * a**(p-1)"),
             (lambda: n * x ** n, "lower the exponent by one: ∂(a ** p)/∂a = p * a**(p-1)")]
    out = []
    for f, why in tries:
        try:
            v = f()
        except (ArithmeticError, ValueError):
            continue
        if isinstance(v, float):
            out.append((v, why))
    return out


def _pow(slot, a, b, p, out):
    return _power_rule(a, p)


def _pow2(slot, a, b, p, out):
    return _power_rule(a, b) if slot == 0 else [
        (out, "a ** b in b is an exponential: ∂(a ** b)/∂b = a**b * log(a)")]


def _rpow(slot, a, b, p, out):
    wrong = _power_rule(p, a)
    return [(v, "the exponent varies here, not the base: ∂(p ** a)/∂a = p**a * log(p)") for v, _ in wrong]


def _neg(slot, a, b, p, out):
    return [(1.0, "negation flips the sign: ∂(-a)/∂a = -1")]


def _exp(slot, a, b, p, out):
    return [(a, "∂exp(a)/∂a is exp(a), the output, not the input")]


def _log(slot, a, b, p, out):
    return [(a, "∂log(a)/∂a = 1/a, not a"), (out, "∂log(a)/∂a = 1/a, not log(a)")]


def _sqrt(slot, a, b, p, out):
    return [(1 / out if out else math.inf, "you dropped the 2: ∂sqrt(a)/∂a = 1/(2*sqrt(a))")]


def _tanh(slot, a, b, p, out):
    return [(1 - a * a, "you used the input where the rule uses the output: ∂tanh(a)/∂a = 1 - out**2"),
            (out * out, "you dropped the 1 -: ∂tanh(a)/∂a = 1 - out**2"),
            (1 - out, "square the output: ∂tanh(a)/∂a = 1 - out**2")]


def _sigmoid(slot, a, b, p, out):
    return [(a * (1 - a), "you used the input where the rule uses the output: "
                          "∂sigmoid(a)/∂a = out * (1 - out)"),
            (1 - out, "multiply by the output too: ∂sigmoid(a)/∂a = out * (1 - out)"),
            (out, "multiply by (1 - out) too: ∂sigmoid(a)/∂a = out * (1 - out)")]


def _relu(slot, a, b, p, out):
    return [(a, "relu's slope is 1 where its input is positive and 0 elsewhere, not the input"),
            (1.0 - (1 if a > 0 else 0), "relu's slope is 1 where its input is positive and 0 elsewhere")]


_MISTAKES: dict[str, Mistakes] = {
    "+": _plus, "-": _minus, "*": _times, "/": _divide, "**": _pow2, "pow": _pow, "rpow": _rpow,
    "neg": _neg, "exp": _exp, "log": _log, "sqrt": _sqrt, "tanh": _tanh, "sigmoid": _sigmoid,
    "relu": _relu,
}


def _keep(found: list[tuple[float, str]], expected: float, tol: float) -> tuple[tuple[float, str], ...]:
    """Mistakes that are finite, clearly apart from the right answer and from each other."""
    out: list[tuple[float, str]] = []
    for value, why in found:
        if not math.isfinite(value) or abs(value - expected) <= 2 * tol:
            continue
        if any(abs(value - v) <= 2 * tol for v, _ in out):
            continue  # the first, more specific explanation wins
        if expected != 0 and abs(value + expected) <= 2 * tol:
            continue  # the generic sign message says it better
        out.append((value, why))
    return tuple(out)


def exercise(root: Value, ask: str = "both", digits: int = 4) -> Exercise:
    """The backward pass of ``root`` as an exercise (see the module docstring).

    ``ask``: ``"both"`` asks local derivatives and gradients, ``"local"`` only local
    derivatives (gradients are then shown as they become known), ``"grad"`` only gradients
    (local derivatives are shown on the edges). ``digits``: significant digits of every
    number shown; answers are checked with :func:`tolerance` for that precision.
    """
    check_root(root, "exercise")
    if not isinstance(ask, str) or ask not in ASK:
        raise ValueError(f"exercise(ask={ask!r}): ask must be one of {', '.join(map(repr, ASK))}")
    check_count(digits, "digits", "exercise")
    if digits > MAX_DIGITS:
        raise ValueError(f"exercise(digits={digits}): digits must be at most {MAX_DIGITS}")
    t = trace(root)
    names = [grouped(n) for n in t.names]  # each name reads as one term in a formula
    show = lambda x: fmt(x, digits)  # noqa: E731 - one short local helper
    items: list[Item] = []
    last = len(t.nodes) - 1
    for i in t.backward_order():
        v = t.nodes[i]
        if v.is_constant:
            continue
        if i != last:
            items.append(_grad_item(t, names, i, t.incoming(i), ask != "local", digits, show))
        if v.is_leaf:
            continue
        words = t.words(i)
        twice = len(v._prev) == 2 and v._prev[0] is v._prev[1]
        for s in t.edges_of(i):
            if t.nodes[s.child].is_constant:
                continue  # a constant's slope is never wanted, and it has no grad to ask
            items.append(_local_item(names, v, s, words, twice, ask != "grad", digits, show))
    return Exercise(t, ask, digits, items)


def _local_item(names: list[str], v: Value, s, words: dict[str, str], twice: bool,
                asked: bool, digits: int, show) -> Item:
    out, child = names[s.node], names[s.child]
    rule = rule_text(s.formula, words)
    math_text = rule_text(v.rule.math, words)
    if twice:  # a + a: two edges to the same operand, told apart by position
        prompt = (f"∂{out}/∂{child} (operand {s.slot + 1} of {out} = {math_text}): "
                  "the local derivative along this edge")
    else:
        prompt = f"∂{out}/∂{child}: the local derivative of {out} = {math_text} with respect to {child}"
    hint = f"∂{out}/∂{child} = {rule}"
    tol = tolerance(s.local, digits)
    a = v._prev[0].data
    b = v._prev[1].data if len(v._prev) == 2 else math.nan
    p = v._p if v._p is not None else math.nan
    found = _MISTAKES.get(v.rule.name, lambda *_: [])(s.slot, a, b, p, v.data)
    return Item("local", s.node, s.slot, s.child, asked, prompt, hint,
                f"∂{out}/∂{child} = {derivative_text(rule, show(s.local))}", s.local, tol,
                _keep(found, s.local, tol))


def _grad_item(t: TracedGraph, names: list[str], i: int, steps: list, asked: bool, digits: int, show) -> Item:
    me = names[i]
    g = t.grads[i]
    terms = " + ".join(f"{names[s.node]}.grad × ∂{names[s.node]}/∂{me}" for s in steps)
    numbers = " + ".join(f"{show(s.upstream)} × {show(s.local)}" for s in steps)
    if len(steps) > 1:
        prompt = f"{me}.grad: the sum of the {len(steps)} contributions that reach {me}"
    else:
        prompt = f"{me}.grad: the contribution that reaches {me}"
    answer = f"{me}.grad = {numbers} = {show(g)}"
    hint = f"{me}.grad = {terms}"
    scale = max((abs(s.contribution) for s in steps), default=0.0)
    tol = tolerance(g, digits, scale)
    found: list[tuple[float, str]] = []
    if len(steps) > 1:
        for s in steps:
            found.append((s.contribution, f"that is only the contribution through {names[s.node]}; "
                                          f"{me} gets {len(steps)}: add them all"))
    for s in steps:
        user = names[s.node]
        found.append((s.upstream, f"multiply {user}.grad by the local derivative ∂{user}/∂{me}"))
        found.append((s.local, f"that is the local derivative ∂{user}/∂{me}; multiply it by {user}.grad"))
    return Item("grad", i, None, None, asked, prompt, hint, answer, g, tol, _keep(found, g, tol))

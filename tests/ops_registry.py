"""The one registry of ops that drives every derivative check (minitorch's MathTest idea).

Each :class:`OpCase` says how to apply an op to Values, the same function in sympy (the
symbolic oracle for derivatives of any order), the same function on floats via ``math``
(the value oracle), and where to draw points from. Adding an op to ``autograd.RULES``
without a line here fails ``test_registry_covers_every_rule``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Deterministic and modest: the same examples on every run, and a fast suite.
SETTINGS = settings(
    derandomize=True, max_examples=20, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

Interval = tuple[float, float]

# Domains: a tuple of intervals per input. Kinks (relu, abs at 0) and poles stay a margin away.
ANY = ((-3.0, 3.0),)
POS = ((0.1, 4.0),)
AWAY0 = ((-3.0, -0.1), (0.1, 3.0))


@dataclass(frozen=True)
class OpCase:
    """One way of writing one op, with its oracles.

    ``prev`` describes the node's expected operands in order: an int is the index of an
    input Value, a float is a constant operand that the op made from a plain number.
    """

    name: str
    rule: str  # the autograd.RULES entry this form exercises
    op: str  # the expected ``_op`` string of the output node
    apply: Callable
    sym: Callable  # same function on sympy symbols
    ref: Callable  # same function on floats, via math
    domain: tuple[tuple[Interval, ...], ...]
    prev: tuple
    param: float | None = None  # the rule's constant ``p``: exponent, base or slope

    @property
    def arity(self) -> int:
        return len(self.domain)

    def points(self) -> st.SearchStrategy[tuple[float, ...]]:
        """Hypothesis strategy for a point inside the domain."""
        per_input = [
            st.one_of(*[st.floats(lo, hi, allow_nan=False) for lo, hi in intervals])
            for intervals in self.domain
        ]
        return st.tuples(*per_input)

    def midpoint(self) -> tuple[float, ...]:
        """A fixed point inside the domain: near the middle of each input's last interval,
        shifted off it so it is not a special value such as 0."""
        return tuple(0.5 * (iv[-1][0] + iv[-1][1]) + 0.123 for iv in self.domain)

    def derivative(self, wrt: tuple[int, ...]) -> Callable[..., float]:
        """sympy's partial derivative, d^k f / d x_wrt[0] ... d x_wrt[-1], as a float function."""
        return _sympy_derivative(self.name, wrt)


def _sign(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


# sympy writes derivatives of abs/relu with sign, Heaviside and DiracDelta; points are
# drawn away from 0, where the delta is 0 and the step is 0 or 1.
_LAMBDIFY_MODULES = [
    {"sign": _sign, "Heaviside": lambda x, h0=0.5: 1.0 if x > 0 else (0.0 if x < 0 else h0),
     "DiracDelta": lambda *args: 0.0},
    "math",
]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _case(name, rule, op, apply, sym, ref, domain, prev, param=None) -> OpCase:
    if param is None and rule in ("pow", "rpow"):
        # The constant is in the op's name: '**3' has exponent 3, '2**' has base 2.
        param = float(op[2:] if rule == "pow" else op[:-2])
    return OpCase(name, rule, op, apply, sym, ref, tuple(domain), tuple(prev), param)


F64, I64, F32 = np.float64, np.int64, np.float32
RELU = lambda x: sp.Piecewise((x, x > 0), (0, True))
LEAKY = lambda x: sp.Piecewise((x, x > 0), (sp.Rational(1, 10) * x, True))

CASES: list[OpCase] = [
    # Two Values.
    _case("a+b", "+", "+", lambda a, b: a + b, lambda a, b: a + b, lambda a, b: a + b, [ANY, ANY], [0, 1]),
    _case("a-b", "-", "-", lambda a, b: a - b, lambda a, b: a - b, lambda a, b: a - b, [ANY, ANY], [0, 1]),
    _case("a*b", "*", "*", lambda a, b: a * b, lambda a, b: a * b, lambda a, b: a * b, [ANY, ANY], [0, 1]),
    _case("a/b", "/", "/", lambda a, b: a / b, lambda a, b: a / b, lambda a, b: a / b, [ANY, AWAY0], [0, 1]),
    _case("a**b", "**", "**", lambda a, b: a ** b, lambda a, b: a ** b, lambda a, b: a ** b,
          [POS, ANY], [0, 1]),
    # A Value and a Python number, both orders.
    _case("a+2", "+", "+", lambda a: a + 2, lambda a: a + 2, lambda a: a + 2, [ANY], [0, 2.0]),
    _case("2+a", "+", "+", lambda a: 2 + a, lambda a: 2 + a, lambda a: 2 + a, [ANY], [2.0, 0]),
    _case("a-2.5", "-", "-", lambda a: a - 2.5, lambda a: a - 2.5, lambda a: a - 2.5, [ANY], [0, 2.5]),
    _case("2-a", "-", "-", lambda a: 2 - a, lambda a: 2 - a, lambda a: 2 - a, [ANY], [2.0, 0]),
    _case("a*3", "*", "*", lambda a: a * 3, lambda a: a * 3, lambda a: a * 3, [ANY], [0, 3.0]),
    _case("3*a", "*", "*", lambda a: 3 * a, lambda a: 3 * a, lambda a: 3 * a, [ANY], [3.0, 0]),
    _case("a/4", "/", "/", lambda a: a / 4, lambda a: a / 4, lambda a: a / 4, [ANY], [0, 4.0]),
    _case("3/a", "/", "/", lambda a: 3 / a, lambda a: 3 / a, lambda a: 3 / a, [AWAY0], [3.0, 0]),
    _case("a**2", "pow", "**2", lambda a: a ** 2, lambda a: a ** 2, lambda a: a ** 2, [ANY], [0]),
    _case("a**3", "pow", "**3", lambda a: a ** 3, lambda a: a ** 3, lambda a: a ** 3, [ANY], [0]),
    _case("a**0.5", "pow", "**0.5", lambda a: a ** 0.5, lambda a: a ** sp.Rational(1, 2),
          lambda a: a ** 0.5, [POS], [0]),
    _case("a**-1", "pow", "**-1", lambda a: a ** -1, lambda a: a ** -1, lambda a: a ** -1, [AWAY0], [0]),
    _case("a**-1.5", "pow", "**-1.5", lambda a: a ** -1.5, lambda a: a ** sp.Rational(-3, 2),
          lambda a: a ** -1.5, [POS], [0]),
    _case("2**a", "rpow", "2**", lambda a: 2 ** a, lambda a: 2 ** a, lambda a: 2.0 ** a, [ANY], [0]),
    _case("0.5**a", "rpow", "0.5**", lambda a: 0.5 ** a, lambda a: sp.Rational(1, 2) ** a,
          lambda a: 0.5 ** a, [ANY], [0]),
    # numpy scalars on either side.
    _case("f64+a", "+", "+", lambda a: F64(1.5) + a, lambda a: 1.5 + a, lambda a: 1.5 + a, [ANY], [1.5, 0]),
    _case("a+i64", "+", "+", lambda a: a + I64(2), lambda a: a + 2, lambda a: a + 2, [ANY], [0, 2.0]),
    _case("i64-a", "-", "-", lambda a: I64(2) - a, lambda a: 2 - a, lambda a: 2 - a, [ANY], [2.0, 0]),
    _case("a-f32", "-", "-", lambda a: a - F32(0.5), lambda a: a - 0.5, lambda a: a - 0.5, [ANY], [0, 0.5]),
    _case("f64*a", "*", "*", lambda a: F64(-2.0) * a, lambda a: -2 * a, lambda a: -2 * a, [ANY], [-2.0, 0]),
    _case("a*i64", "*", "*", lambda a: a * I64(3), lambda a: 3 * a, lambda a: 3 * a, [ANY], [0, 3.0]),
    _case("f64/a", "/", "/", lambda a: F64(3.0) / a, lambda a: 3 / a, lambda a: 3 / a, [AWAY0], [3.0, 0]),
    _case("a/i64", "/", "/", lambda a: a / I64(4), lambda a: a / 4, lambda a: a / 4, [ANY], [0, 4.0]),
    _case("a**i64", "pow", "**3", lambda a: a ** I64(3), lambda a: a ** 3, lambda a: a ** 3, [ANY], [0]),
    _case("f64**a", "rpow", "2**", lambda a: F64(2.0) ** a, lambda a: 2 ** a, lambda a: 2.0 ** a,
          [ANY], [0]),
    # One Value: unary minus and the methods.
    _case("-a", "neg", "neg", lambda a: -a, lambda a: -a, lambda a: -a, [ANY], [0]),
    _case("exp", "exp", "exp", lambda a: a.exp(), sp.exp, math.exp, [((-5.0, 5.0),)], [0]),
    _case("log", "log", "log", lambda a: a.log(), sp.log, math.log, [POS], [0]),
    _case("sqrt", "sqrt", "sqrt", lambda a: a.sqrt(), sp.sqrt, math.sqrt, [POS], [0]),
    _case("tanh", "tanh", "tanh", lambda a: a.tanh(), sp.tanh, math.tanh, [ANY], [0]),
    _case("sigmoid", "sigmoid", "sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + sp.exp(-a)),
          _sigmoid, [((-6.0, 6.0),)], [0]),
    _case("relu", "relu", "relu", lambda a: a.relu(), RELU, lambda a: max(a, 0.0), [AWAY0], [0]),
    _case("leaky_relu", "leaky_relu", "leaky_relu", lambda a: a.leaky_relu(0.1), LEAKY,
          lambda a: a if a > 0 else 0.1 * a, [AWAY0], [0], param=0.1),
    _case("abs", "abs", "abs", lambda a: a.abs(), sp.Abs, abs, [AWAY0], [0]),
    _case("abs()", "abs", "abs", lambda a: abs(a), sp.Abs, abs, [AWAY0], [0]),
    _case("sin", "sin", "sin", lambda a: a.sin(), sp.sin, math.sin, [ANY], [0]),
    _case("cos", "cos", "cos", lambda a: a.cos(), sp.cos, math.cos, [ANY], [0]),
    _case("softplus", "softplus", "softplus", lambda a: a.softplus(), lambda a: sp.log(1 + sp.exp(a)),
          lambda a: math.log1p(math.exp(a)), [((-6.0, 6.0),)], [0]),
]

BY_NAME: dict[str, OpCase] = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "registry names must be unique"


@cache
def _symbols(n: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"x{i}", real=True) for i in range(n))


@cache
def _sympy_derivative(name: str, wrt: tuple[int, ...]) -> Callable[..., float]:
    case = BY_NAME[name]
    xs = _symbols(case.arity)
    expr = case.sym(*xs)
    for i in wrt:
        expr = sp.diff(expr, xs[i])
    fn = sp.lambdify(xs, expr, modules=_LAMBDIFY_MODULES)
    return lambda *point: float(fn(*point))


def close(actual: float, expected: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    """Floats agree up to rounding: ``math.isclose`` with a small absolute floor."""
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)

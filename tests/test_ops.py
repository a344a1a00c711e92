"""Every op in the registry, checked the same way at hypothesis-generated points.

Oracles: ``math`` for values; sympy for first and second derivatives (grad of grad with
``create_graph=True``), for each node's ``local_grads()`` and for the rule table's formula
text; central differences of the ``math`` function for first and second derivatives. None
of them is the engine. Then the points the domains avoid (0 for relu, abs, powers) and the
whole float range (a real number or an error naming the op, never NaN or complex).
"""

from __future__ import annotations

import itertools
import math

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from ops_registry import CASES, SETTINGS, OpCase, close

from chainrule import autograd
from chainrule.autograd import Value

per_case = pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])


def _leaves(point: tuple[float, ...]) -> list[Value]:
    return [Value(x, label=f"x{i}") for i, x in enumerate(point)]


def test_registry_covers_every_rule():
    covered = {c.rule for c in CASES}
    missing = sorted(autograd.rules.BUILTIN - covered)
    assert not missing, f"ops in autograd.RULES without a line in tests/ops_registry.py: {missing}"
    unknown = sorted(covered - set(autograd.RULES))
    assert not unknown, f"registry lines naming no rule in autograd.RULES: {unknown}"


def test_registry_has_every_operator_form():
    # Both orders with a Python number and with a numpy scalar, for each binary operator.
    names = {c.name for c in CASES}
    for form in ("a+2", "2+a", "a-2.5", "2-a", "a*3", "3*a", "a/4", "3/a", "a**3", "2**a",
                 "f64+a", "a+i64", "i64-a", "f64*a", "f64/a", "a**i64", "f64**a", "-a"):
        assert form in names, form


@per_case
@SETTINGS
@given(data=st.data())
def test_registry_oracles_agree(case: OpCase, data):
    # The sympy and math versions of a case must be the same function, or one oracle lies.
    point = data.draw(case.points())
    assert close(case.derivative(())(*point), case.ref(*point), rel=1e-12), point


@per_case
def test_node_op_rule_and_operands(case: OpCase):
    xs = _leaves(case.midpoint())
    out = case.apply(*xs)
    assert type(out) is Value
    assert out._op == case.op
    assert out.rule is autograd.RULES[case.rule]
    assert not out.is_leaf and not out.is_constant
    assert len(out._prev) == out.rule.arity
    for operand, expected in zip(out._prev, case.prev, strict=True):
        if isinstance(expected, int):
            assert operand is xs[expected]
        else:
            assert operand.is_constant and operand.is_leaf and operand._op == ""
            assert operand.data == expected and type(operand.data) is float


@per_case
@SETTINGS
@given(data=st.data())
def test_forward_matches_math(case: OpCase, data):
    point = data.draw(case.points())
    out = case.apply(*_leaves(point))
    assert type(out.data) is float
    assert close(out.data, case.ref(*point), rel=1e-12), (point, out.data, case.ref(*point))


@per_case
@SETTINGS
@given(data=st.data())
def test_first_derivatives_match_sympy(case: OpCase, data):
    point = data.draw(case.points())
    xs = _leaves(point)
    out = case.apply(*xs)
    out.backward()
    expected = [case.derivative((i,))(*point) for i in range(case.arity)]
    for i, x in enumerate(xs):
        assert close(x.grad, expected[i]), (i, point, x.grad, expected[i])
    # grad() gives the same numbers as plain floats, without touching .grad.
    before = [x.grad for x in xs]
    got = autograd.grad(out, xs)
    assert [x.grad for x in xs] == before
    assert all(type(g) is float for g in got)
    assert all(close(g, e) for g, e in zip(got, expected)), (got, expected)


@per_case
@SETTINGS
@given(data=st.data())
def test_first_derivatives_match_central_differences(case: OpCase, data):
    point = data.draw(case.points())
    xs = _leaves(point)
    engine = autograd.grad(case.apply(*xs), xs)
    scale = max(1.0, abs(case.ref(*point)))
    for i, x in enumerate(point):
        h = 1e-6 * max(1.0, abs(x))
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        numeric = (case.ref(*up) - case.ref(*down)) / (up[i] - down[i])
        assert close(engine[i], numeric, rel=1e-6, abs_=1e-7 * scale), (i, point, engine[i], numeric)


@per_case
@SETTINGS
@given(data=st.data())
def test_second_derivatives_match_sympy(case: OpCase, data):
    point = data.draw(case.points())
    xs = _leaves(point)
    first = autograd.grad(case.apply(*xs), xs, create_graph=True)
    for i, g in enumerate(first):
        assert isinstance(g, Value)
        assert close(g.data, case.derivative((i,))(*point))
    for i, j in itertools.product(range(case.arity), repeat=2):
        second = autograd.grad(first[i], xs[j], allow_unused=True)  # a constant first[i] is unused
        expected = case.derivative((i, j))(*point)
        assert close(second, expected, rel=1e-8, abs_=1e-10), ((i, j), point, second, expected)


@per_case
@SETTINGS
@given(data=st.data())
def test_local_grads_match_sympy(case: OpCase, data):
    point = data.draw(case.points())
    xs = _leaves(point)
    out = case.apply(*xs)
    local = out.local_grads()
    assert len(local) == len(out._prev)
    for operand, d in zip(out._prev, local):
        if operand.is_constant:
            continue
        i = next(k for k, x in enumerate(xs) if x is operand)
        expected = case.derivative((i,))(*point)
        assert close(d, expected), (i, point, d, expected)


@per_case
@SETTINGS
@given(data=st.data())
def test_second_derivatives_match_central_differences(case: OpCase, data):
    point = data.draw(case.points())
    xs = _leaves(point)
    first = autograd.grad(case.apply(*xs), xs, create_graph=True)
    f = case.ref
    steps = [1e-4 * max(1.0, abs(x)) for x in point]

    def shifted(moves: dict[int, int]) -> float:
        """f with input k moved by moves[k] steps."""
        return f(*(x + moves.get(k, 0) * steps[k] for k, x in enumerate(point)))

    scale = max(1.0, abs(f(*point)))
    for i, j in itertools.product(range(case.arity), repeat=2):
        if i == j:
            numeric = (shifted({i: 1}) - 2 * f(*point) + shifted({i: -1})) / steps[i] ** 2
        else:
            numeric = (
                shifted({i: 1, j: 1}) - shifted({i: 1, j: -1})
                - shifted({i: -1, j: 1}) + shifted({i: -1, j: -1})
            ) / (4 * steps[i] * steps[j])
        second = autograd.grad(first[i], xs[j], allow_unused=True)  # a constant first[i] is unused
        assert close(second, numeric, rel=1e-4, abs_=1e-5 * scale), ((i, j), point, second, numeric)


# The formula text is what the renderer prints on an edge: it must be the true derivative.
FORMULA_NAMES = {"log": math.log, "sin": math.sin, "cos": math.cos,
                 "sign": lambda x: (x > 0) - (x < 0), "sigmoid": lambda x: 1 / (1 + math.exp(-x))}


@per_case
@SETTINGS
@given(data=st.data())
def test_rule_formula_text_matches_sympy(case: OpCase, data):
    point = data.draw(case.points())
    xs = _leaves(point)
    out = case.apply(*xs)
    rule = out.rule
    assert len(rule.local) == rule.arity and rule.math
    names = dict(FORMULA_NAMES, out=out.data, a=out._prev[0].data, p=case.param)
    if rule.arity == 2:
        names["b"] = out._prev[1].data
    for operand, text in zip(out._prev, rule.local):
        if operand.is_constant:
            continue
        i = next(k for k, x in enumerate(xs) if x is operand)
        value = eval(text, {"__builtins__": {}}, names)  # trusted text from the rule table
        expected = case.derivative((i,))(*point)
        assert close(value, expected), (text, point, value, expected)


@per_case
@SETTINGS
@given(data=st.data())
def test_no_grad_gives_the_same_value_and_records_nothing(case: OpCase, data):
    point = data.draw(case.points())
    with autograd.no_grad():
        out = case.apply(*_leaves(point))
    assert out.is_leaf and out._prev == () and out._op == ""
    assert close(out.data, case.ref(*point), rel=1e-12)


# Points the hypothesis domains stay away from, with the value the engine documents.
@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda x: x.relu(), 0.0),  # relu'(0) is 0 by convention
        (lambda x: x.abs(), 0.0),  # |x|'(0) is 0 by convention
        (lambda x: x.leaky_relu(0.2), 0.2),  # the slope of the left piece
        (lambda x: x ** 2, 0.0),
        (lambda x: x ** 1, 1.0),
        (lambda x: x ** 3, 0.0),
        (lambda x: 2 ** x, math.log(2.0)),
        (lambda x: x.sin(), 1.0),
        (lambda x: x.softplus(), 0.5),
        (lambda x: x.sigmoid(), 0.25),
        (lambda x: x.tanh(), 1.0),
    ],
    ids=["relu", "abs", "leaky_relu", "x**2", "x**1", "x**3", "2**x", "sin", "softplus", "sigmoid", "tanh"],
)
def test_derivative_at_zero(make, expected):
    x = Value(0.0)
    make(x).backward()
    assert close(x.grad, expected)


def test_value_power_value_at_zero_base():
    # d/da a^b = b a^(b-1) = 0 and d/db a^b = a^b log a -> 0 as a -> 0+ (for b > 0).
    a, b = Value(0.0), Value(2.0)
    (a ** b).backward()
    assert a.grad == 0.0 and b.grad == 0.0


def test_negative_base_to_integer_constant_power():
    x = Value(-2.0)
    y = x ** 3
    y.backward()
    assert y.data == -8.0 and x.grad == 12.0


BINARY = [c for c in CASES if c.arity == 2]


@pytest.mark.parametrize("case", BINARY, ids=[c.name for c in BINARY])
def test_binary_op_with_one_value_as_both_operands(case: OpCase):
    # a op a: two edges to the same node, whose contributions must add up.
    x_sym = sp.Symbol("x", real=True)
    f = case.sym(x_sym, x_sym)
    for p in (-2.3, -0.7, 0.4, 1.9):
        if not all(any(lo <= p <= hi for lo, hi in d) for d in case.domain):
            continue
        x = Value(p)
        out = case.apply(x, x)
        assert out._prev == (x, x)
        out.backward()
        assert close(x.grad, float(sp.diff(f, x_sym).subs(x_sym, p))), p
        d1 = autograd.grad(case.apply(x, x), x, create_graph=True)
        assert close(autograd.grad(d1, x, allow_unused=True), float(sp.diff(f, x_sym, 2).subs(x_sym, p))), p


def test_constant_base_zero_matches_value_base_zero():
    # 0 ** x and Value(0) ** x are the same function of x; for x > 0 its derivative is 0
    # (the limit of 0^x log 0), as the Value ** Value rule already gives.
    x = Value(2.0)
    y = 0.0 ** x
    assert y.data == 0.0
    y.backward()
    assert x.grad == 0.0


def test_zeroth_power_has_zero_derivative_everywhere():
    # x ** 0 is the constant 1, so its derivative is 0 at every x, 0 included.
    for p in (0.0, 1.5, -2.0):
        x = Value(p)
        (x ** 0).backward()
        assert x.grad == 0.0, p


# What each op's forward error must mention, so the user can find the failing op.
ERROR_TOKENS = {"/": "/", "**": "**", "pow": "**", "rpow": "**", "exp": "exp", "log": "log", "sqrt": "sqrt"}


@per_case
@SETTINGS
@given(data=st.data())
def test_any_finite_input_gives_a_real_number_or_an_error_naming_the_op(case: OpCase, data):
    # The whole float range, not just the oracle domain: never NaN, never complex.
    point = data.draw(st.tuples(*[st.floats(allow_nan=False, allow_infinity=False)] * case.arity))
    xs = _leaves(point)
    try:
        out = case.apply(*xs)
    except (ValueError, ZeroDivisionError, OverflowError) as err:
        assert case.rule in ERROR_TOKENS, f"{case.name} should not fail at {point}: {err}"
        assert ERROR_TOKENS[case.rule] in str(err), str(err)
        return
    assert type(out.data) is float and not math.isnan(out.data), (point, out.data)
    try:
        out.backward()
    except (ValueError, ArithmeticError) as err:
        assert repr(out._op) in str(err), str(err)  # backward names the node's op
        return
    assert all(type(x.grad) is float and not math.isnan(x.grad) for x in xs), (point, [x.grad for x in xs])

"""``gradcheck``: passes on correct gradients, fails loudly with a table on wrong ones.

The tolerance tests use f(x) = x**3, whose central difference is exactly 3x^2 + eps^2, so
the gap between analytic and numeric gradients is known in advance.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_registry import CASES, SETTINGS

from chainrule import autograd
from chainrule.autograd import GradcheckError, Value, gradcheck


def _inside(case) -> list[float]:
    # the middle of the last interval of each argument, nudged off any symmetric point
    return [0.5 * (iv[-1][0] + iv[-1][1]) + 0.137 for iv in case.domain]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_passes_for_every_op(case):
    assert autograd.gradcheck(case.apply, _inside(case)) is True


def test_passes_on_a_composite_function():
    f = lambda x, y, z: (x * y).tanh() + x**2 / z.exp() - (y - z).sigmoid() * 3
    assert autograd.gradcheck(f, [0.3, -1.2, 0.7])
    assert autograd.gradcheck(f, [Value(0.3), 2, -1.0])  # Values and ints are read as numbers


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


def _table_rows(message: str) -> list[str]:
    return [line for line in message.splitlines() if re.match(r"\s*\d+\s", line)]


def test_a_hidden_dependency_fails_with_a_per_input_table():
    # detach() hides y's second use, so the analytic dy is half the true one
    f = lambda x, y: x * 2 + y * y.detach()
    with pytest.raises(GradcheckError) as info:
        autograd.gradcheck(f, [1.5, 3.0])
    msg = str(info.value)
    assert "analytic" in msg and "numeric" in msg
    rows = _table_rows(msg)
    assert len(rows) == 2  # one row per input, the good one included
    assert "mismatch" not in rows[0] and "mismatch" in rows[1]
    # row for y: value 3, analytic 3 (= y), numeric 6 (= 2y)
    numbers = [float(t) for t in rows[1].split()[:5]]
    assert numbers[0] == 1 and numbers[1] == 3.0
    assert numbers[2] == pytest.approx(3.0) and numbers[3] == pytest.approx(6.0, rel=1e-6)
    assert numbers[4] == pytest.approx(3.0, rel=1e-6)


def test_eps_sets_the_step_of_the_central_difference():
    cube = lambda x: x**3
    assert autograd.gradcheck(cube, [1.0], eps=1e-6)
    with pytest.raises(GradcheckError) as info:
        autograd.gradcheck(cube, [1.0], eps=0.1)  # numeric = 3 + 0.01
    assert "eps=0.1" in str(info.value)
    assert "3.01" in _table_rows(str(info.value))[0]


def test_atol_and_rtol_set_the_tolerance():
    cube = lambda x: x**3
    # the gap is eps^2 = 0.01; the numeric gradient is 3.01
    with pytest.raises(GradcheckError):
        autograd.gradcheck(cube, [1.0], eps=0.1, atol=0.0099, rtol=0.0)
    assert autograd.gradcheck(cube, [1.0], eps=0.1, atol=0.0101, rtol=0.0)
    with pytest.raises(GradcheckError):
        autograd.gradcheck(cube, [1.0], eps=0.1, atol=0.0, rtol=0.0099 / 3.01)
    assert autograd.gradcheck(cube, [1.0], eps=0.1, atol=0.0, rtol=0.0101 / 3.01)


def test_gradcheck_leaves_the_callers_values_alone():
    x = Value(2.0)
    autograd.gradcheck(lambda v: v * v, [x])
    assert x.grad == 0.0 and x.data == 2.0


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match=r"inputs\[1\]"):
        autograd.gradcheck(lambda a, b: a * b, [1.0, "two"])
    with pytest.raises(TypeError, match="must return a Value"):
        autograd.gradcheck(lambda a: 3.0, [1.0])


# Random graphs built from ops that are smooth everywhere, with operands drawn from every
# node made so far, so reuse (a * a, a node feeding many users) comes up often.
_BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / (1 + b * b)]
_UNARY = [lambda a: a.tanh(), lambda a: a.sigmoid(), lambda a: a.sin(), lambda a: a.cos(),
          lambda a: a.softplus(), lambda a: a.tanh().exp(), lambda a: -a, lambda a: 2 ** a.tanh()]


@st.composite
def _programs(draw):
    steps = []
    for i in range(draw(st.integers(3, 12))):
        pool = 3 + i  # three inputs, then one node per step
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(range(len(_BINARY)))), draw(st.integers(0, pool - 1)),
                          draw(st.integers(0, pool - 1))))
        else:
            steps.append((draw(st.sampled_from(range(len(_UNARY)))), draw(st.integers(0, pool - 1))))
    point = draw(st.tuples(*[st.floats(-2.0, 2.0)] * 3))
    return steps, point


def _run(steps, *inputs):
    nodes = list(inputs)
    for step in steps:
        if len(step) == 3:
            nodes.append(_BINARY[step[0]](nodes[step[1]], nodes[step[2]]))
        else:
            nodes.append(_UNARY[step[0]](nodes[step[1]]))
    return nodes[-1]


@settings(SETTINGS, max_examples=60)
@given(program=_programs())
def test_random_graphs_pass_gradcheck_and_backward_agrees_with_grad(program):
    steps, point = program
    assert autograd.gradcheck(lambda *xs: _run(steps, *xs), point, rtol=1e-5)
    leaves = [Value(x) for x in point]
    out = _run(steps, *leaves)
    out.backward()
    for x, g in zip(leaves, autograd.grad(out, leaves, allow_unused=True)):
        assert math.isclose(x.grad, g, rel_tol=1e-12, abs_tol=1e-15)


def test_a_nan_gradient_is_a_mismatch():
    def hides_nan(a):
        out = a * a
        out._da = float("nan")  # a broken local derivative
        return out

    with pytest.raises(GradcheckError, match="mismatch"):
        gradcheck(hides_nan, [3.0])


@pytest.mark.parametrize("kwargs", [{"eps": 0}, {"eps": -1e-6}, {"atol": -1}, {"rtol": float("inf")},
                                    {"eps": float("nan")}])
def test_bad_tolerances_are_named(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=f"gradcheck: {name} must be"):
        gradcheck(lambda a: a * a, [3.0], **kwargs)

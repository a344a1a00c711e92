"""Higher-order gradients: ``grad(..., create_graph=True)`` returns Values with their own graph.

Expected values come from sympy or from derivatives worked out by hand in the test.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from ops_registry import CASES, SETTINGS, OpCase, close

from chainrule import autograd
from chainrule.autograd import Value

X, Y = sp.symbols("x y", real=True)


def nth_derivative(f, x: Value, n: int) -> Value | float:
    """d^n f / dx^n by repeated grad(create_graph=True); the last step is a plain float.

    A derivative that is a constant no longer depends on x: allow_unused gives its 0.
    """
    out = f
    for k in range(n):
        out = autograd.grad(out, x, create_graph=k < n - 1, allow_unused=True)
    return out


def test_second_derivative_of_cube_at_two_is_twelve():
    x = Value(2.0)
    f = x ** 3
    d1 = autograd.grad(f, x, create_graph=True)
    assert isinstance(d1, Value) and d1.data == 12.0  # 3 x^2
    d2 = autograd.grad(d1, x, create_graph=True)
    assert d2.data == 12.0  # 6 x
    d3 = autograd.grad(d2, x, create_graph=True)
    assert d3.data == 6.0
    assert autograd.grad(d3, x, allow_unused=True) == 0.0  # d3 is the constant 6


def test_cube_written_as_products_gives_the_same_derivatives():
    x = Value(2.0)
    assert nth_derivative(x * x * x, x, 2) == 12.0
    assert nth_derivative(x * x * x, x, 3) == 6.0


def test_backward_on_a_first_derivative_gives_the_second():
    # PyTorch style: differentiate grad's result with .backward().
    x = Value(0.7)
    d1 = autograd.grad(x.sin() * x, x, create_graph=True)  # cos(x) x + sin(x)
    d1.backward()
    assert close(x.grad, -math.sin(0.7) * 0.7 + 2 * math.cos(0.7))


def test_hessian_of_two_variable_function_matches_sympy():
    expr = X ** 2 * Y + sp.sin(X) * sp.exp(Y) + X / Y + sp.tanh(X * Y)
    hessian = sp.hessian(expr, (X, Y))
    for px, py in [(0.3, 1.7), (-1.2, 0.4), (2.0, -0.8)]:
        x, y = Value(px), Value(py)
        f = x ** 2 * y + x.sin() * y.exp() + x / y + (x * y).tanh()
        gx, gy = autograd.grad(f, [x, y], create_graph=True)
        rows = [autograd.grad(gx, [x, y]), autograd.grad(gy, [x, y])]
        for i in range(2):
            for j in range(2):
                want = float(hessian[i, j].subs({X: px, Y: py}))
                assert close(rows[i][j], want), ((i, j), (px, py), rows[i][j], want)
        assert close(rows[0][1], rows[1][0])


@pytest.mark.parametrize("point", [-2.5, -0.6, 0.0, 0.3, 1.1, 4.0])
def test_third_derivative_of_tanh_matches_sympy(point: float):
    want = float(sp.diff(sp.tanh(X), X, 3).subs(X, point))
    x = Value(point)
    assert close(nth_derivative(x.tanh(), x, 3), want, abs_=1e-12)


def test_third_derivative_of_tanh_by_hand():
    # tanh''' = -2 sech^2 (1 - 3 tanh^2) = 2 (1 - t^2)(3 t^2 - 1) with t = tanh(x).
    x = Value(0.5)
    t = math.tanh(0.5)
    assert close(nth_derivative(x.tanh(), x, 3), 2 * (1 - t * t) * (3 * t * t - 1))


def test_gradient_of_a_gradient_norm_matches_sympy():
    # A gradient penalty: |grad f|^2 differentiated again (as in WGAN-GP).
    expr = X ** 3 * Y + sp.exp(X - Y)
    penalty = sp.diff(expr, X) ** 2 + sp.diff(expr, Y) ** 2
    px, py = 0.4, -0.9
    x, y = Value(px), Value(py)
    gx, gy = autograd.grad(x ** 3 * y + (x - y).exp(), [x, y], create_graph=True)
    got = autograd.grad(gx * gx + gy * gy, [x, y])
    for g, s in zip(got, (X, Y)):
        assert close(g, float(sp.diff(penalty, s).subs({X: px, Y: py})))


def test_newton_iteration_with_engine_second_derivatives_finds_the_minimum():
    # f(x) = x^4 - 3x^2 + x; f'(x) = 4x^3 - 6x + 1 has a root near 1.13 (a local minimum).
    x0 = 1.5
    for _ in range(30):
        x = Value(x0)
        d1 = autograd.grad(x ** 4 - 3 * x ** 2 + x, x, create_graph=True)
        d2 = autograd.grad(d1, x)
        x0 -= d1.data / d2
    assert abs(4 * x0 ** 3 - 6 * x0 + 1) < 1e-12
    assert 12 * x0 ** 2 - 6 > 0


def test_create_graph_does_not_touch_grad():
    x, y = Value(1.5), Value(-0.5)
    f = (x * y).exp() + x ** 2
    gx, gy = autograd.grad(f, [x, y], create_graph=True)
    autograd.grad(gx, [x, y])
    assert x.grad == 0.0 and y.grad == 0.0 and f.grad == 0.0 and gx.grad == 0.0


def test_constant_first_derivative_has_zero_second_derivative():
    x = Value(3.0)
    d1 = autograd.grad(5 * x - 2, x, create_graph=True)
    assert isinstance(d1, Value) and d1.data == 5.0
    assert autograd.grad(d1, x, allow_unused=True) == 0.0
    with pytest.raises(ValueError, match="not used"):  # d1 is the constant 5, as torch says
        autograd.grad(d1, x)


def test_unused_input_gets_a_zero_value_with_create_graph():
    x, y = Value(1.0), Value(2.0)
    gx, gy = autograd.grad(x * x, [x, y], create_graph=True, allow_unused=True)
    assert gx.data == 2.0
    assert isinstance(gy, Value) and gy.data == 0.0
    assert autograd.grad(gy, x, allow_unused=True) == 0.0


def test_gradient_with_respect_to_an_intermediate_and_a_leaf():
    x = Value(0.8)
    b = x * x
    c = b.sin()
    dc_db, dc_dx = autograd.grad(c, [b, x], create_graph=True)
    assert close(dc_db.data, math.cos(0.64))
    assert close(dc_dx.data, math.cos(0.64) * 1.6)
    # d/dx cos(x^2) = -sin(x^2) 2x
    assert close(autograd.grad(dc_db, x), -math.sin(0.64) * 1.6)


def test_hessian_vector_product_matches_sympy():
    expr = sp.exp(X * Y) + X ** 3 - Y ** 2 * X
    px, py, v = 0.5, -1.3, (2.0, -0.5)
    x, y = Value(px), Value(py)
    gx, gy = autograd.grad((x * y).exp() + x ** 3 - y ** 2 * x, [x, y], create_graph=True)
    hv = autograd.grad(gx * v[0] + gy * v[1], [x, y])
    hessian = sp.hessian(expr, (X, Y)).subs({X: px, Y: py})
    for i in range(2):
        assert close(hv[i], float(hessian[i, 0] * v[0] + hessian[i, 1] * v[1]))


def test_grad_outputs_weight_each_output_with_create_graph():
    x = Value(1.2)
    g = autograd.grad([x ** 3, x.sin()], x, grad_outputs=[2.0, -1.0], create_graph=True)
    assert close(g.data, 2 * 3 * 1.44 - math.cos(1.2))
    assert close(autograd.grad(g, x), 2 * 6 * 1.2 + math.sin(1.2))


def test_fifth_derivative_of_exp_is_exp():
    x = Value(0.3)
    assert close(nth_derivative(x.exp(), x, 5), math.exp(0.3))


def test_second_derivative_through_a_deep_chain():
    # y = x + n * c x^2 built one step at a time: depth ~3n, far past the recursion limit.
    n, c = 20_000, 1e-4
    x = Value(0.5)
    y = x
    for _ in range(n):
        y = y + c * x * x
    d1 = autograd.grad(y, x, create_graph=True)
    assert close(d1.data, 1 + 2 * n * c * 0.5, rel=1e-9)
    assert close(autograd.grad(d1, x), 2 * n * c, rel=1e-9)


def test_power_rule_at_zero_to_every_order():
    # x^n has finite derivatives of every order at 0: n!/(n-k)! x^(n-k), and 0 past order n.
    x = Value(0.0)
    assert nth_derivative(x ** 2, x, 2) == 2.0
    assert nth_derivative(x ** 2, x, 3) == 0.0
    assert nth_derivative(x ** 3, x, 3) == 6.0
    assert nth_derivative(x ** 3, x, 4) == 0.0
    assert autograd.grad(x ** 0, x) == 0.0  # x^0 is the constant 1 (but built from x)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@SETTINGS
@given(data=st.data())
def test_third_derivatives_of_every_op_match_sympy(case: OpCase, data):
    point = data.draw(case.points())
    xs = [Value(p) for p in point]
    first = autograd.grad(case.apply(*xs), xs, create_graph=True)
    for i, g in enumerate(first):
        second = autograd.grad(g, xs, create_graph=True, allow_unused=True)
        for j, h in enumerate(second):
            third = autograd.grad(h, xs, allow_unused=True)
            for k, got in enumerate(third):
                want = case.derivative((i, j, k))(*point)
                assert close(got, want, rel=1e-7, abs_=1e-9), ((i, j, k), point, got, want)

"""The edge cases issue 10 lists, each with PyTorch's answer or an error naming op and operand.

Expected numbers are PyTorch's documented results or calculus, worked out in the comments.
"""

from __future__ import annotations

import math

import pytest

from chainrule import autograd
from chainrule.autograd import OpError, Value


@pytest.mark.parametrize("x", [1e-200, -1e-200, 3e-160])
def test_reciprocal_power_overflows_to_infinity_like_division(x):
    # d/dx x**-1 = -1/x**2, which overflows a float here: both spellings give -inf (torch too).
    a, b = Value(x), Value(x)
    (a ** -1).backward()
    (1 / b).backward()
    assert a.grad == b.grad == -math.inf


def test_odd_power_overflow_keeps_the_sign():
    # d/dx x**-2 = -2 / x**3: +inf for x -> 0-, -inf for x -> 0+.
    for x, expected in ((-1e-120, math.inf), (1e-120, -math.inf)):  # x**-2 fits, x**-3 does not
        v = Value(x)
        (v ** -2).backward()
        assert v.grad == expected, x


def test_value_power_value_overflowing_slope_is_infinite_not_an_error():
    a, b = Value(1e-200), Value(-1.0)
    (a ** b).backward()
    assert a.grad == -math.inf


@pytest.mark.parametrize("name", ["sin", "cos"])
@pytest.mark.parametrize("x", [math.inf, -math.inf])
def test_sin_cos_of_infinity_is_an_error_naming_op_and_operand(name, x):
    with pytest.raises(OpError, match=rf"^{name}\({x!r}\): {name} needs a finite operand"):
        getattr(Value(x), name)()


def test_zero_to_the_zero_with_value_exponent():
    a, b = Value(0.0), Value(0.0)
    out = a ** b
    out.backward()
    assert (out.data, a.grad, b.grad) == (1.0, 0.0, 0.0)
    # second derivatives exist away from a = 0: d2/da db (a ** b) at (1, 0) is 1
    x, y = Value(1.0), Value(0.0)
    dx = autograd.grad(x ** y, x, create_graph=True)
    assert autograd.grad(dx, y) == 1.0


def test_grad_of_an_unused_input_is_an_error_unless_allowed():
    x = Value(3.0)
    unused = r"grad\(\): the input \(Value\(data=3\.0.*not used.*allow_unused=True"
    with pytest.raises(ValueError, match=unused):
        autograd.grad(Value(1.0) * 2, x)
    with pytest.raises(ValueError, match=r"inputs\[1\]"):
        autograd.grad(x * 2, [x, Value(1.0)])
    assert autograd.grad(Value(1.0) * 2, x, allow_unused=True) == 0.0
    zero = autograd.grad(Value(1.0) * 2, x, create_graph=True, allow_unused=True)
    assert isinstance(zero, Value) and zero.data == 0.0
    # Used but with zero slope is not unused: relu at a negative point.
    assert autograd.grad(Value(-1.0).relu() + x, [x]) == [1.0]


def test_gradcheck_of_a_function_ignoring_an_input_passes():
    assert autograd.gradcheck(lambda a, b: a * 2, [1.0, 5.0])


def test_backward_on_several_outputs_says_what_to_do():
    from chainrule import nn

    out = nn.MLP(2, [3, 2], seed=0)([0.5, -1.0])
    assert isinstance(out, list) and len(out) == 2
    for call in (lambda: out.backward(), lambda: autograd.backward(out)):
        with pytest.raises(TypeError, match=r"needs one Value \(a scalar loss\).*list of 2 Values.*sum"):
            call()
    sum(out).backward()  # what the message suggests works


@pytest.mark.parametrize("call", [math.exp, math.log, float, math.isfinite, lambda v: math.pow(v, 2)])
def test_math_functions_on_a_value_hint_at_the_method(call):
    with pytest.raises(TypeError, match=r"a Value is not a float \(data=2\.0\).*v\.exp\(\).*v\.data"):
        call(Value(2.0))


def test_relu_passes_nan_through_as_torch_does():
    out = Value(math.nan).relu()
    assert math.isnan(out.data)
    assert Value(-math.inf).relu().data == 0.0 and Value(math.inf).relu().data == math.inf

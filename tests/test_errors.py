"""Bad input fails early and clearly: the error names the op and the operand's value.

Never a silent complex number or NaN; the saturating functions stay finite everywhere.
"""

from __future__ import annotations

import math

import pytest

from chainrule import autograd
from chainrule.autograd import OpError, Value


@pytest.mark.parametrize("bad", ["abc", None, 1 + 2j, [1.0], b"1"], ids=repr)
def test_value_rejects_non_real_data(bad):
    with pytest.raises(TypeError) as info:
        Value(bad)
    msg = str(info.value)
    assert "Value(data)" in msg and type(bad).__name__ in msg


def test_value_rejects_a_value_and_a_non_str_label():
    with pytest.raises(TypeError, match="already a Value"):
        Value(Value(1.0))
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


def test_op_error_is_a_value_error():
    assert issubclass(OpError, ValueError)


@pytest.mark.parametrize(
    "fn, exc, parts",
    [
        (lambda: Value(0.0).log(), ValueError, ["log", "0.0"]),
        (lambda: Value(-2.5).log(), ValueError, ["log", "-2.5"]),
        (lambda: Value(-4.0).sqrt(), ValueError, ["sqrt", "-4.0"]),
        (lambda: Value(0) ** -1, ZeroDivisionError, ["0", "**", "-1"]),
        (lambda: Value(0.0) ** Value(-2.0), ZeroDivisionError, ["0", "**", "-2"]),
        (lambda: Value(-8.0) ** 0.5, ValueError, ["-8.0", "**", "0.5", "non-integer"]),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, ["-8.0", "**", "non-integer"]),
        (lambda: Value(-8.0) ** Value(1.5), ValueError, ["-8.0", "**", "1.5"]),
        (lambda: (-2) ** Value(0.5), ValueError, ["-2.0", "**", "0.5"]),
        (lambda: Value(1000.0).exp(), OverflowError, ["exp", "1000.0"]),
        (lambda: Value(10.0) ** Value(400.0), OverflowError, ["10.0", "400.0"]),
        (lambda: 2 ** Value(5000.0), OverflowError, ["2.0", "5000.0"]),
        (lambda: Value(1.0) / 0, ZeroDivisionError, ["division by zero", "/", "1.0"]),
        (lambda: 3 / Value(0.0), ZeroDivisionError, ["division by zero", "/", "3.0"]),
        (lambda: Value(-1.5) / Value(0.0), ZeroDivisionError, ["division by zero", "/", "-1.5"]),
    ],
    ids=["log0", "log_neg", "sqrt_neg", "zero_pow_neg1", "zero_pow_value", "neg_pow_half",
         "neg_pow_third", "neg_pow_value", "rpow_neg_base", "exp_overflow", "pow_overflow",
         "rpow_overflow", "div_num_zero", "rdiv_zero", "div_value_zero"],
)
def test_domain_errors_name_the_op_and_operand(fn, exc, parts):
    with pytest.raises(exc) as info:
        fn()
    msg = str(info.value)
    for part in parts:
        assert part in msg, (part, msg)


def test_negative_base_to_an_integer_power_is_fine():
    assert (Value(-2.0) ** 3).data == -8.0
    assert (Value(-2.0) ** Value(2.0)).data == 4.0
    assert (Value(-2.0) ** -1).data == -0.5


@pytest.mark.parametrize("x", [1e308, -1e308, 710.0, -710.0, 5e-324, -5e-324])
@pytest.mark.parametrize("op", ["sigmoid", "tanh", "softplus"])
def test_saturating_functions_are_finite_with_finite_gradients(op, x):
    a = Value(x)
    out = getattr(a, op)()
    out.backward()
    assert math.isfinite(out.data) and math.isfinite(a.grad), (out.data, a.grad)
    g = autograd.grad(out, a, create_graph=True)
    assert math.isfinite(g.data)
    assert math.isfinite(autograd.grad(g, a))


def test_saturating_functions_at_the_extremes_have_the_limit_values():
    assert Value(1e308).sigmoid().data == 1.0 and Value(-1e308).sigmoid().data == 0.0
    assert Value(1e308).tanh().data == 1.0 and Value(-1e308).tanh().data == -1.0
    assert Value(1e308).softplus().data == 1e308 and Value(-1e308).softplus().data == 0.0


@pytest.mark.parametrize(
    "make, op",
    [
        (lambda x: x.sqrt(), "sqrt"),
        (lambda x: x**0.5, "**0.5"),
        (lambda x: x ** Value(0.5), "**"),
    ],
    ids=["sqrt", "pow_half", "pow_value"],
)
def test_errors_during_backward_name_the_node(make, op):
    # d/dx sqrt(x) at 0 is 1 / 0: the forward is fine, the derivative is not
    x = Value(0.0)
    out = make(x)
    with pytest.raises(ZeroDivisionError) as info:
        out.backward()
    assert f"{op!r} node" in str(info.value)
    with pytest.raises(ZeroDivisionError) as info:
        autograd.grad(out, x)
    assert f"{op!r} node" in str(info.value)


@pytest.mark.parametrize(
    "fn",
    [
        lambda v: v + "a", lambda v: "a" + v, lambda v: v * "a", lambda v: v - None,
        lambda v: v / [1], lambda v: v ** "2", lambda v: "2" ** v, lambda v: v + 1j,
    ],
    ids=["add_str", "radd_str", "mul_str", "sub_none", "div_list", "pow_str", "rpow_str", "add_complex"],
)
def test_arithmetic_with_non_numbers_is_a_type_error(fn):
    with pytest.raises(TypeError):
        fn(Value(2.0))


def test_leaky_relu_slope_must_be_a_number():
    with pytest.raises(TypeError, match="leaky_relu"):
        Value(1.0).leaky_relu("steep")


def test_backward_and_values_helpers_reject_wrong_types():
    with pytest.raises(TypeError, match="backward"):
        autograd.backward(3.0)
    with pytest.raises(TypeError, match="not supported between instances of 'Value' and 'str'"):
        Value(1.0) < "x"  # noqa: B015 - the comparison itself is what must fail


def test_backward_through_a_negative_constant_base_names_log_and_the_base():
    # d/dx (-2) ** x needs log(-2): the forward at an integer x is real, the slope is not
    out = (-2) ** Value(2.0)
    assert out.data == 4.0
    with pytest.raises(ValueError) as info:
        out.backward()
    msg = str(info.value)
    assert "node" in msg and "log" in msg and "-2.0" in msg


def test_backward_through_a_negative_value_base_names_the_base():
    # a ** b with a Value exponent: d/db = a**b * log(a) is not real for a < 0
    a, b = Value(-2.0), Value(3.0)
    out = a**b
    assert out.data == -8.0
    with pytest.raises(ValueError) as info:
        out.backward()
    msg = str(info.value)
    assert "'**' node" in msg and "-2.0" in msg and "log" in msg


@pytest.mark.parametrize("p", [float("inf"), float("-inf"), float("nan")])
def test_negative_base_to_a_non_finite_power_names_the_op(p):
    with pytest.raises(ValueError, match=r"-2\.0 \*\* .*non-finite"):
        Value(-2.0) ** p


def test_value_exponent_at_zero_zero_gives_pytorchs_answer():
    # PyTorch: 0 ** 0 = 1 with gradients (0, 0). In a, b * a**(b-1) at b = 0 is the slope of
    # the constant a ** 0; in b, out * log(a) takes log(a)'s limit 0 at a = 0, as for b > 0.
    a, b = Value(0.0), Value(0.0)
    c = a ** b
    c.backward()
    assert (c.data, a.grad, b.grad) == (1.0, 0.0, 0.0)
    assert autograd.grad(a ** b, [a, b]) == [0.0, 0.0]


def test_comparison_with_an_array_is_left_to_numpy():
    import numpy as np

    result = Value(1.0) < np.array([0.0, 2.0])
    assert result.tolist() == [False, True]
    with pytest.raises(TypeError):
        _ = Value(1.0) < "a"

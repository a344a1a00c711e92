"""detect_anomaly(): the first op, forward or backward, whose result is not finite raises.

Outside it chainrule follows IEEE float arithmetic: the same graphs give inf and nan silently,
which the first tests pin down (the numbers are what IEEE doubles give, worked out inline).
"""

from __future__ import annotations

import math
import threading

import pytest

from chainrule import autograd
from chainrule.autograd import AnomalyError, Value, detect_anomaly


def test_default_is_ieee_arithmetic():
    x = Value(700.0)
    y = x.exp() * x.exp()  # e^1400 overflows the product (each factor is finite): inf
    assert y.data == math.inf
    y.backward()
    assert x.grad == math.inf
    assert Value(math.nan).relu().data != Value(math.nan).relu().data  # relu(nan) is nan, as in torch
    assert math.isnan(Value(math.nan).data)  # a NaN leaf is accepted


def test_forward_overflow_names_op_operands_and_labels():
    a, b = Value(700.0, label="a"), Value(700.0, label="b")
    ea, eb = a.exp(), b.exp()
    ea.label, eb.label = "ea", "eb"
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"forward \*\(ea = .*, eb = .*\) gave inf"):
        ea * eb
    assert autograd.mode.fast and not autograd.is_anomaly_enabled()


def test_nan_input_is_caught_at_the_first_op_that_uses_it():
    x = Value(math.nan, label="x")  # accepted: a leaf is not an op
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"forward relu\(x = nan\) gave nan"):
            x.relu()
        with pytest.raises(AnomalyError, match=r"forward \*\(1\.414\d+, inf\) gave inf"):
            Value(2.0) ** 0.5 * math.inf


def test_backward_only_anomaly_names_the_node():
    x = Value(1e-200, label="x")
    y = x ** -1  # 1e200, finite; its slope -1e400 is not
    y.label = "y"
    loss = y * 1.0
    where = r"backward through the '\*\*-1' node 'y'.*operand 0"
    with detect_anomaly(), pytest.raises(AnomalyError, match=where):
        loss.backward()
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"grad\(\) through the '\*\*-1' node 'y'"):
        autograd.grad(loss, x)
    loss.backward()  # outside: IEEE, -inf
    assert x.grad == -math.inf


def test_anomaly_mode_checks_hand_written_backward_and_defined_ops():
    x = Value(1.0, label="x")
    out = Value(2.0, (x,), "blowup")

    def _backward():
        x.grad += math.inf * out.grad
    out._backward = _backward
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"'blowup' node.*from its _backward"):
        out.backward()
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"forward blowup2\(x = 1.0\) gave inf"):
        Value(math.inf, (x,), "blowup2")


def test_anomaly_mode_gives_the_same_gradients_when_all_is_finite():
    def f(x, y):
        return (x * y).tanh() + (x / y).exp() - x ** 3

    xs = [Value(0.4), Value(-1.3)]
    f(*xs).backward()
    plain = [v.grad for v in xs]
    ys = [Value(0.4), Value(-1.3)]
    with detect_anomaly():
        f(*ys).backward()
        checked = autograd.grad(f(*ys), ys)
    assert [v.grad for v in ys] == plain and checked == plain


def test_anomaly_mode_is_restored_after_an_error_and_nests():
    with pytest.raises(RuntimeError):
        with detect_anomaly(), detect_anomaly():
            assert autograd.is_anomaly_enabled()
            raise RuntimeError
    assert not autograd.is_anomaly_enabled() and autograd.mode.fast


def test_anomaly_mode_reaches_other_threads_as_in_torch():
    seen = []
    with detect_anomaly():
        t = threading.Thread(target=lambda: seen.append(autograd.is_anomaly_enabled()))
        t.start()
        t.join(60)
    assert seen == [True]

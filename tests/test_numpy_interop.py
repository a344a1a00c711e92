"""Values inside numpy object arrays, and numpy scalars mixed with Values.

Matrix gradients are checked against the hand-derived formulas for L = sum(G * (X @ W)):
dL/dW = X^T G and dL/dX = G W^T.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule import autograd
from chainrule.autograd import Value


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def test_dot_with_value_weights_matches_floats_and_matrix_gradient(rng):
    X = rng.normal(size=(4, 3))
    Wf = rng.normal(size=(3, 2))
    G = rng.normal(size=(4, 2))
    W = autograd.values(Wf, label="W")
    out = np.dot(X, W)
    assert out.shape == (4, 2) and out.dtype == object
    assert all(isinstance(v, Value) for v in out.flat)
    np.testing.assert_allclose(autograd.data(out), X @ Wf, rtol=1e-13, atol=1e-13)
    loss = (out * G).sum()
    assert isinstance(loss, Value)
    loss.backward()
    np.testing.assert_allclose(autograd.grads(W), X.T @ G, rtol=1e-12, atol=1e-12)


def test_dot_with_values_on_both_sides(rng):
    Xf, Wf, G = rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=(2, 4))
    X, W = autograd.values(Xf), autograd.values(Wf)
    loss = (X.dot(W) * G).sum()
    loss.backward()
    np.testing.assert_allclose(autograd.grads(X), G @ Wf.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(autograd.grads(W), Xf.T @ G, rtol=1e-12, atol=1e-12)
    gx = autograd.grad(loss, list(X.flat))
    np.testing.assert_allclose(np.reshape(gx, X.shape), G @ Wf.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "ufunc, op, ref, dref",
    [
        (np.exp, "exp", math.exp, math.exp),
        (np.tanh, "tanh", math.tanh, lambda x: 1 - math.tanh(x) ** 2),
        (np.sqrt, "sqrt", math.sqrt, lambda x: 0.5 / math.sqrt(x)),
        (np.abs, "abs", abs, lambda x: math.copysign(1.0, x)),
        (np.log, "log", math.log, lambda x: 1 / x),
        (np.sin, "sin", math.sin, math.cos),
        (np.cos, "cos", math.cos, lambda x: -math.sin(x)),
    ],
    ids=lambda p: getattr(p, "__name__", None),
)
def test_ufuncs_on_object_arrays(ufunc, op, ref, dref):
    xs = np.array([[0.5, 1.5], [2.0, 3.25]])
    if op == "abs":
        xs = xs * np.array([[1, -1], [-1, 1]])
    arr = autograd.values(xs)
    out = ufunc(arr)
    assert out.shape == xs.shape
    assert all(isinstance(v, Value) and v._op == op for v in out.flat)
    np.testing.assert_allclose(autograd.data(out), np.vectorize(ref)(xs), rtol=1e-14)
    out.sum().backward()
    np.testing.assert_allclose(autograd.grads(arr), np.vectorize(dref)(xs), rtol=1e-12)


def test_sum_and_mean_of_an_object_array():
    arr = autograd.values(np.arange(6.0).reshape(2, 3))
    total = arr.sum()
    assert isinstance(total, Value) and total.data == 15.0
    total.backward()
    assert (autograd.grads(arr) == 1.0).all()
    mean = np.mean(autograd.values([1.0, 2.0, 6.0]))
    assert isinstance(mean, Value) and mean.data == 3.0


def test_value_times_float_array_gives_an_array_of_values():
    v = Value(2.0)
    for arr in (v * np.array([1.0, 3.0]), np.array([1.0, 3.0]) * v):
        assert arr.dtype == object and [x.data for x in arr] == [2.0, 6.0]
    (v * np.array([1.0, 3.0])).sum().backward()
    assert v.grad == 4.0


def test_values_data_grads_round_trip():
    src = np.array([[1.0, -2.0, 3.5], [0.0, 4.0, -0.25]])
    arr = autograd.values(src, label="W")
    assert arr.shape == src.shape and arr.dtype == object
    assert arr[0, 2].label == "W[0,2]" and arr[1, 0].label == "W[1,0]"
    assert all(v.is_leaf for v in arr.flat)
    back = autograd.data(arr)
    assert back.dtype == float and np.array_equal(back, src)
    assert np.array_equal(autograd.grads(arr), np.zeros_like(src))
    (arr * arr).sum().backward()
    assert np.array_equal(autograd.grads(arr), 2 * src)


def test_values_accepts_ints_lists_and_scalars():
    assert autograd.data(autograd.values([1, 2, 3])).tolist() == [1.0, 2.0, 3.0]
    zero_d = autograd.values(np.float64(2.5))
    assert zero_d.shape == () and zero_d[()].data == 2.5
    assert autograd.values([1.0, 2.0])[0].label == ""


@pytest.mark.parametrize(
    "bad", [np.array(["a", "b"]), np.array([1 + 1j]), np.array([Value(1.0)], dtype=object)],
    ids=["strings", "complex", "objects"],
)
def test_values_rejects_non_real_arrays(bad):
    with pytest.raises(TypeError, match="values"):
        autograd.values(bad)


def test_readers_name_the_bad_element():
    arr = np.array([[Value(1.0), Value(2.0)], [Value(3.0), 4.0]], dtype=object)
    for reader in (autograd.data, autograd.grads):
        with pytest.raises(TypeError) as info:
            reader(arr)
        assert "(1, 1)" in str(info.value) and "float" in str(info.value)


SCALARS = [np.float64(2.0), np.int64(2), np.float32(2.0), np.int32(2)]


@pytest.mark.parametrize("s", SCALARS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize(
    "fn, value, grad",
    [
        (lambda v, s: v + s, 5.0, 1.0), (lambda v, s: s + v, 5.0, 1.0),
        (lambda v, s: v - s, 1.0, 1.0), (lambda v, s: s - v, -1.0, -1.0),
        (lambda v, s: v * s, 6.0, 2.0), (lambda v, s: s * v, 6.0, 2.0),
        (lambda v, s: v / s, 1.5, 0.5), (lambda v, s: s / v, 2 / 3, -2 / 9),
        (lambda v, s: v**s, 9.0, 6.0), (lambda v, s: s**v, 8.0, 8.0 * math.log(2.0)),
    ],
    ids=["add", "radd", "sub", "rsub", "mul", "rmul", "div", "rdiv", "pow", "rpow"],
)
def test_numpy_scalars_on_either_side_give_values(s, fn, value, grad):
    v = Value(3.0)
    out = fn(v, s)
    assert type(out) is Value
    assert math.isclose(out.data, value, rel_tol=1e-15)
    out.backward()
    assert math.isclose(v.grad, grad, rel_tol=1e-15)


def test_one_dimensional_dot_and_matmul_give_a_single_value():
    w = autograd.values([1.0, 2.0], label="w")
    x = np.array([3.0, 4.0])
    for out in (np.dot(x, w), x @ w):
        assert type(out) is Value and out.data == 11.0
    assert w[1].label == "w[1]"
    (x @ w).backward()
    assert autograd.grads(w).tolist() == [3.0, 4.0]


def test_grads_reader_error_names_grads_not_grad():
    # ``grad()`` is a different public function; the message must name the one that was called
    with pytest.raises(TypeError) as info:
        autograd.grads(np.array([Value(1.0), 2.0], dtype=object))
    assert "grads()" in str(info.value)

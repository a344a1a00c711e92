"""autograd.jvp: forward mode from the same local derivatives, against grad and central differences."""

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from random_programs import SETTINGS, build, central, programs, run_floats, usable

from chainrule.autograd import Value, grad, jvp


@settings(SETTINGS, max_examples=80)
@given(programs(), st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3))
def test_tangents_are_directional_derivatives(program, direction):
    inputs, steps = program
    assume(usable(inputs, steps))
    vals = build(inputs, steps)
    xs, out = vals[:len(inputs)], vals[-1]
    t = direction[:len(inputs)]
    got = jvp(out, xs, t)
    # forward mode along a basis vector is one entry of the reverse-mode gradient
    g = grad(out, xs, allow_unused=True)  # a random program may ignore an input
    g = g if isinstance(g, list) else [g]
    assert got == pytest.approx(math.fsum(gi * ti for gi, ti in zip(g, t)), rel=1e-9, abs=1e-12)
    for k in range(len(xs)):
        e = [1.0 if m == k else 0.0 for m in range(len(xs))]
        assert jvp(out, xs, e) == pytest.approx(g[k], rel=1e-9, abs=1e-12)
        # and, independently of the engine, the slope of the float program
        want = central(lambda h, k=k: run_floats(inputs, steps, k, h)[-1])
        assert jvp(out, xs, e) == pytest.approx(want, rel=1e-5, abs=1e-6)


def test_several_outputs_one_pass_and_no_grad_touched():
    x, y = Value(0.5, label="x"), Value(-1.5, label="y")
    f, g, h = x * y, (x + y).tanh(), Value(3.0)
    assert jvp([f, g, h], [x, y], [1.0, 2.0]) == pytest.approx(
        [y.data + 2 * x.data, (1 - math.tanh(-1.0) ** 2) * 3.0, 0.0])
    assert jvp(f, x, 1.0) == pytest.approx(-1.5)  # one input, one number
    assert x.grad == 0.0 and y.grad == 0.0 and f.grad == 0.0


def test_bad_arguments_are_named():
    x = Value(1.0)
    with pytest.raises(ValueError, match="1 inputs but 2 tangents"):
        jvp(x * x, [x], [1.0, 2.0])
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a Value"):
        jvp(x * x, [1.0], [1.0])
    with pytest.raises(TypeError, match=r"tangents\[0\] must be a finite real number"):
        jvp(x * x, [x], [float("nan")])
    with pytest.raises(TypeError, match=r"tangents\[0\]"):
        jvp(x * x, [x], [True])

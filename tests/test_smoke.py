"""A first end-to-end check that the package imports and differentiates."""

import math

from chainrule.autograd import Value


def test_tanh_neuron_matches_hand_derivation():
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    out = (a * b + c).tanh()
    out.backward()
    t = math.tanh(2.0 * -3.0 + 10.0)
    assert math.isclose(a.grad, (1 - t * t) * -3.0, rel_tol=1e-12)
    assert math.isclose(b.grad, (1 - t * t) * 2.0, rel_tol=1e-12)
    assert math.isclose(c.grad, 1 - t * t, rel_tol=1e-12)

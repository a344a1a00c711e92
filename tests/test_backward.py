"""The backward pass: reuse, repeated calls, depth, recording modes, grad(), and memory.

Expected gradients are derived by hand in each test and compared exactly where the
arithmetic is exact in floating point.
"""

from __future__ import annotations

import gc
import math
import sys

import pytest

from chainrule import autograd
from chainrule.autograd import Value


def test_a_plus_a_counts_both_operands():
    a = Value(3.0)
    c = a + a
    assert c._prev == (a, a)
    assert c._prev[0] is a and c._prev[1] is a
    c.backward()
    assert a.grad == 2.0


def test_a_times_a_then_b_plus_b():
    a = Value(3.0)
    b = a * a
    c = b + b  # c = 2 a^2, dc/da = 4a, dc/db = 2
    c.backward()
    assert b.grad == 2.0
    assert a.grad == 12.0
    assert c.grad == 1.0


def test_node_used_by_many_consumers():
    a = Value(0.5)
    out = a * 2 + a * 3 + a.exp() + a**2 + a + (a - 1) * (a + 1)
    out.backward()
    # d/da: 2 + 3 + e^a + 2a + 1 + 2a
    assert math.isclose(a.grad, 6.0 + math.exp(0.5) + 4 * 0.5, rel_tol=1e-15)


def test_prev_keeps_order_and_marks_constants():
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    assert (x - y)._prev == (x, y)
    assert (y - x)._prev == (y, x)
    assert (x * x * y)._prev[1] is y
    left, right = (2 - x)._prev
    assert left.is_constant and left.data == 2.0 and right is x
    left, right = (x / 4)._prev
    assert left is x and right.is_constant and right.data == 4.0
    assert (x**3)._prev == (x,)
    assert (2**x)._prev == (x,)
    assert x._prev == () and x.is_leaf and not x.is_constant


def _small_graph():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    d = c + a  # d = ab + a
    return a, b, c, d


def test_second_backward_accumulates_leaves_only():
    a, b, c, d = _small_graph()
    d.backward()
    assert (a.grad, b.grad, c.grad, d.grad) == (4.0, 2.0, 1.0, 1.0)
    d.backward()
    # leaves accumulate; the intermediate c and the root show the latest pass only
    assert (a.grad, b.grad, c.grad, d.grad) == (8.0, 4.0, 1.0, 1.0)
    d.backward()
    assert (a.grad, b.grad, c.grad, d.grad) == (12.0, 6.0, 1.0, 1.0)


def test_backward_from_a_new_root_resets_shared_intermediates():
    a, b, c, d = _small_graph()
    d.backward()
    e = d * 5
    e.backward()
    assert c.grad == 5.0 and d.grad == 5.0 and e.grad == 1.0
    assert a.grad == 4.0 + 20.0 and b.grad == 2.0 + 10.0


def test_zeroing_leaves_by_hand_gives_a_fresh_pass():
    a, b, c, d = _small_graph()
    d.backward()
    a.grad = b.grad = 0.0
    d.backward()
    assert (a.grad, b.grad, c.grad) == (4.0, 2.0, 1.0)


def test_backward_on_a_leaf_sets_its_grad():
    a = Value(5.0)
    a.backward()
    assert a.grad == 1.0


def _frame_depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


def _at_depth(target: int, fn):
    """Call ``fn`` with the Python stack ``target`` frames deep, as inside a deep notebook."""
    if _frame_depth() >= target:
        return fn()
    return _at_depth(target, fn)


def test_million_op_chain_from_deep_in_the_stack():
    limit = sys.getrecursionlimit()
    n = 1_000_000

    def run():
        assert _frame_depth() >= limit - 50
        x = Value(0.5, label="x")
        y = x
        for _ in range(n // 2):
            y = (y + x) * 1.0  # two ops per step
        y.backward()
        assert x.grad == n // 2 + 1
        assert y.data == 0.5 * (n // 2 + 1)
        assert autograd.grad(y, x) == n // 2 + 1
        assert len(autograd.topo_order(y)) == 1 + n + n // 2  # x, the ops, the constants 1.0
        return True

    assert _at_depth(limit - 50, run)
    assert sys.getrecursionlimit() == limit


def test_no_grad_records_nothing_and_nests_with_enable_grad():
    a, b = Value(2.0), Value(3.0)
    assert autograd.is_grad_enabled()
    with autograd.no_grad():
        assert not autograd.is_grad_enabled()
        c = (a * b).tanh()
        assert c.is_leaf and c._prev == () and c._op == "" and c.rule is None
        assert c.data == math.tanh(6.0)
        with autograd.enable_grad():
            d = a * b
            assert not d.is_leaf and d._prev == (a, b)
        e = a + b
        assert e.is_leaf
    f = a * b
    assert f._prev == (a, b) and autograd.is_grad_enabled()


def test_no_grad_restores_recording_after_an_exception():
    with pytest.raises(RuntimeError), autograd.no_grad():
        raise RuntimeError("boom")
    assert autograd.is_grad_enabled()
    assert not (Value(1.0) * 2).is_leaf


def test_backward_through_a_no_grad_result_stops_there():
    a = Value(2.0)
    with autograd.no_grad():
        b = a * 3
    c = b * a
    c.backward()
    assert a.grad == 6.0  # only the direct use of a; b is a constant leaf
    assert b.grad == 2.0


def test_detach_cuts_the_graph():
    a = Value(2.0)
    b = a * a
    b.label = "b"
    d = b.detach()
    assert d is not b and d.is_leaf and d.data == 4.0 and d.label == "b"
    out = d * a
    out.backward()
    assert a.grad == 4.0  # d counts as a constant
    assert d.grad == 2.0 and b.grad == 0.0


def test_grad_with_several_outputs_and_inputs():
    a, b = Value(2.0), Value(5.0)
    outs = [a * b, a + b]
    assert autograd.grad(outs, [a, b]) == [b.data + 1, a.data + 1]
    assert autograd.grad(outs, [a, b], grad_outputs=[2.0, 3.0]) == [2 * 5.0 + 3, 2 * 2.0 + 3]
    assert autograd.grad(outs, (b,)) == [3.0]


def test_grad_single_input_gives_a_single_number():
    a = Value(3.0)
    g = autograd.grad(a**2, a)
    assert type(g) is float and g == 6.0


def test_grad_leaves_dot_grad_untouched():
    a, b = Value(2.0), Value(5.0)
    c = a * b
    out = c + a
    a.grad, b.grad, c.grad, out.grad = 7.0, 8.0, 9.0, 10.0
    assert autograd.grad(out, [a, b, c]) == [6.0, 2.0, 1.0]
    assert (a.grad, b.grad, c.grad, out.grad) == (7.0, 8.0, 9.0, 10.0)
    autograd.grad(out, [a, b], create_graph=True)
    assert (a.grad, b.grad, c.grad, out.grad) == (7.0, 8.0, 9.0, 10.0)


def test_grad_of_an_unused_input_is_zero_when_allowed():
    a, b, unused = Value(2.0), Value(5.0), Value(1.0)
    assert autograd.grad(a * b, [a, unused, b], allow_unused=True) == [5.0, 0.0, 2.0]
    g = autograd.grad(a * b, unused, create_graph=True, allow_unused=True)
    assert isinstance(g, Value) and g.data == 0.0


def test_grad_rejects_bad_arguments():
    a = Value(1.0)
    with pytest.raises(ValueError, match="grad_outputs"):
        autograd.grad([a * 2, a * 3], a, grad_outputs=[1.0])
    with pytest.raises(TypeError, match=r"inputs\[1\]"):
        autograd.grad(a * 2, [a, 2.0])
    with pytest.raises(TypeError, match=r"outputs\[0\]"):
        autograd.grad([1.0], a)


def _live_values() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, Value))


@pytest.mark.parametrize("create_graph", [False, True])
def test_no_reference_cycles(create_graph):
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        before = _live_values()
        xs = [Value(0.1 * i) for i in range(50)]
        out = sum(((x * 2 + 1).tanh() * x.exp() for x in xs), Value(0.0))
        out.backward()
        gs = autograd.grad(out, xs, create_graph=create_graph)
        assert _live_values() > before + 200
        del xs, out, gs
        # reference counting alone must free the whole graph
        assert _live_values() == before
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()


def test_topo_order_puts_operands_first_and_is_deterministic():
    def graph():
        a, b = Value(2.0, label="a"), Value(3.0, label="b")
        c = a * b
        c.label = "c"
        d = c + a
        d.label = "d"
        e = d * c
        e.label = "e"
        return a, b, c, d, e

    a, b, c, d, e = graph()
    order = autograd.topo_order(e)
    assert order == [a, b, c, d, e]
    runs = {tuple(v.label for v in autograd.topo_order(graph()[-1])) for _ in range(5)}
    assert runs == {("a", "b", "c", "d", "e")}
    seen: set = set()
    for node in order:
        assert all(p in seen for p in node._prev)
        seen.add(node)


def test_topo_order_of_several_roots_lists_each_node_once():
    a, b = Value(1.0), Value(2.0)
    c, d = a * b, a + b
    order = autograd.topo_order(c, d, c)
    assert order == [a, b, c, d]


def test_backward_on_a_leaf_twice_accumulates():
    a = Value(5.0)
    a.backward()
    a.backward()
    assert a.grad == 2.0


def test_backward_of_a_leaf_with_no_operands_is_a_no_op_step():
    a = Value(5.0)
    a.grad = 3.0
    a._backward()
    assert a.grad == 3.0 and a._prev == ()


def test_grad_with_repeated_inputs_and_output_among_inputs():
    a, b = Value(2.0), Value(5.0)
    c = a * b
    assert autograd.grad(c, [a, a, c]) == [5.0, 5.0, 1.0]
    assert autograd.grad(a, a) == 1.0


def test_create_graph_works_inside_no_grad():
    x = Value(2.0)
    with autograd.no_grad():
        # the forward under no_grad records nothing, so x is not used
        g = autograd.grad(x**3, x, create_graph=True, allow_unused=True)
    assert g.data == 0.0 and autograd.grad(g, x, allow_unused=True) == 0.0
    y = x**3
    with autograd.no_grad():
        g = autograd.grad(y, x, create_graph=True)
    assert g.data == 12.0 and not g.is_leaf
    assert autograd.grad(g, x) == 12.0  # d/dx 3x^2 = 6x


def test_second_derivative_through_a_deep_chain():
    limit = sys.getrecursionlimit()
    n = 50_000
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * x  # y = x^(n+1)
    g = autograd.grad(y, x, create_graph=True)
    assert g.data == n + 1
    assert autograd.grad(g, x) == (n + 1) * n
    assert sys.getrecursionlimit() == limit

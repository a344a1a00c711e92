"""The engine benchmark still builds the graph it claims to, and chainrule differentiates it right.

Nothing here is timed: this only keeps ``benchmarks/bench_engine.py`` from rotting. It runs in
the dev environment, where micrograd and torch are absent, so only chainrule is exercised.
"""

import numpy as np
import pytest
from load_script import load_script

from chainrule.autograd import Value, topo_order


@pytest.fixture(scope="module")
def bench():
    with load_script("benchmarks/bench_engine.py") as module:
        yield module


def numpy_reference(spec):
    """Output and leaf gradients of sum(relu(sum_k x[i_k] * x[j_k])) worked out by hand in numpy."""
    x = np.array(spec.leaf_values)
    idx = np.array(spec.neurons)  # (neurons, fan_in, 2)
    left, right = x[idx[..., 0]], x[idx[..., 1]]
    z = (left * right).sum(axis=1)
    active = (z > 0).astype(float)[:, None]  # relu'(0) is 0, as in chainrule
    grad = np.zeros_like(x)
    np.add.at(grad, idx[..., 0], active * right)
    np.add.at(grad, idx[..., 1], active * left)
    return np.maximum(z, 0.0).sum(), grad


@pytest.mark.parametrize("ops", [1_000, 20_000])
def test_graph_has_the_intended_number_of_ops(bench, ops):
    spec = bench.make_spec(ops=ops, seed=3)
    root = bench.build_graph(spec, [Value(x) for x in spec.leaf_values])
    built = sum(1 for node in topo_order(root) if not node.is_leaf)
    assert built == spec.ops
    assert abs(built - ops) <= 0.01 * ops


def test_spec_is_deterministic(bench):
    assert bench.make_spec(ops=2_000, seed=7) == bench.make_spec(ops=2_000, seed=7)
    assert bench.make_spec(ops=2_000, seed=7) != bench.make_spec(ops=2_000, seed=8)


def test_backward_matches_a_numpy_reference(bench):
    spec = bench.make_spec(ops=5_000, n_leaves=300, seed=11)
    leaves = [Value(x) for x in spec.leaf_values]
    root = bench.build_graph(spec, leaves)
    root.backward()
    want_out, want_grad = numpy_reference(spec)
    assert np.isclose(root.data, want_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose([v.grad for v in leaves], want_grad, rtol=1e-9, atol=1e-12)
    assert np.count_nonzero(want_grad) > 100  # the check is not vacuous


def test_pairwise_sum_is_shallow_and_exact(bench):
    total = bench.pairwise_sum([Value(float(i)) for i in range(1, 1001)])
    assert total.data == 500_500.0
    depth, frontier = 0, [total]
    while frontier:
        frontier = [c for node in frontier for c in node._prev]
        depth += 1
    assert depth <= 11  # ceil(log2(1000)) levels of '+' and the leaves


def test_measurement_helpers_run_on_chainrule(bench):
    engine = bench.chainrule_engine()
    spec = bench.make_spec(ops=500, n_leaves=50, seed=1)
    times = bench.best_times([engine], spec, reps=1, gc_enabled=False)
    assert times["chainrule"] > 0
    forward, after_backward = bench.bytes_per_node(engine, spec)
    assert forward > 0 and after_backward > 0
    assert bench.check_agreement(engine, [engine], spec) == 50
    cyclic, _ = bench.teardown(engine, spec)
    assert cyclic == 0  # no reference cycles: the whole graph goes by reference counting

"""benchmarks/bench_compile.py stays honest: its hand-written numpy references compute what
chainrule's engine computes, and its harness runs. Nothing here is timed."""

import numpy as np
import pytest
from load_script import load_script

from chainrule import nn


@pytest.fixture(scope="module")
def bench():
    with load_script("benchmarks/bench_compile.py") as module:
        yield module


def test_numpy_mlp_step_is_the_engines_gradient_and_update(bench):
    X, y01 = nn.data.moons(15, noise=0.2, seed=4)
    y = 2.0 * y01 - 1
    model = nn.MLP(2, [5, 3, 1], seed=2)
    layers = bench.mlp_matrices(model)
    loss, grads = bench.numpy_mlp_step(layers, X, y, lr=0.5)
    total = nn.hinge([model(list(r)) for r in X], y) + bench.ALPHA * nn.l2_penalty(model.parameters())
    total.backward()
    want = [p.grad for p in model.parameters()]
    got = np.concatenate([np.column_stack([dW, db]).ravel() for dW, db in grads])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert loss == pytest.approx(total.data, rel=1e-12)
    before = bench.mlp_matrices(model)
    for (W, b), (W0, b0), (dW, db) in zip(layers, before, grads):
        np.testing.assert_allclose(W, W0 - 0.5 * dW, rtol=1e-12)  # the SGD update was applied
        np.testing.assert_allclose(b, b0 - 0.5 * db, rtol=1e-12)


def test_tutorial_numpy_step_is_sgd_on_the_engines_gradient(bench):
    X, y = nn.data.tutorial()
    rs = np.random.RandomState(1)
    w1, w2 = rs.rand(3, 4), rs.rand(4, 1)
    ref = bench.TutorialNumpy(w1, w2)
    ref.step(X, y[:, None])
    model = nn.tutorial_network(seed=1)
    nn.sum_of_squares([model(list(r)) for r in X], y).backward()
    hidden, (out,) = model.layers[0].neurons, model.layers[1].neurons
    g1 = np.array([[hidden[j].w[i].grad for j in range(4)] for i in range(3)])
    g2 = np.array([[out.w[j].grad] for j in range(4)])
    np.testing.assert_allclose(ref.weights1, w1 - g1, rtol=1e-12)
    np.testing.assert_allclose(ref.weights2, w2 - g2, rtol=1e-12)


def test_the_harness_runs_on_a_small_workload(bench, capsys):
    result = bench.run_mlp("tiny", [3, 1], 12, steps=3, micrograd_steps=0, engine_steps=1)
    assert set(result) >= {"numpy", "compiled", "fit", "engine", "compile"}
    assert all(v > 0 for v in result.values())
    assert "compiled gradient vs numpy" in capsys.readouterr().out

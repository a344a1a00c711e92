"""The moons benchmark's chainrule training runs here (no micrograd or torch needed) and
trains the network it says: checked against a numpy forward pass and by its loss falling."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_moons.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_moons", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def numpy_loss(X, y, weights):
    """hinge + 1e-4 L2 of MLP(2, [16, 16, 1]) with the flat weights (per neuron: w..., b)."""
    flat = iter(weights)
    h = X
    sizes = [(2, 16), (16, 16), (16, 1)]
    for k, (nin, nout) in enumerate(sizes):
        W = np.zeros((nin, nout))
        b = np.zeros(nout)
        for j in range(nout):
            W[:, j] = [next(flat) for _ in range(nin)]
            b[j] = next(flat)
        h = h @ W + b
        if k < len(sizes) - 1:
            h = np.maximum(h, 0)
    scores = h[:, 0]
    return np.mean(np.maximum(1 - y * scores, 0)) + 1e-4 * np.sum(np.square(weights))


def test_a_few_steps_reduce_the_loss_without_peers(bench):
    X, y = bench.make_data()
    assert X.shape == (100, 2) and set(y.tolist()) == {-1.0, 1.0}
    weights = bench.initial_weights()
    assert len(weights) == 337
    run, model = bench.train_chainrule(X, y, weights, steps=5)
    assert len(run.losses) == 5 and run.seconds > 0
    assert run.losses[0] == pytest.approx(numpy_loss(X, y, weights), rel=1e-12)
    assert run.losses[-1] < run.losses[0]
    trained = [p.data for p in model.parameters()]
    assert numpy_loss(X, y, trained) < run.losses[0]
    assert "micrograd" not in sys.modules and "torch" not in sys.modules


def test_learning_rate_schedule_is_the_demos(bench):
    assert bench.learning_rate(0) == 1.0
    assert bench.learning_rate(50) == pytest.approx(0.55)
    assert bench.learning_rate(99) == pytest.approx(0.109)

"""autograd.compile against hand-written numpy, micrograd and the uncompiled engine, in one run.

Three workloads, each trained from the same weights by every contender:

- ``moons``: micrograd's demo, ``MLP(2, [16, 16, 1])`` on 100 two-moons points, hinge loss
  plus 1e-4 L2, SGD with learning rate ``1.0 - 0.9 k / 100`` (target: compiled within 5x numpy);
- ``tutorial``: the tutorial's 3 -> 4 -> 1 sigmoid network, sum of squares, SGD lr 1, 1500
  iterations (target: within 2x the tutorial's own numpy code);
- ``large``: ``MLP(2, [64, 64, 1])`` on 1,000 points, as ``moons`` (aim: under 10x numpy).

A step is what a user runs: forward, backward and the SGD update. numpy's step is the same
arithmetic written with matrices by hand (``numpy_mlp_step``, ``TutorialNumpy``); compiled is
``out = fast(X, y); zero grads; out.backward(); optimizer.step()`` over chainrule Values, and
``nn.fit`` is timed too. Before timing, each workload checks that the compiled gradients equal
numpy's. Compile cost is the first call (recording plus scheduling) over one uncompiled step
(target <= 3). micrograd and the uncompiled engine run a few steps only (each takes seconds).
The last line is the ratio summary.

    bash benchmarks/setup.sh
    .bench-venv/bin/python benchmarks/bench_compile.py [--quick] [--large-micrograd-steps 1]
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from chainrule import autograd, nn

ALPHA = 1e-4
TARGETS = {"moons": 5.0, "tutorial": 2.0, "large": 10.0, "compile": 3.0}


# -- numpy references --------------------------------------------------------------------------


def mlp_matrices(model: nn.MLP) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) per layer, W of shape (nout, nin), read from chainrule's neurons."""
    return [(np.array([[w.data for w in n.w] for n in layer.neurons]),
             np.array([n.b.data for n in layer.neurons])) for layer in model.layers]


def numpy_mlp_step(layers: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, y: np.ndarray,
                   lr: float) -> tuple[float, list[tuple[np.ndarray, np.ndarray]]]:
    """One SGD step of relu hidden layers, a linear output, mean hinge + ALPHA * sum(p**2),
    written by hand; updates ``layers`` in place and returns the loss and the gradients."""
    acts = [X]
    for k, (W, b) in enumerate(layers):
        z = acts[-1] @ W.T + b
        acts.append(z if k == len(layers) - 1 else np.maximum(z, 0.0))
    score = acts[-1][:, 0]
    margin = 1.0 - y * score
    n = len(y)
    loss = np.maximum(margin, 0.0).sum() / n + ALPHA * sum((W * W).sum() + (b * b).sum() for W, b in layers)
    delta = (-(y * (margin > 0)) / n)[:, None]
    grads = []
    for k in range(len(layers) - 1, -1, -1):
        W, b = layers[k]
        grads.append((delta.T @ acts[k] + 2 * ALPHA * W, delta.sum(axis=0) + 2 * ALPHA * b))
        if k:
            delta = (delta @ W) * (acts[k] > 0)
    grads.reverse()
    for (W, b), (dW, db) in zip(layers, grads):
        W -= lr * dW
        b -= lr * db
    return float(loss), grads


class TutorialNumpy:
    """The tutorial's network and backprop as it writes them (biases 0, weights += d_weights)."""

    def __init__(self, weights1: np.ndarray, weights2: np.ndarray) -> None:
        self.weights1, self.weights2 = weights1.copy(), weights2.copy()

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        layer1 = 1.0 / (1.0 + np.exp(-(x @ self.weights1)))
        output = 1.0 / (1.0 + np.exp(-(layer1 @ self.weights2)))
        delta2 = 2 * (y - output) * output * (1.0 - output)
        d_weights2 = layer1.T @ delta2
        d_weights1 = x.T @ ((delta2 @ self.weights2.T) * layer1 * (1.0 - layer1))
        self.weights1 += d_weights1
        self.weights2 += d_weights2


# -- chainrule steps ---------------------------------------------------------------------------


def hinge_step(model: nn.MLP) -> Callable:
    """The training step as a user writes it with Values: per-sample model calls, a loss."""
    params = model.parameters()

    def step(X, y):
        scores = [model(list(row)) for row in X]
        return nn.hinge(scores, y) + ALPHA * nn.l2_penalty(params)

    return step


def sgd(params: list, lr: float) -> None:
    for p in params:
        p.data -= lr * p.grad


def learning_rate(k: int) -> float:
    return 1.0 - 0.9 * k / 100


@dataclass
class Timing:
    """Seconds per step of one contender (median over the steps it ran)."""

    name: str
    seconds: float
    steps: int

    def __str__(self) -> str:
        return f"{self.name:<22} {self.seconds * 1e3:10.3f} ms/step  ({self.steps} steps)"


def _median_steps(step: Callable[[int], None], steps: int) -> float:
    times = []
    for k in range(steps):
        start = time.perf_counter()
        step(k)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run_mlp(name: str, sizes: list[int], n: int, steps: int, micrograd_steps: int, engine_steps: int,
            seed: int = 0, fit: bool = True) -> dict[str, float]:
    """Time numpy, compiled, nn.fit, the uncompiled engine and micrograd on one MLP workload."""
    X, y01 = nn.data.moons(n, noise=0.1, seed=seed)
    y = (2 * y01 - 1).astype(float)
    start_model = nn.MLP(2, sizes, seed=seed)
    weights = [p.data for p in start_model.parameters()]

    def fresh() -> nn.MLP:
        model = nn.MLP(2, sizes, seed=seed)
        for p, w in zip(model.parameters(), weights):
            p.data = w
        return model

    # Correctness first: the compiled gradient equals numpy's at the starting weights.
    model = fresh()
    fast = autograd.compile(hinge_step(model))
    fast(X, y)
    out = fast(X, y)  # a replay
    model.zero_grad()
    out.backward()
    _, grads = numpy_mlp_step(mlp_matrices(model), X, y, 0.0)
    want = np.concatenate([np.column_stack([dW, db]).ravel() for dW, db in grads])
    got = np.array([p.grad for p in model.parameters()])
    err = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
    print(f"{name}: MLP(2, {sizes}) on {n} points, {len(weights)} parameters; compiled gradient vs numpy: "
          f"max difference {err:.1e} of the largest ({fast.program.backend} backend, "
          f"{fast.program.graph.ops:,} recorded ops in {len(fast.program.sched.groups)} groups)")
    if err > 1e-9:
        raise AssertionError(f"{name}: compiled gradients differ from numpy's by {err:.3g}")

    layers = mlp_matrices(fresh())
    numpy_time = _median_steps(lambda k: numpy_mlp_step(layers, X, y, learning_rate(k)), steps)

    model = fresh()
    params = model.parameters()
    step_fn = hinge_step(model)
    gc.collect()
    start = time.perf_counter()
    fast = autograd.compile(step_fn)
    fast(X, y)
    compile_seconds = time.perf_counter() - start

    def compiled_step(k: int) -> None:
        out = fast(X, y)
        for p in params:
            p.grad = 0.0
        out.backward()
        sgd(params, learning_rate(k))

    compiled_time = _median_steps(compiled_step, steps)

    fit_time = math.nan
    if fit:  # nn.fit records its own step first: on the large workload that is minutes
        model = fresh()
        ends: list[float] = []
        start = time.perf_counter()
        nn.fit(model, X, y, loss="hinge", optimizer=nn.SGD(model.parameters(), lr=learning_rate),
               epochs=steps, l2=ALPHA, progress=False,
               callbacks=[lambda info: ends.append(time.perf_counter())])
        fit_time = float(np.median(np.diff([start] + ends)[1:]))  # the first step records

    model = fresh()
    params = model.parameters()
    rows = [list(r) for r in X.tolist()]

    def engine_step(k: int) -> None:
        scores = [model(r) for r in rows]
        total = nn.hinge(scores, y) + ALPHA * nn.l2_penalty(params)
        for p in params:
            p.grad = 0.0
        total.backward()
        sgd(params, learning_rate(k))

    engine_time = _median_steps(engine_step, engine_steps)
    timings = [Timing("numpy (by hand)", numpy_time, steps), Timing("compiled", compiled_time, steps)]
    if fit:
        timings.append(Timing("nn.fit (compiled)", fit_time, steps - 1))
    timings.append(Timing("uncompiled engine", engine_time, engine_steps))
    result = {"numpy": numpy_time, "compiled": compiled_time, "fit": fit_time, "engine": engine_time,
              "compile": compile_seconds}
    if micrograd_steps:
        micro = micrograd_time(X, y, sizes, weights, micrograd_steps)
        if micro is not None:
            timings.append(Timing("micrograd", micro, micrograd_steps))
            result["micrograd"] = micro
    for t in timings:
        print(f"  {t}   {t.seconds / numpy_time:9.1f}x numpy")
    print(f"  compile (record + schedule) {compile_seconds * 1e3:.0f} ms = "
          f"{compile_seconds / engine_time:.2f} uncompiled steps")
    return result


def micrograd_time(X: np.ndarray, y: np.ndarray, sizes: list[int], weights: list[float],
                   steps: int) -> float | None:
    """micrograd's median step on the same workload, or None when micrograd is not installed."""
    try:
        from micrograd.engine import Value
        from micrograd.nn import MLP
    except ImportError:
        print("  micrograd: not installed (bash benchmarks/setup.sh)")
        return None
    model = MLP(2, sizes)
    params = model.parameters()
    for p, w in zip(params, weights):
        p.data = w
    rows, targets = X.tolist(), y.tolist()

    def step(k: int) -> None:
        scores = [model([Value(a) for a in row]) for row in rows]
        data_loss = sum((1 + -t * s).relu() for t, s in zip(targets, scores)) * (1.0 / len(scores))
        total = data_loss + ALPHA * sum(p * p for p in params)
        model.zero_grad()
        total.backward()
        sgd(params, learning_rate(k))

    return _median_steps(step, steps)


def run_tutorial(iterations: int, micrograd_steps: int) -> dict[str, float]:
    """The tutorial's network: total time for ``iterations`` steps, per contender."""
    X, y = nn.data.tutorial()
    Y = y[:, None]
    rs = np.random.RandomState(1)
    w1, w2 = rs.rand(3, 4), rs.rand(4, 1)
    reference = TutorialNumpy(w1, w2)
    start = time.perf_counter()
    for _ in range(iterations):
        reference.step(X, Y)
    numpy_total = time.perf_counter() - start

    model = nn.tutorial_network(seed=1)
    params = model.parameters()

    def step_fn(X, y):
        return nn.sum_of_squares([model(list(row)) for row in X], y)

    start = time.perf_counter()
    fast = autograd.compile(step_fn)
    for _ in range(iterations):
        out = fast(X, y)
        for p in params:
            p.grad = 0.0
        out.backward()
        sgd(params, 1.0)
    compiled_total = time.perf_counter() - start
    final = nn.predict(model, X)
    want = 1.0 / (1.0 + np.exp(-(1.0 / (1.0 + np.exp(-(X @ reference.weights1))) @ reference.weights2)))
    err = float(np.max(np.abs(final - want[:, 0])))
    print(f"tutorial: 3 -> 4 -> 1 sigmoid network, {iterations} iterations; final predictions vs the "
          f"tutorial's numpy: max difference {err:.1e} ({fast.program.backend} backend, "
          f"{fast.program.graph.ops} ops)")
    if err > 1e-9:
        raise AssertionError(f"tutorial: compiled training diverged from numpy's by {err:.3g}")

    model = nn.tutorial_network(seed=1)
    start = time.perf_counter()
    nn.fit(model, X, y, loss="sum_of_squares", optimizer=nn.SGD(model.parameters(), lr=1.0),
           epochs=iterations, progress=False, accuracy=None)
    fit_total = time.perf_counter() - start

    model = nn.tutorial_network(seed=1)
    params = model.parameters()
    rows = [list(r) for r in X.tolist()]
    engine_steps = min(iterations, 200)

    def engine_step(_: int) -> None:
        total = nn.sum_of_squares([model(r) for r in rows], y)
        for p in params:
            p.grad = 0.0
        total.backward()
        sgd(params, 1.0)

    engine_total = _median_steps(engine_step, engine_steps) * iterations
    result = {"numpy": numpy_total, "compiled": compiled_total, "fit": fit_total, "engine": engine_total}
    rows_out = [("numpy (the tutorial's)", numpy_total), ("compiled", compiled_total),
                ("nn.fit (compiled)", fit_total), ("uncompiled engine", engine_total)]
    if micrograd_steps:
        micro = micrograd_tutorial(X, y, w1, w2, min(iterations, 50 * micrograd_steps))
        if micro is not None:
            result["micrograd"] = micro * iterations
            rows_out.append(("micrograd", micro * iterations))
    for label, seconds in rows_out:
        print(f"  {label:<22} {seconds * 1e3:10.1f} ms for {iterations} iterations   "
              f"{seconds / numpy_total:9.1f}x numpy")
    return result


def micrograd_tutorial(X: np.ndarray, y: np.ndarray, w1: np.ndarray, w2: np.ndarray,
                       steps: int) -> float | None:
    """micrograd's median step on the tutorial's network; micrograd has no exp or sigmoid, so the
    sigmoid is a node with its own ``_backward``, as the lecture extends its Value."""
    try:
        from micrograd.engine import Value
    except ImportError:
        return None
    W1 = [[Value(float(w1[i, j])) for i in range(3)] for j in range(4)]
    W2 = [Value(float(w2[j, 0])) for j in range(4)]
    params = [w for row in W1 for w in row] + W2

    def sigmoid(z):
        s = 1.0 / (1.0 + math.exp(-z.data))
        out = Value(s, (z,), "sigmoid")

        def _backward():
            z.grad += s * (1.0 - s) * out.grad

        out._backward = _backward
        return out

    def step(_: int) -> None:
        total = Value(0.0)
        for row, t in zip(X.tolist(), y.tolist()):
            h = [sigmoid(sum((w * x for w, x in zip(ws, row)), Value(0.0))) for ws in W1]
            out = sigmoid(sum((w * v for w, v in zip(W2, h)), Value(0.0)))
            total = total + (out - t) ** 2
        for p in params:
            p.grad = 0.0
        total.backward()
        sgd(params, 1.0)

    return _median_steps(step, steps)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps; skip the large workload")
    parser.add_argument("--steps", type=int, default=100, help="timed steps for numpy and compiled")
    parser.add_argument("--micrograd-steps", type=int, default=2, help="micrograd's steps (0 to skip)")
    parser.add_argument("--large-micrograd-steps", type=int, default=0,
                        help="micrograd's steps on the large workload (default 0: each takes minutes)")
    args = parser.parse_args(argv)
    steps = 20 if args.quick else args.steps
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} cores, load average {load:.2f}; GC on")
    ratios = {}
    moons = run_mlp("moons", [16, 16, 1], 100, steps, args.micrograd_steps, engine_steps=3)
    ratios["moons"] = moons["compiled"] / moons["numpy"]
    ratios["compile"] = moons["compile"] / moons["engine"]
    tutorial = run_tutorial(300 if args.quick else 1500, args.micrograd_steps)
    ratios["tutorial"] = tutorial["compiled"] / tutorial["numpy"]
    summary = [f"moons compiled/numpy={ratios['moons']:.2f}x (target <= {TARGETS['moons']:g})",
               f"fit/numpy={moons['fit'] / moons['numpy']:.2f}x",
               f"engine/compiled={moons['engine'] / moons['compiled']:.0f}x"]
    if "micrograd" in moons:
        summary.append(f"micrograd/compiled={moons['micrograd'] / moons['compiled']:.0f}x")
    summary += [f"compile={ratios['compile']:.2f} steps (target <= {TARGETS['compile']:g})",
                f"tutorial compiled/numpy={ratios['tutorial']:.2f}x (target <= {TARGETS['tutorial']:g})",
                f"tutorial fit/numpy={tutorial['fit'] / tutorial['numpy']:.2f}x"]
    if not args.quick:
        large = run_mlp("large", [64, 64, 1], 1000, max(5, steps // 10), args.large_micrograd_steps,
                        engine_steps=1, fit=False)
        ratios["large"] = large["compiled"] / large["numpy"]
        summary += [f"large compiled/numpy={ratios['large']:.2f}x (target < {TARGETS['large']:g})",
                    f"large compile={large['compile'] / large['engine']:.2f} steps"]
    met = [name for name, r in ratios.items() if r <= TARGETS[name]]
    missed = [name for name in ratios if name not in met]
    print(f"targets met: {', '.join(met) or 'none'}; not met: {', '.join(missed) or 'none'}")
    print("ratios: " + "; ".join(summary))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

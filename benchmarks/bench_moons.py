"""micrograd's classic demo workload, trained by chainrule, micrograd and PyTorch from the
same initial weights on the same data, with the losses compared step by step.

The workload: ``MLP(2, [16, 16, 1])`` (relu, relu, linear) on 100 two-moons points (labels
-1/+1), loss = mean(relu(1 - y * score)) + 1e-4 * sum(p * p), plain SGD with learning rate
``1.0 - 0.9 * k / 100`` at step k, 100 full-batch steps. The weights are chainrule's
``MLP(2, [16, 16, 1], seed=SEED)`` (uniform on [-1, 1), biases 0, as micrograd draws them),
copied into the other two. PyTorch gets one 0-dim float64 tensor per scalar, so it does the
same scalar work as the other two.

micrograd needs about 1.5 s a step here, so by default it (and PyTorch) run only the first
``--micrograd-steps`` / ``--torch-steps`` steps; seconds per step are compared, and their
losses are compared against chainrule's over the steps they ran. Python's garbage collector
is left on with its default settings for every engine. The last line is the ratio summary.

    bash benchmarks/setup.sh
    .bench-venv/bin/python benchmarks/bench_moons.py [--micrograd-steps 10] [--torch-steps 10]

The training functions import their peer library inside, so ``train_chainrule`` runs in any
environment with chainrule alone (tests/test_nn_moons.py runs it in the dev .venv).
"""

from __future__ import annotations

import argparse
import gc
import time
from dataclasses import dataclass

import numpy as np

from chainrule import nn

SEED = 0
STEPS = 100
ALPHA = 1e-4
SIZES = [16, 16, 1]


@dataclass
class Run:
    """One engine's training run: loss and batch accuracy per step, and each step's seconds."""

    losses: list[float]
    accuracy: list[float]
    step_seconds: list[float]

    @property
    def seconds(self) -> float:
        return sum(self.step_seconds)

    @property
    def per_step(self) -> float:
        """Mean seconds per step: the figure compared (it includes every garbage collection)."""
        return self.seconds / len(self.step_seconds)

    @property
    def median_step(self) -> float:
        """Median seconds per step: less moved by other jobs on the machine."""
        return float(np.median(self.step_seconds))


def _durations(start: float, ends: list[float]) -> list[float]:
    return np.diff([start] + ends).tolist()


def make_data(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """100 two-moons points with noise 0.1, labels -1/+1 as floats."""
    X, y = nn.data.moons(100, noise=0.1, seed=seed)
    return X, (2 * y - 1).astype(float)


def initial_weights(seed: int = SEED) -> list[float]:
    """The parameters of chainrule's MLP(2, [16, 16, 1]) in order: per neuron w.0, w.1, ..., b."""
    return [p.data for p in nn.MLP(2, SIZES, seed=seed).parameters()]


def learning_rate(k: int) -> float:
    return 1.0 - 0.9 * k / 100


def train_chainrule(
    X: np.ndarray, y: np.ndarray, weights: list[float], steps: int = STEPS
) -> tuple[Run, nn.MLP]:
    """Train with nn.fit (hinge loss + L2 through ``l2=``); returns the run and the model."""
    model = nn.MLP(2, SIZES)
    for p, w in zip(model.parameters(), weights, strict=True):
        p.data = w
    optimizer = nn.SGD(model.parameters(), lr=learning_rate)
    ends: list[float] = []
    gc.collect()
    start = time.perf_counter()
    history = nn.fit(model, X, y, loss="hinge", optimizer=optimizer, epochs=steps, l2=ALPHA, progress=False,
                     callbacks=[lambda info: ends.append(time.perf_counter())])
    return Run(history.loss, history.accuracy, _durations(start, ends)), model


def train_micrograd(X: np.ndarray, y: np.ndarray, weights: list[float], steps: int) -> Run:
    """The same training written for micrograd, as its demo notebook does it."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    model = MLP(2, SIZES)
    params = model.parameters()
    assert len(params) == len(weights)
    for p, w in zip(params, weights):
        p.data = w
    rows, targets = X.tolist(), y.tolist()
    losses, accuracy, ends = [], [], []
    gc.collect()
    start = time.perf_counter()
    for k in range(steps):
        scores = [model([Value(a) for a in row]) for row in rows]
        hinge = [(1 + -t * s).relu() for t, s in zip(targets, scores)]
        data_loss = sum(hinge) * (1.0 / len(hinge))
        total = data_loss + ALPHA * sum(p * p for p in params)
        model.zero_grad()
        total.backward()
        lr = learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        losses.append(total.data)
        accuracy.append(float(np.mean([(t > 0) == (s.data > 0) for t, s in zip(targets, scores)])))
        ends.append(time.perf_counter())
    return Run(losses, accuracy, _durations(start, ends))


def train_torch(X: np.ndarray, y: np.ndarray, weights: list[float], steps: int) -> Run:
    """The same training in PyTorch with one 0-dim float64 tensor per scalar, on one thread."""
    import torch

    torch.set_num_threads(1)
    flat = iter(weights)
    layers = []
    for nin, nout in zip([2] + SIZES[:-1], SIZES):
        neurons = []
        for _ in range(nout):
            w = [torch.tensor(next(flat), dtype=torch.float64, requires_grad=True) for _ in range(nin)]
            b = torch.tensor(next(flat), dtype=torch.float64, requires_grad=True)
            neurons.append((w, b))
        layers.append(neurons)
    params = [t for neurons in layers for w, b in neurons for t in (*w, b)]
    rows = [[torch.tensor(a, dtype=torch.float64) for a in row] for row in X.tolist()]
    targets = y.tolist()
    last = len(layers) - 1

    def forward(x):
        for i, neurons in enumerate(layers):
            out = []
            for w, b in neurons:
                act = w[0] * x[0]
                for wi, xi in zip(w[1:], x[1:]):
                    act = act + wi * xi
                act = act + b
                out.append(act if i == last else act.relu())
            x = out
        return x[0]

    losses, accuracy, ends = [], [], []
    gc.collect()
    start = time.perf_counter()
    for k in range(steps):
        scores = [forward(row) for row in rows]
        data_loss = sum((1 - t * s).relu() for t, s in zip(targets, scores)) / len(scores)
        total = data_loss + ALPHA * sum(p * p for p in params)
        for p in params:
            p.grad = None
        total.backward()
        lr = learning_rate(k)
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        losses.append(total.item())
        accuracy.append(float(np.mean([(t > 0) == (s.item() > 0) for t, s in zip(targets, scores)])))
        ends.append(time.perf_counter())
    return Run(losses, accuracy, _durations(start, ends))


def _timing(run: Run) -> str:
    return f"{run.per_step * 1e3:8.1f} ms/step (median {run.median_step * 1e3:.1f})"


def _max_diff(a: list[float], b: list[float]) -> float:
    n = min(len(a), len(b))
    return float(np.max(np.abs(np.array(a[:n]) - np.array(b[:n]))))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS, help="chainrule's training steps (default 100)")
    parser.add_argument("--micrograd-steps", type=int, default=10, help="micrograd's steps (0 to skip)")
    parser.add_argument("--torch-steps", type=int, default=10, help="PyTorch's steps (0 to skip)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)

    X, y = make_data(args.seed)
    weights = initial_weights(args.seed)
    print(f"workload: MLP(2, {SIZES}), {len(weights)} parameters, {len(X)} moons points, "
          f"hinge + {ALPHA:g} L2, SGD lr 1.0 - 0.9k/100; GC on (thresholds {gc.get_threshold()})")

    ours, model = train_chainrule(X, y, weights, args.steps)
    predicted = nn.predict(model, X)
    final_acc = float(np.mean((predicted > 0) == (y > 0)))
    print(f"chainrule: {args.steps} steps, {_timing(ours)}, "
          f"loss {ours.losses[0]:.4f} -> {ours.losses[-1]:.4f}, final training accuracy {final_acc:.0%}")

    summary = [f"chainrule {ours.per_step * 1e3:.1f} ms/step", f"accuracy {final_acc:.0%}"]
    # micrograd before torch: importing torch's thousands of objects would slow the collector.
    for name, steps, train in (("micrograd", args.micrograd_steps, train_micrograd),
                               ("torch", args.torch_steps, train_torch)):
        if steps <= 0:
            continue
        steps = min(steps, args.steps)
        peer = train(X, y, weights, steps)
        ratio = peer.per_step / ours.per_step
        diff = _max_diff(ours.losses, peer.losses)
        print(f"{name + ':':10} {steps} steps, {_timing(peer)}, "
              f"max |loss - chainrule's| over those steps {diff:.2e}; chainrule {ratio:.1f}x faster per step")
        summary.append(f"{name} {peer.per_step * 1e3:.1f} ms/step ({steps} steps, max loss diff {diff:.1e}) "
                       f"-> {name}/chainrule = {ratio:.1f}x")
    print("ratios: " + "; ".join(summary))


if __name__ == "__main__":
    main()

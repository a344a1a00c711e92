"""``chainrule train``: fit an MLP to a built-in dataset and draw how it went."""

from __future__ import annotations

import argparse
import time

import numpy as np

from chainrule import nn, viz

from .common import UsageError, optional, out_dir
from .demo import speed_line

DATASETS = ("moons", "circles", "spiral", "blobs", "tutorial")


def load(name: str, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The dataset ``name`` with ``samples`` points (the tutorial's table has its own 4)."""
    if name == "tutorial":
        return nn.data.tutorial()
    if name == "spiral":
        return nn.data.spirals(samples, classes=3, seed=seed)
    make = {"moons": nn.data.moons, "circles": nn.data.circles, "blobs": nn.data.blobs}[name]
    return make(samples, seed=seed)


def hidden_sizes(text: str) -> list[int]:
    """``'16,16'`` -> ``[16, 16]``; a UsageError names a bad size."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"--hidden {text}: expected sizes separated by commas, e.g. 16,16") from None
    if not sizes or any(n < 1 for n in sizes):
        raise UsageError(f"--hidden {text}: every layer needs at least one neuron")
    return sizes


def run(args: argparse.Namespace) -> int:
    """Train with a progress bar; print the accuracy; write loss curve, boundary and weights."""
    for flag, value in (("--steps", args.steps), ("--samples", args.samples)):
        if value < 1:
            raise UsageError(f"{flag} {value}: must be at least 1")
    if not args.lr > 0:
        raise UsageError(f"--lr {args.lr}: must be positive")
    X, y = load(args.data, args.samples, args.seed)
    classes = int(y.max()) + 1
    sizes = hidden_sizes(args.hidden)
    if classes > 2:
        out_size, out_act, loss, target = classes, "linear", "softmax_cross_entropy", y.astype(int)
    elif args.data == "tutorial":
        out_size, out_act, loss, target = 1, "sigmoid", "sum_of_squares", y
    else:
        out_size, out_act, loss, target = 1, "linear", "hinge", 2.0 * y - 1.0
    model = nn.MLP(X.shape[1], [*sizes, out_size], activation=args.activation,
                   output_activation=out_act, seed=args.seed)
    params = model.parameters()
    opt = nn.Adam(params, lr=args.lr) if args.optimizer == "adam" else nn.SGD(params, lr=args.lr)
    print(f"{model!r} on {args.data} ({len(X)} points, {classes} classes), {loss} loss, "
          f"{args.optimizer} lr={args.lr}, {len(params)} parameters")
    start = time.perf_counter()
    history = nn.fit(model, X, target, loss=loss, optimizer=opt, epochs=args.steps,
                     progress=not args.no_progress, seed=args.seed, desc=args.data)
    print(speed_line(history, time.perf_counter() - start))
    folder = out_dir(args.out)
    # The weights first: a missing optional library below must never cost the trained model.
    model.save(folder / "weights.json")
    accuracy = f", accuracy {history.accuracy[-1]:.1%}" if history.accuracy else ""
    print(f"final loss {history.loss[-1]:.6f}{accuracy} after {len(history)} steps")
    print(f"weights (JSON):      {folder / 'weights.json'}")
    acc = history.accuracy or None
    curve = optional(folder / "loss.png",
                         lambda: viz.plot_history(folder / "loss.png", history.loss, acc, title=args.data))
    if curve is not None:
        print(f"loss curve:          {curve}")
    if X.shape[1] == 2:
        boundary = optional(folder / "boundary.png", lambda: viz.plot_decision_boundary(
            folder / "boundary.png", boundary_scores(model, classes), X, y,
            classes=classes if classes > 2 else None, title=f"{args.data}: decision boundary"))
        if boundary is not None:
            print(f"decision boundary:   {boundary}")
    return 0


def boundary_scores(model: nn.MLP, classes: int):
    """A ``predict(points)`` for the boundary plot: the score (class 1 above 0), or the argmax class."""
    if classes == 2:
        return lambda pts: nn.predict(model, pts).ravel()
    return lambda pts: np.argmax(nn.predict(model, pts), axis=1)

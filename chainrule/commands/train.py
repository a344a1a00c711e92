"""``chainrule train``: fit an MLP to a built-in dataset and draw how it went."""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from chainrule import nn, viz

from .common import Failure, UsageError, optional, out_dir
from .demo import speed_line

DATASETS = tuple(nn.data.DATASETS)  # the API's names; nn.data.ALIASES are accepted too
EXPLODED = 1e4  # a loss this many times its first value (or 1, if larger) means the run diverged


def dataset(text: str) -> str:
    """argparse type for ``--data``: the dataset's one name, from it or an alias."""
    try:
        return nn.data.dataset_name(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def load(name: str, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The dataset ``name`` with ``samples`` points (the tutorial's table has its own 4)."""
    if name == "tutorial":
        return nn.data.tutorial()
    if name == "spirals":
        return nn.data.spirals(samples, classes=3, seed=seed)
    return nn.data.DATASETS[name](samples, seed=seed)


def hidden_sizes(text: str) -> list[int]:
    """``'16,16'`` -> ``[16, 16]``; a UsageError names a bad or missing size (``16,,16``)."""
    sizes = []
    for i, part in enumerate(text.split(",")):
        if not part.strip().isdigit():
            what = "is empty" if not part.strip() else f"is {part.strip()!r}"
            raise UsageError(f"--hidden {text}: size {i + 1} {what}; give positive whole numbers "
                             "separated by commas, e.g. 16,16")
        sizes.append(int(part))
    if any(n < 1 for n in sizes):
        raise UsageError(f"--hidden {text}: every layer needs at least one neuron")
    return sizes


class Watch:
    """A fit callback that stops a diverging run and remembers the last weights with a finite loss.

    fit calls back after each update with the loss from before it; the weights of that loss are
    the ones saved at the previous call (the initial ones at first).
    """

    def __init__(self, model: nn.MLP) -> None:
        self.model = model
        self.before = model.state_dict()  # the weights the next reported loss was computed from
        self.good: dict[str, float] | None = None  # the weights of the last acceptable loss
        self.first: float | None = None
        self.diverged: str | None = None

    def __call__(self, info: nn.StepInfo) -> bool:
        if self.first is None:
            self.first = info.loss
        if info.loss > EXPLODED * max(abs(self.first), 1.0):
            self.diverged = f"the loss exploded to {info.loss:.3g} at step {info.step}"
            return True
        self.good = self.before
        self.before = self.model.state_dict()
        if not all(math.isfinite(v) for v in self.before.values()):
            self.diverged = f"the weights overflowed at step {info.step}"
            return True
        return False

    def fit(self, *args, **kwargs) -> nn.History:
        """``nn.fit`` with this watch; a non-finite loss ends the run as a divergence, not a crash."""
        try:
            return nn.fit(*args, callbacks=[self], **kwargs)
        except FloatingPointError as err:
            self.diverged = str(err).removeprefix("fit: ")
            return nn.History()


def run(args: argparse.Namespace) -> int:
    """Train with a progress bar; print the accuracy; write loss curve, boundary and weights."""
    for flag, value in (("--steps", args.steps), ("--samples", args.samples)):
        if value < 1:
            raise UsageError(f"{flag} {value}: must be at least 1")
    if not args.lr > 0:
        raise UsageError(f"--lr {args.lr}: must be positive")
    folder = out_dir(args.out)
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
    watch = Watch(model)
    start = time.perf_counter()
    history = watch.fit(model, X, target, loss=loss, optimizer=opt, epochs=args.steps,
                        progress=not args.no_progress, seed=args.seed, desc=args.data)
    if watch.diverged:
        if watch.good is not None:
            model.load_state_dict(watch.good)
            model.save(folder / "weights.json")
            kept = f"the weights from before it diverged are in {folder / 'weights.json'}"
        else:
            kept = "no step had a finite loss, so no weights were written"
        raise Failure(f"training diverged: {watch.diverged}; try a smaller learning rate, e.g. "
                      f"--lr {args.lr / 10:g} ({kept})")
    print(speed_line(history, time.perf_counter() - start))
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

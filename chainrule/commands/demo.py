"""``chainrule demo``: the tutorial's network, trained, printed and drawn."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from chainrule import nn, viz
from chainrule.autograd import Value
from chainrule.files import write_atomic

from .common import UsageError, optional, out_dir, render_or_source

EXAMPLE_ROW = 1  # input [0, 1, 1] with target 1: a row whose gradient is worth looking at


def example_loss(model: nn.MLP, x: np.ndarray, target: float) -> Value:
    """The tutorial's sum-of-squares loss on one example, labelled for the picture."""
    inputs = [Value(float(v), label=f"x{i}") for i, v in enumerate(x)]
    out = model(inputs)
    err = Value(float(target), label="y") - out
    err.label = "err"
    loss = err**2
    loss.label = "loss"
    return loss


def speed_line(history: nn.History, seconds: float) -> str:
    """``'1500 steps in 0.21 s (0.14 ms a step, compiled)'``: what fit ran and how fast."""
    how = "compiled" if history.compiled else "uncompiled"
    return f"{len(history)} steps in {seconds:.2f} s ({1e3 * seconds / len(history):.3g} ms a step, {how})"


def train(model: nn.MLP, iterations: int, progress: bool = False, record_every: int | None = None
          ) -> nn.History:
    """The tutorial's training: full-batch SGD at rate 1 on the sum of squares; ``record_every``
    as for ``nn.fit`` (the demo records snapshots for the training page)."""
    X, y = nn.data.tutorial()
    return nn.fit(model, X, y, loss="sum_of_squares", optimizer=nn.SGD(model.parameters(), lr=1.0),
                  epochs=iterations, progress=progress, desc="training", accuracy=None,
                  record_every=record_every)


def trained(iterations: int = 1500, seed: int = 1) -> nn.MLP:
    """The network ``chainrule demo`` draws; docs/make_images.py draws the README's picture from it."""
    model = nn.tutorial_network(seed=seed)
    train(model, iterations)
    return model


def run(args: argparse.Namespace) -> int:
    """Train, print the table of predictions, and write the files a learner looks at."""
    if args.iterations < 1:
        raise UsageError(f"--iterations {args.iterations}: must be at least 1")
    folder = out_dir(args.out)
    X, y = nn.data.tutorial()
    model = nn.tutorial_network(seed=args.seed)
    print(f"the tutorial's network: {model!r}, {len(model.parameters())} weights, seed {args.seed}")
    start = time.perf_counter()
    history = train(model, args.iterations, progress=not args.no_progress,
                    record_every=max(1, args.iterations // 100))  # ~100 snapshots for training.html
    print(speed_line(history, time.perf_counter() - start))
    pred = nn.predict(model, X)
    print()
    print("  inputs      target  prediction")
    for row, target, p in zip(X, y, pred):
        print(f"  {np.array2string(row.astype(int))}  {target:>6.0f}  {float(p):>10.4f}")
    print(f"final loss (sum of squares): {history.loss[-1]:.6f} after {len(history)} iterations")
    print()
    written = write_files(folder, model, X, y, history)
    for what, path in written:
        print(f"{what:<34} {path}")
    return 0


def write_files(folder: Path, model: nn.MLP, X: np.ndarray, y: np.ndarray, history: nn.History
                ) -> list[tuple[str, Path]]:
    """Every demo file it can write, as (description, path) pairs in the order written; the
    training page when ``history`` holds snapshots (``nn.fit(record_every=...)``).

    The weights come first, so nothing optional can lose them; a picture whose library is
    missing is skipped with one line naming what adds it (without ``dot``, its DOT source).
    """
    model.save(folder / "weights.json")
    written = [("trained weights (JSON):", folder / "weights.json")]
    loss = example_loss(model, X[EXAMPLE_ROW], float(y[EXAMPLE_ROW]))
    model.zero_grad()
    loss.backward()
    write_atomic(folder / "chain-rule.txt", viz.explain(loss) + "\n")
    written.append(("the chain rule as text:", folder / "chain-rule.txt"))
    page = optional(folder / "backward.html",
                    lambda: viz.write_stepper(loss, folder / "backward.html", title="backward, one example",
                                              compiled=True))
    if page is not None:
        written.append(("backward step-through page:", page))
    drawn = render_or_source(viz.draw_graph(loss, collapse=False), folder / "example-graph.svg")
    written.append(("graph of one example (chain rule):", drawn))
    per_example = [example_loss(model, x, float(t)) for x, t in zip(X, y)]
    total = per_example[0]
    for term in per_example[1:]:
        total = total + term
    model.zero_grad()
    total.backward()  # each weight's .grad: ∂loss/∂w summed over the 4 examples, what SGD steps by
    network = viz.draw_network(model)
    written.append(("network view (∂loss/∂w, batch):", render_or_source(network, folder / "network.svg")))
    if history.snapshots:
        page = optional(folder / "training.html", lambda: viz.write_training(
            folder / "training.html", model, history, title="the tutorial's network, training"))
        if page is not None:
            written.append(("training, step by step:", page))
    model.zero_grad()
    curve = optional(folder / "loss.png",
                         lambda: viz.plot_history(folder / "loss.png", history.loss, title="tutorial: loss"))
    if curve is not None:
        written.append(("loss curve:", curve))
    return written

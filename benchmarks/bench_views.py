"""Each viz view's natural size and render time on the demo workloads.

The workloads: ``chainrule demo``'s one example of the tutorial's trained 3-4-1 sigmoid network
(``tutorial``), and micrograd's moons demo ``MLP(2, [16, 16, 1])`` (relu, relu, linear; the
weights of ``nn.MLP(2, [16, 16, 1], seed=0)``) on one sample (``moons-1``, its hinge loss) and
on micrograd's whole batch of 100 samples (``moons-100``: the mean hinge loss plus 1e-4 times
the sum of the squared parameters, as benchmarks/bench_moons.py trains it).

The views: ``draw_dot``; ``draw_graph`` with its defaults (collapsing by itself past
max_nodes) and with ``collapse='neuron'``; ``draw_network`` of the model after backward on the
workload's loss; ``draw_paths`` from the first hidden neuron's ``w.0``; ``draw_modes`` along
the first input; ``write_stepper``; ``write_training`` (20 steps of ``nn.fit`` on the
workload's samples, every step recorded); ``write_practice``. A picture's time is building the
graph and laying it out with the real ``dot`` as SVG (``graph.pipe``: under the time limit and
its fallbacks); a page's time is writing it. The sizes are the SVG's declared natural size, in
points and in CSS pixels (a point is 4/3 of a pixel); a page's is its graph's.

Each measurement runs in a fresh Python process (``--child``), three times by default; the
table gives the median and the spread (largest minus smallest). A view that refuses a
workload (practice past its max_nodes) shows the reason instead. Nothing is asserted: run

    .venv/bin/python benchmarks/bench_views.py [--runs 3] [--workloads tutorial,moons-1] [--views ...]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

WORKLOADS = ["tutorial", "moons-1", "moons-100"]
VIEWS = ["draw_dot", "draw_graph", "draw_graph collapsed", "draw_network", "draw_paths", "draw_modes",
         "write_stepper", "write_training", "write_practice"]
TRAIN_STEPS = 20  # steps recorded for the training page


def workload(name: str) -> dict:
    """The root (after backward), the model, a weight, an input, and what fit needs."""
    from chainrule import nn
    from chainrule.autograd import Value

    if name == "tutorial":
        from chainrule.commands.demo import EXAMPLE_ROW, example_loss, train

        model = nn.tutorial_network(seed=1)
        train(model, 1500)
        X, y = nn.data.tutorial()
        root = example_loss(model, X[EXAMPLE_ROW], float(y[EXAMPLE_ROW]))
        first = next(v for v in _values(root) if v.label == "x0")
        fit = {"X": X, "y": y, "loss": "sum_of_squares", "lr": 1.0}
    else:
        n = 1 if name == "moons-1" else 100
        model = nn.MLP(2, [16, 16, 1], seed=0)
        X, labels = nn.data.moons(100, noise=0.1, seed=0)
        X, y = X[:n], (2.0 * labels - 1.0)[:n]
        hinge = []
        for k, (row, target) in enumerate(zip(X, y)):
            xs = [Value(float(a), label=f"x{k}.{i}") for i, a in enumerate(row)]
            hinge.append((1 + -float(target) * model(xs)).relu())
        root = hinge[0] if n == 1 else sum(hinge) * (1.0 / n) + 1e-4 * sum(p * p for p in model.parameters())
        root.label = "loss"
        first = next(v for v in _values(root) if v.label == "x0.0")
        fit = {"X": X, "y": y, "loss": "hinge", "lr": 0.1}
    model.zero_grad()
    root.backward()
    return {"root": root, "model": model, "weight": model.layers[0].neurons[0].w[0], "input": first,
            "fit": fit}


def _values(root):
    from chainrule.autograd import topo_order

    return topo_order(root)


def measure(work: str, view: str, folder: Path) -> dict:
    """One view on one workload, timed; its size and any note it drew."""
    from chainrule import nn, viz

    w = workload(work)
    root, model = w["root"], w["model"]
    recorder = None
    if view == "write_training":
        fit = w["fit"]
        trained = nn.tutorial_network(seed=1) if work == "tutorial" else nn.MLP(2, [16, 16, 1], seed=0)
        sgd = nn.SGD(trained.parameters(), lr=fit["lr"])
        recorder = nn.fit(trained, fit["X"], fit["y"], loss=fit["loss"], optimizer=sgd, epochs=TRAIN_STEPS,
                          progress=False, accuracy=None, record_every=1)
        model = trained
    notes: list[str] = []
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if view.startswith("write_"):
                path = folder / "page.html"
                if view == "write_stepper":
                    viz.write_stepper(root, path)
                elif view == "write_training":
                    viz.write_training(path, model, recorder, X=w["fit"]["X"], y=w["fit"]["y"])
                else:
                    viz.write_practice(root, path)
                svg = path.read_text(encoding="utf-8")
            else:
                graph = {
                    "draw_dot": lambda: viz.draw_dot(root),
                    "draw_graph": lambda: viz.draw_graph(root),
                    "draw_graph collapsed": lambda: viz.draw_graph(root, collapse="neuron"),
                    "draw_network": lambda: viz.draw_network(model),
                    "draw_paths": lambda: viz.draw_paths(root, w["weight"]),
                    "draw_modes": lambda: viz.draw_modes(root, w["input"]),
                }[view]()
                svg = graph.pipe(format="svg", encoding="utf-8")
                if getattr(graph, "rendered_note", None):
                    notes.append(graph.rendered_note)
    except (ValueError, viz.RenderTimeout) as err:
        return {"seconds": time.perf_counter() - start, "refused": str(err).splitlines()[0]}
    seconds = time.perf_counter() - start
    notes += [str(c.message) for c in caught]
    found = re.search(r'<svg[^>]*?width="([0-9.]+)pt" height="([0-9.]+)pt"', svg)
    width, height = (float(found.group(1)), float(found.group(2))) if found else (None, None)
    return {"seconds": seconds, "width": width, "height": height, "notes": notes}


def child(work: str, view: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(measure(work, view, Path(tmp))))


def run_child(work: str, view: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", work, view], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def size_text(r: dict) -> str:
    if r.get("width") is None:
        return "-"
    w, h = r["width"], r["height"]
    return f"{w:.0f} x {h:.0f} pt = {w * 4 / 3:.0f} x {h * 4 / 3:.0f} px"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--views", default=",".join(VIEWS))
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "VIEW"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    works = [x for x in args.workloads.split(",") if x]
    views = [x for x in args.views.split(",") if x]
    for name in works + views:
        if name not in WORKLOADS + VIEWS:
            parser.error(f"unknown workload or view {name!r}; workloads {WORKLOADS}, views {VIEWS}")
    print(f"{'workload':<10} {'view':<21} {'size (natural)':<36} {'median s':>8} {'spread s':>8}  note")
    for work in works:
        for view in views:
            runs = [run_child(work, view) for _ in range(args.runs)]
            bad = next((r for r in runs if "error" in r), None)
            if bad:
                print(f"{work:<10} {view:<21} {'error: ' + bad['error']}")
                continue
            times = [r["seconds"] for r in runs]
            last = runs[-1]
            note = last.get("refused") and f"refused: {last['refused']}" or "; ".join(
                n.split(":")[0] for n in last.get("notes", []))
            print(f"{work:<10} {view:<21} {size_text(last):<36} {statistics.median(times):>8.2f} "
                  f"{max(times) - min(times):>8.2f}  {note}", flush=True)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
